"""双随机 plans in the database: draws kept whole, one in force per week (part of Store).

A plan row holds its seed and inputs as JSON and the pairs it formed; its visits name the
点位 drawn, the pair sent and why (weight, reason). A re-draw marks the plan in force
replaced (`replaced_at`) and keeps it. A week's plan in force is its latest draw
(drawn_at, then id) that is not replaced: worked out when read, never stored, so that
merging needs nothing but a union. Plans come to a laptop in field bundles: a plan new here
is inserted as it came, a known one takes the earliest `replaced_at` either side has (a
plan replaced anywhere stays replaced). The result is the same in any order, any number of
times (tests/test_plans.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from inspect_cli.errors import StateError
from inspect_cli.scoring import round_rate

if TYPE_CHECKING:
    from inspect_cli.store.engine import Connection, Dialect

# `p` is a week's plan in force: not replaced, and no later draw of its week is not replaced either.
IN_FORCE = """p.replaced_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM plans q WHERE q.week = p.week AND q.replaced_at IS NULL
    AND (q.drawn_at > p.drawn_at OR (q.drawn_at = p.drawn_at AND q.id > p.id)))"""
PLAN_COLUMNS = ("id", "week", "date_from", "date_to", "seed", "inputs", "pairs", "drawn_at", "drawn_by", "replaced_at")
_COLUMNS = ", ".join(f"p.{c}" for c in PLAN_COLUMNS)
_VISIT_SELECT = """
    SELECT v.plan_id, v.seq, v.pair, v.weight, v.reason, s.id AS site_id, s.code, s.name, s.site_type,
        s.street, s.community, s.address
    FROM plan_visits v JOIN sites s ON s.id = v.site_id
