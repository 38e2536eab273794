"""Each inspection's score, kept so that a year's ranking reads 100,000 rows, not 3 million.

The rules are `scoring.earned`'s: 合格 earns the item's score, 不合格 the score less its
deduction per occurrence (never below zero), 严重不合格 nothing; 不适用 is left out of the
full score. The database adds the points up (`aggregate`), and `inspection_scores` keeps
the sums of finished inspections.

The kept sums are a cache that cannot go stale: a trigger on `results` forgets an
inspection's sums whenever one of its answers is written or removed, by whatever path
(recording, a bundle, a database copy). Readers take the kept sums where there are any and
add up the rest on the spot (`Store.inspection_scores`); writers keep the sums again when
an inspection is finished or its answers change (`refresh`).
"""

from __future__ import annotations

COLUMNS = ("items", "answered", "full_points", "earned", "passed", "failed", "severe", "na")


def aggregate(least: str) -> str:
    """The sums per inspection over `inspections i JOIN edition_items it LEFT JOIN results r`."""
    return f"""count(*) AS items, count(r.result) AS answered,
        sum(CASE WHEN r.result IN ('pass', 'fail', 'severe') THEN it.score ELSE 0 END) AS full_points,
        sum(CASE r.result WHEN 'pass' THEN it.score
            WHEN 'fail' THEN it.score - {least}(it.score, coalesce(it.deduct, it.score) * r.count)
            ELSE 0 END) AS earned,
        sum(CASE WHEN r.result = 'pass' THEN 1 ELSE 0 END) AS passed,
        sum(CASE WHEN r.result = 'fail' THEN 1 ELSE 0 END) AS failed,
        sum(CASE WHEN r.result = 'severe' THEN 1 ELSE 0 END) AS severe,
        sum(CASE WHEN r.result = 'na' THEN 1 ELSE 0 END) AS na"""


SCORED_FROM = """inspections i JOIN edition_items it ON it.edition_id = i.edition_id
    LEFT JOIN results r ON r.inspection_id = i.id AND r.item_id = it.item_id"""


def refresh(conn, inspection_ids: list[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Keep the sums of finished inspections that have none (of these, or of all). In the
    caller's write transaction."""
    where = "i.status = 'finished' AND NOT EXISTS (SELECT 1 FROM inspection_scores k WHERE k.inspection_id = i.id)"
    params: list[object] = []
    if inspection_ids is not None:
        if not inspection_ids:
            return
        where += f" AND i.id IN ({', '.join('?' * len(inspection_ids))})"
        params = list(inspection_ids)
    conn.execute(
        f"INSERT INTO inspection_scores (inspection_id, date, site_id, {', '.join(COLUMNS)})"
        f" SELECT i.id, i.date, i.site_id, {aggregate(conn.dialect.least)} FROM {SCORED_FROM} WHERE {where}"
        " GROUP BY i.id, i.date, i.site_id",
        params,
    )


_TABLE = """
    CREATE TABLE inspection_scores (
        inspection_id TEXT{collate} PRIMARY KEY REFERENCES inspections (id) ON DELETE CASCADE{deferrable},
        date TEXT{collate} NOT NULL,
        site_id TEXT{collate} NOT NULL,
        items INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        full_points {real},
        earned {real},
        passed INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        severe INTEGER NOT NULL,
        na INTEGER NOT NULL
    ){without_rowid};
    CREATE INDEX inspection_scores_date ON inspection_scores (date, site_id, {columns});
    CREATE INDEX inspections_finished ON inspections (date, status);
"""

# The inspection's own fields the kept row copies (or that decide whether it is kept).
_INSPECTION_FIELDS = "date, site_id, status, edition_id"

_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER inspections_forget_score AFTER UPDATE OF {_INSPECTION_FIELDS} ON inspections BEGIN
        DELETE FROM inspection_scores WHERE inspection_id = OLD.id; END""",
    """CREATE TRIGGER results_forget_score_insert AFTER INSERT ON results BEGIN
        DELETE FROM inspection_scores WHERE inspection_id = NEW.inspection_id; END""",
    """CREATE TRIGGER results_forget_score_update AFTER UPDATE OF inspection_id, item_id, result, count ON results
        BEGIN DELETE FROM inspection_scores WHERE inspection_id IN (OLD.inspection_id, NEW.inspection_id); END""",
    """CREATE TRIGGER results_forget_score_delete AFTER DELETE ON results BEGIN
        DELETE FROM inspection_scores WHERE inspection_id = OLD.inspection_id; END""",
]

_POSTGRESQL_TRIGGERS = [
    """CREATE FUNCTION results_forget_score() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            DELETE FROM inspection_scores WHERE inspection_id = OLD.inspection_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            DELETE FROM inspection_scores WHERE inspection_id = NEW.inspection_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER results_forget_score
        AFTER INSERT OR DELETE OR UPDATE OF inspection_id, item_id, result, count ON results
        FOR EACH ROW EXECUTE FUNCTION results_forget_score()""",
    """CREATE FUNCTION inspections_forget_score() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM inspection_scores WHERE inspection_id = OLD.id;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER inspections_forget_score AFTER UPDATE OF {_INSPECTION_FIELDS} ON inspections
        FOR EACH ROW EXECUTE FUNCTION inspections_forget_score()""",
]


def migrate(conn) -> None:  # type: ignore[no-untyped-def]
    """Migration 11: the table, its triggers, and the sums of every finished inspection."""
    from inspect_cli.store.schema import statements

    covered = ", ".join(COLUMNS)  # a period's scores read from the index alone
    if conn.dialect.name == "sqlite":
        table = _TABLE.format(collate="", deferrable="", real="REAL", without_rowid=" WITHOUT ROWID", columns=covered)
        triggers = _SQLITE_TRIGGERS
    else:
        deferrable = " DEFERRABLE INITIALLY DEFERRED"
        table = _TABLE.format(
            collate=' COLLATE "C"', deferrable=deferrable, real="DOUBLE PRECISION", without_rowid="", columns=covered
        )
        triggers = _POSTGRESQL_TRIGGERS
    for statement in [*statements(table), *triggers]:  # triggers one by one: their bodies hold semicolons
        conn.run(statement)
    refresh(conn)
