"""Excel export speed and memory against pandas `DataFrame.to_excel`.

Builds a synthetic city (default 2,000 点位, one week, one inspection each at 30 items,
~10% failing; cached under bench/out/), then times, in one run so the ratios are fair:

- `export report` (all eight sheets, the 问题清单 with every problem row),
- `export rectification` (one workbook per unit),
- the same problem rows written with pandas `DataFrame.to_excel`, with each engine.

`--memory` runs the report export in fresh processes for growing cities and prints the
peak resident memory of each, to show it stays flat as rows grow.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/excel.py [--sites 2000] [--runs 3] [--memory]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from inspect_cli import inspection as core
from inspect_cli.checklist import Checklist, Item
from inspect_cli.config import OfficeSettings
from inspect_cli.excel.report import export_report
from inspect_cli.excel.unit_sheet import export_unit_sheets
from inspect_cli.models import Site
from inspect_cli.queries import problems
from inspect_cli.store import Store

OUT = Path(__file__).resolve().parent / "out"
MONDAY = date(2026, 11, 16)
PERIOD = (MONDAY, MONDAY + timedelta(days=6))
UNITS = [
    "城市管理局",
    "市场监管局",
    "住房和城乡建设局",
    "交通运输局",
    "园林绿化局",
    "文明办",
    "公交集团",
    "卫生健康委员会",
]
STREETS = ["东城街道", "西湖街道", "南山街道", "北关街道", "新华街道", "和平街道", "建设街道", "文化街道"]


def checklist(items: int) -> Checklist:
    categories = ["公益广告", "环境卫生", "市容秩序", "服务设施", "文明行为"]
    return Checklist(
        "综合点位",
        "ZH",
        "bench",
        tuple(
            Item(
                f"i-{n:02d}",
                f"第{n}项测评标准：设施完好、环境整洁、无不文明行为，公益广告不少于{n % 5 + 1}处",
                categories[n % len(categories)],
                score=100 / items,
                deduct=1,
                unit=UNITS[n % len(UNITS)] if n % 3 else None,
                deadline_days=n % 6,
                indicator="测评指标",
            )
            for n in range(items)
        ),
    )


def add_sites(store: Store, kind: Checklist, count: int) -> None:
    """`count` 点位 of the one synthetic type, ZH-0001…, spread over streets and units."""
    for n in range(count):
        store.save_site(
            Site(
                f"ZH-{n + 1:04d}",
                f"综合点位{n + 1}号",
                kind.site_type,
                kind.code,
                street=STREETS[n % len(STREETS)],
                unit=UNITS[n % len(UNITS)],
                partner=f"包抓单位{n % 12 + 1}",
                address=f"示范市文明区幸福路{n + 1}号",
            ),
            "",
            "",
        )


def build(path: Path, sites: int, items: int, fail: float, seed: int = 7) -> None:
    rng = random.Random(seed)
    kind = checklist(items)
    notes = ["地面有烟头、纸屑", "公益广告破损褪色", "店外占道经营", "非机动车乱停放", "垃圾桶满溢"]
    with Store(path) as store:
        add_sites(store, kind, sites)
        for n in range(sites):
            site = store.site_by_code(f"ZH-{n + 1:04d}")
            day = MONDAY + timedelta(days=n % 5)
            with store.atomic():
                inspection = store.create_inspection(site, day, ["张三", "李四"], kind)
                for item in kind.items:
                    failed = rng.random() < fail
                    core.record(
                        store,
                        inspection,
                        item.id,
                        "fail" if failed else "pass",
                        note=rng.choice(notes) if failed else None,
                        count=rng.randint(1, 3) if failed else 1,
                    )
                store.finish_inspection(inspection.id)


def city(sites: int, items: int, fail: float) -> Path:
    path = OUT / f"city-{sites}x{items}.sqlite"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        build(path, sites, items, fail)
        print(f"built {path.name} in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    return path


def problem_frame(store: Store):  # type: ignore[no-untyped-def]
    """The 问题清单 rows as a data analyst would put them in a DataFrame."""
    import pandas as pd

    today = date(2026, 11, 30)
    rows = [
        {
            "序号": index,
            "问题编号": p.no,
            "点位编码": p.site_code,
            "街道": p.street,
            "点位类型": p.site_type,
            "点位名称": p.site_name,
            "指标": p.indicator,
            "检查项": p.item_text,
            "问题描述": p.description,
            "结果": p.severity.label,
            "责任单位": p.unit,
            "整改时限": p.deadline,
            "状态": p.status_label,
            "逾期天数": p.overdue_days(today) or None,
        }
        for index, p in enumerate(problems(store, date_from=PERIOD[0], date_to=PERIOD[1]), start=1)
    ]
    return pd.DataFrame(rows)


def timed(job, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed(path: Path, runs: int) -> None:
    with Store(path) as store, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        frame_start = time.perf_counter()
        frame = problem_frame(store)
        frame_seconds = time.perf_counter() - frame_start
        rows = len(frame)
        results = {
            "export report (8 sheets)": timed(
                lambda: export_report(store, *PERIOD, folder / "report.xlsx", folder / "media"), runs
            ),
            "export rectification (per unit)": timed(
                lambda: export_unit_sheets(store, folder / "units", OfficeSettings(), folder / "media"), runs
            ),
            "pandas to_excel, xlsxwriter": timed(
                lambda: frame.to_excel(folder / "pd1.xlsx", index=False, engine="xlsxwriter"), runs
            ),
            "pandas to_excel, openpyxl": timed(
                lambda: frame.to_excel(folder / "pd2.xlsx", index=False, engine="openpyxl"), runs
            ),
        }
    base = results["pandas to_excel, xlsxwriter"]
    print(f"{rows} problem rows; building the DataFrame took {frame_seconds:.2f}s (not counted)")
    print(f"{'job':36} {'median s':>9} {'÷ pandas/xlsxwriter':>20}")
    for name, seconds in results.items():
        print(f"{name:36} {seconds:9.2f} {seconds / base:20.2f}")


MEMORY_CHILD = """
import resource, sys, tempfile, tracemalloc
from pathlib import Path
from inspect_cli.excel.report import export_report
from inspect_cli.store import Store
sys.path.insert(0, {bench!r})
from excel import PERIOD
with Store({db!r}) as store, tempfile.TemporaryDirectory() as tmp:
    tracemalloc.start()
    export_report(store, *PERIOD, Path(tmp) / "r.xlsx", Path(tmp) / "media")
    _, peak = tracemalloc.get_traced_memory()
print(peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def memory(sizes: list[int], items: int, fail: float) -> None:
    """Peak Python memory allocated during the export (tracemalloc), and the process's peak RSS."""
    print(f"{'sites':>6} {'problem rows':>13} {'export peak MiB':>16} {'process RSS MiB':>16}")
    for sites in sizes:
        path = city(sites, items, fail)
        with Store(path) as store:
            rows = len(problems(store))
        code = MEMORY_CHILD.format(bench=str(Path(__file__).parent), db=str(path))
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        peak, rss = map(int, run.stdout.split())
        print(f"{sites:6} {rows:13} {peak / 2**20:16.1f} {rss / 1024:16.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--fail", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="peak memory for growing cities instead of speed")
    args = parser.parse_args()
    if args.memory:
        memory([args.sites // 4, args.sites // 2, args.sites, args.sites * 2], args.items, args.fail)
    else:
        speed(city(args.sites, args.items, args.fail), args.runs)


if __name__ == "__main__":
    main()
