"""Bundles out and in: `sync export` and `sync import`.

A work bundle carries what this database changed since the office last acknowledged it
(or everything): records of every kind, tombstones and the photos they use. A field bundle
(`--field`) carries what the office hands out: the 点位 register, the unit register, the
problems still to fix with their history and photos, and which changes the office has
received from each device (so the laptop's next bundle starts from there).

Import checks every bundle whole before it writes anything (structure, hashes, who made
it, every record), then merges all of them in one transaction. Merging a record is
`merge.merge`; a delete is a tombstone that wins over every copy it saw.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from inspect_cli.dates import now_iso
from inspect_cli.errors import InputError, InspectError, StateError
from inspect_cli.store import Store
from inspect_cli.store.replica import KINDS, RECORD_KEYS
from inspect_cli.sync import KIND_LABELS
from inspect_cli.sync.bundle import Bundle, BundleError, BundleWriter, open_bundle
from inspect_cli.sync.merge import Outcome, dominated, merge, vector

WORK = "work"
FIELD = "field"
# Kinds in the order they are written and merged: what a record refers to comes first.
TABLES = ("sites", "units", "inspections", "results", "problems", "problem_events")


@dataclass
class ExportReport:
    path: Path
    kind: str
    counts: dict[str, int]
    photos: int
    since: int
    upto: int


@dataclass
class ImportReport:
    files: list[str]
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    merged: int = 0
    conflicts: int = 0
    photos: int = 0
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    enrolled: list[str] = field(default_factory=list)
    dry_run: bool = False
    already: list[str] = field(default_factory=list)  # bundles merged here before, skipped
    office_files: bool = False  # the office's checklists and settings were taken

    def count(self, table: str, outcome: str) -> None:
        self.by_kind.setdefault(table, Counter())[outcome] += 1
        if outcome in ("new", "updated", "unchanged", "deleted"):
            setattr(self, outcome, getattr(self, outcome) + 1)
        elif outcome == "conflict":
            self.updated += 1
            self.conflicts += 1


# --- export -------------------------------------------------------------------------


def export_bundle(
    store: Store,
    path: Path,
    media_dir: Path,
    *,
    everything: bool = False,
    field_bundle: bool = False,
    for_device: str | None = None,
    checklist_dirs: list[Path] | None = None,
    settings: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportReport:
    """Write a work bundle (changes not yet acknowledged, or all) or a field bundle."""
    device = store.device()
    if not device.code and not field_bundle:
        raise StateError("本机还没有设备代码：请先用 inspect-cli device set A（1–3 个字母或数字，每台电脑不同）")
    # Rows the office sent are stored with change sequence 0 (it has them): "everything" is -1.
    since = -1 if (everything or field_bundle) else device.acked
    manifest: dict[str, Any] = {
        "kind": FIELD if field_bundle else WORK,
        "device_id": device.id,
        "device_code": device.code,
        "created": now_iso(),
        "since": since,
        "upto": device.changes,
        "clock": device.clock,
    }
    key: bytes | None = bytes.fromhex(store.device_key()) if store.device_key() else None
    if field_bundle:
        manifest["office_id"] = device.office_id or device.id
        manifest["acks"] = store.device_acks()
    if for_device:
        # Made for one laptop: signed with its key, which travels only in its first field bundle.
        enrolled = store.enrolled_device(for_device)
        if enrolled is None:
            raise StateError(f"设备 {for_device} 还没有登记：请先用 inspect-cli device enroll {for_device}")
        manifest["for_device"] = enrolled["code"]
        if field_bundle and not enrolled["key_sent"]:
            manifest["device_key"] = enrolled["key"]
        key = bytes.fromhex(enrolled["key"])
    # A field bundle carries the problems still to fix, and those that ended since the last
    # field bundle for that laptop (for any laptop, when made for none).
    ended_since = None
    if field_bundle:
        sent = store.field_sent(manifest.get("for_device"))
        ended_since = device.changes if sent is None else sent
    counts: dict[str, int] = {}
    photos: dict[str, str] = {}
    with BundleWriter(path, manifest, key) as writer:
        for table in TABLES:
            if field_bundle and table in ("inspections", "results"):
                continue
            rows = _collect_photos(store.changed_rows(table, since, ended_since), photos)
            counts[table] = writer.write_records(table, rows)
        if not field_bundle:
            counts["tombstones"] = writer.write_records("tombstones", store.tombstones_since(since))
        else:
            # What was deleted here since the last field bundle is deleted on the laptops too.
            counts["tombstones"] = writer.write_records("tombstones", store.tombstones_since(ended_since or 0))
            counts["checklists"] = writer.write_records("checklists", _checklist_files(checklist_dirs or []))
            if settings is not None:
                counts["settings"] = writer.write_records("settings", [settings])
        added = 0
        for done, (sha, stored_name) in enumerate(sorted(photos.items()), start=1):
            source = media_dir / stored_name
            if not source.is_file():
                raise StateError(f"照片文件缺失：{source}（记录仍在数据库中）；请把媒体文件夹一起复制过来后再导出")
            if writer.add_photo(sha, Path(stored_name).suffix, source):
                added += 1
            if progress:
                progress(done, len(photos))
        writer.note(counts=counts)
        if field_bundle and for_device:
            store.mark_key_sent(manifest["for_device"])
            store.mark_field_sent(manifest["for_device"], device.changes)
    return ExportReport(path, manifest["kind"], counts, added, since, device.changes)


def _checklist_files(folders: list[Path]) -> Iterator[dict[str, Any]]:
    """Every checklist file in force, by folder in load order, so a laptop loads the same set."""
    for index, folder in enumerate(folders):
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise InputError(f"无法读取测评标准文件 {path}：{exc}") from None
                yield {"folder": index, "path": path.relative_to(folder).as_posix(), "text": text}


def _collect_photos(rows: Iterator[dict[str, Any]], photos: dict[str, str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        for photo in row.get("photos") or ():
            photos.setdefault(photo["sha256"], photo["stored_name"])
        yield row


# --- import -------------------------------------------------------------------------


def import_bundles(
    store: Store,
    paths: list[Path],
    media_dir: Path,
    *,
    dry_run: bool = False,
    enroll: bool = False,
    office_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Merge bundles into this database: all checked first, then written in one transaction."""
    report = ImportReport([p.name for p in paths], dry_run=dry_run)
    with ExitStack() as stack:
        opened = [stack.enter_context(open_bundle(p)) for p in paths]
        plans = [_check_source(store, b, enroll) for b in opened]
        # A bundle merged here before changes nothing if merged again (merging only ever
        # moves a record forward), so exactly the same bundle is not read twice.
        bundles, fresh_plans, seen = [], [], set()
        for bundle, plan in zip(opened, plans, strict=True):
            sha = bundle.manifest_sha256
            known = store.bundle_seen(sha)
            if known is not None or sha in seen:
                report.unchanged += known or 0
                report.already.append(bundle.path.name)
                continue
            seen.add(sha)
            bundles.append(bundle)
            fresh_plans.append(plan)
        staged = _stage_office_files(bundles, office_dir) if office_dir is not None else None
        if staged is not None:
            stack.callback(shutil.rmtree, staged, True)
        # Photos this database lacks are read, verified and staged in a second thread while
        # the records merge (hashing and disk writes leave the interpreter free). Photos it
        # already has are never read: nothing of them is used.
        photos = _PhotoStager(bundles, media_dir, dry_run)
        stack.callback(photos.discard)
        # Records (as each manifest counts them) and photos to fetch: the progress bar's total.
        total = sum(sum((b.manifest.get("counts") or {}).values()) for b in bundles) + len(photos.wanted)
        tick = _Ticker(progress, total)
        written: list[Path] = []
        try:
            with store.atomic():
                dead = store.tombstone_ids()
                for bundle, plan in zip(bundles, fresh_plans, strict=True):
                    _apply_source(store, bundle, plan, report)
                counts = _merge_all(store, bundles, report, dead, photos.available, tick)
                for bundle, plan in zip(bundles, fresh_plans, strict=True):
                    store.remember_bundle(bundle.manifest_sha256, plan.device_id, plan.kind, counts[bundle.path])
                report.photos = photos.install(written, tick)
                store.fold_former_names()
                report.merged = store.dedupe_problems()
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except BaseException:
            for path in written:
                with suppress(OSError):
                    path.unlink()
            raise
        if staged is not None and office_dir is not None and not dry_run:
            _install_office_files(staged, office_dir)
            report.office_files = True
    return report


