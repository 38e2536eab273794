"""The rectification loop: every failing answer becomes a tracked problem.

待整改 → 已整改待复查 (the unit reports the fix) → 已销号 (a re-check passes), or back to
待整改 as 返工 (a re-check fails). The office may also mark a problem 不属实 or 长期整改.
Every change writes one history event in the same transaction as the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from inspect_cli import dates, units
from inspect_cli.checklist import Item
from inspect_cli.config import RectificationSettings
from inspect_cli.errors import InputError, StateError
from inspect_cli.media import store_photos
from inspect_cli.models import Inspection, Problem, ProblemEvent, ProblemStatus, Result, ResultRecord, Site
from inspect_cli.store import Store
from inspect_cli.text import clean, clean_name
from inspect_cli.workdays import add_working_days

OPEN, FIXED, CLOSED, DISMISSED, DEFERRED = (
    ProblemStatus.OPEN,
    ProblemStatus.FIXED,
    ProblemStatus.CLOSED,
    ProblemStatus.DISMISSED,
    ProblemStatus.DEFERRED,
)
# Actions by which a unit, an inspector or the office handled a problem.
HANDLED = frozenset({"fixed", "recheck_pass", "recheck_fail", "recheck_open", "force_close", "dismissed", "deferred"})
# Actions that mean somebody has worked on a problem; such a problem is never deleted.
_PROGRESS = HANDLED | {"progress"}
# What makes an earlier view of a problem (an exported 整改通知单) out of date. These events
# are never deleted (only findings are withdrawn), so counting them marks a point in time.
SUPERSEDING = HANDLED | {"assigned"}


def deadline_for(found: date, deadline_days: int | None, severity: Result, settings: RectificationSettings) -> date:
    """Found date + working days; 严重不合格 halves the time (rounded down)."""
    days = settings.default_deadline_days if deadline_days is None else deadline_days
    if severity is Result.SEVERE:
        days //= 2
    return add_working_days(found, days)


def responsible_unit(item: Item, site: Site, override: str | None) -> str | None:
    """The inspector's choice, else the item's default unit, else the site's own unit."""
    for unit in (override, item.unit, site.unit):
        if unit and unit.strip():
            return unit.strip()
    return None


def problem_unit(store: Store, item: Item, site: Site, override: str | None) -> str | None:
    """`responsible_unit` as the unit register names it.

    A checklist's or a site's unit joins the register on first use, and a former or short
    name becomes the current one (a checklist written before a rename still names the
    renamed unit). The inspector's override was checked against the register by the caller
    (`inspection.record`); it is ensured here too, so no problem ever names a unit the
    register does not hold.
    """
    unit = responsible_unit(item, site, override)
    return units.ensure_units(store, [unit])[unit] if unit else None


# --- following the answers of an inspection -----------------------------------------


def sync_result(
    store: Store,
    inspection: Inspection,
    item: Item,
    answer: ResultRecord,
    settings: RectificationSettings,
) -> None:
    """Bring the problems in line with one (new or changed) answer. Runs inside its transaction."""
    with store.atomic():
        origin = store.origin_problem(inspection.id, item.id)
        repeat = store.repeat_event(inspection.id, item.id)
        if not answer.result.failing:
            if origin is not None:
                _remove_origin(store, origin, settings)
            if repeat is not None:
                store.delete_repeat_events(inspection.id, repeat[0])
                _settle_severity(store, repeat[0])
            return
        site = store.site_by_id(inspection.site_id)
        photos = answer.photos
        actor = answer.recorded_by or "、".join(inspection.inspectors) or None
        if origin is not None:
            _update_origin(store, origin, inspection, item, answer, site, settings, actor)
            return
        if repeat is not None:
            problem_id, event_id = repeat
            store.update_event(event_id, answer.note, answer.count)
            store.set_event_photos(problem_id, event_id, photos)
            # One escalation per finding at most, and none once the finding is no longer severe.
            store.delete_escalation(problem_id, inspection.id)
            _settle_severity(store, problem_id, escalating=(inspection, actor))
            return
        active = store.active_problem(site.id, item.id)
        if active is not None:
            # Found again while still open: an occurrence of the same problem, with its own
            # count, description, photos and inspectors, not a problem of its own.
            store.add_event(
                active.id,
                "repeat",
                inspection.date,
                actor=actor,
                note=answer.note,
                inspection_id=inspection.id,
                count=answer.count,
                photos=photos,
            )
            if answer.result is Result.SEVERE and active.severity is not Result.SEVERE:
                _escalate(store, active.id, inspection, actor)
            return
        earlier = store.last_closed_problem(site.id, item.id, inspection.date)
        window = settings.repeat_window_days
        repeat_of = None
        if earlier and earlier.closed_date and (inspection.date - earlier.closed_date).days <= window:
            repeat_of = earlier.id
        problem_id = store.insert_problem(
            {
                "site_id": site.id,
                "inspection_id": inspection.id,
                "item_id": item.id,
                "item_text": item.text,
                "category": item.category,
                "indicator": item.indicator,
                "description": answer.note,
                "count": answer.count,
                "severity": answer.result.value,
                "unit": problem_unit(store, item, site, answer.unit),
                "found_date": inspection.date,
                "deadline": deadline_for(inspection.date, item.deadline_days, answer.result, settings),
                "status": OPEN.value,
                "repeat_of": repeat_of,
            }
        )
        note = f"反复出现（{earlier.no} 于 {earlier.closed_date} 销号）" if repeat_of and earlier else answer.note
        store.add_event(
            problem_id,
            "found",
            inspection.date,
            to_status=OPEN,
            actor=actor,
            note=note,
            inspection_id=inspection.id,
            count=answer.count,
            photos=photos,
        )


