"""`export rectification`: one 整改通知单 workbook per 责任单位, which units fill in and return.

The 整改清单 sheet is a form: a letter on top (who, which problems, by when, how to fill it
in, where to send it), then the table, then a 签收 block to sign and stamp. It is made to be
printed on A4 landscape at a size people can read and write on, as well as filled in on
screen; 填写说明 holds the details. The unit fills the yellow columns, pasting photos of the
fix into 整改后照片; everything else is protected (no password: protection keeps honest
people from slips, it is not security). The database remembers each export and the
protected values of every row, so `import rectification` can tell where a returned sheet
came from and whether a protected cell was changed — whatever Excel, WPS or LibreOffice did
to the file in between. A very hidden sheet carries the export id.
"""

from __future__ import annotations

import io
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from inspect_cli import dates
from inspect_cli import units as unit_register
from inspect_cli.config import OfficeSettings
from inspect_cli.errors import InputError
from inspect_cli.excel.common import (
    FONT,
    Column,
    Formats,
    close_workbook,
    fit_cell,
    new_workbook,
    page_header,
    write_text,
    write_value,
)
from inspect_cli.media import photo_jpeg
from inspect_cli.models import Problem, ProblemStatus
from inspect_cli.queries import problems
from inspect_cli.rectification import SUPERSEDING
from inspect_cli.store import Store
from inspect_cli.text import text_width

EXPORT_KIND = "rectification"
SHEET = "整改清单"
GUIDE = "填写说明"
META = "_导出信息"
META_MARK = "inspect-cli 整改通知单"
FORMAT_VERSION = "1"
STATES = ("已整改", "整改中", "无法整改需协调")
FIXED_STATE = STATES[0]
DEFAULT_STATUSES = [ProblemStatus.OPEN, ProblemStatus.DEFERRED]
# Kept with each exported row: how many times the problem had been handled when the sheet
# was made, so an import can tell what happened to it after the sheet left.
HANDLED_KEY = "_handled"

# Widths in Excel's units (one digit of the workbook's default font: 7 pixels of Calibri in
# Excel and WPS, wider where LibreOffice lacks Calibri). With 12 pt text the table prints at
# 100 % in Excel, and at ~9.3 pt where LibreOffice renders it with DejaVu Sans digits.
PROTECTED = [
    Column("问题编号", "wrap", width=13),
    Column("点位", "wrap", width=12),  # code and name, the address below
    Column("检查项", "wrap", width=13.5),
    Column("问题描述", "wrap", width=12.5),
    Column("发现日期", "date", width=11.5),
    Column("整改时限", "date", width=11.5),
    Column("整改前照片", "photo", width=10.5),
]
FILL_IN = [
    Column("整改情况", "wrap", width=15.5, editable=True),
    Column("整改完成日期", "date", width=11.5, editable=True),
    Column("整改责任人", "wrap", width=7, editable=True),
    Column("状态", "wrap", width=7, editable=True),
]
AFTER_PHOTOS = Column("整改后照片", "photo", width=10, editable=True)
COLUMNS = PROTECTED + FILL_IN + [AFTER_PHOTOS]
# Sheets exported before the address joined 点位 and 照片 became 整改前照片 had these
# protected columns; such sheets, still out with the units, import as they were exported.
LEGACY_PROTECTED = ("地址", "照片")
BEFORE_PHOTOS = ("整改前照片", "照片")
# The first cell of the 签收 block: the table ends above it.
SIGN_OFF = "签收人（签字）"

# The form's rows (0-based): title, issuer, whose problems of which period, the letter, how
# to fill it in, then the table.
TITLE_ROW, ISSUER_ROW, SUMMARY_ROW, LETTER_ROW, HOW_ROW, HEADER_ROW = range(6)
FIRST_ROW = HEADER_ROW + 1
# A row leaves room to write 整改情况 by hand: three lines at ~7 mm printed.
ROW_MIN = 72
ROW_MAX = 409  # Excel's limit
THUMBNAIL_BOX = (70, 88)  # pixels: fits the 整改前照片 column and a ROW_MIN row
SIGN_HEIGHT = 80  # room for a signature and, overlapping as usual, a stamp
TEXT_SIZE = 12  # 小四, as forms are printed
LINE = TEXT_SIZE * 1.375  # points per line of text, as Excel spaces 宋体
PRINT_MARGIN = 0.25  # inches, left and right: Excel's and WPS's "narrow" margins


