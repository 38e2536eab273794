from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from inspect_cli.checklist import load_checklists, validate_file
from inspect_cli.errors import ChecklistError, NotFoundError

from .conftest import SHIPPED

REQUIRED_TYPES = [
    "农贸市场",
    "背街小巷",
    "主次干道",
    "商业大街",
    "居民小区",
    "公共广场",
    "公园",
    "公交站点",
    "建筑工地",
    "中小学校周边",
    "政务大厅",
    "医院",
    "室外公共厕所",
    "网吧",
]

GOOD_ITEM = """\
  - id: a-01
    text: 入口设公平秤
    category: 服务设施
    score: 5
"""


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def problems_of(path: Path, roots: list[Path] | None = None) -> list[str]:
    checklist, problems = validate_file(path, roots or [path.parent])
    assert checklist is None or not problems
    return [str(p) for p in problems]


def test_shipped_set_has_every_required_type(checklists):
    assert len(checklists) >= 12
    for name in REQUIRED_TYPES:
        checklist = checklists.get(name)
        assert len(checklist.items) >= 8, name
        assert all(item.score > 0 for item in checklist.items)
        assert checklist.full_score == pytest.approx(sum(i.score for i in checklist.items))


def test_shipped_codes_and_ids_are_unique(checklists):
    codes = [c.code for c in checklists]
    assert len(codes) == len(set(codes))
    for checklist in checklists:
        ids = [item.id for item in checklist.items]
        assert len(ids) == len(set(ids)), checklist.site_type


def test_includes_pull_shared_items_into_many_types(checklists):
    with_smoking = [c.site_type for c in checklists if any(i.id == "smoke-01" for i in c.items)]
    assert len(with_smoking) >= 3
    # The fragment text is one copy, identical wherever it is included.
    texts = {next(i.text for i in checklists.get(t).items if i.id == "smoke-01") for t in with_smoking}
    assert len(texts) == 1


def test_exclude_leaves_an_included_item_out(tmp_path):
    write(
        tmp_path,
        "common/shared.yaml",
        f"fragment: 公共\nitems:\n{GOOD_ITEM}  - id: a-02\n    text: 第二项\n    category: 环境卫生\n    score: 3\n",
    )
    path = write(
        tmp_path,
        "t.yaml",
        "site_type: 测试\ncode: CS\nedition: '1'\nitems:\n  - include: common/shared.yaml\n    exclude: [a-01]\n",
    )
    checklist, problems = validate_file(path, [tmp_path])
    assert problems == []
    assert [i.id for i in checklist.items] == ["a-02"]


def test_resolve_by_name_code_alias_and_full_width(checklists):
    market = checklists.get("农贸市场")
    assert checklists.get("nmsc") is market
    assert checklists.get("集贸市场") is market
    assert checklists.get(" 农贸市场 ") is market
    assert checklists.get("ＮＭＳＣ") is market
    with pytest.raises(NotFoundError, match="未知的点位类型 '菜场'"):
        checklists.get("菜场")


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "site_type: 测试\ncode: CS\nitems:\n  - id: [unclosed\n    text: x\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:")
    assert "YAML 语法错误" in problem


def test_every_error_in_a_file_is_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        "many.yaml",
        """\
        site_type: 测试
        code: cs
        edition: "2026"
        items:
          - id: a-01
            text: 入口设公平秤
            category: 服务设施
            scroe: 5
          - id: a-01
            text: 第二项
            category: 环境卫生
            score: -2
          - id: a-03
            category: 环境卫生
            score: "五"
            deadline_days: 1.5
        """,
    )
    problems = problems_of(path)
    joined = "\n".join(problems)
    assert f"{path}:2: code:" in joined  # lower-case code
    assert f"{path}:8: items[1].scroe: 未知字段（是否想写 'score'？）" in joined
    assert f"{path}:5: items[1].score: 缺少必填字段" in joined
    assert f"{path}:12: items[2].score: 必须大于 0（当前为 -2）" in joined
    assert "items[3].text: 缺少必填字段" in joined
    assert f"{path}:15: items[3].score: 应为数字，实际为 文字 '五'" in joined
    assert f"{path}:16: items[3].deadline_days:" in joined
    assert len(problems) == 7


def test_duplicate_item_id_is_reported_with_both_places(tmp_path):
    path = write(tmp_path, "dup.yaml", f"site_type: 测试\ncode: CS\nedition: '1'\nitems:\n{GOOD_ITEM}{GOOD_ITEM}")
    (problem,) = problems_of(path)
    assert problem == f"{path}:9: items[2].id: 检查项 id 'a-01' 重复（dup.yaml:5 已使用）"


def test_duplicate_yaml_key_is_reported(tmp_path):
    path = write(tmp_path, "dupkey.yaml", f"site_type: 测试\ncode: CS\ncode: CT\nedition: '1'\nitems:\n{GOOD_ITEM}")
    (problem,) = problems_of(path)
    assert problem == f"{path}:3: 字段 'code' 重复出现（第 2 行已有）"


def test_wrongly_typed_and_missing_top_level_fields(tmp_path):
    path = write(tmp_path, "t.yaml", "site_type: [a, b]\nitems: 写错了\n")
    problems = "\n".join(problems_of(path))
    assert f"{path}:1: site_type: 应为文字，实际为 列表" in problems
    assert f"{path}:1: code: 缺少必填字段" in problems
    assert f"{path}:1: edition: 缺少必填字段" in problems
    assert f"{path}:2: items: 应为列表，实际为 文字 '写错了'" in problems


