"""Recording inspections: start or resume, answer items, finish, delete."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from inspect_cli.checklist import ChecklistSet, Item
from inspect_cli.config import RectificationSettings
from inspect_cli.dates import check_past, today
from inspect_cli.errors import InputError, NotFoundError, StateError
from inspect_cli.media import store_photos
from inspect_cli.models import Inspection, InspectionDetail, Result, ResultRecord, Site
from inspect_cli.rectification import before_inspection_delete, sync_result
from inspect_cli.store import Store
from inspect_cli.text import clean, clean_name
from inspect_cli.units import resolve_unit

MAX_COUNT = 999


def detail(store: Store, inspection: Inspection | str) -> InspectionDetail:
    if isinstance(inspection, str):
        inspection = store.inspection(inspection)
    return InspectionDetail(inspection, store.inspection_items(inspection.id), store.results(inspection.id))


class AlreadyInspected(StateError):
    """The site already has a finished inspection on that date; a second one needs `again`."""

    def __init__(self, site: Site, day: date, numbers: list[str]) -> None:
        super().__init__(
            f"点位 {site.code} {site.name} 在 {day} 已有检查 {'、'.join(numbers)}（已完成）；"
            "同一天再次检查请加 --again（否则同一次检查会被计算两次）"
        )
        self.numbers = numbers


def _new_inspection(
    store: Store, checklists: ChecklistSet, site: Site, day: date, inspectors: list[str] | None, again: bool
) -> Inspection:
    """A new inspection; a second one of the same site on the same date only when asked for."""
    check_past(day, "检查日期")
    names = split_names(inspectors)
    checklist = checklists.get(site.site_type)
    with store.atomic():
        done = store.list_inspections(date_from=day, date_to=day, site_id=site.id, finished_only=True)
        if done and not again:
            raise AlreadyInspected(site, day, [i.no for i in done])
        return store.create_inspection(site, day, names, checklist)


def start(
    store: Store,
    checklists: ChecklistSet,
    site: Site,
    day: date | None = None,
    inspectors: list[str] | None = None,
    again: bool = False,
) -> tuple[InspectionDetail, bool]:
    """Resume the site's unfinished inspection (of `day`, if given) or start a new one.

    Returns the inspection and whether it was resumed.
    """
    if day is not None:
        check_past(day, "检查日期")
    open_ones = store.open_inspections(site.id, day)
    if open_ones:
        resumed = add_inspectors(store, open_ones[0], inspectors)
        return detail(store, resumed), True
    inspection = _new_inspection(store, checklists, site, day or today(), inspectors, again)
    return detail(store, inspection), False


def open_for_record(
    store: Store,
    checklists: ChecklistSet,
    site: Site,
    day: date | None,
    inspectors: list[str] | None,
    reference: str | None,
    again: bool = False,
) -> Inspection:
    """The inspection `record` writes into: the one named, else the site's open one of that date."""
    if reference:
        inspection = store.inspection(reference)
        if inspection.site_id != site.id:
            raise InputError(f"检查 {inspection.no} 属于点位 {inspection.site_code}，不是 {site.code}")
        return inspection
    day = check_past(day or today(), "检查日期")
    open_ones = store.open_inspections(site.id, day)
    if open_ones:
        return add_inspectors(store, open_ones[0], inspectors)
    return _new_inspection(store, checklists, site, day, inspectors, again)


def add_inspectors(store: Store, inspection: Inspection, inspectors: list[str] | None) -> Inspection:
    """Who joins an inspection on resume is added to those already named, never replacing them."""
    names = list(inspection.inspectors)
    names += [n for n in split_names(inspectors) if n not in names]
    if names == inspection.inspectors:
        return inspection
    if inspection.finished:
        raise StateError(f"检查 {inspection.no} 已完成，不能再添加检查人")
    store.set_inspectors(inspection.id, names)
    return store.inspection(inspection.id)


def split_names(inspectors: list[str] | None) -> list[str]:
    """Inspector names as given (-i repeated, or one line split at commas and 、), once each."""
    names: list[str] = []
    for raw in inspectors or []:
        for part in str(raw).replace("，", ",").replace("、", ",").split(","):
            name = clean_name(part, "检查人姓名")
            if name and name not in names:
                names.append(name)
    return names


