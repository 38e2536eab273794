"""The sync bundle container: what the writer makes the reader reads back unchanged, and every
damaged, altered or hostile zip is refused with one Chinese line naming the file and member."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_cli.errors import ExitCode, InputError, NotFoundError
from inspect_cli.sync import bundle as bundle_module
from inspect_cli.sync.bundle import FORMAT, FORMAT_VERSION, BundleError, BundleWriter, open_bundle

FIELDS = {
    "kind": "work",
    "device_id": "0b9f6a4e-1c1d-4d39-9d0e-6a8f2f7c0a11",
    "device_code": "A",
    "created": "2026-11-30T09:00:00+08:00",
}
INSPECTIONS = [
    {"id": "i-1", "number": "JC-2026-A-0001", "site": "人民路公交站", "note": "站牌破损\n需更换"},
    {"id": "i-2", "number": "JC-2026-A-0002", "site": "幸福社区", "score": 92.5, "tags": ["环境", None, True]},
]
PROBLEMS = [{"id": "p-1", "inspection": "i-1", "description": "🚧 施工围挡缺失"}]
KEY = b"device-key-A"
# Words a Chinese message may contain: file names, the program's name, units.
ALLOWED_WORDS = {"inspect", "cli", "zip", "manifest", "json", "sig", "JSON", "SHA", "UTF", "GiB", "MiB", "KiB"}


def refused(error: BaseException, *names: str) -> str:
    """`error` is the one-line Chinese refusal of bad input (exit 2) naming `names`."""
    assert isinstance(error, BundleError) and isinstance(error, InputError)
    assert error.exit_code == ExitCode.BAD_INPUT == 2
    message = error.message
    assert "\n" not in message and "Traceback" not in message
    assert re.search(r"[\u4e00-\u9fff]", message), message
    for name in names:
        assert name in message, (name, message)
        message = message.replace(name, "")
    message = re.sub(r"(?:records|photos)/[\x21-\x7e]*", "", message)  # member names
    english = set(re.findall(r"[A-Za-z]{3,}", message)) - ALLOWED_WORDS
    assert not english, error.message
    return error.message


def photo(folder: Path, name: str, content: bytes) -> tuple[str, Path]:
    path = folder / name
    path.write_bytes(content)
    return hashlib.sha256(content).hexdigest(), path


def write_bundle(folder: Path, key: bytes | None = None) -> tuple[Path, dict[str, bytes]]:
    """A bundle of two record kinds and two photos (one added twice); returns its photos too."""
    sources = folder / "media"
    sources.mkdir(exist_ok=True)
    first, first_path = photo(sources, "a.jpg", b"\xff\xd8 first photo " * 100)
    second, second_path = photo(sources, "b.png", b"\x89PNG second photo")
    path = folder / "工作包.zip"
    with BundleWriter(path, FIELDS, key=key) as writer:
        assert writer.write_records("inspections", iter(INSPECTIONS)) == 2
        assert writer.write_records("problems", PROBLEMS) == 1
        assert writer.add_photo(first, ".jpg", first_path) is True
        assert writer.add_photo(second, ".PNG", second_path) is True
        assert writer.add_photo(first, ".jpg", first_path) is False
    return path, {first: first_path.read_bytes(), second: second_path.read_bytes()}


def entry(data: bytes) -> dict[str, object]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def hand_zip(path: Path, files: list[tuple[str | zipfile.ZipInfo, bytes]], manifest: object = "auto") -> Path:
    """A zip built by hand; the manifest lists every file unless given (None: no manifest)."""
    if manifest == "auto":
        named = [(n if isinstance(n, str) else n.filename, d) for n, d in files]
        listed = {n: entry(d) for n, d in named if not n.endswith("/")}
        manifest = {"format": FORMAT, "version": FORMAT_VERSION, **FIELDS, "members": listed}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
        if manifest is not None:
            text = manifest if isinstance(manifest, bytes) else json.dumps(manifest, ensure_ascii=False).encode()
            archive.writestr("manifest.json", text)
    return path


def rewrite(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    """`source` copied entry by entry, with some members' bytes replaced (manifest kept)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info, change.get(info.filename, old.read(info)))
    return target


