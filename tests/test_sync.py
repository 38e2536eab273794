"""Many laptops, one office: device numbers, bundles both ways, merging, conflicts, trust."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from rich.cells import cell_len

from inspect_cli import paths
from inspect_cli.store import Store
from tests.conftest import DATA, Cli, copy_db, copy_shipped, make_image

_team: dict[str, Path] = {}


@pytest.fixture
def team(tmp_path, new_db, tmp_path_factory):
    """An office (code Z) with the test register, and two enrolled laptops A and B holding its field bundle.

    Built once per session and copied: each test gets its own office, laptops and bundles.
    """
    if "folder" not in _team:
        _team["folder"] = build_team(tmp_path_factory.mktemp("team"))
    template = _team["folder"]
    office_db = new_db("office")
    on_server = isinstance(office_db, str)
    shared = shutil.ignore_patterns("office.sqlite", "office-*") if on_server else None
    shutil.copytree(template, tmp_path, dirs_exist_ok=True, ignore=shared)
    if on_server:
        copy_db(template / "office.sqlite", office_db)
    laptops = {code: Cli(tmp_path / f"laptop-{code}.sqlite") for code in ("A", "B")}
    return Cli(office_db), laptops["A"], laptops["B"], tmp_path


def build_team(folder: Path) -> Path:
    office = Cli(folder / "office.sqlite")
    office.ok("site", "import", DATA / "sites.csv")
    office.ok("device", "set", "Z")
    for code in ("A", "B"):
        office.ok("device", "enroll", code)
        office.ok("sync", "export", "--field", "--for", code, "-o", folder / f"field-{code}.zip")
        Cli(folder / f"laptop-{code}.sqlite").ok("sync", "import", folder / f"field-{code}.zip")
    return folder


def fail(cli: Cli, site: str = "NMSC-001", item: str = "gg-01", day: str = "2026-11-18", note: str = "破损") -> None:
    cli.ok("record", site, item, "不合格", "--note", note, "--date", day, "--inspector", "张三")


def bundle(cli: Cli, path: Path, *extra: str) -> Path:
    cli.ok("sync", "export", "-o", path, *extra)
    return path


def day_ends(office: Cli, laptop: Cli, tmp: Path) -> None:
    """The laptop's work goes in, and the office's next field bundle comes back out."""
    imported(office, bundle(laptop, tmp / "work.zip"))
    office.ok("sync", "export", "--field", "--for", "A", "-o", tmp / "field-next.zip")
    laptop.ok("sync", "import", tmp / "field-next.zip")


def rewritten(source: Path, target: Path, member: str, change) -> Path:
    """A copy of a bundle with one member changed and the manifest's hash updated (the signature is not)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == member:
                data = change(data)
                manifest["members"][member] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            if info.filename != "manifest.json":
                dst.writestr(info.filename, data)
        dst.writestr("manifest.json", json.dumps(manifest))
    return target


def problems(cli: Cli) -> list[dict]:
    return json.loads(cli.ok("issue", "list", "--json").stdout)


def imported(cli: Cli, *files: Path, extra: tuple[str, ...] = ()) -> dict:
    return json.loads(cli.ok("sync", "import", *files, "--json", *extra).stdout)


# --- identity -----------------------------------------------------------------------------


def test_numbers_carry_the_device_code_and_the_code_is_fixed_once_used(city):
    assert "未设置" in city.ok("device", "show").stdout
    fail(city)  # before a code: numbers as before
    assert problems(city)[0]["no"] == "ZG-2026-0001"
    city.ok("device", "set", "a")
    fail(city, "GJZD-001")
    assert {p["no"] for p in problems(city)} == {"ZG-2026-0001", "ZG-2026-A-0001"}
    assert "JC-2026-A-0001" in city.ok("inspection", "list").stdout
    bad = city("device", "set", "长")
    assert bad.exit_code == 2 and "设备代码“长”无效" in bad.stderr
    again = city("device", "set", "B")
    assert again.exit_code == 4 and "已有带此代码的编号" in again.stderr
    assert json.loads(city.ok("device", "show", "--json").stdout)["code"] == "A"


