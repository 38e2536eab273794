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
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from year import FIRST_MONDAY, build

from inspect_cli.store import Store

OUT = Path(__file__).resolve().parent / "out"
CLI = [sys.executable, "-m", "inspect_cli"]


def year_file(sites: int, weeks: int) -> Path:
    """The year of `bench/year.py`, built once and kept under bench/out/."""
    path = OUT / f"year13-{sites}x{weeks}.sqlite"
    build(path, sites, weeks, photos=False)
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
