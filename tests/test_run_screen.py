"""The full-screen `run` and `recheck` apps, driven with Textual's pilot.

Assertions are on the app's state and on the database (through the core), never on pixels.
"""

from __future__ import annotations

from datetime import date

import pytest
from rich.cells import cell_len
from textual import events
from textual.widgets import Input, OptionList, RadioSet, Static, TextArea

from inspect_cli import inspection as core
from inspect_cli import paths
from inspect_cli.cli.recheck_screen import RecheckApp, RecheckScreen, RecheckSession
from inspect_cli.cli.run_screen import PHOTO_MISSING, RunApp, RunScreen, RunSession, SummaryScreen
from inspect_cli.cli.screens_common import InspectorsScreen, content_text
from inspect_cli.config import RectificationSettings
from inspect_cli.models import ProblemStatus, Result
from inspect_cli.rectification import recheck_queue
from inspect_cli.sites import resolve_site
from inspect_cli.store import Store
from inspect_cli.units import list_units

from .conftest import make_image

pytestmark = pytest.mark.asyncio

DAY = date(2026, 11, 18)
SIZE = (100, 40)
# GJZD (公交站点): gg-01 needs a photo, gg-02 does not.
SITE = "GJZD-001"


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", DAY.isoformat())


@pytest.fixture
def db(city):
    with Store(city.db) as store:
        yield store


def run_app(db, checklists, inspectors=("张三",), day=DAY, new_unit=False) -> RunApp:
    """The app `run SITE` opens: the inspection started (or resumed) the way the CLI starts it."""
    site = resolve_site(db, SITE)
    names = list(inspectors) if inspectors else None
    detail, resumed = core.start(db, checklists, site, day, names)
    session = RunSession(db, checklists, site, detail, resumed, names, RectificationSettings(), media(db), new_unit)
    return RunApp(session)


def media(db):
    return paths.media_dir(paths.db_path(str(db.path)))


def answers(app: RunApp) -> dict:
    """What the database holds now for the app's inspection."""
    return core.detail(app.session.store, app.session.detail.inspection.id).results


def screen(app) -> RunScreen | RecheckScreen:
    return next(s for s in app.screen_stack if isinstance(s, (RunScreen, RecheckScreen)))


def text(app, selector: str) -> str:
    return content_text(app.screen.query_one(selector, Static))


def send_to_list(app, *keys: tuple[str, str | None]) -> None:
    """Keys as a terminal burst delivers them: all handed to the item list before any is handled."""
    items = app.screen.query_one("#items", OptionList)
    for key, char in keys:
        event = events.Key(key, char)
        event._set_forwarded()  # as the app marks the keys it hands to the focused widget
        items.post_message(event)


async def type_text(pilot, value: str) -> None:
    await pilot.press(*value)


# --- run: answering and moving -------------------------------------------------------


