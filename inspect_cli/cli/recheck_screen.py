"""`inspect-cli recheck SITE` as a full-screen Textual app: walk a 点位's unfinished problems.

Each re-check is committed the moment its form is saved, through `rectification.recheck`,
the same call as `issue recheck`; skipping or quitting changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.cells import cell_len
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static

from inspect_cli import dates
from inspect_cli import rectification as core
from inspect_cli.cli.screens_common import BASE_CSS, PhotoField, WalkScreen, fit, plain
from inspect_cli.errors import InputError, InspectError
from inspect_cli.models import Problem, ProblemStatus, Site
from inspect_cli.store import Store

# What the list shows for a problem once handled here; before that, its status.
EVENT_TEXT = {
    "recheck_pass": "已销号",
    "force_close": "强制销号",
    "recheck_fail": "未通过",
    "recheck_open": "仍未整改",
}
SKIPPED = "跳过"
_STATE_STYLE = {
    "已销号": "green",
    "强制销号": "green",
    "未通过": "bold red",
    "仍未整改": "yellow",
    SKIPPED: "dim",
    "待复查": "bold",
    "待整改": "",
    "长期整改": "dim",
}
SUMMARY_WIDTH = 74


@dataclass
class RecheckOutcome:
    """What happened on site: one event per problem re-checked, the problems skipped."""

    total: int
    events: dict[str, str] = field(default_factory=dict)  # problem no → recheck_pass / force_close / …
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False  # left with Ctrl+C: the CLI exits 130, every re-check saved is kept

    @property
    def closed(self) -> int:
        return sum(1 for e in self.events.values() if e in ("recheck_pass", "force_close"))

    @property
    def failed(self) -> int:
        return sum(1 for e in self.events.values() if e in ("recheck_fail", "recheck_open"))

    @property
    def done(self) -> int:
        return len(self.events)

    def summary(self) -> str:
        return core.recheck_summary(self.total, list(self.events.values()))


class RecheckSession:
    """The re-check walk's state and its calls into the core."""

    def __init__(
        self,
        store: Store,
        site: Site,
        problems: list[Problem],
        day: date | None,
        actor: str | None,
        media_dir: Path,
    ) -> None:
        self.store = store
        self.site = site
        self.problems = list(problems)
        self.day = day
        self.actor = actor
        self.media_dir = media_dir
        self.events: dict[str, str] = {}
        self.skipped: set[str] = set()

    def state(self, problem: Problem) -> str:
        if problem.no in self.events:
            return EVENT_TEXT[self.events[problem.no]]
        if problem.no in self.skipped:
            return SKIPPED
        return "待复查" if problem.status is ProblemStatus.FIXED else problem.status.label

    def needs_reason(self, problem: Problem) -> bool:
        """A pass on a problem the unit never reported fixed closes it by force: it needs a reason."""
        return problem.status is not ProblemStatus.FIXED

    def report_lines(self, problem: Problem) -> list[str]:
        """What the unit said: its fix report, else its latest progress note."""
        fixed = core.last_note(self.store, problem, "fixed")
        if problem.status is ProblemStatus.FIXED and fixed:
            by = f"，{fixed.actor}" if fixed.actor else ""
            photos = f"；照片 {len(fixed.photos)} 张" if fixed.photos else ""
            return [f"单位上报整改（{fixed.date}{by}）：{fixed.note or '—'}{photos}"]
        lines = ["单位尚未上报整改"]
        progress = core.last_note(self.store, problem, "progress")
        if progress:
            lines.append(f"单位反馈进度（{progress.date}）：{progress.note or '—'}")
        return lines

    def recheck(
        self, index: int, passed: bool, *, note: str, photos: list[Path] | None, reason: str | None
    ) -> core.Change:
        problem = self.problems[index]
        change = core.recheck(
            self.store,
            problem.no,
            passed,
            note=note,
            day=self.day,
            photos=photos,
            media_dir=self.media_dir,
            actor=self.actor,
            force=reason is not None,
            reason=reason,
        )
        self.problems[index] = change.problem
        self.events[problem.no] = change.event
        self.skipped.discard(problem.no)
        return change

    def skip(self, index: int) -> None:
        problem = self.problems[index]
        if problem.no not in self.events:
            self.skipped.add(problem.no)

    def outcome(self, interrupted: bool = False) -> RecheckOutcome:
        skipped = [p.no for p in self.problems if p.no in self.skipped]
        return RecheckOutcome(len(self.problems), dict(self.events), skipped, interrupted)


