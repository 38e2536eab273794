"""Photos a bundle brings: verified and staged in a process of their own, then moved into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspect_cli.errors import InputError, InspectError
from inspect_cli.sync.bundle import Bundle, BundleError, open_bundle

if TYPE_CHECKING:
    from inspect_cli.sync.exchange import Ticker


def photo_here(sha: str, media_dir: Path) -> bool:
    folder = media_dir / sha[:2]
    return folder.is_dir() and any(folder.glob(f"{sha}.*"))


class PhotoStager:
    """Reads, verifies and stages the photos this database lacks, in a process of its own.

    Hashing and copying photos runs beside the merging of records (which keeps this process
    busy), so a day's bundles from many laptops take about as long as the larger of the
    two. Staged beside the media folder and flushed to disk once, so the photos are on disk
    before the records that name them are committed; moved into place by `install`.
    """

    def __init__(self, bundles: list[Bundle], media_dir: Path, dry_run: bool) -> None:
        self.media_dir = media_dir
        self.wanted: dict[str, tuple[Path, str]] = {}
        for bundle in bundles:
            for sha, member in bundle.photos().items():
                if sha not in self.wanted and not photo_here(sha, media_dir):
                    self.wanted[sha] = (bundle.path, Path(member).suffix)
        self.folder: Path | None = None
        self._pool: Any = None
        self._job: Any = None
        if not self.wanted:
            return
        if not dry_run:
            try:
                media_dir.mkdir(parents=True, exist_ok=True)
                self.folder = Path(tempfile.mkdtemp(prefix=".incoming-", dir=media_dir))
            except OSError as exc:
                raise InputError(f"无法写入媒体文件夹 {media_dir}：{exc.strerror or exc}") from None
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        jobs = sorted((str(path), sha, suffix) for sha, (path, suffix) in self.wanted.items())
        # spawn: the same on every platform, and the child shares nothing with this process's
        # database connection.
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._job = self._pool.submit(stage_photos, jobs, str(self.folder) if self.folder else None)

    def available(self, sha: str) -> bool:
        """A photo a record names: in one of the bundles, or here already."""
        return sha in self.wanted or photo_here(sha, self.media_dir)

    def install(self, written: list[Path], tick: Ticker) -> int:
        """Wait for the staging, then move the photos into the media folder (same disk: renames)."""
        if self._job is None:
            return 0
        from concurrent.futures import TimeoutError as Pending

        shown = 0
        while True:
            try:
                failure = self._job.result(timeout=0.2)
                break
            except Pending:
                if self.folder is not None:
                    done = sum(1 for _ in self.folder.iterdir())
                    tick.add(done - shown)
                    shown = done
        if failure:
            raise BundleError(failure)
        if self.folder is None:
            return 0
        tick.add(len(self.wanted) - shown)
        for sha, (_path, suffix) in sorted(self.wanted.items()):
            source, target = self.folder / f"{sha}{suffix}", self.media_dir / sha[:2] / f"{sha}{suffix}"
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                source.replace(target)
            except OSError as exc:
                raise InputError(f"无法把照片保存到媒体文件夹 {target.parent}：{exc.strerror or exc}") from None
            written.append(target)
        return len(self.wanted)

    def discard(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def stage_photos(jobs: list[tuple[str, str, str]], folder: str | None) -> str | None:
    """In the photo process: verify (and with a folder, copy) each photo; the error, if any, as text."""
    opened: dict[str, Bundle] = {}
    # One flush of everything at the end where the system has it (not on Windows: each file then).
    flush_once = hasattr(os, "sync")
    try:
        for path, sha, suffix in jobs:
            if path not in opened:
                opened[path] = open_bundle(Path(path))
            if folder is None:
                opened[path].check_photo(sha)
            else:
                opened[path].extract_photo(sha, Path(folder) / f"{sha}{suffix}", sync=not flush_once)
        if folder is not None and flush_once:
            os.sync()
    except InspectError as exc:
        return exc.message
    except OSError as exc:
        return f"无法写入媒体文件夹 {folder}：{exc.strerror or exc}"
    finally:
        for bundle in opened.values():
            bundle.close()
    return None
