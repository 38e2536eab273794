"""Checklist editions, stored once: an inspection refers to the items it is scored against.

An inspection freezes the items of its checklist when it starts, so that a later edit of
the YAML never changes a score already given. Thousands of inspections share the same
items, so the items are kept once per edition and the inspection names that edition.
An edition is identified by its content (code, edition, every item field), like a photo by
its SHA-256: the same items give the same id on every laptop and on the office's server,
and merging needs nothing more than "insert if missing".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from inspect_cli.checklist.model import Item

# The fields of a frozen item, in the order the tables and the bundles use.
ITEM_FIELDS = (
    "item_id", "text", "category", "score", "deduct", "unit", "deadline_days", "indicator", "standard", "tips",
    "photo_required",
)  # fmt: skip


def normalise(item: Mapping[str, object]) -> tuple[object, ...]:
    """One item as stored: numbers as the database gives them back, whatever their source."""
    deduct = item.get("deduct")
    days = item.get("deadline_days")
    return (
        item["item_id"],
        item["text"],
        item["category"],
        float(item["score"]),  # type: ignore[arg-type]
        None if deduct is None else float(deduct),  # type: ignore[arg-type]
        item.get("unit"),
        None if days is None else int(days),  # type: ignore[call-overload]
        item.get("indicator"),
        item.get("standard"),
        item.get("tips"),
        int(bool(item.get("photo_required"))),
    )


def edition_id(code: str, edition: str, items: Sequence[tuple[object, ...]]) -> str:
    """The content address of an edition (normalised items, in their order)."""
    body = json.dumps([code, edition, [list(i) for i in items]], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


def ensure(conn, code: str, edition: str, items: Iterable[Mapping[str, object]]) -> str:  # type: ignore[no-untyped-def]
    """The id of this edition, stored first if this database lacks it. Inside the caller's transaction."""
    rows = [normalise(i) for i in items]
    key = edition_id(code, edition, rows)
    if conn.execute("SELECT 1 FROM editions WHERE id = ?", (key,)).fetchone() is None:
        _insert(conn, [(key, code, edition)], [(key, seq, *row) for seq, row in enumerate(rows)])
    return key


