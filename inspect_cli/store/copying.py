"""A whole database into another, on either engine (`inspect-cli db copy`).

Every table is read in one snapshot of the source and written in one transaction of the
target, which first must be empty; before committing, each table's row count and a
checksum of its content are read back from the target and compared with the source's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inspect_cli.errors import StateError, StoreError
from inspect_cli.store import BULK_TABLES

if TYPE_CHECKING:
    from inspect_cli.store import Store

TABLES = BULK_TABLES
BATCH = 1000


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    checksum: str


def check_empty(target: Store) -> None:
    """Refuse a target that holds records (a new database holds only its own identity)."""
    filled = [t for t in TABLES if t != "replica" and target.conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone()]
    if filled:
        raise StateError(
            f"目标数据库 {target.label} 不是空的（{'、'.join(filled[:3])} 等表已有记录），未做任何修改；"
            "请复制到一个新建的空数据库"
        )


def copy_tables(source: Store, target: Store, progress: Callable[[int, int], None] | None = None) -> list[TableCopy]:
    """Copy every table; each table's count and checksum verified on the target before commit."""
    if source.schema_versions() != target.schema_versions():
        raise StateError(
            f"两个数据库的架构版本不同（{source.label} 与 {target.label}），请先用同一版本的 inspect-cli 打开二者"
        )
    check_empty(target)
    copied: list[TableCopy] = []
    with source.snapshot(), target.atomic() as out:
        total = sum(source.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)
        counter = _Counter(total, progress)
        out.execute("DELETE FROM replica")  # the copy is the same replica as its source
        for table, key in TABLES.items():
            columns = _columns(source, table)
            missing = set(columns) - set(_columns(target, table))
            if missing:
                raise StoreError(f"目标数据库的表 {table} 缺少列 {', '.join(sorted(missing))}，未做任何修改")
            digest = _Digest()
            rows = source.conn.stream(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {key}")
            count = target.insert_rows(table, tuple(columns), counter.passing(digest.passing(rows)), BATCH)
            copied.append(TableCopy(table, count, digest.hexdigest()))
        counter.report()
        for expected in copied:
            found = table_checksum(target, expected.table, _columns(source, expected.table))
            if found != expected:
                raise StoreError(
                    f"复制后核对不符：表 {expected.table} 源库 {expected.rows} 行，目标库 {found.rows} 行"
                    f"{'（内容校验和不同）' if found.rows == expected.rows else ''}；目标数据库未做任何修改"
                )
    return copied


def table_checksum(store: Store, table: str, columns: list[str] | None = None) -> TableCopy:
    """A table's row count and a checksum of its rows that does not depend on their order."""
    columns = columns or _columns(store, table)
    digest, count = _Digest(), 0
    for row in store.conn.stream(f"SELECT {', '.join(columns)} FROM {table}"):
        digest.add(row)
        count += 1
    return TableCopy(table, count, digest.hexdigest())


def _columns(store: Store, table: str) -> list[str]:
    return sorted(store.conn.execute(f"SELECT * FROM {table} LIMIT 0").columns)


class _Counter:
    def __init__(self, total: int, progress: Callable[[int, int], None] | None) -> None:
        self.total, self.done, self.progress = total, 0, progress

    def passing(self, rows: Iterable[tuple]) -> Iterator[tuple]:
        for row in rows:
            self.done += 1
            if self.done % BATCH == 0:
                self.report()
            yield row

    def report(self) -> None:
        if self.progress:
            self.progress(self.done, self.total)


class _Digest:
    """The sum of each row's SHA-256 (mod 2^256): equal for the same rows in any order."""

    def __init__(self) -> None:
        self.total = 0

    def passing(self, rows: Iterable[tuple]) -> Iterator[tuple]:
        for row in rows:
            self.add(row)
            yield tuple(row)

    def add(self, row: tuple) -> None:
        text = json.dumps([repr(v) if isinstance(v, float) else v for v in row], ensure_ascii=False)
        self.total = (self.total + int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")) % (1 << 256)

    def hexdigest(self) -> str:
        return f"{self.total:064x}"
