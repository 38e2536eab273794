from __future__ import annotations

import json
from datetime import date

import pytest

from inspect_cli import inspection as core
from inspect_cli.checklist import Checklist, Item
from inspect_cli.models import Site
from inspect_cli.queries import GroupBy, ranking

D1, D2, D3 = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)
TEST_TYPE = Checklist(
    "测试点", "CS", "1", (Item("a", "甲项", "环境卫生", score=6, deduct=2), Item("b", "乙项", "公益广告", score=4))
)
SITES = [
    # code, street, unit, partner
    ("S1", "甲街道", "一局", "包抓一"),
    ("S2", "甲街道", "二局", None),
    ("S3", "乙街道", "一局", "包抓一"),
    ("S4", "丁街道", "二局", None),
    ("S5", "戊街道", "二局", None),
]
# site, day, answers (item: (result, count)), finished — rates worked out by hand.
INSPECTIONS = [
    ("S1", D1, {"a": ("pass", 1), "b": ("pass", 1)}, True),  # 10/10 = 100
    ("S1", D2, {"a": ("fail", 1), "b": ("pass", 1)}, True),  # (6-2+4)/10 = 80
    ("S2", D1, {"a": ("severe", 1), "b": ("pass", 1)}, True),  # 4/10 = 40
    ("S3", D1, {"a": ("na", 1), "b": ("pass", 1)}, True),  # 4/4 = 100
    ("S3", D2, {"a": ("fail", 2), "b": ("fail", 1)}, True),  # (6-4+0)/10 = 20
    ("S4", D1, {"a": ("fail", 2), "b": ("pass", 1)}, True),  # 6/10 = 60
    ("S5", D2, {"a": ("fail", 2), "b": ("pass", 1)}, True),  # 6/10 = 60
    ("S1", D3, {"a": ("severe", 1)}, False),  # unfinished: never ranked
]


@pytest.fixture
def scored_store(store):
    for code, street, unit, partner in SITES:
        store.save_site(Site(code, f"点位{code}", "测试点", "CS", street=street, unit=unit, partner=partner), "", "")
    for code, day, answers, finished in INSPECTIONS:
        site = store.site_by_code(code)
        inspection = store.create_inspection(site, day, ["张三"], TEST_TYPE)
        for item_id, (result, count) in answers.items():
            core.record(store, inspection, item_id, result, count=count)
        if finished:
            core.finish(store, inspection.no)
    return store


def rows(store, by, start=None, end=None):
    return [
        (r.rank, r.name, r.inspections, round(r.mean_rate, 4), r.failed, r.severe)
        for r in ranking(store, by, start, end)
    ]


def test_ranking_by_street_hand_computed(scored_store):
    assert rows(scored_store, GroupBy.street) == [
        (1, "甲街道", 3, round(220 / 3, 4), 1, 1),
        (2, "乙街道", 2, 60.0, 2, 0),  # same mean as 丁/戊 but more inspections
        (3, "丁街道", 1, 60.0, 1, 0),
        (3, "戊街道", 1, 60.0, 1, 0),  # equal on rate and count: shared rank
    ]


def test_ranking_by_unit_partner_type_site(scored_store):
    assert rows(scored_store, GroupBy.unit) == [(1, "一局", 4, 75.0, 3, 0), (2, "二局", 3, round(160 / 3, 4), 2, 1)]
    assert rows(scored_store, GroupBy.partner) == [(1, "包抓一", 4, 75.0, 3, 0)]
    assert rows(scored_store, GroupBy.type) == [(1, "测试点", 7, round(460 / 7, 4), 5, 1)]
    assert [r[1] for r in rows(scored_store, GroupBy.site)] == [
        "S1 点位S1",
        "S3 点位S3",
        "S4 点位S4",
        "S5 点位S5",
        "S2 点位S2",
    ]


def test_ranking_period(scored_store):
    assert rows(scored_store, GroupBy.street, D1, D1) == [
        (1, "乙街道", 1, 100.0, 0, 0),
        (2, "甲街道", 2, 70.0, 0, 1),
        (3, "丁街道", 1, 60.0, 1, 0),
    ]
    assert rows(scored_store, GroupBy.street, D3, D3) == []


def test_cli_score_matches_the_query_layer(city):
    city.ok("run", "NMSC-001", "--date", "2026-11-18", input="2\n乱扔\n1\n\n" + "\n" * 40)
    city.ok("run", "GJZD-001", "--date", "2026-11-18", input="\n" * 40)
    data = json.loads(city.ok("score", "--by", "street", "--json").stdout)
    assert [(r["rank"], r["name"], r["inspections"]) for r in data] == [(1, "西湖街道", 1), (2, "东城街道", 1)]
    assert data[0]["mean_rate"] == 100.0 and data[1]["mean_rate"] < 100
    text = city.ok("score", "--by", "street", "--from", "2026-11-18", "--to", "2026-11-18").stdout
    assert "街道排名（2026-11-18 至 2026-11-18）" in text
    assert f"{data[1]['mean_rate']:.1f}%" in text
    assert "没有已完成的检查" in city.ok("score", "--from", "2026-01-01", "--to", "2026-01-02").stdout
    bad = city("score", "--by", "city")
    assert bad.exit_code == 2 and "Traceback" not in bad.stderr
