from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from inspect_cli.checklist import load_checklists, validate_file, validate_paths
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
        "site_type: 测试\ncode: CS\nedition: '2026'\nitems:\n  - include: common/shared.yaml\n    exclude: [a-01]\n",
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
    path = write(tmp_path, "dup.yaml", f"site_type: 测试\ncode: CS\nedition: '2026'\nitems:\n{GOOD_ITEM}{GOOD_ITEM}")
    (problem,) = problems_of(path)
    assert problem == f"{path}:9: items[2].id: 检查项 id 'a-01' 重复（dup.yaml:5 已使用）"


def test_duplicate_yaml_key_is_reported(tmp_path):
    path = write(tmp_path, "dupkey.yaml", f"site_type: 测试\ncode: CS\ncode: CT\nedition: '2026'\nitems:\n{GOOD_ITEM}")
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
    loop = write(
        tmp_path, "loop.yaml", "site_type: 测试\ncode: CS\nedition: '2026'\nitems:\n  - include: common/a.yaml\n"
    )
    problems = problems_of(loop, [tmp_path])
    assert any("循环引用：a.yaml → b.yaml → a.yaml" in p for p in problems), problems
    missing = write(
        tmp_path, "missing.yaml", "site_type: 测试\ncode: CS\nedition: '2026'\nitems:\n  - include: common/nope.yaml\n"
    )
    assert problems_of(missing, [tmp_path]) == [f"{missing}:5: items[1].include: 找不到被引用的文件 'common/nope.yaml'"]


def test_load_checklists_raises_with_all_problems(tmp_path):
    write(
        tmp_path,
        "a.yaml",
        "site_type: 测试\ncode: CS\nedition: '2026'\nitems:\n  - id: x\n    text: t\n    category: c\n    score: 0\n",
    )
    write(tmp_path, "b.yaml", "site_type: [\n")
    with pytest.raises(ChecklistError) as caught:
        load_checklists([SHIPPED, tmp_path])
    assert len(caught.value.details) == 2
    assert "a.yaml:8: items[1].score: 必须大于 0（当前为 0）" in caught.value.details[0]


def test_user_folder_adds_and_overrides_types(tmp_path, checklists):
    write(tmp_path, "market.yaml", f"site_type: 农贸市场\ncode: NMSC\nedition: 2027-03\nitems:\n{GOOD_ITEM}")
    write(tmp_path, "bookshop.yaml", f"site_type: 实体书店\ncode: STSD\nedition: '2026'\nitems:\n{GOOD_ITEM}")
    merged = load_checklists([SHIPPED, tmp_path])
    assert len(merged) == len(checklists) + 1
    assert merged.get("农贸市场").edition == "2027-03"
    assert [i.id for i in merged.get("农贸市场").items] == ["a-01"]
    assert merged.get("实体书店").full_score == 5


def test_user_type_may_include_shipped_fragment(tmp_path):
    write(
        tmp_path,
        "bookshop.yaml",
        "site_type: 实体书店\ncode: STSD\nedition: '2026'\nitems:\n  - include: common/smoking.yaml\n",
    )
    merged = load_checklists([SHIPPED, tmp_path])
    assert any(i.id.startswith("smoke-") for i in merged.get("实体书店").items)


def test_two_types_with_one_code_are_refused(tmp_path):
    write(tmp_path, "x.yaml", f"site_type: 另一个市场\ncode: NMSC\nedition: '2026'\nitems:\n{GOOD_ITEM}")
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
        "site_type: 测试\ncode: CS\nedition: '2026'\nitems:\n  - id: a\n    text: t\n    category: c\n    scroe: 1\n",
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
    write(tmp_path, "bookshop.yaml", f"site_type: 实体书店\ncode: STSD\nedition: '2026'\nitems:\n{GOOD_ITEM}")
    monkeypatch.setenv("INSPECT_CLI_CHECKLISTS", str(tmp_path))
    assert "实体书店" in cli.ok("checklist", "list").stdout


