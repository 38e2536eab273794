"""Inputs that cannot hurt the data: inspections that count once, the regression tests of the
defects found by trying the tool as a new user, and databases that are not ours."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime

import pytest
from openpyxl import load_workbook

from inspect_cli.errors import StoreError
from inspect_cli.store import APPLICATION_ID, Store

from .conftest import all_rows, sql
from .test_excel import export_units, fill, header_row, imported, problem


@pytest.fixture
def today(city, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-11-30")
    return city


def issues(cli, *args):
    return json.loads(cli.ok("issue", "list", "--json", *args).stdout)


def db_rows(cli, query):
    return sql(cli.db, query)


def whole_database(cli):
    """Every row of every table: what "changes nothing" is checked against."""
    return all_rows(cli.db)


# --- inspections that count once -------------------------------------------------------------


def finish_site(cli, site, day, *extra):
    """Answer every item of a site's checklist as 合格 through `record`, the last one finishing."""
    kind = json.loads(cli.ok("site", "show", site, "--json").stdout)["site"]["site_type"]
    items = json.loads(cli.ok("checklist", "show", kind, "--json").stdout)["items"]
    for item in items[:-1]:
        cli.ok("record", site, item["id"], "pass", "--date", day, *extra)
    return cli.ok("record", site, items[-1]["id"], "pass", "--date", day, "--finish", *extra)


def test_a_second_inspection_of_the_same_day_needs_again(today):
    done = finish_site(today, "GJZD-001", "2026-11-18")
    assert "检查 JC-2026-0001 已完成，得分率 100.0%" in done.stdout
    again = today("record", "GJZD-001", "1", "fail", "--date", "2026-11-18")
    assert again.exit_code == 4
    assert again.stderr == (
        "错误：点位 GJZD-001 人民路公交站 在 2026-11-18 已有检查 JC-2026-0001（已完成）；"
        "同一天再次检查请加 --again（否则同一次检查会被计算两次）\n"
    )
    piped = today("run", "GJZD-001", "--date", "2026-11-18", input="1\n")
    assert piped.exit_code == 4 and "--again" in piped.stderr
    assert [i["no"] for i in json.loads(today.ok("inspection", "list", "--json").stdout)] == ["JC-2026-0001"]
    assert issues(today) == []
    today.ok("record", "GJZD-001", "1", "fail", "--date", "2026-11-18", "--again")
    listed = json.loads(today.ok("inspection", "list", "--json").stdout)
    assert [(i["no"], i["status"]) for i in listed] == [("JC-2026-0001", "finished"), ("JC-2026-0002", "open")]
    # The open second inspection is simply continued; another day needs nothing.
    today.ok("record", "GJZD-001", "2", "pass", "--date", "2026-11-18")
    today.ok("record", "GJZD-001", "1", "pass", "--date", "2026-11-19")


def test_recording_the_last_item_says_how_to_finish(today):
    kind_items = json.loads(today.ok("checklist", "show", "公交站点", "--json").stdout)["items"]
    for item in kind_items[:-1]:
        out = today.ok("record", "GJZD-001", item["id"], "pass", "--date", "2026-11-18").stdout
        assert "inspection finish" not in out
    last = today.ok("record", "GJZD-001", kind_items[-1]["id"], "pass", "--date", "2026-11-18").stdout
    assert (
        "全部检查项已填写：用 inspect-cli inspection finish JC-2026-0001 完成检查（或在 record 时加 --finish）" in last
    )
    early = today.ok("record", "NMSC-001", "1", "pass", "--date", "2026-11-18", "--finish").stdout
    assert "项未填写，检查 JC-2026-0002 未完成" in early


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["record", "GJZD-001", "1", "pass", "--date", "2026-12-01"],
            "错误：检查日期 2026-12-01 晚于今天（2026-11-30）",
        ),
        (["record", "GJZD-001", "1", "pass", "--date", "1999-12-31"], "错误：检查日期 1999-12-31 早于 2000 年"),
        (["run", "GJZD-001", "--date", "2027-01-01"], "错误：检查日期 2027-01-01 晚于今天（2026-11-30）"),
        (
            ["issue", "fixed", "ZG-2026-0001", "--note", "x", "--date", "2026-12-01"],
            "错误：整改完成日期 2026-12-01 晚于今天",
        ),
        (["issue", "recheck", "ZG-2026-0001", "--fail", "--date", "2026-12-25"], "错误：复查日期 2026-12-25 晚于今天"),
        (["issue", "deadline", "ZG-2026-0001", "1999-01-01"], "错误：整改时限 1999-01-01 早于 2000 年"),
        (["issue", "deadline", "ZG-2026-0001", "2062-11-20"], "错误：整改时限 2062-11-20 晚于 2031-11-30（5 年之后）"),
        (
            ["issue", "defer", "ZG-2026-0001", "--until", "2206-01-01", "--reason", "x"],
            "错误：长期整改的完成日期 2206-01-01 晚于",
        ),
        (["recheck", "GJZD-001", "--date", "2026-12-02"], "错误：复查日期 2026-12-02 晚于今天"),
    ],
)
def test_dates_out_of_range_are_refused(today, args, message):
    today.ok("record", "GJZD-001", "1", "fail", "--note", "站牌破损", "--date", "2026-11-18")
    before = whole_database(today)
    result = today(*args, input="1\n\n\n")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert whole_database(today) == before