async def test_result_keys_record_and_advance(db, checklists):
    """Slow (about 2 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    ids = [i.id for i in app.session.items]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1")
        assert screen(app).index == 1
        await pilot.press("0")
        assert screen(app).index == 2
        await pilot.press("3")  # a failure opens the form and stays on the item until it is saved
        assert screen(app).form_open and screen(app).index == 2
        await pilot.press("ctrl+s")
        assert not screen(app).form_open and screen(app).index == 3
        await pilot.press("2", "ctrl+s")
        assert screen(app).index == 4
        saved = answers(app)
    assert {k: v.result for k, v in saved.items()} == {
        ids[0]: Result.PASS,
        ids[1]: Result.NA,
        ids[2]: Result.SEVERE,
        ids[3]: Result.FAIL,
    }
    assert saved[ids[0]].recorded_by == "张三"


async def test_enter_on_an_item_records_nothing(db, checklists):
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "enter", "enter")
        assert screen(app).index == 0
        assert "Enter 不记录结果" in screen(app).status_text
        assert answers(app) == {}


async def test_two_then_enter_answers_one_item(db, checklists):
    """Slow (about 2 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    first = app.session.items[0].id
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2", "enter")
        saved = answers(app)
        assert list(saved) == [first] and saved[first].result is Result.FAIL
        assert screen(app).index == 0 and screen(app).form_open
        assert isinstance(app.focused, TextArea)  # Enter went into the description, not into a result
        await type_text(pilot, "地面有烟头")
        await pilot.press("ctrl+s")
        saved = answers(app)
    assert list(saved) == [first]
    assert saved[first].note == "地面有烟头"


async def test_two_then_enter_in_one_burst_answers_one_item(db, checklists):
    """As a terminal delivers them: both keys reach the list before the first is handled,
    so the Enter arrives at the list (not at the description) after 2 opened the form.
    Slow (about 2 s): the Textual app, which lays the screen out again after each key."""
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        send_to_list(app, ("2", "2"), ("enter", "\r"))
        await pilot.pause()
        await pilot.pause()
        assert len(answers(app)) == 1
        assert screen(app).index == 0 and screen(app).form_open


async def test_fast_keys_are_all_taken_in_order(db, checklists):
    """Slow (about 2 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    ids = [i.id for i in app.session.items]
    async with app.run_test(size=SIZE) as pilot:
        for key in "11010":
            app.post_message(events.Key(key, key))
        await pilot.pause()
        await pilot.pause()
        saved = answers(app)
        assert screen(app).index == 5
    assert [saved[i].result for i in ids[:5]] == [Result.PASS, Result.PASS, Result.NA, Result.PASS, Result.NA]


async def test_fast_save_after_a_severe_item_keeps_the_new_severity(db, checklists):
    """Slow (about 2 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    ids = [i.id for i in app.session.items]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "ctrl+s")
        send_to_list(app, ("2", "2"), ("ctrl+s", None))
        await pilot.pause()
        await pilot.pause()
        saved = answers(app)
        assert not screen(app).form_open and screen(app).index == 2
    assert [saved[i].result for i in ids[:2]] == [Result.SEVERE, Result.FAIL]


async def test_b_up_down_move_without_answering(db, checklists):
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "down")
        assert screen(app).index == 2
        await pilot.press("up")
        assert screen(app).index == 1
        await pilot.press("b")
        assert screen(app).index == 0
        await pilot.press("b")
        assert screen(app).index == 0
        await pilot.press("down", "1")
        assert list(answers(app)) == [app.session.items[1].id]


async def test_q_leaves_with_answers_saved(db, checklists):
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "1", "q")
    outcome = app.return_value
    assert outcome is not None
    assert (outcome.answered, outcome.finished, outcome.interrupted) == (2, False, False)
    assert outcome.total == len(outcome.detail.items)
    assert len(core.detail(db, outcome.detail.inspection.id).results) == 2


async def test_ctrl_c_leaves_as_interrupted_with_answers_saved(db, checklists):
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("1", "ctrl+c")
    assert app.return_value.interrupted
    assert app.return_value.answered == 1


async def test_resume_starts_at_first_unanswered(city, db, checklists):
    for item in ("gg-01", "gg-02", "ss-02"):
        city.ok("record", SITE, item, "合格", "--date", "2026-11-18", "-i", "张三")
    app = run_app(db, checklists)
    assert app.session.resumed
    async with app.run_test(size=SIZE) as pilot:
        assert screen(app).index == 2  # ss-01, the first one left open
        assert "继续检查" in screen(app).status_text
        await pilot.press("0")
        assert answers(app)["ss-01"].result is Result.NA
        assert screen(app).index == 3


async def test_q_inside_the_form_is_text_not_quit(db, checklists):
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await type_text(pilot, "qb1")
        assert app.return_value is None and screen(app).index == 0
        assert app.screen.query_one("#note", TextArea).text == "qb1"
        await pilot.press("escape")
        assert not screen(app).form_open
        await pilot.press("q")
    assert app.return_value.answered == 1


# --- run: the failure form -----------------------------------------------------------


