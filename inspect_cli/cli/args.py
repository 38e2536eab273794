"""Arguments and options several commands share: one definition, one help text, one completer."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from inspect_cli.cli import completion

SiteArg = Annotated[
    str, typer.Argument(metavar="SITE", help="点位编号、名称或拼音首字母", autocompletion=completion.sites)
]
SiteOption = Annotated[
    str | None,
    typer.Option("--site", metavar="SITE", help="点位（编号、名称或拼音首字母）", autocompletion=completion.sites),
]
ProblemArg = Annotated[
    str, typer.Argument(metavar="NO", help="问题编号（如 ZG-2026-0001）", autocompletion=completion.problems)
]
InspectionArg = Annotated[
    str, typer.Argument(metavar="ID", help="检查编号（如 JC-2026-0001）", autocompletion=completion.inspections)
]


def unit_option(*flags: str, help: str) -> Any:
    """A 责任单位 option; the flags and help differ per command."""
    return typer.Option(*flags, metavar="UNIT", help=help, autocompletion=completion.units)
