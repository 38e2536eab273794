"""单位考核 (`inspect-cli assess`): each unit's (street's, grid's …) month, scored by rules.

score = base − deductions (capped) + bonuses (capped), never below the floor, and every point
comes from one problem (`AssessItem`), so a unit can be shown why. The rules are in
`assess_rules` and documented in data/assess_rules.yaml; what counts in a month:

- found in the month (not 不属实): a deduction by severity; more if its severity is one the
  rules count as 曝光; more if it is a 反复出现 (reopened after a 销号);
- each 重复发现 in the month (found again while not closed, on a later day than first found);
- 逾期: a working day of the month (to today in the current month) after the deadline on which
  the problem was 待整改 at some time (`open_spans`), and once per problem a fixed amount in
  the month of its first overdue day; capped per problem per month;
- 按期销号: closed in the month, its accepted fix by the deadline (`Problem.on_time`).

The pure functions take problems and their histories; `assess` reads them from the store,
500 problems and one `events_of` at a time.
"""

from __future__ import annotations

import bisect
import calendar
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_cli import dates
from inspect_cli.assess_rules import AssessRules, load_rules
from inspect_cli.errors import InputError
from inspect_cli.models import NO_UNIT, Problem, ProblemEvent, ProblemStatus, Result, Site

if TYPE_CHECKING:
    from inspect_cli.store import Store

BATCH = 500  # problems whose histories are read in one go


class AssessBy(str, Enum):
    """Who is assessed: the problem's 责任单位, or the 街道 / 包抓单位 / 社区 / 网格 of its site."""

    unit = "unit"
    street = "street"
    partner = "partner"
    community = "community"
    grid = "grid"

    @property
    def label(self) -> str:
        return {"unit": "责任单位", "street": "街道", "partner": "包抓单位", "community": "社区", "grid": "网格"}[
            self.value
        ]


# What each rule is called, in the order a group's items list them.
RULE_LABELS = {
    "found_fail": "发现不合格",
    "found_severe": "发现严重不合格",
    "exposure": "曝光",
    "repeat_reopened": "反复出现",
    "repeat_again": "重复发现",
    "overdue": "逾期未整改",
    "on_time_close": "按期销号",
}
_ORDER = {rule: index for index, rule in enumerate(RULE_LABELS)}


@dataclass
class AssessItem:
    """One deduction (points < 0) or bonus (points > 0), and the problem that caused it."""

    problem_no: str
    site: str  # 点位: code and name
    description: str
    rule: str
    points: float
    reason: str
    day: date  # the day the rule looked at: found, found again, first overdue day of the month, closed

    @property
    def rule_label(self) -> str:
        return RULE_LABELS[self.rule]


@dataclass
class GroupResult:
    name: str
    rank: int = 0
    problems: int = 0  # found in the month, as `issue stats` counts them (不属实 included)
    dismissed: int = 0  # of those, 不属实: no points either way
    deducted: float = 0.0  # the items' deductions added up, before the cap
    earned: float = 0.0  # the items' bonuses added up, before the cap
    deduction: float = 0.0  # what counts
    bonus: float = 0.0
    score: float = 0.0
    notes: list[str] = field(default_factory=list)
    items: list[AssessItem] = field(default_factory=list)


@dataclass
class Assessment:
    month: str  # 2026-11
    start: date
    end: date
    as_of: date  # the last day counted: the month's end, or today in the current month
    by: AssessBy
    rules: AssessRules
    groups: list[GroupResult]

    @property
    def complete(self) -> bool:
        return self.as_of >= self.end

    @property
    def period_text(self) -> str:
        """2026年11月 (截至11月20日 while the month runs)."""
        text = f"{self.start.year}年{self.start.month}月"
        return text if self.complete else f"{text}，截至{dates.month_day(self.as_of)}"

    @property
    def exposure_basis(self) -> str:
        """What 曝光 means here: no record says which problems a notice showed."""
        kinds = "、".join(r.label for r in self.rules.exposure.severities)
        if not kinds or not self.rules.exposure.points:
            return "不按曝光扣分"
        return f"曝光按当月发现的{kinds}问题计（周通报曝光哪些问题未记录在数据库中）"


# --- the month ----------------------------------------------------------------------------

_MONTH = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})|(\d{2}))\s*月?\s*$")


