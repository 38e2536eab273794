"""The unit register: migration, search, resolving names, first use, rename/merge, import, completion."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime

import pytest
from typer.testing import CliRunner

from inspect_cli import store as store_module
from inspect_cli import units
from inspect_cli.cli import app
from inspect_cli.errors import ImportFileError, InputError, NotFoundError
from inspect_cli.sites import import_register
from inspect_cli.store import Store

from .conftest import DATA
from .test_excel import export_units, fill, imported

TODAY = "2026-11-30"


def names(store) -> list[str]:
    return [u.name for u in units.list_units(store)]


def registered(cli) -> dict[str, dict]:
    return {u["name"]: u for u in json.loads(cli.ok("unit", "list", "--json").stdout)}


# --- the migration ------------------------------------------------------------------------


def _release_6_database(db_path):
    """A database as the release before the register left it (schema version 6), written
    with that release's SQL: today's store writes columns that schema does not have."""
    conn = sqlite3.connect(db_path)
    for _version, _name, sql in store_module.MIGRATIONS[:6]:
        conn.executescript(sql)
    conn.executescript(
        """
        CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
        INSERT INTO schema_migrations VALUES (1, 'a', 'x'), (2, 'b', 'x'), (3, 'c', 'x'), (4, 'd', 'x'),
            (5, 'e', 'x'), (6, 'f', 'x');
        INSERT INTO sites (id, code, name, site_type, type_code, unit, partner, created_at, updated_at)
        VALUES ('s1', 'NMSC-001', '东城农贸市场', '农贸市场', 'NMSC', '市场监管局', '市税务局', 'x', 'x'),
               ('s2', 'NMSC-002', '西湖菜市场', '农贸市场', 'NMSC', '', NULL, 'x', 'x');
        INSERT INTO inspections (id, no, year, seq, site_id, date, status, site_type, checklist_code,
            checklist_edition, created_at)
        VALUES ('i1', 'JC-2026-0001', 2026, 1, 's1', '2026-11-16', 'open', '农贸市场', 'NMSC', '2026', 'x');
        INSERT INTO inspection_items (inspection_id, seq, item_id, text, category, score)
        VALUES ('i1', 0, 'gg-01', '公益广告', '公益广告', 2);
        INSERT INTO results (id, inspection_id, item_id, result, recorded_at, unit)
        VALUES ('r1', 'i1', 'gg-01', 'fail', 'x', ' 文明办 ');
        INSERT INTO problems (id, no, year, seq, site_id, item_id, item_text, category, severity, unit,
            found_date, deadline, status, created_at, updated_at)
        VALUES ('p1', 'ZG-2026-0001', 2026, 1, 's1', 'gg-01', '公益广告', '公益广告', 'fail', '城市管理局',
            '2026-11-16', '2026-11-23', 'open', 'x', 'x');
        """
    )
    conn.commit()
    conn.close()


@pytest.mark.sqlite_only("a database file an earlier release made")
def test_migration_fills_the_register_from_the_names_an_earlier_release_used(db_path):
    _release_6_database(db_path)
    with Store(db_path) as store:
        assert 7 in store.schema_versions()
        register = units.list_units(store)
        assert sorted(u.name for u in register) == sorted(["市场监管局", "市税务局", "文明办", "城市管理局"])
        for unit in register:
            assert uuid.UUID(unit.id).version == 4 and uuid.UUID(unit.id).variant == uuid.RFC_4122
            assert datetime.fromisoformat(unit.created_at).utcoffset().total_seconds() == 8 * 3600
        assert len({u.id for u in register}) == 4
        # The old names now resolve, so existing data keeps working.
        assert units.resolve_unit(store, "城市管理局") == "城市管理局"


# --- search and resolve -------------------------------------------------------------------


@pytest.fixture
def register(store):
    units.add_unit(store, "市场监管局", short_name="市监局", kind="部门", contact="王一", phone="０３７１-１２３")
    units.add_unit(store, "城市管理局", short_name="城管局", kind="部门")
    units.add_unit(store, "东城市场服务中心")
    units.add_unit(store, "东城街道办事处", kind="街道")
    return store


def test_search_by_fragment_short_name_and_pinyin_best_first(register):
    def found(text, limit=20):
        return [u.name for u in units.search_units(register, text, limit)]

    assert found("市场") == ["市场监管局", "东城市场服务中心"]  # starts with it, then contains it
    assert found("scjg") == ["市场监管局"]  # initials
    assert found("CGJ") == ["城市管理局"]  # the short name's initials, any case
    assert found("城管局") == ["城市管理局"]  # exact short name
    assert found("chengshi") == ["城市管理局", "东城市场服务中心"]  # full pinyin: starts with it, then holds it
    assert found("dc") == ["东城街道办事处", "东城市场服务中心"]
    assert found("dc", 1) == ["东城街道办事处"]
    assert found("交通") == []
    assert len(found("")) == 4
    unit = units.search_units(register, "scjg", 1)[0]
    assert (unit.short_name, unit.kind, unit.kind_label, unit.phone) == (
        "市监局",
        units.UnitKind.DEPARTMENT,
        "部门",
        "0371-123",
    )


def test_resolve_by_name_short_name_and_width_and_spaces(register):
    assert units.resolve_unit(register, "市场监管局") == "市场监管局"
    assert units.resolve_unit(register, " 市监局 ") == "市场监管局"
    assert units.resolve_unit(register, "城市 管理局") == "城市管理局"
    assert units.resolve_unit(register, "东城市场服务中心") == "东城市场服务中心"  # full-width digits/letters fold
    with pytest.raises(InputError, match="请填写责任单位"):
        units.resolve_unit(register, "  ")


def test_unknown_name_is_refused_with_close_names_unless_new(register):
    with pytest.raises(units.UnknownUnitError) as typo:
        units.resolve_unit(register, "市场监官局")
    assert typo.value.message == "未知的责任单位 '市场监官局'（是否想写 '市场监管局'？）；确是新单位请加 --new-unit"
    assert typo.value.suggestions == ["市场监管局"]
    with pytest.raises(units.UnknownUnitError) as partner:
        units.resolve_unit(register, "城市管里局", field="包抓单位")
    assert partner.value.message.startswith("未知的包抓单位 '城市管里局'（是否想写 '城市管理局'？）")
    with pytest.raises(units.UnknownUnitError) as far:
        units.resolve_unit(register, "文明办")
    assert far.value.message == "未知的责任单位 '文明办'；确是新单位请加 --new-unit"
    assert "文明办" not in names(register)
    assert units.resolve_unit(register, "文明办", allow_new=True) == "文明办"
    assert units.resolve_unit(register, "文明办") == "文明办"


def test_add_refuses_a_name_the_register_already_answers_to(register):
    with pytest.raises(InputError, match="单位名称 '市监局' 已是单位 市场监管局 的简称"):
        units.add_unit(register, "市监局")
    with pytest.raises(InputError, match="^单位 城市管理局 已在单位名录中$"):
        units.add_unit(register, "城市管理局 ")
    with pytest.raises(InputError, match="简称 '城市管理局' 已是单位 城市管理局 的名称"):
        units.add_unit(register, "城市综合执法局", short_name="城市管理局")
    with pytest.raises(InputError, match="单位类型应为 部门 或 街道"):
        units.add_unit(register, "园林局", kind="局")
    assert "园林局" not in names(register)


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def ledger(city, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    monkeypatch.setenv("INSPECT_CLI_USER", "创城办王五")
    city.ok("record", "NMSC-001", "gg-01", "不合格", "--note", "公益广告破损", "--date", "2026-11-16", "-i", "张三")
    return city


def test_assign_to_a_typo_is_refused_with_a_suggestion_and_changes_nothing(ledger):
    before = json.loads(ledger.ok("issue", "show", "ZG-2026-0001", "--json").stdout)
    register_before = registered(ledger)
    result = ledger("issue", "assign", "ZG-2026-0001", "--unit", "市场监官局")
    assert result.exit_code == 2
    assert result.stderr == "错误：未知的责任单位 '市场监官局'（是否想写 '市场监管局'？）；确是新单位请加 --new-unit\n"
    assert json.loads(ledger.ok("issue", "show", "ZG-2026-0001", "--json").stdout) == before
    assert registered(ledger) == register_before
    # Refused after resolving: the unit --new-unit added goes again, nothing half-done.
    ledger.ok("issue", "assign", "ZG-2026-0001", "--unit", "公交集团")
    same = ledger("issue", "assign", "ZG-2026-0001", "--unit", "公交集团 ", "--new-unit")
    assert same.exit_code == 2 and same.stderr == "错误：问题 ZG-2026-0001 的责任单位已是 公交集团\n"
    shown = ledger.ok("issue", "assign", "ZG-2026-0001", "--unit", "文明办", "--new-unit").stdout
    assert "已改派给 文明办" in shown and "文明办" in registered(ledger)


def test_site_import_and_site_add_put_their_units_in_the_register(cli):
    preview = cli.ok("site", "import", DATA / "sites.csv", "--dry-run").stdout
    assert "将加入单位名录的新单位 5 个：市场监管局、市税务局、西湖街道办事处、东城街道办事处、公交集团" in preview
    assert registered(cli) == {}
    cli.ok("site", "import", DATA / "sites.csv")
    assert set(registered(cli)) == {"市场监管局", "市税务局", "西湖街道办事处", "东城街道办事处", "公交集团"}
    assert "新单位" not in cli.ok("site", "import", DATA / "sites.csv").stdout  # known now
    cli.ok("unit", "add", "园林绿化局", "--short", "园林局")
    # A short name in a register file or `site add` is kept as the unit's name.
    typo = cli("site", "add", "--name", "人民公园", "--type", "公园", "--unit", "园林局", "--partner", "文明半")
    assert typo.exit_code == 2 and typo.stderr.startswith("错误：未知的包抓单位 '文明半'")
    assert "文明半" not in registered(cli)
    added = json.loads(cli.ok("site", "add", "--name", "人民公园", "--type", "公园", "--unit", "园林局",
                              "--partner", "文明办", "--new-unit", "--json").stdout)  # fmt: skip
    assert (added["unit"], added["partner"]) == ("园林绿化局", "文明办")
    assert "文明办" in registered(cli) and "园林局" not in registered(cli)


def test_a_new_unit_spelt_two_ways_in_one_register_file_is_one_unit(store, checklists, tmp_path):
    path = write(
        tmp_path / "sites.csv", ["点位名称,点位类型,责任单位", "甲市场,农贸市场,文明办", "乙市场,农贸市场,文明\u3000办"]
    )
    report = import_register(store, checklists, path)
    assert report.new_units == ["文明办"]
    assert [s.unit for s in store.list_sites()] == ["文明办", "文明办"]
    assert names(store) == ["文明办"]


def test_a_checklist_unit_joins_on_first_use_and_follows_a_rename(ledger):
    assert "城市管理局" not in registered(ledger)
    ledger.ok("record", "NMSC-001", "sr-02", "fail", "--date", "2026-11-16")  # the item names 城市管理局
    assert "城市管理局" in registered(ledger)
    ledger.ok("unit", "rename", "市场监管局", "市场监督管理局", "--by", "创城办")
    # ss-01's checklist still says 市场监管局: the problem gets the unit's name now.
    ledger.ok("record", "NMSC-001", "ss-01", "fail", "--date", "2026-11-16")
    problems = {p["item_id"]: p["unit"] for p in json.loads(ledger.ok("issue", "list", "--json").stdout)}
    assert problems == {"gg-01": "市场监督管理局", "sr-02": "城市管理局", "ss-01": "市场监督管理局"}
    assert "市场监管局" not in registered(ledger)
    assert registered(ledger)["市场监督管理局"]["aliases"] == ["市场监管局"]


def walk(cli, site, day, failures):
    """Answer every item of a site's checklist (positions in `failures` fail): a finished inspection."""
    site_type = json.loads(cli.ok("site", "show", site, "--json").stdout)["site"]["site_type"]
    items = json.loads(cli.ok("checklist", "show", site_type, "--json").stdout)["items"]
    lines = []
    for position in range(1, len(items) + 1):
        lines += ["2", failures[position], "1", "", ""] if position in failures else ["1"]
    cli.ok("run", site, "--date", day, "-i", "张三", input="\n".join(lines) + "\n")


