"""`inspect-cli checklist …`: the 测评标准 in force."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inspect_cli.cli import completion
from inspect_cli.cli.context import state
from inspect_cli.cli.render import Col, Kind, err, out, print_json, print_table, say, table, text
from inspect_cli.errors import ChecklistError, ExitCode, InputError, NotFoundError
from inspect_cli.scoring import format_points

if TYPE_CHECKING:
    from inspect_cli.checklist import Checklist, Item
    from inspect_cli.checklist.diff import FieldChange, ItemChange, SetDiff, TypeDiff
    from inspect_cli.store.editions import StoredEdition

app = typer.Typer(help="测评标准：查看、校验、比较版本、打印空白测评表。", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON")]


@app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """列出所有点位类型的测评标准。例：inspect-cli checklist list"""
    checklists = list(state.checklists())
    if as_json:
        print_json(
            [
                {
                    "site_type": c.site_type,
                    "code": c.code,
                    "edition": c.edition,
                    "aliases": list(c.aliases),
                    "items": len(c.items),
                    "full_score": c.full_score,
                    "path": str(c.path),
                }
                for c in checklists
            ]
        )
        return
    rows = [
        [c.code, c.site_type, "、".join(c.aliases), c.edition, len(c.items), format_points(c.full_score)]
        for c in checklists
    ]
    out.print(table(["代码", "点位类型", "别名", "版本", "检查项", "满分"], rows))
    say(f"共 {len(checklists)} 类点位")


@app.command()
def show(
    site_type: Annotated[str, typer.Argument(metavar="TYPE", help="点位类型名称、代码或别名")],
    as_json: JsonOption = False,
) -> None:
    """显示一类点位的全部检查项。例：inspect-cli checklist show 农贸市场"""
    checklist = state.checklists().get(site_type)
    if as_json:
        print_json(
            {
                "site_type": checklist.site_type,
                "code": checklist.code,
                "edition": checklist.edition,
                "full_score": checklist.full_score,
                "items": list(checklist.items),
            }
        )
        return
    rows = [
        [
            index,
            item.id,
            item.text + (f"\n标准：{item.standard}" if item.standard else ""),
            item.category,
            format_points(item.score),
            format_points(item.deduct_per_occurrence),
            item.unit or "点位责任单位",
            _deadline(item.deadline_days),
        ]
        for index, item in enumerate(checklist.items, start=1)
    ]
    title = f"{checklist.site_type}（{checklist.code}）测评标准 {checklist.edition} 版，满分 {format_points(checklist.full_score)}"
    columns = [
        Col("序号", Kind.NUMBER),
        Col("编号", Kind.CODE),
        Col("测评标准", min=16),
        Col("类别", Kind.LABEL, drop=2),
        Col("分值", Kind.NUMBER),
        Col("每处扣分", Kind.NUMBER, drop=1, short="扣分"),
        Col("默认责任单位", drop=3, short="责任单位"),
        Col("整改时限", Kind.LABEL, drop=1, short="时限"),
    ]
    print_table(table(columns, rows, title))


@app.command("print")
def print_(
    site_type: Annotated[str, typer.Argument(metavar="TYPE", help="点位类型名称、代码或别名")],
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            metavar="SITE",
            help="在表头填好这个点位的名称、编号、街道（编号、名称或拼音首字母）",
            autocompletion=completion.sites,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="输出文件：.xlsx（Excel）或 .docx（Word）；默认为当前文件夹里的 测评表_<类型>.xlsx"
            "（有 --site 时为 测评表_<类型>_<点位编号>.xlsx）",
        ),
    ] = None,
) -> None:
    """打印空白测评表（Excel 或 Word），供现场手工填写。例：inspect-cli checklist print 农贸市场 --site NMSC-001 -o 测评表.docx"""
    from inspect_cli.blank_form import blank_form, default_file_name, form_format, write_blank_form

    if output is not None:
        form_format(output)  # a wrong suffix is refused before anything is looked up
    checklists = state.checklists()
    checklists.get(site_type)  # an unknown type is reported before the database is opened
    found = None
    if site is not None:
        from inspect_cli.sites import resolve_site

        found = resolve_site(state.store(), site)
    form = blank_form(checklists, site_type, found)
    path = write_blank_form(form, output or Path(default_file_name(form)))
    say(f"已生成{form.title}（{len(form.items)} 项）：{path}")


def _deadline(days: int | None) -> str:
    if days is None:
        return "—"
    return "立行立改" if days == 0 else f"{days} 个工作日"


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="要校验的文件或目录（默认为正在使用的全部测评标准）")
    ] = None,
) -> None:
    """校验测评标准文件，一次列出所有错误。例：inspect-cli checklist validate my-checklists/"""
    from inspect_cli.checklist import validate_paths

    roots = state.checklist_dirs
    report = validate_paths(list(paths) if paths else roots, roots)
    failed = 0
    for path, checklist, problems in report:
        if problems:
            failed += 1
            for problem in problems:
                err.print(text(str(problem)), style="red")
        elif checklist is not None:
            score = format_points(checklist.full_score)
            say(f"✓ {path}：{checklist.site_type}（{checklist.code}）{len(checklist.items)} 项，满分 {score}")
        else:
            say(f"✓ {path}：公共检查项片段")
    if failed:
        err.print(text(f"{failed} 个文件有错误，共 {len(report)} 个文件"), style="bold red")
        raise typer.Exit(ExitCode.BAD_INPUT)
    say(f"全部 {len(report)} 个文件校验通过")


# --- comparing two sets of checklists -------------------------------------------------------

OldArg = Annotated[
    str,
    typer.Argument(
        help="旧的一方：YAML 文件、测评标准目录、数据库中保存的版本 CODE@EDITION（如 NMSC@2026；"
        "同一版本号存有几份不同内容时写 NMSC@2026#编号），或 shipped（随工具发布的测评标准）",
    ),
]
NewArg = Annotated[
    str,
    typer.Argument(help="新的一方，写法同 OLD。一方是单个文件或数据库中的版本时，只比较代码相同的那一类点位"),
]

# A stored edition: `NMSC@2026`, `nmsc@2026-11`, `NMSC@2026#1a2b3c4d`. The edition part is a
# date as editions are, so `NMSC@2026.yaml` stays a file name.
_STORED = re.compile(r"(?P<code>[A-Za-z][A-Za-z0-9_]*)@(?P<edition>[0-9]{4}(?:-[0-9]{1,2}){0,2})(?:#(?P<id>.*))?")
_SHORT_ID = 8


@dataclass
class _Source:
    """One side of a comparison: what was written and the types it holds."""

    label: str
    kind: str  # shipped, folder, file, edition
    checklists: list[Checklist]
    stored: StoredEdition | None = None

    @property
    def single(self) -> bool:
        """One type on its own, compared with the type of the same code on the other side."""
        return self.kind in ("file", "edition")

    @property
    def type_fields(self) -> set[str]:
        """What this side knows of a type besides its items: a stored edition keeps no
        aliases, and knows its name only while an inspection made with it is left."""
        if self.stored is None:
            return {"site_type", "edition", "aliases"}
        return {"edition", "site_type"} if self.stored.site_type else {"edition"}

    def named_as(self, other: _Source) -> None:
        """A stored edition no inspection names any more takes the other side's name for its type."""
        if self.stored is None or self.stored.site_type:
            return
        names = {c.code: c.site_type for c in other.checklists}
        self.checklists = [dataclasses.replace(c, site_type=names.get(c.code, c.site_type)) for c in self.checklists]


