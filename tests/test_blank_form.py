"""`checklist print`: the blank 测评表 for paper days, as Excel and as Word, reopened and read back."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm
from lxml import etree
from openpyxl import load_workbook

from inspect_cli.blank_form import (
    BODY_PT,
    CELL_PAD_MM,
    HEADER,
    MARGIN_MM,
    MIN_ROW_MM,
    PAGE_MM,
    PRINT_WIDTH_MM,
    SIGNATURES,
    blank_form,
    text_mm,
)
from inspect_cli.errors import InputError
from inspect_cli.models import Site

from .conftest import Cli

SITE = {"name": "东城农贸市场", "code": "NMSC-001", "street": "东城街道", "address": "幸福路1号"}


@pytest.fixture
def no_db(tmp_path, monkeypatch) -> Cli:
    """The CLI on a --db that is no database at all: a command that opened it would fail."""
    monkeypatch.chdir(tmp_path)
    garbage = tmp_path / "not-a-database.sqlite"
    garbage.write_bytes(b"not a database " * 100)
    return Cli(garbage)


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """An empty current folder (the test database lives beside it, in tmp_path)."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def _files(folder: Path) -> list[str]:
    """Every file and folder under `folder` (hidden ones too: a leftover temporary file counts)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _one_error(result, exit_code: int) -> str:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误："), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def _item_rows(sheet) -> tuple[int, list[tuple]]:
    """The header row's number and the item rows below it, as (序号, 测评项目, 测评内容, 分值, 合格, 不合格, 问题描述)."""
    header = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "序号")
    rows = []
    for r in range(header + 1, sheet.max_row + 1):
        if not isinstance(sheet.cell(r, 1).value, int):
            break
        rows.append(tuple(sheet.cell(r, c).value for c in range(1, len(HEADER) + 1)))
    return header, rows


# --- Excel ------------------------------------------------------------------------------


def test_xlsx_prints_on_a4_portrait_one_page_wide_with_the_header_on_every_page(no_db, tmp_path):
    result = no_db.ok("checklist", "print", "农贸市场", "-o", "表.xlsx")
    assert result.stdout.strip() == "已生成农贸市场实地测评表（28 项）：表.xlsx"
    sheet = load_workbook(tmp_path / "表.xlsx").active
    setup = sheet.page_setup
    assert setup.paperSize == 9 and setup.orientation == "portrait"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    # fitToWidth is 1 when absent (the file format's default; XlsxWriter leaves it out); 0 tall = as many pages as needed.
    assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0)
    header, rows = _item_rows(sheet)
    assert [sheet.cell(header, c).value for c in range(1, 8)] == list(HEADER)
    assert sheet.print_title_rows == f"${header}:${header}"
    last = sheet.max_row
    assert sheet.cell(last, 1).value == SIGNATURES[2]  # 日期 closes the form
    assert sheet.print_area == f"'{sheet.title}'!$A$1:$G${last}"
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert sheet.oddFooter.left.text == "农贸市场实地测评表"
    margins = sheet.page_margins
    assert margins.left == pytest.approx(MARGIN_MM["left"] / 25.4, abs=0.01)
    assert margins.bottom == pytest.approx(MARGIN_MM["bottom"] / 25.4, abs=0.01)
    # Readable and writable by hand: no font under 9 pt, every item row at least MIN_ROW_MM tall.
    written = [sheet.cell(r, c) for r in range(1, last + 1) for c in range(1, 8) if sheet.cell(r, c).value is not None]
    assert {(cell.font.name, cell.font.charset) for cell in written} == {("宋体", 134)}  # 134: GB2312, a Chinese font
    sizes = {cell.font.sz for cell in written}
    assert min(sizes) >= 9
    assert all(sheet.row_dimensions[header + 1 + i].height >= MIN_ROW_MM / 25.4 * 72 - 0.75 for i in range(len(rows)))
    # The form is as wide as the page between its margins (96 pixels an inch), within a pixel a column.
    width_px = sum(sheet.column_dimensions[c].width * 7 for c in "ABCDEFG")  # the stored width holds the padding
    assert width_px == pytest.approx(PRINT_WIDTH_MM / 25.4 * 96, abs=7)
    assert _files(tmp_path) == ["not-a-database.sqlite", "表.xlsx"]