def parse_month(text: str | None, today: date | None = None) -> tuple[date, date]:
    """2026-11 (also 2026/11, 2026.11, 202611, 2026年11月) → its first and last day; default:
    this month. A month before 2000 or not begun yet is refused."""
    now = today or dates.today()
    if text is None:
        start = now.replace(day=1)
    else:
        match = _MONTH.match(str(text))
        month = int(match[2] or match[3]) if match else 0
        if not match or not 1 <= month <= 12:
            raise InputError(f"月份格式不正确：'{text}'，应为 YYYY-MM（如 {now:%Y-%m}）")
        year = int(match[1])
        if year < dates.EARLIEST.year:  # before `date` is asked: year 0 is none of its
            raise InputError(f"月份 {year:04d}-{month:02d} 早于 {dates.EARLIEST.year} 年，请检查月份")
        start = date(year, month, 1)
    if start < dates.EARLIEST:
        raise InputError(f"月份 {start:%Y-%m} 早于 {dates.EARLIEST.year} 年，请检查月份")
    if start > now:
        raise InputError(f"月份 {start:%Y-%m} 还没有开始（今天是 {now}）")
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])


def working_days(start: date, end: date) -> list[date]:
    """The working days from `start` to `end`, by the holiday calendar (`workdays`)."""
    from inspect_cli.workdays import is_workday

    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [day for day in days if is_workday(day)]


# --- one problem ----------------------------------------------------------------------------


def open_spans(problem: Problem, events: list[ProblemEvent], as_of: date) -> list[tuple[date, date]]:
    """The days (first, last, both included) on which the problem was 待整改 at some time.

    From the history: a span starts the day the problem is found or sent back (返工) and ends
    the day it is reported fixed, closed, deferred or dismissed (it was 待整改 when that day
    began); an open span runs to `as_of`. Without a history, the problem as it stands now.
    """
    # A stable sort: the changes of one day keep the order they were recorded in.
    changes = sorted((e for e in events if e.to_status is not None), key=lambda e: e.date)
    if not changes:
        return [(problem.found_date, as_of)] if problem.status is ProblemStatus.OPEN else []
    spans: list[tuple[date, date]] = []
    since: date | None = None
    for event in changes:
        if event.to_status is ProblemStatus.OPEN:
            since = since or event.date
        elif since is not None:
            spans.append((since, event.date))
            since = None
    if since is not None:
        spans.append((since, max(as_of, since)))
    return spans


def first_overdue_day(spans: list[tuple[date, date]], deadline: date) -> date | None:
    """The first day after the deadline on which the problem was 待整改."""
    for first, last in spans:
        if last > deadline:
            return max(first, deadline + timedelta(days=1))
    return None


def overdue_workdays(spans: list[tuple[date, date]], deadline: date, workdays: list[date]) -> list[date]:
    """The days of `workdays` (sorted, the month's to `as_of`) after the deadline on which the problem was 待整改."""
    found: list[date] = []
    for first, last in spans:
        low = max(first, deadline + timedelta(days=1))
        if low > last:
            continue
        found += workdays[bisect.bisect_left(workdays, low) : bisect.bisect_right(workdays, last)]
    return sorted(set(found))


def points_text(points: float) -> str:
    """1 / 0.5 / 97.5: as few digits as the value needs (rules have at most one decimal)."""
    return f"{abs(points) if points == 0 else points:.1f}".rstrip("0").rstrip(".")


def _short(day: date, year: int) -> str:
    return f"{day.month}月{day.day}日" if day.year == year else dates.long_date(day)