def _source(written: str) -> _Source:
    keyword = unicodedata.normalize("NFKC", written).strip()
    if keyword == "shipped":
        from inspect_cli import paths
        from inspect_cli.checklist import load_checklists

        return _Source(written, "shipped", list(load_checklists([paths.shipped_checklists_dir()])))
    stored = _STORED.fullmatch(keyword)
    if stored:
        edition = "-".join(f"{int(part):02d}" for part in stored["edition"].split("-"))
        return _stored_source(written, stored["code"].upper(), edition, stored["id"])
    return _file_source(written)


def _file_source(written: str) -> _Source:
    """A file or folder, with the loader's own lines for whatever is wrong in it.

    Read on its own first: an earlier edition's folder may name a type differently under
    the same code, which loading on top of the shipped checklists would refuse. Failing
    that, read as `--checklists` reads it, so that it may include the shipped fragments
    (`common/smoking.yaml`).
    """
    from inspect_cli import paths
    from inspect_cli.checklist import validate_paths

    path = Path(written).expanduser()
    if _missing(path):
        raise InputError(
            f"找不到 '{written}'：不是文件或目录，也不是 shipped 或数据库中的版本 CODE@EDITION（如 NMSC@2026）"
        )
    report = validate_paths([path], [])
    if any(found for _, _, found in report):
        report = validate_paths([path], [paths.shipped_checklists_dir()])
    problems = list(dict.fromkeys(str(p) for _, _, found in report for p in found))
    if problems:
        raise ChecklistError(f"{written}：测评标准有 {len(problems)} 处错误", problems)
    checklists = [checklist for _, checklist, _ in report if checklist is not None]
    if not checklists:
        raise InputError(f"{written} 中没有点位类型（只有公共检查项片段）")
    return _Source(written, "folder" if path.is_dir() else "file", checklists)


