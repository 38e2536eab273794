"""`plan show -o 任务单.xlsx`: each inspector pair's 检查任务单, printable, one sheet per pair.

A sheet lists the pair's 点位 街道 by 街道 with columns to fill in on the day (检查日期,
备注) and signature lines; 汇总 names the pairs, their counts and what the draw was made
from (seed, weights, 回避), so a printed plan can be checked against `plan verify`.
"""

from __future__ import annotations

from pathlib import Path

from inspect_cli.excel.common import Column, Formats, TableSheet, close_workbook, new_workbook
from inspect_cli.plans import Plan, inputs_text

COLUMNS = [
    Column("序号", "int", 5),
    Column("点位编码", "text"),
    Column("点位名称", "wrap", 22),
    Column("点位类型", "text"),
    Column("街道", "text"),
    Column("社区", "text"),
    Column("地址", "wrap", 24),
    Column("检查日期", "text", 11, editable=True),
    Column("备注", "wrap", 14, editable=True),
]
ROW_HEIGHT = 30  # points: room to write a date and a note by hand
SUMMARY = [
    Column("检查组", "text"),
    Column("检查人", "text"),
    Column("点位数", "int"),
    Column("街道", "wrap", 40),
]


def write_task_sheets(plan: Plan, path: Path, office: str, only: int | None = None) -> dict[str, int]:
    """Write the 任务单 (every pair's, or one pair's); rows written per sheet."""
    workbook = new_workbook(path)
    formats = Formats(workbook)
    written: dict[str, int] = {}
    header = f"{office} {plan.week} 双随机检查任务单"
    numbers = [only] if only is not None else list(range(1, len(plan.pairs) + 1))
    summary = TableSheet(
        workbook, formats, "汇总", SUMMARY, header, f"{office} {plan.title} 双随机检查计划（{len(plan.visits)} 个点位）"
    )
    for number in numbers:
        visits = [v for v in plan.visits if v.pair == number]
        streets = list(dict.fromkeys(v.street or "未填街道" for v in visits))
        summary.add([f"第{number}组", plan.pair_names(number), len(visits), "、".join(streets)])
    summary.finish()
    note = workbook.add_format({"font_name": "宋体", "font_size": 10, "text_wrap": True, "valign": "top"})
    last = len(SUMMARY) - 1
    summary.sheet.merge_range(summary.row + 1, 0, summary.row + 1, last, f"抽取依据：{inputs_text(plan)}", note)
    summary.sheet.set_row(summary.row + 1, 30)
    drawn = f"抽取时间：{plan.drawn_at[:16].replace('T', ' ')}；复核：inspect-cli plan verify --week {plan.week}"
    summary.sheet.merge_range(summary.row + 2, 0, summary.row + 2, last, drawn, note)
    written["汇总"] = sum(1 for v in plan.visits if v.pair in numbers)  # the 点位 it sums up
    for number in numbers:
        name = f"第{number}组"
        title = f"{office} {plan.title} 检查任务单 {name}：{plan.pair_names(number)}"
        sheet = TableSheet(workbook, formats, name, COLUMNS, header, title)
        sheet.min_height = ROW_HEIGHT
        for n, v in enumerate((v for v in plan.visits if v.pair == number), start=1):
            sheet.add([n, v.code, v.name, v.site_type, v.street, v.community, v.address, "", ""])
        sheet.finish()
        row = sheet.row + 1
        sheet.sheet.merge_range(row, 0, row, 3, "检查人（签字）：", note)
        sheet.sheet.merge_range(row, 6, row, 8, "日期：", note)
        sheet.sheet.set_row(row, 30)
        written[name] = sheet.rows
    close_workbook(workbook, path)
    return written
