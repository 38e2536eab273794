"""`import rectification`: read the 整改通知单 units send back and apply what they report.

Only what those programs keep is relied on: the sheet names, the header titles (columns
are found by title, so order, an added column and blank rows do not matter), the cell
values, the pictures and the cells they sit on, and the very hidden sheet with the export
id. The database holds what each exported row looked like, so an edited protected cell is
caught whatever happened to the sheet's protection. A file is all-or-nothing unless
`partial` is asked for: every row, and every photo in it, is checked before anything is
written, and what a file applies is written in one transaction.

Photos: a picture whose top-left corner lies in a problem's row is a photo of the fix
(整改后照片), wherever in the row the unit put it — but for the 整改前照片 column, which
holds the photo the export put there. It goes with the row's 已整改 report, onto the history
event that report makes, through the media folder like every other photo. A row with
photos that does not report 已整改 is refused: a photo of a fix needs a fix to go with.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from inspect_cli import dates, units
from inspect_cli import rectification as loop
from inspect_cli.dates import parse_date
from inspect_cli.errors import InputError, NotFoundError
from inspect_cli.excel.pictures import FLOATING, SheetPicture, sheet_pictures
from inspect_cli.excel.unit_sheet import (
    AFTER_PHOTOS,
    BEFORE_PHOTOS,
    COLUMNS,
    EXPORT_KIND,
    FILL_IN,
    FIXED_STATE,
    HANDLED_KEY,
    LEGACY_PROTECTED,
    META,
    META_MARK,
    SHEET,
    SIGN_OFF,
    STATES,
    normalize_cell,
)
from inspect_cli.media import check_photo
from inspect_cli.models import Problem, ProblemEvent, ProblemStatus
from inspect_cli.store import Store
from inspect_cli.text import clean, clean_name, for_terminal

APPLIED, UNCHANGED, REFUSED, STALE = "applied", "unchanged", "refused", "stale"
OUTCOME_LABELS = {APPLIED: "已应用", UNCHANGED: "无变化", REFUSED: "拒绝", STALE: "已过期"}
# What happened to a problem after its sheet was exported that makes the sheet's row out of
# date. Progress notes, repeat findings and answer edits do not: the row still says
# something new.

_HEADER_SCAN = 30  # rows searched for the header: the letter on top, and rows a unit added
# Every title a returned sheet's columns may carry, this version's and older ones'.
_TITLES = [c.title for c in COLUMNS] + list(LEGACY_PROTECTED)


@dataclass
class RowOutcome:
    row: int
    problem_no: str
    outcome: str
    message: str
    action: tuple[str, str, date | None, str] | None = None  # (kind, note, date, actor)
    photos: list[Path] = field(default_factory=list)  # 整改后照片 to store with the action

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

    @property
    def photos(self) -> int:
        """整改后照片 the applied rows stored (or, on a dry run, would store)."""
        return sum(len(r.photos) for r in self.rows if r.outcome == APPLIED)


@dataclass
class _Returned:
    """What a returned workbook holds: the table by column title, and the pictures on it."""

    export_id: str
    sheet: str
    header_row: int  # 1-based
    titles: dict[str, int]  # column title → 0-based column
    rows: list[tuple[int, dict[str, Any]]]
    end_row: int | None  # the first row below the table (the 签收 block), if there is one
    pictures: list[SheetPicture] = field(default_factory=list)


def _fold(text: Any) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "" if text is None else str(text)))


def _read(path: Path) -> _Returned:
    """The table and pictures of a returned sheet, or raise with the reason."""
    import warnings

    if not path.is_file():
        raise InputError("文件不存在")
    # openpyxl warns in English about what it tolerates (a date cell out of range, an unknown
    # extension); what matters is checked row by row below, in Chinese.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        returned = _read_workbook(path)
    returned.pictures = sheet_pictures(path, returned.sheet)
    _blank_picture_cells(returned)
    return returned


def _read_workbook(path: Path) -> _Returned:
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
            found = _table(workbook[name], meta["export_id"])
            if found is not None:
                return found
        raise InputError(f"找不到“{SHEET}”表（表头需包含：问题编号、状态）")
    finally:
        workbook.close()


def _table(sheet: Any, export_id: str) -> _Returned | None:
    rows = list(sheet.iter_rows(values_only=True))
    wanted = {_fold(title): title for title in _TITLES}
    for index, cells in enumerate(rows[:_HEADER_SCAN]):
        titles = {wanted[_fold(c)]: i for i, c in enumerate(cells) if _fold(c) in wanted}
        if "问题编号" not in titles:
            continue
        out, end = [], None
        for offset, cells in enumerate(rows[index + 1 :], start=index + 2):
            values = {title: (cells[col] if col < len(cells) else None) for title, col in titles.items()}
            if _fold(values["问题编号"]).startswith(_fold(SIGN_OFF)):
                end = offset
                break
            if any(normalize_cell(v) for v in values.values()):
                out.append((offset, values))
        return _Returned(export_id, sheet.title, index + 1, titles, out, end)
    return None


def _blank_picture_cells(returned: _Returned) -> None:
    """A cell holding a picture has no text: Excel shows #VALUE! there, WPS a DISPIMG formula."""
    by_col = {col: title for title, col in returned.titles.items()}
    placed = {(p.row, by_col[p.col]) for p in returned.pictures if p.kind != FLOATING and p.col in by_col}
    for row, values in returned.rows:
        for title in values:
            if (row, title) in placed:
                values[title] = None


