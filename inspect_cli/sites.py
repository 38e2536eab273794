"""The 点位 register: importing 点位台账 files, adding, finding sites."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path

from inspect_cli import units
from inspect_cli.checklist import ChecklistSet
from inspect_cli.errors import ImportFileError, InputError, NotFoundError
from inspect_cli.models import SITE_FIELDS, Site
from inspect_cli.rows import ImportPlan, PlannedRow, refuse_rows
from inspect_cli.store import Store
from inspect_cli.text import MAX_NAME, clean, for_terminal

# Header names seen in real registers, matched after NFKC folding and space removal.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("点位编号", "点位编码", "点位代码", "编号", "编码"),
    "name": ("点位名称", "名称", "点位"),
    "site_type": ("点位类型", "点位类别", "类型", "类别", "点位分类"),
    "district": ("区县", "所属区县", "所属区", "区", "县区"),
    "street": ("街道", "所属街道", "街道(乡镇)", "所属街道(乡镇)", "乡镇(街道)", "街道办"),
    "community": ("社区", "所属社区", "社区(村)"),
    "grid": ("网格", "所属网格", "网格号"),
    "address": ("地址", "具体地址", "详细地址", "点位地址"),
    "unit": ("责任单位", "主责单位"),
    "partner": ("包抓单位", "包联单位", "共建单位", "包抓共建单位"),
    "contact": ("负责人", "联系人", "点位负责人"),
    "phone": ("联系电话", "电话", "手机", "联系方式", "手机号"),
    "lng": ("经度",),
    "lat": ("纬度",),
}
FIELD_LABELS = {field: names[0] for field, names in HEADER_ALIASES.items()}
REQUIRED = ("name", "site_type")
_HEADER_SCAN_ROWS = 10


def _fold(text: object) -> str:
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return re.sub(r"\s+", "", value).strip("*:：")


@dataclass
class TableSpec:
    """What a register file holds: header names per field, the fields that must be there."""

    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    what: str  # the register, named in messages
    required_label: str  # the required columns, as the missing-header message names them

    def __post_init__(self) -> None:
        self._index = {_fold(alias): key for key, aliases in self.aliases.items() for alias in aliases}

    def field_for(self, header: object) -> str | None:
        return self._index.get(_fold(header))


SITE_TABLE = TableSpec(HEADER_ALIASES, REQUIRED, "点位台账", "“点位名称”和“点位类型”两列")


def _shown(value: object, limit: int | None = None) -> str:
    """A value quoted in a message: no control characters, and not a whole page of it."""
    text = for_terminal(value)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


def pinyin_keys(name: str) -> tuple[str, str]:
    """Initials (农贸市场 → nmsc) and full pinyin, stored so searching needs no pypinyin."""
    from pypinyin import Style, lazy_pinyin

    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default"))
    full = "".join(lazy_pinyin(name, errors="default"))
    return _fold(initials).lower(), _fold(full).lower()


# --- reading register files -------------------------------------------------------


@dataclass
class Table:
    header_row: int
    columns: dict[str, int]
    rows: list[tuple[int, list[str]]]
    ignored_columns: list[str] = field(default_factory=list)


_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# How Excel writes characters XML cannot hold (_x0000_); openpyxl leaves them encoded.
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Worksheets and shared strings, unpacked: a register of 100,000 点位 stays far below.
_MAX_XML_BYTES = 256 << 20


def read_table(path: Path, spec: TableSpec | None = None) -> Table:
    """Read an .xlsx or .csv register (the 点位台账 unless `spec` says otherwise) and locate its header row."""
    spec = spec or SITE_TABLE
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ImportFileError(f"不支持旧版 .xls 文件：{_shown(path)}，请在 Excel/WPS 中另存为 .xlsx 或 .csv")
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
        raise ImportFileError(f"不支持的文件类型 '{_shown(path.suffix)}'：{_shown(path)}（支持 .xlsx 和 .csv）")
    data = _read_bytes(path)
    if suffix in (".xlsx", ".xlsm"):
        import warnings

        # openpyxl warns in English about what it tolerates; the rows are checked in Chinese.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _xlsx_table(path, data, spec)
    return _csv_table(path, data, spec)


def _read_bytes(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise ImportFileError(f"文件不存在：{_shown(path)}" if not path.exists() else f"不是文件：{_shown(path)}")
        return path.read_bytes()
    except PermissionError:
        raise ImportFileError(f"没有权限读取文件：{_shown(path)}") from None
    except OSError as exc:
        raise ImportFileError(f"无法读取文件：{_shown(path)}（{exc.strerror or '系统错误'}）") from None


def _find_header(rows: Iterator[tuple[int, list[str]]], source: str, spec: TableSpec) -> Table | None:
    """The first of the first few non-empty rows naming the required columns, and the rows below it."""
    for scanned, (row_no, cells) in enumerate(rows, start=1):
        columns: dict[str, int] = {}
        duplicates = []
        for col, cell in enumerate(cells):
            field_name = spec.field_for(cell)
            if field_name is None:
                continue
            if field_name in columns:
                duplicates.append(_shown(cell, 40))
            columns.setdefault(field_name, col)
        if all(f in columns for f in spec.required):
            if duplicates:
                raise ImportFileError(f"{source} 第 {row_no} 行表头有重复的列：{'、'.join(duplicates)}")
            ignored = [_shown(c, 40) for i, c in enumerate(cells) if c.strip() and i not in columns.values()]
            return Table(row_no, columns, list(rows), ignored)
        if scanned >= _HEADER_SCAN_ROWS:
            break
    return None


def _no_header(source: str, spec: TableSpec) -> ImportFileError:
    return ImportFileError(f"{source}：前 {_HEADER_SCAN_ROWS} 行中找不到表头，表头至少需要{spec.required_label}")


def _cell(value: object) -> str:
    """A spreadsheet value as the text a person sees in the cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # Phone numbers and codes typed into Excel come back as floats: 13800000000.0.
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ", "minutes")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, str):
        return _OOXML_ESCAPE.sub(_ooxml_char, value).strip()
    return str(value).strip()


