"""The blank 测评表 as an Excel sheet, laid out to print on A4 and be filled in by hand.

Excel does not grow a row to fit wrapped text it did not type itself, and a form must not
clip an item at the foot of its cell, so every row height is set here from the text it
holds (an estimate that errs on the tall side). Column widths come from the form, in
millimetres, and are set in pixels: at 96 pixels an inch a sheet prints as wide as the form
was drawn, so "fit to one page wide" does not have to shrink it. (Excel counts column widths
in digits of the workbook's default font, Calibri; a program without Calibri or a font of its
width, such as a bare LibreOffice, draws the columns wider and fits the page by printing
smaller.)
"""

from __future__ import annotations

import io
import re
from typing import Any

from inspect_cli.blank_form import (
    BODY_PT,
    BOX,
    BOX_PT,
    CELL_PAD_MM,
    DATE_BLANKS,
    DATE_ROW_MM,
    FIELD_ROW_MM,
    FONT,
    HEADER,
    HEADER_ROW_MM,
    MARGIN_MM,
    MIN_ROW_MM,
    SIGN_ROW_MM,
    SIGNATURES,
    SMALL_PT,
    TITLE_PT,
    BlankForm,
    FormItem,
    ems,
    signature_label,
)
from inspect_cli.excel.common import HEADER_FILL, page_header, sheet_name, write_text
from inspect_cli.scoring import format_points

INDENT_MM = 2.5  # Excel's one step of indent, which keeps text off the left border
LINE = 1.45  # line height as a multiple of the font size; CJK fallback fonts run taller than 宋体
GREY = "#595959"
# Character set 134 (GB2312) marks the font as Chinese: where 宋体 is missing, Excel and WPS
# choose a Chinese font in its place rather than a Latin one.
FONT_PROPS = {"font_name": FONT, "font_charset": 134}
TITLE_ROW_PT = 30
SUBTITLE_ROW_PT = 20
GAP_ROW_PT = 8
MAX_ROW_PT = 409  # the tallest row Excel has
_TOKEN = re.compile(r"[A-Za-z0-9.,%/+\-~:;()（）]+|.", re.S)


def _mm_to_pt(mm: float) -> float:
    return mm / 25.4 * 72


def _mm_to_px(mm: float) -> int:
    return round(mm / 25.4 * 96)


def _inches(mm: float) -> float:
    return round(mm / 25.4, 3)


def lines(text: str, width_mm: float, size_pt: float) -> int:
    """How many lines `text` takes in a column `width_mm` wide: words of Latin letters and digits stay whole."""
    if not text:
        return 0
    room = max((width_mm - CELL_PAD_MM) / (size_pt * 25.4 / 72) - 0.3, 1.0)  # in ems
    count, used = 1, 0.0
    for token in _TOKEN.findall(text):
        width = ems(token)
        if used + width > room and used > 0:
            count += 1
            used = 0.0
        while width > room:  # a word longer than the line is broken anyway
            count += 1
            width -= room
        used += width
    return count


def _height_pt(*blocks: tuple[str, float], width_mm: float, minimum_mm: float = MIN_ROW_MM) -> float:
    needed = sum(lines(text, width_mm, size) * size * LINE for text, size in blocks) + 4
    return min(round(max(needed, _mm_to_pt(minimum_mm)), 1), MAX_ROW_PT)


class _Formats:
    def __init__(self, workbook: Any) -> None:
        def fmt(**props: Any) -> Any:
            return workbook.add_format({**FONT_PROPS, "font_size": BODY_PT, "valign": "vcenter", **props})

        cell = {"border": 1, "text_wrap": True}
        self.title = fmt(bold=True, font_size=TITLE_PT, align="center")
        self.subtitle = fmt(align="center")
        self.label = fmt(align="right")
        self.value = fmt(bottom=1, text_wrap=True)
        self.header = fmt(bold=True, align="center", bg_color=HEADER_FILL, **cell)
        self.number = fmt(align="center", **cell)
        self.category = fmt(align="center", valign="top", **cell)
        self.text = fmt(indent=1, **cell)
        self.text_run = fmt()
        self.standard_run = workbook.add_format({**FONT_PROPS, "font_size": SMALL_PT, "font_color": GREY})
        self.box = fmt(align="center", font_size=BOX_PT, **cell)
        self.blank = fmt(**cell)
        self.sign_label = fmt(bold=True, align="center", **cell)
        self.sign_blank = fmt(**cell)
        self.date = fmt(**cell)


