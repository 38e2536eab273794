"""A city's whole year: built once through the bulk write path, then every command timed.

    .venv/bin/python bench/year.py --sites 2000 --weeks 52 --out bench/out/year.sqlite [--photos]
    .venv/bin/python bench/year.py --time bench/out/year.sqlite [--runs 1] [--pg URL]

Building (`--out`): 点位 × weeks, one inspection of 30 items per 点位 per week, ~6% of
answers failing. Each failure becomes what the product makes of it: a new problem (with
its history: found, fixed, closed as time allows), an occurrence of a problem still open
(a `repeat` event), or a new problem marked as a repeat of one closed within 30 days.
Rows go straight into the schema through `Store.insert_rows`, the path `db copy` uses.
The file is kept: a second `--out` with the same figures only prints its counts.
`--photos` gives every problem a photo (a few small distinct JPEGs in the media folder).

Timing (`--time`): each command of issue 13's table in a fresh process, as a person runs it,
with its baseline measured in the same run: `python -c "import typer, rich"` for start-up,
the sqlite3 shell (or psql) running the same aggregate as `score` in plain SQL as its
floor, pandas writing the same problem rows for the Excel exports. Each row shows the
median wall time and the child's peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from excel import add_sites, checklist  # noqa: E402

from inspect_cli import paths  # noqa: E402
from inspect_cli.store import Store, answer_id, editions  # noqa: E402

CLI = [sys.executable, "-m", "inspect_cli"]
FIRST_MONDAY = date(2025, 12, 1)
NOTES = ["地面有烟头、纸屑", "公益广告破损褪色", "店外占道经营", "非机动车乱停放", "垃圾桶满溢"]
REPEAT_WINDOW = 30
PHOTO_COUNT = 8

INSPECTION = ("id", "no", "year", "device", "seq", "site_id", "date", "inspectors", "status", "site_type",
              "checklist_code", "checklist_edition", "edition_id", "created_at", "finished_at", "rev", "dev", "vv",
              "cseq")  # fmt: skip
RESULT = ("id", "inspection_id", "item_id", "result", "count", "note", "recorded_at", "recorded_by", "unit",
          "rev", "dev", "vv", "cseq")  # fmt: skip
PROBLEM = ("id", "no", "year", "device", "seq", "site_id", "inspection_id", "item_id", "item_text", "category",
           "indicator", "description", "count", "severity", "unit", "unit_locked", "found_date", "deadline",
           "deadline_locked", "status", "rework_count", "recheck_count", "repeat_of", "fixed_date", "closed_date",
           "created_at", "updated_at", "prior", "merged_into", "fclock", "rev", "dev", "vv", "cseq")  # fmt: skip
EVENT = ("id", "problem_id", "at", "date", "action", "from_status", "to_status", "actor", "note", "inspection_id",
         "count", "rev", "dev", "vv", "cseq", "ord")  # fmt: skip
PHOTO = ("id", "problem_id", "event_id", "position", "sha256", "stored_name", "original_path", "added_at")


# --- building ------------------------------------------------------------------------------------


class Year:
    """The rows of one year, produced week by week."""

    def __init__(self, store: Store, sites: int, weeks: int, photos: list[tuple[str, str]], seed: int) -> None:
        self.rng = random.Random(seed)
        self.kind = checklist(30)
        with store.atomic():
            add_sites(store, self.kind, sites)
        self.sites = [(s.id, s.unit) for s in store.list_sites()]
        items = [{"item_id": i.id, **{f: getattr(i, f) for f in editions.ITEM_FIELDS[1:]}} for i in self.kind.items]
        with store.atomic() as conn:
            self.edition = editions.ensure(conn, self.kind.code, self.kind.edition, items)
        self.me = store.device().id
        self.end = FIRST_MONDAY + timedelta(weeks=weeks)
        self.weeks = weeks
        self.photos = photos
        self.seq = self.problem_seq = 0
        # (site, item) → (problem id, closed date or None, its next event order)
        self.last: dict[tuple[str, str], list] = {}

    def week(self, week: int) -> dict[str, list[tuple]]:
        rows: dict[str, list[tuple]] = {"inspections": [], "results": [], "problems": [], "problem_events": [],
                                         "problem_photos": []}  # fmt: skip
        monday = FIRST_MONDAY + timedelta(weeks=week)
        for n, (site_id, unit) in enumerate(self.sites):
            day = monday + timedelta(days=n % 5)
            self.seq += 1
            inspection_id = str(uuid.uuid4())
            stamp = f"{day}T10:00:00+08:00"
            rows["inspections"].append(
                (inspection_id, f"JC-{day.year}-{self.seq:06d}", day.year, "", self.seq, site_id, day.isoformat(),
                 '["张三", "李四"]', "finished", self.kind.site_type, self.kind.code, self.kind.edition, self.edition,
                 stamp, stamp, 1, self.me, None, 1)
            )  # fmt: skip
            for item in self.kind.items:
                roll = self.rng.random()
                result = "severe" if roll < 0.01 else "fail" if roll < 0.06 else "na" if roll < 0.07 else "pass"
                note = self.rng.choice(NOTES) if result in ("fail", "severe") else None
                rows["results"].append(
                    (answer_id(inspection_id, item.id), inspection_id, item.id, result, 1, note, stamp, "张三",
                     None, 1, self.me, None, 1)
                )  # fmt: skip
                if note is not None:
                    self._failure(rows, site_id, unit, inspection_id, item, day, result, note, stamp)
        return rows

    def _failure(self, rows, site_id, unit, inspection_id, item, day, result, note, stamp) -> None:  # type: ignore[no-untyped-def]
        earlier = self.last.get((site_id, item.id))
        if earlier and (earlier[1] is None or day < earlier[1]):
            # Still open on this day: an occurrence of the same problem.
            earlier[2] += 1
            rows["problem_events"].append(
                (str(uuid.uuid4()), earlier[0], stamp, day.isoformat(), "repeat", None, None, "张三", note,
                 inspection_id, 1, 1, self.me, None, 1, earlier[2])
            )  # fmt: skip
            return
        repeat_of = earlier[0] if earlier and (day - earlier[1]).days <= REPEAT_WINDOW else None
        self.problem_seq += 1
        problem_id = str(uuid.uuid4())
        deadline = day + timedelta(days=7)
        fixed_day = day + timedelta(days=self.rng.randint(1, 12))
        closed = fixed_day + timedelta(days=self.rng.randint(0, 4))
        status = "closed" if closed < self.end else "fixed" if fixed_day < self.end else "open"
        fixed = fixed_day.isoformat() if status != "open" else None
        rows["problems"].append(
            (problem_id, f"ZG-{day.year}-{self.problem_seq:06d}", day.year, "", self.problem_seq, site_id,
             inspection_id, item.id, item.text, item.category, item.indicator, note, 1, result,
             item.unit or unit, 0, day.isoformat(), deadline.isoformat(), 0, status, 0,
             1 if status == "closed" else 0, repeat_of, fixed, closed.isoformat() if status == "closed" else None,
             stamp, stamp, problem_id, None, None, 1, self.me, None, 1)
        )  # fmt: skip
        life = [("found", None, "open", day)]
        if fixed:
            life.append(("fixed", "open", "fixed", fixed_day))
        if status == "closed":
            life.append(("recheck_pass", "fixed", "closed", closed))
        for order, (action, before, after, when) in enumerate(life, start=1):
            event_id = str(uuid.uuid4())
            rows["problem_events"].append(
                (event_id, problem_id, f"{when}T10:00:00+08:00", when.isoformat(), action, before, after, "张三",
                 None, inspection_id if action == "found" else None, None, 1, self.me, None, 1, order)
            )  # fmt: skip
            if action == "found" and self.photos:
                sha, name = self.photos[self.problem_seq % len(self.photos)]
                rows["problem_photos"].append(
                    (str(uuid.uuid4()), problem_id, event_id, 0, sha, name, "现场.jpg", stamp)
                )  # fmt: skip
        self.last[(site_id, item.id)] = [problem_id, closed if status == "closed" else None, len(life)]


COLUMNS = {"inspections": INSPECTION, "results": RESULT, "problems": PROBLEM,
           "problem_events": EVENT, "problem_photos": PHOTO}  # fmt: skip


def jpegs(media: Path, count: int) -> list[tuple[str, str]]:
    """A few small distinct JPEGs stored as the media folder keeps them (by SHA-256)."""
    import hashlib
    import io

    from PIL import Image, ImageDraw

    out = []
    for n in range(count):
        image = Image.new("RGB", (640, 480), (40 + n * 25, 120, 200 - n * 20))
        ImageDraw.Draw(image).rectangle((60 + n * 30, 80, 300 + n * 20, 360), fill=(230, 200 - n * 10, 60))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        data = buffer.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        name = f"{sha[:2]}/{sha}.jpg"
        (media / sha[:2]).mkdir(parents=True, exist_ok=True)
        (media / name).write_bytes(data)
        out.append((sha, name))
    return out


def build(path: Path, sites: int, weeks: int, photos: bool, seed: int = 11) -> dict[str, int]:
    spec = {"sites": sites, "weeks": weeks, "photos": photos, "seed": seed}
    stamp = path.with_name(path.name + ".json")
    if path.exists() and stamp.exists() and json.loads(stamp.read_text())["spec"] == spec:
        return json.loads(stamp.read_text())["counts"]
    for leftover in (path, stamp, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(paths.media_dir(path), ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with Store(path) as store:
        store.conn.execute("PRAGMA cache_size = -1000000")
        pictures = jpegs(paths.media_dir(path), PHOTO_COUNT) if photos else []
        year = Year(store, sites, weeks, pictures, seed)
        for week in range(weeks):
            rows = year.week(week)
            with store.atomic():
                for table, batch in rows.items():
                    store.insert_rows(table, COLUMNS[table], batch)
            print(f"  week {week + 1}/{weeks}", file=sys.stderr, end="\r")
        store.refresh_scores()
        counts = store.counts()
    seconds = time.perf_counter() - start
    counts["seconds"] = round(seconds)
    counts["bytes"] = path.stat().st_size
    stamp.write_text(json.dumps({"spec": spec, "counts": counts}))
    print(f"built {path} in {seconds:.0f} s", file=sys.stderr)
    return counts


# --- timing --------------------------------------------------------------------------------------


def child(command: list[str], env: dict[str, str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one fresh process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")  # type: ignore[union-attr]
    return seconds, usage.ru_maxrss / 1024


def periods(weeks: int) -> tuple[list[str], list[str], str]:
    last_monday = FIRST_MONDAY + timedelta(weeks=weeks - 1)
    year = ["--from", FIRST_MONDAY.isoformat(), "--to", (last_monday + timedelta(days=6)).isoformat()]
    week = ["--from", last_monday.isoformat(), "--to", (last_monday + timedelta(days=6)).isoformat()]
    return year, week, (last_monday + timedelta(days=7)).isoformat()


SCORE_SQL = """
SELECT s.street, avg(x.earned * 100.0 / x.full), count(*)
FROM (SELECT r.inspection_id,
             sum(CASE WHEN r.result = 'na' THEN 0 ELSE it.score END) AS full,
             sum(CASE r.result WHEN 'pass' THEN it.score
                      WHEN 'fail' THEN it.score - min(it.score, coalesce(it.deduct, it.score) * r.count)
                      ELSE 0 END) AS earned
      FROM results r JOIN inspections i ON i.id = r.inspection_id
      JOIN edition_items it ON it.edition_id = i.edition_id AND it.item_id = r.item_id
      WHERE i.status = 'finished' AND i.date BETWEEN '{start}' AND '{end}'
      GROUP BY r.inspection_id) x
