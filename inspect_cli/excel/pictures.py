"""The pictures on a worksheet of a returned workbook, each with the cell it sits on.

Read from the package itself rather than through openpyxl: openpyxl keeps floating
pictures but drops, without a word, one it cannot decode, and it knows nothing of pictures
placed *in* a cell — Excel 365's "放置在单元格中" (a rich value behind an `#VALUE!` cell)
and WPS's "嵌入单元格图片" (a `DISPIMG("ID_…")` formula). A picture comes back with its bytes
as stored, for the media checks to judge, or with the reason they cannot be had.

Only what Excel, WPS and LibreOffice write is relied on: the drawing part of the sheet and
its anchors (`from` row and column, 0-based), the workbook's rich-value parts, and WPS's
`cellimages.xml`. Part names are resolved through the relationships, never guessed.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspect_cli.errors import InputError

# A photo from a phone is a few MB; a picture past this is no photo (or a zip bomb).
MAX_PICTURE_BYTES = 50 * 1024 * 1024
_MAX_PICTURE_TEXT = "50 MB"

FLOATING = "浮动图片"
IN_CELL = "单元格中的图片"  # Excel 365: 插入 → 图片 → 放置在单元格中
WPS_IN_CELL = "嵌入单元格的图片"  # WPS: 嵌入单元格图片 (DISPIMG)

_IMAGE_REL = "/image"
_DRAWING_REL = "/drawing"
_DISPIMG = re.compile(r"DISPIMG\(\s*\"([^\"]+)\"", re.IGNORECASE)
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


@dataclass
class SheetPicture:
    row: int | None  # 1-based, as the sheet shows it; None: not anchored to a cell
    col: int  # 0-based
    kind: str  # FLOATING, IN_CELL or WPS_IN_CELL
    part: str = ""  # where the bytes are in the package, e.g. xl/media/image3.png
    data: bytes | None = None
    problem: str | None = None  # why there are no bytes

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.part)[1].lower()


def sheet_pictures(path: Path, sheet_name: str) -> list[SheetPicture]:
    """Every picture on the sheet named `sheet_name`; raises `InputError` for a damaged package."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _Package(archive).pictures(sheet_name)
    except InputError:
        raise
    except Exception:  # a damaged zip or XML raises any of many kinds, none of them ours
        raise InputError("文件中的图片信息已损坏，无法读取（请用 Excel 或 WPS 打开后重新保存）") from None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(element: Any, name: str) -> str | None:
    """An attribute by its local name, in whatever namespace (r:id, r:embed, plain)."""
    for key, value in element.attrib.items():
        if key == name or key.endswith("}" + name):
            return value
    return None


def _children(element: Any, name: str) -> Iterator[Any]:
    return (child for child in element if _local(child.tag) == name)


def _descendants(element: Any, name: str) -> Iterator[Any]:
    return (child for child in element.iter() if _local(child.tag) == name)


def _first(element: Any, name: str) -> Any | None:
    return next(_descendants(element, name), None)


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


