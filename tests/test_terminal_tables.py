"""Tables that fit the terminal: at 80 and 120 columns nothing runs past the edge, codes,
numbers, dates and rates are never broken, and the wider terminal shows more."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import date

import pytest
from rich.cells import cell_len
from rich.console import Console

from inspect_cli.cli.render import PIPED_WIDTH, Bar, Col, Kind, fitted_table
from inspect_cli.scoring import format_rate

WIDTHS = (80, 120)
# Lines printed whole on purpose (a path to copy), wrapped by the terminal for the eye only.
WHOLE = ("照片（",)


def shown(cli, monkeypatch, width: int, *args: str, input: str | None = None, after: str = "") -> str:
    """What the command prints at `width` columns: no line longer (from the line holding
    `after` on, when given: before it, `run` echoes the answers it reads)."""
    monkeypatch.setenv("COLUMNS", str(width))
    text = cli.ok(*args, input=input).stdout
    checked = text[text.index(after) :] if after else text
    long = [line for line in checked.splitlines() if cell_len(line) > width and not line.startswith(WHOLE)]
    assert long == [], f"{args} at {width}:\n" + "\n".join(long)
    return text


def data(cli, *args: str):
    return json.loads(cli.ok(*args, "--json").stdout)


def headers(text: str) -> list[list[str]]:
    """Each table's headings (the line under its top rule; headings that wrap are not joined)."""
    return [[h.strip() for h in line.strip("┃").split("┃")] for line in text.splitlines() if line.startswith("┃")]


def assert_whole(text: str, values: list[str]) -> None:
    """Every value is on one line as often as it is given (a broken code would be missing)."""
    for value, times in Counter(values).items():
        assert len(re.findall(re.escape(value), text)) >= times, value


