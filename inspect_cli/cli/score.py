"""`inspect-cli score`: rankings by mean 得分率."""

from __future__ import annotations

from typing import Annotated

import typer

from inspect_cli.cli.context import state
from inspect_cli.cli.render import Bar, Col, Kind, print_json, print_table, say, table
from inspect_cli.dates import optional_period
from inspect_cli.queries import GroupBy, RankRow, ranking, red_and_black
from inspect_cli.scoring import format_rate


def register(app: typer.Typer) -> None:
    app.command("score")(score)


def score(
    week: Annotated[str | None, typer.Option("--week", "-w", help="ISO 周，如 2026-W47")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期（含）")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="结束日期（含）")] = None,
    by: Annotated[
        GroupBy,
        typer.Option(
            "--by", help="排名对象：street 街道 / unit 责任单位 / partner 包抓单位 / type 点位类型 / site 点位"
        ),
    ] = GroupBy.street,
    bar: Annotated[bool, typer.Option("--bar", help="得分率旁画条形图（黑榜标红）")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """按平均得分率排名（只计已完成的检查）。例：inspect-cli score --from 2026-11-16 --to 2026-11-22 --by unit"""
    start, end = optional_period(week, date_from, date_to)
    rows = ranking(state.store(), by, start, end)
    if as_json:
        print_json(rows)
        return
    period = f"{start} 至 {end}" if start and end else f"{start} 起" if start else f"截至 {end}" if end else "全部日期"
    if not rows:
        say(f"{period} 没有已完成的检查")
        return
    columns = [
        Col("排名", Kind.NUMBER),
        Col(by.label, min=14),
        Col("检查次数", Kind.NUMBER, drop=2, short="次数"),
        Col("点位数", Kind.NUMBER, drop=2, short="点位"),
        Col("平均得分率", Kind.PERCENT, short="得分率"),
        *([Col("", Kind.BAR, drop=1)] if bar else []),
        Col("不合格", Kind.NUMBER, drop=1),
        Col("严重不合格", Kind.NUMBER, drop=1, short="严重"),
    ]
    bars = _bars(rows, state.settings().notice.black_threshold) if bar else []
    body = [
        [r.rank, r.name, r.inspections, r.sites, format_rate(r.mean_rate), *bars[i : i + 1], r.failed, r.severe]
        for i, r in enumerate(rows)
    ]
    print_table(table(columns, body, title=f"{by.label}排名（{period}）"))


def _bars(rows: list[RankRow], threshold: float) -> list[Bar]:
    """得分率 as bars, the 周通报's 黑榜 (`queries.red_and_black`) red and marked."""
    _, black = red_and_black([r.mean_rate for r in rows], threshold)
    return [Bar(r.mean_rate, "red", "黑榜") if i in black else Bar(r.mean_rate, "green") for i, r in enumerate(rows)]
