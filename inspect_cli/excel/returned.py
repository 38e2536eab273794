"""`import rectification`: read the 整改通知单 units send back and apply what they report.

Only what those programs keep is relied on: the sheet names, the header titles (columns
are found by title, so order, an added column and blank rows do not matter), the cell
values, and the very hidden sheet with the export id. The database holds what each
exported row looked like, so an edited protected cell is caught whatever happened to the
sheet's protection. A file is all-or-nothing unless `partial` is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from inspect_cli import dates, units
from inspect_cli import rectification as loop
from inspect_cli.dates import parse_date
from inspect_cli.errors import InputError, NotFoundError
from inspect_cli.excel.unit_sheet import (
    COLUMNS,
    EXPORT_KIND,
    HANDLED_KEY,
    META,
    META_MARK,
    PROTECTED,
    SHEET,
    STATES,
    normalize_cell,
)
from inspect_cli.models import Problem, ProblemEvent, ProblemStatus
from inspect_cli.store import Store
from inspect_cli.text import clean, clean_name

APPLIED, UNCHANGED, REFUSED, STALE = "applied", "unchanged", "refused", "stale"
OUTCOME_LABELS = {APPLIED: "已应用", UNCHANGED: "无变化", REFUSED: "拒绝", STALE: "已过期"}
# What happened to a problem after its sheet was exported that makes the sheet's row out of
# date. Progress notes, repeat findings and answer edits do not: the row still says
# something new.

_HEADER_SCAN = 10


@dataclass
class RowOutcome:
    row: int
    problem_no: str
    outcome: str
    message: str
    action: tuple[str, str, date | None, str] | None = None  # (kind, note, date, actor)

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


@dataclass
class FileOutcome:
    path: Path
    unit: str | None = None
    rows: list[RowOutcome] = field(default_factory=list)
    error: str | None = None
    applied: bool = False
    missing: int = 0  # exported rows that are not in the returned file

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def refused(self) -> bool:
        return self.error is not None or self.count(REFUSED) > 0

    @property
    def stale(self) -> bool:
        return self.count(STALE) > 0


def _fold(text: Any) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "" if text is None else str(text)))


def _read(path: Path) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """(export id, rows by column title) of a returned sheet, or raise with the reason."""
    import warnings

    if not path.is_file():
        raise InputError("文件不存在")
    # openpyxl warns in English about what it tolerates (a date cell out of range, an unknown
    # extension); what matters is checked row by row below, in Chinese.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _read_workbook(path)


def _read_workbook(path: Path) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)
    except Exception:  # a damaged zip or XML raises any of a dozen kinds, none of them ours
        raise InputError("不是有效的 .xlsx 文件（文件已损坏，或不是 Excel 工作簿）") from None
    try:
        if META not in workbook.sheetnames:
            raise InputError("不是 inspect-cli 导出的整改通知单（找不到隐藏的导出信息）")
        meta = {
            normalize_cell(r[0]): normalize_cell(r[1]) for r in workbook[META].iter_rows(values_only=True) if len(r) > 1
        }
        if meta.get("kind") != META_MARK or not meta.get("export_id"):
            raise InputError("不是 inspect-cli 导出的整改通知单（导出信息不完整）")
        names = [SHEET] + [n for n in workbook.sheetnames if n != SHEET]
        for name in names:
            if name not in workbook.sheetnames or name == META:
                continue
            found = _table(workbook[name])
            if found is not None:
                return meta["export_id"], found
        raise InputError(f"找不到“{SHEET}”表（表头需包含：问题编号、状态）")
    finally:
        workbook.close()


def _table(sheet: Any) -> list[tuple[int, dict[str, Any]]] | None:
    rows = list(sheet.iter_rows(values_only=True))
    wanted = {_fold(c.title): c.title for c in COLUMNS}
    for index, cells in enumerate(rows[:_HEADER_SCAN]):
        titles = {wanted[_fold(c)]: i for i, c in enumerate(cells) if _fold(c) in wanted}
        if "问题编号" not in titles:
            continue
        missing = [c.title for c in COLUMNS if c.title not in titles]
        if missing:
            raise InputError(f"“{sheet.title}”表缺少列：{'、'.join(missing)}（第 {index + 1} 行是表头）")
        out = []
        for offset, cells in enumerate(rows[index + 1 :], start=index + 2):
            values = {title: (cells[col] if col < len(cells) else None) for title, col in titles.items()}
            if any(normalize_cell(v) for v in values.values()):
                out.append((offset, values))
        return out
    return None


def _completion_date(value: Any) -> date | None:
    if value is None or normalize_cell(value) == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        raise InputError(f"整改完成日期不是日期：{value}")
    return parse_date(str(value), "整改完成日期")


def _since_export(store: Store, problem: Problem, exported: dict[str, Any], created_at: str) -> list[ProblemEvent]:
    """The problem's history after the sheet was exported."""
    events = store.problem_events(problem.id)
    if HANDLED_KEY in exported:
        handled = [e for e in events if e.action in loop.SUPERSEDING]
        return handled[int(exported[HANDLED_KEY]) :]
    return [e for e in events if e.at > created_at]  # sheets exported before the count was kept


