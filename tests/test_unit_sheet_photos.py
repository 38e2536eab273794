"""The 整改通知单 as a form: printed, filled in by hand or on screen, returned with photos of the fix.

Real files throughout: sheets exported for the problem city, filled in with openpyxl the way
a unit fills them, pictures inserted as Excel, WPS and LibreOffice store them, then imported
with the command a 创城办 runs. `python -m tests.test_unit_sheet_photos` rewrites
tests/data/returned-libreoffice-photos.xlsx (needs LibreOffice).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.drawing.image import Image as SheetImage
from openpyxl.drawing.spreadsheet_drawing import AbsoluteAnchor, AnchorMarker, TwoCellAnchor
from openpyxl.drawing.xdr import XDRPoint2D, XDRPositiveSize2D
from openpyxl.utils import get_column_letter
from PIL import Image

from inspect_cli import paths
from inspect_cli.pdf import find_soffice

from .conftest import DATA, all_rows, make_image
from .test_excel import (
    TODAY,
    export_units,
    fill,
    header_row,
    imported,
    insert_rows,
    numbers,
    problem,
    problem_city_from_scratch,
    sign_off_row,
)

UNIT = "城市管理局"
DONE = {"整改情况": "已拆除占道摊位", "整改完成日期": datetime(2026, 11, 25), "整改责任人": "李四", "状态": "已整改"}
PHOTO_FIXTURE = DATA / "returned-libreoffice-photos.xlsx"
PHOTO_FIXTURE_ID = "fixture-photos-城市管理局"
OLD_FIXTURE = DATA / "returned-libreoffice-v1.xlsx"  # a sheet of the layout before 整改后照片, re-saved by LibreOffice


@pytest.fixture
def city(from_template, monkeypatch):
    """The problem city of test_excel: 城市管理局 has two open problems, each with a photo."""
    monkeypatch.setenv("INSPECT_CLI_TODAY", TODAY)
    return from_template("problem-city", problem_city_from_scratch, {"INSPECT_CLI_TODAY": TODAY})


def media(cli) -> Path:
    return paths.media_dir(cli.db)


def media_files(cli) -> set[Path]:
    folder = media(cli)
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def columns(sheet) -> dict[str, int]:
    """1-based column of each title."""
    return {c.value: c.column for c in sheet[header_row(sheet)] if c.value}


def rows_by_no(sheet) -> dict[str, int]:
    top = header_row(sheet)
    return {sheet.cell(r, 1).value: r for r in range(top + 1, sign_off_row(sheet) - 1) if sheet.cell(r, 1).value}


def picture(folder: Path, name: str, color: str, size=(64, 48)) -> Path:
    return make_image(folder / name, color, size)


def place(sheet, path: Path, row: int, col: int, two_cell: bool = False) -> None:
    """A picture with its top-left corner in (row, col), 1-based, anchored as Excel or WPS anchors it."""
    image = SheetImage(str(path))
    if two_cell:
        image.anchor = TwoCellAnchor(
            editAs="oneCell", _from=AnchorMarker(col=col - 1, row=row - 1), to=AnchorMarker(col=col, row=row)
        )
        sheet.add_image(image)
    else:
        sheet.add_image(image, f"{sheet.cell(row, col).column_letter}{row}")


def returned(cli, folder: Path, answers: dict, pictures: list[tuple[str, str, Path]], two_cell=False) -> Path:
    """The unit's sheet filled in with `answers`; pictures as (problem no or row number, column title, file)."""
    sheet_path = export_units(cli, folder / "out")[UNIT]
    filled = fill(sheet_path, answers, target=folder / "returned.xlsx")
    book = load_workbook(filled)
    sheet = book["整改清单"]
    where, col = rows_by_no(sheet), columns(sheet)
    for row, title, path in pictures:
        place(sheet, path, where.get(row, row) if isinstance(row, str) else row, col[title], two_cell)
    book.save(filled)
    return filled


