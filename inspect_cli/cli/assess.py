"""`inspect-cli assess`: 单位考核, points deducted and added by rules, ranked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from inspect_cli.assess import AssessBy, Assessment, GroupResult, points_text
from inspect_cli.cli.args import unit_option
from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, out, print_json, print_table, say, table
from inspect_cli.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("assess")(assess)


def assess(
    month: Annotated[
        str | None, typer.Option("--month", "-m", metavar="YYYY-MM", help="考核月份，如 2026-11（默认本月，截至今天）")
    ] = None,
    by: Annotated[
        AssessBy,
        typer.Option(
            "--by", help="考核对象：unit 责任单位 / street 街道 / partner 包抓单位 / community 社区 / grid 网格"
        ),
    ] = AssessBy.unit,
    rules: Annotated[
        Path | None, typer.Option("--rules", metavar="FILE", help="考核规则文件（YAML，未写的项用内置规则）")
    ] = None,
    unit: Annotated[str | None, unit_option("--unit", "-u", help="列出这个责任单位的每一项扣分、加分")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（含每个问题的扣分、加分）")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="写入 .xlsx：考核结果与扣分明细")
    ] = None,
) -> None:
    """单位考核：按规则扣分、加分并排名。例：inspect-cli assess --month 2026-11"""
    from inspect_cli import assess as core
    from inspect_cli.assess_rules import load_rules

    if output is not None and output.suffix.lower() != ".xlsx":
        raise InputError(f"输出文件应以 .xlsx 结尾：{output}")
    if unit is not None and by is not AssessBy.unit:
        raise InputError("--unit 只能与 --by unit 一起使用")
    chosen = load_rules(rules)  # before the database: a wrong file is told at once
    store = state.store()
    result = core.assess(store, month, by, chosen)
    group = core.find_group(store, result, unit) if unit is not None else None
    if output is not None:
        sheets = core.export_assessment(result, output, state.settings().office.name)
        if not as_json:
            say(f"已导出{by.label}考核（{result.period_text}）：{output}")
            out.print(table(["工作表", "行数"], [[name, rows] for name, rows in sheets.items()]))
            return
    if as_json:
        data = core.assessment_data(result)
        if group is not None:
            data["groups"] = [core.group_data(group)]
        print_json(data)
        return
    _ranking(result, [group] if group is not None else result.groups)
    if group is not None:
        _items(result, group)
    say(f"规则：{result.rules.source}")
    say(f"口径：{result.exposure_basis}")


def _ranking(result: Assessment, groups: list[GroupResult]) -> None:
    title = f"{result.by.label}考核（{result.period_text}，基础分 {points_text(result.rules.base)}）"
    if not groups:
        say(f"{title}：没有考核对象（点位台账为空，当月也没有问题）")
        return
    noted = any(g.notes for g in groups)
    columns = [
        Col("排名", Kind.NUMBER),
        Col(result.by.label, min=14),
        Col("问题数", Kind.NUMBER),
        Col("扣分", Kind.NUMBER),
        Col("加分", Kind.NUMBER),
        Col("得分", Kind.NUMBER),
        *([Col("说明", drop=1)] if noted else []),
    ]
    body = [
        [
            g.rank or "—", g.name, g.problems, points_text(g.deduction), points_text(g.bonus), points_text(g.score),
            *(["；".join(_short_note(n) for n in g.notes)] if noted else []),
        ]
        for g in groups
    ]  # fmt: skip
    print_table(table(columns, body, title=title))


_CAPPED = re.compile(r"(扣分|加分|得分) (\S+) 分，(超过上限|低于下限)，按 (\S+) 分计")


def _short_note(note: str) -> str:
    """扣分 90.9 分，超过上限，按 40 分计 → 扣分超上限：90.9→40 (the table's form; --json and
    the Excel sheet keep the sentence)."""
    return _CAPPED.sub(lambda m: f"{m[1]}{'超上限' if m[3] == '超过上限' else '低于下限'}：{m[2]}→{m[4]}", note)


def _items(result: Assessment, group: GroupResult) -> None:
    if not group.items:
        say(f"{group.name} {result.period_text}没有扣分、加分")
        return
    columns = [
        Col("问题编号", Kind.CODE),
        Col("点位", drop=2),
        Col("问题描述", drop=3, one_line=True),
        Col("规则", Kind.LABEL),
        Col("分值", Kind.NUMBER),
        Col("说明", min=30),
    ]
    body = [
        [
            i.problem_no,
            i.site,
            i.description,
            i.rule_label,
            f"{'+' if i.points > 0 else ''}{points_text(i.points)}",
            i.reason,
        ]
        for i in group.items
    ]
    print_table(table(columns, body, title=f"{group.name} 扣分、加分明细（{result.period_text}）"))
