"""Many laptops, one office: bundles out and in, merged with nothing lost or counted twice."""

# What each kind of record is called in messages and listings.
KIND_LABELS = {
    "sites": "点位",
    "units": "单位",
    "inspections": "检查",
    "results": "检查项结果",
    "problems": "整改问题",
    "problem_events": "问题记录",
    "tombstones": "删除记录",
    "plans": "检查计划",
}

WORK = "work"
FIELD = "field"
# Kinds in the order they are written and merged: what a record refers to comes first.
TABLES = ("sites", "units", "inspections", "results", "problems", "problem_events")