def patch_entry(path: Path, name: str, **fields: int) -> None:
    """Overwrite header fields of one entry (flag, crc, size) in both its local and central header."""
    offsets = {"flag": (6, 8, "<H"), "crc": (14, 16, "<L"), "size": (22, 24, "<L")}
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
    encoded = name.encode()
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(encoded)] != encoded:
        central = data.find(b"PK\x01\x02", central + 1)
    for field, value in fields.items():
        in_local, in_central, fmt = offsets[field]
        struct.pack_into(fmt, data, local + in_local, value)
        struct.pack_into(fmt, data, central + in_central, value)
    path.write_bytes(bytes(data))


def verified(path: Path) -> None:
    with open_bundle(path) as bundle:
        bundle.verify_members()


# --- writing and reading back ---------------------------------------------------------------


def test_round_trip(tmp_path):
    path, photos = write_bundle(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media", "工作包.zip"]  # no temporary file left
    with open_bundle(path) as bundle:
        assert bundle.path == path
        assert not bundle.signed
        assert {k: bundle.manifest[k] for k in FIELDS} == FIELDS
        assert bundle.manifest["format"] == FORMAT and bundle.manifest["version"] == FORMAT_VERSION
        read: list[int] = []
        bundle.verify_members(read.append)
        assert sum(read) == sum(m["size"] for m in bundle.manifest["members"].values())
        assert bundle.kinds() == ["inspections", "problems"]
        assert list(bundle.records("inspections")) == INSPECTIONS
        assert list(bundle.records("problems")) == PROBLEMS
        assert list(bundle.records("plans")) == []
        names = bundle.photos()
        assert set(names) == set(photos)
        for sha, content in photos.items():
            assert names[sha] in (f"photos/{sha}.jpg", f"photos/{sha}.png")
            target = tmp_path / "out" / sha[:2] / f"{sha}.bin"
            bundle.extract_photo(sha, target)
            assert target.read_bytes() == content
        assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp file left
    with zipfile.ZipFile(path) as archive:
        infos = {i.filename: i for i in archive.infolist()}
    assert sorted(infos) == sorted(
        ["manifest.json", "records/inspections.ndjson", "records/problems.ndjson", *names.values()]
    )
    assert {infos[n].compress_type for n in names.values()} == {zipfile.ZIP_STORED}
    assert infos["records/inspections.ndjson"].compress_type == zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("records/inspections.ndjson").decode().splitlines()
    assert lines[0] == json.dumps(INSPECTIONS[0], ensure_ascii=False, separators=(",", ":"))


def test_signed_round_trip_and_refusals(tmp_path):
    path, _ = write_bundle(tmp_path, key=KEY)
    with open_bundle(path) as bundle:
        assert bundle.signed
        bundle.verify_signature(KEY)
        with pytest.raises(BundleError) as wrong:
            bundle.verify_signature(b"another device")
    assert "签名不符" in refused(wrong.value, "工作包.zip")
    unsigned = tmp_path / "unsigned"
    unsigned.mkdir()
    path, _ = write_bundle(unsigned)
    with open_bundle(path) as bundle, pytest.raises(BundleError) as missing:
        bundle.verify_signature(KEY)
    assert "没有签名" in refused(missing.value, "工作包.zip")


def test_signature_covers_the_members(tmp_path):
    # Changing a member and its manifest entry changes manifest.json: the signature no longer fits.
    path, _ = write_bundle(tmp_path, key=KEY)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    altered = b'{"id":"i-9"}\n'
    manifest["members"]["records/problems.ndjson"] = entry(altered)
    forged = rewrite(
        path,
        tmp_path / "forged.zip",
        {"records/problems.ndjson": altered, "manifest.json": json.dumps(manifest).encode()},
    )
    with open_bundle(forged) as bundle:
        bundle.verify_members()
        with pytest.raises(BundleError) as error:
            bundle.verify_signature(KEY)
    refused(error.value, "forged.zip")


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "out.zip"
    with pytest.raises(RuntimeError), BundleWriter(path, FIELDS) as writer:
        writer.write_records("inspections", INSPECTIONS)
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    path.write_bytes(b"the previous bundle")
    with pytest.raises(KeyboardInterrupt), BundleWriter(path, FIELDS) as writer:
        writer.write_records("inspections", ({"n": 1} if i < 3 else _interrupt() for i in range(5)))
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == b"the previous bundle"


def _interrupt() -> dict[str, object]:
    raise KeyboardInterrupt


def test_write_into_missing_folder(tmp_path):
    target = tmp_path / "没有这个文件夹" / "out.zip"
    with pytest.raises(BundleError) as error, BundleWriter(target, FIELDS):
        pass
    assert "无法写入同步包" in refused(error.value, str(target))


def test_changed_photo_is_refused_and_the_bundle_abandoned(tmp_path):
    sha, source = photo(tmp_path, "a.jpg", b"original")
    source.write_bytes(b"edited afterwards")
    path = tmp_path / "out.zip"
    with pytest.raises(BundleError) as error, BundleWriter(path, FIELDS) as writer:
        try:
            writer.add_photo(sha, ".jpg", source)
        except BundleError as changed:
            assert "照片文件已改变" in refused(changed, str(source))
        # Going on after the error must not produce a bundle with a half-written photo in it.
    assert "未能写完" in refused(error.value, str(path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]


def test_missing_photo_can_be_skipped(tmp_path):
    path = tmp_path / "out.zip"
    with BundleWriter(path, FIELDS) as writer:
        with pytest.raises(BundleError) as error:
            writer.add_photo("0" * 64, ".jpg", tmp_path / "gone.jpg")
        writer.write_records("problems", PROBLEMS)
    assert "无法读取照片" in refused(error.value, str(tmp_path / "gone.jpg"))
    verified(path)


def test_writer_misuse_is_a_programming_error(tmp_path):
    with BundleWriter(tmp_path / "out.zip", FIELDS) as writer:
        writer.write_records("problems", PROBLEMS)
        with pytest.raises(ValueError):
            writer.write_records("problems", PROBLEMS)
        with pytest.raises(ValueError):
            writer.write_records("../x", [])
        with pytest.raises(ValueError):
            writer.add_photo("not a sha", ".jpg", tmp_path)
    with pytest.raises(ValueError):
        BundleWriter(tmp_path / "x.zip", {"version": 9})


# --- refusals: the file itself -------------------------------------------------------------


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFoundError) as error:
        open_bundle(tmp_path / "nothing.zip")
    assert error.value.exit_code == ExitCode.NOT_FOUND == 3
    assert "nothing.zip" in error.value.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04 not really a zip", "不是同步包（不是 zip 文件）"),
        (b"", "不是同步包（不是 zip 文件）"),
        (None, "不是文件"),
    ],
)
def test_not_a_zip(tmp_path, content, expected):
    path = tmp_path / "bad.zip"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert expected in refused(error.value, "bad.zip")


