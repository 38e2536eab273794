"""The `inspect-cli` command: global options and the table of sub-commands.

How every command behaves at the edge (help, usage errors, closed pipes, errors) is in
`conventions`. A sub-command's module is imported only when that command runs or shows its
help, so nothing here imports one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from inspect_cli import __version__
from inspect_cli.cli.conventions import Group, LazyCommand, broken_pipe_exit
from inspect_cli.errors import ExitCode


def _command(module: str, attribute: str, help: str) -> LazyCommand:
    return LazyCommand(f"inspect_cli.cli.{module}", attribute, help)


# In the order of the help page. `register` adds the command to the app it is given; the
# help text is the command's own line (without its example), kept equal by tests/test_docs.py.
COMMANDS: dict[str, LazyCommand] = {
    "run": _command("run", "register", "逐项检查一个点位（每项一个键），随时退出、再次运行即从断点继续。"),
    "record": _command("run", "register", "记录一项检查结果（非交互）。"),
    "recheck": _command("issue", "register", "在现场逐个复查一个点位的未销号问题。"),
    "notice": _command("notice", "register", "生成周通报（Word 或 Markdown），期号自动接续。"),
    "score": _command("score", "register", "按平均得分率排名（只计已完成的检查）。"),
    "assess": _command("assess", "register", "单位考核：按规则扣分、加分并排名。"),
    "demo": _command(
        "demo",
        "register",
        "在空数据库中建立示例城市（84 个点位、一个月的检查和双随机计划、考核规则）并显示本周街道排名。",
    ),
    "checklist": _command("checklist", "app", "测评标准：查看、校验、比较版本、打印空白测评表。"),
    "site": _command("site", "app", "点位台账：导入、添加、查找。"),
    "plan": _command("plan", "app", "双随机检查计划：抽取点位与检查组、任务单、完成情况、覆盖率。"),
    "inspection": _command("inspection", "app", "检查记录：列表、详情、完成、删除。"),
    "issue": _command("issue", "app", "整改问题：台账、上报整改、复查、销号、统计。"),
    "unit": _command("unit", "app", "单位名录：责任单位、包抓单位的名称、简称和联系方式。"),
    "export": _command("excel", "export_app", "导出 Excel：测评报告、各单位整改通知单、整改台账。"),
    "import": _command("excel", "import_app", "导入 Excel：各单位交回的整改通知单。"),
    "config": _command("config", "app", "设置：查看、生成设置文件。"),
    "device": _command("sync", "device_app", "本机设备：设备代码（编号中的字母）与登记的外业电脑。"),
    "sync": _command("sync", "sync_app", "多台电脑合并数据：导出同步包、导入同步包、查看冲突。"),
    "db": _command("db", "app", "数据库：查看当前数据库，在 SQLite 文件与 PostgreSQL 服务器之间复制。"),
}


class _Root(Group):
    """The root group, with the table above."""

    lazy_commands = COMMANDS


app = typer.Typer(
    cls=_Root,
    name="inspect-cli",
    help="创城实地测评工具：按测评标准检查点位、打分、跟踪整改。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"inspect-cli {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="数据库：文件路径，或服务器地址 postgresql://用户:密码@主机:5432/库名"
            "（默认为用户数据目录里的文件；也可用环境变量 INSPECT_CLI_DB）",
            metavar="PATH|URL",
        ),
    ] = None,
    checklists: Annotated[
        list[Path] | None,
        typer.Option(
            "--checklists", help="追加的测评标准目录，可重复（也可用环境变量 INSPECT_CLI_CHECKLISTS）", metavar="DIR"
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="设置文件（默认为用户配置目录；也可用环境变量 INSPECT_CLI_CONFIG）", metavar="PATH"
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="出错时显示完整的调用栈")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本号")] = False,
) -> None:
    """创城实地测评工具。例：inspect-cli site list --search nmsc"""
    from inspect_cli.cli.context import configure

    configure(db, checklists, config, debug)


def main() -> None:
    """The program `inspect-cli` (tests call `app`, which keeps nothing on disk)."""
    from inspect_cli import checklist

    # One process per command: checklists parsed by an earlier one are read from its cache.
    checklist.keep_cache()
    try:
        app()
    except SystemExit:
        # Output still buffered when the reader left would otherwise fail at exit, loudly.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            broken_pipe_exit()
            raise SystemExit(ExitCode.BROKEN_PIPE) from None
        raise
