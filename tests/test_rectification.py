from __future__ import annotations

from datetime import date

import pytest

from inspect_cli import dates, workdays
from inspect_cli import inspection as core
from inspect_cli import rectification as loop
from inspect_cli.checklist import Checklist, ChecklistSet, Item
from inspect_cli.config import RectificationSettings
from inspect_cli.errors import InputError, StateError
from inspect_cli.models import ProblemStatus, Result, Site
from inspect_cli.queries import StatsBy, problem_stats, problems

from .conftest import make_image

TYPE = Checklist(
    "测试点",
    "CS",
    "1",
    (
        Item("a", "无占道经营", "市容秩序", score=5, unit="城市管理局", deadline_days=3),
        Item("b", "无吸烟", "文明行为", score=3, deadline_days=0),
        Item("c", "公益广告不少于2处", "公益广告", score=4),  # no deadline_days: the default (5)
        Item("d", "地面整洁", "环境卫生", score=4, deadline_days=1),
    ),
)
CHECKLISTS = ChecklistSet({"测试点": TYPE})
TODAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setenv(dates.ENV_TODAY, TODAY.isoformat())


@pytest.fixture
def db(store):
    store.save_site(Site("S1", "东城市场", "测试点", "CS", street="东城街道", unit="东城街道办事处"), "", "")
    store.save_site(Site("S2", "西湖小巷", "测试点", "CS", street="西湖街道"), "", "")
    return store


def answer(store, code, day, item, result="fail", settings=None, **kw):
    site = store.site_by_code(code)
    inspection = core.open_for_record(store, CHECKLISTS, site, day, ["张三"], None)
    core.record(store, inspection, item, result, inspectors=["张三"], settings=settings, **kw)
    return inspection


def only(store, **filters):
    (problem,) = problems(store, **filters)
    return problem


# --- working days ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "days", "deadline"),
    [
        (date(2026, 11, 18), 0, date(2026, 11, 18)),  # 立行立改
        (date(2026, 11, 20), 1, date(2026, 11, 23)),  # Friday → Monday
        (date(2026, 2, 13), 3, date(2026, 2, 25)),  # Sat 2-14 is a 调休 workday, 2-15…2-23 Spring Festival
        (date(2026, 9, 30), 2, date(2026, 10, 9)),  # National Day 10-01…10-07
        (date(2026, 10, 9), 1, date(2026, 10, 10)),  # Saturday 10-10 is a 调休 workday
    ],
)
def test_working_days_follow_the_holiday_calendar(found, days, deadline):
    assert workdays.add_working_days(found, days) == deadline


def test_year_without_holiday_data_falls_back_to_weekdays_and_warns_once():
    workdays.take_warnings()
    assert workdays.add_working_days(date(2027, 3, 5), 1) == date(2027, 3, 8)  # Friday → Monday
    assert workdays.add_working_days(date(2027, 3, 8), 2) == date(2027, 3, 10)
    warnings = workdays.take_warnings()
    assert len(warnings) == 1 and "2027" in warnings[0]
    workdays.add_working_days(date(2027, 4, 1), 3)
    assert workdays.take_warnings() == []


def test_deadline_rules():
    settings = RectificationSettings(default_deadline_days=5)
    day = date(2026, 11, 16)  # Monday
    assert loop.deadline_for(day, 3, Result.FAIL, settings) == date(2026, 11, 19)
    assert loop.deadline_for(day, 3, Result.SEVERE, settings) == date(2026, 11, 17)  # 3 // 2 = 1
    assert loop.deadline_for(day, 1, Result.SEVERE, settings) == day  # 1 // 2 = 0: same day
    assert loop.deadline_for(day, None, Result.FAIL, settings) == date(2026, 11, 23)


# --- problems follow the answers ----------------------------------------------------------


def test_failing_answer_opens_a_problem(db, tmp_path):
    photo = make_image(tmp_path / "p.jpg")
    answer(db, "S1", date(2026, 11, 16), "a", note="门口占道", count=2, photos=[photo], media_dir=tmp_path / "m")
    problem = only(db)
    assert problem.no == "ZG-2026-0001"
    assert (problem.site_code, problem.item_id, problem.item_text, problem.category) == (
        "S1",
        "a",
        "无占道经营",
        "市容秩序",
    )
    assert (problem.description, problem.count, problem.severity) == ("门口占道", 2, Result.FAIL)
    assert problem.unit == "城市管理局"  # the item's unit wins over the site's
    assert problem.deadline == date(2026, 11, 19)
    assert problem.status is ProblemStatus.OPEN and problem.inspection_no == "JC-2026-0001"
    (event,) = db.problem_events(problem.id)
    assert (event.action, event.actor, len(event.photos)) == ("found", "张三", 1)
    assert answer(db, "S1", date(2026, 11, 16), "b", "pass") and len(problems(db)) == 1


