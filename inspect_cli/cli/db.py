"""`inspect-cli db …`: which database this is, and moving it to another (SQLite ↔ PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from inspect_cli import paths
from inspect_cli.cli.context import state
from inspect_cli.cli.render import out, print_json, say, table

app = typer.Typer(help="数据库：查看当前数据库，在 SQLite 文件与 PostgreSQL 服务器之间复制。", no_args_is_help=True)

TABLE_LABELS = {
    "sites": "点位",
    "units": "责任单位",
    "inspections": "检查",
    "results": "检查结果",
    "problems": "整改问题",
    "problem_events": "问题记录",
    "notices": "通报",
}


@app.command()
def info(json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """显示当前数据库：类型、位置、架构版本、记录数、照片文件夹。例：inspect-cli db info"""
    store = state.store()
    counts = store.counts()
    engine = "PostgreSQL" if store.dialect.name == "postgresql" else "SQLite"
    data = {
        "engine": store.dialect.name,
        "database": paths.db_label(state.db_path),
        "schema_version": max(store.schema_versions()),
        "media": str(state.media_dir),
        "counts": counts,
    }
    if json_out:
        print_json(data)
        return
    say(f"数据库：{engine} {data['database']}（架构版本 {data['schema_version']}）")
    say(f"照片文件夹：{data['media']}")
    out.print(table(["内容", "记录数"], [[TABLE_LABELS[t], n] for t, n in counts.items()]))


@app.command()
def copy(
    source: Annotated[str, typer.Argument(help="源数据库：文件路径或 postgresql:// 地址", metavar="SRC")],
    target: Annotated[str, typer.Argument(help="目标数据库（须为空）：文件路径或 postgresql:// 地址", metavar="DST")],
    json_out: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """把整个数据库连同照片复制到一个空数据库，逐表核对行数和校验和。例：inspect-cli db copy 创城办.sqlite postgresql://inspect:密码@192.168.1.10:5432/inspect"""
    from inspect_cli.cli.render import progress
    from inspect_cli.dbcopy import copy_database

    with progress("复制数据库") as tick:
        result = copy_database(paths.db_path(source), paths.db_path(target), progress=tick)
    if json_out:
        print_json(
            {
                "source": result.source,
                "target": result.target,
                "tables": result.tables,
                "checksums": result.checksums,
                "photos": result.photos,
                "photos_missing": result.photos_missing,
                "office_files": result.office_files,
            }
        )
        return
    total = sum(result.tables.values())
    say(f"已复制 {result.source} → {result.target}：{total} 行（{len(result.tables)} 张表，行数和校验和均已核对），")
    say(f"照片 {result.photos} 张" + (f"，创城办下发文件 {result.office_files} 个" if result.office_files else ""))
    if result.photos_missing:
        say(
            f"注意：源库记录的 {len(result.photos_missing)} 张照片在源照片文件夹中找不到，未复制（如 {result.photos_missing[0]}）"
        )
