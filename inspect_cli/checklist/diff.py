"""What changed between two sets of checklists, per 点位类型 and item by item.

Pure: takes checklists (from files, folders or stored editions, whoever read them) and
returns a `SetDiff`. Types are matched by code, items by id: the id is the item's name
across editions (README: "stable across editions"), so the same id with another text is a
reworded item, not a new one. An id that disappears while an item with the very same text
appears under a new id was renumbered, not deleted and added: a person reading the report
wants to know the item survived.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from inspect_cli.checklist.model import Checklist, Item

# Every field of an item but its id, in the order a change is reported.
ITEM_FIELDS = (
    "text",
    "category",
    "score",
    "deduct",
    "deadline_days",
    "unit",
    "indicator",
    "standard",
    "tips",
    "photo_required",
)
# Fields of a type compared besides its items (the code is what types are matched by).
TYPE_FIELDS = ("site_type", "edition", "aliases")


class Change(str, Enum):
    """A kind of change counted per type, in the order the counts line names them."""

    ADDED = "added"
    REMOVED = "removed"
    RENUMBERED = "renumbered"
    REWORDED = "reworded"
    CATEGORY = "category"
    SCORE = "score"
    DEDUCT = "deduct"
    DEADLINE = "deadline_days"
    OTHER = "other"


# The kind a changed field counts as; fields not named here count as OTHER.
FIELD_CHANGE = {
    "text": Change.REWORDED,
    "category": Change.CATEGORY,
    "score": Change.SCORE,
    "deduct": Change.DEDUCT,
    "deadline_days": Change.DEADLINE,
}


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ItemChange:
    """An item on both sides: `old_id` differs from `id` when it was renumbered."""

    id: str
    old_id: str
    text: str
    changes: tuple[FieldChange, ...]

    @property
    def renumbered(self) -> bool:
        return self.old_id != self.id

    @property
    def kinds(self) -> tuple[Change, ...]:
        found = {FIELD_CHANGE.get(c.field, Change.OTHER) for c in self.changes}
        if self.renumbered:
            found.add(Change.RENUMBERED)
        return tuple(kind for kind in Change if kind in found)


@dataclass(frozen=True)
class TypeDiff:
    """One 点位类型 (one code): absent on one side, or compared item by item.

    A type on one side only has all its items added (or removed), so that counts and
    "apply the changes" work the same for every type.
    """

    code: str
    old: Checklist | None
    new: Checklist | None
    fields: tuple[FieldChange, ...] = ()
    added: tuple[Item, ...] = ()
    removed: tuple[Item, ...] = ()
    # Items on both sides that differ (renumbered ones included, whether or not anything
    # else changed), in the new side's order.
    changed: tuple[ItemChange, ...] = ()
    order_changed: bool = False

    @property
    def status(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.fields or self.added or self.removed or self.changed or self.order_changed else "same"

    @property
    def renumbered(self) -> tuple[ItemChange, ...]:
        return tuple(c for c in self.changed if c.renumbered)

    def counts(self) -> dict[Change, int]:
        """How many items show each kind of change; an item may count under several."""
        counts = dict.fromkeys(Change, 0)
        counts[Change.ADDED] = len(self.added)
        counts[Change.REMOVED] = len(self.removed)
        for change in self.changed:
            for kind in change.kinds:
                counts[kind] += 1
        return counts


@dataclass(frozen=True)
class SetDiff:
    types: tuple[TypeDiff, ...]  # every code found on either side, by code

    @property
    def identical(self) -> bool:
        return all(t.status == "same" for t in self.types)

    def with_status(self, status: str) -> list[TypeDiff]:
        return [t for t in self.types if t.status == status]


def diff_checklists(
    old: Iterable[Checklist], new: Iterable[Checklist], type_fields: Iterable[str] = TYPE_FIELDS
) -> SetDiff:
    """Compare two sets of types, matched by code. Each side holds a code at most once.

    `type_fields`: the fields of a type compared besides its items; a side that does not
    know some (a stored edition keeps no aliases) leaves them out.
    """
    type_fields = tuple(type_fields)
    old_by_code = _by_code(old, "old")
    new_by_code = _by_code(new, "new")
    types = []
    for code in sorted(old_by_code.keys() | new_by_code.keys()):
        before, after = old_by_code.get(code), new_by_code.get(code)
        if before is None:
            assert after is not None
            types.append(TypeDiff(code, None, after, added=after.items))
        elif after is None:
            types.append(TypeDiff(code, before, None, removed=before.items))
        else:
            types.append(diff_type(before, after, type_fields))
    return SetDiff(tuple(types))


def _by_code(checklists: Iterable[Checklist], side: str) -> dict[str, Checklist]:
    found: dict[str, Checklist] = {}
    for checklist in checklists:
        if checklist.code in found:
            raise ValueError(f"{side}: code {checklist.code!r} given twice")
        found[checklist.code] = checklist
    return found


def diff_type(old: Checklist, new: Checklist, type_fields: Iterable[str] = TYPE_FIELDS) -> TypeDiff:
    """Compare two editions of one type (their codes are not compared)."""
    fields = tuple(
        FieldChange(name, getattr(old, name), getattr(new, name))
        for name in TYPE_FIELDS
        if name in type_fields and getattr(old, name) != getattr(new, name)
    )
    old_ids = {item.id for item in old.items}
    new_ids = {item.id for item in new.items}
    gone = [item for item in old.items if item.id not in new_ids]
    arrived = [item for item in new.items if item.id not in old_ids]

    # A vanished id whose text reappears under a new id: paired in order, one to one.
    by_text: dict[str, deque[Item]] = defaultdict(deque)
    for item in arrived:
        by_text[item.text].append(item)
    pairs: dict[str, Item] = {}  # new id -> old item
    removed = []
    for item in gone:
        waiting = by_text.get(item.text)
        if waiting:
            pairs[waiting.popleft().id] = item
        else:
            removed.append(item)
    added = tuple(item for item in arrived if item.id not in pairs)

    old_by_id = {item.id: item for item in old.items}
    changed = []
    matched_old_order = []  # new ids of matched items, in the old side's order
    for item in new.items:
        before = old_by_id.get(item.id) or pairs.get(item.id)
        if before is None:
            continue
        changes = _item_changes(before, item)
        if changes or before.id != item.id:
            changed.append(ItemChange(item.id, before.id, item.text, changes))
    new_id_of = {before.id: new_id for new_id, before in pairs.items()}
    for item in old.items:
        if item.id in new_ids:
            matched_old_order.append(item.id)
        elif item.id in new_id_of:
            matched_old_order.append(new_id_of[item.id])
    matched = set(matched_old_order)
    matched_new_order = [item.id for item in new.items if item.id in matched]
    return TypeDiff(
        code=new.code,
        old=old,
        new=new,
        fields=fields,
        added=added,
        removed=tuple(removed),
        changed=tuple(changed),
        order_changed=matched_old_order != matched_new_order,
    )


def _item_changes(old: Item, new: Item) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(name, getattr(old, name), getattr(new, name))
        for name in ITEM_FIELDS
        if getattr(old, name) != getattr(new, name)
    )
