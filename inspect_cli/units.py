"""The register of 责任单位: one name per unit, so a typo never becomes a unit of its own.

Every 责任单位 or 包抓单位 a problem, a site or an answer carries is a register name. A unit
is found by its name, its short name (简称) or a former name (曾用名, kept by rename and
merge), ignoring full-width forms and spaces. Units named by checklists and by the 点位台账
join the register on first use; a name a person types must already be in it, or be added
on purpose (`allow_new`), so that 市场监官局 is caught instead of ranked.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from enum import Enum
from pathlib import Path

from inspect_cli import dates
from inspect_cli.errors import ImportFileError, InputError, NotFoundError
from inspect_cli.models import ProblemStatus
from inspect_cli.rows import ImportPlan, PlannedRow, refuse_rows
from inspect_cli.store import Store
from inspect_cli.text import MAX_NAME, clean, clean_name, for_terminal

# History actions written on every problem of a renamed or merged unit.
UNIT_RENAMED = "unit_renamed"
UNIT_MERGED = "unit_merged"
_PHONE_LIMIT = 40
# Below this a suggestion is more noise than help: 市场监官局 ~ 市场监管局 scores 0.8, but
# 城市管理局 ~ 市场监管局 (three characters in common) only 0.6.
_SUGGEST_CUTOFF = 0.7


class UnitKind(str, Enum):
    DEPARTMENT = "department"
    STREET = "street"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @classmethod
    def parse(cls, text: object) -> UnitKind | None:
        """部门 / 街道 (or department / street); blank is no kind."""
        if isinstance(text, UnitKind):
            return text
        key = fold(text)
        if not key:
            return None
        for kind, words in _KIND_WORDS.items():
            if key in words:
                return kind
        raise InputError(f"单位类型应为 部门 或 街道，不是 '{for_terminal(text)}'")


_KIND_LABELS = {UnitKind.DEPARTMENT: "部门", UnitKind.STREET: "街道"}
_KIND_WORDS = {
    UnitKind.DEPARTMENT: {"department", "部门", "市直部门"},
    UnitKind.STREET: {"street", "街道", "街道办", "街道办事处", "乡镇"},
}


@dataclass
class Unit:
    name: str
    short_name: str | None = None
    contact: str | None = None
    phone: str | None = None
    kind: UnitKind | None = None
    aliases: list[str] = field(default_factory=list)  # former names, oldest first
    id: str = ""
    created_at: str = ""
    updated_at: str = ""

    @property
    def kind_label(self) -> str:
        return self.kind.label if self.kind else ""


class UnknownUnitError(InputError):
    """A unit name the register does not know; `suggestions` holds the register's close names."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


