"""单位考核 rules: the shipped file (data/assess_rules.yaml) documents and sets every value; a
user's file (`assess --rules`) overrides it key by key. Both are read and checked the same way,
every problem reported with its file and line."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from inspect_cli.errors import InputError
from inspect_cli.models import Result

SHIPPED_RULES = Path(__file__).resolve().parent / "data" / "assess_rules.yaml"
# No 考核细则 gives one problem more than this; a larger number is a typo (1000 for 10).
MAX_POINTS = 1000


@dataclass(frozen=True)
class FoundRules:
    fail: float
    severe: float


@dataclass(frozen=True)
class RepeatRules:
    again: float  # per 重复发现 in the month
    reopened: float  # per 反复出现 problem found in the month


@dataclass(frozen=True)
class ExposureRules:
    severities: tuple[Result, ...]
    points: float


@dataclass(frozen=True)
class OverdueRules:
    points: float
    per_workday: float
    max_per_problem: float | None


@dataclass(frozen=True)
class BonusRules:
    on_time_close: float


@dataclass(frozen=True)
class CapRules:
    max_deduction: float | None
    max_bonus: float | None


@dataclass(frozen=True)
class AssessRules:
    base: float
    min_score: float
    found: FoundRules
    repeat: RepeatRules
    exposure: ExposureRules
    overdue: OverdueRules
    bonus: BonusRules
    caps: CapRules
    path: Path | None = None  # the user's file; None: the shipped rules alone

    @property
    def source(self) -> str:
        """Which rules are in force, in words."""
        return f"规则文件 {self.path}" if self.path else "内置默认规则"


# What each value is: a number of points, a cap (a number or null), a list of severities.
_POINTS, _CAP, _SEVERITIES = "分值", "上限", "严重程度"
_SECTIONS: dict[str, type] = {
    "found": FoundRules,
    "repeat": RepeatRules,
    "exposure": ExposureRules,
    "overdue": OverdueRules,
    "bonus": BonusRules,
    "caps": CapRules,
}
_KINDS: dict[str, str] = {
    "base": _POINTS,
    "min_score": _POINTS,
    "found.fail": _POINTS,
    "found.severe": _POINTS,
    "repeat.again": _POINTS,
    "repeat.reopened": _POINTS,
    "exposure.severities": _SEVERITIES,
    "exposure.points": _POINTS,
    "overdue.points": _POINTS,
    "overdue.per_workday": _POINTS,
    "overdue.max_per_problem": _CAP,
    "bonus.on_time_close": _POINTS,
    "caps.max_deduction": _CAP,
    "caps.max_bonus": _CAP,
}
_TOP = ["base", "min_score", *_SECTIONS]
_SEVERITY_WORDS = {
    "fail": Result.FAIL,
    "不合格": Result.FAIL,
    "severe": Result.SEVERE,
    "严重不合格": Result.SEVERE,
    "严重": Result.SEVERE,
}


def load_rules(path: Path | None = None) -> AssessRules:
    """The shipped rules, with `path`'s values over them. Every problem of the file at once:
    InputError whose details are `file:line: field: message` lines."""
    values, lines = _read(SHIPPED_RULES)
    missing = [key for key in _KINDS if key not in values]
    if missing:  # a broken installation, not a user's mistake
        raise InputError(f"内置考核规则 {SHIPPED_RULES} 缺少：{'、'.join(missing)}")
    if path is not None:
        own, own_lines = _read(path)
        values.update(own)
        lines = {**lines, **own_lines}
    where = path or SHIPPED_RULES
    if values["min_score"] > values["base"]:
        line = lines.get("min_score") or lines.get("base")
        raise InputError(
            f"考核规则有错误：{where}",
            [
                _problem(
                    where,
                    line,
                    "min_score",
                    f"得分下限 {_text(values['min_score'])} 高于基础分 {_text(values['base'])}",
                )
            ],
        )
    sections = {
        name: cls(**{f.name: values[f"{name}.{f.name}"] for f in fields(cls)}) for name, cls in _SECTIONS.items()
    }
    return AssessRules(base=values["base"], min_score=values["min_score"], path=path, **sections)


def _read(path: Path) -> tuple[dict[str, Any], dict[str, int | None]]:
    """A rules file's values by dotted key ('found.fail') and the line of each."""
    from inspect_cli.checklist import read_yaml

    problems: list[str] = []
    data = read_yaml(path, problems)
    values: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    if not problems and data is not None:
        if not isinstance(data, dict):
            problems.append(_problem(path, getattr(data, "line", None), "", "顶层应为键值映射（如 base: 100）"))
        else:
            _walk(path, data, "", values, lines, problems)
    if problems:
        raise InputError(f"考核规则有 {len(problems)} 处错误：{path}", problems)
    return values, lines


