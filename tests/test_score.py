from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_cli import inspection as core
from inspect_cli.checklist import Checklist, Item
from inspect_cli.models import Result, ResultRecord, Site
from inspect_cli.queries import GroupBy, ranking, scored_inspections
from inspect_cli.scoring import format_rate, score_inspection

D1, D2, D3 = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)
TEST_TYPE = Checklist(
    "测试点", "CS", "1", (Item("a", "甲项", "环境卫生", score=6, deduct=2), Item("b", "乙项", "公益广告", score=4))
)
SITES = [
    # code, street, unit, partner, 社区, 网格 (the same 社区 name in two streets)
    ("S1", "甲街道", "一局", "包抓一", "东风社区", "第1网格"),
    ("S2", "甲街道", "二局", None, "东风社区", "第2网格"),
    ("S3", "乙街道", "一局", "包抓一", "东风社区", "第1网格"),
    ("S4", "丁街道", "二局", None, None, None),
    ("S5", "戊街道", "二局", None, "湖滨社区", None),
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
    for code, street, unit, partner, community, grid in SITES:
        site = Site(
            code,
            f"点位{code}",
            "测试点",
            "CS",
            street=street,
            community=community,
            grid=grid,
            unit=unit,
            partner=partner,
        )
        store.save_site(site, "", "")
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


def test_ranking_by_community_and_grid(scored_store):
    """Named with their street (and 社区): 东风社区 of 甲街道 is not 东风社区 of 乙街道."""
    assert rows(scored_store, GroupBy.community) == [
        (1, "甲街道 东风社区", 3, round(220 / 3, 4), 1, 1),
        (2, "乙街道 东风社区", 2, 60.0, 2, 0),
        (3, "戊街道 湖滨社区", 1, 60.0, 1, 0),  # S4 has no 社区: in no row
    ]
    assert rows(scored_store, GroupBy.grid) == [
        (1, "甲街道 东风社区 第1网格", 2, 90.0, 1, 0),
        (2, "乙街道 东风社区 第1网格", 2, 60.0, 2, 0),
        (3, "甲街道 东风社区 第2网格", 1, 40.0, 0, 1),
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


def test_score_compares_with_the_previous_period(city):
    city.ok("run", "NMSC-001", "--date", "2026-11-17", input="2\n乱扔\n1\n\n" + "\n" * 40)
    city.ok("run", "GJZD-001", "--date", "2026-11-17", input="\n" * 40)
    city.ok("run", "NMSC-001", "--date", "2026-11-18", input="\n" * 40)
    city.ok("run", "GJZD-001", "--date", "2026-11-18", input="2\n乱扔\n1\n\n" + "\n" * 40)
    day = ["--from", "2026-11-18", "--to", "2026-11-18"]
    before = {
        r["name"]: r
        for r in json.loads(city.ok("score", "--from", "2026-11-17", "--to", "2026-11-17", "--json").stdout)
    }
    now = json.loads(city.ok("score", *day, "--json").stdout)
    assert [(r["name"], r["rank_change"]) for r in now] == [("东城街道", "↑1"), ("西湖街道", "↓1")]
    for row in now:
        assert row["previous_rank"] == before[row["name"]]["rank"]
        assert row["rate_change"] == pytest.approx(row["mean_rate"] - before[row["name"]]["mean_rate"])
    text = city.ok("score", *day).stdout
    assert "较上期" in text and "↑1" in text and f"{now[0]['rate_change']:+.1f}" in text
    # Without a bounded period there is nothing to compare with.
    assert all(r["rank_change"] is None for r in json.loads(city.ok("score", "--json").stdout))


# --- the database adds up what scoring.py defines ---------------------------------------------

_points = st.sampled_from([1, 2, 2.5, 3, 4, 5, 10, 100 / 30, 0.2])
_answer = st.one_of(st.none(), st.tuples(st.sampled_from(list(Result)), st.integers(1, 4)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.tuples(_points, st.one_of(st.none(), _points), _answer), min_size=1, max_size=12))
def test_the_database_scores_as_the_python_rules_do(store, data):
    """Every combination of score, deduction, result and count: the SQL aggregate
    (`Store.inspection_scores`) equals `scoring.score_inspection` on the same answers."""
    items = tuple(Item(f"i{n}", f"第{n}项", "环境卫生", score=s, deduct=d) for n, (s, d, _) in enumerate(data))
    kind = Checklist("测试点", "CS", uuid.uuid4().hex[:8], items)
    code = f"H{uuid.uuid4().hex[:8]}"
    store.save_site(Site(code, f"点位{code}", "测试点", "CS", street="甲街道"), "", "")
    inspection = store.create_inspection(store.site_by_code(code), D1, ["张三"], kind)
    given_answers = {}
    for item, (_, _, answer) in zip(items, data, strict=True):
        if answer is not None:
            record = ResultRecord(item.id, answer[0], answer[1])
            store.save_result(inspection.id, record, [])
            given_answers[item.id] = record
    store.finish_inspection(inspection.id)
    expected = score_inspection(items, given_answers)
    [scored] = scored_inspections(store, D1, D1, site_id=store.site_by_code(code).id)
    got = scored.score
    assert (got.items, got.answered, got.passed, got.failed, got.severe, got.na) == (
        expected.items, expected.answered, expected.passed, expected.failed, expected.severe, expected.na,
    )  # fmt: skip
    assert got.full == pytest.approx(expected.full, abs=1e-9)
    assert got.earned == pytest.approx(expected.earned, abs=1e-9)
    assert format_rate(got.rate) == format_rate(expected.rate)
