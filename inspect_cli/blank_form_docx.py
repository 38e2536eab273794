"""The blank 测评表 as a Word document: one table that prints cleanly over as many pages as it needs.

The table has fixed column widths (the form's, in millimetres), its heading row repeats on
every page (w:tblHeader), no row breaks across two pages (w:cantSplit), and the last item
stays on the page of the signature rows. Text is marked Chinese (zh-CN), so Word and WPS
break lines and check spelling as Chinese; fonts are set for East Asian and Latin text alike.
"""

from __future__ import annotations

import io
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
    PAGE_MM,
    PRINT_WIDTH_MM,
    SIGN_ROW_MM,
    SIGNATURES,
    SMALL_PT,
    TITLE_PT,
    BlankForm,
    signature_label,
)
from inspect_cli.scoring import format_points
from inspect_cli.text import for_xml

LATIN = "Times New Roman"
LANGUAGE = "zh-CN"
GREY = (0x59, 0x59, 0x59)
HEADER_FILL = "D9E1F2"


def _w(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(f"w:{tag}")
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), value)
    return element


# Word refuses a file whose property elements are out of the schema's order (LibreOffice and
# python-docx do not mind), so every element added by hand goes to its place.
_ORDER = {
    "tblPr": (
        "tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW", "jc",
        "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook", "tblCaption",
        "tblDescription",
    ),
    "trPr": (
        "cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight", "tblHeader",
        "tblCellSpacing", "jc", "hidden", "ins", "del", "trPrChange",
    ),
    "tcPr": (
        "cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar", "textDirection",
        "tcFitText", "vAlign", "hideMark", "headers", "cellIns", "cellDel", "cellMerge", "tcPrChange",
    ),
    "rPr": (
        "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline", "shadow",
        "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w", "kern",
        "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs",
        "em", "lang", "eastAsianLayout", "specVanish", "oMath",
    ),
}  # fmt: skip


def _put(parent: Any, child: Any) -> None:
    """`child` in `parent` (a w:tblPr, w:trPr, w:tcPr or w:rPr), in its schema place, replacing one of its kind."""
    from docx.oxml.ns import qn

    order = _ORDER[parent.tag.rsplit("}", 1)[1]]
    name = child.tag.rsplit("}", 1)[1]
    for old in parent.findall(child.tag):
        parent.remove(old)
    later = {qn(f"w:{tag}") for tag in order[order.index(name) + 1 :]}
    successor = next((element for element in parent if element.tag in later), None)
    if successor is None:
        parent.append(child)
    else:
        successor.addprevious(child)


def _twips(mm: float) -> str:
    return str(round(mm / 25.4 * 1440))


def _run(paragraph: Any, text: str, size: float = BODY_PT, bold: bool = False, color: tuple | None = None) -> Any:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(for_xml(text))
    run.font.name = LATIN
    run.font.size = Pt(size)
    run.font.bold = bold
    if color:
        run.font.color.rgb = RGBColor(*color)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    return run


def _aligned(paragraph: Any, align: str | None) -> Any:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    if align:
        paragraph.alignment = getattr(WD_ALIGN_PARAGRAPH, align)
    return paragraph