def fix_event(cli, no: str) -> dict:
    return [e for e in problem(cli, no)["history"] if e["action"] == "fixed"][-1]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the form -------------------------------------------------------------------------------


def test_the_sheet_opens_with_the_letter_and_prints_as_a_form(city, tmp_path):
    book = load_workbook(export_units(city, tmp_path / "out")[UNIT])
    assert book.sheetnames == ["整改清单", "填写说明", "_导出信息"]
    assert book.active.title == "整改清单"
    sheet = book["整改清单"]
    top = header_row(sheet)
    text = [str(sheet.cell(r, 1).value) for r in range(1, top)]
    assert text[0] == "整改通知单"
    assert (
        "示范市创建全国文明城市工作指挥部办公室" in text[1] and "2026 年 11 月 30 日" in text[1]
    )  # who sends it, when
    assert text[2] == "责任单位：城市管理局　　问题发现日期：2026-11-17　　整改时限：2026-11-24"  # whose, which period
    letter = "\n".join(text[3:])
    assert letter.startswith("城市管理局：") and "共 2 个" in letter and "2 个已过整改时限" in letter
    assert "市创城办督查科" in letter and "整改后照片" in letter and "签收栏" in letter
    # The table: yellow columns to fill, rows tall enough to write in, text that stays readable.
    first, second = numbers(city, UNIT)
    col = columns(sheet)
    for row in rows_by_no(sheet).values():
        assert sheet.row_dimensions[row].height >= 72
        for title in ("点位", "检查项", "整改情况", "整改后照片"):
            cell = sheet.cell(row, col[title])
            assert cell.alignment.wrap_text and cell.font.sz >= 12
        assert not sheet.cell(row, col["整改后照片"]).protection.locked
        assert sheet.cell(row, col["整改后照片"]).fill.fgColor.rgb.endswith("FFF2CC")
    # Excel (7 pixels a width unit with Calibri) prints the table unscaled, at 12 pt.
    widths = [sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJKL"]
    assert sum(widths) * 7 * 0.75 <= (11.69 - 2 * sheet.page_margins.left) * 72
    # The 签收 block below the table, out of the way of sorting, with room to sign and stamp.
    sign = sign_off_row(sheet)
    assert sheet.cell(sign, 1).value == "签收人（签字）："
    assert any("签收日期" in str(c.value) for c in sheet[sign]) and any(
        "单位（盖章）" in str(c.value) for c in sheet[sign]
    )
    assert sheet.row_dimensions[sign].height >= 60
    assert sheet.auto_filter.ref == f"A{top}:L{sign - 2}"
    assert sheet.protection.objects is False  # pictures may be inserted into the protected sheet
    # Print setup on every sheet a person sees.
    for name, titles in (("整改清单", f"${top}:${top}"), ("填写说明", "$1:$1")):
        page = book[name]
        assert page.page_setup.paperSize == 9 and page.page_setup.orientation == "landscape"
        assert page.sheet_properties.pageSetUpPr.fitToPage and page.page_setup.fitToWidth in (None, 1)
        assert page.page_setup.fitToHeight == 0
        assert page.print_title_rows == titles
        assert "&P" in page.oddFooter.center.text and "&N" in page.oddFooter.center.text
        assert page.oddHeader.center.text.startswith("示范市创建全国文明城市工作指挥部办公室 整改通知单 — 城市管理局")
    assert sheet.print_area == f"'整改清单'!$A$1:$L${sign}"
    assert {first, second} == set(rows_by_no(sheet))


def test_printed_by_libreoffice_the_text_is_at_least_9_pt(city, tmp_path, soffice, pdftotext):
    """Where LibreOffice lacks Calibri its width unit is a third wider, so fitting the width shrinks the most."""
    sheet = export_units(city, tmp_path / "out")[UNIT]
    subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(tmp_path / "pdf"), str(sheet)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = tmp_path / "pdf" / f"{sheet.stem}.pdf"
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(tmp_path / "words.html")], check=True, timeout=60)
    words = (tmp_path / "words.html").read_text(encoding="utf-8")
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', words)
    assert float(page.group(1)) > float(page.group(2))  # landscape
    for title in ("问题编号", "整改情况", "整改后照片"):  # bold header, full-width characters: one em each
        found = re.search(rf'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>{title}<', words)
        assert (float(found.group(2)) - float(found.group(1))) / len(title) >= 9


