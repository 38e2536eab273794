"""Reading checklist and settings YAML safely: bounded size, depth and aliases, line numbers kept."""

from __future__ import annotations

import functools
import os
import re
import stat
from pathlib import Path
from typing import Any

from inspect_cli.checklist.model import Problem, one_line, show
from inspect_cli.text import for_terminal

# Characters YAML itself refuses; found before parsing so the message can say which and where.
# Listed rather than written as "not what YAML allows": Python takes ~10 ms to compile that
# negated class, each time a command imports this module.
_NOT_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")

# The largest shipped checklist is about 10 KB; a megabyte is a hundred types' worth.
MAX_FILE_BYTES = 1024 * 1024
# A checklist needs five levels (file → items → item → exclude → id); twenty leave room
# for settings files and flow-style lists while keeping every parser far from its stack.
MAX_DEPTH = 20
# Anchors and aliases stay allowed for the few legitimate uses (`unit: &u 市场监管局` …
# `unit: *u`, or `<<: *defaults` merged into each item). A "billion laughs" file needs
# only a few dozen aliases, so the count alone cannot stop it: what the aliases would
# expand to is bounded too, counted from parser events before anything is constructed.
MAX_ALIASES = 100
MAX_ALIAS_NODES = 10_000


# --- reading files ----------------------------------------------------------------


def os_problem(exc: OSError) -> str:
    """An OS error in Chinese; the system's own wording only for the rare rest."""
    import errno

    known = {
        errno.ENOENT: "文件不存在",
        errno.EACCES: "没有读取权限",
        errno.EPERM: "没有读取权限",
        errno.EISDIR: "是目录，不是文件",
        errno.ENOTDIR: "路径中有一段不是目录",
        errno.ELOOP: "符号链接形成循环，无法读取",
        errno.ENAMETOOLONG: "路径过长",
    }
    message = known.get(exc.errno or 0)
    if message:
        return message
    return f"无法读取（{for_terminal(exc.strerror or '未知错误')}）"


def _size_text(size: int) -> str:
    return f"{size:,} 字节（{size / 1024 / 1024:.1f} MiB）"