def _missing_columns(returned: _Returned, snapshot: dict[str, dict[str, Any]]) -> list[str]:
    """Columns the import needs: the unit's four, and every protected column the sheet was exported with."""
    protected = {title for row in snapshot.values() for title in row if not title.startswith("_")}
    needed = [c.title for c in FILL_IN] + [t for t in _TITLES if t in protected]
    return [t for t in dict.fromkeys(needed) if t not in returned.titles]


def _row_pictures(returned: _Returned) -> tuple[dict[int, list[SheetPicture]], list[RowOutcome]]:
    """The 整改后照片 of each table row, and refusals for pictures no problem can own."""
    before = {returned.titles[t] for t in BEFORE_PHOTOS if t in returned.titles}
    data_rows = {row for row, _ in returned.rows}
    by_row: dict[int, list[SheetPicture]] = {}
    refusals: dict[int, RowOutcome] = {}
    unplaced = 0
    for picture in returned.pictures:
        if picture.row is None:
            unplaced += 1
            continue
        below = returned.end_row is not None and picture.row >= returned.end_row
        if picture.row <= returned.header_row or below or picture.col in before:
            continue  # the letter, the 签收 block, or the photo the export put in 整改前照片
        if picture.row in data_rows:
            by_row.setdefault(picture.row, []).append(picture)
        elif picture.row not in refusals:
            refusals[picture.row] = RowOutcome(
                picture.row,
                "",
                REFUSED,
                "这一行有图片，但没有问题编号：整改后照片请放在对应问题那一行的“整改后照片”格内",
            )
    if unplaced:
        raise InputError(
            f"有 {unplaced} 张图片没有固定在单元格上，无法判断属于哪个问题：请删除后在对应问题那一行的“整改后照片”格内重新插入"
        )
    return by_row, list(refusals.values())


