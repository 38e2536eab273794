"""Per-invocation state set by the global options: the database and checklist folders.

The store, the settings and the checklists are imported by the method that opens them:
every command imports this module, and many (help, completion, `checklist list`) never
open the database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inspect_cli import paths

if TYPE_CHECKING:
    from inspect_cli.checklist import ChecklistSet
    from inspect_cli.config import Settings
    from inspect_cli.store import Store


@dataclass
class AppContext:
    db_option: str | None = None
    checklist_options: list[Path] = field(default_factory=list)
    config_option: Path | None = None
    debug: bool = False
    _store: Store | None = None
    _checklists: ChecklistSet | None = None
    _settings: Settings | None = None

    @property
    def db_path(self) -> Path | str:
        return paths.db_path(self.db_option)

    @property
    def media_dir(self) -> Path:
        return paths.media_dir(self.db_path)

    @property
    def checklist_dirs(self) -> list[Path]:
        return paths.checklist_dirs(self.checklist_options, paths.office_checklist_dirs(self.db_path))

    @property
    def office_dir(self) -> Path:
        return paths.office_dir(self.db_path)

    @property
    def config_path(self) -> Path:
        return paths.config_path(self.config_option)

    def settings(self) -> Settings:
        if self._settings is None:
            from inspect_cli.config import load_settings

            office = paths.office_dir(self.db_path) / "settings.yaml"
            self._settings = load_settings(self.config_path, base=office)
        return self._settings

    def actor(self, name: str | None) -> str:
        """Who is acting: `--by`, else $INSPECT_CLI_USER, else the login name."""
        if name and name.strip():
            return name.strip()
        env = os.environ.get("INSPECT_CLI_USER")
        if env:
            return env
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "未知"

    def store(self) -> Store:
        if self._store is None:
            from inspect_cli.store import Store

            self._store = Store(self.db_path)
        return self._store

    def checklists(self) -> ChecklistSet:
        if self._checklists is None:
            from inspect_cli.checklist import load_checklists

            self._checklists = load_checklists(self.checklist_dirs)
        return self._checklists

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


state = AppContext()


def configure(db: str | None, checklists: list[Path] | None, config: Path | None, debug: bool) -> None:
    state.close()
    state.db_option = db
    state.checklist_options = list(checklists or [])
    state.config_option = config
    state.debug = debug
    state._checklists = None
    state._settings = None
