"""The notice's annex: every problem the notice counts but does not list, in one workbook.

A notice is read by people, so it lists the longest overdue and the period's repeats only
(`notice.LISTED` of each). The annex beside it holds the full lists: every problem overdue on
the day of the notice, the period's repeats, and all of the period's problems. It streams
the problems from the database into the workbook, so it stays small in memory however long
the city has used the tool.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from inspect_cli.excel.common import Column, Formats, TableSheet, close_workbook, new_workbook
from inspect_cli.models import Problem
from inspect_cli.queries import NO_UNIT, iter_problems

if TYPE_CHECKING:
    from inspect_cli.notice import Notice
    from inspect_cli.store import Store

# About 165 width units: A4 landscape, fit to the width, prints them at ~9.5 pt.
COLUMNS = [
    Column("序号", "int", width=5),
    Column("问题编号", width=14),
    Column("点位编码", width=10),
    Column("街道", "wrap", width=10),
    Column("点位名称", "wrap", width=16),
    Column("检查项", "wrap", width=24),
    Column("问题描述", "wrap", width=20),
    Column("结果", width=10),
    Column("责任单位", "wrap", width=13),
    Column("发现日期", "date", width=11),
    Column("整改时限", "date", width=11),
    Column("状态", width=11),
    Column("逾期天数", "int", width=6),
]


OVERDUE_SHEET = "逾期未整改问题"


def annex_path(notice_path: Path) -> Path:
    return notice_path.with_name(f"{notice_path.stem}_附件.xlsx")


def write_annex(store: Store, notice: Notice, path: Path) -> dict[str, int]:
    """Write the annex; returns the rows of each sheet."""
    today = notice.issued
    period = {"date_from": notice.date_from, "date_to": notice.date_to}
    sheets = {
        OVERDUE_SHEET: iter_problems(store, date_to=notice.date_to, overdue=True, today=today),
        f"{notice.period_word}反复出现问题": iter_problems(store, repeat=True, **period),
        f"{notice.period_word}问题清单": iter_problems(store, **period),
    }
    workbook = new_workbook(path)
    formats = Formats(workbook)
    written = {}
    for name, found in sheets.items():
        header = f"{notice.title}{notice.number_text}附件：{name}（截至 {today:%Y年%m月%d日}）"
        title = f"{notice.title}{notice.number_text}附件：{name}（{notice.period_text}，{notice.office}）"
        if name == OVERDUE_SHEET:  # the basis, in the words every output uses
            title += f"。{notice.overdue_basis}"
        written[name] = _sheet(TableSheet(workbook, formats, name, COLUMNS, header, title), found, today)
    close_workbook(workbook, path)
    return written


def _sheet(sheet: TableSheet, found: Iterable[Problem], today: date) -> int:
    count = 0
    for count, p in enumerate(found, start=1):
        late = p.overdue_days(today)
        sheet.add(
            [count, p.no, p.site_code, p.street, p.site_name, p.item_text, p.description, p.severity.label,
             p.unit or NO_UNIT, p.found_date, p.deadline, p.status_label, late or None],
            highlight=late > 0,
        )  # fmt: skip
    sheet.finish()
    return count
