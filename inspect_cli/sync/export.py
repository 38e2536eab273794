"""`sync export`: a work bundle (changes not yet acknowledged, or all) or a field bundle.

A work bundle carries what this database changed since the office last acknowledged it
(or everything): records of every kind, tombstones and the photos they use. A field bundle
(`--field`) carries what the office hands out: the 点位 register, the unit register, the
problems still to fix (and those ended since that laptop's last one) with their history
and photos, the checklists and settings in force, the 双随机 plans, and which changes the office has
received from each device (so the laptop's next bundle starts from there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from inspect_cli.dates import now_iso, today
from inspect_cli.errors import InputError, StateError
from inspect_cli.store import Store
from inspect_cli.sync import FIELD, TABLES, WORK
from inspect_cli.sync.bundle import BundleWriter

PLAN_WEEKS_SENT = 4  # a field bundle carries the plans of weeks ending this many weeks back, and later


@dataclass
class ExportReport:
    path: Path
    kind: str
    counts: dict[str, int]
    photos: int
    since: int
    upto: int


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
    # One snapshot: the records, the tombstones and the change sequence they reach agree
    # however many others write meanwhile.
    with store.snapshot():
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
                # The plans of the last weeks and those ahead, replaced draws too: each laptop sees
                # its pair's 点位 and what was drawn again. Older ones it has, or does not need.
                recent = today() - timedelta(weeks=PLAN_WEEKS_SENT)
                counts["plans"] = writer.write_records("plans", store.plan_records(recent))
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
