"""The query layer: every figure any output shows (terminal, Excel, Word) comes from here."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from inspect_cli import dates
from inspect_cli.dates import check_period
from inspect_cli.models import NO_UNIT, UNSET, Inspection, Problem, ProblemStatus, Site, StatsBy
from inspect_cli.scoring import Score
from inspect_cli.store import Store
from inspect_cli.units import register_name


class GroupBy(str, Enum):
    street = "street"
    unit = "unit"
    partner = "partner"
    type = "type"
    site = "site"
    community = "community"
    grid = "grid"

    @property
    def label(self) -> str:
        return {
            "street": "街道",
            "unit": "责任单位",
            "partner": "包抓单位",
            "type": "点位类型",
            "site": "点位",
            "community": "社区",
            "grid": "网格",
        }[self.value]


_KEYS: dict[GroupBy, Callable[[Site], str | None]] = {
    GroupBy.street: lambda s: s.street or UNSET,
    GroupBy.unit: lambda s: s.unit or UNSET,
    # Only sites with a 包抓单位 count towards that unit; the rest belong to nobody.
    GroupBy.partner: lambda s: s.partner,
    GroupBy.type: lambda s: s.site_type,
    GroupBy.site: lambda s: f"{s.code} {s.name}",
    # 社区 and 网格 names repeat across streets (every street has a 第3网格): named with what
    # they belong to. Sites the register leaves without one belong to none.
    GroupBy.community: lambda s: f"{s.street or UNSET} {s.community}" if s.community else None,
    GroupBy.grid: lambda s: " ".join(p for p in (s.street or UNSET, s.community, s.grid) if p) if s.grid else None,
}


@dataclass
class ScoredInspection:
    inspection: Inspection
    site: Site
    score: Score


@dataclass(slots=True)
class ScoredSite:
    """An inspection's score and its site, without the inspection: what rankings, summaries
    and breakdowns read (a year is 100,000 of them)."""

    site: Site
    score: Score


def period_scores(store: Store, date_from: date | None, date_to: date | None) -> list[ScoredSite]:
    """The period's finished inspections as (site, score), from the kept scores."""
    check_period(date_from, date_to)
    sites = {s.id: s for s in store.list_sites()}
    return [
        ScoredSite(sites[row[1]], _score(row)) for row in store.inspection_scores(date_from=date_from, date_to=date_to)
    ]


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


def _score(row) -> Score:  # type: ignore[no-untyped-def]
    """A score as the database added it up (`Store.inspection_scores`)."""
    _, _, items, answered, full, earned, passed, failed, severe, na = row
    return Score(float(earned or 0), float(full or 0), items, answered, passed, failed, severe, na)


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
    period = {"date_from": date_from, "date_to": date_to, **filters}
    inspections = store.list_inspections(finished_only=finished_only, **period)  # type: ignore[arg-type]
    scores = {row[0]: _score(row) for row in store.inspection_scores(finished_only, **period)}
    sites = {s.id: s for s in store.list_sites()}
    return [ScoredInspection(i, sites[i.site_id], scores.get(i.id) or Score()) for i in inspections]


def ranking(
    store: Store,
    by: GroupBy = GroupBy.street,
    date_from: date | None = None,
    date_to: date | None = None,
    scored: Sequence[ScoredInspection | ScoredSite] | None = None,
) -> list[RankRow]:
    """Rank groups by the mean of their inspections' unrounded 得分率.

    Ties are broken by more inspections; rows equal on both share a rank. `scored` is the
    period's `scored_inspections`, when the caller has it already; without it, only the
    scores are read (no inspection is loaded).
    """
    if scored is not None:
        sites = {s.site.id: s.site for s in scored}
        figures: Iterable[tuple[str, float | None, int, int]] = (
            (s.site.id, s.score.rate, s.score.failed, s.score.severe) for s in scored
        )
    else:
        check_period(date_from, date_to)
        sites = {s.id: s for s in store.list_sites()}
        rows = store.inspection_scores(date_from=date_from, date_to=date_to)
        # (site, rate, failed, severe) straight from the row: a year is 100,000 of them.
        figures = (
            (site_id, earned / full * 100 if full else None, failed, severe)
            for _, site_id, _, _, full, earned, _, failed, severe, _ in rows
        )
    key_of = _KEYS[by]
    keys = {site_id: key_of(site) for site_id, site in sites.items()}
    groups: dict[str, RankRow] = {}
    codes: dict[str, set[str]] = {}
    rates: dict[str, list[float]] = {}
    for site_id, rate, failed, severe in figures:
        key = keys[site_id]
        if key is None or rate is None:
            continue
        row = groups.get(key)
        if row is None:
            row = groups[key] = RankRow(rank=0, name=key, inspections=0, mean_rate=0.0, failed=0, severe=0)
            codes[key], rates[key] = set(), []
        row.inspections += 1
        row.failed += failed
        row.severe += severe
        rates[key].append(rate)
        codes[key].add(sites[site_id].code)
    for key, row in groups.items():
        # fsum: the same mean whatever order the database returned the inspections in.
        row.mean_rate = math.fsum(rates[key]) / row.inspections
        row.site_codes = sorted(codes[key])
        row.sites = len(row.site_codes)
    ranked = sorted(groups.values(), key=lambda r: (-r.mean_rate, -r.inspections, r.name))
    for index, row in enumerate(ranked):
        previous = ranked[index - 1] if index else None
        tied = previous and abs(previous.mean_rate - row.mean_rate) < 1e-9 and previous.inspections == row.inspections
        row.rank = previous.rank if tied else index + 1
    return ranked


