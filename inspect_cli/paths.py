"""Every file location the tool uses, resolved in one place (overridable for tests)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DB = "INSPECT_CLI_DB"
ENV_CHECKLISTS = "INSPECT_CLI_CHECKLISTS"
ENV_CONFIG = "INSPECT_CLI_CONFIG"
ENV_FILES = "INSPECT_CLI_FILES"
ENV_CACHE = "INSPECT_CLI_CACHE"
APP_NAME = "inspect-cli"

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_db_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "inspect.sqlite"


def db_path(option: Path | str | None = None) -> Path | str:
    """The database: `--db`, else $INSPECT_CLI_DB, else the per-user data path.

    A file is a Path (`sqlite:///file` too); a server's address (postgresql://…) stays text.
    """
    value: Path | str | None = option
    if value is None or str(value) == "":
        value = os.environ.get(ENV_DB) or None
    if value is None:
        return default_db_path()
    text = str(value)
    if isinstance(value, str) and "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.lower() != "sqlite":
            return text
        # sqlite:///relative/file and sqlite:////absolute/file, as SQLAlchemy writes them
        return Path(rest[1:] if rest.startswith("/") else rest).expanduser()
    return Path(text).expanduser()


def db_label(database: Path | str) -> str:
    """How to show the database to a person: the file, or the server's address without its password."""
    import re

    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(database))


def server_files_dir(url: str) -> Path:
    """Where photos and the office's files of a server database are kept on this computer:
    $INSPECT_CLI_FILES, else a folder per server and database in the user data path."""
    env = os.environ.get(ENV_FILES)
    if env:
        return Path(env).expanduser()
    import hashlib
    from urllib.parse import urlsplit

    from platformdirs import user_data_path

    parts = urlsplit(url)
    name = f"{parts.hostname or 'localhost'}-{parts.port or 5432}-{parts.path.strip('/') or 'db'}"
    if parts.query:
        name += "-" + hashlib.sha256(parts.query.encode()).hexdigest()[:8]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return user_data_path(APP_NAME, appauthor=False) / "servers" / safe


def config_path(option: Path | None = None) -> Path:
    """The settings file: `--config`, else $INSPECT_CLI_CONFIG, else the per-user config dir."""
    if option is not None:
        return Path(option).expanduser()
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.yaml"


def cache_dir() -> Path:
    """What the program may rebuild (parsed checklists): $INSPECT_CLI_CACHE, else the user cache."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def media_dir(database: Path | str) -> Path:
    """Photos are copied beside the database file so the pair can be backed up together."""
    if isinstance(database, str):
        return server_files_dir(database) / "media"
    return database.parent / f"{database.stem}-media"


def office_dir(database: Path | str) -> Path:
    """What the office's field bundle hands this database: its checklists and settings."""
    if isinstance(database, str):
        return server_files_dir(database) / "office"
    return database.parent / f"{database.stem}-office"


def office_checklist_dirs(database: Path | str) -> list[Path]:
    """The office's checklist folders, in the order the office loads them."""
    root = office_dir(database) / "checklists"
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))


def shipped_checklists_dir() -> Path:
    # A wheel carries the checklists inside the package; a source checkout (and an
    # editable install) reads them from the repository's top-level folder.
    packaged = _PACKAGE_DIR / "_checklists"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "checklists"


def checklist_dirs(option: list[Path] | None = None, office: list[Path] | None = None) -> list[Path]:
    """Shipped folder first, then the office's (from its field bundle), then the user's folders;
    later folders override earlier ones."""
    user: list[Path] = []
    env = os.environ.get(ENV_CHECKLISTS)
    if env:
        user.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p.strip())
    if option:
        user.extend(Path(p).expanduser() for p in option)
    return [shipped_checklists_dir(), *(office or []), *user]


def sample_city_register() -> Path:
    return _PACKAGE_DIR / "data" / "sample_city_sites.csv"
