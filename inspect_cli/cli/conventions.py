"""Command-line conventions every command and group follows without declaring anything.

Help pages in Chinese that are never cut, usage errors as one Chinese line and exit code 2,
a closed pipe ends quietly, the project's errors turned into one line and an exit code at
the edge, the hooks shell completion needs, and sub-commands imported only when used.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, get_args

import typer
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from typer._click.exceptions import (
    BadOptionUsage,
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from inspect_cli.cli import completion
from inspect_cli.cli.coercion import quicken
from inspect_cli.cli.render import err, error, out, warn
from inspect_cli.errors import ExitCode, InspectError
from inspect_cli.text import for_terminal
from inspect_cli.workdays import take_warnings

# Value names for options whose type alone says little: every date option takes a date.
_OPTION_METAVARS = {"date": "DATE", "from": "DATE", "to": "DATE", "until": "DATE", "week": "WEEK"}
_TYPE_METAVARS = {int: "N", float: "NUMBER", Path: "PATH"}
_EXPECTED = {int: "整数", float: "数字", bool: "true 或 false", Path: "路径"}


_SURROGATE = re.compile("[\ud800-\udfff]")

# --- help pages ---------------------------------------------------------------------------


def _metavar(param: Any) -> str:
    """What the value of a parameter looks like: SITE, N, PATH, a|b|c; nothing for a flag."""
    if param.metavar is not None:
        return param.metavar
    if isinstance(param, TyperOption) and (param.is_flag or param.count):
        return ""
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        return "|".join(_choices(param))
    if isinstance(param, TyperArgument):
        return param.name.upper() + ("..." if param.nargs == -1 else "")
    kind = get_args(descriptor.annotation)[0] if descriptor.is_list else descriptor.annotation
    long_name = max(param.opts, key=len).lstrip("-")
    if kind is str and long_name in _OPTION_METAVARS:
        return _OPTION_METAVARS[long_name]
    return _TYPE_METAVARS.get(kind, "TEXT")


def _choices(param: Any) -> list[str]:
    return [c.value if isinstance(c, Enum) else str(c) for c in param.type_descriptor.choices or ()]


def _usage(command: Any, ctx: typer.Context) -> str:
    pieces = [ctx.command_path]
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    if any(isinstance(p, TyperOption) for p in params):
        pieces.append("[选项]")
    for param in params:
        if isinstance(param, TyperArgument):
            pieces.append(_metavar(param) if param.required else f"[{_metavar(param)}]")
    if isinstance(command, TyperGroup):
        pieces.append("命令 [参数]...")
    return " ".join(pieces)


def _default(param: Any, ctx: typer.Context) -> str:
    if isinstance(param.show_default, str):
        return param.show_default
    if not param.show_default or (isinstance(param, TyperOption) and param.is_flag):
        return ""
    value = param.get_default(ctx, call=False)
    if callable(value) or value is None:
        return ""
    values = value if isinstance(value, (list, tuple)) else [value]
    return ", ".join(str(v.value if isinstance(v, Enum) else v) for v in values)


def _param_rows(command: Any, ctx: typer.Context, kind: type) -> list[tuple[str, str]]:
    params = [p for p in command.get_params(ctx) if isinstance(p, kind) and not p.hidden]
    indent = "    " if any(len(o) == 2 for p in params for o in p.opts) else ""
    help_option = command.get_help_option(ctx)
    rows = []
    for param in params:
        if isinstance(param, TyperArgument):
            names = _metavar(param)
        else:
            shorts = [o for o in param.opts if len(o) == 2]
            longs = [o for o in param.opts if len(o) > 2]
            names = ", ".join(shorts + longs) if shorts else indent + ", ".join(longs)
            if param.secondary_opts:
                names += " / " + ", ".join(param.secondary_opts)
            if _metavar(param):
                names += " " + _metavar(param)
        text = "显示本帮助并退出" if param is help_option else inspect.cleandoc(param.help or "")
        default = _default(param, ctx)
        if default:
            text += f"  [默认：{default}]"
        if param.required and isinstance(param, TyperOption):
            text += "  [必填]"
        rows.append((names, text))
    return rows


def help_line(command: Any) -> str:
    """A command's line in its group's help page: its help without the example."""
    text = command.short_help or inspect.cleandoc(command.help or "").partition("\n")[0]
    # A command's help is one line and then its example; the list shows the line.
    return text.partition("例：")[0].strip()


def _command_rows(group: Any, ctx: typer.Context) -> list[tuple[str, str]]:
    rows = []
    for name in group.list_commands(ctx):
        text = group.help_line(ctx, name)
        if text is not None:
            rows.append((name, text))
    return rows


def _help_page(command: Any, ctx: typer.Context) -> str:
    """The help page at the width of the terminal, or of COLUMNS/80 when piped: long lines
    wrap (Chinese has no spaces to break at, so they fold) instead of ending in "…"."""
    sections = [
        ("参数", _param_rows(command, ctx, TyperArgument)),
        ("选项", _param_rows(command, ctx, TyperOption)),
        ("命令", _command_rows(command, ctx) if isinstance(command, TyperGroup) else []),
    ]
    with out.capture() as page:
        out.print(Text(f"用法：{_usage(command, ctx)}", style="bold"))
        text = inspect.cleandoc(command.help or "").partition("\f")[0]
        if text:
            out.print()
            out.print(Text(text))
        for title, rows in sections:
            if not rows:
                continue
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True, overflow="fold")
            grid.add_column(overflow="fold")
            for names, help in rows:
                grid.add_row(Text(names), Text(help))
            out.print()
            out.print(Text(f"{title}：", style="bold"))
            out.print(Padding(grid, (0, 0, 0, 2)))
        if command.epilog:
            out.print()
            out.print(Text(inspect.cleandoc(command.epilog)))
    # Rich pads every cell of the grid; padding at the end of a line only gets in a pipe's way.
    return "\n".join(line.rstrip() for line in page.get().splitlines()) + "\n"


# --- usage errors -----------------------------------------------------------------------------


class _UsageError(UsageError):
    """A usage error whose message is already the Chinese line to show."""


def _label(param: Any) -> str:
    if isinstance(param, TyperArgument):
        return f"参数 {_metavar(param)}"
    return f"选项 {max(param.opts, key=len)}"


def _suggest(options: list[str]) -> str:
    return f"，是不是 {' 或 '.join(options)}？" if options else ""


def _invalid_value(exc: BadParameter) -> str:
    param, cause = exc.param, exc.__cause__
    errors = cause.errors() if cause is not None and hasattr(cause, "errors") else []
    if param is None or not errors or not hasattr(param, "type_descriptor"):
        # Raised by a command or callback (say, two options that exclude each other):
        # the message is ours and already Chinese.
        hint = exc.param_hint
        where = _label(param) if param is not None else hint if isinstance(hint, str) else " / ".join(hint or [])
        return f"{where}：{exc.message}" if where else exc.message
    first = errors[0]
    value = first.get("input")
    shown = f" 的值 '{value}' " if isinstance(value, str) else " 的值"
    descriptor = param.type_descriptor
    bounds = first.get("ctx") or {}
    kind = get_args(descriptor.annotation)[0] if descriptor.is_list else descriptor.annotation
    if descriptor.is_choice:
        expected = f"可选：{'、'.join(_choices(param))}"
    elif "ge" in bounds or "gt" in bounds:
        expected = f"应不小于 {bounds.get('ge', bounds.get('gt'))}"
    elif "le" in bounds or "lt" in bounds:
        expected = f"应不大于 {bounds.get('le', bounds.get('lt'))}"
    elif kind in _EXPECTED:
        expected = f"应为{_EXPECTED[kind]}"
    else:
        expected = ""
    return f"{_label(param)}{shown}无效" + (f"（{expected}）" if expected else "")


def _usage_message(exc: UsageError) -> str:
    """One Chinese line for a usage error, from its class and attributes, not its English text."""
    if isinstance(exc, _UsageError):
        return exc.message
    if isinstance(exc, MissingParameter) and exc.param is not None:
        return f"缺少{_label(exc.param)}"
    if isinstance(exc, NoSuchOption):
        return f"未知选项 {exc.option_name}{_suggest(sorted(exc.possibilities or []))}"
    if isinstance(exc, BadOptionUsage):
        params = exc.ctx.command.get_params(exc.ctx) if exc.ctx else []
        flag = any(exc.option_name in p.opts and getattr(p, "is_flag", False) for p in params)
        return f"选项 {exc.option_name} 不接受值" if flag else f"选项 {exc.option_name} 需要一个值"
    if isinstance(exc, BadParameter):
        return _invalid_value(exc)
    return f"用法不对：{exc.message}"


def _usage_exit(exc: UsageError) -> typer.Exit:
    if isinstance(exc, NoArgsIsHelpError):  # `inspect-cli site`: its message is the help page
        try:
            typer.echo(exc.format_message())
        except BrokenPipeError:
            return broken_pipe_exit()
        return typer.Exit(ExitCode.BAD_INPUT)
    error(_usage_message(exc))
    if exc.ctx is not None and exc.ctx.help_option_names:
        err.print(Text(f"用 {exc.ctx.command_path} {exc.ctx.help_option_names[0]} 查看用法", style="dim"))
    return typer.Exit(ExitCode.BAD_INPUT)


def broken_pipe_exit() -> typer.Exit:
    """The reader of our output has gone (`| head`): stop without a word."""
    try:
        # The interpreter flushes stdout once more on the way out; let that land nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # not a real file (tests capture output): nothing will be flushed to a pipe
    return typer.Exit(ExitCode.BROKEN_PIPE)


# --- the classes every command and group is built with ------------------------------------


class _Help:
    """Help pages and usage lines in Chinese; values converted without Pydantic (`coercion`)."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        quicken(params)  # here, since the help and completion options are added after __init__
        return params

    def format_usage(self, ctx: typer.Context, formatter: Any) -> None:
        formatter.write(f"用法：{_usage(self, ctx)}\n")

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        formatter.write(_help_page(self, ctx))