def test_xlsx_lists_every_item_in_checklist_order_with_its_score_and_tick_boxes(no_db, tmp_path, checklists):
    no_db.ok("checklist", "print", "nmsc", "-o", "表.xlsx")
    sheet = load_workbook(tmp_path / "表.xlsx").active
    header, rows = _item_rows(sheet)
    items = checklists.get("农贸市场").items
    assert [r[0] for r in rows] == list(range(1, len(items) + 1))
    assert [r[2].split("\n")[0] for r in rows] == [item.text for item in items]
    assert [r[3] for r in rows] == [f"{item.score:g}" for item in items]
    assert all(r[4] == r[5] == "□" and r[6] is None for r in rows)
    assert rows[0][2] == f"{items[0].text}\n标准：{items[0].standard}"
    # Each run of one category is a merged 测评项目 cell naming it.
    merged = {(m.min_row, m.max_row) for m in sheet.merged_cells.ranges if m.min_col == m.max_col == 2}
    first = header + 1
    for group in blank_form(checklists, "农贸市场").groups:
        last = first + len(group.items) - 1
        assert sheet.cell(first, 2).value == group.category
        assert last == first or (first, last) in merged
        first = last + 1


def test_xlsx_has_blank_site_lines_and_signature_lines(no_db, tmp_path):
    no_db.ok("checklist", "print", "建筑工地", "-o", "表.xlsx")
    sheet = load_workbook(tmp_path / "表.xlsx").active
    cells = {(r, c): sheet.cell(r, c).value for r in range(1, sheet.max_row + 1) for c in range(1, 8)}
    assert cells[(1, 1)] == "建筑工地实地测评表"
    assert cells[(2, 1)] == "测评标准：JZGD（2026 版）　共 13 项，满分 100 分"
    for label in ("点位名称", "点位编号", "所属街道", "具体地址"):
        (row, col) = next(k for k, v in cells.items() if v == f"{label}：")
        assert cells[(row, col + 2)] is None  # the line to write on is empty
    texts = [str(v).replace("\n", "") for v in cells.values() if v]
    assert {"测评人员（签字）", "点位负责人（签字）", "日期"} <= set(texts)
    # 13 items fit one A4 page: the rows add up to less than the height between the margins.
    printable = (PAGE_MM[1] - MARGIN_MM["top"] - MARGIN_MM["bottom"]) / 25.4 * 72
    assert sum(sheet.row_dimensions[r].height for r in range(1, sheet.max_row + 1)) <= printable


def test_xlsx_with_site_fills_in_the_site(city, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = city.ok("checklist", "print", "农贸市场", "--site", "NMSC-001")
    name = "测评表_农贸市场_NMSC-001.xlsx"
    assert result.stdout.strip() == f"已生成农贸市场实地测评表（28 项）：{name}"
    sheet = load_workbook(tmp_path / name).active
    row3, row4 = ([sheet.cell(r, c).value for c in range(1, 8)] for r in (3, 4))
    assert row3 == ["点位名称：", None, SITE["name"], "点位编号：", None, SITE["code"], None]
    assert row4 == ["所属街道：", None, SITE["street"], "具体地址：", None, SITE["address"], None]
    assert sheet.oddFooter.left.text == "农贸市场实地测评表　NMSC-001"


def test_default_name_without_site_is_the_type_in_the_current_folder(no_db, tmp_path):
    result = no_db.ok("checklist", "print", "菜市场")  # an alias names the type
    assert result.stdout.strip() == "已生成农贸市场实地测评表（28 项）：测评表_农贸市场.xlsx"
    assert (tmp_path / "测评表_农贸市场.xlsx").is_file()
    mask = os.umask(0)
    os.umask(mask)
    # A document like any other the user saves (not private, as a temporary file starts out).
    assert stat.S_IMODE(os.stat(tmp_path / "测评表_农贸市场.xlsx").st_mode) == 0o666 & ~mask


# --- Word -------------------------------------------------------------------------------


def test_docx_table_repeats_its_header_and_never_splits_a_row(no_db, tmp_path, checklists):
    no_db.ok("checklist", "print", "农贸市场", "-o", "表.docx")
    doc = Document(str(tmp_path / "表.docx"))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "序号")
    assert [c.text for c in table.rows[0].cells] == list(HEADER)
    header_pr = table.rows[0]._tr.trPr
    assert header_pr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
    assert all(row._tr.trPr.find(qn("w:tblHeader")) is None for row in table.rows[1:])
    items = checklists.get("农贸市场").items
    body = table.rows[1 : 1 + len(items)]
    assert [row.cells[0].text for row in body] == [str(n) for n in range(1, len(items) + 1)]
    assert [row.cells[2].paragraphs[0].text for row in body] == [item.text for item in items]
    assert [row.cells[3].text for row in body] == [f"{item.score:g}" for item in items]
    assert all(row.cells[4].text == row.cells[5].text == "□" and row.cells[6].text == "" for row in body)
    assert body[0].cells[2].paragraphs[1].text == f"标准：{items[0].standard}"
    assert body[0].cells[1].text == "公益广告"
    signatures = [c.text.replace("\n", "") for row in table.rows[1 + len(items) :] for c in row.cells]
    assert {"测评人员（签字）", "点位负责人（签字）", "日期"} <= set(signatures)


