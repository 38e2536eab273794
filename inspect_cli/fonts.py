"""The fonts a 公文 names, chosen from those this computer has.

GB/T 9704 sets the title in 方正小标宋, the body in 仿宋_GB2312, headings in 黑体 and 楷体.
A document names one font per run, so each role has a list: the standard face first, then
the faces an office computer is likely to have instead. The first one installed is named;
when none is (a Linux laptop with only Noto), the role's Windows face is named, because the
notice is read in Word or WPS on Windows, and LibreOffice maps it to what it has.

What is installed is asked once per process: fontconfig (`fc-list`) on Linux and macOS, the
font registry on Windows. Each name is matched with its English family name too (仿宋 is
FangSong), since a system may list either.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Face:
    name: str  # as the document names it
    aliases: tuple[str, ...] = ()  # other family names of the same face


@dataclass(frozen=True)
class Role:
    faces: tuple[Face, ...]
    windows: str  # named when none is installed


TITLE = Role(
    (
        Face("方正小标宋简体", ("FZXiaoBiaoSong-B05S", "方正小标宋_GBK", "FZXiaoBiaoSong-B05")),
        Face("华文中宋", ("STZhongsong",)),
        Face("宋体", ("SimSun",)),
    ),
    windows="宋体",
)
BODY = Role(
    (
        Face("仿宋_GB2312", ("FangSong_GB2312",)),
        Face("仿宋", ("FangSong",)),
        Face("华文仿宋", ("STFangsong",)),
    ),
    windows="仿宋",
)
HEADING = Role((Face("黑体", ("SimHei",)), Face("华文黑体", ("STHeiti",))), windows="黑体")
SUBHEADING = Role(
    (Face("楷体_GB2312", ("KaiTi_GB2312",)), Face("楷体", ("KaiTi",)), Face("华文楷体", ("STKaiti",))),
    windows="楷体",
)
TABLE = Role((Face("宋体", ("SimSun",)), Face("华文宋体", ("STSong",))), windows="宋体")


def choose(role: Role, installed: frozenset[str] | None = None) -> str:
    """The name of the first of the role's faces this computer has, else its Windows face."""
    have = installed_families() if installed is None else installed
    for face in role.faces:
        if any(name.casefold() in have for name in (face.name, *face.aliases)):
            return face.name
    return role.windows


@functools.cache
def installed_families() -> frozenset[str]:
    """Every font family name installed here, case-folded (empty when it cannot be asked)."""
    names: set[str] = set()
    if sys.platform == "win32":
        names |= _windows_registry()
    elif shutil.which("fc-list"):
        try:
            listed = subprocess.run(
                ["fc-list", ":", "family"], capture_output=True, text=True, timeout=20, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            listed = ""
        for line in listed.splitlines():
            names.update(part.strip() for part in line.split(","))
    return frozenset(name.casefold() for name in names if name)


def _windows_registry() -> set[str]:  # pragma: no cover - Windows only
    import winreg

    names: set[str] = set()
    keys = [(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Fonts")]
    if os.environ.get("LOCALAPPDATA"):  # fonts installed for one user (Windows 10 1809 on)
        keys.append((winreg.HKEY_CURRENT_USER, r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Fonts"))
    for root, path in keys:
        try:
            with winreg.OpenKey(root, path) as key:
                index = 0
                while True:
                    try:
                        value_name = winreg.EnumValue(key, index)[0]
                    except OSError:
                        break
                    index += 1
                    # "SimSun & NSimSun (TrueType)", "方正小标宋简体 (TrueType)"
                    for part in value_name.split(" (")[0].split("&"):
                        names.add(part.strip())
        except OSError:
            continue
    return names
