"""`export ledger`: the year's 整改台账, every problem found in the year with its whole life.

One row per problem (a problem found twice and merged counts once, as everywhere): where and
what, who must fix it, when it was found, due, reported fixed and re-checked, how it ended,
how many working days the accepted fix took and how late it was, and the photos before and
after. Sheet 汇总 adds the rows up by final state and by unit; its figures follow the rules of
`issue stats` (`queries.ProblemStats`), so for the same problems they are the same.

Rows stream: problems come from the database 500 at a time, and each batch's histories with
their photos in two more queries (`Store.events_of`), so a big city's year is written in flat
memory. Thumbnails are written to a temporary folder and inserted from there: XlsxWriter keeps
a picture given as bytes in memory until the file is closed, one given as a file by its name.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from inspect_cli import dates
from inspect_cli.errors import InputError
from inspect_cli.excel.common import (
    LINE_HEIGHT,
    MAX_ROW_HEIGHT,
    PHOTO_HEIGHT,
    PORTRAIT_WIDTH,
    Column,
    Formats,
    TableSheet,
    close_workbook,
    new_workbook,
    page_header,
    write_text,
    write_value,
)
from inspect_cli.media import photo_jpeg
from inspect_cli.models import NO_UNIT, Photo, Problem, ProblemEvent, ProblemStatus, Result
from inspect_cli.queries import ProblemStats, count_problems, iter_problems, overdue_basis
from inspect_cli.store import Store
from inspect_cli.units import find_unit
from inspect_cli.workdays import is_workday

Progress = Callable[[int, int], None]
BATCH = 500  # problems whose histories are read in one go

# Final states, in the order the totals list them. 返工 is 待整改 after a failed re-check.
REWORK = "返工"
STATES = (
    ProblemStatus.CLOSED.label,
    ProblemStatus.FIXED.label,
    ProblemStatus.OPEN.label,
    REWORK,
    ProblemStatus.DEFERRED.label,
    ProblemStatus.DISMISSED.label,
)
RECHECKS = {"recheck_pass": "通过", "recheck_fail": "未通过", "recheck_open": "仍未整改", "force_close": "强制销号"}
# The 整改后 photo is that of the latest fix with photos, as the notice shows it (`Store.fix_photos`).
FIX_ACTIONS = ("fixed", "recheck_pass")
REMARKS = {"dismissed": "不属实", "deferred": "长期整改", "force_close": "强制销号"}
# A 4:3 photo fits in a 13-unit column (96 pixels) and in the thumbnail row (PHOTO_HEIGHT).
THUMBNAIL_BOX = (88, 66)

# A4 landscape fit to the width: the printed columns add up to ~174 units (as Excel rounds
# them to pixels), so the 11 pt text prints at about 9 pt. The last five are for the screen
# (filters, look-ups) and stay off paper.
COLUMNS = [
    Column("序号", "int", width=5),
    Column("问题编号", width=13),
    Column("点位", "wrap", width=13),
    Column("街道", "wrap", width=8),
    Column("检查项 / 问题描述", "wrap", width=20),
    Column("责任单位", "wrap", width=9),
    Column("发现日期", "date", width=11),
    Column("出现\n次数", "int", width=5),
    Column("整改时限", "date", width=11),
    Column("上报整改日期", "date", width=11),
    Column("复查", "wrap", width=13),
    Column("状态", "wrap", width=8),
    Column("用时（工作日）", "int", width=6),
    Column("逾期\n天数", "int", width=5),
    Column("整改前", "photo", width=13),
    Column("整改后", "photo", width=13),
    Column("点位类型", width=12),
    Column("问题类别", width=12),
    Column("结果", width=11),
    Column("销号日期", "date", width=11),
    Column("备注", "wrap", width=36),
]
PRINTED = 16
BEFORE, AFTER = (index for index, column in enumerate(COLUMNS) if column.kind == "photo")
HEADER_HEIGHT = 44  # points: three lines, for the narrow columns' titles


@dataclass
class LedgerResult:
    path: Path
    year: int
    rows: int = 0
    total: ProblemStats = field(default_factory=lambda: ProblemStats("合计"))
    states: dict[str, int] = field(default_factory=dict)


def parse_year(text: str | None, today: date | None = None) -> int:
    """A year the ledger can cover: four digits, from 2000 to this year (default: this year)."""
    now = today or dates.today()
    if text is None:
        return now.year
    value = str(text).strip().removesuffix("年")
    if not re.fullmatch(r"\d{4}", value):
        raise InputError(f"年份格式不正确：'{text}'，应为四位数字（如 {now.year}）")
    year = int(value)
    if year < dates.EARLIEST.year:
        raise InputError(f"年份 {year} 早于 {dates.EARLIEST.year} 年，请检查年份")
    if year > now.year:
        raise InputError(f"年份 {year} 晚于今年（{now.year}），还没有这一年的问题")
    return year


def final_state(problem: Problem) -> str:
    """已销号 / 已整改待复查 / 待整改 / 返工 / 长期整改 / 不属实."""
    if problem.status is ProblemStatus.OPEN and problem.rework_count:
        return REWORK
    return problem.status.label


def accepted_fix(problem: Problem) -> date | None:
    """When a closed problem was fixed, by `Problem.on_time`'s rule: the unit's completion
    date, or the 销号 date for a forced close."""
    if problem.status is not ProblemStatus.CLOSED:
        return None
    return problem.fixed_date or problem.closed_date


class WorkingDays:
    """Working days after one date up to and including another, by the holiday calendar.

    From a running count, so a year's 180,000 problems cost a subtraction each: found on a
    Friday and fixed the Monday after is 1, fixed the same day 0; a deadline of N working
    days (`workdays.add_working_days`) is N after the day found.
    """

    def __init__(self, origin: date) -> None:
        self.origin = origin
        self._running = [0]  # [i]: working days in (origin, origin + i days]

    def _upto(self, day: date) -> int:
        index = (day - self.origin).days
        if index < 0:
            raise ValueError(f"{day} is before {self.origin}")
        while len(self._running) <= index:
            following = self.origin + timedelta(days=len(self._running))
            self._running.append(self._running[-1] + is_workday(following))
        return self._running[index]

    def between(self, start: date, end: date) -> int:
        return self._upto(end) - self._upto(start)


def export_ledger(
    store: Store,
    year: int,
    path: Path,
    media_dir: Path,
    progress: Progress | None = None,
    *,
    unit: str | None = None,
    street: str | None = None,
    office: str = "",
) -> LedgerResult:
    """Write the ledger of the problems found in `year` (of one unit, of the streets matching
    `street`); every row from one state of the database, whatever others write meanwhile.

    An unknown unit is refused (with the register's close names) before anything is written.
    """
    with store.snapshot():
        name = find_unit(store, unit, "责任单位").name if unit else None
        with tempfile.TemporaryDirectory(prefix="inspect-cli-ledger-") as scratch:
            return _write(store, year, path, media_dir, progress, name, street, office, Path(scratch))


def _write(
    store: Store,
    year: int,
    path: Path,
    media_dir: Path,
    progress: Progress | None,
    unit: str | None,
    street: str | None,
    office: str,
    scratch: Path,
) -> LedgerResult:
    today = dates.today()
    start, end = date(year, 1, 1), date(year, 12, 31)
    scope = [f"责任单位：{unit}" if unit else "", f"街道：{street.strip()}" if street and street.strip() else ""]
    scope = [part for part in scope if part]
    name = f"{year}年创城问题整改台账"
    signed = f" · {office}" if office else ""
    header = f"{name}（{'；'.join([*scope, f'状态截至 {today}'])}）"
    ledger_title = f"{name}（{'；'.join([*scope, f'发现日期 {start} 至 {end}，状态截至 {today}'])}）{signed}"
    summary_title = f"{name} · 汇总" + (f"（{'；'.join(scope)}）" if scope else "") + signed

    result = LedgerResult(path, year, states=dict.fromkeys(STATES, 0))
    by_unit: dict[str, tuple[ProblemStats, dict[str, int]]] = {}
    workbook = new_workbook(path)
    formats = Formats(workbook)
    summary = workbook.add_worksheet("汇总")  # first, filled once the rows are counted
    table = _LedgerSheet(workbook, formats, "整改台账", COLUMNS, header, ledger_title, PRINTED)
    table.sheet.set_row(table.top, HEADER_HEIGHT)
    filters = {"date_from": start, "date_to": end, "today": today, "unit": unit, "street": street}
    total, _ = count_problems(store, **filters)  # type: ignore[arg-type]
    working = WorkingDays(start - timedelta(days=1))
    thumbnails = _Thumbnails(media_dir, scratch)
    found = iter_problems(store, order="found", **filters)  # type: ignore[arg-type]
    for index, (problem, events) in enumerate(_with_events(store, found), start=1):
        state = final_state(problem)
        _tally(result.total, problem, today)
        stats, states = by_unit.setdefault(problem.unit or NO_UNIT, (ProblemStats(problem.unit or NO_UNIT), {}))
        _tally(stats, problem, today)
        states[state] = states.get(state, 0) + 1
        result.states[state] += 1
        _add_row(table, index, problem, events, state, today, working, thumbnails)
        if progress:
            progress(index, total)
    result.rows = table.rows
    table.finish()
    _summary(summary, formats, result, by_unit, summary_title, header, today, start, end)
    close_workbook(workbook, path)
    return result


class _LedgerSheet(TableSheet):
    def finish(self) -> None:
        if not self.rows:
            # An empty ledger says so, in the ledger's words (TableSheet would say 本期无).
            self.sheet.write_string(self.row, 0, "本年无", self.formats.cell("text"))
            self.row += 1
        super().finish()


def _with_events(store: Store, found: Iterator[Problem]) -> Iterator[tuple[Problem, list[ProblemEvent]]]:
    """Each problem with its history: one batch of problems, one `events_of`."""
    while chunk := list(itertools.islice(found, BATCH)):
        events = store.events_of([p.id for p in chunk])
        for problem in chunk:
            yield problem, events.get(problem.id, [])


def _tally(stats: ProblemStats, problem: Problem, today: date) -> None:
    """One problem into the figures, by the rules `issue stats` adds up in the database."""
    stats.total += 1
    stats.closed += problem.status is ProblemStatus.CLOSED
    stats.dismissed += problem.status is ProblemStatus.DISMISSED
    stats.deferred += problem.status is ProblemStatus.DEFERRED
    stats.on_time += bool(problem.on_time)
    stats.overdue += problem.overdue_days(today) > 0
    stats.rechecked += problem.recheck_count > 0
    stats.reworked += problem.rework_count > 0
    stats.repeats += problem.repeat_of is not None


class _Thumbnails:
    """Each stored photo's thumbnail as a file in `folder`, made once (None: gone or unreadable)."""

    def __init__(self, media_dir: Path, folder: Path) -> None:
        self.media_dir = media_dir
        self.folder = folder
        self._made: dict[str, Path | None] = {}

    def __call__(self, photo: Photo) -> Path | None:
        if photo.stored_name not in self._made:
            data = photo_jpeg(self.media_dir / photo.stored_name, THUMBNAIL_BOX)
            target = None
            if data is not None:
                target = self.folder / f"{len(self._made)}.jpg"
                target.write_bytes(data)
            self._made[photo.stored_name] = target
        return self._made[photo.stored_name]

    def missing(self, photo: Photo) -> str:
        gone = not (self.media_dir / photo.stored_name).is_file()
        return "（照片文件缺失）" if gone else "（照片文件已损坏，无法显示）"


def _day(day: date, year: int) -> str:
    """11-20 within the ledger's year, 2027-01-05 outside it."""
    return f"{day:%m-%d}" if day.year == year else day.isoformat()


def _add_row(
    table: TableSheet,
    index: int,
    problem: Problem,
    events: list[ProblemEvent],
    state: str,
    today: date,
    working: WorkingDays,
    thumbnails: _Thumbnails,
) -> None:
    year = problem.found_date.year
    rechecks = [f"{_day(e.date, year)} {RECHECKS[e.action]}" for e in events if e.action in RECHECKS]
    reports = [e.date for e in events if e.action == "fixed"]
    done = accepted_fix(problem)
    # Open: days past the deadline today. Closed: how late the accepted fix was.
    late = problem.overdue_days(today) if done is None else max((done - problem.deadline).days, 0)
    what = problem.item_text
    if problem.description or problem.count > 1:
        detail = problem.description or ""
        if problem.count > 1:
            detail += f"（{problem.count} 处）"
        what += f"\n问题：{detail}"
    if problem.severity is Result.SEVERE:
        what = f"【严重】{what}"

    before = next((e.photos[0] for e in events if e.action == "found" and e.photos), None)
    after = None
    if problem.status in (ProblemStatus.FIXED, ProblemStatus.CLOSED):
        fixes = [e for e in events if e.action in FIX_ACTIONS and e.photos]
        # The latest by date; on one date, the later in the history.
        after = max(reversed(fixes), key=lambda e: e.date).photos[0] if fixes else None
    pictures = [(col, photo, thumbnails(photo)) for col, photo in ((BEFORE, before), (AFTER, after)) if photo]
    captions = {col: thumbnails.missing(photo) for col, photo, image in pictures if image is None}

    values = [
        index,
        problem.no,
        f"{problem.site_code} {problem.site_name}",
        problem.street,
        what,
        problem.unit or NO_UNIT,
        problem.found_date,
        1 + problem.occurrences,
        problem.deadline,
        problem.fixed_date or (reports[-1] if reports else None),
        "；".join(rechecks) or None,
        state,
        working.between(problem.found_date, done) if done else None,
        late or None,
        captions.get(BEFORE),
        captions.get(AFTER),
        problem.site_type,
        problem.category,
        problem.severity.label,
        problem.closed_date,
        _remarks(problem, events, year) or None,
    ]
    row = table.add(values, highlight=problem.overdue_days(today) > 0)
    shown = [(col, image) for col, _, image in pictures if image is not None]
    if not shown:
        return
    # TableSheet sets the height for one picture given as bytes; two, as files, are set here,
    # as it sizes wrapped text (and a line to spare: the picture's caption sits under it).
    lines = table.lines(values) + 1
    table.sheet.set_row(row, min(max(LINE_HEIGHT * lines + 3, PHOTO_HEIGHT * 0.75 + 4), MAX_ROW_HEIGHT))
    for col, image in shown:
        table.sheet.insert_image(row, col, str(image), {"x_offset": 2, "y_offset": 2, "object_position": 1})


def _remarks(problem: Problem, events: list[ProblemEvent], year: int) -> str:
    parts = []
    if problem.repeat_of:
        parts.append(f"反复出现，前一问题 {problem.repeat_of}")
    repeats = [_day(e.date, year) for e in events if e.action == "repeat"]
    if repeats:
        parts.append(f"重复发现：{'、'.join(repeats)}")
    for e in events:
        if e.action in REMARKS:
            parts.append(f"{_day(e.date, year)} {REMARKS[e.action]}：{e.note or ''}".rstrip("："))
    return "\n".join(parts)


def _summary(
    sheet: Any,
    formats: Formats,
    result: LedgerResult,
    by_unit: dict[str, tuple[ProblemStats, dict[str, int]]],
    title: str,
    header: str,
    today: date,
    start: date,
    end: date,
) -> None:
    """汇总: the rows by final state, the rates as `issue stats` gives them, and per unit."""
    total = result.total
    unit_titles = ["责任单位", "问题数", *STATES, "整改率", "按期整改率", "逾期"]
    last = len(unit_titles) - 1
    label, text = formats.label, formats.cell("text")
    count, percent = formats.cell("int"), formats.cell("percent")
    sheet.write_string(0, 0, title, formats.title)
    sheet.write_string(
        1,
        0,
        f"统计范围：{dates.long_date(start)}至{dates.long_date(end)}发现的问题（合并的重复问题计一次），"
        f"状态截至{dates.long_date(today)}；口径与 inspect-cli issue stats 相同。",
    )

    def head(row: int, titles: list[str], height: float = 20) -> None:
        sheet.set_row(row, height)
        for col, name in enumerate(titles):
            sheet.write_string(row, col, name, formats.header)

    row = 3
    sheet.write_string(row, 0, "一、按最终状态", formats.title)
    head(row + 1, ["状态", "问题数", "占比"])
    row += 2
    for state in (*STATES, "合计"):
        number = total.total if state == "合计" else result.states[state]
        sheet.write_string(row, 0, state, label)
        write_value(sheet, row, 1, number, count, "int")
        write_value(sheet, row, 2, number / total.total * 100 if total.total else None, percent, "percent")
        row += 1
    sheet.write_string(row, 0, f"（{REWORK}：复查未通过、退回重新整改，仍待整改的问题。）")

    row += 2
    sheet.write_string(row, 0, "二、整改指标", formats.title)
    head(row + 1, ["指标", "数值"])
    sheet.merge_range(row + 1, 2, row + 1, last, "口径", formats.header)
    row += 2
    figures: list[tuple[str, object, str, str]] = [
        ("问题数", total.total, "int", "本年发现的问题"),
        ("已销号", total.closed, "int", "复查通过或强制销号"),
        ("整改率", total.fix_rate, "percent", "已销号 ÷（问题数 − 不属实）"),
        ("按期销号", total.on_time, "int", "整改完成日期（强制销号为销号日期）不晚于整改时限"),
        ("按期整改率", total.on_time_rate, "percent", "按期销号 ÷ 已销号"),
        (f"逾期（截至 {today}）", total.overdue, "int", overdue_basis(today)),
        ("长期整改", total.deferred, "int", "不计为已整改，也不计逾期"),
        ("不属实", total.dismissed, "int", "不计入整改率"),
        ("返工率", total.rework_rate, "percent", "复查未通过过的问题 ÷ 复查过的问题"),
        ("反复出现", total.repeats, "int", "销号后不久同一点位、同一检查项再次不合格的问题"),
    ]
    for name, value, kind, basis in figures:
        sheet.write_string(row, 0, name, label)
        write_value(sheet, row, 1, value, formats.cell(kind), kind)
        sheet.merge_range(row, 2, row, last, "", text)
        write_text(sheet, row, 2, basis, text)
        row += 1
    for note in (
        f"台账“逾期天数”：未销号的为截至{dates.long_date(today)}已过整改时限的天数，已销号的为整改完成晚于整改时限的天数。",
        "台账“用时（工作日）”：从发现日期次日到整改完成日期的工作日数（按国务院节假日和调休安排）。",
    ):
        sheet.write_string(row, 0, note)
        row += 1

    row += 1
    sheet.write_string(row, 0, "三、按责任单位", formats.title)
    head(row + 1, unit_titles, 30)
    row += 2
    ranked = sorted(by_unit.values(), key=lambda u: (-u[0].total, u[0].name))
    for stats, states in ranked:
        write_text(sheet, row, 0, stats.name, label)
        write_value(sheet, row, 1, stats.total, count, "int")
        for col, state in enumerate(STATES, start=2):
            write_value(sheet, row, col, states.get(state, 0), count, "int")
        write_value(sheet, row, last - 2, stats.fix_rate, percent, "percent")
        write_value(sheet, row, last - 1, stats.on_time_rate, percent, "percent")
        write_value(sheet, row, last, stats.overdue, count, "int")
        row += 1
    if not ranked:
        sheet.write_string(row, 0, "本年无", text)
    widths = [20, *[8] * last]  # A4 portrait
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.set_paper(9)
    if sum(widths) > PORTRAIT_WIDTH:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    sheet.set_header(page_header(header))
    sheet.set_footer("&C第 &P 页，共 &N 页")
