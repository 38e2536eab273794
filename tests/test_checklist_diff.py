"""`checklist diff` and `checklist editions`: what changed between two sets of checklists."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from inspect_cli.checklist import Checklist, Item
from inspect_cli.checklist.diff import Change, TypeDiff, diff_checklists, diff_type

from .conftest import SHIPPED, Cli, sql

# --- checklists written for the tests -------------------------------------------------------

BASE = [
    {"id": "a-01", "text": "入口设公平秤", "category": "服务设施", "score": 5},
    {"id": "a-02", "text": "地面干净无积水", "category": "环境卫生", "score": 5, "deduct": 1, "deadline_days": 3},
    {"id": "a-03", "text": "公益广告不少于2处", "category": "公益广告", "score": 10},
    {"id": "a-04", "text": "无乱堆乱放", "category": "秩序管理", "score": 5},
    {"id": "a-05", "text": "有禁烟标识", "category": "禁烟控烟", "score": 5},
]


def type_file(
    folder: Path,
    items: list[dict],
    *,
    site_type: str = "测试市场",
    code: str = "CS",
    edition: str = "2026",
    name: str | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{code.lower()}.yaml")
    body = {"site_type": site_type, "code": code, "edition": edition, "items": items}
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def changed(items: list[dict], item_id: str, **fields) -> list[dict]:
    return [{**item, **fields} if item["id"] == item_id else item for item in items]


def without(items: list[dict], item_id: str) -> list[dict]:
    return [item for item in items if item["id"] != item_id]


@pytest.fixture
def no_db(tmp_path, monkeypatch) -> Cli:
    """The CLI on a --db that is no database at all: a command that opened it would fail."""
    monkeypatch.chdir(tmp_path)
    garbage = tmp_path / "not-a-database.sqlite"
    garbage.write_bytes(b"not a database " * 100)
    return Cli(garbage)


def diff_json(cli: Cli, old, new) -> dict:
    return json.loads(cli.ok("checklist", "diff", str(old), str(new), "--json").stdout)


def only_type(data: dict, code: str = "CS") -> dict:
    (found,) = [t for t in data["types"] if t["code"] == code]
    return found


# --- each kind of change ----------------------------------------------------------------------


def test_every_kind_of_item_change_is_reported(no_db, tmp_path):
    type_file(tmp_path / "old", BASE, edition="2025")
    items = changed(BASE, "a-01", text="入口设公平秤，计量准确")
    items = changed(items, "a-02", category="市容环境", deadline_days=0)
    items = changed(items, "a-03", score=8, deduct=2)
    items = without(items, "a-04")
    items = changed(items, "a-05", id="b-05")
    items += [{"id": "a-06", "text": "摊位划行归市", "category": "秩序管理", "score": 4}]
    type_file(tmp_path / "new", items)

    result = no_db.ok("checklist", "diff", "old", "new")
    lines = result.stdout.splitlines()
    assert lines[3] == (
        "测试市场（CS）2025 → 2026：新增 1 项，删除 1 项，改了编号 1 项，改写 1 项，类别变化 1 项，分值变化 1 项，"
        "扣分变化 1 项，时限变化 1 项"
    )
    assert lines[0] == "旧：old（目录，1 类点位）" and lines[1] == "新：new（目录，1 类点位）"
    out = result.stdout
    for expected in (
        "原：入口设公平秤",
        "现：入口设公平秤，计量准确",
        "类别：环境卫生 → 市容环境",
        "整改时限：3 个工作日 → 立行立改",
        "分值：10 → 8",
        "每处扣分：同分值 → 2",
        "a-05 → b-05",
        "摊位划行归市",
        "无乱堆乱放",
        "满分：30 → 27",
    ):
        assert expected in out, expected

    data = only_type(diff_json(no_db, "old", "new"))
    assert data["status"] == "changed"
    assert data["edition"] == {"old": "2025", "new": "2026"}
    assert data["counts"] == {
        "added": 1,
        "removed": 1,
        "renumbered": 1,
        "reworded": 1,
        "category": 1,
        "score": 1,
        "deduct": 1,
        "deadline_days": 1,
        "other": 0,
    }
    assert [i["id"] for i in data["added"]] == ["a-06"]
    assert [i["id"] for i in data["removed"]] == ["a-04"]
    by_id = {c["id"]: c for c in data["changed"]}
    assert by_id["a-01"]["changes"] == [{"field": "text", "old": "入口设公平秤", "new": "入口设公平秤，计量准确"}]
    assert by_id["a-02"]["kinds"] == ["category", "deadline_days"]
    assert by_id["a-03"]["changes"] == [
        {"field": "score", "old": 10, "new": 8},
        {"field": "deduct", "old": None, "new": 2},
    ]
    assert by_id["b-05"] == {
        "id": "b-05",
        "old_id": "a-05",
        "text": "有禁烟标识",
        "kinds": ["renumbered"],
        "changes": [],
    }
    assert data["type_changes"] == [{"field": "edition", "old": "2025", "new": "2026"}]


def test_a_renumbered_item_is_not_a_delete_and_an_add(no_db, tmp_path):
    type_file(tmp_path / "old", BASE)
    renumbered = changed(BASE, "a-03", id="gg-01", score=6)
    type_file(tmp_path / "new", renumbered)
    data = only_type(diff_json(no_db, "old", "new"))
    assert data["added"] == [] and data["removed"] == []
    (change,) = data["changed"]
    assert (change["old_id"], change["id"], change["kinds"]) == ("a-03", "gg-01", ["renumbered", "score"])
    result = no_db.ok("checklist", "diff", "old", "new")
    assert "改了编号 1 项，分值变化 1 项" in result.stdout
    assert "a-03 → gg-01" in result.stdout


def test_other_fields_and_order(no_db, tmp_path):
    type_file(tmp_path / "old", BASE)
    items = changed(BASE, "a-01", unit="市场监管局", standard="有检定合格标识", photo_required=True)
    items = [items[1], items[0], *items[2:]]
    type_file(tmp_path / "new", items)
    data = only_type(diff_json(no_db, "old", "new"))
    assert data["counts"]["other"] == 1 and data["order_changed"] is True
    (change,) = data["changed"]
    assert [c["field"] for c in change["changes"]] == ["unit", "standard", "photo_required"]
    out = no_db.ok("checklist", "diff", "old", "new").stdout
    assert "测试市场（CS）2026：其他变化 1 项" in out
    assert "默认责任单位：（无） → 市场监管局" in out and "需拍照：否 → 是" in out
    assert "检查项顺序有调整" in out
    assert "注意：两边版本号都是 2026，内容却不同" in out


def test_types_added_removed_and_renamed(no_db, tmp_path):
    type_file(tmp_path / "old", BASE, code="CS")
    type_file(tmp_path / "old", BASE[:2], site_type="旧类型", code="CT")
    type_file(tmp_path / "new", BASE, site_type="测试集市", code="CS")
    type_file(tmp_path / "new", BASE[:3], site_type="新类型", code="CU")
    data = diff_json(no_db, "old", "new")
    assert [(t["code"], t["status"]) for t in data["types"]] == [("CS", "changed"), ("CT", "removed"), ("CU", "added")]
    assert only_type(data, "CS")["type_changes"] == [{"field": "site_type", "old": "测试市场", "new": "测试集市"}]
    assert only_type(data, "CU")["site_type"] == {"old": None, "new": "新类型"}
    assert len(only_type(data, "CU")["added"]) == 3 and len(only_type(data, "CT")["removed"]) == 2
    out = no_db.ok("checklist", "diff", "old", "new").stdout
    assert "测试市场 → 测试集市（CS）2026：检查项无变化" in out
    assert "新增点位类型：新类型（CU）2026 版，3 项，满分 20" in out
    assert "删除点位类型：旧类型（CT）2026 版，2 项，满分 10" in out
    assert "共 3 类点位：有变化 1 类，新增 1 类，删除 1 类" in out


def test_identical_sources_say_so_and_exit_0(no_db, tmp_path):
    type_file(tmp_path / "old", BASE)
    type_file(tmp_path / "new", BASE)
    result = no_db.ok("checklist", "diff", "old", "new")
    assert "两者一致：1 类点位，共 5 个检查项" in result.stdout
    data = diff_json(no_db, "old", "new")
    assert data["identical"] is True
    assert only_type(data)["status"] == "same" and only_type(data)["changed"] == []
    shipped = no_db.ok("checklist", "diff", "shipped", str(SHIPPED))
    assert "两者一致：14 类点位" in shipped.stdout


def test_json_structure_is_stable(no_db, tmp_path):
    type_file(tmp_path / "old", BASE)
    type_file(tmp_path / "new", changed(BASE, "a-01", score=6))
    data = diff_json(no_db, "old", "new")
    assert list(data) == ["old", "new", "identical", "types"]
    assert data["old"] == {"source": "old", "kind": "folder", "codes": ["CS"], "edition_id": None}
    assert list(only_type(data)) == [
        "code",
        "status",
        "site_type",
        "edition",
        "full_score",
        "items",
        "counts",
        "type_changes",
        "added",
        "removed",
        "changed",
        "order_changed",
    ]
    assert list(only_type(data)["counts"]) == [kind.value for kind in Change]


def test_a_single_file_is_compared_with_its_namesake_only(no_db, tmp_path):
    shutil.copytree(SHIPPED, tmp_path / "new")
    market = tmp_path / "new" / "nmsc.yaml"
    market.write_text(market.read_text(encoding="utf-8").replace('edition: "2026"', 'edition: "2027"'), "utf-8")
    data = diff_json(no_db, SHIPPED / "nmsc.yaml", "new")
    assert [t["code"] for t in data["types"]] == ["NMSC"]
    assert data["old"]["kind"] == "file"
    out = no_db.ok("checklist", "diff", "shipped", "new").stdout
    assert "农贸市场（NMSC）2026 → 2027：检查项无变化" in out and "共 14 类点位：有变化 1 类，无变化 13 类" in out


def test_a_folder_against_shipped_is_read_as_checklists_reads_it(no_db, tmp_path):
    """Found in review: a folder of one type was compared as if the 13 others were deleted."""
    (tmp_path / "own").mkdir()
    market = (SHIPPED / "nmsc.yaml").read_text(encoding="utf-8").replace('edition: "2026"', 'edition: "2027"')
    (tmp_path / "own" / "nmsc.yaml").write_text(market, encoding="utf-8")
    data = diff_json(no_db, "shipped", "own")
    assert {t["status"] for t in data["types"] if t["code"] != "NMSC"} == {"same"} and len(data["types"]) == 14
    out = no_db.ok("checklist", "diff", "shipped", "own").stdout
    assert "删除" not in out and "共 14 类点位：有变化 1 类，无变化 13 类" in out
    # One file against shipped: --json names the one type compared.
    single = diff_json(no_db, "shipped", tmp_path / "own" / "nmsc.yaml")
    assert single["old"]["codes"] == single["new"]["codes"] == ["NMSC"]


def test_a_folder_may_include_shipped_fragments(no_db, tmp_path):
    items = [*BASE, {"include": "common/smoking.yaml"}]
    type_file(tmp_path / "old", items)
    type_file(tmp_path / "new", [*items[1:]])
    data = only_type(diff_json(no_db, "old", "new"))
    assert [i["id"] for i in data["removed"]] == ["a-01"]


def test_a_type_renamed_under_its_code_is_compared_with_it(no_db, tmp_path):
    """An earlier edition's folder may name a shipped type's code otherwise: `--checklists`
    would refuse it on top of the shipped types, a comparison reads it on its own."""
    shutil.copytree(SHIPPED, tmp_path / "old")
    market = tmp_path / "old" / "nmsc.yaml"
    market.write_text(market.read_text(encoding="utf-8").replace("site_type: 农贸市场", "site_type: 集贸市场"), "utf-8")
    out = no_db.ok("checklist", "diff", market, "shipped").stdout
    assert "集贸市场 → 农贸市场（NMSC）2026：检查项无变化" in out
    assert "集贸市场 → 农贸市场（NMSC）" in no_db.ok("checklist", "diff", "old", "shipped").stdout


# --- errors --------------------------------------------------------------------------------------


def test_a_missing_path_exits_2(no_db, tmp_path):
    type_file(tmp_path / "new", BASE)
    result = no_db("checklist", "diff", "旧标准", "new")
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：找不到 '旧标准'：不是文件或目录")
    assert "Traceback" not in result.stdout + result.stderr


def test_a_broken_file_exits_2_with_the_loaders_lines(no_db, tmp_path):
    path = type_file(tmp_path / "old", changed(BASE, "a-02", scroe=5))
    type_file(tmp_path / "new", BASE)
    result = no_db("checklist", "diff", "old", "new")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "错误：old：测评标准有 1 处错误"
    assert (
        f"{path.relative_to(tmp_path)}:" in result.stderr and "scroe: 未知字段（是否想写 'score'？）" in result.stderr
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    result = no_db("checklist", "diff", "new", "empty")
    assert result.exit_code == 2 and "目录中没有 .yaml 文件" in result.stderr
    result = no_db("checklist", "diff", SHIPPED / "common" / "smoking.yaml", "new")
    assert result.exit_code == 2 and "中没有点位类型（只有公共检查项片段）" in result.stderr


def test_diffing_files_never_opens_the_database(no_db, tmp_path):
    type_file(tmp_path / "old", BASE)
    type_file(tmp_path / "new", changed(BASE, "a-01", score=4))
    before = no_db.db.read_bytes()
    no_db.ok("checklist", "diff", "old", "new")
    no_db.ok("checklist", "diff", "old", "shipped", "--json")
    assert no_db.db.read_bytes() == before
    missing = Cli(tmp_path / "nowhere" / "x.sqlite")
    missing.ok("checklist", "diff", "old", "new")
    assert not (tmp_path / "nowhere").exists()
    # A stored edition does need it: the garbage is refused, not overwritten.
    result = no_db("checklist", "diff", "CS@2026", "new")
    assert result.exit_code == 2 and "不是 SQLite 数据库文件" in result.stderr


# --- stored editions -----------------------------------------------------------------------------

MARKET = [
    {"id": "gg-01", "text": "入口设置公益广告不少于2处", "category": "公益广告", "score": 40},
    {"id": "ss-01", "text": "入口处设置公平秤", "category": "服务设施", "score": 30},
    {"id": "hj-01", "text": "地面干净无积水", "category": "环境卫生", "score": 30},
]


def market_folder(folder: Path, items: list[dict], edition: str) -> Path:
    type_file(folder, items, site_type="农贸市场", code="NMSC", edition=edition, name="nmsc.yaml")
    return folder


def record_with(city: Cli, folder: Path, day: str) -> None:
    city.ok("--checklists", folder, "record", "NMSC-001", "gg-01", "合格", "--date", day)


@pytest.fixture
def two_editions(city, tmp_path) -> tuple[Cli, Path, Path]:
    """NMSC-001 inspected with one folder's 农贸市场, then with a changed one, both labelled 2026."""
    first = market_folder(tmp_path / "first", MARKET, "2026")
    second = market_folder(
        tmp_path / "second", changed(changed(MARKET, "ss-01", score=20), "hj-01", id="hj-02", score=40), "2026"
    )
    record_with(city, first, "2026-11-02")
    record_with(city, first, "2026-11-03")
    record_with(city, second, "2026-11-09")
    return city, first, second


