"""`inspect-cli unit …`: the register of 责任单位 and 包抓单位."""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from inspect_cli.cli import completion
from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, confirm, import_plan, print_json, print_table, say, table
from inspect_cli.units import (
    FIELD_LABELS,
    UnitKind,
    UnitMove,
    add_unit,
    find_unit,
    import_units,
    merge_units,
    rename_unit,
    unit_overview,
)

app = typer.Typer(help="单位名录：责任单位、包抓单位的名称、简称和联系方式。", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]
ByOption = Annotated[
    str | None, typer.Option("--by", metavar="NAME", help="操作人（默认为 $INSPECT_CLI_USER 或登录名）")
]


def _unit_arg(metavar: str, help: str) -> object:
    return typer.Argument(metavar=metavar, help=help, autocompletion=completion.units)


class KindChoice(str, Enum):
    部门 = "部门"
    街道 = "街道"


@app.command("list")
def list_(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="名称、简称、曾用名的片段或拼音首字母，如 scjg")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """列出单位名录和各单位待整改的问题数。例：inspect-cli unit list --search scjg"""
    rows = unit_overview(state.store(), search)
    if as_json:
        print_json([{**dataclasses.asdict(r.unit), "open_problems": r.open_problems} for r in rows])
        return
    body = [
        [
            r.unit.name,
            r.unit.short_name,
            r.unit.kind_label,
            r.unit.contact,
            r.unit.phone,
            "、".join(r.unit.aliases),
            r.open_problems,
        ]
        for r in rows
    ]
    columns = [
        Col("单位名称", Kind.LABEL),
        Col("简称", Kind.LABEL, drop=3),
        Col("类型", Kind.LABEL, drop=2),
        Col("联系人", Kind.LABEL, drop=4),
        Col("电话", Kind.CODE, drop=5),
        Col("曾用名", drop=1),
        Col("待整改问题", Kind.NUMBER, short="待整改"),
    ]
    print_table(table(columns, body))
    say(f"共 {len(rows)} 个单位")


@app.command()
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="单位名称（全称）")],
    short: Annotated[str | None, typer.Option("--short", help="简称")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="联系人")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="电话")] = None,
    kind: Annotated[KindChoice | None, typer.Option("--kind", help="单位类型")] = None,
    as_json: JsonOption = False,
) -> None:
    """把一个单位加入名录。例：inspect-cli unit add 市场监督管理局 --short 市场监管局 --kind 部门"""
    unit = add_unit(
        state.store(),
        name,
        short_name=short,
        contact=contact,
        phone=phone,
        kind=UnitKind.parse(kind.value) if kind else None,
    )
    if as_json:
        print_json(unit)
        return
    say(f"已加入单位名录：{unit.name}" + (f"（简称 {unit.short_name}）" if unit.short_name else ""))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="单位名录 .xlsx 或 .csv（单位名称、简称、联系人、电话、类型）")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示将发生的变化，不写入")] = False,
    as_json: JsonOption = False,
) -> None:
    """导入单位名录；已有的单位（按名称、简称或曾用名）更新，不会重复。例：inspect-cli unit import 单位名录.xlsx"""
    report = import_units(state.store(), file, dry_run=dry_run)
    if as_json:
        print_json(report)
        return
    import_plan(report, dry_run, ["单位名称"], lambda c: [c.unit.name], FIELD_LABELS, _shown)


def _shown(value: object) -> str:
    if isinstance(value, UnitKind):
        return value.label
    return "" if value is None else str(value)


def _moved(move: UnitMove, what: str) -> None:
    say(
        f"{what}：{move.problems} 个问题（各记一条处理记录）、{move.sites} 个点位随之改为 {move.unit.name}；"
        f"'{move.former}' 作为曾用名仍可使用"
    )


@app.command()
def rename(
    old: Annotated[str, _unit_arg("OLD", "现在的名称（或简称、曾用名）")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="新名称")],
    by: ByOption = None,
) -> None:
    """单位更名；问题、点位随之更新，旧名称仍可找到它。例：inspect-cli unit rename 市场监管局 市场监督管理局"""
    move = rename_unit(state.store(), old, new, actor=state.actor(by))
    _moved(move, f"已将 {move.former} 更名为 {move.unit.name}")


@app.command()
def merge(
    source: Annotated[str, _unit_arg("SOURCE", "要并入的单位（从名录中删除）")],
    target: Annotated[str, _unit_arg("TARGET", "保留的单位")],
    by: ByOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="不再确认")] = False,
) -> None:
    """把一个单位并入另一个（如错写的单位名称）；需确认。例：inspect-cli unit merge 市场监官局 市场监管局"""
    store = state.store()
    if not yes:
        src, dst = find_unit(store, source, "要并入的单位"), find_unit(store, target, "目标单位")
        question = (
            f"确认把 {src.name} 并入 {dst.name}？{src.name} 的问题和点位都将改为 {dst.name}，{src.name} 从名录中删除"
        )
        if src.id != dst.id and not confirm(question, "--yes"):
            say("未合并")
            return
    move = merge_units(store, source, target, actor=state.actor(by))
    _moved(move, f"已将 {move.former} 并入 {move.unit.name}")