def _read_text(path: Path, problems: list[Problem]) -> str | None:
    """The file's text, or None with a problem: never an exception, never a hang."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        # Opened before it is inspected: checking the path first and opening it after
        # would let it change in between. O_NONBLOCK keeps a FIFO named x.yaml from
        # blocking the open; fstat below refuses it anyway.
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.isdir(path):  # Windows says "permission denied" for a folder
            message = "是目录，不是文件"
        elif os.path.islink(path) and not os.path.exists(path):
            message = "符号链接指向的文件不存在"
        else:
            message = os_problem(exc)
        problems.append(Problem(path, None, "", message))
        return None
    except ValueError:  # a NUL byte in the name
        problems.append(Problem(path, None, "", "文件名含有无效字符"))
        return None
    problem = None
    raw = b""
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            problem = "是目录，不是文件"
        elif not stat.S_ISREG(info.st_mode):
            problem = "不是普通文件（设备、管道等），不能作为测评标准"
        elif info.st_size > MAX_FILE_BYTES:
            problem = f"文件过大：{_size_text(info.st_size)}，最多 {_size_text(MAX_FILE_BYTES)}"
        else:
            while len(raw) <= MAX_FILE_BYTES:
                chunk = os.read(fd, MAX_FILE_BYTES + 1 - len(raw))
                if not chunk:
                    break
                raw += chunk
    except OSError as exc:
        problem = os_problem(exc)
    finally:
        os.close(fd)
    if problem is not None:
        problems.append(Problem(path, None, "", problem))
        return None
    if len(raw) > MAX_FILE_BYTES:  # grew after fstat
        problems.append(Problem(path, None, "", f"文件过大：最多 {_size_text(MAX_FILE_BYTES)}"))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(path, line, "", "文件不是 UTF-8 编码，请另存为 UTF-8"))
        return None
    bad = _NOT_YAML.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        message = f"文件含有控制字符 U+{ord(bad.group()):04X}，不是文本格式的测评标准（是否选错了文件？）"
        problems.append(Problem(path, line, "", message))
        return None
    return text


# --- YAML with line numbers -------------------------------------------------------


class YamlMap(dict):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class YamlList(list):
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
    Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
    for tag, kind in (("int", "整数"), ("float", "数字"), ("bool", "布尔值（true 或 false）")):
        original = base.yaml_constructors[f"tag:yaml.org,2002:{tag}"]
        Loader.add_constructor(f"tag:yaml.org,2002:{tag}", _guarded_scalar(original, kind))
    Loader.add_constructor(None, _construct_undefined)
    return Loader


def _constructor_error(node: Any, message: str) -> Exception:
    import yaml

    return yaml.constructor.ConstructorError(None, None, message, node.start_mark)


def _construct_map(loader, node):  # type: ignore[no-untyped-def]
    import yaml

    # An explicit `!!map` on a scalar would otherwise be iterated character by character.
    if not isinstance(node, yaml.MappingNode):
        raise _constructor_error(node, "标签 !!map 只能用于键值映射")
    data = YamlMap()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    # Keys merged in with `<<: *defaults` are defaults: the mapping's own keys replace
    # them silently; only a key written twice in the mapping itself is a mistake.
    own = {id(key_node) for key_node, _ in node.value}
    written: set[Any] = set()
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        line = key_node.start_mark.line + 1
        try:
            # `key in a_set` would pass for a set key (Python looks it up as a frozenset).
            hash(key)
        except TypeError:
            loader.duplicates.append((line, f"键 {show(key)} 不能作为字段名"))
            continue
        duplicate = key in written
        if id(key_node) in own:
            written.add(key)
        if duplicate:
            loader.duplicates.append((line, f"字段 '{show(key)}' 重复出现（第 {data.key_lines[key]} 行已有）"))
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = line


def _construct_seq(loader, node):  # type: ignore[no-untyped-def]
    import yaml

    if not isinstance(node, yaml.SequenceNode):
        raise _constructor_error(node, "标签 !!seq 只能用于列表")
    data = YamlList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_object(child, deep=False) for child in node.value)


def _construct_timestamp(loader, node):  # type: ignore[no-untyped-def]
    # `2026-13-01` looks like a date to YAML and fails to become one; kept as text, the
    # field it belongs to reports it (edition names the field, text fields keep it).
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, TypeError, AttributeError):
        return loader.construct_scalar(node)


def _guarded_scalar(original, kind: str):  # type: ignore[no-untyped-def]
    """PyYAML's scalar constructors raise plain Python errors on `!!int ''` and the like."""

    def construct(loader, node):  # type: ignore[no-untyped-def]
        try:
            return original(loader, node)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            text = node.value if isinstance(node.value, str) else ""
            size = f"（共 {len(text)} 个字符）" if len(text) > 40 else ""
            raise _constructor_error(node, f"'{show(text)}'{size} 不是有效的{kind}") from None

    return construct


def _construct_undefined(loader, node):  # type: ignore[no-untyped-def]
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    raise _constructor_error(node, f"不支持的 YAML 标签 '{show(tag)}'")


