"""Property tests: no checklist folder, however broken or hostile, gets past the loader as
anything but a `ChecklistError`, and `checklist validate` agrees with loading."""

from __future__ import annotations

import math
import re
import string
import tempfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from inspect_cli.checklist import (
    MAX_DEADLINE_DAYS,
    MAX_SCORE,
    Checklist,
    ChecklistSet,
    load_checklists,
    validate_paths,
)
from inspect_cli.cli import app
from inspect_cli.errors import ChecklistError
from inspect_cli.text import MAX_NAME, MAX_TEXT

FUZZ = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)

# Pieces of YAML syntax and of hostile checklists, glued together with random text.
PIECES = [
    "&a ",
    "*a",
    "&b [",
    "*b",
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    ", ",
    "? ",
    "\n",
    "  ",
    "\t",
    "'",
    '"',
    "#",
    "|\n",
    ">-\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "!!python/object:os.system ",
    "!!python/name:os.system ",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!map ",
    "!!seq ",
    "!!set ",
    "!!omap ",
    "!!timestamp ",
    "!!binary ",
    "!custom ",
    "<<: ",
    '"\\u0000"',
    '"\\ud800"',
    '"\\e[31m"',
    "\x00",
    "\x1b[2J",
    "\u202e",
    "\ufeff",
    "\x85",
    ".nan",
    ".inf",
    "-.inf",
    "9" * 60,
    "0x1F",
    "2026-13-01",
    "2026-11-01",
    "2026-02-30 25:61:61",
    "site_type: ",
    "code: ",
    "edition: ",
    "aliases: ",
    "fragment: ",
    "items:\n",
    "  - id: ",
    "    text: ",
    "    score: ",
    "    deduct: ",
    "    deadline_days: ",
    "  - include: ",
    "    exclude: ",
    "common/f.yaml",
    "../",
    "/etc/passwd",
]
random_text = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(alphabet=st.characters(codec="utf-8"), max_size=8)),
    max_size=40,
).map("".join)

VALID_TYPE = (
    "site_type: 有效类型\ncode: YX\nedition: '2026'\nitems:\n"
    "  - id: v-01\n    text: 有效检查项\n    category: 服务设施\n    score: 5\n"
    "  - include: common/f.yaml\n"
)


@contextmanager
def folder_with(files: dict[str, bytes]):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp).resolve() / "mine"
        for name, body in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        yield folder


def load_outcome(folders: list[Path]) -> tuple[ChecklistSet | None, list[str]]:
    """What loading gives: the set, or the problem lines. Any other exception fails the test."""
    try:
        return load_checklists(folders), []
    except ChecklistError as exc:
        assert exc.details, "a ChecklistError without problem lines"
        return None, exc.details


def assert_well_formed(lines: list[str], folder: Path) -> None:
    for line in lines:
        assert "\n" not in line and "\r" not in line, line
        assert line.startswith(str(folder)), line
        assert "Traceback" not in line and "Error" not in line, line


def assert_sane(checklist: Checklist) -> None:
    assert checklist.items
    names = [checklist.site_type, checklist.code, *checklist.aliases]
    for item in checklist.items:
        names += [item.id, item.category, item.unit, item.indicator]
        assert math.isfinite(item.score) and 0 < item.score <= MAX_SCORE
        assert item.deduct is None or 0 < item.deduct <= item.score
        assert item.deadline_days is None or 0 <= item.deadline_days <= MAX_DEADLINE_DAYS
        for text in (item.text, item.standard, item.tips):
            assert text is None or (0 < len(text) <= MAX_TEXT and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text))
    for name in names:
        assert name is None or (0 < len(name) <= MAX_NAME and not re.search(r"[\x00-\x1f\x7f]", name))
    assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", checklist.edition)


def check_folder(folder: Path) -> None:
    loaded, lines = load_outcome([folder])
    assert_well_formed(lines, folder)
    reported = [str(p) for _, _, problems in validate_paths([folder], [folder]) for p in problems]
    assert_well_formed(reported, folder)
    assert (loaded is not None) == (not reported)
    # Loading reports a broken shared fragment once; validation once per file including it.
    assert set(lines) == set(reported)
    for checklist in loaded or ():
        assert_sane(checklist)


@settings(FUZZ, max_examples=80)
@given(top=random_text, fragment=random_text, encode_errors=st.booleans())
def test_any_text_either_loads_or_is_a_checklist_error(top, fragment, encode_errors):
    # "surrogatepass" writes lone surrogates as bytes UTF-8 forbids: the undecodable case.
    errors = "surrogatepass" if encode_errors else "ignore"
    files = {
        "t.yaml": top.encode("utf-8", errors),
        "v.yaml": VALID_TYPE.encode(),
        "common/f.yaml": fragment.encode("utf-8", errors),
    }
    with folder_with(files) as folder:
        check_folder(folder)


# --- structured documents -----------------------------------------------------------