@pytest.fixture
def typo_city(ledger):
    """市场监管局 also typed as 市场监官局 in a site's 责任单位: a fake unit with its own ranking."""
    ledger.ok(
        "site",
        "add",
        "--name",
        "北城农贸市场",
        "--type",
        "农贸市场",
        "--code",
        "NMSC-009",
        "--unit",
        "市场监官局",
        "--new-unit",
    )
    walk(ledger, "NMSC-002", "2026-11-17", {})  # 西湖街道办事处
    walk(ledger, "NMSC-009", "2026-11-17", {1: "公益广告缺失", 2: "宣传栏破损"})
    return ledger


def by_unit(cli):
    stats = json.loads(cli.ok("issue", "stats", "--by", "unit", "--json").stdout)["groups"]
    ranks = json.loads(cli.ok("score", "--by", "unit", "--json").stdout)
    return {g["name"]: g["total"] for g in stats}, {r["name"]: r["inspections"] for r in ranks}


def history(cli, no):
    return json.loads(cli.ok("issue", "show", no, "--json").stdout)["history"]


def test_merge_keeps_history_and_leaves_one_unit_in_stats_and_rankings(typo_city):
    cli = typo_city
    walk(cli, "NMSC-001", "2026-11-18", {1: "公益广告破损"})
    assert by_unit(cli) == ({"市场监管局": 1, "市场监官局": 2}, {"市场监管局": 1, "市场监官局": 1, "西湖街道办事处": 1})
    refused = cli("unit", "merge", "市场监官局", "市场监管局", input="n\n")
    assert (
        refused.exit_code == 0
        and "确认把 市场监官局 并入 市场监管局？" in refused.stdout
        and "未合并" in refused.stdout
    )
    assert "市场监官局" in registered(cli)
    merged = cli.ok("unit", "merge", "市场监官局", "市场监管局", "--by", "创城办", input="y\n").stdout
    assert "已将 市场监官局 并入 市场监管局：2 个问题（各记一条处理记录）、1 个点位随之改为 市场监管局" in merged
    assert by_unit(cli) == ({"市场监管局": 3}, {"市场监管局": 2, "西湖街道办事处": 1})
    typo_problems = [p for p in json.loads(cli.ok("issue", "list", "--json", "--site", "NMSC-009").stdout)]
    assert len(typo_problems) == 2
    for p in typo_problems:
        events = history(cli, p["no"])
        actions = [e["action"] for e in events]
        assert actions[0] == "found" and actions.count("unit_merged") == 1 and actions[-1] == "unit_merged"
        assert (events[-1]["note"], events[-1]["actor"]) == ("单位合并：市场监官局 并入 市场监管局", "创城办")
    assert "unit_merged" not in [e["action"] for e in history(cli, "ZG-2026-0001")]  # 市场监管局's own: untouched
    register = registered(cli)
    assert "市场监官局" not in register and register["市场监管局"]["aliases"] == ["市场监官局"]
    # The typo now finds the unit it meant, and cannot be merged twice.
    cli.ok("issue", "assign", "ZG-2026-0001", "--unit", "公交集团")
    assert "已改派给 市场监管局" in cli.ok("issue", "assign", "ZG-2026-0001", "--unit", "市场监官局").stdout
    again = cli("unit", "merge", "市场监官局", "市场监管局", "--yes")
    assert again.exit_code == 2 and again.stderr == "错误：'市场监官局' 和 '市场监管局' 是同一个单位 市场监管局\n"


