"""A city's year stays fast: figures added up by the database, listings that stream, and
period queries that use indexes (read from the query plans on both engines)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest

from inspect_cli import queries
from inspect_cli.models import Result, ResultRecord
from inspect_cli.queries import NO_UNIT, UNSET, GroupBy, StatsBy
from inspect_cli.store import Store, scores
from inspect_cli.store.engine import Connection

from .conftest import DEMO_TODAY

TODAY = DEMO_TODAY
WEEK = (date(2026, 11, 16), date(2026, 11, 22))


# --- figures added up by the database follow the per-problem rules ------------------------------


def _by_rules(problems, today: date, key) -> dict[str, tuple[int, ...]]:
    """The rectification figures as Problem's own rules give them, one problem at a time."""
    out: dict[str, list[int]] = {}
    for p in problems:
        row = out.setdefault(key(p), [0] * 9)
        for n, flag in enumerate(
            (
                True,
                p.status.value == "closed",
                p.status.value == "dismissed",
                p.status.value == "deferred",
                bool(p.on_time),
                p.overdue_days(today) > 0,
                p.recheck_count > 0,
                p.rework_count > 0,
                p.repeat_of is not None,
            )
        ):
            row[n] += flag
    return {k: tuple(v) for k, v in out.items()}


def _figures(stats) -> tuple[int, ...]:
    return (stats.total, stats.closed, stats.dismissed, stats.deferred, stats.on_time, stats.overdue,
            stats.rechecked, stats.reworked, stats.repeats)  # fmt: skip


@pytest.mark.parametrize("period", [(None, None), WEEK])
def test_problem_stats_follow_the_rules_of_each_problem(demo_city, period):
    today = date.fromisoformat(TODAY)
    keys = {
        StatsBy.unit: lambda p: p.unit or NO_UNIT,
        StatsBy.street: lambda p: p.street or UNSET,
        StatsBy.category: lambda p: p.category,
    }
    with Store(demo_city.db) as store:
        listed = list(queries.iter_problems(store, date_from=period[0], date_to=period[1]))
        assert len(listed) > 30
        assert len({p.status for p in listed}) >= 3
        for by, key in keys.items():
            rows, total = queries.problem_stats(store, *period, by=by, today=today)
            assert {r.name: _figures(r) for r in rows} == _by_rules(listed, today, key)
            assert _figures(total) == _by_rules(listed, today, lambda p: "")[""]
        assert queries.count_problems(store, date_from=period[0], date_to=period[1], today=today) == (
            len(listed),
            sum(p.overdue_days(today) > 0 for p in listed),
        )


# --- listings: a first page with the count, or every row as it is read ------------------------


def test_issue_list_shows_a_first_page_and_says_how_many_there_are(demo_city):
    everything = json.loads(demo_city.ok("issue", "list", "--json").stdout)
    assert len(everything) > 60
    shown = demo_city.ok("issue", "list", "--limit", "5").stdout
    listed = re.findall(r"ZG-\d{4}-\d{4}", shown)
    assert listed == [p["no"] for p in everything[:5]]
    overdue = sum(1 for p in everything if p["overdue_days"])
    assert f"共 {len(everything):,} 个问题，其中逾期 {overdue:,} 个（截至 {TODAY}）；显示前 5 个" in shown
    default = demo_city.ok("issue", "list").stdout
    assert len(re.findall(r"ZG-\d{4}-\d{4}", default)) == 50
    whole = demo_city.ok("issue", "list", "--all").stdout
    assert re.findall(r"ZG-\d{4}-\d{4}", whole) == [p["no"] for p in everything]
    assert "显示前" not in whole


def test_issue_list_json_and_csv_carry_every_row(demo_city):
    everything = json.loads(demo_city.ok("issue", "list", "--json").stdout)
    limited = json.loads(demo_city.ok("issue", "list", "--json", "--limit", "3").stdout)
    assert limited == everything[:3]
    raw = demo_city.ok("issue", "list", "--csv", "--overdue").stdout
    assert raw.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw[1:])))
    overdue = [p for p in everything if p["overdue_days"]]
    assert [r["问题编号"] for r in rows] == [p["no"] for p in overdue]
    assert [int(r["逾期天数"]) for r in rows] == [p["overdue_days"] for p in overdue]
    assert demo_city("issue", "list", "--csv", "--json").exit_code == 2


