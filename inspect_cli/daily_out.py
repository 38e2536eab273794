"""The 日反馈 written out: Word (the 公文 layout of `notice_docx`), Markdown, and its Excel 问题清单.

The three carry the same rows from one `DailyNotice`; stored text is made safe by the
writers they share with the weekly notice.
"""

from __future__ import annotations

from pathlib import Path

from inspect_cli.daily import DailyNotice, issued_line, problem_text, requirement, tally_cells
from inspect_cli.dates import long_date, month_day
from inspect_cli.errors import InputError
from inspect_cli.models import NO_UNIT, UNSET
from inspect_cli.notice import chinese_number


def write_docx(daily: DailyNotice, path: Path, media_dir: Path) -> int:
    """Write the Word 日反馈; returns the number of photos embedded."""
    from inspect_cli.notice_docx import RED, TITLE_PT, Writer

    w = Writer()
    w.paragraph(daily.title, font=w.title, size=TITLE_PT, indent=False, align="CENTER", color=RED)
    w.paragraph(daily.number_text, indent=False, align="CENTER")
    w.two_ends(daily.printed_by, issued_line(daily))  # the short name: the line holds the date too
    w.rule()
    w.heading("一、督查情况")
    w.paragraph(daily.overview)
    photos = 0
    if daily.problems:
        w.heading("二、问题分布")
        w.subheading("（一）按街道")
        w.table(*tally_cells(daily.by_street, "街道", "检查点位"), wrap=["街道"])
        w.subheading("（二）按责任单位")
        w.table(*tally_cells(daily.by_unit, "责任单位", "涉及点位"), wrap=["责任单位"])
        w.heading("三、问题清单")
        for index, (street, rows) in enumerate(_by_street(daily), start=1):
            w.subheading(f"（{chinese_number(index)}）{street}：{len(rows)} 个")
            for number, (p, _) in enumerate(rows, start=1):
                w.paragraph(problem_text(number, p))
            shown = [
                (
                    media_dir / photo.stored_name,
                    f"{p.site_name} · {p.description or p.item_text}（{month_day(p.found_date)}）",
                )
                for p, photo in rows
                if photo is not None
            ]
            photos += w.photos(shown)
        w.heading("四、工作要求")
        w.paragraph(requirement(daily.day))
    w.closing(daily)
    w.save(path)
    return photos


def write_markdown(daily: DailyNotice, path: Path, media_dir: Path) -> int:
    """Write the Markdown 日反馈 and its photos folder; returns the number of photos linked."""
    from inspect_cli.notice_md import closing_lines, copy_photo, link, photos_folder, table_lines
    from inspect_cli.text import for_markdown as md

    folder = photos_folder(path)
    links: dict[str, str] = {}
    try:
        # In the order they are listed: a photo two problems share is named after the first shown.
        for p, photo in (row for _, rows in _by_street(daily) for row in rows):
            if photo is not None:
                copy_photo(media_dir, photo, p.no, folder, links)
        out = [
            f"# {md(daily.title)}",
            "",
            f"**{daily.number_text}**　{md(daily.office)}　{issued_line(daily)}",
            "",
            "## 一、督查情况",
            "",
            md(daily.overview),
            "",
        ]
        if daily.problems:
            out += [
                "## 二、问题分布",
                "",
                "### （一）按街道",
                "",
                *table_lines(*tally_cells(daily.by_street, "街道", "检查点位")),
            ]
            out += ["### （二）按责任单位", "", *table_lines(*tally_cells(daily.by_unit, "责任单位", "涉及点位"))]
            out += ["## 三、问题清单", ""]
            for index, (street, rows) in enumerate(_by_street(daily), start=1):
                out += [f"### （{chinese_number(index)}）{md(street)}：{len(rows)} 个", ""]
                for number, (p, photo) in enumerate(rows, start=1):
                    out.append(md(problem_text(number, p)))
                    if photo is not None and photo.stored_name in links:
                        out.append(f"   ![{md(p.site_name)} {md(p.no)}]({link(links[photo.stored_name])})")
                out.append("")
            out += ["## 四、工作要求", "", md(requirement(daily.day)), ""]
        out += closing_lines(daily)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(out), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"无法写入 {path}：{exc.strerror or exc}") from None
    return sum(1 for _, photo in daily.problems if photo is not None and photo.stored_name in links)


def list_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}_问题清单.xlsx")


def write_list(daily: DailyNotice, path: Path, media_dir: Path) -> int:
    """The day's problems in one sheet, with thumbnails, to filter and forward; returns the rows."""
    from inspect_cli.excel.common import Column, Formats, TableSheet, close_workbook, new_workbook, thumbnail

    workbook = new_workbook(path)
    columns = [
        Column("序号", "int", width=5),
        Column("问题编号", width=14),
        Column("街道", "wrap", width=10),
        Column("点位名称", "wrap", width=18),
        Column("检查项", "wrap", width=26),
        Column("问题描述", "wrap", width=22),
        Column("结果", width=10),
        Column("责任单位", "wrap", width=13),
        Column("整改时限", "date", width=11),
        Column("照片", "photo", width=18),
        Column("点位编码"),
    ]
    title = f"{daily.title}{daily.number_text}问题清单（{long_date(daily.day)}，{daily.office}）"
    sheet = TableSheet(workbook, Formats(workbook), "当日问题清单", columns, title, title, printed=len(columns) - 1)
    cache: dict[str, bytes | None] = {}
    for index, (p, photo) in enumerate(daily.problems, start=1):
        image = thumbnail(media_dir, photo.stored_name, cache) if photo is not None else None
        sheet.add(
            [index, p.no, p.street or UNSET, p.site_name, p.item_text, p.description, p.severity.label,
             p.unit or NO_UNIT, p.deadline, None, p.site_code],
            photo=image,
        )  # fmt: skip
    sheet.finish()
    close_workbook(workbook, path)
    return len(daily.problems)


def _by_street(daily: DailyNotice) -> list[tuple[str, list]]:
    """The day's problems street by street, in the order of the 按街道 table (most problems first)."""
    groups: dict[str, list] = {t.name: [] for t in daily.by_street}
    for p, photo in daily.problems:
        groups.setdefault(p.street or UNSET, []).append((p, photo))
    return [(street, rows) for street, rows in groups.items() if rows]
