"""Which bundles this database takes: enrolled devices, signatures, the office's own key."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inspect_cli.store import Store
from inspect_cli.sync import FIELD, WORK
from inspect_cli.sync.bundle import Bundle, BundleError

if TYPE_CHECKING:
    from inspect_cli.sync.exchange import ImportReport


@dataclass
class Source:
    kind: str
    device_id: str
    code: str
    enroll: bool = False


def check_source(store: Store, bundle: Bundle, enroll: bool) -> Source:
    """Refuse a bundle this database does not trust; what to record about its device.

    A laptop trusts the first field bundle it takes (that is how it receives its key);
    from then on every bundle from the office must be signed with that key. The office
    trusts an enrolled laptop's bundles, signed with the laptop's key once it was handed out.
    """
    m = bundle.manifest
    name = bundle.path.name
    check_manifest(m, name)
    kind, device_id = m["kind"], m["device_id"]
    code = str(m.get("device_code") or "").upper()
    me = store.device()
    key = store.device_key()
    if device_id == me.id:
        raise BundleError(f"同步包 {name} 是本机自己导出的，不需要导入")
    from_office = kind == FIELD or (me.office_id is not None and device_id == me.office_id)
    if from_office:
        office = m.get("office_id") if kind == FIELD else device_id
        if me.office_id and office != me.office_id and not enroll:
            raise BundleError(f"同步包 {name} 来自另一个创城办（与本机以前收到的不同）；确认无误后加 --enroll 导入")
        target = str(m.get("for_device") or "").upper()
        if target and me.code and target != me.code:
            raise BundleError(f"下发包 {name} 是给设备 {target} 的，本机代码是 {me.code}")
        if key and not enroll:
            if not bundle.signed:
                raise BundleError(f"同步包 {name} 没有签名：本机已登记，创城办给本机的同步包须用 --for {me.code} 导出")
            _verify(bundle, bytes.fromhex(key))
        elif m.get("device_key"):
            _verify(bundle, bytes.fromhex(m["device_key"]))
        if kind == FIELD:
            return Source(FIELD, device_id, code, enroll=enroll)
        return Source(WORK, device_id, code)
    if not code:
        raise BundleError(f"同步包 {name} 没有设备代码，不能导入")
    if me.code and code == me.code.upper():
        raise BundleError(f"同步包 {name} 的设备代码 {code} 与本机相同，但来自另一台设备；每台电脑的代码必须不同")
    known = store.enrolled_device(code)
    if known is None:
        if not enroll:
            raise BundleError(
                f"同步包 {name} 来自未登记的设备 {code}；确认是本队的电脑后，用 inspect-cli device enroll {code}"
                " 登记，或导入时加 --enroll"
            )
        return Source(WORK, device_id, code, enroll=True)
    if known["id"] and known["id"] != device_id:
        raise BundleError(f"同步包 {name} 的设备代码 {code} 已被另一台设备使用，不能导入；请给那台电脑换一个代码")
    if known["key_sent"]:
        _verify(bundle, bytes.fromhex(known["key"]))
    return Source(WORK, device_id, code)


def check_manifest(m: dict[str, Any], name: str) -> None:
    """The manifest fields this module relies on, of the types it relies on."""

    def bad(what: str) -> BundleError:
        return BundleError(f"同步包 {name} 的清单无效：{what}")

    if m.get("kind") not in (WORK, FIELD):
        raise bad("类型（kind）未知")
    for field_name in ("device_id",):
        if not isinstance(m.get(field_name), str) or not m[field_name] or len(m[field_name]) > 64:
            raise bad(f"缺少来源设备（{field_name}）")
    for field_name in ("device_code", "office_id", "for_device", "created"):
        if m.get(field_name) is not None and (not isinstance(m[field_name], str) or len(m[field_name]) > 64):
            raise bad(f"{field_name} 应为文字")
    for field_name in ("clock", "since", "upto"):
        value = m.get(field_name, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise bad(f"{field_name} 应为整数")
    key = m.get("device_key")
    if key is not None and not (isinstance(key, str) and re.fullmatch(r"[0-9a-f]{64}", key)):
        raise bad("设备密钥格式不对")
    for field_name in ("acks", "counts"):
        value = m.get(field_name, {})
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in value.items()
        ):
            raise bad(f"{field_name} 应为“名称: 整数”的映射")


def _verify(bundle: Bundle, key: bytes) -> None:
    try:
        bundle.verify_signature(key)
    except BundleError:
        raise BundleError(
            f"同步包 {bundle.path.name} 的签名不符：导出后被改动过，或不是由登记的设备导出的；未导入任何内容"
        ) from None


def apply_source(store: Store, bundle: Bundle, source: Source, report: ImportReport) -> None:
    m = bundle.manifest
    if source.kind == FIELD:
        store.accept_field_bundle(
            office_id=str(m.get("office_id") or source.device_id),
            code=m.get("for_device"),
            key=m.get("device_key"),
            acked=(m.get("acks") or {}).get(store.device().id),
            keep_key=bool(store.device_key()) and not source.enroll,
        )
        return
    if source.enroll:
        store.enroll_device(source.code, secrets.token_hex(32), device_id=source.device_id)
        report.enrolled.append(source.code)
    if source.device_id != store.device().id:
        store.bundle_received(source.code, source.device_id, int(m.get("since") or 0), int(m.get("upto") or 0))
