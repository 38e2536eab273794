"""How two versions of one record become one: the same answer on every replica.

Each record carries its version: `rev` (the Lamport time of its last write), `dev` (the
device that wrote it) and `vv` (its version vector; None means {dev: rev}). Comparing
vectors tells whether one side already saw the other's change (then the newer simply wins)
or both changed it since they last agreed (concurrent). Concurrent versions are merged
deterministically: a problem field by field, each field taking the value written last by
(rev, device); any other record whole, by the same order. The losing values are kept as a
conflict for a person to look at. The result depends only on the set of versions seen,
never on the order they arrived in, which is what makes merging order-independent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from inspect_cli.store.versions import compact, dominated, joined, vector

__all__ = ["compact", "dominated", "joined", "vector"]

# What is compared and kept per record; the rest (version, nested lists) is handled apart.
_NOT_DATA = frozenset({"rev", "dev", "vv", "fclock", "no"})
# Records merged field by field: two sides' changes to different fields both stand.
FIELD_MERGED = ("problems", "units")
# Fields merged field by field (the rest identify the record).
_PROBLEM_SKIP = frozenset({"id", "no", "year", "device", "seq", "site", "prior", "created_at"})


class Outcome(str, Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"


@dataclass
class Merged:
    outcome: Outcome
    record: dict[str, Any] | None = None  # what to store (None: keep the local record)
    # For a conflict: the values kept and the values that lost, of the fields that differ.
    kept: dict[str, Any] = field(default_factory=dict)
    lost: dict[str, Any] = field(default_factory=dict)
    # The record stored is the one that came, as it came (new, or it had seen ours).
    as_sent: bool = False


def stamp(record: dict[str, Any]) -> tuple[int, str]:
    return int(record["rev"]), str(record["dev"])


def merge(table: str, local: dict[str, Any] | None, incoming: dict[str, Any]) -> Merged:
    """The record to keep when `incoming` arrives where `local` is stored."""
    if local is None:
        return Merged(Outcome.NEW, incoming, as_sent=True)
    mine, theirs = vector(local), vector(incoming)
    if dominated(theirs, mine):
        return Merged(Outcome.UNCHANGED)
    if dominated(mine, theirs):
        return Merged(
            Outcome.UPDATED,
            {**incoming, "no": local.get("no", incoming.get("no"))},
            as_sent="no" not in local or local["no"] == incoming.get("no"),
        )
    winner, loser = (incoming, local) if stamp(incoming) > stamp(local) else (local, incoming)
    version = joined(mine, theirs)
    record = _merge_fields(winner, loser) if table in FIELD_MERGED else dict(winner)
    record.update(rev=winner["rev"], dev=winner["dev"], vv=compact(winner["rev"], winner["dev"], version))
    if "no" in local:
        record["no"] = local["no"]
    if table in FIELD_MERGED:
        kept, lost = _field_changes(local, incoming, record, loser)
        if not kept:
            return Merged(Outcome.UPDATED, record)
        return Merged(Outcome.CONFLICT, record, kept, lost)
    kept, lost = _differences(record, loser)
    if not lost:
        # Both sides made the same change: nothing for a person to decide.
        return Merged(Outcome.UPDATED, record)
    return Merged(Outcome.CONFLICT, record, kept, lost)


def _field_changes(
    local: dict[str, Any], incoming: dict[str, Any], merged: dict[str, Any], loser: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A problem changed on two sides: what each side changed, and what was lost.

    `kept` holds every field either side changed since they last agreed, with its merged
    value, and `_from` says whose change it is; `lost` holds the losing value of a field
    both sides changed (empty when both sides' changes stand).
    """
    known_here, known_there = vector(local), vector(incoming)
    clocks_here, clocks_there = local.get("fclock") or {}, incoming.get("fclock") or {}
    merged_clocks = merged.get("fclock") or {}
    kept: dict[str, Any] = {}
    lost: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in sorted(set(clocks_here) | set(clocks_there)):
        here = tuple(clocks_here.get(name) or (0, ""))
        there = tuple(clocks_there.get(name) or (0, ""))
        if here == there or local.get(name) == incoming.get(name):
            continue
        kept[name] = merged.get(name)
        sources[name] = str((merged_clocks.get(name) or ("", ""))[1])
        # A write one side made without knowing the other side's write to the same field.
        new_here = here != (0, "") and known_there.get(str(here[1]), 0) < int(here[0])
        new_there = there != (0, "") and known_here.get(str(there[1]), 0) < int(there[0])
        if new_here and new_there:
            lost[name] = loser.get(name)
    if kept:
        kept["_from"] = sources
        kept["_at"] = merged.get("updated_at")
    if lost:
        lost["_by"] = loser.get("dev")
        lost["_at"] = loser.get("updated_at")
    return kept, lost


def _merge_fields(winner: dict[str, Any], loser: dict[str, Any]) -> dict[str, Any]:
    """A problem merged field by field: each field as whoever wrote it last."""
    clocks_w = winner.get("fclock") or {}
    clocks_l = loser.get("fclock") or {}
    record = dict(winner)
    clocks: dict[str, list[Any]] = {}
    for name in sorted(set(winner) | set(loser)):
        if name in _NOT_DATA or name in _PROBLEM_SKIP:
            continue
        cw = tuple(clocks_w.get(name) or (0, ""))
        cl = tuple(clocks_l.get(name) or (0, ""))
        if cl > cw:
            record[name] = loser.get(name)
        best = max(cw, cl)
        if best != (0, ""):
            clocks[name] = list(best)
    record["fclock"] = clocks
    return record


# When a record was written is not a difference a person has to settle.
_NOT_COMPARED = _NOT_DATA | {"created_at", "updated_at", "recorded_at", "at"}


def _differences(kept: dict[str, Any], other: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = sorted(n for n in set(kept) | set(other) if n not in _NOT_COMPARED and kept.get(n) != other.get(n))
    ours = {n: kept.get(n) for n in names}
    theirs = {n: other.get(n) for n in names}
    if names:
        for side, source in ((ours, kept), (theirs, other)):
            side["_by"] = source.get("dev")
            side["_rev"] = source.get("rev")
            side["_at"] = source.get("updated_at") or source.get("recorded_at") or source.get("at")
    return ours, theirs