def _yaml_problem(exc: Exception) -> tuple[int | None, str]:
    """A PyYAML error as (line, one Chinese line)."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if "nesting depth" in str(exc.problem):  # libyaml's own limit, met before ours in flow style
            return line, f"嵌套层数过多：超过 {MAX_DEPTH} 层（测评标准只需要几层）"
        detail = one_line("；".join(filter(None, [exc.context, exc.problem])) or "无法解析")
        if isinstance(exc, yaml.constructor.ConstructorError):
            return line, f"YAML 内容错误：{detail}"
        return line, f"YAML 语法错误：{detail}"
    return None, f"YAML 语法错误：{one_line(str(exc))}"


def _scan(text: str) -> tuple[int | None, str] | None:
    """Bound nesting and alias expansion from parser events, before anything is built.

    The event parser is iterative in both libyaml and PyYAML, so a file of 100,000 `[`
    costs 21 events here instead of a crash in the recursive composer.
    """
    import yaml
    from yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        DocumentStartEvent,
        ScalarEvent,
    )

    parser = _loader_class()(text)
    depth = 0
    aliases = 0
    expanded = 0
    # Per open collection: its anchor and how many values it holds once aliases expand.
    frames: list[list[Any]] = []
    sizes: dict[str, int] = {}
    anchor_lines: dict[str, int] = {}
    try:
        while parser.check_event():
            event = parser.get_event()
            line = event.start_mark.line + 1
            anchor = getattr(event, "anchor", None)
            if isinstance(event, DocumentStartEvent):
                sizes.clear()
                anchor_lines.clear()
            elif isinstance(event, AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    return line, f"文件使用了过多的 YAML 别名（*引用），最多 {MAX_ALIASES} 个"
                if anchor not in anchor_lines:
                    return line, f"别名 *{show(anchor)} 没有对应的锚点 &{show(anchor)}"
                if anchor not in sizes:
                    return line, f"别名 *{show(anchor)} 引用了包含它自己的内容（循环引用）"
                expanded += sizes[anchor]
                if expanded > MAX_ALIAS_NODES:
                    return line, f"YAML 别名（*引用）展开后内容过多：超过 {MAX_ALIAS_NODES} 个值，文件被拒绝"
                if frames:
                    frames[-1][1] += sizes[anchor]
            elif isinstance(event, (ScalarEvent, CollectionStartEvent)):
                if anchor is not None:
                    if anchor in anchor_lines:
                        return line, f"锚点 &{show(anchor)} 重复定义（第 {anchor_lines[anchor]} 行已有）"
                    anchor_lines[anchor] = line
                if isinstance(event, ScalarEvent):
                    if anchor is not None:
                        sizes[anchor] = 1
                    if frames:
                        frames[-1][1] += 1
                else:
                    depth += 1
                    if depth > MAX_DEPTH:
                        return line, f"嵌套层数过多：超过 {MAX_DEPTH} 层（测评标准只需要几层）"
                    frames.append([anchor, 1])
            elif isinstance(event, CollectionEndEvent) and frames:
                depth -= 1
                anchor, size = frames.pop()
                if anchor is not None:
                    sizes[anchor] = size
                if frames:
                    frames[-1][1] += size
    except yaml.YAMLError as exc:
        return _yaml_problem(exc)
    finally:
        parser.dispose()
    return None


def read_yaml_file(path: Path, problems: list[Problem]) -> Any:
    """Parse a file keeping line numbers; problems are appended, None is returned on failure."""
    text = _read_text(path, problems)
    if text is None:
        return None
    refused = _scan(text)
    if refused is not None:
        problems.append(Problem(path, refused[0], "", refused[1]))
        return None
    import yaml

    loader = _loader_class()(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        line, message = _yaml_problem(exc)
        problems.append(Problem(path, line, "", message))
        return None
    except RecursionError:
        # _scan bounds nesting and merges, so this is a last guard, not a path taken.
        problems.append(Problem(path, None, "", f"嵌套层数过多：超过 {MAX_DEPTH} 层"))
        return None
    finally:
        loader.dispose()
    for line, message in loader.duplicates:
        problems.append(Problem(path, line, "", message))
    return data


def read_yaml(path: Path, problems: list[str]) -> Any:
    """`read_yaml_file` for other YAML files (settings): problems come back as text lines."""
    found: list[Problem] = []
    data = read_yaml_file(path, found)
    problems.extend(str(p) for p in found)
    return data