def test_json_rows_are_one_array_one_element_a_line_across_batches(capsys):
    """Rows are written in batches of 500: the joints between batches must not show."""
    from datetime import date

    from inspect_cli.cli.render import print_json_rows
    from inspect_cli.models import ProblemStatus

    for count in (0, 1, 500, 1001):
        rows = [{"no": f"ZG-{n}", "day": date(2026, 1, 1), "status": ProblemStatus.OPEN, "text": "a\u2028b"}
                for n in range(count)]  # fmt: skip
        print_json_rows(iter(rows))
        written = capsys.readouterr().out
        assert json.loads(written) == [
            {"no": f"ZG-{n}", "day": "2026-01-01", "status": "open", "text": "a\u2028b"} for n in range(count)
        ]
        assert written.count("\n") == (count + 2 if count else 1)
        assert "\u2028" not in written  # escaped, as every line separator inside a string


# --- period queries use indexes ---------------------------------------------------------------

# The large tables and the names the queries give them.
BIG = {"inspections", "results", "problems", "problem_events", "edition_items", "problem_photos", "photos",
       "p", "i", "r", "m", "e", "it", "pp", "ph"}  # fmt: skip
# "SCAN t" reads a table whole; "SCAN t USING INDEX x" walks all of an index.
_SQLITE_SCAN = re.compile(r"SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?$")


def _statements(monkeypatch, job) -> list[tuple[str, object]]:
    """Every SELECT `job` sends to the database, with its parameters."""
    seen: list[tuple[str, object]] = []
    for name in ("execute", "stream"):
        original = getattr(Connection, name)

        def spy(self, sql, params=None, _original=original):  # type: ignore[no-untyped-def]
            if sql.lstrip().upper().startswith("SELECT"):
                seen.append((sql, params))
            return _original(self, sql, params)

        monkeypatch.setattr(Connection, name, spy)
    job()
    monkeypatch.undo()
    return seen