# --- photos of the fix ----------------------------------------------------------------------


def test_photos_in_a_row_go_with_its_fix_and_a_second_import_adds_nothing(city, tmp_path):
    first, second = numbers(city, UNIT)
    png, jpeg = picture(tmp_path, "后1.png", "green"), picture(tmp_path, "后2.jpg", "yellow", (120, 90))
    before = media_files(city)
    path = returned(
        city,
        tmp_path,
        {first: DONE, second: {"整改情况": "已联系广告公司", "状态": "整改中"}},
        [(first, "整改后照片", png), (first, "整改后照片", jpeg)],
    )
    code, report = imported(city, path)
    assert code == 0, report
    rows = {r["no"]: r for r in report[0]["rows"]}
    assert rows[first]["outcome"] == "applied" and rows[first]["photos"] == 2
    assert rows[first]["message"] == "上报整改（2026-11-25），附整改后照片 2 张，待复查"
    assert rows[second]["outcome"] == "applied" and rows[second]["photos"] == 0
    assert report[0]["photos"] == 2
    # Both on the 上报整改 event the row made; the thumbnail of the photo taken when the
    # problem was found (整改前照片, in the same row) is not one of them.
    shown = problem(city, first)
    assert shown["status"] == "fixed"
    event = fix_event(city, first)
    assert (event["note"], event["actor"]) == ("已拆除占道摊位（整改责任人：李四）", "城市管理局（李四）")
    stored = [Path(p) for p in event["photos"]]
    assert sorted(map(sha256, stored)) == sorted([sha256(png), sha256(jpeg)])
    assert all(p.is_file() and p.parent.parent == media(city) and p.stem == sha256(p) for p in stored)
    assert media_files(city) - before == set(stored)
    assert [e for e in problem(city, second)["history"] if e["photos"] and e["action"] != "found"] == []
    # The same file again: nothing new, not even a photo.
    database = all_rows(city.db)
    code, again = imported(city, path)
    assert code == 0 and {r["outcome"] for r in again[0]["rows"]} == {"unchanged"}
    assert {r["no"]: r["message"] for r in again[0]["rows"]}[first] == "已上报，待复查"
    assert all_rows(city.db) == database and media_files(city) - before == set(stored)


def test_pictures_anchored_on_two_cells_as_excel_and_wps_save_them(city, tmp_path):
    first, second = numbers(city, UNIT)
    red, blue = picture(tmp_path, "a.png", "red"), picture(tmp_path, "b.png", "blue")
    path = returned(
        city,
        tmp_path,
        {first: DONE, second: DONE},
        [(first, "整改后照片", red), (second, "整改情况", blue)],  # a photo dropped over the row's text counts too
        two_cell=True,
    )
    code, report = imported(city, path)
    assert code == 0, report
    assert [Path(p).stem for p in fix_event(city, first)["photos"]] == [sha256(red)]
    assert [Path(p).stem for p in fix_event(city, second)["photos"]] == [sha256(blue)]


def test_a_fix_without_photos_takes_none_from_the_before_column(city, tmp_path):
    first, _ = numbers(city, UNIT)
    path = returned(city, tmp_path, {first: DONE}, [])
    assert len(load_workbook(path)["整改清单"]._images) == 2  # the export's 整改前 thumbnails
    code, report = imported(city, path)
    assert code == 0 and report[0]["rows"][0]["photos"] == 0
    assert fix_event(city, first)["photos"] == []


