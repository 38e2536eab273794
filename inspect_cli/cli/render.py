"""Output helpers. User and YAML text is never parsed as Rich markup, and never drives the terminal.

Stored text can hold escape sequences (a window title, a cleared screen, a hyperlink), control
characters, bidirectional overrides or lone surrogates. The helpers here clean what they are
given with `for_terminal`, and the shared consoles clean every line they write, so a module
that prints with `out.print(..., markup=False)` directly is covered as well.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Span, Text

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


def table(columns: list[str], rows: list[list[Any]], title: str | None = None, **options: Any) -> Table:
    result = Table(title=text(title) if title else None, show_lines=False, **options)
    for index, column in enumerate(columns):
        # The first column names the row (a code, a street): never break it.
        result.add_column(text(column), overflow="fold", no_wrap=index == 0)
    for row in rows:
        result.add_row(*(safe_text(v) if isinstance(v, Text) else text(v) for v in row))
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


def confirm(question: str) -> bool:
    """Ask a yes/no question (default no). End of input is a no; Ctrl+C interrupts (exit 130),
    as everywhere else, rather than becoming an English "Aborted!"."""
    out.print(Text(f"{question} [y/N]: "), end="")
    try:
        answer = input()
    except EOFError:
        out.print()
        return False
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
