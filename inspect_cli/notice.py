"""The weekly notice (周通报): its content, built once from the query layer.

`build_notice` gathers every sentence, table and photo into a `Notice`; the Word and
Markdown writers only lay it out, so both carry the same figures — which are those `score`,
`issue stats` and `export report` give for the same period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from inspect_cli import dates
from inspect_cli.config import NoticeSettings, OfficeSettings
from inspect_cli.dates import long_date, month_day
from inspect_cli.models import Photo, Problem, ProblemStatus, Result
from inspect_cli.queries import (
    NO_UNIT,
    GroupBy,
    RankChange,
    StatsBy,
    TrendRow,
    count_problems,
    iter_problems,
    overdue_basis,
    period_scores,
    period_summary,
    previous_period,
    problem_stats,
    problems,
    ranking_with_change,
    red_and_black,
    trend,
)
from inspect_cli.scoring import format_rate
from inspect_cli.store import Store

if TYPE_CHECKING:
    from inspect_cli.assess import Assessment
    from inspect_cli.assess_rules import AssessRules
    from inspect_cli.charts import FontChoice

CHINESE_NUMBERS = "一二三四五六七八九十"
TYPICAL_CASES = 3
# How many overdue and repeated problems the notice itself lists.
LISTED = 20
_SHOWN_FIXED = (ProblemStatus.FIXED, ProblemStatus.CLOSED)
TREND_PERIODS = 8
# The rankings drawn as charts (the 包抓单位 table is shown, not drawn).
CHARTED = ("街道", "责任单位")


@dataclass
class RankTable:
    title: str  # 街道 / 责任单位 / 包抓单位
    rows: list[RankChange]
    has_previous: bool


@dataclass
class Case:
    problem: Problem
    photo: Photo | None
    # 整改后: the photo of the accepted (or reported) fix, shown beside the first.
    after: Photo | None = None
    after_date: date | None = None


@dataclass
class ProblemGroup:
    category: str
    count: int
    severe: int
    share: float  # percent of the period's problems
    cases: list[Case]


@dataclass
class UnitProgress:
    unit: str
    total: int
    closed: int
    fix_rate: str
    on_time_rate: str
    overdue: int


@dataclass
class Notice:
    number: int
    reissue: bool
    title: str
    office: str
    signature: str
    issued: date
    date_from: date
    date_to: date
    period_word: str  # 本周 / 本期
    overview: str
    rankings: list[RankTable]
    red: dict[str, list[str]]
    black: dict[str, list[str]]
    black_threshold: int
    problem_intro: str
    groups: list[ProblemGroup]
    progress_intro: str
    by_unit: list[UnitProgress]
    overdue: list[tuple[Problem, int]]
    repeats: list[Problem]
    requirements: list[str] = field(default_factory=list)
    # The last TREND_PERIODS periods of the same length, oldest first (the trend chart).
    trend: list[TrendRow] = field(default_factory=list)
    # 单位考核 of the month the period ends in (`notice --assess`), or None.
    assessment: Assessment | None = None
    # The lists above are the first LISTED; these are how many there are (the annex has all).
    overdue_total: int = 0
    repeat_total: int = 0
    # 文号 and 版记 (GB/T 9704); empty: left out.
    number_prefix: str = ""
    copy_to: str = ""
    printed_by: str = ""

    @property
    def doc_number(self) -> str | None:
        """文号, e.g. 示范市创城办〔2026〕12号."""
        return f"{self.number_prefix}〔{self.issued.year}〕{self.number}号" if self.number_prefix else None

    @property
    def overdue_basis(self) -> str:
        return overdue_basis(self.issued)

    @property
    def overdue_note(self) -> str | None:
        if self.overdue_total <= len(self.overdue):
            return None
        return f"逾期未整改问题共 {self.overdue_total} 个，下表列出逾期最久的 {len(self.overdue)} 个，完整清单见附件。"

    @property
    def repeat_note(self) -> str | None:
        if self.repeat_total <= len(self.repeats):
            return None
        return f"{self.period_word}反复出现的问题共 {self.repeat_total} 个，下面列出 {len(self.repeats)} 个，完整清单见附件。"

    @property
    def period_text(self) -> str:
        return f"{self.date_from:%Y年%m月%d日}至{self.date_to:%m月%d日}"

    @property
    def number_text(self) -> str:
        return f"第{self.number}期"


def build_notice(
    store: Store,
    date_from: date,
    date_to: date,
    office: OfficeSettings,
    settings: NoticeSettings,
    number: int,
    reissue: bool = False,
    assess_rules: AssessRules | None = None,
) -> Notice:
    """The notice's content; with `assess_rules`, the 单位考核 of the month the period ends in."""
    today = dates.today()
    week = (date_to - date_from).days == 6 and date_from.weekday() == 0
    word = "本周" if week else "本期"
    last_word = "上周" if week else "上期"
    scored = period_scores(store, date_from, date_to)
    before = period_scores(store, *previous_period(date_from, date_to))
    summary = period_summary(store, date_from, date_to, today=today, scored=scored)
    found = problems(store, date_from=date_from, date_to=date_to, today=today)
    severe = sum(1 for p in found if p.severity is Result.SEVERE)
    units = {p.unit or NO_UNIT for p in found}
    _, last = problem_stats(store, *previous_period(date_from, date_to), today=today)

    last_text = (
        f"{last_word}发现问题 {last.total} 个，已整改销号 {last.closed} 个，整改率 {format_rate(last.fix_rate)}。"
        if last.total
        else f"{last_word}未发现问题。"
    )
    if summary.inspections:
        overview = (
            f"截至{month_day(min(today, date_to))}，{word}共督查 {summary.streets} 个街道 {summary.site_types} 类 "
            f"{summary.sites} 个点位，检查项 {summary.items_checked} 项，平均得分率 {format_rate(summary.mean_rate)}，"
            f"发现问题 {summary.problems.total} 个（其中严重问题 {severe} 个）"
            + (
                f"，另有 {summary.repeat_findings} 项不合格为已有未销号问题的重复发现、计入原问题"
                if summary.repeat_findings
                else ""
            )
            + f"，涉及责任单位 {len(units)} 家；"
            + last_text
        )
    else:
        overview = f"{word}（{date_from} 至 {date_to}）未开展实地督查，没有检查结果。" + last_text
    overview += plans_text(store, date_from, date_to, today, word)

    rankings = []
    red: dict[str, list[str]] = {}
    black: dict[str, list[str]] = {}
    for by, title in ((GroupBy.street, "街道"), (GroupBy.unit, "责任单位"), (GroupBy.partner, "包抓单位")):
        rows, has_previous = ranking_with_change(store, by, date_from, date_to, (scored, before))
        if by is GroupBy.partner and not rows:
            continue
        rankings.append(RankTable(title, rows, has_previous))
        if by is GroupBy.partner or not rows:
            continue
        on_red, on_black = red_and_black([r.row.mean_rate for r in rows], settings.black_threshold)
        red[title], black[title] = [rows[i].row.name for i in on_red], [rows[i].row.name for i in on_black]

    groups = _groups(store, found)
    problem_intro = (
        f"{word}发现的 {len(found)} 个问题按类别分布如下，典型问题予以曝光。" if found else f"{word}未发现问题。"
    )

    rows, total = problem_stats(store, None, date_to, StatsBy.unit, today=today)
    by_unit = [
        UnitProgress(r.name, r.total, r.closed, format_rate(r.fix_rate), format_rate(r.on_time_rate), r.overdue)
        for r in rows
    ]
    progress_intro = (
        f"截至{long_date(today)}，"
        + ("累计" if date_to >= today else f"{month_day(date_to)}前累计")
        + f"发现问题 {total.total} 个，已整改销号 {total.closed} 个，"
        f"整改率 {format_rate(total.fix_rate)}，按期整改率 {format_rate(total.on_time_rate)}；"
        f"逾期未整改 {total.overdue} 个，长期整改 {total.deferred} 个，反复出现 {total.repeats} 个。"
    )
    # A notice's size follows its period, not the city's history: the longest overdue and this
    # period's repeats, LISTED of each; the annex (`excel.annex`) lists every one.
    overdue = [
        (p, p.overdue_days(today))
        for p in iter_problems(store, date_to=date_to, overdue=True, today=today, limit=LISTED)
    ]
    repeats = problems(store, date_from=date_from, date_to=date_to, repeat=True, limit=LISTED)
    repeat_total, _ = count_problems(store, date_from=date_from, date_to=date_to, repeat=True, today=today)
    return Notice(
        number=number,
        reissue=reissue,
        title=settings.title,
        office=office.name,
        signature=settings.signature or office.name,
        issued=today,
        date_from=date_from,
        date_to=date_to,
        period_word=word,
        overview=overview,
        rankings=rankings,
        red=red,
        black=black,
        black_threshold=settings.black_threshold,
        problem_intro=problem_intro,
        groups=groups,
        progress_intro=progress_intro,
        by_unit=by_unit,
        overdue=overdue,
        repeats=repeats,
        overdue_total=total.overdue,
        repeat_total=repeat_total,
        requirements=[line.strip() for line in settings.requirements.splitlines() if line.strip()],
        number_prefix=settings.number_prefix,
        copy_to=settings.copy_to,
        printed_by=settings.printed_by or office.name,
        trend=trend(store, date_from, date_to, TREND_PERIODS, today=today),
        assessment=_assessment(store, date_to, assess_rules, today),
    )


