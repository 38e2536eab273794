"""The query layer: every figure any output shows (terminal, Excel, Word) comes from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from inspect_cli.dates import check_period
from inspect_cli.models import Inspection, Site
from inspect_cli.scoring import Score, score_inspection
from inspect_cli.store import Store

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
    ids = [i.id for i in inspections]
    items = store.items_for(ids)
    results = store.results_for(ids)
    sites = {s.id: s for s in store.list_sites()}
    return [ScoredInspection(i, sites[i.site_id], score_inspection(items[i.id], results[i.id])) for i in inspections]


def ranking(
    store: Store,
    by: GroupBy = GroupBy.street,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[RankRow]:
    """Rank groups by the mean of their inspections' unrounded 得分率.

    Ties are broken by more inspections; rows equal on both share a rank.
    """
    groups: dict[str, list[ScoredInspection]] = {}
    for scored in scored_inspections(store, date_from, date_to):
        key = _KEYS[by](scored.site)
        if key is None or scored.score.rate is None:
            continue
        groups.setdefault(key, []).append(scored)
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
