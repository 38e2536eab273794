"""`inspect-cli plan …`: 双随机 inspection plans (draw, show, status, coverage, verify)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, Short, out, print_json, print_table, say, table, warn
from inspect_cli.dates import today
from inspect_cli.errors import InputError
from inspect_cli.scoring import format_rate
from inspect_cli.text import clean_name

if TYPE_CHECKING:
    from inspect_cli.plans import Plan

app = typer.Typer(help="双随机检查计划：抽取点位与检查组、任务单、完成情况、覆盖率。", no_args_is_help=True)

WeekOption = Annotated[
    str | None, typer.Option("--week", "-w", metavar="YYYY-Www", help="计划的周，如 2026-W49（默认本周）")
]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]
UNPLANNED_SHOWN = 20  # 计划外 inspections listed in the terminal


@app.command("draw")
def draw(
    week: Annotated[str, typer.Option("--week", "-w", metavar="YYYY-Www", help="计划的周，如 2026-W49")],
    per_type: Annotated[int, typer.Option("--per-type", "-n", help="每类点位抽取的个数（不足则全抽）")],
    inspectors: Annotated[
        list[str], typer.Option("--inspectors", "-i", metavar="姓名,姓名", help="参加的检查人（逗号分隔或重复）")
    ],
    seed: Annotated[
        str | None, typer.Option("--seed", help="随机种子（默认随机生成；同样的种子和输入抽出同样的计划）")
    ] = None,
    avoid: Annotated[
        list[str] | None,
        typer.Option("--avoid", metavar="姓名=街道", help="回避：此人不检查这些街道（可重复，街道用逗号分隔）"),
    ] = None,
    weight: Annotated[
        list[str] | None,
        typer.Option(
            "--weight",
            metavar="名=值",
            help="抽取权重：recent 久未检查、score 上次得分低、open 待整改问题多（默认 recent=2,score=2,open=1；全为 0 则等概率）",
        ),
    ] = None,
    site_type: Annotated[
        list[str] | None, typer.Option("--type", "-t", metavar="类型", help="只抽这些点位类型（可重复；默认全部）")
    ] = None,
    cover_all: Annotated[
        bool, typer.Option("--cover-all", help="今年检查次数最少的点位先抽：每类点位都查过一次后才有第二次")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="这一周已有计划时重新抽取（原计划保留在历史中）")] = False,
    as_json: JsonOption = False,
) -> None:
    """抽取一周的双随机检查计划：随机抽点位、随机组队、派点位。例：inspect-cli plan draw --week 2026-W49 --per-type 3 --inspectors 张三,李四,王五,赵六 --seed 20261130"""
    from inspect_cli import plans as core

    names = core.parse_inspectors(inspectors)
    avoided = core.parse_avoid(avoid or [], names)
    weights = core.Weights.parse(weight or [])
    store = state.store()
    plan = core.make_plan(
        store, week, per_type, names, seed=seed, avoid=avoided, weights=weights, types=site_type,
        cover_all=cover_all, force=force,
    )  # fmt: skip
    if plan.date_from <= today():
        # Not refused (a plan for the record, a late start), but said: it is in the plan too.
        warn(f"{plan.week} 已于 {plan.date_from} 开始：计划应在周一之前抽取，本次抽取时间已记录在计划中")
    if as_json:
        print_json(core.plan_data(plan))
        return
    if plan.replaced is not None:
        say(
            f"已重新抽取：原计划（{plan.replaced.drawn_at[:16].replace('T', ' ')} 抽取，种子 {plan.replaced.seed}）保留在历史中"
        )
    _show(plan)
    say("复核（用保存的种子和输入重抽一遍，应完全一致）：")
    say(f"  inspect-cli plan verify --week {plan.week}")


@app.command("show")
def show(
    week: WeekOption = None,
    pair: Annotated[int | None, typer.Option("--pair", "-p", help="只看这一组")] = None,
    inspector: Annotated[str | None, typer.Option("--inspector", "-i", metavar="姓名", help="只看此人所在的组")] = None,
    history: Annotated[bool, typer.Option("--history", help="列出这一周的每一次抽取（含被重抽替换的）")] = False,
    as_json: JsonOption = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="写入 .xlsx 任务单：每组一张工作表，可打印")
    ] = None,
) -> None:
    """查看一周的检查计划，或导出各组的任务单。例：inspect-cli plan show --week 2026-W49 -o 任务单.xlsx"""
    from inspect_cli import plans as core

    if output is not None and output.suffix.lower() != ".xlsx":
        raise InputError(f"输出文件应以 .xlsx 结尾：{output}")
    if pair is not None and inspector is not None:
        raise InputError("--pair 与 --inspector 只能用一个")
    if history and (output is not None or pair is not None or inspector is not None):
        raise InputError("--history 列出每一次抽取，不能与 -o、--pair、--inspector 同用")
    store = state.store()
    if history:
        draws = core.history(store, week or core.this_week())
        if as_json:
            print_json([core.plan_data(p) for p in draws])
            return
        _history(draws)
        return
    plan = core.load_plan(store, week)
    chosen = _chosen_pair(plan, pair, inspector)
    if output is not None:
        from inspect_cli.excel.task_sheet import write_task_sheets

        sheets = write_task_sheets(plan, output, state.settings().office.name, chosen)
        if not as_json:
            say(f"已导出 {plan.week} 检查任务单：{output}")
            out.print(table(["工作表", "点位数"], [[name, rows] for name, rows in sheets.items()]))
            return
    if as_json:
        data = core.plan_data(plan)
        if chosen is not None:
            data["visits"] = [v for v in data["visits"] if v["pair"] == chosen]
        print_json(data)
        return
    _show(plan, chosen)


def _chosen_pair(plan: Plan, pair: int | None, inspector: str | None) -> int | None:
    from inspect_cli import plans as core
    from inspect_cli.errors import NotFoundError

    if inspector is not None:
        return core.only_pair_of(plan, clean_name(inspector, "检查人姓名", required=True) or "")
    if pair is not None and not 1 <= pair <= len(plan.pairs):
        raise NotFoundError(f"{plan.week} 没有第{pair}组（共 {len(plan.pairs)} 组）")
    return pair


def _show(plan: Plan, only: int | None = None) -> None:
    from inspect_cli import plans as core

    say(f"{plan.title} 双随机检查计划：{len(plan.visits)} 个点位，{len(plan.pairs)} 个检查组")
    say(core.inputs_text(plan))
    say(f"抽取于 {plan.drawn_at[:16].replace('T', ' ')}")
    for number in range(1, len(plan.pairs) + 1):
        if only is not None and number != only:
            continue
        visits = [v for v in plan.visits if v.pair == number]
        columns = [
            Col("序号", Kind.NUMBER),
            Col("点位编码", Kind.CODE),
            Col("点位名称", min=12),
            Col("类型", Kind.LABEL, drop=2),
            Col("街道", Kind.LABEL, drop=1),
            Col("地址", drop=4),
            Col("抽取依据", drop=3),
        ]
        body = [
            [n, v.code, v.name, v.site_type, v.street, v.address, Short(v.reason, _short_reason(v.reason))]
            for n, v in enumerate(visits, start=1)
        ]
        print_table(table(columns, body, title=f"第{number}组：{plan.pair_names(number)}（{len(visits)} 个点位）"))


_SHORTER = (
    (re.compile(r"距上次检查 (\d+) 天"), r"\1天未查"),
    (re.compile(r"上次得分率 ([\d.]+%)"), r"\1"),
    (re.compile(r"待整改问题 (\d+) 个"), r"待改\1"),
    (re.compile(r"此前未检查过"), "未查过"),
    (re.compile(r"；"), " "),
)


def _short_reason(reason: str) -> str:
    """距上次检查 14 天；上次得分率 82.5%；待整改问题 2 个 → 14天未查 82.5% 待改2 (a narrow table)."""
    for pattern, replacement in _SHORTER:
        reason = pattern.sub(replacement, reason)
    return reason


def _history(draws: list[Plan]) -> None:
    columns = [
        Col("次序", Kind.NUMBER),
        Col("抽取时间", Kind.TIME),
        Col("种子", Kind.CODE),
        Col("点位数", Kind.NUMBER),
        Col("检查组", min=16),
        Col("状态", Kind.LABEL),
    ]
    body = [
        [
            n, p.drawn_at, p.seed, len(p.visits), "；".join("、".join(pair) for pair in p.pairs),
            "现行" if p.in_force else "已被重抽替换",
        ]
        for n, p in enumerate(draws, start=1)
    ]  # fmt: skip
    print_table(table(columns, body, title=f"{draws[0].week} 的抽取记录"))


@app.command("status")
def status(week: WeekOption = None, as_json: JsonOption = False) -> None:
    """计划完成情况：每组已完成、进行中、未检查、漏检，以及计划外的检查。例：inspect-cli plan status --week 2026-W49"""
    from inspect_cli import plans as core

    result = core.status(state.store(), week)
    plan = result.plan
    if as_json:
        data = core.plan_data(plan)
        data["as_of"] = result.as_of.isoformat()
        data["pairs"] = [
            {"pair": p.pair, "inspectors": plan.pairs[p.pair - 1], "planned": p.planned, "done": p.done,
             "started": p.started, "pending": p.pending, "missed": p.missed, "rate": p.rate}
            for p in result.pairs
        ]  # fmt: skip
        data["unplanned"] = [
            {"no": i["no"], "date": i["date"], "code": i["code"], "name": i["name"], "status": i["status"],
             "inspectors": i["inspectors"]}
            for i in result.unplanned
        ]  # fmt: skip
        print_json(data)
        return
    columns = [
        Col("检查组", Kind.LABEL),
        Col("检查人", min=8),
        Col("计划", Kind.NUMBER),
        Col("已完成", Kind.NUMBER),
        Col("进行中", Kind.NUMBER),
        Col("未检查", Kind.NUMBER),
        Col("漏检", Kind.NUMBER),
        Col("完成率", Kind.PERCENT),
    ]
    body = [
        [f"第{p.pair}组", p.inspectors, p.planned, p.done, p.started, p.pending, p.missed, format_rate(p.rate)]
        for p in result.pairs
    ]
    total = core.PairStatus(0, "", *(sum(getattr(p, f) for p in result.pairs) for f in
                                     ("planned", "done", "started", "pending", "missed")))  # fmt: skip
    body.append(
        ["合计", "", total.planned, total.done, total.started, total.pending, total.missed, format_rate(total.rate)]
    )
    print_table(table(columns, body, title=f"{plan.title} 计划完成情况（截至 {result.as_of:%m月%d日}）"))
    late = [v for v in plan.visits if v.state in (core.MISSED, core.PENDING)]
    if late:
        print_table(
            table(
                [
                    Col("检查组", Kind.LABEL),
                    Col("点位编码", Kind.CODE),
                    Col("点位名称", min=12),
                    Col("街道", drop=1),
                    Col("状态", Kind.LABEL),
                ],
                [[f"第{v.pair}组", v.code, v.name, v.street, v.state] for v in late],
                title="尚未检查的计划点位",
            )  # fmt: skip
        )
    others = [v for v in plan.visits if v.by_other_pair]
    if others:
        print_table(
            table(
                [
                    Col("检查组", Kind.LABEL),
                    Col("点位编码", Kind.CODE),
                    Col("点位名称", min=12),
                    Col("检查编号", Kind.CODE),
                    Col("日期", Kind.DATE),
                ],
                [[f"第{v.pair}组", v.code, v.name, v.inspection_no, v.inspected_on] for v in others],
                title="由本组以外的人检查的计划点位",
            )  # fmt: skip
        )
    if not result.unplanned:
        say("本周没有计划外检查")
        return
    shown = result.unplanned[:UNPLANNED_SHOWN]
    print_table(
        table(
            [
                Col("检查编号", Kind.CODE),
                Col("日期", Kind.DATE),
                Col("点位编码", Kind.CODE),
                Col("点位名称", min=12),
                Col("检查人", drop=1),
            ],
            [[i["no"], i["date"], i["code"], i["name"], "、".join(i["inspectors"])] for i in shown],
            title=f"计划外检查 {len(result.unplanned)} 次"
            + (f"（列出前 {UNPLANNED_SHOWN} 次，--json 列出全部）" if len(result.unplanned) > UNPLANNED_SHOWN else ""),
        )  # fmt: skip
    )


@app.command("coverage")
def coverage(
    year: Annotated[int | None, typer.Option("--year", "-y", help="年份（默认今年）")] = None,
    as_json: JsonOption = False,
) -> None:
    """点位覆盖：每类点位今年检查过 0、1、2、3 次及以上的个数。例：inspect-cli plan coverage --year 2026"""
    from inspect_cli import plans as core

    chosen = today().year if year is None else year
    rows = core.coverage(state.store(), chosen)
    if as_json:
        print_json(
            {
                "year": chosen,
                "types": [
                    {
                        "site_type": r.site_type,
                        "sites": r.sites,
                        "covered": r.covered,
                        "rate": r.rate,
                        "by_visits": {("3+" if n == core.COVERAGE_TOP else str(n)): c for n, c in r.by_visits.items()},
                    }
                    for r in rows
                ],
            }  # fmt: skip
        )
        return
    if not rows:
        warn("点位台账为空：请先用 inspect-cli site import 导入点位")
        return
    columns = [
        Col("点位类型", Kind.LABEL),
        Col("点位数", Kind.NUMBER),
        Col("未检查", Kind.NUMBER),
        Col("1 次", Kind.NUMBER),
        Col("2 次", Kind.NUMBER),
        Col("3 次及以上", Kind.NUMBER, short="≥3 次"),
        Col("覆盖率", Kind.PERCENT),
    ]
    body = [[r.site_type, r.sites, *(r.by_visits[n] for n in range(4)), format_rate(r.rate)] for r in rows]
    sites = sum(r.sites for r in rows)
    totals = [sum(r.by_visits[n] for r in rows) for n in range(4)]
    body.append(["合计", sites, *totals, format_rate(100.0 * (sites - totals[0]) / sites if sites else None)])
    print_table(table(columns, body, title=f"{chosen}年点位检查覆盖（已完成的检查）"))


@app.command("verify")
def verify(week: WeekOption = None) -> None:
    """复核一周的计划：用保存的种子和输入重新抽取，与计划逐项比对。例：inspect-cli plan verify --week 2026-W49"""
    from inspect_cli import plans as core
    from inspect_cli.errors import StateError

    result = core.verify(state.store(), week)
    plan = result.plan
    if result.differences:
        raise StateError(f"{plan.week} 的计划与重抽结果不一致：{'；'.join(result.differences)}")
    say(
        f"{plan.week} 的计划复核一致：{core.inputs_text(plan)}，"
        f"{sum(len(c) for c in plan.inputs.candidates.values())} 个候选点位，"
        f"重抽得到同样的 {len(plan.visits)} 个点位和 {len(plan.pairs)} 个检查组"
    )
