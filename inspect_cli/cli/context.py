"""Per-invocation state set by the global options: the database and checklist folders."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inspect_cli import paths
from inspect_cli.checklist import ChecklistSet, load_checklists
from inspect_cli.store import Store


@dataclass
class AppContext:
    db_option: Path | None = None
    checklist_options: list[Path] = field(default_factory=list)
    debug: bool = False
    _store: Store | None = None
    _checklists: ChecklistSet | None = None

    @property
    def db_path(self) -> Path:
        return paths.db_path(self.db_option)

    @property
    def media_dir(self) -> Path:
        return paths.media_dir(self.db_path)

    @property
    def checklist_dirs(self) -> list[Path]:
        return paths.checklist_dirs(self.checklist_options)

    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path)
        return self._store

    def checklists(self) -> ChecklistSet:
        if self._checklists is None:
            self._checklists = load_checklists(self.checklist_dirs)
        return self._checklists

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


state = AppContext()


def configure(db: Path | None, checklists: list[Path] | None, debug: bool) -> None:
    state.close()
    state.db_option = db
    state.checklist_options = list(checklists or [])
    state.debug = debug
    state._checklists = None
