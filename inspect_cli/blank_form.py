"""The blank 测评表 for paper days: what the form holds and how its page is laid out.

One form serves both writers (`excel.blank_form` for .xlsx, `blank_form_docx` for .docx),
so the two files show the same rows, the same column widths and the same page.

The form follows the checklist item by item: its 序号 is the item's position, the number
`checklist show` prints and `record SITE N` takes, so a filled-in sheet is typed in from top
to bottom in the order `run` asks. Items sit under their category as the checklist groups
them: each run of consecutive items of one category is a group, and a category the
checklist comes back to later (often through a shared fragment) starts a group again.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from inspect_cli.errors import InputError
from inspect_cli.scoring import format_points
from inspect_cli.text import for_xml

if TYPE_CHECKING:
    from inspect_cli.checklist import Checklist, ChecklistSet
    from inspect_cli.models import Site

BOX = "□"
FONT = "宋体"  # the Word file also gives its English name, SimSun; the Excel file marks it Chinese (GB2312)
TITLE_PT = 18
BODY_PT = 10.5  # 五号, the size of printed forms
SMALL_PT = 9  # the 标准 under an item's text
BOX_PT = 14  # big enough to tick with a pen

# A4 portrait, in millimetres. The bottom margin leaves room for the page number.
PAGE_MM = (210.0, 297.0)
MARGIN_MM = {"left": 15.0, "right": 15.0, "top": 12.0, "bottom": 16.0, "footer": 7.0}
PRINT_WIDTH_MM = PAGE_MM[0] - MARGIN_MM["left"] - MARGIN_MM["right"]
CELL_PAD_MM = 2.2  # text inset of a cell, both sides together (Word's cell margins are set to it)
# Row heights, in millimetres; an item's row grows with its text, the others are fixed.
MIN_ROW_MM = 11.0  # room to write a few words by hand in 问题描述
FIELD_ROW_MM = 9.0  # 点位名称 and the like, written on a line
HEADER_ROW_MM = 8.0
SIGN_ROW_MM = 12.0
DATE_ROW_MM = 9.0
TICK_MM = 12.0  # the 合格/不合格 columns: a box and room around it for the pen

HEADER = ("序号", "测评项目", "测评内容", "分值", "合格", "不合格", "问题描述")
FIELD_LABELS = ("点位名称", "点位编号", "所属街道", "具体地址")
SIGNATURES = ("测评人员（签字）", "点位负责人（签字）", "日期")
DATE_BLANKS = "　　　　　　年　　　月　　　日"
MAX_CATEGORY_EMS = 6  # a longer category wraps rather than squeeze the text column
_PT_MM = 25.4 / 72


class FormFormat(str, Enum):
    xlsx = "xlsx"
    docx = "docx"


@dataclass(frozen=True)
class FormItem:
    number: int  # position in the checklist
    text: str
    standard: str | None
    score: float


@dataclass(frozen=True)
class FormGroup:
    category: str
    items: tuple[FormItem, ...]


@dataclass(frozen=True)
class BlankForm:
    site_type: str
    code: str
    edition: str
    full_score: float
    groups: tuple[FormGroup, ...]
    fields: tuple[tuple[str, str], ...]  # (label, value): value "" to fill in by hand
    widths_mm: tuple[float, ...]  # one per HEADER column, adding up to PRINT_WIDTH_MM
    site_code: str | None = None

    @property
    def title(self) -> str:
        return f"{self.site_type}实地测评表"

    @property
    def label(self) -> str:
        """What names a loose page at its foot: the title, and the site's code when there is one."""
        return f"{self.title}　{self.site_code}" if self.site_code else self.title

    @property
    def subtitle(self) -> str:
        score = format_points(self.full_score)
        return f"测评标准：{self.code}（{self.edition} 版）　共 {len(self.items)} 项，满分 {score} 分"

    @property
    def items(self) -> list[tuple[FormGroup, FormItem]]:
        return [(group, item) for group in self.groups for item in group.items]


def signature_label(label: str) -> str:
    """A signature label on two lines, broken before （签字）: never in the middle of a word."""
    return label.replace("（", "\n（", 1)


