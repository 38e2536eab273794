"""`inspect-cli checklist …`: the 测评标准 in force."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inspect_cli.cli import completion
from inspect_cli.cli.context import state
from inspect_cli.cli.render import err, out, print_json, say, table, text
from inspect_cli.errors import ExitCode
from inspect_cli.scoring import format_points

app = typer.Typer(help="测评标准：查看、校验、打印空白测评表。", no_args_is_help=True)

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
    out.print(table(["序号", "编号", "测评标准", "类别", "分值", "每处扣分", "默认责任单位", "整改时限"], rows, title))


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
