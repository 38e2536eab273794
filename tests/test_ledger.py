"""`export ledger`: the year's 整改台账, each problem's life checked cell by cell against a
small city built through the CLI, its totals against `issue stats`, and its queries counted."""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from inspect_cli.models import Photo, ProblemStatus, Site

from .conftest import DATA, make_image, sql
from .test_year_scale import _statements

TODAY = "2026-11-30"  # a Monday
YEAR = ["--from", "2026-01-01", "--to", "2026-12-31"]
TITLES = [
    "序号", "问题编号", "点位", "街道", "检查项 / 问题描述", "责任单位", "发现日期", "出现\n次数", "整改时限",
    "上报整改日期", "复查", "状态", "用时（工作日）", "逾期\n天数", "整改前", "整改后",
    "点位类型", "问题类别", "结果", "销号日期", "备注",
]  # fmt: skip
COLUMN = {title: index for index, title in enumerate(TITLES)}
BEFORE, AFTER = COLUMN["整改前"], COLUMN["整改后"]


def build_ledger_city(cli, folder):
    """Problems of 2026 (and one of 2025) taken through every end a problem can come to.

    Numbers follow the order they are recorded in: 2025-0001 first, then 2026-0001 … 0008.
    """
    cli.ok("site", "import", DATA / "sites.csv")
    photos = folder / "photos"
    found, rejected, accepted, reported = (
        make_image(photos / f"{name}.jpg", color, (320, 240))
        for name, color in (("现场", "blue"), ("第一次整改", "red"), ("第二次整改", "green"), ("上报", "yellow"))
    )

    def record(site, item, day, *more):
        cli.ok("record", site, item, "不合格", "--date", day, "-i", "张三", *more)

    # ZG-2025-0001: found last December; in the 2025 ledger, not in 2026's.
    record("NMSC-001", "gg-02", "2025-12-15", "--note", "去年的问题")
    # ZG-2026-0001 (市场监管局, 5 working days): found Tuesday 09-29, before the National Day
    # holiday (10-01…10-07) and the 调休 Saturday 10-10: due 10-12, fixed 10-14, two days late.
    record("NMSC-001", "ss-01", "2026-09-29", "--note", "公平秤损坏")
    cli.ok("issue", "fixed", "ZG-2026-0001", "--note", "已更换", "--date", "2026-10-14")
    cli.ok("issue", "recheck", "ZG-2026-0001", "--pass", "--date", "2026-10-15")
    # ZG-2026-0002 (公交集团, 1 working day): due 11-17, never fixed, found again on 11-23.
    record("GJZD-001", "hw-01", "2026-11-16", "--note", "站台垃圾")
    # ZG-2026-0003 (公交集团, 5): due 11-23, closed by force on 11-27 without a fix report.
    record("GJZD-001", "gg-01", "2026-11-16", "--note", "公益广告缺失")
    cli.ok("issue", "recheck", "ZG-2026-0003", "--pass", "--force", "--reason", "现场已补齐", "--date", "2026-11-27")
    # ZG-2026-0004 (东城街道办事处, 5): due 11-23, reported fixed, failed its re-check: 返工.
    record("JMXQ-001", "gg-01", "2026-11-16", "--note", "宣传栏破损")
    cli.ok("issue", "fixed", "ZG-2026-0004", "--note", "已修补", "--date", "2026-11-18")
    cli.ok("issue", "recheck", "ZG-2026-0004", "--fail", "--note", "仍有破损", "--date", "2026-11-19")
    # ZG-2026-0005 (西湖街道办事处): severe, dismissed (today, 11-30).
    cli.ok("record", "NMSC-002", "gg-01", "严重不合格", "--note", "广告牌倒伏", "--date", "2026-11-18", "-i", "张三")
    cli.ok("issue", "dismiss", "ZG-2026-0005", "--reason", "经核实为临时施工围挡")
    # ZG-2026-0006 (物业服务企业): 长期整改 until next March.
    record("JMXQ-001", "jg-01", "2026-11-18", "--note", "违章搭建")
    cli.ok("issue", "defer", "ZG-2026-0006", "--until", "2027-03-31", "--reason", "需立项改造")
    # ZG-2026-0007 (市场监管局): reported fixed with a photo (none when found), not re-checked yet.
    record("NMSC-002", "ss-01", "2026-11-18", "--note", "公示牌缺失")
    cli.ok("issue", "fixed", "ZG-2026-0007", "--note", "已补设", "--date", "2026-11-19", "--photo", reported)
    # ZG-2026-0008 (市场监管局, 5): found Friday 11-20 (two places, a photo), due 11-27; fixed
    # Monday 11-23, failed on 11-24, fixed again 11-25, passed 11-26: 3 working days.
    record("NMSC-001", "gg-01", "2026-11-20", "--note", "公益广告破损", "--count", "2", "--photo", found)
    cli.ok("issue", "fixed", "ZG-2026-0008", "--note", "已更换", "--date", "2026-11-23", "--photo", rejected)
    cli.ok("issue", "recheck", "ZG-2026-0008", "--fail", "--date", "2026-11-24")
    cli.ok("issue", "fixed", "ZG-2026-0008", "--note", "全部更换", "--date", "2026-11-25", "--photo", accepted)
    cli.ok("issue", "recheck", "ZG-2026-0008", "--pass", "--date", "2026-11-26")
    # Found again while open: one more occurrence of ZG-2026-0002, not a problem of its own.
    record("GJZD-001", "hw-01", "2026-11-23", "--note", "站台又有垃圾")
    return cli