class _Package:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = {info.filename.lstrip("/"): info for info in archive.infolist()}
        self._folded = {name.casefold(): name for name in self.names}

    # --- parts and relationships ------------------------------------------------------

    def _name(self, part: str) -> str | None:
        part = part.lstrip("/")
        return part if part in self.names else self._folded.get(part.casefold())

    def _xml(self, part: str) -> Any | None:
        from openpyxl.xml.functions import fromstring  # the parser openpyxl read the workbook with

        name = self._name(part)
        return None if name is None else fromstring(self.archive.read(name))

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """{id: (type, target part)} of a part's relationships (external targets left out)."""
        folder, base = posixpath.split(part)
        tree = self._xml(posixpath.join(folder, "_rels", base + ".rels"))
        rels: dict[str, tuple[str, str]] = {}
        if tree is None:
            return rels
        for rel in _descendants(tree, "Relationship"):
            target, rel_id = rel.get("Target") or "", rel.get("Id") or ""
            if not target or (rel.get("TargetMode") or "").lower() == "external":
                continue
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            rels[rel_id] = (rel.get("Type") or "", posixpath.normpath(resolved))
        return rels

    def _bytes(self, picture: SheetPicture, part: str | None) -> SheetPicture:
        name = self._name(part) if part else None
        if name is None:
            picture.problem = "文件中找不到这张图片的数据（图片已损坏，请删除后重新插入）"
            return picture
        picture.part = name
        if self.names[name].file_size > MAX_PICTURE_BYTES:
            picture.problem = f"图片文件过大（超过 {_MAX_PICTURE_TEXT}），请压缩后重新插入"
            return picture
        with self.archive.open(name) as handle:
            picture.data = handle.read(MAX_PICTURE_BYTES + 1)
        if len(picture.data) > MAX_PICTURE_BYTES:
            picture.data, picture.problem = None, f"图片文件过大（超过 {_MAX_PICTURE_TEXT}），请压缩后重新插入"
        return picture

    def _sheet_part(self, sheet_name: str) -> str | None:
        workbook = "xl/workbook.xml"
        for rel in self._rels("").values():  # _rels/.rels names the workbook part
            if rel[0].endswith("/officeDocument"):
                workbook = rel[1]
        tree = self._xml(workbook)
        if tree is None:
            return None
        rels = self._rels(workbook)
        for sheet in _descendants(tree, "sheet"):
            if sheet.get("name") == sheet_name:
                rel = rels.get(_attr(sheet, "id") or "")
                return rel[1] if rel else None
        return None

    # --- the pictures -----------------------------------------------------------------

    def pictures(self, sheet_name: str) -> list[SheetPicture]:
        part = self._sheet_part(sheet_name)
        if part is None:
            return []
        found = []
        for rel_type, target in self._rels(part).values():
            if rel_type.endswith(_DRAWING_REL):
                found += self._floating(target)
        found += self._in_cells(part)
        return found

    def _floating(self, drawing: str) -> list[SheetPicture]:
        tree = self._xml(drawing)
        if tree is None:
            return []
        rels = self._rels(drawing)
        found = []
        for anchor in tree:
            kind = _local(anchor.tag)
            if kind not in ("twoCellAnchor", "oneCellAnchor", "absoluteAnchor"):
                continue
            # One picture may appear twice, as an mc:Choice and its mc:Fallback.
            targets = []
            for blip in _descendants(anchor, "blip"):
                rel = rels.get(_attr(blip, "embed") or "")
                if rel and rel[1] not in targets:
                    targets.append(rel[1])
            if not targets:
                continue  # a chart, a shape, a text box: no picture
            start = next(_children(anchor, "from"), None)
            if kind == "absoluteAnchor" or start is None:
                row, col = None, -1
            else:
                row = int(_first(start, "row").text or 0) + 1
                col = int(_first(start, "col").text or 0)
            found += [self._bytes(SheetPicture(row, col, FLOATING), target) for target in targets]
        return found

    def _in_cells(self, part: str) -> list[SheetPicture]:
        """Pictures that are a cell's value: Excel's rich values (`vm`), WPS's DISPIMG formulas."""
        tree = self._xml(part)
        if tree is None:
            return []
        rich: _RichValues | None = None
        wps: dict[str, str] | None = None
        found = []
        for cell in _descendants(tree, "c"):
            vm, formula = cell.get("vm"), _first(cell, "f")
            dispimg = _DISPIMG.search(formula.text or "") if formula is not None else None
            if vm is None and dispimg is None:
                continue
            match = _CELL_REF.match(cell.get("r") or "")
            if match is None:
                continue
            row, col = int(match.group(2)), _column_index(match.group(1))
            if dispimg is not None:
                wps = self._wps_images() if wps is None else wps
                picture = SheetPicture(row, col, WPS_IN_CELL)
                found.append(self._bytes(picture, wps.get(dispimg.group(1))))
                continue
            rich = _RichValues(self) if rich is None else rich
            target, problem = rich.image(int(vm))
            if target is None and problem is None:
                continue  # value metadata of another kind: no rich value, no picture
            picture = SheetPicture(row, col, IN_CELL, problem=problem)
            found.append(picture if problem else self._bytes(picture, target))
        return found

    def _wps_images(self) -> dict[str, str]:
        """{picture id: media part} from WPS's cellimages.xml."""
        part = next((name for name in self.names if re.fullmatch(r"xl/cellimages\d*\.xml", name, re.I)), None)
        if part is None:
            return {}
        tree, rels = self._xml(part), self._rels(part)
        images = {}
        for pic in _descendants(tree, "pic"):
            props, blip = _first(pic, "cNvPr"), _first(pic, "blip")
            rel = rels.get(_attr(blip, "embed") or "") if blip is not None else None
            if props is not None and props.get("name") and rel:
                images[props.get("name")] = rel[1]
        return images