def _set_styles(doc: Any) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    normal.font.name = LATIN
    normal.font.size = Pt(BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    _put(rpr, _w("lang", val=LANGUAGE, eastAsia=LANGUAGE))
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    # The document's defaults too, for text in styles that do not derive from Normal.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        default_rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if default_rpr is not None:
            _put(default_rpr, _w("lang", val=LANGUAGE, eastAsia=LANGUAGE))


def _page(doc: Any, form: BlankForm) -> None:
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.left_margin, section.right_margin = Mm(MARGIN_MM["left"]), Mm(MARGIN_MM["right"])
    section.top_margin, section.bottom_margin = Mm(MARGIN_MM["top"]), Mm(MARGIN_MM["bottom"])
    section.footer_distance = Mm(MARGIN_MM["footer"])
    section.header_distance = Mm(MARGIN_MM["footer"])
    _footer(section, form)


def _footer(section: Any, form: BlankForm) -> None:
    """The form's name at the left, 第 N 页 共 M 页 in the middle (PAGE and NUMPAGES fields)."""
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    from docx.shared import Mm, Twips

    paragraph = section.footer.paragraphs[0]
    stops = paragraph.paragraph_format.tab_stops
    # The Footer style's stops are set for Letter paper: the page number goes to the middle of A4.
    for position in (4680, 9360):
        stops.add_tab_stop(Twips(position), WD_TAB_ALIGNMENT.CLEAR)
    stops.add_tab_stop(Mm(PRINT_WIDTH_MM / 2), WD_TAB_ALIGNMENT.CENTER)
    _run(paragraph, form.label, size=9).add_tab()
    _run(paragraph, "第 ", size=9)
    for instruction, placeholder in (("PAGE", "1"), ("NUMPAGES", "1")):
        field = parse_xml(
            f'<w:fldSimple {nsdecls("w")} w:instr=" {instruction} ">'
            f'<w:r><w:rPr><w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:eastAsia="{FONT}"/><w:sz w:val="18"/></w:rPr>'
            f"<w:t>{placeholder}</w:t></w:r></w:fldSimple>"
        )
        paragraph._p.append(field)
        _run(paragraph, " 页 共 " if instruction == "PAGE" else " 页", size=9)


def _table(doc: Any, widths: list[float], rows: int, borders: bool) -> Any:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Mm

    table = doc.add_table(rows=rows, cols=len(widths))
    if borders:
        table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # fixed layout: the widths below hold whatever the text
    tbl_pr = table._tbl.tblPr
    _put(tbl_pr, _w("tblW", w=_twips(sum(widths)), type="dxa"))
    margins = _w("tblCellMar")
    for side, inset in (("top", 0.3), ("left", CELL_PAD_MM / 2), ("bottom", 0.3), ("right", CELL_PAD_MM / 2)):
        margins.append(_w(side, w=_twips(inset), type="dxa"))
    _put(tbl_pr, margins)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Mm(width)
    return table


def _row_props(row: Any, height_mm: float | None = None, *, header: bool = False) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    _put(tr_pr, _w("cantSplit", val="true"))
    if header:
        _put(tr_pr, _w("tblHeader", val="true"))
    if height_mm is not None:
        _put(tr_pr, _w("trHeight", val=_twips(height_mm), hRule="atLeast"))


def _cell(cell: Any, text: str, *, align: str | None = None, size: float = BODY_PT, bold: bool = False) -> Any:
    from docx.enum.table import WD_ALIGN_VERTICAL

    cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
    paragraph = _aligned(cell.paragraphs[0], align)
    if text:
        _run(paragraph, text, size=size, bold=bold)
    return paragraph


def _shade(cell: Any, fill: str) -> None:
    _put(cell._tc.get_or_add_tcPr(), _w("shd", val="clear", color="auto", fill=fill))


def _bottom_line(cell: Any) -> None:
    borders = _w("tcBorders")
    borders.append(_w("bottom", val="single", sz="4", space="0", color="000000"))
    _put(cell._tc.get_or_add_tcPr(), borders)


def _keep_with_next(row: Any) -> None:
    for cell in row.cells:
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True


# What Word itself writes for 宋体: its English name and its Chinese character set let Word,
# WPS and LibreOffice choose a Chinese serif where 宋体 is missing (macOS, Linux).
_SONGTI = (
    f'<w:font xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" w:name="{FONT}">'
    '<w:altName w:val="SimSun"/><w:panose1 w:val="02010600030101010101"/><w:charset w:val="86"/>'
    '<w:family w:val="auto"/><w:pitch w:val="variable"/>'
    '<w:sig w:usb0="00000003" w:usb1="288F0000" w:usb2="00000016" w:usb3="00000000" w:csb0="00040001" w:csb1="00000000"/>'
    "</w:font>"
)


def _font_table(doc: Any) -> None:
    from docx.opc.constants import RELATIONSHIP_TYPE
    from lxml import etree

    part = doc.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE)
    fonts = etree.fromstring(part.blob)
    fonts.append(etree.fromstring(_SONGTI))
    part._blob = etree.tostring(fonts, xml_declaration=True, encoding="UTF-8", standalone=True)