def _assessment(store: Store, day: date, rules: AssessRules | None, today: date) -> Assessment | None:
    if rules is None:
        return None
    from inspect_cli.assess import AssessBy, assess

    return assess(store, f"{min(day, today):%Y-%m}", AssessBy.unit, rules, today=today)


def issue_notice(
    store: Store,
    date_from: date,
    date_to: date,
    office: OfficeSettings,
    settings: NoticeSettings,
    write: Callable[[Notice], tuple[Path, int]],
    number: int | None = None,
    assess_rules: AssessRules | None = None,
) -> tuple[Notice, Path, int]:
    """Number, build and write a notice: (notice, file, photos embedded).

    The number is claimed before the (slow) writing, so two notices made at the same time
    get two numbers; a notice that cannot be written gives its number back.
    """
    claimed, before = store.claim_notice(date_from, date_to, number)
    try:
        with store.snapshot():  # every figure of the notice from one state of the database
            built = build_notice(
                store,
                date_from,
                date_to,
                office,
                settings,
                claimed,
                reissue=_issued_before(before, claimed),
                assess_rules=assess_rules,
            )
            path, photos = write(built)
            from inspect_cli.excel.annex import annex_path, write_annex

            try:
                write_annex(store, built, annex_path(path))
            except BaseException:
                discard_written(path)  # no numbered notice is left without its annex
                raise
    except BaseException:
        store.release_notice(date_from, date_to, before)
        raise
    store.notice_issued(claimed, path.name)
    return built, path, photos