@pytest.fixture
def ledger_city(from_template, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    return from_template("ledger-city", build_ledger_city, {"INSPECT_CLI_TODAY": TODAY})


def export(cli, path, *args):
    result = cli.ok("export", "ledger", *args, "-o", path)
    return result, load_workbook(path)


def rows_of(sheet) -> dict[str, dict[str, object]]:
    """The ledger's rows by problem number, each cell by its column title (on one line)."""
    assert [c.value for c in sheet[2]] == TITLES
    out = {}
    for row in sheet.iter_rows(min_row=3):
        values = [c.value for c in row]
        out[values[1]] = {title.replace("\n", ""): value for title, value in zip(TITLES, values, strict=True)}
    return out


def day(text: str) -> datetime:
    return datetime.fromisoformat(text)


def pictures(sheet) -> dict[tuple[int, int], str]:
    """(row, column) of each picture's top-left corner (1-based row), and its colour."""
    from PIL import Image

    found = {}
    for image in sheet._images:
        start = image.anchor._from
        with Image.open(io.BytesIO(image._data())) as picture:
            red, green, blue = picture.convert("RGB").getpixel((picture.width // 2, picture.height // 2))
        colour = max((("red", red), ("green", green), ("blue", blue)), key=lambda c: c[1])[0]
        if red > 200 and green > 200:
            colour = "yellow"
        found[(start.row + 1, start.col)] = colour
    return found


# --- each problem's life, cell by cell ------------------------------------------------------


def test_each_problem_life_cell_by_cell(ledger_city, tmp_path):
    _, book = export(ledger_city, tmp_path / "整改台账.xlsx", "--year", "2026")
    assert book.sheetnames == ["汇总", "整改台账"]
    rows = rows_of(book["整改台账"])
    # By found date, then number; the 2025 problem is not in 2026's ledger.
    assert list(rows) == [f"ZG-2026-{n:04d}" for n in (1, 2, 3, 4, 5, 6, 7, 8)]
    assert [r["序号"] for r in rows.values()] == list(range(1, 9))

    holiday = rows["ZG-2026-0001"]  # across National Day: 09-30, 10-08, 10-09, 10-10 (调休), 10-12…10-14
    assert holiday["点位"] == "NMSC-001 东城农贸市场" and holiday["街道"] == "东城街道"
    assert holiday["责任单位"] == "市场监管局"
    assert holiday["检查项 / 问题描述"].endswith("\n问题：公平秤损坏")
    assert (holiday["发现日期"], holiday["整改时限"], holiday["上报整改日期"]) == (
        day("2026-09-29"), day("2026-10-12"), day("2026-10-14"),
    )  # fmt: skip
    assert (holiday["复查"], holiday["状态"], holiday["用时（工作日）"], holiday["逾期天数"]) == (
        "10-15 通过",
        "已销号",
        7,
        2,
    )
    assert holiday["出现次数"] == 1 and holiday["销号日期"] == day("2026-10-15")

    never = rows["ZG-2026-0002"]  # open since 11-16, due 11-17: 13 days overdue on 11-30, found twice
    assert (never["整改时限"], never["上报整改日期"], never["复查"], never["状态"]) == (
        day("2026-11-17"),
        None,
        None,
        "待整改",
    )
    assert (never["用时（工作日）"], never["逾期天数"], never["出现次数"]) == (None, 13, 2)
    assert never["备注"] == "重复发现：11-23"

    forced = rows["ZG-2026-0003"]  # closed by force on Friday 11-27: 9 working days, 4 days late
    assert (forced["上报整改日期"], forced["复查"], forced["状态"]) == (None, "11-27 强制销号", "已销号")
    assert (forced["用时（工作日）"], forced["逾期天数"]) == (9, 4)
    assert forced["备注"] == "11-27 强制销号：理由：现场已补齐"

    rework = rows["ZG-2026-0004"]  # reported 11-18, failed 11-19: back to 待整改, 7 days overdue
    assert (rework["上报整改日期"], rework["复查"], rework["状态"]) == (day("2026-11-18"), "11-19 未通过", "返工")
    assert (rework["用时（工作日）"], rework["逾期天数"]) == (None, 7)

    dismissed = rows["ZG-2026-0005"]
    assert dismissed["检查项 / 问题描述"].startswith("【严重】") and dismissed["结果"] == "严重不合格"
    assert (dismissed["状态"], dismissed["逾期天数"], dismissed["用时（工作日）"]) == ("不属实", None, None)
    assert dismissed["备注"] == "11-30 不属实：经核实为临时施工围挡"

    deferred = rows["ZG-2026-0006"]
    assert (deferred["状态"], deferred["整改时限"], deferred["逾期天数"]) == ("长期整改", day("2027-03-31"), None)
    assert deferred["责任单位"] == "物业服务企业"
    assert deferred["备注"] == "11-30 长期整改：需立项改造（完成时限 2027-03-31）"

    waiting = rows["ZG-2026-0007"]
    assert (waiting["状态"], waiting["上报整改日期"], waiting["逾期天数"]) == ("已整改待复查", day("2026-11-19"), None)

    fixed = rows["ZG-2026-0008"]  # found Friday 11-20, the accepted fix on Wednesday 11-25: 3 working days
    assert fixed["检查项 / 问题描述"].endswith("\n问题：公益广告破损（2 处）")
    assert (fixed["发现日期"], fixed["整改时限"], fixed["上报整改日期"]) == (
        day("2026-11-20"), day("2026-11-27"), day("2026-11-25"),
    )  # fmt: skip
    assert (fixed["复查"], fixed["状态"], fixed["用时（工作日）"], fixed["逾期天数"]) == (
        "11-24 未通过；11-26 通过", "已销号", 3, None,
    )  # fmt: skip


def test_overdue_rows_are_red_and_dates_are_dates(ledger_city, tmp_path):
    _, book = export(ledger_city, tmp_path / "l.xlsx", "--year", "2026")
    sheet = book["整改台账"]
    red = {row[1].value for row in sheet.iter_rows(min_row=3) if row[0].fill.fgColor.rgb.endswith("FFC7CE")}
    assert red == {"ZG-2026-0002", "ZG-2026-0004"}  # overdue now; a closed late fix is not red
    cell = sheet.cell(3, COLUMN["发现日期"] + 1)
    assert isinstance(cell.value, datetime) and cell.number_format == "yyyy-mm-dd"


def test_photos_before_and_after_side_by_side(ledger_city, tmp_path):
    _, book = export(ledger_city, tmp_path / "l.xlsx", "--year", "2026")
    sheet = book["整改台账"]
    row = {r[1].value: r[0].row for r in sheet.iter_rows(min_row=3)}
    shown = pictures(sheet)
    # 0008: found blue; its latest fix with a photo is the accepted one (green), not the
    # rejected one (red). 0007: only a fix photo, in the 整改后 column.
    assert shown == {
        (row["ZG-2026-0008"], BEFORE): "blue",
        (row["ZG-2026-0008"], AFTER): "green",
        (row["ZG-2026-0007"], AFTER): "yellow",
    }
    assert sheet.row_dimensions[row["ZG-2026-0007"]].height >= 72 * 0.75  # tall enough for the picture


def test_a_reworked_problem_shows_no_after_photo_and_a_missing_file_says_so(ledger_city, tmp_path):
    green = make_image(tmp_path / "a.jpg", "green")
    ledger_city.ok("issue", "fixed", "ZG-2026-0002", "--note", "已清扫", "--date", "2026-11-24", "--photo", green)
    ledger_city.ok("issue", "recheck", "ZG-2026-0002", "--fail", "--date", "2026-11-25")
    shown = json.loads(ledger_city.ok("issue", "show", "ZG-2026-0008", "--json").stdout)
    Path(shown["history"][0]["photos"][0]).unlink()  # the photo taken when 0008 was found
    _, book = export(ledger_city, tmp_path / "l.xlsx", "--year", "2026")
    sheet = book["整改台账"]
    rows = rows_of(sheet)
    row = {r[1].value: r[0].row for r in sheet.iter_rows(min_row=3)}
    assert (rows["ZG-2026-0002"]["状态"], rows["ZG-2026-0002"]["上报整改日期"]) == ("返工", day("2026-11-24"))
    assert rows["ZG-2026-0002"]["整改后"] is None  # the rejected fix is no 整改后
    assert rows["ZG-2026-0008"]["整改前"] == "（照片文件缺失）"
    assert set(pictures(sheet)) == {(row["ZG-2026-0008"], AFTER), (row["ZG-2026-0007"], AFTER)}


# --- totals ---------------------------------------------------------------------------------


def block(book, heading: str) -> dict[str, list[object]]:
    """A table of the 汇总 sheet: the rows under `heading` and its header, by their first cell."""
    rows = [[c.value for c in r] for r in book["汇总"].iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == heading) + 2
    end = next(
        (i for i in range(start, len(rows)) if not rows[i][0] or rows[i][0].startswith(("（", "台账"))), len(rows)
    )
    return {r[0]: r[1:] for r in rows[start:end]}


def summary_figures(book) -> dict[str, object]:
    """The 整改指标 by name, and the counts by final state under their own names."""
    states = {name: row[0] for name, row in block(book, "一、按最终状态").items()}
    figures = {name: row[0] for name, row in block(book, "二、整改指标").items()}
    assert states["已销号"] == figures["已销号"] and states["合计"] == figures["问题数"]
    return {**states, **figures}


def unit_rows(book) -> dict[str, list[object]]:
    return {name: [name, *row[:10]] for name, row in block(book, "三、按责任单位").items()}


def rate(value: float | None) -> float | None:
    from inspect_cli.scoring import round_rate

    return None if value is None else round(round_rate(value) / 100, 4)


def test_totals_equal_issue_stats_for_the_year(ledger_city, tmp_path):
    result, book = export(ledger_city, tmp_path / "l.xlsx", "--year", "2026")
    stats = json.loads(ledger_city.ok("issue", "stats", *YEAR, "--json").stdout)["total"]
    figures = summary_figures(book)
    # By final state, by hand: 0001, 0003, 0008 closed; 0007 waiting; 0002 open; 0004 返工; 0006; 0005.
    states = {k: figures[k] for k in ("已销号", "已整改待复查", "待整改", "返工", "长期整改", "不属实", "合计")}
    assert states == {"已销号": 3, "已整改待复查": 1, "待整改": 1, "返工": 1, "长期整改": 1, "不属实": 1, "合计": 8}
    assert figures["问题数"] == stats["total"] == 8
    assert figures["已销号"] == stats["closed"] == 3
    assert figures["整改率"] == rate(stats["fix_rate"]) == 0.429  # 3 ÷ (8 − 1)
    assert figures["按期销号"] == stats["on_time"] == 1  # only 0008 was fixed by its deadline
    assert figures["按期整改率"] == rate(stats["on_time_rate"]) == 0.333
    assert figures[f"逾期（截至 {TODAY}）"] == stats["overdue"] == 2
    assert (figures["长期整改"], figures["不属实"]) == (stats["deferred"], stats["dismissed"]) == (1, 1)
    assert figures["返工率"] == rate(stats["rework_rate"])  # 0004 and 0008 of the four re-checked
    assert "42.9%" in result.stdout and "33.3%" in result.stdout  # what the terminal says
    by_unit = {
        g["name"]: g
        for g in json.loads(ledger_city.ok("issue", "stats", *YEAR, "--by", "unit", "--json").stdout)["groups"]
    }
    units = unit_rows(book)
    assert list(units) == [g for g in by_unit]  # most problems first, as issue stats lists them
    for name, group in by_unit.items():
        row = units[name]
        assert (row[1], row[2], row[10]) == (group["total"], group["closed"], group["overdue"])
        assert (row[8], row[9]) == (rate(group["fix_rate"]), rate(group["on_time_rate"]))


def test_unit_and_street_filters_match_issue_list_and_stats(ledger_city, tmp_path):
    for option, value, by in (("--unit", "市场监管局", "unit"), ("--street", "西湖街道", "street")):
        _, book = export(ledger_city, tmp_path / f"{by}.xlsx", option, value, "--year", "2026")
        listed = json.loads(ledger_city.ok("issue", "list", *YEAR, option, value, "--json").stdout)
        rows = rows_of(book["整改台账"])
        assert sorted(rows) == sorted(p["no"] for p in listed)
        group = next(
            g
            for g in json.loads(ledger_city.ok("issue", "stats", *YEAR, "--by", by, "--json").stdout)["groups"]
            if g["name"] == value
        )
        figures = summary_figures(book)
        assert (figures["问题数"], figures["已销号"], figures[f"逾期（截至 {TODAY}）"]) == (
            group["total"], group["closed"], group["overdue"],
        )  # fmt: skip
        assert (figures["整改率"], figures["按期整改率"]) == (rate(group["fix_rate"]), rate(group["on_time_rate"]))
        scope = "责任单位：市场监管局" if by == "unit" else "街道：西湖街道"
        assert book["整改台账"]["A1"].value.startswith(f"2026年创城问题整改台账（{scope}；发现日期 2026-01-01")
        assert book["汇总"]["A1"].value.startswith(f"2026年创城问题整改台账 · 汇总（{scope}）")
    unit_rows_ = rows_of(load_workbook(tmp_path / "unit.xlsx")["整改台账"])
    assert sorted(unit_rows_) == ["ZG-2026-0001", "ZG-2026-0007", "ZG-2026-0008"]
    street_rows = rows_of(load_workbook(tmp_path / "street.xlsx")["整改台账"])
    assert sorted(street_rows) == ["ZG-2026-0002", "ZG-2026-0003", "ZG-2026-0005", "ZG-2026-0007"]


def test_a_short_name_finds_its_unit_and_another_year_has_its_own_problems(ledger_city, tmp_path):
    ledger_city.ok("unit", "rename", "市场监管局", "市场监督管理局")
    _, book = export(ledger_city, tmp_path / "old.xlsx", "--unit", "市场监管局", "--year", "2026")  # a former name
    assert sorted(rows_of(book["整改台账"])) == ["ZG-2026-0001", "ZG-2026-0007", "ZG-2026-0008"]
    _, book = export(ledger_city, tmp_path / "2025.xlsx", "--year", "2025")
    rows = rows_of(book["整改台账"])
    assert list(rows) == ["ZG-2025-0001"]
    assert rows["ZG-2025-0001"]["逾期天数"] > 300  # still open at the end of 2026


def test_a_problem_merged_into_another_is_one_more_occurrence_not_a_row(ledger_city, tmp_path):
    ledger_city.ok(
        "record", "NMSC-002", "ss-02", "不合格", "--date", "2026-11-27", "-i", "李四", "--note", "另一台电脑"
    )
    assert json.loads(ledger_city.ok("issue", "show", "ZG-2026-0009", "--json").stdout)["status"] == "open"
    # As `sync` leaves a problem found on two laptops: the later points at the earlier.
    sql(ledger_city.db, "UPDATE problems SET merged_into = (SELECT id FROM problems WHERE no = 'ZG-2026-0007')"
        " WHERE no = 'ZG-2026-0009'")  # fmt: skip
    _, book = export(ledger_city, tmp_path / "l.xlsx", "--year", "2026")
    rows = rows_of(book["整改台账"])
    assert "ZG-2026-0009" not in rows and len(rows) == 8
    assert (rows["ZG-2026-0007"]["出现次数"], rows["ZG-2026-0007"]["备注"]) == (2, "重复发现：11-27")
    assert (
        summary_figures(book)["问题数"]
        == json.loads(ledger_city.ok("issue", "stats", *YEAR, "--json").stdout)["total"]["total"]
        == 8
    )


# --- layout and print set-up -----------------------------------------------------------------


def test_print_setup_and_filters(ledger_city, tmp_path):
    _, book = export(ledger_city, tmp_path / "l.xlsx", "--year", "2026")
    sheet = book["整改台账"]
    assert sheet["A1"].value.startswith(
        "2026年创城问题整改台账（发现日期 2026-01-01 至 2026-12-31，状态截至 2026-11-30）"
    )
    assert "A1:P1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.freeze_panes == "A3" and sheet.print_title_rows == "$1:$2"
    assert sheet.auto_filter.ref == f"A2:{get_column_letter(len(TITLES))}10"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0
    assert sheet.print_area == "'整改台账'!$A$1:$P$10"  # 点位类型 … 备注 stay off paper
    # Adjacent columns of one width are one <col> element: count each column once.
    widths = {c: d.width for d in sheet.column_dimensions.values() for c in range(d.min, d.max + 1)}
    printed = sum(widths[c] for c in range(1, 17))
    assert 11 * 145 / printed >= 9  # 11 pt text fit to A4 landscape prints at about 9 pt
    assert "&P" in sheet.oddFooter.center.text
    summary = book["汇总"]
    assert summary["A1"].value == "2026年创城问题整改台账 · 汇总 · 示范市创建全国文明城市工作指挥部办公室"
    assert summary.page_setup.paperSize == 9 and "&P" in summary.oddFooter.center.text


def test_text_that_looks_like_a_formula_stays_text(ledger_city, tmp_path):
    ledger_city.ok("record", "JMXQ-001", "gg-02", "不合格", "--note", "=1+1", "--date", "2026-11-27", "-i", "张三")
    _, book = export(ledger_city, tmp_path / "l.xlsx", "--year", "2026")
    cell = next(
        r[COLUMN["检查项 / 问题描述"]] for r in book["整改台账"].iter_rows(min_row=3) if r[1].value == "ZG-2026-0009"
    )
    assert cell.data_type == "s" and cell.value.endswith("问题：=1+1")


def test_a_year_without_problems_says_so(city, tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    path = tmp_path / "空.xlsx"
    result, book = export(city, path)  # this year by default
    assert book["整改台账"]["A3"].value == "本年无"
    figures = summary_figures(book)
    assert figures["问题数"] == 0 and figures["合计"] == 0
    assert figures["整改率"] is None and figures["按期整改率"] is None  # no rate without problems
    assert list(unit_rows(book)) == ["本年无"]
    assert "已导出 2026 年整改台账" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--year", "abc"], 2, "错误：年份格式不正确：'abc'，应为四位数字（如 2026）"),
        (["--year", "1999"], 2, "错误：年份 1999 早于 2000 年，请检查年份"),
        (["--year", "2027"], 2, "错误：年份 2027 晚于今年（2026），还没有这一年的问题"),
        (["--unit", "市场监官局"], 3, "错误：找不到单位 '市场监官局'（是否想写 '市场监管局'？）"),
    ],
)
def test_bad_input_writes_nothing(ledger_city, tmp_path, args, code, message):
    path = tmp_path / "x.xlsx"
    result = ledger_city("export", "ledger", *args, "-o", path)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith(message)
    assert not path.exists()


def test_wrong_suffix_writes_nothing(ledger_city, tmp_path):
    result = ledger_city("export", "ledger", "--year", "2026", "-o", tmp_path / "台账.csv")
    assert result.exit_code == 2 and result.stderr.startswith("错误：输出文件应以 .xlsx 结尾")
    assert not (tmp_path / "台账.csv").exists()


# --- working days -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2026, 11, 20), date(2026, 11, 20), 0),  # the same day
        (date(2026, 11, 20), date(2026, 11, 23), 1),  # Friday → Monday
        (date(2026, 11, 20), date(2026, 11, 22), 0),  # a weekend is no working day
        (date(2026, 9, 30), date(2026, 10, 9), 2),  # National Day 10-01…10-07
        (date(2026, 10, 9), date(2026, 10, 10), 1),  # Saturday 10-10 is a 调休 workday
        (date(2026, 12, 31), date(2027, 1, 5), 3),  # into a year without holiday data: Mon–Fri
    ],
)
def test_working_days_between(start, end, days):
    from inspect_cli import workdays
    from inspect_cli.excel.ledger import WorkingDays

    assert WorkingDays(date(2026, 1, 1)).between(start, end) == days
    if workdays.is_workday(end):
        assert workdays.add_working_days(start, days) == end  # the deadline rule, backwards


