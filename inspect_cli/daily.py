"""The 日反馈 (daily feedback): the day's problems by 街道 and 责任单位, sent the same evening.

Built once from the query layer, like the weekly notice (`notice.py`), and numbered in a
series of its own. It lists every problem found that day, with its photo and deadline, so
each unit can start on its own the next morning; the Excel 问题清单 beside it holds the
same rows for filtering and forwarding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from inspect_cli.config import NoticeSettings, OfficeSettings
from inspect_cli.dates import long_date, month_day
from inspect_cli.models import NO_UNIT, UNSET, Photo, Problem, Result
from inspect_cli.queries import iter_problems, period_scores
from inspect_cli.store import Store

KIND = "day"
TITLE = "创建全国文明城市工作督查日反馈"


@dataclass
class Tally:
    name: str
    sites: int  # 点位 inspected (by street) or with problems (by unit)
    problems: int
    severe: int
    first_deadline: date | None = None


@dataclass
class DailyNotice:
    number: int
    reissue: bool
    day: date
    issued: date
    office: str
    signature: str
    overview: str
    by_street: list[Tally]
    by_unit: list[Tally]
    # The day's problems, by street then unit, each with its first photo.
    problems: list[tuple[Problem, Photo | None]]
    copy_to: str = ""
    printed_by: str = ""
    title: str = TITLE

    @property
    def number_text(self) -> str:
        return f"第{self.number}期"


def build_daily(
    store: Store, day: date, office: OfficeSettings, settings: NoticeSettings, number: int, reissue: bool = False
) -> DailyNotice:
    from inspect_cli import dates

    scored = period_scores(store, day, day)
    found = list(iter_problems(store, date_from=day, date_to=day, order="unit"))
    found.sort(key=lambda p: (p.street or UNSET, p.unit or NO_UNIT, p.site_code, p.no))
    photos = store.found_photos([p.id for p in found])
    streets: dict[str, Tally] = {}
    inspected: dict[str, set[str]] = {}  # 点位 inspected per street: a 点位 inspected twice is one
    for one in scored:
        name = one.site.street or UNSET
        streets.setdefault(name, Tally(name, 0, 0, 0))
        inspected.setdefault(name, set()).add(one.site.id)
    for name, ids in inspected.items():
        streets[name].sites = len(ids)
    # The day's 不合格 on problems already open: counted into those problems, said here.
    repeats = store.count_repeat_findings(date_from=day, date_to=day)
    units: dict[str, Tally] = {}
    unit_sites: dict[str, set[str]] = {}
    for p in found:
        severe = p.severity is Result.SEVERE
        for tally in (
            streets.setdefault(p.street or UNSET, Tally(p.street or UNSET, 0, 0, 0)),
            units.setdefault(p.unit or NO_UNIT, Tally(p.unit or NO_UNIT, 0, 0, 0)),
        ):
            tally.problems += 1
            tally.severe += severe
            tally.first_deadline = min(filter(None, (tally.first_deadline, p.deadline)))
        unit_sites.setdefault(p.unit or NO_UNIT, set()).add(p.site_code)
    for name, tally in units.items():
        tally.sites = len(unit_sites[name])
    severe = sum(1 for p in found if p.severity is Result.SEVERE)
    if scored:
        again = f"另有 {repeats} 项不合格为已有未销号问题的重复发现、计入原问题；" if repeats else ""
        overview = (
            f"{month_day(day)}，督查组对 {len(inspected)} 个街道 {len({s.site.id for s in scored})} 个点位开展实地督查，"
            + (
                f"发现问题 {len(found)} 个（其中严重问题 {severe} 个），{again}涉及责任单位 {len(units)} 家。"
                if found
                else (f"未发现新问题，{again.rstrip('；')}。" if repeats else "未发现问题。")
            )
        )
    else:
        overview = f"{month_day(day)}未开展实地督查" + (f"，另录入问题 {len(found)} 个。" if found else "。")
    return DailyNotice(
        number=number,
        reissue=reissue,
        day=day,
        issued=dates.today(),
        office=office.name,
        signature=settings.signature or office.name,
        overview=overview,
        by_street=sorted(streets.values(), key=lambda t: (-t.problems, t.name)),
        by_unit=sorted(units.values(), key=lambda t: (-t.problems, t.name)),
        problems=[(p, (photos.get(p.id) or [None])[0]) for p in found],
        copy_to=settings.copy_to,
        printed_by=settings.printed_by or office.name,
    )


def issue_daily(
    store: Store,
    day: date,
    office: OfficeSettings,
    settings: NoticeSettings,
    write: Callable[[DailyNotice], tuple[Path, int]],
    number: int | None = None,
) -> tuple[DailyNotice, Path, int]:
    """Number, build and write the day's feedback: (it, file, photos embedded). As `issue_notice`."""
    claimed, before = store.claim_notice(day, day, number, kind=KIND)
    try:
        with store.snapshot():
            reissue = before is not None and before["number"] == claimed and bool(before["file_name"])
            built = build_daily(store, day, office, settings, claimed, reissue)
            path, photos = write(built)
    except BaseException:
        store.release_notice(day, day, before, kind=KIND)
        raise
    store.notice_issued(claimed, path.name, kind=KIND)
    return built, path, photos


def tally_cells(rows: list[Tally], first: str, sites: str) -> tuple[list[str], list[list[str]]]:
    """A tally table as both writers print it: header and rows."""
    header = [first, sites, "问题数", "其中严重", "最早整改时限"]
    return header, [
        [t.name, str(t.sites), str(t.problems), str(t.severe), month_day(t.first_deadline) if t.first_deadline else "—"]
        for t in rows
    ]


def problem_text(number: int, p: Problem) -> str:
    severity = "（严重）" if p.severity is Result.SEVERE else ""
    return (
        f"{number}. {p.site_name}（{p.site_code}）：{p.description or p.item_text}{severity}。"
        f"责任单位：{p.unit or NO_UNIT}；整改时限：{month_day(p.deadline)}。"
    )


def requirement(day: date) -> str:
    return (
        f"请各责任单位对{month_day(day)}发现的问题立即整改，在整改时限内完成，"
        "并通过整改通知单反馈整改情况和整改后照片；严重问题须当日处置。"
    )


def default_file_name(daily: DailyNotice, suffix: str) -> Path:
    return Path(f"日反馈_{daily.number_text}_{daily.day}{suffix}")


def issued_line(daily: DailyNotice) -> str:
    return long_date(daily.issued)
