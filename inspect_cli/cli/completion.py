"""Shell completion: the values a command line can take, read from the database it names.

A completer runs inside the user's shell on every Tab, so it must be quick and silent: it
opens the database read-only through the store's `Lookup` (never creating, migrating or
locking it), returns at most LIMIT values that start with what was typed, and turns every
failure into no suggestions.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from inspect_cli import paths
from inspect_cli.cli.render import say
from inspect_cli.text import for_terminal

if TYPE_CHECKING:
    from inspect_cli.store import Lookup

LIMIT = 50
HELP_CHARS = 30  # a description longer than one shell line would break zsh's and fish's menus
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
SHELL_OPTIONS = ("--install-completion", "--show-completion")
_SHELL_KEY = "inspect_cli.completion_shell"

Candidates = list[tuple[str, str]]


# --- completers (used by cli/args.py) ---------------------------------------------------


def sites(ctx: typer.Context, incomplete: str) -> Candidates:
    """Site codes; names and pinyin initials too once something is typed."""
    columns = ["code"]
    if incomplete:
        columns.append("name")
    if incomplete.isascii() and incomplete.isalpha():
        # Initials are a valid SITE as well: `run dcnmsc` finds 东城农贸市场.
        columns.append("name_initials")

    def query(db: Lookup) -> Iterator[tuple[str, str]]:
        for column in columns:
            for value, code, name in db.sites(column, incomplete, LIMIT):
                yield value, f"{code} {name}"

    return _complete(ctx, incomplete, query)


def units(ctx: typer.Context, incomplete: str) -> Candidates:
    """Names and short names from the unit register (each described by the other)."""
    return _complete(ctx, incomplete, lambda db: db.units(incomplete, LIMIT))


def problems(ctx: typer.Context, incomplete: str) -> Candidates:
    """Problem numbers, open ones and the newest first."""

    def query(db: Lookup) -> Iterator[tuple[str, str]]:
        for no, code, name, item in db.problems(incomplete, LIMIT):
            yield no, f"{code} {name} {item}"

    return _complete(ctx, incomplete, query)


def inspections(ctx: typer.Context, incomplete: str) -> Candidates:
    """Inspection numbers, unfinished ones and the newest first."""

    def query(db: Lookup) -> Iterator[tuple[str, str]]:
        for no, code, name, day in db.inspections(incomplete, LIMIT):
            yield no, f"{code} {name} {day}"

    return _complete(ctx, incomplete, query)


def menu_help(description: str) -> str:
    """A description as a completion menu can show it: one line, short, no markup."""
    from rich.markup import escape

    description = for_terminal(description).replace("\n", " ")
    if len(description) > HELP_CHARS:
        description = description[: HELP_CHARS - 1] + "…"
    # Typer shows descriptions through Rich markup: keep a name's [brackets].
    return escape(description)


def _complete(ctx: typer.Context, incomplete: str, query: Callable[[Lookup], Iterator[tuple[str, str]]]) -> Candidates:
    from inspect_cli.store import Lookup

    found: dict[str, str] = {}
    try:
        with Lookup.open(_database(ctx)) as db:
            if db is None:
                return []
            for value, description in query(db):
                if len(found) >= LIMIT:
                    break
                if not value or for_terminal(value) != value:
                    continue  # a value the terminal would mangle could not be typed back
                if not value.startswith(incomplete):
                    # LIKE ignores ASCII case, but the shell keeps only values that start
                    # with exactly what was typed; codes are looked up without case anyway.
                    lower = value.lower()
                    value = lower if lower.startswith(incomplete) else incomplete + value[len(incomplete) :]
                found.setdefault(value, menu_help(description))
    except Exception:
        # A missing, locked, damaged or foreign database: no suggestions, never a traceback.
        return []
    return list(found.items())


def _database(ctx: typer.Context) -> Path | str:
    """The database the command line being completed names: --db, $INSPECT_CLI_DB, the default."""
    option = ctx.find_root().params.get("db")
    return paths.db_path(str(option) if option else None)


# --- --install-completion [SHELL] / --show-completion [SHELL] ---------------------------


def take_shell(ctx: typer.Context, args: list[str], commands: Container[str]) -> list[str]:
    """Lift the optional SHELL after a completion option out of the root arguments.

    Typer's completion options are flags, so `--show-completion zsh` would otherwise
    ignore `zsh` (or run it as a command); the name is kept in ctx.meta for the callback.
    """
    for index, arg in enumerate(args):
        if arg == "--":
            break
        name, equals, value = arg.partition("=")
        if name not in SHELL_OPTIONS:
            continue
        if equals:
            ctx.meta[_SHELL_KEY] = value
            return [*args[:index], name, *args[index + 1 :]]
        following = args[index + 1] if index + 1 < len(args) else None
        if following is not None and not following.startswith("-") and following not in commands:
            ctx.meta[_SHELL_KEY] = following
            return [*args[: index + 1], *args[index + 2 :]]
        break
    return args


def adopt_options(params: list[Any]) -> None:
    """Give Typer's two completion options Chinese help and the optional SHELL."""
    callbacks = {"install_completion": (install, "安装命令补全"), "show_completion": (show, "显示命令补全脚本")}
    for param in params:
        if param.name in callbacks:
            callback, action = callbacks[param.name]
            param.callback = callback
            param.metavar = "[SHELL]"
            param.help = f"{action}：bash、zsh、fish 或 powershell，不写则用当前 shell"


def show(ctx: typer.Context, param: Any, value: Any) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer._completion_shared import get_completion_script

    prog_name, complete_var = _names(ctx)
    typer.echo(get_completion_script(prog_name=prog_name, complete_var=complete_var, shell=_shell(ctx)))
    raise typer.Exit()


def install(ctx: typer.Context, param: Any, value: Any) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer._completion_shared import install as install_script

    prog_name, complete_var = _names(ctx)
    shell, path = install_script(shell=_shell(ctx), prog_name=prog_name, complete_var=complete_var)
    say(f"已为 {shell} 安装命令补全：{path}")
    say("重新打开终端后生效")
    raise typer.Exit()


def _names(ctx: typer.Context) -> tuple[str, str]:
    prog_name = ctx.find_root().info_name or paths.APP_NAME
    return prog_name, "_{}_COMPLETE".format(prog_name.replace("-", "_").upper())


def _shell(ctx: typer.Context) -> str:
    shell = ctx.meta.get(_SHELL_KEY)
    if shell is None:
        from typer._completion_shared import _get_shell_name

        shell = _get_shell_name()
    if shell is None:
        raise typer.BadParameter(f"无法识别当前 shell，请写明：{'、'.join(SHELLS)}")
    if shell not in SHELLS:
        raise typer.BadParameter(f"不支持的 shell '{shell}'（可用：{'、'.join(SHELLS)}）")
    return shell