def test_docx_page_footer_language_and_column_widths(no_db, tmp_path, checklists):
    no_db.ok("checklist", "print", "网吧", "-o", "表.docx")
    doc = Document(str(tmp_path / "表.docx"))
    section = doc.sections[0]
    assert abs(section.page_width - Mm(PAGE_MM[0])) < Mm(0.1) and abs(section.page_height - Mm(PAGE_MM[1])) < Mm(0.1)
    assert section.page_width < section.page_height  # portrait
    assert abs(section.left_margin - Mm(MARGIN_MM["left"])) < Mm(0.1)
    footer = section.footer._element
    instructions = [f.get(qn("w:instr")).strip() for f in footer.iter(qn("w:fldSimple"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    assert "第" in section.footer.paragraphs[0].text and "网吧实地测评表" in section.footer.paragraphs[0].text
    normal = doc.styles["Normal"].element.rPr
    lang = normal.find(qn("w:lang"))
    assert (lang.get(qn("w:val")), lang.get(qn("w:eastAsia"))) == ("zh-CN", "zh-CN")
    sizes = {r.font.size.pt for p in doc.paragraphs for r in p.runs if r.font.size and not r.font.hidden}
    sizes |= {
        r.font.size.pt for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs
    }
    assert min(sizes) >= 9
    # The paragraph Word ends a document with is hidden: a table filling the page gets no blank page after it.
    assert all(run.font.hidden for run in doc.paragraphs[-1].runs) and doc.paragraphs[-1].runs
    # 宋体 is described as Word describes it, so a computer without it chooses a Chinese serif.
    with zipfile.ZipFile(tmp_path / "表.docx") as package:
        fonts = etree.fromstring(package.read("word/fontTable.xml"))
    songti = fonts.find(f"{qn('w:font')}[@{qn('w:name')}='宋体']")
    assert songti.find(qn("w:altName")).get(qn("w:val")) == "SimSun"
    assert songti.find(qn("w:charset")).get(qn("w:val")) == "86"
    # Fixed widths adding up to the width between the margins; every heading and every
    # category name (网吧 has 未成年人保护) fits its column on one line.
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "序号")
    assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    grid = [int(col.get(qn("w:w"))) / 1440 * 25.4 for col in table._tbl.tblGrid.iter(qn("w:gridCol"))]
    assert sum(grid) == pytest.approx(PRINT_WIDTH_MM, abs=0.5)
    for width, title in zip(grid, HEADER, strict=True):
        assert width - CELL_PAD_MM >= text_mm(title, BODY_PT), title
    categories = {g.category for g in blank_form(checklists, "网吧").groups}
    assert "未成年人保护" in categories
    assert all(grid[1] - CELL_PAD_MM >= text_mm(c, BODY_PT) for c in categories)


# The order ECMA-376 gives the properties this form uses: Word refuses a file that breaks it,
# where LibreOffice and python-docx read it without a word.
SCHEMA_ORDER = {
    "tblPr": ["tblStyle", "tblW", "jc", "tblInd", "tblBorders", "tblLayout", "tblCellMar", "tblLook"],
    "trPr": ["cantSplit", "trHeight", "tblHeader"],
    "tcPr": ["tcW", "gridSpan", "vMerge", "tcBorders", "shd", "vAlign"],
    "rPr": ["rStyle", "rFonts", "b", "bCs", "vanish", "color", "sz", "szCs", "lang"],
}


def test_docx_properties_are_in_the_order_word_requires(no_db, tmp_path):
    no_db.ok("checklist", "print", "背街小巷", "-o", "表.docx")
    with zipfile.ZipFile(tmp_path / "表.docx") as package:
        parts = [etree.fromstring(package.read(n)) for n in ("word/document.xml", "word/footer1.xml")]
        styles = etree.fromstring(package.read("word/styles.xml"))
    # Of the styles, what this form sets: the defaults and Normal (the template's own are Word's).
    parts += [styles.find(qn("w:docDefaults")), styles.find(f"{qn('w:style')}[@{qn('w:styleId')}='Normal']")]
    checked = 0
    for part in parts:
        for name, order in SCHEMA_ORDER.items():
            for element in part.iter(qn(f"w:{name}")):
                children = [etree.QName(child).localname for child in element]
                assert set(children) <= set(order), (name, children)
                assert children == sorted(children, key=order.index), (name, children)
                checked += 1
    assert checked > 100


def test_docx_with_site_fills_in_the_site(city, tmp_path):
    out = tmp_path / "表.docx"
    city.ok("checklist", "print", "NMSC", "--site", "东城农贸市场", "-o", out)
    doc = Document(str(out))
    fields = doc.tables[0]
    assert [c.text for c in fields.rows[0].cells] == ["点位名称：", SITE["name"], "点位编号：", SITE["code"]]
    assert [c.text for c in fields.rows[1].cells] == ["所属街道：", SITE["street"], "具体地址：", SITE["address"]]
    assert doc.paragraphs[0].text == "农贸市场实地测评表"
    assert "NMSC-001" in doc.sections[0].footer.paragraphs[0].text


def test_docx_without_site_leaves_the_lines_blank(no_db, tmp_path):
    no_db.ok("checklist", "print", "农贸市场", "-o", "表.docx")
    fields = Document(str(tmp_path / "表.docx")).tables[0]
    assert [c.text for row in fields.rows for c in row.cells] == [
        "点位名称：", "", "点位编号：", "",
        "所属街道：", "", "具体地址：", "",
    ]  # fmt: skip


# --- the form ---------------------------------------------------------------------------


def test_groups_follow_the_checklist_order(checklists):
    """序号 is the item's position (what `record SITE N` takes); a category the checklist comes back to starts a new group."""
    for checklist in checklists:
        form = blank_form(checklists, checklist.code)
        assert [item.number for _, item in form.items] == list(range(1, len(checklist.items) + 1))
        assert [item.text for _, item in form.items] == [i.text for i in checklist.items]
        assert all(i.category == g.category for (g, _), i in zip(form.items, checklist.items, strict=True))
        assert all(a.category != b.category for a, b in zip(form.groups, form.groups[1:], strict=False))
    bjxx = [g.category for g in blank_form(checklists, "背街小巷").groups]
    assert bjxx.count("市容秩序") == 3


def test_a_site_is_checked_against_the_type_as_run_finds_its_checklist(checklists):
    market = Site(code="NMSC-009", name="南关菜市场", site_type="菜市场", type_code="NMSC", street="南关街道")
    form = blank_form(checklists, "nmsc", market)  # the register's alias names the same checklist
    assert form.fields == (
        ("点位名称", "南关菜市场"),
        ("点位编号", "NMSC-009"),
        ("所属街道", "南关街道"),
        ("具体地址", ""),
    )
    compound = Site(code="JMXQ-001", name="锦绣花园小区", site_type="居民小区", type_code="JMXQ")
    with pytest.raises(InputError, match="的类型是居民小区，不是农贸市场"):
        blank_form(checklists, "农贸市场", compound)


def test_text_that_looks_like_markup_or_formulas_is_written_as_text(tmp_path, no_db):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "odd.yaml").write_text(
        "site_type: 奇怪&P点位\ncode: QG\nedition: '2026'\nitems:\n"
        "  - {id: a-01, text: '=1+1 & <r>x</r>', category: 一个名字特别特别长的类别, score: 50}\n"
        '  - {id: a-02, text: "@SUM(A1)\\t有制表符", category: "&P 类别", score: 50, standard: "<b>粗</b>"}\n',
        encoding="utf-8",
    )
    for suffix in ("xlsx", "docx"):
        no_db.ok("--checklists", folder, "checklist", "print", "qg", "-o", f"odd.{suffix}")
    sheet = load_workbook(tmp_path / "odd.xlsx").active
    _, rows = _item_rows(sheet)
    assert [r[2] for r in rows] == ["=1+1 & <r>x</r>", "@SUM(A1) 有制表符\n标准：<b>粗</b>"]
    assert [r[1] for r in rows] == ["一个名字特别特别长的类别", "&P 类别"]
    # In a page footer & starts a code: the type's name shows its ＆ and adds no page number.
    assert (sheet.oddFooter.left.text, sheet.oddFooter.center.text) == ("奇怪＆P点位实地测评表", "第 &P 页 共 &N 页")
    # The long category keeps its rows tall enough to show it whole.
    assert sheet.row_dimensions[_item_rows(sheet)[0] + 1].height > MIN_ROW_MM / 25.4 * 72 + 2
    table = Document(str(tmp_path / "odd.docx")).tables[1]
    assert table.rows[1].cells[2].text == "=1+1 & <r>x</r>"
    assert table.rows[2].cells[1].text == "&P 类别"


# --- errors: one line, the project's exit codes, nothing written -----------------------


def test_unknown_type_exits_3_like_checklist_show(no_db, tmp_path):
    shown = _one_error(no_db("checklist", "show", "游乐场"), 3)
    assert _one_error(no_db("checklist", "print", "游乐场", "-o", "x.xlsx"), 3) == shown
    assert _files(tmp_path) == ["not-a-database.sqlite"]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("x.pdf", "错误：不支持的输出文件类型 .pdf（x.pdf）：测评表可输出为 .xlsx（Excel）或 .docx（Word）"),
        ("x.xls", "错误：不支持的输出文件类型 .xls（x.xls）：测评表可输出为 .xlsx（Excel）或 .docx（Word）"),
        ("测评表", "错误：输出文件 测评表 没有后缀：测评表可输出为 .xlsx（Excel）或 .docx（Word）"),
    ],
)
def test_an_output_suffix_other_than_xlsx_or_docx_exits_2(no_db, tmp_path, output, expected):
    assert _one_error(no_db("checklist", "print", "农贸市场", "-o", output), 2) == expected
    assert _files(tmp_path) == ["not-a-database.sqlite"]


