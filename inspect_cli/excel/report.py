"""`export report`: the period's figures, rankings and problems in one workbook.

Every number comes from `inspect_cli.queries`, the same functions `score` and
`issue stats` print, so the workbook agrees with the terminal to the last digit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from inspect_cli import dates
from inspect_cli.excel.common import (
    PORTRAIT_WIDTH,
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
    EditionUse,
    GroupBy,
    PeriodSummary,
    TrendRow,
    TypeBreakdown,
    editions_used,
    iter_problems,
    overdue_basis,
    period_scores,
    period_summary,
    previous_period,
    ranking_with_change,
    red_and_black,
    trend,
    type_breakdown,
    with_found_photos,
)
from inspect_cli.scoring import round_rate
from inspect_cli.store import Store

Progress = Callable[[int, int], None]
# The notice's colours (charts.py): 红榜, 黑榜, the rest.
RED, BLACK, NEUTRAL = "#C00000", "#3A3A3A", "#6F93BF"

# On A4 landscape fit to the width: the printed columns add up to ~170 width units, so the
# 11 pt text prints at about 9.4 pt. The last four are for the screen (filters, look-ups).
PROBLEM_COLUMNS = [
    Column("序号", "int", width=5),
    Column("问题编号", width=14),
    Column("点位名称", "wrap", width=18),
    Column("街道", "wrap", width=10),
    Column("检查项", "wrap", width=26),
    Column("问题描述", "wrap", width=22),
    Column("结果", width=10),
    Column("责任单位", "wrap", width=13),
    Column("整改时限", "date", width=11),
    Column("状态", width=11),
    Column("逾期天数", "int", width=6),
    Column("照片", "photo", width=18),
    Column("点位编码"),
    Column("点位类型"),
    Column("指标", "wrap"),
    Column("照片文件", "wrap"),
]
PROBLEM_PRINTED = 12
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
    Column("黑榜线", "percent"),  # not printed: the chart's dashed line
]
RANK_PRINTED = 10
CHART_HEIGHT = 340  # pixels; a default row is 20
TREND_PERIODS = 8


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
    *,
    office: str = "",
    black_threshold: float = 85,
) -> ReportResult:
    """Write the report; every sheet from one state of the database, whatever others write meanwhile."""
    with store.snapshot():
        return _write_report(store, date_from, date_to, path, media_dir, progress, office, black_threshold)


def _write_report(
    store: Store,
    date_from: date,
    date_to: date,
    path: Path,
    media_dir: Path,
    progress: Progress | None,
    office: str,
    black_threshold: float,
) -> ReportResult:
    today = dates.today()
    period = f"{date_from} 至 {date_to}"
    header = f"创城实地测评报告（{period}）"

    def title(what: str) -> str:
        return f"{what} · 创城实地测评报告（{dates.long_date(date_from)}至{dates.long_date(date_to)}）" + (
            f" · {office}" if office else ""
        )

    result = ReportResult(path)
    # Score the two periods once; every sheet below reads these.
    scored = period_scores(store, date_from, date_to)
    both = (scored, period_scores(store, *previous_period(date_from, date_to)))
    workbook = new_workbook(path)
    formats = Formats(workbook)

    summary = period_summary(store, date_from, date_to, today=today, scored=scored)
    result.sheets["汇总"] = _summary_sheet(
        workbook, formats, summary, editions_used(store, date_from, date_to),
        type_breakdown(store, date_from, date_to, scored),
        trend(store, date_from, date_to, TREND_PERIODS, today=today), title("汇总"), header, today,
    )  # fmt: skip

    for by, name in ((GroupBy.street, "街道排名"), (GroupBy.unit, "单位排名"), (GroupBy.partner, "包抓单位排名")):
        changes, _ = ranking_with_change(store, by, date_from, date_to, both)
        if by is GroupBy.partner and not changes:
            continue  # no 包抓单位 in this register
        table = TableSheet(workbook, formats, name, RANK_COLUMNS, header, title(name), printed=RANK_PRINTED)
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
                    None if change.rate_delta is None else round_rate(change.rate_delta),
                    black_threshold,
                ]
            )
        table.finish()
        if changes:
            _ranking_chart(workbook, table, name, [c.row.mean_rate for c in changes], black_threshold)
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
        title("点位类型（街道 × 点位类型明细）"),
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
        title("点位得分"),
    )
    listed = 0
    # Streamed from the database: a year's inspections are never held.
    for no, day, code, name, site_type, street, inspectors, earned, full in store.scored_listing(date_from, date_to):
        rate = earned / full * 100 if full else None
        table.add([no, day, code, name, site_type, street, "、".join(inspectors), earned, full, rate])
        listed += 1
    table.finish()
    result.sheets["点位得分"] = listed

    table = TableSheet(workbook, formats, "问题清单", PROBLEM_COLUMNS, header, title("问题清单"), PROBLEM_PRINTED)
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
                problem.site_name,
                problem.street,
                problem.item_text,
                problem.description,
                problem.severity.label,
                problem.unit or NO_UNIT,
                problem.deadline,
                problem.status_label,
                late or None,
                None,
                problem.site_code,
                problem.site_type,
                problem.indicator,
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
            Column("责任单位", "wrap", width=13),
            Column("问题编号", width=14),
            Column("点位", "wrap", width=22),
            Column("街道", "wrap", width=10),
            Column("检查项", "wrap", width=26),
            Column("问题描述", "wrap", width=22),
            Column("发现日期", "date", width=11),
            Column("整改时限", "date", width=11),
            Column("逾期天数", "int", width=6),
            Column("状态", width=11),
        ],
        f"{header} 逾期问题（截至 {today}）",
        title(f"逾期问题（本期发现的问题中；{overdue_basis(today)}）"),
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


def _summary_sheet(
    workbook: Any,
    formats: Formats,
    summary: PeriodSummary,
    used: list[EditionUse],
    breakdown: list[TypeBreakdown],
    periods: list[TrendRow],
    title: str,
    header: str,
    today: date,
) -> int:
    """汇总: the key figures, the 街道 × 点位类型 matrix of 合格率, and the trend with its chart."""
    sheet = workbook.add_worksheet("汇总")
    sheet.write_string(0, 0, title, formats.title)
    figures: list[tuple[str, object, str]] = [
        ("统计期间", f"{summary.date_from} 至 {summary.date_to}", "text"),
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
        # Of the period's problems (the notice's 四 counts every problem found up to its end).
        (f"其中当前逾期（截至 {today}）", summary.problems.overdue, "int"),
        ("反复出现", summary.problems.repeats, "int"),
    ]
    for index, (label, value, kind) in enumerate(figures, start=2):
        sheet.write_string(index, 0, label, formats.label)
        write_value(sheet, index, 1, value, formats.cell(kind), kind)
    row = len(figures) + 3
    sheet.write_string(row, 0, f"（{overdue_basis(today)}。）")

    # Which 测评标准 the period was scored with: an inspection keeps the edition it was made with.
    row += 2
    sheet.write_string(row, 0, "本期使用的测评标准", formats.title)
    row += 1
    for col, text in enumerate(["点位类型", "代码", "版本", "检查次数"]):
        sheet.write_string(row, col, text, formats.header)
    labels = [(e.code, e.edition) for e in used]
    for use in used:
        row += 1
        # One label with two contents (edited in place) is told apart by its short id.
        edition = use.edition + (f"（{use.edition_id[:8]}）" if labels.count((use.code, use.edition)) > 1 else "")
        for col, value in enumerate([use.site_type, use.code, edition]):
            sheet.write_string(row, col, value, formats.cell("text"))
        write_value(sheet, row, 3, use.inspections, formats.cell("int"), "int")
    if not used:
        row += 1
        sheet.write_string(row, 0, "本期无")

    # 点位类型 × 街道: each cell the 合格率 of the items checked there (types down the side:
    # there are more of them than streets, and the page is taller than wide).
    row += 2
    sheet.write_string(row, 0, "各点位类型分街道合格率", formats.title)
    streets = sorted({c.street for c in breakdown})
    kinds = sorted({c.site_type for c in breakdown})
    row += 1
    for col, text in enumerate(["点位类型", *streets, "合计"]):
        sheet.write_string(row, col, text, formats.header)
    percent = formats.cell("percent")

    def rate(kind: str | None, street: str | None) -> float | None:
        parts = [c for c in breakdown if kind in (None, c.site_type) and street in (None, c.street)]
        items = sum(p.items for p in parts)
        return sum(p.passed for p in parts) / items * 100 if items else None

    for kind in [*kinds, None]:
        row += 1
        sheet.write_string(row, 0, kind or "合计", formats.label)
        for col, street in enumerate([*streets, None], start=1):
            write_value(sheet, row, col, rate(kind, street), percent, "percent")
    if not kinds:
        row += 1
        sheet.write_string(row, 0, "本期无")

    # The trend: the last periods of the same length, and a chart of them (native, editable).
    row += 3
    sheet.write_string(row, 0, f"近{len(periods)}期趋势", formats.title)
    row += 1
    first = row + 1
    for col, text in enumerate(["时段", "平均得分率", "问题数", "整改率"]):
        sheet.write_string(row, col, text, formats.header)
    for t in periods:
        row += 1
        sheet.write_string(row, 0, f"{t.date_from:%m-%d}至{t.date_to:%m-%d}", formats.label)
        write_value(sheet, row, 1, t.mean_rate, percent, "percent")
        write_value(sheet, row, 2, t.problems, formats.cell("int"), "int")
        write_value(sheet, row, 3, t.fix_rate, percent, "percent")
    if periods:
        _trend_chart(workbook, sheet, first, row, row + 2)
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, len(streets) + 1, 11)
    sheet.set_paper(9)
    if 36 + 11 * (len(streets) + 1) > PORTRAIT_WIDTH:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.freeze_panes(1, 0)
    sheet.repeat_rows(0)
    sheet.set_header(page_header(header))
    sheet.set_footer("&C第 &P 页，共 &N 页")
    return len(figures)


def _ranking_chart(workbook: Any, table: TableSheet, name: str, rates: list[float], threshold: float) -> None:
    """A column per row of the ranking, 红榜 red and 黑榜 black as in the notice, and the 黑榜 line."""
    first, last = table.top + 1, table.top + len(rates)
    sheet = table.sheet.name
    chart = workbook.add_chart({"type": "column"})
    on_red, on_black = red_and_black(rates, threshold)
    top, bottom = set(on_red), set(on_black)
    chart.add_series(
        {
            "name": "平均得分率",
            "categories": [sheet, first, 1, last, 1],
            "values": [sheet, first, 4, last, 4],
            "fill": {"color": NEUTRAL},
            "points": [
                {"fill": {"color": RED if i in top else BLACK if i in bottom else NEUTRAL}} for i in range(len(rates))
            ],
            "data_labels": {"value": True, "num_format": "0.0%", "font": {"size": 8}},
            "gap": 60,
        }
    )
    line = workbook.add_chart({"type": "line"})
    line.add_series(
        {
            "name": f"黑榜线 {threshold:g}%",
            "categories": [sheet, first, 1, last, 1],
            "values": [sheet, first, len(RANK_COLUMNS) - 1, last, len(RANK_COLUMNS) - 1],
            "line": {"color": RED, "dash_type": "dash", "width": 1.25},
            "marker": {"type": "none"},
        }
    )
    chart.combine(line)
    low = min(min(rates), threshold)
    chart.set_title({"name": f"{name}：平均得分率", "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": "0%", "min": max(0, (int(low) // 10 - 1) * 10) / 100, "max": 1})
    chart.set_x_axis({"num_font": {"rotation": -45 if len(rates) > 8 else 0, "size": 9}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": max(640, 28 * len(rates)), "height": CHART_HEIGHT})
    table.sheet.insert_chart(last + 2, 0, chart)
    # Printed with the table: the print area reaches below the chart.
    table.sheet.print_area(0, 0, last + 3 + CHART_HEIGHT // 20, RANK_PRINTED - 1)


def _trend_chart(workbook: Any, sheet: Any, first: int, last: int, at: int) -> None:
    """得分率 and 整改率 as lines (left axis, percent), 问题数 as columns on the right axis."""
    name = sheet.name
    lines = workbook.add_chart({"type": "line"})
    for col, label, color in ((1, "平均得分率", "#1F4E79"), (3, "整改率", "#C55A11")):
        lines.add_series(
            {
                "name": label,
                "categories": [name, first, 0, last, 0],
                "values": [name, first, col, last, col],
                "line": {"color": color, "width": 2},
                "marker": {"type": "circle", "size": 5, "fill": {"color": color}, "border": {"color": color}},
                "data_labels": {"value": True, "num_format": "0.0%", "position": "above", "font": {"size": 8}},
            }
        )
    columns = workbook.add_chart({"type": "column"})
    columns.add_series(
        {
            "name": "问题数",
            "categories": [name, first, 0, last, 0],
            "values": [name, first, 2, last, 2],
            "fill": {"color": "#C8D3DE"},
            "y2_axis": True,
            "data_labels": {"value": True, "font": {"size": 8}},
        }
    )
    lines.combine(columns)
    lines.set_title({"name": "近期得分率、问题数与整改率", "name_font": {"size": 12}})
    lines.set_y_axis({"name": "得分率、整改率", "num_format": "0%", "min": 0, "max": 1})
    columns.set_y2_axis({"name": "问题数", "min": 0})
    lines.set_legend({"position": "bottom"})
    lines.set_size({"width": 640, "height": 320})
    sheet.insert_chart(at, 0, lines)