def _severity(store: Store, problem: Problem, found: Result, without: str | None = None) -> Result:
    """严重不合格 when the finding or any later occurrence (but `without`'s) was severe."""
    if found is Result.SEVERE:
        return found
    for _, inspection_id in store.repeat_events(problem.id):
        if inspection_id == without:
            continue
        again = store.results(inspection_id).get(problem.item_id)
        if again is not None and again.result is Result.SEVERE:
            return Result.SEVERE
    return found


def _settle_severity(store: Store, problem_id: str, escalating: tuple[Inspection, str | None] | None = None) -> None:
    """The severity a problem's findings support, after one of them changed or was withdrawn.

    `escalating`: the occurrence just recorded; when it alone makes the problem severe, the
    history says so.
    """
    problem = store.problem(problem_id)
    origin_id = store.problem_origin(problem_id)
    origin = store.results(origin_id).get(problem.item_id) if origin_id else None
    if origin is None or not origin.result.failing:
        return  # the origin itself is being withdrawn; its successor sets the severity
    if escalating is not None:
        inspection, actor = escalating
        baseline = _severity(store, problem, origin.result, without=inspection.id)
        if baseline is not Result.SEVERE and _severity(store, problem, origin.result) is Result.SEVERE:
            _escalate(store, problem.id, inspection, actor)
            return
    severity = _severity(store, problem, origin.result)
    if severity is not problem.severity:
        store.update_problem(problem.id, severity=severity.value)


def _escalate(store: Store, problem_id: str, inspection: Inspection, actor: str | None) -> None:
    """A 严重不合格 occurrence makes the problem severe, and its history says which one."""
    store.update_problem(problem_id, severity=Result.SEVERE.value)
    store.add_event(
        problem_id,
        "escalated",
        inspection.date,
        actor=actor,
        note=f"再次发现为严重不合格（检查 {inspection.no}）",
        inspection_id=inspection.id,
    )


def _answer_values(
    store: Store,
    problem: Problem,
    found: date,
    item: Item,
    answer: ResultRecord,
    site: Site,
    settings: RectificationSettings,
) -> dict[str, object]:
    """What a problem takes from the answer that found it; the office's own choices stay."""
    values: dict[str, object] = {
        "description": answer.note,
        "count": answer.count,
        "severity": _severity(store, problem, answer.result).value,
    }
    if not problem.unit_locked:
        values["unit"] = problem_unit(store, item, site, answer.unit)
    if not problem.deadline_locked:
        values["deadline"] = deadline_for(found, item.deadline_days, answer.result, settings)
    return values