def normalize_cell(value: Any) -> str:
    """A cell's value as the importer compares it, whatever program saved the file."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


def protected_values(problem: Problem) -> list[Any]:
    """The protected cells of a problem's row, as the sheet holds them (so a return compares equal)."""
    site = f"{problem.site_code} {problem.site_name}"
    if problem.address and problem.address.strip():
        site += f"\n{problem.address.strip()}"
    return [
        problem.no,
        fit_cell(site),
        fit_cell(problem.item_text),
        fit_cell(problem.description),
        problem.found_date,
        problem.deadline,
        None,  # the thumbnail; the cell itself stays empty
    ]


# Names Windows refuses as file names, whatever the extension.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)
MAX_FILE_PART = 60


def safe_file_part(text: str) -> str:
    """A unit name as part of a file name on Windows, macOS and Linux."""
    part = re.sub(r'[\x00-\x1f\x7f\\/:*?"<>|\s]+', "_", text).strip("_. ")[:MAX_FILE_PART].strip("_. ")
    if _RESERVED.match(part):
        part = f"_{part}"
    return part or "未命名"


def unit_file_names(units: list[str], day: date) -> dict[str, str]:
    """One file name per unit, never two alike (case folded, as Windows and macOS compare them)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for unit in units:
        base = f"整改通知单_{safe_file_part(unit)}_{day.isoformat()}"
        name, n = f"{base}.xlsx", 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}_{n}.xlsx"
        taken.add(name.casefold())
        names[unit] = name
    return names


@dataclass
class UnitFile:
    unit: str
    path: Path
    problems: int
    export_id: str


@dataclass
class UnitExport:
    files: list[UnitFile] = field(default_factory=list)
    without_unit: int = 0


def export_unit_sheets(
    store: Store,
    out_dir: Path,
    office: OfficeSettings,
    media_dir: Path,
    units: list[str] | None = None,
    statuses: list[ProblemStatus] | None = None,
    progress: Callable[[int, int], None] | None = None,
    export_id_for: Callable[[str], str] | None = None,
) -> UnitExport:
    """Write the sheets; `export_id_for` fixes export ids (the LibreOffice fixture test needs that)."""
    with store.snapshot():  # the sheets agree with each other, whatever others write meanwhile
        found = problems(store, statuses=statuses or DEFAULT_STATUSES)
        result = UnitExport(without_unit=sum(1 for p in found if not p.unit))
        by_unit: dict[str, list[Problem]] = {}
        for problem in found:
            if problem.unit:
                by_unit.setdefault(problem.unit, []).append(problem)
        if units:
            # A short or former name asks for the unit it means (problems carry register names).
            register = unit_register.index(store)
            named = [u.strip() for u in units if u.strip()]
            wanted = [found.name if (found := register.find(u)) else u for u in named]
            unknown = [u for u in wanted if u not in by_unit]
            if unknown:
                known = "、".join(sorted(by_unit)) or "无"
                raise InputError(f"以下单位没有符合条件的问题：{'、'.join(unknown)}（有问题的单位：{known}）")
            by_unit = {u: by_unit[u] for u in wanted}
        today = dates.today()
        total = sum(len(v) for v in by_unit.values())
        done = 0
        photos = store.found_photos([p.id for rows in by_unit.values() for p in rows])
        cache: dict[str, bytes | None] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        file_names = unit_file_names(sorted(by_unit), today)
        handled = store.event_counts([p.id for rows in by_unit.values() for p in rows], SUPERSEDING)
    for unit, rows in sorted(by_unit.items()):
        export_id = export_id_for(unit) if export_id_for else str(uuid.uuid4())
        path = out_dir / file_names[unit]
        workbook = new_workbook(path)
        formats = _FormFormats(workbook)
        form = _Form(workbook, formats, unit, rows, office, today)
        snapshot = []
        for problem in rows:
            values = protected_values(problem)
            pictures = photos.get(problem.id, [])
            image = _thumbnail(media_dir, pictures[0].stored_name, cache) if pictures else None
            form.add(values, highlight=problem.overdue_days(today) > 0, photo=image)
            snapshot.append((problem.id, problem.no, {**_snapshot(values), HANDLED_KEY: handled.get(problem.id, 0)}))
            done += 1
            if progress:
                progress(done, total)
        form.finish()
        _guide(workbook, formats, unit, rows, office, today)
        meta = workbook.add_worksheet(META)
        for index, (key, value) in enumerate(
            [
                ("kind", META_MARK),
                ("version", FORMAT_VERSION),
                ("export_id", export_id),
                ("unit", unit),
                ("exported", today.isoformat()),
            ]
        ):
            write_text(meta, index, 0, key, None)
            write_text(meta, index, 1, value, None)
        meta.very_hidden()
        close_workbook(workbook, path)
        store.save_export(export_id, EXPORT_KIND, unit, path.name, snapshot)
        result.files.append(UnitFile(unit, path, len(rows), export_id))
    return result


def _snapshot(values: list[Any]) -> dict[str, str]:
    return {column.title: normalize_cell(value) for column, value in zip(PROTECTED, values, strict=True)}


def _thumbnail(media_dir: Path, stored_name: str, cache: dict[str, bytes | None]) -> bytes | None:
    """A JPEG of a stored photo that fits the 整改前照片 cell (None when the file is gone or unreadable)."""
    if stored_name not in cache:
        cache[stored_name] = photo_jpeg(media_dir / stored_name, THUMBNAIL_BOX)
    return cache[stored_name]


class _FormFormats(Formats):
    """The shared formats at the form's text size."""

    def __init__(self, workbook: Any) -> None:
        super().__init__(workbook)
        self.header.set_font_size(TEXT_SIZE)
        self.label.set_font_size(TEXT_SIZE)

    def cell(self, kind: str, highlight: bool = False, editable: bool = False) -> Any:
        fmt = super().cell(kind, highlight, editable)
        fmt.set_font_size(TEXT_SIZE)
        return fmt


