"""Validating checklist files and folders; loading and validating share one code path."""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from inspect_cli.checklist.model import (
    SURROGATE,
    Checklist,
    ChecklistSet,
    Item,
    Problem,
    did_you_mean,
    kind,
    show,
)
from inspect_cli.checklist.reading import YamlList, YamlMap, os_problem, read_yaml_file
from inspect_cli.errors import ChecklistError, InputError
from inspect_cli.text import MAX_NAME, MAX_TEXT, clean, strip_controls

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_EDITION = re.compile(r"^([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?$")
MAX_SCORE = 100
MAX_DEADLINE_DAYS = 365
# 创城 editions start in 2005; a year outside this range is a typo, not an edition.
EDITION_YEARS = (2000, 2100)
# Relative include paths; longer than any real folder layout.
_MAX_INCLUDE = 255

TYPE_KEYS = ("site_type", "code", "edition", "aliases", "items")
FRAGMENT_KEYS = ("fragment", "items")
ITEM_KEYS = (
    "id",
    "text",
    "category",
    "score",
    "deduct",
    "unit",
    "deadline_days",
    "indicator",
    "standard",
    "tips",
    "photo_required",
)
INCLUDE_KEYS = ("include", "exclude")
_ITEM_NAME_FIELDS = ("unit", "indicator")
_ITEM_TEXT_FIELDS = ("standard", "tips")


# --- validation -------------------------------------------------------------------


def _real(path: Path) -> Path | None:
    """The path with symlinks followed, or None when that fails (a loop, a bad name)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # 3.11 reports a symlink loop as RuntimeError
        return None


def _exists(path: Path) -> bool | str:
    """True, False, or why the path cannot be examined."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        return os_problem(exc)
    except ValueError:
        return "文件名含有无效字符"
    return True


