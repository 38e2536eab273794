"""The program's cache of loaded checklist sets.

The program (not a library caller) keeps each loaded set on disk (`keep_cache`), as JSON
keyed by the bytes of every file in its folders and by this code: a command run again
reads one small file instead of parsing YAML, and any edit, added file or upgrade loads
afresh. Only sets that loaded without a problem are kept, so problems are always found
and worded by the loader itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_cli import paths

if TYPE_CHECKING:
    from inspect_cli.checklist.model import ChecklistSet

# Bumped whenever what is written changes shape.
_FORMAT = 1
# Sets kept on disk: a user has one or two; `sync import` checks each bundle's, once.
_ENTRIES_KEEP = 32
_MEMORY_KEEP = 8

_cache: Path | bool | None = None  # None: off; True: paths.cache_dir(), resolved at first use
_memory: dict[str, ChecklistSet] = {}


def keep_cache(directory: Path | None = None, *, enabled: bool = True) -> None:
    """Keep loaded sets on disk from now on, in `directory` (default `paths.cache_dir()`)."""
    global _cache
    _cache = (directory or True) if enabled else None
    _memory.clear()


def load_checklists(folders: list[Path]) -> ChecklistSet:
    """`inspect_cli.checklist.load_checklists`: from the cache when it is on and holds these files."""
    if _cache is None:
        return _load(folders)
    key = _content_key(folders)
    if key is None:  # a folder cannot be read: the loader says how
        return _load(folders)
    entry = _entry_path(folders)
    loaded = _memory.get(key)
    if loaded is None:
        loaded = _read_entry(entry, key)
    if loaded is None:
        loaded = _load(folders)
        if _content_key(folders) == key:  # nothing changed while it loaded
            _write_entry(entry, key, loaded)
    if len(_memory) >= _MEMORY_KEEP:
        _memory.pop(next(iter(_memory)))
    _memory[key] = loaded
    return loaded


def _load(folders: list[Path]) -> ChecklistSet:
    from inspect_cli.checklist import validation

    return validation.load_checklists(folders)


def _entries_dir() -> Path:
    root = paths.cache_dir() if _cache is True else _cache
    assert isinstance(root, Path)
    return root / "checklists"


def _entry_path(folders: list[Path]) -> Path:
    """One entry per list of folders, replaced when their files change."""
    import hashlib

    names = "\0".join(os.fsdecode(os.path.abspath(folder)) for folder in folders)
    return _entries_dir() / f"{hashlib.sha256(names.encode('utf-8', 'surrogateescape')).hexdigest()[:32]}.json"


def _code_version() -> str:
    """This package's code and the text rules it validates with: a change loads afresh."""
    from inspect_cli import __version__

    here = Path(__file__).parent
    parts = [f"format {_FORMAT}", __version__]
    for source in sorted([*here.glob("*.py"), here.parent / "text.py", here.parent / "errors.py"]):
        info = os.stat(source)
        parts.append(f"{source.name} {info.st_size} {info.st_mtime_ns}")
    return "\n".join(parts)


def _content_key(folders: list[Path]) -> str | None:
    """A digest of every file under the folders, by content; None when a folder cannot be read."""
    import hashlib

    from inspect_cli.checklist.reading import MAX_FILE_BYTES

    digest = hashlib.sha256(_code_version().encode())
    try:
        for folder in folders:
            digest.update(b"\0folder\0" + os.fsencode(folder))
            for top, dirs, files in os.walk(folder, onerror=_raise):
                dirs.sort()
                for name in dirs:
                    path = os.path.join(top, name)
                    if os.path.islink(path):  # not walked; where it points decides what an include finds
                        digest.update(b"\0link\0" + os.fsencode(path) + b"\0" + os.fsencode(os.readlink(path)))
                for name in sorted(files):
                    path = os.path.join(top, name)
                    digest.update(b"\0file\0" + os.fsencode(path) + b"\0" + _file_digest(path, MAX_FILE_BYTES))
    except (OSError, ValueError):
        return None
    return digest.hexdigest()


def _file_digest(path: str, limit: int) -> bytes:
    """The file's bytes hashed; what it is instead when it is no file the loader would read."""
    import hashlib
    import stat

    try:
        # Never blocks on a FIFO named x.yaml, and what is hashed is what was examined.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"unreadable {exc.errno}".encode()
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return f"mode {info.st_mode} size {info.st_size} time {info.st_mtime_ns}".encode()
        digest = hashlib.sha256()
        while chunk := os.read(fd, 1 << 16):
            digest.update(chunk)
        return digest.digest()
    except OSError as exc:
        return f"unreadable {exc.errno}".encode()
    finally:
        os.close(fd)


def _raise(exc: OSError) -> None:
    raise exc


def _read_entry(entry: Path, key: str) -> ChecklistSet | None:
    """The set kept under `key`, or None: missing, stale, damaged or foreign entries are ignored."""
    import json

    try:
        data = json.loads(entry.read_bytes())
        if data.get("key") != key:
            return None
        return _decode(data["types"])
    except Exception:
        return None  # rebuilt and written again by the caller


def _write_entry(entry: Path, key: str, checklists: ChecklistSet) -> None:
    import json

    types = _encode(checklists)
    if types is None:
        return
    text = json.dumps({"format": _FORMAT, "key": key, "types": types}, allow_nan=False)
    temporary = entry.with_name(f".{entry.stem}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(temporary, entry)
        _prune(entry.parent)
    except OSError:
        # A read-only or full disk: the next run loads from the files, as it always could.
        try:
            os.unlink(temporary)
        except OSError:
            pass


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[_ENTRIES_KEEP:]:
        old.unlink(missing_ok=True)


_PLAIN = (str, int, float, bool, type(None))


def _encode(checklists: ChecklistSet) -> list[dict[str, Any]] | None:
    """The set as JSON values, or None if it holds anything JSON would not give back as it was."""
    import dataclasses
    import math

    types = []
    for checklist in checklists.types.values():
        items = [dataclasses.asdict(item) for item in checklist.items]
        values = [v for item in items for v in item.values()]
        texts = [checklist.site_type, checklist.code, checklist.edition, *checklist.aliases]
        if not all(type(v) in _PLAIN and not (isinstance(v, float) and not math.isfinite(v)) for v in values):
            return None
        if not all(type(t) is str for t in texts) or not isinstance(checklist.path, (Path, type(None))):
            return None
        types.append(
            {
                "site_type": checklist.site_type,
                "code": checklist.code,
                "edition": checklist.edition,
                "aliases": list(checklist.aliases),
                "path": None if checklist.path is None else os.fsdecode(checklist.path),
                "items": items,
            }
        )
    return types


def _decode(types: list[dict[str, Any]]) -> ChecklistSet:
    from inspect_cli.checklist.model import Checklist, ChecklistSet, Item

    loaded = ChecklistSet()
    for data in types:
        checklist = Checklist(
            site_type=data["site_type"],
            code=data["code"],
            edition=data["edition"],
            items=tuple(Item(**item) for item in data["items"]),
            aliases=tuple(data["aliases"]),
            path=None if data["path"] is None else Path(data["path"]),
        )
        loaded.types[checklist.site_type] = checklist
    return loaded