def test_missing_manifest(tmp_path):
    path = hand_zip(tmp_path / "b.zip", [("records/problems.ndjson", b"{}\n")], manifest=None)
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "缺少清单" in refused(error.value, "b.zip", "manifest.json")


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (b"{not json", "不是有效的 JSON"),
        (b'{"format": "inspect-cli-bundle", "version": 1, "members": {}, "x": NaN}', "不是有效的 JSON"),
        (b"\xff\xfe", "不是有效的 JSON"),
        (b'{"format": "inspect-cli-bundle", "format": "x"}', "不是有效的 JSON"),
        (b"[1, 2]", "应是一个 JSON 对象"),
        ({"format": "other-tool", "version": 1, "members": {}}, "不是 inspect-cli 同步包"),
        ({"format": FORMAT, "version": "1", "members": {}}, "格式版本无效"),
        ({"format": FORMAT, "version": True, "members": {}}, "格式版本无效"),
        ({"format": FORMAT, "version": 1, "members": []}, "缺少文件列表"),
        ({"format": FORMAT, "version": 1, "members": {"records/a.ndjson": {"sha256": "x", "size": 3}}}, "格式不对"),
        (
            {"format": FORMAT, "version": 1, "members": {"records/a.ndjson": {"sha256": "0" * 64, "size": -3}}},
            "格式不对",
        ),
    ],
)
def test_bad_manifest(tmp_path, manifest, expected):
    path = hand_zip(tmp_path / "b.zip", [("records/a.ndjson", b"{}\n")], manifest=manifest)
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert expected in refused(error.value, "b.zip")


def test_newer_version_says_to_upgrade(tmp_path):
    path = hand_zip(tmp_path / "b.zip", [], manifest={"format": FORMAT, "version": 2, "members": {}})
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    message = refused(error.value, "b.zip")
    assert "版本为 2" in message and "升级 inspect-cli" in message


# --- refusals: members -------------------------------------------------------------------


