"""`inspect-cli score`: rankings by mean 得分率."""

from __future__ import annotations

from typing import Annotated

import typer

from inspect_cli.cli.context import state
from inspect_cli.cli.render import Bar, Col, Kind, print_json, print_table, say, table
from inspect_cli.dates import optional_period
from inspect_cli.queries import GroupBy, RankChange, RankRow, ranking, ranking_with_change, red_and_black
from inspect_cli.scoring import format_rate, round_rate


def register(app: typer.Typer) -> None:
    app.command("score")(score)


def score(
    week: Annotated[str | None, typer.Option("--week", "-w", help="ISO 周，如 2026-W47")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期（含）")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="结束日期（含）")] = None,
    by: Annotated[
        GroupBy,
        typer.Option(
            "--by",
            help="排名对象：street 街道 / unit 责任单位 / partner 包抓单位 / type 点位类型 / site 点位"
            " / community 社区 / grid 网格",
        ),
    ] = GroupBy.street,
    bar: Annotated[bool, typer.Option("--bar", help="得分率旁画条形图（黑榜标红）")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """按平均得分率排名（只计已完成的检查）。例：inspect-cli score --from 2026-11-16 --to 2026-11-22 --by unit"""
    start, end = optional_period(week, date_from, date_to)
    store = state.store()
    if start and end:  # a period has a previous one of the same length to compare with
        changes, compared = ranking_with_change(store, by, start, end)
    else:
        changes, compared = [RankChange(r, None, None) for r in ranking(store, by, start, end)], False
    rows = [c.row for c in changes]
    if as_json:
        print_json([_json(c, compared) for c in changes])
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
        *([Col("较上期", Kind.CODE, drop=1), Col("得分率变化", Kind.NUMBER, drop=3, short="变化")] if compared else []),
        *([Col("", Kind.BAR, drop=1)] if bar else []),
        Col("不合格", Kind.NUMBER, drop=1),
        Col("严重不合格", Kind.NUMBER, drop=1, short="严重"),
    ]
    bars = _bars(rows, state.settings().notice.black_threshold) if bar else []
    body = [
        [
            c.row.rank, c.row.name, c.row.inspections, c.row.sites, format_rate(c.row.mean_rate),
            *([c.label, _points(c.rate_delta)] if compared else []),
            *bars[i : i + 1], c.row.failed, c.row.severe,
        ]
        for i, c in enumerate(changes)
    ]  # fmt: skip
    print_table(table(columns, body, title=f"{by.label}排名（{period}）"))


def _bars(rows: list[RankRow], threshold: float) -> list[Bar]:
    """得分率 as bars, the 周通报's 黑榜 (`queries.red_and_black`) red and marked."""
    _, black = red_and_black([r.mean_rate for r in rows], threshold)
    return [Bar(r.mean_rate, "red", "黑榜") if i in black else Bar(r.mean_rate, "green") for i, r in enumerate(rows)]


def _json(change: RankChange, compared: bool) -> dict[str, object]:
    """A ranking row, and against the previous period of the same length (None without one)."""
    row = change.row
    return {
        "rank": row.rank,
        "name": row.name,
        "inspections": row.inspections,
        "mean_rate": row.mean_rate,
        "failed": row.failed,
        "severe": row.severe,
        "sites": row.sites,
        "previous_rank": change.previous_rank,
        "previous_rate": change.previous_rate,
        "rank_change": change.label if compared else None,
        "rate_change": change.rate_delta,
    }


def _points(delta: float | None) -> str:
    """得分率 change in percentage points, as the report shows it: +0.3 / -1.2 / —."""
    if delta is None:
        return "—"
    rounded = round_rate(delta)
    return f"{rounded:+.1f}" if rounded else "0.0"