class _Checker:
    """Validates one top-level file and the fragments it includes."""

    def __init__(self, roots: list[Path], cache: dict[Path, tuple[Any, list[Problem]]] | None = None) -> None:
        self.roots = roots
        self.real_roots = [real for real in (_real(root) for root in roots) if real is not None]
        self.problems: list[Problem] = []
        # Parsed files by real path, shared by the checkers of one load so that a fragment
        # included by ten types is read once; its read problems still count for each type.
        self.cache = {} if cache is None else cache
        self.lines: dict[str, int] = {}

    def read(self, path: Path, real: Path) -> Any:
        cached = self.cache.get(real)
        if cached is None:
            found: list[Problem] = []
            cached = (read_yaml_file(path, found), found)
            self.cache[real] = cached
        self.problems.extend(cached[1])
        return cached[0]

    def add(self, path: Path, line: int | None, where: str, message: str) -> None:
        self.problems.append(Problem(path, line, where, message))

    def check_keys(self, path: Path, data: YamlMap, allowed: tuple[str, ...], where: str) -> None:
        for key in data:
            if key not in allowed:
                hint = did_you_mean(str(key), list(allowed))
                line = data.key_lines.get(key, data.line)
                self.add(path, line, _join(where, show(key)), f"未知字段{hint}")

    def present(self, path: Path, data: YamlMap, key: str, where: str, required: bool) -> bool:
        if key in data and data[key] is not None:
            return True
        if required:
            self.add(path, data.line, _join(where, key), "缺少必填字段")
        return False

    def text(
        self, path: Path, data: YamlMap, key: str, where: str, required: bool, *, name: bool = False
    ) -> str | None:
        """A text field cleaned as `inspect_cli.text.clean` stores user text."""
        if not self.present(path, data, key, where, required):
            return None
        line = data.key_lines.get(key, data.line)
        return self.clean_value(path, line, _join(where, key), data[key], required=required, name=name)

    def clean_value(
        self, path: Path, line: int | None, where: str, value: Any, *, required: bool, name: bool
    ) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float, date)):
            self.add(path, line, where, f"应为文字，实际为 {kind(value)}")
            return None
        if isinstance(value, date):
            value = value.isoformat()
        text = str(value)
        if SURROGATE.search(text):
            self.add(path, line, where, "含有无效的 Unicode 字符（\\ud800–\\udfff 转义），请删除")
            return None
        try:
            limit, multiline = (MAX_NAME, False) if name else (MAX_TEXT, True)
            cleaned = clean(text, "", limit=limit, multiline=multiline)
        except InputError as exc:
            self.add(path, line, where, exc.message)
            return None
        if cleaned is None:
            if required:
                self.add(path, line, where, "不能为空")
            return None
        return cleaned

    def number(
        self, path: Path, data: YamlMap, key: str, where: str, required: bool, upper: float, upper_name: str
    ) -> float | None:
        if not self.present(path, data, key, where, required):
            return None
        line = data.key_lines.get(key, data.line)
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(path, line, _join(where, key), f"应为数字，实际为 {kind(value)}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, line, _join(where, key), f"应为有限的数字（当前为 {show(value)}）")
            return None
        if value <= 0:
            self.add(path, line, _join(where, key), f"必须大于 0（当前为 {show(value)}）")
            return None
        if value > upper:
            self.add(path, line, _join(where, key), f"不能大于{upper_name} {show(upper)}（当前为 {show(value)}）")
            return None
        return float(value)

    def edition(self, path: Path, data: YamlMap) -> str | None:
        if not self.present(path, data, "edition", "", required=True):
            return None
        line = data.key_lines.get("edition", data.line)
        value = data["edition"]
        if isinstance(value, datetime):
            self.add(path, line, "edition", f"应为年份或日期，不带时间（当前为 {show(value)}）")
            return None
        if isinstance(value, date):
            text = value.isoformat()
        elif isinstance(value, int) and not isinstance(value, bool):
            text = str(value) if abs(value) < 10**6 else ""
        elif isinstance(value, str):
            text = unicodedata.normalize("NFKC", value).strip()  # ２０２６ is 2026
        else:
            self.add(path, line, "edition", f"应为年份或日期，如 2026、2026-11 或 2026-11-01，实际为 {kind(value)}")
            return None
        match = _EDITION.match(text)
        if not match:
            self.add(path, line, "edition", f"应为年份或日期，如 2026、2026-11 或 2026-11-01（当前为 {show(value)}）")
            return None
        parts = [int(p) for p in match.groups() if p is not None]
        low, high = EDITION_YEARS
        if not low <= parts[0] <= high:
            self.add(path, line, "edition", f"年份应在 {low} 到 {high} 之间（当前为 {show(value)}）")
            return None
        try:
            date(*(*parts, 1, 1)[:3])
        except ValueError:
            self.add(path, line, "edition", f"不是有效的日期（当前为 {show(value)}）")
            return None
        return "-".join([f"{parts[0]:04d}", *(f"{p:02d}" for p in parts[1:])])

    def load_file(self, path: Path) -> Checklist | None:
        """A top-level file: either a 点位类型 (returned) or a fragment (checked only)."""
        before = len(self.problems)
        real = _real(path) or path.absolute()
        data = self.read(path, real)
        if data is None:
            if len(self.problems) == before:
                self.add(path, None, "", "文件为空")
            return None
        if not isinstance(data, YamlMap):
            self.add(path, 1, "", f"顶层应为键值映射（site_type、code、items …），实际为 {kind(data)}")
            return None
        if "fragment" in data and "site_type" not in data:
            self.check_keys(path, data, FRAGMENT_KEYS, "")
            self.text(path, data, "fragment", "", required=True, name=True)
            self.items(path, data, [real])
            return None
        self.check_keys(path, data, TYPE_KEYS, "")
        self.lines = {key: data.key_lines.get(key, data.line) for key in ("site_type", "code")}
        site_type = self.text(path, data, "site_type", "", required=True, name=True)
        code = self.text(path, data, "code", "", required=True, name=True)
        if code and not _CODE.match(code):
            self.add(path, self.lines["code"], "code", f"应为大写字母开头的英文代码（如 NMSC），实际为 '{show(code)}'")
        edition = self.edition(path, data)
        aliases = self.aliases(path, data)
        items = self.items(path, data, [real])
        if items == [] and not self.problems:
            # Every entry was an include whose items were all excluded: a type with nothing to inspect.
            self.add(path, data.key_lines.get("items"), "items", "引用和排除之后一个检查项也没有")
        if site_type and code and edition and items is not None and not self.problems:
            return Checklist(site_type, code, edition, tuple(items), tuple(aliases), path)
        return None

    def aliases(self, path: Path, data: YamlMap) -> list[str]:
        value = data.get("aliases")
        if value is None:
            return []
        line = data.key_lines.get("aliases", data.line)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(path, line, "aliases", "应为文字列表，如 [集贸市场, 菜市场]")
            return []
        names = []
        for index, alias in enumerate(value):
            cleaned = self.clean_value(path, line, f"aliases[{index + 1}]", alias, required=True, name=True)
            if cleaned:
                names.append(cleaned)
        return names

    def items(self, path: Path, data: YamlMap, stack: list[Path]) -> list[Item] | None:
        if "items" not in data or data["items"] is None:
            self.add(path, data.line, "items", "缺少必填字段")
            return None
        raw = data["items"]
        if not isinstance(raw, YamlList):
            self.add(path, data.key_lines.get("items"), "items", f"应为列表，实际为 {kind(raw)}")
            return None
        if not raw:
            self.add(path, data.key_lines.get("items"), "items", "至少需要一个检查项")
            return None
        items: list[Item] = []
        seen: dict[str, tuple[Path, int]] = {}
        for index, entry in enumerate(raw):
            where = f"items[{index + 1}]"
            if not isinstance(entry, YamlMap):
                self.add(path, raw.line + index, where, f"应为键值映射，实际为 {kind(entry)}")
                continue
            if "include" in entry:
                expanded = self.include(path, entry, where, stack)
            else:
                item = self.item(path, entry, where)
                expanded = [(item, path, entry.line)] if item else []
            for item, origin, line in expanded:
                if item.id in seen:
                    first_path, first_line = seen[item.id]
                    first = f"{first_path.name}:{first_line}"
                    self.add(origin, line, f"{where}.id", f"检查项 id '{item.id}' 重复（{first} 已使用）")
                    continue
                seen[item.id] = (origin, line)
                items.append(item)
        return items

    def item(self, path: Path, entry: YamlMap, where: str) -> Item | None:
        before = len(self.problems)
        self.check_keys(path, entry, ITEM_KEYS, where)
        item_id = self.text(path, entry, "id", where, required=True, name=True)
        if item_id and not _ID.match(item_id):
            self.add(
                path, entry.key_lines["id"], f"{where}.id", f"只能用字母、数字和 - _ .（当前为 '{show(item_id)}'）"
            )
        text = self.text(path, entry, "text", where, required=True)
        category = self.text(path, entry, "category", where, required=True, name=True)
        score = self.number(path, entry, "score", where, True, MAX_SCORE, "")
        deduct_limit, deduct_name = (score, "本项分值") if score else (MAX_SCORE, "")
        deduct = self.number(path, entry, "deduct", where, False, deduct_limit, deduct_name)
        extra = {key: self.text(path, entry, key, where, required=False, name=True) for key in _ITEM_NAME_FIELDS}
        extra |= {key: self.text(path, entry, key, where, required=False) for key in _ITEM_TEXT_FIELDS}
        deadline = entry.get("deadline_days")
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, int) or not 0 <= deadline <= MAX_DEADLINE_DAYS
        ):
            self.add(
                path,
                entry.key_lines.get("deadline_days"),
                f"{where}.deadline_days",
                f"应为 0 到 {MAX_DEADLINE_DAYS} 之间的整数（工作日数，0 = 立行立改），实际为 {show(deadline)}",
            )
        photo = entry.get("photo_required", False)
        if not isinstance(photo, bool):
            self.add(path, entry.key_lines.get("photo_required"), f"{where}.photo_required", "应为 true 或 false")
        if len(self.problems) > before or not (item_id and text and category and score):
            return None
        return Item(
            id=item_id,
            text=text,
            category=category,
            score=score,
            deduct=deduct,
            deadline_days=deadline,
            photo_required=photo,
            **extra,
        )

    def include(self, path: Path, entry: YamlMap, where: str, stack: list[Path]) -> list[tuple[Item, Path, int]]:
        self.check_keys(path, entry, INCLUDE_KEYS, where)
        line = entry.key_lines.get("include", entry.line)
        raw_target = entry.get("include")
        # A path names a file exactly: removing a control character, as text fields do,
        # could make it name another one.
        if isinstance(raw_target, str) and strip_controls(raw_target) != raw_target:
            self.add(path, line, f"{where}.include", "文件路径含有控制字符")
            return []
        target = self.text(path, entry, "include", where, required=True)
        if not target:
            return []
        exclude = entry.get("exclude") or []
        if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
            self.add(path, entry.key_lines.get("exclude"), f"{where}.exclude", "应为检查项 id 列表")
            exclude = []
        exclude = [x.strip() for x in exclude]
        resolved, refusal = self.find_include(path, target)
        if resolved is None:
            self.add(path, line, f"{where}.include", refusal or f"找不到被引用的文件 '{show(target)}'")
            return []
        if resolved in stack:
            chain = " → ".join(p.name for p in [*stack[stack.index(resolved) :], resolved])
            self.add(path, line, f"{where}.include", f"循环引用：{chain}")
            return []
        data = self.read(resolved, resolved)
        if data is None:
            if not self.cache[resolved][1]:
                self.add(resolved, None, "", "被引用的文件为空")
            return []
        if not isinstance(data, YamlMap) or "items" not in data:
            self.add(resolved, 1, "", "被引用的文件应包含 items 列表")
            return []
        if "fragment" not in data:
            self.add(resolved, 1, "", "被引用的文件应是公共检查项片段（顶层写 fragment: 名称）")
            return []
        expanded = self._fragment_items(resolved, data, [*stack, resolved])
        unknown = set(exclude) - {item.id for item, _, _ in expanded}
        for item_id in sorted(unknown):
            self.add(
                path,
                entry.key_lines.get("exclude"),
                f"{where}.exclude",
                f"'{show(target)}' 中没有检查项 '{show(item_id)}'",
            )
        return [row for row in expanded if row[0].id not in exclude]

    def _fragment_items(self, path: Path, data: YamlMap, stack: list[Path]) -> list[tuple[Item, Path, int]]:
        out: list[tuple[Item, Path, int]] = []
        raw = data.get("items")
        if not isinstance(raw, YamlList):
            return out
        for index, entry in enumerate(raw):
            where = f"items[{index + 1}]"
            if not isinstance(entry, YamlMap):
                self.add(path, raw.line + index, where, f"应为键值映射，实际为 {kind(entry)}")
            elif "include" in entry:
                out.extend(self.include(path, entry, where, stack))
            else:
                item = self.item(path, entry, where)
                if item:
                    out.append((item, path, entry.line))
        return out

    def find_include(self, path: Path, target: str) -> tuple[Path | None, str | None]:
        """The included file, first beside the including file, then in the roots (last first).

        Only files inside the checklist folders in use may be read: a shared checklist
        must not be able to pull in `/etc/passwd` or a user's documents, by path or by
        symlink.
        """
        shown = show(target)
        if len(target) > _MAX_INCLUDE:
            return None, f"路径过长：{len(target)} 个字符，最多 {_MAX_INCLUDE} 个"
        if PurePosixPath(target).is_absolute() or PureWindowsPath(target).anchor:
            return None, f"'{shown}' 是绝对路径；只能引用测评标准目录中的文件（如 common/smoking.yaml）"
        if ".." in re.split(r"[\\/]", target):
            return None, f"'{shown}' 含有 ..；只能引用测评标准目录中的文件"
        for base in [path.parent, *reversed(self.roots)]:
            candidate = base / target
            exists = _exists(candidate)
            if exists is False:
                continue
            if exists is not True:
                return None, f"'{shown}'：{exists}"
            real = _real(candidate)
            if real is None:
                return None, f"'{shown}'：符号链接形成循环，无法读取"
            if not any(real.is_relative_to(root) for root in self.real_roots):
                return None, f"'{shown}' 指向测评标准目录以外的文件，不能引用"
            return real, None
        return None, None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


