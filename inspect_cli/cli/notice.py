"""`inspect-cli notice`: the numbered weekly notice (周通报) in Word or Markdown."""

from __future__ import annotations

from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from inspect_cli.cli.context import state
from inspect_cli.cli.render import say, warn
from inspect_cli.dates import check_past, parse_date, resolve_period
from inspect_cli.errors import InputError

if TYPE_CHECKING:
    from inspect_cli.notice import Notice


class Format(str, Enum):
    docx = "docx"
    md = "md"


def register(app: typer.Typer) -> None:
    app.command("notice")(notice)


def notice(
    week: Annotated[str | None, typer.Option("--week", "-w", help="ISO 周，如 2026-W47（默认本周）")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期（与 --to 一起用，代替 --week）")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="结束日期")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="输出文件（默认：周通报_第N期_起_止.docx）")
    ] = None,
    fmt: Annotated[
        Format | None, typer.Option("--format", "-f", help="docx（Word）或 md（Markdown）；默认按文件名")
    ] = None,
    number: Annotated[int | None, typer.Option("--number", "-n", help="期号（默认接着本数据库上一期）", min=1)] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="另存一份 PDF（需要已安装 LibreOffice）")] = False,
    with_assessment: Annotated[
        bool, typer.Option("--assess", help="加一节“单位考核”：截止日所在月份各责任单位的考核得分与排名")
    ] = False,
    rules: Annotated[
        Path | None, typer.Option("--rules", help="与 --assess 一起用：考核规则文件（默认为内置规则）")
    ] = None,
    day: Annotated[
        str | None,
        typer.Option("--day", "-d", help="生成这一天的日反馈（另行编号，附 Excel 问题清单），如 2026-11-28"),
    ] = None,
) -> None:
    """生成周通报（Word 或 Markdown），期号自动接续。例：inspect-cli notice --week 2026-W47 -o 第12期.docx"""
    from inspect_cli.notice import default_file_name, issue_notice

    if day is not None and (week or date_from or date_to):
        raise InputError("--day 与 --week/--from/--to 不能同时使用：日反馈只针对一天")
    if day is None:
        start, end = resolve_period(week, date_from, date_to)
    else:  # a day that has happened: a 日反馈 of tomorrow would take a number for nothing
        start = end = check_past(parse_date(day, "日反馈日期"), "日反馈日期")
    if fmt is None:
        fmt = Format.md if output is not None and output.suffix.lower() == ".md" else Format.docx
    soffice = None
    if pdf:  # asked before anything is numbered or written
        if fmt is not Format.docx:
            raise InputError("--pdf 只用于 Word 通报（docx）；Markdown 通报请去掉 --pdf")
        from inspect_cli.pdf import require_soffice

        soffice = require_soffice()

    settings = state.settings()
    if day is not None:
        if with_assessment or rules:
            raise InputError("--assess 只用于周通报；日反馈不含单位考核")
        _daily(start, output, fmt, number, soffice)
        return
    if rules is not None and not with_assessment:
        raise InputError("--rules 要与 --assess 一起用")
    assess_rules = None
    if with_assessment:  # the rules are checked before anything is numbered or written
        from inspect_cli.assess_rules import load_rules

        assess_rules = load_rules(rules)

    def write(built: Notice) -> tuple[Path, int]:
        path = output or default_file_name(built, f".{fmt.value}")
        drawn = _charts(built, settings.notice.chart_font)
        if fmt is Format.docx:
            from inspect_cli.notice_docx import write_docx

            return path, write_docx(built, path, state.media_dir, drawn)
        from inspect_cli.notice_md import write_markdown

        return path, write_markdown(built, path, state.media_dir, drawn)

    built, path, photos = issue_notice(
        state.store(), start, end, settings.office, settings.notice, write, number, assess_rules
    )
    again = "（同一时段重新生成，沿用期号）" if built.reissue else ""
    say(f"已生成{built.title}{built.number_text}{again}：{path}")
    say(f"时段 {start} 至 {end}；典型问题照片 {photos} 张")
    from inspect_cli.notice import photos_of

    _missing_photos(sum(len(photos_of(c)) for g in built.groups for c in g.cases) - photos)
    from inspect_cli.excel.annex import annex_path

    say(f"完整清单（逾期问题、反复出现问题、本期问题）：{annex_path(path)}")
    if soffice is not None:
        from inspect_cli.pdf import to_pdf

        say(f"PDF：{to_pdf(path, soffice)}")


def _missing_photos(count: int) -> None:
    """Photos the database lists that the notice could not show: said, never silently left out."""
    if count > 0:
        warn(
            f"{count} 张照片的文件找不到或无法读取，未放入通报；照片应在数据库旁的 {state.media_dir.name} 文件夹中"
            "（复制数据库时请连同这个文件夹一起复制）"
        )


def _charts(built: Notice, configured: str) -> dict[str, bytes]:
    """The notice's charts, or none (said once) when no Chinese font can draw them."""
    from inspect_cli import charts
    from inspect_cli.notice import draw_charts

    font = charts.find_font(configured or None)
    if font is None:
        warn(charts.font_problem(configured or None) or charts.NO_FONT)
        return {}
    return draw_charts(built, font)


def _daily(day: date, output: Path | None, fmt: Format, number: int | None, soffice: str | None) -> None:
    """`notice --day`: the 日反馈 and its Excel 问题清单."""
    from inspect_cli import daily_out
    from inspect_cli.daily import DailyNotice, default_file_name, issue_daily
    from inspect_cli.notice import discard_written

    def write(built: DailyNotice) -> tuple[Path, int]:
        path = output or default_file_name(built, f".{fmt.value}")
        write_file = daily_out.write_docx if fmt is Format.docx else daily_out.write_markdown
        photos = write_file(built, path, state.media_dir)
        try:
            daily_out.write_list(built, daily_out.list_path(path), state.media_dir)
        except BaseException:
            discard_written(path)  # the number is given back: no file may carry it
            raise
        return path, photos

    settings = state.settings()
    built, path, photos = issue_daily(state.store(), day, settings.office, settings.notice, write, number)
    again = "（同一天重新生成，沿用期号）" if built.reissue else ""
    say(f"已生成{built.title}{built.number_text}{again}：{path}")
    say(f"{day}：问题 {len(built.problems)} 个，照片 {photos} 张")
    _missing_photos(sum(1 for _, photo in built.problems if photo is not None) - photos)
    say(f"问题清单（Excel）：{daily_out.list_path(path)}")
    if soffice is not None:
        from inspect_cli.pdf import to_pdf

        say(f"PDF：{to_pdf(path, soffice)}")
