from __future__ import annotations

import json

import pytest
from docx import Document
from docx.oxml.ns import qn

from inspect_cli.scoring import format_rate

from .conftest import docx_pictures
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
        f"截至11月22日，本周共督查 2 个街道 2 类 3 个点位，检查项 {items} 项，平均得分率 {format_rate(mean)}，"
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
    assert docx_pictures(path) == (2, 3)  # two photos; the trend and two rankings drawn
    # 四: cumulative figures equal `issue stats --to` and the overdue table equals `issue list --overdue`.
    total = json.loads(cli.ok("issue", "stats", "--to", "2026-11-22", "--json").stdout)["total"]
    intro = next(p for p in paragraphs if "累计发现问题" in p)
    assert f"累计发现问题 {total['total']} 个，已整改销号 {total['closed']} 个" in intro
    assert f"整改率 {format_rate(total['fix_rate'])}" in intro and f"逾期未整改 {total['overdue']} 个" in intro
    overdue = json.loads(cli.ok("issue", "list", "--overdue", "--to", "2026-11-22", "--json").stdout)
    overdue_table = next(t for t in doc.tables if t.rows[0].cells[0].text == "问题编号")
    assert sorted(r[0] for r in table_rows(overdue_table)[1:]) == sorted(p["no"] for p in overdue)
    assert {r[0]: r[3] for r in table_rows(overdue_table)[1:]} == {p["no"]: str(p["overdue_days"]) for p in overdue}
    # 落款, then the 版记: 抄送 and 印发 (GB/T 9704).
    assert paragraphs[-5:-3] == ["示范市创建全国文明城市工作指挥部办公室", "2026年11月30日"]
    assert paragraphs[-2:] == [
        "抄送：市创建全国文明城市工作指挥部各成员单位，各街道办事处。",
        "示范市创城办\t2026年11月30日印发",
    ]


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
    body = next(p.text for p in doc.paragraphs if p.text.startswith("截至11月22日"))
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
    photos = [link for link in links if not link.split("/")[-1].startswith("图表_")]
    assert len(photos) == 2 and len(links) == 5 and all((tmp_path / link).is_file() for link in links)


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


# --- the notice as a 公文 (GB/T 9704) ---------------------------------------------------------

TWIPS_PER_PT = 20


def _grid(table) -> list[int]:
    return [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]


