"""Start-up: sub-commands built when first used, values converted without Pydantic, and
loaded checklists kept on disk. What each command imports is checked in test_docs.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer._coercion import build_runtime_param
from typer.testing import CliRunner

from inspect_cli import paths
from inspect_cli.checklist import ChecklistSet, cache, keep_cache, load_checklists
from inspect_cli.cli import COMMANDS, app
from inspect_cli.cli.coercion import quicken
from inspect_cli.errors import ChecklistError

from .conftest import SHIPPED, copy_shipped

# --- sub-commands built when first used ---------------------------------------------------


def test_the_root_names_every_command_and_builds_only_what_is_looked_up():
    root = typer.main.get_command(app)
    assert list(root.commands) == list(COMMANDS) and len(root.commands) == len(COMMANDS)
    assert "site" in root.commands and "xyz" not in root.commands
    assert root.commands._built == {}
    assert root.get_command(None, "xyz") is None
    site = root.get_command(None, "site")
    assert set(root.commands._built) == {"site"} and root.get_command(None, "site") is site
    assert sorted(site.commands) == ["add", "import", "list", "show"]


def test_a_command_built_later_behaves_as_one_added_at_the_start(cli):
    assert cli("site", "list").exit_code == 0
    result = cli("score", "--by", "xyz")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "错误：选项 --by 的值 'xyz' 无效（可选：street、unit、partner、type、site、community、grid）\n"
    )


# --- values converted without Pydantic ----------------------------------------------------

SAMPLES = ["", ".", "0", "1", "-1", "007", "+5", " 5", "1_000", "5.0", "9" * 20, "abc", "中文/路径", "~/x", "a b"]
SAMPLES += ["street", "STREET", "Unit", "docx", "md", "-", "x\x00y", "2", "-0"]


def _all_params():
    stack = [typer.main.get_command(app)]
    while stack:
        command = stack.pop()
        yield from (p for p in command.params if hasattr(p, "type_descriptor"))
        stack.extend(getattr(command, "commands", {}).values())


def _convert(runtime, param, value):
    try:
        return "ok", repr(runtime.coerce(value, param=param, ctx=None))
    except Exception as exc:
        return "error", type(exc).__name__, str(exc), type(exc.__cause__).__name__


def test_plain_conversion_gives_what_typer_gives_for_every_option_and_argument():
    compared = 0
    for param in _all_params():
        values = SAMPLES if not param.type_descriptor.is_list else [(), ("a", "b"), tuple(SAMPLES[:6]), ("1", "x")]
        for value in values:
            param._runtime_param = None
            expected = _convert(build_runtime_param(param.type_descriptor), param, value)
            quicken([param])
            assert _convert(param._runtime_param, param, value) == expected, (param.name, value)
            compared += 1
    assert compared > 3000


def test_typical_commands_never_set_up_pydantic(tmp_path):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from inspect_cli.cli import app\n"
        "for argv in (['checklist', 'list'], ['site', 'list', '--search', 'x'], ['score', '--by', 'unit'],"
        " ['issue', 'list', '--json'], ['inspection', 'list', '--from', '2026-11-01']):\n"
        f"    result = CliRunner().invoke(app, ['--db', {str(tmp_path / 'x.sqlite')!r}, *argv])\n"
        "    assert result.exit_code == 0, (argv, result.output)\n"
        "print('pydantic' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout.strip().splitlines()[-1:]) == (0, ["False"]), result.stderr


# --- shell completion stays on the one command it completes -------------------------------


def _completion_imports(line: str) -> tuple[str, set[str]]:
    """What fish is offered for LINE, and the command-line modules that took."""
    code = (
        "import json, sys\n"
        "from inspect_cli.cli import main\n"
        "sys.argv = ['inspect-cli']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('inspect_cli.cli.'))), file=sys.stderr)"
    )
    env = {**os.environ, "_INSPECT_CLI_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, "_TYPER_COMPLETE_ARGS": line},
        check=True,
    )
    return result.stdout, set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_completion_imports_only_the_command_it_completes():
    shared = {"inspect_cli.cli.completion", "inspect_cli.cli.conventions", "inspect_cli.cli.coercion"}
    shared |= {"inspect_cli.cli.render", "inspect_cli.cli.context"}
    names, imported = _completion_imports("inspect-cli s")
    assert names.splitlines() == [
        "score\t按平均得分率排名（只计已完成的检查）。",
        "site\t点位台账：导入、添加、查找。",
        "sync\t多台电脑合并数据：导出同步包、导入同步包、查看冲突。",
    ]
    assert imported <= shared
    options, imported = _completion_imports("inspect-cli site list --s")
    assert "--search" in options
    assert "inspect_cli.cli.site" in imported and imported - shared <= {"inspect_cli.cli.site", "inspect_cli.cli.args"}


# --- checklists kept on disk --------------------------------------------------------------


@pytest.fixture
def kept(tmp_path, monkeypatch) -> Path:
    """The cache on, in a folder of the test's own; parses are counted."""
    directory = tmp_path / "cache"
    keep_cache(directory)
    parses = []
    load = cache._load
    monkeypatch.setattr(cache, "_load", lambda folders: parses.append(folders) or load(folders))
    yield directory, parses
    keep_cache(enabled=False)


def _forget():
    """A new process: nothing loaded in memory, here or in the loader."""
    from inspect_cli.checklist import validation

    cache._memory.clear()
    validation._LOADED.clear()


