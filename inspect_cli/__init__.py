"""inspect-cli: on-site 创城 inspections from YAML checklists, scored and tracked."""

__version__ = "0.1.0"
