from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspect_cli.errors import ImportFileError, InputError, NotFoundError
from inspect_cli.sites import add_site, import_register, pinyin_keys, read_table, resolve_site, search_sites

from .conftest import DATA

HEADER = "点位编号,点位名称,点位类型,所属街道,社区,具体地址,责任单位,包抓单位"


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_import_csv_with_aliases(store, checklists):
    report = import_register(store, checklists, DATA / "sites.csv")
    assert report.count("create") == 4
    market = store.site_by_code("NMSC-002")
    assert market.site_type == "农贸市场" and market.type_code == "NMSC"  # alias 菜市场
    assert store.site_by_code("JMXQ-001").site_type == "居民小区"  # alias 小区
    site = store.site_by_code("NMSC-001")
    assert (site.street, site.community, site.grid, site.address) == ("东城街道", "东风社区", "第1网格", "幸福路1号")
    assert (site.unit, site.partner, site.contact, site.phone) == ("市场监管局", "市税务局", "王一", "0371-60000001")
    assert site.lng == pytest.approx(113.600001) and site.lat == pytest.approx(34.700001)
    assert len(site.id) == 36  # a UUID


def test_import_gbk_csv(store, checklists, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [HEADER, ",东城农贸市场,农贸市场,东城街道,,,,"], encoding="gbk")
    import_register(store, checklists, path)
    assert store.list_sites()[0].name == "东城农贸市场"


def test_import_xlsx_with_title_row_blank_rows_and_messy_headers(store, checklists, tmp_path):
    path = write_xlsx(
        tmp_path / "台账.xlsx",
        [
            ["示范市文明区创城点位台账（2026年）"],
            [],
            [" 所属街道 ", "点位类别", "点位名称 ", "具体地址", "联系电话", "备注"],
            ["东城街道", "公交站台", "人民路公交站", "人民路4号", 13800000004, "x"],
            [None, None, None, None, None, None],
            ["西湖街道", "ＮＭＳＣ", "湖滨市场", "湖滨路", None, None],
        ],
    )
    report = import_register(store, checklists, path)
    assert report.header_row == 3
    assert report.ignored_columns == ["备注"]
    bus = store.site_by_code("GJZD-001")
    assert (bus.name, bus.site_type, bus.street, bus.phone) == ("人民路公交站", "公交站点", "东城街道", "13800000004")
    assert store.site_by_code("NMSC-001").name == "湖滨市场"


def test_full_width_header_characters(store, checklists, tmp_path):
    path = write_csv(tmp_path / "fw.csv", ["点位名称,点位类型,街道（乡镇）", "小巷一,背街小巷,东城街道"])
    import_register(store, checklists, path)
    assert store.site_by_code("BJXX-001").street == "东城街道"


def test_generated_codes_continue_after_existing_ones(store, checklists, tmp_path):
    import_register(store, checklists, DATA / "sites.csv")
    path = write_csv(tmp_path / "new.csv", ["点位名称,点位类型", "新市场甲,农贸市场", "新市场乙,农贸市场"])
    import_register(store, checklists, path)
    assert store.sites_by_name("新市场甲", "农贸市场")[0].code == "NMSC-003"
    assert store.sites_by_name("新市场乙", "农贸市场")[0].code == "NMSC-004"


def test_reimport_never_duplicates(store, checklists, tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEADER, ",东城农贸市场,农贸市场,东城街道,,,,", "X-1,小巷一,背街小巷,,,,,"])
    first = import_register(store, checklists, path)
    second = import_register(store, checklists, path)
    assert first.count("create") == 2
    assert second.count("create") == 0 and second.count("unchanged") == 2
    assert store.count_sites() == 2


def test_reimport_updates_by_code_and_keeps_blank_cells(store, checklists, tmp_path):
    import_register(store, checklists, DATA / "sites.csv")
    before = store.site_by_code("NMSC-001")
    path = write_csv(
        tmp_path / "u.csv",
        ["点位编号,点位名称,点位类型,责任单位,包抓单位", "nmsc-001,东城农贸市场,农贸市场,东城街道办事处,"],
    )
    report = import_register(store, checklists, path)
    (change,) = report.changes
    assert change.action == "update" and change.changes == {"unit": ("市场监管局", "东城街道办事处")}
    after = store.site_by_code("NMSC-001")
    assert after.id == before.id and after.unit == "东城街道办事处"
    assert after.partner == "市税务局"  # a blank cell does not erase


def test_bad_rows_reject_the_whole_file(store, checklists, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            HEADER,
            "A-1,好的点位,农贸市场,,,,,",
            "A-2,,农贸市场,,,,,",
            "A-3,某点位,游乐场,,,,,",
            "A-1,重复,公园,,,,,",
            "A-5,坐标,公园,,,,,",
        ],
    )
    with pytest.raises(ImportFileError) as caught:
        import_register(store, checklists, path)
    assert caught.value.details == [
        "第 3 行：缺少点位名称",
        "第 4 行：未知的点位类型 '游乐场'",
        "第 5 行：点位编号 A-1 与第 2 行重复",
    ]
    assert store.count_sites() == 0


def test_bad_coordinates_and_missing_type(store, checklists, tmp_path):
    path = write_csv(tmp_path / "c.csv", ["点位名称,点位类型,经度", "甲,公园,东经113", "乙,,113.5"])
    with pytest.raises(ImportFileError) as caught:
        import_register(store, checklists, path)
    assert caught.value.details == ["第 2 行：经度不是数字：'东经113'", "第 3 行：缺少点位类型"]