def ems(text: str) -> float:
    """Width of a line of text in ems: a CJK character is one, a Latin letter or digit about half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


def text_mm(text: str, size_pt: float) -> float:
    return ems(text) * size_pt * _PT_MM


def _groups(checklist: Checklist) -> tuple[FormGroup, ...]:
    groups: list[FormGroup] = []
    run: list[FormItem] = []
    category: str | None = None
    for number, item in enumerate(checklist.items, start=1):
        if item.category != category and run:
            groups.append(FormGroup(category or "", tuple(run)))
            run = []
        category = item.category
        run.append(FormItem(number, _line(item.text), _line(item.standard) or None, item.score))
    if run:
        groups.append(FormGroup(category or "", tuple(run)))
    return tuple(groups)


def _line(text: str | None) -> str:
    return re.sub(r"\s*\n\s*", " ", for_xml(text)).strip()


def _widths(groups: tuple[FormGroup, ...]) -> tuple[float, ...]:
    """Every heading on one line, every category name whole (up to MAX_CATEGORY_EMS), the rest shared.

    The text column gets three fifths of what is left and 问题描述 two: the item must be
    readable, and the description needs room for a hand.
    """
    items = [item for group in groups for item in group.items]

    def fit(*texts: str) -> float:
        return max(text_mm(t, BODY_PT) for t in texts) + CELL_PAD_MM + 0.8

    longest_category = max((g.category for g in groups), key=ems, default="")
    category = fit(HEADER[1], longest_category[:MAX_CATEGORY_EMS])
    number = fit(HEADER[0], str(len(items)))
    score = fit(HEADER[3], *(format_points(i.score) for i in items))
    passed = max(fit(HEADER[4]), TICK_MM)
    failed = max(fit(HEADER[5]), TICK_MM)
    rest = PRINT_WIDTH_MM - (number + category + score + passed + failed)
    text = round(rest * 0.6, 1)
    note = round(rest - text, 1)
    return (number, category, text, score, passed, failed, note)


def blank_form(checklists: ChecklistSet, site_type: str, site: Site | None = None) -> BlankForm:
    """The form for a type (name, code or alias); with a site of that type, its 点位 fields filled in."""
    checklist = checklists.get(site_type)
    # A site's type is found as `run` finds it, so the form is the one its inspection would use.
    if site is not None and checklists.resolve(site.site_type) is not checklist:
        raise InputError(
            f"点位 {site.code} {site.name} 的类型是{site.site_type}，不是{checklist.site_type}；"
            f"请打印{site.site_type}测评表：inspect-cli checklist print {site.site_type} --site {site.code}"
        )
    values = ("", "", "", "")
    if site is not None:
        values = (site.name, site.code, site.street or "", site.address or "")
    groups = _groups(checklist)
    return BlankForm(
        site_type=checklist.site_type,
        code=checklist.code,
        edition=checklist.edition,
        full_score=checklist.full_score,
        groups=groups,
        fields=tuple(zip(FIELD_LABELS, (_line(v) for v in values), strict=True)),
        widths_mm=_widths(groups),
        site_code=site.code if site is not None else None,
    )


# --- the file -----------------------------------------------------------------------


def form_format(output: Path) -> FormFormat:
    """The format an output file name asks for, by its suffix."""
    suffix = output.suffix.lower()
    for fmt in FormFormat:
        if suffix == f".{fmt.value}":
            return fmt
    formats = "测评表可输出为 .xlsx（Excel）或 .docx（Word）"
    if not suffix:
        raise InputError(f"输出文件 {output} 没有后缀：{formats}")
    raise InputError(f"不支持的输出文件类型 {suffix}（{output}）：{formats}")


_UNSAFE = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|\s]+')


def default_file_name(form: BlankForm) -> str:
    """测评表_<类型>.xlsx, or 测评表_<类型>_<点位编号>.xlsx: a name Windows, macOS and Linux all take."""
    parts = ["测评表", form.site_type, *([form.site_code] if form.site_code else [])]
    return "_".join(_UNSAFE.sub("_", p).strip("_. ") or "_" for p in parts) + ".xlsx"


def write_blank_form(form: BlankForm, path: Path) -> Path:
    """Write the form as the suffix of `path` says; nothing is left behind if writing fails."""
    fmt = form_format(path)
    if fmt is FormFormat.xlsx:
        from inspect_cli.excel.blank_form import form_xlsx

        data = form_xlsx(form)
    else:
        from inspect_cli.blank_form_docx import form_docx

        data = form_docx(form)
    _write_bytes(path, data)
    return path


def _write_bytes(path: Path, data: bytes) -> None:
    """`data` under the name `path`, all or nothing: a half-written file never takes the name."""
    from inspect_cli.media import os_reason

    created: list[Path] = []
    tmp: str | None = None
    try:
        folder = path.parent
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for folder in reversed(missing):
            folder.mkdir()
            created.append(folder)
        if path.is_dir():
            raise InputError(f"无法写入文件 {path}：这是一个文件夹")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp makes the file private; a form is a document like any other the user saves.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        # Windows refuses to replace a file another program holds open.
        hint = "（文件是否正在 Excel、WPS 或 Word 中打开？）" if isinstance(exc, PermissionError) else ""
        raise InputError(f"无法写入文件 {path}：{os_reason(exc)}{hint}") from None
    finally:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)
        if tmp is not None or not path.exists():
            for folder in reversed(created):
                with suppress(OSError):
                    folder.rmdir()