def test_a_set_loaded_again_comes_from_the_cache_and_is_the_same(kept, tmp_path):
    directory, parses = kept
    folder = copy_shipped(tmp_path / "checklists")
    first = load_checklists([folder])
    _forget()
    again = load_checklists([folder])
    assert len(parses) == 1
    assert again == first and again is not first
    assert [c.path for c in again] == [c.path for c in first] and isinstance(again, ChecklistSet)
    assert list(again.types) == list(first.types)
    assert len(list((directory / "checklists").glob("*.json"))) == 1


def test_an_edited_added_or_removed_file_is_parsed_again(kept, tmp_path):
    _, parses = kept
    folder = copy_shipped(tmp_path / "checklists")
    load_checklists([folder])
    # Same size and time as before: only the bytes tell.
    path = folder / "gy.yaml"
    info = path.stat()
    text = path.read_text(encoding="utf-8")
    edited = text.replace('edition: "2026"', 'edition: "2025"')
    assert edited != text and len(edited.encode()) == info.st_size
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    _forget()
    assert load_checklists([folder]).get("公园").edition == "2025"
    (folder / "common" / "unused.yaml").write_text("fragment: 无\nitems: []\n", encoding="utf-8")
    _forget()
    load_checklists([folder])
    (folder / "common" / "unused.yaml").unlink()
    _forget()
    load_checklists([folder])
    _forget()
    load_checklists([folder])
    assert len(parses) == 4  # the last one read the cache again


def test_new_code_parses_again(kept, tmp_path, monkeypatch):
    _, parses = kept
    folder = copy_shipped(tmp_path / "checklists")
    load_checklists([folder])
    monkeypatch.setattr(cache, "_code_version", lambda: "a newer inspect-cli")
    _forget()
    load_checklists([folder])
    assert len(parses) == 2


@pytest.mark.parametrize(
    "damage",
    [b"", b"\x00\xff garbage", b"[]", b'{"key": 1}', b"{", b'{"key": "KEY", "types": [{"code": 1}]}'],
)
def test_a_damaged_entry_is_ignored_and_rewritten(kept, tmp_path, damage):
    directory, parses = kept
    folder = copy_shipped(tmp_path / "checklists")
    first = load_checklists([folder])
    (entry,) = (directory / "checklists").glob("*.json")
    key = cache._content_key([folder])
    entry.write_bytes(damage.replace(b"KEY", key.encode()))
    _forget()
    assert load_checklists([folder]) == first
    assert len(parses) == 2
    _forget()
    assert load_checklists([folder]) == first
    assert len(parses) == 2


def test_problems_are_found_every_time_and_never_kept(kept, tmp_path):
    directory, parses = kept
    folder = copy_shipped(tmp_path / "checklists")
    (folder / "bad.yaml").write_text("site_type: 坏\ncode: bad\nedition: '2026'\nitems: [1]\n", encoding="utf-8")
    messages = []
    for _ in range(2):
        _forget()
        with pytest.raises(ChecklistError) as raised:
            load_checklists([folder])
        messages.append(raised.value.details)
    assert messages[0] == messages[1] and any(f"{folder / 'bad.yaml'}:" in line for line in messages[0])
    assert len(parses) == 2 and not (directory / "checklists").exists()


def test_an_unwritable_cache_is_no_error(kept, tmp_path):
    directory, parses = kept
    directory.parent.mkdir(exist_ok=True)
    directory.write_text("a file where the folder should be")
    assert len(load_checklists([SHIPPED])) == 14
    _forget()
    assert len(load_checklists([SHIPPED])) == 14
    assert len(parses) == 2


def test_library_callers_and_tests_load_without_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_CACHE", str(tmp_path / "cache"))
    assert paths.cache_dir() == tmp_path / "cache"
    load_checklists([SHIPPED])
    CliRunner().invoke(app, ["--db", str(tmp_path / "x.sqlite"), "checklist", "list"])
    assert not (tmp_path / "cache").exists()


def test_the_program_reads_the_cache_instead_of_yaml(tmp_path):
    code = (
        "import io, sys\n"
        "from contextlib import redirect_stdout\n"
        "from inspect_cli.cli import main\n"
        "sys.argv = ['inspect-cli', '--db', ':memory:', 'checklist', 'list', '--json']\n"
        "out = io.StringIO()\n"
        "try:\n    with redirect_stdout(out):\n        main()\nexcept SystemExit:\n    pass\n"
        "print('yaml' in sys.modules, out.getvalue(), sep='\\n')"
    )
    env = {**os.environ, "INSPECT_CLI_CACHE": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    assert [(r.returncode, r.stderr) for r in runs] == [(0, ""), (0, "")]
    first, second = (r.stdout.split("\n", 1) for r in runs)
    assert (first[0], second[0]) == ("True", "False")
    assert first[1] == second[1] and '"site_type": "农贸市场"' in first[1]
    assert (tmp_path / "cache" / "checklists").is_dir()


def test_the_characters_yaml_refuses_are_those_it_does_not_allow():
    from inspect_cli.checklist.reading import _NOT_YAML

    # Outside YAML 1.1's printable set, as the class was first written (and slow to compile).
    refused = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    every = "".join(map(chr, range(0x110000)))
    # Every code point once, in order: equal strings are equal sets (and quicker to compare).
    assert "".join(_NOT_YAML.findall(every)) == "".join(refused.findall(every))


def test_the_characters_xml_refuses_are_those_it_does_not_allow():
    from inspect_cli.text import _XML_INVALID

    # Outside XML 1.0's Char production, as the class was first written (and slow to compile).
    refused = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    every = "".join(map(chr, range(0x110000)))
    assert "".join(_XML_INVALID.findall(every)) == "".join(refused.findall(every))
