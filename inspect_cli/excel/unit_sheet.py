"""`export rectification`: one 整改通知单 workbook per 责任单位, which units fill in and return.

The unit fills four columns; everything else is protected (no password: protection keeps
honest people from slips, it is not security). The database remembers each export and the
protected values of every row, so `import rectification` can tell where a returned sheet
came from and whether a protected cell was changed — whatever Excel, WPS or LibreOffice did
to the file in between. A very hidden sheet carries the export id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from inspect_cli import dates
from inspect_cli import units as unit_register
from inspect_cli.config import OfficeSettings
from inspect_cli.errors import InputError
from inspect_cli.excel.common import (
    Column,
    Formats,
    TableSheet,
    close_workbook,
    fit_cell,
    new_workbook,
    thumbnail,
    write_text,
)
from inspect_cli.models import Problem, ProblemStatus
from inspect_cli.queries import problems
from inspect_cli.rectification import SUPERSEDING
from inspect_cli.store import Store

EXPORT_KIND = "rectification"
SHEET = "整改清单"
GUIDE = "填写说明"
META = "_导出信息"
META_MARK = "inspect-cli 整改通知单"
FORMAT_VERSION = "1"
STATES = ("已整改", "整改中", "无法整改需协调")
DEFAULT_STATUSES = [ProblemStatus.OPEN, ProblemStatus.DEFERRED]
# Kept with each exported row: how many times the problem had been handled when the sheet
# was made, so an import can tell what happened to it after the sheet left.
HANDLED_KEY = "_handled"

PROTECTED = [
    Column("问题编号"),
    Column("点位", "wrap"),
    Column("地址", "wrap"),
    Column("检查项", "wrap", width=34),
    Column("问题描述", "wrap", width=24),
    Column("发现日期", "date"),
    Column("整改时限", "date"),
    Column("照片", "photo", width=20),
]
FILL_IN = [
    Column("整改情况", "wrap", width=30, editable=True),
    Column("整改完成日期", "date", width=14, editable=True),
    Column("整改责任人", "text", width=12, editable=True),
    Column("状态", "text", width=16, editable=True),
]
COLUMNS = PROTECTED + FILL_IN


def normalize_cell(value: Any) -> str:
    """A cell's value as the importer compares it, whatever program saved the file."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n").strip()


def protected_values(problem: Problem) -> list[Any]:
    """The protected cells of a problem's row, as the sheet holds them (so a return compares equal)."""
    return [
        problem.no,
        fit_cell(f"{problem.site_code} {problem.site_name}"),
        fit_cell(problem.address) or None,
        fit_cell(problem.item_text),
        fit_cell(problem.description),
        problem.found_date,
        problem.deadline,
        None,  # the thumbnail; the cell itself stays empty
    ]


# Names Windows refuses as file names, whatever the extension.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)
MAX_FILE_PART = 60


def safe_file_part(text: str) -> str:
    """A unit name as part of a file name on Windows, macOS and Linux."""
    part = re.sub(r'[\x00-\x1f\x7f\\/:*?"<>|\s]+', "_", text).strip("_. ")[:MAX_FILE_PART].strip("_. ")
    if _RESERVED.match(part):
        part = f"_{part}"
    return part or "未命名"


