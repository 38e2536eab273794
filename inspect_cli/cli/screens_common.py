"""What the full-screen `run` and `recheck` share: plain text, the photo field, the inspectors prompt.

Only the screen modules import this (and so Textual); the rest of the CLI never does, which keeps
`inspect-cli --help` light.
"""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static

from inspect_cli.errors import InputError
from inspect_cli.media import check_photo, split_photo_paths
from inspect_cli.text import for_terminal

# The stylesheet both apps start from: a dim label above each field, a red line for errors.
BASE_CSS = """
Screen { layout: vertical; }
.label { color: $text-muted; margin-top: 1; }
.error { color: $error; }
.ok { color: $success; }
.notice { color: $warning; text-style: bold; }
.hidden { display: none; }
#status { height: auto; max-height: 3; padding: 0 1; }
"""


def plain(*parts: str | tuple[str, str] | None) -> Content:
    """Content from stored or YAML text: never read as markup, terminal controls removed.

    A `[不适用]` in a description stays text, and an escape sequence saved by an older
    version cannot reach the terminal.
    """
    pieces: list[str | tuple[str, str]] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, tuple):
            pieces.append((for_terminal(part[0]), part[1]))
        else:
            pieces.append(for_terminal(part))
    return Content.assemble(*pieces)


def fit(text: str, width: int) -> str:
    """One line cut to `width` terminal cells (a Chinese character takes two), with an ellipsis."""
    text = for_terminal(text).replace("\n", " ")
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        size = cell_len(char)
        if used + size > width - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


def content_text(widget: Static) -> str:
    """The plain text a Static shows (tests and the summary read it)."""
    value = widget.content
    return value.plain if isinstance(value, Content) else str(value)


def parse_names(text: str) -> list[str]:
    """Inspector names typed on one line, split at commas (half or full width) and 、."""
    from inspect_cli.inspection import split_names

    return split_names([text])


def checked_photos(text: str) -> list[Path]:
    """The photo paths on one line, each checked as an image; raises with every bad path named."""
    paths = split_photo_paths(text)
    problems = []
    for path in paths:
        try:
            check_photo(path)
        except InputError as exc:
            problems.append(exc.message)
    if problems:
        raise InputError("\n".join(problems))
    return paths