@pytest.mark.parametrize("width", WIDTHS)
def test_issue_list(demo_city, monkeypatch, width):
    text = shown(demo_city, monkeypatch, width, "issue", "list", "--limit", "30")
    rows = data(demo_city, "issue", "list", "--limit", "30")
    assert_whole(text, [r["no"] for r in rows] + [r["site_code"] for r in rows])
    assert_whole(text, [str(r["overdue_days"]) for r in rows if r["overdue_days"]])
    # Dates of this year are short at both widths; the deadline is always there.
    deadlines = [r["deadline"][5:] for r in rows]
    assert_whole(text, deadlines)
    assert "时限" in headers(text)[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_unit_list_and_enrolled_devices(demo_city, monkeypatch, width):
    demo_city.ok(
        "unit",
        "add",
        "市文明办",
        "--short",
        "文明委",
        "--contact",
        "刘洋",
        "--phone",
        "0371-60000000",
        "--kind",
        "部门",
    )
    demo_city.ok("unit", "rename", "市文明办", "市精神文明建设办公室")
    text = shown(demo_city, monkeypatch, width, "unit", "list")
    units = data(demo_city, "unit", "list")
    assert_whole(text, [u["name"] for u in units] + [str(u["open_problems"]) for u in units if u["open_problems"]])
    if width >= 120:
        assert_whole(text, ["0371-60000000", "市文明办"])  # the phone and the former name fit
    for code in ("A", "B7"):
        demo_city.ok("device", "enroll", code)
    devices = shown(demo_city, monkeypatch, width, "device", "show")
    assert headers(devices)[0][0] == "代码" and "B7" in devices


@pytest.mark.parametrize("width", WIDTHS)
def test_issue_show(demo_city, monkeypatch, width):
    number = data(demo_city, "issue", "list", "--status", "fixed", "--limit", "1")[0]["no"]
    text = shown(demo_city, monkeypatch, width, "issue", "show", number)
    problem = data(demo_city, "issue", "show", number)
    assert_whole(text, [problem["no"], problem["site_code"], problem["inspection_no"], problem["deadline"]])
    assert_whole(text, [e["date"][5:] for e in problem["history"]])
    for photo in (p for e in problem["history"] for p in e["photos"]):
        assert photo in text  # on a line of its own, whole
    assert len(headers(text)) == 1  # the fields have none; the history has


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("by", ["unit", "street", "category"])
def test_issue_stats(demo_city, monkeypatch, width, by):
    text = shown(demo_city, monkeypatch, width, "issue", "stats", "--by", by)
    stats = data(demo_city, "issue", "stats", "--by", by)
    groups = [*stats["groups"], stats["total"]]
    assert_whole(text, [format_rate(g["fix_rate"]) for g in groups] + [str(g["total"]) for g in groups])
    heading = headers(text)[0]
    for field, names in (("on_time_rate", ("按期整改率", "按期率")), ("rework_rate", ("返工率",))):
        if any(name in heading for name in names):
            assert_whole(text, [format_rate(g[field]) for g in groups])
    assert "█" not in text


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("by", ["street", "unit", "site"])
def test_score(demo_city, monkeypatch, width, by):
    text = shown(demo_city, monkeypatch, width, "score", "--by", by)
    rows = data(demo_city, "score", "--by", by)
    assert_whole(text, [format_rate(r["mean_rate"]) for r in rows])
    if by == "site":
        assert_whole(text, [r["name"].split()[0] for r in rows])
    heading = headers(text)[0]
    assert ("平均得分率" if width == 120 else "得分率") in heading  # the short heading where it is narrow


@pytest.mark.parametrize("width", WIDTHS)
def test_site_list(demo_city, monkeypatch, width):
    text = shown(demo_city, monkeypatch, width, "site", "list")
    assert_whole(text, [s["code"] for s in data(demo_city, "site", "list")])


@pytest.mark.parametrize("width", WIDTHS)
def test_inspection_list(demo_city, monkeypatch, width):
    text = shown(demo_city, monkeypatch, width, "inspection", "list", "--site", "NMSC-001")
    rows = data(demo_city, "inspection", "list", "--site", "NMSC-001")
    assert rows
    assert_whole(text, [r["no"] for r in rows] + [r["site_code"] for r in rows])
    assert_whole(text, [format_rate(r["rate"]) for r in rows] + [r["date"][5:] for r in rows])


@pytest.mark.parametrize("width", WIDTHS)
def test_checklist_show(demo_city, monkeypatch, width):
    text = shown(demo_city, monkeypatch, width, "checklist", "show", "农贸市场")
    assert_whole(text, [item["id"] for item in data(demo_city, "checklist", "show", "农贸市场")["items"]])


@pytest.mark.parametrize("width", WIDTHS)
def test_exported_sheets_are_listed_by_file_name(demo_city, monkeypatch, width, tmp_path):
    text = shown(demo_city, monkeypatch, width, "export", "rectification", "-o", tmp_path / "out")
    assert_whole(text, [p.name for p in (tmp_path / "out").glob("*.xlsx")])
    assert str(tmp_path / "out") in text  # the folder, said once


@pytest.mark.parametrize("width", WIDTHS)
def test_site_show(demo_city, monkeypatch, width):
    text = shown(demo_city, monkeypatch, width, "site", "show", "NMSC-001")
    history = data(demo_city, "site", "show", "NMSC-001")["inspections"]
    assert history and all(h["no"] in text and format_rate(h["rate"]) in text for h in history)


@pytest.mark.parametrize("width", WIDTHS)
def test_run_summary(city, monkeypatch, width):
    note = "入口处有人吸烟，地面烟头较多，未见禁烟标识，管理人员也未劝阻，需要加强巡查"
    answers = f"2\n{note}\n3\n\n\n" + "\n" * 40  # item 1 fails (3 处), the rest pass
    args = ("run", "NMSC-001", "-i", "张三", "--date", "2026-11-18")
    text = shown(city, monkeypatch, width, *args, input=answers, after="检查完成")
    inspection = json.loads(city.ok("inspection", "show", "JC-2026-0001", "--json").stdout)
    text = text[text.index("检查完成") :]
    assert_whole(text, ["JC-2026-0001", format_rate(inspection["score"]["rate"])])
    failed = [r for r in inspection["results"] if r["result"] == "fail"]
    assert len(failed) == 1 and failed[0]["item"]["id"] in text
    last_column = "".join(line.split("│")[-2].strip() for line in text.splitlines() if line.startswith("│"))
    assert note in last_column  # wrapped in its column, all there


def test_the_wider_terminal_shows_more_columns(demo_city, monkeypatch):
    for args in (
        ["issue", "list", "--limit", "30"],
        ["issue", "stats", "--by", "unit"],
        ["issue", "stats", "--by", "street", "--bar"],
        ["score", "--by", "unit", "--bar"],
        ["site", "list"],
    ):
        narrow, wide = (headers(shown(demo_city, monkeypatch, w, *args))[0] for w in WIDTHS)
        assert len(wide) > len(narrow), args
    # What a narrow issue list keeps: what, where, when due, how late.
    narrow = headers(shown(demo_city, monkeypatch, 80, "issue", "list"))[0]
    assert narrow == ["问题编号", "点位", "问题描述", "时限", "状态", "逾期"]


def test_piped_output_keeps_every_column_in_full(demo_city, monkeypatch):
    monkeypatch.delenv("COLUMNS")  # CliRunner's output is not a terminal: a pipe or a file
    text = demo_city.ok("issue", "list", "--limit", "30").stdout
    assert headers(text)[0] == [
        "问题编号",
        "点位",
        "检查项",
        "问题描述",
        "责任单位",
        "发现日期",
        "整改时限",
        "状态",
        "逾期天数",
    ]
    rows = data(demo_city, "issue", "list", "--limit", "30")
    assert_whole(text, [r["deadline"] for r in rows] + [r["found_date"] for r in rows])
    # Text wraps at 200 columns rather than making every row as long as the longest.
    assert max(cell_len(line) for line in text.splitlines()) <= PIPED_WIDTH
    sites = demo_city.ok("site", "list").stdout
    assert headers(sites)[0] == ["点位编号", "点位名称", "点位类型", "街道", "社区", "责任单位", "包抓单位"]


@pytest.mark.parametrize("width", WIDTHS)
def test_bars_with_the_black_list_marked(demo_city, monkeypatch, width):
    text = shown(demo_city, monkeypatch, width, "score", "--by", "street", "--bar")
    rows = data(demo_city, "score", "--by", "street")
    lines = {r["name"]: next(line for line in text.splitlines() if r["name"] in line) for r in rows}
    assert all("█" in line for line in lines.values())
    # The 黑榜 as the notice has it: the last three (none of them in the first three).
    assert [r["name"] for r in rows if "黑榜" in lines[r["name"]]] == [r["name"] for r in rows[-3:]]
    lowest = min(r["mean_rate"] for r in rows)
    assert f"{int((lowest - 5) // 10 * 10)}–100%" in headers(text)[0]  # the scale starts under the lowest
    # Longer bars for higher rates.
    lengths = [lines[r["name"]].count("█") for r in rows]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]
    stats = shown(demo_city, monkeypatch, width, "issue", "stats", "--by", "street", "--bar")
    assert "█" in stats and stats.count("后三位") == 3
    assert "█" not in shown(demo_city, monkeypatch, width, "score", "--by", "street")
    # The 合计 alone: its rate on the whole scale, 0–100%.
    total = shown(demo_city, monkeypatch, width, "issue", "stats", "--bar")
    assert "0–100%" in headers(total)[0] and "█" in total


