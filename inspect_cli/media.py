"""Photos: checked, then copied into the media folder under their SHA-256."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
import warnings
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from inspect_cli.dates import now_iso
from inspect_cli.errors import InputError
from inspect_cli.models import Photo
from inspect_cli.text import for_terminal

# A phone photo is at most ~50 MP; anything past twice that is a scan gone wrong or a
# decompression bomb (a tiny file that decodes to gigabytes).
MAX_PIXELS = 100_000_000
_MAX_PIXELS_TEXT = "1 亿像素"
# Formats phones, cameras and screenshots produce; refusing the rest also keeps Pillow's
# rarely used decoders away from files nobody checked.
PHOTO_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")
_FORMATS_TEXT = "JPG、PNG、GIF、BMP、TIFF、WebP"
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}
_WINDOWS_DRIVE_URL = re.compile(r"^/[A-Za-z]:[/\\]")


@dataclass
class _Checked:
    path: Path
    suffix: str
    sha256: str


def photo_path(text: str | os.PathLike[str]) -> Path:
    """A photo path as people paste it: surrounding quotes, file:// URLs and stray spaces removed.

    Raises `InputError` when nothing is left.
    """
    raw = os.fspath(text)
    # A file that really has quotes or spaces in its name is taken as it is.
    if raw.strip() and _exists(Path(raw)):
        return Path(raw)
    value = raw.strip()
    while len(value) >= 2 and _QUOTES.get(value[0]) == value[-1]:
        value = value[1:-1].strip()
    if value.lower().startswith("file:"):
        parts = urlsplit(value)
        value = unquote(parts.path)
        if parts.netloc and parts.netloc.lower() != "localhost":
            value = f"//{parts.netloc}{value}"  # a Windows share: file://server/share/x.jpg
        elif _WINDOWS_DRIVE_URL.match(value):
            value = value[1:]  # file:///C:/x.jpg names C:/x.jpg
    elif os.sep == "/" and value.startswith(("/", "~")):
        # Terminals escape spaces when a file is dragged in: /a/现场\ 照片.jpg
        value = re.sub(r"\\(.)", r"\1", value)
    if not value:
        raise InputError("照片路径是空的")
    path = Path(value)
    try:
        return path.expanduser()
    except RuntimeError:  # ~someone with no such user: keep it, the check reports it missing
        return path


# One pasted path: a quoted run (“…” and ‘…’ too, as Chinese input methods type them), or a
# run of non-spaces where a backslash-escaped space belongs to the path.
_TOKEN = re.compile(r'"[^"]*"|\'[^\']*\'|“[^”]*”|‘[^’]*’|(?:\\ |\S)+')


def split_photo_paths(line: str) -> list[Path]:
    """Paths typed or dragged onto one line, separated by spaces: quotes, escaped spaces and
    Windows backslashes all survive (shell-style splitting would eat the backslashes)."""
    return [photo_path(token) for token in _TOKEN.findall(line)]


def check_photo(path: Path) -> str:
    """Return the image's file suffix, or raise naming the path and the reason."""
    return _check(Path(path)).suffix


def store_photos(paths: list[Path], media_dir: Path) -> list[Photo]:
    """Check every photo before copying any, so one bad path changes nothing."""
    checked = [_check(photo_path(p)) for p in paths]
    created_files: list[Path] = []
    created_dirs: list[Path] = []
    photos = []
    try:
        for item in checked:
            name = f"{item.sha256[:2]}/{item.sha256}{item.suffix}"
            target = media_dir / name
            if not target.exists():
                _make_dirs(target.parent, created_dirs)
                _copy(item.path, target)
                created_files.append(target)
            photos.append(Photo(item.sha256, name, str(item.path.resolve()), now_iso()))
    except OSError as exc:
        # All or nothing: photos copied earlier in this call would otherwise stay behind unused.
        # Cleaning up must not hide the failure itself.
        for path in reversed(created_files):
            with suppress(OSError):
                path.unlink()
        for folder in reversed(created_dirs):
            with suppress(OSError):
                folder.rmdir()
        raise InputError(f"无法把照片保存到媒体文件夹 {_shown(media_dir)}：{os_reason(exc)}") from None
    return photos


# --- checking ----------------------------------------------------------------------


def _check(path: Path) -> _Checked:
    shown = _shown(path)
    try:
        if path.is_dir():
            raise InputError(f"照片路径是文件夹，不是图片文件：{shown}")
        if not path.exists():
            raise InputError(f"照片不存在：{shown}")
        if not path.is_file():
            # A device or a pipe: reading it could block or never end.
            raise InputError(f"照片路径不是普通文件：{shown}")
        handle = path.open("rb")
    except PermissionError:
        raise InputError(f"没有权限读取照片：{shown}") from None
    except OSError as exc:
        raise InputError(f"无法读取照片：{shown}（{os_reason(exc)}）") from None
    with handle:
        try:
            digest = hashlib.sha256()
            size = 0
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
        except OSError as exc:
            raise InputError(f"无法读取照片：{shown}（{os_reason(exc)}）") from None
        if size == 0:
            raise InputError(f"照片是空文件（0 字节）：{shown}")
        suffix = _check_image(handle, shown)
    return _Checked(path, suffix, digest.hexdigest())


