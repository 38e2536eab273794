"""The 周通报 as a Word document, laid out the way government notices are (GB/T 9704).

Fonts are set on every run for both Latin and East Asian text (w:eastAsia), so Word, WPS
and LibreOffice pick the 公文 faces (`fonts`: 小标宋 title, 仿宋 body, 黑体 and 楷体 headings,
whichever of each this computer has) rather than a Latin fallback; the text is marked
zh-CN. Page numbers sit right on odd pages and left on even ones, "— 1 —". Tables fit their
columns to their content, repeat their header row on every page and never split a row.
Photos go two to a row with captions; a case fixed by now shows 整改前 beside 整改后. The
版记 (抄送, 印发) closes the document. Every run's text passes through `for_xml`: stored text
may hold characters an XML part cannot, and the notice is written whatever is stored. A
photo that cannot be read is left out, not fatal.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from inspect_cli import fonts
from inspect_cli.daily import DailyNotice
from inspect_cli.dates import long_date, month_day
from inspect_cli.errors import InputError
from inspect_cli.media import NOTICE_PHOTO_BOX, photo_jpeg
from inspect_cli.notice import (
    ASSESS_HEADER,
    OVERDUE_HEADER,
    RANK_HEADER,
    UNIT_HEADER,
    Case,
    Notice,
    assessment_cells,
    assessment_intro,
    case_text,
    chinese_number,
    lists_text,
    overdue_cells,
    photos_of,
    rank_cells,
    requirements_heading,
    unit_cells,
)
from inspect_cli.text import for_xml, text_width

LATIN = "Times New Roman"
RED = (0xC0, 0x00, 0x00)
# A4 with GB/T 9704 margins: 156 mm of text, 225 mm high.
TEXT_WIDTH_CM = 15.6
TITLE_PT, BODY_PT, TABLE_PT, CAPTION_PT, PAGE_NUMBER_PT = 26, 16, 12, 10.5, 14
# Two photos side by side in the text width, each 7.5 cm: sharp at 400 dpi, and a notice of a
# dozen phone photos stays small enough to send.
PHOTO_WIDTH_CM = 7.5
CHART_WIDTH_CM = 15.5
KEEP_TOGETHER_ROWS = 20
CELL_PADDING_CM = 0.5  # the cell margins, left and right (Word: 0.38 cm), and a little air
LATIN_EM = 0.62
MIN_WRAP_CM = 2.5  # a wrapping column narrower than this reads as a column of single characters


def _font(run: Any, east_asia: str, size: float, bold: bool = False, color: tuple[int, int, int] | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor(*color)
    fonts_element = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts_element.set(qn("w:eastAsia"), east_asia)


def _element(tag: str, **attributes: str) -> Any:
    """A WordprocessingML element: _element("w:lang", val="en-US", eastAsia="zh-CN")."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    return element


