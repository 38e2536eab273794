"""Output helpers. User and YAML text is never parsed as Rich markup, and never drives the terminal.

Stored text can hold escape sequences (a window title, a cleared screen, a hyperlink), control
characters, bidirectional overrides or lone surrogates. The helpers here clean what they are
given with `for_terminal`, and the shared consoles clean every line they write, so a module
that prints with `out.print(..., markup=False)` directly is covered as well.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Span, Text

from inspect_cli.errors import InputError
from inspect_cli.text import for_terminal

if TYPE_CHECKING:
    from inspect_cli.rows import ImportPlan

# Characters json.dumps leaves as they are with ensure_ascii=False that a terminal still acts
# on or cannot encode: DEL and C1 controls, bidirectional overrides and isolates, line and
# paragraph separators, the byte-order mark, lone surrogates.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def safe_text(value: Text) -> Text:
    """A `Text` with its styles kept and its characters made safe to print."""
    plain = value.plain
    if plain.isprintable() or for_terminal(plain) == plain:
        return value
    # Cut at every style boundary so each piece carries whole spans; cleaning a piece may
    # shorten it, and its spans are rebuilt over what is left.
    cuts = sorted({o for span in value.spans for o in (span.start, span.end) if 0 < o < len(plain)})
    result = value.blank_copy()
    for piece in value.divide(cuts):
        cleaned = for_terminal(piece.plain)
        result.append_text(Text(cleaned, spans=[Span(0, len(cleaned), span.style) for span in piece.spans]))
    return result


class SafeConsole(Console):
    """A Rich console that writes no escape sequence or control character it was not built to write.

    Plain strings and `Text` are cleaned before layout, so widths and wrapping are right;
    every text segment is cleaned again on the way out, which covers whatever sits inside
    tables and panels built elsewhere. Rich's own control segments (cursor moves of a
    progress bar) are left alone.
    """

    def print(self, *objects: Any, **options: Any) -> None:
        super().print(*(safe_text(o) if isinstance(o, Text) else o for o in objects), **options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(for_terminal(text), **options)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            # Every character for_terminal removes or changes is unprintable to Python, so
            # the common case costs one scan in C (a long table yields many segments, and
            # nested renderables pass theirs up through here more than once).
            if segment.control is None and not segment.text.isprintable():
                cleaned = for_terminal(segment.text)
                if cleaned != segment.text:
                    segment = Segment(cleaned, segment.style)
            yield segment


out = SafeConsole(highlight=False)
err = SafeConsole(stderr=True, highlight=False)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.repr}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def print_json(data: Any) -> None:
    # json.dumps escapes C0 controls (ESC included) but, with ensure_ascii=False, passes the
    # rest through. Those can only sit inside JSON strings, so escaping them as \\uXXXX keeps
    # the document valid and every value exact for the program reading it.
    sys.stdout.write(_json_safe(json.dumps(_plain(data), ensure_ascii=False, indent=2)) + "\n")


def print_json_rows(rows: Iterable[Any]) -> None:
    """A JSON array written element by element, one element a line, without holding the
    list (a year's problems). Each element is flat: text, numbers, dates, enums."""
    encode = json.JSONEncoder(ensure_ascii=False, default=_plain_value).encode
    write = sys.stdout.write
    opening = "[\n"
    batch: list[str] = []
    for row in rows:
        batch.append(encode(row))
        if len(batch) == 500:
            write(opening + _json_safe(",\n".join(batch)))
            opening, batch = ",\n", []
    if batch:
        write(opening + _json_safe(",\n".join(batch)))
        opening = ",\n"
    write("[]\n" if opening == "[\n" else "\n]\n")


def _json_safe(dumped: str) -> str:
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", dumped)


def _plain_value(value: Any) -> Any:
    plain = _plain(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return plain


def print_csv(header: list[str], rows: Iterable[list[Any]]) -> None:
    """CSV on standard output, row by row, with a byte-order mark so that Excel and WPS read
    the Chinese as UTF-8 when the output is saved to a file and opened."""
    import csv

    sys.stdout.write("\ufeff")
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])