def test_the_current_release_database_migrates_with_every_record_kept(tmp_path):
    path = tmp_path / "v7.sqlite"
    path.write_bytes(gzip.decompress((DATA / "release-v7.sqlite.gz").read_bytes()))
    tables = ("sites", "inspections", "results", "photos", "problems", "problem_events", "units")
    frozen = (
        "SELECT {0}.inspection_id, it.seq, it.item_id, it.text, it.score, it.deduct, it.unit FROM {1} ORDER BY 1, 2"
    )
    with sqlite3.connect(path) as conn:
        before = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        numbers = sorted(r[0] for r in conn.execute("SELECT no FROM problems UNION ALL SELECT no FROM inspections"))
        items = conn.execute(frozen.format("it", "inspection_items it")).fetchall()
    with Store(path) as store:
        assert store.schema_versions()[-1] >= 10
        after = {t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        assert after == before and before["problems"] > 100
        # Every inspection keeps its frozen items, now through its edition (stored once).
        joined = "inspections x JOIN edition_items it ON it.edition_id = x.edition_id"
        kept_items = store.conn.execute(frozen.format("x", joined).replace("x.inspection_id", "x.id")).fetchall()
        assert [tuple(r) for r in kept_items] == items
        assert store.conn.execute("SELECT count(*) FROM editions").fetchone()[0] < before["inspections"]
        kept = sorted(r[0] for r in store.conn.execute("SELECT no FROM problems UNION ALL SELECT no FROM inspections"))
        assert kept == numbers
        me = store.device().id
        for table in ("sites", "inspections", "results", "problems", "problem_events", "units"):
            assert (
                store.conn.execute(f"SELECT count(*) FROM {table} WHERE dev <> ? OR rev < 1", (me,)).fetchone()[0] == 0
            )
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_a_database_of_this_release_opens_with_its_replication_state(tmp_path):
    """release-v8: an office that enrolled laptop A, merged a bundle with a delete in it and
    renamed a unit."""
    path = tmp_path / "v8.sqlite"
    path.write_bytes(gzip.decompress((DATA / "release-v8.sqlite.gz").read_bytes()))
    office = Cli(path)
    shown = json.loads(office.ok("device", "show", "--json").stdout)
    assert shown["code"] == "Z" and [d["code"] for d in shown["enrolled"]] == ["A"]
    assert "JC-2026-A-0001" in office.ok("inspection", "list").stdout
    assert "市市场监督管理局" in office.ok("unit", "list").stdout
    with Store(path) as store:
        assert store.conn.execute("SELECT count(*) FROM tombstones").fetchone()[0] == 2
        # Every record reads back as a bundle carries it (the fixture holds no photo files).
        for table in ("sites", "units", "inspections", "results", "problems", "problem_events"):
            assert list(store.changed_rows(table, -1))


# --- bundles both ways ------------------------------------------------------------------------


def test_field_work_round_trip_is_idempotent_and_dry_run_writes_nothing(team):
    office, a, _b, tmp = team
    assert json.loads(a.ok("device", "show", "--json").stdout)["code"] == "A"
    fail(a, note="广告牌破损")
    work = bundle(a, tmp / "a1.zip")
    dry = imported(office, work, extra=("--dry-run",))
    assert dry["new"] > 0 and problems(office) == []
    first = imported(office, work)
    assert first["new"] == dry["new"]
    (problem,) = problems(office)
    assert problem["no"] == "ZG-2026-A-0001" and problem["description"] == "广告牌破损"
    again = imported(office, work)
    assert again["new"] == again["updated"] == 0 and again["unchanged"] == first["new"] + first["unchanged"]


def test_the_next_work_bundle_carries_only_what_the_office_has_not_acknowledged(team):
    office, a, _b, tmp = team
    fail(a)
    day_ends(office, a, tmp)
    assert json.loads(a.ok("device", "show", "--json").stdout)["unsent"] == 0
    fail(a, "GJZD-001")
    assert json.loads(a.ok("device", "show", "--json").stdout)["unsent"] > 0
    with zipfile.ZipFile(bundle(a, tmp / "a2.zip")) as z:
        inspections = z.read("records/inspections.ndjson").decode().splitlines()
    assert len(inspections) == 1 and "JC-2026-A-0002" in inspections[0]
    with zipfile.ZipFile(bundle(a, tmp / "a-all.zip", "--all")) as z:
        assert len(z.read("records/inspections.ndjson").decode().splitlines()) == 2


def test_photos_travel_once_and_arrive_verified(team):
    office, a, _b, tmp = team
    photo = make_image(tmp / "p.jpg")
    a.ok("record", "NMSC-001", "gg-01", "不合格", "--note", "破损", "--photo", photo, "--date", "2026-11-18")
    a.ok("record", "NMSC-001", "gg-02", "不合格", "--note", "脏", "--photo", photo, "--date", "2026-11-18")
    work = bundle(a, tmp / "a1.zip")
    with zipfile.ZipFile(work) as z:
        assert len([n for n in z.namelist() if n.startswith("photos/")]) == 1
    assert imported(office, work)["photos"] == 1
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert (paths.media_dir(office.db) / sha[:2] / f"{sha}.jpg").read_bytes() == photo.read_bytes()


def test_a_delete_travels_and_an_older_bundle_does_not_bring_it_back(team, new_db):
    office, a, _b, tmp = team
    fail(a)
    old = bundle(a, tmp / "a1.zip", "--all")
    a.ok("inspection", "delete", "JC-2026-A-0001", "--yes")
    newer = bundle(a, tmp / "a2.zip", "--all")
    imported(office, newer)
    imported(office, old)
    assert "JC-2026-A-0001" not in office.ok("inspection", "list").stdout and problems(office) == []
    other = Cli(new_db("office2"))
    other.ok("device", "enroll", "A")
    imported(other, old, newer)
    assert "JC-2026-A-0001" not in other.ok("inspection", "list").stdout and problems(other) == []


# --- the same thing seen twice, or changed on two sides ----------------------------------------


def test_one_problem_found_on_two_laptops_is_one_problem_on_every_replica(team, new_db):
    office, a, b, tmp = team
    fail(a, day="2026-11-18", note="A 看到")
    fail(b, day="2026-11-19", note="B 看到")
    bundle_a, bundle_b = bundle(a, tmp / "a.zip"), bundle(b, tmp / "b.zip")
    report = imported(office, bundle_b, bundle_a)
    assert report["merged"] == 1
    (problem,) = problems(office)
    # The earlier finding stands; the other is one more occurrence of it.
    assert problem["no"] == "ZG-2026-A-0001" and problem["occurrences"] == 1
    shown = office.ok("issue", "show", "ZG-2026-B-0001").stdout
    assert "ZG-2026-A-0001" in shown and "原编号 ZG-2026-B-0001" in shown
    assert json.loads(office.ok("issue", "stats", "--json").stdout)["total"]["total"] == 1
    second = Cli(new_db("office2"))
    second.ok("device", "enroll", "A")
    second.ok("device", "enroll", "B")
    second.ok("site", "import", DATA / "sites.csv")
    imported(second, bundle_a)
    imported(second, bundle_b)
    assert [p["no"] for p in problems(second)] == ["ZG-2026-A-0001"]


def test_a_merged_finding_after_the_fix_does_not_make_the_problem_overdue(team, monkeypatch):
    """Found in review: the other laptop's 'found', merged in as an occurrence, kept its
    待整改 status change, so `assess` counted a problem 已整改待复查 as overdue."""
    office, a, b, tmp = team
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-11-30")
    fail(a, day="2026-11-02", note="A 看到")  # deadline in November, long past by the 30th
    imported(office, bundle(a, tmp / "a.zip"))
    office.ok("issue", "fixed", "ZG-2026-A-0001", "--date", "2026-11-03", "--note", "已整改")
    fail(b, day="2026-11-05", note="B 看到")  # B never saw A's problem: found again after the fix
    assert imported(office, bundle(b, tmp / "b.zip"))["merged"] == 1
    (problem,) = problems(office)
    assert problem["status"] == "fixed" and problem["overdue_days"] == 0
    assessed = json.loads(office.ok("assess", "--month", "2026-11", "--json").stdout)
    rules = [item["rule"] for group in assessed["groups"] for item in group["items"]]
    assert not any(r.startswith("overdue") for r in rules) and "repeat_again" in rules


def test_a_change_made_on_two_sides_is_merged_the_same_way_and_listed_as_a_conflict(team, monkeypatch):
    office, a, _b, tmp = team
    fail(a)
    day_ends(office, a, tmp)
    # The office reassigns the unit while the laptop reports it fixed.
    office.ok("issue", "assign", "ZG-2026-A-0001", "--unit", "城市管理局", "--new-unit")
    a.ok("issue", "fixed", "ZG-2026-A-0001", "--date", "2026-11-20", "--note", "已修好")
    report = imported(office, bundle(a, tmp / "a2.zip"))
    assert report["conflicts"] >= 1
    (problem,) = problems(office)
    assert problem["unit"] == "城市管理局" and problem["status"] == "fixed"  # both changes kept
    listed = json.loads(office.ok("sync", "conflicts", "--json").stdout)
    assert any(c["label"] == "ZG-2026-A-0001" for c in listed)
    shown = office.ok("sync", "conflicts").stdout
    assert "ZG-2026-A-0001" in shown and "责任单位：城市管理局（Z）" in shown and "状态：已整改待复查（A）" in shown
    assert "两边的修改都已保留" in shown  # nothing lost: each side changed other fields
    monkeypatch.setenv("COLUMNS", "80")  # fitted: the number whole, no line past the edge
    narrow = office.ok("sync", "conflicts").stdout
    assert "ZG-2026-A-0001" in narrow and max(cell_len(line) for line in narrow.splitlines()) <= 80
    # The laptop, given the office's state, ends up with the same problem.
    imported(a, bundle(office, tmp / "office-all.zip", "--all", "--for", "A"))
    (on_laptop,) = problems(a)
    assert (on_laptop["unit"], on_laptop["status"]) == (problem["unit"], problem["status"])
    ident = listed[0]["id"][:8]
    office.ok("sync", "resolve", ident, "--note", "以复查为准")
    assert json.loads(office.ok("sync", "conflicts", "--json").stdout) == [] or all(
        c["id"][:8] != ident for c in json.loads(office.ok("sync", "conflicts", "--json").stdout)
    )


# --- trust ------------------------------------------------------------------------------


def test_a_bundle_from_a_device_not_enrolled_is_refused_until_enrolled(tmp_path, new_db):
    laptop = Cli(tmp_path / "x.sqlite")
    laptop.ok("site", "import", DATA / "sites.csv")
    laptop.ok("device", "set", "X")
    fail(laptop)
    work = bundle(laptop, tmp_path / "x.zip")
    office = Cli(new_db("office"))
    refused = office("sync", "import", work)
    assert refused.exit_code == 2 and "未登记的设备 X" in refused.stderr
    assert office.ok("inspection", "list", "--json").stdout.strip() in ("[]", "")
    report = imported(office, work, extra=("--enroll",))
    assert report["enrolled"] == ["X"] and report["new"] > 0


def test_a_code_used_by_another_device_is_refused(team):
    office, a, _b, tmp = team
    imported(office, bundle(a, tmp / "a0.zip"))  # binds A to laptop A
    impostor = Cli(tmp / "impostor.sqlite")
    impostor.ok("site", "import", DATA / "sites.csv")
    impostor.ok("device", "set", "A")
    fail(impostor)
    refused = office("sync", "import", bundle(impostor, tmp / "imp.zip"))
    assert refused.exit_code == 2 and "已被另一台设备使用" in refused.stderr


def test_a_hand_edited_bundle_is_refused_and_nothing_is_written(team):
    office, a, _b, tmp = team
    fail(a, note="原文")
    work = bundle(a, tmp / "a1.zip")
    edited = rewritten(
        work, tmp / "edited.zip", "records/problems.ndjson", lambda d: d.replace("原文".encode(), "改过".encode())
    )
    refused = office("sync", "import", edited)
    assert refused.exit_code == 2 and "签名不符" in refused.stderr
    assert problems(office) == []


def test_a_damaged_bundle_or_a_newer_format_is_refused(team):
    office, a, _b, tmp = team
    fail(a)
    work = bundle(a, tmp / "a1.zip")
    newer = tmp / "newer.zip"
    with zipfile.ZipFile(work) as src, zipfile.ZipFile(newer, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "manifest.json":
                data = json.dumps({**json.loads(data), "version": 2}).encode()
            dst.writestr(info.filename, data)
    refused = office("sync", "import", newer)
    assert refused.exit_code == 2 and "版本" in refused.stderr
    damaged = tmp / "damaged.zip"
    shutil.copy(work, damaged)
    damaged.write_bytes(damaged.read_bytes()[:-200])
    assert office("sync", "import", damaged).exit_code == 2
    missing = office("sync", "import", tmp / "nope.zip")
    assert missing.exit_code == 3 and "同步包不存在" in missing.stderr
    assert problems(office) == []


def test_export_needs_a_device_code(city):
    refused = city("sync", "export", "-o", "x.zip")
    assert refused.exit_code == 4 and "device set" in refused.stderr


# --- the field bundle -----------------------------------------------------------------------


def test_the_field_bundle_hands_out_the_office_checklists_and_settings(tmp_path, new_db):
    office = Cli(new_db("office"))
    office.ok("site", "import", DATA / "sites.csv")
    office.ok("device", "set", "Z")
    office.ok("device", "enroll", "A")
    settings = tmp_path / "office.yaml"
    settings.write_text("rectification:\n  default_deadline_days: 9\noffice:\n  name: 测试市创城办\n", encoding="utf-8")
    own = copy_shipped(tmp_path / "own")
    nmsc = own / "nmsc.yaml"
    nmsc.write_text(nmsc.read_text(encoding="utf-8").replace('edition: "2026"', 'edition: "2026-11"'), "utf-8")
    field = tmp_path / "field.zip"
    office.ok("--config", settings, "--checklists", own, "sync", "export", "--field", "--for", "A", "-o", field)
    laptop = Cli(tmp_path / "laptop.sqlite")
    assert "已更新创城办下发的测评标准和设置" in laptop.ok("sync", "import", field).stdout
    shown = laptop.ok("config", "show").stdout
    assert "测试市创城办" in shown and "创城办下发的设置" in shown
    listed = json.loads(laptop.ok("checklist", "list", "--json").stdout)
    assert {c["code"]: c["edition"] for c in listed}["NMSC"] == "2026-11"
    fail(laptop, day="2026-11-16")
    (inspected,) = json.loads(laptop.ok("inspection", "list", "--json").stdout)
    assert inspected["checklist_edition"] == "2026-11"


def test_a_field_bundle_with_a_broken_checklist_is_refused_whole(tmp_path, new_db):
    office = Cli(new_db("office"))
    office.ok("site", "import", DATA / "sites.csv")
    own = copy_shipped(tmp_path / "own")
    field = tmp_path / "field.zip"
    office.ok("--checklists", own, "sync", "export", "--field", "-o", field)
    broken = tmp_path / "broken.zip"

    # A field bundle is unsigned unless made for a device: rebuild it with one checklist broken.
    def break_first(data: bytes) -> bytes:
        lines = data.decode().splitlines()
        lines[0] = json.dumps({**json.loads(lines[0]), "text": "code: [unclosed"}, ensure_ascii=False)
        return ("\n".join(lines) + "\n").encode()

    broken = rewritten(field, tmp_path / "broken.zip", "records/checklists.ndjson", break_first)
    laptop = Cli(tmp_path / "laptop.sqlite")
    refused = laptop("sync", "import", broken)
    assert refused.exit_code == 2 and "测评标准有错误" in refused.stderr
    assert not (tmp_path / "laptop-office").exists()
    assert laptop.ok("site", "list", "--json").stdout.strip() == "[]"


def test_the_field_bundle_never_overwrites_the_laptops_unsent_work(team):
    office, a, _b, tmp = team
    fail(a, note="笔记本上的描述")
    day_ends(office, a, tmp)
    a.ok("issue", "fixed", "ZG-2026-A-0001", "--date", "2026-11-20", "--note", "笔记本上报")  # not sent yet
    office.ok("sync", "export", "--field", "--for", "A", "-o", tmp / "field-again.zip")
    a.ok("sync", "import", tmp / "field-again.zip")
    (problem,) = problems(a)
    assert problem["status"] == "fixed"
    assert "笔记本上报" in a.ok("issue", "show", "ZG-2026-A-0001").stdout


def test_a_unit_renamed_at_the_office_is_followed_on_the_laptop(team):
    office, a, _b, tmp = team
    a.ok("record", "NMSC-001", "gg-01", "不合格", "--note", "破损", "--date", "2026-11-18")
    assert problems(a)[0]["unit"] == "市场监管局"
    office.ok("unit", "rename", "市场监管局", "市市场监督管理局")
    office.ok("sync", "export", "--field", "--for", "A", "-o", tmp / "field-2.zip")
    a.ok("sync", "import", tmp / "field-2.zip")
    assert problems(a)[0]["unit"] == "市市场监督管理局"
    names = [u["name"] for u in json.loads(a.ok("unit", "list", "--json").stdout)]
    assert "市市场监督管理局" in names and "市场监管局" not in names
    imported(office, bundle(a, tmp / "a1.zip"))
    assert problems(office)[0]["unit"] == "市市场监督管理局"
    assert "市场监管局" not in [u["name"] for u in json.loads(office.ok("unit", "list", "--json").stdout)]


def test_after_a_full_exchange_every_output_is_the_same_on_the_office_and_a_laptop(team, checklists, monkeypatch):
    from openpyxl import load_workbook

    from inspect_cli import inspection as core

    office, a, b, tmp = team
    monkeypatch.setenv("INSPECT_CLI_TODAY", "2026-11-28")
    for laptop, site in ((a, "NMSC-001"), (b, "GJZD-001")):
        fail(laptop, site, day="2026-11-18")
        with Store(laptop.db) as store:
            (current,) = store.list_inspections()
            for item in core.detail(store, current).unanswered:
                core.record(store, current, item.id, "pass")
            core.finish(store, current.no)
    imported(office, bundle(a, tmp / "a.zip"), bundle(b, tmp / "b.zip"))
    office.ok("issue", "fixed", "ZG-2026-A-0001", "--date", "2026-11-20", "--note", "已修")
    imported(a, bundle(office, tmp / "office.zip", "--all", "--for", "A"))  # B's work reaches A through the office
    outputs = {}
    for name, cli in (("office", office), ("A", a)):
        workbook = tmp / f"{name}.xlsx"
        cli.ok("export", "report", "--week", "2026-W47", "-o", workbook)
        sheets = load_workbook(workbook, read_only=True)
        cells = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in sheets.worksheets}
        cli.ok("notice", "--week", "2026-W47", "-o", tmp / f"{name}.md")
        outputs[name] = (
            cli.ok("score", "--week", "2026-W47", "--json").stdout,
            cli.ok("issue", "stats", "--json").stdout,
            cells,
            # The charts are linked from a folder named after the file.
            (tmp / f"{name}.md").read_text(encoding="utf-8").replace(f"{name}_照片/", "照片/"),
        )
    assert json.loads(outputs["A"][0]) and "ZG-2026-B-0001" in str(outputs["A"][2])
    assert outputs["A"] == outputs["office"]


def test_an_office_hands_everything_on_to_another_office(team, new_db):
    office, a, _b, tmp = team
    fail(a, note="转交")
    imported(office, bundle(a, tmp / "a.zip"))
    district = Cli(new_db("district"))
    district.ok("device", "set", "Q")
    report = imported(district, bundle(office, tmp / "office-all.zip", "--all", "--for", "A"), extra=("--enroll",))
    assert report["enrolled"] == ["Z"]
    (problem,) = problems(district)
    assert (problem["no"], problem["description"]) == ("ZG-2026-A-0001", "转交")
    again = imported(district, bundle(office, tmp / "office-all-2.zip", "--all"))
    assert again["new"] == 0 and again["updated"] == 0


def remanifested(source: Path, target: Path, **changes) -> Path:
    """A copy of a bundle with manifest fields changed (and its signature dropped)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        manifest = {**json.loads(src.read("manifest.json")), **changes}
        for info in src.infolist():
            if info.filename not in ("manifest.json", "manifest.sig"):
                dst.writestr(info.filename, src.read(info.filename))
        dst.writestr("manifest.json", json.dumps(manifest))
    return target


def test_numbers_made_before_device_codes_on_two_laptops_both_survive(tmp_path, new_db):
    office = Cli(new_db("office"))
    works = []
    for code in ("A", "B"):
        laptop = Cli(tmp_path / f"{code}.sqlite")
        laptop.ok("site", "import", DATA / "sites.csv")
        fail(laptop, note=f"{code} 看到")  # JC-2026-0001 and ZG-2026-0001 on both
        laptop.ok("device", "set", code)
        works.append(bundle(laptop, tmp_path / f"{code}.zip"))
    imported(office, *works, extra=("--enroll",))
    numbers = sorted(i["no"] for i in json.loads(office.ok("inspection", "list", "--json").stdout))
    assert numbers[0] == "JC-2026-0001" and numbers[1].startswith("JC-2026-0001-") and len(numbers) == 2
    other = Cli(new_db("office2"))
    imported(other, *reversed(works), extra=("--enroll",))
    assert sorted(i["no"] for i in json.loads(other.ok("inspection", "list", "--json").stdout)) == numbers


def test_bundles_from_the_office_must_carry_the_laptops_signature(team):
    office, a, b, tmp = team
    unsigned = tmp / "field-unsigned.zip"
    office.ok("sync", "export", "--field", "-o", unsigned)  # not made --for A: no signature
    refused = a("sync", "import", unsigned)
    assert refused.exit_code == 2 and "没有签名" in refused.stderr
    fail(b)
    office_id = json.loads(office.ok("device", "show", "--json").stdout)["device_id"]
    forged = remanifested(bundle(b, tmp / "b.zip"), tmp / "forged.zip", device_id=office_id)
    refused = a("sync", "import", forged)
    assert refused.exit_code == 2 and "没有签名" in refused.stderr
    mine = bundle(a, tmp / "mine.zip", "--all")
    refused = a("sync", "import", mine)
    assert refused.exit_code == 2 and "本机自己导出" in refused.stderr
    # The key travels once: later field bundles for A are signed but do not carry it.
    office.ok("sync", "export", "--field", "--for", "A", "-o", tmp / "field-later.zip")
    with zipfile.ZipFile(tmp / "field-later.zip") as z:
        assert "device_key" not in json.loads(z.read("manifest.json"))
    a.ok("sync", "import", tmp / "field-later.zip")


@pytest.mark.parametrize(
    "changes",
    [{"clock": "x"}, {"since": [1]}, {"device_key": "zz"}, {"acks": {"a": "b"}}, {"kind": "other"}, {"device_id": 7}],
)
def test_a_manifest_with_wrong_types_is_refused_in_one_line(team, changes):
    office, a, _b, tmp = team
    fail(a)
    bad = remanifested(bundle(a, tmp / "a.zip"), tmp / "bad.zip", **changes)
    refused = office("sync", "import", bad)
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "程序内部错误" not in refused.stderr


@pytest.mark.parametrize(
    ("member", "change"),
    [
        ("records/problems.ndjson", lambda r: {**r, "site": ["NMSC-001"]}),
        ("records/inspections.ndjson", lambda r: {**r, "items": [1, 2]}),
        ("records/problems.ndjson", lambda r: {**r, "vv": json.dumps({"x": "a"})}),
        ("records/results.ndjson", lambda r: {**r, "rev": None}),
        ("records/results.ndjson", lambda r: {**r, "photos": [{"sha256": "../x", "stored_name": "a.jpg"}]}),
    ],
)
def test_a_record_with_wrong_types_is_refused_in_one_line(tmp_path, member, change, new_db):
    laptop = Cli(tmp_path / "x.sqlite")
    laptop.ok("site", "import", DATA / "sites.csv")
    laptop.ok("device", "set", "X")
    fail(laptop)

    def edit(data: bytes) -> bytes:
        lines = data.decode().splitlines()
        lines[0] = json.dumps(change(json.loads(lines[0])), ensure_ascii=False)
        return ("\n".join(lines) + "\n").encode()

    bad = rewritten(bundle(laptop, tmp_path / "x.zip"), tmp_path / "bad.zip", member, edit)
    office = Cli(new_db("office"))
    office.ok("site", "import", DATA / "sites.csv")
    refused = office("sync", "import", bad, "--enroll")
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "程序内部错误" not in refused.stderr
    assert problems(office) == []


def test_a_problem_the_office_ends_is_ended_on_the_laptop_by_the_next_field_bundle(team):
    office, a, _b, tmp = team
    fail(a)
    fail(a, "GJZD-001")
    day_ends(office, a, tmp)
    office.ok("issue", "dismiss", "ZG-2026-A-0001", "--reason", "不属实")
    office.ok("inspection", "delete", "JC-2026-A-0002", "--yes")
    office.ok("sync", "export", "--field", "--for", "A", "-o", tmp / "field-3.zip")
    a.ok("sync", "import", tmp / "field-3.zip")
    assert [(p["no"], p["status"]) for p in json.loads(a.ok("issue", "list", "--json").stdout)] == [
        ("ZG-2026-A-0001", "dismissed")
    ]
    assert [i["no"] for i in json.loads(a.ok("inspection", "list", "--json").stdout)] == ["JC-2026-A-0001"]


def test_work_a_delete_did_not_see_is_kept_as_a_conflict(team):
    office, a, _b, tmp = team
    fail(a)
    day_ends(office, a, tmp)
    # The office reports the problem fixed while the laptop deletes the inspection that found it.
    office.ok("issue", "fixed", "ZG-2026-A-0001", "--date", "2026-11-20", "--note", "已更换广告牌")
    a.ok("inspection", "delete", "JC-2026-A-0001", "--yes")
    report = imported(office, bundle(a, tmp / "a2.zip"))
    assert problems(office) == [] and report["conflicts"] >= 2
    kept = json.loads(office.ok("sync", "conflicts", "--json").stdout)
    notes = [c["other"].get("note") for c in kept if c["kind"] == "problem_events"]
    assert "已更换广告牌" in notes
    assert any(c["kind"] == "problems" and c["label"] == "ZG-2026-A-0001" for c in kept)
    assert "已删除" in office.ok("sync", "conflicts").stdout


def test_a_unit_renamed_and_renamed_back_settles_on_every_side(team):
    office, a, _b, tmp = team
    fail(a)
    day_ends(office, a, tmp)
    office.ok("unit", "rename", "市场监管局", "市市场监督管理局")
    day_ends(office, a, tmp)
    office.ok("unit", "rename", "市市场监督管理局", "市场监管局")
    for _ in range(3):  # and a few more days: nothing flips back and forth
        day_ends(office, a, tmp)
    for cli in (office, a):
        assert problems(cli)[0]["unit"] == "市场监管局"
        names = [u["name"] for u in json.loads(cli.ok("unit", "list", "--json").stdout)]
        assert "市场监管局" in names and "市市场监督管理局" not in names


def test_the_device_code_is_asked_for_once(store, monkeypatch, capsys):
    from inspect_cli.cli import run

    typed = iter(["长长的"])
    monkeypatch.setattr("builtins.input", lambda: next(typed))
    run._ask_device_code_once(store)  # an invalid code: said so, and not asked again
    assert "设备代码“长长的”无效" in capsys.readouterr().err
    assert store.device().code is None and store.device().code_asked
    monkeypatch.setattr("builtins.input", lambda: pytest.fail("asked twice"))
    run._ask_device_code_once(store)


def test_a_field_changed_on_both_sides_keeps_the_losing_value_in_the_conflict(team):
    office, a, _b, tmp = team
    fail(a)
    day_ends(office, a, tmp)
    office.ok("issue", "deadline", "ZG-2026-A-0001", "2026-12-01")
    a.ok("issue", "deadline", "ZG-2026-A-0001", "2026-12-05")
    imported(office, bundle(a, tmp / "a2.zip"))
    (conflict,) = json.loads(office.ok("sync", "conflicts", "--json").stdout)
    deadlines = {conflict["kept"]["deadline"], conflict["other"]["deadline"]}
    assert deadlines == {"2026-12-01", "2026-12-05"}
    assert problems(office)[0]["deadline"] == conflict["kept"]["deadline"]


def test_a_unit_edited_on_a_laptop_while_the_office_renames_it_keeps_both_changes(team):
    office, a, _b, tmp = team
    register = tmp / "units.csv"
    register.write_text("单位名称,联系人,电话\n市场监管局,王科长,0371-99999999\n", encoding="utf-8")
    a.ok("unit", "import", register)
    office.ok("unit", "rename", "市场监管局", "市市场监督管理局")
    imported(office, bundle(a, tmp / "a.zip"))
    office.ok("sync", "export", "--field", "--for", "A", "-o", tmp / "field-2.zip")
    a.ok("sync", "import", tmp / "field-2.zip")
    for cli in (office, a):
        (unit,) = [u for u in json.loads(cli.ok("unit", "list", "--json").stdout) if "市场" in u["name"]]
        assert (unit["name"], unit["contact"], unit["phone"]) == ("市市场监督管理局", "王科长", "0371-99999999")
        assert "市场监管局" in unit["aliases"]
