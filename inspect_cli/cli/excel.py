"""`inspect-cli export …` and `inspect-cli import …`: the Excel files the office and units use."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from inspect_cli.cli.args import unit_option
from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, err, out, print_json, print_table, say, table, warn
from inspect_cli.cli.render import progress as progress_bar
from inspect_cli.dates import resolve_period
from inspect_cli.errors import ExitCode, InputError
from inspect_cli.models import ProblemStatus

export_app = typer.Typer(help="导出 Excel：测评报告、各单位整改通知单、整改台账。", no_args_is_help=True)
import_app = typer.Typer(help="导入 Excel：各单位交回的整改通知单。", no_args_is_help=True)


@export_app.command("report")
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="输出的 .xlsx 文件")],
    week: Annotated[str | None, typer.Option("--week", "-w", help="ISO 周，如 2026-W47（默认本周）")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期（与 --to 一起用）")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="结束日期")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="另存一份 PDF（需要已安装 LibreOffice）")] = False,
) -> None:
    """导出一个时段的测评报告（汇总、排名、点位类型、得分、问题清单、逾期）。例：inspect-cli export report --from 2026-11-16 --to 2026-11-22 -o 周报.xlsx"""
    from inspect_cli.excel.report import export_report

    start, end = resolve_period(week, date_from, date_to)
    if output.suffix.lower() != ".xlsx":
        raise InputError(f"输出文件应以 .xlsx 结尾：{output}")
    if pdf:  # asked before anything is written
        from inspect_cli.pdf import require_soffice

        soffice = require_soffice()
    with progress_bar("写入问题清单") as progress:
        settings = state.settings()
        result = export_report(
            state.store(), start, end, output, state.media_dir, progress,
            office=settings.office.name, black_threshold=settings.notice.black_threshold,
        )  # fmt: skip
    say(f"已导出测评报告：{result.path}")
    out.print(table(["工作表", "行数"], [[name, rows] for name, rows in result.sheets.items()]))
    if pdf:
        from inspect_cli.pdf import to_pdf

        say(f"PDF：{to_pdf(result.path, soffice)}")


@export_app.command("rectification")
def rectification(
    output: Annotated[Path, typer.Option("--output", "-o", help="输出目录")],
    unit: Annotated[list[str] | None, unit_option("--unit", "-u", help="只导出这些责任单位（可重复）")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", metavar="STATUS", help="问题状态（可重复，默认：待整改、长期整改）"),
    ] = None,
) -> None:
    """为每个责任单位导出一份整改通知单（单位填写后交回）。例：inspect-cli export rectification -o 通知单/ --unit 城市管理局"""
    from inspect_cli.excel.unit_sheet import export_unit_sheets

    if output.exists() and not output.is_dir():
        raise InputError(f"输出位置应为目录：{output}")
    statuses = [ProblemStatus.parse(s) for s in status] if status else None
    with progress_bar("写入整改通知单") as progress:
        result = export_unit_sheets(
            state.store(), output, state.settings().office, state.media_dir, unit, statuses, progress
        )
    if result.without_unit:
        warn(f"{result.without_unit} 个问题没有责任单位，未导出（inspect-cli issue list --no-unit 查看）")
    if not result.files:
        say("没有需要导出的问题")
        return
    # File names, not paths: the folder is said once, and a name is never broken.
    columns = [Col("责任单位", min=8), Col("问题数", Kind.NUMBER), Col("文件", Kind.CODE)]
    print_table(table(columns, [[f.unit, f.problems, f.path.name] for f in result.files]))
    folder = result.files[0].path.parent
    say(f"已导出 {len(result.files)} 份整改通知单，共 {sum(f.problems for f in result.files)} 个问题，在 {folder}")


@export_app.command("ledger")
def ledger(
    output: Annotated[Path, typer.Option("--output", "-o", help="输出的 .xlsx 文件")],
    year: Annotated[
        str | None, typer.Option("--year", "-y", metavar="YEAR", help="年份：列出这一年发现的问题（默认今年）")
    ] = None,
    unit: Annotated[str | None, unit_option("--unit", "-u", help="只列这个责任单位的问题")] = None,
    street: Annotated[str | None, typer.Option("--street", help="只列这个街道的问题（包含即可）")] = None,
) -> None:
    """导出整改台账：一年中每个问题从发现到销号的全过程，附整改前后照片和汇总。例：inspect-cli export ledger --year 2026 -o 整改台账.xlsx"""
    from inspect_cli.excel.ledger import export_ledger, parse_year
    from inspect_cli.scoring import format_rate

    chosen = parse_year(year)
    if output.suffix.lower() != ".xlsx":
        raise InputError(f"输出文件应以 .xlsx 结尾：{output}")
    with progress_bar("写入整改台账") as progress:
        result = export_ledger(
            state.store(), chosen, output, state.media_dir, progress,
            unit=unit, street=street, office=state.settings().office.name,
        )  # fmt: skip
    total = result.total
    say(f"已导出 {result.year} 年整改台账：{result.path}")
    out.print(
        table(
            ["问题数", "已销号", "整改率", "按期整改率", "逾期"],
            [[total.total, total.closed, format_rate(total.fix_rate), format_rate(total.on_time_rate), total.overdue]],
        )
    )


@import_app.command("rectification")
def import_rectification(
    files: Annotated[list[Path], typer.Argument(help="单位交回的整改通知单 .xlsx")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查并报告，不写入")] = False,
    partial: Annotated[bool, typer.Option("--partial", help="有被拒绝的行时，仍应用通过检查的行")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """导入单位交回的整改通知单：已整改的转为待复查（连同表中的整改后照片），其余记录进度。例：inspect-cli import rectification 整改通知单_城市管理局_2026-11-22.xlsx"""
    from inspect_cli.excel.returned import import_returned

    with progress_bar("读取交回的整改通知单") as progress:
        outcomes = import_returned(
            state.store(), files, dry_run=dry_run, partial=partial, progress=progress, media_dir=state.media_dir
        )
    if as_json:
        print_json(
            [
                {
                    "file": str(o.path),
                    "unit": o.unit,
                    "error": o.error,
                    "applied": o.applied,
                    "missing": o.missing,
                    "rows": [
                        {
                            "row": r.row,
                            "no": r.problem_no,
                            "outcome": r.outcome,
                            "message": r.message,
                            "photos": len(r.photos),
                        }
                        for r in o.rows
                    ],
                    "photos": o.photos,
                }
                for o in outcomes
            ]
        )
    else:
        for outcome in outcomes:
            _render(outcome, dry_run, partial)
    if any(o.refused for o in outcomes):
        raise typer.Exit(ExitCode.BAD_INPUT)
    if any(o.stale for o in outcomes):
        raise typer.Exit(ExitCode.CONFLICT)


def _render(outcome, dry_run: bool, partial: bool) -> None:  # type: ignore[no-untyped-def]
    from inspect_cli.excel.returned import APPLIED, REFUSED, STALE, UNCHANGED

    name = outcome.path.name
    if outcome.error:
        err.print(Text(f"错误：{name}：{outcome.error}；未导入", style="bold red"))
        return
    styles = {REFUSED: "red", APPLIED: "green", UNCHANGED: "", STALE: "yellow"}
    rows = [
        [Text(str(r.row)), Text(r.problem_no), Text(r.label, style=styles[r.outcome]), Text(r.message)]
        for r in outcome.rows
    ]
    out.print(table(["行", "问题编号", "结果", "说明"], rows, title=f"{name}（{outcome.unit}）"))
    counts = f"应用 {outcome.count(APPLIED)} 行，无变化 {outcome.count(UNCHANGED)} 行，拒绝 {outcome.count(REFUSED)} 行"
    if outcome.photos:
        counts += f"，整改后照片 {outcome.photos} 张"
    if outcome.count(STALE):
        counts += f"，已过期未应用 {outcome.count(STALE)} 行"
    if outcome.missing:
        counts += f"；导出的问题中有 {outcome.missing} 个不在表中"
    if dry_run:
        say(f"{name}：预览（未写入）：{counts}")
    elif outcome.applied:
        say(f"{name}：已导入：{counts}")
    else:
        err.print(
            Text(
                f"错误：{name}：有被拒绝的行，未写入任何更改（{counts}；加 --partial 可只应用通过的行）",
                style="bold red",
            )
        )
