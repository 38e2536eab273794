"""The 点位 register: importing 点位台账 files, adding, finding sites."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from inspect_cli.checklist import ChecklistSet
from inspect_cli.errors import ImportFileError, InputError, NotFoundError
from inspect_cli.models import SITE_FIELDS, Site
from inspect_cli.store import Store

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


_ALIAS_INDEX = {_fold(alias): field for field, aliases in HEADER_ALIASES.items() for alias in aliases}


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


def read_table(path: Path) -> Table:
    """Read an .xlsx or .csv register and locate its header row."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ImportFileError(f"文件不存在：{path}")
    if suffix == ".xlsx" or suffix == ".xlsm":
        raw = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        raw = _read_csv(path)
    elif suffix == ".xls":
        raise ImportFileError(f"不支持旧版 .xls 文件：{path}，请在 Excel/WPS 中另存为 .xlsx 或 .csv")
    else:
        raise ImportFileError(f"不支持的文件类型 '{path.suffix}'：{path}（支持 .xlsx 和 .csv）")
    for index, (row_no, cells) in enumerate(raw[:_HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        duplicates = []
        for col, cell in enumerate(cells):
            field_name = _ALIAS_INDEX.get(_fold(cell))
            if field_name is None:
                continue
            if field_name in columns:
                duplicates.append(str(cell).strip())
            columns.setdefault(field_name, col)
        if all(f in columns for f in REQUIRED):
            if duplicates:
                raise ImportFileError(f"{path.name} 第 {row_no} 行表头有重复的列：{'、'.join(duplicates)}")
            ignored = [str(c).strip() for i, c in enumerate(cells) if str(c).strip() and i not in columns.values()]
            return Table(row_no, columns, raw[index + 1 :], ignored)
    raise ImportFileError(f"{path.name}：前 {_HEADER_SCAN_ROWS} 行中找不到表头，表头至少需要“点位名称”和“点位类型”两列")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e6:
        # Phone numbers typed into Excel come back as floats.
        return str(int(value))
    return str(value).strip()


def _read_xlsx(path: Path) -> list[tuple[int, list[str]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            f"无法读取 Excel 文件 {path}：文件已损坏或不是 .xlsx（{exc.__class__.__name__}）"
        ) from None
    try:
        sheet = next((ws for ws in workbook.worksheets if ws.sheet_state == "visible"), workbook.worksheets[0])
        rows = []
        for row_no, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if any(cells):
                rows.append((row_no, cells))
        return rows
    finally:
        workbook.close()


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(f"无法识别 {path} 的文字编码（支持 UTF-8 和 GBK）")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    rows = []
    try:
        for row_no, cells in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
            cells = [c.strip() for c in cells]
            if any(cells):
                rows.append((row_no, cells))
    except csv.Error as exc:
        raise ImportFileError(f"{path} 不是有效的 CSV 文件：{exc}") from None
    return rows


# --- planning and applying an import ----------------------------------------------


@dataclass
class SiteChange:
    row: int
    action: str  # "create" | "update" | "unchanged"
    site: Site
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)

    @property
    def action_label(self) -> str:
        return {"create": "新增", "update": "更新", "unchanged": "无变化"}[self.action]


@dataclass
class ImportReport:
    path: str
    header_row: int
    changes: list[SiteChange]
    ignored_columns: list[str]
    dry_run: bool

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def _parse_row(values: dict[str, str], checklists: ChecklistSet, errors: list[str]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for key, value in values.items():
        value = unicodedata.normalize("NFKC", value).strip() if key in ("code", "lng", "lat", "phone") else value
        if value == "":
            continue
        if key in ("lng", "lat"):
            try:
                number = float(value)
            except ValueError:
                errors.append(f"{FIELD_LABELS[key]}不是数字：'{value}'")
                continue
            limit = 180 if key == "lng" else 90
            if not -limit <= number <= limit:
                errors.append(f"{FIELD_LABELS[key]}超出范围：{value}")
                continue
            parsed[key] = number
        elif key == "site_type":
            checklist = checklists.resolve(value)
            if checklist is None:
                errors.append(f"未知的点位类型 '{value}'")
                continue
            parsed["site_type"] = checklist.site_type
            parsed["type_code"] = checklist.code
        else:
            parsed[key] = value
    if "name" not in parsed:
        errors.append("缺少点位名称")
    if not values.get("site_type", "").strip():
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
    for row_no, values in rows:
        errors: list[str] = []
        parsed = _parse_row(values, checklists, errors)
        if errors:
            problems.append(f"第 {row_no} 行：{'；'.join(errors)}")
            continue
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
        raise ImportFileError(f"{source} 有 {len(problems)} 行无法导入，未写入任何数据", problems)
    return plan


def apply_plan(store: Store, plan: list[SiteChange]) -> None:
    with store.atomic():
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
    if not dry_run:
        apply_plan(store, plan)
    return ImportReport(str(path), table.header_row, plan, table.ignored_columns, dry_run)


def add_site(store: Store, checklists: ChecklistSet, values: dict[str, str]) -> SiteChange:
    """Add one site (or update it, when the code exists) with the same rules as an import."""
    unknown = set(values) - set(SITE_FIELDS)
    if unknown:
        raise InputError(f"未知的点位字段：{'、'.join(sorted(unknown))}")
    clean = {k: str(v) for k, v in values.items() if v is not None}
    existing = store.site_by_code(clean["code"]) if clean.get("code") else None
    if existing is not None:
        raise InputError(f"点位编号 {existing.code} 已存在；要修改已有点位请用 site import 导入台账")
    try:
        (change,) = plan_sites(store, checklists, [(1, clean)], "输入")
    except ImportFileError as exc:
        reason = exc.details[0].split("：", 1)[-1] if exc.details else exc.message
        raise InputError(f"无法添加点位：{reason}") from None
    if change.action != "create":
        raise InputError(f"已有同名同类型的点位 {change.site.code}（{change.site.name}）")
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
