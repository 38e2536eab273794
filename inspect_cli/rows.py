"""Importing a register file row by row: what each row will do, and refusing bad rows.

The 点位台账 and the 单位名录 import the same way: every row is planned first (create,
update or unchanged), and any bad row refuses the whole file with one line per row.
"""

from __future__ import annotations

from typing import NoReturn

from inspect_cli.errors import ImportFileError

ACTION_LABELS = {"create": "新增", "update": "更新", "unchanged": "无变化"}
# Past this many bad rows the rest are counted, not listed: a wrong file is obvious by then.
MAX_DETAILS = 50


class PlannedRow:
    """What one row of a register file will do; `action` is create, update or unchanged."""

    row: int
    action: str
    changes: dict[str, tuple[object, object]]

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]


class ImportPlan:
    """The rows of one register file and what each will do."""

    header_row: int
    changes: list
    ignored_columns: list[str]

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def refuse_rows(source: str, problems: list[str]) -> NoReturn:
    """Refuse a whole file, one line per bad row (the first MAX_DETAILS of them)."""
    listed = problems[:MAX_DETAILS]
    if len(problems) > MAX_DETAILS:
        listed.append(f"……另有 {len(problems) - MAX_DETAILS} 行有问题，未一一列出")
    raise ImportFileError(f"{source} 有 {len(problems)} 行无法导入，未写入任何数据", listed)
