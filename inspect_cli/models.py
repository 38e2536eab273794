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
    unit: str | None = None  # the inspector's override of the 责任单位


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

    @property
    def photo_missing(self) -> list[Item]:
        """Failing items whose checklist asks for a photo and that have none."""
        return [item for item in self.items if needs_photo(item, self.results.get(item.id))]


def needs_photo(item: Item, answer: ResultRecord | None) -> bool:
    """A failing answer to an item that asks for photo evidence, still without a photo."""
    return bool(item.photo_required and answer and answer.result.failing and not answer.photos)


class ProblemStatus(str, Enum):
    OPEN = "open"
    FIXED = "fixed"
    CLOSED = "closed"
    DISMISSED = "dismissed"
    DEFERRED = "deferred"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> ProblemStatus:
        key = str(text).strip().lower()
        for status, label in _STATUS_LABELS.items():
            if key in (status.value, label, *_STATUS_ALIASES.get(status, ())):
                return status
        choices = "、".join(f"{s.value}（{s.label}）" for s in cls)
        raise InputError(f"无法识别的问题状态 '{text}'：应为 {choices}")


_STATUS_LABELS = {
    ProblemStatus.OPEN: "待整改",
    ProblemStatus.FIXED: "已整改待复查",
    ProblemStatus.CLOSED: "已销号",
    ProblemStatus.DISMISSED: "不属实",
    ProblemStatus.DEFERRED: "长期整改",
}
_STATUS_ALIASES = {ProblemStatus.FIXED: ("已整改", "待复查"), ProblemStatus.OPEN: ("返工",)}

# History actions and how they read in Chinese.
EVENT_LABELS = {
    "found": "发现问题",
    "updated": "修改检查结果",
    "repeat": "重复发现",
    "fixed": "上报整改",
    "recheck_pass": "复查通过，销号",
    "recheck_fail": "复查未通过，返工",
    "recheck_open": "复查仍未整改",
    "force_close": "强制销号",
    "dismissed": "认定不属实",
    "deferred": "转为长期整改",
    "assigned": "改派责任单位",
    "deadline": "调整整改时限",
    "progress": "单位反馈进度",
    "unit_renamed": "单位更名",
    "unit_merged": "单位合并",
    "escalated": "升级为严重问题",
}


@dataclass
class ProblemEvent:
    at: str
    date: date
    action: str
    from_status: ProblemStatus | None
    to_status: ProblemStatus | None
    actor: str | None
    note: str | None
    inspection_no: str | None = None
    count: int | None = None
    photos: list[Photo] = field(default_factory=list)

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.action, self.action)


@dataclass
class Problem:
    id: str
    no: str
    site_id: str
    site_code: str
    site_name: str
    site_type: str
    street: str | None
    inspection_no: str | None
    item_id: str
    item_text: str
    category: str
    indicator: str | None
    description: str | None
    count: int
    severity: Result
    unit: str | None
    found_date: date
    deadline: date
    status: ProblemStatus
    rework_count: int = 0
    recheck_count: int = 0
    repeat_of: str | None = None
    fixed_date: date | None = None
    closed_date: date | None = None
    unit_locked: bool = False
    deadline_locked: bool = False
    occurrences: int = 0
    address: str | None = None
    created_at: str = ""
    updated_at: str = ""

    def overdue_days(self, today: date) -> int:
        """Days past the deadline while still 待整改 (返工 included); 0 otherwise."""
        if self.status is ProblemStatus.OPEN and today > self.deadline:
            return (today - self.deadline).days
        return 0

    @property
    def on_time(self) -> bool | None:
        """For a closed problem: was the accepted fix done by the deadline?"""
        if self.status is not ProblemStatus.CLOSED:
            return None
        done = self.fixed_date or self.closed_date
        return done is not None and done <= self.deadline

    @property
    def status_label(self) -> str:
        if self.status is ProblemStatus.OPEN and self.rework_count:
            return f"待整改（返工 {self.rework_count} 次）"
        return self.status.label


class StatsBy(str, Enum):
    """How rectification figures are grouped (`issue stats --by`)."""

    unit = "unit"
    street = "street"
    category = "category"

    @property
    def label(self) -> str:
        return {"unit": "责任单位", "street": "街道", "category": "问题类别"}[self.value]


# How outputs name an empty street and a problem without a unit.
UNSET = "（未填写）"
NO_UNIT = "（未指定责任单位）"
