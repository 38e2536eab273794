"""SQLite and PostgreSQL side by side: a city's year read back, and eight writers at once.

    .venv/bin/python bench/engines.py --pg postgresql://inspect:inspect@localhost:5432/postgres \
        [--sites 2000] [--weeks 52] [--runs 2] [--writers 8] [--records 150]

1. Builds a year (default 2,000 点位 × 52 weeks, one inspection each per week at 30 items,
   ~6% failing, with each failure's problem and its history) straight through the store's
   bulk write path into a SQLite file, cached under bench/out/; copies it onto a new
   PostgreSQL database with `inspect-cli db copy` (timed).
2. Times the same reads on both, as a person runs them (fresh processes, median of
   `--runs`): `score --by street` for the year and for the last week, `issue stats --by
   street` for the last week, `export report --week`.
3. Starts `--writers` processes on an empty database of each engine, each recording
   `--records` answers through the same core function as `record`, released at one moment;
   reports answers per second from the first start to the last finish.

`--pg` names a role that may create databases; the databases this makes are dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from excel import checklist

from inspect_cli.store import Store, answer_id

OUT = Path(__file__).resolve().parent / "out"
CLI = [sys.executable, "-m", "inspect_cli"]
FIRST_MONDAY = date(2025, 12, 1)
NOTES = ["地面有烟头、纸屑", "公益广告破损褪色", "店外占道经营", "非机动车乱停放", "垃圾桶满溢"]


# --- a year, through the bulk write path ------------------------------------------------------


def build_year(path: Path, sites: int, weeks: int, items: int = 30, seed: int = 11) -> None:
    from excel import add_sites

    rng = random.Random(seed)
    kind = checklist(items)
    with Store(path) as store:
        add_sites(store, kind, sites)
        site_rows = [(s.id, s.unit) for s in store.list_sites()]
        me = store.device().id
        inspections, frozen, results, problems, events = [], [], [], [], []
        seq = problem_seq = 0
        for week in range(weeks):
            monday = FIRST_MONDAY + timedelta(weeks=week)
            for n, (site_id, unit) in enumerate(site_rows):
                day = monday + timedelta(days=n % 5)
                seq += 1
                inspection_id = str(uuid.uuid4())
                stamp = f"{day}T10:00:00+08:00"
                inspections.append(
                    (inspection_id, f"JC-{day.year}-{seq:06d}", day.year, "", seq, site_id, day.isoformat(),
                     '["张三", "李四"]', "finished", kind.site_type, kind.code, kind.edition, stamp, stamp, 1, me, None, 1)
                )  # fmt: skip
                for position, item in enumerate(kind.items):
                    frozen.append(
                        (inspection_id, position, item.id, item.text, item.category, item.score, item.deduct,
                         item.unit, item.deadline_days, item.indicator, item.standard, item.tips, 0)
                    )  # fmt: skip
                    roll = rng.random()
                    result = "severe" if roll < 0.01 else "fail" if roll < 0.06 else "na" if roll < 0.07 else "pass"
                    note = rng.choice(NOTES) if result in ("fail", "severe") else None
                    results.append(
                        (answer_id(inspection_id, item.id), inspection_id, item.id, result, 1, note, stamp, "张三",
                         None, 1, me, None, 1)
                    )  # fmt: skip
                    if note is None:
                        continue
                    problem_seq += 1
                    problem_id = str(uuid.uuid4())
                    deadline = day + timedelta(days=7)
                    ended = day + timedelta(days=21) < FIRST_MONDAY + timedelta(weeks=weeks)
                    status = "closed" if ended else rng.choice(["open", "fixed"])
                    fixed = (day + timedelta(days=rng.randint(1, 10))).isoformat() if status != "open" else None
                    problems.append(
                        (problem_id, f"ZG-{day.year}-{problem_seq:06d}", day.year, "", problem_seq, site_id,
                         inspection_id, item.id, item.text, item.category, item.indicator, note, 1, result,
                         item.unit or unit, 0, day.isoformat(), deadline.isoformat(), 0, status, 0,
                         1 if status == "closed" else 0, None, fixed, fixed if status == "closed" else None, stamp,
                         stamp, problem_id, None, None, 1, me, None, 1)
                    )  # fmt: skip
                    life = [("found", None, "open", day.isoformat())]
                    if fixed:
                        life.append(("fixed", "open", "fixed", fixed))
                    if status == "closed":
                        life.append(("closed", "fixed", "closed", fixed))
                    for order, (action, before, after, when) in enumerate(life, start=1):
                        events.append(
                            (str(uuid.uuid4()), problem_id, f"{when}T10:00:00+08:00", when, action, before, after,
                             "张三", None, inspection_id if action == "found" else None, None, 1, me, None, 1, order)
                        )  # fmt: skip
            if len(results) > 200_000 or week == weeks - 1:
                _flush(store, inspections, frozen, results, problems, events)
                inspections, frozen, results, problems, events = [], [], [], [], []
                print(f"  week {week + 1}/{weeks}", file=sys.stderr, end="\r")


INSPECTION = ("id", "no", "year", "device", "seq", "site_id", "date", "inspectors", "status", "site_type",
              "checklist_code", "checklist_edition", "created_at", "finished_at", "rev", "dev", "vv", "cseq")  # fmt: skip
ITEM = ("inspection_id", "seq", "item_id", "text", "category", "score", "deduct", "unit", "deadline_days",
        "indicator", "standard", "tips", "photo_required")  # fmt: skip
RESULT = ("id", "inspection_id", "item_id", "result", "count", "note", "recorded_at", "recorded_by", "unit",
          "rev", "dev", "vv", "cseq")  # fmt: skip
PROBLEM = ("id", "no", "year", "device", "seq", "site_id", "inspection_id", "item_id", "item_text", "category",
           "indicator", "description", "count", "severity", "unit", "unit_locked", "found_date", "deadline",
           "deadline_locked", "status", "rework_count", "recheck_count", "repeat_of", "fixed_date", "closed_date",
           "created_at", "updated_at", "prior", "merged_into", "fclock", "rev", "dev", "vv", "cseq")  # fmt: skip
EVENT = ("id", "problem_id", "at", "date", "action", "from_status", "to_status", "actor", "note", "inspection_id",
         "count", "rev", "dev", "vv", "cseq", "ord")  # fmt: skip


def _flush(store: Store, inspections, frozen, results, problems, events) -> None:  # type: ignore[no-untyped-def]
    with store.atomic():
        store.insert_rows("inspections", INSPECTION, inspections)
        store.insert_rows("inspection_items", ITEM, frozen)
        store.insert_rows("results", RESULT, results)
        store.insert_rows("problems", PROBLEM, problems)
        store.insert_rows("problem_events", EVENT, events)


def year_file(sites: int, weeks: int) -> Path:
    path = OUT / f"year-{sites}x{weeks}.sqlite"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        build_year(partial, sites, weeks)
        partial.rename(path)
        print(f"built {path.name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


# --- PostgreSQL databases for the run ---------------------------------------------------------


class Server:
    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
        self.conn = psycopg.connect(self.admin, autocommit=True)
        self.made: list[str] = []

    def new_database(self) -> str:
        name = f"inspect_bench_{uuid.uuid4().hex[:8]}"
        self.conn.execute(f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return self.admin.rsplit("/", 1)[0] + "/" + name

    def drop(self) -> None:
        for name in self.made:
            self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.conn.close()


# --- reads ------------------------------------------------------------------------------------


def run(db: str, *args: str, today: str) -> float:
    env = {**os.environ, "INSPECT_CLI_TODAY": today, "COLUMNS": "200"}
    start = time.perf_counter()
    subprocess.run([*CLI, "--db", db, *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def reads(databases: dict[str, str], weeks: int, runs: int, folder: Path) -> dict[str, dict[str, float]]:
    last_monday = FIRST_MONDAY + timedelta(weeks=weeks - 1)
    today = (last_monday + timedelta(days=7)).isoformat()
    year = ["--from", FIRST_MONDAY.isoformat(), "--to", (last_monday + timedelta(days=6)).isoformat()]
    week = ["--from", last_monday.isoformat(), "--to", (last_monday + timedelta(days=6)).isoformat()]
    jobs = {
        "score --by street, the year": ["score", "--by", "street", *year],
        "score --by street, last week": ["score", "--by", "street", *week],
        "issue stats --by street, last week": ["issue", "stats", "--by", "street", *week],
        "export report, last week": ["export", "report", *week, "-o", str(folder / "report.xlsx")],
    }
    out: dict[str, dict[str, float]] = {}
    for name, args in jobs.items():
        times: dict[str, list[float]] = {engine: [] for engine in databases}
        for _ in range(runs):
            for engine, db in databases.items():  # alternating, so both see the same machine
                times[engine].append(run(db, *args, today=today))
        out[name] = {engine: statistics.median(t) for engine, t in times.items()}
    return out


# --- writers ----------------------------------------------------------------------------------

WRITER = """
import json, sys, time
from datetime import date
from inspect_cli import inspection as core
from inspect_cli.checklist import load_checklists
from inspect_cli.paths import shipped_checklists_dir
from inspect_cli.store import Store