# --- folders: one code path for loading and validating ----------------------------


@dataclass
class _FileResult:
    path: Path
    source: int  # index of the folder (or file group) it was read from
    checklist: Checklist | None
    problems: list[Problem]
    lines: dict[str, int]


@dataclass
class _SetResult:
    folder_problems: list[tuple[int, Problem]]
    files: list[_FileResult]
    checklists: ChecklistSet

    @property
    def problems(self) -> list[Problem]:
        return [p for _, p in self.folder_problems] + [p for f in self.files for p in f.problems]


def _yaml_names(folder: Path | str) -> list[str]:
    # Hidden files are editor locks and macOS `._x.yaml` resource forks, never checklists.
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.name.endswith((".yaml", ".yml")) and not e.name.startswith("."))


def _folder_files(folder: Path) -> tuple[list[Path], str | None]:
    """Top-level `.yaml`/`.yml` entries of a folder, or why the folder cannot be used.

    Entries that are not regular files (a directory named x.yaml, a dangling symlink) are
    kept so that reading them reports the problem. A folder holding only shared fragments
    (in common/ and the like) is fine: other folders' types may include them. A folder
    with no YAML at all is refused, as a folder put in use by mistake would be.
    """
    try:
        names = _yaml_names(folder)
    except FileNotFoundError:
        return [], "目录不存在"
    except NotADirectoryError:
        return [], "不是目录"
    except OSError as exc:
        return [], f"无法读取目录：{os_problem(exc)}"
    except ValueError:
        return [], "目录名含有无效字符"
    if names:
        return [folder / name for name in names], None
    try:
        with os.scandir(folder) as entries:
            subfolders = [e.path for e in entries if not e.name.startswith(".") and e.is_dir()]
    except OSError:
        subfolders = []
    for sub in subfolders:
        try:
            if _yaml_names(sub):
                return [], None
        except OSError:
            continue  # an unreadable sub-folder holds nothing usable
    return [], "目录中没有 .yaml 文件"


