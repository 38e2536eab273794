from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from .conftest import make_image, sql


def results(cli, no="JC-2026-0001"):
    shown = json.loads(cli.ok("inspection", "show", no, "--json").stdout)
    return shown, {r["item"]["id"]: r for r in shown["results"] if r["result"]}


def item_ids(cli, site_type="农贸市场"):
    return [i["id"] for i in json.loads(cli.ok("checklist", "show", site_type, "--json").stdout)["items"]]


def test_piped_full_walk_finishes_with_summary(city):
    ids = item_ids(city)
    out = city.ok("run", "NMSC-001", "-i", "张三", "--date", "2026-11-18", input="\n" * len(ids))
    assert "开始检查 JC-2026-0001" in out.stdout
    assert "检查完成" in out.stdout and "100.0%" in out.stdout
    shown, answered = results(city)
    assert shown["status"] == "finished" and len(answered) == len(ids)
    assert {r["result"] for r in answered.values()} == {"pass"}


def test_piped_failure_details_back_and_quit(city, tmp_path):
    ids = item_ids(city)
    photo = make_image(tmp_path / "现场 照片.jpg")
    answers = [
        "1",  # item 1 pass
        "2",  # item 2 fail
        "地面有烟头",
        "3",
        f'"{photo}"',
        "",  # 责任单位: keep the default
        "b",  # back to item 2
        "",  # Enter keeps 不合格
        "",  # keep the description
        "",  # keep the count
        "",  # no new photos
        "城市管理局",  # another 责任单位
        "0",  # item 3 n/a
        "q",
    ]
    out = city.ok("run", "NMSC-001", "--date", "2026-11-18", "--new-unit", input="\n".join(answers) + "\n")
    assert "已保存 1 张照片" in out.stdout
    assert "当前：不合格，地面有烟头" in out.stdout
    assert "已保存并退出：已填写 3/" in out.stdout
    shown, answered = results(city)
    assert shown["status"] == "open"
    assert answered[ids[0]]["result"] == "pass"
    second = answered[ids[1]]
    assert (second["result"], second["count"], second["note"], len(second["photos"])) == ("fail", 3, "地面有烟头", 1)
    assert answered[ids[2]]["result"] == "na"


def test_end_of_input_saves_and_resume_starts_at_first_unanswered(city):
    ids = item_ids(city)
    first = city.ok("run", "NMSC-001", "--date", "2026-11-18", input="1\n3\n垃圾满溢\n")
    assert "输入结束" in first.stdout
    _, answered = results(city)
    assert answered[ids[1]]["result"] == "severe" and answered[ids[1]]["note"] == "垃圾满溢"
    again = city.ok("run", "NMSC-001", input="q\n")
    assert "继续检查 JC-2026-0001" in again.stdout and "已填写 2/" in again.stdout
    assert f"[3/{len(ids)}] {ids[2]}" in again.stdout
    assert f"[1/{len(ids)}]" not in again.stdout


def test_invalid_piped_answer_stops_with_error_keeping_earlier_answers(city):
    result = city("run", "NMSC-001", "--date", "2026-11-18", input="1\nx\n1\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("错误：标准输入第 2 行：无效的输入 'x'")
    _, answered = results(city)
    assert len(answered) == 1


def test_invalid_piped_photo_stops_with_error(city, tmp_path):
    result = city("run", "NMSC-001", "--date", "2026-11-18", input=f"2\n描述\n1\n{tmp_path / 'missing.jpg'}\n")
    assert result.exit_code == 2
    assert "照片不存在" in result.stderr
    _, answered = results(city)
    (only,) = answered.values()
    assert (only["result"], only["note"], only["photos"]) == ("fail", "描述", [])


def test_killed_run_loses_nothing_and_resumes(city):
    """Slow (about 2 s): a real `run` process, killed and started again."""
    ids = item_ids(city)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "inspect_cli", "--db", str(city.db), "run", "NMSC-001", "--date", "2026-11-18"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    # Answers for three items; stdin stays open so the process waits at item 4.
    process.stdin.write("1\n2\n占道经营\n4\n\n\n0\n".encode())
    process.stdin.flush()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _answered(city.db) == 3:
                break
            assert process.poll() is None, process.stderr.read().decode()
            time.sleep(0.05)
        else:
            raise AssertionError("the answers were not committed")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    _, answered = results(city)
    assert answered[ids[0]]["result"] == "pass"
    assert (answered[ids[1]]["result"], answered[ids[1]]["note"], answered[ids[1]]["count"]) == ("fail", "占道经营", 4)
    assert answered[ids[2]]["result"] == "na"
    again = city.ok("run", "NMSC-001", input="q\n")
    assert f"[4/{len(ids)}] {ids[3]}" in again.stdout


def _answered(db) -> int:
    try:
        (row,) = sql(
            db, "SELECT count(*), sum(CASE WHEN note IS NOT NULL AND count = 4 THEN 1 ELSE 0 END) FROM results"
        )
    except Exception:  # the table is not there yet: nothing answered
        return 0
    return row[0] if row[1] else 0


def test_ctrl_c_exits_130_after_saving(city):
    process = subprocess.Popen(
        [sys.executable, "-m", "inspect_cli", "--db", str(city.db), "run", "NMSC-001", "--date", "2026-11-18"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    process.stdin.write(b"1\n")
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while _count(city.db) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "已中断" in err.decode() and "Traceback" not in err.decode()
    assert _count(city.db) == 1


def _count(db) -> int:
    try:
        return sql(db, "SELECT count(*) FROM results")[0][0]
    except Exception:  # the table is not there yet: nothing answered
        return 0


def test_piped_run_refuses_a_unit_not_in_the_register(city):
    answers = "2\n占道\n1\n\n市场监官局\n"
    result = city("run", "NMSC-002", "--date", "2026-11-18", input=answers)
    assert result.exit_code == 2
    assert "标准输入第 5 行：未知的责任单位 '市场监官局'（是否想写 '市场监管局'？）" in result.stderr