def mostly(valid: st.SearchStrategy, wrong: st.SearchStrategy) -> st.SearchStrategy:
    """Nineteen draws in twenty valid: with wrong values everywhere nothing would ever load,
    and "validates clean exactly when it loads" needs both outcomes."""
    return st.integers(0, 19).flatmap(lambda n: wrong if n == 0 else valid)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    st.text(max_size=20),
    st.text(alphabet=st.characters(max_codepoint=0x20), max_size=5),
    st.dates(),
    st.sampled_from(["2026", "2026-13", "0000", "../x.yaml", "/etc/passwd", "common/f.yaml", "a" * 150]),
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)
# Names as people write them, now and then with a control character or stray spaces to clean.
name = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(["菜场", "公厕", "Park", "入口", "公益广告"]),
    st.text(alphabet="市场 区\t\x1b\u202eABC12", max_size=6),
)
wrong_name = junk | st.sampled_from(["", "   ", "\x00", "名" * 101])
item_id = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=5).filter(
    lambda s: s[0] != "-"
)
score = st.integers(1, 100) | st.floats(0.5, 100)
wrong_number = junk | st.sampled_from([0, -1, 100.5, 101, 10**30, math.nan, math.inf, -math.inf, True])
edition = st.one_of(
    st.integers(2000, 2100),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.from_regex(r"\A20[0-9]{2}(-(0[1-9]|1[0-2])(-(0[1-9]|1[0-9]|2[0-8]))?)?\Z"),
)
wrong_edition = junk | st.sampled_from(["2026-13", "2026-02-30", "abc", "0000", 1999, "2026-11-01 08:00:00"])
plain_item = st.fixed_dictionaries(
    {
        "id": mostly(item_id, junk),
        "text": mostly(name, wrong_name),
        "category": mostly(name, wrong_name),
        "score": mostly(score, wrong_number),
    },
    optional={
        "deduct": mostly(st.just(0.5), wrong_number),
        "deadline_days": mostly(st.integers(0, 365), wrong_number | st.sampled_from([366, 1.5])),
        "unit": mostly(name, wrong_name),
        "tips": mostly(st.text(max_size=40), junk),
        "photo_required": mostly(st.booleans(), junk),
    },
)
item = st.one_of(
    mostly(plain_item, st.builds(lambda entry, typo: {**entry, "scroe": typo}, plain_item, junk)),
    st.fixed_dictionaries(
        {"include": mostly(st.just("common/f.yaml"), junk | st.sampled_from(["/etc/passwd", "../mine/t0.yaml"]))},
        optional={"exclude": mostly(st.just(["f-01"]), junk)},
    ),
)
items = mostly(st.lists(item, min_size=1, max_size=3, unique_by=lambda i: str(i.get("id", i.get("include")))), junk)
checklist_doc = st.fixed_dictionaries(
    {
        "site_type": mostly(st.sampled_from(["甲", "乙", "丙", "农贸市场"]), wrong_name),
        "code": mostly(st.sampled_from(["JA", "YI", "BING", "NMSC"]), wrong_name),
        "edition": mostly(edition, wrong_edition),
        "items": items,
    },
    optional={"aliases": mostly(st.lists(name, max_size=2), junk)},
)
fragment_doc = st.fixed_dictionaries(
    {
        "fragment": mostly(name, wrong_name),
        "items": mostly(
            st.just([{"id": "f-01", "text": "公共检查项", "category": "文明行为", "score": 2}]),
            items,
        ),
    }
)
document = mostly(checklist_doc, junk | fragment_doc)


def dump(data: object) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


@settings(FUZZ, max_examples=50)
@given(tops=st.lists(document, min_size=1, max_size=2), fragment=mostly(fragment_doc, document))
def test_any_document_validates_clean_exactly_when_it_loads(tops, fragment):
    """Slow (about 2 s): 50 random checklist folders, each written to disk, validated and loaded."""
    files = {f"t{index}.yaml": dump(doc) for index, doc in enumerate(tops)}
    files["common/f.yaml"] = dump(fragment)
    with folder_with(files) as folder:
        check_folder(folder)


# --- the command ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Stands in for the shipped folder: one type and code to collide with, loaded in no time."""
    folder = tmp_path_factory.mktemp("base")
    (folder / "market.yaml").write_text(VALID_TYPE.replace("有效类型", "农贸市场").replace("YX", "NMSC"), "utf-8")
    (folder / "common").mkdir()
    (folder / "common" / "f.yaml").write_text(
        "fragment: 公共\nitems:\n  - id: f-01\n    text: 公共检查项\n    category: 文明行为\n    score: 2\n", "utf-8"
    )
    return folder


@pytest.fixture
def runner(base, monkeypatch) -> CliRunner:
    import typer.main
    import typer.testing

    from inspect_cli import paths

    monkeypatch.setattr(paths, "shipped_checklists_dir", lambda: base)
    # Building the command tree costs more than validating a folder: build it once.
    command = typer.main.get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _: command)
    return CliRunner()


@settings(FUZZ, max_examples=30)
@given(top=st.one_of(random_text.map(str.encode), document.map(dump)), fragment=document.map(dump))
def test_cli_validate_exits_0_or_2_and_never_crashes(runner, base, top, fragment):
    with folder_with({"t.yaml": top, "common/f.yaml": fragment}) as folder:
        db = folder.parent / "fuzz.sqlite"
        result = runner.invoke(
            app, ["--db", str(db), "--checklists", str(folder), "checklist", "validate", str(folder)]
        )
        output = result.stdout + result.stderr
        assert result.exit_code in (0, 2), output
        assert "Traceback" not in output and "内部错误" not in output, output
        loaded, _ = load_outcome([base, folder])
        assert (result.exit_code == 0) == (loaded is not None), output
