"""Version vectors: which changes a record's version has seen (pure functions, no SQL).

A record's version is `rev` (the Lamport time of its last write), `dev` (the device that
wrote it) and `vv` (its version vector, JSON; None means {dev: rev}).
"""

from __future__ import annotations

import json
from typing import Any


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
