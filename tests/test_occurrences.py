"""A failure found again while its problem is open: one problem, several occurrences."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def city_today(city, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-11-30")
    return city


def shown(cli, no="ZG-2026-0001"):
    return json.loads(cli.ok("issue", "show", no, "--json").stdout)


def escalations(cli) -> int:
    return sum(1 for e in shown(cli)["history"] if e["action"] == "escalated")


def test_an_occurrence_keeps_its_own_details_and_a_severe_one_escalates(city_today):
    cli = city_today
    cli.ok("record", "GJZD-001", "1", "fail", "--note", "站牌破损", "--date", "2026-11-16", "-i", "张三")
    cli.ok("record", "GJZD-001", "1", "severe", "--note", "站牌倒地", "--date", "2026-11-18", "-i", "李四")
    problem = shown(cli)
    assert (problem["severity"], problem["description"], problem["occurrences"]) == ("severe", "站牌破损", 1)
    found_again = [e for e in problem["history"] if e["action"] == "repeat"]
    assert [(e["note"], e["actor"], e["date"]) for e in found_again] == [("站牌倒地", "李四", "2026-11-18")]
    assert [e["label"] for e in problem["history"] if e["action"] == "escalated"] == ["升级为严重问题"]
    assert len(json.loads(cli.ok("issue", "list", "--json").stdout)) == 1
    # Editing the finding of the first visit never lowers what the second one found.
    cli.ok("record", "GJZD-001", "1", "fail", "--note", "站牌破损两处", "--date", "2026-11-16")
    assert shown(cli)["severity"] == "severe"
    # Withdrawing the severe occurrence settles the problem back to what remains, and its
    # escalation leaves the history; severe again, it is there once.
    cli.ok("record", "GJZD-001", "1", "fail", "--note", "站牌歪斜", "--date", "2026-11-18")
    assert (shown(cli)["severity"], escalations(cli)) == ("fail", 0)
    cli.ok("record", "GJZD-001", "1", "severe", "--date", "2026-11-18")
    assert (shown(cli)["severity"], escalations(cli)) == ("severe", 1)
    cli.ok("record", "GJZD-001", "1", "severe", "--note", "站牌倒地，已拉警戒线", "--date", "2026-11-18")
    assert (shown(cli)["severity"], escalations(cli)) == ("severe", 1)
    cli.ok("inspection", "delete", "JC-2026-0002", "--yes")
    problem = shown(cli)
    assert (problem["severity"], problem["occurrences"]) == ("fail", 0)
    assert not [e for e in problem["history"] if e["action"] in ("repeat", "escalated")]


def test_inspectors_named_on_resume_are_added(city_today):
    cli = city_today
    cli.ok("record", "GJZD-001", "1", "pass", "--date", "2026-11-18", "-i", "张三")
    cli.ok("record", "GJZD-001", "2", "pass", "--date", "2026-11-18", "-i", "李四,张三")
    cli.ok("run", "GJZD-001", "--date", "2026-11-18", "-i", "王五", input="q\n")
    (inspection,) = json.loads(cli.ok("inspection", "list", "--json").stdout)
    assert inspection["inspectors"] == ["张三", "李四", "王五"]