def fold(text: object) -> str:
    """How names are compared: NFKC (full-width → half-width), no spaces, case folded."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return re.sub(r"\s+", "", value).casefold()


def _unit(row: dict) -> Unit:
    return Unit(
        id=row["id"],
        name=row["name"],
        short_name=row["short_name"],
        contact=row["contact"],
        phone=row["phone"],
        kind=UnitKind(row["kind"]) if row["kind"] else None,
        aliases=list(row["aliases"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class UnitIndex:
    """The register loaded once: every way a unit is named, exactly and folded.

    A unit's own name wins over another's short name, and a short name over a former name,
    so a lookup has one answer even for names an earlier release let slip in twice.
    """

    ROLES = {"name": "名称", "short": "简称", "alias": "曾用名"}
    _RANK = {role: rank for rank, role in enumerate(ROLES)}

    def __init__(self, units: list[Unit]) -> None:
        self.units: list[Unit] = []
        self._exact: dict[str, tuple[int, Unit]] = {}
        self._folded: dict[str, list[tuple[str, Unit]]] = {}
        for unit in units:
            self.add(unit)

    def add(self, unit: Unit) -> None:
        self.units.append(unit)
        for role, names in (("name", [unit.name]), ("short", [unit.short_name]), ("alias", unit.aliases)):
            rank = self._RANK[role]
            for name in filter(None, names):
                if name not in self._exact or rank < self._exact[name][0]:
                    self._exact[name] = (rank, unit)
                entries = self._folded.setdefault(fold(name), [])
                entries.append((role, unit))
                entries.sort(key=lambda entry: self._RANK[entry[0]])

    def find(self, name: str | None) -> Unit | None:
        """The unit `name` means (its name, short name or a former name), or None."""
        if not name:
            return None
        if name in self._exact:
            return self._exact[name][1]
        entries = self._folded.get(fold(name))
        return entries[0][1] if entries else None

    def holder(self, name: str, other_than: Unit | None = None) -> tuple[str, Unit] | None:
        """(role, unit) of a unit other than `other_than` that already answers to `name`."""
        for role, unit in self._folded.get(fold(name), []):
            if unit is not other_than:
                return role, unit
        return None

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """The register names closest to `text`: by characters, and by sound (pinyin), best first."""
        wanted = fold(text)
        if not wanted:
            return []
        typed_initials, typed_pinyin = _pinyin(wanted)
        scored: list[tuple[float, str]] = []
        for unit in self.units:
            best = 0.0
            for name in filter(None, (unit.name, unit.short_name, *unit.aliases)):
                key = fold(name)
                best = max(best, SequenceMatcher(None, wanted, key).ratio())
                initials, pinyin = _pinyin(key)
                # 监官 for 监管: another character with the same sound is the usual IME slip.
                if typed_pinyin and SequenceMatcher(None, typed_pinyin, pinyin).ratio() >= 0.9:
                    best = max(best, 0.9)
                if wanted.isascii() and len(wanted) >= 2 and initials.startswith(wanted):
                    best = max(best, 0.85)
                elif len(typed_initials) >= 3 and typed_initials == initials:
                    best = max(best, 0.7)
            if best >= _SUGGEST_CUTOFF:
                scored.append((best, unit.name))
        scored.sort(key=lambda s: (-s[0], len(s[1]), s[1]))
        return [name for _, name in scored[:limit]]


@functools.lru_cache(maxsize=4096)
def _pinyin(key: str) -> tuple[str, str]:
    # Imported here: sites imports this module, and pypinyin takes half a second to load,
    # which only a search by letters or a failed lookup should pay.
    from inspect_cli.sites import pinyin_keys

    return pinyin_keys(key)


def index(store: Store) -> UnitIndex:
    return UnitIndex(list_units(store))


def list_units(store: Store) -> list[Unit]:
    """The register, by name."""
    return [_unit(row) for row in store.units()]


def register_name(store: Store, name: str | None) -> str | None:
    """The register's current name for `name`, or None when the register does not know it."""
    found = index(store).find(name.strip()) if name else None
    return found.name if found else None


def search_units(store: Store, text: str | None, limit: int | None = 20) -> list[Unit]:
    """Units named by `text`: best matches first, at most `limit` (None: all).

    A unit matches when its name, short name or a former name, or the pinyin of one
    (initials `scjg` or full), equals `text` (first), starts with it (next) or holds it.
    """
    units = list_units(store)
    wanted = fold(text)
    if not wanted:
        return units if limit is None else units[:limit]
    # Only letters can be pinyin; a Chinese fragment never needs pypinyin loaded.
    by_sound = wanted.isascii() and wanted.isalpha()
    ranked: list[tuple[int, int, int, str, Unit]] = []
    for unit in units:
        best: tuple[int, int] | None = None
        for former, name in ((0, unit.name), (0, unit.short_name), *((1, a) for a in unit.aliases)):
            if not name:
                continue
            keys = [fold(name)]
            if by_sound:
                keys += _pinyin(keys[0])
            for key in keys:
                tier = 0 if key == wanted else 1 if key.startswith(wanted) else 2 if wanted in key else None
                if tier is not None and (best is None or (tier, former) < best):
                    best = (tier, former)
        if best is not None:
            ranked.append((best[0], best[1], len(unit.name), unit.name, unit))
    ranked.sort(key=lambda r: r[:4])
    found = [r[4] for r in ranked]
    return found if limit is None else found[:limit]


def _quoted(names: list[str]) -> str:
    return " 或 ".join(f"'{n}'" for n in names)


