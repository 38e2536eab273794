"""Shared pieces for writing workbooks people print and fill in: formats, tables, photos.

Workbooks are written with XlsxWriter in constant-memory mode (rows stream to disk, so
memory stays flat however many rows there are). Every text cell goes through
`write_string`, never `write`: a description starting with `=` stays text, it never
becomes a formula.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from inspect_cli.errors import InputError
from inspect_cli.scoring import round_rate
from inspect_cli.text import for_xml

FONT = "宋体"
HIGHLIGHT = "#FFC7CE"
HEADER_FILL = "#D9E1F2"
EDITABLE_FILL = "#FFF2CC"
MAX_WIDTH = 50
WIDTH_SAMPLE = 300  # rows measured for column widths; more would only cost time
PHOTO_HEIGHT = 72  # pixels: the thumbnail row height
THUMBNAIL = (128, 72)
CELL_LIMIT = 32767  # characters Excel holds in one cell
TRUNCATED = "…（超出 Excel 单元格长度，已截断）"


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text | wrap | int | number | delta | percent | date | photo
    width: float | None = None
    editable: bool = False


def text_width(value: Any) -> int:
    """Display width in Excel character units: a CJK character is two."""
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:.1f}")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


class Formats:
    """XlsxWriter formats, created once per combination."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[str, bool, bool], Any] = {}
        self.title = workbook.add_format({"bold": True, "font_size": 14, "font_name": FONT})
        self.header = workbook.add_format(
            {
                "bold": True,
                "font_name": FONT,
                "bg_color": HEADER_FILL,
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
                "align": "center",
            }
        )
        self.label = workbook.add_format(
            {"bold": True, "font_name": FONT, "border": 1, "bg_color": HEADER_FILL, "valign": "top"}
        )

    def cell(self, kind: str, highlight: bool = False, editable: bool = False) -> Any:
        key = (kind, highlight, editable)
        if key not in self._cache:
            props: dict[str, Any] = {"font_name": FONT, "border": 1, "valign": "top"}
            if kind in ("wrap", "photo"):
                props["text_wrap"] = True
            if kind == "date":
                props["num_format"] = "yyyy-mm-dd"
                props["align"] = "left"
            elif kind == "percent":
                props["num_format"] = "0.0%"
            elif kind == "number":
                props["num_format"] = "0.0"
            elif kind == "delta":
                props["num_format"] = "+0.0;-0.0;0.0"
            elif kind == "int":
                props["num_format"] = "0"
            if highlight:
                props["bg_color"] = HIGHLIGHT
            if editable:
                props["locked"] = False
                props["bg_color"] = EDITABLE_FILL
            self._cache[key] = self.workbook.add_format(props)
        return self._cache[key]


def new_workbook(path: Path) -> Any:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    return xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Text is text: no number or URL guessing either.
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )


def close_workbook(workbook: Any, path: Path) -> None:
    from xlsxwriter.exceptions import FileCreateError

    try:
        workbook.close()
    except (FileCreateError, OSError) as exc:
        raise InputError(f"无法写入文件 {path}：{exc}（文件是否正在 Excel/WPS 中打开？）") from None


def fit_cell(value: Any) -> str:
    """Text as a cell holds it: no characters XML forbids, no more than Excel's cell limit."""
    text = for_xml(value)
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - len(TRUNCATED)] + TRUNCATED
    return text


def write_value(sheet: Any, row: int, col: int, value: Any, fmt: Any, kind: str) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif kind == "percent":
        sheet.write_number(row, col, round_rate(value) / 100, fmt)
    elif kind == "date":
        sheet.write_datetime(row, col, value, fmt)
    elif kind in ("int", "number", "delta") and isinstance(value, (int, float)):
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, fit_cell(value), fmt)


class TableSheet:
    """One table per sheet: bold frozen header, filter, fitted widths, A4 landscape print."""

    def __init__(self, workbook: Any, formats: Formats, name: str, columns: Sequence[Column], page_header: str) -> None:
        self.sheet = workbook.add_worksheet(name)
        self.formats = formats
        self.columns = list(columns)
        self.widths = [text_width(c.title) for c in self.columns]
        self.row = 0
        for col, column in enumerate(self.columns):
            self.sheet.write_string(0, col, column.title, formats.header)
        self.sheet.set_row(0, 30)
        self.row = 1
        self.sheet.freeze_panes(1, 0)
        self.sheet.set_landscape()
        self.sheet.set_paper(9)  # A4
        self.sheet.repeat_rows(0)
        self.sheet.fit_to_pages(1, 0)
        self.sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        self.sheet.set_header(f'&C&"{FONT},Bold"{_escape_header(page_header)}')
        self.sheet.set_footer("&C第 &P 页，共 &N 页")

    def add(self, values: Sequence[Any], highlight: bool = False, photo: bytes | None = None) -> int:
        row = self.row
        for col, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            fmt = self.formats.cell(column.kind, highlight, column.editable)
            write_value(self.sheet, row, col, value, fmt, column.kind)
            if row <= WIDTH_SAMPLE:
                self.widths[col] = max(self.widths[col], text_width(value))
        if photo is not None:
            col = next(i for i, c in enumerate(self.columns) if c.kind == "photo")
            self.sheet.set_row(row, PHOTO_HEIGHT * 0.75 + 4)
            self.sheet.insert_image(
                row,
                col,
                "thumbnail.jpg",
                {"image_data": io.BytesIO(photo), "x_offset": 2, "y_offset": 2, "object_position": 1},
            )
        self.row += 1
        return row

    def finish(self) -> None:
        last = max(self.row - 1, 1)
        self.sheet.autofilter(0, 0, last, len(self.columns) - 1)
        for col, column in enumerate(self.columns):
            if column.width is not None:
                width = column.width
            elif column.kind == "wrap":
                width = min(max(self.widths[col], 12) + 2, 40)
            else:
                # Fonts render Latin wider than Excel's width unit assumes: leave room.
                width = min(self.widths[col] * 1.15 + 2, MAX_WIDTH)
            self.sheet.set_column(col, col, width)


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")


def thumbnail(media_dir: Path, stored_name: str, cache: dict[str, bytes | None]) -> bytes | None:
    """A small JPEG of a stored photo (None when the file is gone), made once per photo."""
    if stored_name in cache:
        return cache[stored_name]
    from PIL import Image, UnidentifiedImageError

    data: bytes | None = None
    try:
        with Image.open(media_dir / stored_name) as image:
            image = image.convert("RGB")
            image.thumbnail(THUMBNAIL)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=80)
            data = buffer.getvalue()
    except (OSError, UnidentifiedImageError):
        data = None
    cache[stored_name] = data
    return data
