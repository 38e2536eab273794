from __future__ import annotations

import json
import shutil

import pytest

from inspect_cli import inspection as core
from inspect_cli import paths
from inspect_cli.checklist import Item, load_checklists
from inspect_cli.errors import InputError, NotFoundError, StateError
from inspect_cli.models import Result, ResultRecord
from inspect_cli.scoring import item_earned, score_inspection
from inspect_cli.sites import import_register

from .conftest import DATA, DAY, SHIPPED, make_image


@pytest.fixture
def market(store, checklists):
    import_register(store, checklists, DATA / "sites.csv")
    return store.site_by_code("NMSC-001")


# --- scoring ---------------------------------------------------------------------------


def test_item_earned_rules():
    item = Item("x", "t", "c", score=5, deduct=2)
    assert item_earned(item, Result.PASS) == 5
    assert item_earned(item, Result.FAIL, 1) == 3
    assert item_earned(item, Result.FAIL, 2) == 1
    assert item_earned(item, Result.FAIL, 9) == 0  # never more than the item's score
    assert item_earned(item, Result.SEVERE, 1) == 0
    assert item_earned(Item("y", "t", "c", score=4), Result.FAIL, 1) == 0  # deduct defaults to score


def test_score_of_an_inspection_hand_computed():
    items = [
        Item("a", "t", "c", score=10, deduct=2),
        Item("b", "t", "c", score=5),
        Item("c", "t", "c", score=3),
        Item("d", "t", "c", score=2),
        Item("e", "t", "c", score=7),
    ]
    results = {
        "a": ResultRecord("a", Result.FAIL, count=3),  # 10 - 6 = 4
        "b": ResultRecord("b", Result.PASS),  # 5
        "c": ResultRecord("c", Result.SEVERE),  # 0 of 3
        "d": ResultRecord("d", Result.NA),  # out of both
    }
    score = score_inspection(items, results)
    assert (score.earned, score.full) == (9, 18)
    assert score.rate == pytest.approx(50.0)
    assert (score.passed, score.failed, score.severe, score.na, score.answered, score.items) == (1, 1, 1, 1, 4, 5)


def test_result_words():
    assert Result.parse("合格") is Result.PASS
    assert Result.parse("FAIL") is Result.FAIL
    assert Result.parse("严重不合格") is Result.SEVERE
    assert Result.parse("n/a") is Result.NA
    with pytest.raises(InputError, match="无法识别的检查结果 '好'"):
        Result.parse("好")


# --- recording -------------------------------------------------------------------------


def test_start_creates_then_resumes(store, checklists, market):
    detail, resumed = core.start(store, checklists, market, DAY, ["张三", "李四,王五"])
    assert not resumed
    assert detail.inspection.no == "JC-2026-0001"
    assert detail.inspection.inspectors == ["张三", "李四", "王五"]
    assert len(detail.items) == len(checklists.get("农贸市场").items)
    again, resumed = core.start(store, checklists, market, None, [])
    assert resumed and again.inspection.id == detail.inspection.id


def test_record_goes_into_the_open_inspection_of_that_date(store, checklists, market):
    first = core.open_for_record(store, checklists, market, DAY, ["张三"], None)
    core.record(store, first, "gg-01", "fail", note="公益广告破损", count=2)
    same = core.open_for_record(store, checklists, market, DAY, None, None)
    assert same.id == first.id
    other_day = core.open_for_record(store, checklists, market, DAY.replace(day=19), None, None)
    assert other_day.id != first.id and other_day.no == "JC-2026-0002"
    saved = store.results(first.id)["gg-01"]
    assert (saved.result, saved.count, saved.note) == (Result.FAIL, 2, "公益广告破损")


def test_record_replaces_an_answer_and_validates(store, checklists, market):
    inspection = core.open_for_record(store, checklists, market, DAY, None, None)
    core.record(store, inspection, "gg-01", "fail", count=3, note="x")
    core.record(store, inspection, "gg-01", "pass")
    saved = store.results(inspection.id)["gg-01"]
    assert (saved.result, saved.count, saved.note) == (Result.PASS, 1, None)
    with pytest.raises(NotFoundError, match="本次检查没有检查项 'zz-99'"):
        core.record(store, inspection, "zz-99", "pass")
    with pytest.raises(InputError, match="问题数量应为"):
        core.record(store, inspection, "gg-01", "fail", count=0)
    assert core.record(store, inspection, "2", "na").item_id == core.detail(store, inspection.id).items[1].id


