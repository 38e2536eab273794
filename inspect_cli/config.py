"""User settings: a small YAML file; the shipped default documents every key."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from inspect_cli.errors import InputError

DEFAULT_CONFIG = Path(__file__).resolve().parent / "data" / "default_config.yaml"


@dataclass(frozen=True)
class RectificationSettings:
    repeat_window_days: int = 30
    default_deadline_days: int = 5


@dataclass(frozen=True)
class OfficeSettings:
    name: str = "示范市创建全国文明城市工作指挥部办公室"
    # Where units send their filled-in 整改通知单 back to.
    return_to: str = "市创城办督查科（请在整改时限内将本表填好后发回）"


DEFAULT_REQUIREMENTS = """\
各责任单位要对照本期通报的问题清单，立行立改、举一反三，按整改时限完成整改并及时反馈整改情况。
各街道要落实属地责任，加强日常巡查，防止问题反弹回潮，对反复出现的问题要查明原因、建立长效机制。
对逾期未整改的问题，市创城办将进行督办，并纳入年度创建工作考核；连续两期列入黑榜的单位，将约谈主要负责同志。"""


@dataclass(frozen=True)
class NoticeSettings:
    title: str = "创建全国文明城市工作督查通报"
    # Below this mean 得分率 a street or unit goes on the 黑榜 even outside the bottom three.
    black_threshold: int = 85
    # 五、下步要求: one paragraph per line.
    requirements: str = DEFAULT_REQUIREMENTS
    signature: str = ""  # 落款; empty: the office name
    # 文号 "示范市创城办〔2026〕12号": the part before 〔year〕; empty: no 文号 line.
    number_prefix: str = "示范市创城办"
    # 版记: 抄送 (empty: no 抄送 line) and the office that prints it (empty: office.name).
    copy_to: str = "市创建全国文明城市工作指挥部各成员单位，各街道办事处"
    printed_by: str = "示范市创城办"
    # The charts' font file; empty: a Chinese font installed on this computer.
    chart_font: str = ""


@dataclass(frozen=True)
class Settings:
    rectification: RectificationSettings = field(default_factory=RectificationSettings)
    office: OfficeSettings = field(default_factory=OfficeSettings)
    notice: NoticeSettings = field(default_factory=NoticeSettings)
    path: Path | None = None


# Text settings whose empty value means "leave it out" (the others need text).
_MAY_BE_EMPTY = {"number_prefix", "copy_to", "printed_by"}

_SECTIONS = {"rectification": RectificationSettings, "office": OfficeSettings, "notice": NoticeSettings}


def load_settings(path: Path | None, base: Path | None = None) -> Settings:
    """Read the user's file if there is one; missing keys keep their defaults.

    `base` is the office's settings (from its field bundle): the user's file overrides it
    key by key, and both override the defaults.
    """
    start = load_settings(base) if base is not None else Settings()
    if path is None or not path.exists():
        return start if base is None else Settings(start.rectification, start.office, start.notice, path=None)
    from inspect_cli.checklist import read_yaml

    problems: list[str] = []
    data = read_yaml(path, problems)
    if problems:
        raise InputError(f"设置文件有错误：{path}", problems)
    if data is None:
        return Settings(start.rectification, start.office, start.notice, path=path)
    if not isinstance(data, dict):
        raise InputError(f"设置文件 {path} 顶层应为键值映射")
    sections = {}
    for key, value in data.items():
        line = data.key_lines.get(key)
        cls = _SECTIONS.get(key)
        if cls is None:
            problems.append(f"{path}:{line}: {key}: {_unknown(str(key), list(_SECTIONS))}")
            continue
        sections[key] = _section(path, key, getattr(start, key), value, problems)
    if problems:
        raise InputError(f"设置文件有 {len(problems)} 处错误", problems)
    merged = {name: sections.get(name, getattr(start, name)) for name in _SECTIONS}
    return Settings(path=path, **merged)


def _unknown(key: str, known: list[str]) -> str:
    """未知的设置项, with the nearest known key when there is one (black_treshold → black_threshold)."""
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"是否想写 '{close[0]}'？" if close else f"可用：{'、'.join(known)}"
    return f"未知的设置项（{hint}）"


def settings_data(settings: Settings) -> dict[str, dict[str, object]]:
    """The settings as the file would hold them (what a field bundle hands to laptops)."""
    return {name: asdict(getattr(settings, name)) for name in _SECTIONS}


def _section(path: Path, name: str, defaults: Any, value: object, problems: list[str]) -> object:
    cls = type(defaults)
    if value is None:
        return defaults
    if not isinstance(value, dict):
        problems.append(f"{path}:{getattr(value, 'line', '?')}: {name}: 应为键值映射")
        return defaults
    known = [f.name for f in fields(cls)]  # in the order the defaults list them
    values = {}
    for key, item in value.items():
        line = value.key_lines.get(key)  # type: ignore[attr-defined]
        if key not in known:
            problems.append(f"{path}:{line}: {name}.{key}: {_unknown(str(key), known)}")
        elif isinstance(getattr(defaults, key), int):
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                problems.append(f"{path}:{line}: {name}.{key}: 应为不小于 0 的整数，实际为 {item!r}")
            else:
                values[key] = item
        elif not isinstance(item, str) or (not item.strip() and getattr(defaults, key) and key not in _MAY_BE_EMPTY):
            problems.append(f"{path}:{line}: {name}.{key}: 应为文字，实际为 {item!r}")
        else:
            values[key] = item.strip()
    return replace(defaults, **values)