def form_xlsx(form: BlankForm) -> bytes:
    """The form as an .xlsx file's bytes."""
    import xlsxwriter

    # In memory, not streamed like the long exports: a form is small, merged cells span rows,
    # and the file is written in one piece only once it is whole.
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    formats = _Formats(workbook)
    sheet = workbook.add_worksheet(sheet_name(form.title))
    widths = form.widths_mm
    for col, width in enumerate(widths):
        sheet.set_column_pixels(col, col, _mm_to_px(width))
    last_col = len(HEADER) - 1

    sheet.set_row(0, TITLE_ROW_PT)
    sheet.merge_range(0, 0, 0, last_col, "", formats.title)
    write_text(sheet, 0, 0, form.title, formats.title)
    sheet.set_row(1, SUBTITLE_ROW_PT)
    sheet.merge_range(1, 0, 1, last_col, "", formats.subtitle)
    write_text(sheet, 1, 0, form.subtitle, formats.subtitle)
    row = _fields(sheet, formats, form, 2)
    sheet.set_row(row, GAP_ROW_PT)
    row += 1

    header_row = row
    sheet.set_row(row, _mm_to_pt(HEADER_ROW_MM))
    for col, title in enumerate(HEADER):
        write_text(sheet, row, col, title, formats.header)
    row += 1
    for group in form.groups:
        first = row
        heights = [_item_height(item, widths[2] - INDENT_MM) for item in group.items]
        # A long category name wrapped in its narrow column may need more than the items.
        category = _height_pt((group.category, BODY_PT), width_mm=widths[1], minimum_mm=0)
        heights[-1] = min(heights[-1] + max(category - sum(heights), 0), MAX_ROW_PT)
        for item, height in zip(group.items, heights, strict=True):
            sheet.set_row(row, height)
            sheet.write_number(row, 0, item.number, formats.number)
            _item_text(sheet, row, formats, item.text, item.standard)
            write_text(sheet, row, 3, format_points(item.score), formats.number)
            write_text(sheet, row, 4, BOX, formats.box)
            write_text(sheet, row, 5, BOX, formats.box)
            sheet.write_blank(row, 6, None, formats.blank)
            row += 1
        if row - first > 1:
            sheet.merge_range(first, 1, row - 1, 1, "", formats.category)
        write_text(sheet, first, 1, group.category, formats.category)
    last_row = _signatures(sheet, formats, form, row)

    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(
        left=_inches(MARGIN_MM["left"]),
        right=_inches(MARGIN_MM["right"]),
        top=_inches(MARGIN_MM["top"]),
        bottom=_inches(MARGIN_MM["bottom"]),
    )
    sheet.repeat_rows(header_row)
    sheet.print_area(0, 0, last_row, last_col)
    sheet.freeze_panes(header_row + 1, 0)
    footer = page_header(form.label, f'&L&"{FONT}"&9') + f'&C&"{FONT}"&9第 &P 页 共 &N 页'
    sheet.set_footer(footer, margin=_inches(MARGIN_MM["footer"]))
    sheet.hide_gridlines(2)
    workbook.close()
    return buffer.getvalue()


def _item_height(item: FormItem, width_mm: float) -> float:
    blocks = [(item.text, BODY_PT)] + ([(f"标准：{item.standard}", SMALL_PT)] if item.standard else [])
    return _height_pt(*blocks, width_mm=width_mm)


def _fields(sheet: Any, formats: _Formats, form: BlankForm, row: int) -> int:
    """点位名称 / 点位编号 on one line, 所属街道 / 具体地址 on the next: a label, then a line to write on."""
    widths = form.widths_mm
    pairs = [form.fields[i : i + 2] for i in range(0, len(form.fields), 2)]
    for pair in pairs:
        (left_label, left), (right_label, right) = pair
        height = _height_pt((left, BODY_PT), width_mm=widths[2], minimum_mm=FIELD_ROW_MM)
        height = max(height, _height_pt((right, BODY_PT), width_mm=sum(widths[5:]), minimum_mm=FIELD_ROW_MM))
        sheet.set_row(row, height)
        sheet.merge_range(row, 0, row, 1, "", formats.label)
        write_text(sheet, row, 0, f"{left_label}：", formats.label)
        _value(sheet, row, 2, left, formats.value)
        sheet.merge_range(row, 3, row, 4, "", formats.label)
        write_text(sheet, row, 3, f"{right_label}：", formats.label)
        sheet.merge_range(row, 5, row, 6, "", formats.value)
        _value(sheet, row, 5, right, formats.value)
        row += 1
    return row


def _value(sheet: Any, row: int, col: int, value: str, fmt: Any) -> None:
    if value:
        write_text(sheet, row, col, value, fmt)
    else:
        sheet.write_blank(row, col, None, fmt)


def _item_text(sheet: Any, row: int, formats: _Formats, text: str, standard: str | None) -> None:
    if standard:
        sheet.write_rich_string(
            row, 2, formats.text_run, text, formats.standard_run, f"\n标准：{standard}", formats.text
        )
    else:
        write_text(sheet, row, 2, text, formats.text)


def _signatures(sheet: Any, formats: _Formats, form: BlankForm, row: int) -> int:
    """Two bordered rows under the items: who inspected, who answered for the site, and when."""
    inspector, manager, day = SIGNATURES
    sheet.set_row(row, _mm_to_pt(SIGN_ROW_MM))
    sheet.merge_range(row, 0, row, 1, "", formats.sign_label)
    write_text(sheet, row, 0, signature_label(inspector), formats.sign_label)
    sheet.write_blank(row, 2, None, formats.sign_blank)
    sheet.merge_range(row, 3, row, 5, "", formats.sign_label)
    write_text(sheet, row, 3, signature_label(manager), formats.sign_label)
    sheet.write_blank(row, 6, None, formats.sign_blank)
    row += 1
    sheet.set_row(row, _mm_to_pt(DATE_ROW_MM))
    sheet.merge_range(row, 0, row, 1, "", formats.sign_label)
    write_text(sheet, row, 0, day, formats.sign_label)
    sheet.merge_range(row, 2, row, len(HEADER) - 1, "", formats.date)
    write_text(sheet, row, 2, DATE_BLANKS, formats.date)
    return row