@contextmanager
def _parsing(ctx: typer.Context) -> Iterator[None]:
    """The option parser raises some usage errors without saying which command it parsed."""
    try:
        yield
    except UsageError as exc:
        if exc.ctx is None:
            exc.ctx, exc.cmd = ctx, ctx.command
        raise


class Command(_Help, TyperCommand):
    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        # Click says "Got unexpected extra argument(s)" in English; let it keep them and say it here.
        strict = not ctx.allow_extra_args
        ctx.allow_extra_args = True
        try:
            with _parsing(ctx):
                rest = super().parse_args(ctx, args)
        finally:
            ctx.allow_extra_args = not strict
        if rest and strict and not ctx.resilient_parsing:
            raise _UsageError("多余的参数 " + " ".join(f"'{a}'" for a in rest), ctx)
        return rest


class _SubGroup(_Help, TyperGroup):
    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        with _parsing(ctx):
            return super().parse_args(ctx, args)

    def help_line(self, ctx: typer.Context, name: str) -> str | None:
        """The line a sub-command shows in help and completion menus; None when hidden."""
        command = self.get_command(ctx, name)
        if command is None or command.hidden:
            return None
        return help_line(command)

    def shell_complete(self, ctx: typer.Context, incomplete: str) -> list[Any]:
        from typer._click.shell_completion import CompletionItem

        # The help page's line rather than Click's first 45 characters of the help, which
        # end in the middle of the example; the options come from the plain Command's.
        items = []
        for name in self.list_commands(ctx):
            if name.startswith(incomplete):
                text = self.help_line(ctx, name)
                if text is not None:
                    items.append(CompletionItem(name, help=completion.menu_help(text)))
        return items + super(TyperGroup, self).shell_complete(ctx, incomplete)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
        name = args[0]
        if self.get_command(ctx, name) is None and not name.startswith("-") and not ctx.resilient_parsing:
            prefix = "".join(f"{word} " for word in _subcommands(ctx))
            close = difflib.get_close_matches(name, self.list_commands(ctx))
            raise _UsageError(f"未知命令 {prefix}{name}{_suggest([prefix + c for c in close])}", ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:
        if not ctx._protected_args and not self.invoke_without_command:
            raise _UsageError("缺少命令", ctx)
        return super().invoke(ctx)


def _subcommands(ctx: typer.Context) -> list[str]:
    """The words after the program name that led to this context: `site`, `issue`…"""
    names = []
    while ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return names


class Group(_SubGroup):
    """The root: turns every error into one Chinese line and an exit code, never a traceback.

    Its sub-commands are named in `lazy_commands` and imported the first time one is looked
    up, so a command (or its help) loads only its own module: start-up stays near Typer's.
    """

    lazy_commands: ClassVar[Mapping[str, LazyCommand]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self, self.commands)

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(self.commands)  # Typer's would look every command up, importing it

    def help_line(self, ctx: typer.Context, name: str) -> str | None:
        lazy = self.lazy_commands.get(name)
        return lazy.help if lazy is not None else super().help_line(ctx, name)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        completion.adopt_options(self.params)
        undecodable = next((a for a in args if _SURROGATE.search(a)), None)
        if undecodable is not None:
            # Bytes that are not UTF-8 reach Python as lone surrogates; nothing can store them.
            error(f"命令行参数含有无法识别的字符：{for_terminal(undecodable)}（终端或脚本的文字编码不是 UTF-8？）")
            raise typer.Exit(ExitCode.BAD_INPUT)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            raise _usage_exit(exc) from None
        except BrokenPipeError:
            raise broken_pipe_exit() from None

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, completion.take_shell(ctx, args, self.commands))

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        from inspect_cli.cli.context import state

        try:
            return super().invoke(ctx)
        except InspectError as exc:
            error(exc.message, exc.details)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error("已中断；已经填写的内容都已保存")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except UsageError as exc:
            raise _usage_exit(exc) from None
        except BrokenPipeError:
            raise broken_pipe_exit() from None
        except SystemExit:
            if out.quiet:  # Rich met the closed pipe first and gave up with 1 (Console.on_broken_pipe)
                raise broken_pipe_exit() from None
            raise
        except typer.Abort:  # a question went unanswered: end of input or Ctrl-C
            error("已取消")
            raise typer.Exit(ExitCode.ERROR) from None
        except (typer.TyperException, typer.Exit):
            raise
        except Exception:
            if state.debug:
                raise
            # A bug: the user gets no Python internals, only how to report it (exit 1).
            error("程序内部错误，未完成本次操作。请在命令前加 --debug 重新运行，并把输出报告给开发者")
            raise typer.Exit(ExitCode.ERROR) from None
        finally:
            state.close()
            for message in take_warnings():
                warn(message)


