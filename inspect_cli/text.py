"""User text: cleaned once at entry, made safe again wherever it leaves (terminal, XML, Markdown).

Entry (`clean`) keeps what a person typed and removes only what no person means to type:
control characters, terminal escape sequences, bidirectional overrides. Text that cannot be
stored (lone surrogates from a badly encoded argument) or is longer than any real field is
refused with a message naming the field. The writers (`for_terminal`, `for_xml`,
`for_markdown`) cope with whatever is already stored, including text saved before entry
was checked.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from typing import Any

from inspect_cli.errors import InputError

# Descriptions, notes, reasons: a long paragraph fits; Excel's 32,767-character cell never
# comes near.
MAX_TEXT = 2000
# Names: a unit, an inspector, a site, a street.
MAX_NAME = 100

_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    # OSC (window titles, hyperlinks) and DCS/SOS/PM/APC strings. Unterminated, they run to
    # the next escape or the end, as a terminal would swallow them.
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]?"  # any other escape
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# Controls other than tab and newline, DEL and the C1 block, bidirectional overrides and
# isolates (they reorder what a reader sees), and the line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")
# What XML 1.0 does not allow, listed rather than written as "not what XML allows": Python
# takes ~10 ms to compile that negated class, on every command (tests/test_startup.py
# checks the two are the same over every code point).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MARKDOWN_BLOCK = re.compile(r"^(\s*)([#+\-=]|\d+[.)])")


def strip_controls(text: str, *, multiline: bool = True) -> str:
    """Escape sequences and control characters removed; line breaks unified (or folded)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _ESCAPE.sub("", text).replace("\t", " ")
    text = _CONTROL.sub("", text)
    if not multiline:
        text = re.sub(r"\s*\n\s*", " ", text)
    return text


def clean(
    value: object, field: str, *, limit: int = MAX_TEXT, multiline: bool = True, required: bool = False
) -> str | None:
    """Text as it is stored: NFC, controls removed, trimmed; None when empty.

    Raises `InputError` naming `field` when the text cannot be stored or is too long.
    """
    if value is None:
        if required:
            raise InputError(f"{field}不能为空")
        return None
    text = str(value)
    if _SURROGATE.search(text):
        raise InputError(f"{field}含有无法识别的字符（输入的编码不是 UTF-8？），请重新输入")
    text = unicodedata.normalize("NFC", strip_controls(text, multiline=multiline))
    text = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    if not text:
        if required:
            raise InputError(f"{field}不能为空")
        return None
    if len(text) > limit:
        raise InputError(f"{field}过长：{len(text)} 个字符，最多 {limit} 个；请精简后再填写")
    return text


def clean_name(value: object, field: str, *, required: bool = False) -> str | None:
    """A one-line name (unit, inspector, street): `clean` with a name's length."""
    return clean(value, field, limit=MAX_NAME, multiline=False, required=required)


def for_terminal(value: object) -> str:
    """Stored or foreign text made safe to print: no escape sequences, no controls."""
    if value is None:
        return ""
    return strip_controls(_SURROGATE.sub("\ufffd", str(value)))


def for_xml(value: object) -> str:
    """Text a Word/Excel XML part can hold (XML 1.0 forbids most control characters)."""
    if value is None:
        return ""
    return _XML_INVALID.sub("", strip_controls(str(value)))


def for_markdown(value: object) -> str:
    """Inline Markdown that shows the text as typed: no live links, images, HTML or emphasis."""
    text = for_terminal(value).replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # A leading # - + or "1." would turn the text into a heading or a list.
    return _MARKDOWN_BLOCK.sub(lambda m: m[1] + m[2][:-1] + "\\" + m[2][-1], text)


def text_width(value: Any) -> int:
    """Display width in half-width units (Excel's column unit): a CJK character is two."""
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    if isinstance(value, float):
        return len(f"{value:.1f}")
    return _str_width(str(value))


@functools.lru_cache(maxsize=65536)
def _str_width(text: str) -> int:
    # Cached: a year's report measures the same item texts, names and units many thousand times.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
