"""Photos: checked, then copied into the media folder under their SHA-256."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from inspect_cli.dates import now_iso
from inspect_cli.errors import InputError
from inspect_cli.models import Photo


def check_photo(path: Path) -> str:
    """Return the image's file suffix, or raise naming the path and the reason."""
    if not path.exists():
        raise InputError(f"照片不存在：{path}")
    if not path.is_file():
        raise InputError(f"照片路径不是文件：{path}")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
            kind = (image.format or "").lower()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"不是可识别的图片文件：{path}（{exc.__class__.__name__}）") from None
    return {"jpeg": ".jpg", "mpo": ".jpg"}.get(kind, f".{kind}" if kind else path.suffix.lower())


def store_photos(paths: list[Path], media_dir: Path) -> list[Photo]:
    """Check every photo before copying any, so one bad path changes nothing."""
    checked = [(Path(p).expanduser(), check_photo(Path(p).expanduser())) for p in paths]
    photos = []
    for path, suffix in checked:
        digest = _sha256(path)
        name = f"{digest[:2]}/{digest}{suffix}"
        target = media_dir / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Copy to a temporary name first: a half-written file never gets the real name.
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            os.close(fd)
            try:
                shutil.copyfile(path, tmp)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        photos.append(Photo(digest, name, str(path.resolve()), now_iso()))
    return photos


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