def test_recheck_with_both_results_and_an_unknown_item(today):
    today.ok("record", "GJZD-001", "1", "fail", "--date", "2026-11-18")
    both = today("issue", "recheck", "ZG-2026-0001", "--pass", "--fail")
    assert (both.exit_code, both.stderr) == (2, "错误：--pass 和 --fail 只能选一个\n")
    unknown = today("record", "GJZD-001", "zz-1", "pass", "--date", "2026-11-18")
    assert unknown.exit_code == 3 and unknown.stderr.startswith("错误：本次检查没有检查项 'zz-1'")


# --- defects, one regression test each -------------------------------------------------------


def two_failing_inspections(cli):
    """GJZD-001 fails item 1 on two days: one problem, found by the first, repeated by the second."""
    finish_failing(cli, "2026-11-16", "站牌破损")
    finish_failing(cli, "2026-11-18", "站牌仍破损", count="2")
    (only,) = issues(cli)
    assert (only["no"], only["found_date"], only["occurrences"]) == ("ZG-2026-0001", "2026-11-16", 1)
    return only


def finish_failing(cli, day, note, count="1"):
    cli.ok("record", "GJZD-001", "1", "fail", "--note", note, "--count", count, "--date", day)


@pytest.mark.parametrize("withdraw", ["delete", "remark"])
def test_withdrawing_the_first_finding_keeps_the_problem_the_second_still_fails(today, withdraw):
    two_failing_inspections(today)
    if withdraw == "delete":
        today.ok("inspection", "delete", "JC-2026-0001", "--yes")
    else:
        today.ok("record", "GJZD-001", "1", "pass", "--inspection", "JC-2026-0001")
    (kept,) = issues(today)
    assert (kept["no"], kept["found_date"], kept["inspection_no"]) == ("ZG-2026-0001", "2026-11-18", "JC-2026-0002")
    assert (kept["description"], kept["count"], kept["occurrences"]) == ("站牌仍破损", 2, 0)
    history = json.loads(today.ok("issue", "show", "ZG-2026-0001", "--json").stdout)["history"]
    assert [(e["action"], e["inspection_no"]) for e in history] == [("found", "JC-2026-0002")]
    # Withdrawing the second too leaves nothing failing, and nothing listed.
    today.ok("record", "GJZD-001", "1", "na", "--inspection", "JC-2026-0002")
    assert issues(today) == []


def test_an_older_returned_sheet_never_undoes_a_newer_recheck(today, tmp_path):
    today.ok("record", "GJZD-001", "1", "fail", "--note", "站牌破损", "--date", "2026-11-18")
    files = export_units(today, tmp_path / "out")
    (sheet,) = files.values()
    returned = fill(
        sheet, {"ZG-2026-0001": {"整改情况": "已更换", "整改完成日期": datetime(2026, 11, 20), "状态": "已整改"}}
    )
    code, _ = imported(today, returned)
    assert code == 0 and problem(today, "ZG-2026-0001")["status"] == "fixed"
    today.ok("issue", "recheck", "ZG-2026-0001", "--fail", "--note", "仍破损", "--date", "2026-11-23")
    before = whole_database(today)
    code, report = imported(today, returned)
    (row,) = report[0]["rows"]
    assert code == 4
    assert (row["outcome"], row["message"]) == (
        "stale",
        "表格导出后问题已有新的处理（2026-11-23 复查未通过，返工），本行未应用；请以最新导出的整改通知单为准",
    )
    assert whole_database(today) == before
    shown = problem(today, "ZG-2026-0001")
    assert (shown["status"], shown["rework_count"]) == ("open", 1)
    text = today("import", "rectification", str(returned))
    assert "已过期" in text.stdout and "已过期未应用 1 行" in text.stdout
    # A sheet exported after the re-check is current again.
    fresh = fill(
        next(iter(export_units(today, tmp_path / "again").values())),
        {"ZG-2026-0001": {"整改情况": "已全部更换", "整改完成日期": datetime(2026, 11, 25), "状态": "已整改"}},
    )
    assert imported(today, fresh)[0] == 0 and problem(today, "ZG-2026-0001")["status"] == "fixed"


