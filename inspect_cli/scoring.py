"""How an inspection is scored: the one place that turns answers into points."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from inspect_cli.checklist import Item
from inspect_cli.models import Result, ResultRecord


def item_earned(item: Item, result: Result, count: int = 1) -> float:
    """Points earned on one item; 不适用 earns nothing and is left out of the full score."""
    if result is Result.PASS:
        return item.score
    if result is Result.FAIL:
        return item.score - min(item.score, item.deduct_per_occurrence * max(count, 1))
    return 0.0


@dataclass
class Score:
    earned: float = 0.0
    full: float = 0.0
    items: int = 0
    answered: int = 0
    passed: int = 0
    failed: int = 0
    severe: int = 0
    na: int = 0

    @property
    def rate(self) -> float | None:
        """得分率 in percent, unrounded; None when nothing applicable was checked."""
        return self.earned / self.full * 100 if self.full else None

    @property
    def checked(self) -> int:
        """Items actually checked (answered and applicable)."""
        return self.passed + self.failed + self.severe


def score_inspection(items: Iterable[Item], results: dict[str, ResultRecord]) -> Score:
    score = Score()
    for item in items:
        score.items += 1
        record = results.get(item.id)
        if record is None:
            continue
        score.answered += 1
        if record.result is Result.NA:
            score.na += 1
            continue
        score.full += item.score
        score.earned += item_earned(item, record.result, record.count)
        if record.result is Result.PASS:
            score.passed += 1
        elif record.result is Result.FAIL:
            score.failed += 1
        else:
            score.severe += 1
    return score


def round_rate(rate: float) -> float:
    """One decimal, half away from zero — the way Excel and WPS display 0.0%.

    Terminal, Excel and Word all show rates through this, so they agree to the digit.
    """
    return float(Decimal(repr(rate)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def format_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{round_rate(rate):.1f}%"


def format_points(value: float) -> str:
    return f"{value:g}"