# --- a year streams: queries per batch, not per problem ---------------------------------------


def _city_of(store, problems: int) -> None:
    """`problems` problems on one site, each with a found photo, a fix and a passed re-check."""
    store.insert_units([{"name": "市场监管局"}])
    site = store.save_site(Site("S1", "东城市场", "农贸市场", "NMSC", street="东城街道", unit="市场监管局"), "", "")
    with store.atomic():
        for n in range(problems):
            found = date(2026, 1, 5) + timedelta(days=n % 300)
            problem_id = store.insert_problem(
                {
                    "site_id": site.id,
                    "item_id": f"i{n}",
                    "item_text": "公益广告",
                    "category": "公益广告",
                    "count": 1,
                    "severity": "fail",
                    "unit": "市场监管局",
                    "found_date": found,
                    "deadline": found,
                    "status": ProblemStatus.CLOSED.value,
                    "fixed_date": found,
                    "closed_date": found,
                    "recheck_count": 1,
                }
            )
            photo = Photo(f"{n:064d}", f"gone/{n}.jpg", f"/tmp/{n}.jpg")
            store.add_event(problem_id, "found", found, photos=[photo])
            store.add_event(problem_id, "fixed", found, note="已整改")
            store.add_event(problem_id, "recheck_pass", found)


@pytest.mark.parametrize("problems", [10, 1200])
def test_queries_do_not_grow_with_the_problems(store, tmp_path, monkeypatch, problems):
    from inspect_cli.excel.ledger import BATCH, export_ledger

    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    _city_of(store, problems)
    path = tmp_path / "l.xlsx"
    seen = _statements(monkeypatch, lambda: export_ledger(store, 2026, path, tmp_path / "media", unit="市场监管局"))
    batches = math.ceil(problems / BATCH)
    # Once: the unit register (read by each of three look-ups), the count and the listing (a
    # stream, which the spy sees twice on SQLite). Per batch of 500, whatever the batch holds:
    # occurrences (two queries), histories and their photos (two).
    history = [sql for sql, _ in seen if "problem_events" in sql or "problem_photos" in sql]
    assert len(history) == 4 * batches, history
    assert len(seen) <= 10 + 4 * batches, [sql for sql, _ in seen]
    sheet = load_workbook(path, read_only=True)["整改台账"]
    assert sum(1 for _ in sheet.iter_rows(min_row=3)) == problems


def test_a_unit_named_exactly_is_not_mixed_with_units_whose_names_hold_its_name(ledger_city, tmp_path):
    """Found in review: --unit 监管局 … is a fragment, but a register name means that unit only:
    a unit 市市场监管局 must not slip into 市场监管局's ledger, list or figures."""
    ledger_city.ok("unit", "add", "市市场监管局")
    ledger_city.ok("issue", "assign", "ZG-2026-0002", "--unit", "市市场监管局")
    _, book = export(ledger_city, tmp_path / "unit.xlsx", "--unit", "市场监管局", "--year", "2026")
    assert sorted(rows_of(book["整改台账"])) == ["ZG-2026-0001", "ZG-2026-0007", "ZG-2026-0008"]
    listed = json.loads(ledger_city.ok("issue", "list", *YEAR, "--unit", "市场监管局", "--json").stdout)
    assert sorted(p["no"] for p in listed) == ["ZG-2026-0001", "ZG-2026-0007", "ZG-2026-0008"]
    # A fragment still lists every unit whose name holds it.
    fragment = json.loads(ledger_city.ok("issue", "list", *YEAR, "--unit", "监管", "--json").stdout)
    assert "ZG-2026-0002" in {p["no"] for p in fragment}
