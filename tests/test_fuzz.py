"""Property tests: whatever a user types or a unit sends back, the tool answers with success or
its own error (exit 2, 3 or 4), never an internal error, and a refusal changes nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell

from inspect_cli.errors import InputError
from inspect_cli.text import MAX_NAME, MAX_TEXT, clean

from .conftest import DATA, Cli

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TODAY = "2026-11-30"

# Text people paste: CJK, emoji, controls and escape sequences, bidi overrides, Markdown and
# formula look-alikes, a lone surrogate (a badly encoded argument), and field-length edges.
SPECIAL = [
    "站牌\v破损",
    "\x1b[31m红字\x1b[0m",
    "\x1b]0;title\x07",
    "\u202e反向\u202c",
    "a\x00b",
    '=HYPERLINK("http://x")',
    "[点我](javascript:alert(1))",
    "<script>alert(1)</script>",
    "\ud800坏",
    "   ",
    "行一\r\n行二",
    "破" * MAX_TEXT,
    "破" * (MAX_TEXT + 1),
    "局" * MAX_NAME,
    "局" * (MAX_NAME + 1),
    "🚧施工围挡🚧",
]
TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="\x00\x07\x0b\x1b[]();\t\n\r\u202e\u2028 破损-=+@#*_|<>", max_size=40),
    st.sampled_from(SPECIAL),
)


def whole_database(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = {t: sorted(map(repr, conn.execute(f"SELECT * FROM {t}"))) for t in tables}
    conn.close()
    return rows


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A city with one open problem (ZG-2026-0001) and one reported fixed (ZG-2026-0002)."""
    folder = tmp_path_factory.mktemp("fuzz")
    cli = Cli(folder / "base.sqlite")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INSPECT_CLI_TODAY", TODAY)
        cli.ok("site", "import", DATA / "sites.csv")
        cli.ok("record", "GJZD-001", "1", "fail", "--note", "站牌破损", "--date", "2026-11-18", "-i", "张三")
        cli.ok("record", "GJZD-001", "2", "fail", "--note", "地面脏", "--date", "2026-11-18")
        cli.ok("issue", "fixed", "ZG-2026-0002", "--note", "已清扫", "--date", "2026-11-19")
        cli.ok("export", "rectification", "-o", folder / "sheets")
    return folder


def fresh(base: Path, tmp_path: Path, name: str) -> Cli:
    target = tmp_path / f"{name}.sqlite"
    shutil.copyfile(base / "base.sqlite", target)
    return Cli(target)


def commands(text: str) -> list[list[str]]:
    """Every command that stores a piece of text the user typed."""
    return [
        ["record", "GJZD-001", "3", "fail", "--note", text, "--date", "2026-11-18"],
        ["record", "GJZD-001", "3", "fail", "--unit", text, "--date", "2026-11-18"],
        ["record", "GJZD-001", "3", "pass", "-i", text, "--date", "2026-11-20"],
        ["issue", "fixed", "ZG-2026-0001", "--note", text, "--date", "2026-11-20"],
        ["issue", "fixed", "ZG-2026-0001", "--note", "已更换", "--by", text],
        ["issue", "recheck", "ZG-2026-0002", "--fail", "--note", text, "--date", "2026-11-20"],
        ["issue", "recheck", "ZG-2026-0001", "--pass", "--force", "--reason", text],
        ["issue", "dismiss", "ZG-2026-0001", "--reason", text],
        ["issue", "defer", "ZG-2026-0001", "--until", "2027-03-31", "--reason", text],
        ["issue", "assign", "ZG-2026-0001", "--unit", text],
        ["site", "add", "--name", text, "--type", "公园", "--street", "东城街道"],
        ["site", "add", "--name", "新公园", "--type", "公园", "--street", text, "--unit", text],
        ["site", "list", "--search", text],
        ["issue", "list", "--unit", text],
        ["site", "show", text],
    ]