# --- inputs that cannot hurt the data --------------------------------------------------

HEAD = "site_type: 测试\ncode: CS\nedition: '2026'\nitems:\n"


@pytest.fixture(params=["libyaml", "python"])
def yaml_engine(request, monkeypatch):
    """Both parsers PyYAML may run on: libyaml where installed, its pure-Python one elsewhere."""
    import yaml

    from inspect_cli.checklist import reading

    if request.param == "libyaml" and not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("PyYAML is built without libyaml here")
    if request.param == "python":
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    reading._loader_class.cache_clear()
    yield request.param
    reading._loader_class.cache_clear()


def test_billion_laughs_is_refused_quickly(tmp_path, yaml_engine):
    # Nine levels of nine aliases: 81 aliases, 9**9 values once expanded.
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    started = time.perf_counter()
    (problem,) = problems_of(path)
    assert time.perf_counter() - started < 1
    assert problem == f"{path}:5: YAML 别名（*引用）展开后内容过多：超过 10000 个值，文件被拒绝"


def test_too_many_aliases_are_refused(tmp_path):
    path = write(tmp_path, "many.yaml", "u: &u 市场监管局\nl: [" + ", ".join(["*u"] * 101) + "]\n")
    assert problems_of(path) == [f"{path}:2: 文件使用了过多的 YAML 别名（*引用），最多 100 个"]


def test_recursive_and_undefined_aliases_are_refused(tmp_path):
    recursive = write(tmp_path, "rec.yaml", "a: &a [*a]\n")
    assert problems_of(recursive) == [f"{recursive}:1: 别名 *a 引用了包含它自己的内容（循环引用）"]
    undefined = write(tmp_path, "undef.yaml", "a: *nope\n")
    assert problems_of(undefined) == [f"{undefined}:1: 别名 *nope 没有对应的锚点 &nope"]


def test_a_few_anchors_and_merges_still_work(tmp_path):
    path = write(
        tmp_path,
        "anchors.yaml",
        HEAD
        + "  - &first {id: a-01, text: 入口设公平秤, category: &cat 服务设施, unit: &unit 市场监管局, score: 5}\n"
        + "  - <<: *first\n    id: a-02\n    text: 第二项\n  - {id: a-03, text: 第三项, category: *cat, unit: *unit, score: 2}\n",
    )
    checklist, problems = validate_file(path, [tmp_path])
    assert problems == []
    assert [(i.id, i.category, i.unit, i.score) for i in checklist.items] == [
        ("a-01", "服务设施", "市场监管局", 5),
        ("a-02", "服务设施", "市场监管局", 5),
        ("a-03", "服务设施", "市场监管局", 2),
    ]