def _decide(
    store: Store,
    register: units.UnitIndex,
    unit: str,
    row: int,
    values: dict[str, Any],
    snapshot: dict[str, dict[str, Any]],
    created_at: str,
    today: date,
) -> RowOutcome:
    no = normalize_cell(values["问题编号"]).upper()

    def refuse(reason: str) -> RowOutcome:
        return RowOutcome(row, no, REFUSED, reason)

    def theirs(problem: Problem) -> bool:
        # Through the unit register: a sheet exported before a rename or merge is still the
        # unit's, its old name being a former name of the unit the problem now names.
        now = register.find(problem.unit)
        return (now.name if now else problem.unit) == unit

    if not no:
        return refuse("缺少问题编号")
    if no not in snapshot:
        try:
            other = store.problem(no)
        except NotFoundError:
            return refuse("未知的问题编号（不在这份导出的整改通知单中）")
        if not theirs(other):
            return refuse(f"问题属于 {other.unit or '其他单位'}，不属于 {unit}（不在这份导出的整改通知单中）")
        return refuse("问题不在这份导出的整改通知单中（请用最新导出的通知单填写）")
    edited = [
        c.title for c in PROTECTED if c.title != "问题编号" and normalize_cell(values[c.title]) != snapshot[no][c.title]
    ]
    if edited:
        return refuse(f"受保护的列被修改：{'、'.join(edited)}")
    try:
        problem = store.problem(no)
    except NotFoundError:
        return refuse("问题已不存在（发现它的检查已被删除）")
    if not theirs(problem):
        return refuse(f"问题已改派给 {problem.unit or '其他单位'}，不属于 {unit}")
    state = normalize_cell(values["状态"])
    try:
        situation = clean(normalize_cell(values["整改情况"]), "整改情况") or ""
        person = clean_name(normalize_cell(values["整改责任人"]), "整改责任人") or ""
        done = _completion_date(values["整改完成日期"])
    except InputError as exc:
        return refuse(exc.message)
    if not state:
        if situation or person or done:
            return refuse("未选择状态（已整改 / 整改中 / 无法整改需协调）")
        return RowOutcome(row, no, UNCHANGED, "未填写")
    if state not in STATES:
        return refuse(f"状态“{state}”无效，应为 {' / '.join(STATES)}")
    actor = f"{unit}（{person}）" if person else unit
    note = situation or state
    if person:
        note += f"（整改责任人：{person}）"
    since = _since_export(store, problem, snapshot[no], created_at)
    if state == "已整改":
        return _decide_fixed(store, problem, row, note, done, actor, today, since, refuse)
    progress = f"{state}：{situation}" if situation else state
    last = loop.last_note(store, problem, "progress")
    if last is not None and last.note == progress:
        return RowOutcome(row, no, UNCHANGED, "进度与上次相同")
    newer = _superseding(since)
    if newer is not None:
        return _stale(row, no, newer)
    if problem.status in (ProblemStatus.CLOSED, ProblemStatus.DISMISSED, ProblemStatus.FIXED):
        return refuse(f"问题当前为“{problem.status_label}”，不能再反馈整改进度")
    return RowOutcome(row, no, APPLIED, f"记录进度：{state}", ("progress", progress, None, actor))