@pytest.mark.parametrize("damage", ["truncated", "not an image"])
def test_a_damaged_photo_refuses_the_whole_file(city, tmp_path, damage):
    first, second = numbers(city, UNIT)
    good = picture(tmp_path, "good.png", "green")
    bad = picture(tmp_path, "bad.jpg", "red", (400, 300))
    if damage == "truncated":
        bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])  # a copy cut short
    path = returned(
        city, tmp_path, {first: DONE, second: DONE}, [(first, "整改后照片", good), (second, "整改后照片", bad)]
    )
    bad_row = rows_by_no(load_workbook(path)["整改清单"])[second]
    if damage == "not an image":
        # Bytes no program can show: openpyxl would drop such a picture without a word.
        rewrite(path, {name: b"this is not a picture" for name in media_parts(path, bad)})
    before, files = all_rows(city.db), media_files(city)
    code, report = imported(city, path)
    assert code == 2 and report[0]["applied"] is False
    rows = {r["no"]: r for r in report[0]["rows"]}
    reason = "图片文件不完整或已损坏" if damage == "truncated" else "不是可识别的图片文件"
    assert (rows[second]["row"], rows[second]["outcome"]) == (bad_row, "refused")
    assert rows[second]["message"].startswith(f"第 {bad_row} 行的第 1 张整改后照片（浮动图片）不能使用：{reason}")
    assert rows[first]["outcome"] == "applied"
    assert all_rows(city.db) == before and media_files(city) == files
    assert problem(city, first)["status"] == "open"  # the good row waited too


def test_photos_only_go_with_a_fix(city, tmp_path):
    first, second = numbers(city, UNIT)
    photo = picture(tmp_path, "p.png", "green")
    path = returned(
        city,
        tmp_path,
        {first: {"整改情况": "正在协调", "状态": "整改中"}},
        [(first, "整改后照片", photo), (second, "整改后照片", photo)],
    )
    before = all_rows(city.db)
    code, report = imported(city, path)
    assert code == 2 and all_rows(city.db) == before
    messages = {r["no"]: r["message"] for r in report[0]["rows"]}
    assert messages[first] == (
        "状态为“整改中”，“整改后照片”有 1 张照片：整改后照片只随“已整改”上报；整改完成的请把状态选为已整改，否则请删除照片"
    )
    assert messages[second] == "未选择状态（已整改 / 整改中 / 无法整改需协调），“整改后照片”有 1 张照片"


def test_pictures_outside_the_problem_rows(city, tmp_path):
    first, _ = numbers(city, UNIT)
    stamp, logo, stray = (picture(tmp_path, f"{n}.png", c) for n, c in (("章", "red"), ("徽", "blue"), ("散", "gray")))
    sheet_path = export_units(city, tmp_path / "out")[UNIT]
    path = fill(sheet_path, {first: DONE}, target=tmp_path / "returned.xlsx")
    book = load_workbook(path)
    sheet = book["整改清单"]
    place(sheet, logo, 1, 1)  # on the title: the unit's own business
    place(sheet, stamp, sign_off_row(sheet), 8)  # a scanned stamp on the 签收 block
    book.save(path)
    code, report = imported(city, path)
    assert code == 0 and fix_event(city, first)["photos"] == []
    # A picture on a blank row inside the table belongs to no problem: said, not guessed.
    path = fill(sheet_path, {}, target=tmp_path / "blank.xlsx")
    book = load_workbook(path)
    sheet = book["整改清单"]
    top = header_row(sheet)
    insert_rows(sheet, top + 2, 1)
    place(sheet, stray, top + 2, columns(sheet)["整改后照片"])
    book.save(path)
    code, report = imported(city, path)
    assert code == 2
    assert {"row": top + 2, "no": "", "outcome": "refused", "photos": 0, "message": (
        "这一行有图片，但没有问题编号：整改后照片请放在对应问题那一行的“整改后照片”格内"
    )} in report[0]["rows"]  # fmt: skip


