"""Command-line conventions: usage errors, help pages, closed pipes, shell completion."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from inspect_cli.cli import app
from inspect_cli.cli.conventions import Command, Group

SCRIPT = Path(sys.executable).with_name("inspect-cli")
BOX = ("╭", "╰", "│", "─")
ENGLISH = ("Usage", "Error", "Try ", "Missing", "No such", "Invalid", "Got unexpected", "Did you mean", "requires")


# --- usage errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "line", "command"),
    [
        (["record"], "缺少参数 SITE", "inspect-cli record"),
        (["record", "NMSC-001"], "缺少参数 ITEM", "inspect-cli record"),
        (["site", "add", "--type", "公园"], "缺少选项 --name", "inspect-cli site add"),
        (["--bogus"], "未知选项 --bogus", "inspect-cli"),
        (["site", "list", "--jsn"], "未知选项 --jsn，是不是 --json？", "inspect-cli site list"),
        (["site", "list", "-x"], "未知选项 -x", "inspect-cli site list"),
        (["record", "NMSC-001", "gg-01", "fail", "--note"], "选项 --note 需要一个值", "inspect-cli record"),
        (["record", "NMSC-001", "gg-01", "fail", "-c"], "选项 -c 需要一个值", "inspect-cli record"),
        (["--db"], "选项 --db 需要一个值", "inspect-cli"),
        (["site", "list", "--json=yes"], "选项 --json 不接受值", "inspect-cli site list"),
        (
            ["record", "NMSC-001", "gg-01", "fail", "--count", "abc"],
            "选项 --count 的值 'abc' 无效（应为整数）",
            "inspect-cli record",
        ),
        (
            ["score", "--by", "xyz"],
            "选项 --by 的值 'xyz' 无效（可选：street、unit、partner、type、site、community、grid）",
            "inspect-cli score",
        ),
        (["site", "show", "NMSC-001", "extra"], "多余的参数 'extra'", "inspect-cli site show"),
        (["site", "show", "A", "B", "C"], "多余的参数 'B' 'C'", "inspect-cli site show"),
        (["recrd"], "未知命令 recrd，是不是 record？", "inspect-cli"),
        (["xyz"], "未知命令 xyz", "inspect-cli"),
        (["site", "lst"], "未知命令 site lst，是不是 site list？", "inspect-cli site"),
        (["--debug"], "缺少命令", "inspect-cli"),
        (
            ["--show-completion", "tcsh"],
            "选项 --show-completion：不支持的 shell 'tcsh'（可用：bash、zsh、fish、powershell、pwsh）",
            "inspect-cli",
        ),
    ],
)
def test_usage_error_is_one_chinese_line_and_exit_2(cli, argv, line, command):
    result = cli(*argv)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"错误：{line}", f"用 {command} -h 查看用法"]
    assert result.stdout == ""
    assert not any(mark in result.stderr for mark in BOX + ENGLISH)


def at_most_99(value: int) -> int:
    if value > 99:
        raise typer.BadParameter("问题数量不能超过 99")
    return value


def _tiny_app() -> typer.Typer:
    """An app built with the project's classes, for errors no command of ours raises yet."""
    tiny = typer.Typer(
        cls=Group, name="tiny", add_completion=False, context_settings={"help_option_names": ["-h", "--help"]}
    )

    @tiny.callback()
    def _root() -> None:
        pass

    @tiny.command(cls=Command)
    def report(
        week: Annotated[str | None, typer.Option("--week")] = None,
        start: Annotated[str | None, typer.Option("--from")] = None,
        count: Annotated[int, typer.Option("--count", callback=at_most_99)] = 1,
    ) -> None:
        if week and start:
            raise typer.BadParameter("--week 与 --from 不能同时使用")

    @tiny.command(cls=Command)
    def delete() -> None:
        typer.confirm("确认删除？")

    @tiny.command(cls=Command)
    def crash() -> None:
        raise KeyError("internal detail")

    return tiny


