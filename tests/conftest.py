from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
import typer.testing
from typer.testing import CliRunner

from inspect_cli import paths, workdays
from inspect_cli.checklist import load_checklists
from inspect_cli.cli import app
from inspect_cli.store import Store

DATA = Path(__file__).parent / "data"

# Typer builds the whole click command tree (every command's signature) on each invoke;
# tests invoke the same app thousands of times, so build each app's tree once.
_build_command = typer.testing._get_command
_built: dict[int, object] = {}


def _built_command(app):  # type: ignore[no-untyped-def]
    if id(app) not in _built:
        _built[id(app)] = (app, _build_command(app))
    return _built[id(app)][1]


typer.testing._get_command = _built_command
SHIPPED = paths.shipped_checklists_dir()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """No test touches the real home, database or checklist folders; Rich width is fixed."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv(paths.ENV_DB, raising=False)
    monkeypatch.delenv(paths.ENV_CHECKLISTS, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("INSPECT_CLI_CONFIG", "INSPECT_CLI_TODAY", "INSPECT_CLI_USER"):
        monkeypatch.delenv(name, raising=False)
    # "Said once" is per process; every test starts as a fresh process would.
    monkeypatch.setattr(workdays, "_missing_years", set())
    monkeypatch.setattr(workdays, "_warned_years", set())


@pytest.fixture(scope="session")
def checklists():
    return load_checklists([SHIPPED])


@pytest.fixture
def store():
    with Store(":memory:") as db:
        yield db


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "inspect.sqlite"


class Cli:
    """Runs inspect-cli in-process against one database, like a user at a shell."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, db: bool = True):
        argv = (["--db", str(self.db)] if db else []) + [str(a) for a in args]
        return self.runner.invoke(app, argv, input=input)

    def ok(self, *args: str, input: str | None = None):
        result = self(*args, input=input)
        assert result.exit_code == 0, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        return result


@pytest.fixture
def cli(db_path) -> Cli:
    return Cli(db_path)


@pytest.fixture
def city(cli) -> Cli:
    """A database holding the small test register (tests/data/sites.csv)."""
    cli.ok("site", "import", DATA / "sites.csv")
    return cli


def make_image(path: Path, color: str = "red", size: tuple[int, int] = (40, 30)) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


def copy_shipped(target: Path) -> Path:
    shutil.copytree(SHIPPED, target)
    return target


DAY = date(2026, 11, 18)
os.environ.setdefault("COLUMNS", "200")