def _missing(path: Path) -> bool:
    """Nothing at all by that name; a path that cannot be examined is left to the loader to word."""
    try:
        path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError):
        return False
    return False


def _stored_source(written: str, code: str, edition: str, short_id: str | None) -> _Source:
    from inspect_cli.checklist.model import Checklist
    from inspect_cli.store import editions

    store = state.store()
    known = editions.stored_editions(store.conn, code)
    matching = [e for e in known if e.edition == edition]
    label = f"{code}@{edition}"
    if short_id is not None:
        wanted = short_id.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{1,32}", wanted):
            raise InputError(
                f"'{written}'：# 后应为版本编号（inspect-cli checklist editions 列出的 {_SHORT_ID} 位编号）"
            )
        matching = [e for e in matching if e.id.startswith(wanted)]
        label += f"#{wanted}"
    if not matching:
        if known:
            listed = "、".join(_reference(e, known) for e in known)
            raise NotFoundError(f"数据库中没有测评标准版本 {label}（{code} 已保存的版本：{listed}）")
        raise NotFoundError(
            f"数据库中没有 {code} 的测评标准版本（开始检查时才保存所用的版本；用 inspect-cli checklist editions 查看）"
        )
    if len(matching) > 1:
        raise InputError(
            f"数据库中有 {len(matching)} 个内容不同的 {label}，请加上编号指定，"
            f"如 {code}@{edition}#{matching[0].id[:_SHORT_ID]}",
            [f"{code}@{edition}#{e.id[:_SHORT_ID]}：{_edition_use(e)}" for e in matching],
        )
    found = matching[0]
    items = tuple(editions.stored_items(store.conn, found.id))
    checklist = Checklist(site_type=found.site_type or code, code=code, edition=found.edition, items=items)
    return _Source(written, "edition", [checklist], found)


def _reference(edition: StoredEdition, stored: list[StoredEdition]) -> str:
    """How `checklist diff` names this edition: with its short id only when the label is shared."""
    label = f"{edition.code}@{edition.edition}"
    shared = sum(1 for e in stored if e.code == edition.code and e.edition == edition.edition) > 1
    return f"{label}#{edition.id[:_SHORT_ID]}" if shared else label


def _edition_use(edition: StoredEdition) -> str:
    used = f"{edition.items} 项，{edition.inspections} 次检查使用"
    if edition.first_date and edition.last_date:
        span = (
            edition.first_date
            if edition.first_date == edition.last_date
            else f"{edition.first_date} 至 {edition.last_date}"
        )
        used += f"（{span}）"
    return used