# --- rectification problems ---------------------------------------------------------


def _problem_filters(
    store: Store,
    statuses: list[ProblemStatus] | None,
    overdue: bool,
    date_from: date | None,
    date_to: date | None,
    today: date | None,
    filters: dict[str, object],
) -> dict[str, object]:
    check_period(date_from, date_to)
    if filters.get("unit"):
        # A register name (or a short or former one) lists exactly the unit it means: 文明办 is
        # not 市文明办. Anything else is a name fragment.
        named = register_name(store, str(filters["unit"]))
        if named:
            filters["unit_exact"] = named
            del filters["unit"]
    overdue_on = (today or dates.today()) if overdue else None
    return {"statuses": statuses, "found_from": date_from, "found_to": date_to, "overdue_on": overdue_on, **filters}


def iter_problems(
    store: Store,
    *,
    statuses: list[ProblemStatus] | None = None,
    overdue: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    today: date | None = None,
    order: str = "deadline",
    limit: int | None = None,
    **filters: object,
) -> Iterator[Problem]:
    """Problems found in the period, one at a time, by deadline (or by unit), at most `limit`;
    `overdue` keeps those past their deadline."""
    where = _problem_filters(store, statuses, overdue, date_from, date_to, today, filters)
    yield from store.iter_problems(order=order, limit=limit, **where)


def count_problems(
    store: Store,
    *,
    statuses: list[ProblemStatus] | None = None,
    overdue: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    today: date | None = None,
    **filters: object,
) -> tuple[int, int]:
    """How many problems `iter_problems` lists with these filters, and how many are overdue."""
    where = _problem_filters(store, statuses, overdue, date_from, date_to, today, filters)
    return store.count_problems(today or dates.today(), **where)


def with_found_photos(store: Store, found: Iterable[Problem], batch: int = 500) -> Iterator[tuple[Problem, list]]:
    """Each problem with the photos taken when it was found: one query per `batch` problems,
    so a long listing neither queries per row nor holds every photo."""
    rows = iter(found)
    while chunk := list(itertools.islice(rows, batch)):
        photos = store.found_photos([p.id for p in chunk])
        for problem in chunk:
            yield problem, photos.get(problem.id, [])


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


# How each grouping names a problem's group, in SQL over `problems p JOIN sites s`.
_PROBLEM_KEYS: dict[StatsBy, str] = {
    StatsBy.unit: f"coalesce(nullif(p.unit, ''), '{NO_UNIT}')",
    StatsBy.street: f"coalesce(nullif(s.street, ''), '{UNSET}')",
    StatsBy.category: "p.category",
}