class PhotoField(Vertical):
    """A photo path input: quoted, dragged-in and Windows paths; each file checked as it is given.

    The check runs when Enter is pressed, shortly after typing or pasting stops, and again
    before saving, so a bad path is shown next to the field and never reaches the database.
    """

    DEFAULT_CSS = """
    PhotoField { height: auto; }
    PhotoField Input { width: 1fr; }
    PhotoField .photo-message { height: auto; }
    """
    # Long enough not to report a half-typed path, short enough to feel immediate after a drop.
    CHECK_DELAY = 0.4

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label = label
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="label")
        yield Input(
            placeholder="可把照片文件拖进来；多个用空格分隔，含空格的路径加引号", classes="photo-input", compact=True
        )
        yield Static("", classes="photo-message")

    @property
    def input(self) -> Input:
        return self.query_one(".photo-input", Input)

    @property
    def message(self) -> Static:
        return self.query_one(".photo-message", Static)

    def reset(self, hint: str = "") -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        with self.input.prevent(Input.Changed):  # emptying the field is not typing: keep the hint
            self.input.value = ""
        self._show(hint, "")

    @on(Input.Changed, ".photo-input")
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(self.CHECK_DELAY, self.check)

    @on(Input.Submitted, ".photo-input")
    def _submitted(self) -> None:
        self.check()

    def check(self) -> bool:
        """Check what is typed now; show the verdict under the field."""
        try:
            self.paths()
        except InputError:
            return False
        return True

    def paths(self) -> list[Path] | None:
        """The checked paths, or None when the field is empty (keep the photos already saved)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.input.value
        if not text.strip():
            self._show("", "")
            return None
        try:
            found = checked_photos(text)
        except InputError as exc:
            self._show(exc.message, "error")
            raise
        self._show(f"✓ {len(found)} 张照片可用", "ok")
        return found

    def _show(self, text: str, kind: str) -> None:
        self.message.update(plain(text))
        self.message.set_class(kind == "error", "error")
        self.message.set_class(kind == "ok", "ok")


class InspectorsScreen(ModalScreen[list[str] | None]):
    """Who is inspecting, asked once at the start when nobody was named on the command line."""

    DEFAULT_CSS = """
    InspectorsScreen { align: center middle; }
    InspectorsScreen > Vertical {
        width: 64; height: auto; border: round $primary; padding: 1 2; background: $surface;
    }
    """
    BINDINGS = [Binding("escape", "skip", "跳过")]

    def __init__(self, suggested: list[str] | None = None) -> None:
        super().__init__()
        self.suggested = suggested or []  # the pair the week's plan sends here, filled in

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("检查人（多人用逗号或顿号分隔，如 张三、李四）")
            yield Input("、".join(self.suggested), id="names", placeholder="张三、李四")
            hint = "（已填入本周计划派来的检查组，可修改）" if self.suggested else ""
            yield Static(f"Enter 确认 · Esc 跳过{hint}", id="names-message")

    def on_mount(self) -> None:
        self.query_one("#names", Input).focus()

    @on(Input.Submitted, "#names")
    def _submit(self, event: Input.Submitted) -> None:
        message = self.query_one("#names-message", Static)
        try:
            names = parse_names(event.value)
        except InputError as exc:
            message.update(plain(exc.message))
            message.add_class("error")
            return
        if not names:
            message.update(plain("请填写检查人姓名，或按 Esc 跳过"))
            message.add_class("error")
            return
        self.dismiss(names)

    def action_skip(self) -> None:
        self.dismiss(None)


class WalkScreen(Screen[None]):
    """A walk through a list: entries on the left (`#items`), the current one and its form
    (`#form`) on the right, a status line (`#status`) below.

    While the form is open the keys belong to its fields, so 1, b or q are text there and
    never answer or move; only Ctrl+S and Esc act on the form itself.
    """

    FORM_ACTIONS = frozenset({"save_form", "close_form"})

    def __init__(self) -> None:
        super().__init__()
        self.form_open = False

    @property
    def items_list(self) -> OptionList:
        return self.query_one("#items", OptionList)

    @property
    def index(self) -> int:
        """The current entry: the list's highlight, read when each key is handled.

        One source of truth: a highlight message still on its way from the list can never
        move the walk back after fast keys have moved it on.
        """
        highlighted = self.items_list.highlighted
        return 0 if highlighted is None else highlighted

    def count(self) -> int:
        return self.items_list.option_count

    def show_current(self) -> None:
        """Redraw the current entry (the list's highlight moved or its answer changed)."""

    def at_end(self) -> None:
        """The walk moved past the last entry."""

    def go(self, index: int) -> None:
        if index >= self.count():
            self.at_end()
            return
        self.items_list.highlighted = max(0, index)
        self.show_current()

    @on(OptionList.OptionHighlighted, "#items")
    def _highlighted(self) -> None:
        self.show_current()

    def say(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(plain(message))
        status.set_class(error, "error")
        if error:
            self.app.bell()

    @property
    def status_text(self) -> str:
        return content_text(self.query_one("#status", Static))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.FORM_ACTIONS:
            return self.form_open
        return not self.form_open

    def show_form(self, focus: Widget) -> None:
        self.query_one("#form").remove_class("hidden")
        self.form_open = True
        self.refresh_bindings()
        # Focus at once (not on the next tick), so keys typed right after the result key
        # land in the form.
        self.set_focus(focus)

    def hide_form(self) -> None:
        self.form_open = False
        self.query_one("#form").add_class("hidden")
        self.refresh_bindings()
        self.set_focus(self.items_list)