@app.command()
def diff(old: OldArg, new: NewArg, as_json: JsonOption = False) -> None:
    """比较两套测评标准，逐类列出新增、删除、改写、分值变化的检查项。例：inspect-cli checklist diff 旧标准/ checklists/"""
    from inspect_cli.checklist.diff import diff_checklists

    before, after = _source(old), _source(new)
    before.named_as(after)
    after.named_as(before)
    # A single type (a file, a stored edition) is compared with its namesake on the other
    # side, not with a whole folder of types that would all show as added.
    singles = [s for s in (before, after) if s.single]
    codes = {c.code for s in singles for c in s.checklists} if singles else None
    # A folder against the shipped checklists is read as --checklists reads it: the types it
    # holds replace the shipped ones and the others stay, so they are not "removed".
    for folder, shipped in ((before, after), (after, before)):
        if folder.kind == "folder" and shipped.kind == "shipped":
            held = {c.code for c in folder.checklists}
            folder.checklists += [c for c in shipped.checklists if c.code not in held]
    for source in (before, after):  # what is compared is what --json names
        source.checklists = [c for c in source.checklists if codes is None or c.code in codes]
    result = diff_checklists(before.checklists, after.checklists, before.type_fields & after.type_fields)
    if as_json:
        print_json(_diff_json(before, after, result))
    else:
        _print_diff(before, after, result)


# Counted kinds of change: as the counts line names them, and as a change row names them.
_CHANGE_NAMES = {
    "added": ("新增", "新增"),
    "removed": ("删除", "删除"),
    "renumbered": ("改了编号", "改了编号"),
    "reworded": ("改写", "改写"),
    "category": ("类别变化", "类别"),
    "score": ("分值变化", "分值"),
    "deduct": ("扣分变化", "每处扣分"),
    "deadline_days": ("时限变化", "整改时限"),
    "other": ("其他变化", "其他"),
}
_FIELD_NAMES = {
    "text": "测评标准",
    "category": "类别",
    "score": "分值",
    "deduct": "每处扣分",
    "deadline_days": "整改时限",
    "unit": "默认责任单位",
    "indicator": "测评项目",
    "standard": "标准",
    "tips": "提示",
    "photo_required": "需拍照",
    "site_type": "点位类型",
    "edition": "版本",
    "aliases": "别名",
}
_CHANGE_COLUMNS = [Col("变化", Kind.LABEL), Col("编号", Kind.CODE), Col("内容", min=30)]


def _print_diff(before: _Source, after: _Source, result: SetDiff) -> None:
    say(f"旧：{_describe(before)}")
    say(f"新：{_describe(after)}")
    if result.identical:
        items = sum(len(t.new.items) for t in result.types if t.new is not None)
        say(f"两者一致：{len(result.types)} 类点位，共 {items} 个检查项", style="bold green")
        return
    for found in result.types:
        if found.status == "same":
            continue
        say()
        say(_headline(found), style="bold")
        if found.status != "changed":
            continue
        for note in _notes(found):
            say(f"  {note}")
        rows = _change_rows(found)
        if rows:
            print_table(table(_CHANGE_COLUMNS, rows))
    same = result.with_status("same")
    if same:
        say()
        say(f"无变化：{'、'.join(_type_name(t.new) for t in same if t.new is not None)}")
    say()
    counts = [
        (status, len(result.with_status(status)))
        for status in ("changed", "added", "removed", "same")
        if result.with_status(status)
    ]
    names = {"changed": "有变化", "added": "新增", "removed": "删除", "same": "无变化"}
    say(f"共 {len(result.types)} 类点位：" + "，".join(f"{names[s]} {n} 类" for s, n in counts))


def _describe(source: _Source) -> str:
    if source.kind == "edition":
        assert source.stored is not None
        return f"{source.label}（数据库中的版本 {source.stored.id[:_SHORT_ID]}，{_edition_use(source.stored)}）"
    if source.kind == "file":
        (checklist,) = source.checklists
        return f"{source.label}（文件：{_type_name(checklist)}{checklist.edition} 版）"
    what = "随工具发布的测评标准" if source.kind == "shipped" else "目录"
    return f"{source.label}（{what}，{len(source.checklists)} 类点位）"


