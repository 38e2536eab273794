"""Versions, numbers and tombstones: what lets many databases merge into one.

Every replicated row carries the version of its last write (`rev` a Lamport time, `dev`
the writing device, `vv` the version vector once two devices have written it) and `cseq`,
this database's change sequence, so an incremental bundle carries exactly what changed
since the office last acknowledged. A deleted row leaves a tombstone with the version it
died at, so an older copy arriving later stays dead and the delete itself travels.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inspect_cli.dates import now_iso
from inspect_cli.errors import InputError, StateError
from inspect_cli.store import editions
from inspect_cli.store.versions import compact, joined, vector

if TYPE_CHECKING:
    from inspect_cli.store.engine import Connection, Dialect

# An event's place in its problem's history, for events written within the same second.
NEXT_EVENT_ORD = "(SELECT coalesce(max(o.ord), 0) + 1 FROM problem_events o WHERE o.problem_id = {})"

# The device code goes into every number (JC-2026-A-0007): short, unambiguous, typed by hand.
DEVICE_CODE = re.compile(r"[A-Z0-9]{1,3}")

# Rows that die with their parent: (table, column naming the parent).
CHILDREN = {"inspections": ("results", "inspection_id"), "problems": ("problem_events", "problem_id")}

# Which tables replicate, and the tombstone kind their deletes leave.
KINDS = {
    "sites": "site",
    "units": "unit",
    "inspections": "inspection",
    "results": "result",
    "problems": "problem",
    "problem_events": "event",
}


@dataclass(frozen=True)
class Device:
    """This database as a replica: its identity and where its clocks stand."""

    id: str
    code: str | None
    clock: int
    changes: int
    acked: int
    office_id: str | None
    code_asked: bool = False


def check_device_code(text: str) -> str:
    code = text.strip().upper()
    if not DEVICE_CODE.fullmatch(code):
        raise InputError(f"设备代码“{text.strip()}”无效：应为 1–3 个字母或数字，如 A、B2、ZF1")
    return code


class ReplicaMixin:
    """The replication part of Store (which provides `conn`, `atomic` and `_tick`)."""

    conn: Connection
    dialect: Dialect
    _tick: tuple[int, int, str] | None

    # --- this device ------------------------------------------------------------

    def device(self) -> Device:
        row = self.conn.execute(
            "SELECT device_id, device_code, clock, changes, acked, office_id, code_asked FROM replica"
        ).fetchone()
        return Device(*row[:6], code_asked=bool(row[6]))

    def code_asked(self) -> None:
        """The person was asked for this device's code once (and may have skipped it)."""
        with self.atomic():  # type: ignore[attr-defined]
            self.conn.execute("UPDATE replica SET code_asked = 1")

    def set_device_code(self, text: str) -> Device:
        """Give this database its code; numbers made from now on carry it."""
        code = check_device_code(text)
        current = self.device()
        if current.code == code:
            return current
        with self.atomic():  # type: ignore[attr-defined]
            taken = self.conn.execute(
                "SELECT 1 FROM inspections WHERE device = ? UNION SELECT 1 FROM problems WHERE device = ?",
                (code, code),
            ).fetchone()
            known = self.conn.execute("SELECT id FROM devices WHERE code = ?", (code,)).fetchone()
            if taken or (known and known[0] != current.id):
                raise StateError(f"设备代码 {code} 已被另一台设备使用（本库中已有带 {code} 的编号），请换一个")
            if current.code:
                mine = self.conn.execute(
                    "SELECT 1 FROM inspections WHERE device = ? UNION SELECT 1 FROM problems WHERE device = ?",
                    (current.code, current.code),
                ).fetchone()
                if mine:
                    raise StateError(f"本机代码已是 {current.code}，且已有带此代码的编号；为免编号混乱，不能再改")
            self.conn.execute("UPDATE replica SET device_code = ?", (code,))
        return self.device()

    # --- devices this database trusts --------------------------------------------

    def device_key(self) -> str | None:
        """This device's signing key, as the office handed it out (hex)."""
        return self.conn.execute("SELECT key FROM replica").fetchone()[0]

    def enrolled_device(self, code: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM devices WHERE code = ?", (code.strip().upper(),)).fetchone()
        return dict(row) if row else None

    def enrolled_devices(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM devices ORDER BY code")]

    def enroll_device(self, code: str, key: str, device_id: str | None = None) -> None:
        with self.atomic():  # type: ignore[attr-defined]
            self.conn.execute(
                "INSERT INTO devices (code, id, key, enrolled_at) VALUES (?, ?, ?, ?)",
                (code, device_id, key, now_iso()),
            )

    def mark_key_sent(self, code: str) -> None:
        with self.atomic():  # type: ignore[attr-defined]
            self.conn.execute("UPDATE devices SET key_sent = 1 WHERE code = ?", (code,))

    def unsent(self) -> int:
        """How many records changed here that the office has not acknowledged yet."""
        acked = self.device().acked
        total = 0
        for table in (*KINDS, "tombstones"):
            total += self.conn.execute(f"SELECT count(*) FROM {table} WHERE cseq > ?", (acked,)).fetchone()[0]
        return total

    def field_sent(self, code: str | None) -> int | None:
        """This database's change sequence when it last made a field bundle for the device
        (for any device, when `code` is None); None if it never did."""
        if code is None:
            row = self.conn.execute("SELECT min(field_sent) FROM devices WHERE field_sent > 0").fetchone()
        else:
            row = self.conn.execute("SELECT field_sent FROM devices WHERE code = ? AND field_sent > 0", (code,))
            row = row.fetchone()
        return row[0] if row and row[0] is not None else None

    def mark_field_sent(self, code: str, changes: int) -> None:
        with self.atomic():  # type: ignore[attr-defined]
            self.conn.execute("UPDATE devices SET field_sent = ? WHERE code = ?", (changes, code))

    def device_acks(self) -> dict[str, int]:
        """How far this database has received each enrolled device's changes."""
        rows = self.conn.execute("SELECT id, received FROM devices WHERE id IS NOT NULL")
        return {r[0]: r[1] for r in rows}

    def bundle_received(self, code: str, device_id: str, since: int, upto: int) -> None:
        """A device's bundle came in: bind its id, and move its acknowledgement on when nothing was skipped."""
        self.conn.execute(
            "UPDATE devices SET id = ?, last_import = ?,"
            " received = CASE WHEN ? <= received AND ? > received THEN ? ELSE received END WHERE code = ?",
            (device_id, now_iso(), since, upto, upto, code),
        )

    def accept_field_bundle(
        self, office_id: str, code: str | None, key: str | None, acked: int | None, keep_key: bool = False
    ) -> None:
        """Take the office's identity, this device's code and key (the first time), and its acknowledgement."""
        me = self.device()
        self.conn.execute("UPDATE replica SET office_id = ?", (office_id if office_id != me.id else None,))
        if code and not me.code:
            self.conn.execute("UPDATE replica SET device_code = ?", (check_device_code(code),))
        if key and not keep_key:
            self.conn.execute("UPDATE replica SET key = ?", (key,))
        if acked is not None:
            self.conn.execute(f"UPDATE replica SET acked = {self.dialect.greatest}(acked, ?)", (int(acked),))

    # --- numbering and versions ------------------------------------------------

    def _next_number(self, table: str, prefix: str, year: int) -> tuple[str, int, str]:
        """(device code, sequence, number) of the next inspection or problem this device makes."""
        code = self.device().code or ""
        seq = self.conn.execute(
            f"SELECT coalesce(max(seq), 0) + 1 FROM {table} WHERE year = ? AND device = ?", (year, code)
        ).fetchone()[0]
        middle = f"{code}-" if code else ""
        return code, seq, f"{prefix}-{year}-{middle}{seq:04d}"

    def _now_version(self) -> tuple[int, int, str]:
        """(Lamport time, change sequence, device id) of the write transaction under way."""
        if self._tick is None:
            self.conn.execute("UPDATE replica SET clock = clock + 1, changes = changes + 1")
            clock, changes, device = self.conn.execute("SELECT clock, changes, device_id FROM replica").fetchone()
            self._tick = (clock, changes, device)
        return self._tick

    def _stamp(self, table: str, ids: list[str], fields: tuple[str, ...] = ()) -> None:
        """Mark rows as written by this device now; `fields` are the problem or unit fields written."""
        if not ids:
            return
        rev, cseq, me = self._now_version()
        clocks = [f for f in fields if f != "updated_at"] if table in ("problems", "units") else []
        columns = "id, rev, dev, vv" + (", fclock" if clocks else "")
        updates = []
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {columns} FROM {table} WHERE id IN ({marks})", chunk):
                update = {"id": row[0], "vv": _written(row[1], row[2], row[3], me, rev), "rev": rev, "me": me}
                if clocks:
                    fclock = json.loads(row[4]) if row[4] else {}
                    fclock.update({f: [rev, me] for f in clocks})
                    update["fclock"] = _json(fclock)
                updates.append(update)
        sets = "vv = :vv, rev = :rev, dev = :me, cseq = :cseq" + (", fclock = :fclock" if clocks else "")
        self.conn.executemany(f"UPDATE {table} SET {sets} WHERE id = :id", [{**u, "cseq": cseq} for u in updates])

    def _bury(self, table: str, ids: list[str]) -> None:
        """Leave a tombstone for rows about to be deleted.

        Its version is the row's at this write, joined with the versions of the row's
        children (an inspection's answers, a problem's history): what the delete saw. A
        change elsewhere that it did not see is then recognised when it meets the delete.
        """
        if not ids:
            return
        self._stamp(table, ids)
        child = CHILDREN.get(table)
        now = now_iso()
        for key in ids:
            row = self.conn.execute(f"SELECT rev, dev, vv, cseq FROM {table} WHERE id = ?", (key,)).fetchone()
            if row is None:
                continue
            seen = vector({"rev": row[0], "dev": row[1], "vv": row[2]})
            if child is not None:
                for rev, dev, vv in self.conn.execute(
                    f"SELECT rev, dev, vv FROM {child[0]} WHERE {child[1]} = ?", (key,)
                ).fetchall():
                    seen = joined(seen, vector({"rev": rev, "dev": dev, "vv": vv}))
            self.conn.execute(
                _PUT_TOMBSTONE, (KINDS[table], key, row[0], row[1], compact(row[0], row[1], seen), row[3], now)
            )


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _written(rev: int, dev: str, vv: str | None, me: str, now: int) -> str | None:
    """The version vector of a row this device writes at Lamport time `now` (NULL: {dev: rev})."""
    if vv is None:
        if dev in (me, ""):
            return None
        return _json({dev: rev, me: now})
    return _json({**json.loads(vv), me: now})


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_PUT_TOMBSTONE = (
    "INSERT INTO tombstones (kind, id, rev, dev, vv, cseq, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev, dev = excluded.dev, vv = excluded.vv,"
    " cseq = excluded.cseq, deleted_at = excluded.deleted_at"
)


# --- rows as they travel in bundles ------------------------------------------------------
# Column lists per kind. Sites travel by 点位编码 and units by name (their ids are local to
# each database); everything else by its UUID. Inspections carry their frozen items, answers
# and problem events their photos, so each record is whole on arrival.
SITE_COLUMNS = (
    "code", "name", "site_type", "type_code", "district", "street", "community", "grid", "address", "unit",
    "partner", "contact", "phone", "lng", "lat", "name_initials", "name_pinyin", "created_at", "updated_at",
)  # fmt: skip
UNIT_COLUMNS = ("name", "short_name", "contact", "phone", "kind", "created_at", "updated_at")  # and id, fclock
INSPECTION_COLUMNS = (
    "id", "no", "year", "device", "seq", "date", "inspectors", "status", "site_type", "checklist_code",
    "checklist_edition", "created_at", "finished_at",
)  # fmt: skip
ITEM_COLUMNS = (
    "seq", "item_id", "text", "category", "score", "deduct", "unit", "deadline_days", "indicator", "standard",
    "tips", "photo_required",
)  # fmt: skip
RESULT_COLUMNS = (
    "id", "inspection_id", "item_id", "result", "count", "note", "recorded_at", "recorded_by", "unit",
)  # fmt: skip
PHOTO_COLUMNS = ("id", "position", "sha256", "stored_name", "original_path", "added_at")
PROBLEM_COLUMNS = (
    "id", "no", "year", "device", "seq", "inspection_id", "item_id", "item_text", "category", "indicator",
    "description", "count", "severity", "unit", "unit_locked", "found_date", "deadline", "deadline_locked",
    "status", "rework_count", "recheck_count", "repeat_of", "fixed_date", "closed_date", "created_at",
    "updated_at", "prior", "fclock",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "problem_id", "at", "date", "action", "from_status", "to_status", "actor", "note", "inspection_id",
    "count",
)  # fmt: skip
VERSION_COLUMNS = ("rev", "dev", "vv")

# How each kind's records are keyed across databases.
RECORD_KEYS = {
    "sites": "code",
    "units": "id",
    "inspections": "id",
    "results": "id",
    "problems": "id",
    "problem_events": "id",
}


class ReplicaRows:
    """Reading and writing whole records for bundles (part of Store)."""

    conn: Connection
    dialect: Dialect

    # --- reading --------------------------------------------------------------

    def changed_rows(self, table: str, since: int, ended_since: int | None = None) -> Iterator[dict[str, Any]]:
        """Records of `table` changed after change sequence `since`, whole, in bundle form.

        With `ended_since` (a field bundle), problems and their history narrow to those still
        to be fixed, plus those that changed after `ended_since` whatever their state, so a
        problem closed, dismissed or merged at the office is closed on the laptops too.
        """
        where = "t.cseq > :since"
        active = "status IN ('open', 'fixed', 'deferred') AND merged_into IS NULL"
        if ended_since is not None and table == "problems":
            where += f" AND (({active.replace('status', 't.status').replace('merged_into', 't.merged_into')})"
            where += " OR t.cseq > :ended)"
        if ended_since is not None and table == "problem_events":
            where += f" AND t.problem_id IN (SELECT id FROM problems WHERE ({active}) OR cseq > :ended)"
        yield from self._records(table, where, {"since": since, "ended": ended_since})

    def record(self, table: str, key: str) -> dict[str, Any] | None:
        """One record in bundle form, by its cross-database key."""
        column = RECORD_KEYS[table]
        rows = list(self._records(table, f"t.{column} = :key", {"key": key}))
        return rows[0] if rows else None

    def _records(self, table: str, where: str, params: dict[str, object]) -> Iterator[dict[str, Any]]:
        for record in self._raw_records(table, where, params):
            # SQLite's JSON functions keep insertion order; a record's text must not depend on it.
            if record.get("vv"):
                record["vv"] = json.dumps(json.loads(record["vv"]), sort_keys=True)
            yield record

    def _raw_records(self, table: str, where: str, params: dict[str, object]) -> Iterator[dict[str, Any]]:
        conn = self.conn
        if table == "sites":
            cols = ", ".join(f"t.{c}" for c in (*SITE_COLUMNS, *VERSION_COLUMNS))
            for row in conn.execute(f"SELECT {cols} FROM sites t WHERE {where} ORDER BY t.code", params):
                yield dict(row)
        elif table == "units":
            cols = ", ".join(f"t.{c}" for c in ("id", *UNIT_COLUMNS, *VERSION_COLUMNS, "fclock"))
            for row in conn.execute(f"SELECT {cols} FROM units t WHERE {where} ORDER BY t.id", params):
                record = dict(row)
                record["fclock"] = dict(sorted(json.loads(record["fclock"]).items())) if record["fclock"] else {}
                record["aliases"] = [
                    r[0]
                    for r in conn.execute(
                        "SELECT alias FROM unit_aliases WHERE unit_id = ? ORDER BY alias", (record["id"],)
                    )
                ]
                yield record
        elif table == "inspections":
            cols = ", ".join(f"t.{c}" for c in (*INSPECTION_COLUMNS, *VERSION_COLUMNS, "edition_id"))
            sql = f"SELECT {cols}, s.code AS site FROM inspections t JOIN sites s ON s.id = t.site_id WHERE {where}"
            for row in conn.execute(sql + " ORDER BY t.id", params):
                record = dict(row)
                record["inspectors"] = json.loads(record["inspectors"])
                items = conn.execute(
                    f"SELECT {', '.join(ITEM_COLUMNS)} FROM edition_items WHERE edition_id = ? ORDER BY seq",
                    (record.pop("edition_id"),),
                )
                record["items"] = [dict(r) for r in items]
                yield record
        elif table == "results":
            cols = ", ".join(f"t.{c}" for c in (*RESULT_COLUMNS, *VERSION_COLUMNS))
            for row in conn.execute(f"SELECT {cols} FROM results t WHERE {where} ORDER BY t.id", params):
                record = dict(row)
                record["photos"] = self._photo_list("photos", "result_id", record["id"])
                yield record
        elif table == "problems":
            cols = ", ".join(f"t.{c}" for c in (*PROBLEM_COLUMNS, *VERSION_COLUMNS))
            sql = f"SELECT {cols}, s.code AS site FROM problems t JOIN sites s ON s.id = t.site_id WHERE {where}"
            for row in conn.execute(sql + " ORDER BY t.id", params):
                record = dict(row)
                record["fclock"] = dict(sorted(json.loads(record["fclock"]).items())) if record["fclock"] else {}
                yield record
        elif table == "problem_events":
            cols = ", ".join(f"t.{c}" for c in (*EVENT_COLUMNS, *VERSION_COLUMNS))
            for row in conn.execute(f"SELECT {cols} FROM problem_events t WHERE {where} ORDER BY t.id", params):
                record = dict(row)
                record["photos"] = self._photo_list("problem_photos", "event_id", record["id"])
                yield record
        else:  # pragma: no cover - a programming error
            raise ValueError(table)

    def _photo_list(self, table: str, column: str, owner: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            f"SELECT {', '.join(PHOTO_COLUMNS)} FROM {table} WHERE {column} = ? ORDER BY position", (owner,)
        )
        return [dict(r) for r in rows]

    def children(self, table: str, parent: str) -> list[tuple[str, dict[str, Any]]]:
        """(table, record) of each row that dies with this one."""
        child = CHILDREN.get(table)
        if child is None:
            return []
        return [(child[0], r) for r in self._records(child[0], f"t.{child[1]} = :parent", {"parent": parent})]

    def tombstones_since(self, since: int, kinds: tuple[str, ...] = tuple(KINDS.values())) -> Iterator[dict[str, Any]]:
        marks = ",".join("?" * len(kinds))
        rows = self.conn.execute(
            "SELECT kind, id, rev, dev, vv, deleted_at FROM tombstones"
            f" WHERE cseq > ? AND kind IN ({marks}) ORDER BY kind, id",
            (since, *kinds),
        )
        for row in rows:
            yield dict(row)

    def tombstone(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT kind, id, rev, dev, vv, deleted_at FROM tombstones WHERE kind = ? AND id = ?", (kind, key)
        ).fetchone()
        return dict(row) if row else None

    def bundle_seen(self, manifest_sha256: str) -> int | None:
        """How many records a bundle had, if exactly this bundle was merged here before."""
        row = self.conn.execute("SELECT records FROM bundles_seen WHERE manifest_sha256 = ?", (manifest_sha256,))
        found = row.fetchone()
        return found[0] if found else None

    def remember_bundle(self, manifest_sha256: str, device_id: str, kind: str, records: int) -> None:
        self.conn.execute(
            "INSERT INTO bundles_seen (manifest_sha256, device_id, kind, records, imported_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (manifest_sha256) DO NOTHING",
            (manifest_sha256, device_id, kind, records, now_iso()),
        )

    def tombstone_ids(self) -> dict[str, set[str]]:
        """Every deleted record's id, by kind."""
        out: dict[str, set[str]] = {kind: set() for kind in KINDS.values()}
        for kind, key in self.conn.execute("SELECT kind, id FROM tombstones"):
            out.setdefault(kind, set()).add(key)
        return out

    def version(self, table: str, key: str) -> tuple[int, str, str | None] | None:
        """(rev, dev, vv) of a record here, by its cross-database key."""
        row = self.conn.execute(f"SELECT rev, dev, vv FROM {table} WHERE {RECORD_KEYS[table]} = ?", (key,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def result_version(self, inspection_id: str, item_id: str) -> tuple[str, int, str, str | None] | None:
        """(id, rev, dev, vv) of the answer to this item of this inspection here, if there is one."""
        row = self.conn.execute(
            "SELECT id, rev, dev, vv FROM results WHERE inspection_id = ? AND item_id = ?", (inspection_id, item_id)
        ).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def site_ids(self, codes: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(codes))):
            marks = ",".join("?" * len(chunk))
            out.update(dict(self.conn.execute(f"SELECT code, id FROM sites WHERE code IN ({marks})", chunk).fetchall()))
        return out

    def existing(self, table: str, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.conn.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk))
        return found

    def next_change(self, clock: int) -> int:
        """A change sequence for rows an import writes; the Lamport clock moves past `clock`."""
        self.conn.execute(
            f"UPDATE replica SET clock = {self.dialect.greatest}(clock, ?), changes = changes + 1", (clock,)
        )
        return self.conn.execute("SELECT changes FROM replica").fetchone()[0]

    def put_record(
        self, table: str, record: dict[str, Any], cseq: int, site_id: str | None = None, fresh: bool = False
    ) -> None:
        """Insert or replace a whole record as it came (its version included); `fresh`: not here yet."""
        conn = self.conn
        version = {"rev": record["rev"], "dev": record["dev"], "vv": record["vv"], "cseq": cseq}
        if table == "sites":
            values = {c: record.get(c) for c in SITE_COLUMNS}
            same = self.dialect.equal_nocase("code", "?")
            current = conn.execute(f"SELECT id FROM sites WHERE {same}", (record["code"],)).fetchone()
            row = {**values, **version, "id": current[0] if current else _new_id()}
            _upsert(conn, "sites", row, "id")
        elif table == "units":
            values = {c: record.get(c) for c in UNIT_COLUMNS}
            values["fclock"] = json.dumps(record.get("fclock") or {}, sort_keys=True) if record.get("fclock") else None
            unit_id = record["id"]
            # A unit elsewhere may hold the name this version takes (renamed two ways at once):
            # the name stays with the later version, the other keeps its own as a former name.
            holder = conn.execute(
                "SELECT id, rev, dev FROM units WHERE name = ? AND id <> ?", (record["name"], unit_id)
            ).fetchone()
            if holder is not None:
                loser = unit_id if (holder[1], holder[2]) > (record["rev"], record["dev"]) else holder[0]
                if loser == unit_id:
                    values["name"] = f"{record['name']}（{unit_id[:4]}）"
                else:
                    conn.execute(
                        "UPDATE units SET name = name || '（' || substr(id, 1, 4) || '）' WHERE id = ?", (loser,)
                    )
            _upsert(conn, "units", {**values, **version, "id": unit_id}, "id")
            # The unit's former names as this version lists them; a former name two units
            # claim (renamed two ways at once) stays with the later version, on every replica.
            aliases = [a for a in record.get("aliases") or [] if a != record["name"]]
            keep = f" AND alias NOT IN ({','.join('?' * len(aliases))})" if aliases else ""
            conn.execute(f"DELETE FROM unit_aliases WHERE unit_id = ?{keep}", (unit_id, *aliases))
            conn.execute("DELETE FROM unit_aliases WHERE alias = ?", (record["name"],))
            for alias in aliases:
                owner = conn.execute(
                    "SELECT u.id, u.rev, u.dev FROM unit_aliases a JOIN units u ON u.id = a.unit_id WHERE a.alias = ?",
                    (alias,),
                ).fetchone()
                if owner is None:
                    conn.execute(
                        "INSERT INTO unit_aliases (alias, unit_id, created_at) VALUES (?, ?, ?)",
                        (alias, unit_id, record.get("updated_at") or now_iso()),
                    )
                elif owner[0] != unit_id and (record["rev"], record["dev"]) > (owner[1], owner[2]):
                    conn.execute("UPDATE unit_aliases SET unit_id = ? WHERE alias = ?", (unit_id, alias))
        elif table == "inspections":
            values = {c: record.get(c) for c in INSPECTION_COLUMNS}
            values["no"] = self._free_number("inspections", record)
            values["inspectors"] = json.dumps(record.get("inspectors") or [], ensure_ascii=False)
            known = conn.execute("SELECT edition_id FROM inspections WHERE id = ?", (record["id"],)).fetchone()
            if known is None:  # the items were frozen when the inspection started; they never change after
                items = sorted(record.get("items") or [], key=lambda item: item.get("seq") or 0)
                values["edition_id"] = editions.ensure(
                    conn, values["checklist_code"], values["checklist_edition"], items
                )
            _upsert(conn, "inspections", {**values, **version, "site_id": site_id}, "id")
        elif table == "results":
            values = {c: record.get(c) for c in RESULT_COLUMNS}
            if not fresh:
                conn.execute(
                    "DELETE FROM results WHERE inspection_id = ? AND item_id = ? AND id <> ?",
                    (record["inspection_id"], record["item_id"], record["id"]),
                )
            _upsert(conn, "results", {**values, **version}, "id")
            self._put_photos("photos", "result_id", record["id"], record.get("photos") or [], {}, fresh)
        elif table == "problems":
            values = {c: record.get(c) for c in PROBLEM_COLUMNS}
            values["no"] = self._free_number("problems", record)
            values["fclock"] = json.dumps(record.get("fclock") or {}, sort_keys=True) if record.get("fclock") else None
            _upsert(conn, "problems", {**values, **version, "site_id": site_id}, "id")
        elif table == "problem_events":
            values = {c: record.get(c) for c in EVENT_COLUMNS}
            conn.execute(_upsert_sql("problem_events", (*values, *version), "id", _EVENT_ORD), {**values, **version})
            self._put_photos(
                "problem_photos",
                "event_id",
                record["id"],
                record.get("photos") or [],
                {"problem_id": record["problem_id"]},
                fresh,
            )
        else:  # pragma: no cover - a programming error
            raise ValueError(table)

    def _free_number(self, table: str, record: dict[str, Any]) -> str:
        """The record's number, unless another record has it (numbers made before device codes).

        Of the two, the one made later (created_at, then id) takes a suffix from its id, the
        same choice on every replica.
        """
        same = self.dialect.equal_nocase("no", "?")
        row = self.conn.execute(
            f"SELECT id, created_at, no FROM {table} WHERE {same} AND id <> ?", (record["no"], record["id"])
        ).fetchone()
        if row is None:
            return str(record["no"])
        if (str(record["created_at"]), str(record["id"])) > (row[1], row[0]):
            return f"{record['no']}-{str(record['id'])[:4].upper()}"
        self.conn.execute(f"UPDATE {table} SET no = ? WHERE id = ?", (f"{row[2]}-{row[0][:4].upper()}", row[0]))
        return str(record["no"])

    def _put_photos(
        self,
        table: str,
        column: str,
        owner: str,
        photos: list[dict[str, Any]],
        extra: dict[str, object],
        fresh: bool = False,
    ) -> None:
        if not fresh:
            self.conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (owner,))
        for photo in photos:
            row = {**{c: photo.get(c) for c in PHOTO_COLUMNS}, column: owner, **extra}
            names = ", ".join(row)
            self.conn.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + k for k in row)})", row)

    def put_tombstone(self, record: dict[str, Any], cseq: int) -> None:
        """Record a delete that came in, and carry it out."""
        self.conn.execute(
            "INSERT INTO tombstones (kind, id, rev, dev, vv, cseq, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev, dev = excluded.dev, vv = excluded.vv,"
            " cseq = excluded.cseq, deleted_at = excluded.deleted_at",
            (record["kind"], record["id"], record["rev"], record["dev"], record["vv"], cseq, record["deleted_at"]),
        )
        table = {kind: table for table, kind in KINDS.items()}[record["kind"]]
        self.conn.execute(f"DELETE FROM {table} WHERE {RECORD_KEYS[table]} = ?", (record["id"],))

    def add_conflict(self, kind: str, record_id: str, label: str, kept: dict, other: dict) -> bool:
        """Keep the losing side of a concurrent change for a person; False if already kept."""
        kept_text = json.dumps(kept, ensure_ascii=False, sort_keys=True)
        other_text = json.dumps(other, ensure_ascii=False, sort_keys=True)
        seen = self.conn.execute(
            "SELECT 1 FROM conflicts WHERE kind = ? AND record_id = ? AND kept = ? AND other = ?",
            (kind, record_id, kept_text, other_text),
        ).fetchone()
        if seen:
            return False
        self.conn.execute(
            "INSERT INTO conflicts (id, kind, record_id, label, kept, other, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_new_id(), kind, record_id, label, kept_text, other_text, now_iso()),
        )
        return True

    def conflicts(self, include_resolved: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM conflicts"
        if not include_resolved:
            sql += " WHERE resolved_at IS NULL"
        rows = self.conn.execute(sql + " ORDER BY detected_at, id")
        return [{**dict(r), "kept": json.loads(r["kept"]), "other": json.loads(r["other"])} for r in rows]

    def resolve_conflict(self, conflict_id: str, resolution: str) -> None:
        self.conn.execute(
            "UPDATE conflicts SET resolved_at = ?, resolution = ? WHERE id = ?", (now_iso(), resolution, conflict_id)
        )

    # --- one problem found on two laptops -------------------------------------------

    def dedupe_problems(self) -> int:
        """Problems found independently for the same 点位 and item become one.

        Two problems whose finders knew the same history of that 点位 and item (`prior`)
        were found without knowing of each other: the earliest found stands and the others
        point at it (`merged_into`), so their numbers still resolve and statistics count one.
        Derived from data every replica ends up with, so every replica picks the same one.
        Returns how many problems are merged into another.
        """
        conn = self.conn
        groups = conn.execute(
            "SELECT site_id, item_id, prior FROM problems GROUP BY site_id, item_id, prior HAVING count(*) > 1"
        ).fetchall()
        merged = 0
        for site_id, item_id, prior in groups:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM problems WHERE site_id = ? AND item_id = ? AND prior = ?"
                    " ORDER BY found_date, created_at, no, id",
                    (site_id, item_id, prior),
                )
            ]
            survivor, others = ids[0], ids[1:]
            conn.execute("UPDATE problems SET merged_into = NULL WHERE id = ? AND merged_into IS NOT NULL", (survivor,))
            for other in others:
                conn.execute(
                    "UPDATE problems SET merged_into = ? WHERE id = ? AND (merged_into IS NULL OR merged_into <> ?)",
                    (survivor, other, survivor),
                )
            merged += len(others)
        return merged

    def fold_former_names(self) -> int:
        """Labels and units still using a name the register lists as a former name take the current one.

        After the office renames or merges a unit, a laptop may still hold the old unit and
        label new problems with it; once both meet, everything follows the register. Derived
        from the register every replica holds, so it is not a change of its own (no new
        version): each replica relabels the same way, and nothing goes back and forth.
        Returns how many records were relabelled.
        """
        conn = self.conn
        moved = 0
        pairs = conn.execute(
            "SELECT a.alias, u.name, u.id FROM unit_aliases a JOIN units u ON u.id = a.unit_id ORDER BY a.alias"
        ).fetchall()
        for alias, name, unit_id in pairs:
            if alias == name:
                continue
            twin = conn.execute("SELECT id FROM units WHERE name = ?", (alias,)).fetchone()
            if twin:
                conn.execute("UPDATE unit_aliases SET unit_id = ? WHERE unit_id = ?", (unit_id, twin[0]))
                conn.execute("DELETE FROM units WHERE id = ?", (twin[0],))
            for table, columns in (("problems", ("unit",)), ("sites", ("unit", "partner")), ("results", ("unit",))):
                for column in columns:
                    ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE {column} = ?", (alias,))]
                    if ids:
                        conn.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (name, alias))
                        moved += len(ids)
        return moved

    def unit_identity(self, record: dict[str, Any]) -> str:
        """The id a unit arriving from elsewhere has here.

        Units made before replication got an id per database; the same unit (by name, or a
        former name) met under two ids takes the smaller one everywhere, so every replica
        ends with one id per unit.
        """
        conn = self.conn
        key = str(record["id"])
        if conn.execute("SELECT 1 FROM units WHERE id = ?", (key,)).fetchone():
            return key
        names = [record["name"], *(record.get("aliases") or [])]
        marks = ",".join("?" * len(names))
        row = conn.execute(
            f"SELECT id FROM units WHERE name IN ({marks})"
            f" UNION SELECT unit_id FROM unit_aliases WHERE alias IN ({marks}) OR alias = ? ORDER BY 1 LIMIT 1",
            (*names, *names, record["name"]),
        ).fetchone()
        if row is None:
            return key
        here = str(row[0])
        if key < here:
            conn.execute("UPDATE unit_aliases SET unit_id = ? WHERE unit_id = ?", (key, here))
            conn.execute("UPDATE units SET id = ? WHERE id = ?", (key, here))
            return key
        return here


def _upsert(conn: Connection, table: str, row: dict[str, object], key: str) -> None:
    conn.execute(_upsert_sql(table, tuple(row), key), row)


# A new event's place in its problem's history (kept when the event is updated).
_EVENT_ORD = ("ord", NEXT_EVENT_ORD.format(":problem_id"))


@functools.lru_cache(maxsize=64)
def _upsert_sql(table: str, names: tuple[str, ...], key: str, insert_only: tuple[str, str] | None = None) -> str:
    updates = ", ".join(f"{k} = excluded.{k}" for k in names if k != key)
    columns = ", ".join(names)
    marks = ", ".join(f":{k}" for k in names)
    if insert_only:
        columns += f", {insert_only[0]}"
        marks += f", {insert_only[1]}"
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({key}) DO UPDATE SET {updates}"


def _new_id() -> str:
    return str(uuid.uuid4())