def test_rename_keeps_history_and_moves_sites_answers_and_rankings(typo_city):
    cli = typo_city
    cli.ok("unit", "merge", "市场监官局", "市场监管局", "--yes")
    taken = cli("unit", "rename", "市场监管局", "公交集团")
    assert taken.exit_code == 2
    assert (
        taken.stderr
        == "错误：已有单位 公交集团：要把 市场监管局 并入它，请用 inspect-cli unit merge 市场监管局 公交集团\n"
    )
    missing = cli("unit", "rename", "市场监管", "X")
    assert missing.exit_code == 3 and missing.stderr == "错误：找不到单位 '市场监管'（是否想写 '市场监管局'？）\n"
    done = cli.ok("unit", "rename", "市场监管局", "市场监督管理局", "--by", "创城办").stdout
    assert (
        "已将 市场监管局 更名为 市场监督管理局：3 个问题（各记一条处理记录）、2 个点位随之改为 市场监督管理局" in done
    )
    assert by_unit(cli) == ({"市场监督管理局": 3}, {"市场监督管理局": 1, "西湖街道办事处": 1})
    for p in json.loads(cli.ok("issue", "list", "--json").stdout):
        assert p["unit"] == "市场监督管理局"
        last = history(cli, p["no"])[-1]
        assert (last["action"], last["note"]) == ("unit_renamed", "单位更名：市场监管局 → 市场监督管理局")
    site = json.loads(cli.ok("site", "show", "NMSC-001", "--json").stdout)["site"]
    assert site["unit"] == "市场监督管理局"
    register = registered(cli)
    assert register["市场监督管理局"]["aliases"] == ["市场监官局", "市场监管局"]
    assert register["市场监督管理局"]["open_problems"] == 3
    # Every former name still lists the unit's problems; a fragment still filters.
    assert len(json.loads(cli.ok("issue", "list", "--unit", "市场监官局", "--json").stdout)) == 3
    assert len(json.loads(cli.ok("issue", "list", "--unit", "监督", "--json").stdout)) == 3
    # Renaming back to a former name makes it the name again.
    cli.ok("unit", "rename", "市场监督管理局", "市场监管局")
    assert registered(cli)["市场监管局"]["aliases"] == ["市场监官局", "市场监督管理局"]