def test_bar_threshold_comes_from_the_settings(demo_city, monkeypatch, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("notice:\n  black_threshold: 99\n", encoding="utf-8")
    text = shown(demo_city, monkeypatch, 120, "--config", config, "score", "--by", "street", "--bar")
    # Under 99 everyone is on the 黑榜, except the first three (the 红榜).
    assert text.count("黑榜") == len(data(demo_city, "score", "--by", "street")) - 3


# --- the layout itself ------------------------------------------------------------------------


def render(columns, rows, width, **options) -> str:
    console = Console(file=io.StringIO(), width=width, no_color=True)
    console.print(fitted_table(columns, rows, width=width, **options), crop=False)
    return console.file.getvalue()


COLUMNS = [
    Col("编号", Kind.CODE),
    Col("名称", min=12),
    Col("备注", drop=2),
    Col("日期", Kind.DATE, short="日"),
    Col("数量", Kind.NUMBER, drop=1, short="数"),
]
ROWS = [
    ["ZG-2026-A-0001", "东城农贸市场 NMSC-001", "入口处有人吸烟，地面烟头较多", date(2026, 11, 30), 12],
    ["ZG-2025-A-0002", "背街小巷", "无", date(2025, 1, 2), 3],
]


@pytest.mark.parametrize("width", [30, 40, 50, 60, 70, 80, 100, 140])
def test_fitted_table_keeps_codes_whole_and_fits(width, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-11-27")
    text = render(COLUMNS, ROWS, width)
    assert all(cell_len(line) <= width for line in text.splitlines()) or width < 45  # the codes alone need 44
    for code in ("ZG-2026-A-0001", "ZG-2025-A-0002", "NMSC-001", "2025-01-02"):
        assert code in text, (width, code)
    assert ("2026-11-30" in text) == ("日期" in headers(text)[0])  # short dates under the short heading
    assert "11-30" in text


def test_fitted_table_drops_the_least_important_first(monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-11-27")
    assert headers(render(COLUMNS, ROWS, 140))[0] == ["编号", "名称", "备注", "日期", "数量"]
    assert headers(render(COLUMNS, ROWS, 66))[0] == ["编号", "名称", "备注", "日", "数"]
    assert headers(render(COLUMNS, ROWS, 56))[0] == ["编号", "名称", "日", "数"]
    assert headers(render(COLUMNS, ROWS, 48))[0] == ["编号", "名称", "日"]


def test_bar_cells_scale_from_the_lowest_rate():
    columns = [Col("名称"), Col("", Kind.BAR)]
    rows = [["甲", Bar(100.0)], ["乙", Bar(95.0)], ["丙", Bar(91.9, "red", "黑榜")], ["丁", Bar(None)]]
    text = render(columns, rows, 60)
    # Five points under the lowest (91.9), rounded down to ten: 80. 100% fills the bar, 95% is
    # three quarters of it, and the lowest is still well over a half, not a sliver.
    assert headers(text)[0][1] == "80–100%"
    lines = {name: next(line for line in text.splitlines() if name in line) for name in "甲乙丙丁"}
    full, three_quarters, lowest = (lines[n].count("█") for n in "甲乙丙")
    assert abs(three_quarters - 0.75 * full) <= 1 and lowest >= full // 2 and "黑榜" in lines["丙"]
    assert "█" not in lines["丁"]