def plans_text(store: Store, date_from: date, date_to: date, today: date, word: str) -> str:
    """How the 双随机 plans of the weeks inside the period went, as `plan status` counts it, in a
    sentence ("" when the period has none)."""
    from inspect_cli.plans import DONE, MISSED, status

    parts = []
    for plan in store.plans_in_force(date_from, date_to):
        if not date_from.isoformat() <= plan["date_from"] <= plan["date_to"] <= date_to.isoformat():
            continue
        done = status(store, plan["week"], today)
        visits = done.plan.visits
        made = sum(1 for v in visits if v.state == DONE)
        missed = sum(1 for v in visits if v.state == MISSED)
        whole = plan["date_from"] == date_from.isoformat() and plan["date_to"] == date_to.isoformat()
        parts.append(
            f"{word if whole else done.plan.title}双随机抽取点位 {len(visits)} 个，已完成 {made} 个"
            f"（{format_rate(100.0 * made / len(visits) if visits else None)}）"
            + (f"，漏检 {missed} 个" if missed else "")
            + (f"，计划外检查 {len(done.unplanned)} 次" if done.unplanned else "")
        )
    return ("；".join(parts) + "。") if parts else ""


def discard_written(path: Path) -> None:
    """Remove a notice file written for a number given back (and a Markdown notice's photos)."""
    import shutil

    from inspect_cli.notice_md import photos_folder

    path.unlink(missing_ok=True)
    if path.suffix.lower() == ".md":
        shutil.rmtree(photos_folder(path), ignore_errors=True)


def _issued_before(before: dict | None, number: int) -> bool:
    """The period had a notice under this number (a claim whose writing died left no file)."""
    return before is not None and before["number"] == number and bool(before["file_name"])


