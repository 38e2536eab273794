"""The office's checklists and settings, as a field bundle hands them to a laptop."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from inspect_cli.errors import InputError
from inspect_cli.sync import FIELD
from inspect_cli.sync.bundle import Bundle, BundleError


def stage_office_files(bundles: list[Bundle], office_dir: Path) -> Path | None:
    """The newest field bundle's checklists and settings, written beside the office folder and checked.

    They replace the office folder only after the records are merged, so a refused import
    leaves the folder as it was.
    """
    from inspect_cli.checklist import load_checklists
    from inspect_cli.config import load_settings
    from inspect_cli.errors import ChecklistError

    fields_in = [b for b in bundles if b.manifest.get("kind") == FIELD and "checklists" in b.kinds()]
    if not fields_in:
        return None
    bundle = max(fields_in, key=lambda b: str(b.manifest.get("created") or ""))
    name = bundle.path.name
    try:
        office_dir.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=f".{office_dir.name}-", dir=office_dir.parent))
    except OSError as exc:
        raise InputError(f"无法写入 {office_dir.parent}：{exc.strerror or exc}") from None
    try:
        folders: set[int] = set()
        for line, record in enumerate(bundle.records("checklists"), start=1):
            folder, relative, text = record.get("folder"), str(record.get("path") or ""), record.get("text")
            parts = relative.split("/")
            if (
                not isinstance(folder, int)
                or not 0 <= folder < 100
                or not isinstance(text, str)
                or not relative
                or "\\" in relative
                or ":" in relative
                or any(p in ("", ".", "..") for p in parts)
                or Path(relative).suffix.lower() not in (".yaml", ".yml")
            ):
                raise BundleError(f"下发包 {name} 的测评标准第 {line} 条无效（{relative[:60]}）")
            target = staged / "checklists" / str(folder) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            folders.add(folder)
        try:
            load_checklists([staged / "checklists" / str(f) for f in sorted(folders)])
        except ChecklistError as exc:
            first = exc.details[0] if exc.details else exc.message
            shown = first.replace(str(staged / "checklists"), "下发包")
            raise BundleError(f"下发包 {name} 中的测评标准有错误：{shown}") from None
        for record in bundle.records("settings"):
            import yaml

            path = staged / "settings.yaml"
            path.write_text(yaml.safe_dump(record, allow_unicode=True, sort_keys=False), encoding="utf-8")
            try:
                load_settings(path)
            except InputError as exc:
                raise BundleError(
                    f"下发包 {name} 中的设置无效：{exc.details[0] if exc.details else exc.message}"
                ) from None
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise InputError(f"无法写入 {office_dir.parent}：{exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def install_office_files(staged: Path, office_dir: Path) -> None:
    office_dir.mkdir(parents=True, exist_ok=True)
    for name in ("checklists", "settings.yaml"):
        source, target = staged / name, office_dir / name
        if not source.exists():
            continue
        old = office_dir / f".old-{name}"
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        if target.exists():
            target.rename(old)
        source.rename(target)
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