_BROKEN = -1  # a rich value whose index leads nowhere


class _RichValues:
    """Excel's rich-value tables: cell `vm` → metadata block → rich value → image relationship."""

    def __init__(self, package: _Package) -> None:
        self.package = package
        metadata = package._xml("xl/metadata.xml")
        self.blocks: list[int | None] = []  # vm - 1 → rich value index; None: not a rich value
        if metadata is not None:
            types = [t.get("name") for t in _descendants(metadata, "metadataType")]
            rich_type = types.index("XLRICHVALUE") + 1 if "XLRICHVALUE" in types else 0
            future = next((f for f in _descendants(metadata, "futureMetadata") if f.get("name") == "XLRICHVALUE"), None)
            values = []
            for block in _children(future, "bk") if future is not None else ():
                rvb = _first(block, "rvb")
                values.append(int(rvb.get("i")) if rvb is not None and rvb.get("i") is not None else None)
            value_metadata = _first(metadata, "valueMetadata")
            for block in _children(value_metadata, "bk") if value_metadata is not None else ():
                rc = _first(block, "rc")
                if rc is None or int(rc.get("t") or 0) != rich_type:
                    self.blocks.append(None)  # some other kind of value metadata
                    continue
                v = int(rc.get("v") or 0)
                found = values[v] if 0 <= v < len(values) else None
                self.blocks.append(_BROKEN if found is None else found)
        folder = "xl/richData"
        structures = package._xml(f"{folder}/rdrichvaluestructure.xml")
        self.structures = [
            (s.get("t") or "", [k.get("n") or "" for k in _children(s, "k")])
            for s in (_children(structures, "s") if structures is not None else ())
        ]
        values_tree = package._xml(f"{folder}/rdrichvalue.xml")
        self.values = [
            (int(rv.get("s") or 0), [v.text or "" for v in _children(rv, "v")])
            for rv in (_children(values_tree, "rv") if values_tree is not None else ())
        ]
        rel_part = f"{folder}/richValueRel.xml"
        rel_tree, rels = package._xml(rel_part), package._rels(rel_part)
        self.images = [
            rels.get(_attr(rel, "id") or "", ("", ""))[1] or None
            for rel in (_children(rel_tree, "rel") if rel_tree is not None else ())
        ]

    def image(self, vm: int) -> tuple[str | None, str | None]:
        """(media part, None) for a picture; (None, why) when it cannot be read; (None, None): not a rich value."""
        missing = "文件中找不到这张单元格中的图片的数据（请删除后重新插入，或改为浮动图片）"
        index = self.blocks[vm - 1] if 1 <= vm <= len(self.blocks) else None
        if index is None:
            return None, None
        if not 0 <= index < len(self.values):
            return None, missing
        structure, values = self.values[index]
        kind, keys = self.structures[structure] if 0 <= structure < len(self.structures) else ("", [])
        if kind == "_webimage" or "WebImageIdentifier" in " ".join(keys):
            return None, "是用 IMAGE() 函数引用的网络图片，文件中没有图片本身；请插入照片文件"
        if "_rvRel:LocalImageIdentifier" not in keys:
            # Not a picture this program knows how to read: said, never passed over.
            return None, f"是本程序读不了的 Excel 单元格内容（{kind or '未知类型'}），请改为插入照片文件"
        position = keys.index("_rvRel:LocalImageIdentifier")
        try:
            rel = int(values[position])
        except (IndexError, ValueError):
            return None, missing
        if not 0 <= rel < len(self.images) or self.images[rel] is None:
            return None, missing
        return self.images[rel], None