def checklist_files(folder: Path) -> list[Path]:
    """Top-level YAML files of a folder; fragments live in sub-folders such as common/."""
    return _folder_files(folder)[0]


def _check_sources(sources: list[tuple[Path, list[Path] | None]]) -> _SetResult:
    """Check folders (None: every top-level file) or chosen files of a folder, in order.

    Later sources override earlier ones' types, as later checklist folders do. Every
    source's folder is a root that includes may read from.
    """
    roots = [folder for folder, _ in sources]
    result = _SetResult([], [], ChecklistSet())
    cache: dict[Path, tuple[Any, list[Problem]]] = {}
    for index, (folder, chosen) in enumerate(sources):
        files = chosen
        if files is None:
            files, problem = _folder_files(folder)
            if problem:
                result.folder_problems.append((index, Problem(folder, None, "", problem)))
                continue
        in_folder: dict[str, Path] = {}
        for path in files:
            checker = _Checker(roots, cache)
            checklist = checker.load_file(path)
            found = _FileResult(path, index, checklist, checker.problems, checker.lines)
            result.files.append(found)
            if checklist is None:
                continue
            if checklist.site_type in in_folder:
                found.problems.append(
                    Problem(
                        path,
                        found.lines.get("site_type"),
                        "site_type",
                        f"点位类型 '{checklist.site_type}' 已在 {in_folder[checklist.site_type].name} 中定义",
                    )
                )
                found.checklist = None
                continue
            in_folder[checklist.site_type] = path
            result.checklists.types[checklist.site_type] = checklist
    # Codes are compared once overrides are settled: a user's 农贸市场 replacing the
    # shipped one may keep NMSC; a new type may not take it. The later file is the one
    # reported, as it is the one that would have to change.
    codes: dict[str, Checklist] = {}
    for found in result.files:
        checklist = found.checklist
        if checklist is None or result.checklists.types.get(checklist.site_type) is not checklist:
            continue
        other = codes.get(checklist.code)
        if other is not None:
            found.problems.append(
                Problem(
                    found.path,
                    found.lines.get("code"),
                    "code",
                    f"代码 '{checklist.code}' 已被 {other.site_type}（{other.path}）使用",
                )
            )
            continue
        codes[checklist.code] = checklist
    for found in result.files:
        if found.problems:
            found.checklist = None
    return result