def test_a_bug_is_one_chinese_line_without_python_internals():
    result = CliRunner().invoke(_tiny_app(), ["crash"])
    assert result.exit_code == 1
    assert result.stderr == "错误：程序内部错误，未完成本次操作。请在命令前加 --debug 重新运行，并把输出报告给开发者\n"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["report", "--week", "2026-W47", "--from", "2026-11-16"], "--week 与 --from 不能同时使用"),
        (["report", "--count", "100"], "选项 --count：问题数量不能超过 99"),
    ],
)
def test_bad_parameter_from_our_code_keeps_its_chinese_message(argv, line):
    result = CliRunner().invoke(_tiny_app(), argv)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"错误：{line}", "用 tiny report -h 查看用法"]


def test_unanswered_question_is_cancelled_in_chinese():
    result = CliRunner().invoke(_tiny_app(), ["delete"], input="")
    assert result.exit_code == 1
    assert result.stderr == "错误：已取消\n" and "Aborted" not in result.output


def test_group_without_command_shows_its_help(cli):
    result = cli("site")
    assert result.exit_code == 2
    assert result.stdout.startswith("用法：inspect-cli site [选项] 命令 [参数]...\n")
    assert "  list  " in result.stdout and result.stderr == ""


# --- help pages ---------------------------------------------------------------------------


def _commands():
    root = typer.main.get_command(app)
    stack = [((), root)]
    while stack:
        path, command = stack.pop()
        yield path, command
        for name, child in getattr(command, "commands", {}).items():
            stack.append(((*path, name), child))


