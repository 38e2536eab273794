"""Merging a day of many laptops into the office: `sync import` speed and memory.

Builds (once, cached under bench/out/sync-*/) an office with a register of 点位 and N
laptops that each took the office's field bundle and inspected their own 100 点位 in one
week at 30 items, ~10% failing, one photo of ~300 KB per failure (random bytes: import
checks photos by SHA-256, not by decoding them). Each laptop exports its work bundle.

Then, in fresh processes so start-up counts as a user would see it:
- `sync import` of all N bundles into a copy of the office database (one transaction),
- the same bundles imported again (nothing changes),
- peak resident memory of importing N/4 bundles and N bundles, to show it stays flat.

    .venv/bin/python bench/sync.py [--laptops 20] [--inspections 100] [--photo-kb 300]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from excel import add_sites, checklist  # bench/ is on sys.path when run as a script

from inspect_cli import inspection as core
from inspect_cli.models import Photo
from inspect_cli.store import Store
from inspect_cli.sync.exchange import import_bundles
from inspect_cli.sync.export import export_bundle

OUT = Path(__file__).resolve().parent / "out"
MONDAY = date(2026, 11, 16)
CODES = [chr(ord("A") + n) for n in range(26)] + [f"L{n}" for n in range(10, 100)]


def build(root: Path, laptops: int, inspections: int, items: int, photo_kb: int, fail: float) -> list[Path]:
    """The office database and one work bundle per laptop; returns the bundles."""
    rng = random.Random(11)
    kind = checklist(items)
    notes = ["地面有烟头、纸屑", "公益广告破损褪色", "店外占道经营", "非机动车乱停放", "垃圾桶满溢"]
    root.mkdir(parents=True, exist_ok=True)
    office_path = root / "office.sqlite"
    with Store(office_path) as office:
        office.set_device_code("Z")
        add_sites(office, kind, laptops * inspections)
        field = root / "field.zip"
        export_bundle(office, field, root / "office-media", field_bundle=True)
        for code in CODES[:laptops]:
            office.enroll_device(code, "00" * 32)
    bundles = []
    for index, code in enumerate(CODES[:laptops]):
        path = root / f"laptop-{code}.sqlite"
        media = root / f"laptop-{code}-media"
        with Store(path) as store:
            import_bundles(store, [field], media)
            store.set_device_code(code)
            for n in range(inspections):
                site = store.site_by_code(f"ZH-{index * inspections + n + 1:04d}")
                with store.atomic():
                    done = store.create_inspection(site, MONDAY + timedelta(days=n % 5), ["张三", "李四"], kind)
                    for item in kind.items:
                        failed = rng.random() < fail
                        core.record(
                            store,
                            done,
                            item.id,
                            "fail" if failed else "pass",
                            note=rng.choice(notes) if failed else None,
                        )
                    store.finish_inspection(done.id)
            with store.atomic():
                for problem in store.list_problems():
                    data = os.urandom(photo_kb * 1024)
                    sha = hashlib.sha256(data).hexdigest()
                    name = f"{sha[:2]}/{sha}.jpg"
                    (media / sha[:2]).mkdir(parents=True, exist_ok=True)
                    (media / name).write_bytes(data)
                    event = store.first_event_id(problem.id, "found")
                    store.set_event_photos(problem.id, event, [Photo(sha, name, "bench.jpg")])
            bundle = root / f"work-{code}.zip"
            export_bundle(store, bundle, media)
            bundles.append(bundle)
        print(f"  laptop {code} ready", file=sys.stderr)
    return bundles


def run_import(office: Path, bundles: list[Path]) -> tuple[float, float, str]:
    """Seconds and peak MiB of `inspect-cli sync import` in a fresh process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "took = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(took, peak, done.returncode, done.stdout.strip().replace('\\n', ' ') + done.stderr.strip())\n"
    )
    cli = Path(sys.executable).parent / "inspect-cli"
    argv = [sys.executable, "-c", code, str(cli), "--db", str(office), "sync", "import", *map(str, bundles)]
    line = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split(" ", 3)
    if line[2] != "0":
        raise SystemExit(f"import failed: {line[3]}")
    return float(line[0]), float(line[1]), line[3].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--laptops", type=int, default=20)
    parser.add_argument("--inspections", type=int, default=100)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--photo-kb", type=int, default=300)
    args = parser.parse_args()
    root = OUT / f"sync-{args.laptops}x{args.inspections}x{args.items}-{args.photo_kb}k"
    bundles = sorted(root.glob("work-*.zip"))
    if len(bundles) != args.laptops:
        shutil.rmtree(root, ignore_errors=True)
        start = time.perf_counter()
        bundles = build(root, args.laptops, args.inspections, args.items, args.photo_kb, fail=0.1)
        print(f"built {len(bundles)} bundles in {time.perf_counter() - start:.0f}s", file=sys.stderr)
    size = sum(b.stat().st_size for b in bundles) / 2**20
    print(f"{len(bundles)} bundles, {size:.0f} MiB in all")

    work = root / "run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    office = work / "office.sqlite"
    shutil.copy(root / "office.sqlite", office)
    took, peak, said = run_import(office, bundles)
    print(f"import all {len(bundles)}: {took:.2f} s, peak {peak:.0f} MiB")
    print(f"  {said}")
    again, peak_again, said = run_import(office, bundles)
    print(f"re-import all {len(bundles)} unchanged: {again:.2f} s, peak {peak_again:.0f} MiB")

    quarter = bundles[: max(1, len(bundles) // 4)]
    small = work / "office-quarter.sqlite"
    shutil.copy(root / "office.sqlite", small)
    _took, peak_quarter, _said = run_import(small, quarter)
    print(f"peak memory: {len(quarter)} bundles {peak_quarter:.0f} MiB, {len(bundles)} bundles {peak:.0f} MiB")


if __name__ == "__main__":
    main()
