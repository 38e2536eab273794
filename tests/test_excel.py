from __future__ import annotations

import json
import random
import shutil
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from inspect_cli import paths
from inspect_cli.scoring import round_rate

from .conftest import DATA, Cli, make_image

TODAY = "2026-11-30"
PERIOD = ["--from", "2026-11-16", "--to", "2026-11-22"]


def failing_run(cli, site, day, failures, photo=None):
    """Walk a site's checklist: the listed positions fail (with a description), the rest pass."""
    items = json.loads(cli.ok("checklist", "show", cli_type(cli, site), "--json").stdout)["items"]
    lines = []
    for position in range(1, len(items) + 1):
        if position in failures:
            description, unit = failures[position]
            lines += ["2", description, "1", str(photo) if photo else "", unit]
        else:
            lines.append("1")
    cli.ok("run", site, "--date", day, "-i", "张三", input="\n".join(lines) + "\n")


def cli_type(cli, code):
    return json.loads(cli.ok("site", "show", code, "--json").stdout)["site"]["site_type"]


@pytest.fixture
def city_with_problems(from_template, monkeypatch):
    """The problem city below, built once per session and copied: each test spoils its own."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    return from_template("problem-city", problem_city_from_scratch, {"INSPECT_CLI_TODAY": TODAY})


def problem_city_from_scratch(cli, folder):
    cli.ok("site", "import", DATA / "sites.csv")
    return build_problem_city(cli, folder)


def build_problem_city(city, folder):
    """Two weeks of inspections; three problems for three units this week (all overdue on TODAY)."""
    photo = make_image(folder / "photos" / "现场.jpg", "blue", (320, 240))
    for unit in ("交通运输局", "城市管理局"):  # the units the inspectors name at the run prompt
        city.ok("unit", "add", unit)
    # Previous week: 东城 leads.
    failing_run(city, "NMSC-001", "2026-11-10", {})
    failing_run(city, "GJZD-001", "2026-11-10", {1: ("站牌破损", "交通运输局")})
    # This week: 西湖 leads; a formula-like description must stay text.
    failing_run(
        city,
        "NMSC-001",
        "2026-11-17",
        {1: ('=HYPERLINK("http://x")', "城市管理局"), 2: ("公益广告褪色", "城市管理局")},
        photo,
    )
    failing_run(city, "NMSC-002", "2026-11-18", {3: ("+1 地面积水", "市场监管局")})
    failing_run(city, "GJZD-001", "2026-11-19", {})
    return city


# --- the report ----------------------------------------------------------------------------


def test_report_sheets_headers_and_formats(city_with_problems, tmp_path):
    path = tmp_path / "周报.xlsx"
    city_with_problems.ok("export", "report", *PERIOD, "-o", path)
    book = load_workbook(path)
    assert book.sheetnames == [
        "汇总",
        "街道排名",
        "单位排名",
        "包抓单位排名",
        "点位类型",
        "点位得分",
        "问题清单",
        "逾期问题",
    ]
    problems = book["问题清单"]
    # A title row (what, period, office) across the printed columns, then the header.
    assert (
        problems["A1"].value
        == "问题清单 · 创城实地测评报告（2026年11月16日至2026年11月22日） · 示范市创建全国文明城市工作指挥部办公室"
    )
    assert "A1:L1" in {str(r) for r in problems.merged_cells.ranges}
    assert [c.value for c in problems[2]] == [
        "序号", "问题编号", "点位名称", "街道", "检查项", "问题描述", "结果", "责任单位",
        "整改时限", "状态", "逾期天数", "照片", "点位编码", "点位类型", "指标", "照片文件",
    ]  # fmt: skip
    assert problems.freeze_panes == "A3"
    assert problems.auto_filter.ref.startswith("A2:P")
    assert problems[2][0].font.b
    assert problems.page_setup.orientation == "landscape" and problems.page_setup.paperSize == 9
    setup = problems.page_setup  # one page wide (1 is the default, left out), as many long as it takes
    assert problems.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
    assert problems.print_title_rows == "$1:$2"
    assert problems.print_area == "'问题清单'!$A$1:$L$5"  # the screen-only columns stay off paper
    assert "&P" in problems.oddFooter.center.text
    assert "2026-11-16 至 2026-11-22" in problems.oddHeader.center.text
    deadline = problems["I3"]
    assert isinstance(deadline.value, datetime) and deadline.number_format == "yyyy-mm-dd"
    # Printed at 9 pt or more: 11 pt text, shrunk to fit A4 landscape (about 145 units).
    printed = sum(problems.column_dimensions[get_column_letter(c)].width for c in range(1, 13))
    assert 11 * 145 / printed >= 9
    assert book["街道排名"]["E3"].number_format == "0.0%"
    # Narrow tables print portrait, wide ones landscape.
    assert book["点位类型"].page_setup.orientation == "portrait"


def test_report_figures_agree_with_score_and_issue_stats(city_with_problems, tmp_path):
    path = tmp_path / "r.xlsx"
    cli = city_with_problems
    cli.ok("export", "report", *PERIOD, "-o", path)
    book = load_workbook(path)
    figures = {row[0].value: row[1].value for row in book["汇总"].iter_rows(min_row=3) if row[0].value}
    stats = json.loads(cli.ok("issue", "stats", *PERIOD, "--json").stdout)["total"]
    listed = json.loads(cli.ok("inspection", "list", *PERIOD, "--status", "finished", "--json").stdout)
    assert figures["检查次数"] == len(listed) == 3
    assert figures["检查点位数"] == 3
    assert figures["发现问题数"] == stats["total"] == 3
    assert figures["已销号"] == stats["closed"]
    assert figures[f"其中当前逾期（截至 {TODAY}）"] == stats["overdue"] == 3
    rates = [r["rate"] for r in listed]
    assert figures["平均得分率"] == pytest.approx(round_rate(sum(rates) / len(rates)) / 100)
    ranking = json.loads(cli.ok("score", *PERIOD, "--by", "street", "--json").stdout)
    sheet = book["街道排名"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [(r[0], r[1], r[2]) for r in rows] == [(x["rank"], x["name"], x["inspections"]) for x in ranking]
    assert [r[4] for r in rows] == [round(round_rate(x["mean_rate"]) / 100, 4) for x in ranking]  # exactly
    # 西湖 was second last week and is first now; 东城 the other way round.
    assert [(r[1], r[7], r[8]) for r in rows] == [("西湖街道", 2, "↑1"), ("东城街道", 1, "↓1")]
    # The change in points, rounded as the terminal rounds it (half up, as every rate).
    assert [r[9] for r in rows] == [round_rate(x["rate_change"]) for x in ranking]
    units = [[c.value for c in row] for row in book["单位排名"].iter_rows(min_row=3)]
    assert any(r[8] == "新上榜" for r in units)
    per_type = {(r[0].value, r[1].value): [c.value for c in r] for r in book["点位类型"].iter_rows(min_row=3)}
    east_market = per_type[("东城街道", "农贸市场")]
    assert east_market[3] + east_market[4] == east_market[2] and east_market[4] == 2
    assert east_market[6] == pytest.approx(round_rate(2 / east_market[2] * 100) / 100)


def test_report_problem_rows_photos_overdue_and_formula_text(city_with_problems, tmp_path):
    path = tmp_path / "r.xlsx"
    city_with_problems.ok("export", "report", *PERIOD, "-o", path)
    book = load_workbook(path)
    sheet = book["问题清单"]
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=3)}
    assert len(rows) == 3
    formula = next(r for r in rows.values() if str(r[5].value).startswith("=HYPERLINK"))
    assert formula[5].data_type == "s"  # text, never a formula
    assert next(r for r in rows.values() if str(r[5].value).startswith("+1"))[5].data_type == "s"
    assert all(r[10].value >= 1 for r in rows.values())  # all overdue on 11-30
    assert all(r[0].fill.fgColor.rgb.endswith("FFC7CE") for r in rows.values())
    assert len(sheet._images) == 2  # the two NMSC-001 failures carry the photo
    assert "现场.jpg" in formula[15].value
    overdue = [[c.value for c in r] for r in book["逾期问题"].iter_rows(min_row=3)]
    assert [r[0] for r in overdue] == sorted(r[0] for r in overdue)  # grouped by unit
    assert len(overdue) == 3


def test_empty_period_still_gives_a_valid_report(city, tmp_path):
    path = tmp_path / "empty.xlsx"
    city.ok("export", "report", "--from", "2026-01-05", "--to", "2026-01-11", "-o", path)
    book = load_workbook(path)
    assert "包抓单位排名" not in book.sheetnames
    assert [book[name]["A3"].value for name in ("问题清单", "逾期问题", "点位得分")] == ["本期无"] * 3


def test_report_bad_input(city, tmp_path):
    bad = city("export", "report", "--from", "2026-11-22", "--to", "2026-11-01", "-o", tmp_path / "x.xlsx")
    assert bad.exit_code == 2 and bad.stderr.startswith("错误：起始日期 2026-11-22 晚于结束日期 2026-11-01")
    wrong = city("export", "report", *PERIOD, "-o", tmp_path / "x.csv")
    assert wrong.exit_code == 2 and "应以 .xlsx 结尾" in wrong.stderr


# --- per-unit sheets -------------------------------------------------------------------------


def export_units(cli, folder, *args):
    cli.ok("export", "rectification", "-o", folder, *args)
    return {p.name.split("_")[1]: p for p in folder.glob("*.xlsx")}


def test_unit_sheets_layout_protection_and_validation(city_with_problems, tmp_path):
    files = export_units(city_with_problems, tmp_path / "out")
    assert set(files) == {"城市管理局", "市场监管局", "交通运输局"}
    assert files["城市管理局"].name == f"整改通知单_城市管理局_{TODAY}.xlsx"
    book = load_workbook(files["城市管理局"])
    assert book.sheetnames == ["整改清单", "填写说明", "_导出信息"]
    assert book["_导出信息"].sheet_state == "veryHidden"
    sheet = book["整改清单"]
    top = header_row(sheet)
    assert [c.value for c in sheet[top]] == [
        "问题编号", "点位", "检查项", "问题描述", "发现日期", "整改时限", "整改前照片",
        "整改情况", "整改完成日期", "整改责任人", "状态", "整改后照片",
    ]  # fmt: skip
    first, last = top + 1, top + 2
    assert sheet.cell(last + 2, 1).value.startswith("签收人") and len(sheet._images) == 2
    assert sheet.protection.sheet and not sheet.protection.password
    assert sheet.protection.autoFilter is False and sheet.protection.sort is False  # both allowed
    for row in (first, last):
        assert all(sheet.cell(row, col).protection.locked for col in range(1, 8))
        assert not any(sheet.cell(row, col).protection.locked for col in range(8, 13))
    validations = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    states = validations[f"K{first}:K{last}"]
    assert states.type == "list" and states.formula1 == '"已整改,整改中,无法整改需协调"'
    assert validations[f"I{first}:I{last}"].type == "date"
    guide = " ".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row if c.value)
    assert "问题数量 2 个" in guide and "市创城办督查科" in guide and "整改时限" in guide
    assert any(str(c.value).startswith("=HYPERLINK") and c.data_type == "s" for c in sheet["D"])


def test_unit_and_status_filters(city_with_problems, tmp_path):
    files = export_units(city_with_problems, tmp_path / "one", "--unit", "市场监管局")
    assert set(files) == {"市场监管局"}
    bad = city_with_problems("export", "rectification", "-o", tmp_path / "x", "--unit", "不存在局")
    assert bad.exit_code == 2 and bad.stderr.startswith("错误：以下单位没有符合条件的问题：不存在局")
    assert not (tmp_path / "x").exists() or not list((tmp_path / "x").iterdir())
    nothing = city_with_problems.ok("export", "rectification", "-o", tmp_path / "closed", "--status", "closed")
    assert "没有需要导出的问题" in nothing.stdout


# --- the round trip ---------------------------------------------------------------------------


def header_row(sheet):
    """The row of the column titles (below the letter on top of the sheet)."""
    return next(row for row in range(1, 31) if sheet.cell(row, 1).value == "问题编号")


def sign_off_row(sheet):
    return next(r for r in range(1, sheet.max_row + 1) if str(sheet.cell(r, 1).value or "").startswith("签收人"))


def insert_rows(sheet, at, count):
    """Rows inserted as Excel inserts them: openpyxl leaves merged cells where they were."""
    for merged in sheet.merged_cells.ranges:
        if merged.min_row >= at:
            merged.shift(0, count)
    sheet.insert_rows(at, count)


def fill(path, answers, target=None, shuffle=False, extra_column=False, blank_rows=False):
    """Fill a returned sheet the way a unit does, and save it as their program would."""
    book = load_workbook(path)
    sheet = book["整改清单"]
    top = header_row(sheet)
    header = [c.value for c in sheet[top]]
    col = {title: header.index(title) + 1 for title in header}
    rows = range(top + 1, sign_off_row(sheet) - 1)  # the table, above the blank row and the 签收 block
    for row in rows:
        no = sheet.cell(row, 1).value
        for title, value in answers.get(no, {}).items():
            sheet.cell(row, col[title]).value = value
    if shuffle:
        values = [[c.value for c in sheet[r]] for r in rows]
        random.Random(1).shuffle(values)
        values.reverse()
        for r, row_values in zip(rows, values, strict=True):
            for c, value in enumerate(row_values, start=1):
                cell = sheet.cell(r, c)
                cell.value = value
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # moving text around keeps it text, as Excel does
    if blank_rows:
        insert_rows(sheet, top + 1, 2)
    if extra_column:
        sheet.cell(top, len(header) + 1).value = "备注"
        sheet.cell(top + 2, len(header) + 1).value = "单位自己加的列"
    book.save(target or path)
    return target or path


def imported(cli, *paths, args=()):
    result = cli("import", "rectification", *map(str, paths), "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def problem(cli, no):
    return json.loads(cli.ok("issue", "show", no, "--json").stdout)


def numbers(cli, unit):
    return [p["no"] for p in json.loads(cli.ok("issue", "list", "--unit", unit, "--json").stdout)]


def test_round_trip_fill_resave_import(city_with_problems, tmp_path):
    cli = city_with_problems
    files = export_units(cli, tmp_path / "out")
    first, second = numbers(cli, "城市管理局")
    returned = fill(
        files["城市管理局"],
        {
            first: {
                "整改情况": "已拆除占道摊位",
                "整改完成日期": datetime(2026, 11, 25),
                "整改责任人": "李四",
                "状态": "已整改",
            },
            second: {"整改情况": "已联系广告公司", "状态": "整改中"},
        },
        target=tmp_path / "returned.xlsx",
        shuffle=True,
        extra_column=True,
        blank_rows=True,
    )
    code, report = imported(cli, returned)
    assert code == 0, report[0]["rows"]
    outcome = {r["no"]: r["outcome"] for r in report[0]["rows"]}
    assert outcome == {first: "applied", second: "applied"}
    fixed = problem(cli, first)
    assert (fixed["status"], fixed["fixed_date"]) == ("fixed", "2026-11-25")
    assert fixed["history"][-1]["note"] == "已拆除占道摊位（整改责任人：李四）"
    assert fixed["history"][-1]["actor"] == "城市管理局（李四）"
    progress = problem(cli, second)
    assert progress["status"] == "open" and progress["history"][-1]["note"] == "整改中：已联系广告公司"
    # The same file again changes nothing.
    before = [problem(cli, first), problem(cli, second)]
    code, again = imported(cli, returned)
    assert code == 0 and {r["outcome"] for r in again[0]["rows"]} == {"unchanged"}
    assert [problem(cli, first), problem(cli, second)] == before
    # After the re-check closed it, the returned file is still "no change".
    cli.ok("issue", "recheck", first, "--pass", "--date", "2026-11-26")
    code, third = imported(cli, returned)
    assert code == 0 and {r["no"]: r["message"] for r in third[0]["rows"]}[first] == "已销号"


REFUSALS = [
    ({"状态": "已整改"}, "状态为已整改，但未填写整改完成日期"),
    ({"状态": "已整改", "整改完成日期": datetime(2026, 12, 25)}, "整改完成日期 2026-12-25 晚于今天"),
    ({"状态": "已整改", "整改完成日期": datetime(2026, 11, 1)}, "整改完成日期 2026-11-01 早于问题发现日期 2026-11-17"),
    ({"状态": "已整改", "整改完成日期": "下周"}, "整改完成日期格式不正确：'下周'"),
    ({"问题描述": "改成了别的"}, "受保护的列被修改：问题描述"),
    ({"整改时限": datetime(2027, 1, 1)}, "受保护的列被修改：整改时限"),
    ({"整改情况": "已处理"}, "未选择状态"),
    ({"状态": "完成了"}, "状态“完成了”无效"),
]


@pytest.mark.parametrize(("answer", "reason"), REFUSALS)
def test_each_refusal_reason_and_nothing_applied(city_with_problems, tmp_path, answer, reason):
    cli = city_with_problems
    files = export_units(cli, tmp_path / "out")
    first, second = numbers(cli, "城市管理局")
    good = {"整改情况": "已整改", "整改完成日期": datetime(2026, 11, 20), "状态": "已整改"}
    returned = fill(files["城市管理局"], {first: answer, second: good})
    code, report = imported(cli, returned)
    assert code == 2
    rows = {r["no"]: r for r in report[0]["rows"]}
    assert rows[first]["outcome"] == "refused" and rows[first]["message"].startswith(reason)
    assert rows[second]["outcome"] == "applied" and report[0]["applied"] is False
    assert problem(cli, second)["status"] == "open"  # the good row waited too
    code, partial = imported(cli, returned, args=["--partial"])
    assert code == 2 and partial[0]["applied"] is True
    assert problem(cli, second)["status"] == "fixed" and problem(cli, first)["status"] == "open"


def test_refusals_about_the_problem_itself(city_with_problems, tmp_path):
    cli = city_with_problems
    files = export_units(cli, tmp_path / "out")
    first, second = numbers(cli, "城市管理局")
    cli.ok("issue", "assign", first, "--unit", "文明办", "--new-unit")
    cli.ok("issue", "recheck", second, "--pass", "--force", "--reason", "现场已整改")
    done = {"整改情况": "已整改", "整改完成日期": datetime(2026, 11, 20), "状态": "已整改"}
    returned = fill(files["城市管理局"], {first: done, second: done})
    book = load_workbook(returned)
    sheet = book["整改清单"]
    market = numbers(cli, "市场监管局")[0]  # a row copied from another unit's sheet
    at = sign_off_row(sheet) - 1
    insert_rows(sheet, at, 2)
    for row, no in enumerate(["ZG-2026-9999", market], start=at):
        for col, value in ((1, no), (8, "x"), (11, "整改中")):
            sheet.cell(row, col).value = value
    book.save(returned)
    code, report = imported(cli, returned, args=["--dry-run"])
    messages = {r["no"]: r["message"] for r in report[0]["rows"]}
    assert code == 2
    assert messages[first] == "问题已改派给 文明办，不属于 城市管理局"
    # Closed after the sheet was made: the row is out of date, not wrong.
    assert (
        messages[second]
        == "表格导出后问题已有新的处理（2026-11-30 强制销号），本行未应用；请以最新导出的整改通知单为准"
    )
    assert messages["ZG-2026-9999"] == "未知的问题编号（不在这份导出的整改通知单中）"
    assert messages[market] == "问题属于 市场监管局，不属于 城市管理局（不在这份导出的整改通知单中）"


def test_dry_run_applies_nothing(city_with_problems, tmp_path):
    cli = city_with_problems
    files = export_units(cli, tmp_path / "out")
    first, _ = numbers(cli, "城市管理局")
    returned = fill(
        files["城市管理局"], {first: {"整改情况": "好了", "整改完成日期": datetime(2026, 11, 20), "状态": "已整改"}}
    )
    result = cli("import", "rectification", str(returned), "--dry-run")
    assert result.exit_code == 0 and "预览（未写入）：应用 1 行" in result.stdout
    assert problem(cli, first)["status"] == "open"


def test_files_that_are_not_our_sheets(city_with_problems, tmp_path):
    cli = city_with_problems
    plain = tmp_path / "plain.xlsx"
    Workbook().save(plain)
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    broken = tmp_path / "broken.xlsx"
    files = export_units(cli, tmp_path / "out")
    data = files["城市管理局"].read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    result = cli("import", "rectification", str(plain), str(text), str(broken), str(tmp_path / "missing.xlsx"))
    assert result.exit_code == 2
    assert "错误：plain.xlsx：不是 inspect-cli 导出的整改通知单（找不到隐藏的导出信息）；未导入" in result.stderr
    assert "错误：notes.xlsx：不是有效的 .xlsx 文件" in result.stderr
    assert "错误：broken.xlsx：不是有效的 .xlsx 文件" in result.stderr
    assert "错误：missing.xlsx：文件不存在；未导入" in result.stderr
    assert "Traceback" not in result.stderr


def test_sheet_from_another_database_is_refused(city_with_problems, tmp_path):
    files = export_units(city_with_problems, tmp_path / "out")
    other = Cli(tmp_path / "other.sqlite")
    other.ok("site", "list")
    result = other("import", "rectification", str(files["城市管理局"]))
    assert result.exit_code == 2
    assert "不在本数据库中：这份表不是从本数据库导出的整改通知单" in result.stderr


def test_missing_column_is_named(city_with_problems, tmp_path):
    files = export_units(city_with_problems, tmp_path / "out")
    book = load_workbook(files["城市管理局"])
    book["整改清单"].delete_cols(10)  # 整改责任人
    book.save(tmp_path / "cut.xlsx")
    result = city_with_problems("import", "rectification", str(tmp_path / "cut.xlsx"))
    assert result.exit_code == 2 and "缺少列：整改责任人" in result.stderr


def test_exported_file_is_a_valid_zip_with_images(city_with_problems, tmp_path):
    files = export_units(city_with_problems, tmp_path / "out")
    with zipfile.ZipFile(files["城市管理局"]) as archive:
        assert archive.testzip() is None
        assert any(n.startswith("xl/media/") for n in archive.namelist())
    shutil.rmtree(tmp_path / "out")


FIXTURE_ID = "fixture-城市管理局"


def fixture_answers(first, second):
    """What the unit wrote into the LibreOffice fixture."""
    return {
        first: {
            "整改情况": "已拆除占道摊位",
            "整改完成日期": datetime(2026, 11, 25),
            "整改责任人": "李四",
            "状态": "已整改",
        },
        second: {"整改情况": "已联系广告公司更换", "状态": "整改中"},
    }


def export_fixture(cli, folder):
    """The 城市管理局 sheet with a fixed export id, as `make_libreoffice_fixture.py` made it."""
    from inspect_cli.config import OfficeSettings
    from inspect_cli.excel.unit_sheet import export_unit_sheets
    from inspect_cli.store import Store

    with Store(cli.db) as store:
        result = export_unit_sheets(
            store,
            folder,
            OfficeSettings(),
            paths.media_dir(cli.db),
            ["城市管理局"],
            export_id_for=lambda unit: FIXTURE_ID,
        )
    return result.files[0].path


def test_sheet_resaved_by_libreoffice_imports(city_with_problems, tmp_path):
    """tests/data/returned-libreoffice.xlsx was filled, then opened and saved by LibreOffice 7."""
    cli = city_with_problems
    export_fixture(cli, tmp_path / "out")
    resaved = DATA / "returned-libreoffice.xlsx"
    with zipfile.ZipFile(resaved) as archive:
        assert b"<Application>LibreOffice" in archive.read("docProps/app.xml")
    book = load_workbook(resaved)
    assert book["_导出信息"].sheet_state == "hidden"  # LibreOffice keeps it, though not very hidden
    sheet = book["整改清单"]
    assert "备注" in [c.value for c in sheet[header_row(sheet)]]  # the unit's added column survived
    first, second = numbers(cli, "城市管理局")
    code, report = imported(cli, resaved)
    assert code == 0, report
    assert {r["no"]: r["outcome"] for r in report[0]["rows"]} == {first: "applied", second: "applied"}
    assert problem(cli, first)["status"] == "fixed" and problem(cli, first)["fixed_date"] == "2026-11-25"
    assert problem(cli, second)["history"][-1]["note"] == "整改中：已联系广告公司更换"
    code, again = imported(cli, resaved)
    assert code == 0 and {r["outcome"] for r in again[0]["rows"]} == {"unchanged"}


def test_report_charts_and_summary_matrix(city_with_problems, tmp_path):
    """Native charts (editable in Excel and WPS) over the sheets' own cells, and the 汇总 matrix."""
    import re
    import zipfile

    path = tmp_path / "r.xlsx"
    cli = city_with_problems
    cli.ok("export", "report", *PERIOD, "-o", path)
    with zipfile.ZipFile(path) as archive:
        charts = [
            archive.read(n).decode() for n in sorted(archive.namelist()) if re.match(r"xl/charts/chart\d+\.xml", n)
        ]
    refs = [set(re.findall(r"<c:f>(.*?)</c:f>", chart)) for chart in charts]
    # The trend on 汇总; one ranking chart per ranking sheet, with the 黑榜 line from its own column.
    assert any(any(r.startswith("汇总!$B$") for r in chart) for chart in refs)
    book = load_workbook(path)
    for sheet in ("街道排名", "单位排名"):
        last = 2 + sum(1 for row in book[sheet].iter_rows(min_row=3, max_col=1) if isinstance(row[0].value, int))
        chart = next(c for c, r in zip(charts, refs, strict=True) if f"{sheet}!$E$3:$E${last}" in r)
        assert f"{sheet}!$K$3:$K${last}" in chart and "C00000" in chart  # the 黑榜 line; 红榜 red
        assert book[sheet]["K3"].value == 0.85  # the line's column, off paper
        assert book[sheet].print_area.endswith(f"$J${last + 3 + 17}")  # the chart below the table is printed
    summary = book["汇总"]
    cells = [[c.value for c in row] for row in summary.iter_rows()]
    header = next(i for i, row in enumerate(cells) if row[0] == "各点位类型分街道合格率") + 1
    streets = [v for v in cells[header][1:] if v][:-1]
    assert streets == ["东城街道", "西湖街道"] and cells[header][len(streets) + 1] == "合计"
    per_type = {(r[0].value, r[1].value): r for r in book["点位类型"].iter_rows(min_row=3)}
    for row in cells[header + 1 :]:
        if row[0] in (None, "合计"):
            break
        for street, value in zip(streets, row[1:], strict=False):
            detail = per_type.get((street, row[0]))
            assert value == (None if detail is None else detail[5].value)  # the same 合格率 as the detail


def test_report_says_which_checklist_editions_the_period_used(city_with_problems, tmp_path):
    path = tmp_path / "r.xlsx"
    cli = city_with_problems
    cli.ok("export", "report", *PERIOD, "-o", path)
    cells = [[c.value for c in row] for row in load_workbook(path)["汇总"].iter_rows()]
    start = next(i for i, row in enumerate(cells) if row[0] == "本期使用的测评标准") + 2
    used = []
    for row in cells[start:]:
        if not row[0]:
            break
        used.append(tuple(row[:4]))
    listed = json.loads(cli.ok("inspection", "list", *PERIOD, "--status", "finished", "--json").stdout)
    editions = {e["code"]: e for e in json.loads(cli.ok("checklist", "editions", "--json").stdout)}
    by_code: dict[str, int] = {}
    for inspection in listed:
        code = inspection["site_code"].split("-")[0]
        by_code[code] = by_code.get(code, 0) + 1
    assert {code: count for _, code, _, count in used} == by_code
    assert all(edition == editions[code]["edition"] for _, code, edition, _ in used)
