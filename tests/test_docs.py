"""Meta-tests: help texts, README examples, start-up cost."""

from __future__ import annotations

import csv
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer

from inspect_cli.cli import COMMANDS, app
from inspect_cli.cli.conventions import help_line

from .conftest import Cli, copy_db, demo_db, demo_output, make_image

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# pydantic: Typer converts values with it, and setting it up costs as much as Typer itself.
HEAVY = (
    "openpyxl",
    "PIL",
    "pypinyin",
    "docx",
    "yaml",
    "textual",
    "matplotlib",
    "sqlalchemy",
    "psycopg",
    "sqlite3",
    "pydantic",
)
# What a command other than export, import, sync, device, demo, run or recheck must not load.
OTHER_COMMANDS = ("inspect_cli.demo", "inspect_cli.sync", "rich.progress", "xlsxwriter", "inspect_cli.cli.run_screen")
COMMAND_MODULES = sorted({lazy.module for lazy in COMMANDS.values()})


def _commands():
    root = typer.main.get_command(app)
    stack = [((), root)]
    while stack:
        path, command = stack.pop()
        yield path, command
        for name, child in getattr(command, "commands", {}).items():
            stack.append(((*path, name), child))


def test_every_command_has_help_with_an_example():
    for path, command in _commands():
        assert command.help and command.help.strip(), path
        if path and not getattr(command, "commands", None):
            assert "例：inspect-cli" in command.help, path


def test_every_command_is_documented_in_the_readme():
    for path, command in _commands():
        if path and not getattr(command, "commands", None):
            assert f"`{' '.join(path)}" in README or f"inspect-cli {' '.join(path)}" in README, path


def test_the_command_table_says_what_each_command_says():
    root = typer.main.get_command(app)
    assert root.list_commands(None) == list(COMMANDS)
    for name, lazy in COMMANDS.items():
        command = root.get_command(None, name)
        assert command is not None and command.name == name, name
        assert lazy.help == help_line(command), name
    # Every command a module registers, and every group it defines, is in the table.
    expected = {(lazy.module, lazy.attribute, name) for name, lazy in COMMANDS.items()}
    found = set()
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        if hasattr(module, "register"):
            scratch = typer.Typer()
            module.register(scratch)
            found |= {(module_name, "register", info.name) for info in scratch.registered_commands}
        groups = {attribute for attribute, value in vars(module).items() if isinstance(value, typer.Typer)}
        assert groups <= {attribute for m, attribute, _ in expected if m == module_name}, module_name
        found |= {(m, attribute, name) for m, attribute, name in expected if m == module_name and attribute in groups}
    assert found == expected


def _imported_by(argv: list[str], env: dict[str, str] | None = None) -> set[str]:
    """The modules `inspect-cli ARGV` imports, run as the program runs, in a fresh interpreter."""
    code = (
        "import io, json, sys\n"
        "from contextlib import redirect_stdout\n"
        "from inspect_cli.cli import main\n"
        f"sys.argv = ['inspect-cli', *{argv!r}]\n"
        "try:\n    with redirect_stdout(io.StringIO()):\n        main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_help_imports_no_heavy_module():
    imported = _imported_by(["--help"])
    assert [m for m in (*HEAVY, *OTHER_COMMANDS, *COMMAND_MODULES) if m in imported] == []


def test_a_command_imports_only_its_own_module(tmp_path):
    env = {"INSPECT_CLI_CACHE": str(tmp_path / "cache")}
    _imported_by(["--db", ":memory:", "checklist", "list"], env)  # parses, fills the cache
    # Besides other commands' modules, core modules the path has no use for.
    issue_core = ("inspect_cli.rectification", "inspect_cli.media", "inspect_cli.sites", "inspect_cli.config",
                  "inspect_cli.queries", "inspect_cli.store")  # fmt: skip
    no_store = ("inspect_cli.store", "inspect_cli.config")
    for argv, own, later in (
        (["--db", ":memory:", "checklist", "list"], {"inspect_cli.cli.checklist"}, no_store),
        (["issue", "--help"], {"inspect_cli.cli.issue"}, issue_core),
        (["site", "show", "--help"], {"inspect_cli.cli.site"}, ()),
    ):
        imported = _imported_by(argv, env)
        assert own <= imported, argv
        unwanted = (*HEAVY, *OTHER_COMMANDS, *(set(COMMAND_MODULES) - own), *later)
        assert [m for m in unwanted if m in imported] == [], argv


def _readme_examples() -> list[list[str]]:
    block = re.search(r"```console\n(.*?)```", README, re.S)
    assert block, "README has no console block"
    return [shlex.split(line[2:])[1:] for line in block.group(1).splitlines() if line.startswith("$ inspect-cli")]


def test_readme_examples_run(tmp_path, monkeypatch, tmp_path_factory):
    """Slow (about 4 s): every README example through the CLI, two Excel imports among them."""
    from openpyxl import Workbook

    monkeypatch.chdir(tmp_path)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["示范市文明区点位台账"])
    with open(ROOT / "inspect_cli" / "data" / "sample_city_sites.csv", encoding="utf-8-sig") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    workbook.save(tmp_path / "点位台账.xlsx")
    make_image(tmp_path / "现场.jpg")
    (tmp_path / "my-checklists").mkdir()
    (tmp_path / "my-checklists" / "bookshop.yaml").write_text(
        "site_type: 实体书店\ncode: STSD\nedition: '2026'\nitems:\n"
        "  - id: gg-01\n    text: 店内设置公益广告不少于1处\n    category: 公益广告\n    score: 50\n"
        "  - include: common/smoking.yaml\n",
        encoding="utf-8",
    )
    cli = Cli(tmp_path / "readme.sqlite")
    examples = _readme_examples()
    assert len(examples) >= 15
    for argv in examples:
        if argv == ["--db", "demo.sqlite", "demo"]:
            # The session's demo city is this very command's result (test_demo_builds_the_sample_city).
            copy_db(demo_db(tmp_path_factory), tmp_path / "demo.sqlite")
            continue
        stdin = "\n" * 100 if argv[:1] in (["run"], ["recheck"]) else None
        result = cli(*argv, input=stdin, db="--db" not in argv)
        assert result.exit_code == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    shown = json.loads(cli.ok("inspection", "show", "JC-2026-0001", "--json").stdout)
    assert shown["status"] == "finished" and shown["score"]["rate"] == 100


def test_demo_builds_the_sample_city(cli, engine, tmp_path_factory):
    """On SQLite the session's demo city is checked: `demo` run once in a new file (5-10 s).
    On PostgreSQL `demo` runs here: slow (about 40 s), 3316 answers recorded one at a time."""
    if engine == "sqlite":
        copy_db(demo_db(tmp_path_factory), cli.db)
        stdout = demo_output(tmp_path_factory)
    else:
        stdout = cli.ok("demo").stdout
    assert "点位 84 个，检查 " in stdout and "本周街道排名" in stdout
    sites = json.loads(cli.ok("site", "list", "--json").stdout)
    assert len(sites) == 84
    assert len({s["site_type"] for s in sites}) == 14
    again = cli("demo")
    assert again.exit_code == 4 and "已有点位" in again.stderr
