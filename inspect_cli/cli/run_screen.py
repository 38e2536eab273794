"""`inspect-cli run` as a full-screen Textual app: the item list, the current item and the answer form.

The screen is a thin layer over `inspection.record`: every key that answers an item calls it
once, at once, exactly as `record` on the command line does, so a laptop that dies mid-walk
loses nothing and `run SITE` again resumes at the first unanswered item. Enter never
answers anything: a result is only ever given by 1, 2, 3 or 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.cells import cell_len
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, OptionList, RadioButton, RadioSet, Static, TextArea

from inspect_cli import inspection as core
from inspect_cli.checklist import ChecklistSet, Item
from inspect_cli.cli.screens_common import BASE_CSS, InspectorsScreen, PhotoField, WalkScreen, fit, plain
from inspect_cli.config import RectificationSettings
from inspect_cli.errors import InputError, InspectError
from inspect_cli.models import InspectionDetail, Problem, Result, ResultRecord, Site, needs_photo
from inspect_cli.plans import plan_note
from inspect_cli.rectification import responsible_unit
from inspect_cli.scoring import Score, format_points, format_rate, score_inspection
from inspect_cli.store import Store

# What the list shows for an item; 照片缺 wins over the result because it still needs doing.
STATE_TEXT = {None: "未填", Result.PASS: "合格", Result.FAIL: "不合格", Result.SEVERE: "严重", Result.NA: "不适用"}
PHOTO_MISSING = "照片缺"
_STATE_STYLE = {
    "未填": "dim",
    "合格": "green",
    "不合格": "yellow",
    "严重": "bold red",
    "不适用": "dim",
    PHOTO_MISSING: "bold red",
}
# The end screen and the plain summary fit an 80-column terminal with its border and padding.
SUMMARY_WIDTH = 74


@dataclass
class RunOutcome:
    """How the walk ended, read back from the database after the app closed."""

    detail: InspectionDetail
    finished: bool  # finished (and scored) in the app
    interrupted: bool = False  # left with Ctrl+C: the CLI exits 130, everything answered is saved
    inspectors: list[str] = field(default_factory=list)  # names given with -i or typed at the start

    @property
    def total(self) -> int:
        return len(self.detail.items)

    @property
    def answered(self) -> int:
        return len(self.detail.results)

    @property
    def score(self) -> Score:
        return score_inspection(self.detail.items, self.detail.results)

    @property
    def photo_missing(self) -> list[Item]:
        return self.detail.photo_missing


def summary_lines(detail: InspectionDetail, width: int = SUMMARY_WIDTH, *, on_screen: bool = True) -> list[str]:
    """The end of a walk in lines no wider than `width` cells: score, counts, failures, photos missing.

    `on_screen`: shown inside the app (keys still work) or printed after it closed.
    """
    inspection = detail.inspection
    score = score_inspection(detail.items, detail.results)
    lines = [
        fit(f"{inspection.no} · {inspection.site_code} {inspection.site_name} · {inspection.date}", width),
        f"得分 {format_points(score.earned)} / {format_points(score.full)}    得分率 {format_rate(score.rate)}",
        f"合格 {score.passed} · 不合格 {score.failed} · 严重不合格 {score.severe} · 不适用 {score.na}"
        f" · 未填 {len(detail.unanswered)}（共 {len(detail.items)} 项）",
    ]
    failures = [(item, detail.results[item.id]) for item in detail.items if item.id in detail.results]
    failures = [(item, answer) for item, answer in failures if answer.result.failing]
    if failures:
        lines += ["", f"发现的问题（{len(failures)} 项）："]
        for item, answer in failures:
            count = f" {answer.count} 处" if answer.result is Result.FAIL else ""
            what = answer.note or item.text
            lines.append(fit(f"  {item.id} {answer.result.label}{count}：{what}", width))
    missing = detail.photo_missing
    if missing:
        lines += ["", fit(f"⚠ 需拍照取证但还没有照片：{'、'.join(i.id for i in missing)}", width)]
        how = (
            "按 b 返回该项，再按 2 或 3 打开问题表单补充照片"
            if on_screen
            else f"再次运行 inspect-cli run {inspection.site_code}，在该项按 2 或 3 补充照片"
        )
        if on_screen or not inspection.finished:  # a finished inspection takes no more photos
            lines.append(fit(f"  {how}", width))
    return lines


class RunSession:
    """The walk's state and every call into the core; the widgets only show it."""

    def __init__(
        self,
        store: Store,
        checklists: ChecklistSet,
        site: Site,
        detail: InspectionDetail,
        resumed: bool,
        inspectors: list[str] | None,
        settings: RectificationSettings,
        media_dir: Path,
        new_unit: bool = False,
    ) -> None:
        self.store = store
        self.new_unit = new_unit  # `run --new-unit`: a unit typed in the form may be a new one
        self.checklists = checklists
        self.site = site
        self.detail = detail
        self.resumed = resumed
        self.inspectors = [n for n in inspectors or [] if n and n.strip()]
        self.settings = settings
        self.media_dir = media_dir
        # Whether the week's 双随机 plan sends a pair here (None: no plan this week), and which.
        self.plan_note = plan_note(store, site.id, detail.inspection.date)
        visit = store.planned_visit(site.id, detail.inspection.date)
        self.planned_pair: list[str] = visit["inspectors"] if visit else []

    @property
    def items(self) -> list[Item]:
        return self.detail.items

    @property
    def needs_inspectors(self) -> bool:
        return not self.inspectors and not self.detail.inspection.inspectors

    def start_index(self) -> int:
        """Where the walk starts: the first unanswered item (as the line-based run did)."""
        first = self.detail.first_unanswered()
        return len(self.items) if first is None else first

    def set_inspectors(self, names: list[str]) -> None:
        """Names typed at the start: sent with every answer and kept on the inspection."""
        self.inspectors = names
        self.detail.inspection = core.add_inspectors(self.store, self.detail.inspection, names)

    def answer(self, item: Item) -> ResultRecord | None:
        return self.detail.results.get(item.id)

    def state(self, item: Item) -> str:
        answer = self.answer(item)
        if needs_photo(item, answer):
            return PHOTO_MISSING
        return STATE_TEXT[answer.result if answer else None]

    def record(
        self,
        item: Item,
        result: Result,
        *,
        count: int = 1,
        note: str | None = None,
        unit: str | None = None,
        photos: list[Path] | None = None,
    ) -> ResultRecord:
        """One answer through the same core call `inspect-cli record` makes; committed on return."""
        saved = core.record(
            self.store,
            self.detail.inspection,
            item.id,
            result,
            count=count,
            note=note,
            photos=photos,
            media_dir=self.media_dir,
            inspectors=self.inspectors or None,
            unit=unit,
            new_unit=self.new_unit,
            settings=self.settings,
        )
        self.detail.results[item.id] = saved
        return saved

    def give(self, item: Item, result: Result) -> ResultRecord:
        """A result key: a failure keeps the description, count and unit already saved, so
        switching 严重不合格 ↔ 不合格 from the list loses nothing."""
        current = self.answer(item)
        if result.failing and current and current.result.failing:
            return self.record(item, result, count=current.count, note=current.note, unit=current.unit)
        return self.record(item, result)

    def default_unit(self, item: Item) -> str | None:
        current = self.answer(item)
        return responsible_unit(item, self.site, current.unit if current else None)

    def open_problem(self, item: Item) -> Problem | None:
        """An unfinished problem for this 点位 and item found by an earlier inspection."""
        problem = self.store.active_problem(self.site.id, item.id)
        if problem is None or problem.inspection_no == self.detail.inspection.no:
            return None
        return problem

    def resolve_unit(self, text: str) -> str:
        """The register's name for what was typed; an unknown name is refused, with close names."""
        from inspect_cli import units  # pypinyin and the register only once a unit is typed

        try:
            return units.resolve_unit(self.store, text)
        except units.UnknownUnitError as exc:
            if self.new_unit:  # taken as typed; `record` adds it with the answer, in one transaction
                return text.strip()
            # The core's message names a command-line option; here the list is the way.
            hint = f"（是否想写 {'、'.join(exc.suggestions)}？）" if exc.suggestions else ""
            raise InputError(
                f"单位名录中没有“{text.strip()}”{hint}；请从列表中选择，新单位请先用 inspect-cli unit add 加入名录"
            ) from None

    def search_units(self, text: str) -> list[str]:
        if not text.strip():
            return []
        from inspect_cli import units

        try:
            return [u.name for u in units.search_units(self.store, text, limit=20)]
        except InspectError:
            return []  # a search that cannot run lists nothing; saving names the problem

    def finish(self) -> None:
        self.detail = core.finish(self.store, self.detail.inspection)

    def reload(self) -> InspectionDetail:
        self.detail = core.detail(self.store, self.detail.inspection.id)
        return self.detail


