"""Whatever is already stored, every writer produces a file that opens and shows it as text.

Entry cleans new text, but older databases and merged data can hold anything: control
characters, escape sequences, text shaped like Markdown, HTML or spreadsheet XML, 50,000
characters, photos that are not photos. These tests write such values straight into the
store, past every entry check, and read the outputs back the way a user would.
"""

from __future__ import annotations

import io
import json
import re
import struct
import warnings
import zlib
from datetime import date

import pytest
from docx import Document
from markdown_it import MarkdownIt
from openpyxl import load_workbook
from PIL import Image
from rich.text import Text

from inspect_cli import media, paths
from inspect_cli.cli.render import SafeConsole, table
from inspect_cli.config import NoticeSettings, OfficeSettings
from inspect_cli.excel.common import (
    CELL_LIMIT,
    HEADER_LIMIT,
    TRUNCATED,
    Column,
    Formats,
    TableSheet,
    close_workbook,
    new_workbook,
    page_header,
    thumbnail,
)
from inspect_cli.media import photo_jpeg
from inspect_cli.notice import build_notice
from inspect_cli.notice_docx import write_docx
from inspect_cli.store import Store

from .conftest import docx_pictures, make_image
from .test_excel import PERIOD, TODAY, problem_city_from_scratch
from .test_notice import WEEK