@pytest.mark.parametrize(
    ("name", "body", "line"),
    [
        ("flow-seq", "[" * 100_000, 1),
        ("flow-map", "{a: " * 100_000, 1),
        ("block-seq", "- " * 100_000 + "x\n", 1),
        ("indented", "items:\n" + "".join(" " * n + "- \n" for n in range(1, 40)), 21),
    ],
)
def test_deep_nesting_is_refused_without_crashing(tmp_path, yaml_engine, name, body, line):
    path = write(tmp_path, f"{name}.yaml", body)
    assert problems_of(path) == [f"{path}:{line}: 嵌套层数过多：超过 20 层（测评标准只需要几层）"]


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    # Broken YAML after the size limit: a syntax error in the report would mean it was parsed.
    path.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n[unclosed\n")
    size = path.stat().st_size
    assert problems_of(path) == [f"{path}: 文件过大：{size:,} 字节（1.0 MiB），最多 1,048,576 字节（1.0 MiB）"]


def _item(**fields: str) -> str:
    base = {"id": "a-01", "text": "入口设公平秤", "category": "服务设施", "score": "5"}
    base.update(fields)
    return "".join(f"  {'-' if i == 0 else ' '} {k}: {v}\n" for i, (k, v) in enumerate(base.items()))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"score": ".nan"}, "8: items[1].score: 应为有限的数字（当前为 .nan）"),
        ({"score": ".inf"}, "8: items[1].score: 应为有限的数字（当前为 .inf）"),
        ({"score": "0"}, "8: items[1].score: 必须大于 0（当前为 0）"),
        ({"score": "100.5"}, "8: items[1].score: 不能大于 100（当前为 100.5）"),
        ({"score": "9" * 400}, "8: items[1].score: 不能大于 100（当前为 一个约 401 位的整数）"),
        (
            {"score": "9" * 5000},
            "8: YAML 内容错误：'9999999999999999999999999999999999999999…'（共 5000 个字符） 不是有效的整数",
        ),
        ({"score": "true"}, "8: items[1].score: 应为数字，实际为 布尔值 true"),
        ({"deduct": "6"}, "9: items[1].deduct: 不能大于本项分值 5（当前为 6）"),
        ({"deduct": "-.inf"}, "9: items[1].deduct: 应为有限的数字（当前为 -.inf）"),
        ({"deduct": "0"}, "9: items[1].deduct: 必须大于 0（当前为 0）"),
        (
            {"deadline_days": "366"},
            "9: items[1].deadline_days: 应为 0 到 365 之间的整数（工作日数，0 = 立行立改），实际为 366",
        ),
        (
            {"deadline_days": "-1"},
            "9: items[1].deadline_days: 应为 0 到 365 之间的整数（工作日数，0 = 立行立改），实际为 -1",
        ),
        (
            {"deadline_days": "1.5"},
            "9: items[1].deadline_days: 应为 0 到 365 之间的整数（工作日数，0 = 立行立改），实际为 1.5",
        ),
        (
            {"deadline_days": ".nan"},
            "9: items[1].deadline_days: 应为 0 到 365 之间的整数（工作日数，0 = 立行立改），实际为 .nan",
        ),
    ],
)
def test_numbers_must_be_finite_and_in_range(tmp_path, fields, expected):
    path = write(tmp_path, "n.yaml", HEAD + _item(**fields))
    assert problems_of(path) == [f"{path}:{expected}"]


@pytest.mark.parametrize("fields", [{"score": "100"}, {"score": "2.5", "deduct": "2.5"}, {"deadline_days": "365"}])
def test_numbers_at_the_limits_are_accepted(tmp_path, fields):
    path = write(tmp_path, "n.yaml", HEAD + _item(**fields))
    assert problems_of(path) == []


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2026", "2026"),  # an int to YAML
        ("'2026'", "2026"),
        ("2026-11", "2026-11"),
        ("2026-11-01", "2026-11-01"),  # a date object to YAML
        ("'2026-11-01'", "2026-11-01"),
        ("'2026-1-5'", "2026-01-05"),
        ("２０２６", "2026"),
    ],
)
def test_edition_accepts_a_year_month_or_date(tmp_path, written, stored):
    path = write(tmp_path, "e.yaml", HEAD.replace("'2026'", written) + GOOD_ITEM)
    checklist, problems = validate_file(path, [tmp_path])
    assert problems == []
    assert checklist.edition == stored


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("2026-13", "不是有效的日期（当前为 2026-13）"),
        ("2026-13-01", "不是有效的日期（当前为 2026-13-01）"),
        ("2026-02-30", "不是有效的日期（当前为 2026-02-30）"),
        ("abc", "应为年份或日期，如 2026、2026-11 或 2026-11-01（当前为 abc）"),
        ("'0000'", "年份应在 2000 到 2100 之间（当前为 0000）"),
        ("1999", "年份应在 2000 到 2100 之间（当前为 1999）"),
        ("2026-11-01 08:00:00", "应为年份或日期，不带时间（当前为 2026-11-01 08:00:00）"),
        ("[2026]", "应为年份或日期，如 2026、2026-11 或 2026-11-01，实际为 列表"),
    ],
)
def test_edition_refuses_what_is_not_a_date(tmp_path, written, message):
    path = write(tmp_path, "e.yaml", HEAD.replace("'2026'", written) + GOOD_ITEM)
    assert problems_of(path) == [f"{path}:3: edition: {message}"]


