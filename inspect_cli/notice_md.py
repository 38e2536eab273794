"""The 周通报 as Markdown, for pasting into messages: the same text and tables as the Word file.

Photos are copied into a folder beside the Markdown file and linked relatively, so the
file and its folder can be sent together.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from inspect_cli.errors import InputError
from inspect_cli.notice import (
    OVERDUE_HEADER,
    RANK_HEADER,
    UNIT_HEADER,
    Notice,
    case_text,
    chinese_number,
    lists_text,
    overdue_cells,
    rank_cells,
    unit_cells,
)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return [line(header), "| " + " | ".join("---" for _ in header) + " |", *(line(r) for r in rows), ""]


def render_markdown(notice: Notice, photo_links: dict[str, str] | None = None) -> str:
    links = photo_links or {}
    out = [
        f"# {notice.title}",
        "",
        f"**{notice.number_text}**　{notice.office}　{notice.issued:%Y年%m月%d日}",
        "",
        "## 一、总体情况",
        "",
        notice.overview,
        "",
        "## 二、排名情况",
        "",
    ]
    for index, table in enumerate(notice.rankings, start=1):
        out += [f"### （{chinese_number(index)}）{table.title}排名", ""]
        if not table.rows:
            out += [f"{notice.period_word}无{table.title}排名数据。", ""]
            continue
        if not table.has_previous:
            out += ["上期无排名数据，本期不计排名变化。", ""]
        out += _table(RANK_HEADER, rank_cells(table))
    out += [f"### （{chinese_number(len(notice.rankings) + 1)}）红榜、黑榜", ""]
    out += [f"- 红榜　{line}" for line in lists_text(notice, "red")]
    out += [f"- 黑榜　{line}" for line in lists_text(notice, "black")]
    out += ["", f"（红榜为排名前三位；黑榜为排名后三位及平均得分率低于 {notice.black_threshold}% 的对象。）", ""]

    out += ["## 三、存在的主要问题", "", notice.problem_intro, ""]
    for index, group in enumerate(notice.groups, start=1):
        severe = f"，其中严重问题 {group.severe} 个" if group.severe else ""
        out += [f"### （{chinese_number(index)}）{group.category}：{group.count} 个，占 {group.share:.1f}%{severe}", ""]
        for number, case in enumerate(group.cases, start=1):
            out.append(f"{number}. {case_text(case)}")
            if case.photo is not None and case.photo.stored_name in links:
                out.append(f"   ![图：{case.problem.site_name} {case.problem.no}]({links[case.photo.stored_name]})")
        out.append("")

    out += ["## 四、整改情况", "", notice.progress_intro, ""]
    if notice.by_unit:
        out += ["### （一）各责任单位整改情况", "", *_table(UNIT_HEADER, unit_cells(notice))]
    out += ["### （二）逾期未整改问题", ""]
    out += _table(OVERDUE_HEADER, overdue_cells(notice)) if notice.overdue else ["无逾期未整改问题。", ""]
    out += ["### （三）反复出现问题", ""]
    if notice.repeats:
        out += [
            f"- {p.no} {p.site_name}：{p.description or p.item_text}（前次问题 {p.repeat_of}，责任单位 {p.unit or '未指定'}）"
            for p in notice.repeats
        ]
    else:
        out.append("无反复出现的问题。")
    out += ["", "## 五、下步要求", ""]
    out += [f"{index}. {line}" for index, line in enumerate(notice.requirements, start=1)]
    out += ["", f"{notice.signature}　{notice.issued:%Y年%m月%d日}", ""]
    return "\n".join(out)


def write_markdown(notice: Notice, path: Path, media_dir: Path) -> int:
    """Write the notice and its photos folder; returns the number of typical cases with a photo."""
    folder = path.with_name(f"{path.stem}_照片")
    links: dict[str, str] = {}
    try:
        for group in notice.groups:
            for case in group.cases:
                photo = case.photo
                if photo is None or photo.stored_name in links or not (media_dir / photo.stored_name).is_file():
                    continue
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{case.problem.no}{Path(photo.stored_name).suffix}"
                shutil.copyfile(media_dir / photo.stored_name, folder / name)
                links[photo.stored_name] = f"{folder.name}/{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_markdown(notice, links), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"无法写入 {path}：{exc.strerror or exc}") from None
    return sum(1 for g in notice.groups for c in g.cases if c.photo is not None and c.photo.stored_name in links)
