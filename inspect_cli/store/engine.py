"""Which database a store talks to, and the one connection it talks through.

`Connection` gives both engines one interface over their DB-API drivers (sqlite3, psycopg).
SQLAlchemy Core parses a server's address, opens its connection and creates a new server's
tables (`schema.server_tables`); a SQLite file is opened with the standard library alone, so
a command on a file never pays SQLAlchemy's import (0.4 s, three times Typer and Rich).
What still differs between the engines (opening, locking, case-insensitive lookups, error
messages) is in the two `Dialect`s below, so no other module knows which engine it runs on.

The connection runs in autocommit mode and transactions are begun explicitly, as the
store always did on SQLite: a read outside `atomic()` never holds a transaction open on
the server, and a write transaction starts by taking the write lock (SQLite's
`BEGIN IMMEDIATE`, a transaction-scoped advisory lock on PostgreSQL). Writers are
serialised on both engines: numbers (max + 1 per device and year), the Lamport clock and
the change sequence a bundle acknowledges all rely on one writer at a time, and a writer
that waits for the lock never deadlocks halfway through its work.
"""

from __future__ import annotations

import functools
import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from inspect_cli.errors import StoreError
from inspect_cli.store.sqlite_file import BUSY_TIMEOUT_SECONDS

CONNECT_TIMEOUT_SECONDS = 10
# "INSP": the SQLite header's application id, and the key of PostgreSQL's write lock.
LOCK_KEY = 0x494E5350


def is_url(value: object) -> bool:
    return isinstance(value, str) and "://" in value