def find_item(items: list[Item], item_id: str) -> Item:
    wanted = item_id.strip().lower()
    for item in items:
        if item.id.lower() == wanted:
            return item
    if wanted.isdigit() and 1 <= int(wanted) <= len(items):
        return items[int(wanted) - 1]
    raise NotFoundError(f"本次检查没有检查项 '{item_id}'（可用检查项编号或序号 1–{len(items)}）")


def record(
    store: Store,
    inspection: Inspection,
    item_id: str,
    result: Result | str,
    *,
    count: int = 1,
    note: str | None = None,
    photos: list[Path] | None = None,
    media_dir: Path | None = None,
    inspectors: list[str] | None = None,
    unit: str | None = None,
    new_unit: bool = False,
    settings: RectificationSettings | None = None,
) -> ResultRecord:
    """Save one answer at once (its own transaction), replacing an earlier answer.

    A failing answer opens (or updates) its rectification problem in the same transaction.
    The inspector's 责任单位 must be in the unit register, unless `new_unit` adds it.
    """
    if inspection.finished:
        raise StateError(f"检查 {inspection.no} 已完成，不能再修改结果")
    result = Result.parse(result)
    if not 1 <= count <= MAX_COUNT:
        raise InputError(f"问题数量应为 1–{MAX_COUNT} 的整数，当前为 {count}")
    item = find_item(store.inspection_items(inspection.id), item_id)
    note = clean(note, "问题描述")
    unit = clean_name(unit, "责任单位")
    if unit and not new_unit:
        unit = resolve_unit(store, unit)  # a typo is refused before any photo is copied
    stored = None
    if photos:
        if media_dir is None:
            raise InputError("未指定照片存放目录")
        stored = store_photos(photos, media_dir)
    elif not result.failing:
        stored = []  # a passing item keeps no photos of an earlier failure
    names = split_names(inspectors)
    entry = ResultRecord(
        item_id=item.id,
        result=result,
        count=count if result.failing else 1,
        note=note,
        recorded_by="、".join(names) or None,
        unit=unit,
    )
    with store.atomic():
        if unit and new_unit:
            entry.unit = resolve_unit(store, unit, allow_new=True)
        store.save_result(inspection.id, entry, stored)
        saved = store.results(inspection.id)[item.id]
        sync_result(store, inspection, item, saved, settings or RectificationSettings())
    return saved


def record_at_site(
    store: Store,
    checklists: ChecklistSet,
    site: Site,
    item_id: str,
    result: Result | str,
    *,
    day: date | None = None,
    inspectors: list[str] | None = None,
    reference: str | None = None,
    again: bool = False,
    **answer: object,
) -> tuple[Inspection, ResultRecord]:
    """`record`: one answer into the right inspection; a refused answer creates no inspection."""
    with store.atomic():
        inspection = open_for_record(store, checklists, site, day, inspectors, reference, again)
        saved = record(store, inspection, item_id, result, inspectors=inspectors, **answer)  # type: ignore[arg-type]
    return inspection, saved


def finish(store: Store, reference: str | Inspection) -> InspectionDetail:
    current = detail(store, reference)
    if current.inspection.finished:
        raise StateError(f"检查 {current.inspection.no} 已经完成")
    missing = current.unanswered
    if missing:
        listed = "、".join(item.id for item in missing[:10])
        more = " 等" if len(missing) > 10 else ""
        raise StateError(
            f"检查 {current.inspection.no} 还有 {len(missing)} 项未填写（{listed}{more}），"
            f"请用 inspect-cli run {current.inspection.site_code} 继续，或对不检查的项记录“不适用”"
        )
    store.finish_inspection(current.inspection.id)
    return detail(store, current.inspection.id)


def delete(store: Store, reference: str, settings: RectificationSettings | None = None) -> Inspection:
    inspection = store.inspection(reference)
    with store.atomic():
        before_inspection_delete(store, inspection, settings or RectificationSettings())
        store.delete_inspection(inspection.id)
    return inspection
