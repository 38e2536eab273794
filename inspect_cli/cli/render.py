"""Output helpers. User and YAML text is never parsed as Rich markup."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


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
    sys.stdout.write(json.dumps(_plain(data), ensure_ascii=False, indent=2) + "\n")


def text(value: Any) -> Text:
    return Text("" if value is None else str(value))


def table(columns: list[str], rows: list[list[Any]], title: str | None = None, **options: Any) -> Table:
    result = Table(title=Text(title) if title else None, show_lines=False, **options)
    for index, column in enumerate(columns):
        # The first column names the row (a code, a street): never break it.
        result.add_column(Text(column), overflow="fold", no_wrap=index == 0)
    for row in rows:
        result.add_row(*(v if isinstance(v, Text) else text(v) for v in row))
    return result


def say(message: str = "", style: str | None = None) -> None:
    out.print(Text(message, style=style or ""))


def warn(message: str) -> None:
    err.print(Text(message, style="yellow"))


def error(message: str, details: list[str] | None = None) -> None:
    err.print(Text(f"错误：{message}", style="bold red"))
    for line in details or []:
        err.print(Text(f"  {line}"))