def _ooxml_char(match: re.Match[str]) -> str:
    code = int(match[1], 16)
    return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)


def _xlsx_table(path: Path, data: bytes, spec: TableSpec) -> Table:
    from zipfile import ZipFile

    from openpyxl import load_workbook

    corrupt = f"无法读取 Excel 文件 {_shown(path)}：文件已损坏或不是 .xlsx 格式"
    if data.startswith(_OLE_MAGIC):
        raise ImportFileError(
            f"{_shown(path)} 是旧版 .xls 或设有打开密码的 Excel 文件：请在 Excel/WPS 中去掉密码，另存为 .xlsx 后再导入"
        )
    if not data.startswith(_ZIP_MAGIC):
        raise ImportFileError(corrupt)
    try:
        with ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if "xl/workbook.xml" not in {m.filename for m in members}:
                raise ImportFileError(
                    f"{_shown(path)} 是压缩包，但不是 Excel 工作簿（是不是 Word 文档或其他文件改了扩展名？）"
                )
            # A few megabytes of register can claim gigabytes once unpacked (a zip bomb).
            if sum(m.file_size for m in members if m.filename.endswith(".xml")) > _MAX_XML_BYTES:
                raise ImportFileError(f"{_shown(path)} 解压后超过 {_MAX_XML_BYTES >> 20} MB，不像是{spec.what}")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception:  # a damaged package fails in many ways inside openpyxl and lxml
        raise ImportFileError(corrupt) from None
    try:
        # The register is on the first visible sheet that has a header; hidden sheets
        # (dropdown lists, old copies) come last.
        sheets = sorted(workbook.worksheets, key=lambda ws: ws.sheet_state != "visible")
        anything = False
        for sheet in sheets:
            # Files whose recorded size is the whole grid (A1:XFD1048576) would otherwise be
            # padded to 16,384 columns per row.
            sheet.reset_dimensions()
            rows = _sheet_rows(sheet)
            first = next(rows, None)
            if first is None:
                continue
            anything = True
            table = _find_header(itertools.chain([first], rows), path.name, spec)
            if table is not None:
                return table
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(corrupt) from None
    finally:
        workbook.close()
    if not anything:
        raise ImportFileError(f"{path.name}：工作簿里没有任何内容")
    raise _no_header(path.name, spec)


def _sheet_rows(sheet) -> Iterator[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell(v) for v in values]
        if any(cells):
            yield row_no, cells


