"""Loading and validating the YAML checklists (测评标准).

Every problem found in a file is collected, with the file, line and field it concerns,
and reported at once: a user fixing a checklist should not have to run the validator
once per typo.

Checklists come from users and from other offices, so nothing in a file may crash or
hang the loader: size, nesting and YAML aliases are bounded before any Python object is
built (`reading`), every value is checked for type and range, and includes stay inside
the checklist folders in use (`validation`). `load_checklists` and `validate_paths` share
one code path, so a set of folders validates cleanly exactly when it loads.
"""

from inspect_cli.checklist.model import Checklist, ChecklistSet, Item, Problem, normalize_name
from inspect_cli.checklist.reading import MAX_ALIAS_NODES, MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, read_yaml
from inspect_cli.checklist.validation import (
    EDITION_YEARS,
    MAX_DEADLINE_DAYS,
    MAX_SCORE,
    checklist_files,
    load_checklists,
    validate_file,
    validate_paths,
)

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
    "load_checklists",
    "normalize_name",
    "read_yaml",
    "validate_file",
    "validate_paths",
]