def test_a_picture_not_anchored_to_a_cell_is_named(city, tmp_path):
    first, _ = numbers(city, UNIT)
    path = fill(export_units(city, tmp_path / "out")[UNIT], {first: DONE}, target=tmp_path / "r.xlsx")
    book = load_workbook(path)
    image = SheetImage(str(picture(tmp_path, "x.png", "green")))
    image.anchor = AbsoluteAnchor(pos=XDRPoint2D(x=0, y=0), ext=XDRPositiveSize2D(cx=609600, cy=457200))
    book["整改清单"].add_image(image)
    book.save(path)
    result = city("import", "rectification", str(path))
    assert result.exit_code == 2
    assert "有 1 张图片没有固定在单元格上，无法判断属于哪个问题" in result.stderr


def test_dry_run_checks_photos_and_writes_nothing(city, tmp_path):
    first, _ = numbers(city, UNIT)
    path = returned(city, tmp_path, {first: DONE}, [(first, "整改后照片", picture(tmp_path, "p.png", "green"))])
    before, files = all_rows(city.db), media_files(city)
    result = city("import", "rectification", str(path), "--dry-run")
    assert (
        result.exit_code == 0 and "预览（未写入）：应用 1 行，无变化 1 行，拒绝 0 行，整改后照片 1 张" in result.stdout
    )
    assert all_rows(city.db) == before and media_files(city) == files


def test_a_photo_added_after_the_fix_was_reported_is_said_not_slipped_in(city, tmp_path):
    first, _ = numbers(city, UNIT)
    path = returned(city, tmp_path, {first: DONE}, [])
    assert imported(city, path)[0] == 0
    book = load_workbook(path)
    sheet = book["整改清单"]
    place(sheet, picture(tmp_path, "late.png", "green"), rows_by_no(sheet)[first], columns(sheet)["整改后照片"])
    book.save(path)
    code, report = imported(city, path)
    assert code == 0 and fix_event(city, first)["photos"] == []
    assert {r["no"]: r["message"] for r in report[0]["rows"]}[first] == (
        "已上报，待复查；表中有 1 张上次上报时没有的整改后照片，未添加（已上报的整改不再补充照片）"
    )


# --- pictures placed in a cell: Excel 365 and WPS --------------------------------------------


def media_parts(path: Path, original: Path) -> list[str]:
    """The package parts holding the bytes of `original` (as openpyxl saved them)."""
    data = original.read_bytes()
    with zipfile.ZipFile(path) as archive:
        return [n for n in archive.namelist() if n.startswith("xl/media/") and archive.read(n) == data]


