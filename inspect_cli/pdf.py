"""PDF copies of the Word and Excel outputs, made by LibreOffice (headless) when it is installed.

LibreOffice runs with a profile of its own in a temporary folder, so a conversion works while
the user has LibreOffice open, and leaves their settings alone. One start-up costs seconds:
`convert` takes many files in one run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from inspect_cli.errors import InputError, NotFoundError

TIMEOUT = 180  # seconds for one LibreOffice run
INSTALL = (
    "未找到 LibreOffice，无法生成 PDF（文件本身未生成）。请安装 LibreOffice（https://zh-cn.libreoffice.org/；"
    "Debian/Ubuntu：sudo apt install libreoffice-writer libreoffice-calc；macOS：brew install --cask libreoffice），"
    "或去掉 --pdf，用 Word/WPS 打开后另存为 PDF"
)


def find_soffice() -> str | None:
    """LibreOffice's command: on the PATH, else where its installers put it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    places = [Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")]
    if sys.platform == "win32":  # pragma: no cover - Windows only
        for root in (os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)")):
            if root:
                places.append(Path(root) / "LibreOffice" / "program" / "soffice.exe")
    return next((str(p) for p in places if p.is_file()), None)


def require_soffice() -> str:
    """The command, or the reason there is none (exit 3), before anything is written."""
    soffice = find_soffice()
    if soffice is None:
        raise NotFoundError(INSTALL)
    return soffice


def to_pdf(path: Path, soffice: str) -> Path:
    """`path` (.docx or .xlsx) as a PDF beside it, same name; returns the PDF's path."""
    made = convert([path], path.parent, soffice)
    if path not in made:
        raise InputError(f"LibreOffice 未能把 {path} 转成 PDF（{path.with_suffix('.pdf')} 未生成）")
    return made[path]


def convert(sources: Sequence[Path], outdir: Path, soffice: str) -> dict[Path, Path]:
    """Each source as `outdir/<stem>.pdf`, in one LibreOffice run; those that came out."""
    outdir.mkdir(parents=True, exist_ok=True)
    for source in sources:  # replaced: an old copy must not pass for a new one
        (outdir / f"{source.stem}.pdf").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="inspect-cli-lo-") as profile:
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            *map(str, sources),
        ]
        try:
            subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise InputError(f"LibreOffice 超过 {TIMEOUT} 秒仍未完成 PDF 转换") from None
        except OSError as exc:
            raise InputError(f"无法运行 LibreOffice（{soffice}）：{exc.strerror or exc}") from None
    return {s: outdir / f"{s.stem}.pdf" for s in sources if (outdir / f"{s.stem}.pdf").is_file()}
