"""Merging converges: replicas that exchanged everything hold the same data, whatever happened.

Three replicas (an office and two laptops) take random user operations and random bundle
exchanges (incremental or whole, repeated, reordered, stale); after a final full exchange
every replica's canonical state (every record by its key, with its version, and every
tombstone) is the same, and the outputs built from it agree.
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_cli import inspection, rectification, sites, units
from inspect_cli.errors import InspectError
from inspect_cli.models import ProblemStatus
from inspect_cli.queries import GroupBy, ranking
from inspect_cli.store import Store
from inspect_cli.sync.exchange import TABLES, export_bundle, import_bundles
from tests.conftest import DATA, Cli

NAMES = ("office", "A", "B")
SITES = ("NMSC-001", "GJZD-001", "JMXQ-001")
ITEMS = (0, 1, 2)
DAYS = (date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18))
UNITS = ("城市管理局", "市场监管局")
UNIT_NAMES = ("市场监管局", "市市场监督管理局", "市场监督管理局")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The office (Z) with the test register, laptops A and B holding its field bundles."""
    root = tmp_path_factory.mktemp("team")
    office = Cli(root / "office.sqlite")
    office.ok("site", "import", DATA / "sites.csv")
    office.ok("device", "set", "Z")
    for code in ("A", "B"):
        office.ok("device", "enroll", code)
        office.ok("sync", "export", "--field", "--for", code, "-o", root / f"field-{code}.zip")
        Cli(root / f"{code}.sqlite").ok("sync", "import", root / f"field-{code}.zip")
    for cli_code in NAMES:  # later devices are enrolled everywhere, so any replica accepts any bundle
        with Store(root / f"{cli_code}.sqlite") as store:
            for other in ("A", "B", "Z"):
                if other != store.device().code and store.enrolled_device(other) is None:
                    store.enroll_device(other, "00" * 32)
    return root


class Team:
    def __init__(self, template: Path, root: Path, checklists) -> None:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        for name in NAMES:
            shutil.copy(template / f"{name}.sqlite", root / f"{name}.sqlite")
        self.root = root
        self.checklists = checklists
        self.stores = {name: Store(root / f"{name}.sqlite") for name in NAMES}
        self.saved: list[Path] = []
        self.serial = itertools.count()

    def media(self, name: str) -> Path:
        return self.root / f"{name}-media"

    def close(self) -> None:
        for store in self.stores.values():
            store.close()

    def export(self, src: str, dst: str, everything: bool) -> Path:
        """A bundle from `src` meant for `dst` (the office signs what it sends a laptop with its key)."""
        path = self.root / f"b{next(self.serial)}-{src}.zip"
        mine = dst if src == "office" and dst != "office" else None
        export_bundle(self.stores[src], path, self.media(src), everything=everything, for_device=mine)
        self.saved.append(path)
        return path

    def send(self, src: str, dst: str, everything: bool) -> None:
        if src != dst:
            import_bundles(self.stores[dst], [self.export(src, dst, everything)], self.media(dst))

    def field(self, laptop: str) -> None:
        path = self.root / f"f{next(self.serial)}.zip"
        export_bundle(self.stores["office"], path, self.media("office"), field_bundle=True, for_device=laptop)
        import_bundles(self.stores[laptop], [path], self.media(laptop))

    def apply(self, op: tuple) -> None:
        kind, name, *args = op
        store = self.stores[name]
        try:
            if kind == "record":
                site_index, item_index, result, day_index = args
                site = store.site_by_code(SITES[site_index])
                checklist = self.checklists.get(site.site_type)
                item = checklist.items[ITEMS[item_index]]
                inspection.record_at_site(
                    store, self.checklists, site, item.id, result, day=DAYS[day_index], inspectors=["张三"],
                    note="问题" if result == "fail" else None,
                )  # fmt: skip
            elif kind == "finish":
                open_ones = store.list_inspections(status="open")
                if open_ones:
                    current = open_ones[args[0] % len(open_ones)]
                    for item in inspection.detail(store, current).unanswered:
                        inspection.record(store, current, item.id, "pass")
                    inspection.finish(store, current.no)
            elif kind == "site":
                # The register imported again with one 点位 changed (its address).
                header, *rows = (DATA / "sites.csv").read_text(encoding="utf-8").splitlines()
                row = next(r for r in rows if r.startswith(SITES[args[0]] + ","))
                cells = row.split(",")
                cells[7] = f"新地址{args[1]}号"
                register = self.root / f"site-{next(self.serial)}.csv"
                register.write_text(header + "\n" + ",".join(cells) + "\n", encoding="utf-8")
                sites.import_register(store, self.checklists, register)
            elif kind == "rename":
                # The 责任单位 of NMSC-001 renamed: to a new name, or back to one it had.
                current = store.site_by_code(SITES[0]).unit
                if current:
                    units.rename_unit(store, current, UNIT_NAMES[args[0]])
            elif kind == "delete":
                found = store.list_inspections()
                if found:
                    inspection.delete(store, found[args[0] % len(found)].no)
            elif kind == "send":
                self.send(name, args[0], args[1])
            elif kind == "stale":
                if self.saved:
                    import_bundles(store, [self.saved[args[0] % len(self.saved)]], self.media(name))
            elif kind == "field":
                if name != "office":
                    self.field(name)
            else:
                problems = store.list_problems()
                if not problems:
                    return
                problem = problems[args[0] % len(problems)]
                if kind == "fixed":
                    rectification.report_fixed(store, problem.no, "已整改", day=date(2026, 11, 20))
                elif kind == "recheck":
                    rectification.recheck(store, problem.no, args[1], day=date(2026, 11, 21), force=True, reason="抽查")
                elif kind == "assign":
                    rectification.assign(store, problem.no, args[1], allow_new=True)
                elif kind == "defer":
                    rectification.defer(store, problem.no, date(2027, 3, 1), "需要施工")
                elif kind == "dismiss":
                    rectification.dismiss(store, problem.no, "不属实")
        except InspectError:
            pass  # refused as a user would be told; nothing changed

    def exchange_all(self) -> None:
        """Everyone sends everything to everyone, twice, in different orders."""
        bundles = {(src, dst): self.export(src, dst, True) for src in NAMES for dst in NAMES if src != dst}
        for index, name in enumerate(NAMES):
            order = [n for n in NAMES[index:] + NAMES[:index] if n != name]
            import_bundles(self.stores[name], [bundles[n, name] for n in order], self.media(name))
            import_bundles(self.stores[name], [bundles[n, name] for n in reversed(order)], self.media(name))