def form_docx(form: BlankForm) -> bytes:
    """The form as a .docx file's bytes."""
    import docx
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    doc = docx.Document()
    _set_styles(doc)
    _page(doc, form)
    widths = list(form.widths_mm)

    heading = _aligned(doc.add_paragraph(), "CENTER")
    _run(heading, form.title, size=TITLE_PT, bold=True)
    heading.paragraph_format.space_after = Pt(4)
    subtitle = _aligned(doc.add_paragraph(), "CENTER")
    _run(subtitle, form.subtitle)
    subtitle.paragraph_format.space_after = Pt(6)

    # 点位 fields: label, a line to write on, label, a line; the grid of the table below.
    field_widths = [widths[0] + widths[1], widths[2], widths[3] + widths[4], widths[5] + widths[6]]
    pairs = [form.fields[i : i + 2] for i in range(0, len(form.fields), 2)]
    fields = _table(doc, field_widths, len(pairs), borders=False)
    for row, pair in zip(fields.rows, pairs, strict=True):
        _row_props(row, FIELD_ROW_MM)
        for (label, value), (label_cell, value_cell) in zip(pair, (row.cells[0:2], row.cells[2:4]), strict=True):
            _cell(label_cell, f"{label}：", align="RIGHT")
            _cell(value_cell, value)
            label_cell.vertical_alignment = value_cell.vertical_alignment = WD_ALIGN_VERTICAL.BOTTOM
            _bottom_line(value_cell)
    gap = doc.add_paragraph().paragraph_format
    gap.line_spacing_rule, gap.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(8)

    items = form.items
    table = _table(doc, widths, 1 + len(items) + 2, borders=True)
    header = table.rows[0]
    _row_props(header, HEADER_ROW_MM, header=True)
    for cell, text in zip(header.cells, HEADER, strict=True):
        _cell(cell, text, align="CENTER", bold=True)
        _shade(cell, HEADER_FILL)
    position = 1
    for group in form.groups:
        first = position
        for item in group.items:
            row = table.rows[position]
            _row_props(row, MIN_ROW_MM)
            cells = row.cells
            _cell(cells[0], str(item.number), align="CENTER")
            _cell(cells[2], item.text)
            if item.standard:
                _run(cells[2].add_paragraph(), f"标准：{item.standard}", size=SMALL_PT, color=GREY)
            _cell(cells[3], format_points(item.score), align="CENTER")
            _cell(cells[4], BOX, align="CENTER", size=BOX_PT)
            _cell(cells[5], BOX, align="CENTER", size=BOX_PT)
            _cell(cells[6], "")
            position += 1
        top = table.cell(first, 1)
        _cell(top, group.category, align="CENTER")
        if position - first > 1:
            top = top.merge(table.cell(position - 1, 1))
        top.vertical_alignment = WD_ALIGN_VERTICAL.TOP
    # The signature rows never start a page alone: the last item goes with them.
    _keep_with_next(table.rows[position - 1])
    inspector, manager, day = SIGNATURES
    sign = table.rows[position]
    _row_props(sign, SIGN_ROW_MM)
    _keep_with_next(sign)
    _cell(sign.cells[0].merge(sign.cells[1]), signature_label(inspector), align="CENTER", bold=True)
    _cell(sign.cells[2], "")
    _cell(sign.cells[3].merge(sign.cells[5]), signature_label(manager), align="CENTER", bold=True)
    _cell(sign.cells[6], "")
    dated = table.rows[position + 1]
    _row_props(dated, DATE_ROW_MM)
    _cell(dated.cells[0].merge(dated.cells[1]), day, align="CENTER", bold=True)
    _cell(dated.cells[2].merge(dated.cells[6]), DATE_BLANKS)

    # Word ends a document with a paragraph; after a table that fills the page, one of
    # ordinary height would print a blank page. This one is 1 pt high and hidden, mark and
    # text (LibreOffice lays out a paragraph unless it holds hidden text).
    end = doc.add_paragraph()
    end.paragraph_format.line_spacing_rule, end.paragraph_format.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(1)
    mark = _w("rPr")
    mark.append(_w("vanish"))
    mark.append(_w("sz", val="2"))
    end._p.get_or_add_pPr().append(mark)
    hidden = end.add_run(" ")
    hidden.font.hidden, hidden.font.size = True, Pt(1)
    _font_table(doc)

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
