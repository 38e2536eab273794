"""The schema: numbered migrations, each run once in its own transaction (see Store.migrate).

A migration is never edited once released: a database made by that release has run it.
"""

from __future__ import annotations

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


MIGRATIONS: list[tuple[int, str, str]] = [
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