JOIN inspections i ON i.id = x.inspection_id JOIN sites s ON s.id = i.site_id
WHERE x.full > 0 GROUP BY s.street ORDER BY 2 DESC;
"""


def pandas_excel(db: str, args: list[str], out: Path) -> list[str]:
    """A child that writes the period's problem rows with pandas (the query not timed apart)."""
    code = (
        "import sys, pandas as pd\n"
        "from datetime import date\n"
        "from inspect_cli.queries import iter_problems\n"
        "from inspect_cli.store import Store\n"
        f"start, end = date.fromisoformat({args[1]!r}), date.fromisoformat({args[3]!r})\n"
        f"with Store({db!r}) as store:\n"
        "    rows = [dict(no=p.no, code=p.site_code, street=p.street, type=p.site_type, site=p.site_name,\n"
        "                 indicator=p.indicator, item=p.item_text, note=p.description, result=p.severity.label,\n"
        "                 unit=p.unit, deadline=p.deadline, status=p.status_label)\n"
        "            for p in iter_problems(store, date_from=start, date_to=end)]\n"
        f"pd.DataFrame(rows).to_excel({str(out)!r}, index=False, engine='xlsxwriter')\n"
    )
    return [sys.executable, "-c", code]


def jobs(db: str, weeks: int, folder: Path, sqlite_file: Path | None) -> list[tuple[str, list[str], list[str] | None]]:
    """(row, command, baseline command or None) for each row of the table."""
    year, week, _ = periods(weeks)
    floor = None
    if sqlite_file is not None:
        floor_week = ["sqlite3", str(sqlite_file), SCORE_SQL.format(start=week[1], end=week[3])]
        floor_year = ["sqlite3", str(sqlite_file), SCORE_SQL.format(start=year[1], end=year[3])]
    else:
        floor_week = ["psql", db, "-qc", SCORE_SQL.replace("min(", "least(").format(start=week[1], end=week[3])]
        floor_year = ["psql", db, "-qc", SCORE_SQL.replace("min(", "least(").format(start=year[1], end=year[3])]
    floor = floor_year
    typer_rich = [sys.executable, "-c", "import typer, rich"]
    iso = date.fromisoformat(week[1]).isocalendar()
    plan_week = f"{iso[0]}-W{iso[1]:02d}"  # the last week: drawn (again, --force) over its own inspections
    return [
        ("score --by street, whole year", ["score", "--by", "street", *year], floor),
        ("score --by street, last week", ["score", "--by", "street", *week], floor_week),
        ("issue list (first screen)", ["issue", "list"], typer_rich),
        ("issue list --json, all rows", ["issue", "list", "--all", "--json"], None),
        ("issue list --csv, all rows", ["issue", "list", "--all", "--csv"], None),
        ("issue stats --by street", ["issue", "stats", "--by", "street"], None),
        ("export report --week", ["export", "report", *week, "-o", str(folder / "week.xlsx")],
         pandas_excel(db, week, folder / "pandas-week.xlsx")),
        ("export report, whole year", ["export", "report", *year, "-o", str(folder / "year.xlsx")],
         pandas_excel(db, year, folder / "pandas-year.xlsx")),
        ("export rectification", ["export", "rectification", "-o", str(folder / "units")], None),
        ("notice --week", ["notice", *week, "-o", str(folder / "notice.docx")], None),
        ("plan draw --per-type 5 (16 people)", ["plan", "draw", "--week", plan_week, "--per-type", "5", "--inspectors",
         ",".join(f"督查员{n:02d}" for n in range(16)), "--seed", "1", "--force"], None),
        ("plan status (that week)", ["plan", "status", "--week", plan_week], None),
        ("plan coverage --year", ["plan", "coverage", "--year", year[1][:4]], None),
        ("--help", ["--help"], typer_rich),
        ("checklist list", ["checklist", "list"], typer_rich),
    ]  # fmt: skip