def test_units_whose_names_make_the_same_file_name_get_one_file_each(today, tmp_path):
    units = ["市场/监管局", "市场:监管局", "市场*监管局"]
    for index, unit in enumerate(units, start=1):
        today.ok("record", "NMSC-001", str(index), "fail", "--unit", unit, "--date", "2026-11-18", "--new-unit")
    out = today.ok("export", "rectification", "-o", tmp_path / "out").stdout
    written = sorted(p.name for p in (tmp_path / "out").glob("*.xlsx"))
    assert written == [
        "整改通知单_市场_监管局_2026-11-30.xlsx",
        "整改通知单_市场_监管局_2026-11-30_2.xlsx",
        "整改通知单_市场_监管局_2026-11-30_3.xlsx",
    ]
    assert "已导出 3 份整改通知单" in out and all(name in out for name in written)
    owners = {load_workbook(tmp_path / "out" / name)["填写说明"]["B3"].value for name in written}
    assert owners == set(units)


def test_control_characters_are_removed_at_entry_and_the_notice_is_written(today, tmp_path):
    today.ok(
        "record",
        "GJZD-001",
        "1",
        "fail",
        "--note",
        "站牌\v破损\x1b[31m\x00",
        "--unit",
        "文明\t办",
        "--new-unit",
        "--date",
        "2026-11-18",
    )
    (found,) = issues(today)
    assert (found["description"], found["unit"]) == ("站牌破损", "文明 办")
    today.ok("notice", "--week", "2026-W47", "-o", tmp_path / "n.docx")


def test_text_longer_than_a_field_holds_is_refused(today):
    before = whole_database(today)
    long = today("record", "GJZD-001", "1", "fail", "--note", "破" * 2001, "--date", "2026-11-18")
    assert long.exit_code == 2
    assert long.stderr == "错误：问题描述过长：2001 个字符，最多 2000 个；请精简后再填写\n"
    assert whole_database(today) == before
    today.ok("record", "GJZD-001", "1", "fail", "--note", "破" * 2000, "--date", "2026-11-18")
    name = today("issue", "assign", "ZG-2026-0001", "--unit", "局" * 101)
    assert name.exit_code == 2 and name.stderr.startswith("错误：责任单位过长：101 个字符，最多 100 个")


def test_a_description_stored_longer_than_a_cell_does_not_look_tampered(today, tmp_path):
    today.ok("record", "GJZD-001", "1", "fail", "--note", "x", "--date", "2026-11-18")
    sql(today.db, "UPDATE problems SET description = ?", ("长" * 40000,))  # written before entry was capped
    (sheet,) = export_units(today, tmp_path / "out").values()
    returned = fill(
        sheet, {"ZG-2026-0001": {"整改情况": "已更换", "整改完成日期": datetime(2026, 11, 20), "状态": "已整改"}}
    )
    code, report = imported(today, returned)
    assert code == 0 and report[0]["rows"][0]["outcome"] == "applied"


def test_notice_numbers_are_claimed_once_even_by_commands_running_together(today, tmp_path):
    """Slow (about 4 s): four `notice` processes at once, each starting Python and the CLI."""
    env = {**os.environ, "INSPECT_CLI_TODAY": "2026-11-30"}
    command = [sys.executable, "-m", "inspect_cli", "--db", str(today.db), "notice"]
    weeks = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    running = [
        subprocess.Popen([*command, "--week", w, "-o", str(tmp_path / f"{w}.docx")], env=env, stdout=subprocess.PIPE)
        for w in weeks
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in running]
    assert all(p.returncode == 0 for p in running), outputs
    numbers_given = sorted(int(out.split("第")[1].split("期")[0]) for out in outputs)
    assert numbers_given == [1, 2, 3, 4]
    assert sorted(n for (n,) in db_rows(today, "SELECT number FROM notices")) == [1, 2, 3, 4]