def rewrite(path: Path, parts: dict[str, bytes], sheet_edit=None) -> None:
    """Replace or add package parts; `sheet_edit` rewrites the 整改清单 sheet's XML."""
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    if sheet_edit is not None:
        members["xl/worksheets/sheet1.xml"] = sheet_edit(members["xl/worksheets/sheet1.xml"].decode()).encode()
    members.update(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def cell_value(ref: str, attributes: str, inner: str):
    """An edit of the sheet XML giving cell `ref` these attributes and content."""

    def edit(xml: str) -> str:
        pattern = re.compile(rf'<c r="{ref}"(?P<rest>[^>]*?)(?:/>|>.*?</c>)', re.S)
        match = pattern.search(xml)
        assert match, ref
        style = re.search(r's="\d+"', match.group("rest"))
        return (
            xml[: match.start()]
            + f'<c r="{ref}" {style.group(0) if style else ""} {attributes}>{inner}</c>'
            + xml[match.end() :]
        )

    return edit


RICHDATA = "http://schemas.microsoft.com/office/spreadsheetml/2017/richdata"


def excel_in_cell(images: list[bytes], structure: str = "_localImage") -> dict[str, bytes]:
    """The parts Excel 365 writes for pictures placed in cells (vm 1, 2, … in order)."""
    n = len(images)
    blocks = "".join(
        f'<bk><extLst><ext uri="{{3e2802c4-a4d2-4d8b-9148-e3be6c30e623}}"><xlrd:rvb i="{i}"/></ext></extLst></bk>'
        for i in range(n)
    )
    values = "".join(f'<bk><rc t="1" v="{i}"/></bk>' for i in range(n))
    keys = (
        '<k n="_rvRel:LocalImageIdentifier" t="i"/><k n="CalcOrigin" t="i"/>'
        if structure == "_localImage"
        else '<k n="WebImageIdentifier" t="i"/><k n="CalcOrigin" t="i"/>'
    )
    parts = {
        "xl/metadata.xml": (
            '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:xlrd="{RICHDATA}"><metadataTypes count="1"><metadataType name="XLRICHVALUE" '
            'minSupportedVersion="120000"/></metadataTypes>'
            f'<futureMetadata name="XLRICHVALUE" count="{n}">{blocks}</futureMetadata>'
            f'<valueMetadata count="{n}">{values}</valueMetadata></metadata>'
        ),
        "xl/richData/rdrichvaluestructure.xml": (
            f'<rvStructures xmlns="{RICHDATA}" count="1"><s t="{structure}">{keys}</s></rvStructures>'
        ),
        "xl/richData/rdrichvalue.xml": (
            f'<rvData xmlns="{RICHDATA}" count="{n}">'
            + "".join(f'<rv s="0"><v>{i}</v><v>5</v></rv>' for i in range(n))
            + "</rvData>"
        ),
        "xl/richData/richValueRel.xml": (
            '<richValueRels xmlns="http://schemas.microsoft.com/office/spreadsheetml/2022/richvaluerel" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            + "".join(f'<rel r:id="rId{i + 1}"/>' for i in range(n))
            + "</richValueRels>"
        ),
        "xl/richData/_rels/richValueRel.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                f'relationships/image" Target="../media/incell{i + 1}.png"/>'
                for i in range(n)
            )
            + "</Relationships>"
        ),
    }
    out = {name: text.encode() for name, text in parts.items()}
    out.update({f"xl/media/incell{i + 1}.png": data for i, data in enumerate(images)})
    return out


def wps_in_cell(images: dict[str, bytes]) -> dict[str, bytes]:
    """The parts WPS writes for 嵌入单元格图片: xl/cellimages.xml, by picture id."""
    pics = "".join(
        f'<etc:cellImage><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="{i + 2}" name="{name}" descr="IMG_{i}"/>'
        '<xdr:cNvPicPr><a:picLocks noChangeAspect="1"/></xdr:cNvPicPr></xdr:nvPicPr>'
        f'<xdr:blipFill><a:blip r:embed="rId{i + 1}"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
        '<xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="914400" cy="685800"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage>'
        for i, name in enumerate(images)
    )
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'image" Target="media/wps{i + 1}.png"/>'
        for i in range(len(images))
    )
    out = {
        "xl/cellimages.xml": (
            '<etc:cellImages xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            f'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData">{pics}</etc:cellImages>'
        ).encode(),
        "xl/_rels/cellimages.xml.rels": (
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>'
        ).encode(),
    }
    out.update({f"xl/media/wps{i + 1}.png": data for i, data in enumerate(images.values())})
    return out