def _update_origin(
    store: Store,
    problem: Problem,
    inspection: Inspection,
    item: Item,
    answer: ResultRecord,
    site: Site,
    settings: RectificationSettings,
    actor: str | None,
) -> None:
    values = _answer_values(store, problem, inspection.date, item, answer, site, settings)
    changed = {
        "description": problem.description != answer.note,
        "count": problem.count != answer.count,
        "severity": problem.severity is not answer.result,
        "unit": "unit" in values and values["unit"] != problem.unit,
    }
    store.update_problem(problem.id, **values)
    found_event = store.first_event_id(problem.id, "found")
    if found_event is not None:
        store.set_event_photos(problem.id, found_event, answer.photos)
    if any(changed.values()):
        store.add_event(
            problem.id,
            "updated",
            inspection.date,
            actor=actor,
            note=f"{answer.result.label}，{answer.count} 处：{answer.note or '无描述'}",
            inspection_id=inspection.id,
            count=answer.count,
        )


def _worked_on(store: Store, problem: Problem) -> bool:
    return bool(_PROGRESS & set(store.event_actions(problem.id)))


def _remove_origin(store: Store, problem: Problem, settings: RectificationSettings) -> None:
    """The answer that found a problem is withdrawn (changed to 合格/不适用, or its inspection deleted).

    A later inspection that found it again still stands: its finding becomes the problem's
    origin (same number), so a problem is never dropped while an answer still fails it.
    """
    if _worked_on(store, problem):
        raise StateError(f"问题 {problem.no} 已进入整改流程（{problem.status.label}），不能再通过修改检查结果撤销")
    origin_id = store.problem_origin(problem.id)
    later = store.repeat_events(problem.id)
    if not later:
        store.delete_problem(problem.id)
        return
    event_id, successor_id = later[0]
    successor = store.inspection(successor_id)
    item = next(i for i in store.inspection_items(successor_id) if i.id == problem.item_id)
    answer = store.results(successor_id)[item.id]
    site = store.site_by_id(problem.site_id)
    values = {
        "inspection_id": successor.id,
        "found_date": successor.date,
        **_answer_values(store, problem, successor.date, item, answer, site, settings),
    }
    with store.atomic():
        if origin_id is not None:
            store.delete_inspection_events(problem.id, origin_id)
        store.promote_event(event_id)
        store.update_problem(problem.id, **values)


def before_inspection_delete(store: Store, inspection: Inspection, settings: RectificationSettings) -> int:
    """Remove what an inspection created; refuse if any of it has been worked on."""
    problems = store.list_problems(inspection_id=inspection.id)
    busy = [p.no for p in problems if _worked_on(store, p)]
    if busy:
        raise StateError(f"检查 {inspection.no} 发现的问题 {'、'.join(busy)} 已进入整改流程，不能删除这次检查")
    with store.atomic():
        touched = store.delete_repeat_events(inspection.id)
        for problem in problems:
            _remove_origin(store, problem, settings)
        for problem_id in touched:
            _settle_severity(store, problem_id)
    return len(problems)


# --- the loop ----------------------------------------------------------------------


@dataclass
class Change:
    problem: Problem
    event: str


def _check_date(problem: Problem, day: date, what: str) -> None:
    dates.check_past(day, what)
    if day < problem.found_date:
        raise InputError(f"{what} {day} 早于问题发现日期 {problem.found_date}")


def _refuse(problem: Problem, action: str, allowed: tuple[ProblemStatus, ...]) -> None:
    if problem.status not in allowed:
        wanted = "、".join(s.label for s in allowed)
        raise StateError(f"问题 {problem.no} 当前为“{problem.status_label}”，不能{action}（仅限{wanted}的问题）")


def _photos(paths: list[Path] | None, media_dir: Path | None):  # type: ignore[no-untyped-def]
    if not paths:
        return []
    if media_dir is None:
        raise InputError("未指定照片存放目录")
    return store_photos(paths, media_dir)


def report_fixed(
    store: Store,
    ref: str,
    note: str,
    *,
    day: date | None = None,
    photos: list[Path] | None = None,
    media_dir: Path | None = None,
    actor: str | None = None,
) -> Change:
    """The unit says it is fixed: 待整改 / 长期整改 → 已整改待复查."""
    problem = store.problem(ref)
    _refuse(problem, "上报整改", (OPEN, DEFERRED))
    note = clean(note, "整改情况")
    if not note:
        raise InputError("请填写整改情况（--note）")
    actor = clean_name(actor, "操作人")
    day = day or dates.today()
    _check_date(problem, day, "整改完成日期")
    stored = _photos(photos, media_dir)
    with store.atomic():
        store.update_problem(problem.id, status=FIXED, fixed_date=day)
        store.add_event(
            problem.id, "fixed", day, from_status=problem.status, to_status=FIXED, actor=actor, note=note, photos=stored
        )
    return Change(store.problem(problem.id), "fixed")


