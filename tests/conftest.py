from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

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

# The program keeps parsed checklists in the user cache; a test, and any program a test
# starts, keeps them here instead (each test then gets a folder of its own, below).
_SESSION_CACHE = tempfile.mkdtemp(prefix="inspect-cli-test-cache-")
atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)
os.environ[paths.ENV_CACHE] = _SESSION_CACHE


_PER_TEST_ENV = ("INSPECT_CLI_CONFIG", "INSPECT_CLI_TODAY", "INSPECT_CLI_USER")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """No test touches the real home, database or checklist folders; Rich width is fixed."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv(paths.ENV_CACHE, str(home / "cache" / "inspect-cli"))
    monkeypatch.delenv(paths.ENV_DB, raising=False)
    monkeypatch.delenv(paths.ENV_CHECKLISTS, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in _PER_TEST_ENV:
        monkeypatch.delenv(name, raising=False)
    # "Said once" is per process; every test starts as a fresh process would.
    monkeypatch.setattr(workdays, "_missing_years", set())
    monkeypatch.setattr(workdays, "_warned_years", set())


@pytest.fixture(scope="session")
def checklists():
    return load_checklists([SHIPPED])


# --- which engine the suite runs on -------------------------------------------------------
# `pytest` runs on SQLite; `pytest --engine postgresql` runs the same tests on a PostgreSQL
# server named by $INSPECT_CLI_TEST_PG (a role that may create databases, e.g.
# postgresql://inspect:inspect@localhost:5432/inspect). Each test gets a schema of its own in
# one database made for the session. Tests about SQLite files say so with
# @pytest.mark.sqlite_only and are skipped on PostgreSQL. A test that does not ask for the
# `engine` fixture (directly or through `new_db`, `store`, `cli`, ...) cannot see which engine
# runs, so the PostgreSQL run leaves it out: running it again would repeat the SQLite run.
PG_ENV = "INSPECT_CLI_TEST_PG"
PG_REQUIRED_ENV = "INSPECT_CLI_TEST_PG_REQUIRED"


def pytest_addoption(parser):
    parser.addoption(
        "--engine",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("INSPECT_CLI_TEST_ENGINE", "sqlite"),
        help="database engine the tests run on (default: sqlite)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): the test is about SQLite files; skipped on PostgreSQL")
    config.addinivalue_line("markers", "postgresql_only(reason): the test needs a PostgreSQL server")


def pytest_report_header(config):
    engine = config.getoption("--engine")
    where = _server_label() if engine == "postgresql" else "a file per test"
    return f"inspect-cli engine: {engine} ({where})"


def _server_label() -> str:
    from inspect_cli.paths import db_label

    url = os.environ.get(PG_ENV)
    return db_label(url) if url else f"no server: ${PG_ENV} is not set"


def pytest_collection_modifyitems(config, items):
    engine = config.getoption("--engine")
    if engine == "postgresql":
        neutral = [item for item in items if "engine" not in item.fixturenames]
        if neutral:
            config.hook.pytest_deselected(items=neutral)
            items[:] = [item for item in items if "engine" in item.fixturenames]
    for item in items:
        if engine == "postgresql" and (mark := item.get_closest_marker("sqlite_only")):
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {mark.args[0] if mark.args else ''}"))
        if engine == "sqlite" and item.get_closest_marker("postgresql_only") and not os.environ.get(PG_ENV):
            item.add_marker(pytest.mark.skip(reason=f"needs a PostgreSQL server (${PG_ENV})"))
    if engine == "postgresql" and not os.environ.get(PG_ENV):
        if os.environ.get(PG_REQUIRED_ENV):
            raise pytest.UsageError(f"--engine postgresql: ${PG_ENV} is not set, and ${PG_REQUIRED_ENV} requires it")
        skip = pytest.mark.skip(reason=f"PostgreSQL run skipped: no test server (set ${PG_ENV}, see README)")
        for item in items:
            item.add_marker(skip)


class PgServer:
    """A database made for this test session on the test server; a schema per test."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin_url = admin_url
        self.name = f"inspect_test_{uuid.uuid4().hex[:10]}"
        try:
            with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.Error as exc:
            raise pytest.UsageError(f"PostgreSQL test server {_server_label()}: {exc}") from None
        base, _, _ = admin_url.partition("?")
        self.url = base.rsplit("/", 1)[0] + "/" + self.name
        self._conn = psycopg.connect(_libpq(self.url), autocommit=True)
        self._numbers = itertools.count(1)

    def new_schema(self) -> str:
        """A URL whose tables live in a new, empty schema."""
        schema = f"t{next(self._numbers)}"
        self._conn.execute(f'CREATE SCHEMA "{schema}"')
        return f"{self.url}?options={quote(f'-csearch_path={schema}')}"

    def drop(self) -> None:
        import psycopg

        self._conn.close()
        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            # FORCE ends our own connections, but not an autovacuum worker still busy in the
            # database (not ours to end): it finishes within seconds, so the drop is tried again.
            for attempt in range(20):
                try:
                    conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                    return
                except psycopg.errors.InsufficientPrivilege:
                    if attempt == 19:
                        raise
                    time.sleep(0.5)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def engine(request) -> str:
    return request.config.getoption("--engine")