# --- sub-commands imported when first used --------------------------------------------------


class LazyCommand(NamedTuple):
    """Where a sub-command of the root is defined, and its line in the root's help page."""

    module: str  # inspect_cli.cli.site
    attribute: str  # a Typer app to add as a group, or a `register(app)` that adds the command
    help: str  # equal to `help_line()` of the command itself (tests/test_docs.py checks)


class _LazyCommands(MutableMapping[str, Any]):
    """The root's sub-commands by name, each built from its module the first time it is looked up.

    Names, order and membership come from the table without importing anything; only
    `[name]` (and `.get`, `.items()`, `.values()`, which use it) imports a module.
    """

    def __init__(self, group: Group, built: Mapping[str, Any]) -> None:
        self._group = group
        self._built = dict(built)

    def _names(self) -> dict[str, None]:
        return dict.fromkeys([*self._group.lazy_commands, *self._built])

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            lazy = self._group.lazy_commands[name]  # KeyError: no such command
            self._built[name] = _build(self._group, name, lazy)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("the root's commands are fixed by its table")

    def __contains__(self, name: object) -> bool:
        return name in self._built or name in self._group.lazy_commands

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


def _build(group: Group, name: str, lazy: LazyCommand) -> Any:
    """Import a sub-command's module and build it exactly as `add_typer`/`register` on the
    root would have: same Typer settings, same conventions, same name."""
    target = getattr(importlib.import_module(lazy.module), lazy.attribute)
    scratch = typer.Typer(rich_markup_mode=group.rich_markup_mode, suggest_commands=group.suggest_commands)
    if isinstance(target, typer.Typer):
        scratch.add_typer(target, name=name)
    else:
        target(scratch)
        scratch.registered_commands = [
            info
            for info in scratch.registered_commands
            if (info.name or typer.main.get_command_name(info.callback.__name__)) == name  # type: ignore[union-attr]
        ]
    use_conventions(scratch)
    command = typer.main.get_group(scratch).commands.get(name)
    if command is None:
        raise LookupError(f"{lazy.module}.{lazy.attribute} defines no command {name!r}")
    return command


def use_conventions(typer_app: typer.Typer) -> None:
    """Build every command and group with the classes above, as if each had said `cls=`."""
    for command in typer_app.registered_commands:
        if command.cls is TyperCommand:  # what Typer fills in when none is given
            command.cls = Command
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            if not group.cls and not group.typer_instance.info.cls:
                group.cls = _SubGroup
            use_conventions(group.typer_instance)