def recheck(
    store: Store,
    ref: str,
    passed: bool,
    *,
    note: str | None = None,
    day: date | None = None,
    photos: list[Path] | None = None,
    media_dir: Path | None = None,
    actor: str | None = None,
    force: bool = False,
    reason: str | None = None,
) -> Change:
    """An inspector re-checks on site.

    已整改待复查: pass → 已销号, fail → 待整改 (返工). 待整改 / 长期整改: a fail is noted and the
    problem stays; a pass would close a problem nobody reported fixed, so it needs
    `force` and a reason.
    """
    problem = store.problem(ref)
    _refuse(problem, "复查", (OPEN, FIXED, DEFERRED))
    day = day or dates.today()
    _check_date(problem, day, "复查日期")
    note = clean(note, "复查说明")
    reason = clean(reason, "强制销号的理由")
    actor = clean_name(actor, "操作人")
    if passed and problem.status is not FIXED:
        if not force:
            raise StateError(
                f"问题 {problem.no} 尚未上报整改（{problem.status_label}），不能直接销号；确需销号请加 --force 并用 --reason 说明理由"
            )
        if not reason:
            raise InputError("强制销号必须用 --reason 说明理由")
    stored = _photos(photos, media_dir)
    rechecks = problem.recheck_count + 1
    with store.atomic():
        if passed:
            action = "recheck_pass" if problem.status is FIXED else "force_close"
            text = note if problem.status is FIXED else "；".join(x for x in (f"理由：{reason}", note) if x)
            store.update_problem(problem.id, status=CLOSED, closed_date=day, recheck_count=rechecks)
            store.add_event(
                problem.id,
                action,
                day,
                from_status=problem.status,
                to_status=CLOSED,
                actor=actor,
                note=text,
                photos=stored,
            )
        elif problem.status is FIXED:
            action = "recheck_fail"
            store.update_problem(
                problem.id, status=OPEN, recheck_count=rechecks, rework_count=problem.rework_count + 1, fixed_date=None
            )
            store.add_event(
                problem.id, action, day, from_status=FIXED, to_status=OPEN, actor=actor, note=note, photos=stored
            )
        else:
            action = "recheck_open"
            store.update_problem(problem.id, recheck_count=rechecks)
            store.add_event(
                problem.id,
                action,
                day,
                from_status=problem.status,
                to_status=problem.status,
                actor=actor,
                note=note,
                photos=stored,
            )
    return Change(store.problem(problem.id), action)


def record_progress(store: Store, ref: str, note: str, *, actor: str | None = None, day: date | None = None) -> Change:
    """The unit says how far it got (整改中 / 无法整改需协调); the state does not change."""
    problem = store.problem(ref)
    _refuse(problem, "反馈整改进度", (OPEN, DEFERRED))
    note = clean(note, "整改进度", required=True)
    actor = clean_name(actor, "操作人")
    store.add_event(problem.id, "progress", day or dates.today(), actor=actor, note=note)
    return Change(store.problem(problem.id), "progress")


def last_note(store: Store, problem: Problem, action: str) -> ProblemEvent | None:
    """The latest history event of one kind (the fix report a re-check judged, say)."""
    events = [e for e in store.problem_events(problem.id) if e.action == action]
    return events[-1] if events else None


def dismiss(store: Store, ref: str, reason: str, *, actor: str | None = None) -> Change:
    """The office finds the problem 不属实 (not a real problem)."""
    problem = store.problem(ref)
    _refuse(problem, "认定不属实", (OPEN, FIXED, DEFERRED))
    reason = clean(reason, "不属实的理由")
    actor = clean_name(actor, "操作人")
    if not reason:
        raise InputError("认定不属实必须用 --reason 说明理由")
    day = dates.today()
    with store.atomic():
        store.update_problem(problem.id, status=DISMISSED)
        store.add_event(
            problem.id,
            "dismissed",
            day,
            from_status=problem.status,
            to_status=DISMISSED,
            actor=actor,
            note=reason,
        )
    return Change(store.problem(problem.id), "dismissed")


