"""Plain records passed between the store, the core modules and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from inspect_cli.checklist import Item
from inspect_cli.errors import InputError


class Result(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SEVERE = "severe"
    NA = "na"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def failing(self) -> bool:
        return self in (Result.FAIL, Result.SEVERE)

    @classmethod
    def parse(cls, text: str) -> Result:
        """pass/fail/severe/na, 合格/不合格/严重不合格/不适用, or the run keys 1/2/3/0."""
        if isinstance(text, Result):
            return text
        key = str(text).strip().lower()
        for result, words in _WORDS.items():
            if key in words:
                return result
        raise InputError(f"无法识别的检查结果 '{text}'：应为 合格/不合格/严重不合格/不适用（或 pass/fail/severe/na）")


_LABELS = {Result.PASS: "合格", Result.FAIL: "不合格", Result.SEVERE: "严重不合格", Result.NA: "不适用"}
_WORDS = {
    Result.PASS: {"pass", "p", "ok", "1", "合格", "符合"},
    Result.FAIL: {"fail", "f", "2", "不合格", "不符合"},
    Result.SEVERE: {"severe", "s", "3", "严重不合格", "严重"},
    Result.NA: {"na", "n/a", "0", "不适用", "无"},
}


@dataclass
class Site:
    code: str
    name: str
    site_type: str
    type_code: str
    district: str | None = None
    street: str | None = None
    community: str | None = None
    grid: str | None = None
    address: str | None = None
    unit: str | None = None
    partner: str | None = None
    contact: str | None = None
    phone: str | None = None
    lng: float | None = None
    lat: float | None = None
    id: str = ""
    created_at: str = ""
    updated_at: str = ""


# Fields a register row or `site add` may set, in register column order.
SITE_FIELDS = (
    "code",
    "name",
    "site_type",
    "district",
    "street",
    "community",
    "grid",
    "address",
    "unit",
    "partner",
    "contact",
    "phone",
    "lng",
    "lat",
)


@dataclass
class Photo:
    sha256: str
    stored_name: str
    original_path: str
    added_at: str = ""


@dataclass
class ResultRecord:
    item_id: str
    result: Result
    count: int = 1
    note: str | None = None
    photos: list[Photo] = field(default_factory=list)
    recorded_at: str = ""
    recorded_by: str | None = None


@dataclass
class Inspection:
    id: str
    no: str
    site_id: str
    site_code: str
    site_name: str
    site_type: str
    street: str | None
    date: date
    inspectors: list[str]
    status: str
    checklist_code: str
    checklist_edition: str
    created_at: str
    finished_at: str | None = None

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    @property
    def status_label(self) -> str:
        return "已完成" if self.finished else "进行中"


@dataclass
class InspectionDetail:
    """An inspection with its frozen checklist items and the answers given so far."""

    inspection: Inspection
    items: list[Item]
    results: dict[str, ResultRecord]

    def first_unanswered(self) -> int | None:
        for index, item in enumerate(self.items):
            if item.id not in self.results:
                return index
        return None

    @property
    def unanswered(self) -> list[Item]:
        return [item for item in self.items if item.id not in self.results]