def _csv_table(path: Path, data: bytes, spec: TableSpec) -> Table:
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        raise ImportFileError(f"{_shown(path)} 实际上是 Excel 文件，不是 CSV：请把扩展名改为 .xlsx（或另存为 .csv）")
    text = _decode(path, data)
    if not text.strip():
        raise ImportFileError(f"{path.name}：文件是空的")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    rows = []
    # newline="" lets the csv module see \r line ends (old Mac exports) as line ends.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Rows are counted as Excel shows the file: a quoted line break stays inside its row.
    row_no = 0
    try:
        for row_no, cells in enumerate(reader, start=1):
            cells = [c.strip() for c in cells]
            if any(cells):
                rows.append((row_no, cells))
    except csv.Error as exc:
        if "field limit" in str(exc):
            reason = f"有单元格超过 {csv.field_size_limit()} 个字符"
        else:
            reason = "格式错误（引号不成对？）"
        raise ImportFileError(f"{path.name} 第 {row_no + 1} 行无法按 CSV 读取：{reason}") from None
    table = _find_header(iter(rows), path.name, spec)
    if table is None:
        raise _no_header(path.name, spec)
    return table


def _decode(path: Path, data: bytes) -> str:
    # Excel's "Unicode text" export is UTF-16 with a byte-order mark.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileError(f"无法识别 {_shown(path)} 的文字编码（支持 UTF-8 和 GBK）") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # GB18030 decodes almost any bytes, so a file that is partly UTF-8 would turn into
    # garbled names without an error: catch the mix first. Neither encoding uses byte 0x0A
    # inside a character, so splitting on it is safe. A short GBK line is valid UTF-8 by
    # chance now and then (a fifth of single characters are); four characters or more
    # almost never are.
    utf8_lines, other_line = 0, 0
    for line_no, line in enumerate(data.removeprefix(codecs.BOM_UTF8).split(b"\n"), start=1):
        try:
            if sum(not c.isascii() for c in line.decode("utf-8")) >= 4:
                utf8_lines += 1
        except UnicodeDecodeError:
            other_line = other_line or line_no
    if utf8_lines and other_line:
        raise ImportFileError(
            f"{path.name} 混用了多种文字编码（第 {other_line} 行不是 UTF-8，其他行是）："
            "请在 Excel/WPS 中打开，另存为“CSV UTF-8”后再导入"
        )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(f"无法识别 {_shown(path)} 的文字编码（支持 UTF-8 和 GBK）") from None


# --- planning and applying an import ----------------------------------------------


@dataclass
class SiteChange(PlannedRow):
    row: int
    action: str  # "create" | "update" | "unchanged"
    site: Site
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)


@dataclass
class ImportReport(ImportPlan):
    path: str
    header_row: int
    changes: list[SiteChange]
    ignored_columns: list[str]
    dry_run: bool
    new_units: list[str] = field(default_factory=list)  # 责任单位/包抓单位 the unit register gains


# Longer than any real value: the address is a short sentence, the code a short tag, the
# rest are names.
_LIMITS = {"address": 200, "code": 40}
# Typed with a Chinese input method these come full-width (１３８, ＮＭＳＣ).
_FOLDED = ("code", "lng", "lat", "phone")
# Codes travel into notice numbers, file names and other tools' columns.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# What a cell shows when its formula failed; no 点位 is called "#N/A".
_EXCEL_ERRORS = frozenset(
    ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA")
)
_COORDINATE_LIMITS = {"lng": 180, "lat": 90}
_UNIT_FIELDS = ("unit", "partner")