def test_a_sheet_exported_before_a_rename_or_merge_still_imports(ledger, tmp_path):
    cli = ledger
    ledger.ok(
        "record", "NMSC-001", "gg-02", "不合格", "--date", "2026-11-16", "--unit", "市场监官局", "--new-unit"
    )  # a typo, taken as meant
    files = export_units(cli, tmp_path / "out")
    assert set(files) == {"市场监管局", "市场监官局"}
    cli.ok("unit", "merge", "市场监官局", "市场监管局", "--yes")
    cli.ok("unit", "rename", "市场监管局", "市场监督管理局")
    done = {"整改情况": "已整改", "整改完成日期": datetime(2026, 11, 20), "整改责任人": "李四", "状态": "已整改"}
    for unit, no in (("市场监管局", "ZG-2026-0001"), ("市场监官局", "ZG-2026-0002")):
        code, report = imported(cli, fill(files[unit], {no: done}, target=tmp_path / f"{unit}.xlsx"))
        assert code == 0, report[0]["rows"]
        assert report[0]["unit"] == "市场监督管理局"
        assert [r["outcome"] for r in report[0]["rows"]] == ["applied"]
        shown = json.loads(cli.ok("issue", "show", no, "--json").stdout)
        assert (shown["status"], shown["history"][-1]["actor"]) == ("fixed", "市场监督管理局（李四）")


