from __future__ import annotations

import json

import pytest

from .conftest import make_image


@pytest.fixture
def ledger(city, monkeypatch):
    """Three problems found on Monday 2026-11-16, looked at on 2026-11-30."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-11-30")
    monkeypatch.setenv("INSPECT_CLI_USER", "创城办王五")
    city.ok("record", "NMSC-001", "gg-01", "不合格", "--note", "公益广告破损", "--date", "2026-11-16", "-i", "张三")
    city.ok("record", "NMSC-001", "smoke-02", "严重不合格", "--note", "有人吸烟", "--date", "2026-11-16", "-i", "张三")
    city.ok(
        "record",
        "GJZD-001",
        "1",
        "fail",
        "--note",
        "站牌破损",
        "--unit",
        "交通运输局",
        "--date",
        "2026-11-16",
        "--new-unit",
    )
    return city


def listed(cli, *args):
    return json.loads(cli.ok("issue", "list", "--json", *args).stdout)


def test_failures_show_up_in_the_ledger(ledger):
    rows = listed(ledger)
    assert [r["no"] for r in rows] == ["ZG-2026-0002", "ZG-2026-0001", "ZG-2026-0003"]  # by deadline
    smoke = rows[0]
    assert (smoke["severity"], smoke["description"], smoke["status"], smoke["deadline"]) == (
        "severe",
        "有人吸烟",
        "open",
        "2026-11-16",
    )
    assert smoke["overdue_days"] == 14
    assert {r["no"]: r["unit"] for r in rows}["ZG-2026-0003"] == "交通运输局"
    text = ledger.ok("issue", "list").stdout
    assert "共 3 个问题，其中逾期 3 个（截至 2026-11-30）" in text


def test_list_filters(ledger):
    def nos(*args):
        return [r["no"] for r in listed(ledger, *args)]

    assert nos("--site", "GJZD-001") == ["ZG-2026-0003"]
    assert nos("--unit", "交通") == ["ZG-2026-0003"]
    assert nos("--street", "西湖") == ["ZG-2026-0003"]
    assert nos("--type", "公交站点") == ["ZG-2026-0003"]
    assert nos("--category", "公益广告") == ["ZG-2026-0001", "ZG-2026-0003"]
    ledger.ok("issue", "fixed", "ZG-2026-0001", "--note", "已更换", "--date", "2026-11-18")
    assert nos("--status", "fixed") == ["ZG-2026-0001"]
    assert nos("--status", "待整改") == ["ZG-2026-0002", "ZG-2026-0003"]
    assert nos("--overdue") == ["ZG-2026-0002", "ZG-2026-0003"]
    assert nos("--repeat") == []
    assert nos("--from", "2026-11-17") == []
    bad = ledger("issue", "list", "--status", "done")
    assert bad.exit_code == 2 and bad.stderr.startswith("错误：无法识别的问题状态 'done'")


def test_full_loop_with_history(ledger, tmp_path):
    after = make_image(tmp_path / "after.jpg", "green")
    ledger.ok(
        "issue",
        "fixed",
        "ZG-2026-0001",
        "--note",
        "已更换新公益广告",
        "--date",
        "2026-11-18",
        "--photo",
        after,
        "--by",
        "市场监管局",
    )
    failed = ledger.ok("issue", "recheck", "ZG-2026-0001", "--fail", "--note", "仍有一处破损", "--date", "2026-11-19")
    assert "复查未通过，退回返工，当前状态 待整改（返工 1 次）" in failed.stdout
    ledger.ok("issue", "fixed", "ZG-2026-0001", "--note", "全部更换", "--date", "2026-11-20")
    passed = ledger.ok("issue", "recheck", "ZG-2026-0001", "--pass", "--date", "2026-11-23", "--by", "张三")
    assert "ZG-2026-0001：复查通过，已销号，当前状态 已销号" in passed.stdout
    shown = json.loads(ledger.ok("issue", "show", "ZG-2026-0001", "--json").stdout)
    assert [(h["label"], h["actor"]) for h in shown["history"]] == [
        ("发现问题", "张三"),
        ("上报整改", "市场监管局"),
        ("复查未通过，返工", "创城办王五"),
        ("上报整改", "创城办王五"),
        ("复查通过，销号", "张三"),
    ]
    assert shown["history"][1]["photos"][0].endswith(".jpg")
    assert (shown["rework_count"], shown["recheck_count"], shown["on_time"]) == (1, 2, True)  # fixed 11-20, due 11-23
    text = ledger.ok("issue", "show", "ZG-2026-0001").stdout
    assert "处理记录" in text and "已更换新公益广告" in text and "复查 / 返工" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["issue", "recheck", "ZG-2026-0001", "--pass"],
            "错误：问题 ZG-2026-0001 尚未上报整改（待整改），不能直接销号；确需销号请加 --force 并用 --reason 说明理由",
        ),
        (["issue", "recheck", "ZG-2026-0001", "--pass", "--force"], "错误：强制销号必须用 --reason 说明理由"),
        (["issue", "recheck", "ZG-2026-0001"], "错误：请指定复查结果：--pass（通过）或 --fail（未通过）"),
        (
            ["issue", "fixed", "ZG-2026-0001", "--note", "x", "--date", "2026-12-01"],
            "错误：整改完成日期 2026-12-01 晚于今天（2026-11-30），不能填写未来的日期",
        ),
        (["issue", "dismiss", "ZG-2026-0001", "--reason", ""], "错误：认定不属实必须用 --reason 说明理由"),
        (
            ["issue", "defer", "ZG-2026-0001", "--until", "2026-11-01", "--reason", "x"],
            "错误：长期整改的完成日期 2026-11-01 应晚于问题发现日期 2026-11-16",
        ),
        (["issue", "deadline", "ZG-2026-0001", "2026-11-01"], "错误：整改时限 2026-11-01 早于问题发现日期 2026-11-16"),
        (["issue", "show", "ZG-2026-0099"], "错误：找不到问题 'ZG-2026-0099'"),
    ],
)
def test_refusals_change_nothing(ledger, args, message):
    before = json.loads(ledger.ok("issue", "show", "ZG-2026-0001", "--json").stdout)
    result = ledger(*args)
    assert result.exit_code in (2, 3, 4)
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert json.loads(ledger.ok("issue", "show", "ZG-2026-0001", "--json").stdout) == before


def test_closed_problem_refuses_with_exit_4(ledger):
    ledger.ok("issue", "recheck", "ZG-2026-0001", "--pass", "--force", "--reason", "现场已整改")
    result = ledger("issue", "fixed", "ZG-2026-0001", "--note", "x")
    assert result.exit_code == 4
    assert result.stderr == "错误：问题 ZG-2026-0001 当前为“已销号”，不能上报整改（仅限待整改、长期整改的问题）\n"


def test_office_actions(ledger):
    assert "已认定不属实" in ledger.ok("issue", "dismiss", "ZG-2026-0003", "--reason", "站牌属于在建工程").stdout
    assert (
        "完成时限 2027-03-31"
        in ledger.ok("issue", "defer", "ZG-2026-0002", "--until", "2027-03-31", "--reason", "需整体改造").stdout
    )
    # 城市管理局 is no unit of this register yet: the office adds it on purpose.
    assert (
        "已改派给 城市管理局"
        in ledger.ok("issue", "assign", "ZG-2026-0001", "--unit", "城市管理局", "--new-unit").stdout
    )
    assert "整改时限改为 2026-12-04" in ledger.ok("issue", "deadline", "ZG-2026-0001", "2026-12-04").stdout
    rows = {r["no"]: r for r in listed(ledger)}
    assert rows["ZG-2026-0003"]["status"] == "dismissed"
    assert (rows["ZG-2026-0002"]["status"], rows["ZG-2026-0002"]["overdue_days"]) == ("deferred", 0)
    assert (rows["ZG-2026-0001"]["unit"], rows["ZG-2026-0001"]["deadline"]) == ("城市管理局", "2026-12-04")


def test_stats_are_reproducible_from_the_list(ledger):
    ledger.ok("issue", "fixed", "ZG-2026-0001", "--note", "已整改", "--date", "2026-11-17")
    ledger.ok("issue", "recheck", "ZG-2026-0001", "--pass", "--date", "2026-11-18")
    ledger.ok("issue", "fixed", "ZG-2026-0002", "--note", "已整改", "--date", "2026-11-17")
    ledger.ok("issue", "recheck", "ZG-2026-0002", "--fail", "--date", "2026-11-18")
    ledger.ok("issue", "dismiss", "ZG-2026-0003", "--reason", "不属实")
    ledger.ok("record", "NMSC-001", "gg-01", "不合格", "--date", "2026-11-25")  # 反复出现
    stats = json.loads(ledger.ok("issue", "stats", "--json").stdout)["total"]
    rows = listed(ledger)
    closed = [r for r in rows if r["status"] == "closed"]
    rechecked = [r for r in rows if r["recheck_count"] > 0]
    expected = {
        "total": len(rows),
        "closed": len(closed),
        "dismissed": sum(r["status"] == "dismissed" for r in rows),
        "fix_rate": len(closed) / (len(rows) - sum(r["status"] == "dismissed" for r in rows)) * 100,
        "on_time_rate": sum(bool(r["on_time"]) for r in closed) / len(closed) * 100,
        "overdue": sum(r["overdue_days"] > 0 for r in rows),
        "rework_rate": sum(r["rework_count"] > 0 for r in rechecked) / len(rechecked) * 100,
        "repeats": sum(r["repeat_of"] is not None for r in rows),
    }
    assert {k: stats[k] for k in expected} == pytest.approx(expected)
    assert (stats["total"], stats["closed"], stats["repeats"], stats["overdue"]) == (4, 1, 1, 1)
    by_unit = json.loads(ledger.ok("issue", "stats", "--by", "unit", "--json").stdout)["groups"]
    for group in by_unit:
        mine = [r for r in rows if (r["unit"] or "（未指定责任单位）") == group["name"]]
        assert group["total"] == len(mine)
        assert group["overdue"] == sum(r["overdue_days"] > 0 for r in mine)
    text = ledger.ok("issue", "stats", "--by", "street").stdout
    assert "整改统计（截至 2026-11-30）" in text and "合计" in text and "33.3%" in text


def test_recheck_walk_on_site(ledger):
    ledger.ok("issue", "fixed", "ZG-2026-0001", "--note", "已更换", "--date", "2026-11-18")
    out = ledger.ok("recheck", "NMSC-001", "--by", "张三", input="1\n到位\n\n2\n仍有烟头\n\n")
    assert "复查 NMSC-001 东城农贸市场：2 个未销号问题" in out.stdout
    assert out.stdout.index("ZG-2026-0001") < out.stdout.index("ZG-2026-0002")  # reported fixes first
    assert "单位上报：已更换（2026-11-18）" in out.stdout
    assert "已复查 2 个（销号 1，未通过 1）" in out.stdout
    rows = {r["no"]: r for r in listed(ledger)}
    assert rows["ZG-2026-0001"]["status"] == "closed"
    assert (rows["ZG-2026-0002"]["status"], rows["ZG-2026-0002"]["recheck_count"]) == ("open", 1)
    assert "没有待复查的问题" in ledger.ok("recheck", "NMSC-002").stdout


def test_recheck_walk_force_close_needs_a_reason(ledger):
    out = ledger.ok("recheck", "GJZD-001", input="1\n\n")  # no reason: nothing closed
    assert "跳过或未处理 1 个" in out.stdout
    ledger.ok("recheck", "GJZD-001", input="1\n现场已修复\n核实\n\n")
    assert listed(ledger, "--site", "GJZD-001")[0]["status"] == "closed"


def test_run_failure_can_name_another_unit(city):
    city.ok("run", "NMSC-002", "--date", "2026-11-18", "--new-unit", input="2\n占道\n1\n\n文明办\nq\n")
    (problem,) = listed(city)
    assert problem["unit"] == "文明办"


def test_config_changes_the_repeat_window_and_bad_config_is_refused(ledger, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("rectification:\n  repeat_window_days: 0\n", encoding="utf-8")
    ledger.ok("issue", "recheck", "ZG-2026-0001", "--pass", "--force", "--reason", "x", "--date", "2026-11-20")
    ledger.ok("--config", config, "record", "NMSC-001", "gg-01", "fail", "--date", "2026-11-23")
    assert listed(ledger, "--repeat") == []
    config.write_text("rectification:\n  repeat_windw_days: 10\n", encoding="utf-8")
    bad = ledger("--config", config, "record", "NMSC-001", "gg-02", "fail")
    assert bad.exit_code == 2
    assert f"{config}:2: rectification.repeat_windw_days: 未知的设置项（是否想写 'repeat_window_days'？）" in bad.stderr
    config.write_text("rectification:\n  zzz: 1\n", encoding="utf-8")  # nothing near: the keys, in a fixed order
    listed_keys = ledger("--config", config, "record", "NMSC-001", "gg-02", "fail").stderr
    assert listed_keys == ledger("--config", config, "record", "NMSC-001", "gg-02", "fail").stderr
    assert "可用：" in listed_keys and "repeat_window_days" in listed_keys
    shown = ledger.ok("--config", tmp_path / "none.yaml", "config", "show").stdout
    assert "repeat_window_days" in shown and "不存在，使用默认值" in shown


def test_config_init_writes_the_documented_default(cli, tmp_path):
    target = tmp_path / "conf" / "config.yaml"
    assert "已生成设置文件" in cli.ok("--config", target, "config", "init").stdout
    assert "repeat_window_days: 30" in target.read_text(encoding="utf-8")
    assert "已存在，未覆盖" in cli.ok("--config", target, "config", "init").stdout


def test_missing_holiday_year_is_said_once(city, monkeypatch):
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2027-03-10")
    result = city.ok("record", "NMSC-001", "gg-01", "fail", "--date", "2027-03-05")
    assert "节假日数据不含 2027 年" in result.stderr
    (problem,) = listed(city)
    assert problem["deadline"] == "2027-03-12"  # gg-01: 5 working days, Monday–Friday