db, code, records, release = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
checklists = load_checklists([shipped_checklists_dir()])
with Store(db) as store:
    site = store.site_by_code(code)
    while time.time() < release:
        time.sleep(0.001)
    start = time.time()
    done, day = 0, 1
    while done < records:
        inspection = core.open_for_record(store, checklists, site, date(2026, 11, day), ["x"], None)
        for item in store.inspection_items(inspection.id):
            if done == records:
                break
            core.record(store, inspection, item.id, "fail" if done % 5 == 0 else "pass", note="x")
            done += 1
        day += 1
    print(json.dumps([start, time.time()]))
"""


def writers(db: str, count: int, records: int) -> float:
    """Answers per second of `count` processes recording at once into `db` (a new database)."""
    subprocess.run([*CLI, "--db", db, "site", "import", str(_register())], check=True, stdout=subprocess.DEVNULL)
    codes = [line.split(",")[0] for line in _register().read_text(encoding="utf-8-sig").splitlines()[1:]][:count]
    release = time.time() + 3  # every process loaded before any writes
    running = [
        subprocess.Popen([sys.executable, "-c", WRITER, db, code, str(records), str(release)], stdout=subprocess.PIPE)
        for code in codes
    ]
    spans = [json.loads(p.communicate()[0]) for p in running]
    assert all(p.returncode == 0 for p in running)
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return count * records / wall


def _register() -> Path:
    from inspect_cli.paths import sample_city_register

    return sample_city_register()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", required=True, help="a PostgreSQL role that may create databases")
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--records", type=int, default=150)
    parser.add_argument("--skip-reads", action="store_true")
    args = parser.parse_args()
    server = Server(args.pg)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if not args.skip_reads:
                lite = year_file(args.sites, args.weeks)
                with Store(lite) as store:
                    counts = store.counts()
                print(f"year: {json.dumps(counts)}; file {lite.stat().st_size / 2**30:.2f} GiB")
                pg = server.new_database()
                start = time.perf_counter()
                subprocess.run([*CLI, "db", "copy", str(lite), pg], check=True, stdout=subprocess.DEVNULL)
                print(f"db copy SQLite → PostgreSQL: {time.perf_counter() - start:.0f} s")
                figures = reads({"sqlite": str(lite), "postgresql": pg}, args.weeks, args.runs, folder)
                print(f"{'read':40} {'SQLite s':>9} {'PostgreSQL s':>13} {'ratio':>6}")
                for name, seconds in figures.items():
                    ratio = seconds["postgresql"] / seconds["sqlite"]
                    print(f"{name:40} {seconds['sqlite']:9.2f} {seconds['postgresql']:13.2f} {ratio:6.2f}")
            lite_rate = writers(str(folder / "writers.sqlite"), args.writers, args.records)
            pg_rate = writers(server.new_database(), args.writers, args.records)
            print(
                f"{args.writers} writers × {args.records} answers: SQLite {lite_rate:.0f}/s,"
                f" PostgreSQL {pg_rate:.0f}/s ({pg_rate / lite_rate:.2f}×)"
            )
    finally:
        server.drop()


if __name__ == "__main__":
    main()