def test_unit_comes_from_site_or_override_or_nobody(db):
    answer(db, "S1", date(2026, 11, 16), "b")
    answer(db, "S1", date(2026, 11, 16), "c", unit="文明办", new_unit=True)
    answer(db, "S2", date(2026, 11, 16), "d")
    units = {p.item_id: p.unit for p in problems(db)}
    assert units == {"b": "东城街道办事处", "c": "文明办", "d": None}
    assert [p.item_id for p in problems(db, no_unit=True)] == ["d"]


def test_changing_the_answer_before_finish_updates_or_removes_the_problem(db):
    answer(db, "S1", date(2026, 11, 16), "a", note="占道")
    answer(db, "S1", date(2026, 11, 16), "a", "severe", note="大面积占道")
    problem = only(db)
    assert (problem.severity, problem.description, problem.deadline) == (
        Result.SEVERE,
        "大面积占道",
        date(2026, 11, 17),
    )
    assert [e.action for e in db.problem_events(problem.id)] == ["found", "updated"]
    answer(db, "S1", date(2026, 11, 16), "a", "pass")
    assert problems(db) == []


def test_same_item_failing_while_open_is_a_repeat_finding_not_a_new_problem(db):
    answer(db, "S1", date(2026, 11, 16), "a", note="第一次")
    second = answer(db, "S1", date(2026, 11, 20), "a", note="又占道", count=3)
    problem = only(db)
    assert problem.occurrences == 1
    repeat = db.problem_events(problem.id)[-1]
    assert (repeat.action, repeat.date, repeat.note, repeat.count, repeat.inspection_no) == (
        "repeat",
        date(2026, 11, 20),
        "又占道",
        3,
        second.no,
    )
    answer(db, "S1", date(2026, 11, 20), "a", "pass")  # changed before finish: the finding goes
    assert only(db).occurrences == 0


def close(store, no, day):
    loop.report_fixed(store, no, "已整改", day=day)
    loop.recheck(store, no, True, day=day)


def test_failing_again_after_close_within_the_window_is_marked_repeat(db):
    answer(db, "S1", date(2026, 11, 2), "a")
    close(db, "ZG-2026-0001", date(2026, 11, 3))
    answer(db, "S1", date(2026, 11, 27), "a")  # 24 days after closing
    newer = db.problem("ZG-2026-0002")
    assert newer.repeat_of == "ZG-2026-0001" and newer.status is ProblemStatus.OPEN
    assert [p.no for p in problems(db, repeat=True)] == ["ZG-2026-0002"]
    close(db, "ZG-2026-0002", date(2026, 11, 27))
    answer(db, "S1", date(2026, 11, 28), "a", settings=RectificationSettings(repeat_window_days=0))
    assert db.problem("ZG-2026-0003").repeat_of is None  # outside a 0-day window


def test_failing_again_after_the_window_is_a_plain_new_problem(db):
    answer(db, "S1", date(2026, 10, 1), "a")
    close(db, "ZG-2026-0001", date(2026, 10, 9))
    answer(db, "S1", date(2026, 11, 9), "a")  # 31 days after closing
    assert db.problem("ZG-2026-0002").repeat_of is None


# --- the state machine --------------------------------------------------------------------


@pytest.fixture
def open_problem(db):
    answer(db, "S1", date(2026, 11, 16), "a", note="占道")
    return "ZG-2026-0001"


def status(db, no):
    return db.problem(no).status


def test_fixed_then_recheck_pass_closes(db, open_problem):
    loop.report_fixed(db, open_problem, "已清理", day=date(2026, 11, 18), actor="城管局李四")
    assert status(db, open_problem) is ProblemStatus.FIXED
    loop.recheck(db, open_problem, True, day=date(2026, 11, 20), actor="张三")
    problem = db.problem(open_problem)
    assert (problem.status, problem.closed_date, problem.fixed_date, problem.recheck_count) == (
        ProblemStatus.CLOSED,
        date(2026, 11, 20),
        date(2026, 11, 18),
        1,
    )
    assert problem.on_time  # fixed 11-18, deadline 11-19
    history = db.problem_events(problem.id)
    assert [(e.action, e.actor, e.from_status, e.to_status) for e in history] == [
        ("found", "张三", None, ProblemStatus.OPEN),
        ("fixed", "城管局李四", ProblemStatus.OPEN, ProblemStatus.FIXED),
        ("recheck_pass", "张三", ProblemStatus.FIXED, ProblemStatus.CLOSED),
    ]
    assert all(e.at for e in history)


