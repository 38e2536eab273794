"""Meta-tests: help texts, README examples, start-up cost."""

from __future__ import annotations

import csv
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import typer

from inspect_cli.cli import app

from .conftest import Cli, make_image

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
HEAVY = ("openpyxl", "PIL", "pypinyin", "docx", "yaml", "textual", "sqlalchemy", "psycopg", "sqlite3")


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


def test_help_imports_no_heavy_module():
    code = (
        "import sys\n"
        "from inspect_cli.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _readme_examples() -> list[list[str]]:
    block = re.search(r"```console\n(.*?)```", README, re.S)
    assert block, "README has no console block"
    return [shlex.split(line[2:])[1:] for line in block.group(1).splitlines() if line.startswith("$ inspect-cli")]


def test_readme_examples_run(tmp_path, monkeypatch):
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
        stdin = "\n" * 100 if argv[:1] in (["run"], ["recheck"]) else None
        result = cli(*argv, input=stdin, db="--db" not in argv)
        assert result.exit_code == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    shown = json.loads(cli.ok("inspection", "show", "JC-2026-0001", "--json").stdout)
    assert shown["status"] == "finished" and shown["score"]["rate"] == 100


def test_demo_builds_the_sample_city(cli):
    result = cli.ok("demo")
    assert "点位 84 个，检查 " in result.stdout and "本周街道排名" in result.stdout
    sites = json.loads(cli.ok("site", "list", "--json").stdout)
    assert len(sites) == 84
    assert len({s["site_type"] for s in sites}) == 14
    again = cli("demo")
    assert again.exit_code == 4 and "已有点位" in again.stderr
