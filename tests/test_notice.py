from __future__ import annotations

import json

import pytest
from docx import Document
from docx.oxml.ns import qn

from inspect_cli.scoring import format_rate

from .test_excel import TODAY, problem_city_from_scratch

WEEK = ["--week", "2026-W47"]  # 2026-11-16 … 2026-11-22
HEADINGS = ["一、总体情况", "二、排名情况", "三、存在的主要问题", "四、整改情况", "五、下步要求"]


@pytest.fixture
def notice_city(from_template, monkeypatch):
    """test_excel's problem city, built once per session and copied."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    return from_template("problem-city", problem_city_from_scratch, {"INSPECT_CLI_TODAY": TODAY})


def texts(path):
    return [p.text for p in Document(str(path)).paragraphs]


def table_rows(table):
    return [[c.text for c in row.cells] for row in table.rows]


def expected_overview(cli):
    """The 总体情况 sentence, worked out from what the other commands print."""
    inspections = json.loads(
        cli.ok(
            "inspection", "list", "--from", "2026-11-16", "--to", "2026-11-22", "--status", "finished", "--json"
        ).stdout
    )
    sizes = {
        code: len(json.loads(cli.ok("checklist", "show", kind, "--json").stdout)["items"])
        for code, kind in (("NMSC", "农贸市场"), ("GJZD", "公交站点"))
    }
    items = sum(sizes[i["site_code"].split("-")[0]] for i in inspections)
    mean = sum(i["rate"] for i in inspections) / len(inspections)
    stats = json.loads(cli.ok("issue", "stats", "--from", "2026-11-16", "--to", "2026-11-22", "--json").stdout)["total"]
    last = json.loads(cli.ok("issue", "stats", "--from", "2026-11-09", "--to", "2026-11-15", "--json").stdout)["total"]
    assert (len(inspections), stats["total"], last["total"]) == (3, 3, 1)
    return (
        f"本周对 2 个街道 2 类 3 个点位开展督查，检查项 {items} 项，平均得分率 {format_rate(mean)}，"
        f"发现问题 {stats['total']} 个（其中严重问题 0 个），涉及责任单位 2 家；"
        f"上周发现问题 {last['total']} 个，已整改销号 {last['closed']} 个，整改率 {format_rate(last['fix_rate'])}。"
    )


def test_docx_content_figures_and_tables(notice_city, tmp_path):
    cli = notice_city
    path = tmp_path / "通报.docx"
    out = cli.ok("notice", *WEEK, "-o", path)
    assert "第1期" in out.stdout
    paragraphs = texts(path)
    assert paragraphs[0] == "创建全国文明城市工作督查通报" and paragraphs[1] == "第1期"
    assert [p for p in paragraphs if p in HEADINGS] == HEADINGS
    assert expected_overview(cli) in paragraphs
    doc = Document(str(path))
    streets = table_rows(doc.tables[0])
    ranking = json.loads(
        cli.ok("score", "--from", "2026-11-16", "--to", "2026-11-22", "--by", "street", "--json").stdout
    )
    assert streets[0] == ["排名", "名称", "检查次数", "平均得分率", "较上期"]
    assert streets[1:] == [
        [str(r["rank"]), r["name"], str(r["inspections"]), format_rate(r["mean_rate"]), change]
        for r, change in zip(ranking, ["↑1", "↓1"], strict=True)
    ]
    assert "红榜　街道：西湖街道、东城街道" in paragraphs
    units = {row[1]: row[4] for row in table_rows(doc.tables[1])[1:]}
    assert units["西湖街道办事处"] == "新上榜"  # NMSC-002 was first inspected this week
    assert set(units) == {"西湖街道办事处", "市场监管局", "公交集团"}
    # 三: the most frequent category first, with its count; photos embedded.
    problems = json.loads(cli.ok("issue", "list", "--from", "2026-11-16", "--to", "2026-11-22", "--json").stdout)
    categories = {}
    for p in problems:
        categories[p["category"]] = categories.get(p["category"], 0) + 1
    top, count = max(categories.items(), key=lambda kv: (kv[1], [-ord(c) for c in kv[0]]))
    assert any(p.startswith(f"（一）{top}：{count} 个，占 {count / 3 * 100:.1f}%") for p in paragraphs)
    assert len(doc.inline_shapes) == 2
    # 四: cumulative figures equal `issue stats --to` and the overdue table equals `issue list --overdue`.
    total = json.loads(cli.ok("issue", "stats", "--to", "2026-11-22", "--json").stdout)["total"]
    intro = next(p for p in paragraphs if p.startswith("截至"))
    assert f"累计发现问题 {total['total']} 个，已整改销号 {total['closed']} 个" in intro
    assert f"整改率 {format_rate(total['fix_rate'])}" in intro and f"逾期未整改 {total['overdue']} 个" in intro
    overdue = json.loads(cli.ok("issue", "list", "--overdue", "--to", "2026-11-22", "--json").stdout)
    overdue_table = next(t for t in doc.tables if t.rows[0].cells[0].text == "问题编号")
    assert sorted(r[0] for r in table_rows(overdue_table)[1:]) == sorted(p["no"] for p in overdue)
    assert {r[0]: r[3] for r in table_rows(overdue_table)[1:]} == {p["no"]: str(p["overdue_days"]) for p in overdue}
    assert paragraphs[-2] == "示范市创建全国文明城市工作指挥部办公室"


def test_fonts_page_and_east_asian_runs(notice_city, tmp_path):
    path = tmp_path / "通报.docx"
    notice_city.ok("notice", *WEEK, "-o", path)
    doc = Document(str(path))
    section = doc.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert round(section.left_margin.cm, 1) == 2.8
    fonts = {}
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            if run.text:  # picture runs carry no text and no font
                fonts[paragraph.text] = run._element.rPr.rFonts.get(qn("w:eastAsia"))
    assert fonts["一、总体情况"] == "黑体"
    assert fonts["创建全国文明城市工作督查通报"] == "宋体"
    assert fonts["（一）街道排名"] == "楷体"
    body = next(p.text for p in doc.paragraphs if p.text.startswith("本周对"))
    assert fonts[body] == "仿宋"
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"


def test_markdown_carries_the_same_figures(notice_city, tmp_path):
    cli = notice_city
    cli.ok("notice", *WEEK, "-o", tmp_path / "a.docx")
    md = tmp_path / "通报.md"
    out = cli.ok("notice", *WEEK, "-o", md)
    assert "沿用期号" in out.stdout  # same period: same number
    text = md.read_text(encoding="utf-8")
    assert expected_overview(cli) in text
    for heading in HEADINGS:
        assert f"## {heading}" in text
    docx_streets = table_rows(Document(str(tmp_path / "a.docx")).tables[0])
    for row in docx_streets[1:]:
        assert "| " + " | ".join(row) + " |" in text
    links = [line.split("](")[1].rstrip(")") for line in text.splitlines() if "![" in line]
    assert len(links) == 2 and all((tmp_path / link).is_file() for link in links)


def test_numbering_continues_and_can_be_overridden(notice_city, tmp_path):
    cli = notice_city
    assert "第1期" in cli.ok("notice", "--week", "2026-W46", "-o", tmp_path / "1.docx").stdout
    assert "第2期" in cli.ok("notice", *WEEK, "-o", tmp_path / "2.docx").stdout
    assert "第2期" in cli.ok("notice", *WEEK, "-o", tmp_path / "2b.docx").stdout
    assert (
        "第9期"
        in cli.ok(
            "notice", "--from", "2026-11-23", "--to", "2026-11-29", "--number", "9", "-o", tmp_path / "9.md"
        ).stdout
    )
    assert "第10期" in cli.ok("notice", "--week", "2026-W49", "-o", tmp_path / "10.docx").stdout
    assert texts(tmp_path / "10.docx")[1] == "第10期"


def test_first_ever_notice_has_no_changes(notice_city, tmp_path):
    path = tmp_path / "first.docx"
    notice_city.ok("notice", "--week", "2026-W46", "-o", path)  # nothing before 11-09
    doc = Document(str(path))
    assert "上期无排名数据，本期不计排名变化。" in texts(path)
    assert {row[4] for row in table_rows(doc.tables[0])[1:]} == {"—"}


def test_empty_week_gives_a_valid_notice(notice_city, tmp_path):
    path = tmp_path / "empty.docx"
    notice_city.ok("notice", "--week", "2026-W49", "-o", path)
    paragraphs = texts(path)
    assert any("本周（2026-11-30 至 2026-12-06）未开展实地督查，没有检查结果。" in p for p in paragraphs)
    assert "本周无街道排名数据。" in paragraphs and "本周未发现问题。" in paragraphs
    assert [p for p in paragraphs if p in HEADINGS] == HEADINGS
    md = tmp_path / "empty.md"
    notice_city.ok("notice", "--week", "2026-W49", "-o", md)
    assert "未开展实地督查" in md.read_text(encoding="utf-8")


def test_config_title_threshold_and_requirements(notice_city, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(
        "notice:\n  title: 文明城市创建督查通报\n  black_threshold: 99\n  requirements: |\n    第一条要求\n    第二条要求\n",
        encoding="utf-8",
    )
    path = tmp_path / "n.docx"
    notice_city.ok("--config", config, "notice", *WEEK, "-o", path)
    paragraphs = texts(path)
    assert paragraphs[0] == "文明城市创建督查通报"
    assert "1. 第一条要求" in paragraphs and "2. 第二条要求" in paragraphs
    assert "（红榜为排名前三位；黑榜为排名后三位及平均得分率低于 99% 的对象。）" in paragraphs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-47"], "错误：周的格式不正确：'2026-47'"),
        (["--week", "2026-W60"], "错误：没有这一周：'2026-W60'"),
        (["--week", "2026-W47", "--from", "2026-11-16"], "错误：--week 与 --from/--to 只能用一种"),
        (["--from", "2026-11-16"], "错误：--from 和 --to 需要一起使用"),
    ],
)
def test_bad_notice_options(notice_city, args, message):
    result = notice_city("notice", *args)
    assert result.exit_code == 2 and result.stderr.startswith(message)
