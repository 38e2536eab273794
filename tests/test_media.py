from __future__ import annotations

import errno
import io
import os
import re
import shutil
import struct
import time
import warnings
import zlib
from pathlib import Path

import pytest

from inspect_cli.errors import InputError
from inspect_cli.media import check_photo, photo_path, store_photos

from .conftest import make_image

CLASS_NAME = re.compile(r"[A-Za-z]+(Error|Exception|Warning)")


def refused(paths: list[Path], media_dir: Path) -> str:
    """The message of the refusal; the media folder must hold no file afterwards."""
    with pytest.raises(InputError) as caught:
        store_photos(paths, media_dir)
    message = caught.value.message
    assert not CLASS_NAME.search(message), message
    assert "\n" not in message
    assert [p for p in media_dir.rglob("*") if p.is_file()] == []
    return message


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims width × height pixels."""
    buffer = io.BytesIO()
    from PIL import Image

    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    # IHDR starts at byte 8: length (4), type (4), width (4), height (4), …, CRC after 13 bytes.
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# --- what is refused ------------------------------------------------------------------


def test_folder_is_refused(tmp_path):
    folder = tmp_path / "照片"
    folder.mkdir()
    assert refused([folder], tmp_path / "m") == f"照片路径是文件夹，不是图片文件：{folder}"


def test_missing_file_is_refused(tmp_path):
    assert refused([tmp_path / "nope.jpg"], tmp_path / "m") == f"照片不存在：{tmp_path / 'nope.jpg'}"


def test_unreadable_file_is_refused(tmp_path, monkeypatch):
    photo = make_image(tmp_path / "locked.jpg")
    real_open = Path.open

    # Tests run as root, for whom chmod 000 changes nothing: make the open fail instead.
    def denied(self, *args, **kwargs):
        if self == photo:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    assert refused([photo], tmp_path / "m") == f"没有权限读取照片：{photo}"


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert refused([empty], tmp_path / "m") == f"照片是空文件（0 字节）：{empty}"


def test_non_image_is_refused_in_words(tmp_path):
    notes = tmp_path / "notes.jpg"
    notes.write_text("这不是图片", encoding="utf-8")
    message = refused([notes], tmp_path / "m")
    assert message == f"不是可识别的图片文件：{notes}（支持 JPG、PNG、GIF、BMP、TIFF、WebP 格式的照片）"


def test_decompression_bomb_is_refused_without_decoding(tmp_path, monkeypatch):
    from PIL import ImageFile

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(100_000, 100_000))

    def never(self, *args, **kwargs):
        raise AssertionError("the image must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never)
    started = time.perf_counter()
    message = refused([bomb], tmp_path / "m")
    assert time.perf_counter() - started < 1
    assert message.startswith("图片尺寸过大：超过 1 亿像素的上限")
    assert str(bomb) in message


def test_image_pillow_only_warns_about_is_refused_by_our_limit(tmp_path):
    # 12,000 × 12,000 is 144 MP: over our limit, under twice Pillow's, so Pillow only warns.
    big = tmp_path / "big.png"
    big.write_bytes(png_declaring(12_000, 12_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning escaping the check would fail here
        message = refused([big], tmp_path / "m")
    assert message.startswith("图片尺寸过大：12000×12000 像素，超过 1 亿像素的上限")


def test_truncated_jpeg_is_refused(tmp_path):
    from PIL import Image

    whole = tmp_path / "whole.jpg"
    Image.effect_noise((400, 300), 60).convert("RGB").save(whole, quality=90)
    check_photo(whole)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert refused([cut], tmp_path / "m") == f"图片文件不完整或已损坏（可能没有拷贝完整）：{cut}"


def test_png_whose_pixel_data_stops_short_is_refused(tmp_path):
    # Every chunk is well formed, so Image.verify() passes; only decoding finds the pixels missing.
    from PIL import Image

    buffer = io.BytesIO()
    Image.effect_noise((200, 150), 60).save(buffer, "PNG")
    data = buffer.getvalue()
    ihdr = data[8 : 8 + 25]
    idat_at = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[idat_at : idat_at + 4])
    pixels = data[idat_at + 8 : idat_at + 8 + length]
    short = tmp_path / "short.png"
    short.write_bytes(data[:8] + ihdr + png_chunk(b"IDAT", pixels[: len(pixels) // 2]) + png_chunk(b"IEND", b""))
    with Image.open(short) as image:
        image.verify()  # the premise: verify() alone lets this file through
    assert refused([short], tmp_path / "m") == f"图片文件不完整或已损坏（可能没有拷贝完整）：{short}"


def test_every_photo_is_checked_before_any_is_copied(tmp_path):
    good = make_image(tmp_path / "good.jpg")
    bad = tmp_path / "bad.jpg"
    bad.write_text("x")
    refused([good, bad], tmp_path / "m")
    assert not (tmp_path / "m").exists()


# --- paths as people paste them ---------------------------------------------------------


@pytest.fixture
def spaced(tmp_path) -> Path:
    return make_image(tmp_path / "现场 照片.jpg")


@pytest.mark.parametrize(
    "pasted",
    [
        '"{p}"',  # Windows "Copy as path"
        "'{p}'",  # Linux file managers
        "  {p}  ",
        "“{p}”",  # Chinese quotes from an input method
        "file://{url}",
        "file://localhost{url}",
        " '{escaped}' ",
    ],
)
def test_pasted_paths_are_normalised(spaced, pasted):
    from urllib.parse import quote

    text = pasted.format(p=spaced, url=quote(str(spaced)), escaped=str(spaced).replace(" ", "\\ "))
    assert photo_path(text) == spaced


def test_terminal_escaped_spaces(spaced):
    assert photo_path(str(spaced).replace(" ", "\\ ")) == spaced


def test_store_photos_accepts_pasted_paths(spaced, tmp_path):
    (photo,) = store_photos([Path(f'"{spaced}"')], tmp_path / "m")
    assert photo.original_path == str(spaced)
    assert (tmp_path / "m" / photo.stored_name).read_bytes() == spaced.read_bytes()


def test_a_file_really_named_with_quotes_is_kept(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (4, 3)).save(tmp_path / "'引号.jpg'", "JPEG")
    assert photo_path("'引号.jpg'") == Path("'引号.jpg'")
    assert check_photo(photo_path("'引号.jpg'")) == ".jpg"


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ('"C:\\Users\\张三\\现场.jpg"', "C:\\Users\\张三\\现场.jpg"),
        ("file:///C:/Users/x/a%20b.jpg", "C:/Users/x/a b.jpg"),
        ("file://server/share/a.jpg", "//server/share/a.jpg"),
    ],
)
def test_windows_paths_stay_as_given(pasted, expected):
    assert str(photo_path(pasted)) == expected


def test_windows_path_on_linux_is_simply_missing(tmp_path):
    pasted = '"C:\\Users\\张三\\现场.jpg"'
    assert refused([Path(pasted)], tmp_path / "m") == "照片不存在：C:\\Users\\张三\\现场.jpg"


def test_blank_path_is_refused():
    with pytest.raises(InputError, match="照片路径是空的"):
        photo_path(' "" ')


# --- the media folder failing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "磁盘已满"), (errno.EROFS, "磁盘或文件夹是只读的"), (errno.EACCES, "没有权限")],
)
def test_media_folder_failure_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, code, reason):
    photos = [make_image(tmp_path / "a.jpg", "red"), make_image(tmp_path / "b.jpg", "blue")]
    media_dir = tmp_path / "media"
    real_copy = shutil.copyfile
    calls = []

    def failing_second(source, target, *args, **kwargs):
        calls.append(source)
        if len(calls) == 2:
            Path(target).write_bytes(b"half")  # as a full disk leaves it
            raise OSError(code, os.strerror(code))
        return real_copy(source, target, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", failing_second)
    message = refused(photos, media_dir)
    assert message == f"无法把照片保存到媒体文件夹 {media_dir}：{reason}"
    assert len(calls) == 2  # the first photo had been copied, and was taken back
    assert not list(media_dir.rglob("*.part"))


def test_media_folder_blocked_by_a_file(tmp_path):
    blocker = tmp_path / "media"
    blocker.write_text("not a folder")
    with pytest.raises(InputError) as caught:
        store_photos([make_image(tmp_path / "a.jpg")], blocker)
    assert caught.value.message == f"无法把照片保存到媒体文件夹 {blocker}：路径中有同名文件挡住了文件夹"
    assert blocker.read_text() == "not a folder"


def test_a_line_of_pasted_paths_keeps_quotes_escaped_spaces_and_windows_backslashes():
    from inspect_cli.media import split_photo_paths

    line = '"C:\\照片\\a b.jpg" /tmp/现场\\ 照片.jpg “整改 后.jpg” file:///tmp/x%20y.jpg D:\\photos\\p.jpg'
    assert [str(p) for p in split_photo_paths(line)] == [
        "C:\\照片\\a b.jpg",
        "/tmp/现场 照片.jpg",
        "整改 后.jpg",
        "/tmp/x y.jpg",
        "D:\\photos\\p.jpg",
    ]
    assert split_photo_paths("   ") == []