def test_missing_include_and_include_loop(tmp_path):
    write(tmp_path, "common/a.yaml", "fragment: A\nitems:\n  - include: b.yaml\n")
    write(tmp_path, "common/b.yaml", "fragment: B\nitems:\n  - include: a.yaml\n")
    loop = write(tmp_path, "loop.yaml", "site_type: 测试\ncode: CS\nedition: '1'\nitems:\n  - include: common/a.yaml\n")
    problems = problems_of(loop, [tmp_path])
    assert any("循环引用：a.yaml → b.yaml → a.yaml" in p for p in problems), problems
    missing = write(
        tmp_path, "missing.yaml", "site_type: 测试\ncode: CS\nedition: '1'\nitems:\n  - include: common/nope.yaml\n"
    )
    assert problems_of(missing, [tmp_path]) == [f"{missing}:5: items[1].include: 找不到被引用的文件 'common/nope.yaml'"]


def test_load_checklists_raises_with_all_problems(tmp_path):
    write(
        tmp_path,
        "a.yaml",
        "site_type: 测试\ncode: CS\nedition: '1'\nitems:\n  - id: x\n    text: t\n    category: c\n    score: 0\n",
    )
    write(tmp_path, "b.yaml", "site_type: [\n")
    with pytest.raises(ChecklistError) as caught:
        load_checklists([SHIPPED, tmp_path])
    assert len(caught.value.details) == 2
    assert "a.yaml:8: items[1].score: 必须大于 0（当前为 0）" in caught.value.details[0]


def test_user_folder_adds_and_overrides_types(tmp_path, checklists):
    write(tmp_path, "market.yaml", f"site_type: 农贸市场\ncode: NMSC\nedition: 本市2027\nitems:\n{GOOD_ITEM}")
    write(tmp_path, "bookshop.yaml", f"site_type: 实体书店\ncode: STSD\nedition: '1'\nitems:\n{GOOD_ITEM}")
    merged = load_checklists([SHIPPED, tmp_path])
    assert len(merged) == len(checklists) + 1
    assert merged.get("农贸市场").edition == "本市2027"
    assert [i.id for i in merged.get("农贸市场").items] == ["a-01"]
    assert merged.get("实体书店").full_score == 5


def test_user_type_may_include_shipped_fragment(tmp_path):
    write(
        tmp_path,
        "bookshop.yaml",
        "site_type: 实体书店\ncode: STSD\nedition: '1'\nitems:\n  - include: common/smoking.yaml\n",
    )
    merged = load_checklists([SHIPPED, tmp_path])
    assert any(i.id.startswith("smoke-") for i in merged.get("实体书店").items)


def test_two_types_with_one_code_are_refused(tmp_path):
    write(tmp_path, "x.yaml", f"site_type: 另一个市场\ncode: NMSC\nedition: '1'\nitems:\n{GOOD_ITEM}")
    with pytest.raises(ChecklistError, match="错误") as caught:
        load_checklists([SHIPPED, tmp_path])
    assert "代码 'NMSC' 已被" in caught.value.details[0]


# --- CLI -----------------------------------------------------------------------------


def test_cli_list_and_show(cli):
    listed = cli.ok("checklist", "list")
    assert "农贸市场" in listed.stdout and "NMSC" in listed.stdout
    shown = cli.ok("checklist", "show", "nmsc")
    assert "农贸市场（NMSC）测评标准" in shown.stdout
    assert "smoke-01" in shown.stdout


def test_cli_list_json(cli):
    import json

    data = json.loads(cli.ok("checklist", "list", "--json").stdout)
    market = next(d for d in data if d["code"] == "NMSC")
    assert market["full_score"] == 100
    assert market["items"] >= 8


def test_cli_validate_shipped_set_passes(cli):
    result = cli.ok("checklist", "validate")
    assert "全部" in result.stdout and "校验通过" in result.stdout


def test_cli_validate_bad_file_exit_2_no_traceback(cli, tmp_path):
    path = write(
        tmp_path,
        "bad.yaml",
        "site_type: 测试\ncode: CS\nedition: '1'\nitems:\n  - id: a\n    text: t\n    category: c\n    scroe: 1\n",
    )
    result = cli("checklist", "validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:8: items[1].scroe: 未知字段（是否想写 'score'？）" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_broken_user_folder_fails_commands_that_need_checklists(cli, tmp_path):
    write(tmp_path, "bad.yaml", "site_type: 测试\n")
    result = cli("--checklists", str(tmp_path), "checklist", "list")
    assert result.exit_code == 2
    assert "测评标准有" in result.stderr and "bad.yaml:1: code: 缺少必填字段" in result.stderr


def test_env_var_adds_checklist_folder(cli, tmp_path, monkeypatch):
    write(tmp_path, "bookshop.yaml", f"site_type: 实体书店\ncode: STSD\nedition: '1'\nitems:\n{GOOD_ITEM}")
    monkeypatch.setenv("INSPECT_CLI_CHECKLISTS", str(tmp_path))
    assert "实体书店" in cli.ok("checklist", "list").stdout