def test_finish_requires_every_item(store, checklists, market):
    detail, _ = core.start(store, checklists, market, DAY)
    core.record(store, detail.inspection, detail.items[0].id, "pass")
    with pytest.raises(StateError, match=f"还有 {len(detail.items) - 1} 项未填写"):
        core.finish(store, detail.inspection.no)
    for item in detail.items[1:]:
        core.record(store, detail.inspection, item.id, "pass")
    finished = core.finish(store, detail.inspection.no)
    assert finished.inspection.finished
    with pytest.raises(StateError, match="已完成，不能再修改"):
        core.record(store, finished.inspection, detail.items[0].id, "fail")
    with pytest.raises(StateError, match="已经完成"):
        core.finish(store, detail.inspection.no)


def test_checklist_edits_never_change_past_inspections(store, tmp_path, market):
    folder = tmp_path / "own"
    shutil.copytree(SHIPPED, folder)
    original = load_checklists([folder])
    detail, _ = core.start(store, original, market, DAY)
    core.record(store, detail.inspection, "gg-01", "pass")
    before = score_inspection(*_items_results(store, detail.inspection.id))
    text = (folder / "nmsc.yaml").read_text(encoding="utf-8")
    (folder / "nmsc.yaml").write_text(text.replace("id: gg-01", "id: gg-99"), encoding="utf-8")
    changed = load_checklists([folder])
    assert "gg-01" not in [i.id for i in changed.get("农贸市场").items]
    after = core.detail(store, detail.inspection.no)
    assert after.items[0].id == "gg-01"
    assert score_inspection(after.items, after.results) == before


def _items_results(store, inspection_id):
    return store.inspection_items(inspection_id), store.results(inspection_id)


def test_photos_are_checked_and_copied_with_sha256(store, checklists, market, tmp_path):
    media = tmp_path / "media"
    photo = make_image(tmp_path / "in" / "现场.jpg")
    inspection = core.open_for_record(store, checklists, market, DAY, None, None)
    saved = core.record(store, inspection, "gg-01", "fail", photos=[photo], media_dir=media)
    (stored,) = saved.photos
    import hashlib

    assert stored.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    copy = media / stored.stored_name
    assert copy.read_bytes() == photo.read_bytes()
    photo.unlink()  # the original may move: the copy stays
    assert copy.exists()
    # A later answer without photos keeps them; a pass drops them.
    assert len(core.record(store, inspection, "gg-01", "fail", note="补充描述", media_dir=media).photos) == 1
    assert core.record(store, inspection, "gg-01", "pass").photos == []


def test_bad_photos_change_nothing(store, checklists, market, tmp_path):
    inspection = core.open_for_record(store, checklists, market, DAY, None, None)
    good = make_image(tmp_path / "good.png")
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("hello")
    with pytest.raises(InputError, match="照片不存在"):
        core.record(
            store, inspection, "gg-01", "fail", photos=[good, tmp_path / "missing.jpg"], media_dir=tmp_path / "m"
        )
    with pytest.raises(InputError, match="不是可识别的图片文件"):
        core.record(store, inspection, "gg-01", "fail", photos=[not_image], media_dir=tmp_path / "m")
    assert store.results(inspection.id) == {}
    assert not (tmp_path / "m").exists()


def test_delete(store, checklists, market):
    inspection = core.open_for_record(store, checklists, market, DAY, None, None)
    core.record(store, inspection, "gg-01", "pass")
    core.delete(store, inspection.no)
    with pytest.raises(NotFoundError):
        store.inspection(inspection.no)


# --- CLI -------------------------------------------------------------------------------


def test_cli_record_show_finish(city, tmp_path):
    photo = make_image(tmp_path / "p.jpg")
    out = city.ok(
        "record",
        "NMSC-001",
        "gg-01",
        "不合格",
        "--note",
        "公益广告破损",
        "--count",
        "2",
        "--photo",
        photo,
        "--date",
        "2026-11-18",
        "-i",
        "张三",
    )
    assert "已记录 JC-2026-0001 NMSC-001 gg-01：不合格（2 处），照片 1 张" in out.stdout
    shown = json.loads(city.ok("inspection", "show", "JC-2026-0001", "--json").stdout)
    first = shown["results"][0]
    assert first["result"] == "fail" and first["count"] == 2 and first["note"] == "公益广告破损"
    assert len(first["photos"]) == 1 and shown["inspectors"] == ["张三"]
    assert (paths.media_dir(city.db) / first["photos"][0]["stored_name"]).exists()
    refused = city("inspection", "finish", "JC-2026-0001")
    assert refused.exit_code == 4 and "项未填写" in refused.stderr
    for item in shown["results"][1:]:
        city.ok("record", "NMSC-001", item["item"]["id"], "pass", "--date", "2026-11-18")
    assert "已完成" in city.ok("inspection", "finish", "JC-2026-0001").stdout
    text = city.ok("inspection", "show", "JC-2026-0001").stdout
    assert "公益广告破损" in text and "已完成" in text