def stored_ids(db) -> list[str]:
    return [row[0] for row in sql(db, "SELECT id FROM editions WHERE checklist_code = 'NMSC' ORDER BY id")]


def test_editions_lists_what_the_database_holds(two_editions):
    city, _, _ = two_editions
    listed = json.loads(city.ok("checklist", "editions", "--json").stdout)
    assert [(e["code"], e["edition"], e["inspections"], e["items"]) for e in listed] == [
        ("NMSC", "2026", 2, 3),
        ("NMSC", "2026", 1, 3),
    ]
    first, second = listed
    assert (first["first_date"], first["last_date"], second["first_date"]) == ("2026-11-02", "2026-11-03", "2026-11-09")
    assert first["site_type"] == "农贸市场" and first["full_score"] == 100 and second["full_score"] == 100
    assert sorted(e["id"] for e in listed) == stored_ids(city.db)
    assert first["reference"] == f"NMSC@2026#{first['id'][:8]}" and first["short_id"] == first["id"][:8]
    out = city.ok("checklist", "editions").stdout
    assert first["reference"] in out and second["reference"] in out and "2026-11-09" in out
    assert "共 2 个版本" in out
    for name in ("农贸市场", "nmsc", "菜市场"):
        assert len(json.loads(city.ok("checklist", "editions", name, "--json").stdout)) == 2, name
    assert "还没有公园的测评标准版本" in city.ok("checklist", "editions", "公园").stdout
    unknown = city("checklist", "editions", "游乐场")
    assert unknown.exit_code == 3 and "未知的点位类型 '游乐场'" in unknown.stderr