def _csv_cell(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is int:
        return str(value)
    if kind is date:
        return value.isoformat()
    return str(_plain(value))


def text(value: Any) -> Text:
    return Text(for_terminal(value))


def table(
    columns: Sequence[str | Col],
    rows: Iterable[Sequence[Any]],
    title: str | None = None,
    *,
    styles: Sequence[str | None] | None = None,
    **options: Any,
) -> Table:
    """A Rich table. Given `Col`s it fits the width (`fitted_table`); given plain headings it
    is Rich's own layout, the first column never broken."""
    if any(isinstance(c, Col) for c in columns):
        return fitted_table(
            [c if isinstance(c, Col) else Col(c) for c in columns], rows, title, styles=styles, **options
        )
    result = Table(title=text(title) if title else None, show_lines=False, **options)
    for index, column in enumerate(columns):
        # The first column names the row (a code, a street): never break it.
        result.add_column(text(column), overflow="fold", no_wrap=index == 0)
    for index, row in enumerate(rows):
        style = styles[index] if styles else None
        result.add_row(*(safe_text(v) if isinstance(v, Text) else text(v) for v in row), style=style)
    return result


# --- tables that fit the terminal ---------------------------------------------------------------
#
# A command describes its columns once (`Col`: what a column holds and how much it matters) and
# `fitted_table` decides, for the width at hand, which columns to show and how wide each is:
# codes, numbers, dates and rates are never broken; text wraps, or is cut with … when it is
# marked one-line; when everything does not fit, headings and dates get their short forms, then
# the least important columns go. Piped into a file or another program (no terminal, no
# COLUMNS), every column is kept in full: dropping one there would lose data.


class Kind(Enum):
    """What a column holds, which decides how it may shrink."""

    CODE = "code"  # 问题编号, 点位编码, 检查编号: never broken
    NUMBER = "number"  # counts and ranks: never broken, right-aligned
    PERCENT = "percent"  # rates: never broken, right-aligned
    DATE = "date"  # never broken; 11-30 in a narrow table when the year is this year
    TIME = "time"  # a recorded moment, shown in local time; likewise shortened
    LABEL = "label"  # a short label (状态, 结果, a field name): broken only at spaces
    TEXT = "text"  # names and descriptions: wrapped, a code or date inside them kept whole
    BAR = "bar"  # `Bar` cells drawn to the column's width; the heading shows the scale


@dataclass(frozen=True)
class Col:
    """One column of a fitted table.

    `drop`: 0 for a column always shown; as the width shrinks the columns with the highest
    number go first (the rightmost of equals first). `short`: the heading in a narrow table
    (整改时限 → 时限). `min`: the narrowest a text column gets before another column is dropped
    instead. `one_line`: text is cut with … instead of wrapped (the full text is a `show` away).
    """

    header: str
    kind: Kind = Kind.TEXT
    drop: int = 0
    short: str | None = None
    min: int = 10
    one_line: bool = False


@dataclass(frozen=True)
class Short:
    """A cell with a shorter form for narrow tables (已整改待复查 → 待复查)."""

    full: Any
    short: Any


@dataclass(frozen=True)
class Bar:
    """A rate (percent) drawn as a bar in a `Kind.BAR` column; `mark` (say 黑榜) follows it,
    and `style` colours it."""

    rate: float | None
    style: str = ""
    mark: str = ""


# Piped without COLUMNS, text is wrapped at this width rather than never: a 2,000-character
# description would otherwise pad every row of its table to 2,000 spaces.
PIPED_WIDTH = 200
# A code or date inside text is kept on one line; a longer run (a path, a URL) may fold.
_TOKEN_CAP = 16
_TOKEN = re.compile(r"[!-~]+")
_FIXED = frozenset({Kind.CODE, Kind.NUMBER, Kind.PERCENT, Kind.DATE, Kind.TIME})
_RIGHT = frozenset({Kind.NUMBER, Kind.PERCENT})
_BAR_MIN, _BAR_WIDE = 10, 20
_SQUEEZED = 4
_EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")  # a cell filled 0/8 … 7/8 from the left


def table_width() -> int | None:
    """The width fitted tables are laid out for: the terminal's, or COLUMNS when it is set.

    None when the output is piped or redirected and COLUMNS is not set: then every column is
    shown in full (see `PIPED_WIDTH`), whatever the width of the terminal behind the pipe.
    """
    if out.is_terminal or os.environ.get("COLUMNS", "").strip().isdigit():
        return out.width
    return None


def fitted_table(
    columns: Sequence[Col],
    rows: Iterable[Sequence[Any]],
    title: str | None = None,
    *,
    styles: Sequence[str | None] | None = None,
    width: int | None = None,
    **options: Any,
) -> Table:
    """A table of `columns` laid out for `width` (default: `table_width()`); print it with
    `print_table`. `styles`, one per row, colour whole rows."""
    rows = [list(r) for r in rows]
    available = table_width() if width is None else width
    show_header = options.get("show_header", True)
    today = _this_year()
    shown = list(range(len(columns)))
    cells = _formatted(columns, rows, False, today)
    measured = _measure(columns, cells, False, show_header)
    compact = False
    if available is not None:
        short_cells = _formatted(columns, rows, True, today)
        short = _measure(columns, short_cells, True, show_header)
        # The long forms (整改时限, 2026-11-30) only where the room left over would hold them
        # again: otherwise the cells they take are better spent on the text.
        if _total(measured[0], shown) * 2 - _total(short[0], shown) > available:
            compact, cells, measured = True, short_cells, short
    low = measured[0]
    if available is not None and _total(low, shown) > available:
        # Narrowest form, then the least important columns go, one at a time.
        for index in sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: (-columns[i].drop, -i)):
            if _total(low, shown) <= available:
                break
            shown.remove(index)
    widths = _spread(columns, shown, measured, available or PIPED_WIDTH)
    result = Table(title=text(title) if title else None, show_lines=False, width=_total(widths, shown), **options)
    for index in shown:
        column = columns[index]
        header = column.short if compact and column.short else column.header
        if column.kind is Kind.BAR:
            header = _bar_scale(cells, index)[1]
        one_line = column.kind in _FIXED or column.one_line
        result.add_column(
            text(header),
            width=widths[index],
            no_wrap=one_line,
            overflow="ellipsis" if column.one_line else "fold",
            justify="right" if column.kind in _RIGHT else "left",
        )
    bars = {i: (_bar_scale(cells, i)[0], _bar_mark_width(cells, i)) for i in shown if columns[i].kind is Kind.BAR}
    for number, row in enumerate(cells):
        drawn = [_bar(row[i], *bars[i], widths[i]) if i in bars else row[i] for i in shown]
        result.add_row(*drawn, style=styles[number] if styles else None)
    return result