def problem_items(
    problem: Problem,
    events: list[ProblemEvent],
    rules: AssessRules,
    start: date,
    end: date,
    as_of: date,
    workdays: list[date],
) -> list[AssessItem]:
    """What one problem costs or earns its group in the month [start, end], counted to `as_of`.

    `events` is its history (`Store.events_of`); `workdays` the month's working days to `as_of`.
    A 不属实 problem has no items.
    """
    if problem.status is ProblemStatus.DISMISSED:
        return []
    year = start.year
    items: list[AssessItem] = []

    def add(rule: str, points: float, day: date, reason: str) -> None:
        if points:
            site = f"{problem.site_code} {problem.site_name}"
            what = problem.description or problem.item_text
            items.append(AssessItem(problem.no, site, what, rule, round(points, 1), reason, day))

    found = problem.found_date
    if start <= found <= end:
        severe = problem.severity is Result.SEVERE
        add(
            "found_severe" if severe else "found_fail",
            -(rules.found.severe if severe else rules.found.fail),
            found,
            f"{_short(found, year)}发现" + (f"（{problem.count} 处）" if problem.count > 1 else ""),
        )
        if problem.severity in rules.exposure.severities:
            add("exposure", -rules.exposure.points, found, f"{problem.severity.label}问题，按曝光计")
        if problem.repeat_of:
            add(
                "repeat_reopened",
                -rules.repeat.reopened,
                found,
                f"反复出现：前一问题 {problem.repeat_of} 销号后再次发现",
            )
    for event in events:
        if event.action == "repeat" and start <= event.date <= as_of and event.date > found:
            reason = f"{_short(event.date, year)}重复发现（{_short(found, year)}首次发现，尚未销号）"
            add("repeat_again", -rules.repeat.again, event.date, reason)
    overdue = rules.overdue
    if problem.deadline < as_of and (overdue.points or overdue.per_workday):
        spans = open_spans(problem, events, as_of)
        first = first_overdue_day(spans, problem.deadline)
        late = overdue_workdays(spans, problem.deadline, workdays)
        # The fixed amount belongs to the month of the first overdue day, whichever month that is.
        first_here = first if first is not None and start <= first <= as_of else None
        once = overdue.points if first_here is not None else 0.0
        total = once + len(late) * overdue.per_workday
        if total:
            parts = [f"整改时限{_short(problem.deadline, year)}"]
            if first_here is not None and once:
                parts.append(f"{_short(first_here, year)}起逾期，扣 {points_text(once)} 分")
            if late:
                days = _short(late[0], year) + (f"至{_short(late[-1], year)}" if len(late) > 1 else "")
                parts.append(f"本月逾期 {len(late)} 个工作日（{days}）× {points_text(overdue.per_workday)} 分")
            cap = overdue.max_per_problem
            if cap is not None and total > cap:
                parts.append(f"合计 {points_text(total)} 分，单个问题每月封顶 {points_text(cap)} 分")
                total = cap
            add("overdue", -total, first_here if first_here is not None and once else late[0], "；".join(parts))
    closed = problem.closed_date
    if problem.status is ProblemStatus.CLOSED and closed and start <= closed <= end and problem.on_time:
        done = problem.fixed_date or closed
        reason = (
            f"{_short(closed, year)}销号，整改完成于{_short(done, year)}，未超过时限{_short(problem.deadline, year)}"
        )
        add("on_time_close", rules.bonus.on_time_close, closed, reason)
    return items


# --- the groups ---------------------------------------------------------------------------


def score_groups(groups: Iterable[GroupResult], rules: AssessRules) -> list[GroupResult]:
    """Add up each group's items under the caps and the floor, and rank: higher score first,
    equal scores share a rank (listed by fewer problems, then name)."""
    ranked = []
    for group in groups:
        # A problem's items together, problems by the first day they count on.
        first: dict[str, date] = {}
        for item in group.items:
            first[item.problem_no] = min(item.day, first.get(item.problem_no, item.day))
        group.items.sort(key=lambda i: (first[i.problem_no], i.problem_no, _ORDER[i.rule], i.day))
        group.deducted = round(math.fsum(-i.points for i in group.items if i.points < 0), 1)
        group.earned = round(math.fsum(i.points for i in group.items if i.points > 0), 1)
        group.deduction, group.bonus, group.notes = group.deducted, group.earned, []
        cap = rules.caps.max_deduction
        if cap is not None and group.deducted > cap:
            group.deduction = cap
            group.notes.append(f"扣分 {points_text(group.deducted)} 分，超过上限，按 {points_text(cap)} 分计")
        cap = rules.caps.max_bonus
        if cap is not None and group.earned > cap:
            group.bonus = cap
            group.notes.append(f"加分 {points_text(group.earned)} 分，超过上限，按 {points_text(cap)} 分计")
        score = round(rules.base - group.deduction + group.bonus, 1)
        if score < rules.min_score:
            group.notes.append(f"得分 {points_text(score)} 分，低于下限，按 {points_text(rules.min_score)} 分计")
            score = rules.min_score
        group.score = score
        ranked.append(group)
    ranked.sort(key=lambda g: (-g.score, g.problems, g.name))
    for index, group in enumerate(ranked):
        before = ranked[index - 1] if index else None
        group.rank = before.rank if before is not None and before.score == group.score else index + 1
    return ranked