def test_a_shared_label_is_refused_with_the_short_ids(two_editions):
    city, _, second = two_editions
    ids = stored_ids(city.db)
    result = city("checklist", "diff", "NMSC@2026", second)
    assert result.exit_code == 2
    assert "数据库中有 2 个内容不同的 NMSC@2026，请加上编号指定" in result.stderr
    for edition_id in ids:
        assert f"NMSC@2026#{edition_id[:8]}" in result.stderr
    assert "2 次检查使用（2026-11-02 至 2026-11-03）" in result.stderr


def test_a_stored_edition_against_a_folder(two_editions):
    city, first, second = two_editions
    listed = json.loads(city.ok("checklist", "editions", "--json").stdout)
    older = listed[0]["reference"]  # the edition first used, on 11-02
    result = city.ok("checklist", "diff", older, second)
    out = result.stdout
    assert (
        f"旧：{older}（数据库中的版本 {listed[0]['short_id']}，3 项，2 次检查使用（2026-11-02 至 2026-11-03））" in out
    )
    assert "农贸市场（NMSC）2026：改了编号 1 项，分值变化 2 项" in out
    assert "hj-01 → hj-02" in out
    # The folder's other types are not compared with one stored type, and aliases, which
    # an edition does not keep, are not reported as removed.
    data = diff_json(city, older, SHIPPED)
    assert [t["code"] for t in data["types"]] == ["NMSC"]
    assert only_type(data, "NMSC")["type_changes"] == []
    assert data["old"]["edition_id"] == listed[0]["id"] and data["old"]["kind"] == "edition"
    same = city.ok("checklist", "diff", older, first)
    assert "两者一致：1 类点位，共 3 个检查项" in same.stdout
    newer = city.ok("checklist", "diff", f"nmsc@2026#{listed[1]['short_id'].upper()}", second)
    assert "两者一致" in newer.stdout