def _squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_every_help_page_is_chinese_and_complete_when_piped_narrow(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")  # CliRunner output is not a terminal: the piped case
    for path, command in _commands():
        result = cli(*path, "--help", db=False)
        assert result.exit_code == 0, path
        page = result.stdout
        assert page.startswith(f"用法：inspect-cli {' '.join(path)}".rstrip()), path
        for word in ("<bool>", "<str>", "<int>", "<list", "…", "Usage", "Options", "Arguments", "Commands"):
            assert word not in page, (path, word)
        assert not any(mark in page for mark in BOX), path
        assert "Show this message" not in page and "[required]" not in page and "default:" not in page
        assert all(cell_len(line) <= 60 and line == line.rstrip() for line in page.splitlines()), path
        # Nothing is cut: every text the page should show is there in full, wherever it wraps.
        texts = [command.help or ""]
        texts += [p.help or "" for p in command.params if p.name not in ("install_completion", "show_completion")]
        texts += [child.help.partition("例：")[0] for child in getattr(command, "commands", {}).values()]
        for text in texts:
            assert _squeeze(text) in _squeeze(page), (path, text)


def test_help_names_values_not_types(cli):
    page = cli("record", "--help", db=False).stdout
    assert "用法：inspect-cli record [选项] SITE ITEM RESULT\n" in page
    for pattern in (
        r"\n  SITE +点位编号",
        r"\n  ITEM +检查项编号",
        r"-n, --note TEXT +问题描述",
        r"-c, --count N +问题数量（处）  \[默认：1\]",
        r"-p, --photo PATH +照片路径",
        r"-d, --date DATE +检查日期",
        r"-u, --unit UNIT +责任单位",
        r"\n      --inspection ID +写入指定的检查",
        r"-h, --help +显示本帮助并退出",
    ):
        assert re.search(pattern, page), pattern
    assert re.search(r"\n +--json +输出 JSON", cli("site", "list", "--help", db=False).stdout)
    assert re.search(r"--name TEXT +点位名称  \[必填\]", cli("site", "add", "--help", db=False).stdout)
    score = cli("score", "--help", db=False).stdout
    assert re.search(
        r"--by street\|unit\|partner\|type\|site\|community\|grid +排名对象.*\[默认：street\]", score, re.S
    )
    root = cli("--help", db=False).stdout
    assert re.search(r"--install-completion \[SHELL\] +安装命令补全", root)
    assert re.search(r"--show-completion \[SHELL\] +显示命令补全脚本", root)
    assert re.search(r"\n  record +记录一项检查结果（非交互）。\n", root)


# --- closed pipes ---------------------------------------------------------------------------


def test_closed_pipe_ends_quietly_with_141(cli, db_path):
    """Slow (about 3 s): the CLI as a real process in a shell pipe, once per command."""
    cli.ok("site", "add", "--name", "人民公园", "--type", "公园")
    runs = []
    for argv in (["--help"], ["run", "--help"], ["site", "list"], ["site", "list", "--json"]):
        read, write = os.pipe()
        os.close(read)  # nobody reads: the first write meets a closed pipe
        runs.append(subprocess.Popen([SCRIPT, "--db", db_path, *argv], stdout=write, stderr=subprocess.PIPE, text=True))
        os.close(write)
    for process in runs:
        _, stderr = process.communicate(timeout=60)
        assert (process.returncode, stderr) == (141, ""), process.args


# --- shell completion ---------------------------------------------------------------------


@pytest.fixture
def register(cli, db_path) -> Path:
    cli.ok(
        "site",
        "add",
        "--name",
        "东城农贸市场",
        "--type",
        "农贸市场",
        "--unit",
        "东城街道办事处",
        "--partner",
        "市场监管局",
        "--new-unit",
    )
    cli.ok(
        "site", "add", "--name", "西湖[试点]农贸市场", "--type", "农贸市场", "--unit", "西湖街道办事处", "--new-unit"
    )
    cli.ok("site", "add", "--name", "人民公园", "--type", "公园", "--unit", "园林局", "--new-unit")
    cli.ok("record", "NMSC-001", "1", "fail", "--date", "2026-11-18", "--unit", "城管局", "--new-unit")
    return db_path


def _console_script(requests: dict[str, dict[str, str]]) -> dict[str, str]:
    """Ask the installed console script, all at once (each start costs most of a second)."""
    assert SCRIPT.is_file(), f"{SCRIPT} is not installed"
    running = {
        key: subprocess.Popen(
            [SCRIPT], env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for key, env in requests.items()
    }
    results = {}
    for key, process in running.items():
        stdout, stderr = process.communicate(timeout=60)
        assert (process.returncode, stderr) == (0, ""), key
        results[key] = stdout
    return results


def _in_process(env: dict[str, str]) -> str:
    """The same protocol through `app` itself: quicker for the many variations."""
    result = CliRunner().invoke(app, [], env=env)
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    return result.stdout


def bash(line: str) -> dict[str, str]:
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    return {"_INSPECT_CLI_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}


def zsh(line: str) -> dict[str, str]:
    return {"_INSPECT_CLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}


def fish(line: str) -> dict[str, str]:
    return {
        "_INSPECT_CLI_COMPLETE": "complete_fish",
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "_TYPER_COMPLETE_ARGS": line,
    }


def powershell(line: str, word: str) -> dict[str, str]:
    return {
        "_INSPECT_CLI_COMPLETE": "complete_powershell",
        "_TYPER_COMPLETE_ARGS": line,
        "_TYPER_COMPLETE_WORD_TO_COMPLETE": word,
    }


@pytest.mark.sqlite_only("completion leaves the database file exactly as it was")
def test_console_script_completes_sites_and_units_and_nothing_without_a_database(register, tmp_path):
    missing = tmp_path / "none" / "inspect.sqlite"
    before = sorted(p.name for p in register.parent.iterdir())
    got = _console_script(
        {
            "sites": bash(f"inspect-cli --db {register} site show "),
            "units": bash(f"inspect-cli --db {register} issue assign ZG-2026-0001 --unit "),
            "missing": bash(f"inspect-cli --db {missing} site show "),
        }
    )
    assert got["sites"].splitlines() == ["GY-001", "NMSC-001", "NMSC-002"]
    units = ["东城街道办事处", "西湖街道办事处", "园林局", "市场监管局", "城管局"]  # sites, partners, problems
    assert sorted(got["units"].splitlines()) == sorted(units)
    assert got["missing"] == "\n"  # bash gets one empty line: no suggestion
    assert not missing.parent.exists()
    # Read-only and without a trace: no -wal or -shm file left beside the database.
    assert sorted(p.name for p in register.parent.iterdir()) == before


def test_completion_of_codes_names_initials_units_and_numbers(register):
    db = f"inspect-cli --db {register}"
    cases = {
        "lower-case code": (bash(f"{db} run nm"), "nmsc-001\nnmsc-002\n"),
        "name": (bash(f"{db} record 东"), "东城农贸市场\n"),
        "pinyin initials": (bash(f"{db} issue list --site dc"), "dcnmsc\n"),
        "unit": (bash(f"{db} site list --unit 西"), "西湖街道办事处\n"),
        "problem": (bash(f"{db} issue show ZG"), "ZG-2026-0001\n"),
        "inspection": (bash(f"{db} inspection show jc"), "jc-2026-0001\n"),
        "$INSPECT_CLI_DB": ({**bash("inspect-cli site show G"), "INSPECT_CLI_DB": str(register)}, "GY-001\n"),
        "zsh": (zsh(f"{db} run 西"), """_arguments '*: :(("西湖[试点]农贸市场":"NMSC-002 西湖[试点]农贸市场"))'\n"""),
        "fish": (fish(f"{db} run N"), "NMSC-001\tNMSC-001 东城农贸市场\nNMSC-002\tNMSC-002 西湖[试点]农贸市场\n"),
        "powershell": (powershell(f"{db} site show G", "G"), "GY-001:::GY-001 人民公园\n"),
        "long help": (fish(f"{db} issue fixed "), "ZG-2026-0001\tNMSC-001 东城农贸市场 入口、主通道醒目位置设置社…\n"),
    }
    for case, (env, expected) in cases.items():
        assert _in_process(env) == expected, case


def test_completion_from_a_foreign_or_empty_database_is_silent(tmp_path):
    foreign = tmp_path / "notes.sqlite"
    foreign.write_bytes(b"not a database at all" * 100)
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")  # what SQLite itself would take for a new, empty database
    assert _in_process(bash(f"inspect-cli --db {foreign} issue show ")) == "\n"
    assert _in_process({**zsh("inspect-cli run "), "INSPECT_CLI_DB": str(empty)}) == "_files\n"
    assert _in_process(bash("inspect-cli record ")) == "\n"  # the default database does not exist
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "inspect-cli").exists()
    assert (foreign.read_bytes(), empty.read_bytes()) == (b"not a database at all" * 100, b"")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.sqlite", "notes.sqlite"]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _inspect_cli_completion inspect-cli"),
        ("zsh", "#compdef inspect-cli"),
        ("fish", "complete --command inspect-cli"),
        ("powershell", "Register-ArgumentCompleter -Native -CommandName inspect-cli"),
    ],
)
def test_show_completion_prints_the_script_for_the_named_shell(cli, shell, marker):
    result = cli("--show-completion", shell, db=False)
    assert result.exit_code == 0 and marker in result.stdout and "_INSPECT_CLI_COMPLETE" in result.stdout
    assert cli(f"--show-completion={shell}", db=False).stdout == result.stdout


