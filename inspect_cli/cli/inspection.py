"""`inspect-cli inspection …`: inspections already recorded."""

from __future__ import annotations

from typing import Annotated

import typer

from inspect_cli import inspection as core
from inspect_cli.cli.args import InspectionArg, SiteOption
from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, confirm, out, print_json, print_table, say, table
from inspect_cli.dates import parse_date
from inspect_cli.plans import plan_note
from inspect_cli.queries import scored_inspections
from inspect_cli.scoring import format_points, format_rate, item_earned, score_inspection
from inspect_cli.sites import resolve_site

app = typer.Typer(help="检查记录：列表、详情、完成、删除。", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


@app.command("list")
def list_(
    date_from: Annotated[str | None, typer.Option("--from", help="起始日期")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="结束日期")] = None,
    site: SiteOption = None,
    street: Annotated[str | None, typer.Option("--street", help="街道（包含即可）")] = None,
    inspector: Annotated[str | None, typer.Option("--inspector", "-i", metavar="NAME", help="检查人")] = None,
    status: Annotated[
        str | None, typer.Option("--status", metavar="STATUS", help="open（进行中）或 finished（已完成）")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """列出检查记录。例：inspect-cli inspection list --from 2026-11-16 --to 2026-11-22 --street 东城"""
    store = state.store()
    if status not in (None, "open", "finished"):
        from inspect_cli.errors import InputError

        raise InputError(f"--status 应为 open 或 finished，收到 '{status}'")
    site_id = resolve_site(store, site).id if site else None
    scored = scored_inspections(
        store,
        parse_date(date_from, "起始日期") if date_from else None,
        parse_date(date_to, "结束日期") if date_to else None,
        finished_only=False,
        site_id=site_id,
        street=street,
        inspector=inspector,
        status=status,
    )
    if as_json:
        print_json(
            [
                {
                    **_inspection_json(s.inspection),
                    "rate": s.score.rate,
                    "answered": s.score.answered,
                    "items": s.score.items,
                }
                for s in scored
            ]
        )
        return
    rows = [
        [
            s.inspection.no,
            s.inspection.date,
            s.inspection.site_code,
            s.inspection.site_name,
            s.inspection.street,
            "、".join(s.inspection.inspectors),
            s.inspection.status_label,
            f"{s.score.answered}/{s.score.items}",
            format_rate(s.score.rate),
        ]
        for s in scored
    ]
    columns = [
        Col("检查编号", Kind.CODE),
        Col("日期", Kind.DATE),
        Col("点位编号", Kind.CODE, short="点位"),
        Col("点位名称", min=8),
        Col("街道", Kind.LABEL, drop=2),
        Col("检查人", drop=3),
        Col("状态", Kind.LABEL),
        Col("已填", Kind.CODE, drop=1),
        Col("得分率", Kind.PERCENT),
    ]
    print_table(table(columns, rows))
    say(f"共 {len(scored)} 次检查")


def _inspection_json(inspection) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": inspection.id,
        "no": inspection.no,
        "date": inspection.date,
        "site_code": inspection.site_code,
        "site_name": inspection.site_name,
        "site_type": inspection.site_type,
        "street": inspection.street,
        "inspectors": inspection.inspectors,
        "status": inspection.status,
        "checklist_edition": inspection.checklist_edition,
    }


@app.command()
def show(inspection: InspectionArg, as_json: JsonOption = False) -> None:
    """显示一次检查的全部结果和得分。例：inspect-cli inspection show JC-2026-0001"""
    detail = core.detail(state.store(), inspection)
    score = score_inspection(detail.items, detail.results)
    if as_json:
        print_json(
            {
                **_inspection_json(detail.inspection),
                "plan": plan_note(state.store(), detail.inspection.site_id, detail.inspection.date),
                "score": {
                    "earned": score.earned,
                    "full": score.full,
                    "rate": score.rate,
                    "passed": score.passed,
                    "failed": score.failed,
                    "severe": score.severe,
                    "na": score.na,
                    "answered": score.answered,
                    "items": score.items,
                },
                "results": [
                    {
                        "item": item,
                        "result": detail.results[item.id].result if item.id in detail.results else None,
                        "count": detail.results[item.id].count if item.id in detail.results else None,
                        "note": detail.results[item.id].note if item.id in detail.results else None,
                        "photos": detail.results[item.id].photos if item.id in detail.results else [],
                    }
                    for item in detail.items
                ],
            }
        )
        return
    i = detail.inspection
    say(
        f"{i.no} · {i.site_code} {i.site_name}（{i.site_type}）· {i.date} · {'、'.join(i.inspectors) or '—'} · {i.status_label}"
    )
    if note := plan_note(state.store(), i.site_id, i.date):
        say(note)
    rows = []
    for index, item in enumerate(detail.items, start=1):
        answer = detail.results.get(item.id)
        if answer is None:
            rows.append([index, item.id, item.text, "未填", "", f"—/{format_points(item.score)}", "", ""])
            continue
        earned = "—" if answer.result.value == "na" else format_points(item_earned(item, answer.result, answer.count))
        rows.append(
            [
                index,
                item.id,
                item.text,
                answer.result.label,
                answer.count if answer.result.failing else "",
                f"{earned}/{format_points(item.score)}",
                answer.note,
                len(answer.photos) or "",
            ]
        )
    out.print(table(["序号", "编号", "测评标准", "结果", "处数", "得分", "问题描述", "照片"], rows))
    say(
        f"得分 {format_points(score.earned)}/{format_points(score.full)}，得分率 {format_rate(score.rate)}；"
        f"合格 {score.passed}，不合格 {score.failed}，严重不合格 {score.severe}，不适用 {score.na}，"
        f"已填 {score.answered}/{score.items}"
    )


@app.command()
def finish(inspection: InspectionArg) -> None:
    """完成一次检查（所有检查项都已填写）。例：inspect-cli inspection finish JC-2026-0001"""
    detail = core.finish(state.store(), inspection)
    score = score_inspection(detail.items, detail.results)
    say(f"检查 {detail.inspection.no} 已完成，得分率 {format_rate(score.rate)}")


@app.command()
def delete(
    inspection: InspectionArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="不再确认")] = False,
) -> None:
    """删除一次检查及其全部结果（需确认）。例：inspect-cli inspection delete JC-2026-0001"""
    store = state.store()
    detail = core.detail(store, inspection)
    i = detail.inspection
    if not yes:
        question = f"确认删除检查 {i.no}（{i.site_code} {i.site_name}，{i.date}，已填 {len(detail.results)} 项）？"
        if not confirm(question, "--yes"):
            say("未删除")
            return
    core.delete(store, i.id, state.settings().rectification)
    say(f"已删除检查 {i.no}")