# Characters XML 1.0 forbids, a colour escape sequence: python-docx refuses the first two.
CONTROLS = "墙面\v污损\x00严重\x1b[31m红色\x1b[0m"
CONTROLS_SHOWN = "墙面污损严重红色"
# A window title set by an OSC sequence, then a cleared screen.
TRAP = "\x1b]0;pwned\x07\x1b[2J"
HOSTILE = "[点我](javascript:alert(1)) <script>alert(1)</script> <img src=x onerror=alert(1)> ![图](http://x/y.png) a|b"
THIS_WEEK = "found_date BETWEEN '2026-11-16' AND '2026-11-22'"
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def problem_city(from_template, monkeypatch):
    """test_excel's problem city, built once per session and copied: each test spoils its own."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    return from_template("problem-city", problem_city_from_scratch, {"INSPECT_CLI_TODAY": TODAY})


def stored(cli, sql: str, *params: object) -> None:
    """Write straight into the database, as an older release or a merge might have."""
    if isinstance(cli.db, str):
        # PostgreSQL's text cannot hold NUL at all, so nothing could have stored one there.
        params = tuple(p.replace("\x00", "") if isinstance(p, str) else p for p in params)
    with Store(cli.db) as store:
        store.conn.execute(sql, params)


def problem_numbers(cli) -> list[str]:
    return [p["no"] for p in json.loads(cli.ok("issue", "list", *PERIOD, "--json").stdout)]


def docx_texts(path) -> list[str]:
    doc = Document(str(path))
    cells = [cell.text for t in doc.tables for row in t.rows for cell in row.cells]
    return [p.text for p in doc.paragraphs] + cells


# --- the Word notice ---------------------------------------------------------------------------


def test_word_notice_is_written_whatever_the_text_holds(problem_city, tmp_path):
    cli = problem_city
    stored(cli, f"UPDATE problems SET description = ? WHERE {THIS_WEEK}", CONTROLS)
    # Settings are not cleaned at entry either: YAML escapes put controls in them.
    config = tmp_path / "config.yaml"
    config.write_text('notice:\n  title: "督\\v查通报"\noffice:\n  name: "创城办\\e[31m"\n', encoding="utf-8")
    path = tmp_path / "通报.docx"
    cli.ok("--config", config, "notice", *WEEK, "-o", path)
    texts = docx_texts(path)
    assert texts[0] == "督查通报"
    assert any(t.startswith("创城办") for t in texts)  # the 落款, written whatever it holds
    assert sum(CONTROLS_SHOWN in t for t in texts) >= 3  # the typical cases and the overdue table
    assert not [t for t in texts if re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", t)]

    # Neither SQLite nor the settings file can hand over a lone surrogate (both insist on
    # UTF-8), but the writer takes a Notice from anywhere.
    with Store(cli.db) as store:
        notice = build_notice(
            store, date(2026, 11, 16), date(2026, 11, 22), OfficeSettings(), NoticeSettings(), number=1
        )
    notice.title = "督\ud800查通报"
    write_docx(notice, tmp_path / "surrogate.docx", paths.media_dir(cli.db))
    assert docx_texts(tmp_path / "surrogate.docx")[0] == "督查通报"


# --- the Markdown notice -----------------------------------------------------------------------


def cells_per_row(markdown: str) -> list[int]:
    """Cells in each raw table line, split at pipes no backslash escapes, as GFM splits them."""
    return [len(re.split(r"(?<!\\)\|", line)) - 2 for line in markdown.splitlines() if line.startswith("| ")]


def test_markdown_notice_shows_stored_text_and_runs_none_of_it(problem_city, tmp_path):
    cli = problem_city
    stored(cli, f"UPDATE problems SET description = ? WHERE {THIS_WEEK}", f"# 标题\n- 列表 {HOSTILE}\n1. 编号")
    stored(cli, "UPDATE problems SET unit = ? WHERE unit = '市场监管局'", f"监管|局 {HOSTILE}")
    stored(cli, "UPDATE sites SET name = ? WHERE code = 'NMSC-001'", f"农贸<b>市场</b> {HOSTILE}")
    config = tmp_path / "config.yaml"
    config.write_text('notice:\n  title: "[通报](javascript:x)"\n  signature: "- 落款"\n', encoding="utf-8")
    path = tmp_path / "通报.md"
    cli.ok("--config", config, "notice", *WEEK, "-o", path)
    markdown = path.read_text(encoding="utf-8")

    assert "<script" not in markdown and "<img" not in markdown and "<b>" not in markdown
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown)
    # Every table line has as many cells as its header: stored pipes and line breaks stay inside.
    tables = [block for block in markdown.split("\n\n") if block.startswith("| ")]
    assert len(tables) == 5
    for block in tables:
        counts = cells_per_row(block)
        assert len(set(counts)) == 1, block

    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    html = parser.render(markdown)
    assert (
        "<script" not in html and "<b>" not in html and "javascript:" not in "".join(re.findall(r'href="[^"]*"', html))
    )
    images = re.findall(r'<img src="([^"]*)"', html)
    assert images and all(src.startswith("%E9%80%9A%E6%8A%A5_%E7%85%A7%E7%89%87/") for src in images)  # 通报_照片/
    # Only the notice's own headings and lists: none opened by stored text.
    headings = [t for t in parser.parse(markdown) if t.type == "inline" and "标题" in t.content]
    assert all("列表" in h.content for h in headings)  # "# 标题" stayed inside its sentence
    assert "<h1>[通报](javascript:x)</h1>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as typed
    assert "<p>- 落款　" in html


# --- the terminal ------------------------------------------------------------------------------


def test_terminal_output_carries_no_escape_sequences(problem_city):
    cli = problem_city
    stored(cli, "UPDATE sites SET name = ? WHERE code = 'NMSC-001'", f"东城农贸市场{TRAP}\u202e")
    stored(cli, f"UPDATE problems SET description = ? WHERE {THIS_WEEK}", f"{CONTROLS}{TRAP}")
    number = problem_numbers(cli)[0]
    results = [
        cli.ok("site", "show", "NMSC-001"),
        cli.ok("site", "list"),
        cli.ok("issue", "list"),
        cli.ok("issue", "show", number),
        cli("recheck", "NMSC-001", "--by", "张三", input="q\n"),  # prints with out.print directly
        cli("site", "show", "\x1b[31mX" + TRAP),  # the error line echoes the argument
    ]
    assert "找不到点位 'X'" in results[-1].stderr
    for result in results:
        shown = result.stdout + result.stderr
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]", shown), shown
        assert "pwned" not in shown
    assert "东城农贸市场" in results[0].stdout and CONTROLS_SHOWN in results[3].stdout
    assert f"问题：{CONTROLS_SHOWN}" in results[4].stdout

    # JSON keeps every value exact, with what a terminal would act on written as \u escapes.
    raw = cli.ok("issue", "list", "--json").stdout
    assert "\x1b" not in raw and "\u202e" not in raw and "\\u202e" in raw
    assert {p["site_name"] for p in json.loads(raw)} >= {f"东城农贸市场{TRAP}\u202e"}


def test_console_keeps_styles_and_drops_what_stored_text_adds():
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=True, color_system="standard", no_color=False, width=100)
    console.print(Text.assemble(("红色", "red"), (f"点位{TRAP}名称", "bold"), "\u202e尾"))
    console.print(table(["名称", "说明"], [[f"一{TRAP}二", Text("三\x1b[8m四", style="green")]]))
    console.print(f"直接打印{TRAP}", markup=False)
    written = buffer.getvalue()
    assert "\x1b" not in SGR.sub("", written) and "pwned" not in written and "\u202e" not in written
    assert re.search(r"\x1b\[31m红色", written) and re.search(r"\x1b\[1m点位名称", written)
    assert "一二" in written and re.search(r"\x1b\[32m三四", written)


# --- Excel ---------------------------------------------------------------------------------------


def test_report_cells_hold_long_odd_and_xml_shaped_text(problem_city, tmp_path):
    cli = problem_city
    first, second, third = problem_numbers(cli)
    stored(cli, "UPDATE problems SET description = ? WHERE no = ?", CONTROLS + "长" * 50_000, first)
    stored(cli, "UPDATE problems SET description = ? WHERE no = ?", "<r>a & b</r>", second)
    stored(cli, "UPDATE problems SET description = ? WHERE no = ?", "😀" * 20_000, third)
    path = tmp_path / "r.xlsx"
    cli.ok("export", "report", *PERIOD, "-o", path)
    sheet = load_workbook(path)["问题清单"]
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=3)}
    long = rows[first][5].value
    assert len(long) == CELL_LIMIT and long.startswith(CONTROLS_SHOWN + "长") and long.endswith(TRUNCATED)
    assert 400 < sheet.row_dimensions[rows[first][0].row].height <= 409  # Excel's tallest row
    assert rows[second][5].value == "<r>a & b</r>"
    # Excel counts a character beyond U+FFFF twice; the marker still fits.
    emoji = rows[third][5].value
    assert emoji.endswith(TRUNCATED) and len(emoji.encode("utf-16-le")) // 2 <= CELL_LIMIT


def test_unit_names_in_headers_and_sheet_names(problem_city, tmp_path, recwarn):
    cli = problem_city
    unit = "R&G[城管]:*?/\\ &P"
    stored(cli, "UPDATE problems SET unit = ? WHERE unit = '市场监管局'", unit)
    config = tmp_path / "config.yaml"
    config.write_text("office:\n  name: 创城办&G\n", encoding="utf-8")
    cli.ok("--config", config, "export", "rectification", "-o", tmp_path / "out")
    sheet = next(
        book["整改清单"]
        for book in map(load_workbook, (tmp_path / "out").glob("*.xlsx"))
        if "R＆G" in book["整改清单"].oddHeader.center.text
    )
    assert sheet.oddHeader.center.text.startswith("创城办＆G 整改通知单 — R＆G[城管]:*?/\\ ＆P")
    assert not [w for w in recwarn if "xlsxwriter" in w.filename]  # XlsxWriter drops a header it warns about

    header = page_header("单位" * 300, '&C&"宋体,Bold"')
    assert len(header) == HEADER_LIMIT and header.endswith("…")

    book = tmp_path / "names.xlsx"
    workbook = new_workbook(book)
    formats = Formats(workbook)
    wanted = [unit + "长" * 40, unit + "长" * 40, "History", "'引号'", "\x1b[31m", "长" * 30 + "😀"]
    for name in wanted:
        TableSheet(workbook, formats, name, [Column("问题")], name).finish()
    close_workbook(workbook, book)
    names = load_workbook(book).sheetnames
    assert len(names) == len(wanted) and len({n.lower() for n in names}) == len(names)
    assert all(len(n.encode("utf-16-le")) // 2 <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names)
    assert names[0].startswith("R&G_城管") and names[1] == names[0][:28] + "(2)"
    assert names[2:] == ["History_", "引号", "工作表", "长" * 30]


# --- photos --------------------------------------------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width × height pixels in a few bytes: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_unreadable_photos_give_no_thumbnail_and_no_warning(tmp_path, monkeypatch):
    good = make_image(tmp_path / "good.jpg", "blue", (400, 300))
    (tmp_path / "bomb.png").write_bytes(png_header(30_000, 30_000))
    (tmp_path / "truncated.jpg").write_bytes(good.read_bytes()[:400])
    (tmp_path / "text.jpg").write_text("不是照片", encoding="utf-8")
    (tmp_path / "folder.jpg").mkdir()
    cache: dict[str, bytes | None] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may reach the terminal as a Python warning
        for name in ("bomb.png", "truncated.jpg", "text.jpg", "folder.jpg", "missing.jpg"):
            assert thumbnail(tmp_path, name, cache) is None, name
        # Beyond the limit photos are taken in under (media.MAX_PIXELS): refused, silently.
        monkeypatch.setattr(media, "MAX_PIXELS", 400 * 300 - 1)
        assert photo_jpeg(good, (128, 72)) is None
        monkeypatch.setattr(media, "MAX_PIXELS", 400 * 300)
        assert photo_jpeg(good, (128, 72)) is not None


def test_phone_photos_come_out_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° to view": how phones store a portrait photo
    path = tmp_path / "portrait.jpg"
    Image.new("RGB", (400, 300), "red").save(path, exif=exif)
    with Image.open(io.BytesIO(photo_jpeg(path, (128, 72)))) as thumb:
        assert thumb.size == (54, 72)


@pytest.mark.parametrize("damage", ["truncated", "not an image", "missing"])
def test_notice_leaves_out_a_photo_it_cannot_read(problem_city, tmp_path, damage):
    cli = problem_city
    media = paths.media_dir(cli.db)
    for photo in media.rglob("*.jpg"):
        if damage == "truncated":
            photo.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
        elif damage == "not an image":
            photo.write_text("<html>不是照片</html>", encoding="utf-8")
        else:
            photo.unlink()
    docx = cli.ok("notice", *WEEK, "-o", tmp_path / "n.docx")
    assert "典型问题照片 0 张" in docx.stdout
    assert docx_pictures(tmp_path / "n.docx")[0] == 0
    assert any(t.startswith("1. ") for t in docx_texts(tmp_path / "n.docx"))  # the cases themselves stay
    md = cli.ok("notice", *WEEK, "-o", tmp_path / "n.md")
    images = [line for line in (tmp_path / "n.md").read_text(encoding="utf-8").splitlines() if "![" in line]
    assert "典型问题照片 0 张" in md.stdout and all("图表_" in line for line in images)  # charts only


def test_a_photo_accepted_at_entry_is_shown_whatever_pillows_own_threshold(tmp_path, monkeypatch):
    """One pixel limit for taking a photo in and for showing it (media.MAX_PIXELS)."""
    path = tmp_path / "p.png"
    Image.new("RGB", (60, 60), "red").save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 2000)  # Pillow would warn: a "bomb" to it
    assert media.photo_jpeg(path, (40, 40)) is not None
    monkeypatch.setattr(media, "MAX_PIXELS", 1000)
    assert media.photo_jpeg(path, (40, 40)) is None