def test_notice_is_laid_out_as_a_gongwen(notice_city, tmp_path):
    path = tmp_path / "通报.docx"
    notice_city.ok("notice", *WEEK, "-o", path)
    doc = Document(str(path))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[2] == "示范市创城办〔2026〕1号\t2026年11月30日"  # 文号 left, date right
    # zh-CN: the document's default and the body style.
    for properties in (
        doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")),
        doc.styles["Normal"].element,
    ):
        assert properties.find(".//" + qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    # Page numbers "— N —": right on odd pages, left on even ones.
    section = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, align in ((section.footer, "RIGHT"), (section.even_page_footer, "LEFT")):
        paragraph = footer.paragraphs[0]
        assert paragraph.alignment.name == align
        assert paragraph._p.find(qn("w:fldSimple")).get(qn("w:instr")) == "PAGE"
        assert paragraph.text == "—  —"  # the number itself is the field's
    # Tables: header repeated, rows never split, columns wide enough for names and numbers.
    data_tables = [t for t in doc.tables if t.style is not None and t.style.name == "Table Grid"]
    assert len(data_tables) >= 4
    for table in data_tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
        assert sum(_grid(table)) <= 15.6 / 2.54 * 72 * TWIPS_PER_PT + 1
    ranking = data_tables[0]
    names = [row.cells[1].text for row in ranking.rows]
    assert _grid(ranking)[1] >= max(len(n) for n in names) * 12 * TWIPS_PER_PT  # 12 pt CJK, one line
    overdue = next(t for t in data_tables if t.rows[0].cells[0].text == "问题编号")
    longest = max(len(row.cells[0].text) for row in overdue.rows[1:])
    assert _grid(overdue)[0] >= longest * 0.6 * 12 * TWIPS_PER_PT  # problem numbers never wrap


def test_notice_without_a_number_prefix_or_copy_to(notice_city, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text('notice:\n  number_prefix: ""\n  copy_to: ""\n', encoding="utf-8")
    path = tmp_path / "通报.docx"
    notice_city.ok("--config", config, "notice", *WEEK, "-o", path)
    paragraphs = texts(path)
    assert paragraphs[2] == "示范市创建全国文明城市工作指挥部办公室\t2026年11月30日"
    assert paragraphs[-1] == "示范市创城办\t2026年11月30日印发" and not any(p.startswith("抄送") for p in paragraphs)
    md = tmp_path / "通报.md"
    notice_city.ok("--config", config, "notice", *WEEK, "-o", md)
    assert "抄送" not in md.read_text(encoding="utf-8")


def test_fixed_cases_show_before_and_after_two_photos_a_row(demo_city, tmp_path):
    path = tmp_path / "通报.docx"
    demo_city.ok("notice", "-o", path)
    doc = Document(str(path))
    photo_tables = [t for t in doc.tables if t.style is None or t.style.name != "Table Grid"]
    assert photo_tables
    pairs = 0
    for table in photo_tables:
        assert len(table.columns) == 2
        for row in table.rows:
            captions = [cell.paragraphs[-1].text for cell in row.cells]
            pictures = [len(cell._tc.findall(".//" + qn("w:drawing"))) for cell in row.cells]
            assert pictures in ([1, 1], [1, 0])  # two to a row, the last row may hold one
            if captions[0].startswith("整改前："):
                assert (
                    captions[1].startswith("整改后：")
                    and captions[0][4:].split("（")[0] == captions[1][4:].split("（")[0]
                )
                pairs += 1
    assert pairs >= 1
    md = tmp_path / "通报.md"
    demo_city.ok("notice", "-o", md)
    text = md.read_text(encoding="utf-8")
    assert text.count("![整改前：") == text.count("![整改后：") == pairs


def test_charts_follow_the_figures_and_a_missing_font_leaves_them_out(notice_city, tmp_path):
    from datetime import date

    from inspect_cli.queries import trend
    from inspect_cli.store import Store

    with Store(notice_city.db) as store:
        rows = trend(store, date(2026, 11, 16), date(2026, 11, 22), 8, today=date(2026, 11, 30))
    # Oldest first, from the first week with anything in it; each week's figures are those
    # `score` and `issue stats` give for it.
    assert rows[-1].date_from == date(2026, 11, 16) and len(rows) < 8
    for row in rows:
        period = ["--from", str(row.date_from), "--to", str(row.date_to)]
        found = json.loads(notice_city.ok("issue", "stats", *period, "--json").stdout)["total"]
        assert (row.problems, row.fix_rate) == (found["total"], found["fix_rate"])
        inspections = json.loads(notice_city.ok("inspection", "list", *period, "--status", "finished", "--json").stdout)
        rates = [i["rate"] for i in inspections]
        assert row.mean_rate == (pytest.approx(sum(rates) / len(rates)) if rates else None)

    config = tmp_path / "config.yaml"
    config.write_text(f'notice:\n  chart_font: "{tmp_path / "无此字体.ttf"}"\n', encoding="utf-8")
    path = tmp_path / "通报.docx"
    result = notice_city.ok("--config", config, "notice", *WEEK, "-o", path)
    assert "无此字体.ttf" in result.stderr and "不含图表" in result.stderr
    assert docx_pictures(path) == (2, 0)  # the photos stay; the notice is made


def test_gongwen_faces_are_the_first_installed_else_the_windows_ones(notice_city, tmp_path, monkeypatch):
    from inspect_cli import fonts

    assert fonts.choose(fonts.TITLE, frozenset({"fzxiaobiaosong-b05s"})) == "方正小标宋简体"  # by its English name
    assert fonts.choose(fonts.BODY, frozenset({"fangsong", "仿宋_gb2312"})) == "仿宋_GB2312"
    assert fonts.choose(fonts.BODY, frozenset({"stfangsong"})) == "华文仿宋"
    assert fonts.choose(fonts.TITLE, frozenset({"noto serif cjk sc"})) == "宋体"  # none: Word's own
    monkeypatch.setattr(fonts, "installed_families", lambda: frozenset({"方正小标宋简体", "仿宋_gb2312", "kaiti"}))
    path = tmp_path / "通报.docx"
    notice_city.ok("notice", *WEEK, "-o", path)
    doc = Document(str(path))
    east_asia = {
        p.text: p.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) for p in doc.paragraphs if p.runs and p.text
    }
    assert east_asia["创建全国文明城市工作督查通报"] == "方正小标宋简体"
    assert east_asia["（一）街道排名"] == "楷体" and east_asia["一、总体情况"] == "黑体"
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


def _pages(pdf) -> int:
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    return data.count(b"/Type/Page") - data.count(b"/Type/Pages")


def test_notice_and_report_as_pdf(notice_city, tmp_path, soffice):
    """Slow (about 5 s): LibreOffice starts twice."""
    done = notice_city.ok("notice", *WEEK, "-o", tmp_path / "通报.docx", "--pdf")
    assert f"PDF：{tmp_path / '通报.pdf'}" in done.stdout
    assert _pages(tmp_path / "通报.pdf") >= 3
    done = notice_city.ok("export", "report", *WEEK, "-o", tmp_path / "报告.xlsx", "--pdf")
    assert _pages(tmp_path / "报告.pdf") >= 8  # every sheet prints


def test_pdf_without_libreoffice_writes_nothing(notice_city, tmp_path, monkeypatch):
    from inspect_cli import pdf

    monkeypatch.setattr(pdf, "find_soffice", lambda: None)
    for args in (
        ["notice", *WEEK, "-o", tmp_path / "通报.docx"],
        ["export", "report", *WEEK, "-o", tmp_path / "r.xlsx"],
    ):
        result = notice_city(*args, "--pdf")
        assert result.exit_code == 3 and "未找到 LibreOffice" in result.stderr and "apt install" in result.stderr
    assert [p for p in tmp_path.iterdir() if p.suffix in (".docx", ".xlsx", ".pdf")] == []  # nothing written
    assert "第1期" in notice_city.ok("notice", *WEEK, "-o", tmp_path / "n.docx").stdout  # no number taken
    md = notice_city("notice", *WEEK, "-o", tmp_path / "n.md", "--pdf")
    assert md.exit_code == 2 and "只用于 Word" in md.stderr


# --- 日反馈 -----------------------------------------------------------------------------------


def test_daily_feedback_is_numbered_apart_and_lists_the_days_problems(notice_city, tmp_path):
    import re

    from openpyxl import load_workbook

    cli = notice_city
    assert "通报第1期" in cli.ok("notice", *WEEK, "-o", tmp_path / "周.docx").stdout
    path = tmp_path / "日.docx"
    assert "日反馈第1期" in cli.ok("notice", "--day", "2026-11-17", "-o", path).stdout
    assert "日反馈第2期" in cli.ok("notice", "--day", "2026-11-18", "-o", tmp_path / "日2.docx").stdout
    again = cli.ok("notice", "--day", "2026-11-17", "-o", tmp_path / "日.md").stdout
    assert "日反馈第1期（同一天重新生成，沿用期号）" in again
    assert "通报第2期" in cli.ok("notice", "--week", "2026-W46", "-o", tmp_path / "周2.docx").stdout  # its own series

    day = json.loads(cli.ok("issue", "list", "--from", "2026-11-17", "--to", "2026-11-17", "--json").stdout)
    assert len(day) == 2 and {p["unit"] for p in day} == {"城市管理局"}
    paragraphs = texts(path)
    assert paragraphs[0] == "创建全国文明城市工作督查日反馈" and paragraphs[1] == "第1期"
    assert (
        "11月17日，督查组对 1 个街道 1 个点位开展实地督查，发现问题 2 个（其中严重问题 0 个），涉及责任单位 1 家。"
        in paragraphs
    )
    listed = [p for p in paragraphs if re.match(r"\d+\. ", p)]
    assert len(listed) == 2
    for problem in day:
        assert any(problem["description"] in line and "整改时限" in line for line in listed)
    doc = Document(str(path))
    streets, units = (table_rows(t) for t in doc.tables if t.style is not None and t.style.name == "Table Grid")
    assert streets[1][:4] == ["东城街道", "1", "2", "0"] and units[1][:4] == ["城市管理局", "1", "2", "0"]
    assert docx_pictures(path)[0] == 2  # the 11-17 run photographed both failures
    sheet = load_workbook(tmp_path / "日_问题清单.xlsx")["当日问题清单"]
    assert sorted(r[1] for r in sheet.iter_rows(min_row=3, values_only=True)) == sorted(p["no"] for p in day)
    assert "## 三、问题清单" in (tmp_path / "日.md").read_text(encoding="utf-8")

    both = cli("notice", "--day", "2026-11-17", *WEEK)
    assert both.exit_code == 2 and "--day" in both.stderr
    bad = cli("notice", "--day", "昨天")
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr


def test_notice_with_the_months_unit_assessment(notice_city, tmp_path):
    cli = notice_city
    path = tmp_path / "通报.docx"
    cli.ok("notice", *WEEK, "--assess", "-o", path)
    paragraphs = texts(path)
    assert [p for p in paragraphs if p.endswith(("、单位考核", "、下步要求"))] == ["五、单位考核", "六、下步要求"]
    ranked = json.loads(cli.ok("assess", "--month", "2026-11", "--json").stdout)["groups"]
    table = next(t for t in Document(str(path)).tables if t.rows[0].cells[-1].text == "得分")
    assert [row[:2] + row[-1:] for row in table_rows(table)[1:]] == [
        [str(g["rank"]), g["name"], f"{g['score']:g}"] for g in ranked
    ]
    plain = tmp_path / "plain.md"
    cli.ok("notice", *WEEK, "-o", plain)
    assert "单位考核" not in plain.read_text(encoding="utf-8") and "## 五、下步要求" in plain.read_text(
        encoding="utf-8"
    )
    bad = tmp_path / "rules.yaml"
    bad.write_text("base: -1\n", encoding="utf-8")
    refused = cli("notice", "--week", "2026-W46", "--assess", "--rules", bad, "-o", tmp_path / "x.docx")
    assert refused.exit_code == 2 and "rules.yaml:1" in refused.stderr and not (tmp_path / "x.docx").exists()
    assert cli("notice", *WEEK, "--rules", bad).exit_code == 2  # --rules only with --assess
    assert "通报第2期" in cli.ok("notice", "--week", "2026-W46", "-o", tmp_path / "y.docx").stdout  # no number taken


def test_word_and_markdown_count_the_same_photos_and_missing_files_are_said(demo_city, tmp_path):
    """Found in a guide review: Word counted 整改前/整改后 as two, Markdown as one case; and a
    database copied without its photos folder gave a notice with no photos and no word of it."""
    import re
    import shutil

    from inspect_cli import paths

    def count(result) -> int:  # type: ignore[no-untyped-def]
        return int(re.search(r"典型问题照片 (\d+) 张", result.stdout)[1])

    word = demo_city.ok("notice", "-o", tmp_path / "周通报.docx")
    markdown = demo_city.ok("notice", "-o", tmp_path / "周通报.md")
    assert count(word) == count(markdown) > 0 and "找不到" not in word.stderr
    assert count(word) == docx_pictures(tmp_path / "周通报.docx")[0]
    daily = demo_city.ok("notice", "--day", "2026-11-26", "-o", tmp_path / "日反馈.docx")
    shown_that_day = int(re.search(r"照片 (\d+) 张", daily.stdout)[1])
    assert shown_that_day > 0
    shutil.rmtree(paths.media_dir(demo_city.db))
    bare = demo_city.ok("notice", "-o", tmp_path / "无照片.docx")
    assert count(bare) == 0 and f"{count(word)} 张照片的文件找不到" in bare.stderr
    bare_day = demo_city.ok("notice", "--day", "2026-11-26", "-o", tmp_path / "无照片日反馈.docx")
    assert f"{shown_that_day} 张照片的文件找不到" in bare_day.stderr


def test_daily_counts_each_point_once_and_says_the_days_repeat_findings(city, tmp_path, monkeypatch):
    """Found in review: a 点位 inspected twice in a day counted as two in 检查点位, and a
    不合格 on a problem still open (重复发现) was said nowhere in the 日反馈."""
    from .test_plans import TINY

    folder = tmp_path / "checklists"
    folder.mkdir()
    for name, text in TINY.items():
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("INSPECT_CLI_CHECKLISTS", str(folder))
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-12-05")
    city.ok("record", "NMSC-001", "m-1", "不合格", "--note", "缺失", "--date", "2026-12-01")
    city.ok("record", "NMSC-001", "m-2", "合格", "--date", "2026-12-01", "--finish")
    # 12-02: NMSC-001 twice (the problem found again, then all 合格), JMXQ-001 once with a new problem.
    city.ok("record", "NMSC-001", "m-1", "不合格", "--note", "仍缺失", "--date", "2026-12-02")
    city.ok("record", "NMSC-001", "m-2", "合格", "--date", "2026-12-02", "--finish")
    city.ok("record", "NMSC-001", "m-1", "合格", "--date", "2026-12-02", "--again")
    city.ok("record", "NMSC-001", "m-2", "合格", "--date", "2026-12-02", "--finish")
    city.ok("record", "JMXQ-001", "r-1", "不合格", "--note", "楼道堆物", "--date", "2026-12-02", "--finish")
    path = tmp_path / "日.docx"
    city.ok("notice", "--day", "2026-12-02", "-o", path)
    assert (
        "12月2日，督查组对 1 个街道 2 个点位开展实地督查，发现问题 1 个（其中严重问题 0 个），"
        "另有 1 项不合格为已有未销号问题的重复发现、计入原问题；涉及责任单位 1 家。"
    ) in texts(path)
    streets = next(
        table_rows(t) for t in Document(str(path)).tables if t.style is not None and t.style.name == "Table Grid"
    )
    assert streets[1][:3] == ["东城街道", "2", "1"]  # 点位 inspected, problems


def test_a_daily_that_cannot_be_finished_leaves_no_numbered_file_and_dates_are_checked(notice_city, tmp_path):
    """Found in review: the Word file stayed when its Excel list could not be written (and the
    next day took the same 第1期); a future or far-off --day took a number; --from 0001 crashed."""
    cli = notice_city
    blocked = tmp_path / "日_问题清单.xlsx"
    blocked.mkdir()  # the list cannot be written there
    failed = cli("notice", "--day", "2026-11-17", "-o", tmp_path / "日.docx")
    assert failed.exit_code == 2 and not (tmp_path / "日.docx").exists()
    for day in ("2026-12-06", "1999-12-31", "0001-01-01", "9999-12-31"):  # TODAY is 2026-12-05
        refused = cli("notice", "--day", day, "-o", tmp_path / f"{day}.docx")
        assert refused.exit_code == 2 and "Traceback" not in refused.stderr and not (tmp_path / f"{day}.docx").exists()
    assert "日反馈第1期" in cli.ok("notice", "--day", "2026-11-18", "-o", tmp_path / "日2.docx").stdout
    (tmp_path / "周_附件.xlsx").mkdir()  # likewise the weekly notice and its annex
    assert cli("notice", *WEEK, "-o", tmp_path / "周.docx").exit_code == 2 and not (tmp_path / "周.docx").exists()
    assert "通报第1期" in cli.ok("notice", *WEEK, "-o", tmp_path / "周2.docx").stdout
    for command in ("score", "notice", "export"):
        argv = [command, *(["report", "-o", tmp_path / "r.xlsx"] if command == "export" else [])]
        far = cli(*argv, "--from", "0001-01-01", "--to", "0001-01-07")
        assert far.exit_code == 2 and "年份不正确" in far.stderr, command
        early = cli(*argv, "--from", "1999-12-01", "--to", "1999-12-07")
        assert early.exit_code == 2 and "应在 2000 到 2100 年之间" in early.stderr, command