def assess_problems(
    found: Iterable[tuple[Problem, list[ProblemEvent]]],
    group_of: Callable[[Problem], str | None],
    rules: AssessRules,
    start: date,
    end: date,
    as_of: date,
    names: Iterable[str] = (),
    by: AssessBy = AssessBy.unit,
) -> Assessment:
    """The month's assessment of problems with their histories. `group_of` names a problem's
    group (None: in no group); `names` are groups assessed even without a problem (they keep
    the base score)."""
    workdays = working_days(start, as_of) if as_of >= start else []
    groups = {name: GroupResult(name) for name in names}
    for problem, events in found:
        name = group_of(problem)
        if name is None:
            continue
        items = problem_items(problem, events, rules, start, end, as_of, workdays)
        counted = start <= problem.found_date <= end
        if not items and not counted:
            continue
        group = groups.get(name) or groups.setdefault(name, GroupResult(name))
        group.items += items
        if counted:
            group.problems += 1
            group.dismissed += problem.status is ProblemStatus.DISMISSED
    return Assessment(f"{start:%Y-%m}", start, end, as_of, by, rules, score_groups(groups.values(), rules))


# --- from the store -------------------------------------------------------------------------


def _site_keys(by: AssessBy) -> Callable[[Site], str | None]:
    from inspect_cli.queries import _KEYS, GroupBy

    # The ranking's own naming of a site's group: a grid is named here as `score --by grid` names it.
    return _KEYS[GroupBy(by.value)]


def _matters(problem: Problem, start: date, end: date, as_of: date) -> bool:
    """Whether a problem found by the month's end can count in the month, from its row alone."""
    if start <= problem.found_date:
        return True
    if problem.status is ProblemStatus.DISMISSED:
        return False
    if problem.status is ProblemStatus.CLOSED:
        # Closed before the month: no 重复发现, no 逾期, no 销号 in it (a 销号 is final).
        return problem.closed_date is not None and problem.closed_date >= start
    if problem.status is ProblemStatus.FIXED and problem.fixed_date and problem.fixed_date < start:
        # Reported fixed before the month and not sent back since (返工 clears the date).
        return problem.occurrences > 0
    return True


def _needs_history(problem: Problem, as_of: date) -> bool:
    """Its history can change its items: it may have been overdue, or found again."""
    return problem.status is not ProblemStatus.DISMISSED and (problem.deadline < as_of or problem.occurrences > 0)


def _with_events(store: Store, found: Iterator[Problem], as_of: date) -> Iterator[tuple[Problem, list[ProblemEvent]]]:
    while chunk := list(itertools.islice(found, BATCH)):
        wanted = [p.id for p in chunk if _needs_history(p, as_of)]
        events = store.events_of(wanted) if wanted else {}
        for problem in chunk:
            yield problem, events.get(problem.id, [])


def assess(
    store: Store,
    month: str | None = None,
    by: AssessBy = AssessBy.unit,
    rules: AssessRules | None = None,
    today: date | None = None,
) -> Assessment:
    """The month's 单位考核 (default: this month, to today), from one state of the database.

    Groups: for `unit`, every 责任单位 of a 点位 in the register and of a problem counted; for
    the others, every 街道 (包抓单位, 社区, 网格) the register names. Problems are read in
    found-date order, 500 at a time with their histories in one query (`Store.events_of`).
    """
    from inspect_cli.queries import iter_problems

    now = today or dates.today()
    start, end = parse_month(month, now)
    as_of = min(end, now)
    rules = rules or load_rules()
    with store.snapshot():
        sites = {s.id: s for s in store.list_sites()}
        if by is AssessBy.unit:
            names = {s.unit for s in sites.values() if s.unit}

            def group_of(problem: Problem) -> str | None:
                return problem.unit or NO_UNIT
        else:
            key = _site_keys(by)
            keys = {site_id: key(site) for site_id, site in sites.items()}
            names = {name for name in keys.values() if name is not None}

            def group_of(problem: Problem) -> str | None:
                return keys.get(problem.site_id)

        found = (
            p
            for p in iter_problems(store, date_to=end, order="found", settled_before=start)
            if _matters(p, start, end, as_of)
        )
        return assess_problems(_with_events(store, found, as_of), group_of, rules, start, end, as_of, names, by)