def test_member_altered_after_writing(tmp_path):
    path, _ = write_bundle(tmp_path)
    with zipfile.ZipFile(path) as archive:
        original = archive.read("records/inspections.ndjson")
    changed = original.replace("幸福".encode(), "幸运".encode())
    assert len(changed) == len(original) and changed != original
    altered = rewrite(path, tmp_path / "altered.zip", {"records/inspections.ndjson": changed})
    with open_bundle(altered) as bundle:
        with pytest.raises(BundleError) as error:
            bundle.verify_members()
        assert "已损坏或被改动" in refused(error.value, "altered.zip", "records/inspections.ndjson")
        # Reading the records without verifying first still ends in the refusal.
        with pytest.raises(BundleError) as streamed:
            list(bundle.records("inspections"))
        refused(streamed.value, "altered.zip", "records/inspections.ndjson")


def test_corrupt_compressed_data(tmp_path):
    data = json.dumps({"text": "破损" * 200}).encode() + b"\n"
    path = hand_zip(tmp_path / "b.zip", [("records/problems.ndjson", data)])
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("records/problems.ndjson")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename)
    raw[start + 5 : start + 15] = b"\x00" * 10
    path.write_bytes(bytes(raw))
    with open_bundle(path) as bundle, pytest.raises(BundleError) as error:
        bundle.verify_members()
    refused(error.value, "b.zip", "records/problems.ndjson")


def test_member_not_listed(tmp_path):
    manifest = {"format": FORMAT, "version": 1, "members": {}}
    path = hand_zip(tmp_path / "b.zip", [("records/extra.ndjson", b"{}\n")], manifest=manifest)
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "未列在清单中" in refused(error.value, "b.zip", "records/extra.ndjson")


def test_listed_member_missing(tmp_path):
    members = {"records/gone.ndjson": entry(b"{}\n")}
    path = hand_zip(tmp_path / "b.zip", [], manifest={"format": FORMAT, "version": 1, "members": members})
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "包中没有这个文件" in refused(error.value, "b.zip", "records/gone.ndjson")


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/etc/x",
        "records/../../x",
        "C:/x",
        "c:x",
        "records\\x.ndjson",
        "records/./a.ndjson",
        "records//a.ndjson",
    ],
)
def test_unsafe_names(tmp_path, name):
    path = hand_zip(tmp_path / "b.zip", [(name, b"{}\n")])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "不安全的文件名" in refused(error.value, "b.zip", name)


def test_name_with_a_nul_byte(tmp_path):
    # zipfile cuts names at a NUL: "records/a.ndjson\0.txt" would pass as records/a.ndjson.
    manifest = {"format": FORMAT, "version": 1, "members": {"records/a.ndjson": entry(b"{}\n")}}
    path = hand_zip(tmp_path / "b.zip", [("records/a.ndjsonX.txt", b"{}\n")], manifest=manifest)
    path.write_bytes(path.read_bytes().replace(b"records/a.ndjsonX.txt", b"records/a.ndjson\x00.txt"))
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "不安全的文件名" in refused(error.value, "b.zip", "records/a.ndjson.txt")


@pytest.mark.parametrize(
    "name",
    ["notes.txt", "records/Inspections.ndjson", "photos/abc.jpg", "records/a.json", "photos/" + "a" * 64 + ".jpegxl"],
)
def test_unexpected_names(tmp_path, name):
    path = hand_zip(tmp_path / "b.zip", [(name, b"{}\n")])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "不是同步包应有的文件" in refused(error.value, "b.zip", name)


def test_hostile_name_cannot_reach_the_terminal(tmp_path):
    name = "records/\x1b]0;owned\x07\x1b[2J.ndjson\nx"
    path = hand_zip(tmp_path / "b.zip", [(name, b"{}\n")])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "\x1b" not in error.value.message and "\x07" not in error.value.message
    refused(error.value, "b.zip", "records/.ndjson x")


def test_symlink_entry(tmp_path):
    link = zipfile.ZipInfo("records/a.ndjson")
    link.external_attr = 0o120777 << 16
    path = hand_zip(tmp_path / "b.zip", [(link, b"/etc/passwd")])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "不是普通文件" in refused(error.value, "b.zip", "records/a.ndjson")


def test_folder_entries(tmp_path):
    # The folders a zip tool adds when re-packing are harmless; any other folder is refused.
    folder = zipfile.ZipInfo("records/")
    folder.external_attr = (0o40755 << 16) | 0x10
    good = hand_zip(tmp_path / "good.zip", [(folder, b""), ("records/a.ndjson", b"{}\n")])
    verified(good)
    other = hand_zip(tmp_path / "bad.zip", [("stuff/", b""), ("records/a.ndjson", b"{}\n")])
    with pytest.raises(BundleError) as error:
        open_bundle(other)
    assert "多余的文件夹" in refused(error.value, "bad.zip", "stuff/")


