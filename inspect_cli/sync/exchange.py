"""`sync import`: bundles merged into this database.

Each bundle's source is checked first (`trust`); then every record of every bundle is
checked (`checks`) and merged (`merge.merge`) kind by kind inside one transaction, so the
first thing wrong rolls everything back. Photos the database lacks are staged meanwhile in
a second process (`photos`); the office's checklists and settings from a field bundle are
installed after the commit (`office_files`). A delete is a tombstone that wins over every
copy it saw.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_cli.store import Store
from inspect_cli.store.replica import KINDS, RECORD_KEYS
from inspect_cli.sync import FIELD, KIND_LABELS, TABLES
from inspect_cli.sync.bundle import Bundle, open_bundle
from inspect_cli.sync.checks import check_plan, check_record, check_references
from inspect_cli.sync.export import ExportReport, export_bundle
from inspect_cli.sync.merge import Outcome, dominated, merge, vector
from inspect_cli.sync.office_files import install_office_files, stage_office_files
from inspect_cli.sync.photos import PhotoStager
from inspect_cli.sync.trust import apply_source, check_source

__all__ = ["TABLES", "ExportReport", "ImportReport", "export_bundle", "import_bundles"]


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
        plans = [check_source(store, b, enroll) for b in opened]
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
        staged = stage_office_files(bundles, office_dir) if office_dir is not None else None
        if staged is not None:
            stack.callback(shutil.rmtree, staged, True)
        # Photos this database lacks are read, verified and staged in a second process while
        # the records merge. Photos it already has are never read: nothing of them is used.
        photos = PhotoStager(bundles, media_dir, dry_run)
        stack.callback(photos.discard)
        # Records (as each manifest counts them) and photos to fetch: the progress bar's total.
        total = sum(sum((b.manifest.get("counts") or {}).values()) for b in bundles) + len(photos.wanted)
        tick = Ticker(progress, total)
        written: list[Path] = []
        try:
            with store.atomic():
                dead = store.tombstone_ids()
                for bundle, plan in zip(bundles, fresh_plans, strict=True):
                    apply_source(store, bundle, plan, report)
                counts = _merge_all(store, bundles, report, dead, photos.available, tick)
                _merge_plans(store, bundles, report, counts, tick)
                for bundle, plan in zip(bundles, fresh_plans, strict=True):
                    store.remember_bundle(bundle.manifest_sha256, plan.device_id, plan.kind, counts[bundle.path])
                report.photos = photos.install(written, tick)
                store.fold_former_names()
                report.merged = store.dedupe_problems()
                store.refresh_scores()  # the answers merged in made their inspections' scores be forgotten
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
            install_office_files(staged, office_dir)
            report.office_files = True
    return report


class Ticker:
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


def _merge_all(
    store: Store,
    bundles: list[Bundle],
    report: ImportReport,
    dead: dict[str, set[str]],
    photo_here: Callable[[str], bool],
    tick: Ticker,
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
            check_record("tombstones", tomb, f"同步包 {bundle.path.name} 的{KIND_LABELS['tombstones']}第 {line} 条")
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
                check_record(table, record, where)
                check_references(store, table, record, where, site_ids, known, dead, photo_here)
                _merge_record(store, table, record, (cseqs[bundle.path], change), report, dead, site_ids)
                if table in known:
                    known[table].add(record["id"])
                counts[bundle.path] += 1
                tick.add()
    return counts


def _merge_plans(
    store: Store, bundles: list[Bundle], report: ImportReport, counts: dict[Path, int], tick: Ticker
) -> None:
    """The office's plans from field bundles: every one checked, then merged by union."""
    records: list[tuple[dict[str, Any], str]] = []
    for bundle in bundles:
        if bundle.manifest.get("kind") != FIELD:
            continue
        for line, record in enumerate(bundle.records("plans"), start=1):
            records.append((record, f"下发包 {bundle.path.name} 的{KIND_LABELS['plans']}第 {line} 条"))
            counts[bundle.path] += 1
    if not records:
        return
    codes = {v.get("site") for r, _ in records for v in (r.get("visits") or []) if isinstance(v, dict)}
    site_ids = store.site_ids(c for c in codes if isinstance(c, str))
    for record, where in records:
        check_plan(record, where, site_ids)
    for record, _ in records:
        report.count("plans", store.merge_plan(record, site_ids))
        tick.add()


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
    # Deleted here, or its inspection or problem was: what the delete did not see is kept.
    parent = {"results": ("inspection", "inspection_id"), "problem_events": ("problem", "problem_id")}.get(table)
    dead_as = (KINDS[table], key) if table != "sites" and key in dead[KINDS[table]] else None
    if dead_as is None and parent and record[parent[1]] in dead[parent[0]]:
        dead_as = (parent[0], record[parent[1]])
    if dead_as is not None:
        tomb = store.tombstone(*dead_as)
        if tomb is not None:
            _keep_unseen(store, tomb, [(table, record)], report)
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
        # Changed here (or its answers, its history) after the other side deleted it.
        _keep_unseen(store, tomb, [(table, local), *store.children(table, tomb["id"])], report)
    store.put_tombstone(tomb, cseq)
    report.count("tombstones", "deleted")


def _keep_unseen(
    store: Store, tomb: dict[str, Any], records: list[tuple[str, dict[str, Any]]], report: ImportReport
) -> None:
    """The delete wins everywhere alike; each record version it did not see is kept as a conflict."""
    deleted = {"_deleted": True, "_by": tomb["dev"]}
    for table, record in records:
        unseen = not dominated(vector(record), vector(tomb))
        if unseen and store.add_conflict(table, str(record.get("id")), _label(record), deleted, record):
            report.conflicts += 1


def _label(record: dict[str, Any]) -> str:
    for name in ("no", "code", "name", "item_id", "action"):
        if record.get(name):
            return str(record[name])
    return str(record.get("id", ""))[:8]
