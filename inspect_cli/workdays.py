"""Working days (工作日) by the Chinese public-holiday calendar, 调休 make-up days included.

`chinese_calendar` carries the State Council's schedule year by year. For a year it does
not cover yet, Monday–Friday is used and a warning is queued, once per year per process,
for the CLI to show.
"""

from __future__ import annotations

from datetime import date, timedelta

_missing_years: set[int] = set()
_warned_years: set[int] = set()


def is_workday(day: date) -> bool:
    import chinese_calendar

    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _missing_years.add(day.year)
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start`; 0 is `start` itself (立行立改)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def take_warnings() -> list[str]:
    """Warnings not shown yet: years computed without holiday data."""
    new = sorted(_missing_years - _warned_years)
    _warned_years.update(new)
    return [f"注意：节假日数据不含 {year} 年，该年的整改时限按周一至周五计算工作日" for year in new]
