"""The full-screen `run` in a real terminal (tmux): keys arrive as a terminal sends them.

The pilot tests deliver one key at a time; a terminal delivers `2` and Enter in one read, and
that is where the line-based `run` answered two items. This drives the installed command,
`inspect-cli --db DB run GJZD-001 -i 张三 --date 2026-11-18`, as an inspector would.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from inspect_cli import inspection as core
from inspect_cli.store import Store

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-18"


class Terminal:
    """One tmux server of our own (its own socket), so no user session is touched."""

    def __init__(self) -> None:
        self.socket = f"inspect-cli-test-{uuid.uuid4().hex[:8]}"
        self.socket_path = ""

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        # A clean environment: the test process's COLUMNS=200 (conftest) would size the app wrongly.
        line = " ".join(shlex.quote(p) for p in ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *command])
        self.tmux("new-session", "-d", "-s", "run", "-x", "100", "-y", "40", "-c", str(ROOT), line)
        self.socket_path = self.tmux("display-message", "-p", "-t", "run", "#{socket_path}").strip()

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "run", *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "run")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{shown}")

    def running(self) -> bool:
        return (
            subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", "run"], capture_output=True).returncode == 0
        )

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)  # tmux leaves its socket file behind


def answers(db: Path) -> dict:
    with Store(db) as store:
        found = store.list_inspections()
        return core.detail(store, found[0].id).results if found else {}


def test_two_then_enter_in_a_real_terminal_answers_one_item(city, tmp_path, monkeypatch):
    """Slow (about 5 s): the full-screen `run` in a real terminal (tmux), started as a process."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed: this test drives the screen in a real terminal")
    monkeypatch.setenv("INSPECT_CLI_TODAY", DAY)
    command = [str(Path(sys.executable).with_name("inspect-cli")), "--db", str(city.db), "run", "GJZD-001"]
    command += ["-i", "张三", "--date", DAY]
    env = {
        "INSPECT_CLI_TODAY": DAY,
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    terminal = Terminal()
    try:
        terminal.start(command, env)
        # A database without a device code asks for one, once; the inspector may skip it.
        terminal.wait_for("请输入本机代码")
        terminal.keys("b", "Enter")
        terminal.wait_for("[1/18] gg-01")
        terminal.keys("2", "Enter")  # one write: the terminal hands both keys over at once
        shown = terminal.wait_for("填写问题")
        time.sleep(0.5)  # give a wrongly taken Enter time to land
        saved = answers(city.db)
        assert list(saved) == ["gg-01"] and saved["gg-01"].result.value == "fail"
        assert "[1/18] gg-01" in terminal.screen()  # still on the first item, with its form

        # The description is a real text field: CJK text, then the cursor keys edit it. Typed at
        # a person's pace: Textual handles a cursor key through its bindings, after text sent in
        # the same millisecond, which no hand can do.
        for keys, literal in ((["地面有烟头"], True), (["Left", "Left"], False), (["的"], True), (["C-s"], False)):
            terminal.keys(*keys, literal=literal)
            time.sleep(0.15)
        terminal.wait_for("[2/18] gg-02")  # saved, and on to the next item
        assert answers(city.db)["gg-01"].note == "地面有的烟头"

        terminal.keys("q")
        deadline = time.monotonic() + 30
        while terminal.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not terminal.running(), terminal.screen()
    finally:
        terminal.close()
    assert len(answers(city.db)) == 1
    with Store(city.db) as store:
        assert store.device().code == "B" and store.device().code_asked
    print(shown)  # what the terminal showed with the form open (pytest -s)
