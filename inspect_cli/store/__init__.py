"""The store: the only package that speaks SQL, on SQLite or PostgreSQL.

Writes run in transactions that take the write lock first (see engine.py), so a second
process waits instead of failing half-way; on SQLite, WAL mode lets readers go on meanwhile.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_cli.checklist import Checklist, Item
from inspect_cli.dates import now_iso
from inspect_cli.errors import NotFoundError, StateError, StoreError
from inspect_cli.models import Inspection, Photo, Problem, ProblemEvent, ProblemStatus, Result, ResultRecord, Site
from inspect_cli.store import editions, scores
from inspect_cli.store.plans import PlanRows
from inspect_cli.store.replica import NEXT_EVENT_ORD, ReplicaMixin, ReplicaRows
from inspect_cli.store.schema import APPLICATION_ID, MIGRATIONS

if TYPE_CHECKING:
    from inspect_cli.store.engine import Connection, Record, Rows, Target

__all__ = ["APPLICATION_ID", "MIGRATIONS", "Store", "StoreError"]

# Site columns that are not part of a Site: search helpers and the row's version.
_SITE_INTERNAL = frozenset({"name_initials", "name_pinyin", "rev", "dev", "vv", "cseq"})
_ITEM_COLUMNS = ", ".join(f"it.{f}" for f in editions.ITEM_FIELDS)
_PROBLEM_SELECT = """
    SELECT p.*, s.code AS site_code, s.name AS site_name, s.site_type AS site_type, s.street AS street,
        s.address AS address,
        i.no AS inspection_no, r.no AS repeat_no
    FROM problems p JOIN sites s ON s.id = p.site_id
    LEFT JOIN inspections i ON i.id = p.inspection_id
    LEFT JOIN problems r ON r.id = p.repeat_of
"""
# Problem.overdue_days > 0 on the day given as `:{day}`: still 待整改 and past its deadline.
_OVERDUE = "p.status = 'open' AND p.deadline < :{day}"
_SITES = " JOIN sites s ON s.id = p.site_id"  # joined by counts only when a filter or group needs it
_PROBLEM_ORDER = {
    "deadline": " ORDER BY p.deadline, p.year, p.seq, p.device, p.id",
    "unit": " ORDER BY coalesce(p.unit, ''), p.deadline, p.year, p.seq, p.device, p.id",
    "found": " ORDER BY p.found_date, p.year, p.seq, p.device, p.id",  # a ledger's order
}
# Every table a database copy carries, parents before children (SQLite checks foreign keys
# as each row arrives), with the keys that order their rows.
BULK_TABLES = {
    "sites": "id",
    "units": "id",
    "unit_aliases": "alias",
    "editions": "id",
    "edition_items": "edition_id, item_id",
    "inspections": "id",
    "results": "id",
    # After results: a copied answer makes the target forget its inspection's kept score.
    "inspection_scores": "inspection_id",
    "photos": "id",
    "problems": "id",
    "problem_events": "id",
    "problem_photos": "id",
    "exports": "id",
    "export_rows": "export_id, problem_no",
    "notices": "id",
    "plans": "id",
    "plan_visits": "plan_id, seq",
    "replica": "id",
    "devices": "code",
    "tombstones": "kind, id",
    "conflicts": "id",
    "bundles_seen": "manifest_sha256",
}
_SET_ALIAS = (
    "INSERT INTO unit_aliases (alias, unit_id, created_at) VALUES (?, ?, ?)"
    " ON CONFLICT (alias) DO UPDATE SET unit_id = excluded.unit_id, created_at = excluded.created_at"
)
_INSPECTION_SELECT = """
    SELECT i.*, s.code AS site_code, s.name AS site_name, s.street AS street
    FROM inspections i JOIN sites s ON s.id = i.site_id
"""


def new_id() -> str:
    return str(uuid.uuid4())


# Answers are named by their inspection and item, so the same answer given on two replicas
# (both hold the inspection) is one record with one id everywhere.
# By value, as a dict lookup: a year's listing converts 180,000 rows.
_RESULTS = {member.value: member for member in Result}
_STATUSES = {member.value: member for member in ProblemStatus}
_ANSWERS = uuid.UUID("6f1d2c3e-8a4b-5c6d-9e0f-a1b2c3d4e5f6")


def answer_id(inspection_id: str, item_id: str) -> str:
    return str(uuid.uuid5(_ANSWERS, f"{inspection_id}/{item_id}"))


def _escape_like(text: str) -> str:
    """`text` with LIKE's wildcards (and the escape character) taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(text: str) -> str:
    return f"%{_escape_like(text)}%"


class _Where:
    """A WHERE clause built from optional filters, with named parameters."""

    def __init__(self, like: str = "LIKE") -> None:
        self.clauses: list[str] = []
        self.params: dict[str, object] = {}
        self.like = like

    def uses(self, alias: str) -> bool:
        """Whether a clause reads a column of the table known as `alias`."""
        return any(re.search(rf"(?<![\w.]){alias}\.", c) for c in self.clauses)

    def add(self, clause: str, **params: object) -> None:
        self.clauses.append(clause)
        self.params.update(params)

    def contains(self, column: str, name: str, text: str) -> None:
        """`column` contains `text` (case and LIKE wildcards taken literally)."""
        self.add(f"{column} {self.like} :{name} ESCAPE '\\'", **{name: _like(text.strip())})

    @property
    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.clauses) if self.clauses else ""