async def test_switching_severity_keeps_the_description(db, checklists):
    """Slow (about 4 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    first = app.session.items[0].id
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await type_text(pilot, "站台广告破损")
        # To the severity choice (description → count → severity), then pick 严重不合格.
        await pilot.press("tab", "tab")
        assert isinstance(app.focused, RadioSet)
        await pilot.press("down", "enter")
        assert app.screen.query_one("#note", TextArea).text == "站台广告破损"
        await pilot.press("ctrl+s")
        saved = answers(app)[first]
        assert (saved.result, saved.note) == (Result.SEVERE, "站台广告破损")
        # And from the list: 3 → 2 on an answered failure keeps what was written.
        await pilot.press("b", "2")
        assert app.screen.query_one("#note", TextArea).text == "站台广告破损"
        await pilot.press("escape")
        saved = answers(app)[first]
    assert (saved.result, saved.note) == (Result.FAIL, "站台广告破损")


async def test_count_is_checked_inline(db, checklists):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    first = app.session.items[0].id
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2", "tab")
        count = app.screen.query_one("#count", Input)
        assert app.focused is count
        count.value = ""
        await pilot.press("0", "ctrl+s")
        assert "问题数量应为 1–999" in text(app, "#form-error")
        assert screen(app).form_open
        count.value = ""
        await pilot.press("4", "ctrl+s")
    assert answers(app)[first].count == 4


async def test_bad_photo_paths_are_shown_inline_and_nothing_is_saved(db, checklists, tmp_path):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    not_image = tmp_path / "笔记.txt"
    not_image.write_text("不是图片", encoding="utf-8")
    good = make_image(tmp_path / "现场 照片.jpg")
    app = run_app(db, checklists)
    first = app.session.items[0]
    assert first.photo_required
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await type_text(pilot, "缺少公益广告")
        photos = app.screen.query_one("#photos Input", Input)
        photos.value = f'{tmp_path / "missing.jpg"} "{not_image}"'
        app.screen.set_focus(photos)
        await pilot.press("enter")  # checked at once, before any save
        message = text(app, "#photos .photo-message")
        assert "照片不存在" in message and "不是可识别的图片文件" in message
        await pilot.press("ctrl+s")
        assert "照片不存在" in text(app, "#form-error")
        assert screen(app).form_open
        saved = answers(app)[first.id]
        assert (saved.note, saved.photos) == (None, [])  # the form's save never happened
        assert app.screen.query_one(OptionList).get_option_at_index(0).prompt.plain.split()[1] == PHOTO_MISSING
        photos.value = f'"{good}"'
        await pilot.press("ctrl+s")
        saved = answers(app)[first.id]
        assert (saved.note, len(saved.photos)) == ("缺少公益广告", 1)
        assert app.session.state(first) == "不合格"


async def test_photo_missing_is_flagged_on_the_list_and_at_the_end(db, checklists):
    app = run_app(db, checklists)
    first = app.session.items[0]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2", "ctrl+s")
        assert app.session.state(first) == PHOTO_MISSING
        await pilot.press("f")
        assert isinstance(app.screen, SummaryScreen)
        summary = text(app, "#summary")
        assert "需拍照取证但还没有照片" in summary and first.id in summary


async def test_open_problem_from_an_earlier_inspection_is_announced(city, db, checklists):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    city.ok("record", SITE, "gg-01", "不合格", "--note", "广告缺失", "--date", "2026-11-10", "-i", "李四")
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        notice = app.screen.query_one("#existing", Static)
        assert not notice.has_class("hidden")
        assert "已有未销号问题 ZG-2026-0001" in content_text(notice)
        await pilot.press("escape", "down", "2")
        assert notice.has_class("hidden")  # gg-02 has no open problem


async def test_core_refusal_is_shown_and_the_app_keeps_going(city, db, checklists):
    """Slow (about 2 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2", "ctrl+s")
        city.ok("issue", "fixed", "ZG-2026-0001", "--note", "已补设", "--date", "2026-11-18")
        await pilot.press("b", "1")
        assert "已进入整改流程" in screen(app).status_text
        assert screen(app).index == 0
        assert answers(app)["gg-01"].result is Result.FAIL
        await pilot.press("down", "1")
        assert answers(app)["gg-02"].result is Result.PASS


async def test_end_screen_fits_80_columns_and_finishes(db, checklists):
    """Slow (about 5 s): every item answered through the Textual app, a key press at a time."""
    app = run_app(db, checklists)
    total = len(app.session.items)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*["1"] * (total - 1))
        await pilot.press("2")
        # A long description must not widen the summary (inserted at once: typing it is slow).
        app.screen.query_one("#note", TextArea).insert("有人躺卧长椅，" * 20)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SummaryScreen)
        lines = text(app, "#summary").splitlines()
        assert any("发现的问题（1 项）" in line for line in lines)
        assert max(cell_len(line) for line in lines) <= 76
        await pilot.press("enter")  # Enter never finishes
        assert core.detail(db, app.session.detail.inspection.id).inspection.status == "open"
        await pilot.press("f")
        assert "检查完成" in text(app, "#summary")
        await pilot.press("enter")
    outcome = app.return_value
    assert outcome.finished and outcome.answered == total
    assert outcome.detail.inspection.finished