class _Photos:
    """The 整改后照片 of the rows being imported, as files checked like any other photo.

    The bytes go to a file of their own so `media.check_photo` and `store_photos` judge them
    exactly as they judge a photo given by path: size, pixel limit, a decodable image.
    """

    def __init__(self, folder: Path, source: Path) -> None:
        self.folder = folder
        self.stem = re.sub(r"[^\w.-]+", "_", source.stem)[:60] or "sheet"

    def prepare(self, row: int, pictures: list[SheetPicture]) -> list[Path]:
        """The row's pictures as checked files (one per distinct picture); raise naming the bad one."""
        paths: list[Path] = []
        seen: set[str] = set()
        for number, picture in enumerate(pictures, start=1):
            what = f"第 {row} 行的第 {number} 张整改后照片（{picture.kind}）"
            if picture.problem:
                raise InputError(f"{what}不能使用：{picture.problem}")
            assert picture.data is not None
            digest = hashlib.sha256(picture.data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            path = self.folder / f"{self.stem}_第{row}行_{number}{picture.suffix or '.img'}"
            path.write_bytes(picture.data)
            try:
                check_photo(path)
            except InputError as exc:
                reason = exc.message.replace("：" + for_terminal(str(path)), "")
                raise InputError(f"{what}不能使用：{reason}（请删除后重新插入）") from None
            paths.append(path)
        return paths


def _digests(pictures: list[SheetPicture]) -> set[str]:
    return {hashlib.sha256(p.data).hexdigest() for p in pictures if p.data is not None}


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


@dataclass
class _Context:
    """What every row of one returned file is judged against."""

    store: Store
    register: units.UnitIndex
    unit: str
    snapshot: dict[str, dict[str, Any]]
    created_at: str
    today: date
    photos: _Photos


def _decide(ctx: _Context, row: int, values: dict[str, Any], pictures: list[SheetPicture]) -> RowOutcome:
    store, unit, snapshot = ctx.store, ctx.unit, ctx.snapshot
    no = normalize_cell(values["问题编号"]).upper()

    def refuse(reason: str) -> RowOutcome:
        return RowOutcome(row, no, REFUSED, reason)

    def theirs(problem: Problem) -> bool:
        # Through the unit register: a sheet exported before a rename or merge is still the
        # unit's, its old name being a former name of the unit the problem now names.
        now = ctx.register.find(problem.unit)
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
    exported = snapshot[no]
    edited = [
        title
        for title in _TITLES
        if title in exported and title != "问题编号" and normalize_cell(values.get(title)) != exported[title]
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
    photos = f"，“{AFTER_PHOTOS.title}”有 {len(pictures)} 张照片" if pictures else ""
    if not state:
        if situation or person or done or pictures:
            return refuse(f"未选择状态（{' / '.join(STATES)}）{photos}")
        return RowOutcome(row, no, UNCHANGED, "未填写")
    if state not in STATES:
        return refuse(f"状态“{state}”无效，应为 {' / '.join(STATES)}")
    if pictures and state != FIXED_STATE:
        return refuse(
            f"状态为“{state}”{photos}：整改后照片只随“{FIXED_STATE}”上报；整改完成的请把状态选为{FIXED_STATE}，否则请删除照片"
        )
    actor = f"{unit}（{person}）" if person else unit
    note = situation or state
    if person:
        note += f"（整改责任人：{person}）"
    since = _since_export(store, problem, exported, ctx.created_at)
    if state == FIXED_STATE:
        return _decide_fixed(ctx, problem, row, note, done, actor, since, pictures, refuse)
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
    ctx: _Context,
    problem: Problem,
    row: int,
    note: str,
    done: date | None,
    actor: str,
    since: list[ProblemEvent],
    pictures: list[SheetPicture],
    refuse: Callable[[str], RowOutcome],
) -> RowOutcome:
    if done is None:
        return refuse("状态为已整改，但未填写整改完成日期")
    if done > ctx.today:
        return refuse(f"整改完成日期 {done} 晚于今天")
    if done < problem.found_date:
        return refuse(f"整改完成日期 {done} 早于问题发现日期 {problem.found_date}")
    reported = loop.last_note(ctx.store, problem, "fixed")
    same = reported is not None and reported.date == done and reported.note == note
    if same and problem.status in (ProblemStatus.FIXED, ProblemStatus.CLOSED):
        said = "已上报，待复查" if problem.status is ProblemStatus.FIXED else "已销号"
        assert reported is not None
        new = _digests(pictures) - {p.sha256 for p in reported.photos}
        if new:
            # The report stands as it was made; a photo added to the sheet afterwards is not
            # slipped into it.
            said += f"；表中有 {len(new)} 张上次上报时没有的整改后照片，未添加（已上报的整改不再补充照片）"
        return RowOutcome(row, problem.no, UNCHANGED, said)
    newer = _superseding(since, (done, note))
    if newer is not None:
        return _stale(row, problem.no, newer)
    if problem.status is ProblemStatus.CLOSED:
        return refuse("问题已销号")
    if problem.status is ProblemStatus.DISMISSED:
        return refuse("问题已认定不属实")
    if problem.status is ProblemStatus.FIXED:
        return refuse("问题已上报整改，等待复查")
    try:
        photos = ctx.photos.prepare(row, pictures)
    except InputError as exc:
        return refuse(exc.message)
    with_photos = f"，附整改后照片 {len(photos)} 张" if photos else ""
    return RowOutcome(
        row,
        problem.no,
        APPLIED,
        f"上报整改（{done}）{with_photos}，待复查",
        ("fixed", note, done, actor),
        photos,
    )


def import_returned(
    store: Store,
    paths: list[Path],
    *,
    dry_run: bool = False,
    partial: bool = False,
    progress: Callable[[int, int], None] | None = None,
    media_dir: Path | None = None,
) -> list[FileOutcome]:
    """Check and apply returned sheets; `media_dir` is where their 整改后照片 are stored."""
    today = dates.today()
    outcomes = []
    for index, path in enumerate(paths, start=1):
        if progress:
            progress(index - 1, len(paths))
        outcome = FileOutcome(path)
        outcomes.append(outcome)
        with tempfile.TemporaryDirectory(prefix="inspect-cli-photos-") as folder:
            _import_file(store, outcome, today, Path(folder), dry_run, partial, media_dir)
    if progress:
        progress(len(paths), len(paths))
    return outcomes


def _import_file(
    store: Store,
    outcome: FileOutcome,
    today: date,
    folder: Path,
    dry_run: bool,
    partial: bool,
    media_dir: Path | None,
) -> None:
    try:
        returned = _read(outcome.path)
    except InputError as exc:
        outcome.error = exc.message
        return
    export = store.export(returned.export_id)
    if export is None or export[0] != EXPORT_KIND:
        outcome.error = f"导出编号 {returned.export_id} 不在本数据库中：这份表不是从本数据库导出的整改通知单"
        return
    _, unit, created_at, snapshot = export
    missing = _missing_columns(returned, snapshot)
    if missing:
        outcome.error = f"“{returned.sheet}”表缺少列：{'、'.join(missing)}（第 {returned.header_row} 行是表头）"
        return
    try:
        pictures, stray = _row_pictures(returned)
    except InputError as exc:
        outcome.error = exc.message
        return
    register = units.index(store)
    current = register.find(unit)
    # The unit as it is called now, should it have been renamed or merged since the export.
    unit = outcome.unit = current.name if current else unit
    ctx = _Context(store, register, unit or "", snapshot, created_at, today, _Photos(folder, outcome.path))
    seen: dict[str, int] = {}
    for row, values in returned.rows:
        decided = _decide(ctx, row, values, pictures.get(row, []))
        if decided.problem_no and decided.problem_no in seen and decided.outcome != REFUSED:
            decided = RowOutcome(row, decided.problem_no, REFUSED, f"与第 {seen[decided.problem_no]} 行问题编号重复")
        seen.setdefault(decided.problem_no, row)
        outcome.rows.append(decided)
    outcome.rows += stray
    outcome.rows.sort(key=lambda r: r.row)
    outcome.missing = len(set(snapshot) - set(seen))
    if dry_run or (outcome.count(REFUSED) and not partial):
        return
    try:
        with store.atomic():
            for decided in outcome.rows:
                if decided.outcome != APPLIED or decided.action is None:
                    continue
                kind, note, day, actor = decided.action
                if kind == "fixed":
                    loop.report_fixed(
                        store,
                        decided.problem_no,
                        note,
                        day=day,
                        actor=actor,
                        photos=decided.photos or None,
                        media_dir=media_dir,
                    )
                else:
                    loop.record_progress(store, decided.problem_no, note, actor=actor)
    except InputError as exc:  # the media folder refused a photo (disk full, …): nothing was written
        outcome.error = f"写入时出错，本文件未导入：{exc.message}"
        return
    outcome.applied = True
