#!/usr/bin/env python3
"""Render output files to PNG pages, to look at what the tool makes without opening Word or Excel.

Each .docx/.xlsx goes through LibreOffice (headless, with a profile of its own, so it works
while another LibreOffice runs) to PDF, and each PDF page through pdftoppm to
`<stem>-<page>.png` in the output folder. `--demo` first builds the sample city in a
temporary database with the project's own CLI and renders the notice, its annex, the
report and the 整改通知单: one command refreshes every picture.

    scripts/render.py build/demo/周通报.docx build/demo/测评报告.xlsx
    scripts/render.py 整改通知单/ --first-page-only --dpi 60 --out /tmp/pages
    scripts/render.py --demo

Run it with the project's Python (`.venv/bin/python scripts/render.py`): it converts with
`inspect_cli.pdf`, the same code as `notice --pdf`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout: the project's own modules

from inspect_cli.errors import InputError  # noqa: E402
from inspect_cli.pdf import convert, find_soffice  # noqa: E402

DEFAULT_OUT = ROOT / "build" / "render"
OFFICE_SUFFIXES = {".docx", ".xlsx", ".doc", ".xls", ".odt", ".ods"}
SUFFIXES = OFFICE_SUFFIXES | {".pdf"}
MISSING = 2  # exit code: a tool or an input is missing
# What --demo renders. Sheet names carry the date, so the pages of earlier runs are removed first.
DEMO_PAGES = re.compile(r"(周通报|测评报告|整改通知单_).*-\d+\.png")


class Failure(Exception):
    """Something a person must fix; the message says what, the code is the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.demo and not args.paths:
        _parser().error("给出要转换的文件或文件夹，或用 --demo")
    try:
        soffice, pdftoppm = _tools()
        out = args.out.resolve()
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="inspect-render-") as temp:
            work = Path(temp)
            if args.demo:
                inputs = _demo(work, args.today)
                for old in out.iterdir():
                    if DEMO_PAGES.fullmatch(old.name):
                        old.unlink()
            else:
                inputs = _inputs(args.paths)
            made = _render(inputs, out, work, soffice, pdftoppm, args.dpi, args.first_page_only)
    except Failure as failure:
        print(f"错误：{failure}", file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:
        return 130
    print(f"共 {sum(len(pages) for pages in made.values())} 页，{len(made)} 个文件 → {out}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="render.py",
        description="把 .docx/.xlsx/.pdf 转成逐页 PNG（LibreOffice + pdftoppm）。",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="例：scripts/render.py --demo；scripts/render.py build/demo/周通报.docx --first-page-only",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="文件或文件夹（文件夹内的 .docx/.xlsx/.pdf 全部转换）")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"PNG 输出文件夹（默认 {DEFAULT_OUT}）")
    parser.add_argument("--dpi", type=_dpi, default=80, help="分辨率（默认 80）")
    parser.add_argument("--first-page-only", action="store_true", help="每个文件只转第一页")
    parser.add_argument("--demo", action="store_true", help="先用示例城市生成通报、报告和整改通知单，再全部转换")
    parser.add_argument("--today", metavar="YYYY-MM-DD", help="--demo 时的“今天”（INSPECT_CLI_TODAY），图片可重现")
    return parser


def _dpi(text: str) -> int:
    value = int(text)
    if not 10 <= value <= 600:
        raise argparse.ArgumentTypeError("应在 10 到 600 之间")
    return value


def _tools() -> tuple[str, str]:
    soffice = find_soffice()
    pdftoppm = shutil.which("pdftoppm")
    missing = []
    if soffice is None:
        missing.append("LibreOffice（soffice；Debian/Ubuntu：apt install libreoffice-writer libreoffice-calc）")
    if pdftoppm is None:
        missing.append("pdftoppm（poppler；Debian/Ubuntu：apt install poppler-utils）")
    if missing:
        raise Failure("找不到 " + "，也找不到 ".join(missing), MISSING)
    return soffice, pdftoppm  # type: ignore[return-value]


def _inputs(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", ".~lock"))
            )
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise Failure(f"不支持的文件类型：{path}（可转换 {'、'.join(sorted(SUFFIXES))}）", MISSING)
            found.append(path)
        else:
            raise Failure(f"文件不存在：{path}", MISSING)
    if not found:
        raise Failure("没有找到可转换的文件（.docx、.xlsx、.pdf）", MISSING)
    return [p.resolve() for p in found]


