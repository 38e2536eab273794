from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import pytest

from inspect_cli.errors import ImportFileError, InputError, NotFoundError
from inspect_cli.sites import _cell, add_site, import_register, pinyin_keys, read_table, resolve_site, search_sites

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


# --- inputs that cannot hurt the register ---------------------------------------------


def write_xlsxwriter(path: Path, rows: list[list[object]], hide_first: bool = False) -> Path:
    """xlsxwriter keeps what openpyxl refuses to write: control characters, NaN, error cells.

    Strings stay text even when they start with "="; a tuple (formula, cached value) is a formula.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True, "default_date_format": "yyyy-mm-dd"})
    if hide_first:
        workbook.add_worksheet("下拉选项").write_row(0, 0, ["公园", "农贸市场"])
    sheet = workbook.add_worksheet("台账")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, tuple):
                sheet.write_formula(r, c, value[0], None, value[1])
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write(r, c, value)
    if hide_first:
        sheet.activate()
        workbook.worksheets()[0].hide()
    workbook.close()
    return path


def rejected(store, checklists, path: Path) -> list[str]:
    before = store.list_sites()
    with pytest.raises(ImportFileError) as caught:
        import_register(store, checklists, path)
    assert store.list_sites() == before
    return caught.value.details


def test_text_fields_lose_control_characters(store, checklists, tmp_path):
    path = write_xlsxwriter(
        tmp_path / "ctl.xlsx",
        [
            ["点位名称", "点位类型", "所属街道", "具体地址", "负责人", "联系电话"],
            [
                "东城\x1b[31m市场\x00",
                "农贸市场",
                "东城\u202e街道",
                "幸福路\t1号\r\n东门",
                "王\x07一",
                "０３７１-６０００\x0b0001",
            ],
        ],
    )
    import_register(store, checklists, path)
    (site,) = store.list_sites()
    assert (site.name, site.street, site.address) == ("东城市场", "东城街道", "幸福路 1号 东门")
    assert (site.contact, site.phone) == ("王一", "0371-60000001")


def test_over_long_values_are_row_errors(store, checklists, tmp_path):
    import_register(store, checklists, DATA / "sites.csv")
    path = write_csv(
        tmp_path / "long.csv",
        [
            "点位编号,点位名称,点位类型,具体地址,责任单位",
            f"NMSC-001,{'市' * 10000},农贸市场,,",
            f"NMSC-002,西湖菜市场,菜市场,{'路' * 201},{'局' * 101}",
            f"GY-009,人民公园,公园,{'路' * 200},",
        ],
    )
    assert rejected(store, checklists, path) == [
        "第 2 行：点位名称过长：10000 个字符，最多 100 个；请精简后再填写",
        "第 3 行：地址过长：201 个字符，最多 200 个；请精简后再填写；责任单位过长：101 个字符，最多 100 个；请精简后再填写",
    ]


def test_a_name_of_nothing_but_control_characters_is_missing(store, checklists, tmp_path):
    path = write_xlsxwriter(tmp_path / "nul.xlsx", [["点位名称", "点位类型"], ["\x00" * 40, "公园"]])
    assert rejected(store, checklists, path) == ["第 2 行：缺少点位名称"]


def test_codes_stay_ascii(store, checklists, tmp_path):
    path = write_csv(
        tmp_path / "codes.csv",
        ["点位编号,点位名称,点位类型", "东城-001,甲,公园", "A/1,乙,公园", "ＧＹ－０１,丙,公园", f"{'A' * 41},丁,公园"],
    )
    assert rejected(store, checklists, path) == [
        "第 2 行：点位编号只能由英文字母、数字和 - _ . 组成：'东城-001'",
        "第 3 行：点位编号只能由英文字母、数字和 - _ . 组成：'A/1'",
        "第 5 行：点位编号过长：41 个字符，最多 40 个；请精简后再填写",
    ]
    path = write_csv(tmp_path / "wide.csv", ["点位编号,点位名称,点位类型", "ＧＹ－０１,丙,公园"])
    import_register(store, checklists, path)
    assert store.site_by_code("GY-01").name == "丙"  # full-width code typed with an input method


def test_spreadsheet_values_become_the_text_the_cell_shows(store, checklists, tmp_path):
    path = write_xlsx(
        tmp_path / "types.xlsx",
        [
            ["点位名称", "点位类型", "联系电话", "所属街道", "网格", "社区", "经度", "纬度"],
            [123, "公园", 13800000000.0, date(2026, 1, 2), True, datetime(2026, 1, 2, 8, 30), 113, 34.5],
            ["甲😀", "公园", 1.38e10, None, False, 3.25, None, None],
        ],
    )
    import_register(store, checklists, path)
    first, second = store.list_sites()
    assert (first.name, first.phone, first.street, first.grid) == ("123", "13800000000", "2026-01-02", "TRUE")
    assert (first.community, first.lng, first.lat) == ("2026-01-02 08:30", 113.0, 34.5)
    assert (second.name, second.phone, second.grid, second.community) == ("甲😀", "13800000000", "FALSE", "3.25")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (13800000000.0, "13800000000"),  # a phone number stored as a float
        (1e20, "1e+20"),
        (3.25, "3.25"),
        (True, "TRUE"),
        (datetime(2026, 1, 2), "2026-01-02"),
        (datetime(2026, 1, 2, 8, 30, 15), "2026-01-02 08:30"),
        (time(8, 30), "08:30:00"),
        ("_x0007_甲_x005F_x0041_ ", "\x07甲_x0041_"),  # Excel's escapes, including an escaped "_"
        ("_xD800_", "\ufffd"),
    ],
)
def test_cell_text(value, shown):
    assert _cell(value) == shown


def test_error_cells_formulas_and_non_numbers_are_row_errors(store, checklists, tmp_path):
    path = write_xlsxwriter(
        tmp_path / "errors.xlsx",
        [
            ["点位名称", "点位类型", "经度", "纬度", "所属街道"],
            ["甲", "公园", float("nan"), float("inf"), None],
            [("=NA()", "#N/A"), "公园", None, None, None],
            ["乙", "公园", None, None, "=VLOOKUP(A4,街道表!A:B,2,0)"],  # a formula kept as text
            [('=A4&"二"', "乙二"), "公园", None, None, ("=1/0", "#DIV/0!")],
        ],
    )
    assert rejected(store, checklists, path) == [
        "第 2 行：经度是 Excel 错误值 #NUM!，请先修正公式；纬度是 Excel 错误值 #DIV/0!，请先修正公式",
        "第 3 行：点位名称是 Excel 错误值 #N/A，请先修正公式",
        "第 4 行：街道是公式而不是值：'=VLOOKUP(A4,街道表!A:B,2,0)'（请在 Excel 中“粘贴为数值”后再导入）",
        "第 5 行：街道是 Excel 错误值 #DIV/0!，请先修正公式",
    ]


def test_formula_cells_import_their_result(store, checklists, tmp_path):
    path = write_xlsxwriter(tmp_path / "f.xlsx", [["点位名称", "点位类型"], [('="人民"&"公园"', "人民公园"), "公园"]])
    import_register(store, checklists, path)
    assert store.list_sites()[0].name == "人民公园"


def test_nan_and_inf_typed_as_text_are_not_numbers(store, checklists, tmp_path):
    path = write_csv(tmp_path / "nan.csv", ["点位名称,点位类型,经度,纬度", "甲,公园,nan,-inf", "乙,公园,1_0,1e400"])
    assert rejected(store, checklists, path) == [
        "第 2 行：经度不是数字：'nan'；纬度不是数字：'-inf'",
        "第 3 行：经度不是数字：'1_0'；纬度超出范围：1e400",
    ]


def test_hidden_first_sheet_and_empty_first_sheet(store, checklists, tmp_path):
    hidden = write_xlsxwriter(tmp_path / "hidden.xlsx", [["点位名称", "点位类型"], ["甲", "公园"]], hide_first=True)
    assert import_register(store, checklists, hidden).count("create") == 1
    from openpyxl import Workbook

    workbook = Workbook()
    old = workbook.active
    old.title = "旧台账"
    old.append(["点位名称", "点位类型"])
    old.append(["已撤销的点位", "公园"])
    old.sheet_state = "hidden"
    workbook.create_sheet("说明").append(["本表由各街道填报，每周一更新"])
    sheet = workbook.create_sheet("台账")
    sheet.append(["点位名称", "点位类型"])
    sheet.append(["乙", "公园"])
    workbook.save(tmp_path / "third.xlsx")
    assert import_register(store, checklists, tmp_path / "third.xlsx").count("create") == 1
    assert [s.name for s in store.list_sites()] == ["甲", "乙"]


def test_sheet_formatted_to_the_last_column_is_not_read_cell_by_cell(store, checklists, tmp_path, monkeypatch):
    import xlsxwriter

    from inspect_cli import sites

    path = tmp_path / "wide.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["点位名称", "点位类型"])
    for row in range(1, 21):
        sheet.write_row(row, 0, [f"点位{row}", "公园"])
    # One formatted blank cell in column XFD: the sheet's recorded size becomes A1:XFD22.
    sheet.write_blank(21, 16383, None, workbook.add_format({"bold": True}))
    workbook.close()
    seen = []
    real_cell = sites._cell
    monkeypatch.setattr(sites, "_cell", lambda value: seen.append(value) or real_cell(value))
    assert import_register(store, checklists, path).count("create") == 20
    # Padding every row to 16,384 columns would look at 22 × 16,384 cells.
    assert len(seen) < 2 * 16_384


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("empty-workbook", "empty.xlsx：工作簿里没有任何内容"),
        (b"", "无法读取 Excel 文件 {path}：文件已损坏或不是 .xlsx 格式"),
        ("zip-of-text", "{path} 是压缩包，但不是 Excel 工作簿（是不是 Word 文档或其他文件改了扩展名？）"),
        ("zip-broken-workbook", "无法读取 Excel 文件 {path}：文件已损坏或不是 .xlsx 格式"),
        ("sheet-cut-short", "无法读取 Excel 文件 {path}：文件已损坏或不是 .xlsx 格式"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
            "{path} 是旧版 .xls 或设有打开密码的 Excel 文件：请在 Excel/WPS 中去掉密码，另存为 .xlsx 后再导入",
        ),
    ],
)
def test_files_that_are_not_registers(store, checklists, tmp_path, content, message):
    import zipfile

    path = tmp_path / "empty.xlsx"
    if content == "empty-workbook":
        from openpyxl import Workbook

        Workbook().save(path)
    elif content == "zip-of-text":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    elif content in ("zip-broken-workbook", "sheet-cut-short"):
        write_xlsxwriter(path, [["点位名称", "点位类型"], ["甲", "公园"]])
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        if content == "zip-broken-workbook":
            members["xl/workbook.xml"] = b"<workbook><sheets"
        else:  # readable up to the second row: the damage shows only while reading rows
            sheet = members["xl/worksheets/sheet1.xml"]
            members["xl/worksheets/sheet1.xml"] = sheet[: sheet.index(b'<row r="2"') + 12]
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    else:
        path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        import_register(store, checklists, path)
    assert caught.value.message == message.format(path=path)
    assert store.count_sites() == 0


def test_csv_oddities(store, checklists, tmp_path):
    nul = tmp_path / "nul.csv"
    nul.write_bytes("点位名称,点位类型\n甲\x00乙,公园\n".encode())
    import_register(store, checklists, nul)
    assert store.list_sites()[0].name == "甲乙"
    mac = tmp_path / "mac.csv"
    mac.write_bytes("点位名称,点位类型\r丙,公园\r".encode())
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes("点位名称\t点位类型\r\n丁\t公园\r\n".encode("utf-16"))
    for path in (mac, utf16):
        import_register(store, checklists, path)
    assert [s.name for s in store.list_sites()] == ["甲乙", "丙", "丁"]


def test_csv_with_mixed_encodings_is_refused(store, checklists, tmp_path):
    # Read as GBK, the UTF-8 row would become the name "涓滃煄鍐滆锤甯傚満" without any error.
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "点位名称,点位类型\n".encode("gbk") + "东城农贸市场,NMSC\n".encode() + "西湖菜市场,NMSC\n".encode("gbk")
    )
    with pytest.raises(ImportFileError) as caught:
        import_register(store, checklists, path)
    assert caught.value.message == (
        "mixed.csv 混用了多种文字编码（第 1 行不是 UTF-8，其他行是）：请在 Excel/WPS 中打开，另存为“CSV UTF-8”后再导入"
    )
    assert store.count_sites() == 0


def test_csv_that_cannot_be_read(store, checklists, tmp_path):
    huge = write_csv(tmp_path / "huge.csv", ["点位名称,点位类型", "甲,公园", "乙" * 200_000 + ",公园"])
    with pytest.raises(ImportFileError, match=r"^huge.csv 第 3 行无法按 CSV 读取：有单元格超过 131072 个字符$"):
        import_register(store, checklists, huge)
    renamed = write_xlsx(tmp_path / "book.xlsx", [["点位名称", "点位类型"]])
    renamed = renamed.rename(tmp_path / "book.csv")
    with pytest.raises(ImportFileError, match="实际上是 Excel 文件，不是 CSV"):
        import_register(store, checklists, renamed)
    blank = write_csv(tmp_path / "blank.csv", ["", "  "])
    with pytest.raises(ImportFileError, match=r"^blank.csv：文件是空的$"):
        import_register(store, checklists, blank)
    assert store.count_sites() == 0


def test_unreadable_register(store, checklists, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "locked.csv", ["点位名称,点位类型", "甲,公园"])

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ImportFileError, match=f"^没有权限读取文件：{path}$"):
        import_register(store, checklists, path)


def test_row_errors_are_listed_up_to_fifty(store, checklists, tmp_path):
    path = write_csv(tmp_path / "many.csv", ["点位名称,点位类型"] + [f"点位{i},游乐场" for i in range(60)])
    details = rejected(store, checklists, path)
    assert len(details) == 51
    assert details[-1] == "……另有 10 行有问题，未一一列出"


def test_add_site_uses_the_same_rules(store, checklists):
    with pytest.raises(InputError, match="^无法添加点位：点位名称过长：101 个字符，最多 100 个；请精简后再填写$"):
        add_site(store, checklists, {"name": "园" * 101, "site_type": "公园"})
    with pytest.raises(InputError, match="^无法添加点位：点位编号只能由英文字母、数字和 - _ . 组成：'公园一号'$"):
        add_site(store, checklists, {"code": "公园一号", "name": "人民公园", "site_type": "公园"})
    change = add_site(store, checklists, {"name": "人民\x1b]0;x\x07公园", "site_type": "公园", "street": "\x00"})
    assert (change.site.name, change.site.street) == ("人民公园", None)
    with pytest.raises(InputError, match="^点位编号 GY-001 已存在"):
        add_site(store, checklists, {"code": "ｇｙ－００１", "name": "别的公园", "site_type": "公园"})
    assert store.count_sites() == 1


def test_cli_import_of_a_bad_cell_is_one_line_per_row(cli, tmp_path):
    path = write_csv(tmp_path / "bad.csv", ["点位名称,点位类型", f"{'市' * 300},农贸市场", "乙,公园"])
    result = cli("site", "import", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "错误：bad.csv 有 1 行无法导入，未写入任何数据",
        "  第 2 行：点位名称过长：300 个字符，最多 100 个；请精简后再填写",
    ]
