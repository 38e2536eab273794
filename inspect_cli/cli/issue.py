"""`inspect-cli issue …` (the rectification ledger) and `inspect-cli recheck SITE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from inspect_cli import dates
from inspect_cli.cli.args import ProblemArg, SiteArg, SiteOption, unit_option
from inspect_cli.cli.context import state
from inspect_cli.cli.render import (
    Bar,
    Col,
    Kind,
    Short,
    out,
    print_csv,
    print_json,
    print_json_rows,
    print_table,
    say,
    table,
)
from inspect_cli.dates import optional_period, parse_date
from inspect_cli.errors import InputError

# Typer reads `stats --by`'s type whenever it builds this group, `issue --help` included: it
# lives in models, which loads no store. The rest of the core is imported by the command that uses it.
from inspect_cli.models import NO_UNIT, Problem, ProblemStatus, StatsBy
from inspect_cli.scoring import format_rate

if TYPE_CHECKING:
    from datetime import date

    from inspect_cli import rectification as core
    from inspect_cli.queries import ProblemStats

app = typer.Typer(help="整改问题：台账、上报整改、复查、销号、统计。", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]
ByOption = Annotated[
    str | None, typer.Option("--by", metavar="NAME", help="操作人（默认为 $INSPECT_CLI_USER 或登录名）")
]
PhotoOption = Annotated[list[Path] | None, typer.Option("--photo", "-p", help="照片路径（可重复）")]


def register(root: typer.Typer) -> None:
    root.command("recheck")(recheck_site)


def problem_json(problem: Problem, today) -> dict:  # type: ignore[no-untyped-def]
    return {
        "no": problem.no,
        "id": problem.id,
        "status": problem.status.value,
        "status_label": problem.status_label,
        "site_code": problem.site_code,
        "site_name": problem.site_name,
        "site_type": problem.site_type,
        "street": problem.street,
        "inspection_no": problem.inspection_no,
        "item_id": problem.item_id,
        "item_text": problem.item_text,
        "category": problem.category,
        "indicator": problem.indicator,
        "description": problem.description,
        "count": problem.count,
        "severity": problem.severity.value,
        "unit": problem.unit,
        "found_date": problem.found_date.isoformat(),
        "deadline": problem.deadline.isoformat(),
        "overdue_days": problem.overdue_days(today),
        "fixed_date": _iso(problem.fixed_date),
        "closed_date": _iso(problem.closed_date),
        "on_time": problem.on_time,
        "recheck_count": problem.recheck_count,
        "rework_count": problem.rework_count,
        "repeat_of": problem.repeat_of,
        "occurrences": problem.occurrences,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _date(value: str | None, field: str):  # type: ignore[no-untyped-def]
    return parse_date(value, field) if value else None


@app.command("list")
def list_(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            "-s",
            metavar="STATUS",
            help="open 待整改 / fixed 已整改待复查 / closed 已销号 / dismissed 不属实 / deferred 长期整改（可重复）",
        ),
    ] = None,
    unit: Annotated[str | None, unit_option("--unit", help="责任单位（包含即可）")] = None,
    no_unit: Annotated[bool, typer.Option("--no-unit", help="只看没有责任单位的问题")] = False,
    street: Annotated[str | None, typer.Option("--street", help="街道（包含即可）")] = None,
    site: SiteOption = None,
    site_type: Annotated[str | None, typer.Option("--type", metavar="TYPE", help="点位类型")] = None,
    category: Annotated[str | None, typer.Option("--category", help="问题类别（包含即可）")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只看逾期的问题")] = False,
    repeat: Annotated[bool, typer.Option("--repeat", help="只看反复出现的问题")] = False,
    date_from: Annotated[str | None, typer.Option("--from", help="发现日期起")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="发现日期止")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="最多列出 N 个（屏幕默认 50）")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="列出全部（屏幕上分页打印）")] = False,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="输出 CSV（Excel/WPS 可直接打开）")] = False,
) -> None:
    """整改问题台账，按整改时限排序。例：inspect-cli issue list --overdue --unit 城市管理局"""
    from inspect_cli.queries import count_problems, iter_problems
    from inspect_cli.sites import resolve_site

    if as_json and as_csv:
        raise InputError("--json 和 --csv 只能选一个")
    store = state.store()
    today = dates.today()
    filters = {
        "statuses": [ProblemStatus.parse(s) for s in status] if status else None,
        "overdue": overdue,
        "date_from": _date(date_from, "起始日期"),
        "date_to": _date(date_to, "结束日期"),
        "today": today,
        "unit": unit,
        "no_unit": no_unit,
        "street": street,
        "site_id": resolve_site(store, site).id if site else None,
        "site_type": state.checklists().get(site_type).site_type if site_type else None,
        "category": category,
        "repeat": repeat,
    }
    with store.snapshot():  # one state of the ledger, read as it streams (a server's cursor lives in it)
        if as_json or as_csv:
            found = iter_problems(store, limit=limit, **filters)  # type: ignore[arg-type]
            if as_json:
                print_json_rows(problem_json(p, today) for p in found)
            else:
                print_csv(list(CSV_COLUMNS), (_csv_row(p, today) for p in found))
            return
        total, late_count = count_problems(store, **filters)  # type: ignore[arg-type]
        shown = None if show_all else limit or SCREEN_ROWS
        found = iter_problems(store, limit=shown, **filters)  # type: ignore[arg-type]
        printed = 0
        while page := [p for _, p in zip(range(PAGE_ROWS), found, strict=False)]:
            print_table(table(LIST_COLUMNS, [_cells(p, today) for p in page], styles=[_style(p, today) for p in page]))
            printed += len(page)
    summary = f"共 {total:,} 个问题，其中逾期 {late_count:,} 个（截至 {today}）"
    if printed < total:
        summary += f"；显示前 {printed:,} 个，--limit N 显示更多，--all 全部列出"
    say(summary)


SCREEN_ROWS = 50
# A long listing is printed as tables of this many rows, so memory stays flat however many.
PAGE_ROWS = 500
# What and where, when due and how late stay at every width; as the terminal narrows the
# item goes first (the description says what is wrong), then the day found, then the unit.
LIST_COLUMNS = [
    Col("问题编号", Kind.CODE),
    Col("点位", min=14),
    Col("检查项", drop=4, min=24, one_line=True),
    Col("问题描述", min=16),
    Col("责任单位", drop=2, min=12),
    Col("发现日期", Kind.DATE, drop=3, short="发现"),
    Col("整改时限", Kind.DATE, short="时限"),
    Col("状态", Kind.LABEL),
    Col("逾期天数", Kind.NUMBER, short="逾期"),
]
CSV_COLUMNS = {
    "问题编号": lambda p, today: p.no,
    "点位编码": lambda p, today: p.site_code,
    "点位名称": lambda p, today: p.site_name,
    "点位类型": lambda p, today: p.site_type,
    "街道": lambda p, today: p.street,
    "问题类别": lambda p, today: p.category,
    "检查项": lambda p, today: p.item_text,
    "问题描述": lambda p, today: p.description,
    "结果": lambda p, today: p.severity.label,
    "责任单位": lambda p, today: p.unit,
    "发现日期": lambda p, today: p.found_date,
    "整改时限": lambda p, today: p.deadline,
    "状态": lambda p, today: p.status_label,
    "逾期天数": lambda p, today: p.overdue_days(today) or None,
    "整改日期": lambda p, today: p.fixed_date,
    "销号日期": lambda p, today: p.closed_date,
    "反复出现": lambda p, today: "是" if p.repeat_of else None,
}


def _csv_row(problem: Problem, today) -> list[object]:  # type: ignore[no-untyped-def]
    return [cell(problem, today) for cell in CSV_COLUMNS.values()]


def _cells(p: Problem, today) -> list[object]:  # type: ignore[no-untyped-def]
    late = p.overdue_days(today)
    return [
        p.no,
        f"{p.site_code} {p.site_name}",
        p.item_text,
        p.description or "",
        p.unit or NO_UNIT,
        p.found_date,
        p.deadline,
        Short(p.status_label + ("（反复出现）" if p.repeat_of else ""), _short_status(p)),
        late or "",
    ]


def _short_status(p: Problem) -> str:
    """The status in a word or two (返工 implies 待整改; 待复查 is accepted as input too)."""
    if p.status is ProblemStatus.OPEN and p.rework_count:
        word = f"返工{p.rework_count}次"
    else:
        word = SHORT_STATUS.get(p.status, p.status.label)
    return f"{word} 反复" if p.repeat_of else word


SHORT_STATUS = {ProblemStatus.FIXED: "待复查"}


def _style(p: Problem, today) -> str | None:  # type: ignore[no-untyped-def]
    return "red" if p.overdue_days(today) else None


@app.command()
def show(problem: ProblemArg, as_json: JsonOption = False) -> None:
    """问题详情、照片和全部处理记录。例：inspect-cli issue show ZG-2026-0001"""
    from inspect_cli import rectification as core

    store = state.store()
    found, events = core.history(store, problem)
    today = dates.today()
    media = state.media_dir
    if as_json:
        print_json(
            {
                **problem_json(found, today),
                "history": [
                    {
                        "at": e.at,
                        "date": e.date,
                        "action": e.action,
                        "label": e.label,
                        "from_status": e.from_status,
                        "to_status": e.to_status,
                        "actor": e.actor,
                        "note": e.note,
                        "inspection_no": e.inspection_no,
                        "count": e.count,
                        "photos": [str(media / p.stored_name) for p in e.photos],
                    }
                    for e in events
                ],
            }
        )
        return
    late = found.overdue_days(today)
    fields = [
        ("问题编号", found.no),
        ("状态", found.status_label + (f"，逾期 {late} 天" if late else "")),
        ("点位", f"{found.site_code} {found.site_name}（{found.site_type}，{found.street or '—'}）"),
        ("检查项", f"{found.item_id} {found.item_text}"),
        ("问题类别", found.category),
        ("问题描述", found.description or "—"),
        ("结果", f"{found.severity.label}，{found.count} 处"),
        ("责任单位", found.unit or NO_UNIT),
        (
            "发现日期",
            f"{found.found_date}（{'检查 ' + found.inspection_no if found.inspection_no else '检查记录不在本机'}）",
        ),
        ("整改时限", str(found.deadline)),
        ("复查 / 返工", f"{found.recheck_count} 次 / {found.rework_count} 次"),
        ("反复出现", f"是，前一问题 {found.repeat_of}" if found.repeat_of else "否"),
        ("重复发现", f"{found.occurrences} 次" if found.occurrences else "无"),
    ]
    print_table(table(FIELD_COLUMNS, [list(f) for f in fields], show_header=False))
    rows = [
        [
            e.date,
            e.label,
            f"{e.from_status.label + ' ' if e.from_status else ''}→ {e.to_status.label}"
            if e.to_status and e.to_status != e.from_status
            else "",
            e.actor or "",
            e.note or "",
            e.at,
        ]
        for e in events
    ]
    print_table(table(HISTORY_COLUMNS, rows, title="处理记录"))
    # A path is printed whole on a line of its own, so that it can be copied (a terminal
    # narrower than the line wraps it for the eye only); in a table cell it would be folded.
    for e in events:
        for photo in e.photos:
            out.print(Text(f"照片（{e.date} {e.label}）：{media / photo.stored_name}"), soft_wrap=True)


FIELD_COLUMNS = [Col("项目", Kind.LABEL), Col("内容", min=20)]
HISTORY_COLUMNS = [
    Col("日期", Kind.DATE),
    Col("处理", min=8),
    Col("状态变化", drop=2),
    Col("操作人", drop=1),
    Col("说明", min=16),
    Col("记录时间", Kind.TIME, drop=3),
]


def _done(change: core.Change, message: str) -> None:
    say(f"{change.problem.no}：{message}，当前状态 {change.problem.status_label}")


@app.command()
def fixed(
    problem: ProblemArg,
    note: Annotated[str, typer.Option("--note", "-n", help="整改情况")],
    day: Annotated[str | None, typer.Option("--date", "-d", help="整改完成日期（默认今天）")] = None,
    photo: PhotoOption = None,
    by: ByOption = None,
) -> None:
    """责任单位上报已整改（待复查）。例：inspect-cli issue fixed ZG-2026-0001 --note 已清理 --photo after.jpg"""
    from inspect_cli import rectification as core

    change = core.report_fixed(
        state.store(),
        problem,
        note,
        day=_date(day, "整改完成日期"),
        photos=list(photo or []),
        media_dir=state.media_dir,
        actor=state.actor(by),
    )
    _done(change, "已上报整改")


@app.command()
def recheck(
    problem: ProblemArg,
    passed: Annotated[bool, typer.Option("--pass", help="复查通过（销号）")] = False,
    failed: Annotated[bool, typer.Option("--fail", help="复查未通过（返工）")] = False,
    note: Annotated[str | None, typer.Option("--note", "-n", help="复查说明")] = None,
    day: Annotated[str | None, typer.Option("--date", "-d", help="复查日期（默认今天）")] = None,
    photo: PhotoOption = None,
    force: Annotated[bool, typer.Option("--force", help="单位未上报整改也销号（须有 --reason）")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="强制销号的理由")] = None,
    by: ByOption = None,
) -> None:
    """复查一个问题：--pass 销号，--fail 返工。例：inspect-cli issue recheck ZG-2026-0001 --pass --note 已整改到位"""
    from inspect_cli import rectification as core

    if passed == failed:
        both = "--pass 和 --fail 只能选一个" if passed else "请指定复查结果：--pass（通过）或 --fail（未通过）"
        raise InputError(both)
    change = core.recheck(
        state.store(),
        problem,
        passed,
        note=note,
        day=_date(day, "复查日期"),
        photos=list(photo or []),
        media_dir=state.media_dir,
        actor=state.actor(by),
        force=force,
        reason=reason,
    )
    _done(change, core.RECHECK_WORDS[change.event])


@app.command()
def dismiss(
    problem: ProblemArg,
    reason: Annotated[str, typer.Option("--reason", help="不属实的理由")],
    by: ByOption = None,
) -> None:
    """认定问题不属实。例：inspect-cli issue dismiss ZG-2026-0001 --reason 该处不属于点位范围"""
    from inspect_cli import rectification as core

    _done(core.dismiss(state.store(), problem, reason, actor=state.actor(by)), "已认定不属实")


@app.command()
def defer(
    problem: ProblemArg,
    until: Annotated[str, typer.Option("--until", help="新的完成日期")],
    reason: Annotated[str, typer.Option("--reason", help="长期整改的理由")],
    by: ByOption = None,
) -> None:
    """转为长期整改（需理由和新的完成日期）。例：inspect-cli issue defer ZG-2026-0001 --until 2027-03-31 --reason 需立项改造"""
    from inspect_cli import rectification as core

    change = core.defer(state.store(), problem, parse_date(until, "完成日期"), reason, actor=state.actor(by))
    _done(change, f"已转为长期整改，完成时限 {change.problem.deadline}")


@app.command()
def assign(
    problem: ProblemArg,
    unit: Annotated[str, unit_option("--unit", help="新的责任单位（单位名录中的名称、简称或曾用名）")],
    new_unit: Annotated[bool, typer.Option("--new-unit", help="单位不在单位名录中：加入名录")] = False,
    by: ByOption = None,
) -> None:
    """改派责任单位。例：inspect-cli issue assign ZG-2026-0001 --unit 城市管理局"""
    from inspect_cli import rectification as core

    change = core.assign(state.store(), problem, unit, actor=state.actor(by), allow_new=new_unit)
    _done(change, f"已改派给 {change.problem.unit}")


@app.command()
def deadline(
    problem: ProblemArg,
    day: Annotated[str, typer.Argument(metavar="DATE", help="新的整改时限")],
    by: ByOption = None,
) -> None:
    """调整一个问题的整改时限。例：inspect-cli issue deadline ZG-2026-0001 2026-12-05"""
    from inspect_cli import rectification as core

    change = core.set_deadline(state.store(), problem, parse_date(day, "整改时限"), actor=state.actor(by))
    _done(change, f"整改时限改为 {change.problem.deadline}")


def _stats_json(row: ProblemStats) -> dict:  # type: ignore[no-untyped-def]
    return {
        "name": row.name,
        "total": row.total,
        "closed": row.closed,
        "dismissed": row.dismissed,
        "deferred": row.deferred,
        "fix_rate": row.fix_rate,
        "on_time": row.on_time,
        "on_time_rate": row.on_time_rate,
        "overdue": row.overdue,
        "rechecked": row.rechecked,
        "reworked": row.reworked,
        "rework_rate": row.rework_rate,
        "repeats": row.repeats,
    }


@app.command()
def stats(
    week: Annotated[str | None, typer.Option("--week", "-w", help="ISO 周，如 2026-W47（发现日期在这一周）")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="发现日期起")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="发现日期止")] = None,
    by: Annotated[
        StatsBy | None, typer.Option("--by", help="分组：unit 责任单位 / street 街道 / category 问题类别")
    ] = None,
    bar: Annotated[bool, typer.Option("--bar", help="整改率旁画条形图（整改率后三位标红）")] = False,
    as_json: JsonOption = False,
) -> None:
    """整改统计：问题数、已销号、整改率、按期整改率、逾期、返工率、反复出现。例：inspect-cli issue stats --by unit"""
    from inspect_cli.queries import problem_stats

    start, end = optional_period(week, date_from, date_to)
    rows, total = problem_stats(state.store(), start, end, by)
    if as_json:
        print_json({"groups": [_stats_json(r) for r in rows], "total": _stats_json(total), "as_of": dates.today()})
        return
    columns = [
        Col(by.label if by else "范围", min=14),
        Col("问题数", Kind.NUMBER),
        Col("已销号", Kind.NUMBER, drop=1),
        Col("整改率", Kind.PERCENT),
        *([Col("", Kind.BAR, drop=1)] if bar else []),
        Col("按期整改率", Kind.PERCENT, drop=1, short="按期率"),
        Col("逾期", Kind.NUMBER),
        Col("长期整改", Kind.NUMBER, drop=3, short="长期"),
        Col("不属实", Kind.NUMBER, drop=3),
        Col("返工率", Kind.PERCENT, drop=2),
        Col("反复出现", Kind.NUMBER, drop=2, short="反复"),
    ]
    bars = _fix_rate_bars(rows, total) if bar else []
    body = [
        [
            r.name,
            r.total,
            r.closed,
            format_rate(r.fix_rate),
            *bars[index : index + 1],
            format_rate(r.on_time_rate),
            r.overdue,
            r.deferred,
            r.dismissed,
            format_rate(r.rework_rate),
            r.repeats,
        ]
        for index, r in enumerate([*rows, total])
    ]
    print_table(table(columns, body, title=f"整改统计（截至 {dates.today()}）"))


def _fix_rate_bars(rows: list[ProblemStats], total: ProblemStats) -> list[Bar]:
    """整改率 as bars, the total's last: the three lowest red and marked, none of the three
    highest among them (as the notice's 黑榜 leaves out its 红榜)."""
    ranked = sorted((i for i, r in enumerate(rows) if r.fix_rate is not None), key=lambda i: -(rows[i].fix_rate or 0))
    last = set(ranked[-3:]) - set(ranked[:3])
    bars = [Bar(r.fix_rate, "red", "后三位") if i in last else Bar(r.fix_rate, "green") for i, r in enumerate(rows)]
    return [*bars, Bar(total.fix_rate)]


# --- recheck SITE: walk one site's open problems ---------------------------------------

RECHECK_PROMPT = "复查结果 [1 通过销号 / 2 未通过 / Enter 跳过 / q 退出]："


def recheck_site(
    site: SiteArg,
    day: Annotated[str | None, typer.Option("--date", "-d", help="复查日期（默认今天）")] = None,
    by: ByOption = None,
) -> None:
    """在现场逐个复查一个点位的未销号问题。例：inspect-cli recheck NMSC-001 --by 张三"""
    from inspect_cli import rectification as core
    from inspect_cli.cli.run import Answers, on_terminal
    from inspect_cli.media import split_photo_paths
    from inspect_cli.sites import resolve_site

    store = state.store()
    found = resolve_site(store, site)
    when = _date(day, "复查日期")
    actor = state.actor(by)
    todo = core.recheck_queue(store, found, when)
    if not todo:
        say(f"{found.code} {found.name} 没有待复查的问题")
        return
    if on_terminal("recheck"):
        from inspect_cli.cli.recheck_screen import recheck_screen

        outcome = recheck_screen(store, found, todo, day=when, actor=actor, media_dir=state.media_dir)
        say(outcome.summary())
        if outcome.interrupted:
            raise KeyboardInterrupt
        return
    say(f"复查 {found.code} {found.name}：{len(todo)} 个未销号问题")
    answers = Answers()
    tally: dict[str, int] = {}
    for index, problem in enumerate(todo, start=1):
        out.print()
        out.print(
            f"[{index}/{len(todo)}] {problem.no} · {problem.status_label} · 时限 {problem.deadline}",
            style="bold",
            markup=False,
        )
        out.print(f"{problem.item_text}", markup=False)
        out.print(f"问题：{problem.description or '—'}（{problem.severity.label}，{problem.count} 处）", markup=False)
        if problem.status is ProblemStatus.FIXED:
            report = core.last_note(store, problem, "fixed")
            if report:
                out.print(f"单位上报：{report.note}（{report.date}）", style="cyan", markup=False)
        key = answers.line(RECHECK_PROMPT)
        if key is None or key.strip().lower() == "q":
            _recheck_summary(tally, len(todo))
            return
        key = key.strip().lower()
        if key not in ("", "1", "2"):
            answers.invalid(f"无效的输入 '{key}'，请按 1、2、Enter 或 q")
        if key == "":
            tally["skipped"] = tally.get("skipped", 0) + 1
            continue
        passed = key == "1"
        reason = None
        if passed and problem.status is not ProblemStatus.FIXED:
            reason = answers.line("单位尚未上报整改，直接销号请说明理由（Enter 放弃销号）：")
            if reason is None:
                _recheck_summary(tally, len(todo))
                return
            if not reason.strip():
                tally["skipped"] = tally.get("skipped", 0) + 1
                continue
        note = answers.line("复查说明（可留空）：")
        if note is None:
            _recheck_summary(tally, len(todo))
            return
        raw = answers.line("照片路径（多个用空格分隔，Enter 跳过）：") or ""
        try:
            change = core.recheck(
                store,
                problem.no,
                passed,
                note=note,
                day=when,
                photos=split_photo_paths(raw),
                media_dir=state.media_dir,
                actor=actor,
                force=reason is not None,
                reason=reason,
            )
        except InputError as exc:
            answers.invalid(exc.message)
        tally[change.event] = tally.get(change.event, 0) + 1
        say(f"{change.problem.no}：{core.RECHECK_WORDS[change.event]}")
    _recheck_summary(tally, len(todo))


def _recheck_summary(tally: dict[str, int], total: int) -> None:
    from inspect_cli import rectification as core

    say(core.recheck_summary(total, [event for event, n in tally.items() for _ in range(n)]))