def print_table(rendered: Table) -> None:
    """Print a fitted table. Never cropped: piped, it may be wider than the console."""
    out.print(rendered, crop=False)


def _this_year() -> int:
    from inspect_cli import dates

    return dates.today().year


def _formatted(columns: Sequence[Col], rows: list[list[Any]], compact: bool, year: int) -> list[list[Any]]:
    """Every cell as a `Text` (a `Bar` stays a `Bar`), dates in the form asked for."""
    kinds = [c.kind for c in columns]
    return [[_cell(value, kinds[i], compact, year) for i, value in enumerate(row)] for row in rows]


def _cell(value: Any, kind: Kind, compact: bool, year: int) -> Any:
    if isinstance(value, Short):
        value = value.short if compact else value.full
    if isinstance(value, (Text, Bar)):
        return safe_text(value) if isinstance(value, Text) else value
    if kind is Kind.DATE and isinstance(value, date):
        return Text(value.strftime("%m-%d") if compact and value.year == year else value.isoformat())
    if kind is Kind.TIME and value:
        return Text(_moment(str(value), compact, year))
    return text(value)


def _moment(value: str, compact: bool, year: int) -> str:
    """A stored timestamp (ISO 8601) as local date and time, to the minute when compact."""
    from inspect_cli import dates

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dates.TZ)
    if compact:
        return moment.strftime("%m-%d %H:%M" if moment.year == year else "%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _measure(
    columns: Sequence[Col], cells: list[list[Any]], compact: bool, show_header: bool
) -> tuple[list[int], list[int], list[int]]:
    """Each column's narrowest, natural and squeezed width (cells only; borders and padding
    apart). Squeezed: what a text column gives way to when even the columns that always stay
    do not fit, still keeping any code in it whole."""
    low, high, floor = [], [], []
    for index, column in enumerate(columns):
        header = (column.short if compact and column.short else column.header) if show_header else ""
        values = [row[index] for row in cells]
        if column.kind is Kind.BAR:
            scale = _bar_scale(cells, index)[1] if show_header else ""
            extra = _bar_mark_width(cells, index)
            low.append(max(cell_len(scale), _BAR_MIN + extra))
            high.append(max(cell_len(scale), _BAR_WIDE + extra))
            floor.append(low[-1])
            continue
        lines = [line for v in values for line in v.plain.split("\n")]
        natural = max([cell_len(header), *(cell_len(line) for line in lines)])
        squeezed = None
        if column.kind in _FIXED:
            narrowest = natural
        elif column.kind is Kind.LABEL:
            narrowest = max(
                cell_len(word) for word in [*header.split(), *(w for line in lines for w in line.split()), ""]
            )
        else:
            longest = max([0, *(cell_len(m) for line in lines for m in _TOKEN.findall(line))])
            narrowest = min(natural, max(column.min, cell_len(header), min(longest, _TOKEN_CAP)))
            squeezed = min(narrowest, max(_SQUEEZED, min(longest, _TOKEN_CAP)))
        low.append(narrowest)
        high.append(natural)
        floor.append(narrowest if squeezed is None else squeezed)
    return low, high, floor


def _total(widths: Sequence[int], shown: Sequence[int]) -> int:
    # A rule between columns and at both edges, a space of padding each side of every cell.
    return sum(widths[i] for i in shown) + 3 * len(shown) + 1