async def test_resuming_a_fully_answered_walk_opens_the_end_screen(city, db, checklists):
    """Slow (about 5 s): every item answered through the Textual app, a key press at a time."""
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["0"] * len(app.session.items), "q")
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, SummaryScreen)
        await pilot.press("b")
        assert isinstance(app.screen, RunScreen)
        await pilot.press("q")
    assert not app.return_value.finished


async def test_inspectors_are_asked_when_none_were_given(db, checklists):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists, inspectors=None)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, InspectorsScreen)
        await pilot.press("enter")
        assert "请填写检查人" in text(app, "#names-message")
        # As an input method delivers it: the whole phrase at once (the pilot cannot type 、).
        app.screen.query_one("#names", Input).insert_text_at_cursor("张三、李四")
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen)
        await pilot.press("1")
        saved = answers(app)
    assert next(iter(saved.values())).recorded_by == "张三、李四"
    assert app.session.inspectors == ["张三", "李四"]
    assert db.inspection(app.session.detail.inspection.id).inspectors == ["张三", "李四"]  # kept on it


async def test_unit_is_picked_from_the_register_by_pinyin_initials(db, checklists):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        unit = app.screen.query_one("#unit", Input)
        assert unit.value == "公交集团"  # the default: the site's own unit
        app.screen.set_focus(unit)
        unit.value = "scjg"
        await pilot.pause()
        matches = app.screen.query_one("#unit-matches", OptionList)
        assert str(matches.get_option_at_index(0).prompt) == "市场监管局"
        await pilot.press("down", "enter")
        assert unit.value == "市场监管局"
        await pilot.press("ctrl+s")
        saved = answers(app)["gg-01"]
    assert saved.unit == "市场监管局"
    assert db.problem("ZG-2026-0001").unit == "市场监管局"


async def test_unknown_unit_is_refused_inline(db, checklists):
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        app.screen.query_one("#unit", Input).value = "公交"
        await pilot.press("ctrl+s")
        assert "单位名录中没有“公交”" in text(app, "#form-error")
        assert screen(app).form_open
        assert answers(app)["gg-01"].unit is None
        assert db.problem("ZG-2026-0001").unit == "公交集团"