def test_failed_recheck_is_rework(db, open_problem):
    loop.report_fixed(db, open_problem, "已清理", day=date(2026, 11, 18))
    change = loop.recheck(db, open_problem, False, note="仍有占道", day=date(2026, 11, 20))
    assert change.event == "recheck_fail"
    problem = db.problem(open_problem)
    assert (problem.status, problem.rework_count, problem.recheck_count, problem.fixed_date) == (
        ProblemStatus.OPEN,
        1,
        1,
        None,
    )
    assert problem.status_label == "待整改（返工 1 次）"
    loop.report_fixed(db, open_problem, "再次清理", day=date(2026, 11, 24))
    loop.recheck(db, open_problem, True, day=date(2026, 11, 25))
    problem = db.problem(open_problem)
    assert problem.rework_count == 1 and problem.recheck_count == 2
    assert problem.on_time is False  # the accepted fix came after the deadline


def test_recheck_of_an_unreported_problem(db, open_problem):
    with pytest.raises(StateError, match="尚未上报整改"):
        loop.recheck(db, open_problem, True)
    with pytest.raises(InputError, match="必须用 --reason"):
        loop.recheck(db, open_problem, True, force=True)
    assert loop.recheck(db, open_problem, False, note="还没改").event == "recheck_open"
    problem = db.problem(open_problem)
    assert (problem.status, problem.rework_count, problem.recheck_count) == (ProblemStatus.OPEN, 0, 1)
    change = loop.recheck(db, open_problem, True, force=True, reason="现场已整改，单位未上报")
    assert change.event == "force_close" and change.problem.status is ProblemStatus.CLOSED


def test_dismiss_and_defer(db, open_problem):
    with pytest.raises(InputError, match="说明理由"):
        loop.dismiss(db, open_problem, " ")
    with pytest.raises(InputError, match="应晚于问题发现日期"):
        loop.defer(db, open_problem, date(2026, 11, 1), "需改造")
    loop.defer(db, open_problem, date(2027, 3, 31), "需立项改造")
    problem = db.problem(open_problem)
    assert (problem.status, problem.deadline) == (ProblemStatus.DEFERRED, date(2027, 3, 31))
    assert problem.overdue_days(date(2027, 6, 1)) == 0  # 长期整改 is never counted overdue
    loop.report_fixed(db, open_problem, "已改造", day=date(2026, 11, 29))
    loop.dismiss(db, open_problem, "经核实不属于点位范围")
    assert status(db, open_problem) is ProblemStatus.DISMISSED


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda db, no: loop.report_fixed(db, no, "x"), "不能上报整改"),
        (lambda db, no: loop.recheck(db, no, True), "不能复查"),
        (lambda db, no: loop.dismiss(db, no, "x"), "不能认定不属实"),
        (lambda db, no: loop.defer(db, no, date(2027, 1, 1), "x"), "不能转为长期整改"),
        (lambda db, no: loop.assign(db, no, "文明办"), "不能改派"),
        (lambda db, no: loop.set_deadline(db, no, date(2027, 1, 1)), "不能调整整改时限"),
    ],
)
@pytest.mark.parametrize("final", [ProblemStatus.CLOSED, ProblemStatus.DISMISSED])
def test_closed_or_dismissed_problem_refuses_every_change(db, open_problem, action, message, final):
    if final is ProblemStatus.CLOSED:
        close(db, open_problem, date(2026, 11, 18))
    else:
        loop.dismiss(db, open_problem, "不属实")
    before = db.problem_events(db.problem(open_problem).id)
    with pytest.raises(StateError, match=message):
        action(db, open_problem)
    assert db.problem_events(db.problem(open_problem).id) == before
    assert status(db, open_problem) is final


def test_fixed_cannot_be_reported_twice_and_dates_are_checked(db, open_problem):
    with pytest.raises(InputError, match="晚于今天"):
        loop.report_fixed(db, open_problem, "x", day=date(2026, 12, 25))
    with pytest.raises(InputError, match="早于问题发现日期"):
        loop.report_fixed(db, open_problem, "x", day=date(2026, 11, 1))
    with pytest.raises(InputError, match="整改情况"):
        loop.report_fixed(db, open_problem, " ")
    loop.report_fixed(db, open_problem, "已整改")
    with pytest.raises(StateError, match="当前为“已整改待复查”，不能上报整改"):
        loop.report_fixed(db, open_problem, "再报一次")


