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

import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from inspect_cli.dates import now_iso
from inspect_cli.errors import InputError, StateError
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
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write a work bundle (changes not yet acknowledged, or all) or a field bundle."""
    device = store.device()
    if not device.code and not field_bundle:
        raise StateError("本机还没有设备代码：请先用 inspect-cli device set A（1–3 个字母或数字，每台电脑不同）")
    since = 0 if (everything or field_bundle) else device.acked
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
            enrolled = store.enrolled_device(for_device)
            if enrolled is None:
                raise StateError(f"设备 {for_device} 还没有登记：请先用 inspect-cli device enroll {for_device}")
            manifest["for_device"] = enrolled["code"]
            manifest["device_key"] = enrolled["key"]
            key = bytes.fromhex(enrolled["key"])
    counts: dict[str, int] = {}
    photos: dict[str, str] = {}
    with BundleWriter(path, manifest, key) as writer:
        for table in TABLES:
            if field_bundle and table in ("inspections", "results"):
                continue
            only = "active" if field_bundle else None
            rows = _collect_photos(store.changed_rows(table, since, only), photos)
            counts[table] = writer.write_records(table, rows)
        if not field_bundle:
            counts["tombstones"] = writer.write_records("tombstones", store.tombstones_since(since))
        added = 0
        for sha, stored_name in sorted(photos.items()):
            source = media_dir / stored_name
            if not source.is_file():
                raise StateError(f"照片文件缺失：{source}（记录仍在数据库中）；请把媒体文件夹一起复制过来后再导出")
            if writer.add_photo(sha, Path(stored_name).suffix, source):
                added += 1
            if progress:
                progress(1)
        if field_bundle and for_device:
            store.mark_key_sent(for_device)
    return ExportReport(path, manifest["kind"], counts, added, since, device.changes)


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
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Merge bundles into this database: all checked first, then written in one transaction."""
    report = ImportReport([p.name for p in paths], dry_run=dry_run)
    with ExitStack() as stack:
        bundles = [stack.enter_context(open_bundle(p)) for p in paths]
        plans = [_check_source(store, b, enroll) for b in bundles]
        for bundle in bundles:
            bundle.verify_members(progress)
        _check_records(store, bundles, media_dir)
        written: list[Path] = []
        try:
            with store.atomic():
                for bundle, plan in zip(bundles, plans, strict=True):
                    _apply_source(store, bundle, plan, report)
                    _merge_bundle(store, bundle, report)
                    if not dry_run:
                        report.photos += _extract_photos(bundle, media_dir, written)
                report.merged = store.dedupe_problems()
                store.renumber_collisions("inspections")
                store.renumber_collisions("problems")
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except BaseException:
            for path in written:
                with suppress(OSError):
                    path.unlink()
            raise
    return report


class _DryRun(Exception):
    """Leaves the import transaction without committing it."""


@dataclass
class _Source:
    kind: str
    device_id: str
    code: str
    enroll: bool = False


def _check_source(store: Store, bundle: Bundle, enroll: bool) -> _Source:
    """Refuse a bundle this database does not trust; what to record about its device."""
    m = bundle.manifest
    name = bundle.path.name
    kind, device_id, code = m.get("kind"), m.get("device_id"), m.get("device_code")
    if kind not in (WORK, FIELD) or not isinstance(device_id, str) or not device_id:
        raise BundleError(f"同步包 {name} 缺少来源设备信息，不能导入")
    me = store.device()
    if kind == FIELD:
        office = m.get("office_id")
        if me.office_id and office != me.office_id and not enroll:
            raise BundleError(f"下发包 {name} 来自另一个创城办（与本机以前收到的不同）；确认无误后加 --enroll 导入")
        target = m.get("for_device")
        if target and me.code and target != me.code:
            raise BundleError(f"下发包 {name} 是给设备 {target} 的，本机代码是 {me.code}")
        if m.get("device_key"):
            _verify(bundle, bytes.fromhex(str(m["device_key"])))
        return _Source(FIELD, device_id, str(code or ""))
    if not isinstance(code, str) or not code:
        raise BundleError(f"同步包 {name} 没有设备代码，不能导入")
    if device_id == me.id or device_id == me.office_id:
        key = store.device_key()
        if bundle.signed and key:
            _verify(bundle, bytes.fromhex(key))
        return _Source(WORK, device_id, code)
    if code == me.code:
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
    "units": ("name", "created_at", "updated_at"),
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


