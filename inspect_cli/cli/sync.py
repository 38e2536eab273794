"""`inspect-cli device …` and `inspect-cli sync …`: many laptops, one office."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, print_json, print_table, progress, say, table
from inspect_cli.errors import InputError, NotFoundError, StateError
from inspect_cli.sync import KIND_LABELS

device_app = typer.Typer(help="本机设备：设备代码（编号中的字母）与登记的外业电脑。", no_args_is_help=True)
sync_app = typer.Typer(help="多台电脑合并数据：导出同步包、导入同步包、查看冲突。", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


@device_app.command("show")
def show(as_json: JsonOption = False) -> None:
    """显示本机设备 ID、代码和已登记的设备。例：inspect-cli device show"""
    store = state.store()
    me = store.device()
    devices = store.enrolled_devices()
    if as_json:
        print_json(
            {
                "device_id": me.id,
                "code": me.code,
                "office_id": me.office_id,
                "unsent": store.unsent() if me.office_id else None,
                "enrolled": [{k: v for k, v in d.items() if k != "key"} for d in devices],
            }
        )
        return
    say(f"本机设备代码：{me.code or '（未设置，用 inspect-cli device set A 设置）'}")
    say(f"本机设备 ID：{me.id}")
    if me.office_id:
        say(f"尚未交给创城办的记录：{store.unsent()} 条（用 inspect-cli sync export -o 文件.zip 导出）")
    elif devices:
        say("本机是创城办（登记了外业电脑，没有上级下发包）")
    if devices:
        rows = [
            [d["code"], d["id"] or "（尚未导入过）", "是" if d["key_sent"] else "否", d["last_import"] or "—"]
            for d in devices
        ]
        columns = [
            Col("代码", Kind.CODE),
            Col("设备 ID", Kind.CODE, drop=1),
            Col("已下发密钥", Kind.LABEL, short="密钥"),
            Col("最近导入", Kind.TIME),
        ]
        print_table(table(columns, rows, title="已登记的设备"))


@device_app.command("set")
def set_code(code: Annotated[str, typer.Argument(metavar="CODE", help="1–3 个字母或数字，每台电脑不同")]) -> None:
    """设置本机设备代码，之后的编号带上它（如 JC-2026-A-0001）。例：inspect-cli device set A"""
    me = state.store().set_device_code(code)
    say(f"本机设备代码：{me.code}（新的检查编号形如 JC-2026-{me.code}-0001）")


@device_app.command("enroll")
def enroll(code: Annotated[str, typer.Argument(metavar="CODE", help="外业电脑的设备代码")]) -> None:
    """登记一台外业电脑，之后接受它的同步包。例：inspect-cli device enroll B"""
    from inspect_cli.store.replica import check_device_code

    store = state.store()
    code = check_device_code(code)
    if code == store.device().code:
        raise StateError(f"{code} 是本机自己的代码")
    if store.enrolled_device(code):
        raise StateError(f"设备 {code} 已经登记过")
    store.enroll_device(code, secrets.token_hex(32))
    say(f"已登记设备 {code}；用 inspect-cli sync export --field --for {code} -o 下发包-{code}.zip 给它下发数据和密钥")


@sync_app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="输出的同步包（.zip）")],
    everything: Annotated[bool, typer.Option("--all", help="全部数据（默认只导出创城办尚未确认的修改）")] = False,
    field: Annotated[
        bool, typer.Option("--field", help="下发包：点位台账、单位名录、未完成整改的问题及照片（创城办用）")
    ] = False,
    for_device: Annotated[
        str | None,
        typer.Option("--for", metavar="CODE", help="接收的设备：用它的密钥签名（首个下发包同时下发密钥）"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """导出同步包，交给创城办（或下发给外业电脑）。例：inspect-cli sync export -o 张三-1128.zip"""
    from inspect_cli.config import settings_data
    from inspect_cli.sync.export import export_bundle

    if output.suffix.lower() != ".zip":
        raise InputError(f"同步包应以 .zip 结尾：{output}")
    with progress("写入照片") as bar:
        report = export_bundle(
            state.store(),
            output,
            state.media_dir,
            everything=everything,
            field_bundle=field,
            for_device=for_device.strip().upper() if for_device else None,
            checklist_dirs=state.checklist_dirs if field else None,
            settings=settings_data(state.settings()) if field else None,
            progress=bar,
        )
    if as_json:
        print_json({"file": str(report.path), "kind": report.kind, "records": report.counts, "photos": report.photos})
        return
    what = "下发包" if report.kind == "field" else "同步包"
    total = sum(report.counts.values())
    say(f"已导出{what} {report.path}：{total} 条记录，{report.photos} 张照片")


@sync_app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help="同步包（可多个）")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查并统计，不写入")] = False,
    enroll: Annotated[bool, typer.Option("--enroll", help="同时登记包的来源设备（首次导入时）")] = False,
    as_json: JsonOption = False,
) -> None:
    """导入同步包并合并（可重复导入，顺序无关）。例：inspect-cli sync import 张三-1128.zip 李四-1128.zip"""
    from inspect_cli.sync.exchange import import_bundles

    for path in files:
        if not path.exists():
            raise NotFoundError(f"同步包不存在：{path}")
    with progress("导入同步包") as bar:
        report = import_bundles(
            state.store(),
            files,
            state.media_dir,
            dry_run=dry_run,
            enroll=enroll,
            office_dir=state.office_dir,
            progress=bar,
        )
    counts = {
        "new": report.new,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "merged": report.merged,
        "conflicts": report.conflicts,
        "photos": report.photos,
    }
    if as_json:
        print_json(
            {
                "files": report.files,
                "dry_run": dry_run,
                **counts,
                "enrolled": report.enrolled,
                "already_imported": report.already,
                "by_kind": {k: dict(v) for k, v in report.by_kind.items()},
            }
        )
        return
    head = "（试运行，未写入）" if dry_run else ""
    say(
        f"已导入 {len(files)} 个同步包{head}：新增 {report.new}，更新 {report.updated}，未变 {report.unchanged}，"
        f"删除 {report.deleted}，合并重复问题 {report.merged}，冲突 {report.conflicts}，照片 {report.photos}"
    )
    if report.already:
        say(f"以前已导入过（内容相同，跳过）：{'、'.join(report.already)}")
    if report.enrolled:
        say(f"已登记设备：{'、'.join(report.enrolled)}")
    if report.office_files:
        say(f"已更新创城办下发的测评标准和设置：{state.office_dir}")
    if report.conflicts:
        say("有冲突：用 inspect-cli sync conflicts 查看，inspect-cli sync resolve 处理")


@sync_app.command("conflicts")
def conflicts(
    all_: Annotated[bool, typer.Option("--all", help="包括已处理的")] = False, as_json: JsonOption = False
) -> None:
    """列出合并时两边都改过的记录（保留的值与另一边的值）。例：inspect-cli sync conflicts"""
    rows = state.store().conflicts(include_resolved=all_)
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("没有待处理的冲突")
        return
    codes = _device_codes()
    body = [
        [
            r["id"][:8],
            KIND_LABELS.get(r["kind"], r["kind"]),
            r["label"],
            _values(r["kept"], codes),
            _values(r["other"], codes),
            r["resolution"] or "待处理",
        ]
        for r in rows
    ]
    columns = [
        Col("编号", Kind.CODE),
        Col("类别", Kind.LABEL, drop=2),
        Col("记录", min=12),
        Col("保留的值", min=16),
        Col("另一边的值", min=16),
        Col("处理", Kind.LABEL, drop=1),
    ]
    print_table(table(columns, body, title="同步冲突"))


@sync_app.command("resolve")
def resolve(
    conflict: Annotated[str, typer.Argument(metavar="ID", help="冲突编号（sync conflicts 第一列，前几位即可）")],
    note: Annotated[str | None, typer.Option("--note", help="处理说明")] = None,
) -> None:
    """确认已处理一个冲突（保留的值已核对或已手工改正）。例：inspect-cli sync resolve 3f2a9c1e --note 以复查为准"""
    store = state.store()
    matches = [r for r in store.conflicts() if r["id"].startswith(conflict.strip().lower())]
    if not matches:
        raise NotFoundError(f"找不到待处理的冲突 '{conflict}'（用 inspect-cli sync conflicts 查看）")
    if len(matches) > 1:
        raise InputError(f"冲突编号 '{conflict}' 对应多条，请多写几位")
    with store.atomic():
        store.resolve_conflict(matches[0]["id"], note.strip() if note and note.strip() else "已核对")
    say(f"冲突 {matches[0]['id'][:8]}（{matches[0]['label']}）已处理")


def _device_codes() -> dict[str, str]:
    store = state.store()
    codes = {d["id"]: d["code"] for d in store.enrolled_devices() if d["id"]}
    me = store.device()
    codes[me.id] = me.code or "本机"
    return codes


# How fields and values read in the conflict list.
_FIELDS = {
    "unit": "责任单位",
    "unit_locked": "单位已指定",
    "status": "状态",
    "deadline": "整改时限",
    "deadline_locked": "时限已指定",
    "fixed_date": "上报整改日期",
    "closed_date": "销号日期",
    "description": "问题描述",
    "count": "处数",
    "severity": "严重程度",
    "rework_count": "返工次数",
    "recheck_count": "复查次数",
    "result": "结果",
    "note": "说明",
    "inspectors": "检查人",
    "finished_at": "完成时间",
    "name": "名称",
    "address": "地址",
    "street": "街道",
    "partner": "包抓单位",
    "contact": "联系人",
    "phone": "电话",
    "action": "处理",
    "date": "日期",
    "inspection_id": "发现检查",
}


def _shown_value(name: str, value: Any) -> str:
    from inspect_cli.models import ProblemStatus, Result

    if name.endswith("_locked"):
        return "是" if value else "否"
    if value is None or value == "":
        return "（空）"
    if name == "status" and value in {s.value for s in ProblemStatus}:
        return ProblemStatus(value).label
    if name in ("result", "severity") and value in {r.value for r in Result}:
        return Result(value).label
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def _values(values: dict[str, Any], codes: dict[str, str]) -> str:
    if values.get("_deleted"):
        return f"已删除（{codes.get(values.get('_by') or '', '另一台设备')}）"
    shown = {k: v for k, v in values.items() if not k.startswith("_") and k not in ("photos", "items", "fclock")}
    if not shown:
        return "（无丢失：两边的修改都已保留）"
    sources = values.get("_from") or {}
    parts = []
    for name, value in list(shown.items())[:8]:
        who = f"（{codes.get(sources[name], sources[name][:8])}）" if name in sources else ""
        parts.append(f"{_FIELDS.get(name, name)}：{_shown_value(name, value)}{who}")
    who = codes.get(values.get("_by") or "", str(values.get("_by") or "")[:8])
    when = str(values.get("_at") or "")[:16].replace("T", " ")
    tail = f"（{who} {when}）" if who else (f"（{when}）" if when else "")
    return "；".join(parts)[:300] + tail
