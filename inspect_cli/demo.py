"""A sample city for trying the tool: the shipped register plus a month of inspections.

Four weeks, each with its 双随机 plan: in the first two the pairs visit the 点位 their plan
draws (two of each type, a few missed, a few visits outside the plan); the last week and
this one are full rounds, every 点位 once, the planned ones by their pair. Next week's plan
is drawn too. Units fix most problems and inspectors re-check them, so that there is
something overdue, reworked and closed in every month. The demo also writes its 考核规则
(an edited copy of the shipped rules) beside a database file.

Results are drawn from seeded random generators, so the same date gives the same city.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from inspect_cli import inspection as core
from inspect_cli import rectification as loop
from inspect_cli.checklist import ChecklistSet, Item
from inspect_cli.errors import StateError
from inspect_cli.models import Result, Site
from inspect_cli.paths import sample_city_register
from inspect_cli.plans import load_plan, make_plan
from inspect_cli.sites import import_register
from inspect_cli.store import Store

INSPECTORS = [("张伟", "李娜"), ("王芳", "刘洋"), ("陈静", "杨帆"), ("赵磊", "黄丽")]
# What inspectors write, by category: each note with the words an item's text must hold for
# the note to fit it ("犬只未牵绳" is no finding for an item about smoking). An item no note
# fits gets "未达到要求：" and the first clause of its own text.
NOTES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "公益广告": [("公益广告数量不足", ("不少于", "数量")), ("公益广告破损褪色", ("破损", "褪色", "完整")),
                 ("公益广告被遮挡", ("遮挡", "醒目"))],
    "环境卫生": [("地面有垃圾、烟头", ("垃圾", "整洁", "保洁", "烟蒂")), ("垃圾桶满溢未及时清运", ("垃圾桶", "清运", "满溢")),
                 ("排水沟堵塞有积水", ("排水", "积水", "沟")), ("有明显异味", ("异味",))],
    "市容秩序": [("店外占道经营", ("占道", "出店")), ("非机动车乱停放", ("非机动车", "停放")),
                 ("有乱贴乱画小广告", ("乱贴", "小广告", "涂"))],
    "服务设施": [("设施破损未维修", ("设施", "完好")), ("公示信息未更新", ("公示", "公开")),
                 ("便民设施缺失", ("便民", "设置"))],
    "文明行为": [("有人随地吐痰", ("吐痰",)), ("有人乱扔垃圾", ("乱扔", "垃圾")), ("犬只未牵绳", ("犬", "宠物")),
                 ("有人在禁烟区域吸烟", ("吸烟",)), ("地面有烟蒂", ("烟蒂",))],
    "消防安全": [("消防通道堆放杂物", ("通道", "堆放")), ("灭火器过期", ("灭火器", "消防器材")),
                 ("楼道飞线充电", ("充电", "飞线"))],
    "交通秩序": [("机动车未礼让行人", ("礼让",)), ("车辆违停", ("停车", "违停", "停放")), ("行人闯红灯", ("红灯", "闯"))],
    "食品安全": [("熟食无防蝇设施", ("防蝇", "熟食")), ("农残检测结果未公示", ("农残", "检测"))],
    "未成年人保护": [("未成年人禁入标志缺失", ("标志", "禁止")), ("周边有流动摊贩", ("摊贩", "食品"))],
    "建设管理": [("围挡破损", ("围挡",)), ("渣土未覆盖", ("渣土", "覆盖", "扬尘")), ("出入口未冲洗", ("冲洗", "出入口"))],
}  # fmt: skip


PER_TYPE = 2  # 点位 of each type a week's plan draws
MISS_SHARE = 0.08  # the share of planned visits of the planned weeks nobody made (漏检)
UNPLANNED = 2  # visits outside the plan in each planned week (a complaint, a follow-up)


@dataclass
class DemoReport:
    sites: int
    inspections: int
    weeks: list[tuple[date, date]]
    problems: int = 0
    plans: list[str] = field(default_factory=list)  # the weeks drawn, the next week's last


def week_of(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def sample_photos(folder: Path, rng: random.Random, count: int = 8, clutter: int = 6) -> list[Path]:
    """Stand-in 现场照片: coloured scenes, so reports and notices show real thumbnails.

    With `clutter=0` the road is clear: the 整改后 photos a unit sends back.
    """
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    name = "现场照片" if clutter else "整改后照片"
    for n in range(count):
        image = Image.new("RGB", (640, 480), (rng.randint(150, 230), rng.randint(150, 230), rng.randint(150, 230)))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 300, 640, 480), fill=(120, 120, 120))  # the road
        for _ in range(clutter):
            x, y = rng.randint(20, 560), rng.randint(200, 400)
            colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
            draw.ellipse((x, y, x + rng.randint(30, 80), y + rng.randint(20, 60)), fill=colour)
        path = folder / f"{name}{n + 1:02d}.jpg"
        image.save(path, "JPEG", quality=85)
        paths.append(path)
    return paths


def build_sample_city(
    store: Store,
    checklists: ChecklistSet,
    today: date,
    media_dir: Path,
    seed: int = 2026,
    register: Path | None = None,
) -> DemoReport:
    if store.count_sites():
        raise StateError("数据库中已有点位；示例城市只能建在空数据库里（请用 --db 指定一个新文件）")
    report = import_register(store, checklists, register or sample_city_register())
    sites = [c.site for c in report.changes]
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        photos = sample_photos(Path(folder), rng)
        # Their own generator: the 整改后 photos leave every other figure of the demo as it was.
        after = sample_photos(Path(folder), random.Random(seed + 1), count=4, clutter=0)
        # The planned weeks too: the full rounds draw from `rng` as they did before them.
        early = _planned_weeks(store, checklists, today, media_dir, rng, random.Random(seed + 2), photos, after)
        report = _inspect(store, checklists, today, media_dir, sites, rng, photos, after)
    report.weeks[:0] = early.weeks
    report.inspections += early.inspections
    report.plans[:0] = early.plans
    monday, _ = week_of(today)
    report.plans.append(_draw_plan(store, monday + timedelta(days=7)))
    return report


def _week_name(monday: date) -> str:
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


def _draw_plan(store: Store, monday: date) -> str:
    """The week's 双随机 plan, every inspector in it, drawn with a seed of the week's name."""
    week = _week_name(monday)
    make_plan(store, week, PER_TYPE, [name for pair in INSPECTORS for name in pair], seed=f"demo-{week}")
    return week


def _planned_weeks(
    store: Store,
    checklists: ChecklistSet,
    today: date,
    media_dir: Path,
    results: random.Random,
    rng: random.Random,
    photos: list[Path],
    after: list[Path],
) -> DemoReport:
    """The two weeks before the full rounds: each pair visits the 点位 its plan draws.

    `results` is the generator the answers come from (`rng` decides who, where and when)."""
    this_monday, _ = week_of(today)
    report = DemoReport(0, 0, [])
    for back in (3, 2):
        monday = this_monday - timedelta(days=7 * back)
        report.plans.append(_draw_plan(store, monday))
        plan = load_plan(store, report.plans[-1])
        workdays = [monday + timedelta(days=n) for n in range(5)]
        visits = [(v.code, plan.pairs[v.pair - 1]) for v in plan.visits if rng.random() >= MISS_SHARE]
        planned = {v.code for v in plan.visits}
        outside = sorted(s.code for s in store.list_sites() if s.code not in planned)
        visits += [(code, list(rng.choice(INSPECTORS))) for code in rng.sample(outside, UNPLANNED)]
        for code, pair in visits:
            site = store.site_by_code(code)
            assert site is not None
            _visit(store, checklists, site, rng.choice(workdays), pair, media_dir, results, 1.0, photos)
            report.inspections += 1
        report.weeks.append((monday, monday + timedelta(days=6)))
    # The units and inspectors at work on these weeks' problems until the full rounds begin:
    # what is left open is found again in them, and some of it is overdue by now.
    first, (_, last) = report.weeks[0][0], report.weeks[-1]
    _work_on_problems(store, rng, last, media_dir, after, found_from=first)
    return report


def _visit(
    store: Store,
    checklists: ChecklistSet,
    site: Site,
    day: date,
    pair: list[str],
    media_dir: Path,
    rng: random.Random,
    bias: float,
    photos: list[Path],
) -> None:
    """One finished inspection, every item answered as `_draw` decides."""
    with store.atomic():
        detail, _ = core.start(store, checklists, site, day, pair)
        for item in detail.items:
            result, n, note = _draw(rng, bias, item)
            shots = [rng.choice(photos)] if result.failing and rng.random() < 0.4 else []
            core.record(
                store,
                detail.inspection,
                item.id,
                result,
                count=n,
                note=note,
                inspectors=pair,
                photos=shots,
                media_dir=media_dir,
            )
        core.finish(store, detail.inspection)


def _inspect(
    store: Store,
    checklists: ChecklistSet,
    today: date,
    media_dir: Path,
    sites: list[Site],
    rng: random.Random,
    photos: list[Path],
    after: list[Path],
) -> DemoReport:
    streets = sorted({s.street or "" for s in sites})
    # Some streets do better than others, so rankings have something to show.
    quality = {street: rng.uniform(0.4, 1.8) for street in streets}
    this_monday, _ = week_of(today)
    weeks = [week_of(this_monday - timedelta(days=7)), week_of(this_monday)]
    count = 0
    plans = []
    for monday, _sunday in weeks:
        plans.append(_draw_plan(store, monday))
        plan = load_plan(store, plans[-1])
        planned = {v.code: plan.pairs[v.pair - 1] for v in plan.visits}
        workdays = [monday + timedelta(days=n) for n in range(5) if monday + timedelta(days=n) <= today]
        if not workdays:
            continue
        for site in sites:
            stored = store.site_by_code(site.code)
            assert stored is not None
            day = rng.choice(workdays)
            pair = list(rng.choice(INSPECTORS))
            if site.code in planned:
                pair = list(planned[site.code])  # a planned 点位 by its pair
            _visit(store, checklists, stored, day, pair, media_dir, rng, quality[site.street or ""], photos)
            count += 1
    problems = _work_on_problems(store, rng, today, media_dir, after, found_from=weeks[0][0])
    return DemoReport(len(sites), count, weeks, problems, plans)


FIX_NOTES = ["已清理完毕", "已更换破损设施", "已劝离并加强巡查", "已补设公益广告", "已规范停放"]
UNITS_AS_REPORTERS = "责任单位"


def _work_on_problems(
    store: Store, rng: random.Random, today: date, media_dir: Path, after: list[Path], found_from: date
) -> int:
    """Units fix most problems found since `found_from`, inspectors re-check them; some go
    round again (返工); the rest wait, and some of those become overdue.

    A unit sends a photo of the fix for a problem found with one (整改前/整改后).
    """
    found = [p for p in store.list_problems() if p.found_date >= found_from]
    pictured = store.found_photos([p.id for p in found])
    for index, problem in enumerate(found):
        age = (today - problem.found_date).days
        roll = rng.random()
        if roll < 0.04:
            loop.dismiss(store, problem.no, "经核实不属于点位范围", actor="创城办")
            continue
        if roll > (0.85 if age >= 7 else 0.4):
            continue  # not fixed yet: some of these will be overdue
        fixed_on = min(today, problem.found_date + timedelta(days=rng.randint(0, 4)))
        loop.report_fixed(
            store,
            problem.no,
            rng.choice(FIX_NOTES),
            day=fixed_on,
            actor=problem.unit or UNITS_AS_REPORTERS,
            photos=[after[index % len(after)]] if problem.id in pictured else None,
            media_dir=media_dir,
        )
        checked_on = fixed_on + timedelta(days=rng.randint(1, 3))
        if checked_on > today:
            continue  # waiting for the re-check
        passed = rng.random() < 0.85
        loop.recheck(store, problem.no, passed, day=checked_on, actor="督查组", note=None if passed else "整改不到位")
    return len(found)


def _draw(rng: random.Random, bias: float, item: Item) -> tuple[Result, int, str | None]:
    roll = rng.random()
    if roll < 0.03:
        return Result.NA, 1, None
    if roll < 0.03 + 0.015 * bias:
        return Result.SEVERE, 1, _note(rng, item)
    if roll < 0.03 + 0.095 * bias:
        return Result.FAIL, rng.choice([1, 1, 1, 2, 3]), _note(rng, item)
    return Result.PASS, 1, None


def _note(rng: random.Random, item: Item) -> str:
    """A 问题描述 that fits the item: a note of its category whose words its text holds."""
    fitting = [note for note, words in NOTES.get(item.category, []) if any(w in item.text for w in words)]
    if fitting:
        return rng.choice(fitting)
    return "未达到要求：" + item.text.split("，")[0].split("；")[0]


DEMO_RULES = """\
# 示范市创城办 2026 年督查考核细则（示例：inspect-cli demo 生成，可以修改）
# 只写与内置规则不同的项，其余沿用内置规则（inspect_cli/data/assess_rules.yaml 逐项说明）。
# 示范市点位多、问题多：每个问题扣分比内置规则轻，每月扣分上限高一些，排名才拉得开。
# 用法：inspect-cli assess --rules 考核规则.yaml；周通报加考核一节：notice --assess --rules 考核规则.yaml

found:           # 当月发现的问题，每个扣分
  fail: 0.2      # 不合格（内置 0.5）
  severe: 1      # 严重不合格（内置 2）

overdue:         # 逾期未整改
  points: 0.5            # 每个逾期问题（内置 1）
  per_workday: 0.1       # 当月每个逾期工作日另扣（内置 0.2）
  max_per_problem: 2     # 单个问题每月逾期扣分上限（内置 3）

caps:
  max_deduction: 50      # 每月扣分合计上限（内置 40）
"""


def write_demo_rules(folder: Path) -> Path:
    """The demo office's own 考核规则, beside its database: a file to edit and pass to --rules."""
    path = folder / "考核规则.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(DEMO_RULES, encoding="utf-8")
    return path