# --- widgets -----------------------------------------------------------------------


class UnitPicker(Vertical):
    """责任单位: the default shown; a name fragment or pinyin initials lists registered units."""

    DEFAULT_CSS = """
    UnitPicker { height: auto; }
    UnitPicker #unit-matches { height: auto; max-height: 5; }
    """
    BINDINGS = [Binding("down", "matches", show=False)]

    def __init__(self, session: RunSession, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.default: str | None = None

    def compose(self) -> ComposeResult:
        yield Label("责任单位（可输入名称或拼音首字母查找，↓ 选择）", classes="label")
        yield Input(id="unit", compact=True)
        yield OptionList(id="unit-matches", markup=False, classes="hidden")

    @property
    def input(self) -> Input:
        return self.query_one("#unit", Input)

    @property
    def matches(self) -> OptionList:
        return self.query_one("#unit-matches", OptionList)

    def load(self, default: str | None) -> None:
        self.default = default
        with self.input.prevent(Input.Changed):
            self.input.value = default or ""
        self.input.placeholder = "未指定" if not default else ""
        self.matches.add_class("hidden")

    @on(Input.Changed, "#unit")
    def _search(self, event: Input.Changed) -> None:
        text = event.value.strip()
        names = [] if text == (self.default or "") else self.session.search_units(text)
        self.matches.set_options(names)
        self.matches.set_class(not names, "hidden")

    def action_matches(self) -> None:
        if self.input.has_focus and not self.matches.has_class("hidden"):
            self.matches.highlighted = 0
            self.screen.set_focus(self.matches)

    @on(OptionList.OptionSelected, "#unit-matches")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # picking a unit is not the item list's Enter
        with self.input.prevent(Input.Changed):
            self.input.value = str(event.option.prompt)
        self.matches.add_class("hidden")
        self.screen.set_focus(self.input)

    def chosen(self, keep: str | None) -> str | None:
        """The unit to record: `keep` (the override saved so far) while the default stands."""
        text = self.input.value.strip()
        if not text or text == (self.default or ""):
            return keep
        return self.session.resolve_unit(text)


class FailureForm(Vertical):
    """问题描述, 数量, 严重程度, 责任单位 and photos of one failing item; saved in one `record` call."""

    DEFAULT_CSS = """
    FailureForm { height: auto; border: round $warning; padding: 0 1; }
    FailureForm #note { height: 4; }
    FailureForm #count-row { height: auto; }
    FailureForm .count-box { width: auto; height: auto; }
    FailureForm #count { width: 12; }
    FailureForm #severity { width: auto; height: auto; margin: 1 0 0 2; }
    FailureForm #severity RadioButton { width: auto; }
    FailureForm #buttons { height: auto; margin-top: 1; }
    FailureForm Button { margin-right: 2; }
    """

    def __init__(self, session: RunSession, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="hidden")
        self.session = session
        self.item: Item | None = None
        self._severity = Result.FAIL

    def compose(self) -> ComposeResult:
        yield Static("", id="form-title")
        yield Static("", id="existing", classes="notice hidden")
        yield Label("问题描述", classes="label")
        yield TextArea(id="note", soft_wrap=True, tab_behavior="focus", compact=True)
        with Horizontal(id="count-row"):
            with Vertical(classes="count-box"):
                yield Label("数量（处，1–999）", classes="label")
                yield Input("1", id="count", restrict=r"[0-9]*", max_length=3, compact=True)
            with RadioSet(id="severity"):
                yield RadioButton("不合格", id="sev-fail")
                yield RadioButton("严重不合格", id="sev-severe")
        yield UnitPicker(self.session, id="unit-picker")
        yield PhotoField("照片（需拍照的项目请务必提供）", id="photos")
        yield Static("", id="form-error", classes="error")
        with Horizontal(id="buttons"):
            yield Button("保存 Ctrl+S", id="save", variant="primary")
            yield Button("返回 Esc", id="cancel")

    def load(self, item: Item, saved: ResultRecord) -> None:
        self.item = item
        self.query_one("#form-title", Static).update(
            plain((f"{item.id} {saved.result.label} · 填写问题", "bold"), "（Ctrl+S 保存，Esc 返回列表）")
        )
        existing = self.session.open_problem(item)
        notice = self.query_one("#existing", Static)
        if existing:
            what = f"：{existing.description}" if existing.description else ""
            notice.update(
                plain(f"已有未销号问题 {existing.no}（{existing.status_label}）{what}；保存后记为该问题的重复发现")
            )
        notice.set_class(existing is None, "hidden")
        self.query_one("#note", TextArea).load_text(saved.note or "")
        self.query_one("#count", Input).value = str(saved.count)
        # The form keeps the choice itself: the radio set switches its other button later, and
        # a Ctrl+S right after 2 must not read the previous item's choice.
        self._severity = saved.result
        button = "#sev-severe" if saved.result is Result.SEVERE else "#sev-fail"
        self.query_one(button, RadioButton).value = True
        self.query_one(UnitPicker).load(self.session.default_unit(item))
        have = f"已有 {len(saved.photos)} 张照片；填写路径将替换全部照片" if saved.photos else ""
        if not saved.photos and item.photo_required:
            have = "此项要求拍照取证"
        self.query_one(PhotoField).reset(have)
        self.error("")

    @property
    def severity(self) -> Result:
        return self._severity

    @on(RadioSet.Changed, "#severity")
    def _severity_changed(self, event: RadioSet.Changed) -> None:
        self._severity = Result.SEVERE if event.pressed.id == "sev-severe" else Result.FAIL

    @property
    def note(self) -> str:
        return self.query_one("#note", TextArea).text

    def count(self) -> int:
        raw = self.query_one("#count", Input).value.strip()
        if not raw.isdigit() or not 1 <= int(raw) <= core.MAX_COUNT:
            raise InputError(f"问题数量应为 1–{core.MAX_COUNT} 的整数，收到 '{raw}'")
        return int(raw)

    def error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(plain(message))


class SummaryScreen(Screen[str]):
    """The end of the walk: score, counts, failures, photos missing; finishing is one explicit key."""

    DEFAULT_CSS = f"""
    SummaryScreen {{ align: center top; }}
    SummaryScreen #summary-box {{ width: {SUMMARY_WIDTH + 4}; height: auto; border: round $primary; padding: 0 1; }}
    SummaryScreen #summary-keys {{ margin-top: 1; }}
    """
    BINDINGS = [
        Binding("f", "finish", "完成检查"),
        Binding("b,escape", "back", "返回修改"),
        Binding("q", "leave", "保存退出"),
        Binding("enter", "close", "退出", show=False),
    ]

    def __init__(self, session: RunSession) -> None:
        super().__init__()
        self.session = session
        self.finished = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary-box"):
            yield Static("", id="summary")
            yield Static("", id="summary-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_summary()

    def refresh_summary(self) -> None:
        detail = self.session.reload()
        lines = summary_lines(detail)
        if self.finished:
            title, keys = "检查完成，已计分", "q / Enter 退出"
        elif detail.unanswered:
            title = f"尚有 {len(detail.unanswered)} 项未填写"
            keys = "b 返回填写 · q 保存退出（下次 run 从未填项继续）"
        else:
            title, keys = "全部检查项已填写", "f 完成检查并计分 · b 返回修改 · q 保存退出（暂不完成）"
        self.query_one("#summary", Static).update(plain((title, "bold"), "\n", "\n".join(lines)))
        self.query_one("#summary-keys", Static).update(plain(keys))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "finish":
            return not self.finished and not self.session.detail.unanswered
        if action == "back":
            return not self.finished
        if action == "close":
            # Enter only closes a finished inspection; it never finishes or answers anything.
            return self.finished
        return True

    def action_finish(self) -> None:
        try:
            self.session.finish()
        except InspectError as exc:
            self.query_one("#summary-keys", Static).update(plain((exc.message, "red")))
            return
        self.finished = True
        self.refresh_summary()
        self.refresh_bindings()

    def action_back(self) -> None:
        self.dismiss("back")

    def action_leave(self) -> None:
        _leave(self, finished=self.finished)

    def action_close(self) -> None:
        self.action_leave()


class RunScreen(WalkScreen):
    """The item list, the current item and, for a failure, the form."""

    DEFAULT_CSS = """
    RunScreen #head { height: auto; padding: 0 1; background: $boost; }
    RunScreen #body { height: 1fr; }
    RunScreen #items { width: 2fr; min-width: 28; max-width: 48; height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    RunScreen #side { width: 3fr; height: 1fr; padding: 0 1; }
    RunScreen #item { height: auto; }
    """
    BINDINGS = [
        Binding("1", "answer('pass')", "合格"),
        Binding("2", "answer('fail')", "不合格"),
        Binding("3", "answer('severe')", "严重不合格"),
        Binding("0", "answer('na')", "不适用"),
        Binding("b", "back", "上一项"),
        Binding("f", "summary", "结束"),
        Binding("q", "leave", "保存退出"),
        Binding("ctrl+s", "save_form", "保存", show=True),
        Binding("escape", "close_form", "返回列表", show=True),
    ]

    def __init__(self, session: RunSession) -> None:
        super().__init__()
        self.session = session
        self._start = min(session.start_index(), len(session.items) - 1)

    def compose(self) -> ComposeResult:
        yield Static("", id="head")
        with Horizontal(id="body"):
            yield OptionList(*[self._row(i) for i in range(len(self.session.items))], id="items", markup=False)
            with VerticalScroll(id="side"):
                yield Static("", id="item")
                yield FailureForm(self.session, id="form")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.items_list.highlighted = self._start
        self.set_focus(self.items_list)
        self.show_current()
        if self.session.resumed:
            done = len(self.session.detail.results)
            self.say(f"继续检查：已填写 {done}/{len(self.session.items)} 项，从第 {self.index + 1} 项开始")
        else:
            self.say("按 1 合格 · 2 不合格 · 3 严重不合格 · 0 不适用；↑↓ 或 b 移动；q 保存退出")

    # --- showing -------------------------------------------------------------------

    def _row(self, index: int) -> Content:
        item = self.session.items[index]
        state = self.session.state(item)
        # States are two or three wide characters; pad to one column so the texts line up.
        padded = state + " " * (7 - cell_len(state))
        return plain((f"{index + 1:>2} ", "dim"), (padded, _STATE_STYLE[state]), item.text)

    @property
    def item(self) -> Item:
        return self.session.items[self.index]

    def show_current(self) -> None:
        session, item = self.session, self.item
        inspection = session.detail.inspection
        score = score_inspection(session.items, session.detail.results)
        names = "、".join(session.inspectors or inspection.inspectors) or "未填写"
        self.query_one("#head", Static).update(
            plain(
                (f"{inspection.no}", "bold"),
                f" · {inspection.site_code} {inspection.site_name} · {inspection.date} · {names}"
                f" · 已填 {len(session.detail.results)}/{len(session.items)}"
                f" · 得分率 {format_rate(score.rate)}",
                *([f"\n{session.plan_note}"] if session.plan_note else []),
            )
        )
        head = f"[{self.index + 1}/{len(session.items)}] {item.id} · {item.category} · {format_points(item.score)} 分"
        if item.deduct is not None and item.deduct != item.score:
            head += f"（每处扣 {format_points(item.deduct)} 分）"
        if item.photo_required:
            head += " · 需拍照"
        parts: list[str | tuple[str, str] | None] = [(head, "bold"), "\n", (item.text, "bold")]
        if item.indicator:
            parts += ["\n", (f"测评项目：{item.indicator}", "dim")]
        if item.standard:
            parts += ["\n", f"标准：{item.standard}"]
        if item.tips:
            parts += ["\n", (f"提示：{item.tips}", "cyan")]
        answer = session.answer(item)
        if answer:
            parts += ["\n", (f"当前：{self._answer_text(item, answer)}", "yellow")]
        else:
            parts += ["\n", ("当前：未填写", "dim")]
        self.query_one("#item", Static).update(plain(*parts))

    def _answer_text(self, item: Item, answer: ResultRecord) -> str:
        text = answer.result.label
        if answer.result.failing:
            if answer.result is Result.FAIL:
                text += f"，{answer.count}处"
            text += f"，{answer.note}" if answer.note else "，未填写问题描述"
            text += f"；照片 {len(answer.photos)} 张" if answer.photos else ""
            if needs_photo(item, answer):
                text += "；需拍照取证，尚无照片"
            unit = self.session.default_unit(item)
            text += f"；责任单位 {unit}" if unit else "；未指定责任单位"
        return text

    def refresh_row(self, index: int) -> None:
        self.items_list.replace_option_prompt_at_index(index, self._row(index))

    @on(OptionList.OptionSelected, "#items")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        # Enter on an item answers nothing: results come only from 1, 2, 3 and 0.
        self.say("Enter 不记录结果：请按 1 合格 · 2 不合格 · 3 严重不合格 · 0 不适用")

    def at_end(self) -> None:
        self.action_summary()

    def action_back(self) -> None:
        self.go(self.index - 1)

    def action_summary(self) -> None:
        def back(_: str | None) -> None:
            first = self.session.detail.first_unanswered()
            self.go(first if first is not None else len(self.session.items) - 1)
            for index in range(len(self.session.items)):
                self.refresh_row(index)

        self.app.push_screen(SummaryScreen(self.session), back)

    def action_leave(self) -> None:
        _leave(self, finished=False)

    # --- answering -----------------------------------------------------------------

    def action_answer(self, value: str) -> None:
        item, result = self.item, Result(value)
        try:
            saved = self.session.give(item, result)
        except InspectError as exc:
            self.say(exc.message, error=True)
            return
        self.refresh_row(self.index)
        self.show_current()
        if result.failing:
            self.open_form(item, saved)
            return
        self.say(f"已保存 {item.id}：{result.label}")
        self.go(self.index + 1)

    def open_form(self, item: Item, saved: ResultRecord) -> None:
        form = self.query_one(FailureForm)
        form.load(item, saved)
        self.show_form(form.query_one("#note", TextArea))
        self.say(f"已保存 {item.id}：{saved.result.label}；填写问题后按 Ctrl+S 保存，Esc 返回列表（结果已保存）")

    def action_close_form(self) -> None:
        self.hide_form()
        self.say(f"已返回列表；{self.item.id} 的结果已保存，问题内容以最后一次保存为准")

    def action_save_form(self) -> None:
        form = self.query_one(FailureForm)
        item = form.item
        if item is None:
            return
        current = self.session.answer(item)
        try:
            count = form.count()
            photos = form.query_one(PhotoField).paths()
            unit = form.query_one(UnitPicker).chosen(current.unit if current else None)
            saved = self.session.record(item, form.severity, count=count, note=form.note, unit=unit, photos=photos)
        except InspectError as exc:
            form.error(exc.message)
            self.say(f"未保存：{exc.message}", error=True)
            return
        self.hide_form()
        position = self.session.items.index(item)
        self.refresh_row(position)
        photos_text = f"，照片 {len(saved.photos)} 张" if saved.photos else ""
        self.say(f"已保存 {item.id}：{saved.result.label}{photos_text}")
        self.go(position + 1)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save_form()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_close_form()

    @on(Input.Submitted, "#count, #unit")
    def _next_field(self) -> None:
        # Enter in a form field moves on; it never saves or answers.
        self.focus_next()


def _leave(screen: Screen, *, finished: bool) -> None:
    app = screen.app
    assert isinstance(app, RunApp)
    app.exit(app.outcome(finished=finished))


class RunApp(App[RunOutcome]):
    """`inspect-cli run` on one screen."""

    TITLE = "inspect-cli run"
    CSS = BASE_CSS
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "中断", show=False, priority=True),
        Binding("ctrl+q", "quit_saved", "保存退出", show=False, priority=True),
    ]

    def __init__(self, session: RunSession) -> None:
        super().__init__()
        self.session = session
        self.interrupted = False

    def get_default_screen(self) -> Screen:
        return RunScreen(self.session)

    def on_mount(self) -> None:
        if self.session.needs_inspectors:
            self.push_screen(InspectorsScreen(self.session.planned_pair), self._inspectors)
        else:
            self._started()

    def _started(self) -> None:
        # Resuming a walk with every item answered goes straight to the end screen.
        if self.session.start_index() >= len(self.session.items):
            self.run_screen.action_summary()

    @property
    def run_screen(self) -> RunScreen:
        return next(s for s in self.screen_stack if isinstance(s, RunScreen))

    def _inspectors(self, names: list[str] | None) -> None:
        if names:
            try:
                self.session.set_inspectors(names)
            except InspectError as exc:
                self.run_screen.say(exc.message, error=True)
                return
            self.run_screen.say(f"检查人：{'、'.join(names)}")
        self.run_screen.show_current()
        self._started()

    def outcome(self, *, finished: bool) -> RunOutcome:
        detail = self.session.reload()
        return RunOutcome(detail, finished, self.interrupted, list(self.session.inspectors))

    def action_interrupt(self) -> None:
        self.interrupted = True
        self.exit(self.outcome(finished=False))

    def action_quit_saved(self) -> None:
        self.exit(self.outcome(finished=False))


def run_screen(
    store: Store,
    checklists: ChecklistSet,
    site: Site,
    detail: InspectionDetail,
    resumed: bool,
    inspectors: list[str] | None,
    settings: RectificationSettings,
    media_dir: Path,
    new_unit: bool = False,
) -> RunOutcome:
    """Walk `detail` (from `inspection.start`) full-screen; every answer is saved as it is given.

    Returns how it ended, read back from the database. An error inside the app that is not
    ours (a bug) is raised again here after the terminal is restored.
    """
    app = RunApp(RunSession(store, checklists, site, detail, resumed, inspectors, settings, media_dir, new_unit))
    outcome = app.run()
    if outcome is None:
        raise RuntimeError("检查界面意外退出（已填写的答案均已保存）") from getattr(app, "_exception", None)
    return outcome