class Store(ReplicaMixin, ReplicaRows, PlanRows):
    """A connection to one inspect-cli database (a SQLite file or a PostgreSQL database)."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        from inspect_cli.store import engine

        self.target: Target = engine.target(path)
        self.path = path
        self.label = self.target.label
        self._depth = 0
        self._tick: tuple[int, int, str] | None = None
        self._errors: Any = ()  # what the driver raises, once connected
        sqlite_file = self.target.path
        try:
            if sqlite_file is not None:
                if sqlite_file.is_dir():
                    raise StoreError(f"数据库路径是一个文件夹，不是数据库文件：{sqlite_file}")
                sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"无法创建数据库目录 {sqlite_file.parent}：{exc.strerror or exc}") from None
        self.conn = engine.connect(self.target)
        self._errors = self.conn.errors
        self.dialect = self.conn.dialect
        try:
            if self.dialect.name == "sqlite":
                self._open_sqlite()
            else:
                self._open_server()
        except self._errors as exc:
            self.close()
            raise self.dialect.message(exc, self.target) from None
        except BaseException:
            self.close()
            raise

    def _open_sqlite(self) -> None:
        # Before anything that writes (WAL, migrations): a foreign file stays untouched.
        self._check_identity()
        if self.target.path is not None:
            self.conn.execute("PRAGMA journal_mode = WAL")
            # FULL makes each committed answer survive a power cut, not only a crash.
            self.conn.execute("PRAGMA synchronous = FULL")
        # Off while migrating: rebuilding a table drops the old one, which with foreign
        # keys on would cascade into its children (SQLite's documented 12-step rebuild).
        self.migrate()
        self.conn.execute("PRAGMA foreign_keys = ON")
        if self.conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            try:
                self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            except StoreError:
                pass  # a read-only copy of an earlier release's database: marked when next writable

    def _open_server(self) -> None:
        tables = self._tables()
        if tables and "schema_migrations" not in tables:
            raise StoreError(f"数据库 {self.label} 里已有其他程序的表，不是 inspect-cli 的数据库，未做任何修改")
        self.migrate()

    def _tables(self) -> set[str]:
        if self.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        return {row[0] for row in self.conn.execute(sql)}

    def _check_identity(self) -> None:
        """Refuse a database another program made; an empty file or an earlier release's is ours."""
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id == APPLICATION_ID:
            return
        tables = self._tables()
        if app_id != 0 or (tables and "schema_migrations" not in tables):
            raise StoreError(f"{self.path} 不是 inspect-cli 的数据库（可能是其他程序的文件），未做任何修改")

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def atomic(self) -> Iterator[Connection]:
        """One write transaction; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        if self.conn.in_transaction:  # pragma: no cover - a programming error
            raise RuntimeError("a write transaction inside a read snapshot")
        try:
            self.conn.begin_write()
        except self._errors as exc:
            self._rollback()
            raise self.dialect.message(exc, self.target) from None
        self._depth = 1
        self._tick = None
        try:
            yield self.conn
        except self._errors as exc:
            self._rollback()
            raise self.dialect.message(exc, self.target) from None
        except BaseException:
            self._rollback()
            raise
        else:
            try:
                self.conn.commit()
            except self._errors as exc:
                self._rollback()
                raise self.dialect.message(exc, self.target) from None
        finally:
            self._depth = 0
            self._tick = None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads that see one state of the database, whatever others write meanwhile (exports)."""
        if self._depth or self.conn.in_transaction:
            yield
            return
        try:
            self.conn.begin_read()
        except self._errors as exc:
            self._rollback()
            raise self.dialect.message(exc, self.target) from None
        try:
            yield
        finally:
            self._rollback()

    def _rollback(self) -> None:
        try:
            self.conn.rollback()
        except self._errors:
            pass  # the connection is gone; the server rolled the transaction back itself

    # --- migrations -----------------------------------------------------------

    def migrate(self) -> list[int]:
        """Run the migrations this database lacks, each in its own write transaction."""
        from inspect_cli.store import schema

        done: list[int] = []
        # Read first: a database already up to date (or read-only) is not locked for writing.
        while self._pending(self._applied_versions(create=False)):
            with self.atomic():
                applied = self._applied_versions(create=True)  # again, now that no one else migrates
                if not self._pending(applied):
                    break
                if not applied and self.dialect.name != "sqlite":
                    # A server database starts at the schema tables' version (see schema.py).
                    done.extend(schema.create_server_schema(self.conn))
                    continue
                version, name, steps = next(m for m in MIGRATIONS if m[0] not in applied)
                schema.run_migration(self.conn, steps)
                if self.dialect.name == "sqlite":
                    broken = self.conn.execute("PRAGMA foreign_key_check").fetchone()
                    if broken:
                        raise StoreError(
                            f"数据库 {self.label} 升级到架构版本 {version} 时发现无效的引用（{broken[0]}），未做任何修改"
                        )
                self.conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, now_iso()),
                )
                done.append(version)
        return done

    def _pending(self, applied: set[int]) -> bool:
        newer = [v for v in applied if v > MIGRATIONS[-1][0]]
        if newer:
            raise StoreError(f"数据库由更新版本的 inspect-cli 创建（架构版本 {max(newer)}），请升级后再用")
        return any(m[0] not in applied for m in MIGRATIONS)

    def _applied_versions(self, create: bool) -> set[int]:
        if "schema_migrations" not in self._tables():
            if not create:
                return set()
            self.conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        return {row[0] for row in self.conn.execute("SELECT version FROM schema_migrations")}

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple], batch: int = 2000) -> int:
        """The bulk write path: rows as they are (text, numbers and None only), in batches,
        inside the caller's transaction (a database copy, a benchmark's year of data).
        Returns how many were written."""
        if table not in BULK_TABLES or not all(c.isidentifier() for c in columns):
            raise ValueError(table)
        if self.dialect.name == "postgresql":
            return self.conn.copy_in(table, columns, rows)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        written, chunk = 0, []
        for row in rows:
            chunk.append(row)
            if len(chunk) == batch:
                self.conn.executemany(sql, chunk, plain=True)
                written, chunk = written + len(chunk), []
        self.conn.executemany(sql, chunk, plain=True)
        return written + len(chunk)

    def photo_names(self) -> list[str]:
        """Every photo file the database refers to, by its name in the media folder."""
        rows = self.conn.execute(
            "SELECT stored_name FROM photos UNION SELECT stored_name FROM problem_photos ORDER BY 1"
        )
        return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        """How many records the main tables hold."""
        tables = ("sites", "units", "inspections", "results", "problems", "problem_events", "notices")
        return {t: self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    def schema_versions(self) -> list[int]:
        return [row[0] for row in self.conn.execute("SELECT version FROM schema_migrations ORDER BY version")]

    # --- sites ----------------------------------------------------------------

    def _site(self, row: Record) -> Site:
        data = {k: row[k] for k in row.keys() if k not in _SITE_INTERNAL}
        return Site(**data)

    def site_by_code(self, code: str) -> Site | None:
        where = self.dialect.equal_nocase("code", "?")
        row = self.conn.execute(f"SELECT * FROM sites WHERE {where}", (code.strip(),)).fetchone()
        return self._site(row) if row else None

    def site_by_id(self, site_id: str) -> Site:
        row = self.conn.execute("SELECT * FROM sites WHERE id = ?", (site_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"找不到点位 {site_id}")
        return self._site(row)

    def sites_by_name(self, name: str, site_type: str) -> list[Site]:
        rows = self.conn.execute(
            "SELECT * FROM sites WHERE name = ? AND site_type = ? ORDER BY code", (name, site_type)
        )
        return [self._site(r) for r in rows]

    def site_codes_with_prefix(self, prefix: str) -> list[str]:
        rows = self.conn.execute(
            f"SELECT code FROM sites WHERE code {self.dialect.like} ? ESCAPE '\\'", (_like(prefix)[1:],)
        )
        return [r[0] for r in rows]

    def save_site(self, site: Site, initials: str, pinyin: str) -> Site:
        """Insert a new site (empty id) or update an existing one, keeping its UUID."""
        now = now_iso()
        values = asdict(site)
        with self.atomic():
            if site.id:
                values["updated_at"] = now
                assignments = ", ".join(f"{k} = :{k}" for k in values if k not in ("id", "created_at"))
                self.conn.execute(
                    f"UPDATE sites SET {assignments}, name_initials = :ini, name_pinyin = :py WHERE id = :id",
                    {**values, "ini": initials, "py": pinyin},
                )
                self._stamp("sites", [site.id])
            else:
                values.update(id=new_id(), created_at=now, updated_at=now)
                columns = ", ".join(values)
                marks = ", ".join(f":{k}" for k in values)
                self.conn.execute(
                    f"INSERT INTO sites ({columns}, name_initials, name_pinyin) VALUES ({marks}, :ini, :py)",
                    {**values, "ini": initials, "py": pinyin},
                )
                self._stamp("sites", [values["id"]])
        return Site(**values)

    def list_sites(
        self,
        site_type: str | None = None,
        street: str | None = None,
        unit: str | None = None,
        search: str | None = None,
    ) -> list[Site]:
        where = _Where(self.dialect.like)
        like = self.dialect.like
        if site_type:
            where.add("site_type = :type", type=site_type)
        if street:
            where.contains("street", "street", street)
        if unit:
            where.add(f"(unit {like} :unit ESCAPE '\\' OR partner {like} :unit ESCAPE '\\')", unit=_like(unit.strip()))
        if search:
            where.add(
                f"(lower(code) {like} :s ESCAPE '\\' OR name {like} :s ESCAPE '\\'"
                f" OR name_initials {like} :s ESCAPE '\\' OR name_pinyin {like} :s ESCAPE '\\')",
                s=_like(search.strip().lower()),
            )
        sql = "SELECT * FROM sites" + where.sql + " ORDER BY code"
        return [self._site(r) for r in self.conn.execute(sql, where.params)]

    def count_sites(self) -> int:
        return self.conn.execute("SELECT count(*) FROM sites").fetchone()[0]

    # --- 责任单位 register -------------------------------------------------------

    def units(self) -> list[dict[str, Any]]:
        """Every unit of the register, by name, each with its former names (`aliases`)."""
        aliases: dict[str, list[str]] = {}
        for alias, unit_id in self.conn.execute("SELECT alias, unit_id FROM unit_aliases ORDER BY created_at, alias"):
            aliases.setdefault(unit_id, []).append(alias)
        rows = self.conn.execute("SELECT * FROM units ORDER BY name")
        return [{**dict(r), "aliases": aliases.get(r["id"], [])} for r in rows]

    def insert_units(self, rows: list[dict[str, object]]) -> list[str]:
        """Add units (name, and optionally short_name, contact, phone, kind); their new ids."""
        now = now_iso()
        ids = [new_id() for _ in rows]
        with self.atomic() as conn:
            conn.executemany(
                "INSERT INTO units (id, name, short_name, contact, phone, kind, created_at, updated_at)"
                " VALUES (:id, :name, :short_name, :contact, :phone, :kind, :now, :now)",
                [
                    {"short_name": None, "contact": None, "phone": None, "kind": None, **row, "id": i, "now": now}
                    for i, row in zip(ids, rows, strict=True)
                ],
            )
            self._stamp("units", ids)
        return ids

    def update_unit(self, unit_id: str, **values: object) -> None:
        """Change a unit's details (not its name: `rename_unit` carries a name everywhere)."""
        assignments = ", ".join(f"{k} = :{k}" for k in values)
        with self.atomic() as conn:
            conn.execute(
                f"UPDATE units SET {assignments}, updated_at = :updated_at WHERE id = :id",
                {**values, "updated_at": now_iso(), "id": unit_id},
            )
            self._stamp("units", [unit_id], fields=tuple(values))

    def rename_unit(
        self,
        unit_id: str,
        old: str,
        new: str,
        *,
        names: list[str],
        action: str,
        note: str,
        actor: str | None,
        day: date,
    ) -> tuple[int, int]:
        """Call the unit `new`, keep `old` as a former name, and move what `names` label.

        Problems, sites (unit and partner) and answers labelled with any of `names` (the old
        name and older former names) take the new name; each problem gets a history event
        (`action`, `note`). Returns how many problems and sites moved.
        """
        now = now_iso()
        with self.atomic() as conn:
            # Renaming back to a former name: it is the current name again, no longer an alias.
            holders = [r[0] for r in conn.execute("SELECT unit_id FROM unit_aliases WHERE alias = ?", (new,))]
            conn.execute("DELETE FROM unit_aliases WHERE alias = ?", (new,))
            conn.execute("UPDATE units SET name = ?, updated_at = ? WHERE id = ?", (new, now, unit_id))
            conn.execute(_SET_ALIAS, (old, unit_id, now))
            self._stamp("units", [unit_id], fields=("name", "aliases"))
            self._stamp("units", [h for h in holders if h != unit_id], fields=("aliases",))
            return self._relabel_unit(names, new, action, note, actor, day)

    def merge_units(
        self,
        source_id: str,
        target_id: str,
        *,
        target: str,
        names: list[str],
        aliases: list[str],
        action: str,
        note: str,
        actor: str | None,
        day: date,
    ) -> tuple[int, int]:
        """Remove the source unit; its former names and `aliases` find the target from now on.

        Problems, sites and answers labelled with any of `names` move to `target`, each
        problem with a history event (`action`, `note`). Returns how many problems and sites moved.
        """
        now = now_iso()
        with self.atomic() as conn:
            conn.execute("UPDATE unit_aliases SET unit_id = ? WHERE unit_id = ?", (target_id, source_id))
            conn.executemany(_SET_ALIAS, [(alias, target_id, now) for alias in aliases])
            self._bury("units", [source_id])
            conn.execute("DELETE FROM units WHERE id = ?", (source_id,))
            conn.execute("UPDATE units SET updated_at = ? WHERE id = ?", (now, target_id))
            self._stamp("units", [target_id], fields=("aliases",))
            return self._relabel_unit(names, target, action, note, actor, day)

    def _relabel_unit(
        self, names: list[str], new: str, action: str, note: str, actor: str | None, day: date
    ) -> tuple[int, int]:
        marks = ", ".join("?" * len(names))
        conn = self.conn
        problem_ids = [
            r[0]
            for r in conn.execute(
                f"SELECT id FROM problems WHERE unit IN ({marks}) ORDER BY year, seq, device, id", names
            )
        ]
        now = now_iso()
        conn.execute(f"UPDATE problems SET unit = ?, updated_at = ? WHERE unit IN ({marks})", (new, now, *names))
        self._stamp("problems", problem_ids, fields=("unit",))
        for problem_id in problem_ids:
            self.add_event(problem_id, action, day, actor=actor, note=note)
        site_ids = {
            r[0]
            for r in conn.execute(f"SELECT id FROM sites WHERE unit IN ({marks}) OR partner IN ({marks})", names * 2)
        }
        result_ids = [r[0] for r in conn.execute(f"SELECT id FROM results WHERE unit IN ({marks})", names)]
        for column in ("unit", "partner"):
            conn.execute(
                f"UPDATE sites SET {column} = ?, updated_at = ? WHERE {column} IN ({marks})", (new, now, *names)
            )
        conn.execute(f"UPDATE results SET unit = ? WHERE unit IN ({marks})", (new, *names))
        self._stamp("sites", sorted(site_ids))
        self._stamp("results", result_ids)
        return len(problem_ids), len(site_ids)

    def unit_problem_counts(self, statuses: list[ProblemStatus]) -> dict[str, int]:
        """How many problems in these states each 责任单位 name has."""
        marks = ", ".join("?" * len(statuses))
        rows = self.conn.execute(
            f"SELECT unit, count(*) FROM problems WHERE unit IS NOT NULL AND merged_into IS NULL AND status IN ({marks})"
            " GROUP BY unit",
            [s.value for s in statuses],
        )
        return {r[0]: r[1] for r in rows}

    # --- inspections ----------------------------------------------------------

    def _inspection(self, row: Record) -> Inspection:
        return Inspection(
            id=row["id"],
            no=row["no"],
            site_id=row["site_id"],
            site_code=row["site_code"],
            site_name=row["site_name"],
            site_type=row["site_type"],
            street=row["street"],
            date=date.fromisoformat(row["date"]),
            inspectors=json.loads(row["inspectors"]),
            status=row["status"],
            checklist_code=row["checklist_code"],
            checklist_edition=row["checklist_edition"],
            created_at=row["created_at"],
            finished_at=row["finished_at"],
        )

    def create_inspection(self, site: Site, day: date, inspectors: list[str], checklist: Checklist) -> Inspection:
        """Create an open inspection and freeze the checklist items it is scored against."""
        inspection_id = new_id()
        now = now_iso()
        items = [
            {"item_id": item.id, **{f: getattr(item, f) for f in editions.ITEM_FIELDS if f != "item_id"}}
            for item in checklist.items
        ]
        with self.atomic() as conn:
            device, seq, no = self._next_number("inspections", "JC", day.year)
            edition = editions.ensure(conn, checklist.code, checklist.edition, items)
            conn.execute(
                "INSERT INTO inspections (id, no, year, device, seq, site_id, date, inspectors, status, site_type,"
                " checklist_code, checklist_edition, edition_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                (
                    inspection_id,
                    no,
                    day.year,
                    device,
                    seq,
                    site.id,
                    day.isoformat(),
                    json.dumps(inspectors, ensure_ascii=False),
                    checklist.site_type,
                    checklist.code,
                    checklist.edition,
                    edition,
                    now,
                ),
            )
            self._stamp("inspections", [inspection_id])
        return self.inspection(inspection_id)

    def inspection(self, ref: str) -> Inspection:
        """Look an inspection up by its number (JC-2026-0001) or UUID."""
        ref = ref.strip()
        number = self.dialect.equal_nocase("i.no", "?")
        row = self.conn.execute(_INSPECTION_SELECT + f" WHERE {number} OR i.id = ?", (ref, ref)).fetchone()
        if row is None and re.fullmatch(r"[0-9a-fA-F-]{8,}", ref):
            rows = self.conn.execute(_INSPECTION_SELECT + " WHERE i.id LIKE ?", (ref.lower() + "%",)).fetchall()
            row = rows[0] if len(rows) == 1 else None
        if row is None:
            raise NotFoundError(f"找不到检查记录 '{ref}'（请用 inspection list 查看编号，如 JC-2026-0001）")
        return self._inspection(row)

    def open_inspections(self, site_id: str, day: date | None = None) -> list[Inspection]:
        sql = _INSPECTION_SELECT + " WHERE i.site_id = ? AND i.status = 'open'"
        params: list[object] = [site_id]
        if day is not None:
            sql += " AND i.date = ?"
            params.append(day.isoformat())
        rows = self.conn.execute(sql + " ORDER BY i.date DESC, i.created_at DESC, i.id", params)
        return [self._inspection(r) for r in rows]

    def list_inspections(self, **filters: Any) -> list[Inspection]:
        """Inspections that pass the filters (see `_inspection_where`), by date and number."""
        where = self._inspection_where(**filters)
        rows = self.conn.execute(
            _INSPECTION_SELECT + where.sql + " ORDER BY i.date, i.year, i.seq, i.device, i.id", where.params
        )
        return [self._inspection(r) for r in rows]

    def _inspection_where(
        self,
        date_from: date | None = None,
        date_to: date | None = None,
        site_id: str | None = None,
        street: str | None = None,
        inspector: str | None = None,
        status: str | None = None,
        finished_only: bool = False,
    ) -> _Where:
        """The filters of an inspection listing, over `inspections i JOIN sites s`."""
        where = self._kept_where(date_from, date_to, site_id, alias="i")
        if street:
            where.contains("s.street", "street", street)
        if inspector:
            # The names are stored as a JSON list; the name as JSON text is in it exactly once listed.
            quoted = json.dumps(inspector.strip(), ensure_ascii=False)
            where.add("i.inspectors LIKE :inspector ESCAPE '\\'", inspector=_like(quoted))
        if status:
            where.add("i.status = :status", status=status)
        if finished_only:
            where.add("i.status = 'finished'")
        return where

    def inspection_scores(self, finished_only: bool = True, **filters: Any) -> Rows:
        """Each inspection's score (one row per inspection, in no order): the sums kept for it,
        else added up now (see `scores`). Columns: id, site_id, items, answered, full_points,
        earned, passed, failed, severe, na. Filters as `list_inspections`."""
        where = self._inspection_where(finished_only=finished_only, **filters)
        kept = ", ".join(f"k.{c}" for c in scores.COLUMNS)
        if finished_only and {k for k, v in filters.items() if v} <= {"date_from", "date_to", "site_id"}:
            # A period (of a site): the kept rows alone, when every finished inspection has one.
            own = self._kept_where(**filters)
            inspections = self.conn.execute("SELECT count(*) FROM inspections i" + where.sql, where.params)
            counted = self.conn.execute("SELECT count(*) FROM inspection_scores k" + own.sql, own.params)
            if inspections.fetchone()[0] == counted.fetchone()[0]:
                sql = f"SELECT k.inspection_id, k.site_id, {kept} FROM inspection_scores k{own.sql}"
                return self.conn.stream(sql, own.params)
        rest = " AND " if where.clauses else " WHERE "
        sql = f"""
            SELECT i.id, i.site_id, {kept} FROM inspections i JOIN sites s ON s.id = i.site_id
            JOIN inspection_scores k ON k.inspection_id = i.id {where.sql}
            UNION ALL
            SELECT i.id, i.site_id, {scores.aggregate(self.dialect.least)}
            FROM {scores.SCORED_FROM} JOIN sites s ON s.id = i.site_id {where.sql}{rest}
                NOT EXISTS (SELECT 1 FROM inspection_scores k WHERE k.inspection_id = i.id)
            GROUP BY i.id, i.site_id
        """
        return self.conn.stream(sql, where.params)

    def scored_listing(self, date_from: date | None, date_to: date | None) -> Iterator[tuple]:
        """The period's finished inspections, by date and number, as they are listed with
        their points: (no, date, site code, site name, site type, street, inspectors, earned,
        full). Streamed: a year's listing is never held."""
        where = self._inspection_where(date_from=date_from, date_to=date_to, finished_only=True)
        sql = f"""
            SELECT i.no, i.date, s.code, s.name, s.site_type, s.street, i.inspectors, k.earned, k.full_points, i.id
            FROM inspections i JOIN sites s ON s.id = i.site_id LEFT JOIN inspection_scores k ON k.inspection_id = i.id
            {where.sql} ORDER BY i.date, i.year, i.seq, i.device, i.id
        """
        live: dict[str, tuple] | None = None  # for inspections without kept sums (rare): added up once
        for no, day, code, name, site_type, street, names, earned, full, inspection_id in self.conn.stream(
            sql, where.params
        ):
            if earned is None and full is None:
                if live is None:
                    live = {r[0]: (r[5], r[4]) for r in self.inspection_scores(date_from=date_from, date_to=date_to)}
                earned, full = live.get(inspection_id, (0.0, 0.0))
            yield (no, date.fromisoformat(day), code, name, site_type, street, json.loads(names), earned, full)

    def _kept_where(
        self, date_from: date | None = None, date_to: date | None = None, site_id: str | None = None, alias: str = "k"
    ) -> _Where:
        """The period (and site) filters over the kept scores `inspection_scores k` (or, by
        `alias`, over the inspections: both have `date` and `site_id`)."""
        where = _Where(self.dialect.like)
        if date_from:
            where.add(f"{alias}.date >= :from", **{"from": date_from.isoformat()})
        if date_to:
            where.add(f"{alias}.date <= :to", to=date_to.isoformat())
        if site_id:
            where.add(f"{alias}.site_id = :site", site=site_id)
        return where

    def refresh_scores(self) -> None:
        """Keep the sums of every finished inspection that has none (after a bulk load)."""
        with self.atomic() as conn:
            scores.refresh(conn)

    def inspection_items(self, inspection_id: str) -> list[Item]:
        rows = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM edition_items it JOIN inspections i ON i.edition_id = it.edition_id"
            " WHERE i.id = ? ORDER BY it.seq",
            (inspection_id,),
        )
        return [_item(r) for r in rows]

    def results(self, inspection_id: str) -> dict[str, ResultRecord]:
        return self.results_for([inspection_id])[inspection_id]

    def results_for(self, inspection_ids: list[str]) -> dict[str, dict[str, ResultRecord]]:
        out: dict[str, dict[str, ResultRecord]] = {i: {} for i in inspection_ids}
        by_result: dict[str, ResultRecord] = {}
        for chunk in _chunks(inspection_ids):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(f"SELECT * FROM results WHERE inspection_id IN ({marks})", chunk)
            for r in rows:
                record = ResultRecord(
                    item_id=r["item_id"],
                    result=Result(r["result"]),
                    count=r["count"],
                    note=r["note"],
                    recorded_at=r["recorded_at"],
                    recorded_by=r["recorded_by"],
                    unit=r["unit"],
                )
                out[r["inspection_id"]][r["item_id"]] = record
                by_result[r["id"]] = record
            photos = self.conn.execute(
                "SELECT p.* FROM photos p JOIN results r ON r.id = p.result_id"
                f" WHERE r.inspection_id IN ({marks}) ORDER BY p.position",
                chunk,
            )
            for p in photos:
                by_result[p["result_id"]].photos.append(
                    Photo(p["sha256"], p["stored_name"], p["original_path"], p["added_at"])
                )
        return out

    def save_result(self, inspection_id: str, record: ResultRecord, photos: list[Photo] | None) -> None:
        """Insert or replace one answer; `photos=None` keeps the photos already attached."""
        now = now_iso()
        with self.atomic() as conn:
            status = conn.execute("SELECT status FROM inspections WHERE id = ?", (inspection_id,)).fetchone()
            if status is None:
                raise NotFoundError(f"检查记录 {inspection_id} 已不存在")
            conn.execute(
                "INSERT INTO results (id, inspection_id, item_id, result, count, note, recorded_at, recorded_by, unit)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (inspection_id, item_id) DO UPDATE SET result = excluded.result,"
                " count = excluded.count, note = excluded.note, recorded_at = excluded.recorded_at,"
                " recorded_by = excluded.recorded_by, unit = excluded.unit",
                (
                    answer_id(inspection_id, record.item_id),
                    inspection_id,
                    record.item_id,
                    record.result.value,
                    record.count,
                    record.note,
                    now,
                    record.recorded_by,
                    record.unit,
                ),
            )
            result_id = conn.execute(
                "SELECT id FROM results WHERE inspection_id = ? AND item_id = ?", (inspection_id, record.item_id)
            ).fetchone()[0]
            self._stamp("results", [result_id])
            if status[0] == "finished":  # an answer changed after finishing: its score is kept again
                scores.refresh(conn, [inspection_id])
            if photos is None:
                return
            # A photo kept from the earlier answer keeps its id (one UUID for life).
            kept = dict(conn.execute("SELECT sha256, id FROM photos WHERE result_id = ?", (result_id,)).fetchall())
            conn.execute("DELETE FROM photos WHERE result_id = ?", (result_id,))
            conn.executemany(
                "INSERT INTO photos (id, result_id, position, sha256, stored_name, original_path, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        kept.pop(p.sha256, None) or new_id(),
                        result_id,
                        pos,
                        p.sha256,
                        p.stored_name,
                        p.original_path,
                        p.added_at or now,
                    )
                    for pos, p in enumerate(photos)
                ],
            )

    def set_inspectors(self, inspection_id: str, names: list[str]) -> None:
        with self.atomic() as conn:
            conn.execute(
                "UPDATE inspections SET inspectors = ? WHERE id = ?",
                (json.dumps(names, ensure_ascii=False), inspection_id),
            )
            self._stamp("inspections", [inspection_id])

    def finish_inspection(self, inspection_id: str) -> None:
        with self.atomic() as conn:
            conn.execute(
                "UPDATE inspections SET status = 'finished', finished_at = ? WHERE id = ?", (now_iso(), inspection_id)
            )
            self._stamp("inspections", [inspection_id])
            scores.refresh(conn, [inspection_id])

    def delete_inspection(self, inspection_id: str) -> None:
        with self.atomic() as conn:
            self._bury("inspections", [inspection_id])
            conn.execute("DELETE FROM inspections WHERE id = ?", (inspection_id,))

    # --- rectification problems -------------------------------------------------

    def _occurrences(self, problem_ids: list[str]) -> dict[str, int]:
        """How often each problem was found again: its own repeat events, and each problem
        merged into it with that problem's repeats. Two grouped queries for the lot."""
        out: dict[str, int] = {}
        for chunk in _chunks(problem_ids):
            marks = ",".join("?" * len(chunk))
            for table in (
                f"SELECT e.problem_id, count(*) FROM problem_events e WHERE e.action = 'repeat'"
                f" AND e.problem_id IN ({marks}) GROUP BY e.problem_id",
                f"SELECT m.merged_into, count(DISTINCT m.id) + count(e.id) FROM problems m"
                " LEFT JOIN problem_events e ON e.problem_id = m.id AND e.action = 'repeat'"
                f" WHERE m.merged_into IN ({marks}) GROUP BY m.merged_into",
            ):
                for problem_id, count in self.conn.execute(table, chunk):
                    out[problem_id] = out.get(problem_id, 0) + int(count)
        return out

    def _problems(self, rows: Iterable[Record]) -> Iterator[Problem]:
        """Problems of these rows, a batch at a time (each batch's occurrences in one go)."""
        rows = iter(rows)
        while batch := list(itertools.islice(rows, 500)):
            found = self._occurrences([r["id"] for r in batch])
            for row in batch:
                yield self._problem(row, found.get(row["id"], 0))

    def _problem(self, record: Record, occurrences: int | None = None) -> Problem:
        if occurrences is None:
            occurrences = self._occurrences([record["id"]]).get(record["id"], 0)

        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        row = dict(zip(record.keys(), record, strict=True))  # by name, at dict speed (a year is 200,000 rows)
        return Problem(
            id=row["id"],
            no=row["no"],
            site_id=row["site_id"],
            site_code=row["site_code"],
            site_name=row["site_name"],
            site_type=row["site_type"],
            street=row["street"],
            address=row["address"],
            inspection_no=row["inspection_no"],
            item_id=row["item_id"],
            item_text=row["item_text"],
            category=row["category"],
            indicator=row["indicator"],
            description=row["description"],
            count=row["count"],
            severity=_RESULTS[row["severity"]],
            unit=row["unit"],
            found_date=date.fromisoformat(row["found_date"]),
            deadline=date.fromisoformat(row["deadline"]),
            status=_STATUSES[row["status"]],
            rework_count=row["rework_count"],
            recheck_count=row["recheck_count"],
            repeat_of=row["repeat_no"],
            fixed_date=day(row["fixed_date"]),
            closed_date=day(row["closed_date"]),
            unit_locked=bool(row["unit_locked"]),
            deadline_locked=bool(row["deadline_locked"]),
            occurrences=occurrences,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def problem(self, ref: str) -> Problem:
        """A problem by its number (ZG-2026-0042) or UUID."""
        ref = ref.strip()
        number = self.dialect.equal_nocase("p.no", "?")
        row = self.conn.execute(_PROBLEM_SELECT + f" WHERE {number} OR p.id = ?", (ref, ref)).fetchone()
        if row is not None and row["merged_into"]:
            # Found on two laptops and merged: the number still finds the problem it became.
            row = self.conn.execute(_PROBLEM_SELECT + " WHERE p.id = ?", (row["merged_into"],)).fetchone()
        if row is None:
            raise NotFoundError(f"找不到问题 '{ref}'（请用 issue list 查看编号，如 ZG-2026-0001）")
        return self._problem(row)

    def origin_problem(self, inspection_id: str, item_id: str) -> Problem | None:
        """The problem first found by this inspection's answer to this item."""
        row = self.conn.execute(
            _PROBLEM_SELECT + " WHERE p.inspection_id = ? AND p.item_id = ? AND p.merged_into IS NULL",
            (inspection_id, item_id),
        ).fetchone()
        return self._problem(row) if row else None

    def repeat_event(self, inspection_id: str, item_id: str) -> tuple[str, str] | None:
        """(problem id, event id) of a 重复发现 recorded from this inspection's answer."""
        row = self.conn.execute(
            "SELECT e.problem_id, e.id FROM problem_events e JOIN problems p ON p.id = e.problem_id"
            " WHERE e.inspection_id = ? AND e.action = 'repeat' AND p.item_id = ?",
            (inspection_id, item_id),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def active_problem(self, site_id: str, item_id: str) -> Problem | None:
        row = self.conn.execute(
            _PROBLEM_SELECT + " WHERE p.site_id = ? AND p.item_id = ? AND p.status IN ('open', 'fixed', 'deferred')"
            " AND p.merged_into IS NULL ORDER BY p.found_date, p.year, p.seq, p.device, p.id LIMIT 1",
            (site_id, item_id),
        ).fetchone()
        return self._problem(row) if row else None

    def last_closed_problem(self, site_id: str, item_id: str, before: date) -> Problem | None:
        row = self.conn.execute(
            _PROBLEM_SELECT + " WHERE p.site_id = ? AND p.item_id = ? AND p.status = 'closed' AND p.closed_date <= ?"
            " AND p.merged_into IS NULL ORDER BY p.closed_date DESC, p.id LIMIT 1",
            (site_id, item_id, before.isoformat()),
        ).fetchone()
        return self._problem(row) if row else None

    def insert_problem(self, values: dict[str, object]) -> str:
        problem_id = new_id()
        now = now_iso()
        found: date = values["found_date"]  # type: ignore[assignment]
        with self.atomic() as conn:
            device, seq, no = self._next_number("problems", "ZG", found.year)
            # What this replica knew of the site and item when it found the problem: two
            # replicas that find it knowing the same thing found one problem (dedupe_problems).
            prior = conn.execute(
                "SELECT id FROM problems WHERE site_id = ? AND item_id = ? AND merged_into IS NULL"
                " ORDER BY found_date DESC, created_at DESC, id DESC LIMIT 1",
                (values["site_id"], values["item_id"]),
            ).fetchone()
            row = {
                **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()},
                "id": problem_id,
                "no": no,
                "year": found.year,
                "device": device,
                "seq": seq,
                "prior": prior[0] if prior else "",
                "created_at": now,
                "updated_at": now,
            }
            columns = ", ".join(row)
            marks = ", ".join(f":{k}" for k in row)
            conn.execute(f"INSERT INTO problems ({columns}) VALUES ({marks})", row)
            self._stamp("problems", [problem_id])
        return problem_id

    def update_problem(self, problem_id: str, **values: object) -> None:
        row = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
        row = {k: (v.value if isinstance(v, Enum) else v) for k, v in row.items()}
        assignments = ", ".join(f"{k} = :{k}" for k in row)
        with self.atomic() as conn:
            conn.execute(
                f"UPDATE problems SET {assignments}, updated_at = :updated_at WHERE id = :id",
                {**row, "updated_at": now_iso(), "id": problem_id},
            )
            self._stamp("problems", [problem_id], fields=tuple(row))

    def delete_problem(self, problem_id: str) -> None:
        with self.atomic() as conn:
            self._bury("problems", [problem_id])
            conn.execute("DELETE FROM problems WHERE id = ?", (problem_id,))

    def add_event(
        self,
        problem_id: str,
        action: str,
        day: date,
        *,
        from_status: ProblemStatus | None = None,
        to_status: ProblemStatus | None = None,
        actor: str | None = None,
        note: str | None = None,
        inspection_id: str | None = None,
        count: int | None = None,
        photos: list[Photo] | None = None,
    ) -> str:
        event_id = new_id()
        with self.atomic() as conn:
            conn.execute(
                "INSERT INTO problem_events (id, problem_id, at, date, action, from_status, to_status, actor, note,"
                f" inspection_id, count, ord) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {NEXT_EVENT_ORD.format('?')})",
                (
                    event_id,
                    problem_id,
                    now_iso(),
                    day.isoformat(),
                    action,
                    from_status.value if from_status else None,
                    to_status.value if to_status else None,
                    actor,
                    note,
                    inspection_id,
                    count,
                    problem_id,
                ),
            )
            self.set_event_photos(problem_id, event_id, photos or [])
        return event_id

    def set_event_photos(self, problem_id: str, event_id: str, photos: list[Photo]) -> None:
        with self.atomic() as conn:
            self._stamp("problem_events", [event_id])
            kept = dict(
                conn.execute("SELECT sha256, id FROM problem_photos WHERE event_id = ?", (event_id,)).fetchall()
            )
            conn.execute("DELETE FROM problem_photos WHERE event_id = ?", (event_id,))
            conn.executemany(
                "INSERT INTO problem_photos (id, problem_id, event_id, position, sha256, stored_name, original_path,"
                " added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        kept.pop(p.sha256, None) or new_id(),
                        problem_id,
                        event_id,
                        pos,
                        p.sha256,
                        p.stored_name,
                        p.original_path,
                        p.added_at or now_iso(),
                    )
                    for pos, p in enumerate(photos)
                ],
            )

    def problem_origin(self, problem_id: str) -> str | None:
        row = self.conn.execute("SELECT inspection_id FROM problems WHERE id = ?", (problem_id,)).fetchone()
        return row[0] if row else None

    def repeat_events(self, problem_id: str) -> list[tuple[str, str]]:
        """(event id, inspection id) of each 重复发现 of a problem, earliest inspection first."""
        rows = self.conn.execute(
            "SELECT e.id, e.inspection_id FROM problem_events e JOIN inspections i ON i.id = e.inspection_id"
            " WHERE e.problem_id = ? AND e.action = 'repeat' ORDER BY i.date, e.at, i.year, i.seq, i.device, e.id",
            (problem_id,),
        )
        return [(r[0], r[1]) for r in rows]

    def promote_event(self, event_id: str) -> None:
        """A 重复发现 becomes the finding of its problem."""
        with self.atomic() as conn:
            conn.execute("UPDATE problem_events SET action = 'found', to_status = 'open' WHERE id = ?", (event_id,))
            self._stamp("problem_events", [event_id])

    def delete_inspection_events(self, problem_id: str, inspection_id: str) -> None:
        with self.atomic() as conn:
            ids = conn.execute(
                "SELECT id FROM problem_events WHERE problem_id = ? AND inspection_id = ?", (problem_id, inspection_id)
            ).fetchall()
            self._bury("problem_events", [r[0] for r in ids])
            conn.execute(
                "DELETE FROM problem_events WHERE problem_id = ? AND inspection_id = ?", (problem_id, inspection_id)
            )

    def delete_repeat_events(self, inspection_id: str, problem_id: str | None = None) -> list[str]:
        """Remove an inspection's 重复发现 (and the escalations they caused); the problems touched."""
        where = "inspection_id = ? AND action IN ('repeat', 'escalated')"
        params: tuple[str, ...] = (inspection_id,)
        if problem_id is not None:
            where += " AND problem_id = ?"
            params += (problem_id,)
        with self.atomic() as conn:
            rows = conn.execute(f"SELECT problem_id, id FROM problem_events WHERE {where}", params).fetchall()
            touched = list(dict.fromkeys(r[0] for r in rows))
            self._bury("problem_events", [r[1] for r in rows])
            conn.execute(f"DELETE FROM problem_events WHERE {where}", params)
        return touched

    def delete_escalation(self, problem_id: str, inspection_id: str) -> None:
        where = "problem_id = ? AND inspection_id = ? AND action = 'escalated'"
        with self.atomic() as conn:
            ids = conn.execute(f"SELECT id FROM problem_events WHERE {where}", (problem_id, inspection_id)).fetchall()
            self._bury("problem_events", [r[0] for r in ids])
            conn.execute(f"DELETE FROM problem_events WHERE {where}", (problem_id, inspection_id))

    def update_event(self, event_id: str, note: str | None, count: int | None) -> None:
        with self.atomic() as conn:
            conn.execute("UPDATE problem_events SET note = ?, count = ? WHERE id = ?", (note, count, event_id))
            self._stamp("problem_events", [event_id])

    def first_event_id(self, problem_id: str, action: str) -> str | None:
        row = self.conn.execute(
            "SELECT id FROM problem_events WHERE problem_id = ? AND action = ? ORDER BY at, ord, id LIMIT 1",
            (problem_id, action),
        ).fetchone()
        return row[0] if row else None

    def event_actions(self, problem_id: str) -> list[str]:
        rows = self.conn.execute("SELECT action FROM problem_events WHERE problem_id = ?", (problem_id,))
        return [r[0] for r in rows]

    def problem_events(self, problem_id: str) -> list[ProblemEvent]:
        """A problem's history, with the history of any problem merged into it (found on another laptop)."""
        owners = "(SELECT :problem UNION ALL SELECT id FROM problems WHERE merged_into = :problem)"
        rows = self.conn.execute(
            "SELECT e.*, i.no AS inspection_no, p.no AS problem_no FROM problem_events e"
            " JOIN problems p ON p.id = e.problem_id LEFT JOIN inspections i ON i.id = e.inspection_id"
            f" WHERE e.problem_id IN {owners} ORDER BY e.at, e.ord, e.id",
            {"problem": problem_id},
        ).fetchall()
        photos: dict[str, list[Photo]] = {}
        for p in self.conn.execute(
            f"SELECT * FROM problem_photos WHERE problem_id IN {owners} ORDER BY position", {"problem": problem_id}
        ):
            photos.setdefault(p["event_id"], []).append(
                Photo(p["sha256"], p["stored_name"], p["original_path"], p["added_at"])
            )
        events = []
        for r in rows:
            action, note = r["action"], r["note"]
            if r["problem_id"] != problem_id:
                # Found independently on another laptop: here it is one more occurrence.
                action = "repeat" if action == "found" else action
                note = f"（原编号 {r['problem_no']}，合并）{note or ''}"
            events.append(
                ProblemEvent(
                    at=r["at"],
                    date=date.fromisoformat(r["date"]),
                    action=action,
                    from_status=ProblemStatus(r["from_status"]) if r["from_status"] else None,
                    to_status=ProblemStatus(r["to_status"]) if r["to_status"] else None,
                    actor=r["actor"],
                    note=note,
                    inspection_no=r["inspection_no"],
                    count=r["count"],
                    photos=photos.get(r["id"], []),
                )
            )
        return events

    def found_photos(self, problem_ids: list[str]) -> dict[str, list[Photo]]:
        """The photos taken when each problem was found."""
        out: dict[str, list[Photo]] = {}
        for chunk in _chunks(problem_ids):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                # CROSS JOIN: SQLite starts from these problems' photos, never from every 'found' event.
                "SELECT pp.* FROM problem_photos pp CROSS JOIN problem_events e"
                f" WHERE e.id = pp.event_id AND e.action = 'found' AND pp.problem_id IN ({marks}) ORDER BY pp.position",
                chunk,
            )
            for r in rows:
                out.setdefault(r["problem_id"], []).append(
                    Photo(r["sha256"], r["stored_name"], r["original_path"], r["added_at"])
                )
        return out

    def fix_photos(self, problem_ids: list[str]) -> dict[str, tuple[Photo, date]]:
        """For each problem with one, the first photo of its latest fix (上报整改 or 复查通过) and its date."""
        out: dict[str, tuple[Photo, date]] = {}
        for chunk in _chunks(problem_ids):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT pp.*, e.date AS event_date FROM problem_photos pp CROSS JOIN problem_events e"
                f" WHERE e.id = pp.event_id AND e.action IN ('fixed', 'recheck_pass') AND pp.problem_id IN ({marks})"
                " ORDER BY e.date, e.ord, pp.position DESC",
                chunk,
            )
            for r in rows:  # the last row of a problem is its latest fix's first photo
                photo = Photo(r["sha256"], r["stored_name"], r["original_path"], r["added_at"])
                out[r["problem_id"]] = (photo, date.fromisoformat(r["event_date"]))
        return out

    def events_of(self, problem_ids: list[str]) -> dict[str, list[ProblemEvent]]:
        """Each problem's history as `problem_events` gives it (the events of problems merged
        into it included, photos attached), for many problems at once: two queries per 500
        problems, however long their histories. The inspection number is left out."""
        out: dict[str, list[ProblemEvent]] = {}
        for chunk in _chunks(problem_ids):
            marks = ",".join("?" * len(chunk))
            # The problems themselves and those merged into them, each with the one it counts as.
            owners = f"p.id IN ({marks}) OR p.merged_into IN ({marks})"
            photos: dict[str, list[Photo]] = {}
            for r in self.conn.execute(
                "SELECT pp.* FROM problems p CROSS JOIN problem_photos pp"
                f" WHERE ({owners}) AND pp.problem_id = p.id ORDER BY pp.position",
                [*chunk, *chunk],
            ):
                photos.setdefault(r["event_id"], []).append(
                    Photo(r["sha256"], r["stored_name"], r["original_path"], r["added_at"])
                )
            rows = self.conn.execute(
                "SELECT e.*, p.no AS problem_no, coalesce(p.merged_into, p.id) AS owner"
                f" FROM problems p CROSS JOIN problem_events e WHERE ({owners}) AND e.problem_id = p.id"
                " ORDER BY e.at, e.ord, e.id",
                [*chunk, *chunk],
            )
            for record in rows:
                r = dict(zip(record.keys(), record, strict=True))  # by name, at dict speed (a year is 500,000)
                action, note = r["action"], r["note"]
                from_status, to_status = r["from_status"], r["to_status"]
                if r["problem_id"] != r["owner"]:
                    # Found independently on another laptop: here it is one more occurrence,
                    # which changes no state (the problem may be 已整改 by then).
                    if action == "found":
                        action, from_status, to_status = "repeat", None, None
                    note = f"（原编号 {r['problem_no']}，合并）{note or ''}"
                out.setdefault(r["owner"], []).append(
                    ProblemEvent(
                        at=r["at"],
                        date=date.fromisoformat(r["date"]),
                        action=action,
                        from_status=_STATUSES[from_status] if from_status else None,
                        to_status=_STATUSES[to_status] if to_status else None,
                        actor=r["actor"],
                        note=note,
                        count=r["count"],
                        photos=photos.get(r["id"], []),
                    )
                )
        return out

    def count_repeat_findings(self, **filters: Any) -> int:
        """How many answers of the finished inspections that pass the filters (`_inspection_where`)
        were 重复发现 of a problem already open."""
        where = self._inspection_where(finished_only=True, **filters)
        where.add("e.action = 'repeat'")
        sql = (
            # CROSS JOIN: SQLite starts from the period's inspections, never from every repeat event.
            "SELECT count(*) FROM inspections i JOIN sites s ON s.id = i.site_id"
            " CROSS JOIN problem_events e" + where.sql + " AND e.inspection_id = i.id"
        )
        return int(self.conn.execute(sql, where.params).fetchone()[0])

    def event_counts(self, problem_ids: list[str], actions: Iterable[str]) -> dict[str, int]:
        """How many events of these kinds each problem has."""
        counts: dict[str, int] = {}
        kinds = sorted(actions)
        which = ",".join("?" * len(kinds))
        for chunk in _chunks(problem_ids):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT problem_id, count(*) FROM problem_events WHERE problem_id IN ({marks})"
                f" AND action IN ({which}) GROUP BY problem_id",
                [*chunk, *kinds],
            )
            counts.update({r[0]: r[1] for r in rows})
        return counts

    def save_export(
        self, export_id: str, kind: str, unit: str | None, file_name: str, rows: list[tuple[str, str, dict]]
    ) -> None:
        """Remember what a sheet was exported with, so its return can be checked."""
        with self.atomic() as conn:
            conn.execute(
                "INSERT INTO exports (id, kind, unit, created_at, file_name) VALUES (?, ?, ?, ?, ?)",
                (export_id, kind, unit, now_iso(), file_name),
            )
            conn.executemany(
                "INSERT INTO export_rows (export_id, problem_id, problem_no, protected) VALUES (?, ?, ?, ?)",
                [(export_id, pid, no, json.dumps(values, ensure_ascii=False)) for pid, no, values in rows],
            )

    def export(self, export_id: str) -> tuple[str, str | None, str, dict[str, dict]] | None:
        """(kind, unit, created_at, {problem no: protected values}) of an export, if it is ours."""
        row = self.conn.execute("SELECT * FROM exports WHERE id = ?", (export_id,)).fetchone()
        if row is None:
            return None
        rows = self.conn.execute("SELECT problem_no, protected FROM export_rows WHERE export_id = ?", (export_id,))
        return row["kind"], row["unit"], row["created_at"], {r[0].upper(): json.loads(r[1]) for r in rows}

    def claim_notice(
        self, date_from: date, date_to: date, number: int | None, kind: str = "week"
    ) -> tuple[int, dict | None]:
        """Give the period its number in one write transaction: (number, the period's row before).

        The period keeps the number it had, unless `number` asks for another; a new period
        takes `number` or the next one of its `kind` (week: 周通报, day: 日反馈; each its own
        series). A second `notice` running at the same time waits for this transaction and so
        sees the claim. A number used by another period is refused.
        """
        period = (kind, date_from.isoformat(), date_to.isoformat())
        with self.atomic() as conn:
            row = conn.execute(
                "SELECT * FROM notices WHERE kind = ? AND date_from = ? AND date_to = ?", period
            ).fetchone()
            before = dict(row) if row else None
            if number is None:
                if before is not None:
                    return before["number"], before
                number = conn.execute(
                    "SELECT coalesce(max(number), 0) + 1 FROM notices WHERE kind = ?", (kind,)
                ).fetchone()[0]
            taken = conn.execute(
                "SELECT date_from, date_to FROM notices WHERE kind = ? AND number = ?"
                " AND NOT (date_from = ? AND date_to = ?)",
                (kind, number, *period[1:]),
            ).fetchone()
            if taken:
                what = "日反馈" if kind == "day" else "通报"
                raise StateError(f"第{number}期已用于 {taken[0]} 至 {taken[1]} 的{what}，请换一个期号（--number）")
            if before is None:
                conn.execute(
                    "INSERT INTO notices (id, number, date_from, date_to, file_name, issued_at, kind)"
                    " VALUES (?, ?, ?, ?, '', ?, ?)",
                    (new_id(), number, *period[1:], now_iso(), kind),
                )
            else:
                conn.execute("UPDATE notices SET number = ? WHERE id = ?", (number, before["id"]))
        return number, before

    def release_notice(self, date_from: date, date_to: date, before: dict | None, kind: str = "week") -> None:
        """Undo a claim whose notice could not be written."""
        with self.atomic() as conn:
            if before is None:
                conn.execute(
                    "DELETE FROM notices WHERE kind = ? AND date_from = ? AND date_to = ?",
                    (kind, date_from.isoformat(), date_to.isoformat()),
                )
            else:
                conn.execute("UPDATE notices SET number = ? WHERE id = ?", (before["number"], before["id"]))

    def notice_issued(self, number: int, file_name: str, kind: str = "week") -> None:
        with self.atomic() as conn:
            conn.execute(
                "UPDATE notices SET file_name = ?, issued_at = ? WHERE kind = ? AND number = ?",
                (file_name, now_iso(), kind, number),
            )

    def list_problems(self, **filters: Any) -> list[Problem]:
        return list(self.iter_problems(**filters))

    def _problem_where(
        self,
        statuses: list[ProblemStatus] | None = None,
        unit: str | None = None,
        unit_exact: str | None = None,
        no_unit: bool = False,
        street: str | None = None,
        site_id: str | None = None,
        site_type: str | None = None,
        category: str | None = None,
        repeat: bool = False,
        found_from: date | None = None,
        found_to: date | None = None,
        inspection_id: str | None = None,
        overdue_on: date | None = None,
        settled_before: date | None = None,
    ) -> _Where:
        """The filters of a problem listing, over `problems p JOIN sites s`. `settled_before`
        leaves out problems found, and closed or found untrue, before that day (a month's
        assessment has nothing to count for them)."""
        where = _Where(self.dialect.like)
        where.add("p.merged_into IS NULL")  # a problem found twice and merged counts once
        if statuses:
            marks = ", ".join(f":st{i}" for i in range(len(statuses)))
            where.add(f"p.status IN ({marks})", **{f"st{i}": st.value for i, st in enumerate(statuses)})
        if unit:
            where.contains("p.unit", "unit", unit)
        if unit_exact:
            where.add("p.unit = :unit_exact", unit_exact=unit_exact)
        if no_unit:
            where.add("(p.unit IS NULL OR p.unit = '')")
        if street:
            where.contains("s.street", "street", street)
        if site_id:
            where.add("p.site_id = :site", site=site_id)
        if site_type:
            where.add("s.site_type = :type", type=site_type)
        if category:
            where.contains("p.category", "category", category)
        if repeat:
            where.add("p.repeat_of IS NOT NULL")
        if found_from:
            where.add("p.found_date >= :from", **{"from": found_from.isoformat()})
        if found_to:
            where.add("p.found_date <= :to", to=found_to.isoformat())
        if inspection_id:
            where.add("p.inspection_id = :inspection", inspection=inspection_id)
        if settled_before:
            where.add(
                "NOT (p.found_date < :settled AND (p.status = 'dismissed'"
                " OR (p.status = 'closed' AND p.closed_date < :settled)))",
                settled=settled_before.isoformat(),
            )
        if overdue_on:
            where.add(_OVERDUE.format(day="overdue_on"), overdue_on=overdue_on.isoformat())
        return where

    def iter_problems(self, *, order: str = "deadline", limit: int | None = None, **filters: Any) -> Iterator[Problem]:
        """Problems that pass the filters (see `_problem_where`), in order, at most `limit`."""
        where = self._problem_where(**filters)
        ordering = _PROBLEM_ORDER[order]
        if self.dialect.name == "sqlite" and (filters.get("found_from") or filters.get("found_to")):
            # A period's problems are found by the found-date index and then sorted; the unary +
            # keeps SQLite from walking the whole deadline index to save that sort.
            ordering = ordering.replace("ORDER BY p.deadline", "ORDER BY +p.deadline")
        sql = _PROBLEM_SELECT + where.sql + ordering
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        # A cursor, not a list: exports stream problems straight into the workbook.
        yield from self._problems(self.conn.stream(sql, where.params))

    def problem_figures(self, key: str | None, today: date, **filters: Any) -> Rows:
        """Rectification counts of the problems that pass the filters, per `key` (an SQL
        expression over `p` and `s`) or in total (key None): name, total, closed, dismissed,
        deferred, on_time, overdue, rechecked, reworked, repeats. The rules are Problem's
        (`on_time`, `overdue_days`), added up by the database."""
        where = self._problem_where(**filters)
        name = key or "NULL"
        sql = f"""
            SELECT {name} AS name, count(*),
                sum(CASE WHEN p.status = 'closed' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.status = 'dismissed' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.status = 'deferred' THEN 1 ELSE 0 END),
                sum(CASE WHEN p.status = 'closed' AND coalesce(p.fixed_date, p.closed_date) <= p.deadline
                    THEN 1 ELSE 0 END),
                sum(CASE WHEN {_OVERDUE.format(day="today")} THEN 1 ELSE 0 END),
                sum(CASE WHEN p.recheck_count > 0 THEN 1 ELSE 0 END),
                sum(CASE WHEN p.rework_count > 0 THEN 1 ELSE 0 END),
                sum(CASE WHEN p.repeat_of IS NOT NULL THEN 1 ELSE 0 END)
            FROM problems p{_SITES if key and "s." in key or where.uses("s") else ""} {where.sql}
            {f"GROUP BY {name}" if key else ""}
        """
        return self.conn.execute(sql, {**where.params, "today": today.isoformat()})

    def count_problems(self, today: date, **filters: Any) -> tuple[int, int]:
        """How many problems pass the filters, and how many of them are overdue on `today`."""
        where = self._problem_where(**filters)
        row = self.conn.execute(
            f"SELECT count(*), coalesce(sum(CASE WHEN {_OVERDUE.format(day='today')} THEN 1 ELSE 0 END), 0)"
            " FROM problems p" + (_SITES if where.uses("s") else "") + where.sql,
            {**where.params, "today": today.isoformat()},
        ).fetchone()
        return int(row[0]), int(row[1])


