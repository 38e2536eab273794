"""The 周通报 as Markdown, for pasting into messages: the same text and tables as the Word file.

Photos are copied into a folder beside the Markdown file and linked relatively, so the
file and its folder can be sent together. Every piece of stored or configured text (names,
descriptions, the office and title settings) goes through `for_markdown`: it reads as typed
and can add no link, image, HTML, heading, list or table cell. Only the structure written
here is live Markdown.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from inspect_cli.daily import DailyNotice
from inspect_cli.dates import long_date
from inspect_cli.errors import InputError
from inspect_cli.media import NOTICE_PHOTO_BOX, photo_jpeg
from inspect_cli.models import Photo, Problem
from inspect_cli.notice import (
    ASSESS_HEADER,
    OVERDUE_HEADER,
    RANK_HEADER,
    UNIT_HEADER,
    Notice,
    assessment_cells,
    assessment_intro,
    case_text,
    chinese_number,
    lists_text,
    overdue_cells,
    photos_of,
    rank_cells,
    requirements_heading,
    unit_cells,
)
from inspect_cli.text import for_markdown as md

# What ends a link's destination or changes its meaning; a path holding one is percent-encoded.
_LINK_UNSAFE = re.compile(r"[\s()<>%#?\\]")
# Columns of the notice's tables that hold figures we wrote, by heading. Every other column
# is stored text and is escaped, including any column added later.
FIGURE_COLUMNS = {
    "排名",
    "检查次数",
    "平均得分率",
    "较上期",
    "问题数",
    "已销号",
    "整改率",
    "按期整改率",
    "逾期",
    "逾期天数",
    "扣分",
    "加分",
    "得分",
}
# Characters a photo's file name in the photos folder must not hold (problem numbers are ours,
# but merged data is not).
_FILE_UNSAFE = re.compile(r'[\\/:*?"<>|\s\x00-\x1f]+')


def table_lines(header: list[str], rows: list[list[str]]) -> list[str]:
    """A table whose stored text is escaped and whose figures are written as they are.

    Escaped, "96.3%" would read "96\\.3%" to anyone who pastes the Markdown where it is not
    rendered; a figure cannot hold anything that needs escaping.
    """
    escape = [title not in FIGURE_COLUMNS for title in header]

    def line(cells: list[str]) -> str:
        # for_markdown folds line breaks and escapes "|": a stored text stays one cell.
        return "| " + " | ".join(md(c) if e else c for c, e in zip(cells, escape, strict=True)) + " |"

    return [line(header), "| " + " | ".join("---" for _ in header) + " |", *(line(r) for r in rows), ""]


def link(path: str) -> str:
    return _LINK_UNSAFE.sub(lambda m: quote(m[0]), path)


def _repeat_line(p: Problem) -> str:
    return (
        f"- {md(p.no)} {md(p.site_name)}：{md(p.description or p.item_text)}"
        f"（前次问题 {md(p.repeat_of)}，责任单位 {md(p.unit or '未指定')}）"
    )


def render_markdown(
    notice: Notice, photo_links: dict[str, str] | None = None, chart_links: dict[str, str] | None = None
) -> str:
    links = photo_links or {}
    charts = chart_links or {}
    out = [
        f"# {md(notice.title)}",
        "",
        f"**{notice.number_text}**　{md(notice.doc_number or notice.office)}　{long_date(notice.issued)}",
        "",
        "## 一、总体情况",
        "",
        md(notice.overview),
        "",
        *([f"![近期趋势]({link(charts['trend'])})", ""] if "trend" in charts else []),
        "## 二、排名情况",
        "",
    ]
    for index, table in enumerate(notice.rankings, start=1):
        out += [f"### （{chinese_number(index)}）{md(table.title)}排名", ""]
        if not table.rows:
            out += [f"{notice.period_word}无{md(table.title)}排名数据。", ""]
            continue
        if not table.has_previous:
            out += ["上期无排名数据，本期不计排名变化。", ""]
        out += table_lines(RANK_HEADER, rank_cells(table))
        if table.title in charts:
            out += [f"![{md(table.title)}得分率]({link(charts[table.title])})", ""]
    out += [f"### （{chinese_number(len(notice.rankings) + 1)}）红榜、黑榜", ""]
    out += [f"- 红榜　{md(line)}" for line in lists_text(notice, "red")]
    out += [f"- 黑榜　{md(line)}" for line in lists_text(notice, "black")]
    out += ["", f"（红榜为排名前三位；黑榜为排名后三位及平均得分率低于 {notice.black_threshold}% 的对象。）", ""]

    out += ["## 三、存在的主要问题", "", md(notice.problem_intro), ""]
    for index, group in enumerate(notice.groups, start=1):
        severe = f"，其中严重问题 {group.severe} 个" if group.severe else ""
        out += [
            f"### （{chinese_number(index)}）{md(group.category)}：{group.count} 个，占 {group.share:.1f}%{severe}",
            "",
        ]
        for number, case in enumerate(group.cases, start=1):
            out.append(f"{number}. {md(case_text(case))}")
            for label, photo in photos_of(case):
                if photo.stored_name in links:
                    alt = md(f"{label}：{case.problem.site_name} {case.problem.no}")
                    out.append(f"   ![{alt}]({link(links[photo.stored_name])})")
        out.append("")

    out += ["## 四、整改情况", "", md(notice.progress_intro), ""]
    if notice.by_unit:
        out += ["### （一）各责任单位整改情况", "", *table_lines(UNIT_HEADER, unit_cells(notice))]
    out += ["### （二）逾期未整改问题", "", f"（{notice.overdue_basis}。）", ""]
    out += [md(notice.overdue_note), ""] if notice.overdue_note else []
    out += table_lines(OVERDUE_HEADER, overdue_cells(notice)) if notice.overdue else ["无逾期未整改问题。", ""]
    out += ["### （三）反复出现问题", ""]
    out += [md(notice.repeat_note), ""] if notice.repeat_note else []
    if notice.repeats:
        out += [_repeat_line(p) for p in notice.repeats]
    else:
        out.append("无反复出现的问题。")
    if notice.assessment is not None:
        out += ["", "## 五、单位考核", "", md(assessment_intro(notice.assessment)), ""]
        out += table_lines(ASSESS_HEADER, assessment_cells(notice.assessment))
    out += ["", f"## {requirements_heading(notice)}", ""]
    out += [f"{index}. {md(line)}" for index, line in enumerate(notice.requirements, start=1)]
    return "\n".join([*out, "", *closing_lines(notice)])


def closing_lines(notice: Notice | DailyNotice) -> list[str]:
    """The 落款 and its date, then the 版记 (抄送, 印发) under a rule."""
    lines = [f"{md(notice.signature)}　{long_date(notice.issued)}", "", "---", ""]
    if notice.copy_to:
        lines += [f"抄送：{md(notice.copy_to)}。", ""]
    return [*lines, f"{md(notice.printed_by)}　{long_date(notice.issued)}印发", ""]


def photos_folder(path: Path) -> Path:
    return path.with_name(f"{path.stem}_照片")


def copy_photo(media_dir: Path, photo: Photo, stem: str, folder: Path, links: dict[str, str]) -> None:
    """The photo's upright, reduced JPEG copy in `folder`, named after `stem`, into `links`
    (stored name → relative path); left out when it is missing or cannot be read."""
    if photo.stored_name in links:
        return
    data = photo_jpeg(media_dir / photo.stored_name, NOTICE_PHOTO_BOX, quality=85)
    if data is None:
        return
    stem = _FILE_UNSAFE.sub("_", stem).strip("._") or "照片"
    name, number = f"{stem}.jpg", 1
    while f"{folder.name}/{name}" in links.values():
        number += 1
        name = f"{stem}_{number}.jpg"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    links[photo.stored_name] = f"{folder.name}/{name}"


def write_markdown(notice: Notice, path: Path, media_dir: Path, charts: dict[str, bytes] | None = None) -> int:
    """Write the notice and its photos folder; returns the number of photos it shows (a
    整改前/整改后 pair is two, as in the Word notice).

    The folder holds the same upright, reduced JPEG copies the Word notice embeds; a photo
    that is missing or cannot be read as an image is left out, as it is there.
    """
    folder = photos_folder(path)
    links: dict[str, str] = {}
    try:
        for group in notice.groups:
            for case, (label, photo) in ((c, shown) for c in group.cases for shown in photos_of(c)):
                copy_photo(media_dir, photo, case.problem.no + ("_整改后" if label == "整改后" else ""), folder, links)
        chart_links = {}
        for key, png in (charts or {}).items():
            name = "图表_趋势.png" if key == "trend" else f"图表_{_FILE_UNSAFE.sub('_', key)}排名.png"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(png)
            chart_links[key] = f"{folder.name}/{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_markdown(notice, links, chart_links), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"无法写入 {path}：{exc.strerror or exc}") from None
    return sum(1 for g in notice.groups for c in g.cases for _, photo in photos_of(c) if photo.stored_name in links)
