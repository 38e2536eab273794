"""`export report`: the period's figures, rankings and problems in one workbook.

Every number comes from `inspect_cli.queries`, the same functions `score` and
`issue stats` print, so the workbook agrees with the terminal to the last digit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from inspect_cli import dates
from inspect_cli.excel.common import (
    Column,
    Formats,
    TableSheet,
    close_workbook,
    new_workbook,
    page_header,
    thumbnail,
    write_value,
)
from inspect_cli.queries import (
    NO_UNIT,
    GroupBy,
    iter_problems,
    period_scores,
    period_summary,
    previous_period,
    ranking_with_change,
    type_breakdown,
    with_found_photos,
)
from inspect_cli.store import Store

Progress = Callable[[int, int], None]

PROBLEM_COLUMNS = [
    Column("序号", "int"),
    Column("问题编号"),
    Column("点位编码"),
    Column("街道"),
    Column("点位类型"),
    Column("点位名称", "wrap"),
    Column("指标", "wrap"),
    Column("检查项", "wrap", width=36),
    Column("问题描述", "wrap", width=28),
    Column("结果"),
    Column("责任单位", "wrap"),
    Column("整改时限", "date"),
    Column("状态"),
    Column("逾期天数", "int"),
    Column("照片", "photo", width=20),
    Column("照片文件", "wrap"),
]
RANK_COLUMNS = [
    Column("排名", "int"),
    Column("名称", "wrap"),
    Column("检查次数", "int"),
    Column("点位数", "int"),
    Column("平均得分率", "percent"),
    Column("不合格项", "int"),
    Column("严重不合格项", "int"),
    Column("上期排名", "int"),
    Column("排名变化"),
    Column("得分率变化（百分点）", "delta"),
]


@dataclass
class ReportResult:
    path: Path
    sheets: dict[str, int] = field(default_factory=dict)


def export_report(
    store: Store,
    date_from: date,
    date_to: date,
    path: Path,
    media_dir: Path,
    progress: Progress | None = None,
) -> ReportResult:
    """Write the report; every sheet from one state of the database, whatever others write meanwhile."""
    with store.snapshot():
        return _write_report(store, date_from, date_to, path, media_dir, progress)


def _write_report(
    store: Store,
    date_from: date,
    date_to: date,
    path: Path,
    media_dir: Path,
    progress: Progress | None,
) -> ReportResult:
    today = dates.today()
    period = f"{date_from} 至 {date_to}"
    header = f"创城实地测评报告（{period}）"
    result = ReportResult(path)
    # Score the two periods once; every sheet below reads these.
    scored = period_scores(store, date_from, date_to)
    both = (scored, period_scores(store, *previous_period(date_from, date_to)))
    workbook = new_workbook(path)
    formats = Formats(workbook)

    summary = period_summary(store, date_from, date_to, today=today, scored=scored)
    sheet = workbook.add_worksheet("汇总")
    sheet.write_string(0, 0, header, formats.title)
    figures: list[tuple[str, object, str]] = [
        ("统计期间", period, "text"),
        ("检查点位数", summary.sites, "int"),
        ("检查次数", summary.inspections, "int"),
        ("检查项数", summary.items_checked, "int"),
        ("合格项", summary.passed, "int"),
        ("不合格项", summary.failed, "int"),
        ("严重不合格项", summary.severe, "int"),
        ("不合格项中的重复发现（计入原有问题）", summary.repeat_findings, "int"),
        ("平均得分率", summary.mean_rate, "percent"),
        ("发现问题数", summary.problems.total, "int"),
        ("已销号", summary.problems.closed, "int"),
        ("整改率", summary.problems.fix_rate, "percent"),
        ("按期整改率", summary.problems.on_time_rate, "percent"),
        (f"当前逾期（截至 {today}）", summary.problems.overdue, "int"),
        ("反复出现", summary.problems.repeats, "int"),
    ]
    for index, (label, value, kind) in enumerate(figures, start=2):
        sheet.write_string(index, 0, label, formats.label)
        write_value(sheet, index, 1, value, formats.cell(kind), kind)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 26)
    sheet.set_paper(9)
    sheet.set_header(page_header(header))
    result.sheets["汇总"] = len(figures)

    for by, name in ((GroupBy.street, "街道排名"), (GroupBy.unit, "单位排名"), (GroupBy.partner, "包抓单位排名")):
        changes, _ = ranking_with_change(store, by, date_from, date_to, both)
        if by is GroupBy.partner and not changes:
            continue  # no 包抓单位 in this register
        table = TableSheet(workbook, formats, name, RANK_COLUMNS, header)
        for change in changes:
            row = change.row
            table.add(
                [
                    row.rank,
                    row.name,
                    row.inspections,
                    row.sites,
                    row.mean_rate,
                    row.failed,
                    row.severe,
                    change.previous_rank,
                    change.label,
                    None if change.rate_delta is None else round(change.rate_delta, 1),
                ]
            )
        table.finish()
        result.sheets[name] = len(changes)

    table = TableSheet(
        workbook,
        formats,
        "点位类型",
        [
            Column("街道"),
            Column("点位类型"),
            Column("检查项总数", "int"),
            Column("合格数", "int"),
            Column("不合格数", "int"),
            Column("合格率", "percent"),
            Column("不合格率", "percent"),
        ],
        header,
    )
    cells = type_breakdown(store, date_from, date_to, scored)
    for cell in cells:
        table.add([cell.street, cell.site_type, cell.items, cell.passed, cell.failed, cell.pass_rate, cell.fail_rate])
    table.finish()
    result.sheets["点位类型"] = len(cells)

    table = TableSheet(
        workbook,
        formats,
        "点位得分",
        [
            Column("检查编号"),
            Column("日期", "date"),
            Column("点位编码"),
            Column("点位名称", "wrap"),
            Column("点位类型"),
            Column("街道"),
            Column("检查人", "wrap"),
            Column("得分", "number"),
            Column("满分", "number"),
            Column("得分率", "percent"),
        ],
        header,
    )
    listed = 0
    # Streamed from the database: a year's inspections are never held.
    for no, day, code, name, site_type, street, inspectors, earned, full in store.scored_listing(date_from, date_to):
        rate = earned / full * 100 if full else None
        table.add([no, day, code, name, site_type, street, "、".join(inspectors), earned, full, rate])
        listed += 1
    table.finish()
    result.sheets["点位得分"] = listed

    table = TableSheet(workbook, formats, "问题清单", PROBLEM_COLUMNS, header)
    cache: dict[str, bytes | None] = {}
    total = summary.problems.total
    # Problems stream from the database into the sheet: memory does not grow with them.
    found = iter_problems(store, date_from=date_from, date_to=date_to)
    for index, (problem, pictures) in enumerate(with_found_photos(store, found), start=1):
        late = problem.overdue_days(today)
        image = thumbnail(media_dir, pictures[0].stored_name, cache) if pictures else None
        names = "\n".join(Path(p.original_path).name for p in pictures)
        if pictures and image is None:
            gone = not (media_dir / pictures[0].stored_name).is_file()
            names += "\n（照片文件缺失）" if gone else "\n（照片文件已损坏，无法显示）"
        table.add(
            [
                index,
                problem.no,
                problem.site_code,
                problem.street,
                problem.site_type,
                problem.site_name,
                problem.indicator,
                problem.item_text,
                problem.description,
                problem.severity.label,
                problem.unit or NO_UNIT,
                problem.deadline,
                problem.status_label,
                late or None,
                None,
                names or None,
            ],
            highlight=late > 0,
            photo=image,
        )
        if progress:
            progress(index, total)
    table.finish()
    result.sheets["问题清单"] = total

    overdue = iter_problems(store, date_from=date_from, date_to=date_to, overdue=True, today=today, order="unit")
    table = TableSheet(
        workbook,
        formats,
        "逾期问题",
        [
            Column("责任单位", "wrap"),
            Column("问题编号"),
            Column("点位", "wrap"),
            Column("街道"),
            Column("检查项", "wrap", width=36),
            Column("问题描述", "wrap", width=28),
            Column("发现日期", "date"),
            Column("整改时限", "date"),
            Column("逾期天数", "int"),
            Column("状态"),
        ],
        f"{header} 逾期问题（截至 {today}）",
    )
    late_rows = 0
    for p in overdue:
        late_rows += 1
        table.add(
            [
                p.unit or NO_UNIT,
                p.no,
                f"{p.site_code} {p.site_name}",
                p.street,
                p.item_text,
                p.description,
                p.found_date,
                p.deadline,
                p.overdue_days(today),
                p.status_label,
            ],
            highlight=True,
        )
    table.finish()
    result.sheets["逾期问题"] = late_rows
    close_workbook(workbook, path)
    return result
