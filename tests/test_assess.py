"""单位考核 (`inspect-cli assess`): hand-computed months, the rules file, the outputs, and
agreement with `issue stats` and `issue list`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from inspect_cli.assess import (
    AssessBy,
    first_overdue_day,
    open_spans,
    overdue_workdays,
    parse_month,
    points_text,
    working_days,
)
from inspect_cli.assess_rules import SHIPPED_RULES, load_rules
from inspect_cli.errors import InputError
from inspect_cli.models import Problem, ProblemEvent, ProblemStatus, Result

from .conftest import Cli, import_sites, template_db

TODAY = "2026-12-05"  # November is over; December runs to the 5th (a Saturday)

# Every rule on, no cap: each figure below is added up by hand from these.
TINY_RULES = """\
base: 100
min_score: 0
found: {fail: 1, severe: 3}
repeat: {again: 2, reopened: 4}
exposure: {severities: [severe], points: 5}
overdue: {points: 1, per_workday: 0.5, max_per_problem: null}
bonus: {on_time_close: 0.5}
caps: {max_deduction: null, max_bonus: null}
"""


def build_assess_city(cli: Cli, folder: Path) -> None:
    """The register (tests/data/sites.csv) and seven problems with their lives (November 2026
    has no holiday: the 7th/8th, 14th/15th … are the weekends)."""
    import_sites(cli, folder)

    def found(site: str, item: str, result: str, day: str, unit: str, note: str) -> str:
        cli.ok("record", site, item, result, "--date", day, "--unit", unit, "--note", note, "-i", "张三")
        listed = json.loads(cli.ok("issue", "list", "--site", site, "--all", "--json").stdout)
        return max((p for p in listed if p["item_id"] == item), key=lambda p: p["found_date"])["no"]

    def fixed(no: str, day: str) -> None:
        cli.ok("issue", "fixed", no, "--note", "已整改", "--date", day, "--by", "单位")

    def recheck(no: str, verdict: str, day: str) -> None:
        cli.ok("issue", "recheck", no, verdict, "--date", day, "--by", "张三")

    # P1 市场监管局: deadline Friday 11-06, fixed Tuesday 11-10 (after a weekend).
    p1 = found("NMSC-001", "gg-01", "fail", "2026-11-02", "市场监管局", "公益广告缺失")
    cli.ok("issue", "deadline", p1, "2026-11-06")
    fixed(p1, "2026-11-10")
    recheck(p1, "--pass", "2026-11-11")
    # P2 市场监管局: severe, fixed by its deadline and closed.
    p2 = found("NMSC-001", "gg-02", "severe", "2026-11-03", "市场监管局", "广告破损严重")
    cli.ok("issue", "deadline", p2, "2026-11-05")
    fixed(p2, "2026-11-05")
    recheck(p2, "--pass", "2026-11-06")
    # P3 市场监管局: fixed a day late, sent back (返工), found again, still open.
    p3 = found("NMSC-001", "gg-03", "fail", "2026-11-16", "市场监管局", "广告褪色")
    cli.ok("issue", "deadline", p3, "2026-11-18")
    fixed(p3, "2026-11-19")
    recheck(p3, "--fail", "2026-11-20")
    cli.ok("record", "NMSC-001", "gg-03", "fail", "--date", "2026-11-23", "--note", "仍褪色", "-i", "张三")
    # P4 公交集团: deadline 09-30, open through the National Day holiday, fixed 10-12.
    p4 = found("GJZD-001", "gg-01", "fail", "2026-09-29", "公交集团", "站台广告缺失")
    cli.ok("issue", "deadline", p4, "2026-09-30")
    fixed(p4, "2026-10-12")
    recheck(p4, "--pass", "2026-10-13")
    # P5 公交集团: 不属实.
    p5 = found("GJZD-001", "ss-01", "fail", "2026-11-24", "公交集团", "站牌污损")
    cli.ok("issue", "dismiss", p5, "--reason", "临时遮挡")
    # P6 西湖街道办事处: closed on time; P7 the same item failing again 4 days later (反复出现).
    p6 = found("NMSC-002", "gg-01", "fail", "2026-11-02", "西湖街道办事处", "广告缺失")
    fixed(p6, "2026-11-04")
    recheck(p6, "--pass", "2026-11-05")
    p7 = found("NMSC-002", "gg-01", "fail", "2026-11-09", "西湖街道办事处", "广告又缺失")
    cli.ok("issue", "deadline", p7, "2026-11-30")
    (folder / "numbers.json").write_text(json.dumps([p1, p2, p3, p4, p5, p6, p7]), encoding="utf-8")


@pytest.fixture
def town(from_template, monkeypatch, tmp_path):
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    cli = from_template("assess-city", build_assess_city, {"INSPECT_CLI_TODAY": TODAY})
    (tmp_path / "tiny.yaml").write_text(TINY_RULES, encoding="utf-8")
    return cli


@pytest.fixture
def numbers(town, tmp_path_factory):
    folder = template_db(tmp_path_factory, "assess-city", build_assess_city).parent
    return json.loads((folder / "numbers.json").read_text(encoding="utf-8"))


def run(cli: Cli, tmp_path: Path, *args: str) -> dict:
    return json.loads(cli.ok("assess", "--rules", tmp_path / "tiny.yaml", *args, "--json").stdout)


def lines(group: dict) -> list[tuple[str, str, float]]:
    return [(i["problem_no"], i["rule"], i["points"]) for i in group["items"]]


def by_name(data: dict) -> dict[str, dict]:
    return {g["name"]: g for g in data["groups"]}


# --- hand-computed months -------------------------------------------------------------------


def test_november_by_unit_hand_computed(town, numbers, tmp_path):
    p1, p2, p3, _, _, p6, p7 = numbers
    data = run(town, tmp_path, "--month", "2026-11")
    assert (data["month"], data["from"], data["to"], data["as_of"], data["complete"]) == (
        "2026-11", "2026-11-01", "2026-11-30", "2026-11-30", True,
    )  # fmt: skip
    groups = by_name(data)
    market = groups["市场监管局"]
    assert lines(market) == [
        (p1, "found_fail", -1),
        # Deadline Fri 11-06, fixed Tue 11-10: overdue 11-07 … 11-10, of which Mon and Tue are
        # working days (the day of the fix counts): once 1 + 2 × 0.5.
        (p1, "overdue", -2),
        (p2, "found_severe", -3),
        (p2, "exposure", -5),
        (p2, "on_time_close", 0.5),
        (p3, "found_fail", -1),
        (p3, "repeat_again", -2),  # found again 11-23 while open
        # Deadline Wed 11-18; fixed Thu 11-19 (counts), sent back Fri 11-20 (counts), then open to
        # the month's end: 19, 20, 23–27, 30 = 8 working days × 0.5 + once 1.
        (p3, "overdue", -5),
    ]
    assert (market["problems"], market["deducted"], market["earned"], market["score"]) == (3, 19, 0.5, 81.5)
    overdue = next(i for i in market["items"] if i["problem_no"] == p1 and i["rule"] == "overdue")
    assert (
        overdue["reason"] == "整改时限11月6日；11月7日起逾期，扣 1 分；本月逾期 2 个工作日（11月9日至11月10日）× 0.5 分"
    )
    assert overdue["date"] == "2026-11-07"
    xihu = groups["西湖街道办事处"]
    assert lines(xihu) == [
        (p6, "found_fail", -1),
        (p6, "on_time_close", 0.5),
        (p7, "found_fail", -1),
        (p7, "repeat_reopened", -4),
    ]
    assert (xihu["problems"], xihu["score"]) == (2, 94.5)
    # 不属实: counted as a problem (as issue stats counts it), no points.
    bus = groups["公交集团"]
    assert (bus["problems"], bus["dismissed"], bus["items"], bus["score"]) == (1, 1, [], 100)
    # A unit of the register with nothing this month keeps the base score; equal scores share a rank.
    ranking = [(g["rank"], g["name"], g["score"]) for g in data["groups"]]
    assert ranking == [
        (1, "东城街道办事处", 100),
        (1, "公交集团", 100),
        (3, "西湖街道办事处", 94.5),
        (4, "市场监管局", 81.5),
    ]


def test_overdue_across_the_national_day_holiday(town, numbers, tmp_path):
    """Deadline Wed 09-30, fixed Mon 10-12: 10-01 … 10-07 are holidays, Sat 10-10 a 调休 working
    day, Sun 10-11 a rest day: 10-08, 10-09, 10-10, 10-12 = 4 working days."""
    p4 = numbers[3]
    october = by_name(run(town, tmp_path, "--month", "2026-10"))["公交集团"]
    assert lines(october) == [(p4, "overdue", -3)]  # once 1 (first overdue day 10-01) + 4 × 0.5
    assert october["items"][0]["reason"] == (
        "整改时限9月30日；10月1日起逾期，扣 1 分；本月逾期 4 个工作日（10月8日至10月12日）× 0.5 分"
    )
    assert (october["problems"], october["score"]) == (0, 97)
    september = by_name(run(town, tmp_path, "--month", "2026-09"))["公交集团"]
    assert lines(september) == [(p4, "found_fail", -1)]  # the deadline is the month's last day: not late yet


def test_a_running_month_counts_to_today(town, numbers, tmp_path):
    """December to Sat 12-05: 12-01 … 12-04 are working days. P3 was first late in November, so
    December charges only its days; P7 (deadline 11-30) is first late on 12-01."""
    p3, p7 = numbers[2], numbers[6]
    data = run(town, tmp_path, "--month", "2026-12")
    assert (data["as_of"], data["complete"]) == ("2026-12-05", False)
    groups = by_name(data)
    assert lines(groups["市场监管局"]) == [(p3, "overdue", -2)]
    assert lines(groups["西湖街道办事处"]) == [(p7, "overdue", -3)]
    text = town.ok("assess", "--rules", tmp_path / "tiny.yaml", "--month", "2026-12").stdout
    assert "责任单位考核（2026年12月，截至12月5日，基础分 100）" in text


def test_by_street_and_by_grid(town, tmp_path):
    streets = by_name(run(town, tmp_path, "--month", "2026-11", "--by", "street"))
    assert {n: (g["problems"], g["score"]) for n, g in streets.items()} == {
        "东城街道": (3, 81.5),
        "西湖街道": (3, 94.5),
    }
    grids = run(town, tmp_path, "--month", "2026-11", "--by", "grid")
    assert [(g["rank"], g["name"], g["problems"], g["score"]) for g in grids["groups"]] == [
        (1, "东城街道 东风社区 第3网格", 0, 100),
        (1, "西湖街道 湖滨社区 第4网格", 1, 100),
        (3, "西湖街道 湖滨社区 第2网格", 2, 94.5),
        (4, "东城街道 东风社区 第1网格", 3, 81.5),
    ]
    # 包抓单位: only the sites that have one (NMSC-001 and JMXQ-001, both 市税务局).
    partners = run(town, tmp_path, "--month", "2026-11", "--by", "partner")
    assert [(g["name"], g["problems"], g["score"]) for g in partners["groups"]] == [("市税务局", 3, 81.5)]


def test_caps_per_problem_per_month_and_floor(town, numbers, tmp_path):
    p3 = numbers[2]
    capped = tmp_path / "capped.yaml"
    capped.write_text(
        TINY_RULES.replace("max_per_problem: null", "max_per_problem: 2").replace(
            "caps: {max_deduction: null, max_bonus: null}", "caps: {max_deduction: 10, max_bonus: 0.2}"
        ),
        encoding="utf-8",
    )
    data = json.loads(town.ok("assess", "--month", "2026-11", "--rules", capped, "--json").stdout)
    market = by_name(data)["市场监管局"]
    overdue = next(i for i in market["items"] if i["problem_no"] == p3 and i["rule"] == "overdue")
    assert overdue["points"] == -2 and overdue["reason"].endswith("合计 5 分，单个问题每月封顶 2 分")
    # 19 − 3 (P3's overdue capped from 5 to 2) = 16, counted as 10; bonus 0.5 counted as 0.2.
    assert (market["deducted"], market["deduction"], market["earned"], market["bonus"], market["score"]) == (
        16, 10, 0.5, 0.2, 90.2,
    )  # fmt: skip
    assert market["notes"] == ["扣分 16 分，超过上限，按 10 分计", "加分 0.5 分，超过上限，按 0.2 分计"]
    floor = tmp_path / "floor.yaml"
    floor.write_text(TINY_RULES.replace("base: 100", "base: 10"), encoding="utf-8")
    market = by_name(json.loads(town.ok("assess", "--month", "2026-11", "--rules", floor, "--json").stdout))[
        "市场监管局"
    ]
    assert market["score"] == 0 and market["notes"] == ["得分 -8.5 分，低于下限，按 0 分计"]
    text = town.ok("assess", "--month", "2026-11", "--rules", capped).stdout
    assert "扣分超上限：16→10" in text  # the table's short form of the sentence --json gives


# --- agreement with issue stats and the problem list -----------------------------------------


@pytest.mark.parametrize("by", ["unit", "street"])
def test_problem_counts_agree_with_issue_stats_and_the_list(demo_city, by):
    """The demo city (its November): 问题数 equals `issue stats` per group; every problem found in
    the month and not 不属实 has exactly one 发现问题 line, naming it."""
    month = ["--from", "2026-11-01", "--to", "2026-11-30"]
    stats = json.loads(demo_city.ok("issue", "stats", *month, "--by", by, "--json").stdout)
    data = json.loads(demo_city.ok("assess", "--month", "2026-11", "--by", by, "--json").stdout)
    groups = by_name(data)
    assert {s["name"]: s["total"] for s in stats["groups"]} == {
        n: g["problems"] for n, g in groups.items() if g["problems"]
    }
    assert sum(g["problems"] for g in data["groups"]) == stats["total"]["total"]
    listed = json.loads(demo_city.ok("issue", "list", *month, "--all", "--json").stdout)
    counted = {p["no"] for p in listed if p["status"] != "dismissed"}
    found = [i["problem_no"] for g in data["groups"] for i in g["items"] if i["rule"].startswith("found_")]
    assert sorted(found) == sorted(counted)
    severe = {p["no"] for p in listed if p["status"] != "dismissed" and p["severity"] == "severe"}
    assert {i["problem_no"] for g in data["groups"] for i in g["items"] if i["rule"] == "exposure"} == severe
    for group in data["groups"]:  # every figure is its items added up
        deducted = round(sum(-i["points"] for i in group["items"] if i["points"] < 0), 1)
        assert group["deducted"] == deducted
        assert group["score"] == max(0, round(100 - group["deduction"] + group["bonus"], 1))


# --- outputs --------------------------------------------------------------------------------


def test_json_structure(town, tmp_path):
    data = run(town, tmp_path, "--month", "2026-11")
    assert set(data) == {"month", "from", "to", "as_of", "complete", "by", "rules", "exposure_basis", "groups"}
    assert data["rules"]["file"] == str(tmp_path / "tiny.yaml")
    assert data["rules"]["exposure"] == {"severities": ["severe"], "points": 5.0}
    assert data["exposure_basis"] == "曝光按当月发现的严重不合格问题计（周通报曝光哪些问题未记录在数据库中）"
    group = data["groups"][-1]
    assert set(group) == {
        "rank", "name", "problems", "dismissed", "deducted", "deduction", "earned", "bonus", "score", "notes", "items",
    }  # fmt: skip
    assert set(group["items"][0]) == {
        "problem_no",
        "site",
        "description",
        "rule",
        "rule_label",
        "points",
        "date",
        "reason",
    }
    first = group["items"][0]
    assert (first["site"], first["description"], first["rule_label"]) == (
        "NMSC-001 东城农贸市场",
        "公益广告缺失",
        "发现不合格",
    )


def test_terminal_table_and_one_unit(town, numbers, tmp_path):
    text = town.ok("assess", "--month", "2026-11", "--rules", tmp_path / "tiny.yaml").stdout
    assert "责任单位考核（2026年11月，基础分 100）" in text
    for heading in ("排名", "责任单位", "问题数", "扣分", "加分", "得分"):
        assert heading in text
    assert "市场监管局" in text and "81.5" in text
    assert f"规则：规则文件 {tmp_path / 'tiny.yaml'}" in text
    one = town.ok("assess", "--month", "2026-11", "--rules", tmp_path / "tiny.yaml", "--unit", "市场监管局").stdout
    assert "市场监管局 扣分、加分明细（2026年11月）" in one
    assert numbers[2] in one and "重复发现" in one and "+0.5" in one
    assert "西湖街道办事处" not in one
    data = json.loads(town.ok("assess", "--month", "2026-11", "--unit", "市场监管局", "--json").stdout)
    assert [g["name"] for g in data["groups"]] == ["市场监管局"]


def test_excel_sheets_name_every_problem(town, numbers, tmp_path):
    path = tmp_path / "考核.xlsx"
    out = town.ok("assess", "--month", "2026-11", "--rules", tmp_path / "tiny.yaml", "-o", path).stdout
    assert out.startswith(f"已导出责任单位考核（2026年11月）：{path}\n")
    assert "│ 考核结果 │ 4 " in out and "│ 扣分明细 │ 12 " in out
    book = load_workbook(path)
    assert book.sheetnames == ["考核结果", "扣分明细"]
    ranking = book["考核结果"]
    assert ranking["A1"].value.startswith("责任单位考核（2026年11月）结果 · 基础分 100 分，规则文件 ")
    assert [c.value for c in ranking[2]] == ["排名", "责任单位", "问题数", "扣分", "加分", "得分", "说明"]
    assert [c.value for c in ranking[6]][:6] == [4, "市场监管局", 3, 19, 0.5, 81.5]
    assert ranking.freeze_panes == "A3" and ranking.print_title_rows == "$1:$2"
    details = book["扣分明细"]
    assert [c.value for c in details[2]] == [
        "序号",
        "责任单位",
        "问题编号",
        "点位",
        "问题描述",
        "规则",
        "扣分",
        "加分",
        "说明",
        "日期",
    ]
    rows = [[c.value for c in row] for row in details.iter_rows(min_row=3)]
    assert len(rows) == 12
    data = run(town, tmp_path, "--month", "2026-11")
    expected = [(g["name"], i["problem_no"], i["rule_label"], i["points"]) for g in data["groups"] for i in g["items"]]
    assert [(r[1], r[2], r[5], -r[6] if r[6] is not None else r[7]) for r in rows] == expected
    assert all(r[2] and r[3] and r[4] for r in rows)  # each names its problem, site and description
    p1_overdue = next(r for r in rows if r[2] == numbers[0] and r[5] == "逾期未整改")
    assert p1_overdue[6] == 2 and p1_overdue[3] == "NMSC-001 东城农贸市场" and p1_overdue[4] == "公益广告缺失"


# --- the rules file -------------------------------------------------------------------------


def test_shipped_rules_load_and_are_the_default(town):
    rules = load_rules()
    assert rules.path is None and rules.source == "内置默认规则"
    assert (rules.base, rules.min_score, rules.found.fail, rules.found.severe) == (100, 0, 0.5, 2)
    assert rules.exposure.severities == (Result.SEVERE,)
    assert (rules.overdue.points, rules.overdue.per_workday, rules.overdue.max_per_problem) == (1, 0.2, 3)
    assert (rules.caps.max_deduction, rules.caps.max_bonus) == (40, 5)
    data = json.loads(town.ok("assess", "--month", "2026-11", "--json").stdout)
    assert data["rules"]["file"] is None and by_name(data)["市场监管局"]["problems"] == 3
    assert "规则：内置默认规则" in town.ok("assess", "--month", "2026-11").stdout
    # A file of one key changes that key only.
    assert SHIPPED_RULES.is_file()


def test_a_partial_rules_file_keeps_the_rest(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("found:\n  severe: 4\ncaps:\n  max_bonus: null\n", encoding="utf-8")
    rules = load_rules(path)
    assert (rules.found.fail, rules.found.severe, rules.caps.max_bonus, rules.caps.max_deduction) == (0.5, 4, None, 40)
    assert rules.source == f"规则文件 {path}"
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_rules(empty).found == load_rules().found


def test_rules_errors_name_file_line_and_field(town, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "base: 100\n"
        "min_scor: 0\n"
        "found:\n"
        "  fail: -1\n"
        "  severe: abc\n"
        "repeat: 3\n"
        "exposure:\n"
        "  severities: [severe, pass]\n"
        "  points: 0.25\n"
        "caps:\n"
        "  max_deduction: .inf\n"
        "  max_bonsu: 5\n"
        "bonus: {on_time_close: true}\n",
        encoding="utf-8",
    )
    result = town("assess", "--month", "2026-11", "--rules", bad)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"错误：考核规则有 9 处错误：{bad}",
        f"  {bad}:2: min_scor: 未知的规则项（是否想写 'min_score'？）",
        f"  {bad}:4: found.fail: 不能为负数，实际为 -1",
        f"  {bad}:5: found.severe: 应为数字，实际为 'abc'",
        f"  {bad}:6: repeat: 应为键值映射，实际为 '3'",
        f"  {bad}:8: exposure.severities: 'pass' 不是严重程度：应为 fail（不合格）或 severe（严重不合格）",
        f"  {bad}:9: exposure.points: 最多一位小数（如 0.5），实际为 0.25",
        f"  {bad}:11: caps.max_deduction: 应为有限的数，实际为 .inf",
        f"  {bad}:12: caps.max_bonsu: 未知的规则项（是否想写 'max_bonus'？）",
        f"  {bad}:13: bonus.on_time_close: 应为数字，实际为 'true'",
    ]
    broken = tmp_path / "broken.yaml"
    broken.write_text("base: 100\nfound: [1\n", encoding="utf-8")
    result = town("assess", "--rules", broken)
    assert result.exit_code == 2 and result.stderr.startswith(f"错误：考核规则有 1 处错误：{broken}\n  {broken}:")
    high = tmp_path / "high.yaml"
    high.write_text("base: 50\nmin_score: 60\n", encoding="utf-8")
    result = town("assess", "--rules", high)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1] == f"  {high}:2: min_score: 得分下限 60 高于基础分 50"
    missing = town("assess", "--rules", tmp_path / "nope.yaml")
    assert missing.exit_code == 2 and missing.stderr.splitlines()[1] == f"  {tmp_path / 'nope.yaml'}: 文件不存在"


@pytest.mark.parametrize(
    ("argv", "code", "line"),
    [
        (["--month", "2026-13"], 2, "错误：月份格式不正确：'2026-13'，应为 YYYY-MM（如 2026-12）"),
        (["--month", "11月"], 2, "错误：月份格式不正确：'11月'，应为 YYYY-MM（如 2026-12）"),
        (["--month", "2027-01"], 2, "错误：月份 2027-01 还没有开始（今天是 2026-12-05）"),
        (["--month", "1999-12"], 2, "错误：月份 1999-12 早于 2000 年，请检查月份"),
        (["--month", "0000-01"], 2, "错误：月份 0000-01 早于 2000 年，请检查月份"),  # was a traceback
        (["-o", "考核.docx"], 2, "错误：输出文件应以 .xlsx 结尾：考核.docx"),
        (["--by", "street", "--unit", "市场监管局"], 2, "错误：--unit 只能与 --by unit 一起使用"),
        (["--unit", "市场监管"], 3, "错误：找不到单位 '市场监管'（是否想写 '市场监管局'？）"),
    ],
)
def test_bad_input_is_one_chinese_line(town, argv, code, line):
    result = town("assess", *argv)
    assert (result.exit_code, result.stderr.splitlines()) == (code, [line])


# --- the pure rules -------------------------------------------------------------------------


def _problem(found: date, deadline: date, status: ProblemStatus = ProblemStatus.OPEN) -> Problem:
    return Problem(
        "id", "ZG-1", "s", "S-1", "点位", "类型", None, None, "i", "检查项", "类别", None, None, 1,
        Result.FAIL, "单位", found, deadline, status,
    )  # fmt: skip


def _event(day: date, to: ProblemStatus | None, action: str = "x") -> ProblemEvent:
    return ProblemEvent("", day, action, None, to, None, None)


def test_open_spans_follow_fix_rework_and_defer():
    d = date
    events = [
        _event(d(2026, 11, 2), ProblemStatus.OPEN, "found"),
        _event(d(2026, 11, 5), ProblemStatus.FIXED, "fixed"),
        _event(d(2026, 11, 9), ProblemStatus.OPEN, "recheck_fail"),
        _event(d(2026, 11, 9), None, "progress"),
        _event(d(2026, 11, 12), ProblemStatus.DEFERRED, "deferred"),
    ]
    problem = _problem(d(2026, 11, 2), d(2026, 11, 4))
    spans = open_spans(problem, events, d(2026, 11, 30))
    assert spans == [(d(2026, 11, 2), d(2026, 11, 5)), (d(2026, 11, 9), d(2026, 11, 12))]
    assert first_overdue_day(spans, problem.deadline) == d(2026, 11, 5)
    month = working_days(d(2026, 11, 1), d(2026, 11, 30))
    assert overdue_workdays(spans, problem.deadline, month) == [d(2026, 11, n) for n in (5, 9, 10, 11, 12)]
    # No history: the problem as it stands.
    assert open_spans(problem, [], d(2026, 11, 30)) == [(d(2026, 11, 2), d(2026, 11, 30))]
    assert open_spans(_problem(d(2026, 11, 2), d(2026, 11, 4), ProblemStatus.CLOSED), [], d(2026, 11, 30)) == []


def test_working_days_use_the_holiday_calendar():
    october = working_days(date(2026, 10, 1), date(2026, 10, 12))
    assert october == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12)]


def test_month_forms_and_points_text():
    today = date(2026, 12, 5)
    for text in ("2026-11", "2026/11", "2026.11", "202611", "2026年11月", " 2026-11 "):
        assert parse_month(text, today) == (date(2026, 11, 1), date(2026, 11, 30)), text
    assert parse_month("2024-02", today) == (date(2024, 2, 1), date(2024, 2, 29))
    assert parse_month(None, today) == (date(2026, 12, 1), date(2026, 12, 31))
    with pytest.raises(InputError):
        parse_month("2026-00", today)
    assert [points_text(v) for v in (1.0, 0.5, 97.5, -2.0, -0.0, 100)] == ["1", "0.5", "97.5", "-2", "0", "100"]
    assert AssessBy.grid.label == "网格"


def test_a_number_too_large_for_a_float_is_one_line_too(town, tmp_path):
    """Found in review: 1 with 400 zeros made math.isfinite overflow (a traceback)."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("base: 1" + "0" * 400 + "\n", encoding="utf-8")
    result = town("assess", "--rules", rules)
    assert result.exit_code == 2 and "rules.yaml:1: base: 不能超过 1000" in result.stderr
