"""One store, two engines: the server schema, `db copy` between engines, connection errors,
many writers at once.

On the SQLite run these use SQLite files throughout; on `--engine postgresql` the database
under test (`new_db`) is on the server, so copies go SQLite → PostgreSQL → SQLite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inspect_cli import paths
from inspect_cli.store import MIGRATIONS, Store
from inspect_cli.store.schema import SERVER_BASE_VERSION, server_tables, statements

from .conftest import DATA, Cli, all_rows, make_image, sql


def columns_of(db: Path | str) -> dict[str, dict[str, bool]]:
    """{table: {column: nullable}} as the database itself reports it."""
    import sqlalchemy as sa

    from inspect_cli.store import engine

    where = engine.target(db)
    eng = sa.create_engine(where.url or f"sqlite:///{where.path}")
    try:
        inspector = sa.inspect(eng)
        return {
            t: {c["name"]: bool(c["nullable"]) for c in inspector.get_columns(t)} for t in inspector.get_table_names()
        }
    finally:
        eng.dispose()


def test_server_tables_are_the_tables_sqlite_migrates_to(tmp_path):
    """schema.server_tables() (what a server database starts from) declares exactly the
    tables, columns and NOT NULLs that migrations 1–8 give a SQLite file."""
    import sqlite3

    path = tmp_path / "v8.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    for version, _, steps in MIGRATIONS:
        if version <= SERVER_BASE_VERSION:
            for statement in statements(steps if isinstance(steps, str) else steps["sqlite"]):
                conn.execute(statement)
    conn.commit()
    conn.close()
    migrated = columns_of(path)
    migrated.pop("schema_migrations")
    declared = {
        t.name: {c.name: c.nullable and not c.primary_key for c in t.columns} for t in server_tables().tables.values()
    }
    assert declared.keys() == migrated.keys()
    for table, columns in declared.items():
        # SQLite reports a primary key column as nullable unless it says NOT NULL.
        sqlite_columns = {name: nullable for name, nullable in migrated[table].items()}
        assert set(columns) == set(sqlite_columns), table
        for name, nullable in columns.items():
            if not nullable:
                assert not sqlite_columns[name] or name in {
                    c.name for c in server_tables().tables[table].primary_key
                }, (
                    table,
                    name,
                )


@pytest.mark.postgresql_only("the tables a server database has")
def test_a_server_database_has_the_columns_of_a_sqlite_one(new_db, engine, tmp_path, request):
    url = new_db() if engine == "postgresql" else request.getfixturevalue("pg_server").new_schema()
    Store(url).close()
    Store(tmp_path / "lite.sqlite").close()
    server, lite = columns_of(url), columns_of(tmp_path / "lite.sqlite")
    assert {t: set(c) for t, c in server.items()} == {t: set(c) for t, c in lite.items()}
    assert [r[0] for r in sql(url, "SELECT version FROM schema_migrations ORDER BY version")] == [
        m[0] for m in MIGRATIONS
    ]


# --- db copy ------------------------------------------------------------------------------------


def _city_with_photos(folder: Path) -> Cli:
    """A SQLite city with inspections, problems, a unit rename, a notice, photos and a plan drawn twice."""
    city = Cli(folder / "city.sqlite")
    city.ok("site", "import", DATA / "sites.csv")
    photo = make_image(folder / "现场.jpg", "green", (64, 48))
    city.ok("record", "NMSC-001", "gg-01", "不合格", "--note", "破损", "--photo", photo, "--date", "2026-11-18")
    city.ok("record", "NMSC-001", "gg-02", "合格", "--date", "2026-11-18", "--finish")
    city.ok("record", "GJZD-001", "1", "严重不合格", "--note", "积水", "--date", "2026-11-19")
    city.ok("unit", "add", "城管局")
    city.ok("issue", "assign", "ZG-2026-0001", "--unit", "城管局")
    city.ok("unit", "rename", "城管局", "城市管理局")
    city.ok("notice", "--week", "2026-W47", "-o", folder / "周通报.docx")
    city.ok("plan", "draw", "-w", "2026-W47", "-n", "1", "-i", "张三,李四", "--seed", "1")
    city.ok("plan", "draw", "-w", "2026-W47", "-n", "2", "-i", "张三,李四", "--seed", "2", "--force")
    return city


def test_db_copy_moves_every_row_and_photo_there_and_back(tmp_path, new_db):
    city = _city_with_photos(tmp_path)
    target = new_db("copy")
    copied = json.loads(city.ok("db", "copy", city.db, target, "--json", db=False).stdout)
    assert copied["tables"]["problems"] == 2 and copied["photos"] == 1 and copied["photos_missing"] == []
    there = Cli(target)
    assert [p["no"] for p in json.loads(there.ok("issue", "list", "--json").stdout)] == [
        p["no"] for p in json.loads(city.ok("issue", "list", "--json").stdout)
    ]
    assert there.ok("score", "--by", "street").stdout == city.ok("score", "--by", "street").stdout
    for command in (["plan", "show", "-w", "2026-W47", "--history", "--json"], ["plan", "verify", "-w", "2026-W47"]):
        assert there.ok(*command).stdout == city.ok(*command).stdout
    # The copy is the same replica: bundles it makes carry on where the source's left off.
    assert (
        json.loads(there.ok("device", "show", "--json").stdout)["device_id"]
        == json.loads(city.ok("device", "show", "--json").stdout)["device_id"]
    )
    back = tmp_path / "back.sqlite"
    again = json.loads(city.ok("db", "copy", target, back, "--json", db=False).stdout)
    assert again["checksums"] == copied["checksums"]
    # Every row as it was; only when each database's schema was made differs.
    assert {**all_rows(back), "schema_migrations": []} == {**all_rows(city.db), "schema_migrations": []}
    (photo,) = {r[0] for r in sql(back, "SELECT stored_name FROM photos")}
    assert (paths.media_dir(back) / photo).read_bytes() == (paths.media_dir(city.db) / photo).read_bytes()


def test_db_copy_refuses_a_target_with_records_and_changes_nothing(tmp_path, new_db):
    city = _city_with_photos(tmp_path)
    target = new_db("busy")
    busy = Cli(target)
    busy.ok("site", "add", "--name", "甲", "--type", "公园")
    before = all_rows(target)
    refused = city("db", "copy", city.db, target, db=False)
    assert refused.exit_code == 4
    assert "不是空的（sites" in refused.stderr and "未做任何修改" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert all_rows(target) == before
    assert not paths.media_dir(target).exists()


def test_db_copy_names_a_missing_source_and_refuses_copying_onto_itself(tmp_path):
    cli = Cli(tmp_path / "x.sqlite")
    missing = cli("db", "copy", tmp_path / "nope.sqlite", tmp_path / "new.sqlite", db=False)
    assert missing.exit_code == 3 and missing.stderr == f"错误：找不到源数据库文件：{tmp_path / 'nope.sqlite'}\n"
    assert not (tmp_path / "new.sqlite").exists()
    cli.ok("site", "list")
    same = cli("db", "copy", cli.db, cli.db, db=False)
    assert same.exit_code == 2 and same.stderr == "错误：源数据库和目标数据库是同一个，未做任何修改\n"


def test_db_info_names_the_engine_and_counts(new_db, engine):
    cli = Cli(new_db())
    cli.ok("site", "import", DATA / "sites.csv")
    info = json.loads(cli.ok("db", "info", "--json").stdout)
    assert info["engine"] == engine and info["counts"]["sites"] > 0
    assert info["schema_version"] == MIGRATIONS[-1][0]
    assert ":inspect@" not in json.dumps(info)  # the password is never shown


# --- connection errors --------------------------------------------------------------------------


def test_a_server_that_does_not_answer_is_one_line_naming_host_and_database(tmp_path):
    # Port 9 (discard) on the loopback: nothing listens there.
    cli = Cli("postgresql://clerk:s3cret-pw@127.0.0.1:9/office")
    result = cli("site", "list")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "错误：数据库服务器 127.0.0.1:9/office：连不上服务器（服务器未启动、地址或端口不对，或被防火墙挡住）\n"
    )
    assert "s3cret" not in result.stdout + result.stderr


def test_a_database_address_of_another_kind_is_refused(tmp_path):
    result = Cli("mysql://u:pw@host/db")("site", "list")
    assert result.exit_code == 2 and "不支持的数据库类型“mysql”" in result.stderr and "pw" not in result.stderr


@pytest.mark.postgresql_only("the server answers a wrong password and a missing database")
def test_wrong_password_and_missing_database_are_one_line_each(request):
    server = request.getfixturevalue("pg_server")
    base = server.url.rsplit("/", 1)[0]
    user_part = base.split("://", 1)[1].split("@")[0]
    host = base.split("@", 1)[1]
    wrong = f"postgresql://{user_part.split(':')[0]}:not-the-password@{host}/{server.name}"
    result = Cli(wrong)("site", "list")
    assert result.exit_code == 2 and result.stderr.endswith("：用户名或密码不对\n"), result.stderr
    assert "not-the-password" not in result.stderr and server.name in result.stderr
    missing = Cli(f"{base}/no_such_database")("site", "list")
    assert missing.exit_code == 2 and "no_such_database：数据库不存在" in missing.stderr
    assert missing.stderr.count("\n") == 1


# --- many writers at once -------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import date
    from inspect_cli import inspection as core
    from inspect_cli.checklist import load_checklists
    from inspect_cli.paths import shipped_checklists_dir
    from inspect_cli.store import Store

    db, code, records = sys.argv[1], sys.argv[2], int(sys.argv[3])
    checklists = load_checklists([shipped_checklists_dir()])
    with Store(db) as store:
        site = store.site_by_code(code)
        done, day = 0, 1
        while done < records:
            inspection = core.open_for_record(store, checklists, site, date(2026, 11, day), ["x"], None)
            for item in store.inspection_items(inspection.id):
                if done == records:
                    break
                result = "fail" if done % 5 == 0 else "pass"
                core.record(store, inspection, item.id, result, note=f"{code}-{done}" if result == "fail" else None)
                done += 1
            day += 1
    """
)