def test_a_unique_label_needs_no_id_and_unknown_ones_exit_3(city, tmp_path):
    record_with(city, market_folder(tmp_path / "y2025", MARKET, "2025"), "2026-10-12")
    current = market_folder(tmp_path / "y2026", changed(MARKET, "gg-01", text="入口设置公益广告不少于3处"), "2026")
    out = city.ok("checklist", "diff", "NMSC@2025", current).stdout
    assert "农贸市场（NMSC）2025 → 2026：改写 1 项" in out
    result = city("checklist", "diff", "NMSC@2024", current)
    assert result.exit_code == 3
    assert result.stderr.startswith("错误：数据库中没有测评标准版本 NMSC@2024（NMSC 已保存的版本：NMSC@2025）")
    result = city("checklist", "diff", "GY@2026", current)
    assert result.exit_code == 3 and "数据库中没有 GY 的测评标准版本" in result.stderr
    result = city("checklist", "diff", "NMSC@2025#00000000", current)
    assert result.exit_code == 3
    result = city("checklist", "diff", "NMSC@2025#xyz", current)
    assert result.exit_code == 2 and "# 后应为版本编号" in result.stderr


def test_an_edition_no_inspection_uses_any_more_takes_the_other_sides_name(city, tmp_path):
    folder = market_folder(tmp_path / "y2025", MARKET, "2025")
    record_with(city, folder, "2026-10-12")
    city.ok("inspection", "delete", "JC-2026-0001", "--yes")
    (listed,) = json.loads(city.ok("checklist", "editions", "--json").stdout)
    assert (listed["site_type"], listed["inspections"], listed["first_date"]) == (None, 0, None)
    assert "—" in city.ok("checklist", "editions").stdout
    data = only_type(diff_json(city, "NMSC@2025", folder), "NMSC")
    assert data["status"] == "same" and data["site_type"] == {"old": "农贸市场", "new": "农贸市场"}
    out = city.ok("checklist", "diff", "NMSC@2025", folder).stdout
    assert "0 次检查使用" in out and "两者一致" in out