def test_encrypted_entry(tmp_path):
    path = hand_zip(tmp_path / "b.zip", [("records/a.ndjson", b"{}\n")])
    patch_entry(path, "records/a.ndjson", flag=0x1)
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "加密" in refused(error.value, "b.zip", "records/a.ndjson")


def test_unsupported_compression(tmp_path):
    info = zipfile.ZipInfo("records/a.ndjson")
    info.compress_type = zipfile.ZIP_BZIP2
    path = hand_zip(tmp_path / "b.zip", [(info, b"{}\n")])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "压缩方式" in refused(error.value, "b.zip", "records/a.ndjson")


def test_duplicate_names(tmp_path):
    path = tmp_path / "b.zip"
    with pytest.warns(UserWarning, match="Duplicate"):
        hand_zip(path, [("records/a.ndjson", b"{}\n"), ("records/a.ndjson", b'{"b":1}\n')])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "不止一次" in refused(error.value, "b.zip", "records/a.ndjson")


def test_photo_name_must_match_its_hash(tmp_path):
    wrong = "photos/" + "a" * 64 + ".jpg"
    path = hand_zip(tmp_path / "b.zip", [(wrong, b"some photo")])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "SHA-256 不符" in refused(error.value, "b.zip", wrong)


def test_same_photo_twice(tmp_path):
    content = b"some photo"
    sha = hashlib.sha256(content).hexdigest()
    path = hand_zip(tmp_path / "b.zip", [(f"photos/{sha}.jpg", content), (f"photos/{sha}.png", content)])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    refused(error.value, "b.zip", f"photos/{sha}.png")


# --- refusals: sizes ---------------------------------------------------------------------------


def test_declared_size_must_match_the_zip(tmp_path):
    data = b'{"a":1}\n' * 10
    members = {"records/a.ndjson": {**entry(data), "size": 8}}
    path = hand_zip(
        tmp_path / "b.zip", [("records/a.ndjson", data)], manifest={"format": FORMAT, "version": 1, "members": members}
    )
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "大小与清单不符" in refused(error.value, "b.zip", "records/a.ndjson")


