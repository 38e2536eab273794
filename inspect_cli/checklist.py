"""Loading and validating the YAML checklists (测评标准).

Every problem found in a file is collected, with the file, line and field it concerns,
and reported at once: a user fixing a checklist should not have to run the validator
once per typo.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_cli.errors import ChecklistError, NotFoundError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")

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
_ITEM_TEXT_FIELDS = ("unit", "indicator", "standard", "tips")


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
        hint = _did_you_mean(item_id, [i.id for i in self.items])
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
            hint = _did_you_mean(name, known + [c.code for c in self])
            raise NotFoundError(f"未知的点位类型 '{name}'{hint}（可用：{'、'.join(known)}）")
        return checklist


def normalize_name(text: str) -> str:
    """NFKC folds full-width letters and digits; spaces never distinguish two names."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()


def _did_you_mean(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"（是否想写 '{close[0]}'？）" if close else ""


# --- YAML with line numbers -------------------------------------------------------


class _Map(dict):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class _List(list):
    line: int = 0


@functools.cache
def _loader_class() -> type:
    """Built on first use, so commands that never read YAML never import it."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available

    class Loader(base):  # type: ignore[misc,valid-type]
        duplicates: list[tuple[int, str]]

    Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
    Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
    return Loader


def _construct_map(loader, node):  # type: ignore[no-untyped-def]
    data = _Map()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        line = key_node.start_mark.line + 1
        try:
            duplicate = key in data
        except TypeError:
            loader.duplicates.append((line, f"键 {key!r} 不能作为字段名"))
            continue
        if duplicate:
            loader.duplicates.append((line, f"字段 '{key}' 重复出现（第 {data.key_lines[key]} 行已有）"))
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = line


def _construct_seq(loader, node):  # type: ignore[no-untyped-def]
    data = _List()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    """Parse a file keeping line numbers; problems are appended, None is returned on failure."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        problems.append(Problem(path, None, "", "文件不是 UTF-8 编码，请另存为 UTF-8"))
        return None
    except OSError as exc:
        problems.append(Problem(path, None, "", f"无法读取文件：{exc.strerror or exc}"))
        return None
    import yaml

    loader = _loader_class()(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        detail = exc.problem or exc.context or "无法解析"
        problems.append(Problem(path, line, "", f"YAML 语法错误：{detail}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(path, None, "", f"YAML 语法错误：{exc}"))
        return None
    finally:
        loader.dispose()
    for line, message in loader.duplicates:
        problems.append(Problem(path, line, "", message))
    return data


def read_yaml(path: Path, problems: list[str]) -> Any:
    """`_read_yaml` for other YAML files (settings): problems come back as text lines."""
    found: list[Problem] = []
    data = _read_yaml(path, found)
    problems.extend(str(p) for p in found)
    return data


# --- validation -------------------------------------------------------------------


class _Checker:
    """Validates one top-level file and the fragments it includes."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots
        self.problems: list[Problem] = []
        self._fragments: dict[Path, Any] = {}

    def add(self, path: Path, line: int | None, where: str, message: str) -> None:
        self.problems.append(Problem(path, line, where, message))

    def check_keys(self, path: Path, data: _Map, allowed: tuple[str, ...], where: str) -> None:
        for key in data:
            if key not in allowed:
                hint = _did_you_mean(str(key), list(allowed))
                line = data.key_lines.get(key, data.line)
                self.add(path, line, _join(where, str(key)), f"未知字段{hint}")

    def present(self, path: Path, data: _Map, key: str, where: str, required: bool) -> bool:
        if key in data and data[key] is not None:
            return True
        if required:
            self.add(path, data.line, _join(where, key), "缺少必填字段")
        return False

    def text(self, path: Path, data: _Map, key: str, where: str, required: bool) -> str | None:
        if not self.present(path, data, key, where, required):
            return None
        line = data.key_lines.get(key, data.line)
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.add(path, line, _join(where, key), f"应为文字，实际为 {_kind(value)}")
            return None
        value = str(value).strip()
        if not value:
            if required:
                self.add(path, line, _join(where, key), "不能为空")
            return None
        return value

    def number(self, path: Path, data: _Map, key: str, where: str, required: bool) -> float | None:
        if not self.present(path, data, key, where, required):
            return None
        line = data.key_lines.get(key, data.line)
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(path, line, _join(where, key), f"应为数字，实际为 {_kind(value)}")
            return None
        if value <= 0:
            self.add(path, line, _join(where, key), f"必须大于 0（当前为 {value}）")
            return None
        return float(value)

    def load_file(self, path: Path) -> Checklist | None:
        """A top-level file: either a 点位类型 (returned) or a fragment (checked only)."""
        data = _read_yaml(path, self.problems)
        if data is None:
            if not any(p.file == path for p in self.problems):
                self.add(path, None, "", "文件为空")
            return None
        if not isinstance(data, _Map):
            self.add(path, 1, "", f"顶层应为键值映射（site_type、code、items …），实际为 {_kind(data)}")
            return None
        if "fragment" in data and "site_type" not in data:
            self._fragments[path.resolve()] = data
            self.check_keys(path, data, FRAGMENT_KEYS, "")
            self.text(path, data, "fragment", "", required=True)
            self.items(path, data, [path.resolve()])
            return None
        self.check_keys(path, data, TYPE_KEYS, "")
        site_type = self.text(path, data, "site_type", "", required=True)
        code = self.text(path, data, "code", "", required=True)
        if code and not _CODE.match(code):
            self.add(path, data.key_lines["code"], "code", f"应为大写字母开头的英文代码（如 NMSC），实际为 '{code}'")
        edition = self.text(path, data, "edition", "", required=True)
        aliases = self.aliases(path, data)
        items = self.items(path, data, [path.resolve()])
        if site_type and code and edition and items is not None and not self.problems:
            return Checklist(site_type, code, edition, tuple(items), tuple(aliases), path)
        return None

    def aliases(self, path: Path, data: _Map) -> list[str]:
        value = data.get("aliases")
        if value is None:
            return []
        line = data.key_lines.get("aliases", data.line)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(path, line, "aliases", "应为文字列表，如 [集贸市场, 菜市场]")
            return []
        return [v.strip() for v in value]

    def items(self, path: Path, data: _Map, stack: list[Path]) -> list[Item] | None:
        if "items" not in data or data["items"] is None:
            self.add(path, data.line, "items", "缺少必填字段")
            return None
        raw = data["items"]
        if not isinstance(raw, _List):
            self.add(path, data.key_lines.get("items"), "items", f"应为列表，实际为 {_kind(raw)}")
            return None
        if not raw:
            self.add(path, data.key_lines.get("items"), "items", "至少需要一个检查项")
            return None
        items: list[Item] = []
        seen: dict[str, tuple[Path, int]] = {}
        for index, entry in enumerate(raw):
            where = f"items[{index + 1}]"
            if not isinstance(entry, _Map):
                self.add(path, raw.line + index, where, f"应为键值映射，实际为 {_kind(entry)}")
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

    def item(self, path: Path, entry: _Map, where: str) -> Item | None:
        before = len(self.problems)
        self.check_keys(path, entry, ITEM_KEYS, where)
        item_id = self.text(path, entry, "id", where, required=True)
        if item_id and not _ID.match(item_id):
            self.add(path, entry.key_lines["id"], f"{where}.id", f"只能用字母、数字和 - _ .（当前为 '{item_id}'）")
        text = self.text(path, entry, "text", where, required=True)
        category = self.text(path, entry, "category", where, required=True)
        score = self.number(path, entry, "score", where, required=True)
        deduct = self.number(path, entry, "deduct", where, required=False)
        extra = {key: self.text(path, entry, key, where, required=False) for key in _ITEM_TEXT_FIELDS}
        deadline = entry.get("deadline_days")
        if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, int) or deadline < 0):
            self.add(
                path,
                entry.key_lines.get("deadline_days"),
                f"{where}.deadline_days",
                f"应为不小于 0 的整数（工作日数，0 = 立行立改），实际为 {deadline!r}",
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

    def include(self, path: Path, entry: _Map, where: str, stack: list[Path]) -> list[tuple[Item, Path, int]]:
        self.check_keys(path, entry, INCLUDE_KEYS, where)
        target = self.text(path, entry, "include", where, required=True)
        if not target:
            return []
        line = entry.key_lines.get("include", entry.line)
        exclude = entry.get("exclude") or []
        if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
            self.add(path, entry.key_lines.get("exclude"), f"{where}.exclude", "应为检查项 id 列表")
            exclude = []
        resolved = self.find_include(path, target)
        if resolved is None:
            self.add(path, line, f"{where}.include", f"找不到被引用的文件 '{target}'")
            return []
        if resolved in stack:
            chain = " → ".join(p.name for p in [*stack[stack.index(resolved) :], resolved])
            self.add(path, line, f"{where}.include", f"循环引用：{chain}")
            return []
        data = self._fragments.get(resolved)
        if data is None:
            data = _read_yaml(resolved, self.problems)
            if data is None:
                return []
            self._fragments[resolved] = data
        if not isinstance(data, _Map) or "items" not in data:
            self.add(resolved, 1, "", "被引用的文件应包含 items 列表")
            return []
        if "fragment" not in data:
            self.add(resolved, 1, "", "被引用的文件应是公共检查项片段（顶层写 fragment: 名称）")
            return []
        expanded = self._fragment_items(resolved, data, [*stack, resolved])
        unknown = set(exclude) - {item.id for item, _, _ in expanded}
        for item_id in sorted(unknown):
            self.add(path, entry.key_lines.get("exclude"), f"{where}.exclude", f"'{target}' 中没有检查项 '{item_id}'")
        return [row for row in expanded if row[0].id not in exclude]

    def _fragment_items(self, path: Path, data: _Map, stack: list[Path]) -> list[tuple[Item, Path, int]]:
        out: list[tuple[Item, Path, int]] = []
        raw = data.get("items")
        if not isinstance(raw, _List):
            return out
        for index, entry in enumerate(raw):
            where = f"items[{index + 1}]"
            if not isinstance(entry, _Map):
                self.add(path, raw.line + index, where, f"应为键值映射，实际为 {_kind(entry)}")
            elif "include" in entry:
                out.extend(self.include(path, entry, where, stack))
            else:
                item = self.item(path, entry, where)
                if item:
                    out.append((item, path, entry.line))
        return out

    def find_include(self, path: Path, target: str) -> Path | None:
        for base in [path.parent, *reversed(self.roots)]:
            candidate = (base / target).resolve()
            if candidate.is_file():
                return candidate
        return None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    if value is None:
        return "空值"
    if isinstance(value, bool):
        return f"布尔值 {value}"
    if isinstance(value, (int, float)):
        return f"数字 {value}"
    if isinstance(value, str):
        return f"文字 '{value}'"
    if isinstance(value, list):
        return "列表"
    if isinstance(value, dict):
        return "键值映射"
    return type(value).__name__


# --- public API -------------------------------------------------------------------


def checklist_files(folder: Path) -> list[Path]:
    """Top-level YAML files of a folder; fragments live in sub-folders such as common/."""
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.is_file())


def validate_file(path: Path, roots: list[Path]) -> tuple[Checklist | None, list[Problem]]:
    checker = _Checker(roots)
    checklist = checker.load_file(path)
    return checklist, checker.problems


def load_checklists(folders: list[Path]) -> ChecklistSet:
    """Load every folder in order; a later folder's type replaces an earlier one's."""
    problems: list[Problem] = []
    result = ChecklistSet()
    for folder in folders:
        if not folder.is_dir():
            problems.append(Problem(folder, None, "", "测评标准目录不存在"))
            continue
        in_folder: dict[str, Path] = {}
        for path in checklist_files(folder):
            checklist, found = validate_file(path, folders)
            problems.extend(found)
            if checklist is None:
                continue
            if checklist.site_type in in_folder:
                problems.append(
                    Problem(
                        path,
                        1,
                        "site_type",
                        f"点位类型 '{checklist.site_type}' 已在 {in_folder[checklist.site_type].name} 中定义",
                    )
                )
                continue
            in_folder[checklist.site_type] = path
            result.types[checklist.site_type] = checklist
    codes: dict[str, Checklist] = {}
    for checklist in result.types.values():
        other = codes.get(checklist.code)
        if other is not None:
            problems.append(
                Problem(
                    checklist.path or Path("?"),
                    1,
                    "code",
                    f"代码 '{checklist.code}' 已被 {other.site_type}（{other.path}）使用",
                )
            )
        codes[checklist.code] = checklist
    if problems:
        # A broken shared fragment is reported once, not once per type including it.
        lines = list(dict.fromkeys(str(p) for p in problems))
        raise ChecklistError(f"测评标准有 {len(lines)} 处错误", lines)
    return result


def validate_paths(paths: list[Path], roots: list[Path]) -> list[tuple[Path, Checklist | None, list[Problem]]]:
    """Validate files or folders (a folder means its top-level YAML files)."""
    report = []
    for path in paths:
        if path.is_dir():
            files = checklist_files(path)
            if not files:
                report.append((path, None, [Problem(path, None, "", "目录中没有 .yaml 文件")]))
        elif path.exists():
            files = [path]
        else:
            report.append((path, None, [Problem(path, None, "", "文件不存在")]))
            continue
        for file in files:
            checklist, problems = validate_file(file, [*roots, file.parent])
            report.append((file, checklist, problems))
    return report