def defer(store: Store, ref: str, until: date, reason: str, *, actor: str | None = None) -> Change:
    """长期整改: a fix that takes longer, with a reason and a new date."""
    problem = store.problem(ref)
    _refuse(problem, "转为长期整改", (OPEN, FIXED, DEFERRED))
    reason = clean(reason, "长期整改的理由")
    actor = clean_name(actor, "操作人")
    if not reason:
        raise InputError("长期整改必须用 --reason 说明理由")
    dates.check_plan(until, "长期整改的完成日期")
    if until <= problem.found_date:
        raise InputError(f"长期整改的完成日期 {until} 应晚于问题发现日期 {problem.found_date}")
    day = dates.today()
    with store.atomic():
        store.update_problem(problem.id, status=DEFERRED, deadline=until, deadline_locked=1, fixed_date=None)
        store.add_event(
            problem.id,
            "deferred",
            day,
            from_status=problem.status,
            to_status=DEFERRED,
            actor=actor,
            note=f"{reason}（完成时限 {until}）",
        )
    return Change(store.problem(problem.id), "deferred")


def assign(store: Store, ref: str, unit: str, *, actor: str | None = None, allow_new: bool = False) -> Change:
    """The office gives the problem to another unit of the register (`allow_new`: a unit new to it)."""
    problem = store.problem(ref)
    _refuse(problem, "改派", (OPEN, FIXED, DEFERRED))
    actor = clean_name(actor, "操作人")
    if not clean_name(unit, "责任单位"):
        raise InputError("请指定责任单位（--unit）")
    with store.atomic():
        # Inside the transaction: a unit added by allow_new goes again if the change is refused.
        unit = units.resolve_unit(store, unit, allow_new=allow_new)
        if unit == problem.unit:
            raise InputError(f"问题 {problem.no} 的责任单位已是 {unit}")
        store.update_problem(problem.id, unit=unit, unit_locked=1)
        store.add_event(problem.id, "assigned", dates.today(), actor=actor, note=f"{problem.unit or '未指定'} → {unit}")
    return Change(store.problem(problem.id), "assigned")


def set_deadline(store: Store, ref: str, deadline: date, *, actor: str | None = None) -> Change:
    problem = store.problem(ref)
    _refuse(problem, "调整整改时限", (OPEN, FIXED, DEFERRED))
    actor = clean_name(actor, "操作人")
    dates.check_plan(deadline, "整改时限")
    if deadline < problem.found_date:
        raise InputError(f"整改时限 {deadline} 早于问题发现日期 {problem.found_date}")
    with store.atomic():
        store.update_problem(problem.id, deadline=deadline, deadline_locked=1)
        store.add_event(problem.id, "deadline", dates.today(), actor=actor, note=f"{problem.deadline} → {deadline}")
    return Change(store.problem(problem.id), "deadline")


def recheck_queue(store: Store, site: Site, day: date | None = None) -> list[Problem]:
    """A site's unfinished problems in the order an inspector re-checks them on site.

    Reported fixes first (that is what the inspector came to confirm), then by deadline.
    The re-check date is checked before the walk starts, not after the first answer.
    """
    if day is not None:
        dates.check_past(day, "复查日期")
    todo = store.list_problems(statuses=[FIXED, OPEN, DEFERRED], site_id=site.id)
    todo.sort(key=lambda p: (p.status is not FIXED, p.deadline, p.no))
    return todo


# What each re-check did, as the commands and the re-check screen report it.
RECHECK_WORDS = {
    "recheck_pass": "复查通过，已销号",
    "force_close": "已强制销号",
    "recheck_fail": "复查未通过，退回返工",
    "recheck_open": "复查记录已保存，问题仍未整改",
}


def recheck_summary(total: int, events: list[str]) -> str:
    """One line for a walk of `total` problems in which `events` re-checks were recorded."""
    closed = sum(1 for e in events if e in ("recheck_pass", "force_close"))
    failed = sum(1 for e in events if e in ("recheck_fail", "recheck_open"))
    done = closed + failed
    return f"复查结束：共 {total} 个问题，已复查 {done} 个（销号 {closed}，未通过 {failed}），跳过或未处理 {total - done} 个"


def history(store: Store, ref: str) -> tuple[Problem, list[ProblemEvent]]:
    problem = store.problem(ref)
    return problem, store.problem_events(problem.id)