def _type_name(checklist: Checklist) -> str:
    return f"{checklist.site_type}（{checklist.code}）"


def _headline(found: TypeDiff) -> str:
    if found.old is None or found.new is None:
        checklist = found.new or found.old
        assert checklist is not None
        what = "新增点位类型" if found.old is None else "删除点位类型"
        score = format_points(checklist.full_score)
        return f"{what}：{_type_name(checklist)}{checklist.edition} 版，{len(checklist.items)} 项，满分 {score}"
    old, new = found.old, found.new
    name = new.site_type if old.site_type == new.site_type else f"{old.site_type} → {new.site_type}"
    edition = new.edition if old.edition == new.edition else f"{old.edition} → {new.edition}"
    counts = "，".join(f"{_CHANGE_NAMES[kind.value][0]} {n} 项" for kind, n in found.counts().items() if n)
    return f"{name}（{found.code}）{edition}：{counts or '检查项无变化'}"


def _notes(found: TypeDiff) -> list[str]:
    assert found.old is not None and found.new is not None
    notes = []
    for change in found.fields:
        if change.field == "aliases":
            notes.append(f"别名：{_value('aliases', change.old)} → {_value('aliases', change.new)}")
    if found.old.full_score != found.new.full_score:
        notes.append(f"满分：{format_points(found.old.full_score)} → {format_points(found.new.full_score)}")
    if found.order_changed:
        notes.append("检查项顺序有调整（record 用的序号随之改变）")
    if found.old.edition == found.new.edition:
        notes.append(f"注意：两边版本号都是 {found.new.edition}，内容却不同")
    return notes


def _change_rows(found: TypeDiff) -> list[list[str]]:
    rows = [["新增", item.id, _item_text(item)] for item in found.added]
    rows += [["删除", item.id, _item_text(item)] for item in found.removed]
    for change in found.changed:
        label = "、".join(_CHANGE_NAMES[kind.value][1] for kind in change.kinds)
        ids = f"{change.old_id} → {change.id}" if change.renumbered else change.id
        rows.append([label, ids, _change_text(change)])
    return rows


def _item_text(item: Item) -> str:
    facts = [f"类别 {item.category}", f"{format_points(item.score)} 分"]
    if item.deduct is not None:
        facts.append(f"每处扣 {format_points(item.deduct)} 分")
    if item.deadline_days is not None:
        facts.append(_deadline(item.deadline_days))
    return f"{item.text}\n（{' · '.join(facts)}）"


def _change_text(change: ItemChange) -> str:
    lines = []
    for field in change.changes:
        if field.field == "text":
            lines += [f"原：{field.old}", f"现：{field.new}"]
        else:
            lines.append(
                f"{_FIELD_NAMES[field.field]}：{_value(field.field, field.old)} → {_value(field.field, field.new)}"
            )
    if not any(field.field == "text" for field in change.changes):
        lines.insert(0, change.text)
    return "\n".join(lines)


def _value(field: str, value: Any) -> str:
    """A field's value as the report shows it."""
    if field in ("score", "deduct"):
        return "同分值" if value is None else format_points(value)
    if field == "deadline_days":
        return _deadline(value)
    if field == "photo_required":
        return "是" if value else "否"
    if field == "aliases":
        return "、".join(value) if value else "（无）"
    return "（无）" if value is None else str(value)


def _diff_json(before: _Source, after: _Source, result: SetDiff) -> dict[str, Any]:
    return {
        "old": _source_json(before),
        "new": _source_json(after),
        "identical": result.identical,
        "types": [_type_json(found) for found in result.types],
    }


def _source_json(source: _Source) -> dict[str, Any]:
    stored = source.stored
    return {
        "source": source.label,
        "kind": source.kind,
        "codes": sorted(c.code for c in source.checklists),
        "edition_id": None if stored is None else stored.id,
    }