def _full_scans(store: Store, sql: str, params: object, walks: set[str]) -> list[str]:
    """The steps of the plan that read a large table (or all of its index) whole; `walks`
    names indexes a step may walk in order (a LIMIT stops it, or the index is partial)."""
    if store.dialect.name == "sqlite":
        plan = [row[-1] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        scans = [(d, _SQLITE_SCAN.match(d)) for d in plan]
        return [d for d, m in scans if m and m[1] in BIG and m[2] not in walks]
    with store.atomic():  # the setting lasts for this transaction only
        store.conn.execute("SET LOCAL enable_seqscan = off")
        plan = [row[0] for row in store.conn.execute("EXPLAIN " + sql, params)]
    return [d for d in plan if re.search(r"Seq Scan on (\w+)", d) and re.search(r"Seq Scan on (\w+)", d)[1] in BIG]


def test_the_period_queries_read_by_index_on_both_engines(demo_city, monkeypatch):
    """A week's score, statistics and listing, and a year's overdue count, never read a large
    table whole: each has an index for its filter (checked in the query plans)."""
    today = date.fromisoformat(TODAY)
    with Store(demo_city.db) as store:
        jobs = {
            "score": lambda: queries.ranking(store, GroupBy.street, *WEEK),
            "report scores": lambda: queries.scored_inspections(store, *WEEK),
            "stats": lambda: queries.problem_stats(store, *WEEK, by=StatsBy.unit, today=today),
            "list": lambda: list(queries.iter_problems(store, date_from=WEEK[0], date_to=WEEK[1])),
            "first page": lambda: list(queries.iter_problems(store, limit=50)),
            "photos": lambda: list(
                queries.with_found_photos(store, queries.iter_problems(store, date_from=WEEK[0], date_to=WEEK[1]))
            ),
            "overdue": lambda: queries.count_problems(store, overdue=True, today=today),
            "summary": lambda: queries.period_summary(store, *WEEK, today=today),
        }
        for name, job in jobs.items():
            statements = _statements(monkeypatch, job)
            assert statements, name
            walks = {"problems_merged"} | ({"problems_deadline"} if name == "first page" else set())
            for sql, params in statements:
                assert _full_scans(store, sql, params, walks) == [], (name, sql)
        # The first page walks the deadline index and stops at 50: it never sorts every problem.
        if store.dialect.name == "sqlite":
            sql, params = next(q for q in _statements(monkeypatch, jobs["first page"]) if "LIMIT" in q[0])
            plan = [row[-1] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
            assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan


# --- the notice's size follows its period; the annex holds the full lists ----------------------


def test_the_notice_lists_the_longest_overdue_and_its_annex_lists_them_all(demo_city, monkeypatch, tmp_path):
    from docx import Document
    from openpyxl import load_workbook

    from inspect_cli import notice

    monkeypatch.setattr(notice, "LISTED", 3)
    overdue = json.loads(demo_city.ok("issue", "list", "--overdue", "--to", str(WEEK[1]), "--json").stdout)
    assert len(overdue) > 3
    path = tmp_path / "周通报.docx"
    demo_city.ok("notice", "--from", str(WEEK[0]), "--to", str(WEEK[1]), "-o", path)
    body = "\n".join(p.text for p in Document(path).paragraphs)
    assert f"逾期未整改问题共 {len(overdue)} 个，下表列出逾期最久的 3 个，完整清单见附件。" in body
    listed = [row.cells[0].text for table in Document(path).tables for row in table.rows[1:]]
    days = {p["no"]: p["overdue_days"] for p in overdue}
    shown = [n for n in listed if n in days]
    assert len(shown) == 3 and min(days[n] for n in shown) >= max(d for n, d in days.items() if n not in shown)
    annex = load_workbook(tmp_path / "周通报_附件.xlsx", read_only=True)
    sheet = annex["逾期未整改问题"]
    numbers = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]  # after the title and header
    assert sorted(numbers) == sorted(p["no"] for p in overdue)
    week = json.loads(demo_city.ok("issue", "list", "--from", str(WEEK[0]), "--to", str(WEEK[1]), "--json").stdout)
    listed_week = [row[1] for row in annex["本周问题清单"].iter_rows(min_row=3, values_only=True)]
    assert listed_week == [p["no"] for p in week]


# --- kept scores never go stale -----------------------------------------------------------------


def _live_and_kept(store: Store) -> tuple[dict, dict]:
    live_sql = (
        f"SELECT i.id, {scores.aggregate(store.dialect.least)} FROM {scores.SCORED_FROM}"
        " WHERE i.status = 'finished' GROUP BY i.id"
    )
    live = {r[0]: tuple(r[1:]) for r in store.conn.execute(live_sql)}
    kept = {
        r[0]: tuple(r[1:])
        for r in store.conn.execute(f"SELECT inspection_id, {', '.join(scores.COLUMNS)} FROM inspection_scores")
    }
    return live, kept


def test_kept_scores_follow_every_change_of_an_answer(demo_city):
    """A finished inspection's kept sums equal the sums added up now, after a change through
    the store, and are forgotten by the trigger after a write that bypasses it."""
    with Store(demo_city.db) as store:
        live, kept = _live_and_kept(store)
        assert kept == live and len(kept) > 50
        inspection = next(i for i in store.list_inspections(finished_only=True) if live[i.id][5] == 0)
        item = store.inspection_items(inspection.id)[0]
        store.save_result(inspection.id, ResultRecord(item.id, Result.SEVERE), None)
        live, kept = _live_and_kept(store)
        assert kept == live and kept[inspection.id][6] >= 1
        with store.atomic() as conn:  # as a merged bundle writes: straight into the table
            conn.execute("UPDATE results SET result = 'pass' WHERE inspection_id = ?", (inspection.id,))
        live, kept = _live_and_kept(store)
        assert inspection.id not in kept
        [scored] = [
            s
            for s in queries.scored_inspections(store, inspection.date, inspection.date)
            if s.inspection.id == inspection.id
        ]
        assert scored.score.rate == pytest.approx(100.0) and scored.score.failed == scored.score.severe == 0
        store.refresh_scores()
        live, kept = _live_and_kept(store)
        assert kept == live


@pytest.mark.sqlite_only("which driver a SQLite file is opened with")
def test_a_command_on_a_sqlite_file_never_imports_sqlalchemy(demo_city):
    """SQLAlchemy costs 0.4 s to import: a file is opened with the standard library's driver."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from inspect_cli.cli import main\n"
        f"sys.argv = ['inspect-cli', '--db', {str(demo_city.db)!r}, 'score', '--from', '2026-11-16', '--to', '2026-11-22']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'psycopg')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "排名" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
