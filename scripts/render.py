#!/usr/bin/env python3
"""Render output files to PNG pages, to look at what the tool makes without opening Word or Excel.

Each .docx/.xlsx goes through LibreOffice (headless, with a profile of its own, so it works
while another LibreOffice runs) to PDF, and each PDF page through pdftoppm to
`<stem>-<page>.png` in the output folder. `--demo` first builds the sample city in a
temporary database with the project's own CLI and renders the notice, its annex, the
report and the 整改通知单: one command refreshes every picture.

`--docs` refreshes the pictures of the user guide (`docs/使用手册.md`): the same sample
city on a fixed day, plus a printed 测评表, and a fixed set of pages under stable names in
`docs/images/`, each found by what it says (not by its page number), trimmed of the blank
lower part of a half-empty page and reduced to 64 colours, so each stays small.

    scripts/render.py build/demo/周通报.docx build/demo/测评报告.xlsx
    scripts/render.py 整改通知单/ --first-page-only --dpi 60 --out /tmp/pages
    scripts/render.py --demo
    scripts/render.py --docs

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image

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

# --docs: the guide's pictures. A Friday, so the demo city has two weeks of inspections and the
# notice is 第1期 for 2026-W47; the guide's text blocks are copied from the same city and day.
DOCS_OUT = ROOT / "docs" / "images"
DOCS_TODAY = "2026-11-20"
DOCS_UNIT = "市场监管局"  # whose 整改通知单 is shown
DOCS_SITE = "NMSC-001"  # the 测评表 printed for this 农贸市场
DOCS_COLOURS = 64  # text, table shading and the demo's flat photos all survive this
BLANK_BAND = 0.18  # a blank band this tall (share of the page) ends the picture there


class Failure(Exception):
    """Something a person must fix; the message says what, the code is the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.demo and args.docs:
        _parser().error("--demo 与 --docs 只能选一个")
    if (args.demo or args.docs) and args.paths:
        _parser().error("--demo、--docs 自己生成要转换的文件，不再另给文件")
    if not args.demo and not args.docs and not args.paths:
        _parser().error("给出要转换的文件或文件夹，或用 --demo、--docs")
    try:
        soffice, pdftoppm = _tools()
        if args.docs:
            return _docs_main(args, soffice, pdftoppm)
        out = (args.out or DEFAULT_OUT).resolve()
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
        epilog="例：scripts/render.py --demo；scripts/render.py --docs；scripts/render.py build/demo/周通报.docx --first-page-only",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="文件或文件夹（文件夹内的 .docx/.xlsx/.pdf 全部转换）")
    parser.add_argument("--out", type=Path, help=f"PNG 输出文件夹（默认 {DEFAULT_OUT}；--docs 时为 {DOCS_OUT}）")
    parser.add_argument("--dpi", type=_dpi, default=80, help="分辨率（默认 80）")
    parser.add_argument("--first-page-only", action="store_true", help="每个文件只转第一页")
    parser.add_argument("--demo", action="store_true", help="先用示例城市生成通报、报告和整改通知单，再全部转换")
    parser.add_argument(
        "--docs",
        action="store_true",
        help=f"刷新使用手册的图片：示例城市（今天 = {DOCS_TODAY}）的通报、报告、整改通知单和测评表中固定的几页",
    )
    parser.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help=f"--demo、--docs 时的“今天”（INSPECT_CLI_TODAY），图片可重现；--docs 默认 {DOCS_TODAY}",
    )
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
    return _inputs([_build_demo(work, today)])


def _build_demo(work: Path, today: str | None, extra: Callable[[Path], list[list[str]]] | None = None) -> Path:
    """The folder of documents written from the sample city; `extra(folder)` gives more commands to run."""
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
        *(extra(docs) if extra else []),
    ]
    for step in steps:
        print("inspect-cli " + " ".join(step[:2]), "…", flush=True)
        done = subprocess.run([*cli, "--db", str(db), *step], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise Failure(f"inspect-cli {' '.join(step)} 失败（{done.returncode}）：\n{done.stderr.strip()}")
    return docs


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


# --- the user guide's pictures (--docs) ----------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """One picture of the guide: which document, which page (found by its text), its file name."""

    name: str
    source: str  # a key of _docs_sources()
    page: Callable[[list[str]], int | None]  # the page texts → the 0-based page, None if absent
    what: str  # for the error when the page is not found


def _first_page(texts: list[str]) -> int | None:
    return 0 if texts else None


def _page_with_line(start: str) -> Callable[[list[str]], int | None]:
    """The first page with a line starting with `start` (an Excel sheet's title row: `汇总 · …`)."""

    def find(texts: list[str]) -> int | None:
        return next(
            (n for n, text in enumerate(texts) if any(line.strip().startswith(start) for line in text.splitlines())),
            None,
        )

    return find


def _page_with_most(word: str) -> Callable[[list[str]], int | None]:
    """The page where `word` occurs most often (the earliest of equals); None if it never does."""

    def find(texts: list[str]) -> int | None:
        counts = [text.count(word) for text in texts]
        best = max(counts, default=0)
        return counts.index(best) if best else None

    return find


DOCS_PICTURES = (
    Picture("周通报-第1页.png", "notice", _first_page, "第 1 页"),
    Picture("周通报-排名.png", "notice", _page_with_line("（一）街道排名"), "“（一）街道排名”所在页"),
    Picture("周通报-照片页.png", "notice", _page_with_most("整改前："), "有“整改前：”照片的页"),
    Picture("测评报告-汇总.png", "report", _page_with_line("汇总 · "), "汇总表"),
    Picture("测评报告-街道排名.png", "report", _page_with_line("街道排名 · "), "街道排名表"),
    Picture("测评报告-问题清单.png", "report", _page_with_line("问题清单 · "), "问题清单表"),
    Picture("整改通知单.png", "unit_sheet", _first_page, "第 1 页"),
    Picture("测评表.png", "blank_form", _first_page, "第 1 页"),
)


def _docs_main(args: argparse.Namespace, soffice: str, pdftoppm: str) -> int:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        raise Failure("找不到 pdftotext（poppler；Debian/Ubuntu：apt install poppler-utils）", MISSING)
    out = (args.out or DOCS_OUT).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="inspect-render-") as temp:
        work = Path(temp)
        made = _docs(work, out, args.today or DOCS_TODAY, args.dpi, soffice, pdftoppm, pdftotext)
    for path in made:
        print(f"  {path.name}  {path.stat().st_size // 1024} KB")
    print(f"共 {len(made)} 张图片 → {out}")
    return 0