def test_the_suffix_is_checked_before_the_type(no_db, tmp_path):
    assert "不支持的输出文件类型 .txt" in _one_error(no_db("checklist", "print", "游乐场", "-o", "x.txt"), 2)


def test_a_site_of_another_type_exits_2_and_names_the_right_command(city, work):
    line = _one_error(city("checklist", "print", "农贸市场", "--site", "JMXQ-001"), 2)
    assert line == (
        "错误：点位 JMXQ-001 锦绣花园小区 的类型是居民小区，不是农贸市场；"
        "请打印居民小区测评表：inspect-cli checklist print 居民小区 --site JMXQ-001"
    )
    assert _files(work) == []


def test_an_unknown_site_exits_3(city, work):
    line = _one_error(city("checklist", "print", "农贸市场", "--site", "NMSC-999", "-o", "x.docx"), 3)
    assert line == "错误：找不到点位 'NMSC-999'（可用 inspect-cli site list --search 查找）"
    assert _files(work) == []


def test_an_unwritable_output_is_one_line_and_leaves_nothing(no_db, tmp_path):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "folder.xlsx").mkdir()
    line = _one_error(no_db("checklist", "print", "农贸市场", "-o", "a-file/sub/x.xlsx"), 2)
    assert line == "错误：无法写入文件 a-file/sub/x.xlsx：路径中有同名文件挡住了文件夹"
    line = _one_error(no_db("checklist", "print", "农贸市场", "-o", "folder.xlsx"), 2)
    assert line == "错误：无法写入文件 folder.xlsx：这是一个文件夹"
    assert _files(tmp_path) == ["a-file", "folder.xlsx", "not-a-database.sqlite"]


def test_missing_folders_are_made_and_an_old_file_is_replaced(no_db, tmp_path):
    target = tmp_path / "纸质" / "第一周" / "表.docx"
    no_db.ok("checklist", "print", "公园", "-o", target)
    target.write_bytes(b"old")
    no_db.ok("checklist", "print", "公园", "-o", target)
    assert Document(str(target)).paragraphs[0].text == "公园实地测评表"
    assert _files(tmp_path / "纸质") == ["第一周", "第一周/表.docx"]