def test_a_notice_number_is_given_back_when_the_file_cannot_be_written(today, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    failed = today("notice", "--week", "2026-W47", "-o", blocker / "n.docx")
    assert failed.exit_code == 2 and db_rows(today, "SELECT * FROM notices") == []
    assert "第1期" in today.ok("notice", "--week", "2026-W47", "-o", tmp_path / "n.docx").stdout
    taken = today("notice", "--week", "2026-W48", "--number", "1", "-o", tmp_path / "m.docx")
    assert taken.exit_code == 4
    assert taken.stderr == "错误：第1期已用于 2026-11-16 至 2026-11-22 的通报，请换一个期号（--number）\n"


# --- databases that are not ours, disks that say no -------------------------------------------


@pytest.mark.sqlite_only("another program's SQLite file")
def test_another_programs_database_is_refused_and_left_untouched(tmp_path, cli):
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
        conn.execute("INSERT INTO customers VALUES ('x')")
    conn.close()
    before = foreign.read_bytes()
    result = cli("--db", str(foreign), "site", "list", db=False)
    assert result.exit_code == 2
    assert result.stderr == f"错误：{foreign} 不是 inspect-cli 的数据库（可能是其他程序的文件），未做任何修改\n"
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


@pytest.mark.sqlite_only("a file of random bytes")
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01garbage" * 500, "不是 SQLite 数据库文件"),
        (b"SQLite format 3\x00" + b"\xff" * 5000, "不是 SQLite 数据库文件"),
    ],
)
def test_random_bytes_are_refused(tmp_path, cli, content, message):
    path = tmp_path / "x.sqlite"
    path.write_bytes(content)
    result = cli("--db", str(path), "issue", "list", db=False)
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert path.read_bytes() == content


@pytest.mark.sqlite_only("the SQLite header's application id")
def test_a_database_is_marked_as_ours_and_an_earlier_release_is_adopted(tmp_path):
    path = tmp_path / "old.sqlite"
    with Store(path):
        pass
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        conn.execute("PRAGMA application_id = 0")  # as an earlier release left it
    conn.close()
    with Store(path) as store:
        assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


@pytest.mark.sqlite_only("SQLite's page limit stands in for a full disk")
def test_a_full_disk_is_one_clear_line_and_nothing_half_written(city):
    with Store(city.db) as store:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError, match="磁盘已满，未写入任何内容"), store.atomic() as conn:
            conn.execute("CREATE TABLE filler (x TEXT)")
            conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 4000,)] * 50)
        assert "filler" not in {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}


@pytest.mark.sqlite_only("a read-only database file")
def test_a_read_only_database_is_one_clear_line(city, tmp_path):
    city.ok("site", "list")
    os.chmod(city.db, 0o444)
    try:
        with Store(city.db) as store:
            store.conn.execute("PRAGMA query_only = ON")  # root ignores file modes; SQLite does not
            with pytest.raises(StoreError, match="数据库是只读的"), store.atomic() as conn:
                conn.execute("DELETE FROM sites")
    finally:
        os.chmod(city.db, 0o644)


def test_week_works_on_every_period_command(today, tmp_path):
    finish_site(today, "GJZD-001", "2026-11-18")
    by_week = today.ok("score", "--week", "2026-W47", "--json").stdout
    assert by_week == today.ok("score", "--from", "2026-11-16", "--to", "2026-11-22", "--json").stdout
    stats = today.ok("issue", "stats", "--week", "2026-W47", "--json").stdout
    assert stats == today.ok("issue", "stats", "--from", "2026-11-16", "--to", "2026-11-22", "--json").stdout
    both = today("score", "--week", "2026-W47", "--from", "2026-11-16")
    assert both.exit_code == 2 and both.stderr == "错误：--week 与 --from/--to 只能用一种\n"