async def test_run_new_unit_takes_a_unit_not_in_the_register(db, checklists):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    app = run_app(db, checklists, new_unit=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        app.screen.query_one("#unit", Input).value = "公交公司"
        await pilot.press("ctrl+s")
        assert not screen(app).form_open
    assert answers(app)["gg-01"].unit == "公交公司"
    assert db.problem("ZG-2026-0001").unit == "公交公司"
    assert "公交公司" in [u.name for u in list_units(db)]


# --- recheck -------------------------------------------------------------------------


@pytest.fixture
def problems(city):
    """Three open problems at the site; the unit reported the second one fixed."""
    for item, note in (("gg-01", "广告缺失"), ("gg-02", "画面破损"), ("ss-01", "站牌缺线路")):
        city.ok("record", SITE, item, "不合格", "--note", note, "--date", "2026-11-10", "-i", "李四")
    city.ok("issue", "fixed", "ZG-2026-0002", "--note", "已更换画面", "--date", "2026-11-12", "--by", "公交集团")


def recheck_app(db) -> RecheckApp:
    site = resolve_site(db, SITE)
    queue = recheck_queue(db, site, DAY)
    return RecheckApp(RecheckSession(db, site, queue, DAY, "张三", media(db)))


async def test_recheck_pass_fail_skip(db, problems):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    app = recheck_app(db)
    # Reported fixes first.
    assert [p.no for p in app.session.problems] == ["ZG-2026-0002", "ZG-2026-0001", "ZG-2026-0003"]
    async with app.run_test(size=SIZE) as pilot:
        assert "单位上报整改" in text(app, "#problem") and "已更换画面" in text(app, "#problem")
        await pilot.press("1")
        await type_text(pilot, "画面已更换")
        await pilot.press("ctrl+s")
        assert db.problem("ZG-2026-0002").status is ProblemStatus.CLOSED
        assert screen(app).index == 1
        assert "单位尚未上报整改" in text(app, "#problem")
        await pilot.press("2", "ctrl+s")
        failed = db.problem("ZG-2026-0001")
        assert (failed.status, failed.recheck_count) == (ProblemStatus.OPEN, 1)
        await pilot.press("s")
        assert db.problem("ZG-2026-0003").recheck_count == 0
        await pilot.press("q")
    outcome = app.return_value
    assert outcome.events == {"ZG-2026-0002": "recheck_pass", "ZG-2026-0001": "recheck_open"}
    assert outcome.skipped == ["ZG-2026-0003"]
    assert (outcome.closed, outcome.failed, outcome.done) == (1, 1, 2)


async def test_recheck_pass_without_fix_report_needs_a_reason(db, problems):
    """Slow (about 2 s): the Textual app, a key press at a time (each is laid out again)."""
    app = recheck_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right")  # → skips too
        assert screen(app).index == 1
        await pilot.press("1")
        assert not app.screen.query_one("#reason-box").has_class("hidden")
        await pilot.press("ctrl+s")
        assert "强制销号须说明理由" in text(app, "#form-error")
        assert db.problem("ZG-2026-0001").status is ProblemStatus.OPEN
        await type_text(pilot, "现场已整改到位")
        await pilot.press("ctrl+s")
        assert db.problem("ZG-2026-0001").status is ProblemStatus.CLOSED
        await pilot.press("q")
    assert app.return_value.events == {"ZG-2026-0001": "force_close"}
    events = [e.action for e in db.problem_events(db.problem("ZG-2026-0001").id)]
    assert events[-1] == "force_close"


async def test_recheck_bad_photo_and_escape_save_nothing(db, problems, tmp_path):
    """Slow (about 3 s): the Textual app, a key press at a time (each is laid out again)."""
    app = recheck_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        app.screen.query_one("#photos Input", Input).value = str(tmp_path / "没有这张.jpg")
        await pilot.press("ctrl+s")
        assert "照片不存在" in text(app, "#form-error")
        await pilot.press("escape")
        assert not screen(app).form_open
        assert db.problem("ZG-2026-0002").status is ProblemStatus.FIXED
        await pilot.press("q")
    assert app.return_value.events == {}


async def test_recheck_end_screen(db, problems):
    """Slow (about 2 s): the Textual app, a key press at a time (each is laid out again)."""
    app = recheck_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "s", "s")
        summary = text(app, "#summary")
        assert "共 3 个问题，已复查 0 个" in summary
        assert max(cell_len(line) for line in summary.splitlines()) <= 76
        await pilot.press("enter")
    assert app.return_value.skipped == ["ZG-2026-0002", "ZG-2026-0001", "ZG-2026-0003"]


async def test_the_head_says_whether_the_week_plan_sends_a_pair_here(city, db, checklists):
    """Only when the week has a plan: 计划内 with the pair, or 计划外."""
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE):
        assert "计划" not in text(app, "#head")
    # 2026-W47 holds 11-18; all four 点位 (one per type, per-type 2) go to the one pair.
    city.ok("plan", "draw", "-w", "2026-W47", "-n", "2", "-i", "张三,李四", "--seed", "1")
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE):
        head = text(app, "#head")
        assert "计划内：2026-W47 第1组" in head and "张三" in head and "李四" in head
    city.ok("plan", "draw", "-w", "2026-W47", "-n", "1", "-i", "张三,李四", "-t", "农贸市场", "--seed", "1", "--force")
    app = run_app(db, checklists)
    async with app.run_test(size=SIZE):
        assert "计划外" in text(app, "#head")


async def test_the_planned_pair_is_filled_in_when_nobody_was_named(city, db, checklists):
    city.ok("plan", "draw", "-w", "2026-W47", "-n", "2", "-i", "王五,赵六", "--seed", "1")
    app = run_app(db, checklists, inspectors=None)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, InspectorsScreen)
        assert app.screen.query_one("#names", Input).value in ("王五、赵六", "赵六、王五")
        assert "已填入本周计划派来的检查组" in text(app, "#names-message")
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen)
    assert sorted(app.session.inspectors) == ["王五", "赵六"]