class Writer:
    """A 公文-style Word document being written: the faces, page set-up and blocks a notice uses."""

    def __init__(self) -> None:
        import docx
        from docx.enum.text import WD_LINE_SPACING
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt

        self.title = fonts.choose(fonts.TITLE)
        self.body = fonts.choose(fonts.BODY)
        self.heading_font = fonts.choose(fonts.HEADING)
        self.subheading_font = fonts.choose(fonts.SUBHEADING)
        self.table_font = fonts.choose(fonts.TABLE)
        self.doc = docx.Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
        section.footer_distance = Cm(2.8)
        normal = self.doc.styles["Normal"]
        normal.font.name = LATIN
        normal.font.size = Pt(BODY_PT)
        properties = normal.element.get_or_add_rPr()
        properties.get_or_add_rFonts().set(qn("w:eastAsia"), self.body)
        properties.append(_element("w:lang", val="en-US", eastAsia="zh-CN"))
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        normal.paragraph_format.line_spacing = Pt(28)
        normal.paragraph_format.space_after = Pt(0)
        self._mark_language()
        self._page_numbers(section)

    def _mark_language(self) -> None:
        """zh-CN as the document's default language too (spelling, line breaking, WPS)."""
        from docx.oxml.ns import qn

        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        run_defaults = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
        if run_defaults is None:  # pragma: no cover - python-docx's template has them
            return
        properties = run_defaults.find(qn("w:rPr"))
        for old in properties.findall(qn("w:lang")):
            properties.remove(old)
        properties.append(_element("w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA"))

    def _page_numbers(self, section: Any) -> None:
        """GB/T 9704: "— 1 —" in 4号 宋体, one character in from the right on odd pages, the left on even."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        self.doc.settings.odd_and_even_pages_header_footer = True
        for footer, align in ((section.footer, "RIGHT"), (section.even_page_footer, "LEFT")):
            paragraph = footer.paragraphs[0]
            paragraph.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
            if align == "RIGHT":
                paragraph.paragraph_format.right_indent = Pt(PAGE_NUMBER_PT)
            else:
                paragraph.paragraph_format.left_indent = Pt(PAGE_NUMBER_PT)
            _font(paragraph.add_run("— "), self.table_font, PAGE_NUMBER_PT)
            field = _element("w:fldSimple", instr="PAGE")
            shown = _element("w:r")
            shown.append(_element("w:t"))
            shown[-1].text = "1"
            field.append(shown)
            paragraph._p.append(field)
            _font(paragraph.add_run(" —"), self.table_font, PAGE_NUMBER_PT)

    def paragraph(
        self,
        text: str,
        *,
        font: str | None = None,
        size: float = BODY_PT,
        bold: bool = False,
        indent: bool = True,
        align: str | None = None,
        color=None,
    ):  # type: ignore[no-untyped-def]
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph()
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(size * 2)
        if align:
            paragraph.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
        _font(paragraph.add_run(for_xml(text)), font or self.body, size, bold, color)
        return paragraph

    def two_ends(self, left: str, right: str, size: float = BODY_PT, inset: float = 0):  # type: ignore[no-untyped-def]
        """One line with `left` at the left and `right` against the right, `inset` points in from each margin."""
        from docx.enum.text import WD_TAB_ALIGNMENT
        from docx.shared import Cm, Pt

        paragraph = self.paragraph(left, size=size, indent=False)
        paragraph.runs[-1].add_tab()
        _font(paragraph.add_run(for_xml(right)), self.body, size)
        paragraph.paragraph_format.left_indent = Pt(inset)
        paragraph.paragraph_format.right_indent = Pt(inset)
        # Just inside the right indent: LibreOffice ignores a stop on the margin itself.
        stop = Cm(TEXT_WIDTH_CM - 0.05) - Pt(2 * inset)
        paragraph.paragraph_format.tab_stops.add_tab_stop(stop, WD_TAB_ALIGNMENT.RIGHT)
        return paragraph

    def heading(self, text: str) -> None:
        # A heading never ends a page: it stays with what follows.
        self.paragraph(text, font=self.heading_font).paragraph_format.keep_with_next = True

    def subheading(self, text: str) -> None:
        self.paragraph(text, font=self.subheading_font).paragraph_format.keep_with_next = True

    def rule(self, paragraph: Any = None, *, side: str = "bottom", size: int = 18, color: str = "C00000") -> None:
        """A line along a paragraph (a new empty one by default): the red line under the heading
        block, the 版记's lines. `size` is in eighths of a point."""
        from docx.oxml.ns import qn

        paragraph = paragraph if paragraph is not None else self.doc.add_paragraph()
        properties = paragraph._p.get_or_add_pPr()
        border = properties.find(qn("w:pBdr"))
        if border is None:
            border = _element("w:pBdr")
            properties.append(border)
        border.append(_element(f"w:{side}", val="single", sz=str(size), space="1", color=color))

    def table(self, header: list[str], rows: list[list[str]], wrap: Iterable[str] = ()) -> None:
        """A table whose columns fit their content (see `_column_widths`); text in the `wrap`
        columns (by title) is left-aligned, the rest centred."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm

        wrapping = [header.index(title) for title in wrap]
        widths = _column_widths(header, rows, wrapping)
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        table._tbl.tblPr.append(_element("w:tblLayout", type="fixed"))
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            self._cell(cell, text, bold=True)
        # The header row again on every page the table runs onto.
        table.rows[0]._tr.get_or_add_trPr().append(_element("w:tblHeader", val="true"))
        for values in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, values, strict=True):
                self._cell(cell, text)
        # A table short enough for a page is kept on one (each row kept with the next).
        together = len(table.rows) <= KEEP_TOGETHER_ROWS
        for number, row in enumerate(table.rows, start=1):
            row._tr.get_or_add_trPr().append(_element("w:cantSplit", val="true"))
            for index, cell in enumerate(row.cells):
                cell.paragraphs[0].paragraph_format.keep_with_next = together and number < len(table.rows)
                cell.width = Cm(widths[index])
                align = "LEFT" if index in wrapping and row is not table.rows[0] else "CENTER"
                cell.paragraphs[0].alignment = getattr(WD_ALIGN_PARAGRAPH, align)
        for index, column in enumerate(table.columns):
            column.width = Cm(widths[index])
        self.doc.add_paragraph()

    def _cell(self, cell: Any, text: str, bold: bool = False, size: float = TABLE_PT) -> None:
        from docx.enum.text import WD_LINE_SPACING

        paragraph = cell.paragraphs[0]
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        paragraph.paragraph_format.first_line_indent = 0
        _font(paragraph.add_run(for_xml(text)), self.table_font, size, bold)

    def photos(self, shown: list[tuple[Path, str]]) -> int:
        """Photos two to a row, each with its caption under it; returns how many were placed.

        `shown` is in reading order; a 整改前/整改后 pair is given as two neighbours starting a row.
        """
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.shared import Cm

        # A copy Pillow has decoded, not the stored file: a missing, truncated or foreign file
        # is known here (None) rather than failing deep inside python-docx.
        readable = [(data, caption) for path, caption in shown if (data := _photo(path)) is not None]
        if not readable:
            return 0
        rows = (len(readable) + 1) // 2
        table = self.doc.add_table(rows=rows, cols=2)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for index, (data, caption) in enumerate(readable):
            cell = table.cell(index // 2, index % 2)
            cell.width = Cm(TEXT_WIDTH_CM / 2)
            picture = cell.paragraphs[0]
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            # The body's exact 28pt line height would crop the picture to a strip.
            picture.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            picture.paragraph_format.first_line_indent = 0
            picture.add_run().add_picture(io.BytesIO(data), width=Cm(PHOTO_WIDTH_CM))
            label = cell.add_paragraph()
            label.alignment = WD_ALIGN_PARAGRAPH.CENTER
            label.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
            _font(label.add_run(for_xml(caption)), self.table_font, CAPTION_PT)
        for row in table.rows:
            row._tr.get_or_add_trPr().append(_element("w:cantSplit", val="true"))
        self.doc.add_paragraph()
        return len(readable)

    def chart(self, png: bytes) -> None:
        """A chart across the text width, centred, kept on one page."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.shared import Cm

        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        paragraph.add_run().add_picture(io.BytesIO(png), width=Cm(CHART_WIDTH_CM))

    def closing(self, notice: Notice | DailyNotice) -> None:
        """The 落款 and its date, kept together on the page of the text's last lines, then the 版记."""
        self.doc.add_paragraph()
        self.paragraph(notice.signature, indent=False, align="RIGHT").paragraph_format.keep_with_next = True
        self.paragraph(long_date(notice.issued), indent=False, align="RIGHT").paragraph_format.keep_with_next = True
        self.doc.add_paragraph().paragraph_format.keep_with_next = True  # the 版记 on the 落款's page
        self.record(notice)

    def record(self, notice: Notice | DailyNotice) -> None:
        """版记: 抄送 and 印发 between a thick line above, a thin one between, a thick one below."""
        from docx.shared import Pt

        lines = []
        if notice.copy_to:
            lines.append(self.paragraph(f"抄送：{notice.copy_to}。", size=14, indent=False))
            lines[0].paragraph_format.left_indent = Pt(14)
            lines[0].paragraph_format.right_indent = Pt(14)
        lines.append(self.two_ends(notice.printed_by, f"{long_date(notice.issued)}印发", size=14, inset=14))
        self.rule(lines[0], side="top", size=8, color="000000")
        if len(lines) > 1:
            self.rule(lines[1], side="top", size=4, color="000000")
        self.rule(lines[-1], side="bottom", size=8, color="000000")
        for line in lines[:-1]:
            line.paragraph_format.keep_with_next = True

    def save(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.doc.save(str(path))
        except OSError as exc:
            raise InputError(f"无法写入文件 {path}：{exc.strerror or exc}（文件是否正在 Word/WPS 中打开？）") from None


def _photo(path: Path) -> bytes | None:
    return photo_jpeg(path, NOTICE_PHOTO_BOX, quality=85)


def _column_widths(header: list[str], rows: list[list[str]], wrap: Iterable[int]) -> list[float]:
    """Widths in cm: each column as wide as its widest cell, so numbers, codes and names stay
    on one line. If that is wider than the page, the `wrap` columns (descriptions, addresses)
    share what the others leave, in proportion, and their text wraps."""
    em = TABLE_PT / 72 * 2.54
    natural = [
        max(_ems(value) for value in (title, *(row[i] for row in rows))) * em + CELL_PADDING_CM
        for i, title in enumerate(header)
    ]
    if sum(natural) <= TEXT_WIDTH_CM:
        return natural
    wrapping = set(wrap)
    room = TEXT_WIDTH_CM - sum(w for i, w in enumerate(natural) if i not in wrapping)
    wanted = sum(natural[i] for i in wrapping)
    if wrapping and room >= MIN_WRAP_CM * len(wrapping):
        return [w * room / wanted if i in wrapping else w for i, w in enumerate(natural)]
    return [w * TEXT_WIDTH_CM / sum(natural) for w in natural]


def _ems(text: str) -> float:
    """Width in em: a CJK character is one; a digit or Latin letter is about 0.6 (Times New
    Roman 0.5, the DejaVu Serif LibreOffice puts in its place on Linux 0.64)."""
    wide = text_width(text) - len(text)  # text_width counts a CJK character as 2
    return wide + (len(text) - wide) * LATIN_EM


def _case_photos(media_dir: Path, case: Case) -> list[tuple[Path, str]]:
    p = case.problem
    what = p.description or p.item_text
    shown = []
    for label, photo in photos_of(case):
        day = case.after_date if label == "整改后" else p.found_date
        prefix = "" if label == "图" else f"{label}："
        shown.append((media_dir / photo.stored_name, f"{prefix}{p.site_name} · {what}（{month_day(day)}）"))
    return shown


def write_docx(notice: Notice, path: Path, media_dir: Path, charts: dict[str, bytes] | None = None) -> int:
    """Write the notice with the charts given (`notice.draw_charts`); returns the number of photos embedded."""
    charts = charts or {}
    w = Writer()
    w.paragraph(notice.title, font=w.title, size=TITLE_PT, indent=False, align="CENTER", color=RED)
    w.paragraph(notice.number_text, indent=False, align="CENTER")
    w.two_ends(notice.doc_number or notice.office, long_date(notice.issued))
    w.rule()

    w.heading("一、总体情况")
    w.paragraph(notice.overview)
    if "trend" in charts:
        w.chart(charts["trend"])

    w.heading("二、排名情况")
    for index, table in enumerate(notice.rankings, start=1):
        w.subheading(f"（{chinese_number(index)}）{table.title}排名")
        if not table.rows:
            w.paragraph(f"{notice.period_word}无{table.title}排名数据。")
            continue
        if not table.has_previous:
            w.paragraph("上期无排名数据，本期不计排名变化。")
        w.table(RANK_HEADER, rank_cells(table), wrap=["名称"])
        if table.title in charts:
            w.chart(charts[table.title])
    w.subheading(f"（{chinese_number(len(notice.rankings) + 1)}）红榜、黑榜")
    for line in lists_text(notice, "red"):
        w.paragraph(f"红榜　{line}")
    for line in lists_text(notice, "black"):
        w.paragraph(f"黑榜　{line}")
    w.paragraph(f"（红榜为排名前三位；黑榜为排名后三位及平均得分率低于 {notice.black_threshold}% 的对象。）", size=14)

    w.heading("三、存在的主要问题")
    w.paragraph(notice.problem_intro)
    photos = 0
    for index, group in enumerate(notice.groups, start=1):
        severe = f"，其中严重问题 {group.severe} 个" if group.severe else ""
        w.subheading(f"（{chinese_number(index)}）{group.category}：{group.count} 个，占 {group.share:.1f}%{severe}")
        for number, case in enumerate(group.cases, start=1):
            w.paragraph(f"{number}. {case_text(case)}")
        # Pairs first, each a row of its own; then the single photos two to a row.
        pairs = [shown for case in group.cases if len(shown := _case_photos(media_dir, case)) == 2]
        singles = [shown[0] for case in group.cases if len(shown := _case_photos(media_dir, case)) == 1]
        photos += w.photos([photo for pair in pairs for photo in pair] + singles)

    w.heading("四、整改情况")
    w.paragraph(notice.progress_intro)
    if notice.by_unit:
        w.subheading("（一）各责任单位整改情况")
        w.table(UNIT_HEADER, unit_cells(notice), wrap=["责任单位"])
    w.subheading("（二）逾期未整改问题")
    w.paragraph(f"（{notice.overdue_basis}。）", size=14)
    if notice.overdue_note:
        w.paragraph(notice.overdue_note)
    if notice.overdue:
        w.table(OVERDUE_HEADER, overdue_cells(notice), wrap=["点位", "问题"])
    else:
        w.paragraph("无逾期未整改问题。")
    w.subheading("（三）反复出现问题")
    if notice.repeat_note:
        w.paragraph(notice.repeat_note)
    if notice.repeats:
        for p in notice.repeats:
            w.paragraph(
                f"{p.no} {p.site_name}：{p.description or p.item_text}（前次问题 {p.repeat_of}，责任单位 {p.unit or '未指定'}）"
            )
    else:
        w.paragraph("无反复出现的问题。")

    if notice.assessment is not None:
        w.heading("五、单位考核")
        w.paragraph(assessment_intro(notice.assessment))
        w.table(ASSESS_HEADER, assessment_cells(notice.assessment), wrap=["责任单位"])
    w.heading(requirements_heading(notice))
    for index, line in enumerate(notice.requirements, start=1):
        w.paragraph(f"{index}. {line}")

    w.closing(notice)
    w.save(path)
    return photos