@pytest.fixture(scope="session")
def pg_server(engine):
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"needs a PostgreSQL server (${PG_ENV})")
    server = PgServer(url)
    yield server
    server.drop()


@pytest.fixture
def new_db(request, engine, tmp_path):
    """A new, empty database on the engine under test: new_db("office") -> path or URL."""

    def make(name: str = "inspect") -> Path | str:
        if engine == "postgresql":
            return request.getfixturevalue("pg_server").new_schema()
        return tmp_path / f"{name}.sqlite"

    return make


@pytest.fixture
def store(engine, new_db):
    with Store(new_db() if engine == "postgresql" else ":memory:") as db:
        yield db


@pytest.fixture
def db_path(new_db) -> Path | str:
    return new_db("inspect")


class Cli:
    """Runs inspect-cli in-process against one database, like a user at a shell."""

    def __init__(self, db: Path | str) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, db: bool = True):
        argv = (["--db", str(self.db)] if db else []) + [str(a) for a in args]
        return self.runner.invoke(app, argv, input=input)

    def ok(self, *args: str, input: str | None = None, db: bool = True):
        result = self(*args, input=input, db=db)
        assert result.exit_code == 0, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        return result


@pytest.fixture
def cli(db_path) -> Cli:
    return Cli(db_path)


@pytest.fixture
def city(from_template) -> Cli:
    """A database holding the small test register (tests/data/sites.csv), imported once per session."""
    return from_template("city", import_sites)


def import_sites(cli: Cli, folder: Path) -> None:
    cli.ok("site", "import", DATA / "sites.csv")


def copy_db(source: Path, target: Path | str) -> None:
    """A template database (a SQLite file, its photos and office files) into the database under test."""
    if isinstance(target, str):
        from inspect_cli.dbcopy import copy_database

        copy_database(source, target)  # the same data on the server under test
        return
    shutil.copyfile(source, target)
    for folder in (paths.media_dir, paths.office_dir):
        if folder(source).is_dir():
            shutil.copytree(folder(source), folder(target))


# Databases that many tests start from, built once per session: under pytest-xdist, by the
# first worker that needs one, in the folder the workers share, while the others wait.
_templates: dict[str, Path] = {}
DEMO_TODAY = "2026-11-27"