class _Ticker:
    """Progress as (done, total), told to the caller every few hundred steps."""

    def __init__(self, progress: Callable[[int, int], None] | None, total: int) -> None:
        self.progress = progress
        self.total = max(total, 1)
        self.done = 0
        self._told = 0

    def add(self, count: int = 1) -> None:
        self.done += count
        if self.progress is not None and (self.done - self._told >= 500 or self.done >= self.total):
            self._told = self.done
            self.progress(min(self.done, self.total), self.total)


class _DryRun(Exception):
    """Leaves the import transaction without committing it."""


@dataclass
class _Source:
    kind: str
    device_id: str
    code: str
    enroll: bool = False


def _check_source(store: Store, bundle: Bundle, enroll: bool) -> _Source:
    """Refuse a bundle this database does not trust; what to record about its device.

    A laptop trusts the first field bundle it takes (that is how it receives its key);
    from then on every bundle from the office must be signed with that key. The office
    trusts an enrolled laptop's bundles, signed with the laptop's key once it was handed out.
    """
    m = bundle.manifest
    name = bundle.path.name
    _check_manifest(m, name)
    kind, device_id = m["kind"], m["device_id"]
    code = str(m.get("device_code") or "").upper()
    me = store.device()
    key = store.device_key()
    if device_id == me.id:
        raise BundleError(f"同步包 {name} 是本机自己导出的，不需要导入")
    from_office = kind == FIELD or (me.office_id is not None and device_id == me.office_id)
    if from_office:
        office = m.get("office_id") if kind == FIELD else device_id
        if me.office_id and office != me.office_id and not enroll:
            raise BundleError(f"同步包 {name} 来自另一个创城办（与本机以前收到的不同）；确认无误后加 --enroll 导入")
        target = str(m.get("for_device") or "").upper()
        if target and me.code and target != me.code:
            raise BundleError(f"下发包 {name} 是给设备 {target} 的，本机代码是 {me.code}")
        if key and not enroll:
            if not bundle.signed:
                raise BundleError(f"同步包 {name} 没有签名：本机已登记，创城办给本机的同步包须用 --for {me.code} 导出")
            _verify(bundle, bytes.fromhex(key))
        elif m.get("device_key"):
            _verify(bundle, bytes.fromhex(m["device_key"]))
        if kind == FIELD:
            return _Source(FIELD, device_id, code, enroll=enroll)
        return _Source(WORK, device_id, code)
    if not code:
        raise BundleError(f"同步包 {name} 没有设备代码，不能导入")
    if me.code and code == me.code.upper():
        raise BundleError(f"同步包 {name} 的设备代码 {code} 与本机相同，但来自另一台设备；每台电脑的代码必须不同")
    known = store.enrolled_device(code)
    if known is None:
        if not enroll:
            raise BundleError(
                f"同步包 {name} 来自未登记的设备 {code}；确认是本队的电脑后，用 inspect-cli device enroll {code}"
                " 登记，或导入时加 --enroll"
            )
        return _Source(WORK, device_id, code, enroll=True)
    if known["id"] and known["id"] != device_id:
        raise BundleError(f"同步包 {name} 的设备代码 {code} 已被另一台设备使用，不能导入；请给那台电脑换一个代码")
    if known["key_sent"]:
        _verify(bundle, bytes.fromhex(known["key"]))
    return _Source(WORK, device_id, code)