def test_file_without_header_or_of_wrong_kind(store, checklists, tmp_path):
    with pytest.raises(ImportFileError, match="找不到表头"):
        read_table(write_csv(tmp_path / "h.csv", ["名字,种类", "甲,公园"]))
    (tmp_path / "x.xls").write_bytes(b"old")
    with pytest.raises(ImportFileError, match="另存为 .xlsx"):
        read_table(tmp_path / "x.xls")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ImportFileError, match="已损坏"):
        read_table(tmp_path / "broken.xlsx")
    with pytest.raises(ImportFileError, match="文件不存在"):
        read_table(tmp_path / "nope.csv")


def test_dry_run_writes_nothing(store, checklists):
    report = import_register(store, checklists, DATA / "sites.csv", dry_run=True)
    assert report.count("create") == 4 and store.count_sites() == 0


def test_pinyin_initials():
    assert pinyin_keys("农贸市场") == ("nmsc", "nongmaoshichang")
    assert pinyin_keys("A区市场")[0] == "aqsc"


def test_search_by_code_fragment_and_initials(store, checklists):
    import_register(store, checklists, DATA / "sites.csv")
    assert [s.code for s in search_sites(store, "nmsc")] == ["NMSC-001", "NMSC-002"]
    assert [s.code for s in search_sites(store, "dcnm")] == ["NMSC-001"]  # 东城农贸
    assert [s.code for s in search_sites(store, "锦绣")] == ["JMXQ-001"]
    assert [s.code for s in search_sites(store, "gjzd-001")] == ["GJZD-001"]
    assert search_sites(store, "100%") == []


def test_resolve_site(store, checklists):
    import_register(store, checklists, DATA / "sites.csv")
    assert resolve_site(store, "nmsc-001").code == "NMSC-001"
    assert resolve_site(store, "锦绣花园小区").code == "JMXQ-001"
    assert resolve_site(store, "rmlgjz").code == "GJZD-001"
    with pytest.raises(InputError, match="匹配到多个点位：NMSC-001 东城农贸市场；NMSC-002 西湖菜市场"):
        resolve_site(store, "nmsc")
    with pytest.raises(NotFoundError, match="找不到点位 '不存在'"):
        resolve_site(store, "不存在")


def test_add_site(store, checklists):
    change = add_site(store, checklists, {"name": "人民公园", "site_type": "公园", "street": "东城街道"})
    assert change.site.code == "GY-001" and change.site.id
    with pytest.raises(InputError, match="已有同名同类型的点位 GY-001"):
        add_site(store, checklists, {"name": "人民公园", "site_type": "公园"})
    with pytest.raises(InputError, match="未知的点位类型 '游乐场'"):
        add_site(store, checklists, {"name": "乐园", "site_type": "游乐场"})
    with pytest.raises(InputError, match="点位编号 GY-001 已存在"):
        add_site(store, checklists, {"code": "gy-001", "name": "别的公园", "site_type": "公园"})


# --- CLI -----------------------------------------------------------------------------


def test_cli_import_and_list(cli):
    result = cli.ok("site", "import", DATA / "sites.csv")
    assert "新增 4 个" in result.stdout
    again = cli.ok("site", "import", DATA / "sites.csv")
    assert "新增 0 个，更新 0 个，无变化 4 个" in again.stdout
    listed = cli.ok("site", "list", "--street", "东城")
    assert "NMSC-001" in listed.stdout and "JMXQ-001" in listed.stdout and "NMSC-002" not in listed.stdout
    typed = json.loads(cli.ok("site", "list", "--type", "菜市场", "--json").stdout)
    assert [s["code"] for s in typed] == ["NMSC-001", "NMSC-002"]
    by_unit = json.loads(cli.ok("site", "list", "--unit", "税务", "--json").stdout)
    assert [s["code"] for s in by_unit] == ["JMXQ-001", "NMSC-001"]
    searched = json.loads(cli.ok("site", "list", "--search", "jxhy", "--json").stdout)
    assert [s["code"] for s in searched] == ["JMXQ-001"]


def test_cli_import_dry_run_and_rejection(cli, tmp_path):
    preview = cli.ok("site", "import", DATA / "sites.csv", "--dry-run")
    assert "预览（未写入）：新增 4 个" in preview.stdout
    assert cli.ok("site", "list", "--json").stdout.strip() == "[]"
    bad = write_csv(tmp_path / "bad.csv", ["点位名称,点位类型", "甲,游乐场"])
    result = cli("site", "import", bad)
    assert result.exit_code == 2
    assert "bad.csv 有 1 行无法导入，未写入任何数据" in result.stderr
    assert "第 2 行：未知的点位类型 '游乐场'" in result.stderr


def test_cli_add_and_show(cli):
    added = cli.ok(
        "site", "add", "--name", "人民公园", "--type", "公园", "--street", "东城街道", "--lng", "113.6", "--lat", "34.7"
    )
    assert "已添加点位 GY-001 人民公园" in added.stdout
    shown = json.loads(cli.ok("site", "show", "rmgy", "--json").stdout)
    assert shown["site"]["code"] == "GY-001" and shown["site"]["lng"] == 113.6
    assert shown["inspections"] == []
    text = cli.ok("site", "show", "GY-001").stdout
    assert "人民公园" in text and "尚无检查记录" in text


def test_cli_unknown_site_is_one_line_exit_3(city):
    result = city("site", "show", "XYZ-999")
    assert result.exit_code == 3
    assert result.stderr == "错误：找不到点位 'XYZ-999'（可用 inspect-cli site list --search 查找）\n"


def test_cli_bad_coordinate_on_add(cli):
    result = cli("site", "add", "--name", "甲", "--type", "公园", "--lng", "abc")
    assert result.exit_code == 2
    assert result.stderr.strip() == "错误：无法添加点位：经度不是数字：'abc'"
