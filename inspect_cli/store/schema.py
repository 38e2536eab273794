"""The schema: numbered migrations, each run once in its own transaction (see Store.migrate).

A migration is never edited once released: a database made by that release has run it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# A migration is SQL for SQLite (1–8, released before the server), SQL per engine, or a
# function of the store's connection (when rows must be computed, not only moved).
Steps = str | dict[str, str] | Callable[[Any], None]

# Written into the SQLite header (PRAGMA application_id) so that a file of another program
# given as --db is recognised and left alone. "INSP" in ASCII.
APPLICATION_ID = 0x494E5350

# A random UUID (version 4, RFC 4122 variant) and now_iso()'s timestamp, computed by SQLite.
_SQL_UUID4 = (
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)"
    " || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2)"
    " || '-' || lower(hex(randomblob(6)))"
)
_SQL_NOW = "strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours')"

# Every replicated row carries its version: `rev` is the Lamport time of its last write,
# `dev` the device that wrote it, `vv` the version vector when more than one device has
# written it (NULL means {dev: rev}), `cseq` this database's change sequence (what the next
# incremental bundle carries).
_VERSION_COLUMNS = (
    "rev INTEGER NOT NULL DEFAULT 0, dev TEXT NOT NULL DEFAULT '', vv TEXT, cseq INTEGER NOT NULL DEFAULT 0"
)


def _add_version_columns(*tables: str) -> str:
    return "\n".join(
        f"ALTER TABLE {t} ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;"
        f" ALTER TABLE {t} ADD COLUMN dev TEXT NOT NULL DEFAULT '';"
        f" ALTER TABLE {t} ADD COLUMN vv TEXT;"
        f" ALTER TABLE {t} ADD COLUMN cseq INTEGER NOT NULL DEFAULT 1;"
        for t in tables
    )


def _cseq_indexes(*tables: str) -> str:
    return "\n".join(f"CREATE INDEX {t}_cseq ON {t} (cseq);" for t in tables)


MIGRATIONS: list[tuple[int, str, Steps]] = [
    (
        1,
        "sites, inspections, frozen checklist items, results, photos",
        """
        CREATE TABLE sites (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            site_type TEXT NOT NULL,
            type_code TEXT NOT NULL,
            district TEXT, street TEXT, community TEXT, grid TEXT, address TEXT,
            unit TEXT, partner TEXT, contact TEXT, phone TEXT, lng REAL, lat REAL,
            name_initials TEXT NOT NULL DEFAULT '',
            name_pinyin TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX sites_name_type ON sites (name, site_type);
        CREATE TABLE inspections (
            id TEXT PRIMARY KEY,
            no TEXT NOT NULL UNIQUE COLLATE NOCASE,
            year INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            site_id TEXT NOT NULL REFERENCES sites (id),
            date TEXT NOT NULL,
            inspectors TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL CHECK (status IN ('open', 'finished')),
            site_type TEXT NOT NULL,
            checklist_code TEXT NOT NULL,
            checklist_edition TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            UNIQUE (year, seq)
        );
        CREATE INDEX inspections_site ON inspections (site_id, status, date);
        CREATE INDEX inspections_date ON inspections (date);
        CREATE TABLE inspection_items (
            inspection_id TEXT NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
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
            PRIMARY KEY (inspection_id, item_id)
        );
        CREATE TABLE results (
            id TEXT PRIMARY KEY,
            inspection_id TEXT NOT NULL,
            item_id TEXT NOT NULL,
            result TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'severe', 'na')),
            count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
            note TEXT,
            recorded_at TEXT NOT NULL,
            recorded_by TEXT,
            UNIQUE (inspection_id, item_id),
            FOREIGN KEY (inspection_id, item_id)
                REFERENCES inspection_items (inspection_id, item_id) ON DELETE CASCADE
        );
        CREATE TABLE photos (
            id TEXT PRIMARY KEY,
            result_id TEXT NOT NULL REFERENCES results (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            stored_name TEXT NOT NULL,
            original_path TEXT NOT NULL,
            added_at TEXT NOT NULL
        );
        CREATE INDEX photos_result ON photos (result_id);
        """,
    ),
    (
        2,
        "rectification problems, their history and photos; unit override on results",
        """
        ALTER TABLE results ADD COLUMN unit TEXT;
        CREATE TABLE problems (
            id TEXT PRIMARY KEY,
            no TEXT NOT NULL UNIQUE COLLATE NOCASE,
            year INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            site_id TEXT NOT NULL REFERENCES sites (id),
            inspection_id TEXT,
            item_id TEXT NOT NULL,
            item_text TEXT NOT NULL,
            category TEXT NOT NULL,
            indicator TEXT,
            description TEXT,
            count INTEGER NOT NULL DEFAULT 1,
            severity TEXT NOT NULL CHECK (severity IN ('fail', 'severe')),
            unit TEXT,
            unit_locked INTEGER NOT NULL DEFAULT 0,
            found_date TEXT NOT NULL,
            deadline TEXT NOT NULL,
            deadline_locked INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL CHECK (status IN ('open', 'fixed', 'closed', 'dismissed', 'deferred')),
            rework_count INTEGER NOT NULL DEFAULT 0,
            recheck_count INTEGER NOT NULL DEFAULT 0,
            repeat_of TEXT,
            fixed_date TEXT,
            closed_date TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (year, seq)
        );
        CREATE INDEX problems_site_item ON problems (site_id, item_id, status);
        CREATE INDEX problems_origin ON problems (inspection_id, item_id);
        CREATE TABLE problem_events (
            id TEXT PRIMARY KEY,
            problem_id TEXT NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            date TEXT NOT NULL,
            action TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT,
            actor TEXT,
            note TEXT,
            inspection_id TEXT,
            count INTEGER
        );
        CREATE INDEX problem_events_problem ON problem_events (problem_id);
        CREATE INDEX problem_events_inspection ON problem_events (inspection_id);
        CREATE TABLE problem_photos (
            id TEXT PRIMARY KEY,
            problem_id TEXT NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
            event_id TEXT NOT NULL REFERENCES problem_events (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            stored_name TEXT NOT NULL,
            original_path TEXT NOT NULL,
            added_at TEXT NOT NULL
        );
        CREATE INDEX problem_photos_event ON problem_photos (event_id);
        """,
    ),
    (
        3,
        "exported 整改通知单 and the protected values of each row",
        """
        CREATE TABLE exports (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            unit TEXT,
            created_at TEXT NOT NULL,
            file_name TEXT NOT NULL
        );
        CREATE TABLE export_rows (
            export_id TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
            problem_id TEXT NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
            problem_no TEXT NOT NULL COLLATE NOCASE,
            protected TEXT NOT NULL,
            PRIMARY KEY (export_id, problem_no)
        );
        """,
    ),
    (
        4,
        "weekly notices (周通报) issued, for their numbers",
        """
        CREATE TABLE notices (
            id TEXT PRIMARY KEY,
            number INTEGER NOT NULL,
            date_from TEXT NOT NULL,
            date_to TEXT NOT NULL,
            file_name TEXT NOT NULL,
            issued_at TEXT NOT NULL
        );
        CREATE INDEX notices_period ON notices (date_from, date_to);
        """,
    ),
    (
        5,
        "one notice per number and per period: two notice commands at once never share a number",
        """
        DELETE FROM notices WHERE rowid NOT IN (SELECT max(rowid) FROM notices GROUP BY date_from, date_to);
        DELETE FROM notices WHERE rowid NOT IN (SELECT max(rowid) FROM notices GROUP BY number);
        DROP INDEX notices_period;
        CREATE UNIQUE INDEX notices_number ON notices (number);
        CREATE UNIQUE INDEX notices_period ON notices (date_from, date_to);
        """,
    ),
    (
        6,
        "photos of a problem found by the problem",
        "CREATE INDEX problem_photos_problem ON problem_photos (problem_id);",
    ),
    (
        7,
        "the register of 责任单位 and their former names, filled from the names already in use",
        # Filled in SQL rather than from Python afterwards, so the register and the row saying
        # the migration ran commit together: a crash in between cannot leave a database that
        # counts as migrated with an empty register. Ids are UUID v4 built from randomblob,
        # timestamps are now_iso()'s format (Asia/Shanghai has kept +08:00 since 1991).
        f"""
        CREATE TABLE units (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            short_name TEXT,
            contact TEXT,
            phone TEXT,
            kind TEXT CHECK (kind IN ('department', 'street')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE unit_aliases (
            alias TEXT PRIMARY KEY,
            unit_id TEXT NOT NULL REFERENCES units (id) ON DELETE CASCADE,
            created_at TEXT NOT NULL
        );
        CREATE INDEX unit_aliases_unit ON unit_aliases (unit_id);
        INSERT INTO units (id, name, created_at, updated_at)
        SELECT {_SQL_UUID4}, name, {_SQL_NOW}, {_SQL_NOW}
        FROM (
            SELECT trim(unit) AS name FROM sites
            UNION SELECT trim(partner) FROM sites
            UNION SELECT trim(unit) FROM problems
            UNION SELECT trim(unit) FROM results
        )
        WHERE name IS NOT NULL AND name <> '';
        """,
    ),
    (
        8,
        "replication: device identity, numbers per device, versions, tombstones, conflicts",
        # Inspections and problems are rebuilt because their numbers were unique per year;
        # a problem's inspection and earlier problem become plain references, because a
        # laptop holds the office's open problems without the inspections that found them.
        # numbers made on different laptops are now unique per (year, device code). Rows that
        # exist already become this device's first version (rev 1), so they travel in its
        # first bundle. Legacy problems get themselves as `prior`, so no two of them are ever
        # taken for one problem found twice (see Store.dedupe_problems).
        f"""
        CREATE TABLE replica (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            device_id TEXT NOT NULL,
            device_code TEXT,
            clock INTEGER NOT NULL DEFAULT 0,
            changes INTEGER NOT NULL DEFAULT 0,
            acked INTEGER NOT NULL DEFAULT 0,
            key TEXT,
            office_id TEXT,
            code_asked INTEGER NOT NULL DEFAULT 0
        );
        INSERT INTO replica (id, device_id, clock, changes) VALUES (1, {_SQL_UUID4}, 1, 1);
        CREATE TABLE devices (
            code TEXT PRIMARY KEY,
            id TEXT UNIQUE,
            key TEXT NOT NULL,
            key_sent INTEGER NOT NULL DEFAULT 0,
            field_sent INTEGER NOT NULL DEFAULT 0,
            enrolled_at TEXT NOT NULL,
            received INTEGER NOT NULL DEFAULT 0,
            last_import TEXT
        );
        CREATE TABLE tombstones (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            rev INTEGER NOT NULL,
            dev TEXT NOT NULL,
            vv TEXT,
            cseq INTEGER NOT NULL,
            deleted_at TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX tombstones_cseq ON tombstones (cseq);
        CREATE TABLE conflicts (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            record_id TEXT NOT NULL,
            label TEXT NOT NULL,
            kept TEXT NOT NULL,
            other TEXT NOT NULL,
            detected_at TEXT NOT NULL,
            resolved_at TEXT,
            resolution TEXT
        );
        CREATE INDEX conflicts_record ON conflicts (kind, record_id);
        CREATE TABLE bundles_seen (
            manifest_sha256 TEXT PRIMARY KEY,
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            records INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        );

        CREATE TABLE inspections_v8 (
            id TEXT PRIMARY KEY,
            no TEXT NOT NULL UNIQUE COLLATE NOCASE,
            year INTEGER NOT NULL,
            device TEXT NOT NULL DEFAULT '',
            seq INTEGER NOT NULL,
            site_id TEXT NOT NULL REFERENCES sites (id),
            date TEXT NOT NULL,
            inspectors TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL CHECK (status IN ('open', 'finished')),
            site_type TEXT NOT NULL,
            checklist_code TEXT NOT NULL,
            checklist_edition TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            {_VERSION_COLUMNS}
        );
        INSERT INTO inspections_v8 SELECT id, no, year, '', seq, site_id, date, inspectors, status, site_type,
            checklist_code, checklist_edition, created_at, finished_at, 1, '', NULL, 1 FROM inspections;
        DROP TABLE inspections;
        ALTER TABLE inspections_v8 RENAME TO inspections;
        CREATE INDEX inspections_site ON inspections (site_id, status, date);
        CREATE INDEX inspections_date ON inspections (date);
        CREATE INDEX inspections_number ON inspections (year, device, seq);

        CREATE TABLE problems_v8 (
            id TEXT PRIMARY KEY,
            no TEXT NOT NULL UNIQUE COLLATE NOCASE,
            year INTEGER NOT NULL,
            device TEXT NOT NULL DEFAULT '',
            seq INTEGER NOT NULL,
            site_id TEXT NOT NULL REFERENCES sites (id),
            inspection_id TEXT,
            item_id TEXT NOT NULL,
            item_text TEXT NOT NULL,
            category TEXT NOT NULL,
            indicator TEXT,
            description TEXT,
            count INTEGER NOT NULL DEFAULT 1,
            severity TEXT NOT NULL CHECK (severity IN ('fail', 'severe')),
            unit TEXT,
            unit_locked INTEGER NOT NULL DEFAULT 0,
            found_date TEXT NOT NULL,
            deadline TEXT NOT NULL,
            deadline_locked INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL CHECK (status IN ('open', 'fixed', 'closed', 'dismissed', 'deferred')),
            rework_count INTEGER NOT NULL DEFAULT 0,
            recheck_count INTEGER NOT NULL DEFAULT 0,
            repeat_of TEXT,
            fixed_date TEXT,
            closed_date TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            prior TEXT NOT NULL DEFAULT '',
            merged_into TEXT,
            fclock TEXT,
            {_VERSION_COLUMNS}
        );
        INSERT INTO problems_v8 SELECT id, no, year, '', seq, site_id, inspection_id, item_id, item_text, category,
            indicator, description, count, severity, unit, unit_locked, found_date, deadline, deadline_locked,
            status, rework_count, recheck_count, repeat_of, fixed_date, closed_date, created_at, updated_at,
            id, NULL, NULL, 1, '', NULL, 1 FROM problems;
        DROP TABLE problems;
        ALTER TABLE problems_v8 RENAME TO problems;
        CREATE INDEX problems_site_item ON problems (site_id, item_id, status);
        CREATE INDEX problems_origin ON problems (inspection_id, item_id);
        CREATE INDEX problems_number ON problems (year, device, seq);
        CREATE INDEX problems_merged ON problems (merged_into) WHERE merged_into IS NOT NULL;

        {_add_version_columns("sites", "units", "results", "problem_events")}
        ALTER TABLE units ADD COLUMN fclock TEXT;
        UPDATE sites SET dev = (SELECT device_id FROM replica);
        UPDATE units SET dev = (SELECT device_id FROM replica);
        UPDATE inspections SET dev = (SELECT device_id FROM replica);
        UPDATE results SET dev = (SELECT device_id FROM replica);
        UPDATE problems SET dev = (SELECT device_id FROM replica);
        UPDATE problem_events SET dev = (SELECT device_id FROM replica);
        {_cseq_indexes("sites", "units", "inspections", "results", "problems", "problem_events")}
        """,
    ),
]

MIGRATIONS.append(
    (
        9,
        "each event's place in its problem's history, on both engines (SQLite's rowid had it)",
        {
            "sqlite": """
                ALTER TABLE problem_events ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
                UPDATE problem_events SET ord = rowid;
                CREATE INDEX problem_events_order ON problem_events (problem_id, ord);
            """,
            "postgresql": """
                ALTER TABLE problem_events ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX problem_events_order ON problem_events (problem_id, ord);
            """,
        },
    )
)


# What the period queries filter and order by (a test reads their plans on both engines).
_YEAR_INDEXES = """
    CREATE INDEX problems_deadline ON problems (deadline, year, seq, device, id);
    CREATE INDEX problems_found ON problems (found_date);
    CREATE INDEX problems_status ON problems (status, deadline);
    CREATE INDEX problem_events_action ON problem_events (action, problem_id);
"""


def _year_scale(conn) -> None:  # type: ignore[no-untyped-def]
    from inspect_cli.store import editions

    editions.migrate(conn)
    for statement in statements(_YEAR_INDEXES):
        conn.run(statement)


MIGRATIONS.append(
    (10, "checklist editions stored once, an inspection refers to its edition; indexes for period queries", _year_scale)
)


def _kept_scores(conn) -> None:  # type: ignore[no-untyped-def]
    from inspect_cli.store import scores

    scores.migrate(conn)
    # `issue list` counts every problem before its first page: from this index alone.
    # (Partial, not led by merged_into: "merged_into IS NULL" would look selective to SQLite
    # and make it sort every problem for a first page of 50.)
    conn.run("CREATE INDEX problems_counted ON problems (status, deadline) WHERE merged_into IS NULL")


MIGRATIONS.append(
    (11, "each finished inspection's score kept, forgotten by a trigger when an answer changes", _kept_scores)
)

# The 日反馈 (daily feedback) is numbered on its own: each kind of notice has its series.
_NOTICE_KINDS = """
    ALTER TABLE notices ADD COLUMN kind TEXT NOT NULL DEFAULT 'week';
    DROP INDEX notices_number;
    DROP INDEX notices_period;
    CREATE UNIQUE INDEX notices_number ON notices (kind, number);
    CREATE UNIQUE INDEX notices_period ON notices (kind, date_from, date_to);
"""
MIGRATIONS.append((12, "notices numbered per kind: the weekly notice and the 日反馈", {
    "sqlite": _NOTICE_KINDS,
    "postgresql": _NOTICE_KINDS,
}))  # fmt: skip

# 双随机 plans: each draw kept whole (seed, inputs, candidates with their weights) so that
# anyone can draw it again and compare. A re-draw marks the earlier one replaced and keeps
# it; a week's plan in force is its latest draw not replaced (store/plans.py). Plans are the
# office's: they travel to the laptops in field bundles, merged by union.
_PLANS = """
    CREATE TABLE plans (
        id TEXT{c} PRIMARY KEY,
        week TEXT{c} NOT NULL,
        date_from TEXT{c} NOT NULL,
        date_to TEXT{c} NOT NULL,
        seed TEXT{c} NOT NULL,
        inputs TEXT{c} NOT NULL,
        pairs TEXT{c} NOT NULL,
        drawn_at TEXT{c} NOT NULL,
        drawn_by TEXT{c} NOT NULL,
        replaced_at TEXT{c}
    );
    CREATE INDEX plans_week ON plans (week, drawn_at);
    CREATE INDEX plans_dates ON plans (date_from, date_to);
    CREATE TABLE plan_visits (
        plan_id TEXT{c} NOT NULL REFERENCES plans (id) ON DELETE CASCADE{d},
        seq INTEGER NOT NULL,
        site_id TEXT{c} NOT NULL REFERENCES sites (id){d},
        pair INTEGER NOT NULL,
        weight {real} NOT NULL,
        reason TEXT{c} NOT NULL,
        PRIMARY KEY (plan_id, seq)
    );
    CREATE INDEX plan_visits_site ON plan_visits (site_id, plan_id);
"""
MIGRATIONS.append((13, "双随机 inspection plans: each draw with its seed and inputs, re-draws kept", {
    "sqlite": _PLANS.format(c="", d="", real="REAL"),
    "postgresql": _PLANS.format(c=' COLLATE "C"', d=" DEFERRABLE INITIALLY DEFERRED", real="DOUBLE PRECISION"),
}))  # fmt: skip

# A server database starts at this version, created from `server_tables()`; the
# migrations before it are SQLite's history. Every migration after it is written for
# both engines.
SERVER_BASE_VERSION = 8


def statements(script: str) -> list[str]:
    """The statements of a migration script, whole (a `;` inside a string literal stays)."""
    import sqlite3

    out: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                out.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \n\t;"):
        out.append(buffer.strip())
    return out


def run_migration(conn, steps: Steps) -> None:  # type: ignore[no-untyped-def]
    """Run one migration's statements (or its function) inside the caller's transaction."""
    if callable(steps):
        steps(conn)
        return
    if isinstance(steps, dict):
        script = steps[conn.dialect.name]
    elif conn.dialect.name == "sqlite":
        script = steps
    else:  # pragma: no cover - a server database is created at SERVER_BASE_VERSION
        raise ValueError("a SQLite-only migration on a server database")
    for statement in statements(script):
        conn.run(statement)


def create_server_schema(conn) -> list[int]:  # type: ignore[no-untyped-def]
    """Create an empty server database's tables at SERVER_BASE_VERSION, in the caller's transaction."""
    import uuid

    from inspect_cli.dates import now_iso

    server_tables().create_all(conn.sa)
    conn.execute("INSERT INTO replica (id, device_id, clock, changes) VALUES (1, ?, 1, 1)", (str(uuid.uuid4()),))
    now = now_iso()
    versions = [m for m in MIGRATIONS if m[0] <= SERVER_BASE_VERSION]
    conn.executemany(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        [(version, name, now) for version, name, _ in versions],
    )
    return [version for version, _, _ in versions]


def server_tables():  # type: ignore[no-untyped-def]
    """The tables at SERVER_BASE_VERSION, declared once with SQLAlchemy Core.

    The same tables, columns and keys as a SQLite database migrated to that version
    (tests compare the two). Text compares by code point ("C"), as SQLite does; point codes
    and numbers are unique ignoring case, as SQLite's NOCASE made them; foreign keys are
    checked at commit, as the SQLite migration runner checks them.
    """
    import sqlalchemy as sa

    md = sa.MetaData()

    def text(name: str, nullable: bool = True, **kw: object) -> sa.Column:
        return sa.Column(name, sa.Text(collation="C"), nullable=nullable, **kw)  # type: ignore[arg-type]

    def integer(name: str, nullable: bool = True, default: int | None = None) -> sa.Column:
        extra = {} if default is None else {"server_default": sa.text(str(default))}
        return sa.Column(name, sa.Integer, nullable=nullable, **extra)  # type: ignore[arg-type]

    def real(name: str, nullable: bool = True) -> sa.Column:
        return sa.Column(name, sa.Float(precision=53), nullable=nullable)

    def ref(column: str, cascade: bool = False) -> sa.ForeignKey:
        return sa.ForeignKey(column, ondelete="CASCADE" if cascade else None, deferrable=True, initially="DEFERRED")

    def versioned() -> list[sa.Column]:
        return [
            integer("rev", False, 0),
            text("dev", False, server_default=""),
            text("vv"),
            integer("cseq", False, 0),
        ]

    def nocase_unique(table: sa.Table, column: str) -> None:
        sa.Index(f"{table.name}_{column}_nocase", sa.func.lower(table.c[column]), unique=True)

    sites = sa.Table(
        "sites",
        md,
        text("id", primary_key=True),
        text("code", False),
        text("name", False),
        text("site_type", False),
        text("type_code", False),
        *(text(c) for c in ("district", "street", "community", "grid", "address", "unit", "partner")),
        text("contact"),
        text("phone"),
        real("lng"),
        real("lat"),
        text("name_initials", False, server_default=""),
        text("name_pinyin", False, server_default=""),
        text("created_at", False),
        text("updated_at", False),
        *versioned(),
    )
    nocase_unique(sites, "code")
    sa.Index("sites_name_type", sites.c.name, sites.c.site_type)

    inspections = sa.Table(
        "inspections",
        md,
        text("id", primary_key=True),
        text("no", False),
        integer("year", False),
        text("device", False, server_default=""),
        integer("seq", False),
        text("site_id", False),
        text("date", False),
        text("inspectors", False, server_default="[]"),
        text("status", False),
        text("site_type", False),
        text("checklist_code", False),
        text("checklist_edition", False),
        text("created_at", False),
        text("finished_at"),
        *versioned(),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], deferrable=True, initially="DEFERRED"),
        sa.CheckConstraint("status IN ('open', 'finished')"),
    )
    nocase_unique(inspections, "no")
    sa.Index("inspections_site", inspections.c.site_id, inspections.c.status, inspections.c.date)
    sa.Index("inspections_date", inspections.c.date)
    sa.Index("inspections_number", inspections.c.year, inspections.c.device, inspections.c.seq)

    sa.Table(
        "inspection_items",
        md,
        text("inspection_id", False, primary_key=True),
        integer("seq", False),
        text("item_id", False, primary_key=True),
        text("text", False),
        text("category", False),
        real("score", False),
        real("deduct"),
        text("unit"),
        integer("deadline_days"),
        text("indicator"),
        text("standard"),
        text("tips"),
        integer("photo_required", False, 0),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], ondelete="CASCADE", deferrable=True, initially="DEFERRED"
        ),
    )

    sa.Table(
        "results",
        md,
        text("id", primary_key=True),
        text("inspection_id", False),
        text("item_id", False),
        text("result", False),
        integer("count", False, 1),
        text("note"),
        text("recorded_at", False),
        text("recorded_by"),
        text("unit"),
        *versioned(),
        sa.UniqueConstraint("inspection_id", "item_id"),
        sa.ForeignKeyConstraint(
            ["inspection_id", "item_id"],
            ["inspection_items.inspection_id", "inspection_items.item_id"],
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.CheckConstraint("result IN ('pass', 'fail', 'severe', 'na')"),
        sa.CheckConstraint("count >= 1"),
    )

    def photo_columns() -> list[sa.Column]:
        return [
            integer("position", False),
            text("sha256", False),
            text("stored_name", False),
            text("original_path", False),
            text("added_at", False),
        ]

    photos = sa.Table(
        "photos",
        md,
        text("id", primary_key=True),
        sa.Column("result_id", sa.Text(collation="C"), ref("results.id", cascade=True), nullable=False),
        *photo_columns(),
    )
    sa.Index("photos_result", photos.c.result_id)

    problems = sa.Table(
        "problems",
        md,
        text("id", primary_key=True),
        text("no", False),
        integer("year", False),
        text("device", False, server_default=""),
        integer("seq", False),
        sa.Column("site_id", sa.Text(collation="C"), ref("sites.id"), nullable=False),
        text("inspection_id"),
        text("item_id", False),
        text("item_text", False),
        text("category", False),
        text("indicator"),
        text("description"),
        integer("count", False, 1),
        text("severity", False),
        text("unit"),
        integer("unit_locked", False, 0),
        text("found_date", False),
        text("deadline", False),
        integer("deadline_locked", False, 0),
        text("status", False),
        integer("rework_count", False, 0),
        integer("recheck_count", False, 0),
        text("repeat_of"),
        text("fixed_date"),
        text("closed_date"),
        text("created_at", False),
        text("updated_at", False),
        text("prior", False, server_default=""),
        text("merged_into"),
        text("fclock"),
        *versioned(),
        sa.CheckConstraint("severity IN ('fail', 'severe')"),
        sa.CheckConstraint("status IN ('open', 'fixed', 'closed', 'dismissed', 'deferred')"),
    )
    nocase_unique(problems, "no")
    sa.Index("problems_site_item", problems.c.site_id, problems.c.item_id, problems.c.status)
    sa.Index("problems_origin", problems.c.inspection_id, problems.c.item_id)
    sa.Index("problems_number", problems.c.year, problems.c.device, problems.c.seq)
    sa.Index("problems_merged", problems.c.merged_into, postgresql_where=problems.c.merged_into.isnot(None))

    events = sa.Table(
        "problem_events",
        md,
        text("id", primary_key=True),
        sa.Column("problem_id", sa.Text(collation="C"), ref("problems.id", cascade=True), nullable=False),
        text("at", False),
        text("date", False),
        text("action", False),
        text("from_status"),
        text("to_status"),
        text("actor"),
        text("note"),
        text("inspection_id"),
        integer("count"),
        *versioned(),
    )
    sa.Index("problem_events_problem", events.c.problem_id)
    sa.Index("problem_events_inspection", events.c.inspection_id)

    problem_photos = sa.Table(
        "problem_photos",
        md,
        text("id", primary_key=True),
        sa.Column("problem_id", sa.Text(collation="C"), ref("problems.id", cascade=True), nullable=False),
        sa.Column("event_id", sa.Text(collation="C"), ref("problem_events.id", cascade=True), nullable=False),
        *photo_columns(),
    )
    sa.Index("problem_photos_event", problem_photos.c.event_id)
    sa.Index("problem_photos_problem", problem_photos.c.problem_id)

    sa.Table(
        "exports",
        md,
        text("id", primary_key=True),
        text("kind", False),
        text("unit"),
        text("created_at", False),
        text("file_name", False),
    )
    sa.Table(
        "export_rows",
        md,
        sa.Column("export_id", sa.Text(collation="C"), ref("exports.id", cascade=True), primary_key=True),
        sa.Column("problem_id", sa.Text(collation="C"), ref("problems.id", cascade=True), nullable=False),
        text("problem_no", False, primary_key=True),
        text("protected", False),
    )

    notices = sa.Table(
        "notices",
        md,
        text("id", primary_key=True),
        integer("number", False),
        text("date_from", False),
        text("date_to", False),
        text("file_name", False),
        text("issued_at", False),
    )
    sa.Index("notices_number", notices.c.number, unique=True)
    sa.Index("notices_period", notices.c.date_from, notices.c.date_to, unique=True)

    sa.Table(
        "units",
        md,
        text("id", primary_key=True),
        text("name", False, unique=True),
        text("short_name"),
        text("contact"),
        text("phone"),
        text("kind"),
        text("created_at", False),
        text("updated_at", False),
        *versioned(),
        text("fclock"),
        sa.CheckConstraint("kind IN ('department', 'street')"),
    )
    aliases = sa.Table(
        "unit_aliases",
        md,
        text("alias", primary_key=True),
        sa.Column("unit_id", sa.Text(collation="C"), ref("units.id", cascade=True), nullable=False),
        text("created_at", False),
    )
    sa.Index("unit_aliases_unit", aliases.c.unit_id)

    sa.Table(
        "replica",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        text("device_id", False),
        text("device_code"),
        integer("clock", False, 0),
        integer("changes", False, 0),
        integer("acked", False, 0),
        text("key"),
        text("office_id"),
        integer("code_asked", False, 0),
        sa.CheckConstraint("id = 1"),
    )
    sa.Table(
        "devices",
        md,
        text("code", primary_key=True),
        text("id", unique=True),
        text("key", False),
        integer("key_sent", False, 0),
        integer("field_sent", False, 0),
        text("enrolled_at", False),
        integer("received", False, 0),
        text("last_import"),
    )
    tombstones = sa.Table(
        "tombstones",
        md,
        text("kind", False, primary_key=True),
        text("id", False, primary_key=True),
        integer("rev", False),
        text("dev", False),
        text("vv"),
        integer("cseq", False),
        text("deleted_at", False),
    )
    sa.Index("tombstones_cseq", tombstones.c.cseq)
    conflicts = sa.Table(
        "conflicts",
        md,
        text("id", primary_key=True),
        text("kind", False),
        text("record_id", False),
        text("label", False),
        text("kept", False),
        text("other", False),
        text("detected_at", False),
        text("resolved_at"),
        text("resolution"),
    )
    sa.Index("conflicts_record", conflicts.c.kind, conflicts.c.record_id)
    sa.Table(
        "bundles_seen",
        md,
        text("manifest_sha256", primary_key=True),
        text("device_id", False),
        text("kind", False),
        integer("records", False),
        text("imported_at", False),
    )
    for name in ("sites", "units", "inspections", "results", "problems", "problem_events"):
        table = md.tables[name]
        sa.Index(f"{name}_cseq", table.c.cseq)
    return md