def unit_file_names(units: list[str], day: date) -> dict[str, str]:
    """One file name per unit, never two alike (case folded, as Windows and macOS compare them)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for unit in units:
        base = f"整改通知单_{safe_file_part(unit)}_{day.isoformat()}"
        name, n = f"{base}.xlsx", 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}_{n}.xlsx"
        taken.add(name.casefold())
        names[unit] = name
    return names


@dataclass
class UnitFile:
    unit: str
    path: Path
    problems: int
    export_id: str


@dataclass
class UnitExport:
    files: list[UnitFile] = field(default_factory=list)
    without_unit: int = 0


def export_unit_sheets(
    store: Store,
    out_dir: Path,
    office: OfficeSettings,
    media_dir: Path,
    units: list[str] | None = None,
    statuses: list[ProblemStatus] | None = None,
    progress: Callable[[int, int], None] | None = None,
    export_id_for: Callable[[str], str] | None = None,
) -> UnitExport:
    """Write the sheets; `export_id_for` fixes export ids (the LibreOffice fixture test needs that)."""
    with store.snapshot():  # the sheets agree with each other, whatever others write meanwhile
        found = problems(store, statuses=statuses or DEFAULT_STATUSES)
        result = UnitExport(without_unit=sum(1 for p in found if not p.unit))
        by_unit: dict[str, list[Problem]] = {}
        for problem in found:
            if problem.unit:
                by_unit.setdefault(problem.unit, []).append(problem)
        if units:
            # A short or former name asks for the unit it means (problems carry register names).
            register = unit_register.index(store)
            named = [u.strip() for u in units if u.strip()]
            wanted = [found.name if (found := register.find(u)) else u for u in named]
            unknown = [u for u in wanted if u not in by_unit]
            if unknown:
                known = "、".join(sorted(by_unit)) or "无"
                raise InputError(f"以下单位没有符合条件的问题：{'、'.join(unknown)}（有问题的单位：{known}）")
            by_unit = {u: by_unit[u] for u in wanted}
        today = dates.today()
        total = sum(len(v) for v in by_unit.values())
        done = 0
        photos = store.found_photos([p.id for rows in by_unit.values() for p in rows])
        cache: dict[str, bytes | None] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        file_names = unit_file_names(sorted(by_unit), today)
        handled = store.event_counts([p.id for rows in by_unit.values() for p in rows], SUPERSEDING)
    for unit, rows in sorted(by_unit.items()):
        export_id = export_id_for(unit) if export_id_for else str(uuid.uuid4())
        path = out_dir / file_names[unit]
        workbook = new_workbook(path)
        formats = Formats(workbook)
        table = TableSheet(workbook, formats, SHEET, COLUMNS, f"{office.name} 整改通知单 — {unit}（{today}）")
        snapshot = []
        for problem in rows:
            values = protected_values(problem)
            pictures = photos.get(problem.id, [])
            image = thumbnail(media_dir, pictures[0].stored_name, cache) if pictures else None
            table.add([*values, None, None, None, None], highlight=problem.overdue_days(today) > 0, photo=image)
            snapshot.append((problem.id, problem.no, {**_snapshot(values), HANDLED_KEY: handled.get(problem.id, 0)}))
            done += 1
            if progress:
                progress(done, total)
        last = table.row - 1
        fill = len(PROTECTED)
        table.sheet.data_validation(
            1,
            fill + 3,
            last,
            fill + 3,
            {
                "validate": "list",
                "source": list(STATES),
                "input_title": "整改状态",
                "input_message": "请从下拉列表选择",
                "error_title": "状态无效",
                "error_message": "请选择：" + " / ".join(STATES),
            },
        )
        table.sheet.data_validation(
            1,
            fill + 1,
            last,
            fill + 1,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": date(2000, 1, 1),
                "maximum": date(2099, 12, 31),
                "input_title": "整改完成日期",
                "input_message": "请填写日期，如 2026-11-20",
                "error_title": "日期无效",
                "error_message": "请填写日期，格式如 2026-11-20",
            },
        )
        table.finish()
        table.sheet.protect(
            "",
            {
                "autofilter": True,
                "sort": True,
                "format_columns": True,
                "format_rows": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )
        table.sheet.activate()
        _guide(workbook, formats, unit, rows, office, today)
        meta = workbook.add_worksheet(META)
        for index, (key, value) in enumerate(
            [
                ("kind", META_MARK),
                ("version", FORMAT_VERSION),
                ("export_id", export_id),
                ("unit", unit),
                ("exported", today.isoformat()),
            ]
        ):
            write_text(meta, index, 0, key, None)
            write_text(meta, index, 1, value, None)
        meta.very_hidden()
        close_workbook(workbook, path)
        store.save_export(export_id, EXPORT_KIND, unit, path.name, snapshot)
        result.files.append(UnitFile(unit, path, len(rows), export_id))
    return result


def _snapshot(values: list[Any]) -> dict[str, str]:
    return {column.title: normalize_cell(value) for column, value in zip(PROTECTED, values, strict=True)}


def _guide(
    workbook: Any, formats: Formats, unit: str, rows: list[Problem], office: OfficeSettings, today: date
) -> None:
    sheet = workbook.add_worksheet(GUIDE)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 70)
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    wrap = formats.cell("wrap")
    write_text(sheet, 0, 0, f"整改通知单 — {unit}", formats.title)
    earliest, latest = min(p.deadline for p in rows), max(p.deadline for p in rows)
    overdue = sum(1 for p in rows if p.overdue_days(today))
    lines = [
        ("责任单位", unit),
        ("问题数量", f"{len(rows)} 个（其中已逾期 {overdue} 个，表中以红色标出）"),
        ("整改时限", f"{earliest} 至 {latest}，每个问题的时限见“整改清单”的“整改时限”列"),
        ("发出日期", today.isoformat()),
        (
            "填写要求",
            "1. 只需填写黄色的四列：整改情况、整改完成日期、整改责任人、状态；其余列受保护，请勿修改。\n"
            "2. 状态从下拉列表选择：已整改 / 整改中 / 无法整改需协调。\n"
            "3. 选“已整改”的，必须填写整改完成日期（不能早于发现日期，不能晚于填表当天）。\n"
            "4. 可以排序、筛选，但请勿删除或修改“问题编号”，请勿删除隐藏的工作表。",
        ),
        ("回执方式", office.return_to),
        ("发文单位", office.name),
    ]
    for index, (label, text) in enumerate(lines, start=2):
        # Constant-memory mode: a row's height must be set before the row is written.
        sheet.set_row(index, 15 * (text.count("\n") + 1) + 6)
        write_text(sheet, index, 0, label, formats.label)
        write_text(sheet, index, 1, text, wrap)
