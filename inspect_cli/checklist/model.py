"""The checklist model: types, items, problems found in files, the set in force."""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from inspect_cli.errors import NotFoundError
from inspect_cli.text import for_terminal

SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    category: str
    score: float
    deduct: float | None = None
    unit: str | None = None
    deadline_days: int | None = None
    indicator: str | None = None
    standard: str | None = None
    tips: str | None = None
    photo_required: bool = False

    @property
    def deduct_per_occurrence(self) -> float:
        return self.score if self.deduct is None else self.deduct


@dataclass(frozen=True)
class Checklist:
    site_type: str
    code: str
    edition: str
    items: tuple[Item, ...]
    aliases: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def full_score(self) -> float:
        return sum(item.score for item in self.items)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        wanted = item_id.strip().lower()
        for item in self.items:
            if item.id.lower() == wanted:
                return item
        hint = did_you_mean(item_id, [i.id for i in self.items])
        raise NotFoundError(f"{self.site_type}测评标准中没有检查项 '{item_id}'{hint}")


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class ChecklistSet:
    """All checklists in force, keyed by 点位类型; later folders override earlier ones."""

    types: dict[str, Checklist] = field(default_factory=dict)

    def __iter__(self):
        return iter(sorted(self.types.values(), key=lambda c: c.code))

    def __len__(self) -> int:
        return len(self.types)

    def resolve(self, name: str) -> Checklist | None:
        """Find a type by Chinese name, code or alias, tolerant of spaces and width."""
        wanted = normalize_name(name)
        if not wanted:
            return None
        for checklist in self.types.values():
            names = (checklist.site_type, checklist.code, *checklist.aliases)
            if any(normalize_name(n) == wanted for n in names):
                return checklist
        return None

    def get(self, name: str) -> Checklist:
        checklist = self.resolve(name)
        if checklist is None:
            known = [c.site_type for c in self]
            hint = did_you_mean(name, known + [c.code for c in self])
            raise NotFoundError(f"未知的点位类型 '{name}'{hint}（可用：{'、'.join(known)}）")
        return checklist


def normalize_name(text: str) -> str:
    """NFKC folds full-width letters and digits; spaces never distinguish two names."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"（是否想写 '{show(close[0])}'？）" if close else ""


# --- values quoted in messages -----------------------------------------------------


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", for_terminal(text)).strip()


def show(value: Any, limit: int = 40) -> str:
    """A value quoted in a message: one line, no controls, short, never expanded at length."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        # Converting a huge int to text is slow and refused past 4300 digits; a size will do.
        return f"一个约 {int(value.bit_length() * 0.30103) + 1} 位的整数"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return f"{value:g}" if value != int(value) or abs(value) >= 1e16 else str(int(value))
    if isinstance(value, (list, dict, set, tuple)):
        return kind(value)
    text = one_line(SURROGATE.sub("\ufffd", str(value)))
    return text if len(text) <= limit else text[:limit] + "…"


def kind(value: Any) -> str:
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return f"布尔值 {show(value)}"
    if isinstance(value, (int, float)):
        return f"数字 {show(value)}"
    if isinstance(value, str):
        return f"文字 '{show(value)}'"
    if isinstance(value, (date, datetime)):
        return f"日期 {show(value)}"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "键值映射"
    if isinstance(value, set):
        return "集合"
    if isinstance(value, bytes):
        return "二进制数据"
    return "无法识别的值"
