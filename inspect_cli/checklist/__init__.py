"""Loading and validating the YAML checklists (测评标准).

Every problem found in a file is collected, with the file, line and field it concerns,
and reported at once: a user fixing a checklist should not have to run the validator
once per typo.

Checklists come from users and from other offices, so nothing in a file may crash or
hang the loader: size, nesting and YAML aliases are bounded before any Python object is
built (`reading`), every value is checked for type and range, and includes stay inside
the checklist folders in use (`validation`). `load_checklists` and `validate_paths` share
one code path, so a set of folders validates cleanly exactly when it loads.

The program (not a library caller) keeps each loaded set on disk (`keep_cache`, in
`cache`), so a command run again reads one small file instead of parsing YAML.

The submodules are imported when a name is first used, so importing the package is free.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspect_cli.checklist.cache import keep_cache
    from inspect_cli.checklist.model import Checklist, ChecklistSet, Item, Problem, normalize_name
    from inspect_cli.checklist.reading import MAX_ALIAS_NODES, MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, read_yaml
    from inspect_cli.checklist.validation import (
        EDITION_YEARS,
        MAX_DEADLINE_DAYS,
        MAX_SCORE,
        checklist_files,
        validate_file,
        validate_paths,
    )

_EXPORTS = {
    "cache": ("keep_cache",),
    "model": ("Checklist", "ChecklistSet", "Item", "Problem", "normalize_name"),
    "reading": ("MAX_ALIAS_NODES", "MAX_ALIASES", "MAX_DEPTH", "MAX_FILE_BYTES", "read_yaml"),
    "validation": (
        "EDITION_YEARS",
        "MAX_DEADLINE_DAYS",
        "MAX_SCORE",
        "checklist_files",
        "validate_file",
        "validate_paths",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "EDITION_YEARS",
    "MAX_ALIASES",
    "MAX_ALIAS_NODES",
    "MAX_DEADLINE_DAYS",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_SCORE",
    "Checklist",
    "ChecklistSet",
    "Item",
    "Problem",
    "checklist_files",
    "keep_cache",
    "load_checklists",
    "normalize_name",
    "read_yaml",
    "validate_file",
    "validate_paths",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def load_checklists(folders: list[Path]) -> ChecklistSet:
    """Load every folder in order; a later folder's type replaces an earlier one's.

    Raises `ChecklistError` listing every problem. With `keep_cache` on, a set loaded
    before from the very same files comes from the cache.
    """
    from inspect_cli.checklist import cache

    return cache.load_checklists(folders)