def _superseding(since: list[ProblemEvent], report: tuple[date, str] | None = None) -> ProblemEvent | None:
    """The first event since the export that makes the row out of date (its own report aside)."""
    for event in since:
        if event.action == "fixed" and report is not None and (event.date, event.note) == report:
            continue
        if event.action in loop.SUPERSEDING:
            return event
    return None


def _stale(row: int, no: str, newer: ProblemEvent) -> RowOutcome:
    return RowOutcome(
        row,
        no,
        STALE,
        f"表格导出后问题已有新的处理（{newer.date} {newer.label}），本行未应用；请以最新导出的整改通知单为准",
    )


def _decide_fixed(
    store, problem: Problem, row: int, note: str, done, actor: str, today: date, since, refuse
) -> RowOutcome:  # type: ignore[no-untyped-def]
    if done is None:
        return refuse("状态为已整改，但未填写整改完成日期")
    if done > today:
        return refuse(f"整改完成日期 {done} 晚于今天")
    if done < problem.found_date:
        return refuse(f"整改完成日期 {done} 早于问题发现日期 {problem.found_date}")
    reported = loop.last_note(store, problem, "fixed")
    same = reported is not None and reported.date == done and reported.note == note
    if same and problem.status in (ProblemStatus.FIXED, ProblemStatus.CLOSED):
        return RowOutcome(
            row, problem.no, UNCHANGED, "已上报，待复查" if problem.status is ProblemStatus.FIXED else "已销号"
        )
    newer = _superseding(since, (done, note))
    if newer is not None:
        return _stale(row, problem.no, newer)
    if problem.status is ProblemStatus.CLOSED:
        return refuse("问题已销号")
    if problem.status is ProblemStatus.DISMISSED:
        return refuse("问题已认定不属实")
    if problem.status is ProblemStatus.FIXED:
        return refuse("问题已上报整改，等待复查")
    return RowOutcome(row, problem.no, APPLIED, f"上报整改（{done}），待复查", ("fixed", note, done, actor))


def import_returned(
    store: Store,
    paths: list[Path],
    *,
    dry_run: bool = False,
    partial: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[FileOutcome]:
    today = dates.today()
    outcomes = []
    for index, path in enumerate(paths, start=1):
        if progress:
            progress(index - 1, len(paths))
        outcome = FileOutcome(path)
        outcomes.append(outcome)
        try:
            export_id, rows = _read(path)
        except InputError as exc:
            outcome.error = exc.message
            continue
        export = store.export(export_id)
        if export is None or export[0] != EXPORT_KIND:
            outcome.error = f"导出编号 {export_id} 不在本数据库中：这份表不是从本数据库导出的整改通知单"
            continue
        _, unit, created_at, snapshot = export
        register = units.index(store)
        current = register.find(unit)
        # The unit as it is called now, should it have been renamed or merged since the export.
        unit = outcome.unit = current.name if current else unit
        seen: dict[str, int] = {}
        for row, values in rows:
            decided = _decide(store, register, unit or "", row, values, snapshot, created_at, today)
            if decided.problem_no and decided.problem_no in seen and decided.outcome != REFUSED:
                decided = RowOutcome(
                    row, decided.problem_no, REFUSED, f"与第 {seen[decided.problem_no]} 行问题编号重复"
                )
            seen.setdefault(decided.problem_no, row)
            outcome.rows.append(decided)
        outcome.missing = len(set(snapshot) - set(seen))
        if dry_run or (outcome.count(REFUSED) and not partial):
            continue
        with store.atomic():
            for decided in outcome.rows:
                if decided.outcome != APPLIED or decided.action is None:
                    continue
                kind, note, day, actor = decided.action
                if kind == "fixed":
                    loop.report_fixed(store, decided.problem_no, note, day=day, actor=actor)
                else:
                    loop.record_progress(store, decided.problem_no, note, actor=actor)
        outcome.applied = True
    if progress:
        progress(len(paths), len(paths))
    return outcomes