def validate_file(path: Path, roots: list[Path]) -> tuple[Checklist | None, list[Problem]]:
    """One file on its own: its fields and includes, not its neighbours."""
    checker = _Checker(roots)
    checklist = checker.load_file(path)
    return checklist, checker.problems


# Checklists loaded in this process, by the state of every file in their folders: a process
# that runs many commands (the test suite, a long-lived screen) parses each set once, and
# any edit to any file (size, time, inode) loads it afresh.
_LOADED: dict[tuple, ChecklistSet] = {}
_LOADED_KEEP = 8


def _folders_state(folders: list[Path]) -> tuple | None:
    """Every file under the folders with its size, modification time and inode; None if unreadable."""
    state: list[tuple] = []
    try:
        for folder in folders:
            state.append((str(folder),))
            for top, dirs, files in os.walk(folder, onerror=_raise):
                dirs.sort()
                for name in sorted(files):
                    info = os.stat(os.path.join(top, name))
                    state.append((top, name, info.st_size, info.st_mtime_ns, info.st_ino))
    except (OSError, ValueError):
        return None
    return tuple(state)


def _raise(exc: OSError) -> None:
    raise exc


def load_checklists(folders: list[Path]) -> ChecklistSet:
    """Load every folder in order; a later folder's type replaces an earlier one's."""
    key = _folders_state(folders)
    if key is not None and key in _LOADED:
        return _LOADED[key]
    result = _check_sources([(folder, None) for folder in folders])
    problems = result.problems
    if problems:
        # A broken shared fragment is reported once, not once per type including it.
        lines = list(dict.fromkeys(str(p) for p in problems))
        raise ChecklistError(f"测评标准有 {len(lines)} 处错误", lines)
    if key is not None:
        if len(_LOADED) >= _LOADED_KEEP:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = result.checklists
    return result.checklists