"""


class PlanRows:
    """Plans stored, read and merged (part of Store, which provides `conn` and `atomic`)."""

    conn: Connection
    dialect: Dialect

    # --- reading ---------------------------------------------------------------

    def plan_in_force(self, week: str) -> dict[str, Any] | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM plans p WHERE p.week = ? AND {IN_FORCE}", (week,)).fetchone()
        return _plan(row) if row else None

    def plan_history(self, week: str) -> list[dict[str, Any]]:
        """Every draw of a week, the first first."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS}, CASE WHEN {IN_FORCE} THEN 1 ELSE 0 END FROM plans p WHERE p.week = ?"
            " ORDER BY p.drawn_at, p.id",
            (week,),
        )
        return [{**_plan(r[:-1]), "in_force": bool(r[-1])} for r in rows]

    def plans_in_force(self, date_from: date, date_to: date) -> list[dict[str, Any]]:
        """The plans in force whose week overlaps these dates, by week."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM plans p WHERE p.date_from <= ? AND p.date_to >= ? AND {IN_FORCE}"
            " ORDER BY p.date_from",
            (date_to.isoformat(), date_from.isoformat()),
        )
        return [_plan(r) for r in rows]

    def plan_visits(self, plan_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(_VISIT_SELECT + " WHERE v.plan_id = ? ORDER BY v.pair, v.seq", (plan_id,))
        return [dict(r) for r in rows]

    def planned_visit(self, site_id: str, day: date) -> dict[str, Any] | None:
        """The visit of the plan in force for the week of `day` that sends a pair to this 点位."""
        row = self.conn.execute(
            "SELECT p.id AS plan_id, p.week, p.pairs, v.pair FROM plans p JOIN plan_visits v ON v.plan_id = p.id"
            f" WHERE p.date_from <= ? AND p.date_to >= ? AND v.site_id = ? AND {IN_FORCE}",
            (day.isoformat(), day.isoformat(), site_id),
        ).fetchone()
        if row is None:
            return None
        visit = dict(row)
        visit["inspectors"] = json.loads(visit.pop("pairs"))[visit["pair"] - 1]
        return visit

    def plan_candidates(self, week_start: date, today: date) -> list[dict[str, Any]]:
        """Every 点位 with what its weight is made of, as of the Monday of the week drawn.

        last_date / last_rate: its latest finished inspection before that day; open: its
        problems still 待整改; visits: the weeks of this ISO year (from the Monday of its week
        1) before that day in which it was inspected, or is planned in a week not over by
        `today` (a plan drawn ahead: its visits are still to come; a past week's plan counts
        only through the inspections made).
        """
        iso_year = week_start.isocalendar()[0]
        day, year_start = week_start.isoformat(), date.fromisocalendar(iso_year, 1, 1).isoformat()
        sites = {
            r[0]: {"code": r[1], "site_type": r[2], "street": r[3] or "", "last_date": None, "last_rate": None,
                   "open": 0, "weeks": set()}
            for r in self.conn.execute("SELECT id, code, site_type, street FROM sites ORDER BY code")
        }  # fmt: skip
        for site_id, when, rate in self._last_scores(day):
            if site_id in sites:
                sites[site_id]["last_date"], sites[site_id]["last_rate"] = when, rate
        for site_id, count in self.conn.execute(
            "SELECT site_id, count(*) FROM problems WHERE status = 'open' AND merged_into IS NULL"
            " AND found_date < ? GROUP BY site_id",
            (day,),
        ):
            if site_id in sites:
                sites[site_id]["open"] = int(count)
        for site_id, when in self.conn.execute(
            "SELECT site_id, date FROM inspections WHERE status = 'finished' AND date >= ? AND date < ?",
            (year_start, day),
        ):
            if site_id in sites:
                sites[site_id]["weeks"].add(date.fromisoformat(when).isocalendar()[1])
        for site_id, monday in self.conn.execute(
            "SELECT v.site_id, p.date_from FROM plans p JOIN plan_visits v ON v.plan_id = p.id"
            f" WHERE p.date_from >= ? AND p.date_from < ? AND p.date_to >= ? AND {IN_FORCE}",
            (year_start, day, today.isoformat()),
        ):
            if site_id in sites:
                sites[site_id]["weeks"].add(date.fromisoformat(monday).isocalendar()[1])
        out = []
        for site in sites.values():
            site["visits"] = len(site.pop("weeks"))
            out.append(site)
        return out

    def _last_scores(self, day: str) -> Iterator[tuple[str, str, float | None]]:
        """(site_id, date, 得分率) of each 点位's latest finished inspection before `day`: its kept
        sums, else added up now (as `Store.inspection_scores` does)."""
        from inspect_cli.store import scores

        latest: dict[str, tuple[str, str]] = {}
        rows = self.conn.execute(
            "SELECT i.site_id, i.id, i.date FROM inspections i JOIN (SELECT site_id, max(date) AS last"
            " FROM inspections WHERE status = 'finished' AND date < ? GROUP BY site_id) m"
            " ON m.site_id = i.site_id AND m.last = i.date WHERE i.status = 'finished'"
            " ORDER BY i.site_id, coalesce(i.finished_at, ''), i.id",
            (day,),
        )
        for site_id, inspection_id, when in rows:
            latest[site_id] = (inspection_id, when)  # the last finished that day
        ids = [i for i, _ in latest.values()]
        sums: dict[str, tuple[float, float]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            kept = self.conn.execute(
                f"SELECT inspection_id, earned, full_points FROM inspection_scores WHERE inspection_id IN ({marks})",
                chunk,
            )
            sums.update({r[0]: (r[1], r[2]) for r in kept})
            missing = [i for i in chunk if i not in sums]
            if missing:
                added = self.conn.execute(
                    f"SELECT i.id, {scores.aggregate(self.dialect.least)} FROM {scores.SCORED_FROM}"
                    f" WHERE i.id IN ({', '.join('?' * len(missing))}) GROUP BY i.id",
                    missing,
                )
                sums.update({r["id"]: (r["earned"], r["full_points"]) for r in added})
        for site_id, (inspection_id, when) in latest.items():
            earned, full = sums.get(inspection_id, (0.0, 0.0))
            yield site_id, when, (round_rate(100.0 * earned / full) if full else None)

    def inspections_between(self, date_from: date, date_to: date) -> list[dict[str, Any]]:
        """Inspections dated in these days with their 点位, for a plan's status."""
        rows = self.conn.execute(
            "SELECT i.id, i.no, i.date, i.status, i.inspectors, i.site_id, s.code, s.name, s.site_type, s.street"
            " FROM inspections i JOIN sites s ON s.id = i.site_id WHERE i.date >= ? AND i.date <= ?"
            " ORDER BY i.date, i.no",
            (date_from.isoformat(), date_to.isoformat()),
        )
        out = []
        for r in rows:
            record = dict(r)
            record["inspectors"] = json.loads(record["inspectors"] or "[]")
            out.append(record)
        return out

    def visits_in_year(self, year: int) -> Iterator[tuple[str, str, int]]:
        """(点位类型, 点位编码, finished inspections this year) for every 点位 of the register."""
        rows = self.conn.execute(
            "SELECT s.site_type, s.code, count(i.id) FROM sites s LEFT JOIN inspections i ON i.site_id = s.id"
            " AND i.status = 'finished' AND i.date >= ? AND i.date <= ? GROUP BY s.site_type, s.code"
            " ORDER BY s.site_type, s.code",
            (f"{year}-01-01", f"{year}-12-31"),
        )
        for site_type, code, count in rows:
            yield site_type, code, int(count)

    # --- writing ---------------------------------------------------------------

    def save_plan(self, plan: dict[str, Any], visits: list[dict[str, Any]], force: bool) -> dict[str, Any] | None:
        """Store a new draw as the week's plan in force; the plan it replaces (kept), if any.

        `visits` name their 点位 by site_id. Refused without `force` when the week has a plan.
        """
        with self.atomic():  # type: ignore[attr-defined]
            earlier = self.plan_in_force(plan["week"])
            if earlier is not None:
                if not force:
                    raise StateError(
                        f"{plan['week']} 已有检查计划（{earlier['drawn_at'][:16].replace('T', ' ')} 抽取，"
                        f"种子 {earlier['seed']}）；要重新抽取请加 --force（原计划保留在历史中）"
                    )
                self.conn.execute(
                    "UPDATE plans SET replaced_at = ? WHERE week = ? AND replaced_at IS NULL",
                    (plan["drawn_at"], plan["week"]),
                )
            self._insert_plan(plan, visits)
        return earlier

    def _insert_plan(self, plan: dict[str, Any], visits: list[dict[str, Any]]) -> None:
        row = {**plan, "inputs": _dump(plan["inputs"]), "pairs": _dump(plan["pairs"])}
        self.conn.execute(
            f"INSERT INTO plans ({', '.join(PLAN_COLUMNS)}) VALUES ({', '.join('?' * len(PLAN_COLUMNS))})",
            tuple(row[c] for c in PLAN_COLUMNS),
        )
        self.conn.executemany(
            "INSERT INTO plan_visits (plan_id, seq, site_id, pair, weight, reason) VALUES (?, ?, ?, ?, ?, ?)",
            [(plan["id"], v["seq"], v["site_id"], v["pair"], v["weight"], v["reason"]) for v in visits],
        )

    def plan_records(self, ending_from: date) -> Iterator[dict[str, Any]]:
        """The plans of the weeks ending on or after `ending_from`, whole, in bundle form (their
        visits name their 点位 by code)."""
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM plans p WHERE p.date_to >= ? ORDER BY p.week, p.drawn_at, p.id",
            (ending_from.isoformat(),),
        )
        for row in rows.fetchall():
            plan = _plan(row)
            plan["visits"] = [
                {"seq": v["seq"], "site": v["code"], "pair": v["pair"], "weight": v["weight"], "reason": v["reason"]}
                for v in sorted(self.plan_visits(plan["id"]), key=lambda v: v["seq"])
            ]
            yield plan

    def merge_plan(self, record: dict[str, Any], site_ids: dict[str, str]) -> str:
        """Merge one plan from a bundle (checked, its 点位 known): new, updated (replaced) or unchanged.

        Inside the caller's transaction.
        """
        local = self.conn.execute("SELECT replaced_at FROM plans WHERE id = ?", (record["id"],)).fetchone()
        replaced = record.get("replaced_at")
        if local is None:
            plan = {c: record.get(c) for c in PLAN_COLUMNS}
            self._insert_plan(plan, [{**v, "site_id": site_ids[v["site"]]} for v in record["visits"]])
            return "new"
        if replaced is not None and (local[0] is None or replaced < local[0]):
            self.conn.execute("UPDATE plans SET replaced_at = ? WHERE id = ?", (replaced, record["id"]))
            return "updated"
        return "unchanged"


def _plan(row: Any) -> dict[str, Any]:
    plan = dict(zip(PLAN_COLUMNS, tuple(row), strict=True))
    plan["inputs"] = json.loads(plan["inputs"])
    plan["pairs"] = json.loads(plan["pairs"])
    return plan


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
