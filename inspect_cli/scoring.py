"""How an inspection is scored: the one place that turns answers into points."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from inspect_cli.checklist import Item
from inspect_cli.models import Result, ResultRecord


def earned(score: float, deduct: float | None, result: Result, count: int = 1) -> float:
    """Points earned on one item; 不适用 earns nothing and is left out of the full score."""
    if result is Result.PASS:
        return score
    if result is Result.FAIL:
        per = score if deduct is None else deduct
        return score - min(score, per * max(count, 1))
    return 0.0


def item_earned(item: Item, result: Result, count: int = 1) -> float:
    return earned(item.score, item.deduct, result, count)


@dataclass(slots=True)
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

    def add(self, score: float, deduct: float | None, result: Result | None, count: int = 1) -> None:
        """Count one checklist item and its answer (None: not answered yet)."""
        self.items += 1
        if result is None:
            return
        self.answered += 1
        if result is Result.NA:
            self.na += 1
            return
        self.full += score
        self.earned += earned(score, deduct, result, count)
        if result is Result.PASS:
            self.passed += 1
        elif result is Result.FAIL:
            self.failed += 1
        else:
            self.severe += 1


def score_inspection(items: Iterable[Item], results: dict[str, ResultRecord]) -> Score:
    score = Score()
    for item in items:
        record = results.get(item.id)
        score.add(item.score, item.deduct, record.result if record else None, record.count if record else 1)
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