def _item(row: Record) -> Item:
    return Item(
        id=row["item_id"],
        text=row["text"],
        category=row["category"],
        score=row["score"],
        deduct=row["deduct"],
        unit=row["unit"],
        deadline_days=row["deadline_days"],
        indicator=row["indicator"],
        standard=row["standard"],
        tips=row["tips"],
        photo_required=bool(row["photo_required"]),
    )


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Lookup:
    """A read-only view of a database for shell completion: quick, and never creates,
    migrates or locks it (a Tab press must leave the database exactly as it was)."""

    def __init__(self, conn: Any, like: str = "LIKE", sqlite: bool = True) -> None:
        self.conn = conn
        self.like = like
        self.sqlite = sqlite

    @classmethod
    @contextmanager
    def open(cls, database: Path | str) -> Iterator[Lookup | None]:
        """None when there is no database file there."""
        if isinstance(database, Path):
            from inspect_cli.store.sqlite_file import connect_file

            if not database.is_file():
                yield None
                return
            # The standard library alone: a Tab press should not wait for SQLAlchemy to load.
            raw = connect_file(database, read_only=True)
            try:
                yield cls(raw)
            finally:
                raw.close()
            return
        from inspect_cli.store import engine

        conn = engine.connect(engine.target(database), read_only=True)
        try:
            yield cls(conn, conn.dialect.like, sqlite=False)
        finally:
            conn.close()

    def sites(self, column: str, prefix: str, limit: int) -> Iterator[tuple[str, str, str]]:
        """(value of `column`, code, name) of sites whose code, name or initials start with `prefix`."""
        if column not in ("code", "name", "name_initials"):
            raise ValueError(column)
        yield from self.conn.execute(
            f"SELECT {column}, code, name FROM sites WHERE {column} {self.like} ? ESCAPE '\\' ORDER BY {column} LIMIT ?",
            (_starts(prefix), limit),
        )

    def units(self, prefix: str, limit: int) -> Iterator[tuple[str, str]]:
        """(name, description) of units named or short-named `prefix`…"""
        pattern = _starts(prefix)
        if (
            self.sqlite
            and not self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'units'").fetchone()
        ):
            # A database from before the register, not migrated yet (completion never migrates).
            for sql in (
                f"SELECT DISTINCT unit, '' FROM sites WHERE unit {self.like} ? ESCAPE '\\' ORDER BY unit LIMIT ?",
                f"SELECT DISTINCT partner, '' FROM sites WHERE partner {self.like} ? ESCAPE '\\' ORDER BY partner LIMIT ?",
                f"SELECT DISTINCT unit, '' FROM problems WHERE unit {self.like} ? ESCAPE '\\' ORDER BY unit LIMIT ?",
            ):
                yield from self.conn.execute(sql, (pattern, limit))
            return
        yield from self.conn.execute(
            f"SELECT name, coalesce(short_name, '') FROM units WHERE name {self.like} ? ESCAPE '\\' ORDER BY name LIMIT ?",
            (pattern, limit),
        )
        yield from self.conn.execute(
            f"SELECT short_name, name FROM units WHERE short_name {self.like} ? ESCAPE '\\' ORDER BY short_name LIMIT ?",
            (pattern, limit),
        )

    def problems(self, prefix: str, limit: int) -> Iterator[tuple[str, str, str, str]]:
        """(number, site code, site name, item) of problems, unfinished ones and the newest first."""
        yield from self.conn.execute(
            "SELECT p.no, s.code, s.name, p.item_text FROM problems p JOIN sites s ON s.id = p.site_id"
            f" WHERE p.no {self.like} ? ESCAPE '\\'"
            " ORDER BY p.status IN ('open', 'fixed', 'deferred') DESC, p.year DESC, p.seq DESC, p.no LIMIT ?",
            (_starts(prefix), limit),
        )

    def inspections(self, prefix: str, limit: int) -> Iterator[tuple[str, str, str, str]]:
        """(number, site code, site name, date) of inspections, unfinished ones and the newest first."""
        yield from self.conn.execute(
            "SELECT i.no, s.code, s.name, i.date FROM inspections i JOIN sites s ON s.id = i.site_id"
            f" WHERE i.no {self.like} ? ESCAPE '\\' ORDER BY i.status = 'open' DESC, i.year DESC, i.seq DESC, i.no LIMIT ?",
            (_starts(prefix), limit),
        )


def _starts(prefix: str) -> str:
    """A LIKE pattern for values starting with `prefix` (its wildcards taken literally)."""
    return _escape_like(prefix) + "%"