def _docs_commands(folder: Path) -> list[list[str]]:
    """Beyond --demo's documents: a 测评表 for paper days, its header filled in for one site."""
    return [["checklist", "print", "农贸市场", "--site", DOCS_SITE, "-o", str(folder / "测评表.xlsx")]]


def _docs_sources(folder: Path) -> dict[str, Path]:
    sheets = sorted((folder / "整改通知单").glob(f"整改通知单_{DOCS_UNIT}_*.xlsx"))
    if not sheets:
        raise Failure(f"示例城市没有 {DOCS_UNIT} 的整改通知单")
    return {
        "notice": folder / "周通报.docx",
        "report": folder / "测评报告.xlsx",
        "unit_sheet": sheets[0],
        "blank_form": folder / "测评表.xlsx",
    }


def _docs(work: Path, out: Path, today: str, dpi: int, soffice: str, pdftoppm: str, pdftotext: str) -> list[Path]:
    """The sample city on `today`, and each picture of DOCS_PICTURES written to `out`."""
    sources = _docs_sources(_build_demo(work, today, _docs_commands))
    pdfs = _to_pdf(list(sources.values()), work, soffice)
    texts = {key: _page_texts(pdfs[path], pdftotext) for key, path in sources.items() if path in pdfs}
    made = []
    for picture in DOCS_PICTURES:
        if picture.source not in texts:
            raise Failure(f"LibreOffice 未能把 {sources[picture.source].name} 转成 PDF")
        page = picture.page(texts[picture.source])
        if page is None:
            raise Failure(f"{sources[picture.source].name} 里找不到{picture.what}（{picture.name}）")
        png = _one_page(pdfs[sources[picture.source]], page + 1, work / "pages" / picture.name, pdftoppm, dpi)
        made.append(_shrink(png, out / picture.name))
    return made


def _page_texts(pdf: Path, pdftotext: str) -> list[str]:
    """Each page's text (pdftotext ends every page with a form feed)."""
    done = subprocess.run([pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True)
    if done.returncode != 0:
        raise Failure(f"pdftotext 未能读取 {pdf.name}：{done.stderr.decode(errors='replace').strip()}")
    pages = done.stdout.decode("utf-8", errors="replace").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def _one_page(pdf: Path, number: int, target: Path, pdftoppm: str, dpi: int) -> Path:
    """Page `number` (1-based) of `pdf` as `target` (a .png)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [pdftoppm, "-png", "-r", str(dpi), "-f", str(number), "-l", str(number), "-singlefile"]
    done = subprocess.run([*command, str(pdf), str(target.with_suffix(""))], capture_output=True, text=True)
    if done.returncode != 0 or not target.is_file():
        raise Failure(f"pdftoppm 未能转换 {pdf.name} 第 {number} 页：{done.stderr.strip()}")
    return target


def _shrink(source: Path, target: Path) -> Path:
    """The page without the blank lower part of a half-empty page, in DOCS_COLOURS colours."""
    from PIL import Image

    with Image.open(source) as opened:
        page = opened.convert("RGB")
    bottom = _content_bottom(page)
    if bottom < page.height:
        page = page.crop((0, 0, page.width, bottom))
    small = page.quantize(colors=DOCS_COLOURS, dither=Image.Dither.NONE)
    small.save(target, "PNG", optimize=True)
    return target


def _content_bottom(page: Image) -> int:
    """Where to cut: a little below the content above the first tall blank band in the lower part.

    A page half filled (a short table and its chart) otherwise shows mostly white, and its
    footer far below; a full page has no such band and is kept whole.
    """
    grey = page.convert("L")
    width, height = grey.size
    ink = [grey.crop((0, y, width, y + 1)).getextrema()[0] < 200 for y in range(height)]
    band = int(height * BLANK_BAND)
    last_ink, blank = 0, 0
    for y, inked in enumerate(ink):
        if inked:
            last_ink, blank = y, 0
            continue
        blank += 1
        if blank >= band and last_ink > height // 4:
            return min(height, last_ink + 24)
    return height


if __name__ == "__main__":
    sys.exit(main())
