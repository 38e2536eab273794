"""Shared pieces for writing workbooks people print and fill in: formats, tables, photos.

Workbooks are written with XlsxWriter in constant-memory mode (rows stream to disk, so
memory stays flat however many rows there are). Every text cell goes through
`write_string`, never `write`: a description starting with `=` stays text, it never
becomes a formula.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_cli.errors import InputError
from inspect_cli.media import photo_jpeg
from inspect_cli.scoring import round_rate
from inspect_cli.text import for_xml, text_width

FONT = "宋体"
HIGHLIGHT = "#FFC7CE"
HEADER_FILL = "#D9E1F2"
EDITABLE_FILL = "#FFF2CC"
MAX_WIDTH = 50
# Column widths (Excel's unit, about one Latin character) A4 portrait prints at 11 pt
# within its margins; wider tables print landscape, which takes about 145.
PORTRAIT_WIDTH = 100
WIDTH_SAMPLE = 300  # rows measured for column widths; more would only cost time
PHOTO_HEIGHT = 72  # pixels: the thumbnail row height
LINE_HEIGHT = 14.5  # points: one line of 11 pt text
MAX_ROW_HEIGHT = 409  # points: Excel's tallest row
THUMBNAIL = (128, 72)
# Excel counts its limits in UTF-16 units: a character beyond U+FFFF (an emoji, a rare
# hanzi) takes two.
CELL_LIMIT = 32767  # units one cell holds
HEADER_LIMIT = 255  # units in a page header or footer, formatting codes included
SHEET_NAME_LIMIT = 31
TRUNCATED = "…（超出 Excel 单元格长度，已截断）"
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text | wrap | int | number | delta | percent | date | photo
    width: float | None = None
    editable: bool = False


class Formats:
    """XlsxWriter formats, created once per combination."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[str, bool, bool], Any] = {}
        self.title = workbook.add_format({"bold": True, "font_size": 14, "font_name": FONT})
        # A table's title row: across the printed columns, wrapped.
        self.banner = workbook.add_format(
            {"bold": True, "font_size": 14, "font_name": FONT, "text_wrap": True, "valign": "vcenter"}
        )
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
                props["align"] = "center"  # 序号, 排名, counts: apart from the text beside them
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


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, never inside a character."""
    if len(text) <= limit // 2 or _utf16_len(text) <= limit:
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def fit_cell(value: Any) -> str:
    """Text as a cell holds it: no characters XML forbids, no more than Excel's cell limit.

    XlsxWriter would cut an over-long string itself, silently; cutting here keeps the marker
    that tells the reader the text goes on in the database.
    """
    text = for_xml(value)
    if _utf16_len(text) > CELL_LIMIT:
        text = _utf16_cut(text, CELL_LIMIT - _utf16_len(TRUNCATED)) + TRUNCATED
    return text


def write_value(sheet: Any, row: int, col: int, value: Any, fmt: Any, kind: str) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif kind == "percent":
        # 96.2 / 100 is 0.9620000000000001 in binary: rounded again, the cell holds 0.962.
        sheet.write_number(row, col, round(round_rate(value) / 100, 4), fmt)
    elif kind == "date":
        sheet.write_datetime(row, col, value, fmt)
    elif kind in ("int", "number", "delta") and isinstance(value, (int, float)):
        sheet.write_number(row, col, value, fmt)
    else:
        write_text(sheet, row, col, value, fmt)


def write_text(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    """A text cell holding exactly `fit_cell(value)`, whatever the text looks like."""
    text = fit_cell(value)
    if text.startswith("<r>") and text.endswith("</r>"):
        # XlsxWriter takes a string shaped like this for its own rich-text XML and copies it
        # into the file unescaped: "<r>a & b</r>" would make the workbook unreadable. As a
        # rich string of two runs the same characters are escaped like any other text.
        sheet.write_rich_string(row, col, text[:1], fmt, text[1:], fmt)
    else:
        sheet.write_string(row, col, text, fmt)


def page_header(text: str, codes: str = "&C") -> str:
    """A header or footer showing `text` after the formatting `codes`, within Excel's limit.

    In a header `&` starts a code (`&P` page number, `&G` picture). The full-width ＆ shows
    the same to a reader and is never a code; `&&` would be, to XlsxWriter, which counts
    "&G" in "&&G" as a picture and then drops the whole header.
    """
    shown = for_xml(text).replace("\n", " ").replace("&", "＆")
    room = HEADER_LIMIT - _utf16_len(codes)
    if _utf16_len(shown) > room:
        shown = _utf16_cut(shown, room - 1) + "…"
    return codes + shown


def sheet_name(text: str, taken: Iterable[str] = ()) -> str:
    """A worksheet name Excel accepts: 31 units at most, none of []:*?/\\, unquoted, unique."""
    name = _SHEET_NAME_FORBIDDEN.sub("_", for_xml(text).replace("\n", " ")).strip(" '")
    if not name:
        name = "工作表"
    elif name.lower() == "history":  # Excel keeps this name for its change history
        name += "_"
    used = {t.lower() for t in taken}
    candidate, number = _utf16_cut(name, SHEET_NAME_LIMIT).rstrip("'"), 1
    while candidate.lower() in used:
        number += 1
        suffix = f"({number})"
        candidate = _utf16_cut(name, SHEET_NAME_LIMIT - len(suffix)).rstrip("'") + suffix
    return candidate


class TableSheet:
    """One table per sheet, set up to print: an optional title row (what, which period, which
    office), a bold header row frozen and repeated on every printed page, a filter, fitted
    widths, A4 fit to the page width — portrait when the printed columns fit it, landscape
    when they do not — and page numbers. The first `printed` columns are printed (default:
    all); columns after them hold data for the screen (file names, codes) and stay off paper.
    """

    def __init__(
        self,
        workbook: Any,
        formats: Formats,
        name: str,
        columns: Sequence[Column],
        header: str,
        title: str | None = None,
        printed: int | None = None,
    ) -> None:
        self.sheet = workbook.add_worksheet(sheet_name(name, (ws.name for ws in workbook.worksheets())))
        self.formats = formats
        self.columns = list(columns)
        self.printed = len(self.columns) if printed is None else printed
        self.min_height = 0.0  # points: a form's rows, tall enough to write in by hand
        self.widths = [text_width(c.title) for c in self.columns]
        self.top = 0  # the header row
        if title:
            # Across the printed columns, wrapped: a title wider than the table would widen the
            # printed page and shrink the table with it.
            width = sum(c.width or max(text_width(c.title) + 2, 10) for c in self.columns[: self.printed])
            lines = math.ceil(text_width(title) * 1.3 / max(width, 1))
            self.sheet.set_row(0, 20 * lines + 4)
            if self.printed > 1:
                self.sheet.merge_range(0, 0, 0, self.printed - 1, for_xml(title), formats.banner)
            else:
                self.sheet.write_string(0, 0, for_xml(title), formats.banner)
            self.top = 1
        for col, column in enumerate(self.columns):
            self.sheet.write_string(self.top, col, column.title, formats.header)
        self.sheet.set_row(self.top, 30)
        self.row = self.top + 1
        self.sheet.freeze_panes(self.top + 1, 0)
        self.sheet.set_paper(9)  # A4
        self.sheet.repeat_rows(0, self.top)
        self.sheet.fit_to_pages(1, 0)
        self.sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
        self.sheet.set_header(page_header(header, f'&C&"{FONT},Bold"'))
        self.sheet.set_footer("&C第 &P 页，共 &N 页")

    def add(self, values: Sequence[Any], highlight: bool = False, photo: bytes | None = None) -> int:
        row = self.row
        for col, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            fmt = self.formats.cell(column.kind, highlight, column.editable)
            write_value(self.sheet, row, col, value, fmt, column.kind)
            if row <= WIDTH_SAMPLE:
                self.widths[col] = max(self.widths[col], text_width(value))
        lines = self.lines(values)
        # Excel does not fit a row to wrapped text written by a program: the height is set here.
        height = min(
            max(LINE_HEIGHT * lines + 3, PHOTO_HEIGHT * 0.75 + 4 if photo is not None else 0, self.min_height),
            MAX_ROW_HEIGHT,
        )
        if lines > 1 or photo is not None or self.min_height:
            self.sheet.set_row(row, height)
        if photo is not None:
            col = next(i for i, c in enumerate(self.columns) if c.kind == "photo")
            self.sheet.insert_image(
                row,
                col,
                "thumbnail.jpg",
                {"image_data": io.BytesIO(photo), "x_offset": 2, "y_offset": 2, "object_position": 1},
            )
        self.row += 1
        return row

    def lines(self, values: Sequence[Any]) -> int:
        """The lines the tallest wrapped cell of these values takes (1 at least)."""
        return max(
            (wrapped_lines(str(value), self._width(col))
             for col, (column, value) in enumerate(zip(self.columns, values, strict=True))
             if column.kind == "wrap" and value),
            default=1,
        )  # fmt: skip

    def _width(self, col: int) -> float:
        """The column's width as `finish` will set it (it only grows with later rows)."""
        column = self.columns[col]
        if column.width is not None:
            return column.width
        if column.kind == "wrap":
            return min(max(self.widths[col], 12) + 2, 40)
        return min(self.widths[col] * 1.15 + 2, MAX_WIDTH)

    @property
    def rows(self) -> int:
        return self.row - self.top - 1

    def finish(self) -> None:
        if not self.rows:
            # An empty table says so, in print and on screen.
            self.sheet.write_string(self.row, 0, "本期无", self.formats.cell("text"))
            self.row += 1
        last = self.row - 1
        self.sheet.autofilter(self.top, 0, last, len(self.columns) - 1)
        widths = []
        for col in range(len(self.columns)):
            width = self._width(col)  # Latin renders wider than Excel's unit assumes: room left
            self.sheet.set_column(col, col, width)
            widths.append(width)
        if sum(widths[: self.printed]) > PORTRAIT_WIDTH:
            self.sheet.set_landscape()
        else:
            self.sheet.set_portrait()
        if self.printed < len(self.columns):
            self.sheet.print_area(0, 0, last, self.printed - 1)


def wrapped_lines(text: str, width: float) -> int:
    """Lines `text` takes wrapped in a column `width` units wide (a CJK character is 2)."""
    # Office draws CJK a little wider than two of its units: a tenth of the width is kept spare,
    # or the last line of a long description is cut off in print.
    room = max(width * 0.9 - 1, 1)
    return sum(max(1, math.ceil(text_width(part) / room)) for part in text.split("\n"))


def thumbnail(media_dir: Path, stored_name: str, cache: dict[str, bytes | None]) -> bytes | None:
    """A small JPEG of a stored photo (None when the file is gone or unreadable), made once per photo."""
    if stored_name not in cache:
        cache[stored_name] = photo_jpeg(media_dir / stored_name, THUMBNAIL)
    return cache[stored_name]