def resolve_unit(store: Store, name: str | None, *, allow_new: bool = False, field: str = "责任单位") -> str:
    """The register's current name for `name` (its name, short name or a former name).

    An unknown name is refused with the closest register names; with `allow_new` it is
    added to the register and returned.
    """
    cleaned = clean_name(name, field)
    if not cleaned:
        raise InputError(f"请填写{field}")
    register = index(store)
    found = register.find(cleaned)
    if found is not None:
        return found.name
    if allow_new:
        store.insert_units([{"name": cleaned}])
        return cleaned
    close = register.suggest(cleaned)
    hint = f"（是否想写 {_quoted(close)}？）" if close else ""
    raise UnknownUnitError(f"未知的{field} '{cleaned}'{hint}；确是新单位请加 --new-unit", close)


def ensure_units(store: Store, names: Iterable[str | None]) -> dict[str, str]:
    """Each given name → its register name, adding the names the register does not know.

    For names that come from a checklist or the 点位台账, which the office wrote on purpose:
    they join the register the first time they are used.
    """
    register = index(store)
    found: dict[str, str] = {}
    new: list[str] = []
    for raw in names:
        if raw is None or raw in found:
            continue
        name = clean_name(raw, "责任单位")
        if not name:
            continue
        unit = register.find(name)
        if unit is None:
            unit = Unit(name=name)
            register.add(unit)
            new.append(name)
        found[raw] = unit.name
    if new:
        store.insert_units([{"name": n} for n in new])
    return found


# --- adding, changing, importing --------------------------------------------------------


def _details(short_name: object, contact: object, phone: object, kind: object) -> dict[str, object]:
    return {
        "short_name": clean_name(short_name, "简称"),
        "contact": clean_name(contact, "联系人"),
        "phone": clean(
            unicodedata.normalize("NFKC", str(phone)) if phone else None, "电话", limit=_PHONE_LIMIT, multiline=False
        ),
        "kind": UnitKind.parse(kind),
    }


def _taken(register: UnitIndex, name: str, what: str, own: Unit | None = None) -> str | None:
    """Why `name` cannot be given to `own` (or a new unit), or None when it is free."""
    held = register.holder(name, own)
    if held is None:
        return None
    role, unit = held
    return f"{what} '{name}' 已是单位 {unit.name} 的{UnitIndex.ROLES[role]}"


def add_unit(
    store: Store,
    name: str,
    *,
    short_name: str | None = None,
    contact: str | None = None,
    phone: str | None = None,
    kind: UnitKind | str | None = None,
) -> Unit:
    """Add one unit to the register; a name or short name the register already answers to is refused."""
    cleaned = clean_name(name, "单位名称", required=True) or ""
    details = _details(short_name, contact, phone, kind)
    if details["short_name"] and fold(details["short_name"]) == fold(cleaned):
        details["short_name"] = None  # a short name equal to the name says nothing
    register = index(store)
    held = register.holder(cleaned)
    if held is not None and held[0] == "name":
        raise InputError(f"单位 {held[1].name} 已在单位名录中")
    for value, what in ((cleaned, "单位名称"), (details["short_name"], "简称")):
        reason = _taken(register, str(value), what) if value else None
        if reason:
            raise InputError(reason)
    (unit_id,) = store.insert_units([{"name": cleaned, **_stored(details)}])
    return _get(store, unit_id)


def _stored(values: dict[str, object]) -> dict[str, object]:
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}


def _get(store: Store, unit_id: str) -> Unit:
    return next(u for u in list_units(store) if u.id == unit_id)


def _existing(register: UnitIndex, text: str | None, what: str) -> Unit:
    name = clean_name(text, what, required=True) or ""
    unit = register.find(name)
    if unit is None:
        close = register.suggest(name)
        hint = f"（是否想写 {_quoted(close)}？）" if close else "（可用 inspect-cli unit list 查看）"
        raise NotFoundError(f"找不到单位 '{name}'{hint}")
    return unit


def find_unit(store: Store, text: str | None, what: str = "单位") -> Unit:
    """The unit `text` names (name, short name or former name); unknown: NotFoundError with close names."""
    return _existing(index(store), text, what)