def test_member_over_the_size_limit(tmp_path, monkeypatch):
    path, _ = write_bundle(tmp_path)
    monkeypatch.setattr(bundle_module, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "超过单个文件" in refused(error.value, "工作包.zip", "records/inspections.ndjson")
    with pytest.raises(BundleError) as writing, BundleWriter(tmp_path / "big.zip", FIELDS) as writer:
        writer.write_records("problems", [{"text": "x" * 200}])
    assert "超过单个文件" in refused(writing.value, "problems")
    assert not (tmp_path / "big.zip").exists()


def test_bundle_over_the_total_limit(tmp_path, monkeypatch):
    path, _ = write_bundle(tmp_path)
    monkeypatch.setattr(bundle_module, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    refused(error.value, "工作包.zip")


def test_too_many_members(tmp_path, monkeypatch):
    path, _ = write_bundle(tmp_path)
    monkeypatch.setattr(bundle_module, "MAX_MEMBERS", 3)
    with pytest.raises(BundleError) as listed:
        open_bundle(path)
    refused(listed.value, "工作包.zip")
    # Counted in the zip's table of contents, before zipfile builds an object per entry.
    files = [(f"records/k_{'x' * i}.ndjson", b"{}\n") for i in range(10)]
    crowded = hand_zip(tmp_path / "crowded.zip", files)
    monkeypatch.setattr(zipfile, "ZipFile", None)  # never reached
    with pytest.raises(BundleError) as counted:
        open_bundle(crowded)
    assert "超过 3 个" in refused(counted.value, "crowded.zip")


def test_compression_bomb_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_module, "RATIO_CHECK_BYTES", 1000)
    monkeypatch.setattr(bundle_module, "MAX_RATIO", 20)
    data = b'{"a":"' + b"0" * 100_000 + b'"}\n'
    path = hand_zip(tmp_path / "bomb.zip", [("records/a.ndjson", data)])
    with pytest.raises(BundleError) as error:
        open_bundle(path)
    assert "压缩比异常" in refused(error.value, "bomb.zip", "records/a.ndjson")
    with pytest.raises(BundleError) as writing, BundleWriter(tmp_path / "out.zip", FIELDS) as writer:
        writer.write_records("a", [{"a": "0" * 100_000}])
    assert "压缩比异常" in refused(writing.value)


def test_inflated_size_beyond_the_table_is_never_read(tmp_path):
    # The zip's table and the manifest both understate the size: zipfile stops at the table's
    # size, and the bytes read so far do not match the manifest's hash.
    data = b'{"a":"' + b"1" * 100_000 + b'"}\n'
    path = hand_zip(tmp_path / "b.zip", [("records/a.ndjson", data)], manifest=None)
    patch_entry(path, "records/a.ndjson", size=100, crc=zlib.crc32(data[:100]))
    members = {"records/a.ndjson": {"sha256": hashlib.sha256(data).hexdigest(), "size": 100}}
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("manifest.json", json.dumps({"format": FORMAT, "version": 1, "members": members}))
    read: list[int] = []
    with open_bundle(path) as bundle, pytest.raises(BundleError) as error:
        bundle.verify_members(read.append)
    assert sum(read) <= 101
    assert "已损坏或被改动" in refused(error.value, "b.zip", "records/a.ndjson")


def test_reading_stops_one_byte_past_the_declared_size(tmp_path):
    # zipfile already stops at its table's size; should a member ever inflate further than
    # the manifest says, the reader stops one byte past it.
    data = b'{"a":"' + b"1" * 100_000 + b'"}\n'
    path = hand_zip(tmp_path / "b.zip", [("records/a.ndjson", data)])
    read: list[int] = []
    with open_bundle(path) as bundle:
        member = bundle._members["records/a.ndjson"]
        bundle._members["records/a.ndjson"] = dataclasses.replace(member, size=10)
        with pytest.raises(BundleError) as error:
            bundle.verify_members(read.append)
    assert sum(read) == 0
    assert "超过清单中的大小" in refused(error.value, "b.zip", "records/a.ndjson")


# --- refusals: records and photos ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"{broken", "不是有效的 JSON"),
        (b"[1,2]", "不是 JSON 对象"),
        (b"", "不是有效的 JSON"),
        (b'{"a":NaN}', "不是有效的 JSON"),
        (b'{"a":"\xff"}', "UTF-8"),
    ],
)
def test_bad_record_line_names_the_line(tmp_path, line, expected):
    data = b'{"n":1}\n{"n":2}\n' + line + b'\n{"n":4}\n'
    path = hand_zip(tmp_path / "b.zip", [("records/problems.ndjson", data)])
    seen = []
    with open_bundle(path) as bundle, pytest.raises(BundleError) as error:
        for record in bundle.records("problems"):
            seen.append(record)
    assert seen == [{"n": 1}, {"n": 2}]
    message = refused(error.value, "b.zip", "records/problems.ndjson")
    assert "第 3 行" in message and expected in message


def test_overlong_line(tmp_path, monkeypatch):
    monkeypatch.setattr(bundle_module, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(bundle_module, "_BLOCK", 512)
    data = b'{"n":1}\n{"a":"' + b"x" * 5000 + b'"}\n'
    path = hand_zip(tmp_path / "b.zip", [("records/problems.ndjson", data)])
    with open_bundle(path) as bundle, pytest.raises(BundleError) as error:
        list(bundle.records("problems"))
    assert "第 2 行过长" in refused(error.value, "b.zip", "records/problems.ndjson")


def test_extract_photo_with_wrong_content(tmp_path):
    claimed = hashlib.sha256(b"the real photo").hexdigest()
    name = f"photos/{claimed}.jpg"
    members = {name: {"sha256": claimed, "size": len(b"another photo")}}
    manifest = {"format": FORMAT, "version": 1, "members": members}
    path = hand_zip(tmp_path / "b.zip", [(name, b"another photo")], manifest=manifest)
    target = tmp_path / "media" / "ab" / "photo.jpg"
    with open_bundle(path) as bundle:
        assert bundle.photos() == {claimed: name}
        with pytest.raises(BundleError) as error:
            bundle.extract_photo(claimed, target)
        with pytest.raises(BundleError) as absent:
            bundle.extract_photo("0" * 64, target)
    assert "已损坏或被改动" in refused(error.value, "b.zip", name)
    refused(absent.value, "b.zip", "0" * 64)
    assert list(target.parent.iterdir()) == []


# --- property --------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=5), max_size=6))
def test_records_round_trip(tmp_path, records):
    """Slow (about 2 s): 25 random record sets, each written to a bundle and read back."""
    path = tmp_path / "p.zip"
    with BundleWriter(path, FIELDS) as writer:
        assert writer.write_records("things", records) == len(records)
    with open_bundle(path) as bundle:
        assert list(bundle.records("things")) == records
