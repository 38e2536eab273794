"""Local (Asia/Shanghai) calendar dates and tolerant date parsing."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from inspect_cli.errors import InputError

TZ = ZoneInfo("Asia/Shanghai")

_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


ENV_TODAY = "INSPECT_CLI_TODAY"
# Nothing this tool records happened before 创城 inspections were kept on computers.
EARLIEST = date(2000, 1, 1)
# A deadline or a 长期整改 date further out than this is a typo (2062 for 2026).
PLAN_YEARS = 5
# The last year a period or week may reach: further ahead is a typo (and 9999-W52's Sunday is
# past Python's dates).
LATEST_YEAR = 2100


def today() -> date:
    """Today in China; $INSPECT_CLI_TODAY fixes it (reproducible reports, tests)."""
    fixed = os.environ.get(ENV_TODAY)
    if fixed:
        return parse_date(fixed, ENV_TODAY)
    return datetime.now(TZ).date()


def now_iso() -> str:
    return datetime.now(TZ).isoformat(timespec="seconds")


def parse_date(text: str | date | datetime, field: str = "日期") -> date:
    """Accept 2026-11-22, 2026/11/22, 2026.11.22, 20261122 and 2026年11月22日."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    value = str(text)
    if value.strip() in ("今天", "today"):
        return today()
    match = _DATE.match(value) or _COMPACT.match(value)
    if match:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
        else:
            # The checks of each use say more (早于 2000 年); a year this far off is a typo,
            # and the period before 0001-01-07 cannot even be computed.
            if not 1000 <= day.year <= 9000:
                raise InputError(f"{field} {value.strip()} 的年份不正确，请检查日期")
            return day
    raise InputError(f"{field}格式不正确：{value!r}，应为 YYYY-MM-DD（如 2026-11-22）")


def check_past(day: date, field: str) -> date:
    """A date something happened on: not in the future, not before 2000."""
    now = today()
    if day > now:
        raise InputError(f"{field} {day} 晚于今天（{now}），不能填写未来的日期")
    if day < EARLIEST:
        raise InputError(f"{field} {day} 早于 {EARLIEST.year} 年，请检查日期")
    return day


def check_plan(day: date, field: str) -> date:
    """A date planned ahead (a deadline): from 2000 to a few years from now."""
    latest = today() + timedelta(days=round(365.25 * PLAN_YEARS))
    if day < EARLIEST:
        raise InputError(f"{field} {day} 早于 {EARLIEST.year} 年，请检查日期")
    if day > latest:
        raise InputError(f"{field} {day} 晚于 {latest}（{PLAN_YEARS} 年之后），请检查日期")
    return day


def check_period(start: date | None, end: date | None) -> None:
    """A period to report on: in order, and within the years the tool keeps (2000 to 2100)."""
    for day, field in ((start, "起始日期"), (end, "结束日期")):
        if day is not None and not EARLIEST.year <= day.year <= LATEST_YEAR:
            raise InputError(f"{field} {day} 应在 {EARLIEST.year} 到 {LATEST_YEAR} 年之间")
    if start and end and start > end:
        raise InputError(f"起始日期 {start} 晚于结束日期 {end}")


def parse_week(text: str) -> tuple[date, date]:
    """2026-W47 (ISO week) → its Monday and Sunday."""
    match = re.fullmatch(r"\s*(\d{4})-?[Ww](\d{1,2})\s*", text)
    if not match:
        raise InputError(f"周的格式不正确：'{text}'，应为 YYYY-Www（如 2026-W47）")
    if not EARLIEST.year <= int(match[1]) <= LATEST_YEAR:
        raise InputError(f"周 '{text.strip()}' 的年份应在 {EARLIEST.year} 到 {LATEST_YEAR} 之间")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InputError(f"没有这一周：'{text}'") from None
    return monday, monday + timedelta(days=6)


def optional_period(week: str | None, date_from: str | None, date_to: str | None) -> tuple[date | None, date | None]:
    """`--week`, or `--from` and/or `--to` (either end may stay open), or neither (all dates)."""
    if week and (date_from or date_to):
        raise InputError("--week 与 --from/--to 只能用一种")
    if week:
        return parse_week(week)
    start = parse_date(date_from, "起始日期") if date_from else None
    end = parse_date(date_to, "结束日期") if date_to else None
    check_period(start, end)
    return start, end


def current_week(day: date | None = None) -> tuple[date, date]:
    day = day or today()
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def resolve_period(week: str | None, date_from: str | None, date_to: str | None) -> tuple[date, date]:
    """`--week`, or `--from` with `--to`, or (neither given) the current ISO week."""
    if week and (date_from or date_to):
        raise InputError("--week 与 --from/--to 只能用一种")
    if bool(date_from) != bool(date_to):
        raise InputError("--from 和 --to 需要一起使用")
    if week:
        return parse_week(week)
    if date_from and date_to:
        start, end = parse_date(date_from, "起始日期"), parse_date(date_to, "结束日期")
        check_period(start, end)
        return start, end
    return current_week()


def month_day(day: date) -> str:
    """11月2日: a date in running Chinese text."""
    return f"{day.month}月{day.day}日"


def long_date(day: date) -> str:
    """2026年11月2日."""
    return f"{day.year}年{day.month}月{day.day}日"
