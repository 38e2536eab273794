"""Option and argument values converted without Pydantic where the conversion is plain.

Typer converts every value through a Pydantic `TypeAdapter`, and building the first one
imports and sets up Pydantic: about as long as importing Typer and Rich together, paid by
every command that is given a value (`--db x`, even the empty `--checklists`). Our values
are text, paths, whole numbers, choices and lists of those, whose conversion cannot
surprise, so they are converted here. Anything else, and any value that would fail, goes
to Typer's own conversion, so results and error messages stay exactly Typer's.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path
except ImportError:  # a Typer laid out otherwise: its own conversion, only slower
    RuntimeParam = None  # type: ignore[assignment,misc]

# Pydantic reads more than this as an int ("+5", "1_000", "007", " 5"): those go to it.
_PLAIN_INT = re.compile(r"0|-?[1-9][0-9]{0,17}")


class _Typer(Exception):
    """The value is one for Typer's own conversion."""


def quicken(params: list[Any]) -> None:
    """Give each Typer parameter the plain conversion (nothing else changes about it)."""
    if RuntimeParam is None:
        return
    for param in params:
        if getattr(param, "_runtime_param", False) is None and hasattr(param, "type_descriptor"):
            param._runtime_param = _Plain(param.type_descriptor.parameter_info, param.type_descriptor.annotation)


class _Plain(RuntimeParam or object):  # type: ignore[misc]
    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            if get_origin(self.annotation) is list:
                if not isinstance(value, (list, tuple)):
                    raise _Typer
                (kind,) = get_args(self.annotation)
                return [self._leaf(kind, item, param, ctx) for item in value]
            return self._leaf(self.annotation, value, param, ctx)
        except _Typer:
            pass
        # Built once, as Typer would have built it, and kept for the parameter's next value.
        param._runtime_param = build_runtime_param(param.type_descriptor)
        return param._runtime_param._coerce_value(value, param=param, ctx=ctx)

    def _leaf(self, kind: Any, value: Any, param: Any, ctx: Any) -> Any:
        info = self.parameter_info
        if info.parser is not None or info.path_type is not None:
            raise _Typer
        if kind is str and isinstance(value, str):
            return value
        if kind is Path and isinstance(value, (str, Path)):
            # Typer's own path checks (exists, dir_okay …); only making the Path is ours.
            try:
                return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
            except ValueError:  # a NUL in the name: Typer words it
                raise _Typer from None
        if kind is int and not info.clamp:
            if isinstance(value, str) and _PLAIN_INT.fullmatch(value):
                number = int(value)
            elif type(value) is int:
                number = value
            else:
                raise _Typer
            if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
                raise _Typer
            return number
        if isinstance(kind, type) and issubclass(kind, Enum) and isinstance(value, (str, kind)):
            try:
                return coerce_cli_choice(value, choices=list(kind), case_sensitive=info.case_sensitive, ctx=ctx)
            except ValueError:
                raise _Typer from None
        raise _Typer