def _cli() -> list[str]:
    for candidate in (ROOT / ".venv" / "bin" / "inspect-cli", ROOT / ".venv" / "Scripts" / "inspect-cli.exe"):
        if candidate.exists():
            return [str(candidate)]
    installed = shutil.which("inspect-cli")
    if installed:
        return [installed]
    raise Failure(f"找不到 inspect-cli：先在 {ROOT} 运行 make demo（建立 .venv）", MISSING)


def _demo(work: Path, today: str | None) -> list[Path]:
    """The sample city in a temporary database, and every document the tool writes from it."""
    cli = _cli()
    db, docs = work / "city.sqlite", work / "demo"
    docs.mkdir()
    env = dict(os.environ)
    env["INSPECT_CLI_CONFIG"] = str(work / "no-config.yaml")  # the defaults, not this user's settings
    if today:
        env["INSPECT_CLI_TODAY"] = today
    steps = [
        ["demo"],
        ["notice", "-o", str(docs / "周通报.docx")],
        ["export", "report", "-o", str(docs / "测评报告.xlsx")],
        ["export", "rectification", "-o", str(docs / "整改通知单")],
    ]
    for step in steps:
        print("inspect-cli " + " ".join(step[:2]), "…", flush=True)
        done = subprocess.run([*cli, "--db", str(db), *step], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise Failure(f"inspect-cli {' '.join(step)} 失败（{done.returncode}）：\n{done.stderr.strip()}")
    return _inputs([docs])


def _render(
    inputs: Sequence[Path], out: Path, work: Path, soffice: str, pdftoppm: str, dpi: int, first_only: bool
) -> dict[Path, list[Path]]:
    names = _page_names(inputs)
    pdfs = _to_pdf([p for p in inputs if p.suffix.lower() != ".pdf"], work, soffice)
    made: dict[Path, list[Path]] = {}
    failed = []
    for source in inputs:
        pdf = source if source.suffix.lower() == ".pdf" else pdfs.get(source)
        if pdf is None:
            failed.append(source)
            print(f"  ✗ {source}：LibreOffice 未能转成 PDF", file=sys.stderr)
            continue
        made[source] = pages = _to_png(pdf, out, names[source], pdftoppm, dpi, first_only)
        shown = ", ".join(p.name for p in pages[:3]) + (f" … 共 {len(pages)} 页" if len(pages) > 3 else "")
        print(f"  {source.name} → {shown}")
    if failed:
        raise Failure(f"{len(failed)} 个文件未能转换")
    return made


def _page_names(inputs: Sequence[Path]) -> dict[Path, str]:
    """`<stem>` for each file's pages; files sharing a stem get their suffix added."""
    stems: dict[str, int] = {}
    for path in inputs:
        stems[path.stem] = stems.get(path.stem, 0) + 1
    names: dict[Path, str] = {}
    for path in inputs:
        name = path.stem if stems[path.stem] == 1 else f"{path.stem}_{path.suffix.lstrip('.').lower()}"
        if name in names.values():  # the same name in two folders
            name = f"{path.parent.name}_{name}"
        names[path] = name
    return names


def _to_pdf(sources: Sequence[Path], work: Path, soffice: str) -> dict[Path, Path]:
    """All files in as few LibreOffice runs as file names allow (one start-up costs seconds)."""
    pdfs: dict[Path, Path] = {}
    batches: list[list[Path]] = []
    for source in sources:  # a batch writes into one folder: no two stems alike in it
        batch = next((b for b in batches if all(p.stem != source.stem for p in b)), None)
        if batch is None:
            batches.append(batch := [])
        batch.append(source)
    for number, batch in enumerate(batches, 1):
        started = time.monotonic()
        try:
            pdfs.update(convert(batch, work / f"pdf-{number}", soffice))
        except InputError as exc:
            raise Failure(str(exc)) from None
        print(f"LibreOffice：{len(batch)} 个文件转成 PDF，用时 {time.monotonic() - started:.1f} 秒", flush=True)
    return pdfs


def _to_png(pdf: Path, out: Path, name: str, pdftoppm: str, dpi: int, first_only: bool) -> list[Path]:
    page = re.compile(re.escape(name) + r"-\d+\.png")
    for old in out.iterdir():  # a document that got shorter leaves no stale pages behind
        if page.fullmatch(old.name):
            old.unlink()
    command = [pdftoppm, "-png", "-r", str(dpi), *(["-f", "1", "-l", "1"] if first_only else []), str(pdf)]
    done = subprocess.run([*command, str(out / name)], capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(f"pdftoppm 未能转换 {pdf.name}：{done.stderr.strip()}")
    return sorted((p for p in out.iterdir() if page.fullmatch(p.name)), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


if __name__ == "__main__":
    sys.exit(main())