def problem_stats(
    store: Store,
    date_from: date | None = None,
    date_to: date | None = None,
    by: StatsBy | None = None,
    today: date | None = None,
) -> tuple[list[ProblemStats], ProblemStats]:
    """Rectification figures for problems found in the period: per group and in total."""
    check_period(date_from, date_to)
    day = today or dates.today()
    period = {"found_from": date_from, "found_to": date_to}

    def figures(key: str | None) -> list[ProblemStats]:
        rows = store.problem_figures(key, day, **period)
        return [ProblemStats(row[0], *(int(v or 0) for v in row[1:])) for row in rows]

    if by is None:
        [total] = figures(None)
        total.name = "合计"
        return [], total
    rows = figures(_PROBLEM_KEYS[by])
    total = ProblemStats("合计")  # the groups added up: one pass over the problems, not two
    for name in ProblemStats.__dataclass_fields__:
        if name != "name":
            setattr(total, name, sum(getattr(r, name) for r in rows))
    return sorted(rows, key=lambda s: (-s.total, s.name)), total


# --- period reports (Excel report, weekly notice) -----------------------------------------


def red_and_black(rates: Sequence[float], threshold: float) -> tuple[list[int], list[int]]:
    """Positions on the 红榜 and the 黑榜 of a ranking given best first (its mean rates).

    红榜: the first three. 黑榜: the last three, then anyone else below `threshold`, never one
    on the 红榜. The notice, the report's charts and `score --bar` all mark them by this.
    """
    red = list(range(min(3, len(rates))))
    black = [i for i in range(max(0, len(rates) - 3), len(rates)) if i not in red]
    black += [i for i, rate in enumerate(rates) if rate < threshold and i not in red and i not in black]
    return red, black


@dataclass(frozen=True)
class EditionUse:
    site_type: str
    code: str
    edition: str
    edition_id: str  # two contents under one label are told apart by it
    inspections: int


def editions_used(store: Store, date_from: date, date_to: date) -> list[EditionUse]:
    """Which checklist editions the period's finished inspections were scored with."""
    from inspect_cli.store import editions

    rows = editions.period_editions(store.conn, date_from.isoformat(), date_to.isoformat())
    return [EditionUse(*row) for row in rows]


def overdue_basis(today: date) -> str:
    """What every output's 逾期 figure counts (`Store`'s overdue rule), in the same words."""
    return f"逾期指截至{dates.long_date(today)}已过整改时限、仍待整改（含返工）的问题"


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
    scored: tuple[Sequence[ScoredInspection | ScoredSite], Sequence[ScoredInspection | ScoredSite]] | None = None,
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


@dataclass(frozen=True)
class TrendRow:
    date_from: date
    date_to: date
    mean_rate: float | None  # mean 得分率 of the period's finished inspections
    problems: int  # found in the period
    fix_rate: float | None  # of those, 整改率 as of `today`


def trend(store: Store, date_from: date, date_to: date, periods: int, today: date | None = None) -> list[TrendRow]:
    """This period and the ones of the same length before it, oldest first, `periods` at most.

    Periods before the first with an inspection or a problem are left out (the city had not
    started); an empty period after that is kept, with no rate.
    """
    rows = []
    start, end = date_from, date_to
    for _ in range(periods):
        # The rates straight from the kept scores (as `ranking` reads them), not a Site per row.
        rates = [_score(row).rate for row in store.inspection_scores(date_from=start, date_to=end)]
        rates = [rate for rate in rates if rate is not None]
        _, found = problem_stats(store, start, end, today=today)
        mean = math.fsum(rates) / len(rates) if rates else None
        rows.append(TrendRow(start, end, mean, found.total, found.fix_rate))
        start, end = previous_period(start, end)
    while rows and rows[-1].mean_rate is None and not rows[-1].problems:
        rows.pop()
    return rows[::-1]


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
    scored: Sequence[ScoredInspection | ScoredSite] | None = None,
) -> PeriodSummary:
    if scored is None:
        scored = period_scores(store, date_from, date_to)
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
        repeat_findings=store.count_repeat_findings(date_from=date_from, date_to=date_to),
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
    store: Store, date_from: date, date_to: date, scored: Sequence[ScoredInspection | ScoredSite] | None = None
) -> list[TypeBreakdown]:
    """Per 街道 × 点位类型: items checked (applicable), 合格, 不合格 (严重 included)."""
    if scored is None:
        scored = period_scores(store, date_from, date_to)
    cells: dict[tuple[str, str], TypeBreakdown] = {}
    for one in scored:
        key = (one.site.street or UNSET, one.site.site_type)
        cell = cells.setdefault(key, TypeBreakdown(*key, 0, 0, 0))
        cell.items += one.score.checked
        cell.passed += one.score.passed
        cell.failed += one.score.failed + one.score.severe
    return [cells[k] for k in sorted(cells)]