def test_writers_importers_and_exporters_at_once(tmp_path, new_db, engine):
    """Eight writers (four on SQLite) × 200 answers, two bundle imports and two exports at the
    same moment: every answer stored, no error, numbers unique, each export one snapshot.
    Slow (10 s on SQLite, 40 s on PostgreSQL): a dozen CLI processes at once, each starting Python."""
    office = Cli(new_db("office"))
    office.ok("site", "import", paths.sample_city_register())
    codes = [r[0] for r in sql(office.db, "SELECT code FROM sites ORDER BY code")]
    writers = 8 if engine == "postgresql" else 4
    assert len(codes) >= writers + 2
    # Two laptops' work, made beforehand, on sites no writer touches.
    bundles = []
    for device, site in zip(("A", "B"), codes[writers : writers + 2], strict=True):
        laptop = Cli(tmp_path / f"laptop-{device}.sqlite")
        laptop.ok("site", "import", paths.sample_city_register())
        laptop.ok("device", "set", device)
        for n in range(3):
            laptop.ok("record", site, "1", "合格", "--date", f"2026-11-{10 + n}", "--finish")
        bundles.append(tmp_path / f"{device}.zip")
        laptop.ok("sync", "export", "-o", bundles[-1])
    env = {**os.environ, "INSPECT_CLI_TODAY": "2026-11-30"}
    cli = [sys.executable, "-m", "inspect_cli", "--db", str(office.db)]
    running = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(office.db), code, "200"], stderr=subprocess.PIPE, env=env)
        for code in codes[:writers]
    ]
    running += [
        subprocess.Popen(
            [*cli, "sync", "import", b, "--enroll"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for b in bundles
    ]
    reports = [tmp_path / f"report-{n}.xlsx" for n in range(2)]
    month = ["--from", "2026-11-01", "--to", "2026-11-30"]
    running += [
        subprocess.Popen(
            [*cli, "export", "report", *month, "-o", r], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for r in reports
    ]
    for process in running:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()
    assert sql(office.db, "SELECT count(*) FROM results") == [(writers * 200 + 6,)]
    for table in ("inspections", "problems"):
        ((total, distinct),) = sql(office.db, f"SELECT count(*), count(DISTINCT no) FROM {table}")
        assert total == distinct
    fails = sql(office.db, "SELECT count(*) FROM results WHERE result = 'fail'")[0][0]
    assert fails == writers * 40
    from openpyxl import load_workbook

    for report in reports:
        book = load_workbook(report, read_only=True)
        figures = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row and row[0]}
        # Numbered rows: an empty list says 本期无 in its first cell instead.
        listed = sum(
            1 for row in book["问题清单"].iter_rows(min_row=3, values_only=True) if row and isinstance(row[0], int)
        )
        # Each report read one state of the database: the problems it counts and those it lists agree.
        assert figures["发现问题数"] == listed


def test_the_release_database_migrates_and_moves_to_either_engine(tmp_path, new_db):
    """The database this release's predecessor made opens (migrating to the current schema)
    and moves onto the engine under test with every record."""
    import gzip

    from inspect_cli.store.copying import TABLES

    path = tmp_path / "v8.sqlite"
    path.write_bytes(gzip.decompress((DATA / "release-v8.sqlite.gz").read_bytes()))
    with Store(path) as store:  # migrates to the current schema
        assert store.schema_versions()[-1] == MIGRATIONS[-1][0]
    before = {t: sql(path, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    assert before["editions"] > 0 and before["edition_items"] > 0
    target = new_db("moved")
    Cli(target).ok("db", "copy", path, target, db=False)
    assert {t: sql(target, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES} == before
    assert before["problem_events"] > 0
    # Each problem's history keeps its order: migration 9 numbered the events as SQLite had them.
    assert sql(target, "SELECT count(*) FROM problem_events WHERE ord < 1") == [(0,)]
    moved = Cli(target)
    assert "JC-2026-A-0001" in moved.ok("inspection", "list").stdout
    assert json.loads(moved.ok("device", "show", "--json").stdout)["code"] == "Z"


def test_completion_reads_either_engine_without_writing(new_db):
    from inspect_cli.store import Lookup

    cli = Cli(new_db())
    cli.ok("site", "import", DATA / "sites.csv")
    before = all_rows(cli.db)
    with Lookup.open(cli.db) as db:
        assert db is not None
        assert [row[1] for row in db.sites("code", "nm", 10)] == ["NMSC-001", "NMSC-002"]
    assert all_rows(cli.db) == before