def _insert(conn, editions: list[tuple], items: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    conn.executemany("INSERT INTO editions (id, checklist_code, checklist_edition) VALUES (?, ?, ?)", editions)
    conn.executemany(
        f"INSERT INTO edition_items (edition_id, seq, {', '.join(ITEM_FIELDS)})"
        f" VALUES (?, ?, {', '.join('?' * len(ITEM_FIELDS))})",
        items,
    )


_TABLES = {
    "sqlite": """
        CREATE TABLE editions (
            id TEXT PRIMARY KEY,
            checklist_code TEXT NOT NULL,
            checklist_edition TEXT NOT NULL
        );
        CREATE TABLE edition_items (
            edition_id TEXT NOT NULL REFERENCES editions (id),
            seq INTEGER NOT NULL,
            item_id TEXT NOT NULL,
            text TEXT NOT NULL,
            category TEXT NOT NULL,
            score REAL NOT NULL,
            deduct REAL,
            unit TEXT,
            deadline_days INTEGER,
            indicator TEXT,
            standard TEXT,
            tips TEXT,
            photo_required INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (edition_id, item_id)
        ) WITHOUT ROWID;
        ALTER TABLE inspections ADD COLUMN edition_id TEXT REFERENCES editions (id);
    """,
    "postgresql": """
        CREATE TABLE editions (
            id TEXT COLLATE "C" PRIMARY KEY,
            checklist_code TEXT COLLATE "C" NOT NULL,
            checklist_edition TEXT COLLATE "C" NOT NULL
        );
        CREATE TABLE edition_items (
            edition_id TEXT COLLATE "C" NOT NULL REFERENCES editions (id) DEFERRABLE INITIALLY DEFERRED,
            seq INTEGER NOT NULL,
            item_id TEXT COLLATE "C" NOT NULL,
            text TEXT COLLATE "C" NOT NULL,
            category TEXT COLLATE "C" NOT NULL,
            score DOUBLE PRECISION NOT NULL,
            deduct DOUBLE PRECISION,
            unit TEXT COLLATE "C",
            deadline_days INTEGER,
            indicator TEXT COLLATE "C",
            standard TEXT COLLATE "C",
            tips TEXT COLLATE "C",
            photo_required INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (edition_id, item_id)
        );
        ALTER TABLE inspections ADD COLUMN edition_id TEXT COLLATE "C"
            REFERENCES editions (id) DEFERRABLE INITIALLY DEFERRED;
    """,
}

# An answer belongs to its inspection; that the item is one of the inspection's edition is
# checked where answers are written (recording, importing a bundle).
_RESULTS = {
    "sqlite": """
        CREATE TABLE results_new (
            id TEXT PRIMARY KEY,
            inspection_id TEXT NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'severe', 'na')),
            count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
            note TEXT,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT, unit TEXT, rev INTEGER NOT NULL DEFAULT 1, dev TEXT NOT NULL DEFAULT '', vv TEXT,
            cseq INTEGER NOT NULL DEFAULT 1,
            UNIQUE (inspection_id, item_id)
        );
        INSERT INTO results_new SELECT id, inspection_id, item_id, result, count, note, recorded_at, recorded_by,
            unit, rev, dev, vv, cseq FROM results;
        DROP TABLE results;
        ALTER TABLE results_new RENAME TO results;
        CREATE INDEX results_cseq ON results (cseq);
        DROP TABLE inspection_items;
        CREATE INDEX inspections_edition ON inspections (edition_id);
    """,
    "postgresql": """
        ALTER TABLE results DROP CONSTRAINT results_inspection_id_item_id_fkey;
        ALTER TABLE results ADD CONSTRAINT results_inspection_id_fkey FOREIGN KEY (inspection_id)
            REFERENCES inspections (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
        DROP TABLE inspection_items;
        CREATE INDEX inspections_edition ON inspections (edition_id);
    """,
}


def migrate(conn) -> None:  # type: ignore[no-untyped-def]
    """Migration 10: every inspection's frozen items become a reference to their edition."""
    from inspect_cli.store.schema import statements

    for statement in statements(_TABLES[conn.dialect.name]):
        conn.run(statement)
    known: set[str] = set()
    editions: list[tuple] = []
    items: list[tuple] = []
    links: list[tuple[str, str]] = []

    def close(inspection_id: str, code: str, edition: str, rows: list[tuple]) -> None:
        key = edition_id(code, edition, rows)
        links.append((key, inspection_id))
        if key not in known:
            known.add(key)
            editions.append((key, code, edition))
            items.extend((key, seq, *row) for seq, row in enumerate(rows))

    current: tuple[str, str, str] | None = None
    rows: list[tuple] = []
    fields = ", ".join(f"it.{f}" for f in ITEM_FIELDS)
    query = conn.stream(
        f"SELECT i.id, i.checklist_code, i.checklist_edition, {fields} FROM inspections i"
        " LEFT JOIN inspection_items it ON it.inspection_id = i.id ORDER BY i.id, it.seq"
    )
    for row in query:
        head = (row[0], row[1], row[2])
        if head != current:
            if current is not None:
                close(*current, rows)
            current, rows = head, []
        if row[3] is not None:
            rows.append(normalise(dict(zip(ITEM_FIELDS, row[3:], strict=True))))
    if current is not None:
        close(*current, rows)
    _insert(conn, editions, items)
    conn.executemany("UPDATE inspections SET edition_id = ? WHERE id = ?", links)
    for statement in statements(_RESULTS[conn.dialect.name]):
        conn.run(statement)


# --- reading stored editions (`checklist editions`, `checklist diff CODE@EDITION`) ---------


@dataclass(frozen=True)
class StoredEdition:
    """An edition kept in this database, with how the inspections use it."""

    id: str
    code: str
    edition: str
    # The 点位类型 as the inspections made with it name it; None when none is left.
    site_type: str | None
    items: int
    full_score: float
    inspections: int
    first_date: str | None
    last_date: str | None


def stored_editions(conn, code: str | None = None) -> list[StoredEdition]:  # type: ignore[no-untyped-def]
    """Every stored edition (of one checklist code), by code, edition label and first use."""
    where, params = ("WHERE e.checklist_code = ?", (code,)) if code is not None else ("", ())
    rows = conn.execute(
        "SELECT e.id, e.checklist_code, e.checklist_edition, coalesce(n.items, 0), coalesce(n.full_score, 0),"
        " coalesce(u.inspections, 0), u.first_date, u.last_date, u.site_type"
        " FROM editions e"
        " LEFT JOIN (SELECT edition_id, count(*) AS items, sum(score) AS full_score FROM edition_items"
        " GROUP BY edition_id) n ON n.edition_id = e.id"
        " LEFT JOIN (SELECT edition_id, count(*) AS inspections, min(date) AS first_date, max(date) AS last_date,"
        " max(site_type) AS site_type FROM inspections WHERE edition_id IS NOT NULL GROUP BY edition_id) u"
        f" ON u.edition_id = e.id {where}"
        " ORDER BY e.checklist_code, e.checklist_edition, coalesce(u.first_date, '9999'), e.id",
        params,
    )
    return [
        StoredEdition(
            id=row[0],
            code=row[1],
            edition=row[2],
            site_type=row[8],
            items=int(row[3]),
            full_score=float(row[4]),
            inspections=int(row[5]),
            first_date=row[6],
            last_date=row[7],
        )
        for row in rows
    ]


def stored_items(conn, edition: str) -> list[Item]:  # type: ignore[no-untyped-def]
    """The items of one stored edition, in their checklist order."""
    rows = conn.execute(
        f"SELECT {', '.join(ITEM_FIELDS)} FROM edition_items WHERE edition_id = ? ORDER BY seq", (edition,)
    )
    items = []
    for row in rows:
        v = dict(zip(ITEM_FIELDS, row, strict=True))
        items.append(
            Item(
                id=v["item_id"],
                text=v["text"],
                category=v["category"],
                score=float(v["score"]),
                deduct=None if v["deduct"] is None else float(v["deduct"]),
                unit=v["unit"],
                deadline_days=None if v["deadline_days"] is None else int(v["deadline_days"]),
                indicator=v["indicator"],
                standard=v["standard"],
                tips=v["tips"],
                photo_required=bool(v["photo_required"]),
            )
        )
    return items


def period_editions(conn, date_from: str, date_to: str) -> list[tuple[str, str, str, str, int]]:  # type: ignore[no-untyped-def]
    """The editions the period's finished inspections were made with: (点位类型, code, edition
    label, edition id, inspections), by code and label."""
    rows = conn.execute(
        "SELECT max(i.site_type), i.checklist_code, i.checklist_edition, i.edition_id, count(*)"
        " FROM inspections i WHERE i.date BETWEEN ? AND ? AND i.status = 'finished'"
        " GROUP BY i.checklist_code, i.checklist_edition, i.edition_id"
        " ORDER BY i.checklist_code, i.checklist_edition, i.edition_id",
        (date_from, date_to),
    )
    return [(r[0], r[1], r[2], r[3] or "", int(r[4])) for r in rows]