def check_outcome(result, before: dict, after: dict) -> None:
    output = result.stdout + result.stderr
    assert result.exit_code in (0, 2, 3, 4), output
    assert "Traceback" not in output and "内部错误" not in output, output
    if result.exit_code:
        assert result.stderr.startswith("错误："), output
        assert after == before, "a refused command changed the database"


@FUZZ
@given(text=TEXT, which=st.integers(min_value=0, max_value=14))
def test_any_text_in_any_field(base, tmp_path, monkeypatch, text, which):
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    cli = fresh(base, tmp_path, "text")
    before = whole_database(cli.db)
    result = cli(*commands(text)[which])
    check_outcome(result, before, whole_database(cli.db))


@FUZZ
@given(text=TEXT)
def test_stored_text_is_what_entry_cleaning_gives(base, tmp_path, monkeypatch, text):
    """A description is stored exactly as `clean` gives it, or refused for `clean`'s reason."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    cli = fresh(base, tmp_path, "clean")
    try:
        expected = clean(text, "问题描述")
    except InputError as exc:
        result = cli("record", "GJZD-001", "3", "fail", "--note", text, "--date", "2026-11-18")
        # Undecodable bytes are refused for every argument before any command sees them.
        undecodable = "错误：命令行参数含有无法识别的字符："
        assert result.exit_code == 2
        assert result.stderr == f"错误：{exc.message}\n" or result.stderr.startswith(undecodable)
        return
    result = cli("record", "GJZD-001", "3", "fail", f"--note={text}", "--date", "2026-11-18")
    assert result.exit_code == 0, result.stdout + result.stderr
    (found,) = [p for p in json.loads(cli.ok("issue", "list", "--json").stdout) if p["no"] == "ZG-2026-0003"]
    assert found["description"] == expected
    if expected is not None:
        assert expected == unicodedata.normalize("NFC", expected) and "\x00" not in expected


# --- returned 整改通知单 ------------------------------------------------------------------------

CELL = st.one_of(
    st.none(),
    TEXT.map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s.encode("utf-8", "replace").decode("utf-8"))),
    st.sampled_from(["已整改", "整改中", "无法整改需协调", "已整改 ", "已 整改", "_x000B_", "=1+1", "#N/A"]),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
)
FILL_IN = ["整改情况", "整改完成日期", "整改责任人", "状态"]
ANY_COLUMN = [*FILL_IN, "问题编号", "问题描述", "发现日期"]


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2), st.sampled_from(ANY_COLUMN), CELL), min_size=1, max_size=8
    ),
    partial=st.booleans(),
)
def test_any_returned_sheet(base, tmp_path, monkeypatch, edits, partial):
    """Slow (about 4 s): 25 random returned sheets, each written with openpyxl and imported."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    cli = fresh(base, tmp_path, "sheet")
    (sheet,) = [p for p in (base / "sheets").glob("*.xlsx") if "公交集团" in p.name]
    book = load_workbook(sheet)
    table = book["整改清单"]
    top = next(r for r in range(1, 31) if table.cell(r, 1).value == "问题编号")  # below the letter on top
    header = [c.value for c in table[top]]
    for row, title, value in edits:
        cell = table.cell(row + top + 1, header.index(title) + 1)
        if not isinstance(cell, MergedCell):  # the 签收 block's boxes: a unit writes by hand there
            cell.value = value
    returned = tmp_path / "returned.xlsx"
    book.save(returned)
    args = ["import", "rectification", str(returned), "--json"] + (["--partial"] if partial else [])
    before = whole_database(cli.db)
    first = cli(*args)
    after = whole_database(cli.db)
    output = first.stdout + first.stderr
    assert first.exit_code in (0, 2, 4), output
    assert "Traceback" not in output and "内部错误" not in output, output
    report = json.loads(first.stdout)
    if not partial and any(r["outcome"] == "refused" for f in report for r in f["rows"]):
        assert after == before, "a refused file changed the database"
    # Importing the same file again changes nothing.
    again = cli(*args)
    assert again.exit_code in (0, 2, 4), again.stdout + again.stderr
    assert whole_database(cli.db) == after
    assert not any(r["outcome"] == "applied" for f in json.loads(again.stdout) for r in f["rows"])