def test_help_has_an_example(no_db):
    for command in ("diff", "editions"):
        page = no_db.ok("checklist", command, "--help").stdout
        assert f"例：inspect-cli checklist {command}" in page


# --- the comparison itself: properties ------------------------------------------------------------

# Few ids and texts, so that kept, renamed, reworded and duplicated texts all come up.
ids = st.sampled_from([f"i-{n}" for n in range(8)])
texts = st.sampled_from(["甲", "乙", "丙", "丁"])
items = st.builds(
    Item,
    id=ids,
    text=texts,
    category=st.sampled_from(["公益广告", "环境卫生"]),
    score=st.sampled_from([1.0, 2.0, 5.0]),
    deduct=st.sampled_from([None, 1.0]),
    unit=st.sampled_from([None, "城管局"]),
    deadline_days=st.sampled_from([None, 0, 3]),
    photo_required=st.booleans(),
)
item_lists = st.lists(items, max_size=8, unique_by=lambda item: item.id)
checklists = st.builds(
    Checklist,
    site_type=st.sampled_from(["农贸市场", "集贸市场"]),
    code=st.just("NMSC"),
    edition=st.sampled_from(["2025", "2026"]),
    items=item_lists.map(tuple),
)


def test_type_fields_a_side_does_not_know_are_left_out():
    old = Checklist("农贸市场", "NMSC", "2026", tuple(Item(**{**i, "score": float(i["score"])}) for i in BASE))
    new = dataclasses.replace(old, aliases=("菜市场",), site_type="集贸市场")
    assert [f.field for f in diff_type(old, new).fields] == ["site_type", "aliases"]
    assert diff_type(old, new, ("edition", "site_type")).fields[0].field == "site_type"
    assert diff_checklists([old], [new], ("edition",)).identical