def test_outputs_explain_failures_found_again_on_an_open_problem(today, tmp_path):
    """Two visits fail the same item: two failing items, one problem, one repeat finding."""
    items = json.loads(today.ok("checklist", "show", "公交站点", "--json").stdout)["items"]
    for day in ("2026-11-16", "2026-11-18"):
        today.ok("record", "GJZD-001", items[0]["id"], "fail", "--note", "站牌破损", "--date", day)
        for item in items[1:]:
            today.ok("record", "GJZD-001", item["id"], "pass", "--date", day, "--finish")
    (only,) = issues(today)
    assert only["occurrences"] == 1
    today.ok("export", "report", "--week", "2026-W47", "-o", tmp_path / "r.xlsx")
    figures = {r[0].value: r[1].value for r in load_workbook(tmp_path / "r.xlsx")["汇总"].iter_rows() if r[0].value}
    assert (figures["不合格项"], figures["发现问题数"], figures["不合格项中的重复发现（计入原有问题）"]) == (2, 1, 1)
    today.ok("notice", "--week", "2026-W47", "-o", tmp_path / "n.md")
    text = (tmp_path / "n.md").read_text(encoding="utf-8")
    assert "发现问题 1 个（其中严重问题 0 个），另有 1 项不合格为已有未销号问题的重复发现、计入原问题" in text


def test_a_damaged_or_odd_returned_sheet_is_one_line_and_no_english_warning(today, tmp_path):
    import warnings
    import zipfile

    today.ok("record", "GJZD-001", "1", "fail", "--note", "站牌破损", "--date", "2026-11-18")
    (sheet,) = export_units(today, tmp_path / "out").values()
    book = load_workbook(sheet)
    form = book["整改清单"]
    top = header_row(form)
    cell = form.cell(top + 1, [c.value for c in form[top]].index("整改完成日期") + 1)
    cell.value, cell.number_format = 10000000, "yyyy-mm-dd"  # a date serial no calendar has
    odd = tmp_path / "odd.xlsx"
    book.save(odd)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, report = imported(today, odd)
    assert code == 2 and report[0]["rows"][0]["outcome"] == "refused"
    assert [str(w.message) for w in caught if "openpyxl" in w.filename] == []
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(sheet) as source, zipfile.ZipFile(broken, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            target.writestr(member, data[: len(data) // 2] if member.filename.endswith("sheet1.xml") else data)
    result = today("import", "rectification", str(broken))
    assert result.exit_code == 2
    assert "不是有效的 .xlsx 文件（文件已损坏，或不是 Excel 工作簿）；未导入" in result.stderr


def test_a_sheet_stays_out_of_date_when_findings_are_withdrawn_after_it_was_exported(today, tmp_path):
    """Withdrawing a finding deletes events; the sheet must still see what came after it."""
    today.ok("record", "GJZD-001", "1", "fail", "--note", "站牌破损", "--date", "2026-11-16")
    today.ok("record", "GJZD-001", "1", "severe", "--note", "站牌倒地", "--date", "2026-11-18")
    (sheet,) = export_units(today, tmp_path / "out").values()
    today.ok("record", "GJZD-001", "1", "pass", "--date", "2026-11-18")  # the 11-18 finding withdrawn
    today.ok("issue", "defer", "ZG-2026-0001", "--until", "2027-03-31", "--reason", "需立项改造")
    returned = fill(sheet, {"ZG-2026-0001": {"整改情况": "正在更换", "状态": "整改中"}})
    before = whole_database(today)
    code, report = imported(today, returned)
    assert code == 4 and report[0]["rows"][0]["outcome"] == "stale"
    assert whole_database(today) == before


def test_a_write_racing_another_is_one_chinese_line(city):
    racing = pytest.raises(StoreError, match="另一个操作同时写入了同一条记录，本次未写入任何内容；请重试")
    with Store(city.db) as store, racing, store.atomic() as conn:
        conn.execute("INSERT INTO units (id, name, created_at, updated_at) VALUES ('x', '市场监管局', '', '')")


def test_a_question_answered_with_ctrl_c_interrupts_and_end_of_input_is_no(today, monkeypatch):
    today.ok("record", "GJZD-001", "1", "pass", "--date", "2026-11-18")
    # No answer at all (a script without --yes): nothing deleted, and an error the script sees.
    declined = today("inspection", "delete", "JC-2026-0001", input="")
    assert declined.exit_code == 2 and "--yes" in declined.stderr and "未做任何修改" in declined.stderr
    assert json.loads(today.ok("inspection", "list", "--json").stdout)

    def ctrl_c(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", ctrl_c)
    interrupted = today("inspection", "delete", "JC-2026-0001")
    assert interrupted.exit_code == 130 and "Aborted" not in interrupted.output
    assert interrupted.stderr.startswith("错误：已中断")
    assert len(json.loads(today.ok("inspection", "list", "--json").stdout)) == 1