def _check_manifest(m: dict[str, Any], name: str) -> None:
    """The manifest fields this module relies on, of the types it relies on."""

    def bad(what: str) -> BundleError:
        return BundleError(f"同步包 {name} 的清单无效：{what}")

    if m.get("kind") not in (WORK, FIELD):
        raise bad("类型（kind）未知")
    for field_name in ("device_id",):
        if not isinstance(m.get(field_name), str) or not m[field_name] or len(m[field_name]) > 64:
            raise bad(f"缺少来源设备（{field_name}）")
    for field_name in ("device_code", "office_id", "for_device", "created"):
        if m.get(field_name) is not None and (not isinstance(m[field_name], str) or len(m[field_name]) > 64):
            raise bad(f"{field_name} 应为文字")
    for field_name in ("clock", "since", "upto"):
        value = m.get(field_name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise bad(f"{field_name} 应为整数")
    key = m.get("device_key")
    if key is not None and not (isinstance(key, str) and re.fullmatch(r"[0-9a-f]{64}", key)):
        raise bad("设备密钥格式不对")
    for field_name in ("acks", "counts"):
        value = m.get(field_name, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in value.items()
        ):
            raise bad(f"{field_name} 应为“名称: 整数”的映射")


def _verify(bundle: Bundle, key: bytes) -> None:
    try:
        bundle.verify_signature(key)
    except BundleError:
        raise BundleError(
            f"同步包 {bundle.path.name} 的签名不符：导出后被改动过，或不是由登记的设备导出的；未导入任何内容"
        ) from None


def _apply_source(store: Store, bundle: Bundle, source: _Source, report: ImportReport) -> None:
    m = bundle.manifest
    if source.kind == FIELD:
        store.accept_field_bundle(
            office_id=str(m.get("office_id") or source.device_id),
            code=m.get("for_device"),
            key=m.get("device_key"),
            acked=(m.get("acks") or {}).get(store.device().id),
            keep_key=bool(store.device_key()) and not source.enroll,
        )
        return
    if source.enroll:
        store.enroll_device(source.code, secrets.token_hex(32), device_id=source.device_id)
        report.enrolled.append(source.code)
    if source.device_id != store.device().id:
        store.bundle_received(source.code, source.device_id, int(m.get("since") or 0), int(m.get("upto") or 0))


# --- checking records before anything is written -------------------------------------------

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


def _check_record(table: str, record: dict[str, Any], where: str) -> None:
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


# --- merging ---------------------------------------------------------------------------------


def _merge_all(
    store: Store,
    bundles: list[Bundle],
    report: ImportReport,
    dead: dict[str, set[str]],
    photo_here: Callable[[str], bool],
    tick: _Ticker,
) -> dict[Path, int]:
    """Check and merge every record of every bundle, kind by kind; how many records each bundle had.

    Kind by kind across all bundles, so a record always finds what it refers to, whichever
    order the bundles came in. Runs inside the import's transaction: the first bad record
    raises and nothing stays written.
    """
    clock = max(int(b.manifest.get("clock") or 0) for b in bundles) if bundles else 0
    change = store.next_change(clock)
    # What the office sent it has already: stored with change sequence 0, it is not sent
    # back in this laptop's next bundle (merges the office would make the same way too).
    office = store.device().office_id
    cseqs = {
        b.path: 0 if b.manifest.get("kind") == FIELD or b.manifest.get("device_id") == office else change
        for b in bundles
    }
    counts: dict[Path, int] = {b.path: 0 for b in bundles}
    for bundle in bundles:
        for line, tomb in enumerate(bundle.records("tombstones"), start=1):
            _check_record("tombstones", tomb, f"同步包 {bundle.path.name} 的{KIND_LABELS['tombstones']}第 {line} 条")
            _merge_tombstone(store, tomb, cseqs[bundle.path], report)
            dead.setdefault(tomb["kind"], set()).add(tomb["id"])
            counts[bundle.path] += 1
            tick.add()
    site_ids: dict[str, str] = {}
    known: dict[str, set[str]] = {"inspections": set(), "problems": set()}
    for table in TABLES:
        for bundle in bundles:
            for line, record in enumerate(bundle.records(table), start=1):
                where = f"同步包 {bundle.path.name} 的{KIND_LABELS[table]}第 {line} 条"
                _check_record(table, record, where)
                _check_references(store, table, record, where, site_ids, known, dead, photo_here)
                _merge_record(store, table, record, (cseqs[bundle.path], change), report, dead, site_ids)
                if table in known:
                    known[table].add(record["id"])
                counts[bundle.path] += 1
                tick.add()
    return counts


def _check_references(
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


def _merge_record(
    store: Store,
    table: str,
    record: dict[str, Any],
    cseqs: tuple[int, int],
    report: ImportReport,
    dead: dict[str, set[str]],
    site_ids: dict[str, str],
) -> None:
    key = str(record[RECORD_KEYS[table]])
    if table == "units":
        key = store.unit_identity(record)
        record = {**record, "id": key}
    if table != "sites" and key in dead[KINDS[table]]:
        _lost_to_delete(store, table, key, record)
        report.count(table, "unchanged")
        return
    parent = {"results": ("inspection", "inspection_id"), "problem_events": ("problem", "problem_id")}.get(table)
    if parent and record[parent[1]] in dead[parent[0]]:
        # Its inspection or problem was deleted: an answer or a history entry the delete did
        # not see is kept for a person to see.
        tomb = store.tombstone(parent[0], record[parent[1]])
        unseen = tomb is not None and not dominated(vector(record), vector(tomb))
        if unseen and store.add_conflict(table, key, _label(record), {"_deleted": True, "_by": tomb["dev"]}, record):
            report.conflicts += 1
        report.count(table, "unchanged")
        return
    if table == "results":
        # One answer per item of an inspection: answers given twice (on two replicas)
        # meet under the smaller id.
        found = store.result_version(record["inspection_id"], record["item_id"])
        here = found[1:] if found else None
        if found and found[0] != key:
            record = {**record, "id": min(found[0], key)}
            key = found[0]
    else:
        here = store.version(table, key)
    # Most records of a bundle are already here unchanged: the version alone says so.
    if here is not None and dominated(vector(record), vector({"rev": here[0], "dev": here[1], "vv": here[2]})):
        report.count(table, "unchanged")
        return
    local = store.record(table, key) if here is not None else None
    merged = merge(table, local, record)
    report.count(table, merged.outcome.value)
    if merged.record is None:
        return
    if merged.outcome is Outcome.CONFLICT:
        store.add_conflict(table, key, _label(record), merged.kept, merged.lost)
    site_id = site_ids[merged.record["site"]] if table in ("inspections", "problems") else None
    # Stored as the sender sent it, the sender's acknowledgement covers it; a merge of both
    # sides is new to the office too and goes out in this database's next bundle.
    cseq = cseqs[0] if merged.as_sent else cseqs[1]
    store.put_record(table, merged.record, cseq, site_id, fresh=here is None)


def _merge_tombstone(store: Store, tomb: dict[str, Any], cseq: int, report: ImportReport) -> None:
    table = {kind: table for table, kind in KINDS.items()}[tomb["kind"]]
    present = store.tombstone(tomb["kind"], tomb["id"])
    if present is not None:
        if (tomb["rev"], tomb["dev"]) > (present["rev"], present["dev"]):
            store.put_tombstone({**present, **tomb}, cseq)
        report.count("tombstones", "unchanged")
        return
    local = store.record(table, tomb["id"]) if table != "sites" else None
    if local is not None:
        # Changed here (or its answers, its history) after the other side deleted it: the
        # delete wins everywhere alike, and what it did not see is kept for a person to see.
        deleted = {"_deleted": True, "_by": tomb["dev"]}
        for kind, record in [(table, local), *store.children(table, tomb["id"])]:
            unseen = not dominated(vector(record), vector(tomb))
            if unseen and store.add_conflict(kind, str(record.get("id")), _label(record), deleted, record):
                report.conflicts += 1
    store.put_tombstone(tomb, cseq)
    report.count("tombstones", "deleted")


def _lost_to_delete(store: Store, table: str, key: str, record: dict[str, Any]) -> None:
    tomb = store.tombstone(KINDS[table], key)
    if tomb is not None and not dominated(vector(record), vector(tomb)):
        store.add_conflict(table, key, _label(record), {"_deleted": True, "_by": tomb["dev"]}, record)


def _label(record: dict[str, Any]) -> str:
    for name in ("no", "code", "name", "item_id", "action"):
        if record.get(name):
            return str(record[name])
    return str(record.get("id", ""))[:8]


def _stage_office_files(bundles: list[Bundle], office_dir: Path) -> Path | None:
    """The newest field bundle's checklists and settings, written beside the office folder and checked.

    They replace the office folder only after the records are merged, so a refused import
    leaves the folder as it was.
    """
    from inspect_cli.checklist import load_checklists
    from inspect_cli.config import load_settings
    from inspect_cli.errors import ChecklistError

    fields_in = [b for b in bundles if b.manifest.get("kind") == FIELD and "checklists" in b.kinds()]
    if not fields_in:
        return None
    bundle = max(fields_in, key=lambda b: str(b.manifest.get("created") or ""))
    name = bundle.path.name
    try:
        office_dir.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=f".{office_dir.name}-", dir=office_dir.parent))
    except OSError as exc:
        raise InputError(f"无法写入 {office_dir.parent}：{exc.strerror or exc}") from None
    try:
        folders: set[int] = set()
        for line, record in enumerate(bundle.records("checklists"), start=1):
            folder, relative, text = record.get("folder"), str(record.get("path") or ""), record.get("text")
            parts = relative.split("/")
            if (
                not isinstance(folder, int)
                or not 0 <= folder < 100
                or not isinstance(text, str)
                or not relative
                or "\\" in relative
                or ":" in relative
                or any(p in ("", ".", "..") for p in parts)
                or Path(relative).suffix.lower() not in (".yaml", ".yml")
            ):
                raise BundleError(f"下发包 {name} 的测评标准第 {line} 条无效（{relative[:60]}）")
            target = staged / "checklists" / str(folder) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            folders.add(folder)
        try:
            load_checklists([staged / "checklists" / str(f) for f in sorted(folders)])
        except ChecklistError as exc:
            first = exc.details[0] if exc.details else exc.message
            shown = first.replace(str(staged / "checklists"), "下发包")
            raise BundleError(f"下发包 {name} 中的测评标准有错误：{shown}") from None
        for record in bundle.records("settings"):
            import yaml

            path = staged / "settings.yaml"
            path.write_text(yaml.safe_dump(record, allow_unicode=True, sort_keys=False), encoding="utf-8")
            try:
                load_settings(path)
            except InputError as exc:
                raise BundleError(
                    f"下发包 {name} 中的设置无效：{exc.details[0] if exc.details else exc.message}"
                ) from None
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise InputError(f"无法写入 {office_dir.parent}：{exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _install_office_files(staged: Path, office_dir: Path) -> None:
    office_dir.mkdir(parents=True, exist_ok=True)
    for name in ("checklists", "settings.yaml"):
        source, target = staged / name, office_dir / name
        if not source.exists():
            continue
        old = office_dir / f".old-{name}"
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        if target.exists():
            target.rename(old)
        source.rename(target)
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)