def test_export_rectification_takes_a_short_or_former_name(ledger, tmp_path):
    ledger.ok("unit", "rename", "市场监管局", "市场监督管理局")
    files = export_units(ledger, tmp_path / "out", "--unit", "市场监管局")
    assert set(files) == {"市场监督管理局"}


# --- importing a unit list ------------------------------------------------------------------


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_unit_import_is_all_or_nothing_with_one_line_per_bad_row(register, tmp_path):
    before = units.list_units(register)
    bad = write(
        tmp_path / "units.csv",
        [
            "单位名录（2026年）",
            "单位名称,简称,联系人,联系电话,单位类型",
            "园林绿化局,园林局,赵六,13800000006,部门",
            "文明办,,,,局",
            "园林绿化局,,,,",
            "交通运输局,城管局,,,部门",
            ",简称而已,,,",
        ],
    )
    with pytest.raises(ImportFileError) as error:
        units.import_units(register, bad)
    assert error.value.message == "units.csv 有 4 行无法导入，未写入任何数据"
    assert error.value.details == [
        "第 4 行：单位类型应为 部门 或 街道，不是 '局'",
        "第 5 行：与第 3 行是同一个单位",
        "第 6 行：简称 '城管局' 已是单位 城市管理局 的简称",
        "第 7 行：缺少单位名称",
    ]
    assert units.list_units(register) == before