def canonical(store: Store) -> dict:
    """Every replicated record by its key, with its version, and every tombstone."""
    state: dict = {}
    for table in TABLES:
        rows = list(store.changed_rows(table, -1))
        key = "code" if table == "sites" else "name" if table == "units" else "id"
        state[table] = sorted((str(r[key]), repr(sorted(r.items()))) for r in rows)
    state["tombstones"] = sorted(repr(sorted(t.items())) for t in store.tombstones_since(-1))
    state["merged"] = sorted(tuple(r) for r in store.conn.execute("SELECT id, coalesce(merged_into, '') FROM problems"))
    return state


replica = st.sampled_from(NAMES)
index = st.integers(0, 7)
operation = st.one_of(
    st.tuples(
        st.just("record"), replica, st.integers(0, 2), st.integers(0, 2), st.sampled_from(["pass", "fail"]),
        st.integers(0, 2),
    ),
    st.tuples(st.just("delete"), replica, index),
    st.tuples(st.just("finish"), replica, index),
    st.tuples(st.just("site"), replica, st.integers(0, 2), st.integers(0, 3)),
    st.tuples(st.just("rename"), replica, st.integers(0, 2)),
    st.tuples(st.just("fixed"), replica, index),
    st.tuples(st.just("recheck"), replica, index, st.booleans()),
    st.tuples(st.just("assign"), replica, index, st.sampled_from(UNITS)),
    st.tuples(st.just("defer"), replica, index),
    st.tuples(st.just("dismiss"), replica, index),
    st.tuples(st.just("send"), replica, replica, st.booleans()),
    st.tuples(st.just("stale"), replica, index),
    st.tuples(st.just("field"), replica),
)  # fmt: skip


