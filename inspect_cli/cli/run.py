"""`inspect-cli run` (walk a site's checklist) and `inspect-cli record` (one answer)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from inspect_cli import inspection as core
from inspect_cli.checklist import Item
from inspect_cli.cli.args import SiteArg, unit_option
from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, confirm, out, print_table, say, table, warn
from inspect_cli.dates import parse_date
from inspect_cli.errors import InputError, InspectError
from inspect_cli.media import split_photo_paths
from inspect_cli.models import InspectionDetail, Result, ResultRecord, needs_photo
from inspect_cli.plans import plan_note
from inspect_cli.rectification import responsible_unit
from inspect_cli.scoring import format_points, format_rate, score_inspection

if TYPE_CHECKING:
    from inspect_cli.store import Store

KEYS = {"1": Result.PASS, "2": Result.FAIL, "3": Result.SEVERE, "0": Result.NA}
PROMPT = "结果 [1 合格 / 2 不合格 / 3 严重不合格 / 0 不适用 / Enter {enter} / b 上一项 / q 保存退出]："

InspectorOption = Annotated[
    list[str] | None, typer.Option("--inspector", "-i", metavar="NAME", help="检查人（可重复，或用逗号分隔）")
]
DateOption = Annotated[str | None, typer.Option("--date", "-d", help="检查日期 YYYY-MM-DD（默认今天）")]
AgainOption = Annotated[bool, typer.Option("--again", help="同一点位同一天已检查完成，仍要再检查一次")]


class Answers:
    """Answers piped in by a script, one per line (a terminal gets the full-screen app)."""

    def __init__(self) -> None:
        self.line_no = 0

    def line(self, prompt: str) -> str | None:
        out.print(prompt, end="", markup=False)
        raw = sys.stdin.readline()
        if raw == "":
            out.print()
            return None
        self.line_no += 1
        value = raw.rstrip("\r\n")
        out.print(value, markup=False)
        return value

    def invalid(self, message: str) -> NoReturn:
        """Stop at the first bad line; the answers before it are saved."""
        raise InputError(f"标准输入第 {self.line_no} 行：{message}（之前的答案已保存）")


def on_terminal(command: str) -> bool:
    """Whether to open the full-screen app: a person at a terminal, not a script."""
    if not sys.stdin.isatty():
        return False
    if not sys.stdout.isatty():
        raise InputError(f"{command} 的全屏界面需要在终端中显示；用脚本填写时请把答案通过管道输入（每行一个）")
    return True


def _ask_device_code_once(store: Store) -> None:
    """A laptop without a device code is asked for one the first time it inspects on screen."""
    me = store.device()
    if me.code or me.code_asked:
        return
    say("本机还没有设备代码。几台电脑的数据要合并时，编号中带上它才不会重复（如 JC-2026-A-0001）。")
    out.print(
        Text("请输入本机代码（1–3 个字母或数字，每台电脑不同；直接回车跳过，以后可用 device set 设置）："), end=""
    )
    try:
        answer = input().strip()
    except EOFError:
        answer = ""
    if answer:
        try:
            say(f"本机设备代码：{store.set_device_code(answer).code}")
        except InspectError as exc:
            warn(f"{exc.message}；以后可用 inspect-cli device set 设置")
    store.code_asked()


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("record")(record)


def run(
    site: SiteArg,
    inspector: InspectorOption = None,
    day: DateOption = None,
    again: AgainOption = False,
    new_unit: Annotated[bool, typer.Option("--new-unit", help="允许填写单位名录中没有的责任单位（加入名录）")] = False,
) -> None:
    """逐项检查一个点位（每项一个键），随时退出、再次运行即从断点继续。例：inspect-cli run NMSC-001 -i 张三 -i 李四"""
    store, checklists = state.store(), state.checklists()
    found = core_site(site)
    date = parse_date(day, "检查日期") if day else None
    terminal = on_terminal("run")
    if terminal:
        _ask_device_code_once(store)
    try:
        detail, resumed = core.start(store, checklists, found, date, inspector, again)
    except core.AlreadyInspected as exc:
        # On a terminal the inspector decides here; a script must say --again.
        if not terminal:
            raise
        warn(exc.message.split("；")[0])
        if not confirm("同一天再检查一次（另计一次检查）？", "--again"):
            say("未开始新的检查")
            return
        detail, resumed = core.start(store, checklists, found, date, inspector, again=True)
    if terminal:
        _run_on_screen(found, detail, resumed, inspector, new_unit)
        return
    answers = Answers()
    inspection = detail.inspection
    total = len(detail.items)
    if resumed:
        say(
            f"继续检查 {inspection.no}：{found.code} {found.name}（{inspection.date}），已填写 {len(detail.results)}/{total} 项"
        )
    else:
        say(
            f"开始检查 {inspection.no}：{found.code} {found.name}（{found.site_type}，{inspection.date}），共 {total} 项"
        )
    note = plan_note(store, found.id, inspection.date)
    if note:
        say(note)
    index = detail.first_unanswered()
    if index is None:
        index = total
    while index < total:
        item = detail.items[index]
        current = detail.results.get(item.id)
        _show_item(index, total, item, current)
        enter = f"保持{current.result.label}" if current else "合格"
        key = answers.line(PROMPT.format(enter=enter))
        if key is None:
            _leave(detail, "输入结束")
            return
        key = key.strip().lower()
        if key == "q":
            _leave(detail, "已保存并退出")
            return
        if key == "b":
            index = max(0, index - 1)
            continue
        if key == "":
            result = current.result if current else Result.PASS
        elif key in KEYS:
            result = KEYS[key]
        else:
            answers.invalid(f"无效的输入 '{key}'，请按 1、2、3、0、Enter、b 或 q")
        keep = current if current and current.result is result else None
        saved = core.record(
            store,
            inspection,
            item.id,
            result,
            count=keep.count if keep else 1,
            note=keep.note if keep else None,
            inspectors=inspector,
            media_dir=state.media_dir,
            unit=keep.unit if keep else None,
            settings=state.settings().rectification,
        )
        detail.results[item.id] = saved
        if result.failing and not _ask_details(answers, detail, item, saved, inspector, new_unit):
            _leave(detail, "输入结束")
            return
        index += 1
    detail = core.detail(store, inspection.id)
    if detail.unanswered:
        _leave(detail, "尚有未填写的检查项")
        return
    detail = core.finish(store, inspection)
    _summary(detail, "检查完成")


def _run_on_screen(site, detail: InspectionDetail, resumed: bool, inspectors: list[str] | None, new_unit: bool) -> None:  # type: ignore[no-untyped-def]
    from inspect_cli.cli.run_screen import run_screen, summary_lines

    outcome = run_screen(
        state.store(),
        state.checklists(),
        site,
        detail,
        resumed,
        inspectors,
        state.settings().rectification,
        state.media_dir,
        new_unit,
    )
    for line in summary_lines(outcome.detail, on_screen=False):
        say(line)
    if not outcome.detail.inspection.finished:
        say(f"已填写 {outcome.answered}/{outcome.total} 项，均已保存；继续检查：inspect-cli run {site.code}")
    if outcome.interrupted:
        raise KeyboardInterrupt


def core_site(text: str):  # type: ignore[no-untyped-def]
    from inspect_cli.sites import resolve_site

    return resolve_site(state.store(), text)


def _show_item(index: int, total: int, item: Item, current: ResultRecord | None) -> None:
    out.print()
    head = f"[{index + 1}/{total}] {item.id} · {item.category} · {format_points(item.score)} 分"
    if item.photo_required:
        head += " · 需拍照"
    out.print(head, style="bold", markup=False)
    out.print(item.text, markup=False)
    if item.standard:
        out.print(f"标准：{item.standard}", style="dim", markup=False)
    if item.tips:
        out.print(f"提示：{item.tips}", style="cyan", markup=False)
    if current:
        note = f"，{current.note}" if current.note else ""
        out.print(f"当前：{current.result.label}{note}", style="yellow", markup=False)


def _ask_details(
    answers: Answers,
    detail: InspectionDetail,
    item: Item,
    saved: ResultRecord,
    inspectors: list[str] | None,
    new_unit: bool = False,
) -> bool:
    """Description, count, photos and 责任单位 of a failure, each saved as soon as it is given."""
    store, inspection = state.store(), detail.inspection
    settings = state.settings().rectification

    def save(**changes: object) -> ResultRecord:
        values = {"count": saved.count, "note": saved.note, "unit": saved.unit, **changes}
        record = core.record(
            store,
            inspection,
            item.id,
            saved.result,
            media_dir=state.media_dir,
            inspectors=inspectors,
            settings=settings,
            **values,  # type: ignore[arg-type]
        )
        detail.results[item.id] = record
        return record

    keep = f"（Enter 保持：{saved.note}）" if saved.note else "（可留空）"
    note = answers.line(f"问题描述{keep}：")
    if note is None:
        return False
    count = saved.count
    if saved.result is Result.FAIL:
        raw = (answers.line(f"问题数量（处）[{count}]：") or "").strip()
        if raw:
            if not (raw.isdigit() and 1 <= int(raw) <= core.MAX_COUNT):
                answers.invalid(f"问题数量应为 1–{core.MAX_COUNT} 的整数，收到 '{raw}'")
            count = int(raw)
    saved = save(note=note.strip() or saved.note, count=count)
    raw = answers.line("照片路径（多个用空格分隔，Enter 跳过）：")
    if raw is None:
        return False
    if raw.strip():
        try:
            saved = save(photos=split_photo_paths(raw))
        except InputError as exc:
            answers.invalid(exc.message)
        say(f"已保存 {len(saved.photos)} 张照片")
    elif needs_photo(item, saved):
        warn(f"此项要求拍照取证，尚无照片；可再次运行 inspect-cli run {detail.inspection.site_code} 在该项补充")
    default = responsible_unit(item, store.site_by_id(inspection.site_id), saved.unit) or "未指定"
    raw = answers.line(f"责任单位 [{default}]（Enter 确认，或输入其他单位）：")
    if raw is None:
        return False
    if raw.strip() and raw.strip() != default:
        try:
            save(unit=raw.strip(), new_unit=new_unit)
        except InputError as exc:  # a unit not in the register, suggestions included
            answers.invalid(exc.message)
    return True


def _leave(detail: InspectionDetail, reason: str) -> None:
    done = len(detail.results)
    _summary(detail, f"{reason}：已填写 {done}/{len(detail.items)} 项，均已保存")
    say(f"继续检查：inspect-cli run {detail.inspection.site_code}")


def _summary(detail: InspectionDetail, title: str) -> None:
    score = score_inspection(detail.items, detail.results)
    out.print()
    say(title, style="bold")
    rows = [
        ["检查编号", detail.inspection.no],
        ["得分", f"{format_points(score.earned)} / {format_points(score.full)}"],
        ["得分率", format_rate(score.rate)],
        ["合格 / 不合格 / 严重不合格 / 不适用", f"{score.passed} / {score.failed} / {score.severe} / {score.na}"],
    ]
    print_table(table([Col("项目", Kind.LABEL), Col("结果", min=20)], rows, show_header=False))
    failures = [(item, detail.results[item.id]) for item in detail.items if item.id in detail.results]
    failures = [(item, r) for item, r in failures if r.result.failing]
    if failures:
        print_table(
            table(
                FAILURE_COLUMNS,
                [[f"{i.id} {i.text}", r.result.label, r.count, r.note] for i, r in failures],
                title="发现的问题",
            )
        )


FAILURE_COLUMNS = [
    Col("检查项", min=16),
    Col("结果", Kind.LABEL),
    Col("处数", Kind.NUMBER, drop=1),
    Col("问题描述", min=16),
]


def record(
    site: SiteArg,
    item: Annotated[str, typer.Argument(help="检查项编号（或序号）")],
    result: Annotated[str, typer.Argument(help="合格/不合格/严重不合格/不适用 或 pass/fail/severe/na")],
    note: Annotated[str | None, typer.Option("--note", "-n", help="问题描述")] = None,
    count: Annotated[int, typer.Option("--count", "-c", help="问题数量（处）")] = 1,
    photo: Annotated[list[Path] | None, typer.Option("--photo", "-p", help="照片路径（可重复）")] = None,
    day: DateOption = None,
    inspector: InspectorOption = None,
    unit: Annotated[str | None, unit_option("--unit", "-u", help="责任单位（默认取检查项或点位的责任单位）")] = None,
    inspection: Annotated[
        str | None,
        typer.Option("--inspection", metavar="ID", help="写入指定的检查（编号），默认为该点位当天未完成的检查"),
    ] = None,
    again: AgainOption = False,
    finish: Annotated[bool, typer.Option("--finish", help="全部检查项都已填写时，同时完成这次检查")] = False,
    new_unit: Annotated[bool, typer.Option("--new-unit", help="责任单位不在单位名录中：加入名录")] = False,
) -> None:
    """记录一项检查结果（非交互）。例：inspect-cli record NMSC-001 smoke-02 不合格 --note 入口有人吸烟 --photo a.jpg"""
    store, checklists = state.store(), state.checklists()
    parsed = Result.parse(result)
    found = core_site(site)
    date = parse_date(day, "检查日期") if day else None
    target, saved = core.record_at_site(
        store,
        checklists,
        found,
        item,
        parsed,
        day=date,
        inspectors=inspector,
        reference=inspection,
        again=again,
        count=count,
        note=note,
        photos=list(photo or []),
        media_dir=state.media_dir,
        unit=unit,
        new_unit=new_unit,
        settings=state.settings().rectification,
    )
    detail = core.detail(store, target.id)
    score = score_inspection(detail.items, detail.results)
    extra = f"（{saved.count} 处）" if saved.result is Result.FAIL else ""
    photos = f"，照片 {len(saved.photos)} 张" if saved.photos else ""
    say(
        f"已记录 {target.no} {found.code} {saved.item_id}：{saved.result.label}{extra}{photos}；"
        f"已填写 {len(detail.results)}/{len(detail.items)} 项，当前得分率 {format_rate(score.rate)}"
    )
    if detail.unanswered:
        if finish:
            say(f"尚有 {len(detail.unanswered)} 项未填写，检查 {target.no} 未完成")
        return
    if finish:
        done = core.finish(store, target)
        say(f"检查 {target.no} 已完成，得分率 {format_rate(score_inspection(done.items, done.results).rate)}")
    elif not target.finished:
        say(f"全部检查项已填写：用 inspect-cli inspection finish {target.no} 完成检查（或在 record 时加 --finish）")