def test_assign_and_deadline_are_kept_when_the_answer_changes(db, open_problem):
    loop.assign(db, open_problem, "文明办", actor="创城办", allow_new=True)
    loop.set_deadline(db, open_problem, date(2026, 12, 5), actor="创城办")
    answer(db, "S1", date(2026, 11, 16), "a", "severe", note="更严重")
    problem = db.problem(open_problem)
    assert (problem.unit, problem.deadline, problem.severity) == ("文明办", date(2026, 12, 5), Result.SEVERE)
    notes = [e.note for e in db.problem_events(problem.id) if e.action in ("assigned", "deadline")]
    assert notes == ["城市管理局 → 文明办", "2026-11-19 → 2026-12-05"]


def test_worked_on_problem_blocks_undoing_the_answer_and_deleting_the_inspection(db, open_problem):
    loop.report_fixed(db, open_problem, "已整改")
    with pytest.raises(StateError, match="已进入整改流程"):
        answer(db, "S1", date(2026, 11, 16), "a", "pass")
    with pytest.raises(StateError, match="不能删除这次检查"):
        core.delete(db, "JC-2026-0001")
    assert status(db, open_problem) is ProblemStatus.FIXED


def test_deleting_an_inspection_removes_its_untouched_problems(db):
    answer(db, "S1", date(2026, 11, 16), "a")
    answer(db, "S2", date(2026, 11, 16), "d")
    core.delete(db, "JC-2026-0001")
    assert [p.site_code for p in problems(db)] == ["S2"]


# --- overdue and statistics ---------------------------------------------------------------


def test_overdue_days(db, open_problem):
    problem = db.problem(open_problem)  # deadline 2026-11-19
    assert problem.overdue_days(date(2026, 11, 19)) == 0
    assert problem.overdue_days(date(2026, 11, 30)) == 11
    assert [p.no for p in problems(db, overdue=True, today=date(2026, 11, 30))] == [open_problem]
    loop.report_fixed(db, open_problem, "已整改", day=date(2026, 11, 25))
    assert problems(db, overdue=True) == []  # waiting for the re-check is not overdue


def test_stats_hand_computed(db):
    # Six problems, found 11-16 (deadlines: a 11-19, b 11-16, c 11-23, d 11-17).
    answer(db, "S1", date(2026, 11, 16), "a")  # 1: closed on time
    answer(db, "S1", date(2026, 11, 16), "b")  # 2: 返工 then closed late
    answer(db, "S1", date(2026, 11, 16), "c")  # 3: dismissed
    answer(db, "S1", date(2026, 11, 16), "d")  # 4: overdue
    answer(db, "S2", date(2026, 11, 16), "a")  # 5: deferred
    answer(db, "S2", date(2026, 11, 16), "b")  # 6: re-checked, still open (not 返工), overdue
    close(db, "ZG-2026-0001", date(2026, 11, 18))
    loop.report_fixed(db, "ZG-2026-0002", "x", day=date(2026, 11, 16))
    loop.recheck(db, "ZG-2026-0002", False, day=date(2026, 11, 17))
    close(db, "ZG-2026-0002", date(2026, 11, 20))
    loop.dismiss(db, "ZG-2026-0003", "不属实")
    loop.defer(db, "ZG-2026-0005", date(2027, 1, 31), "改造")
    loop.recheck(db, "ZG-2026-0006", False, day=date(2026, 11, 20))
    answer(db, "S1", date(2026, 11, 25), "a")  # 7: 反复出现 (closed 11-18), found later
    _, total = problem_stats(db)
    assert (total.total, total.closed, total.dismissed, total.deferred, total.on_time) == (7, 2, 1, 1, 1)
    assert total.fix_rate == pytest.approx(2 / 6 * 100)
    assert total.on_time_rate == pytest.approx(50.0)
    assert total.overdue == 2  # 4 and 6; 7 is due 11-30 (3 working days after Wed 11-25)
    assert (total.rechecked, total.reworked) == (3, 1)
    assert total.rework_rate == pytest.approx(100 / 3)
    assert total.repeats == 1
    rows, period = problem_stats(db, date(2026, 11, 16), date(2026, 11, 16), StatsBy.unit)
    assert period.total == 6
    by_unit = {r.name: (r.total, r.closed, r.overdue) for r in rows}
    assert by_unit == {"城市管理局": (2, 1, 0), "东城街道办事处": (3, 1, 1), "（未指定责任单位）": (1, 0, 1)}