def test_text_fields_are_cleaned_of_control_characters(tmp_path):
    path = write(
        tmp_path,
        "ctl.yaml",
        'site_type: "测\\e[31m试\\u202e"\ncode: CS\nedition: "2026"\naliases: ["菜\\x00市场"]\nitems:\n'
        '  - id: a-01\n    text: "第一行\\r\\n第二行\\tx"\n    category: "服务\\x7f设施"\n    score: 5\n'
        '    tips: "  先看入口  "\n',
    )
    checklist, problems = validate_file(path, [tmp_path])
    assert problems == []
    assert (checklist.site_type, checklist.aliases) == ("测试", ("菜市场",))
    item = checklist.items[0]
    assert (item.text, item.category, item.tips) == ("第一行\n第二行 x", "服务设施", "先看入口")


def test_over_long_text_fields_are_reported_with_line_and_field(tmp_path):
    name, text = "名" * 101, "字" * 2001
    write(tmp_path, "common/f.yaml", f"fragment: {name}\nitems:\n{GOOD_ITEM}")
    path = write(
        tmp_path,
        "long.yaml",
        f"site_type: {name}\ncode: C{'S' * 100}\nedition: '2026'\naliases: [{name}]\nitems:\n"
        f"  - id: a{'1' * 100}\n    text: {text}\n    category: {name}\n    score: 5\n"
        f"    unit: {name}\n    indicator: {name}\n    standard: {text}\n    tips: {text}\n"
        "  - include: common/f.yaml\n",
    )
    long_name = "过长：101 个字符，最多 100 个；请精简后再填写"
    long_text = "过长：2001 个字符，最多 2000 个；请精简后再填写"
    assert problems_of(path, [tmp_path]) == [
        f"{path}:1: site_type: {long_name}",
        f"{path}:2: code: {long_name}",
        f"{path}:4: aliases[1]: {long_name}",
        f"{path}:6: items[1].id: {long_name}",
        f"{path}:7: items[1].text: {long_text}",
        f"{path}:8: items[1].category: {long_name}",
        f"{path}:10: items[1].unit: {long_name}",
        f"{path}:11: items[1].indicator: {long_name}",
        f"{path}:12: items[1].standard: {long_text}",
        f"{path}:13: items[1].tips: {long_text}",
    ]
    fragment = tmp_path / "common" / "f.yaml"
    assert problems_of(fragment, [tmp_path]) == [f"{fragment}:1: fragment: {long_name}"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/etc/passwd", "'/etc/passwd' 是绝对路径；只能引用测评标准目录中的文件（如 common/smoking.yaml）"),
        ("C:\\\\secret.yaml", "'C:\\secret.yaml' 是绝对路径；只能引用测评标准目录中的文件（如 common/smoking.yaml）"),
        ("../outside/f.yaml", "'../outside/f.yaml' 含有 ..；只能引用测评标准目录中的文件"),
        ("common/../../outside/f.yaml", "'common/../../outside/f.yaml' 含有 ..；只能引用测评标准目录中的文件"),
        ("common/out.yaml", "'common/out.yaml' 指向测评标准目录以外的文件，不能引用"),
        ("common/loop-a.yaml", "'common/loop-a.yaml'：符号链接形成循环，无法读取"),
        ("common/\\0f.yaml", "文件路径含有控制字符"),
    ],
)
def test_includes_cannot_leave_the_checklist_folders(tmp_path, target, message):
    root, outside = tmp_path / "root", tmp_path / "outside"
    write(outside, "f.yaml", f"fragment: 外部\nitems:\n{GOOD_ITEM}")
    write(root, "common/inside.yaml", f"fragment: 内部\nitems:\n{GOOD_ITEM}")
    (root / "common" / "out.yaml").symlink_to(outside / "f.yaml")
    (root / "common" / "loop-a.yaml").symlink_to(root / "common" / "loop-b.yaml")
    (root / "common" / "loop-b.yaml").symlink_to(root / "common" / "loop-a.yaml")
    path = write(root, "t.yaml", f'{HEAD}  - include: "{target}"\n')
    assert problems_of(path, [root]) == [f"{path}:5: items[1].include: {message}"]
    with pytest.raises(ChecklistError):
        load_checklists([root])


