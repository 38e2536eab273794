from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from datetime import date

import pytest

from inspect_cli.errors import StoreError
from inspect_cli.store import MIGRATIONS, Store

from .conftest import DATA, sql


def test_migrations_are_recorded_once(db_path, engine):
    with Store(db_path) as store:
        assert store.schema_versions() == [m[0] for m in MIGRATIONS]
    with Store(db_path) as store:
        assert store.migrate() == []
        if engine == "sqlite":
            assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_database_is_refused(db_path):
    Store(db_path).close()
    sql(db_path, "INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    with pytest.raises(StoreError, match="更新版本"):
        Store(db_path)


@pytest.mark.sqlite_only("a file that is not a SQLite database")
def test_not_a_database(tmp_path, cli):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="不是 SQLite 数据库文件（可能是其他程序的文件），未做任何修改"):
        Store(junk)
    result = cli("--db", str(junk), "site", "list", db=False)
    assert result.exit_code == 2 and result.stderr.startswith("错误：数据库 ")


def test_records_carry_uuids(store, checklists):
    from inspect_cli.sites import import_register

    import_register(store, checklists, DATA / "sites.csv")
    site = store.site_by_code("NMSC-001")
    inspection = store.create_inspection(site, date(2026, 11, 18), [], checklists.get("农贸市场"))
    for value in (site.id, inspection.id):
        assert uuid.UUID(value).version == 4


@pytest.mark.sqlite_only("database files named by --db and the environment")
def test_db_option_and_env_var(tmp_path, cli, monkeypatch):
    env_db = tmp_path / "env.sqlite"
    monkeypatch.setenv("INSPECT_CLI_DB", str(env_db))
    assert cli("site", "add", "--name", "甲", "--type", "公园", db=False).exit_code == 0
    assert env_db.exists()
    option_db = tmp_path / "option.sqlite"
    result = cli("--db", str(option_db), "site", "list", "--json", db=False)
    assert result.stdout.strip() == "[]"  # --db wins over the environment
    assert option_db.exists()


@pytest.mark.sqlite_only("the default database is a file")
def test_default_database_is_in_the_user_data_dir(cli):
    from inspect_cli.paths import default_db_path

    assert cli("site", "add", "--name", "甲", "--type", "公园", db=False).exit_code == 0
    assert default_db_path().exists()


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import date
    from inspect_cli import inspection as core
    from inspect_cli.checklist import load_checklists
    from inspect_cli.paths import shipped_checklists_dir
    from inspect_cli.store import Store

    db, code = sys.argv[1], sys.argv[2]
    checklists = load_checklists([shipped_checklists_dir()])
    with Store(db) as store:
        site = store.site_by_code(code)
        for n in range(40):
            inspection = core.open_for_record(store, checklists, site, date(2026, 11, 1 + n % 20), ["x"], None)
            core.record(store, inspection, "1", "fail", count=1 + n % 3, note=f"{code}-{n}")
    """
)


def test_two_writers_at_once_both_succeed(city):
    """Slow (about 3 s): two writer processes at once, each starting Python and the store."""
    city.ok("site", "list")  # creates and migrates the database first
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(city.db), code], stderr=subprocess.PIPE)
        for code in ("NMSC-001", "GJZD-001")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err.decode()
    assert sql(city.db, "SELECT count(*) FROM inspections") == [(40,)]
    numbers = [r[0] for r in sql(city.db, "SELECT seq FROM inspections ORDER BY seq")]
    assert numbers == list(range(1, 41))