def _type_json(found: TypeDiff) -> dict[str, Any]:
    def both(get: Any) -> dict[str, Any]:
        return {
            "old": None if found.old is None else get(found.old),
            "new": None if found.new is None else get(found.new),
        }

    return {
        "code": found.code,
        "status": found.status,
        "site_type": both(lambda c: c.site_type),
        "edition": both(lambda c: c.edition),
        "full_score": both(lambda c: c.full_score),
        "items": both(lambda c: len(c.items)),
        "counts": {kind.value: n for kind, n in found.counts().items()},
        "type_changes": [_field_json(change) for change in found.fields],
        "added": [dataclasses.asdict(item) for item in found.added],
        "removed": [dataclasses.asdict(item) for item in found.removed],
        "changed": [
            {
                "id": change.id,
                "old_id": change.old_id,
                "text": change.text,
                "kinds": [kind.value for kind in change.kinds],
                "changes": [_field_json(field) for field in change.changes],
            }
            for change in found.changed
        ],
        "order_changed": found.order_changed,
    }


def _field_json(change: FieldChange) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return list(value) if isinstance(value, tuple) else value

    return {"field": change.field, "old": plain(change.old), "new": plain(change.new)}


_EDITION_COLUMNS = [
    Col("代码", Kind.CODE),
    Col("点位类型", min=8),
    Col("版本", Kind.CODE),
    Col("编号", Kind.CODE, drop=2),
    Col("比较时写作", Kind.CODE),
    Col("检查项", Kind.NUMBER),
    Col("满分", Kind.NUMBER, drop=3),
    Col("检查次数", Kind.NUMBER, short="检查"),
    Col("首次检查", Kind.DATE, drop=1, short="首次"),
    Col("最近检查", Kind.DATE, short="最近"),
]


@app.command("editions")
def editions_(
    site_type: Annotated[str | None, typer.Argument(metavar="TYPE", help="只列这一类点位（名称、代码或别名）")] = None,
    as_json: JsonOption = False,
) -> None:
    """列出数据库中保存的测评标准版本（检查所用），供 checklist diff 比较。例：inspect-cli checklist editions 农贸市场"""
    from inspect_cli.store import editions

    stored = editions.stored_editions(state.store().conn)
    shown = stored if site_type is None else _editions_of(stored, site_type)
    if as_json:
        print_json(
            [
                {
                    "code": e.code,
                    "site_type": e.site_type,
                    "edition": e.edition,
                    "id": e.id,
                    "short_id": e.id[:_SHORT_ID],
                    "reference": _reference(e, stored),
                    "items": e.items,
                    "full_score": e.full_score,
                    "inspections": e.inspections,
                    "first_date": e.first_date,
                    "last_date": e.last_date,
                }
                for e in shown
            ]
        )
        return
    if not shown:
        which = "" if site_type is None else f"{site_type}的"
        say(f"数据库中还没有{which}测评标准版本：开始一次检查时保存所用的版本")
        return
    rows = [
        [
            e.code,
            e.site_type or "—",
            e.edition,
            e.id[:_SHORT_ID],
            _reference(e, stored),
            e.items,
            format_points(e.full_score),
            e.inspections,
            date.fromisoformat(e.first_date) if e.first_date else "—",
            date.fromisoformat(e.last_date) if e.last_date else "—",
        ]
        for e in shown
    ]
    print_table(table(_EDITION_COLUMNS, rows))
    say(
        f"共 {len(shown)} 个版本；与随工具发布的测评标准比较：inspect-cli checklist diff {_reference(shown[-1], stored)} shipped"
    )


def _editions_of(stored: list[StoredEdition], name: str) -> list[StoredEdition]:
    """The editions of one type, named by code or by the name its inspections use, else as
    the checklists in use name it (an alias); a name no type has is refused (exit 3)."""
    from inspect_cli.checklist import normalize_name

    wanted = normalize_name(name)
    chosen = [e for e in stored if wanted in (normalize_name(e.code), normalize_name(e.site_type or ""))]
    if chosen:
        return chosen
    code = state.checklists().get(name).code
    return [e for e in stored if e.code == code]