class RecheckForm(Vertical):
    """复查说明, photos and, for a forced close, the reason; committed in one `recheck` call."""

    DEFAULT_CSS = """
    RecheckForm { height: auto; border: round $warning; padding: 0 1; }
    RecheckForm #reason-box { height: auto; }
    RecheckForm #buttons { height: auto; margin-top: 1; }
    RecheckForm Button { margin-right: 2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="hidden")
        self.passed = False
        self.forced = False
        self.problem_index: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="form-title")
        with Vertical(id="reason-box"):
            yield Label("强制销号的理由（单位尚未上报整改，必填）", classes="label")
            yield Input(id="reason", compact=True)
        yield Label("复查说明（可留空）", classes="label")
        yield Input(id="note", compact=True)
        yield PhotoField("照片（可留空）", id="photos")
        yield Static("", id="form-error", classes="error")
        with Horizontal(id="buttons"):
            yield Button("保存 Ctrl+S", id="save", variant="primary")
            yield Button("返回 Esc", id="cancel")

    def load(self, index: int, problem: Problem, passed: bool, forced: bool) -> None:
        self.problem_index, self.passed, self.forced = index, passed, forced
        verdict = ("强制销号" if forced else "通过，销号") if passed else "未通过"
        self.query_one("#form-title", Static).update(
            plain((f"{problem.no} 复查{verdict}", "bold"), "（Ctrl+S 保存，Esc 返回列表）")
        )
        self.query_one("#reason-box").set_class(not forced, "hidden")
        self.query_one("#reason", Input).value = ""
        self.query_one("#note", Input).value = ""
        self.query_one(PhotoField).reset()
        self.error("")

    @property
    def first_field(self) -> Input:
        return self.query_one("#reason" if self.forced else "#note", Input)

    def reason(self) -> str | None:
        if not self.forced:
            return None
        text = self.query_one("#reason", Input).value
        if not text.strip():
            raise InputError("强制销号须说明理由（单位尚未上报整改）")
        return text

    @property
    def note(self) -> str:
        return self.query_one("#note", Input).value

    def error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(plain(message))


class RecheckSummaryScreen(Screen[None]):
    DEFAULT_CSS = f"""
    RecheckSummaryScreen {{ align: center top; }}
    RecheckSummaryScreen #summary-box {{
        width: {SUMMARY_WIDTH + 4}; height: auto; border: round $primary; padding: 0 1;
    }}
    """
    BINDINGS = [
        Binding("q,enter", "leave", "退出"),
        Binding("b,escape", "back", "返回"),
    ]

    def __init__(self, session: RecheckSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary-box"):
            yield Static("", id="summary")
        yield Footer()

    def on_mount(self) -> None:
        outcome = self.session.outcome()
        lines = [fit(line, SUMMARY_WIDTH) for line in summary_lines(self.session, outcome)]
        self.query_one("#summary", Static).update(plain("\n".join(lines), "\n\n", ("q / Enter 退出 · b 返回", "dim")))

    def action_leave(self) -> None:
        _leave(self)

    def action_back(self) -> None:
        self.dismiss()


def summary_lines(session: RecheckSession, outcome: RecheckOutcome) -> list[str]:
    lines = [f"{session.site.code} {session.site.name} 复查", outcome.summary(), ""]
    for problem in session.problems:
        lines.append(f"  {problem.no} {session.state(problem)}：{problem.description or problem.item_text}")
    return lines


class RecheckScreen(WalkScreen):
    DEFAULT_CSS = """
    RecheckScreen #head { height: auto; padding: 0 1; background: $boost; }
    RecheckScreen #body { height: 1fr; }
    RecheckScreen #items { width: 2fr; min-width: 28; max-width: 48; height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    RecheckScreen #side { width: 3fr; height: 1fr; padding: 0 1; }
    RecheckScreen #problem { height: auto; }
    """
    BINDINGS = [
        Binding("1", "judge(True)", "通过销号"),
        Binding("2", "judge(False)", "未通过"),
        Binding("s,right", "skip", "跳过"),
        Binding("q", "leave", "退出"),
        Binding("ctrl+s", "save_form", "保存"),
        Binding("escape", "close_form", "返回列表"),
    ]

    def __init__(self, session: RecheckSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Static("", id="head")
        with Horizontal(id="body"):
            yield OptionList(*[self._row(i) for i in range(len(self.session.problems))], id="items", markup=False)
            with VerticalScroll(id="side"):
                yield Static("", id="problem")
                yield RecheckForm(id="form")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.items_list.highlighted = 0
        self.set_focus(self.items_list)
        self.show_current()
        self.say("按 1 通过销号 · 2 未通过 · s 或 → 跳过 · q 退出")

    def _row(self, index: int) -> Content:
        problem = self.session.problems[index]
        state = self.session.state(problem)
        padded = state + " " * (9 - cell_len(state))
        return plain((padded, _STATE_STYLE.get(state, "")), problem.item_text)

    @property
    def problem(self) -> Problem:
        return self.session.problems[self.index]

    def show_current(self) -> None:
        session, problem = self.session, self.problem
        done = len(session.events)
        self.query_one("#head", Static).update(
            plain(
                (f"复查 {session.site.code} {session.site.name}", "bold"),
                f" · 共 {len(session.problems)} 个未销号问题 · 已复查 {done}",
            )
        )
        late = problem.overdue_days(session.day or dates.today())
        status = problem.status_label + (f"，逾期 {late} 天" if late else "")
        parts: list[str | tuple[str, str] | None] = [
            (f"[{self.index + 1}/{len(session.problems)}] {problem.no} · {status} · 时限 {problem.deadline}", "bold"),
            "\n",
            (f"{problem.item_id} {problem.item_text}", "bold"),
            "\n",
            f"问题：{problem.description or '—'}（{problem.severity.label}，{problem.count} 处，{problem.found_date} 发现）",
            "\n",
            f"责任单位：{problem.unit or '未指定'}",
        ]
        for line in session.report_lines(problem):
            parts += ["\n", (line, "cyan")]
        if problem.no in session.events:
            parts += ["\n", (f"本次：{core.RECHECK_WORDS[session.events[problem.no]]}", "yellow")]
        self.query_one("#problem", Static).update(plain(*parts))

    def refresh_row(self, index: int) -> None:
        self.items_list.replace_option_prompt_at_index(index, self._row(index))

    def at_end(self) -> None:
        self.app.push_screen(RecheckSummaryScreen(self.session))

    @on(OptionList.OptionSelected, "#items")
    def _selected(self) -> None:
        self.say("Enter 不记录复查结果：请按 1 通过销号 · 2 未通过 · s 跳过")

    def action_judge(self, passed: bool) -> None:
        problem = self.problem
        form = self.query_one(RecheckForm)
        forced = passed and self.session.needs_reason(problem)
        form.load(self.index, problem, passed, forced)
        self.show_form(form.first_field)
        self.say("填写后按 Ctrl+S 保存（保存即生效），Esc 返回列表（不保存）")

    def action_skip(self) -> None:
        self.session.skip(self.index)
        self.refresh_row(self.index)
        self.go(self.index + 1)

    def action_leave(self) -> None:
        _leave(self)

    def action_close_form(self) -> None:
        self.hide_form()
        self.say(f"未保存 {self.problem.no} 的复查")

    def action_save_form(self) -> None:
        form = self.query_one(RecheckForm)
        index = form.problem_index
        if index is None:
            return
        try:
            reason = form.reason()
            photos = form.query_one(PhotoField).paths()
            change = self.session.recheck(index, form.passed, note=form.note, photos=photos, reason=reason)
        except InspectError as exc:
            form.error(exc.message)
            self.say(f"未保存：{exc.message}", error=True)
            return
        self.hide_form()
        self.refresh_row(index)
        self.say(f"{change.problem.no}：{core.RECHECK_WORDS[change.event]}")
        self.go(index + 1)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save_form()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_close_form()

    @on(Input.Submitted, "#reason, #note")
    def _next_field(self) -> None:
        # Enter moves to the next field; only Ctrl+S (or the 保存 button) commits a re-check.
        self.focus_next()


def _leave(screen: Screen, interrupted: bool = False) -> None:
    app = screen.app
    assert isinstance(app, RecheckApp)
    app.exit(app.session.outcome(interrupted))


class RecheckApp(App[RecheckOutcome]):
    """`inspect-cli recheck SITE` on one screen."""

    TITLE = "inspect-cli recheck"
    CSS = BASE_CSS
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "中断", show=False, priority=True),
        Binding("ctrl+q", "quit_saved", "退出", show=False, priority=True),
    ]

    def __init__(self, session: RecheckSession) -> None:
        super().__init__()
        self.session = session

    def get_default_screen(self) -> Screen:
        return RecheckScreen(self.session)

    def action_interrupt(self) -> None:
        self.exit(self.session.outcome(interrupted=True))

    def action_quit_saved(self) -> None:
        self.exit(self.session.outcome())


def recheck_screen(
    store: Store,
    site: Site,
    problems: list[Problem],
    *,
    day: date | None,
    actor: str | None,
    media_dir: Path,
) -> RecheckOutcome:
    """Re-check `problems` (from `rectification.recheck_queue`, not empty) full-screen.

    Returns what was done; every re-check was committed when its form was saved.
    """
    if not problems:
        raise ValueError("recheck_screen needs at least one problem; say so without starting the app")
    app = RecheckApp(RecheckSession(store, site, problems, day, actor, media_dir))
    outcome = app.run()
    if outcome is None:
        raise RuntimeError("复查界面意外退出（已保存的复查均有效）") from getattr(app, "_exception", None)
    return outcome