def time_all(db: str, weeks: int, runs: int, only: list[str]) -> list[dict]:
    sqlite_file = None if "://" in db else Path(db)
    _, _, today = periods(weeks)
    env = {**os.environ, "INSPECT_CLI_TODAY": today, "COLUMNS": "120"}
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, args, baseline in jobs(db, weeks, folder, sqlite_file):
            if only and not any(o in name for o in only):
                continue
            command = [*CLI, "--db", db, *args]
            mine, base = [], []
            for _ in range(runs):  # alternating, so both see the same machine
                mine.append(child(command, env))
                if baseline:
                    base.append(child(baseline, env))
            row = {"row": name, "seconds": statistics.median(t for t, _ in mine),
                   "rss_mib": max(m for _, m in mine)}  # fmt: skip
            if base:
                row["baseline_seconds"] = statistics.median(t for t, _ in base)
                row["ratio"] = row["seconds"] / row["baseline_seconds"]
            table.append(row)
            ratio = f"  ({row['ratio']:.2f}× baseline {row['baseline_seconds']:.2f} s)" if base else ""
            print(f"{name:34} {row['seconds']:8.2f} s  {row['rss_mib']:7.0f} MiB{ratio}", flush=True)
    if sqlite_file is not None:
        print(f"{'database file':34} {sqlite_file.stat().st_size / 2**30:8.2f} GiB")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="build (or reuse) the year in this SQLite file")
    parser.add_argument("--time", dest="time_db", help="time every command on this database (file or URL)")
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--photos", action="store_true", help="every problem gets a photo")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", action="append", default=[], help="time only rows containing this text")
    args = parser.parse_args()
    if not args.out and not args.time_db:
        parser.error("--out or --time")
    if args.out:
        counts = build(args.out, args.sites, args.weeks, args.photos)
        print(json.dumps(counts, ensure_ascii=False))
    if args.time_db:
        time_all(args.time_db, args.weeks, args.runs, args.only)


if __name__ == "__main__":
    main()