def find_group(store: Store, assessment: Assessment, unit: str) -> GroupResult:
    """The group of one 责任单位 (its name, short name or a former name); a unit of the register
    with nothing counted keeps the base score. An unknown unit: NotFoundError with close names."""
    from inspect_cli.units import find_unit

    if assessment.by is not AssessBy.unit:
        raise InputError("--unit 只能与 --by unit 一起使用")
    name = find_unit(store, unit, "责任单位").name
    for group in assessment.groups:
        if group.name == name:
            return group
    return GroupResult(name, rank=0, score=assessment.rules.base)


# --- outputs --------------------------------------------------------------------------------


def item_data(item: AssessItem) -> dict[str, Any]:
    return {
        "problem_no": item.problem_no,
        "site": item.site,
        "description": item.description,
        "rule": item.rule,
        "rule_label": item.rule_label,
        "points": item.points,
        "date": item.day.isoformat(),
        "reason": item.reason,
    }


def group_data(group: GroupResult) -> dict[str, Any]:
    return {
        "rank": group.rank,
        "name": group.name,
        "problems": group.problems,
        "dismissed": group.dismissed,
        "deducted": group.deducted,
        "deduction": group.deduction,
        "earned": group.earned,
        "bonus": group.bonus,
        "score": group.score,
        "notes": group.notes,
        "items": [item_data(i) for i in group.items],
    }


def assessment_data(assessment: Assessment) -> dict[str, Any]:
    """The assessment as `--json` gives it."""
    from inspect_cli.assess_rules import rules_data

    rules = assessment.rules
    return {
        "month": assessment.month,
        "from": assessment.start.isoformat(),
        "to": assessment.end.isoformat(),
        "as_of": assessment.as_of.isoformat(),
        "complete": assessment.complete,
        "by": assessment.by.value,
        "rules": {"file": str(rules.path) if rules.path else None, **rules_data(rules)},
        "exposure_basis": assessment.exposure_basis,
        "groups": [group_data(g) for g in assessment.groups],
    }


def export_assessment(assessment: Assessment, path: Path, office: str = "") -> dict[str, int]:
    """Write 考核结果 (the ranking) and 扣分明细 (every deduction and bonus, naming its problem)
    to an .xlsx; the rows of each sheet."""
    from inspect_cli.excel.common import Column, Formats, TableSheet, close_workbook, new_workbook

    label = assessment.by.label
    what = f"{label}考核（{assessment.period_text}）"
    signed = f" · {office}" if office else ""
    workbook = new_workbook(path)
    formats = Formats(workbook)
    ranking = TableSheet(
        workbook,
        formats,
        "考核结果",
        [
            Column("排名", "int", width=6),
            Column(label, "wrap", width=24),
            Column("问题数", "int", width=8),
            Column("扣分", "number", width=8),
            Column("加分", "number", width=8),
            Column("得分", "number", width=8),
            Column("说明", "wrap", width=36),
        ],
        what,
        title=f"{what}结果 · 基础分 {points_text(assessment.rules.base)} 分，{assessment.rules.source}{signed}",
    )
    for group in assessment.groups:
        notes = "；".join([*group.notes, *([f"其中不属实 {group.dismissed} 个，不扣分"] if group.dismissed else [])])
        ranking.add([group.rank, group.name, group.problems, group.deduction, group.bonus, group.score, notes or None])
    ranking.finish()
    details = TableSheet(
        workbook,
        formats,
        "扣分明细",
        [
            Column("序号", "int", width=6),
            Column(label, "wrap", width=16),
            Column("问题编号", width=15),
            Column("点位", "wrap", width=18),
            Column("问题描述", "wrap", width=26),
            Column("规则", "wrap", width=15),
            Column("扣分", "number", width=7),
            Column("加分", "number", width=7),
            Column("说明", "wrap", width=34),
            Column("日期", "date", width=11),
        ],
        what,
        title=f"{what}扣分明细 · {assessment.exposure_basis}{signed}",
        printed=9,
    )
    number = 0
    for group in assessment.groups:
        for item in group.items:
            number += 1
            deducted, added = (-item.points, None) if item.points < 0 else (None, item.points)
            details.add(
                [
                    number, group.name, item.problem_no, item.site, item.description, item.rule_label,
                    deducted, added, item.reason, item.day,
                ]
            )  # fmt: skip
    details.finish()
    close_workbook(workbook, path)
    return {"考核结果": ranking.rows, "扣分明细": details.rows}