# --- laying out text --------------------------------------------------------------------


def _pixels(widths: Sequence[float]) -> int:
    """How wide columns of these widths are on screen (Excel adds 5 pixels of padding to each)."""
    return sum(round(w * 7 + 5) for w in widths)


def _lines(text: str, pixels: int, size: float = TEXT_SIZE) -> int:
    """How many lines `text` wraps to in a cell this wide (a little pessimistic, never too few)."""
    half = size * 96 / 72 / 2  # a Latin character; a hanzi takes two
    per_line = max(1, int((pixels - 5) / half * 0.95))  # Latin words wrap whole: keep some slack
    return sum(max(1, math.ceil(text_width(part) / per_line)) for part in text.split("\n"))


def _height(lines: int, pad: float = 8) -> float:
    return min(lines * LINE + pad, ROW_MAX)


# --- the form ---------------------------------------------------------------------------


class _Form:
    """The 整改清单 sheet, written row by row (the workbook streams rows to disk)."""

    def __init__(
        self, workbook: Any, formats: Formats, unit: str, rows: list[Problem], office: OfficeSettings, today: date
    ) -> None:
        self.workbook = workbook
        self.formats = formats
        self.sheet = sheet = workbook.add_worksheet(SHEET)
        self.last_col = len(COLUMNS) - 1
        self.width = _pixels([c.width or 10 for c in COLUMNS])
        _print_setup(sheet, f"{office.name} 整改通知单 — {unit}（{today}）")
        sheet.repeat_rows(HEADER_ROW)
        for col, column in enumerate(COLUMNS):
            sheet.set_column(col, col, column.width)
        title = workbook.add_format(
            {"bold": True, "font_name": FONT, "font_size": 20, "align": "center", "valign": "vcenter"}
        )
        centred = {"font_name": FONT, "font_size": TEXT_SIZE, "align": "center", "valign": "vcenter", "text_wrap": True}
        issuer = workbook.add_format(centred)
        summary = workbook.add_format({**centred, "bold": True})
        self.text = workbook.add_format(
            {"font_name": FONT, "font_size": TEXT_SIZE, "text_wrap": True, "valign": "top", "align": "left"}
        )
        self._merged(TITLE_ROW, "整改通知单", title, 36)
        self._merged(ISSUER_ROW, f"{office.name}　　{today.year} 年 {today.month} 月 {today.day} 日", issuer, 22)
        line = _summary(unit, rows)
        self._merged(SUMMARY_ROW, line, summary, _height(_lines(line, self.width), 8))
        letter = _letter(unit, rows, office, today)
        self._merged(LETTER_ROW, letter, self.text, _height(_lines(letter, self.width), 10))
        how = _how_to_fill()
        self._merged(HOW_ROW, how, self.text, _height(_lines(how, self.width), 10))
        sheet.set_row(HEADER_ROW, 36)
        for col, column in enumerate(COLUMNS):
            sheet.write_string(HEADER_ROW, col, column.title, formats.header)
        self.row = FIRST_ROW

    def _merged(self, row: int, text: str, fmt: Any, height: float) -> None:
        self.sheet.set_row(row, height)
        self.sheet.merge_range(row, 0, row, self.last_col, "", fmt)
        write_text(self.sheet, row, 0, text, fmt)

    def add(self, values: list[Any], highlight: bool, photo: bytes | None) -> None:
        row = self.row
        lines = max(
            (
                _lines(normalize_cell(value), _pixels([column.width or 10]))
                for column, value in zip(PROTECTED, values, strict=True)
                if column.kind == "wrap" and value
            ),
            default=1,
        )
        height = max(ROW_MIN, _height(lines))
        if photo is not None:
            from PIL import Image

            with Image.open(io.BytesIO(photo)) as picture:
                height = max(height, picture.height * 0.75 + 8)
        self.sheet.set_row(row, min(height, ROW_MAX))
        for col, (column, value) in enumerate(zip(COLUMNS, [*values, None, None, None, None, None], strict=True)):
            fmt = self.formats.cell(column.kind, highlight, column.editable)
            write_value(self.sheet, row, col, value, fmt, column.kind)
        if photo is not None:
            col = next(i for i, c in enumerate(COLUMNS) if c.title == BEFORE_PHOTOS[0])
            self.sheet.insert_image(
                row,
                col,
                "整改前.jpg",
                {"image_data": io.BytesIO(photo), "x_offset": 4, "y_offset": 4, "object_position": 1},
            )
        self.row += 1

    def finish(self) -> None:
        sheet = self.sheet
        first, last = FIRST_ROW, max(self.row - 1, FIRST_ROW)
        col = {c.title: i for i, c in enumerate(COLUMNS)}
        sheet.data_validation(
            first,
            col["状态"],
            last,
            col["状态"],
            {
                "validate": "list",
                "source": list(STATES),
                "input_title": "整改状态",
                "input_message": "请从下拉列表选择",
                "error_title": "状态无效",
                "error_message": "请选择：" + " / ".join(STATES),
            },
        )
        sheet.data_validation(
            first,
            col["整改完成日期"],
            last,
            col["整改完成日期"],
            {
                "validate": "date",
                "criteria": "between",
                "minimum": date(2000, 1, 1),
                "maximum": date(2099, 12, 31),
                "input_title": "整改完成日期",
                "input_message": "请填写日期，如 2026-11-20",
                "error_title": "日期无效",
                "error_message": "请填写日期，格式如 2026-11-20",
            },
        )
        sheet.data_validation(
            first,
            col[AFTER_PHOTOS.title],
            last,
            col[AFTER_PHOTOS.title],
            {
                "validate": "any",
                "input_title": "整改后照片",
                "input_message": "状态为已整改的，在本格插入整改后照片（插入 → 图片），可插入多张。",
            },
        )
        sheet.autofilter(HEADER_ROW, 0, last, self.last_col)
        sign_row = self.row + 1
        self._sign_off(sign_row)
        # A photo pasted at full size reaches far to the right; cut off on paper, it would
        # otherwise shrink the whole table to fit the page width.
        sheet.print_area(0, 0, sign_row, self.last_col)
        sheet.protect(
            "",
            {
                "autofilter": True,
                "sort": True,
                "format_columns": True,
                "format_rows": True,
                "objects": True,  # pictures can be inserted (and the row heights changed for them)
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )
        sheet.activate()

    def _sign_off(self, row: int) -> None:
        """签收人（签字） · 签收日期 · 单位（盖章）, each a box to write in, below the table."""
        label = self.workbook.add_format(
            {"bold": True, "font_name": FONT, "font_size": 12, "border": 1, "valign": "top", "text_wrap": True}
        )
        self.sheet.set_row(row, SIGN_HEIGHT)
        boxes = [
            (0, 2, SIGN_OFF + "："),
            (3, 6, "签收日期：\n\n　　　　　年　　　月　　　日"),
            (7, self.last_col, "单位（盖章）："),
        ]
        for first, last, text in boxes:
            self.sheet.merge_range(row, first, row, last, "", label)
            write_text(self.sheet, row, first, text, label)


def _print_setup(sheet: Any, header: str) -> None:
    """A4 landscape fitted to the page width, the title on every page, page numbers below."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=PRINT_MARGIN, right=PRINT_MARGIN, top=0.7, bottom=0.6)
    sheet.set_header(page_header(header, f'&C&"{FONT}"&9'))
    sheet.set_footer("&C第 &P 页，共 &N 页")


def _found_period(rows: list[Problem]) -> str:
    first, last = min(p.found_date for p in rows), max(p.found_date for p in rows)
    return str(first) if first == last else f"{first} 至 {last}"


def _deadlines(rows: list[Problem]) -> str:
    earliest, latest = min(p.deadline for p in rows), max(p.deadline for p in rows)
    return str(earliest) if earliest == latest else f"{earliest} 至 {latest}"


def _summary(unit: str, rows: list[Problem]) -> str:
    return f"责任单位：{unit}　　问题发现日期：{_found_period(rows)}　　整改时限：{_deadlines(rows)}"


def _letter(unit: str, rows: list[Problem], office: OfficeSettings, today: date) -> str:
    overdue = sum(1 for p in rows if p.overdue_days(today))
    late = f"，其中 {overdue} 个已过整改时限，以红色标出" if overdue else ""
    return (
        f"{unit}：\n"
        f"　　经实地测评，你单位负责整改的问题共 {len(rows)} 个（见下表{late}）。请逐一对照整改，"
        f"在各问题的整改时限内整改到位，填写本表并附整改后照片，交回{office.return_to}。"
    )


def _how_to_fill() -> str:
    return (
        "填写方法：\n"
        "① 只填黄色各列：整改情况、整改完成日期、整改责任人、状态、整改后照片；其余各列受保护，请勿修改。\n"
        f"② 状态从下拉列表选择：{' / '.join(STATES)}。选“已整改”的，须填写整改完成日期（不早于发现日期，不晚于填表当天），"
        "并在本行“整改后照片”格内插入整改后照片（插入 → 图片，可多张）。\n"
        "③ 可以排序、筛选，但请勿删除或修改“问题编号”，请勿删除工作表。\n"
        "④ 手写填写的，请在表末签收栏签字、盖章，扫描或拍照后与本表一并交回。详细说明见“填写说明”表。"
    )


def _guide(
    workbook: Any, formats: Formats, unit: str, rows: list[Problem], office: OfficeSettings, today: date
) -> None:
    sheet = workbook.add_worksheet(GUIDE)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 110)
    _print_setup(sheet, f"{office.name} 整改通知单 — {unit}（{today}）填写说明")
    sheet.repeat_rows(0)
    wrap = formats.cell("wrap")
    sheet.set_row(0, 24)
    write_text(sheet, 0, 0, f"整改通知单填写说明 — {unit}", formats.title)
    earliest, latest = min(p.deadline for p in rows), max(p.deadline for p in rows)
    overdue = sum(1 for p in rows if p.overdue_days(today))
    lines = [
        ("责任单位", unit),
        ("问题数量", f"{len(rows)} 个（其中已逾期 {overdue} 个，表中以红色标出）"),
        ("发现日期", _found_period(rows)),
        ("整改时限", f"{earliest} 至 {latest}，每个问题的时限见“整改清单”的“整改时限”列"),
        ("发出日期", today.isoformat()),
        (
            "填写要求",
            "1. 只需填写黄色的各列：整改情况、整改完成日期、整改责任人、状态、整改后照片；其余列受保护，请勿修改。\n"
            f"2. 状态从下拉列表选择：{' / '.join(STATES)}。\n"
            "3. 选“已整改”的，必须填写整改完成日期（不能早于发现日期，不能晚于填表当天）。\n"
            "4. 可以排序、筛选，但请勿删除或修改“问题编号”，请勿删除隐藏的工作表。",
        ),
        (
            "整改后照片",
            "1. 状态为“已整改”的问题，在该问题这一行的“整改后照片”格内插入整改后的照片，可插入多张。\n"
            "2. Excel：选中该格，插入 → 图片 → 此设备（“放置在单元格上”或“放置在单元格中”均可）。"
            "WPS：选中该格，插入 → 图片（浮动图片或“嵌入单元格”均可）。\n"
            "3. 照片的左上角要落在这一行内（最好在“整改后照片”格内）；照片太大时请缩小到格子大小，可以拖大行高。"
            "放好照片后请不要再排序：浮动的照片不一定随行移动。\n"
            "4. 状态不是“已整改”的行请不要放照片；“整改前照片”列是发现问题时的照片，请勿在其中放照片。\n"
            "5. 支持 JPG、PNG、GIF、BMP、TIFF、WebP 格式；手机照片直接插入即可，无需压缩。",
        ),
        (
            "签收",
            "手写填写的，请在“整改清单”表末的签收栏由签收人签字、填写签收日期并加盖单位公章，"
            "扫描或拍照后与本电子表一并交回。",
        ),
        ("回执方式", office.return_to),
        ("发文单位", office.name),
    ]
    for index, (label, text) in enumerate(lines, start=2):
        # Constant-memory mode: a row's height must be set before the row is written.
        sheet.set_row(index, _height(_lines(text, _pixels([110])), 6))
        write_text(sheet, index, 0, label, formats.label)
        write_text(sheet, index, 1, text, wrap)
