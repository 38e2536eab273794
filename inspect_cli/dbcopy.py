"""`db copy`: an office's database, with its photos and office files, into another database.

Between engines (a laptop's SQLite file onto the office's PostgreSQL server, or back) or
the same; the target must be empty. Photos are copied first and checked against their
content address; then every table in one transaction, verified before it commits. If the
tables cannot be copied, the photos copied for them are removed again.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from inspect_cli import paths
from inspect_cli.errors import InputError, NotFoundError, StoreError
from inspect_cli.media import os_reason


@dataclass
class CopyResult:
    source: str
    target: str
    tables: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    photos: int = 0
    photos_missing: list[str] = field(default_factory=list)
    office_files: int = 0


def copy_database(
    source: Path | str, target: Path | str, progress: Callable[[int, int], None] | None = None
) -> CopyResult:
    from inspect_cli.store import Store
    from inspect_cli.store.copying import check_empty, copy_tables

    if isinstance(source, Path) and not source.is_file():
        raise NotFoundError(f"找不到源数据库文件：{source}")
    if _same(source, target):
        raise InputError("源数据库和目标数据库是同一个，未做任何修改")
    result = CopyResult(paths.db_label(source), paths.db_label(target))
    new_file = isinstance(target, Path) and not target.exists()
    created: list[Path] = []
    try:
        with Store(source) as src, Store(target) as dst:
            check_empty(dst)
            result.photos, result.photos_missing = _copy_photos(
                paths.media_dir(source), paths.media_dir(target), src.photo_names(), created
            )
            result.office_files = _copy_tree(paths.office_dir(source), paths.office_dir(target), created)
            for copied in copy_tables(src, dst, progress):
                result.tables[copied.table] = copied.rows
                result.checksums[copied.table] = copied.checksum
    except BaseException:
        for path in reversed(created):
            with suppress(OSError):
                path.unlink()
        if new_file and isinstance(target, Path):
            for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                with suppress(OSError):
                    leftover.unlink()
        raise
    return result


def _same(source: Path | str, target: Path | str) -> bool:
    if isinstance(source, Path) and isinstance(target, Path):
        return target.exists() and source.resolve() == target.resolve()
    return paths.db_label(source) == paths.db_label(target)


def _copy_photos(source: Path, target: Path, names: list[str], created: list[Path]) -> tuple[int, list[str]]:
    """Copy the photos the database names; each copy is checked against its SHA-256 name."""
    copied, missing = 0, []
    for name in names:
        origin = source / name
        if not origin.is_file():
            missing.append(name)
            continue
        destination = target / name
        if not destination.exists():
            _copy_file(origin, destination, created)
        expected = Path(name).stem
        if len(expected) == 64 and _sha256(destination) != expected:
            raise StoreError(f"照片复制后核对不符：{destination}，未做任何修改")
        copied += 1
    return copied, missing


def _copy_tree(source: Path, target: Path, created: list[Path]) -> int:
    if not source.is_dir():
        return 0
    count = 0
    for origin in sorted(p for p in source.rglob("*") if p.is_file()):
        destination = target / origin.relative_to(source)
        if not destination.exists():
            _copy_file(origin, destination, created)
        count += 1
    return count


def _copy_file(origin: Path, destination: Path, created: list[Path]) -> None:
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, destination)
    except OSError as exc:
        raise StoreError(f"无法复制文件到 {destination}：{os_reason(exc)}，未做任何修改") from None
    created.append(destination)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