def test_unit_import_adds_and_updates_by_any_name_the_unit_answers_to(register, tmp_path):
    path = write(
        tmp_path / "units.csv",
        [
            "名称,简称,负责人,电话,类型",
            "园林绿化局,园林局,赵六,１３８０００００００６,部门",  # typed full-width
            "城管局,,李四,,",  # the short name: updates 城市管理局
            "东城街道办事处,,,,街道",  # unchanged
        ],
    )
    preview = units.import_units(register, path, dry_run=True)
    assert [(c.action, c.unit.name) for c in preview.changes] == [
        ("create", "园林绿化局"),
        ("update", "城市管理局"),
        ("unchanged", "东城街道办事处"),
    ]
    assert "园林绿化局" not in names(register)
    report = units.import_units(register, path)
    assert (report.count("create"), report.count("update"), report.header_row) == (1, 1, 1)
    found = {u.name: u for u in units.list_units(register)}
    assert (found["园林绿化局"].short_name, found["园林绿化局"].phone, found["园林绿化局"].kind) == (
        "园林局",
        "13800000006",
        units.UnitKind.DEPARTMENT,
    )
    assert (found["城市管理局"].contact, found["城市管理局"].short_name) == ("李四", "城管局")
    assert units.import_units(register, path).count("unchanged") == 3


def test_unit_import_command(cli, tmp_path):
    path = write(tmp_path / "units.csv", ["单位名称,类型", "市场监管局,部门", "东城街道办事处,街道"])
    shown = cli.ok("unit", "import", path, "--dry-run").stdout
    assert "预览（未写入）：新增 2 个，更新 0 个，无变化 0 个（表头在第 1 行）" in shown
    assert registered(cli) == {}
    report = json.loads(cli.ok("unit", "import", path, "--json").stdout)
    assert [c["action"] for c in report["changes"]] == ["create", "create"]
    assert {n: u["kind"] for n, u in registered(cli).items()} == {
        "市场监管局": "department",
        "东城街道办事处": "street",
    }
    no_header = cli("unit", "import", write(tmp_path / "x.csv", ["名字,电话", "甲,1"]))
    assert no_header.exit_code == 2
    assert no_header.stderr == "错误：x.csv：前 10 行中找不到表头，表头至少需要“单位名称”一列\n"


def test_unit_add_and_list_commands(cli):
    cli.ok(
        "unit",
        "add",
        "市场监督管理局",
        "--short",
        "市场监管局",
        "--contact",
        "王一",
        "--phone",
        "0371-1",
        "--kind",
        "部门",
    )
    twice = cli("unit", "add", "市场监管局")
    assert twice.exit_code == 2 and twice.stderr == "错误：单位名称 '市场监管局' 已是单位 市场监督管理局 的简称\n"
    bad_kind = cli("unit", "add", "甲", "--kind", "局")
    assert bad_kind.exit_code == 2 and "选项 --kind 的值 '局' 无效（可选：部门、街道）" in bad_kind.stderr
    text = cli.ok("unit", "list", "--search", "scjd").stdout
    assert "市场监督管理局" in text and "部门" in text and "共 1 个单位" in text
    assert cli.ok("unit", "list", "--search", "交通").stdout.strip().endswith("共 0 个单位")


# --- shell completion ------------------------------------------------------------------------


def complete(db, line):
    words = line.split(" ")
    env = {"_INSPECT_CLI_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    result = CliRunner().invoke(app, [], env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    return sorted(result.stdout.split())


def test_completion_offers_register_names_and_short_names(cli, db_path):
    cli.ok("site", "add", "--name", "东城农贸市场", "--type", "农贸市场", "--unit", "市场监管局", "--new-unit")
    cli.ok("unit", "add", "城市管理局", "--short", "城管局")
    cli.ok("unit", "rename", "市场监管局", "市场监督管理局")
    assert complete(db_path, f"inspect-cli --db {db_path} issue assign ZG-2026-0001 --unit ") == sorted(
        ["城市管理局", "城管局", "市场监督管理局"]
    )
    assert complete(db_path, f"inspect-cli --db {db_path} unit merge 城") == ["城市管理局", "城管局"]


@pytest.mark.sqlite_only("a database file an earlier release made")
def test_completion_on_a_database_from_before_the_register_stays_read_only(db_path):
    _release_6_database(db_path)
    assert complete(db_path, f"inspect-cli --db {db_path} site list --unit 市") == ["市场监管局", "市税务局"]
    with sqlite3.connect(db_path) as conn:
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'units'").fetchone()


def test_find_unit_names_the_close_ones(register):
    with pytest.raises(NotFoundError, match="找不到单位 '城管'（是否想写 '城市管理局'？）"):
        units.find_unit(register, "城管")
