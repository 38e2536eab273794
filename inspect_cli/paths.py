"""Every file location the tool uses, resolved in one place (overridable for tests)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DB = "INSPECT_CLI_DB"
ENV_CHECKLISTS = "INSPECT_CLI_CHECKLISTS"
ENV_CONFIG = "INSPECT_CLI_CONFIG"
APP_NAME = "inspect-cli"

_PACKAGE_DIR = Path(__file__).resolve().parent


def default_db_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "inspect.sqlite"


def db_path(option: Path | None = None) -> Path:
    """The database file: `--db`, else $INSPECT_CLI_DB, else the per-user data path."""
    if option is not None:
        return Path(option).expanduser()
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    return default_db_path()


def config_path(option: Path | None = None) -> Path:
    """The settings file: `--config`, else $INSPECT_CLI_CONFIG, else the per-user config dir."""
    if option is not None:
        return Path(option).expanduser()
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.yaml"


def media_dir(database: Path) -> Path:
    """Photos are copied beside the database so the pair can be backed up together."""
    return database.parent / f"{database.stem}-media"


def office_dir(database: Path) -> Path:
    """What the office's field bundle hands this database: its checklists and settings."""
    return database.parent / f"{database.stem}-office"


def office_checklist_dirs(database: Path) -> list[Path]:
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