def _check_image(handle: BinaryIO, shown: str) -> str:
    from PIL import Image, ImageFile, UnidentifiedImageError

    not_image = f"不是可识别的图片文件：{shown}（支持 {_FORMATS_TEXT} 格式的照片）"
    damaged = f"图片文件不完整或已损坏（可能没有拷贝完整）：{shown}"
    too_big = f"超过 {_MAX_PIXELS_TEXT}的上限（手机照片一般不超过 5000 万像素），可能是异常文件：{shown}"
    handle.seek(0)
    try:
        # Our own limit below replaces Pillow's warning; a warning is not a refusal.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(handle, formats=PHOTO_FORMATS)
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InputError(f"图片尺寸过大：{width}×{height} 像素，{too_big}")
            kind = (image.format or "").lower()
            image.verify()
    except InputError:
        raise
    except Image.DecompressionBombError:
        raise InputError(f"图片尺寸过大：{too_big}") from None
    except UnidentifiedImageError:
        raise InputError(not_image) from None
    except MemoryError:
        raise InputError(f"图片过大，内存不足以读取：{shown}") from None
    except Exception:  # Pillow's decoders raise many kinds of error on a broken file
        raise InputError(damaged) from None
    # verify() checks little (nothing at all for JPEG): decoding every byte is what finds a
    # file cut short by a failed copy.
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    handle.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(handle, formats=PHOTO_FORMATS)
        with image:
            # JPEG can decode at 1/8 scale: every byte is still read, in a fraction of the memory.
            image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except MemoryError:
        raise InputError(f"图片过大，内存不足以读取：{shown}") from None
    except Exception:
        raise InputError(damaged) from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    return {"jpeg": ".jpg", "mpo": ".jpg"}.get(kind, f".{kind}")


# --- copying -----------------------------------------------------------------------


def _make_dirs(folder: Path, created: list[Path]) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _copy(source: Path, target: Path) -> None:
    # Copy to a temporary name first: a half-written file never gets the real name.
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        # The answer naming this photo is committed with a full sync: the bytes go to disk first.
        with open(tmp, "rb+") as copied:
            os.fsync(copied.fileno())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            with suppress(OSError):
                os.unlink(tmp)


_REASONS = {
    errno.ENOSPC: "磁盘已满",
    errno.EROFS: "磁盘或文件夹是只读的",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有同名文件挡住了文件夹",
    errno.EEXIST: "路径中有同名文件挡住了文件夹",
    errno.EIO: "读写出错，磁盘或存储卡可能有故障",
    errno.ENAMETOOLONG: "路径过长",
}
if hasattr(errno, "EDQUOT"):  # not on every platform
    _REASONS[errno.EDQUOT] = "磁盘配额已用完"


def os_reason(exc: OSError) -> str:
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return f"系统错误：{exc.strerror}" if exc.strerror else "系统错误"


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _shown(path: Path) -> str:
    return for_terminal(str(path))


# Photos as the notices and sheets show them: upright, resized, re-encoded as JPEG.
NOTICE_PHOTO_BOX = (1200, 1200)


def photo_jpeg(path: Path, box: tuple[int, int], quality: int = 80) -> bytes | None:
    """The stored photo at `path`, upright, as a JPEG fitting `box`; None when it is not a photo we can read.

    The Word notice embeds these bytes rather than the stored file: python-docx reads image
    headers with its own parser, which fails on a damaged file with almost any exception,
    while Pillow's failures are the few caught here.
    """
    import io

    from PIL import Image, ImageOps

    if not path.is_file():  # gone, or a folder or pipe that would hang the read
        return None
    try:
        with warnings.catch_warnings():
            # The pixel limit is the one a photo was accepted under (media.MAX_PIXELS), checked
            # from the header below, not Pillow's lower warning threshold: a photo taken in must
            # show. No warning (odd EXIF) may spill onto the terminal mid-progress bar.
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                # A JPEG then decodes at 1/2 to 1/8 scale: a large photo stays cheap.
                side = max(box)
                image.draft(None, (side, side))
                picture = ImageOps.exif_transpose(image).convert("RGB")
            picture.thumbnail(box)
            buffer = io.BytesIO()
            picture.save(buffer, "JPEG", quality=quality)
            return buffer.getvalue()
    # What Pillow raises on a file it cannot read as a photo, found by feeding it 80,000
    # damaged JPEG, PNG, GIF, BMP, TIFF and WebP files: OSError for a missing, truncated or
    # unidentified file; the bomb error for a header claiming too many pixels; ValueError or
    # SyntaxError from a decoder meeting broken data, EOFError from one reading past the end;
    # TypeError from EXIF values of the wrong type (rewritten by exif_transpose). Our own
    # misuse would fail for every photo, which the tests of readable photos catch.
    except (
        OSError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        ValueError,
        EOFError,
        SyntaxError,
        TypeError,
    ):
        return None