def test_cli_inspection_list_filters(city):
    city.ok("record", "NMSC-001", "gg-01", "pass", "--date", "2026-11-16", "-i", "张三")
    city.ok("record", "NMSC-002", "gg-01", "pass", "--date", "2026-11-18", "-i", "李四")
    city.ok("record", "GJZD-001", "1", "fail", "--date", "2026-11-20", "-i", "张三")

    def nos(*args):
        return [row["site_code"] for row in json.loads(city.ok("inspection", "list", "--json", *args).stdout)]

    assert nos() == ["NMSC-001", "NMSC-002", "GJZD-001"]
    assert nos("--from", "2026-11-17", "--to", "2026-11-19") == ["NMSC-002"]
    assert nos("--inspector", "张三") == ["NMSC-001", "GJZD-001"]
    assert nos("--street", "西湖") == ["NMSC-002", "GJZD-001"]
    assert nos("--site", "NMSC-002") == ["NMSC-002"]
    assert nos("--status", "finished") == []


def test_cli_delete_asks_first(city):
    city.ok("record", "NMSC-001", "gg-01", "pass", "--date", "2026-11-18")
    declined = city("inspection", "delete", "JC-2026-0001", input="n\n")
    assert declined.exit_code == 0 and "未删除" in declined.stdout  # a person's no: nothing to fail
    city.ok("inspection", "show", "JC-2026-0001")
    assert "已删除检查 JC-2026-0001" in city.ok("inspection", "delete", "JC-2026-0001", input="y\n").stdout
    assert city("inspection", "show", "JC-2026-0001").exit_code == 3


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["record", "NOPE-1", "gg-01", "pass"], 3, "错误：找不到点位 'NOPE-1'"),
        (["record", "NMSC-001", "zz-99", "pass"], 3, "错误：本次检查没有检查项 'zz-99'"),
        (["record", "NMSC-001", "gg-01", "good"], 2, "错误：无法识别的检查结果 'good'"),
        (["record", "NMSC-001", "gg-01", "pass", "--date", "2026-13-40"], 2, "错误：检查日期格式不正确：'2026-13-40'"),
        (
            ["record", "NMSC-001", "gg-01", "fail", "--photo", "/nonexistent/p.jpg"],
            2,
            "错误：照片不存在：/nonexistent/p.jpg",
        ),
        (["inspection", "show", "JC-2026-9999"], 3, "错误：找不到检查记录 'JC-2026-9999'"),
        (
            ["inspection", "list", "--from", "2026-11-20", "--to", "2026-11-01"],
            2,
            "错误：起始日期 2026-11-20 晚于结束日期 2026-11-01",
        ),
        (["run", "nmsc"], 2, "错误：'nmsc' 匹配到多个点位"),
    ],
)
def test_cli_bad_input_one_line_no_traceback(city, args, code, message):
    result = city(*args)
    assert result.exit_code == code
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stdout + result.stderr
    # A refused record leaves no trace behind.
    assert json.loads(city.ok("inspection", "list", "--json").stdout) == []


def test_cli_record_into_a_named_inspection(city):
    city.ok("record", "NMSC-001", "gg-01", "pass", "--date", "2026-11-16")
    city.ok("record", "NMSC-001", "gg-01", "pass", "--date", "2026-11-18")
    city.ok("record", "NMSC-001", "gg-02", "severe", "--inspection", "JC-2026-0001", "--note", "无公益广告")
    shown = json.loads(city.ok("inspection", "show", "JC-2026-0001", "--json").stdout)
    assert [r["result"] for r in shown["results"][:2]] == ["pass", "severe"]
    wrong_site = city("record", "GJZD-001", "1", "pass", "--inspection", "JC-2026-0001")
    assert wrong_site.exit_code == 2 and "属于点位 NMSC-001，不是 GJZD-001" in wrong_site.stderr