@dataclass(frozen=True)
class Target:
    """A database to open: a SQLite file (or memory) or a PostgreSQL server's database."""

    engine: str  # "sqlite" or "postgresql"
    url: Any = None  # a server's address (SQLAlchemy URL); None for SQLite
    path: Path | None = None  # the SQLite file; None in memory and on a server

    @property
    def label(self) -> str:
        """How messages name it: the file, or host:port/database (never the password)."""
        if self.engine == "sqlite":
            return str(self.path) if self.path else ":memory:"
        url = self.url
        return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def target(value: Path | str) -> Target:
    """The database `--db` names: a path, `sqlite:///path`, or `postgresql://user:pass@host:port/db`."""
    if isinstance(value, Path) or not is_url(value):
        text = str(value)
        if text == ":memory:":
            return Target("sqlite")
        return Target("sqlite", path=Path(text).expanduser())
    scheme, _, rest = str(value).partition("://")
    if scheme.lower().startswith("sqlite"):
        # sqlite:///relative/file and sqlite:////absolute/file, as SQLAlchemy writes them
        database = rest[1:] if rest.startswith("/") else rest
        return target(database.split("?")[0] or ":memory:")
    # Only a server's address needs SQLAlchemy (its URL parsing), and only then is it loaded:
    # a SQLite command talks to the standard library's driver alone.
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    try:
        url = make_url(str(value))
    except sa_exc.ArgumentError:
        raise StoreError(
            f"数据库地址无效：{_masked(str(value))}（应为文件路径或 postgresql://用户:密码@主机:端口/库名）"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if not url.database:
            raise StoreError(f"数据库地址缺少库名：{_masked(str(value))}（如 postgresql://用户:密码@主机:5432/库名）")
        return Target("postgresql", url.set(drivername="postgresql+psycopg"))
    raise StoreError(f"不支持的数据库类型“{backend}”：请用 SQLite 文件路径或 postgresql:// 地址")


def _masked(text: str) -> str:
    from inspect_cli.paths import db_label

    return db_label(text)


# --- the two engines --------------------------------------------------------------------------


class Dialect(ABC):
    """What differs between the engines, as SQL fragments and a few steps."""

    name = ""
    like = "LIKE"  # case-insensitive for ASCII on SQLite
    greatest = "max"
    least = "min"

    def equal_nocase(self, column: str, param: str) -> str:
        """`column` equals `param`, ignoring case (point codes, numbers)."""
        return f"{column} = {param}"

    @abstractmethod
    def begin_write(self, conn: Connection) -> None:
        """Begin a transaction holding the database's write lock."""

    @abstractmethod
    def begin_read(self, conn: Connection) -> None:
        """Begin a read-only transaction that sees one snapshot."""

    @abstractmethod
    def message(self, exc: BaseException, target: Target) -> StoreError:
        """The one Chinese line for what the engine reported."""


_SQLITE_MESSAGES = {
    "file is not a database": "不是 SQLite 数据库文件（可能是其他程序的文件），未做任何修改",
    "database disk image is malformed": "数据库文件已损坏，请用备份恢复",
    "unable to open database file": "无法打开（路径不存在、是文件夹或没有权限）",
    "attempt to write a readonly database": "数据库是只读的（文件或所在文件夹没有写权限），未写入任何内容",
    "readonly database": "数据库是只读的（文件或所在文件夹没有写权限），未写入任何内容",
    "database or disk is full": "磁盘已满，未写入任何内容；请清理磁盘后重试",
    "database is locked": f"数据库被其他程序占用（已等待 {BUSY_TIMEOUT_SECONDS} 秒），未写入任何内容；请稍后重试",
    "disk i/o error": "读写磁盘出错（磁盘已满、已拔出或损坏），未写入任何内容",
    # Checked before writing, so only another process writing the same record at the same
    # moment gets here.
    "unique constraint failed": "另一个操作同时写入了同一条记录，本次未写入任何内容；请重试",
}


class SQLite(Dialect):
    name = "sqlite"

    def begin_write(self, conn: Connection) -> None:
        conn.run("BEGIN IMMEDIATE")

    def begin_read(self, conn: Connection) -> None:
        # In WAL mode a read transaction sees one snapshot until it ends.
        conn.run("BEGIN")
        conn.run("SELECT count(*) FROM schema_migrations")

    def message(self, exc: BaseException, target: Target) -> StoreError:
        text = str(getattr(exc, "orig", None) or exc).lower()
        for key, message in _SQLITE_MESSAGES.items():
            if key in text:
                return StoreError(f"数据库 {target.label}：{message}")
        return StoreError(f"数据库 {target.label} 出错：{_first_line(exc)}")


# SQLSTATE classes and codes (PostgreSQL appendix A) a person can act on.
_PG_STATES = {
    "28P01": "用户名或密码不对",
    "28000": "服务器拒绝了这个用户（请检查 pg_hba.conf 和用户名）",
    "3D000": "数据库不存在（请先在服务器上创建，见 README“办公室服务器”）",
    "42501": "用户没有权限（请让管理员授权：GRANT ALL ON SCHEMA public TO 用户）",
    "53100": "服务器磁盘已满，未写入任何内容",
    "53300": "服务器连接数已满，请稍后重试",
    "57P01": "服务器正在关闭，未写入任何内容；请稍后重试",
    "57P03": "服务器正在启动，请稍后重试",
    "23505": "另一个操作同时写入了同一条记录，本次未写入任何内容；请重试",
    "40P01": "与另一个操作互相等待（死锁），本次未写入任何内容；请重试",
    "40001": "与另一个操作冲突，本次未写入任何内容；请重试",
    "22021": "文字中含有数据库不能保存的字符（如 NUL），未写入任何内容",
}


class PostgreSQL(Dialect):
    name = "postgresql"
    like = "ILIKE"
    greatest = "greatest"
    least = "least"

    def equal_nocase(self, column: str, param: str) -> str:
        return f"lower({column}) = lower({param})"

    def begin_write(self, conn: Connection) -> None:
        conn.run("BEGIN")
        conn.run(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")

    def begin_read(self, conn: Connection) -> None:
        conn.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def message(self, exc: BaseException, target: Target) -> StoreError:
        orig = getattr(exc, "orig", None) or exc
        state = getattr(orig, "sqlstate", None)
        where = f"数据库服务器 {target.label}"
        if state in _PG_STATES:
            return StoreError(f"{where}：{_PG_STATES[state]}")
        text = str(orig)
        lowered = text.lower()
        if "nul" in lowered and "byte" in lowered:
            return StoreError(f"{where}：{_PG_STATES['22021']}")
        if state is None and ("connection refused" in lowered or "could not connect" in lowered):
            return StoreError(f"{where}：连不上服务器（服务器未启动、地址或端口不对，或被防火墙挡住）")
        if "timeout expired" in lowered or "timed out" in lowered:
            return StoreError(f"{where}：连接超时（服务器没有响应，请检查地址和网络）")
        if "password" in lowered and ("authentication" in lowered or "no password supplied" in lowered):
            return StoreError(f"{where}：用户名或密码不对")
        if "does not exist" in lowered and "database" in lowered:
            return StoreError(f"{where}：{_PG_STATES['3D000']}")
        if "name or service not known" in lowered or "could not translate host name" in lowered:
            return StoreError(f"{where}：找不到主机 {target.url.host}（请检查地址）")
        if state is None or state.startswith("08"):
            return StoreError(f"{where}：与服务器的连接中断，未写入任何内容；请检查网络后重试")
        return StoreError(f"{where} 出错：{_first_line(orig)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return _masked(text[0]) if text else type(exc).__name__


DIALECTS: dict[str, Dialect] = {"sqlite": SQLite(), "postgresql": PostgreSQL()}


# --- the connection -------------------------------------------------------------------------


class Record(tuple):
    """A result row: by position like a tuple, by column name like sqlite3.Row, and `dict(row)`."""

    __slots__ = ()
    _index: dict[str, int] = {}
    _names: tuple[str, ...] = ()

    def __getitem__(self, key):  # type: ignore[no-untyped-def, override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, ...]:
        return self._names


@functools.lru_cache(maxsize=512)
def _record_class(names: tuple[str, ...]) -> type[Record]:
    return type("Record", (Record,), {"__slots__": (), "_names": names, "_index": {n: i for i, n in enumerate(names)}})


class Rows:
    """What `execute` returns: iterate it, or fetch one or all."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        description = cursor.description
        self._make = _record_class(tuple(d[0] for d in description)) if description else None

    @property
    def columns(self) -> tuple[str, ...]:
        return self._make._names if self._make else ()

    def __iter__(self) -> Iterator[Record]:
        make = self._make
        fetch = self._cursor.fetchmany
        while batch := fetch(500):  # a batch at a time: memory stays flat, calls stay few
            for row in batch:
                yield make(row)  # type: ignore[misc]

    def fetchone(self) -> Record | None:
        row = self._cursor.fetchone()
        return None if row is None else self._make(row)  # type: ignore[misc]

    def fetchall(self) -> list[Record]:
        make = self._make
        return [make(row) for row in self._cursor.fetchall()]  # type: ignore[misc]


_CURSORS = itertools.count(1)
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|(?<![:\w]):(\w+)|%")


@functools.lru_cache(maxsize=4096)
def _pyformat(sql: str) -> str:
    """The statement in psycopg's parameter style: `?` → %s, `:name` → %(name)s, `%` → %%
    (string literals left alone)."""

    def token(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        if match.group(1):
            return f"%({match.group(1)})s"
        return text.replace("%", "%%")

    return _TOKENS.sub(token, sql)


class ServerRows:
    """Rows of a PostgreSQL server-side cursor, read a batch at a time; closed when read to the end."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._make = _record_class(tuple(d.name for d in cursor.description or ()))

    @property
    def columns(self) -> tuple[str, ...]:
        return self._make._names

    def __iter__(self) -> Iterator[Record]:
        make = self._make
        try:
            for row in self._cursor:
                yield make(row)
        finally:
            self.close()

    def close(self) -> None:
        try:
            self._cursor.close()
        except Exception:  # the transaction that held the cursor has ended, and the cursor with it
            pass

    def fetchall(self) -> list[Record]:
        return list(self)


def _value(value: object) -> object:
    # Both engines store dates as ISO text and flags as 0/1; PostgreSQL would otherwise refuse
    # a Python date for a text column or a bool for an integer one.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


_PLAIN = frozenset({str, int, float, type(None), bytes})


def _params(params: Sequence[object] | Mapping[str, object] | None) -> tuple[object, ...] | dict[str, object]:
    if params is None:
        return ()
    if isinstance(params, Mapping):
        return {k: _value(v) for k, v in params.items()}
    # Most rows hold only text and numbers: checked once, passed on as they are (the bulk path).
    if all(type(v) in _PLAIN for v in params):
        return params if type(params) is tuple else tuple(params)
    return tuple(_value(v) for v in params)


class Connection:
    """The store's one connection: `execute` with `?` or `:name` parameters, explicit transactions.

    Statements go to the driver as written: sqlite3 takes `?` and `:name` itself; for psycopg
    they are rewritten once per statement. SQLAlchemy opens a server's connection (URL, pool,
    connect errors) and creates a new server's tables; a SQLite file is opened with the
    standard library alone, so a command on a file never imports SQLAlchemy (0.4 s).
    A database error (the disk, the server, a lock) becomes one Chinese line wherever it happens.
    """

    def __init__(self, raw: Any, dialect: Dialect, target: Target, errors: Any, sa: Any = None, engine: Any = None):
        self.raw = raw  # the driver's connection, in autocommit mode
        self.dialect = dialect
        self.target = target
        self.errors = errors  # what the driver raises
        self.sa = sa  # PostgreSQL: SQLAlchemy's connection (schema creation)
        self._engine = engine
        self.in_transaction = False

    def execute(self, sql: str, params: Sequence[object] | Mapping[str, object] | None = None) -> Rows:
        cursor = self.raw.cursor()
        try:
            cursor.execute(self._sql(sql), _params(params))
        except self.errors as exc:
            raise self.dialect.message(exc, self.target) from None
        return Rows(cursor)

    def run(self, statement: str) -> None:
        """A statement without parameters, as written (DDL, transaction control, a migration's step)."""
        try:
            self.raw.execute(statement)
        except self.errors as exc:
            raise self.dialect.message(exc, self.target) from None

    def stream(self, sql: str, params: Sequence[object] | Mapping[str, object] | None = None) -> Rows:
        """Like `execute`, for results too large to hold: rows arrive as they are read.

        SQLite's cursor always does that; on PostgreSQL a server-side cursor does, which only
        lives inside a transaction (a snapshot or a write), so outside one this is `execute`.
        """
        if self.dialect.name == "sqlite" or not self.in_transaction:
            return self.execute(sql, params)
        cursor = self.raw.cursor(name=f"inspect_rows_{next(_CURSORS)}")
        cursor.itersize = 5000
        try:
            cursor.execute(self._sql(sql), _params(params) or None)
        except self.errors as exc:
            cursor.close()
            raise self.dialect.message(exc, self.target) from None
        return ServerRows(cursor)  # type: ignore[return-value]

    def copy_in(self, table: str, columns: tuple[str, ...], rows: Iterable[Sequence[object]]) -> int:
        """PostgreSQL's COPY … FROM STDIN: the bulk path on a server, many times `executemany`'s speed."""
        count = 0
        try:
            with self.raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_value(v) for v in row])
                    count += 1
        except self.errors as exc:
            raise self.dialect.message(exc, self.target) from None
        return count

    def executemany(
        self, sql: str, rows: Iterable[Sequence[object] | Mapping[str, object]], plain: bool = False
    ) -> None:
        """`plain`: the rows hold only text, numbers and None already (the bulk path), as given."""
        batch = list(rows) if plain else [_params(r) for r in rows]
        if not batch:
            return
        cursor = self.raw.cursor()
        try:
            cursor.executemany(self._sql(sql), batch)
        except self.errors as exc:
            raise self.dialect.message(exc, self.target) from None
        finally:
            cursor.close()

    def _sql(self, sql: str) -> str:
        return sql if self.dialect.name == "sqlite" else _pyformat(sql)

    def begin_write(self) -> None:
        self.dialect.begin_write(self)
        self.in_transaction = True

    def begin_read(self) -> None:
        self.dialect.begin_read(self)
        self.in_transaction = True

    def commit(self) -> None:
        self.run("COMMIT")
        self.in_transaction = False

    def rollback(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self.run("ROLLBACK")

    def close(self) -> None:
        try:
            self.rollback()
        except StoreError:
            pass  # the server went away: closing is all that is left to do
        finally:
            if self.sa is not None:
                self.sa.close()
                self._engine.dispose()
            else:
                self.raw.close()


def connect(where: Target, *, read_only: bool = False) -> Connection:
    """Open one connection; a clear StoreError (no password) when the database cannot be reached."""
    dialect = DIALECTS[where.engine]
    if where.engine == "sqlite":
        import sqlite3

        from inspect_cli.store.sqlite_file import connect_file

        try:
            raw = connect_file(where.path, read_only=read_only)
        except sqlite3.Error as exc:
            raise dialect.message(exc, where) from None
        return Connection(raw, dialect, where, sqlite3.Error)
    import psycopg
    import sqlalchemy as sa
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.pool import NullPool

    engine = sa.create_engine(
        where.url,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "inspect-cli"},
    )
    try:
        conn = engine.connect()
    except sa_exc.DBAPIError as exc:
        engine.dispose()
        raise dialect.message(exc, where) from None
    return Connection(conn.connection.driver_connection, dialect, where, psycopg.Error, conn, engine)
