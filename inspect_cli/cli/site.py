"""`inspect-cli site …`: the 点位 register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inspect_cli.cli.args import SiteArg, unit_option
from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, import_plan, print_json, print_table, say, table
from inspect_cli.queries import scored_inspections
from inspect_cli.scoring import format_rate
from inspect_cli.sites import FIELD_LABELS, add_site, import_register, resolve_site, search_sites

app = typer.Typer(help="点位台账：导入、添加、查找。", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="点位台账 .xlsx 或 .csv（UTF-8 / GBK）")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示将发生的变化，不写入")] = False,
    as_json: JsonOption = False,
) -> None:
    """导入点位台账；按点位编号（或名称+类型）更新，不会重复。例：inspect-cli site import 点位台账.xlsx"""
    store, checklists = state.store(), state.checklists()
    report = import_register(store, checklists, file, dry_run=dry_run)
    if as_json:
        print_json(report)
        return
    import_plan(
        report,
        dry_run,
        ["点位编号", "点位名称", "点位类型"],
        lambda c: [c.site.code, c.site.name, c.site.site_type],
        FIELD_LABELS,
    )
    if report.new_units:
        verb = "将加入" if dry_run else "已加入"
        say(f"{verb}单位名录的新单位 {len(report.new_units)} 个：{'、'.join(report.new_units)}")


@app.command()
def add(
    name: Annotated[str, typer.Option("--name", help="点位名称")],
    site_type: Annotated[str, typer.Option("--type", metavar="TYPE", help="点位类型（名称、代码或别名）")],
    code: Annotated[str | None, typer.Option("--code", help="点位编号（不填则按类型自动生成）")] = None,
    district: Annotated[str | None, typer.Option("--district", help="区县")] = None,
    street: Annotated[str | None, typer.Option("--street", help="街道")] = None,
    community: Annotated[str | None, typer.Option("--community", help="社区")] = None,
    grid: Annotated[str | None, typer.Option("--grid", help="网格")] = None,
    address: Annotated[str | None, typer.Option("--address", help="具体地址")] = None,
    unit: Annotated[str | None, unit_option("--unit", help="责任单位")] = None,
    partner: Annotated[str | None, unit_option("--partner", help="包抓单位")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="负责人")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="联系电话")] = None,
    lng: Annotated[str | None, typer.Option("--lng", help="经度")] = None,
    lat: Annotated[str | None, typer.Option("--lat", help="纬度")] = None,
    new_unit: Annotated[bool, typer.Option("--new-unit", help="责任单位或包抓单位不在单位名录中：加入名录")] = False,
    as_json: JsonOption = False,
) -> None:
    """添加一个点位。例：inspect-cli site add --name 东城农贸市场 --type 农贸市场 --street 东城街道"""
    values = {
        "code": code,
        "name": name,
        "site_type": site_type,
        "district": district,
        "street": street,
        "community": community,
        "grid": grid,
        "address": address,
        "unit": unit,
        "partner": partner,
        "contact": contact,
        "phone": phone,
        "lng": lng,
        "lat": lat,
    }
    change = add_site(state.store(), state.checklists(), values, new_unit)
    if as_json:
        print_json(change.site)
        return
    say(f"已添加点位 {change.site.code} {change.site.name}（{change.site.site_type}）")


@app.command("list")
def list_(
    site_type: Annotated[str | None, typer.Option("--type", metavar="TYPE", help="点位类型")] = None,
    street: Annotated[str | None, typer.Option("--street", help="街道（包含即可）")] = None,
    unit: Annotated[str | None, unit_option("--unit", help="责任单位或包抓单位（包含即可）")] = None,
    search: Annotated[str | None, typer.Option("--search", "-s", help="编号、名称片段或拼音首字母，如 nmsc")] = None,
    as_json: JsonOption = False,
) -> None:
    """列出点位。例：inspect-cli site list --search nmsc --street 东城"""
    type_name = state.checklists().get(site_type).site_type if site_type else None
    sites = search_sites(state.store(), search=search, site_type=type_name, street=street, unit=unit)
    if as_json:
        print_json(sites)
        return
    rows = [[s.code, s.name, s.site_type, s.street, s.community, s.unit, s.partner] for s in sites]
    print_table(table(LIST_COLUMNS, rows))
    say(f"共 {len(sites)} 个点位")


# The code and the name stay; the register's other fields go as the terminal narrows.
LIST_COLUMNS = [
    Col("点位编号", Kind.CODE),
    Col("点位名称"),
    Col("点位类型", drop=1, min=8, short="类型"),
    Col("街道", drop=1, min=8),
    Col("社区", drop=3),
    Col("责任单位", drop=2, min=14),
    Col("包抓单位", drop=3, min=12),
]
HISTORY_COLUMNS = [
    Col("检查编号", Kind.CODE),
    Col("日期", Kind.DATE),
    Col("检查人", drop=1, min=8),
    Col("状态", Kind.LABEL),
    Col("得分率", Kind.PERCENT),
]


@app.command()
def show(
    site: SiteArg,
    as_json: JsonOption = False,
) -> None:
    """显示点位详情和检查记录。例：inspect-cli site show NMSC-001"""
    store = state.store()
    found = resolve_site(store, site)
    history = scored_inspections(store, finished_only=False, site_id=found.id)
    if as_json:
        print_json(
            {
                "site": found,
                "inspections": [
                    {
                        "no": s.inspection.no,
                        "date": s.inspection.date,
                        "status": s.inspection.status,
                        "rate": s.score.rate,
                    }
                    for s in history
                ],
            }
        )
        return
    fields = [
        ("点位编号", found.code),
        ("点位名称", found.name),
        ("点位类型", found.site_type),
        ("区县", found.district),
        ("街道", found.street),
        ("社区", found.community),
        ("网格", found.grid),
        ("具体地址", found.address),
        ("责任单位", found.unit),
        ("包抓单位", found.partner),
        ("负责人", found.contact),
        ("联系电话", found.phone),
        ("经纬度", f"{found.lng}, {found.lat}" if found.lng is not None else None),
    ]
    print_table(
        table([Col("项目", Kind.LABEL), Col("内容", min=20)], [[k, v or "—"] for k, v in fields], show_header=False)
    )
    if history:
        rows = [
            [
                s.inspection.no,
                s.inspection.date,
                "、".join(s.inspection.inspectors),
                s.inspection.status_label,
                format_rate(s.score.rate),
            ]
            for s in history
        ]
        print_table(table(HISTORY_COLUMNS, rows, title="检查记录"))
    else:
        say("尚无检查记录")
