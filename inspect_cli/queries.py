"""The query layer: every figure any output shows (terminal, Excel, Word) comes from here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from inspect_cli import dates
from inspect_cli.dates import check_period
from inspect_cli.models import Inspection, Problem, ProblemStatus, Result, Site
from inspect_cli.scoring import Score
from inspect_cli.store import Store
from inspect_cli.units import register_name

UNSET = "（未填写）"


class GroupBy(str, Enum):
    street = "street"
    unit = "unit"
    partner = "partner"
    type = "type"
    site = "site"

    @property
    def label(self) -> str:
        return {"street": "街道", "unit": "责任单位", "partner": "包抓单位", "type": "点位类型", "site": "点位"}[
            self.value
        ]


_KEYS: dict[GroupBy, Callable[[Site], str | None]] = {
    GroupBy.street: lambda s: s.street or UNSET,
    GroupBy.unit: lambda s: s.unit or UNSET,
    # Only sites with a 包抓单位 count towards that unit; the rest belong to nobody.
    GroupBy.partner: lambda s: s.partner,
    GroupBy.type: lambda s: s.site_type,
    GroupBy.site: lambda s: f"{s.code} {s.name}",
}


@dataclass
class ScoredInspection:
    inspection: Inspection
    site: Site
    score: Score


@dataclass
class RankRow:
    rank: int
    name: str
    inspections: int
    mean_rate: float
    failed: int
    severe: int
    sites: int = 0
    site_codes: list[str] = field(default_factory=list, repr=False)


def scored_inspections(
    store: Store,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    finished_only: bool = True,
    **filters: str | None,
) -> list[ScoredInspection]:
    """Inspections in the period with their scores (only finished ones count in rankings)."""
    check_period(date_from, date_to)
    inspections = store.list_inspections(date_from, date_to, finished_only=finished_only, **filters)
    scores = {i.id: Score() for i in inspections}
    for inspection_id, points, deduct, result, count in store.score_rows(list(scores)):
        scores[inspection_id].add(points, deduct, Result(result) if result else None, count)
    sites = {s.id: s for s in store.list_sites()}
    return [ScoredInspection(i, sites[i.site_id], scores[i.id]) for i in inspections]


def ranking(
    store: Store,
    by: GroupBy = GroupBy.street,
    date_from: date | None = None,
    date_to: date | None = None,
    scored: list[ScoredInspection] | None = None,
) -> list[RankRow]:
    """Rank groups by the mean of their inspections' unrounded 得分率.

    Ties are broken by more inspections; rows equal on both share a rank. `scored` is the
    period's `scored_inspections`, when the caller has it already.
    """
    if scored is None:
        scored = scored_inspections(store, date_from, date_to)
    groups: dict[str, list[ScoredInspection]] = {}
    for scored_one in scored:
        key = _KEYS[by](scored_one.site)
        if key is None or scored_one.score.rate is None:
            continue
        groups.setdefault(key, []).append(scored_one)
    rows = []
    for name, members in groups.items():
        rates = [m.score.rate for m in members if m.score.rate is not None]
        codes = sorted({m.site.code for m in members})
        rows.append(
            RankRow(
                rank=0,
                name=name,
                inspections=len(members),
                mean_rate=sum(rates) / len(rates),
                failed=sum(m.score.failed for m in members),
                severe=sum(m.score.severe for m in members),
                sites=len(codes),
                site_codes=codes,
            )
        )
    rows.sort(key=lambda r: (-r.mean_rate, -r.inspections, r.name))
    for index, row in enumerate(rows):
        previous = rows[index - 1] if index else None
        tied = previous and abs(previous.mean_rate - row.mean_rate) < 1e-9 and previous.inspections == row.inspections
        row.rank = previous.rank if tied else index + 1
    return rows


# --- rectification problems ---------------------------------------------------------

NO_UNIT = "（未指定责任单位）"


class StatsBy(str, Enum):
    unit = "unit"
    street = "street"
    category = "category"

    @property
    def label(self) -> str:
        return {"unit": "责任单位", "street": "街道", "category": "问题类别"}[self.value]


_PROBLEM_KEYS: dict[StatsBy, Callable[[Problem], str]] = {
    StatsBy.unit: lambda p: p.unit or NO_UNIT,
    StatsBy.street: lambda p: p.street or UNSET,
    StatsBy.category: lambda p: p.category,
}


def iter_problems(
    store: Store,
    *,
    statuses: list[ProblemStatus] | None = None,
    overdue: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    today: date | None = None,
    order: str = "deadline",
    **filters: object,
) -> Iterator[Problem]:
    """Problems found in the period, one at a time, by deadline (or by unit);
    `overdue` keeps those past their deadline."""
    check_period(date_from, date_to)
    day = today or dates.today()
    if filters.get("unit"):
        # A short or former name lists the unit it means; anything else is a name fragment.
        filters["unit"] = register_name(store, str(filters["unit"])) or filters["unit"]
    for problem in store.iter_problems(
        statuses=statuses,
        found_from=date_from,
        found_to=date_to,
        order=order,
        **filters,  # type: ignore[arg-type]
    ):
        if not overdue or problem.overdue_days(day) > 0:
            yield problem


def problems(store: Store, **filters: object) -> list[Problem]:
    return list(iter_problems(store, **filters))  # type: ignore[arg-type]


@dataclass
class ProblemStats:
    name: str
    total: int = 0
    closed: int = 0
    dismissed: int = 0
    deferred: int = 0
    on_time: int = 0
    overdue: int = 0
    rechecked: int = 0
    reworked: int = 0
    repeats: int = 0

    @property
    def fix_rate(self) -> float | None:
        """整改率 = 已销号 ÷ (问题数 − 不属实), percent."""
        base = self.total - self.dismissed
        return self.closed / base * 100 if base else None

    @property
    def on_time_rate(self) -> float | None:
        """按期整改率 = closed by the deadline ÷ closed, percent."""
        return self.on_time / self.closed * 100 if self.closed else None

    @property
    def rework_rate(self) -> float | None:
        """返工率 = problems with a 返工 ÷ problems re-checked at least once, percent."""
        return self.reworked / self.rechecked * 100 if self.rechecked else None

    def add(self, problem: Problem, today: date) -> None:
        self.total += 1
        self.closed += problem.status is ProblemStatus.CLOSED
        self.dismissed += problem.status is ProblemStatus.DISMISSED
        self.deferred += problem.status is ProblemStatus.DEFERRED
        self.on_time += bool(problem.on_time)
        self.overdue += problem.overdue_days(today) > 0
        self.rechecked += problem.recheck_count > 0
        self.reworked += problem.rework_count > 0
        self.repeats += problem.repeat_of is not None


def problem_stats(
    store: Store,
    date_from: date | None = None,
    date_to: date | None = None,
    by: StatsBy | None = None,
    today: date | None = None,
) -> tuple[list[ProblemStats], ProblemStats]:
    """Rectification figures for problems found in the period: per group and in total."""
    day = today or dates.today()
    total = ProblemStats("合计")
    groups: dict[str, ProblemStats] = {}
    for problem in iter_problems(store, date_from=date_from, date_to=date_to):
        total.add(problem, day)
        if by is not None:
            key = _PROBLEM_KEYS[by](problem)
            groups.setdefault(key, ProblemStats(key)).add(problem, day)
    rows = sorted(groups.values(), key=lambda s: (-s.total, s.name))
    return rows, total


# --- period reports (Excel report, weekly notice) -----------------------------------------


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """The period of the same length just before."""
    length = (date_to - date_from).days + 1
    return date_from - timedelta(days=length), date_from - timedelta(days=1)


@dataclass
class RankChange:
    row: RankRow
    previous_rank: int | None
    previous_rate: float | None

    @property
    def rank_delta(self) -> int | None:
        """Places gained (positive) or lost (negative); None when new in the ranking."""
        return None if self.previous_rank is None else self.previous_rank - self.row.rank

    @property
    def rate_delta(self) -> float | None:
        """Change of the mean 得分率 in percentage points."""
        return None if self.previous_rate is None else self.row.mean_rate - self.previous_rate

    @property
    def label(self) -> str:
        """↑2 / ↓1 / 持平 / 新上榜, as notices write it."""
        delta = self.rank_delta
        if delta is None:
            return "新上榜"
        if delta == 0:
            return "持平"
        return f"↑{delta}" if delta > 0 else f"↓{-delta}"


def ranking_with_change(
    store: Store,
    by: GroupBy,
    date_from: date,
    date_to: date,
    scored: tuple[list[ScoredInspection], list[ScoredInspection]] | None = None,
) -> tuple[list[RankChange], bool]:
    """The ranking and each row's change against the previous period of the same length.

    The flag says whether the previous period had any ranking at all (a first report has
    none). `scored` is (this period's, the previous period's) scored inspections, if known.
    """
    this, last = scored or (None, None)
    current = ranking(store, by, date_from, date_to, this)
    before = {r.name: r for r in ranking(store, by, *previous_period(date_from, date_to), last)}
    changes = [
        RankChange(
            row,
            before[row.name].rank if row.name in before else None,
            before[row.name].mean_rate if row.name in before else None,
        )
        for row in current
    ]
    return changes, bool(before)


@dataclass
class PeriodSummary:
    date_from: date
    date_to: date
    sites: int
    inspections: int
    items_checked: int
    passed: int
    failed: int
    severe: int
    mean_rate: float | None
    streets: int
    site_types: int
    problems: ProblemStats
    # Failing items of the period's inspections that were found again on a problem still
    # open: kept as an occurrence of that problem, not counted as a problem of their own.
    repeat_findings: int = 0


def period_summary(
    store: Store,
    date_from: date,
    date_to: date,
    today: date | None = None,
    scored: list[ScoredInspection] | None = None,
) -> PeriodSummary:
    if scored is None:
        scored = scored_inspections(store, date_from, date_to)
    rates = [s.score.rate for s in scored if s.score.rate is not None]
    _, problem_total = problem_stats(store, date_from, date_to, today=today)
    return PeriodSummary(
        date_from=date_from,
        date_to=date_to,
        sites=len({s.site.id for s in scored}),
        inspections=len(scored),
        items_checked=sum(s.score.checked for s in scored),
        passed=sum(s.score.passed for s in scored),
        failed=sum(s.score.failed for s in scored),
        severe=sum(s.score.severe for s in scored),
        mean_rate=sum(rates) / len(rates) if rates else None,
        streets=len({s.site.street or UNSET for s in scored}),
        site_types=len({s.site.site_type for s in scored}),
        problems=problem_total,
        repeat_findings=store.count_repeat_findings([s.inspection.id for s in scored]),
    )


@dataclass
class TypeBreakdown:
    street: str
    site_type: str
    items: int
    passed: int
    failed: int

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.items * 100 if self.items else None

    @property
    def fail_rate(self) -> float | None:
        return self.failed / self.items * 100 if self.items else None


def type_breakdown(
    store: Store, date_from: date, date_to: date, scored: list[ScoredInspection] | None = None
) -> list[TypeBreakdown]:
    """Per 街道 × 点位类型: items checked (applicable), 合格, 不合格 (严重 included)."""
    if scored is None:
        scored = scored_inspections(store, date_from, date_to)
    cells: dict[tuple[str, str], TypeBreakdown] = {}
    for one in scored:
        key = (one.site.street or UNSET, one.site.site_type)
        cell = cells.setdefault(key, TypeBreakdown(*key, 0, 0, 0))
        cell.items += one.score.checked
        cell.passed += one.score.passed
        cell.failed += one.score.failed + one.score.severe
    return [cells[k] for k in sorted(cells)]