def _check_records(store: Store, bundles: list[Bundle], media_dir: Path) -> None:
    """Every record well formed, and everything it refers to present here or in a bundle."""
    ids: dict[str, set[str]] = {t: set() for t in TABLES}
    refs: dict[str, set[str]] = {"sites": set(), "inspections": set(), "problems": set()}
    photos_needed: dict[str, str] = {}
    photos_in = set()
    for bundle in bundles:
        photos_in.update(bundle.photos())
        for table in (*TABLES, "tombstones"):
            for line, record in enumerate(bundle.records(table), start=1):
                where = f"同步包 {bundle.path.name} 的{KIND_LABELS[table]}第 {line} 条"
                _check_record(table, record, where)
                if table == "tombstones":
                    continue
                ids[table].add(str(record[RECORD_KEYS[table]]))
                if table in ("inspections", "problems"):
                    refs["sites"].add(record["site"])
                if table == "results":
                    refs["inspections"].add(record["inspection_id"])
                if table == "problem_events":
                    refs["problems"].add(record["problem_id"])
                for photo in record.get("photos") or ():
                    photos_needed.setdefault(photo["sha256"], f"{where}的照片")
    missing_sites = refs["sites"] - ids["sites"] - set(store.site_ids(refs["sites"]))
    if missing_sites:
        raise BundleError(
            f"同步包引用了本库和包中都没有的点位：{'、'.join(sorted(missing_sites)[:5])}；请先导入点位台账"
        )
    for table, label in (("inspections", "检查"), ("problems", "整改问题")):
        wanted = refs[table] - ids[table]
        missing = wanted - store.existing(table, wanted) - store.buried(KINDS[table], wanted)
        if missing:
            raise BundleError(
                f"同步包引用了本库和包中都没有的{label}（{len(missing)} 条，如 {sorted(missing)[0]}）；"
                "请先导入更早的同步包，或让对方用 sync export --all 导出"
            )
    for sha, where in photos_needed.items():
        if sha not in photos_in and not _photo_here(sha, media_dir):
            raise BundleError(f"{where}不在包中，本机也没有（{sha[:12]}…）；请让对方重新导出")


def _check_record(table: str, record: dict[str, Any], where: str) -> None:
    for name in _REQUIRED[table]:
        if record.get(name) in (None, ""):
            raise BundleError(f"{where}缺少 {name}")
    if table != "tombstones" or record.get("rev") is not None:
        if not isinstance(record.get("rev"), int) or not isinstance(record.get("dev"), str):
            raise BundleError(f"{where}缺少版本信息（rev/dev）")
        vv = record.get("vv")
        if vv is not None:
            try:
                vector(record)
            except (ValueError, TypeError):
                raise BundleError(f"{where}的版本信息无效") from None
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
        if not isinstance(photo, dict) or not isinstance(photo.get("sha256"), str) or len(photo["sha256"]) != 64:
            raise BundleError(f"{where}的照片信息无效")
        stored = str(photo.get("stored_name") or "")
        if not stored or stored.startswith(("/", "\\")) or ".." in stored.replace("\\", "/").split("/"):
            raise BundleError(f"{where}的照片文件名无效")


# --- merging ---------------------------------------------------------------------------------


def _merge_bundle(store: Store, bundle: Bundle, report: ImportReport) -> None:
    clock = int(bundle.manifest.get("clock") or 0)
    cseq = store.next_change(clock)
    for tomb in bundle.records("tombstones"):
        _merge_tombstone(store, tomb, cseq, report)
    site_ids: dict[str, str] = {}
    for table in TABLES:
        for record in bundle.records(table):
            key = str(record[RECORD_KEYS[table]])
            if table not in ("sites", "units") and store.tombstone(KINDS[table], key):
                _lost_to_delete(store, table, key, record)
                report.count(table, "unchanged")
                continue
            if table == "results" and store.tombstone("inspection", record["inspection_id"]):
                report.count(table, "unchanged")
                continue
            if table == "problem_events" and store.tombstone("problem", record["problem_id"]):
                report.count(table, "unchanged")
                continue
            if table == "results":
                # One answer per item of an inspection: answers given twice (on two replicas)
                # meet under the smaller id.
                present = store.result_key(record["inspection_id"], record["item_id"])
                if present and present != key:
                    record = {**record, "id": min(present, key)}
                    key = present
            local = store.record(table, key)
            merged = merge(table, local, record)
            report.count(table, merged.outcome.value)
            if merged.record is None:
                continue
            if merged.outcome is Outcome.CONFLICT:
                store.add_conflict(table, key, _label(record), merged.kept, merged.lost)
            site_id = None
            if table in ("inspections", "problems"):
                code = merged.record["site"]
                if code not in site_ids:
                    site_ids.update(store.site_ids([code]))
                site_id = site_ids[code]
            store.put_record(table, merged.record, cseq, site_id)


def _merge_tombstone(store: Store, tomb: dict[str, Any], cseq: int, report: ImportReport) -> None:
    table = {kind: table for table, kind in KINDS.items()}[tomb["kind"]]
    present = store.tombstone(tomb["kind"], tomb["id"])
    if present is not None:
        if (tomb["rev"], tomb["dev"]) > (present["rev"], present["dev"]):
            store.put_tombstone({**present, **tomb}, cseq)
        report.count("tombstones", "unchanged")
        return
    local = store.record(table, tomb["id"]) if table not in ("sites", "units") else None
    if local is not None and not dominated(vector(local), vector(tomb)):
        # Changed here after the other side deleted it: the delete wins, the change is kept to see.
        store.add_conflict(table, tomb["id"], _label(local), {"_deleted": True, "_by": tomb["dev"]}, local)
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


def _photo_here(sha: str, media_dir: Path) -> bool:
    folder = media_dir / sha[:2]
    return folder.is_dir() and any(folder.glob(f"{sha}.*"))


def _extract_photos(bundle: Bundle, media_dir: Path, written: list[Path]) -> int:
    count = 0
    for sha, member in sorted(bundle.photos().items()):
        suffix = Path(member).suffix
        target = media_dir / sha[:2] / f"{sha}{suffix}"
        if target.exists():
            continue
        try:
            bundle.extract_photo(sha, target)
        except OSError as exc:
            raise InputError(f"无法把照片保存到媒体文件夹 {media_dir}：{exc.strerror or exc}") from None
        written.append(target)
        count += 1
    return count