def template_db(tmp_path_factory, name: str, build: Callable[[Cli, Path], object], env: dict | None = None) -> Path:
    """The SQLite file build(cli, folder) fills, built once per session under a fixed environment.

    build runs in a folder of its own, with none of the per-test variables set but those in
    env (e.g. INSPECT_CLI_TODAY), so the template does not depend on which test came first.
    """
    if name not in _templates:
        root = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            root = root.parent
        folder = root / f"template-{name}"
        with _locked(root / f"template-{name}.lock"):
            if not (folder / "built").exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                with pytest.MonkeyPatch.context() as patch:
                    for variable in _PER_TEST_ENV:
                        patch.delenv(variable, raising=False)
                    for variable, value in (env or {}).items():
                        patch.setenv(variable, value)
                    build(Cli(folder / "inspect.sqlite"), folder)
                (folder / "built").touch()
        _templates[name] = folder / "inspect.sqlite"
    return _templates[name]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def from_template(tmp_path_factory, db_path):
    """from_template(name, build, env) -> Cli on this test's own copy of template_db(...)."""

    def make(name: str, build: Callable[[Cli, Path], object], env: dict | None = None) -> Cli:
        copy_db(template_db(tmp_path_factory, name, build, env), db_path)
        return Cli(db_path)

    return make


def build_demo(cli: Cli, folder: Path) -> None:
    (folder / "demo-output.txt").write_text(cli.ok("demo").stdout, encoding="utf-8")


def demo_db(tmp_path_factory) -> Path:
    """`inspect-cli demo` in a new SQLite file, run once per session (it takes 10 s or more)."""
    return template_db(tmp_path_factory, "demo", build_demo, {"INSPECT_CLI_TODAY": DEMO_TODAY})


@pytest.fixture
def demo_city(tmp_path_factory, monkeypatch, db_path) -> Cli:
    """The demo's sample city (84 点位, two weeks), built once per session and copied."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", DEMO_TODAY)
    copy_db(demo_db(tmp_path_factory), db_path)
    return Cli(db_path)


def demo_output(tmp_path_factory) -> str:
    """What `inspect-cli demo` printed when it built demo_db."""
    return (demo_db(tmp_path_factory).parent / "demo-output.txt").read_text(encoding="utf-8")


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


def sql(db: Path | str, query: str, params: tuple = ()) -> list[tuple]:
    """Run SQL straight on a test database, past the store, on either engine (`?` parameters)."""
    if isinstance(db, str):
        import psycopg

        with psycopg.connect(_libpq(db), autocommit=True) as conn:
            cursor = conn.execute(query.replace("?", "%s"), params)
            return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        with conn:
            return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def all_rows(db: Path | str) -> dict[str, list[str]]:
    """Every row of every table, by table: what "changes nothing" is checked against."""
    if isinstance(db, str):
        tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
    names = sorted(r[0] for r in sql(db, tables))
    return {t: sorted(map(repr, sql(db, f"SELECT * FROM {t}"))) for t in names}


def docx_pictures(path: Path) -> tuple[int, int]:
    """(photos, charts) in a Word notice: photos sit in the two-column photo tables, charts in the text."""
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(path))
    photos = sum(len(t._tbl.findall(".//" + qn("w:drawing"))) for t in doc.tables)
    return photos, len(doc.inline_shapes) - photos


# Tools from outside Python some tests need. Without one the test is skipped, saying so; CI
# installs them all and sets $INSPECT_CLI_TEST_OFFICE_REQUIRED, which makes a missing one fail.
OFFICE_REQUIRED_ENV = "INSPECT_CLI_TEST_OFFICE_REQUIRED"


def _needed(found, what: str):  # type: ignore[no-untyped-def]
    if found is None:
        if os.environ.get(OFFICE_REQUIRED_ENV):
            pytest.fail(f"{what} is required (${OFFICE_REQUIRED_ENV}) and not installed")
        pytest.skip(f"needs {what}")
    return found


@pytest.fixture
def soffice() -> str:
    """LibreOffice's command (PDF output, re-saving sheets)."""
    from inspect_cli.pdf import find_soffice

    return _needed(find_soffice(), "LibreOffice (soffice)")


@pytest.fixture
def pdftotext() -> str:
    """poppler's pdftotext (reading what a PDF prints)."""
    return _needed(shutil.which("pdftotext"), "pdftotext (poppler-utils)")


@pytest.fixture
def chinese_font():  # type: ignore[no-untyped-def]
    """A Chinese font installed for the charts (`charts.find_font`)."""
    from inspect_cli import charts

    return _needed(charts.find_font(), "a Chinese font (e.g. fonts-noto-cjk)")