def _photo_here(sha: str, media_dir: Path) -> bool:
    folder = media_dir / sha[:2]
    return folder.is_dir() and any(folder.glob(f"{sha}.*"))


class _PhotoStager:
    """Reads, verifies and stages the photos this database lacks, in a process of its own.

    Hashing and copying photos runs beside the merging of records (which keeps this process
    busy), so a day's bundles from many laptops take about as long as the larger of the
    two. Staged beside the media folder and flushed to disk once, so the photos are on disk
    before the records that name them are committed; moved into place by `install`.
    """

    def __init__(self, bundles: list[Bundle], media_dir: Path, dry_run: bool) -> None:
        self.media_dir = media_dir
        self.wanted: dict[str, tuple[Path, str]] = {}
        for bundle in bundles:
            for sha, member in bundle.photos().items():
                if sha not in self.wanted and not _photo_here(sha, media_dir):
                    self.wanted[sha] = (bundle.path, Path(member).suffix)
        self.folder: Path | None = None
        self._pool: Any = None
        self._job: Any = None
        if not self.wanted:
            return
        if not dry_run:
            try:
                media_dir.mkdir(parents=True, exist_ok=True)
                self.folder = Path(tempfile.mkdtemp(prefix=".incoming-", dir=media_dir))
            except OSError as exc:
                raise InputError(f"无法写入媒体文件夹 {media_dir}：{exc.strerror or exc}") from None
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        jobs = sorted((str(path), sha, suffix) for sha, (path, suffix) in self.wanted.items())
        # spawn: the same on every platform, and the child shares nothing with this process's
        # database connection.
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._job = self._pool.submit(stage_photos, jobs, str(self.folder) if self.folder else None)

    def available(self, sha: str) -> bool:
        """A photo a record names: in one of the bundles, or here already."""
        return sha in self.wanted or _photo_here(sha, self.media_dir)

    def install(self, written: list[Path], tick: _Ticker) -> int:
        """Wait for the staging, then move the photos into the media folder (same disk: renames)."""
        if self._job is None:
            return 0
        from concurrent.futures import TimeoutError as Pending

        shown = 0
        while True:
            try:
                failure = self._job.result(timeout=0.2)
                break
            except Pending:
                if self.folder is not None:
                    done = sum(1 for _ in self.folder.iterdir())
                    tick.add(done - shown)
                    shown = done
        if failure:
            raise BundleError(failure)
        if self.folder is None:
            return 0
        tick.add(len(self.wanted) - shown)
        for sha, (_path, suffix) in sorted(self.wanted.items()):
            source, target = self.folder / f"{sha}{suffix}", self.media_dir / sha[:2] / f"{sha}{suffix}"
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                source.replace(target)
            except OSError as exc:
                raise InputError(f"无法把照片保存到媒体文件夹 {target.parent}：{exc.strerror or exc}") from None
            written.append(target)
        return len(self.wanted)

    def discard(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def stage_photos(jobs: list[tuple[str, str, str]], folder: str | None) -> str | None:
    """In the photo process: verify (and with a folder, copy) each photo; the error, if any, as text."""
    opened: dict[str, Bundle] = {}
    # One flush of everything at the end where the system has it (not on Windows: each file then).
    flush_once = hasattr(os, "sync")
    try:
        for path, sha, suffix in jobs:
            if path not in opened:
                opened[path] = open_bundle(Path(path))
            if folder is None:
                opened[path].check_photo(sha)
            else:
                opened[path].extract_photo(sha, Path(folder) / f"{sha}{suffix}", sync=not flush_once)
        if folder is not None and flush_once:
            os.sync()
    except InspectError as exc:
        return exc.message
    except OSError as exc:
        return f"无法写入媒体文件夹 {folder}：{exc.strerror or exc}"
    finally:
        for bundle in opened.values():
            bundle.close()
    return None
