"""Sync bundles: one zip file carrying records and photos between the office and the laptops.

    manifest.json             format, version, device, created, every member's SHA-256 and size
    manifest.sig              optional: hex HMAC-SHA256 of manifest.json's bytes with the device key
    records/<kind>.ndjson     one JSON object per line, deflated
    photos/<sha256><suffix>   each photo once, stored as it is (photos are already compressed)

A bundle arrives from another machine, so reading trusts nothing in it. `open_bundle` checks
the structure cheaply (entry names and types, declared sizes, compression ratios) before any
member is inflated. Every read (`verify_members`, `records`, `extract_photo`) streams the
member, counting and hashing it against the manifest and stopping one byte past its declared
size, so a zip bomb is never inflated. Only manifest.json is ever held whole in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from inspect_cli.errors import InputError, NotFoundError
from inspect_cli.media import os_reason
from inspect_cli.text import for_terminal

FORMAT = "inspect-cli-bundle"
FORMAT_VERSION = 1

# Limits. A bundle from a hostile or broken source must not exhaust memory, disk or time
# before it is refused; each limit sits far above what a real team produces.
# A year of a district's work is tens of thousands of photos; the zip's own table of
# contents costs memory per entry, so its size is capped too.
MAX_MEMBERS = 200_000
# One member, uncompressed: a records file of a million problems is a few hundred MiB; a
# photo is a few MiB.
MAX_MEMBER_BYTES = 1 << 30
# The whole bundle, uncompressed: what the office can unpack on an ordinary disk.
MAX_TOTAL_BYTES = 16 << 30
# JSON records compress 5–20 times and photos not at all; deflate can reach ~1000 times, and
# only a crafted member (a zip bomb) comes near that. Small members cannot do harm at any ratio.
MAX_RATIO = 200
RATIO_CHECK_BYTES = 1 << 20
# manifest.json is parsed whole: ~100 bytes per member, so 200,000 members fit with room.
MAX_MANIFEST_BYTES = 64 << 20
# The zip's table of contents (its central directory): ~120 bytes per entry. zipfile reads
# it whole and builds an object per entry, so it is measured before zipfile parses it.
MAX_DIRECTORY_BYTES = 64 << 20
# One record (one line of a records member): a record is a few KiB; the reader holds a line
# whole while parsing it, so the writer refuses what the reader would.
MAX_RECORD_BYTES = 16 << 20
_MAX_SIGNATURE_BYTES = 1024

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
# Folder entries that zip tools add when someone re-packs an unpacked bundle. They hold no
# data and are never written out, so they are ignored; any other folder entry is refused.
_FOLDERS = ("records/", "photos/")
_RESERVED = (MANIFEST, SIGNATURE, *_FOLDERS)
_KIND = re.compile(r"[a-z_]+")
_RECORDS = re.compile(r"records/([a-z_]+)\.ndjson")
_PHOTO = re.compile(r"photos/([0-9a-f]{64})(\.[a-z0-9]{1,5})")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")
_DRIVE = re.compile(r"[A-Za-z]:")
_BLOCK = 1 << 20
_SHOWN_MAX = 120
# What reading a damaged member can raise: zipfile's own errors (bad CRC, header mismatch),
# the inflater's, a stream cut short, an entry zipfile cannot decode (NotImplementedError is a
# RuntimeError), a 64-bit offset past what the file system can seek to.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, ValueError, OverflowError)


class BundleError(InputError):
    """A sync bundle cannot be written, or is damaged, altered or not a bundle at all."""


# --- writing ---------------------------------------------------------------------------


class BundleWriter:
    """Writes a bundle to a temporary file beside `path`; renamed onto `path` only when the
    `with` block ends without error.

    `manifest` holds the caller's fields (kind, device_id, device_code, created, …); the writer
    adds format, version and members. With `key`, manifest.sig authenticates the whole bundle.
    After a `BundleError` from a write the bundle is unfinished and is never renamed into place.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], key: bytes | None = None) -> None:
        reserved = {"format", "version", "members"} & manifest.keys()
        if reserved:
            raise ValueError(f"manifest fields set by the writer: {sorted(reserved)}")
        self.path = Path(path)
        self._fields = dict(manifest)
        self._key = key
        self._members: dict[str, dict[str, Any]] = {}
        self._photos: set[str] = set()
        self._total = 0
        self._zip: zipfile.ZipFile | None = None
        self._tmp: Path | None = None
        self._broken = False
        self._time = time.localtime()[:6]
        self._shown = _show(self.path, limit=None)

    def note(self, **fields: Any) -> None:
        """Add fields to the manifest (written when the bundle is finished)."""
        reserved = {"format", "version", "members"} & fields.keys()
        if reserved:
            raise ValueError(f"manifest fields set by the writer: {sorted(reserved)}")
        self._fields.update(fields)

    def __enter__(self) -> BundleWriter:
        try:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part")
            os.close(fd)
            self._tmp = Path(tmp)
            self._zip = zipfile.ZipFile(self._tmp, "w")
        except OSError as exc:
            self._discard()
            raise BundleError(f"无法写入同步包 {self._shown}：{os_reason(exc)}") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is not None:
            self._discard()
            return
        if self._broken:
            self._discard()
            raise BundleError(f"同步包 {self._shown} 未能写完（写入中途出错），已放弃")
        try:
            self._finish()
        except BaseException:
            self._discard()
            raise

    def write_records(self, kind: str, records: Iterable[dict[str, Any]]) -> int:
        """Stream `records` into records/<kind>.ndjson; return how many were written."""
        if not _KIND.fullmatch(kind):
            raise ValueError(f"record kind must match [a-z_]+: {kind!r}")
        name = f"records/{kind}.ndjson"
        if name in self._members:
            raise ValueError(f"records of kind {kind!r} were already written")
        count = 0
        with self._writing(), self._entry(name, zipfile.ZIP_DEFLATED, f"{kind} 记录") as out:
            batch = bytearray()
            for count, record in enumerate(records, 1):
                if not isinstance(record, dict):
                    raise TypeError(f"{kind} record {count} is not a dict")
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                data = line.encode("utf-8") + b"\n"
                if len(data) > MAX_RECORD_BYTES:
                    raise BundleError(
                        f"第 {count} 条 {kind} 记录过长（{_size(len(data))}，上限 {_size(MAX_RECORD_BYTES)}），无法打包"
                    )
                batch += data
                if len(batch) >= _BLOCK:
                    out.write(batch)
                    batch.clear()
            out.write(batch)
        return count

    def add_photo(self, sha256: str, suffix: str, source: Path) -> bool:
        """Copy the photo at `source` in as photos/<sha256><suffix>; False if already added.

        Raises `BundleError` when the file's bytes no longer hash to `sha256`.
        """
        suffix = suffix.lower()
        if not _SHA256.fullmatch(sha256) or not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"not a photo name: {sha256!r}{suffix!r}")
        if sha256 in self._photos:
            return False
        shown = _show(source, limit=None)
        # Opened before anything is written: when it fails, the caller may skip this photo.
        handle = _open(Path(source), f"无法读取照片 {shown}")
        name = f"photos/{sha256}{suffix}"
        with handle, self._writing(), self._entry(name, zipfile.ZIP_STORED, f"照片 {shown} ") as out:
            while block := _read(handle, _BLOCK, f"无法读取照片 {shown}"):
                out.write(block)
            if out.digest.hexdigest() != sha256:
                raise BundleError(f"照片文件已改变：{shown}（内容与登记时的 SHA-256 不符），请核对后重新导出")
        self._photos.add(sha256)
        return True

    @contextmanager
    def _writing(self) -> Iterator[None]:
        # A failure part-way leaves a partial entry in the zip: the bundle can no longer be
        # finished, whatever the caller does with the error.
        if self._zip is None:
            raise ValueError("BundleWriter is used outside its with block")
        if self._broken:
            raise BundleError(f"同步包 {self._shown} 未能写完（写入中途出错），已放弃")
        try:
            yield
        except OSError as exc:
            self._broken = True
            raise BundleError(f"无法写入同步包 {self._shown}：{os_reason(exc)}") from None
        except BaseException:
            self._broken = True
            raise

    @contextmanager
    def _entry(self, name: str, compress_type: int, what: str) -> Iterator[_Sink]:
        assert self._zip is not None
        info = self._info(name, compress_type)
        with self._zip.open(info, "w") as handle:
            sink = _Sink(handle, what)
            yield sink
        if len(self._members) >= MAX_MEMBERS:
            raise BundleError(f"同步包文件过多：超过 {MAX_MEMBERS} 个的上限，请分批导出")
        self._total += sink.size
        if self._total > MAX_TOTAL_BYTES:
            raise BundleError(f"同步包内容过多：超过 {_size(MAX_TOTAL_BYTES)} 的上限，请分批导出")
        if _bomb_like(sink.size, info.compress_size):
            # The reader would refuse it; better to say so now than at the office.
            raise BundleError(f"{what}压缩比异常（超过 {MAX_RATIO} 倍），对方将无法导入，无法打包")
        self._members[name] = {"sha256": sink.digest.hexdigest(), "size": sink.size}

    def _finish(self) -> None:
        assert self._zip is not None and self._tmp is not None
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, **self._fields, "members": self._members}
        data = json.dumps(manifest, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        if len(data) > MAX_MANIFEST_BYTES:
            raise BundleError(f"同步包清单过大（{_size(len(data))}，上限 {_size(MAX_MANIFEST_BYTES)}），请分批导出")
        with self._writing():
            self._zip.writestr(self._info(MANIFEST, zipfile.ZIP_DEFLATED), data)
            if self._key is not None:
                signature = hmac.new(self._key, data, hashlib.sha256).hexdigest()
                self._zip.writestr(self._info(SIGNATURE, zipfile.ZIP_STORED), signature)
            self._zip.close()
            with self._tmp.open("rb+") as written:
                os.fsync(written.fileno())
            os.replace(self._tmp, self.path)

    def _info(self, name: str, compress_type: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._time)
        info.compress_type = compress_type
        info.external_attr = (stat.S_IFREG | 0o644) << 16
        return info

    def _discard(self) -> None:
        if self._zip is not None:
            # Closing may fail (disk full); zipfile closes the file regardless.
            with suppress(OSError, ValueError):
                self._zip.close()
        if self._tmp is not None:
            with suppress(OSError):
                self._tmp.unlink()


class _Sink:
    """One zip entry being written: hashed and counted as it goes."""

    def __init__(self, handle: IO[bytes], what: str) -> None:
        self._handle = handle
        self._what = what
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray) -> None:
        self.size += len(data)
        if self.size > MAX_MEMBER_BYTES:
            raise BundleError(f"{self._what}超过单个文件 {_size(MAX_MEMBER_BYTES)} 的上限，无法打包")
        self.digest.update(data)
        self._handle.write(data)


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    sha256: str
    size: int
    info: zipfile.ZipInfo