def _spread(
    columns: Sequence[Col], shown: list[int], measured: tuple[list[int], list[int], list[int]], available: int
) -> list[int]:
    """Widths from the narrowest up: the room left goes in equal shares to the columns that
    can use it, each up to its natural width."""
    low, high, floor = measured
    widths = list(low)
    room = available - _total(widths, shown)
    # Narrower than the columns that always stay: the widest text gives way, down to two
    # characters (or its longest code), rather than every line running past the edge.
    while room < 0:
        widest = max((i for i in shown if widths[i] > floor[i]), key=lambda i: widths[i], default=None)
        if widest is None:
            break
        widths[widest] -= 1
        room += 1
    while room > 0:
        wanting = [i for i in shown if columns[i].kind not in _FIXED and widths[i] < high[i]]
        if not wanting:
            break
        share = max(1, room // len(wanting))
        for index in wanting:
            grow = min(share, high[index] - widths[index], room)
            widths[index] += grow
            room -= grow
            if not room:
                break
    return widths


def _bar_scale(cells: list[list[Any]], index: int) -> tuple[int, str]:
    """Where a bar column's scale starts: five points under the lowest rate, rounded down to
    ten (0 to 90), so the differences show and the lowest bar is never a sliver; the heading
    says so. A single rate (a 合计 alone) has nothing to differ from: 0–100%."""
    rates = [c.rate for row in cells if isinstance(c := row[index], Bar) and c.rate is not None]
    start = min(90, max(0, int((min(rates) - 5) // 10 * 10))) if len(rates) > 1 else 0
    return start, f"{start}–100%"


def _bar_mark_width(cells: list[list[Any]], index: int) -> int:
    marks = [cell_len(c.mark) for row in cells if isinstance(c := row[index], Bar) and c.mark]
    return max(marks) + 1 if marks else 0


def _bar(cell: Any, start: int, mark_width: int, width: int) -> Text:
    if not isinstance(cell, Bar) or cell.rate is None:
        return Text("")
    cells = max(1, width - mark_width)
    share = (min(max(cell.rate, start), 100) - start) / (100 - start)
    eighths = round(share * cells * 8)
    drawn = "█" * (eighths // 8) + _EIGHTHS[eighths % 8]
    result = Text(drawn.ljust(cells), style=cell.style)
    if cell.mark:
        result.append(" " + cell.mark, style=cell.style)
    return result


def say(message: str = "", style: str | None = None) -> None:
    out.print(Text(for_terminal(message), style=style or ""))


def warn(message: str) -> None:
    # soft_wrap: a message is one line for whoever reads stderr, however narrow the terminal.
    err.print(Text(for_terminal(message), style="yellow"), soft_wrap=True)


def error(message: str, details: list[str] | None = None) -> None:
    err.print(Text(f"错误：{for_terminal(message)}", style="bold red"), soft_wrap=True)
    for line in details or []:
        err.print(Text(f"  {for_terminal(line)}"), soft_wrap=True)


def import_plan(
    plan: ImportPlan,
    dry_run: bool,
    columns: list[str],
    cells: Callable[[Any], list[Any]],
    labels: dict[str, str],
    shown: Callable[[object], str] = lambda v: "" if v is None else str(v),
) -> None:
    """A register import (点位台账, 单位名录): the rows that change, then one line of counts."""
    if plan.ignored_columns:
        warn(f"未使用的列：{'、'.join(plan.ignored_columns)}")
    changed = [c for c in plan.changes if c.action != "unchanged"]
    if changed:
        rows = [
            [
                c.row,
                c.action_label,
                *cells(c),
                "；".join(
                    f"{labels.get(k, k)}：{shown(old) or '空'} → {shown(new)}" for k, (old, new) in c.changes.items()
                ),
            ]
            for c in changed
        ]
        out.print(table(["行", "操作", *columns, "变化"], rows))
    prefix = "预览（未写入）：" if dry_run else "已导入："
    say(
        f"{prefix}新增 {plan.count('create')} 个，更新 {plan.count('update')} 个，"
        f"无变化 {plan.count('unchanged')} 个（表头在第 {plan.header_row} 行）"
    )


YES = ("y", "yes", "是", "好", "确认")


def confirm(question: str, flag: str) -> bool:
    """Ask a yes/no question (default no). A person's no is theirs to give: the command says
    what it did not do and exits 0. End of input (a script that did not say `flag`) changes
    nothing and is an error, exit 2. Ctrl+C interrupts (exit 130), as everywhere else."""
    out.print(Text(f"{question} [y/N]: "), end="")
    try:
        answer = input()
    except EOFError:
        out.print()
        raise InputError(f"没有得到回答（输入已结束），未做任何修改；不经询问直接执行请加 {flag}") from None
    return answer.strip().lower() in YES


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr; shown only on a terminal and only for longer jobs."""
    if not err.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    )
    task = None
    with bar:

        def update(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task(label, total=total)
            bar.update(task, completed=done)

        yield update