def test_install_completion_writes_the_script_into_home(cli):
    result = cli("--install-completion", "bash", db=False)
    script = Path.home() / ".bash_completions" / "inspect-cli.sh"
    assert result.exit_code == 0
    assert result.stdout == f"已为 bash 安装命令补全：{script}\n重新打开终端后生效\n"
    assert "_inspect_cli_completion" in script.read_text()
    assert f"source '{script}'" in (Path.home() / ".bashrc").read_text()


def test_bash_sources_the_script_and_completes(cli, register, tmp_path):
    shell = shutil.which("bash")
    if shell is None:
        pytest.skip("bash is not installed")
    script = tmp_path / "inspect-cli.bash"
    script.write_text(cli.ok("--show-completion", "bash").stdout)
    program = (
        f"source {shlex.quote(str(script))}\n"
        f"COMP_WORDS=(inspect-cli --db {shlex.quote(str(register))} site show NMSC)\n"
        "COMP_CWORD=5\n"
        "_inspect_cli_completion inspect-cli\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{SCRIPT.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([shell, "--norc", "--noprofile", "-c", program], capture_output=True, text=True, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["NMSC-001", "NMSC-002"]


def test_arguments_that_are_not_utf8_are_one_line_whatever_the_command(cli):
    for argv in (["site", "show", "\udcff"], ["issue", "list", "--unit", "局\udcfe"]):
        result = cli(*argv)
        assert result.exit_code == 2
        assert result.stderr.startswith("错误：命令行参数含有无法识别的字符：") and result.stderr.count("\n") == 1