def _groups(store: Store, found: list[Problem]) -> list[ProblemGroup]:
    by_category: dict[str, list[Problem]] = {}
    for problem in found:
        by_category.setdefault(problem.category, []).append(problem)
    photos = store.found_photos([p.id for p in found])
    chosen = {}
    for category, members in by_category.items():
        # Typical cases: severe ones first, then those with a photo to show.
        ranked = sorted(members, key=lambda p: (p.severity is not Result.SEVERE, p.id not in photos, p.no))
        chosen[category] = ranked[:TYPICAL_CASES]
    # A case fixed by now is shown before and after: the photo of its latest fix.
    fixed = [p.id for cases in chosen.values() for p in cases if p.status in _SHOWN_FIXED and p.id in photos]
    after = store.fix_photos(fixed)
    groups = []
    for category, members in sorted(by_category.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        cases = [Case(p, (photos.get(p.id) or [None])[0], *(after.get(p.id) or (None, None))) for p in chosen[category]]
        groups.append(
            ProblemGroup(
                category,
                len(members),
                sum(1 for p in members if p.severity is Result.SEVERE),
                len(members) / len(found) * 100,
                cases,
            )
        )
    return groups


def chinese_number(n: int) -> str:
    return CHINESE_NUMBERS[n - 1] if 1 <= n <= len(CHINESE_NUMBERS) else str(n)


def rank_cells(table: RankTable) -> list[list[str]]:
    """Rows of a ranking table as both writers print them."""
    return [
        [
            str(r.row.rank),
            r.row.name,
            str(r.row.inspections),
            format_rate(r.row.mean_rate),
            r.label if table.has_previous else "—",
        ]
        for r in table.rows
    ]


RANK_HEADER = ["排名", "名称", "检查次数", "平均得分率", "较上期"]
UNIT_HEADER = ["责任单位", "问题数", "已销号", "整改率", "按期整改率", "逾期"]
OVERDUE_HEADER = ["问题编号", "点位", "问题", "逾期天数", "责任单位"]


def unit_cells(notice: Notice) -> list[list[str]]:
    return [[u.unit, str(u.total), str(u.closed), u.fix_rate, u.on_time_rate, str(u.overdue)] for u in notice.by_unit]


def overdue_cells(notice: Notice) -> list[list[str]]:
    return [
        [p.no, f"{p.site_code} {p.site_name}", p.description or p.item_text, str(days), p.unit or NO_UNIT]
        for p, days in notice.overdue
    ]


def case_text(case: Case) -> str:
    p = case.problem
    severity = "（严重）" if p.severity is Result.SEVERE else ""
    return (
        f"{p.site_name}（{p.street or '—'}）：{p.description or p.item_text}{severity}。责任单位：{p.unit or NO_UNIT}。"
    )


def photos_of(case: Case) -> list[tuple[str, Photo]]:
    """The case's photos as shown: (图, found), or once fixed with a photo (整改前, found) and (整改后, fix)."""
    if case.photo is None:
        return []
    if case.after is None:
        return [("图", case.photo)]
    return [("整改前", case.photo), ("整改后", case.after)]


def period_label(start: date, end: date) -> str:
    """11月16日–22日, 11月30日–12月6日: a trend chart's period."""
    if (start.year, start.month) == (end.year, end.month):
        return f"{month_day(start)}–{end.day}日"
    return f"{month_day(start)}–{month_day(end)}"


def draw_charts(notice: Notice, font: FontChoice) -> dict[str, bytes]:
    """The notice's charts as PNG: "trend" (the last periods) and one per charted ranking, by title."""
    from inspect_cli import charts

    drawn = {}
    if notice.trend:
        points = [
            charts.TrendPoint(period_label(t.date_from, t.date_to), t.mean_rate, t.problems, t.fix_rate)
            for t in notice.trend
        ]
        drawn["trend"] = charts.trend_chart(f"近{len(points)}期得分率、问题数与整改率", points, font=font)
    for table in notice.rankings:
        if table.title in CHARTED and table.rows:
            rows = [(r.row.name, r.row.mean_rate) for r in table.rows]
            title = f"{notice.period_word}{table.title}平均得分率"
            drawn[table.title] = charts.ranking_chart(title, rows, notice.black_threshold, font=font)
    return drawn


ASSESS_HEADER = ["排名", "责任单位", "问题数", "扣分", "加分", "得分"]


def assessment_intro(assessment: Assessment) -> str:
    return (
        f"{assessment.period_text}，各责任单位按考核规则计分（基础分 {assessment.rules.base:g} 分，"
        f"扣分、加分逐条对应问题），排名如下。{assessment.exposure_basis}。"
    )


def assessment_cells(assessment: Assessment) -> list[list[str]]:
    return [
        [str(g.rank), g.name, str(g.problems), f"{g.deduction:g}", f"{g.bonus:g}", f"{g.score:g}"]
        for g in assessment.groups
    ]


def requirements_heading(notice: Notice) -> str:
    """下步要求 is the last section: 五, or 六 after a 单位考核."""
    return f"{'六' if notice.assessment else '五'}、下步要求"


def lists_text(notice: Notice, kind: str) -> list[str]:
    names = notice.red if kind == "red" else notice.black
    return [f"{title}：{'、'.join(members) if members else '无'}" for title, members in names.items()]


def default_file_name(notice: Notice, suffix: str) -> Path:
    return Path(f"周通报_{notice.number_text}_{notice.date_from}_{notice.date_to}{suffix}")