class Bundle:
    """An opened bundle whose structure has been checked; a context manager closing the zip.

    Every read checks the bytes against the manifest as they stream; `verify_members` reads
    everything once so that an import can refuse a bundle before writing anything.
    """

    def __init__(
        self,
        path: Path,
        manifest: dict[str, Any],
        *,
        archive: zipfile.ZipFile,
        handle: IO[bytes],
        manifest_bytes: bytes,
        signature: bytes | None,
        members: dict[str, _Member],
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.signed = signature is not None
        self._archive = archive
        self._handle = handle
        self._manifest_bytes = manifest_bytes
        self._signature = signature
        self._members = members
        self._photos = {m[1]: name for name in members if (m := _PHOTO.fullmatch(name))}
        self._shown = _show(path.name)

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._archive.close()
        finally:
            self._handle.close()

    def verify_signature(self, key: bytes) -> None:
        """Raise `BundleError` unless manifest.sig is the HMAC of manifest.json under `key`."""
        if self._signature is None:
            raise BundleError(
                f"同步包 {self._shown} 没有签名，无法确认它来自已登记的设备；请对方用已登记的设备重新导出"
            )
        expected = hmac.new(key, self._manifest_bytes, hashlib.sha256).hexdigest().encode("ascii")
        if not hmac.compare_digest(expected, self._signature):
            raise BundleError(f"同步包 {self._shown} 的签名不符：它在生成后被改动过，或来自另一台设备")

    def verify_members(self, progress: Callable[[int], None] | None = None) -> None:
        """Read every member once; `progress` gets the number of bytes just read, block by block."""
        # In the order they sit in the file: one sequential pass over the disk.
        for member in sorted(self._members.values(), key=lambda m: m.info.header_offset):
            for block in self._stream(member):
                if progress is not None:
                    progress(len(block))

    @property
    def manifest_sha256(self) -> str:
        """The manifest's SHA-256: it lists every member's, so it names the bundle's whole content."""
        return hashlib.sha256(self._manifest_bytes).hexdigest()

    def kinds(self) -> list[str]:
        return sorted(m[1] for name in self._members if (m := _RECORDS.fullmatch(name)))

    def records(self, kind: str) -> Iterator[dict[str, Any]]:
        """The records of `kind`, streamed; nothing if the bundle has none.

        A damaged member raises `BundleError` when its end is reached, after the records
        before it were yielded: import everything only once the iteration has finished.
        """
        member = self._members.get(f"records/{kind}.ndjson")
        if member is None:
            return
        line_number = 0
        pending = bytearray()
        for block in self._stream(member):
            pending += block
            start = 0
            while (end := pending.find(b"\n", start)) >= 0:
                line_number += 1
                yield self._record(member, line_number, pending[start:end])
                start = end + 1
            del pending[:start]
            if len(pending) > MAX_RECORD_BYTES:
                raise BundleError(
                    f"同步包 {self._shown} 中 {_show(member.name)} 第 {line_number + 1} 行过长"
                    f"（超过 {_size(MAX_RECORD_BYTES)}），可能是异常文件"
                )
        if pending:
            yield self._record(member, line_number + 1, pending)

    def photos(self) -> dict[str, str]:
        """SHA-256 → member name, for every photo in the bundle."""
        return dict(self._photos)

    def check_photo(self, sha256: str) -> None:
        """Read the photo with this SHA-256 through, verifying it, without writing it anywhere."""
        name = self._photos.get(sha256)
        if name is None:
            raise BundleError(f"同步包 {self._shown} 中没有照片 {_show(sha256)}")
        for _block in self._stream(self._members[name]):
            pass

    def extract_photo(self, sha256: str, target: Path, *, sync: bool = True) -> None:
        """Write the photo with this SHA-256 to `target` (folders created), verified, atomically.

        `sync=False` leaves flushing to disk to the caller (one `os.sync()` for many photos).
        """
        name = self._photos.get(sha256)
        if name is None:
            raise BundleError(f"同步包 {self._shown} 中没有照片 {_show(sha256)}")
        target = Path(target)
        shown = _show(target, limit=None)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        except OSError as exc:
            raise BundleError(f"无法保存照片 {shown}：{os_reason(exc)}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                # open_bundle checked that the manifest's SHA-256 is the one in the name, so the
                # stream's own check proves the bytes are this photo.
                for block in self._stream(self._members[name]):
                    out.write(block)
                if sync:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:  # the stream turns its own read errors into BundleError
            raise BundleError(f"无法保存照片 {shown}：{os_reason(exc)}") from None
        finally:
            with suppress(OSError):
                os.unlink(tmp)

    def _stream(self, member: _Member) -> Iterator[bytes]:
        shown = _show(member.name)
        digest = hashlib.sha256()
        size = 0
        try:
            with self._archive.open(member.info) as handle:
                # One byte past the declared size is enough to know there is more: stop there.
                while block := handle.read(min(_BLOCK, member.size - size + 1)):
                    size += len(block)
                    if size > member.size:
                        raise BundleError(
                            f"同步包 {self._shown} 中的 {shown} 解压后超过清单中的大小"
                            f"（{_size(member.size)}），可能是恶意构造的压缩包"
                        )
                    digest.update(block)
                    yield block
        except OSError as exc:
            raise BundleError(f"无法读取同步包 {self._shown}：{os_reason(exc)}") from None
        except _DAMAGED:
            raise BundleError(f"同步包 {self._shown} 中的 {shown} 已损坏，无法解压") from None
        if size != member.size or digest.hexdigest() != member.sha256:
            raise BundleError(f"同步包 {self._shown} 中的 {shown} 已损坏或被改动（内容与清单中的 SHA-256 不符）")

    def _record(self, member: _Member, line_number: int, line: bytes | bytearray) -> dict[str, Any]:
        def where() -> str:  # built only for a message: this runs once per record
            return f"同步包 {self._shown} 中 {_show(member.name)} 第 {line_number} 行"

        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise BundleError(f"{where()}不是 UTF-8 编码的文字") from None
        try:
            record = _RECORD_DECODER.decode(text)
        except (ValueError, RecursionError):
            raise BundleError(f"{where()}不是有效的 JSON") from None
        if not isinstance(record, dict):
            raise BundleError(f"{where()}不是 JSON 对象（每行应是一条记录）")
        return record


def open_bundle(path: Path) -> Bundle:
    """Open the bundle at `path` after checking its structure (no member is inflated).

    Raises `NotFoundError` when there is no such file, `BundleError` for anything else wrong.
    """
    path = Path(path)
    shown = _show(path.name)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise NotFoundError(f"同步包不存在：{_show(path, limit=None)}") from None
    except OSError as exc:
        raise BundleError(f"无法读取同步包 {shown}：{os_reason(exc)}") from None
    if not stat.S_ISREG(mode):
        raise BundleError(f"{shown} 不是文件，不能作为同步包打开")
    handle = _open(path, f"无法读取同步包 {shown}")
    try:
        archive = _open_zip(handle, shown)
        try:
            return _checked(path, archive, handle, shown)
        except BaseException:
            archive.close()
            raise
    except OSError as exc:
        handle.close()
        raise BundleError(f"无法读取同步包 {shown}：{os_reason(exc)}") from None
    except BaseException:
        handle.close()
        raise


def _open_zip(handle: IO[bytes], shown: str) -> zipfile.ZipFile:
    not_zip = f"{shown} 不是同步包（不是 zip 文件）"
    try:
        # zipfile builds an object for every entry of the table of contents before anyone can
        # look; count the entries first, finding the table exactly as zipfile will (there is
        # no public way to).
        end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
        if end is None:
            raise BundleError(not_zip)
        _count_entries(handle, end, shown)
        return zipfile.ZipFile(handle)
    except _DAMAGED + (struct.error,):
        raise BundleError(not_zip) from None


def _count_entries(handle: IO[bytes], end: list[Any], shown: str) -> None:
    too_many = f"同步包 {shown} 含有的文件超过 {MAX_MEMBERS} 个的上限，可能是异常文件"
    directory_size, location = end[5], end[9]
    if directory_size > MAX_DIRECTORY_BYTES:
        raise BundleError(too_many)
    start = location - directory_size
    if end[0] == zipfile.stringEndArchive64:
        start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    if start < 0:
        return  # zipfile refuses it
    handle.seek(start)
    directory = handle.read(directory_size)
    count = position = 0
    # Each entry: a 46-byte header whose bytes 28–33 give the lengths of what follows it.
    while position + 46 <= len(directory):
        name_length, extra_length, comment_length = struct.unpack_from("<3H", directory, position + 28)
        position += 46 + name_length + extra_length + comment_length
        count += 1
        if count > MAX_MEMBERS + len(_RESERVED):
            raise BundleError(too_many)


def _checked(path: Path, archive: zipfile.ZipFile, handle: IO[bytes], shown: str) -> Bundle:
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        _check_entry(info, shown)
        if info.filename in entries:
            raise BundleError(f"同步包 {shown} 中 {_show(info.filename)} 出现了不止一次，可能被改动过")
        entries[info.filename] = info
    if MANIFEST not in entries:
        raise BundleError(f"同步包 {shown} 缺少清单 {MANIFEST}，不是完整的同步包")
    manifest_bytes = _read_small(archive, entries[MANIFEST], MAX_MANIFEST_BYTES, shown)
    manifest = _parse_manifest(manifest_bytes, shown)
    members = _check_members(manifest["members"], entries, shown)
    signature = None
    if SIGNATURE in entries:
        signature = _read_small(archive, entries[SIGNATURE], _MAX_SIGNATURE_BYTES, shown).strip()
    return Bundle(
        path,
        manifest,
        archive=archive,
        handle=handle,
        manifest_bytes=manifest_bytes,
        signature=signature,
        members=members,
    )


def _check_entry(info: zipfile.ZipInfo, shown: str) -> None:
    name = info.filename
    where = f"同步包 {shown} 中的 {_show(info.orig_filename)}"
    # zipfile cuts a name at a NUL and, on Windows, turns backslashes into slashes: the name
    # as stored must be the name as read.
    if info.orig_filename != name or _unsafe(name):
        raise BundleError(
            f"同步包 {shown} 中有不安全的文件名 {_show(info.orig_filename)}（可能试图写到同步包以外），已拒绝"
        )
    kind = stat.S_IFMT(info.external_attr >> 16)
    folder = name.endswith("/")
    # Zips made on Windows carry no file type at all (0); anything else must be a plain
    # file, so a symbolic link or device never reaches an unzip tool someone runs later.
    if kind not in (0, stat.S_IFDIR if folder else stat.S_IFREG):
        raise BundleError(f"{where}不是普通文件（是符号链接或特殊文件），已拒绝")
    if info.flag_bits & 0x1:
        raise BundleError(f"{where}是加密的，同步包不含加密文件，已拒绝")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BundleError(f"{where}使用了不支持的压缩方式，已拒绝")
    if folder:
        if name not in _FOLDERS or info.file_size:
            raise BundleError(f"{where}是多余的文件夹，已拒绝")
    elif name not in (MANIFEST, SIGNATURE) and not _RECORDS.fullmatch(name) and not _PHOTO.fullmatch(name):
        raise BundleError(f"{where}不是同步包应有的文件，已拒绝")


def _unsafe(name: str) -> bool:
    """A name an unzip tool could write outside its target folder."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        return True
    return any(part in ("", ".", "..") for part in name.removesuffix("/").split("/"))


def _read_small(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, shown: str) -> bytes:
    too_big = f"同步包 {shown} 中的 {info.filename} 过大（超过 {_size(limit)}），可能是异常文件"
    if info.file_size > limit:
        raise BundleError(too_big)
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
    except _DAMAGED:
        raise BundleError(f"同步包 {shown} 中的 {info.filename} 已损坏，无法解压") from None
    if len(data) > limit:
        raise BundleError(too_big)
    return data


def _parse_manifest(data: bytes, shown: str) -> dict[str, Any]:
    where = f"同步包 {shown} 的清单 {MANIFEST}"
    try:
        manifest = json.loads(data.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BundleError(f"{where}不是有效的 JSON，同步包已损坏") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"{where}格式不对（应是一个 JSON 对象），同步包已损坏")
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{shown} 不是 inspect-cli 同步包（清单中的格式标记不对）")
    version = manifest.get("version")
    if type(version) is not int or version < 1:
        raise BundleError(f"{where}中的格式版本无效（应是正整数），同步包已损坏")
    if version != FORMAT_VERSION:
        raise BundleError(
            f"同步包 {shown} 的格式版本为 {version}，本程序只能读取版本 {FORMAT_VERSION}；请升级 inspect-cli 后再导入"
        )
    if not isinstance(manifest.get("members"), dict):
        raise BundleError(f"{where}缺少文件列表，同步包已损坏")
    return manifest


def _check_members(listed: dict[str, Any], entries: dict[str, zipfile.ZipInfo], shown: str) -> dict[str, _Member]:
    if len(listed) > MAX_MEMBERS:
        raise BundleError(f"同步包 {shown} 含有的文件超过 {MAX_MEMBERS} 个的上限，可能是异常文件")
    for name in entries:
        if name not in _RESERVED and name not in listed:
            raise BundleError(f"同步包 {shown} 中的 {_show(name)} 未列在清单中，同步包可能被改动过")
    members: dict[str, _Member] = {}
    photos: set[str] = set()
    total = 0
    for name, declared in listed.items():
        where = f"同步包 {shown} 中的 {_show(name)}"
        info = entries.get(name)
        if info is None or name in _RESERVED:
            raise BundleError(f"同步包 {shown} 的清单列出了 {_show(name)}，但包中没有这个文件")
        sha256 = declared.get("sha256") if isinstance(declared, dict) else None
        size = declared.get("size") if isinstance(declared, dict) else None
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256) or type(size) is not int or size < 0:
            raise BundleError(f"同步包 {shown} 的清单中 {_show(name)} 一项格式不对（应有 SHA-256 和大小）")
        if size != info.file_size:
            raise BundleError(f"{where}的大小与清单不符，同步包可能被改动过")
        if size > MAX_MEMBER_BYTES:
            raise BundleError(f"{where}过大（{_size(size)}），超过单个文件 {_size(MAX_MEMBER_BYTES)} 的上限")
        total += size
        if total > MAX_TOTAL_BYTES:
            raise BundleError(f"同步包 {shown} 解压后超过 {_size(MAX_TOTAL_BYTES)} 的上限，可能是异常文件")
        if _bomb_like(size, info.compress_size):
            ratio = size // max(info.compress_size, 1)
            raise BundleError(f"{where}压缩比异常（{ratio} 倍，上限 {MAX_RATIO} 倍），可能是恶意构造的压缩炸弹")
        if photo := _PHOTO.fullmatch(name):
            if photo[1] != sha256:
                raise BundleError(f"{where}的文件名与清单中的 SHA-256 不符，同步包可能被改动过")
            if sha256 in photos:
                raise BundleError(f"{where}与另一张照片内容相同，同一张照片只应出现一次")
            photos.add(sha256)
        members[name] = _Member(name, sha256, size, info)
    return members


# --- small helpers -----------------------------------------------------------------------


def _bomb_like(size: int, compressed: int) -> bool:
    return size > RATIO_CHECK_BYTES and size > max(compressed, 1) * MAX_RATIO


def _open(path: Path, failure: str) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise BundleError(f"{failure}：{os_reason(exc)}") from None


def _read(handle: IO[bytes], size: int, failure: str) -> bytes:
    try:
        return handle.read(size)
    except OSError as exc:
        raise BundleError(f"{failure}：{os_reason(exc)}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers may keep different copies of a repeated key; the manifest must mean one thing.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("repeated key")
    return result


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; the office database could not hold them either.
    raise ValueError(name)


_RECORD_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _show(value: object, *, limit: int | None = _SHOWN_MAX) -> str:
    """A name from a bundle (or a path) as one printable line; hostile names are cut short."""
    text = for_terminal(value).replace("\n", " ")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _size(count: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            return f"{count / (1 << shift):.3g} {unit}"
    return f"{count} 字节"