def _walk(
    path: Path,
    data: dict,
    prefix: str,
    values: dict[str, Any],
    lines: dict[str, int | None],
    problems: list[str],
) -> None:
    from inspect_cli.checklist.model import did_you_mean, show

    known = _TOP if not prefix else [k.split(".")[1] for k in _KINDS if k.startswith(prefix)]
    for key, value in data.items():
        line = data.key_lines.get(key) if hasattr(data, "key_lines") else None  # type: ignore[attr-defined]
        name = f"{prefix}{key}"
        if key not in known:
            hint = did_you_mean(str(key), known) or f"（可用：{'、'.join(known)}）"
            problems.append(_problem(path, line, name, f"未知的规则项{hint}"))
            continue
        if not prefix and key in _SECTIONS:
            if value is None:
                continue
            if not isinstance(value, dict):
                problems.append(_problem(path, line, name, f"应为键值映射，实际为 '{show(value)}'"))
                continue
            _walk(path, value, f"{key}.", values, lines, problems)
            continue
        checked = _check(_KINDS[name], value)
        if isinstance(checked, _Refused):
            problems.append(_problem(path, line, name, checked.message))
        else:
            values[name] = checked
            lines[name] = line


@dataclass(frozen=True)
class _Refused:
    message: str


def _check(kind: str, value: object) -> object:
    from inspect_cli.checklist.model import show

    if kind == _SEVERITIES:
        if not isinstance(value, list):
            return _Refused(f"应为列表，如 [severe] 或 [fail, severe]，实际为 '{show(value)}'")
        chosen: list[Result] = []
        for entry in value:
            result = _SEVERITY_WORDS.get(str(entry).strip().lower()) if isinstance(entry, str) else None
            if result is None:
                return _Refused(f"'{show(entry)}' 不是严重程度：应为 fail（不合格）或 severe（严重不合格）")
            if result not in chosen:
                chosen.append(result)
        return tuple(chosen)
    if value is None and kind == _CAP:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        cap = "或 null（不设上限）" if kind == _CAP else ""
        return _Refused(f"应为数字{cap}，实际为 '{show(value)}'")
    if isinstance(value, int) and abs(value) > MAX_POINTS:  # before float(): 1 with 400 zeros is no float
        return _Refused(f"不能超过 {MAX_POINTS}，实际为 {show(value)}")
    if not math.isfinite(value):
        return _Refused(f"应为有限的数，实际为 {show(value)}")
    if value < 0:
        return _Refused(f"不能为负数，实际为 {show(value)}")
    if value > MAX_POINTS:
        return _Refused(f"不能超过 {MAX_POINTS}，实际为 {show(value)}")
    if round(value, 1) != value:
        return _Refused(f"最多一位小数（如 0.5），实际为 {show(value)}")
    return float(value)


def _problem(path: Path, line: int | None, field: str, message: str) -> str:
    from inspect_cli.checklist import Problem

    return str(Problem(path, line, field, message))


def _text(points: float) -> str:
    return f"{points:.1f}".rstrip("0").rstrip(".")


def rules_data(rules: AssessRules) -> dict[str, object]:
    """The rules as the file writes them (what `--json` shows)."""
    out: dict[str, object] = {"base": rules.base, "min_score": rules.min_score}
    for name in _SECTIONS:
        section = getattr(rules, name)
        out[name] = {
            f.name: [r.value for r in value] if isinstance(value := getattr(section, f.name), tuple) else value
            for f in fields(section)
        }
    return out
