"""Opening a SQLite file with the standard library alone (what shell completion needs quickly)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 30


def connect_file(path: Path | None, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are begun explicitly); None: in memory."""
    if path is None:
        return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    if not read_only:
        return sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    resolved = path.resolve()
    # While another inspect-cli holds the database, its changes may still sit in the
    # write-ahead log, which a plain read-only connection reads. Otherwise the file is
    # complete on its own, and `immutable` reads it without creating -wal/-shm files.
    live = Path(f"{resolved}-wal").exists()
    uri = resolved.as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    return sqlite3.connect(uri, uri=True, timeout=0.5, isolation_level=None, check_same_thread=False)