@dataclass
class UnitMove:
    """What a rename or merge did: the unit now, the name that went, and what followed it."""

    unit: Unit
    former: str
    problems: int
    sites: int


def rename_unit(store: Store, old: str, new: str, actor: str | None = None) -> UnitMove:
    """Give a unit a new name everywhere; the old name stays as a former name that still finds it.

    Every problem of the unit is relabelled with a history event; sites and answers follow.
    A name another unit already has is refused: that is a merge.
    """
    actor = clean_name(actor, "操作人")
    with store.atomic():
        register = index(store)
        unit = _existing(register, old, "单位")
        name = clean_name(new, "新名称", required=True) or ""
        if name == unit.name:
            raise InputError(f"单位名称已是 {unit.name}")
        held = register.holder(name, unit)
        if held is not None and held[0] == "name":
            other = held[1].name
            raise InputError(
                f"已有单位 {other}：要把 {unit.name} 并入它，请用 inspect-cli unit merge {unit.name} {other}"
            )
        reason = _taken(register, name, "新名称", unit)
        if reason:
            raise InputError(reason)
        names = [n for n in (unit.name, *unit.aliases) if n != name]
        problems, sites = store.rename_unit(
            unit.id,
            unit.name,
            name,
            names=names,
            action=UNIT_RENAMED,
            note=f"单位更名：{unit.name} → {name}",
            actor=actor,
            day=dates.today(),
        )
        if unit.short_name and fold(unit.short_name) == fold(name):
            store.update_unit(unit.id, short_name=None)
    return UnitMove(_get(store, unit.id), unit.name, problems, sites)


def merge_units(store: Store, source: str, target: str, actor: str | None = None) -> UnitMove:
    """Fold `source` into `target` (a typo, or a unit absorbed by another).

    Its problems (each with a history event), sites and answers move to the target, its
    names become former names of the target, and it leaves the register.
    """
    actor = clean_name(actor, "操作人")
    with store.atomic():
        register = index(store)
        src = _existing(register, source, "要并入的单位")
        dst = _existing(register, target, "目标单位")
        if src.id == dst.id:
            raise InputError(f"'{source}' 和 '{target}' 是同一个单位 {dst.name}")
        own = {fold(n) for n in (dst.name, dst.short_name) if n}
        aliases = [n for n in (src.name, src.short_name) if n and fold(n) not in own]
        problems, sites = store.merge_units(
            src.id,
            dst.id,
            target=dst.name,
            names=[src.name, *src.aliases],
            aliases=aliases,
            action=UNIT_MERGED,
            note=f"单位合并：{src.name} 并入 {dst.name}",
            actor=actor,
            day=dates.today(),
        )
    return UnitMove(_get(store, dst.id), src.name, problems, sites)


@dataclass
class UnitSummary:
    unit: Unit
    open_problems: int  # 待整改, 返工 included


def unit_overview(store: Store, search: str | None = None) -> list[UnitSummary]:
    """The register (or the units matching `search`) with each unit's 待整改 problems."""
    found = search_units(store, search, limit=None) if search else list_units(store)
    counts = store.unit_problem_counts([ProblemStatus.OPEN])
    return [UnitSummary(u, counts.get(u.name, 0)) for u in found]


# --- importing a unit list --------------------------------------------------------------

# Header names seen in unit lists, matched like the 点位台账's (NFKC, spaces ignored).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("单位名称", "名称", "单位", "责任单位", "单位全称"),
    "short_name": ("简称", "单位简称"),
    "contact": ("联系人", "负责人"),
    "phone": ("电话", "联系电话", "手机", "联系方式"),
    "kind": ("类型", "单位类型", "类别"),
}
FIELD_LABELS = {key: names[0] for key, names in HEADER_ALIASES.items()}


@dataclass
class UnitChange(PlannedRow):
    row: int
    action: str  # "create" | "update" | "unchanged"
    unit: Unit
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)


@dataclass
class UnitImportReport(ImportPlan):
    path: str
    header_row: int
    changes: list[UnitChange]
    ignored_columns: list[str]
    dry_run: bool


