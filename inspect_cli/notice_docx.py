"""The 周通报 as a Word document, laid out the way government notices are (GB/T 9704 style).

Fonts are set on every run for both Latin and East Asian text (w:eastAsia), so Word, WPS
and LibreOffice pick 仿宋 / 黑体 / 楷体 / 宋体 rather than a Latin fallback. Every run's text
passes through `for_xml`: stored text may hold characters an XML part cannot, and the notice
is written whatever is stored. A photo that cannot be read is left out, not fatal.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from inspect_cli.errors import InputError
from inspect_cli.media import NOTICE_PHOTO_BOX, photo_jpeg
from inspect_cli.notice import (
    OVERDUE_HEADER,
    RANK_HEADER,
    UNIT_HEADER,
    Notice,
    case_text,
    chinese_number,
    lists_text,
    overdue_cells,
    rank_cells,
    unit_cells,
)
from inspect_cli.text import for_xml

BODY, HEADING, SUBHEADING, TITLE, TABLE = "仿宋", "黑体", "楷体", "宋体", "宋体"
LATIN = "Times New Roman"
RED = (0xC0, 0x00, 0x00)
PHOTO_WIDTH_CM = 7.5
# 7.5 cm at 400 dpi: sharp in print, and a notice of a dozen phone photos stays small to send.


def _font(run: Any, east_asia: str, size: float, bold: bool = False, color: tuple[int, int, int] | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor(*color)
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asia)


class _Writer:
    def __init__(self) -> None:
        import docx
        from docx.enum.text import WD_LINE_SPACING
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt

        self.doc = docx.Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
        section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
        normal = self.doc.styles["Normal"]
        normal.font.name = LATIN
        normal.font.size = Pt(16)
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY)
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        normal.paragraph_format.line_spacing = Pt(28)
        normal.paragraph_format.space_after = Pt(0)
        self._page_number(section)

    def _page_number(self, section: Any) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls

        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(paragraph.add_run("— "), BODY, 14)
        field = parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>')
        paragraph._p.append(field)
        _font(paragraph.add_run(" —"), BODY, 14)

    def paragraph(
        self,
        text: str,
        *,
        font: str = BODY,
        size: float = 16,
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
        _font(paragraph.add_run(for_xml(text)), font, size, bold, color)
        return paragraph

    def heading(self, text: str) -> None:
        self.paragraph(text, font=HEADING)

    def subheading(self, text: str) -> None:
        self.paragraph(text, font=SUBHEADING)

    def rule(self) -> None:
        """The red line under a notice's heading block."""
        from docx.oxml import parse_xml
        from docx.oxml.ns import nsdecls

        paragraph = self.doc.add_paragraph()
        border = parse_xml(
            f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="18" w:space="1" w:color="C00000"/></w:pBdr>'
        )
        paragraph._p.get_or_add_pPr().append(border)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            self._cell(cell, text, bold=True)
        # Repeat the header row on every page the table runs onto.
        marker = OxmlElement("w:tblHeader")
        marker.set(qn("w:val"), "true")
        table.rows[0]._tr.get_or_add_trPr().append(marker)
        for values in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, values, strict=True):
                self._cell(cell, text)
        for row in table.rows:
            for cell in row.cells:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.doc.add_paragraph()

    @staticmethod
    def _cell(cell: Any, text: str, bold: bool = False) -> None:
        from docx.enum.text import WD_LINE_SPACING

        paragraph = cell.paragraphs[0]
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        paragraph.paragraph_format.first_line_indent = 0
        _font(paragraph.add_run(for_xml(text)), TABLE, 10.5, bold)

    def picture(self, path: Path, caption: str) -> bool:
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
        from docx.shared import Cm

        # A copy Pillow has decoded, not the stored file: a missing, truncated or foreign file
        # is known here (None) rather than failing deep inside python-docx.
        data = photo_jpeg(path, NOTICE_PHOTO_BOX, quality=85)
        if data is None:
            return False
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        # The body's exact 28pt line height would crop the picture to a strip.
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        paragraph.add_run().add_picture(io.BytesIO(data), width=Cm(PHOTO_WIDTH_CM))
        self.paragraph(caption, size=12, indent=False, align="CENTER")
        return True

    def save(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.doc.save(str(path))
        except OSError as exc:
            raise InputError(f"无法写入文件 {path}：{exc.strerror or exc}（文件是否正在 Word/WPS 中打开？）") from None


def write_docx(notice: Notice, path: Path, media_dir: Path) -> int:
    """Write the notice; returns the number of photos embedded."""
    w = _Writer()
    w.paragraph(notice.title, font=TITLE, size=26, bold=True, indent=False, align="CENTER", color=RED)
    w.paragraph(notice.number_text, indent=False, align="CENTER")
    w.paragraph(f"{notice.office}　　　　{notice.issued:%Y年%m月%d日}", size=14, indent=False, align="CENTER")
    w.rule()

    w.heading("一、总体情况")
    w.paragraph(notice.overview)

    w.heading("二、排名情况")
    for index, table in enumerate(notice.rankings, start=1):
        w.subheading(f"（{chinese_number(index)}）{table.title}排名")
        if not table.rows:
            w.paragraph(f"{notice.period_word}无{table.title}排名数据。")
            continue
        if not table.has_previous:
            w.paragraph("上期无排名数据，本期不计排名变化。")
        w.table(RANK_HEADER, rank_cells(table))
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
            if case.photo is not None:
                caption = f"图：{case.problem.site_name} {case.problem.no}"
                photos += w.picture(media_dir / case.photo.stored_name, caption)

    w.heading("四、整改情况")
    w.paragraph(notice.progress_intro)
    if notice.by_unit:
        w.subheading("（一）各责任单位整改情况")
        w.table(UNIT_HEADER, unit_cells(notice))
    w.subheading("（二）逾期未整改问题")
    if notice.overdue_note:
        w.paragraph(notice.overdue_note)
    if notice.overdue:
        w.table(OVERDUE_HEADER, overdue_cells(notice))
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

    w.heading("五、下步要求")
    for index, line in enumerate(notice.requirements, start=1):
        w.paragraph(f"{index}. {line}")

    w.doc.add_paragraph()
    w.paragraph(notice.signature, indent=False, align="RIGHT")
    w.paragraph(f"{notice.issued:%Y年%m月%d日}", indent=False, align="RIGHT")
    w.save(path)
    return photos