def _real_or_absolute(path: Path) -> Path:
    return _real(path) or path.absolute()


def validate_paths(paths: list[Path], roots: list[Path]) -> list[tuple[Path, Checklist | None, list[Problem]]]:
    """Validate files or folders (a folder means its top-level YAML files) as they would load.

    The set checked is `roots` plus the folders and files asked for, loaded on top in
    that order, exactly as `load_checklists` would load it: the report is free of
    problems if and only if `load_checklists([*roots, *folders asked for])` succeeds. A
    file asked for on its own joins the set alone, its folder serving for includes.
    Files asked for come first in the report; any other file or folder of the set that
    has problems follows, since it would stop loading too.
    """
    sources: list[tuple[Path, list[Path] | None]] = [(root, None) for root in roots]
    real_sources = [_real_or_absolute(root) for root in roots]

    def whole_folder(real: Path) -> int | None:
        return next((i for i, r in enumerate(real_sources) if r == real and sources[i][1] is None), None)

    states = {path: _exists(path) for path in paths}
    # Folders first, so that a file asked for alongside its folder is read once, with it.
    for path in paths:
        if states[path] is True and os.path.isdir(path) and whole_folder(_real_or_absolute(path)) is None:
            sources.append((path, None))
            real_sources.append(_real_or_absolute(path))
    for path in paths:
        if states[path] is not True or os.path.isdir(path):
            continue
        folder = _real_or_absolute(path.parent)
        real = _real_or_absolute(path)
        if whole_folder(folder) is not None and any(_real_or_absolute(f) == real for f in checklist_files(path.parent)):
            continue
        group = next((i for i, r in enumerate(real_sources) if r == folder and sources[i][1] is not None), None)
        if group is None:
            sources.append((path.parent, [path]))
            real_sources.append(folder)
        elif all(_real_or_absolute(f) != real for f in sources[group][1] or []):
            (sources[group][1] or []).append(path)
    result = _check_sources(sources)

    report: list[tuple[Path, Checklist | None, list[Problem]]] = []
    shown: set[int] = set()
    folders_shown: set[int] = set()
    for path in paths:
        real = _real_or_absolute(path)
        index = whole_folder(real)
        if index is None and states[path] is not True:
            message = "文件不存在" if states[path] is False else str(states[path])
            report.append((path, None, [Problem(path, None, "", message)]))
            continue
        for position, found in enumerate(result.files):
            matches = found.source == index if index is not None else _real_or_absolute(found.path) == real
            if matches and position not in shown:
                shown.add(position)
                report.append((found.path, found.checklist, found.problems))
        for position, (source, problem) in enumerate(result.folder_problems):
            if source == index and position not in folders_shown:
                folders_shown.add(position)
                report.append((problem.file, None, [problem]))
    for position, (_, problem) in enumerate(result.folder_problems):
        if position not in folders_shown:
            report.append((problem.file, None, [problem]))
    for position, found in enumerate(result.files):
        if position not in shown and found.problems:
            report.append((found.path, found.checklist, found.problems))
    return report