def _parse_row(values: dict[str, str], checklists: ChecklistSet, errors: list[str]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    bad: set[str] = set()
    for key, raw in values.items():
        label = FIELD_LABELS[key]
        try:
            value = clean(
                unicodedata.normalize("NFKC", raw) if key in _FOLDED else raw,
                label,
                limit=_LIMITS.get(key, MAX_NAME),
                multiline=False,
            )
        except InputError as exc:
            errors.append(exc.message)
            bad.add(key)
            continue
        if value is None:
            continue
        number = float(value) if key in ("lng", "lat") and _NUMBER.fullmatch(value) else None
        if value.upper() in _EXCEL_ERRORS:
            errors.append(f"{label}是 Excel 错误值 {value}，请先修正公式")
        elif len(value) > 1 and value.startswith("="):
            # A formula exported as text: its result, not the formula, is the value meant.
            errors.append(f"{label}是公式而不是值：'{_shown(value, 30)}'（请在 Excel 中“粘贴为数值”后再导入）")
        elif key in ("lng", "lat") and number is None:
            errors.append(f"{label}不是数字：'{_shown(value, 30)}'")
        elif number is not None and not -_COORDINATE_LIMITS[key] <= number <= _COORDINATE_LIMITS[key]:
            errors.append(f"{label}超出范围：{_shown(value, 30)}")
        elif key == "code" and not _CODE.fullmatch(value):
            errors.append(f"点位编号只能由英文字母、数字和 - _ . 组成：'{_shown(value, 30)}'")
        elif key == "site_type":
            checklist = checklists.resolve(value)
            if checklist is None:
                errors.append(f"未知的点位类型 '{_shown(value, 30)}'")
            else:
                parsed["site_type"] = checklist.site_type
                parsed["type_code"] = checklist.code
                continue
        else:
            parsed[key] = number if number is not None else value
            continue
        bad.add(key)
    if "name" not in parsed and "name" not in bad:
        errors.append("缺少点位名称")
    if "site_type" not in parsed and "site_type" not in bad:
        errors.append("缺少点位类型")
    return parsed


class _CodeAllocator:
    """Hands out TYPE-NNN codes above every code already used, in the store or this file."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.next: dict[str, int] = {}
        self.taken: set[str] = set()

    def allocate(self, type_code: str) -> str:
        if type_code not in self.next:
            pattern = re.compile(rf"^{re.escape(type_code)}-(\d+)$", re.IGNORECASE)
            used = [int(m[1]) for c in self.store.site_codes_with_prefix(f"{type_code}-") if (m := pattern.match(c))]
            self.next[type_code] = max(used, default=0) + 1
        while True:
            code = f"{type_code}-{self.next[type_code]:03d}"
            self.next[type_code] += 1
            if code.upper() not in self.taken and self.store.site_by_code(code) is None:
                self.taken.add(code.upper())
                return code


def plan_sites(
    store: Store, checklists: ChecklistSet, rows: list[tuple[int, dict[str, str]]], source: str
) -> list[SiteChange]:
    """Work out what each row would do; raise listing every bad row, writing nothing."""
    problems: list[str] = []
    plan: list[SiteChange] = []
    codes_seen: dict[str, int] = {}
    names_seen: dict[tuple[str, str], int] = {}
    allocator = _CodeAllocator(store)
    register = units.index(store)
    for row_no, values in rows:
        errors: list[str] = []
        parsed = _parse_row(values, checklists, errors)
        if errors:
            problems.append(f"第 {row_no} 行：{'；'.join(errors)}")
            continue
        # A unit's short or former name means the unit: the register's name is what is kept,
        # so rankings by unit never split over how a register file spelt it. A new unit is
        # spelt as its first row spells it.
        for key in _UNIT_FIELDS:
            if parsed.get(key):
                unit = register.find(str(parsed[key]))
                if unit is None:
                    unit = units.Unit(name=str(parsed[key]))
                    register.add(unit)
                parsed[key] = unit.name
        name, site_type = str(parsed["name"]), str(parsed["site_type"])
        existing: Site | None = None
        code = parsed.get("code")
        if code:
            key = str(code).upper()
            if key in codes_seen:
                problems.append(f"第 {row_no} 行：点位编号 {code} 与第 {codes_seen[key]} 行重复")
                continue
            codes_seen[key] = row_no
            existing = store.site_by_code(str(code))
        else:
            if (name, site_type) in names_seen:
                problems.append(f"第 {row_no} 行：与第 {names_seen[(name, site_type)]} 行同名同类型且未填点位编号")
                continue
            names_seen[(name, site_type)] = row_no
            matches = store.sites_by_name(name, site_type)
            if len(matches) > 1:
                listed = "、".join(s.code for s in matches)
                problems.append(f"第 {row_no} 行：已有多个同名点位（{listed}），请填写点位编号")
                continue
            existing = matches[0] if matches else None
            if existing and existing.code.upper() in codes_seen:
                problems.append(
                    f"第 {row_no} 行：匹配到的点位 {existing.code} 已在第 {codes_seen[existing.code.upper()]} 行出现"
                )
                continue
            if existing:
                codes_seen[existing.code.upper()] = row_no
        if existing is None:
            if not code:
                parsed["code"] = allocator.allocate(str(parsed["type_code"]))
            allocator.taken.add(str(parsed["code"]).upper())
            plan.append(SiteChange(row_no, "create", Site(**parsed)))  # type: ignore[arg-type]
            continue
        # Blank cells and absent columns keep what the register already holds.
        updates = {k: v for k, v in parsed.items() if k != "code"}
        changes = {k: (getattr(existing, k), v) for k, v in updates.items() if getattr(existing, k) != v}
        updated = replace(existing, **updates)
        plan.append(SiteChange(row_no, "update" if changes else "unchanged", updated, changes))
    if problems:
        refuse_rows(source, problems)
    return plan


def new_units(store: Store, plan: list[SiteChange]) -> list[str]:
    """The units a plan names that the unit register does not hold yet."""
    register = units.index(store)
    named = dict.fromkeys(getattr(c.site, key) for c in plan for key in _UNIT_FIELDS)
    return [str(name) for name in named if name and register.find(name) is None]


def apply_plan(store: Store, plan: list[SiteChange]) -> None:
    with store.atomic():
        # The register names its units on purpose: they join the unit register on first use.
        units.ensure_units(store, [getattr(c.site, key) for c in plan for key in _UNIT_FIELDS])
        for change in plan:
            if change.action != "unchanged":
                store.save_site(change.site, *pinyin_keys(change.site.name))


def import_register(store: Store, checklists: ChecklistSet, path: Path, dry_run: bool = False) -> ImportReport:
    table = read_table(path)
    rows = [
        (row_no, {f: (cells[col] if col < len(cells) else "") for f, col in table.columns.items()})
        for row_no, cells in table.rows
    ]
    if not rows:
        raise ImportFileError(f"{path.name}：表头（第 {table.header_row} 行）下没有数据行")
    plan = plan_sites(store, checklists, rows, path.name)
    added = new_units(store, plan)
    if not dry_run:
        apply_plan(store, plan)
    return ImportReport(str(path), table.header_row, plan, table.ignored_columns, dry_run, added)


def add_site(store: Store, checklists: ChecklistSet, values: dict[str, str], new_unit: bool = False) -> SiteChange:
    """Add one site with the same rules as a register row; an existing site is never changed here.

    A person typing a unit gets the register's check (a typo is refused with suggestions)
    unless `new_unit` says the unit is meant; a register file adds its units on first use.
    """
    unknown = set(values) - set(SITE_FIELDS)
    if unknown:
        raise InputError(f"未知的点位字段：{'、'.join(sorted(unknown))}")
    given = {k: str(v) for k, v in values.items() if v is not None}
    if not new_unit:
        for key in ("unit", "partner"):
            if given.get(key, "").strip():
                given[key] = units.resolve_unit(store, given[key], field=FIELD_LABELS[key])
    try:
        (change,) = plan_sites(store, checklists, [(1, given)], "输入")
    except ImportFileError as exc:
        reason = exc.details[0].split("：", 1)[-1] if exc.details else exc.message
        raise InputError(f"无法添加点位：{reason}") from None
    if change.action != "create":
        # The row was valid, so its code (if any) cleans without error.
        if clean(unicodedata.normalize("NFKC", given.get("code", "")), FIELD_LABELS["code"], multiline=False):
            raise InputError(f"点位编号 {change.site.code} 已存在；要修改已有点位请用 site import 导入台账")
        raise InputError(f"已有同名同类型的点位 {change.site.code}（{_shown(change.site.name)}）")
    apply_plan(store, [change])
    saved = store.site_by_code(change.site.code)
    assert saved is not None
    return replace(change, site=saved)


# --- finding sites ----------------------------------------------------------------


def search_sites(
    store: Store,
    search: str | None = None,
    site_type: str | None = None,
    street: str | None = None,
    unit: str | None = None,
) -> list[Site]:
    # A short or former name filters by the unit it means; anything else is a name fragment.
    unit = (units.register_name(store, unit) or unit) if unit else None
    sites = store.list_sites(site_type=site_type, street=street, unit=unit, search=search)
    if not search:
        return sites
    wanted = search.strip().lower()

    def rank(site: Site) -> tuple[int, str]:
        code = site.code.lower()
        if code == wanted or site.name == search.strip():
            return (0, code)
        if code.startswith(wanted) or site.name.startswith(search.strip()):
            return (1, code)
        return (2, code)

    return sorted(sites, key=rank)


def resolve_site(store: Store, text: str) -> Site:
    """A site named by code, name, name fragment or pinyin initials — if unambiguous."""
    text = text.strip()
    if not text:
        raise InputError("请指定点位（编号、名称或拼音首字母）")
    site = store.site_by_code(text)
    if site is not None:
        return site
    matches = search_sites(store, search=text)
    exact = [s for s in matches if s.name == text]
    if len(exact) == 1:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"找不到点位 '{text}'（可用 inspect-cli site list --search 查找）")
    listed = "；".join(f"{s.code} {s.name}" for s in matches[:8])
    more = f" 等 {len(matches)} 个" if len(matches) > 8 else ""
    raise InputError(f"'{text}' 匹配到多个点位：{listed}{more}。请用点位编号指定")