def _parse_unit_row(values: dict[str, str], errors: list[str]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for key, raw in values.items():
        label = FIELD_LABELS[key]
        try:
            if key == "kind":
                parsed[key] = UnitKind.parse(raw)
            elif key == "phone":
                parsed[key] = clean(unicodedata.normalize("NFKC", raw), label, limit=_PHONE_LIMIT, multiline=False)
            else:
                parsed[key] = clean(raw, label, limit=MAX_NAME, multiline=False)
        except InputError as exc:
            errors.append(exc.message)
            parsed[key] = None
            continue
        value = parsed[key]
        if isinstance(value, str) and len(value) > 1 and value.startswith("="):
            errors.append(f"{label}是公式而不是值：'{value[:30]}'（请在 Excel 中“粘贴为数值”后再导入）")
    if not parsed.get("name") and not any(e.startswith(FIELD_LABELS["name"]) for e in errors):
        errors.append("缺少单位名称")
    return parsed


def plan_units(store: Store, rows: list[tuple[int, dict[str, str]]], source: str) -> list[UnitChange]:
    """What each row would do; raise listing every bad row, writing nothing."""
    register = index(store)
    problems: list[str] = []
    plan: list[UnitChange] = []
    seen: dict[str, int] = {}
    for row_no, values in rows:
        errors: list[str] = []
        parsed = _parse_unit_row(values, errors)
        name = str(parsed.get("name") or "")
        existing = register.find(name) if name else None
        key = fold(existing.name if existing else name)
        if name and key in seen:
            errors.append(f"与第 {seen[key]} 行是同一个单位")
        short = parsed.get("short_name")
        if short and fold(short) != fold(name):
            reason = _taken(register, str(short), "简称", existing)
            if reason:
                errors.append(reason)
        elif short:
            parsed["short_name"] = None  # a short name equal to the name says nothing
        if errors:
            problems.append(f"第 {row_no} 行：{'；'.join(errors)}")
            continue
        seen[key] = row_no
        # Blank cells and absent columns keep what the register already holds.
        details = {k: v for k, v in parsed.items() if k != "name" and v is not None}
        if existing is None:
            unit = Unit(name=name, **details)  # type: ignore[arg-type]
            register.add(unit)  # a later row's short name must not take this one's name
            plan.append(UnitChange(row_no, "create", unit))
            continue
        changes = {k: (getattr(existing, k), v) for k, v in details.items() if getattr(existing, k) != v}
        updated = replace(existing, **details)
        plan.append(UnitChange(row_no, "update" if changes else "unchanged", updated, changes))
    if problems:
        refuse_rows(source, problems)
    return plan


def import_units(store: Store, path: Path, dry_run: bool = False) -> UnitImportReport:
    """Read a unit list (.xlsx / .csv); all rows or none. Units are matched by any name they answer to."""
    from inspect_cli.sites import TableSpec, read_table

    table = read_table(path, TableSpec(HEADER_ALIASES, ("name",), "单位名录", "“单位名称”一列"))
    rows = [
        (row_no, {f: (cells[col] if col < len(cells) else "") for f, col in table.columns.items()})
        for row_no, cells in table.rows
    ]
    if not rows:
        raise ImportFileError(f"{path.name}：表头（第 {table.header_row} 行）下没有数据行")
    plan = plan_units(store, rows, path.name)
    if not dry_run:
        with store.atomic():
            created = [c.unit for c in plan if c.action == "create"]
            ids = store.insert_units([{"name": u.name, **_stored(_fields(u))} for u in created])
            for unit, unit_id in zip(created, ids, strict=True):
                unit.id = unit_id
            for change in plan:
                if change.action == "update":
                    store.update_unit(change.unit.id, **_stored({k: v for k, (_, v) in change.changes.items()}))
    return UnitImportReport(str(path), table.header_row, plan, table.ignored_columns, dry_run)


def _fields(unit: Unit) -> dict[str, object]:
    return {"short_name": unit.short_name, "contact": unit.contact, "phone": unit.phone, "kind": unit.kind}
