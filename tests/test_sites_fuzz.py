"""Whatever a spreadsheet cell holds, an import ends in success or in our own error, never half-way."""

from __future__ import annotations

import csv
import io
import math
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from inspect_cli.checklist import load_checklists
from inspect_cli.errors import InputError
from inspect_cli.sites import import_register
from inspect_cli.store import Store
from inspect_cli.text import MAX_NAME

from .conftest import DATA, SHIPPED, Cli

HEADER = ["点位编号", "点位名称", "点位类型", "所属街道", "具体地址", "联系电话", "经度", "纬度"]
# What no stored text may hold (the entry cleaning removes them).
CONTROL = {chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]} | set("\u202e\u2066\n\t")

text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from("\x00\x01\x1b\x7f\x9b\u202e\r\n\t =#,\"'"),
        st.sampled_from("东城农贸市场公园😀🏠"),
    ),
    max_size=40,
)
cell = st.one_of(
    st.none(),
    text,
    st.text(alphabet="市路", min_size=MAX_NAME - 2, max_size=MAX_NAME + 2),
    st.just("园" * 10_000),
    st.just("\x00" * 50),
    st.sampled_from(["#N/A", "#DIV/0!", "=SUM(A1:A3)", "nan", "inf", "-0", "1e400", "ＮＭＳＣ－００１", "NMSC-001"]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
)


def mostly(valid: st.SearchStrategy, wild: st.SearchStrategy = cell) -> st.SearchStrategy:
    """Mostly a value the column accepts: with eight columns, a wild cell in one row in two."""
    return st.integers(0, 11).flatmap(lambda n: wild if n == 0 else valid)


# Values that import, some only after cleaning (controls, full-width letters, the longest
# names); and a code and a name that must not get in (东城-001, 101 characters).
code = st.one_of(st.none(), st.sampled_from(["NMSC-001", "nmsc-002", "GY-9", "ＧＹ－１２", "东城-001"]))
name = st.one_of(
    st.sampled_from(
        ["东城农贸市场", "人民公园", "新市场", "东城\x1b[31m市场\x00", "\u202e公园", "市" * (MAX_NAME + 1)]
    ),
    text.filter(str.strip),
    st.text(alphabet="市路", min_size=MAX_NAME - 1, max_size=MAX_NAME),
)
site_type = st.sampled_from(["公园", "农贸市场", "菜市场", "GY", "小区", " ＧＹ "])
free_text = st.one_of(st.none(), text, st.integers(0, 10**12), st.dates(date(2000, 1, 1)), st.booleans())
lng = st.one_of(st.none(), st.floats(-180, 180), st.sampled_from(["113.6", "１１３.６", "-0"]))
lat = st.one_of(st.none(), st.floats(-90, 90))
row = st.tuples(
    mostly(code),
    mostly(name),
    mostly(site_type),
    mostly(free_text),
    mostly(free_text),
    mostly(free_text),
    mostly(lng),
    mostly(lat),
).map(list)
rows = st.lists(row, min_size=1, max_size=3)


def write_xlsx(path: Path, body: list[list[object]]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path), {"nan_inf_to_errors": True, "default_date_format": "yyyy-mm-dd", "in_memory": True}
    )
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for r, values in enumerate(body, start=1):
        for c, value in enumerate(values):
            # write() turns "=…" into a formula, as Excel does when such text is typed.
            sheet.write(r, c, value)
    workbook.close()


def write_csv(path: Path, body: list[list[object]], encoding: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows([["" if v is None else str(v) for v in values] for values in body])
    path.write_bytes(buffer.getvalue().encode(encoding))


def assert_clean(store: Store) -> None:
    for site in store.list_sites():
        for value in (site.code, site.name, site.street, site.address, site.phone):
            assert value is None or not (set(value) & CONTROL), repr(value)
        assert len(site.name) <= MAX_NAME and site.code.isascii()
        assert site.lng is None or math.isfinite(site.lng)


def import_and_check(store: Store, checklists, path: Path) -> None:
    before = store.list_sites()
    try:
        import_register(store, checklists, path)
    except InputError:
        assert store.list_sites() == before
        event("refused")
    else:
        event("imported")
    assert_clean(store)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=rows, encoding=st.sampled_from(["utf-8-sig", "gb18030"]))
def test_any_cells_import_or_fail_cleanly(checklists, body, encoding):
    """Slow (about 5 s): 40 random registers, each written as CSV and as an Excel file and imported."""
    with tempfile.TemporaryDirectory() as folder, Store(":memory:") as store:
        import_register(store, checklists, DATA / "sites.csv")
        xlsx = Path(folder) / "台账.xlsx"
        write_xlsx(xlsx, body)
        import_and_check(store, checklists, xlsx)
        csv_path = Path(folder) / "台账.csv"
        write_csv(csv_path, body, encoding)
        import_and_check(store, checklists, csv_path)


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("seed") / "inspect.sqlite"
    with Store(db) as store:
        import_register(store, load_checklists([SHIPPED]), DATA / "sites.csv")
    return db


# Each CLI run builds the command tree and loads the checklists (~0.6 s): few examples here,
# the breadth is in the test above.
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=rows, kind=st.sampled_from(["xlsx", "csv"]))
def test_any_cells_through_the_cli(seeded_db, body, kind):
    with tempfile.TemporaryDirectory() as folder:
        cli = Cli(Path(folder) / "inspect.sqlite")
        shutil.copyfile(seeded_db, cli.db)
        path = Path(folder) / f"台账.{kind}"
        if kind == "xlsx":
            write_xlsx(path, body)
        else:
            write_csv(path, body, "utf-8-sig")
        with Store(cli.db) as store:
            before = store.list_sites()
        result = cli("site", "import", path)
        output = result.stdout + result.stderr
        assert result.exit_code in (0, 2, 3, 4), output
        assert "Traceback" not in output and "内部错误" not in output, output
        with Store(cli.db) as store:
            if result.exit_code != 0:
                assert store.list_sites() == before
            assert_clean(store)