def apply(old: tuple[Item, ...], found: TypeDiff) -> dict[str, Item]:
    """The old items with the reported changes made: should be the new side's items."""
    result = {item.id: item for item in old}
    for item in found.removed:
        assert result.pop(item.id) == item
    moved = {change.old_id: result.pop(change.old_id) for change in found.changed}
    for change in found.changed:
        before = moved[change.old_id]
        for field in change.changes:
            assert getattr(before, field.field) == field.old
        updates = {field.field: field.new for field in change.changes}
        result[change.id] = dataclasses.replace(before, id=change.id, **updates)
    for item in found.added:
        assert item.id not in result
        result[item.id] = item
    return result


@settings(deadline=None, max_examples=100)
@given(checklists)
def test_a_checklist_compared_with_itself_is_the_same(checklist):
    found = diff_type(checklist, checklist)
    assert found.status == "same"
    assert not (found.added or found.removed or found.changed or found.fields or found.order_changed)
    assert diff_checklists([checklist], [checklist]).identical


@settings(deadline=None, max_examples=200)
@given(checklists, checklists)
def test_applying_the_changes_gives_the_new_items(old, new):
    found = diff_type(old, new)
    assert apply(old.items, found) == {item.id: item for item in new.items}
    old_ids, new_ids = {i.id for i in old.items}, {i.id for i in new.items}
    renumbered = found.renumbered
    assert {i.id for i in found.removed} | {c.old_id for c in renumbered} == old_ids - new_ids
    assert {i.id for i in found.added} | {c.id for c in renumbered} == new_ids - old_ids
    # Renumbered only when the text is the same, and never while an equal text was left unpaired.
    assert all(c.text == next(i.text for i in old.items if i.id == c.old_id) for c in renumbered)
    assert not {i.text for i in found.removed} & {i.text for i in found.added}
    counts = found.counts()
    assert counts[Change.ADDED] == len(found.added) and counts[Change.REMOVED] == len(found.removed)
    assert counts[Change.RENUMBERED] == len(renumbered)
    assert (found.status == "same") == (old == new)
    common = [i.id for i in old.items if i.id in new_ids]
    if common != [i.id for i in new.items if i.id in old_ids] and not renumbered:
        assert found.order_changed


@settings(deadline=None, max_examples=100)
@given(st.lists(checklists, max_size=3), st.lists(checklists, max_size=3), st.data())
def test_types_are_matched_by_code(olds, news, data):
    codes = ["NMSC", "GY", "WB"]
    old = [dataclasses.replace(c, code=codes[n]) for n, c in enumerate(olds)]
    new = [dataclasses.replace(c, code=data.draw(st.sampled_from(codes))) for c in news]
    new = list({c.code: c for c in new}.values())
    found = diff_checklists(old, new)
    assert [t.code for t in found.types] == sorted({c.code for c in old} | {c.code for c in new})
    for t in found.types:
        before = next((c for c in old if c.code == t.code), None)
        after = next((c for c in new if c.code == t.code), None)
        assert (t.old, t.new) == (before, after)
        assert apply(before.items if before else (), t) == {i.id: i for i in (after.items if after else ())}
