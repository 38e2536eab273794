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

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# What is compared and kept per record; the rest (version, nested lists) is handled apart.
_NOT_DATA = frozenset({"rev", "dev", "vv", "fclock", "no"})
# Problem fields two replicas may both change; merged field by field.
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


def vector(record: dict[str, Any]) -> dict[str, int]:
    if record.get("vv"):
        raw = record["vv"]
        return dict(json.loads(raw) if isinstance(raw, str) else raw)
    return {record["dev"]: record["rev"]} if record.get("dev") else {}


def dominated(a: dict[str, int], b: dict[str, int]) -> bool:
    """Every change in `a` is known to `b`."""
    return all(b.get(device, 0) >= clock for device, clock in a.items())


def joined(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {device: max(a.get(device, 0), b.get(device, 0)) for device in sorted(a.keys() | b.keys())}


def compact(rev: int, dev: str, vv: dict[str, int]) -> str | None:
    return None if vv == {dev: rev} else json.dumps(vv, sort_keys=True)


def stamp(record: dict[str, Any]) -> tuple[int, str]:
    return int(record["rev"]), str(record["dev"])


def merge(table: str, local: dict[str, Any] | None, incoming: dict[str, Any]) -> Merged:
    """The record to keep when `incoming` arrives where `local` is stored."""
    if local is None:
        return Merged(Outcome.NEW, incoming)
    mine, theirs = vector(local), vector(incoming)
    if dominated(theirs, mine):
        return Merged(Outcome.UNCHANGED)
    if dominated(mine, theirs):
        return Merged(Outcome.UPDATED, {**incoming, "no": local.get("no", incoming.get("no"))})
    winner, loser = (incoming, local) if stamp(incoming) > stamp(local) else (local, incoming)
    version = joined(mine, theirs)
    record = _merge_fields(winner, loser) if table == "problems" else dict(winner)
    record.update(rev=winner["rev"], dev=winner["dev"], vv=compact(winner["rev"], winner["dev"], version))
    if "no" in local:
        record["no"] = local["no"]
    kept, lost = _differences(record, loser)
    if not lost:
        # Both sides made the same change: nothing for a person to decide.
        return Merged(Outcome.UPDATED, record)
    return Merged(Outcome.CONFLICT, record, kept, lost)


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
