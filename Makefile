# Quick start: `make demo` (sample city) and `make test` (the suite). Both idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := build/demo/city.sqlite

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf build/demo
	$(BIN)/inspect-cli --db $(DEMO_DB) demo
	$(BIN)/inspect-cli --db $(DEMO_DB) score --by type
	$(BIN)/inspect-cli --db $(DEMO_DB) issue stats --by street
	$(BIN)/inspect-cli --db $(DEMO_DB) notice -o build/demo/周通报.docx
	$(BIN)/inspect-cli --db $(DEMO_DB) notice -o build/demo/周通报.md
	$(BIN)/inspect-cli --db $(DEMO_DB) export report -o build/demo/测评报告.xlsx
	$(BIN)/inspect-cli --db $(DEMO_DB) plan show -o build/demo/任务单.xlsx
	$(BIN)/inspect-cli --db $(DEMO_DB) assess --rules build/demo/考核规则.yaml -o build/demo/考核.xlsx
	$(BIN)/inspect-cli --db $(DEMO_DB) export ledger -o build/demo/整改台账.xlsx
	@echo "示例数据库：$(DEMO_DB)  （试试：$(BIN)/inspect-cli --db $(DEMO_DB) site list --search nmsc）"

# The suite runs on SQLite, then again on PostgreSQL: the second run needs a server named by
# $$INSPECT_CLI_TEST_PG (see README) and is skipped, saying so, without one. -n auto: one
# pytest-xdist worker per core, each with its own temporary folders and server database.
test: $(STAMP)
	$(BIN)/ruff check inspect_cli tests bench scripts
	$(BIN)/ruff format --check inspect_cli tests bench scripts
	$(BIN)/python -m pytest -q -n auto
	$(BIN)/python -m pytest -q -n auto --engine postgresql

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