def test_a_symlink_inside_the_roots_may_be_included(tmp_path):
    root, user = tmp_path / "root", tmp_path / "user"
    write(root, "common/shared.yaml", f"fragment: 公共\nitems:\n{GOOD_ITEM}")
    (user / "common").mkdir(parents=True)
    (user / "common" / "alias.yaml").symlink_to(root / "common" / "shared.yaml")
    write(user, "t.yaml", f"{HEAD}  - include: common/alias.yaml\n")
    assert [i.id for i in load_checklists([root, user]).get("测试").items] == ["a-01"]


def test_unreadable_entries_are_problems_not_exceptions(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    write(folder, "good.yaml", HEAD + GOOD_ITEM)
    (folder / "dir.yaml").mkdir()
    (folder / "garbage.yaml").write_bytes(bytes(range(256)) * 8)
    (folder / "nul.yaml").write_bytes(b"site_type: a\x00b\n")
    (folder / "dangling.yaml").symlink_to(folder / "nowhere.yaml")
    os.mkfifo(folder / "fifo.yaml")
    locked = write(folder, "locked.yaml", HEAD + GOOD_ITEM)
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the open fail as it would for a user
        from inspect_cli.checklist import reading as module

        real_open = os.open

        def refuse(path, *args, **kwargs):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(module.os, "open", refuse)
    (folder / ".hidden.yaml").write_bytes(b"\x00")  # editor locks and macOS ._ files are skipped
    expected = [
        f"{folder / 'dangling.yaml'}: 符号链接指向的文件不存在",
        f"{folder / 'dir.yaml'}: 是目录，不是文件",
        f"{folder / 'fifo.yaml'}: 不是普通文件（设备、管道等），不能作为测评标准",
        f"{folder / 'garbage.yaml'}:2: 文件不是 UTF-8 编码，请另存为 UTF-8",
        f"{folder / 'locked.yaml'}: 没有读取权限",
        f"{folder / 'nul.yaml'}:1: 文件含有控制字符 U+0000，不是文本格式的测评标准（是否选错了文件？）",
    ]
    with pytest.raises(ChecklistError) as caught:
        load_checklists([folder])
    assert caught.value.details == expected
    reported = [str(p) for _, _, problems in validate_paths([folder], [folder]) for p in problems]
    assert reported == expected


def test_missing_empty_and_unlistable_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = tmp_path / "missing"
    for folder, message in ((empty, "目录中没有 .yaml 文件"), (missing, "目录不存在")):
        with pytest.raises(ChecklistError) as caught:
            load_checklists([SHIPPED, folder])
        assert caught.value.details == [f"{folder}: {message}"]
    assert [str(p) for _, _, problems in validate_paths([empty], [SHIPPED]) for p in problems] == [
        f"{empty}: 目录中没有 .yaml 文件"
    ]


# --- validate and load agree ------------------------------------------------------------


def _validate_ok(paths: list[Path], roots: list[Path]) -> bool:
    return not any(problems for _, _, problems in validate_paths(paths, roots))


def _loads(folders: list[Path]) -> bool:
    try:
        load_checklists(folders)
    except ChecklistError:
        return False
    return True


def _type(site_type: str, code: str) -> str:
    return f"site_type: {site_type}\ncode: {code}\nedition: '2026'\nitems:\n{GOOD_ITEM}"


def test_duplicate_site_type_in_one_folder_fails_both_ways(tmp_path):
    write(tmp_path, "a.yaml", _type("测试", "CS"))
    second = write(tmp_path, "b.yaml", _type("测试", "CT"))
    expected = f"{second}:1: site_type: 点位类型 '测试' 已在 a.yaml 中定义"
    with pytest.raises(ChecklistError) as caught:
        load_checklists([tmp_path])
    assert caught.value.details == [expected]
    report = validate_paths([tmp_path], [SHIPPED])
    assert [str(p) for _, _, problems in report for p in problems] == [expected]


def test_duplicate_code_across_folders_fails_both_ways(tmp_path, cli):
    path = write(tmp_path, "x.yaml", _type("另一个市场", "NMSC"))
    expected = f"{path}:2: code: 代码 'NMSC' 已被 农贸市场（{SHIPPED / 'nmsc.yaml'}）使用"
    report = validate_paths([tmp_path], [SHIPPED])
    assert [str(p) for _, _, problems in report for p in problems] == [expected]
    result = cli("--checklists", str(tmp_path), "checklist", "validate", str(tmp_path))
    assert result.exit_code == 2
    assert expected in result.stderr


def test_overriding_a_shipped_type_may_keep_its_code(tmp_path):
    write(tmp_path, "market.yaml", _type("农贸市场", "NMSC"))
    assert _loads([SHIPPED, tmp_path])
    assert _validate_ok([tmp_path], [SHIPPED])


def test_validate_reports_a_broken_folder_in_use_even_when_checking_another(tmp_path):
    broken, mine = tmp_path / "broken", tmp_path / "mine"
    bad = write(broken, "bad.yaml", "site_type: 测试\n")
    write(mine, "ok.yaml", _type("实体书店", "STSD"))
    report = validate_paths([mine], [SHIPPED, broken])
    assert [(path.name, bool(problems)) for path, _, problems in report] == [("ok.yaml", False), ("bad.yaml", True)]
    assert f"{bad}:1: code: 缺少必填字段" in [str(p) for p in report[1][2]]


@pytest.mark.parametrize(
    "layout",
    [
        {"a": {"x.yaml": _type("测试", "CS")}},
        {"a": {"x.yaml": _type("测试", "CS"), "y.yaml": _type("测试", "CT")}},
        {"a": {"x.yaml": _type("测试", "CS")}, "b": {"y.yaml": _type("测试", "CT")}},
        {"a": {"x.yaml": _type("测试", "CS")}, "b": {"y.yaml": _type("另一个", "CS")}},
        {"a": {"x.yaml": _type("甲", "CS")}, "b": {"y.yaml": _type("甲", "CT"), "z.yaml": _type("乙", "CS")}},
        {"a": {"x.yaml": _type("农贸市场", "NMSC")}},
        {"a": {"x.yaml": _type("菜场", "NMSC")}},
        {"a": {}},
        {"a": {"x.yaml": "site_type: [\n"}, "b": {"y.yaml": _type("测试", "CS")}},
    ],
)
def test_validate_and_load_agree(tmp_path, layout):
    # A small stand-in for the shipped folder keeps this fast; it has a type and a code
    # the layouts can collide with.
    base = tmp_path / "base"
    write(base, "market.yaml", _type("农贸市场", "NMSC"))
    folders = []
    for name, files in layout.items():
        folder = tmp_path / name
        folder.mkdir()
        for file, body in files.items():
            write(folder, file, body)
        folders.append(folder)
    for roots, asked in [(folders, folders), ([base, *folders], folders), ([base], folders)]:
        loaded = _loads(list(dict.fromkeys([*roots, *asked])))
        assert _validate_ok(asked, roots) == loaded, (roots, asked)
    assert _validate_ok(folders[-1:], [base, *folders[:-1]]) == _loads([base, *folders])


def test_validate_files_asked_for_one_by_one(tmp_path):
    first = write(tmp_path, "mine/a.yaml", _type("甲", "JA"))
    second = write(tmp_path, "mine/b.yaml", _type("乙", "JA"))
    write(tmp_path, "mine/c.yaml", "site_type: 这个文件没有被要求校验\n")
    fragment = write(tmp_path, "mine/common/f.yaml", f"fragment: 公共\nitems:\n{GOOD_ITEM}")
    report = validate_paths([first, second, fragment], [SHIPPED])
    assert [(path.name, [str(p) for p in problems]) for path, _, problems in report] == [
        ("a.yaml", []),
        ("b.yaml", [f"{second}:2: code: 代码 'JA' 已被 甲（{first}）使用"]),
        ("f.yaml", []),
    ]
    # Asked for with its folder, a file is read once, as part of the folder.
    both = validate_paths([first, tmp_path / "mine"], [SHIPPED])
    assert [path.name for path, _, _ in both] == ["a.yaml", "b.yaml", "c.yaml"]


def test_a_missing_folder_in_use_fails_validation_too(tmp_path):
    missing = tmp_path / "missing"
    mine = write(tmp_path, "mine/a.yaml", _type("甲", "JA")).parent
    report = validate_paths([mine], [SHIPPED, missing])
    assert [str(p) for _, _, problems in report for p in problems] == [f"{missing}: 目录不存在"]
    assert not _loads([SHIPPED, missing, mine])
    assert validate_paths([tmp_path / "nope.yaml"], [SHIPPED])[0][2][0].message == "文件不存在"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("? !!set {a, b}\n: 1\n", "1: 键 集合 不能作为字段名"),
        ("? [a, b]\n: 1\n", "1: 键 列表 不能作为字段名"),
        ("a: !!int ''\n", "1: YAML 内容错误：'' 不是有效的整数"),
        ("a: !!float x\n", "1: YAML 内容错误：'x' 不是有效的数字"),
        ("a: !!bool maybe\n", "1: YAML 内容错误：'maybe' 不是有效的布尔值（true 或 false）"),
        ("a: !!map x\n", "1: YAML 内容错误：标签 !!map 只能用于键值映射"),
        ("a: !!seq x\n", "1: YAML 内容错误：标签 !!seq 只能用于列表"),
        ("a: !!python/object:os.system {}\n", "1: YAML 内容错误：不支持的 YAML 标签 '!!python/object:os.system'"),
        ("a: &x 1\nb: &x 2\n", "2: 锚点 &x 重复定义（第 1 行已有）"),
    ],
)
def test_hostile_yaml_is_a_problem_line(tmp_path, yaml_engine, body, expected):
    path = write(tmp_path, "h.yaml", body)
    assert f"{path}:{expected}" == problems_of(path)[0]


def test_an_impossible_date_stays_text(tmp_path):
    path = write(tmp_path, "d.yaml", HEAD + _item(tips="2026-13-01"))
    checklist, problems = validate_file(path, [tmp_path])
    assert problems == []
    assert checklist.items[0].tips == "2026-13-01"


def test_an_empty_included_file_is_reported(tmp_path):
    empty = write(tmp_path, "common/empty.yaml", "# 还没写\n")
    path = write(tmp_path, "t.yaml", f"{HEAD}  - include: common/empty.yaml\n")
    assert problems_of(path, [tmp_path]) == [f"{empty}: 被引用的文件为空"]


def test_a_type_left_without_items_by_exclude_is_refused(tmp_path):
    write(tmp_path, "common/shared.yaml", f"fragment: 公共\nitems:\n{GOOD_ITEM}")
    path = write(tmp_path, "t.yaml", f"{HEAD}  - include: common/shared.yaml\n    exclude: [a-01]\n")
    assert problems_of(path, [tmp_path]) == [f"{path}:4: items: 引用和排除之后一个检查项也没有"]
