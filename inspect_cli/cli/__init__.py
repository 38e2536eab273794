"""The `inspect-cli` command: global options and sub-command groups.

How every command behaves at the edge (help, usage errors, closed pipes, errors) is in
`conventions`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from inspect_cli import __version__
from inspect_cli.cli import checklist, config, db, demo, excel, inspection, issue, notice, run, score, site, sync, unit
from inspect_cli.cli.context import configure
from inspect_cli.cli.conventions import Group, broken_pipe_exit, use_conventions
from inspect_cli.errors import ExitCode

app = typer.Typer(
    cls=Group,
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
    configure(db, checklists, config, debug)


app.add_typer(checklist.app, name="checklist")
app.add_typer(site.app, name="site")
app.add_typer(inspection.app, name="inspection")
app.add_typer(issue.app, name="issue")
app.add_typer(unit.app, name="unit")
app.add_typer(excel.export_app, name="export")
app.add_typer(excel.import_app, name="import")
app.add_typer(config.app, name="config")
app.add_typer(sync.device_app, name="device")
app.add_typer(sync.sync_app, name="sync")
app.add_typer(db.app, name="db")
run.register(app)
issue.register(app)
notice.register(app)
score.register(app)
demo.register(app)


use_conventions(app)


def main() -> None:
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