def png(color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_pictures_placed_in_cells_by_excel_365_and_wps(city, tmp_path):
    first, second = numbers(city, UNIT)
    path = returned(city, tmp_path, {first: DONE, second: DONE}, [])
    sheet = load_workbook(path)["整改清单"]
    where, col = rows_by_no(sheet), columns(sheet)
    letter = get_column_letter(col["整改后照片"])
    excel, wps = png("orange"), png("purple")
    rewrite(path, {**excel_in_cell([excel]), **wps_in_cell({"ID_6F1C0E3A": wps})})
    rewrite(path, {}, cell_value(f"{letter}{where[first]}", 't="e" vm="1"', "<v>#VALUE!</v>"))
    rewrite(
        path,
        {},
        cell_value(
            f"{letter}{where[second]}",
            't="str"',
            '<f>_xlfn.DISPIMG("ID_6F1C0E3A",1)</f><v>=DISPIMG("ID_6F1C0E3A",1)</v>',
        ),
    )
    code, report = imported(city, path)
    assert code == 0, report
    assert [Path(p).stem for p in fix_event(city, first)["photos"]] == [hashlib.sha256(excel).hexdigest()]
    assert [Path(p).stem for p in fix_event(city, second)["photos"]] == [hashlib.sha256(wps).hexdigest()]
    assert fix_event(city, first)["note"] == "已拆除占道摊位（整改责任人：李四）"  # no #VALUE! in the text


def test_in_cell_pictures_that_cannot_be_read_are_named(city, tmp_path):
    first, second = numbers(city, UNIT)
    path = returned(city, tmp_path, {first: DONE, second: DONE}, [])
    sheet = load_workbook(path)["整改清单"]
    where, col = rows_by_no(sheet), columns(sheet)
    letter = get_column_letter(col["整改后照片"])
    # An IMAGE() formula's web picture, and a WPS picture whose bytes are gone.
    rewrite(path, excel_in_cell([png("red")], structure="_webimage"))
    rewrite(path, {}, cell_value(f"{letter}{where[first]}", 't="e" vm="1"', "<v>#VALUE!</v>"))
    rewrite(path, {}, cell_value(f"{letter}{where[second]}", 't="str"', '<f>_xlfn.DISPIMG("ID_GONE",1)</f><v>x</v>'))
    before = all_rows(city.db)
    code, report = imported(city, path)
    assert code == 2 and all_rows(city.db) == before
    messages = {r["no"]: r["message"] for r in report[0]["rows"]}
    assert messages[first] == (
        f"第 {where[first]} 行的第 1 张整改后照片（单元格中的图片）不能使用："
        "是用 IMAGE() 函数引用的网络图片，文件中没有图片本身；请插入照片文件"
    )
    assert messages[second].startswith(
        f"第 {where[second]} 行的第 1 张整改后照片（嵌入单元格的图片）不能使用：文件中找不到"
    )


# --- files other programs saved -------------------------------------------------------------


def resave_with_libreoffice(path: Path, folder: Path) -> Path:
    out = folder / "lo"
    subprocess.run(
        [
            find_soffice() or "soffice",
            f"-env:UserInstallation={(folder / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / path.name


def photo_fixture_answers(first: str, second: str) -> dict:
    return {first: DONE, second: {**DONE, "整改情况": "已更换公益广告", "整改责任人": "王五"}}


PHOTO_COLORS = {"first": ("green", "olive"), "second": ("navy",)}


def fill_photo_fixture(cli, folder: Path, export_id: str | None = None) -> Path:
    """The 城市管理局 sheet, two rows 已整改 with photos (two in the first, one in the second), as a unit returns it."""
    from inspect_cli.config import OfficeSettings
    from inspect_cli.excel.unit_sheet import export_unit_sheets
    from inspect_cli.store import Store

    with Store(cli.db) as store:
        exported = export_unit_sheets(
            store,
            folder / "out",
            OfficeSettings(),
            media(cli),
            [UNIT],
            export_id_for=(lambda unit: export_id) if export_id else None,
        )
    first, second = numbers(cli, UNIT)
    filled = fill(exported.files[0].path, photo_fixture_answers(first, second), target=folder / "filled.xlsx")
    book = load_workbook(filled)
    sheet = book["整改清单"]
    where, col = rows_by_no(sheet), columns(sheet)
    for key, no in (("first", first), ("second", second)):
        for n, color in enumerate(PHOTO_COLORS[key]):
            place(
                sheet, picture(folder, f"{key}{n}.png", color, (90, 60)), where[no], col["整改后照片"], two_cell=n == 1
            )
    book.save(filled)
    return filled


def colors(event: dict) -> list[tuple]:
    out = []
    for stored in event["photos"]:
        with Image.open(stored) as image:
            out.append(image.convert("RGB").getpixel((5, 5)))
    return sorted(out)


def check_photo_fixture_import(cli, path: Path) -> None:
    first, second = numbers(cli, UNIT)
    code, report = imported(cli, path)
    assert code == 0, report
    assert {r["no"]: r["photos"] for r in report[0]["rows"]} == {first: 2, second: 1}
    rgb = {"green": (0, 128, 0), "olive": (128, 128, 0), "navy": (0, 0, 128)}
    assert colors(fix_event(cli, first)) == sorted(rgb[c] for c in PHOTO_COLORS["first"])
    assert colors(fix_event(cli, second)) == sorted(rgb[c] for c in PHOTO_COLORS["second"])
    database = all_rows(cli.db)
    code, again = imported(cli, path)
    assert code == 0 and {r["outcome"] for r in again[0]["rows"]} == {"unchanged"} and all_rows(cli.db) == database


def test_sheet_with_photos_resaved_by_libreoffice_imports(city, tmp_path):
    """tests/data/returned-libreoffice-photos.xlsx: filled in, photos inserted, opened and saved by LibreOffice."""
    with zipfile.ZipFile(PHOTO_FIXTURE) as archive:
        assert b"<Application>LibreOffice" in archive.read("docProps/app.xml")
    fill_photo_fixture(city, tmp_path, PHOTO_FIXTURE_ID)  # the export the fixture was made from
    check_photo_fixture_import(city, PHOTO_FIXTURE)


def test_a_sheet_resaved_by_this_libreoffice_keeps_photos_on_their_rows(city, tmp_path, soffice):
    resaved = resave_with_libreoffice(fill_photo_fixture(city, tmp_path), tmp_path)
    with zipfile.ZipFile(resaved) as archive:
        assert b"LibreOffice" in archive.read("docProps/app.xml")
    check_photo_fixture_import(city, resaved)


def test_a_sheet_of_the_layout_before_photos_still_imports(city, tmp_path):
    """Sheets already out with the units (地址 and 照片 columns, no 整改后照片) import as they were exported."""
    from inspect_cli.store import Store

    first, second = numbers(city, UNIT)
    with Store(city.db) as store:
        rows = []
        for no in (first, second):
            p = store.problem(no)
            values = {
                "问题编号": p.no,
                "点位": f"{p.site_code} {p.site_name}",
                "地址": p.address or "",
                "检查项": p.item_text,
                "问题描述": p.description,
                "发现日期": p.found_date.isoformat(),
                "整改时限": p.deadline.isoformat(),
                "照片": "",
                "_handled": 0,
            }
            rows.append((p.id, p.no, values))
        store.save_export("fixture-城市管理局", "rectification", UNIT, OLD_FIXTURE.name, rows)
    code, report = imported(city, OLD_FIXTURE)
    assert code == 0, report
    assert {r["no"]: r["outcome"] for r in report[0]["rows"]} == {first: "applied", second: "applied"}
    assert problem(city, first)["status"] == "fixed"


def main() -> None:
    """Rewrite tests/data/returned-libreoffice-photos.xlsx (needs LibreOffice)."""
    import tempfile

    from .conftest import Cli
    from .test_excel import build_problem_city

    os.environ["INSPECT_CLI_TODAY"] = TODAY
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cli = Cli(folder / "city.sqlite")
        cli.ok("site", "import", DATA / "sites.csv")
        build_problem_city(cli, folder)
        resaved = resave_with_libreoffice(fill_photo_fixture(cli, folder, PHOTO_FIXTURE_ID), folder)
        shutil.copyfile(resaved, PHOTO_FIXTURE)
    print(f"wrote {PHOTO_FIXTURE} (export id {PHOTO_FIXTURE_ID})")


if __name__ == "__main__":
    main()
