"""Every record of a bundle checked before it is merged: fields, types, choices, references."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from inspect_cli.store import Store
from inspect_cli.store.replica import KINDS
from inspect_cli.sync.bundle import BundleError
from inspect_cli.sync.merge import vector

_REQUIRED: dict[str, tuple[str, ...]] = {
    "sites": ("code", "name", "site_type", "type_code", "created_at", "updated_at"),
    "units": ("id", "name", "created_at", "updated_at"),
    "inspections": ("id", "no", "year", "seq", "site", "date", "status", "site_type", "checklist_code",
                    "checklist_edition", "created_at"),
    "results": ("id", "inspection_id", "item_id", "result", "count", "recorded_at"),
    "problems": ("id", "no", "year", "seq", "site", "item_id", "item_text", "category", "severity", "found_date",
                 "deadline", "status", "created_at", "updated_at"),
    "problem_events": ("id", "problem_id", "at", "date", "action"),
    "tombstones": ("kind", "id", "deleted_at"),
}  # fmt: skip
_CHOICES = {
    ("inspections", "status"): {"open", "finished"},
    ("results", "result"): {"pass", "fail", "severe", "na"},
    ("problems", "severity"): {"fail", "severe"},
    ("problems", "status"): {"open", "fixed", "closed", "dismissed", "deferred"},
    ("tombstones", "kind"): set(KINDS.values()),
}
_DATES = {
    "inspections": ("date",),
    "problems": ("found_date", "deadline", "fixed_date", "closed_date"),
    "problem_events": ("date",),
}


# Fields whose type the merge relies on; any other field is stored as it came (SQLite keeps
# whatever type it is given, and the CHECK constraints hold the choices).
_TEXT_FIELDS = (
    "id", "code", "name", "site", "no", "inspection_id", "problem_id", "item_id", "kind", "dev", "prior",
    "repeat_of", "action", "unit", "note", "description", "created_at", "updated_at", "recorded_at", "at",
)  # fmt: skip
_INT_FIELDS = ("rev", "year", "seq", "count", "rework_count", "recheck_count")
_LIST_FIELDS = {"items": dict, "photos": dict, "aliases": str, "inspectors": str}


def check_record(table: str, record: dict[str, Any], where: str) -> None:
    for name in _REQUIRED[table]:
        if record.get(name) in (None, ""):
            raise BundleError(f"{where}缺少 {name}")
    if not isinstance(record.get("rev"), int) or not isinstance(record.get("dev"), str):
        raise BundleError(f"{where}缺少版本信息（rev/dev）")
    for name in _TEXT_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            raise BundleError(f"{where}的 {name} 应为文字")
    for name in _INT_FIELDS:
        value = record.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BundleError(f"{where}的 {name} 应为整数")
    for name, kind in _LIST_FIELDS.items():
        value = record.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, kind) for v in value)):
            raise BundleError(f"{where}的 {name} 格式不对")
    try:
        version = vector(record)
    except (ValueError, TypeError):
        raise BundleError(f"{where}的版本信息无效") from None
    if not all(isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in version.items()):
        raise BundleError(f"{where}的版本信息无效")
    clocks = record.get("fclock")
    if clocks is not None and not (
        isinstance(clocks, dict)
        and all(
            isinstance(c, list) and len(c) == 2 and isinstance(c[0], int) and isinstance(c[1], str)
            for c in clocks.values()
        )
    ):
        raise BundleError(f"{where}的字段版本（fclock）无效")
    for item in record.get("items") or ():
        if not isinstance(item.get("item_id"), str) or not isinstance(item.get("score"), int | float):
            raise BundleError(f"{where}的检查项格式不对")
    for (kind, name), allowed in _CHOICES.items():
        if kind == table and record.get(name) not in allowed:
            raise BundleError(f"{where}的 {name} 无效：{str(record.get(name))[:40]}")
    for name in _DATES.get(table, ()):
        value = record.get(name)
        if value is None:
            continue
        try:
            date.fromisoformat(str(value))
        except ValueError:
            raise BundleError(f"{where}的日期 {name} 无效：{str(value)[:40]}") from None
    for photo in record.get("photos") or ():
        sha = photo.get("sha256")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise BundleError(f"{where}的照片信息无效")
        stored = photo.get("stored_name")
        if (
            not isinstance(stored, str)
            or not stored
            or stored.startswith(("/", "\\"))
            or ":" in stored
            or ".." in stored.replace("\\", "/").split("/")
        ):
            raise BundleError(f"{where}的照片文件名无效")


def check_references(
    store: Store,
    table: str,
    record: dict[str, Any],
    where: str,
    site_ids: dict[str, str],
    known: dict[str, set[str]],
    dead: dict[str, set[str]],
    photo_here: Callable[[str], bool],
) -> None:
    """What a record refers to is here (merged already, kind by kind) or was deleted here."""
    if table in ("inspections", "problems"):
        code = record["site"]
        if code not in site_ids:
            site_ids.update(store.site_ids([code]))
        if code not in site_ids:
            raise BundleError(f"{where}的点位 {str(code)[:40]} 在本库和包中都没有；请先导入点位台账或下发包")
    parent = {
        "results": ("inspections", "inspection_id", "检查"),
        "problem_events": ("problems", "problem_id", "整改问题"),
    }
    if table in parent:
        kind, column, label = parent[table]
        ref = record[column]
        if ref not in known[kind] and ref not in dead[KINDS[kind]]:
            if not store.existing(kind, [ref]):
                raise BundleError(
                    f"{where}所属的{label}（{str(ref)[:36]}）在本库和包中都没有；"
                    "请先导入更早的同步包，或让对方用 sync export --all 导出"
                )
            known[kind].add(ref)
    for photo in record.get("photos") or ():
        if not photo_here(photo["sha256"]):
            raise BundleError(f"{where}的照片不在包中，本机也没有（{photo['sha256'][:12]}…）；请让对方重新导出")


_WEEK = re.compile(r"\d{4}-W\d{2}")


def check_plan(record: dict[str, Any], where: str, site_ids: dict[str, str]) -> None:
    """A plan from a field bundle: whole, its dates and weeks well formed, its 点位 known here."""
    from inspect_cli.plans import DrawInputs

    for name in ("id", "week", "date_from", "date_to", "seed", "drawn_at", "drawn_by"):
        if not isinstance(record.get(name), str) or not record[name]:
            raise BundleError(f"{where}缺少 {name}")
    if not _WEEK.fullmatch(record["week"]):
        raise BundleError(f"{where}的周无效：{record['week'][:20]}")
    for name in ("date_from", "date_to"):
        try:
            date.fromisoformat(record[name])
        except ValueError:
            raise BundleError(f"{where}的日期 {name} 无效：{record[name][:40]}") from None
    if record.get("replaced_at") is not None and not isinstance(record["replaced_at"], str):
        raise BundleError(f"{where}的 replaced_at 应为文字")
    pairs = record.get("pairs")
    if not (isinstance(pairs, list) and pairs and all(
        isinstance(p, list) and p and all(isinstance(n, str) for n in p) for p in pairs
    )):  # fmt: skip
        raise BundleError(f"{where}的检查组格式不对")
    try:
        DrawInputs.from_json(record["inputs"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        raise BundleError(f"{where}的抽取输入（inputs）格式不对") from None
    visits = record.get("visits")
    if not isinstance(visits, list):
        raise BundleError(f"{where}的计划点位格式不对")
    for visit in visits:
        if not (
            isinstance(visit, dict)
            and isinstance(visit.get("seq"), int)
            and isinstance(visit.get("site"), str)
            and isinstance(visit.get("pair"), int)
            and 1 <= visit["pair"] <= len(pairs)
            and isinstance(visit.get("weight"), int | float)
            and isinstance(visit.get("reason"), str)
        ):
            raise BundleError(f"{where}的计划点位格式不对")
        if visit["site"] not in site_ids:
            raise BundleError(f"{where}的点位 {visit['site'][:40]} 在本机点位台账中没有")