# SYNC_EXAMPLES=500 for a long search before a release; CI runs the default.
@settings(
    max_examples=int(os.environ.get("SYNC_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(operation, min_size=1, max_size=14))
def test_replicas_that_exchanged_everything_are_identical(ops, template, tmp_path, checklists):
    """Slow (10-20 s): 25 random stories of work and bundle exchanges among three replicas."""
    team = Team(template, tmp_path / "run", checklists)
    try:
        for op in ops:
            team.apply(op)
        team.exchange_all()
        states = {name: canonical(store) for name, store in team.stores.items()}
        for name in ("A", "B"):
            assert states[name] == states["office"], _difference(states[name], states["office"])
        # Importing everything again changes nothing.
        team.exchange_all()
        assert canonical(team.stores["office"]) == states["office"]
        # What the outputs are built from agrees too.
        period = (date(2026, 11, 16), date(2026, 11, 22))
        figures = {
            name: (
                [(r.name, r.mean_rate, r.inspections) for r in ranking(store, GroupBy.street, *period)],
                sorted((p.no, p.status.value, p.unit) for p in store.list_problems()),
            )
            for name, store in team.stores.items()
        }
        assert figures["A"] == figures["office"] == figures["B"]
        # No problem counted twice: one open problem at most per 点位 and item.
        for store in team.stores.values():
            active = [
                (p.site_code, p.item_id)
                for p in store.list_problems(statuses=[ProblemStatus.OPEN, ProblemStatus.FIXED])
            ]
            assert len(active) == len(set(active))
    finally:
        team.close()


def _difference(a: dict, b: dict) -> str:
    lines = []
    for part in a:
        left, right = set(map(repr, a[part])), set(map(repr, b[part]))
        lines += [f"{part} only here: {x}" for x in sorted(left - right)[:3]]
        lines += [f"{part} only at office: {x}" for x in sorted(right - left)[:3]]
    return "\n".join(lines)


# --- merged work equals the same work done in one database --------------------------------------

# Laptop A works at the first two 点位, laptop B at the third: no record is touched on two sides.
OWN_SITES = {"A": (0, 1), "B": (2,)}
solo_op = st.one_of(
    st.tuples(
        st.just("record"), st.sampled_from(["A", "B"]), st.integers(0, 1), st.integers(0, 2),
        st.sampled_from(["pass", "fail"]), st.integers(0, 2),
    ),
    st.tuples(st.just("fixed"), st.sampled_from(["A", "B"]), st.integers(0, 1), st.integers(0, 2)),
    st.tuples(st.just("recheck"), st.sampled_from(["A", "B"]), st.integers(0, 1), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("finish"), st.sampled_from(["A", "B"]), st.integers(0, 1)),
    st.tuples(st.just("send"), st.sampled_from(["A", "B"])),
    st.tuples(st.just("field"), st.sampled_from(["A", "B"])),
)  # fmt: skip


def _do(store: Store, checklists, op: tuple) -> None:
    kind, who, site_pick, *args = op
    sites = OWN_SITES[who]
    site = store.site_by_code(SITES[sites[site_pick % len(sites)]])
    try:
        if kind == "record":
            item_index, result, day_index = args
            item = checklists.get(site.site_type).items[ITEMS[item_index]]
            inspection.record_at_site(
                store, checklists, site, item.id, result, day=DAYS[day_index], inspectors=["张三"],
                note="问题" if result == "fail" else None,
            )  # fmt: skip
        elif kind == "finish":
            for current in store.open_inspections(site.id):
                for item in inspection.detail(store, current).unanswered:
                    inspection.record(store, current, item.id, "pass")
                inspection.finish(store, current.no)
        else:
            item = checklists.get(site.site_type).items[ITEMS[args[0]]]
            problem = store.active_problem(site.id, item.id)
            if problem is None:
                return
            if kind == "fixed":
                rectification.report_fixed(store, problem.no, "已整改", day=date(2026, 11, 20))
            else:
                rectification.recheck(store, problem.no, args[1], day=date(2026, 11, 21), force=True, reason="抽查")
    except InspectError:
        pass


def _projection(store: Store) -> tuple:
    """What a user sees, without the ids and numbers that differ between databases."""
    answers = sorted(
        (i.site_code, i.date.isoformat(), i.status, item, r.result.value, r.count)
        for i in store.list_inspections()
        for item, r in store.results(i.id).items()
    )
    found = sorted(
        (p.site_code, p.item_id, p.status.value, p.unit or "", p.deadline.isoformat(), p.occurrences, p.rework_count)
        for p in store.list_problems()
    )
    return answers, found


@settings(max_examples=int(os.environ.get("SYNC_EXAMPLES", "15")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(ops=st.lists(solo_op, min_size=1, max_size=14))
def test_merged_work_equals_the_same_work_in_one_database(ops, template, tmp_path, checklists):
    """Slow (about 4 s): 15 random stories, merged and replayed in one database."""
    team = Team(template, tmp_path / "run", checklists)
    solo_path = tmp_path / "run" / "solo.sqlite"
    shutil.copy(template / "office.sqlite", solo_path)
    try:
        with Store(solo_path) as solo:
            for op in ops:
                if op[0] == "send":
                    team.send(op[1], "office", everything=False)
                    continue
                if op[0] == "field":
                    team.field(op[1])
                    continue
                _do(team.stores[op[1]], checklists, op)
                _do(solo, checklists, op)
            # Incremental bundles alone bring the office everything the laptops did.
            for laptop in ("A", "B"):
                team.send(laptop, "office", everything=False)
            assert _projection(team.stores["office"]) == _projection(solo)
    finally:
        team.close()
