"""Checks catalogs/infobip.yaml against the Infobip seed document.

The literals below were transcribed from shared/seeds/003_e55310fcc9fb1d34.txt, the Japanese
NTT CPaaS copy of Infobip's "Response status and error codes" page, table by table. They are not
derived from the YAML. The seed prints some ids with a stray '年' (2048年); the codes here
leave it out. Codes are written as space-separated text per seed table, in seed order.
"""

from __future__ import annotations

from collections import Counter, deque
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.catalog.model import Catalog, Entry

CATALOG_PATH = Path(__file__).resolve().parents[3] / "catalogs" / "infobip.yaml"

# Rows per seed table, in document order (one catalog section per table).
SEED_ROW_COUNTS: dict[str, int] = {
    # 一般的な状態コード: ペンディング, グループ ID 1 (seed lines 29-31)
    "status_pending": 3,
    # 一般的な状態コード: 配信不能, グループ ID 2 (seed lines 37-42)
    "status_undeliverable": 6,
    # 一般的な状態コード: 配信, グループ ID 3 (seed lines 48-49)
    "status_delivered": 2,
    # 一般的な状態コード: 期限 切れ, グループ ID 4 (seed lines 56-58)
    "status_expired": 3,
    # 一般的な状態コード: 拒否, グループ ID 5 (seed lines 65-84)
    "status_rejected": 20,
    # Voice ステータスコード: 拒否, グループ ID 5 (seed lines 92-106)
    "voice_status_rejected": 15,
    # MMS 状態コード: 拒否, グループ ID 5 (seed lines 113-114)
    "mms_status_rejected": 2,
    # メールステータスコード: 拒否, グループ ID 5 (seed lines 121-124)
    "email_status_rejected": 4,
    # プッシュ通知通知の状態コード: 配信不能, ID 2 (seed line 131)
    "push_status_undeliverable": 1,
    # プッシュ通知通知の状態コード: 拒否, ID 5 (seed line 137)
    "push_status_rejected": 1,
    # Momentsステータスコード: ペンディング (seed line 143)
    "moments_status_pending": 1,
    # 一般的なエラーコード: わかりました, グループ ID 0 (seed line 162)
    "error_ok": 1,
    # 一般的なエラーコード: 受話器のエラー, ID 1 (seed lines 168-243)
    "error_handset": 76,
    # 一般的なエラーコード: ユーザーエラー, ID 2 (seed lines 249-281)
    "error_user": 33,
    # 一般的なエラーコード: オペレーターのエラー, ID 3 (seed lines 287-318)
    "error_operator": 32,
    # Voice エラーコード(非推奨): わかりました, ID 0 (seed lines 327-328)
    "voice_legacy_error_ok": 2,
    # Voice エラーコード(非推奨): 受話器のエラー (seed lines 334-335)
    "voice_legacy_error_handset": 2,
    # Voice エラーコード(非推奨): オペレーター (seed lines 341-360)
    "voice_legacy_error_operator": 20,
    # Voice と WebRTC のエラーコード: わかりました (seed lines 367-371)
    "voice_webrtc_error_ok": 5,
    # Voice と WebRTC: 受話器のエラー, ID 1 (seed lines 377-380)
    "voice_webrtc_error_handset": 4,
    # Voice と WebRTC: ユーザーエラー, ID 2 (seed lines 386-390)
    "voice_webrtc_error_user": 5,
    # Voice と WebRTC: オペレーターのエラー (seed lines 396-412)
    "voice_webrtc_error_operator": 17,
    # プッシュ通知通知のエラーコード: 登録エラー (seed lines 419-422)
    "push_error_registration": 4,
    # プッシュ通知通知のエラーコード: クラウドエラー (seed lines 428-436)
    "push_error_cloud": 9,
    # MMS エラー コード (seed lines 440-469)
    "mms_errors": 30,
    # メールエラーコード: 削除, グループ ID 1 (seed lines 476-506)
    "email_error_dropped": 31,
    # メールエラーコード: バウンス, グループ ID 2 (seed lines 512-527)
    "email_error_bounce": 16,
    # メールエラーコード: システムエラー, ID 3 (seed line 533)
    "email_error_system": 1,
    # チャットのエラーコード: クライアントエラー (seed lines 541-573)
    "chat_error_client": 33,
    # チャットのエラーコード: プロバイダーのエラー (seed lines 579-581)
    "chat_error_provider": 3,
    # チャットのエラーコード: システムエラー (seed lines 587-593)
    "chat_error_system": 7,
    # モバイルID エラーコード (seed lines 597-614)
    "mobile_identity_errors": 18,
    # DLTエラーコード (India) (seed lines 619-669)
    "dlt_errors": 51,
    # Live Chat のエラー コード (seed lines 677-704)
    "live_chat_errors": 28,
    # Momentsエラーコード: 拒否 (seed lines 710-715)
    "moments_errors_rejected": 6,
    # People APIエラーコード: 400 Bad Request (seed lines 729-748)
    "people_errors_400": 20,
    # People APIエラーコード: 404 Not Found (seed lines 752-758)
    "people_errors_404": 7,
    # People APIエラーコード: 405 Method Not Allowed (seed lines 762-763)
    "people_errors_405": 2,
    # People APIエラーコード: 409 Conflict (seed lines 767-768)
    "people_errors_409": 2,
    # People APIエラーコード: 429 Too Many Requests (seed line 772)
    "people_errors_429": 1,
}

SEED_CODES: dict[str, str] = {
    # 一般的な状態コード: ペンディング, グループ ID 1
    "status_pending": "3 7 26",
    # 一般的な状態コード: 配信不能, グループ ID 2
    "status_undeliverable": "4 9 31 96 97 98",
    # 一般的な状態コード: 配信, グループ ID 3
    "status_delivered": "2 5",
    # 一般的な状態コード: 期限 切れ, グループ ID 4
    "status_expired": "15 29 87",
    # 一般的な状態コード: 拒否, グループ ID 5
    "status_rejected": "6 8 10 11 12 13 14 17 18 19 20 21 23 24 25 51 52 87 99 100",
    # Voice ステータスコード: 拒否, グループ ID 5
    "voice_status_rejected": "53 54 55 56 57 58 59 60 61 62 63 64 83 87 91",
    # MMS 状態コード: 拒否, グループ ID 5
    "mms_status_rejected": "56 77",
    # メールステータスコード: 拒否, グループ ID 5
    "email_status_rejected": "75 88 89 90",
    # プッシュ通知通知の状態コード: 配信不能, ID 2
    "push_status_undeliverable": "66",
    # プッシュ通知通知の状態コード: 拒否, ID 5
    "push_status_rejected": "65",
    # Momentsステータスコード: ペンディング
    "moments_status_pending": "200",
    # 一般的なエラーコード: わかりました, グループ ID 0
    "error_ok": "0",
    # 一般的なエラーコード: 受話器のエラー, ID 1
    "error_handset": (
        "1 2 5 6 7 8 9 11 12 13 21 27 31 32 33 34 35 36 255 256 257 258 259 260 261 262 "
        "500 502 503 504 507 508 509 565 573 581 628 629 1024 1025 1026 1027 1028 1029 "
        "1030 1031 1152 1153 1154 1155 1156 1157 1158 1159 1160 1161 1162 1163 1164 1165 "
        "1166 1281 1282 1283 1284 1536 1537 1538 1539 1540 1541 1792 1793 1794 1795 1796"
    ),
    # 一般的なエラーコード: ユーザーエラー, ID 2
    "error_user": (
        "323 351 352 355 368 433 541 542 572 577 578 579 580 594 597 598 601 603 604 607 "
        "608 2049 2052 2053 3041 4096 4099 4100 4101 4102 4103 4104 4202"
    ),
    # 一般的なエラーコード: オペレーターのエラー, ID 3
    "error_operator": (
        "10 20 51 71 345 375 488 501 560 561 562 563 564 566 568 569 571 574 592 630 631 "
        "632 633 810 811 815 2048 2050 2051 4097 4102 5492"
    ),
    # Voice エラーコード(非推奨): わかりました, ID 0
    "voice_legacy_error_ok": "5000 5001",
    # Voice エラーコード(非推奨): 受話器のエラー
    "voice_legacy_error_handset": "5480 5603",
    # Voice エラーコード(非推奨): オペレーター
    "voice_legacy_error_operator": (
        "5002 5003 5004 5005 5400 5403 5404 5407 5408 5410 5413 5414 5415 5481 5484 5487 "
        "5488 5491 5501 5503"
    ),
    # Voice と WebRTC のエラーコード: わかりました
    "voice_webrtc_error_ok": "10000 10001 10002 10003 10004",
    # Voice と WebRTC: 受話器のエラー, ID 1
    "voice_webrtc_error_handset": "10100 10101 10102 10103",
    # Voice と WebRTC: ユーザーエラー, ID 2
    "voice_webrtc_error_user": "10200 10201 10202 10203 10204",
    # Voice と WebRTC: オペレーターのエラー
    "voice_webrtc_error_operator": (
        "10300 10301 10302 10303 10304 10305 10306 10307 10308 10309 10310 10311 10312 "
        "10313 10400 10401 10402"
    ),
    # プッシュ通知通知のエラーコード: 登録エラー
    "push_error_registration": "8001 8002 8003 8004",
    # プッシュ通知通知のエラーコード: クラウドエラー
    "push_error_cloud": "8005 8006 8007 8008 8009 8010 8011 8012 8013",
    # MMS エラー コード
    "mms_errors": (
        "15000 15002 15003 15004 15005 15006 15007 15008 15009 15010 15011 15012 15013 "
        "15014 15015 15016 15017 15018 15019 15020 15021 15022 15023 15024 15025 15026 "
        "15200 15201 15202 15203"
    ),
    # メールエラーコード: 削除, グループ ID 1
    "email_error_dropped": (
        "6002 6003 6016 6018 6020 6021 6023 6024 6025 6026 6027 6029 6030 6031 6033 6034 "
        "6035 6036 6038 6039 6040 6041 6050 6051 6052 6053 6054 6055 6056 6057 6058"
    ),
    # メールエラーコード: バウンス, グループ ID 2
    "email_error_bounce": (
        "6006 6007 6009 6010 6011 6012 6017 6037 6042 6043 6044 6045 6046 6047 6048 6049"
    ),
    # メールエラーコード: システムエラー, ID 3
    "email_error_system": "6013",
    # チャットのエラーコード: クライアントエラー
    "chat_error_client": (
        "7001 7002 7003 7004 7005 7006 7007 7008 7009 7010 7011 7012 7013 7014 7015 7016 "
        "7017 7018 7019 7020 7021 7022 7023 7024 7025 7026 7027 7029 7030 7031 7032 7102 "
        "7201"
    ),
    # チャットのエラーコード: プロバイダーのエラー
    "chat_error_provider": "7050 7051 7052",
    # チャットのエラーコード: システムエラー
    "chat_error_system": "7080 7081 7082 7083 7084 7280 7281",
    # モバイルID エラーコード
    "mobile_identity_errors": (
        "100 101 102 200 201 202 300 301 302 303 304 305 306 307 308 309 310 1000"
    ),
    # DLTエラーコード (India)
    "dlt_errors": (
        "4106 4107 4108 4109 4110 4111 4112 4113 4114 4115 4116 4117 4118 4119 4120 4121 "
        "4122 4123 4124 4125 4126 4127 4128 4129 4130 4131 4132 4133 4134 4135 4136 4137 "
        "4138 4139 4140 4141 4142 4143 4144 4146 4147 4148 4149 4150 4151 4153 4154 4155 "
        "4156 4157 4158"
    ),
    # Live Chat のエラー コード
    "live_chat_errors": (
        "1001 1011 1012 1013 1031 1032 1033 1101 1102 1103 1104 1105 1106 1111 1112 1113 "
        "1114 1121 1122 1123 1124 1125 1126 1127 1128 1198 1199 1321"
    ),
    # Momentsエラーコード: 拒否
    "moments_errors_rejected": "200 202 203 204 205 206",
    # People APIエラーコード: 400 Bad Request
    "people_errors_400": (
        "40001 40002 40003 40004 40005 40006 40007 40010 40012 40013 40014 40015 40016 "
        "40018 40019 40020 40021 40022 40023 40024"
    ),
    # People APIエラーコード: 404 Not Found
    "people_errors_404": "40401 40403 40404 40404 40405 40406 40407",
    # People APIエラーコード: 405 Method Not Allowed
    "people_errors_405": "40501 40502",
    # People APIエラーコード: 409 Conflict
    "people_errors_409": "40901 40902",
    # People APIエラーコード: 429 Too Many Requests
    "people_errors_429": "42901",
}

SEED_NOT_PERMANENT: dict[str, str] = {
    "error_ok": "0",
    "error_handset": (
        "2 5 6 7 8 13 21 27 31 32 33 34 35 36 255 256 257 258 259 260 261 262 500 502 503 "
        "504 507 508 509 581 1024 1025 1026 1027 1028 1029 1030 1031 1152 1153 1154 1155 "
        "1156 1157 1158 1159 1160 1161 1162 1163 1164 1165 1166 1281 1282 1283 1284 1536 "
        "1537 1538 1539 1540 1541 1792 1793 1794 1795 1796"
    ),
    "error_user": "351 541 542 608",
    "error_operator": "20 71 501 571 2048 2051 4097",
    "voice_legacy_error_ok": "",
    "voice_legacy_error_handset": "5480 5603",
    "voice_legacy_error_operator": (
        "5400 5403 5404 5407 5408 5410 5413 5414 5415 5481 5484 5487 5488 5491"
    ),
    "voice_webrtc_error_ok": "",
    "voice_webrtc_error_handset": "",
    "voice_webrtc_error_user": "",
    "voice_webrtc_error_operator": "",
    "push_error_registration": "",
    "push_error_cloud": "",
    "mms_errors": "15000 15004",
    "email_error_dropped": "6050 6051 6053 6056 6057 6058",
    "email_error_bounce": "6007 6010 6011 6017 6046",
    "email_error_system": "6013",
    "chat_error_client": "7012 7013 7014 7017 7024",
    "chat_error_provider": "7050 7051",
    "chat_error_system": "",
}

# Status and error objects exactly as the seed prints them in its two examples.
SEED_STATUS_EXAMPLE: dict[str, Any] = {
    "groupId": 3,
    "groupName": "DELIVERED",
    "id": 5,
    "name": "DELIVERED_TO_HANDSET",
    "description": "Message delivered to handset",
}
SEED_ERROR_EXAMPLE: dict[str, Any] = {
    "groupId": 0,
    "groupName": "OK",
    "id": 0,
    "name": "NO_ERROR",
    "description": "No Error",
    "permanent": False,
}

# Sections whose group names are known wire values (statuses 1-5, errors OK..OPERATOR_ERRORS).
WIRE_GROUP_SECTIONS = frozenset(
    {
        "status_pending",
        "status_undeliverable",
        "status_delivered",
        "status_expired",
        "status_rejected",
        "voice_status_rejected",
        "mms_status_rejected",
        "email_status_rejected",
        "push_status_undeliverable",
        "push_status_rejected",
        "error_ok",
        "error_handset",
        "error_user",
        "error_operator",
        "voice_legacy_error_ok",
        "voice_legacy_error_handset",
        "voice_legacy_error_operator",
        "voice_webrtc_error_ok",
        "voice_webrtc_error_handset",
        "voice_webrtc_error_user",
        "voice_webrtc_error_operator",
    }
)
# Sections that never appear in a delivery report, so they fill no callback fields.
NO_CALLBACK_SECTIONS = frozenset(
    {
        "moments_status_pending",
        "mobile_identity_errors",
        "live_chat_errors",
        "moments_errors_rejected",
        "people_errors_400",
        "people_errors_404",
        "people_errors_405",
        "people_errors_409",
        "people_errors_429",
    }
)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _expected_err(code: int) -> str:
    """The catalog's documented err rule for an error id (see the catalog notes)."""
    if code < 1000:
        return f"{code:03d}"
    rest = code % 1000
    return _LETTERS[code // 1000 - 1] + _BASE36[rest // 36] + _BASE36[rest % 36]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with CATALOG_PATH.open(encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.safe_load(handle))


def _by_key(catalog: Catalog) -> dict[str, Entry]:
    return {entry.key: entry for entry in catalog.entries}


def _is_int(value: object) -> bool:
    return type(value) is int


def test_catalog_identity(catalog: Catalog) -> None:
    assert catalog.provider == "infobip"
    assert catalog.seed == "003_e55310fcc9fb1d34.txt"
    assert catalog.language == "ja"
    assert catalog.initial_status == "PENDING_ACCEPTED"
    assert catalog.delivered_status == "DELIVERED_TO_HANDSET"
    entries = _by_key(catalog)
    assert entries["PENDING_ACCEPTED"].final is False
    assert entries["DELIVERED_TO_HANDSET"].outcome == "delivered"
    assert entries["DELIVERED_TO_HANDSET"].smpp.stat == "DELIVRD"


def test_sections_follow_the_seed_tables(catalog: Catalog) -> None:
    assert [section.id for section in catalog.sections] == list(SEED_ROW_COUNTS)


def test_entry_count_per_section(catalog: Catalog) -> None:
    counts = Counter(entry.section for entry in catalog.entries)
    assert dict(counts) == SEED_ROW_COUNTS
    assert len(catalog.entries) == 524


def test_codes_per_section_match_the_seed(catalog: Catalog) -> None:
    literal_pairs = {
        (section, code) for section, codes in SEED_CODES.items() for code in codes.split()
    }
    catalog_pairs = {(entry.section, entry.code) for entry in catalog.entries}
    assert catalog_pairs == literal_pairs
    # Order and repeats too: the seed repeats 40404 inside one table.
    for section, codes in SEED_CODES.items():
        in_catalog = tuple(entry.code for entry in catalog.entries if entry.section == section)
        assert in_catalog == tuple(codes.split()), section
    assert {section: len(codes.split()) for section, codes in SEED_CODES.items()} == SEED_ROW_COUNTS


def test_seed_duplicates_are_kept_apart(catalog: Catalog) -> None:
    entries = _by_key(catalog)
    expired, rejected = entries["SIGNALS_BLOCKED_EXPIRED"], entries["SIGNALS_BLOCKED_REJECTED"]
    assert expired.code == rejected.code == "87"
    assert (expired.section, rejected.section) == ("status_expired", "status_rejected")
    user, operator = (
        entries["EC_NOTSUBMITTEDTOSMPPCHANNEL_USER"],
        entries["EC_NOTSUBMITTEDTOSMPPCHANNEL_OPERATOR"],
    )
    assert (user.code, user.section) == ("4102", "error_user")
    assert (operator.code, operator.section) == ("4102", "error_operator")
    people_404 = [e.name for e in catalog.entries if e.code == "40404"]
    assert people_404 == ["ADDITIONAL_FIELD_DOES_NOT_EXIST", "CUSTOM_ATTRIBUTE_DOES_NOT_EXIST"]
    for key in ("SIGNALS_BLOCKED_EXPIRED", "EC_NOTSUBMITTEDTOSMPPCHANNEL_USER"):
        assert any("quirk" in note for note in entries[key].notes), key


def test_keys_are_unique(catalog: Catalog) -> None:
    keys = [entry.key for entry in catalog.entries]
    assert len(keys) == len(set(keys))


def test_status_callbacks_have_provider_types(catalog: Catalog) -> None:
    for entry in catalog.entries:
        if entry.kind != "status":
            continue
        if entry.section in NO_CALLBACK_SECTIONS:
            assert entry.callback == {}, entry.key
            continue
        assert set(entry.callback) == {"status"}, entry.key
        status = entry.callback["status"]
        assert set(status) == {"groupId", "groupName", "id", "name", "description"}, entry.key
        assert _is_int(status["groupId"]) and _is_int(status["id"]), entry.key
        assert isinstance(status["groupName"], str) and isinstance(status["name"], str)
        assert isinstance(status["description"], str) and status["description"], entry.key
        assert entry.code is not None and status["id"] == int(entry.code), entry.key
        assert entry.group is not None
        assert (status["groupId"], status["groupName"]) == (entry.group.id, entry.group.name)


def test_error_callbacks_have_provider_types(catalog: Catalog) -> None:
    for entry in catalog.entries:
        if entry.kind != "error":
            continue
        if entry.section in NO_CALLBACK_SECTIONS:
            assert entry.callback == {}, entry.key
            continue
        assert set(entry.callback) == {"error"}, entry.key
        error = entry.callback["error"]
        required = {"id", "name", "description", "permanent"}
        assert required <= set(error) <= required | {"groupId", "groupName"}, entry.key
        assert _is_int(error["id"]) and isinstance(error["name"], str), entry.key
        assert isinstance(error["description"], str) and error["description"], entry.key
        assert type(error["permanent"]) is bool, entry.key
        assert entry.code is not None and error["id"] == int(entry.code), entry.key
        if entry.section in WIRE_GROUP_SECTIONS:
            assert entry.group is not None
            assert error["groupId"] == entry.group.id and _is_int(error["groupId"])
            assert error["groupName"] == entry.group.name, entry.key
        elif entry.group is not None and entry.group.id is not None:
            assert error["groupId"] == entry.group.id and _is_int(error["groupId"])
            assert "groupName" not in error, entry.key
        else:
            assert "groupId" not in error and "groupName" not in error, entry.key


def test_callback_permanent_is_the_seed_column(catalog: Catalog) -> None:
    for entry in catalog.entries:
        if entry.section not in SEED_NOT_PERMANENT:
            continue
        printed_true = entry.code not in SEED_NOT_PERMANENT[entry.section].split()
        assert entry.callback["error"]["permanent"] is printed_true, entry.key
        if entry.outcome != "delivered":
            assert entry.permanent is printed_true, entry.key
        else:
            assert entry.permanent is None, entry.key


def test_seed_example_objects_are_reproduced(catalog: Catalog) -> None:
    entries = _by_key(catalog)
    assert entries["DELIVERED_TO_HANDSET"].callback == {"status": SEED_STATUS_EXAMPLE}
    assert entries["NO_ERROR"].callback == {"error": SEED_ERROR_EXAMPLE}


def test_non_final_entries_reach_a_final_entry(catalog: Catalog) -> None:
    entries = _by_key(catalog)
    for start in (entry for entry in catalog.entries if not entry.final):
        seen = {start.key}
        queue = deque(start.next)
        reached_final = False
        while queue:
            key = queue.popleft()
            if key in seen:
                continue
            seen.add(key)
            if entries[key].final:
                reached_final = True
                break
            queue.extend(entries[key].next)
        assert reached_final, start.key
    for entry in catalog.entries:
        assert (entry.smpp.stat == "ENROUTE") == (not entry.final), entry.key
        if entry.final:
            assert not entry.next, entry.key


def test_errors_render_like_their_status(catalog: Catalog) -> None:
    entries = _by_key(catalog)
    for entry in catalog.entries:
        if entry.kind == "status":
            assert entry.with_status is None and entry.smpp.err == "000", entry.key
            continue
        assert entry.final, entry.key
        assert entry.code is not None
        assert entry.smpp.err == _expected_err(int(entry.code)), entry.key
        if entry.with_status is None:
            assert entry.section in NO_CALLBACK_SECTIONS, entry.key
            continue
        status = entries[entry.with_status]
        assert status.kind == "status" and status.final, entry.key
        assert entry.smpp.stat == status.smpp.stat, entry.key
        assert entry.outcome == status.outcome, entry.key


def test_sms_error_receipts_identify_their_entry(catalog: Catalog) -> None:
    sms_errors = [e for e in catalog.entries if e.kind == "error" and e.channel == "sms"]
    assert len(sms_errors) == 1 + 76 + 33 + 32 + 51
    err_counts = Counter(entry.smpp.err for entry in sms_errors)
    repeated = {err: n for err, n in err_counts.items() if n > 1}
    assert repeated == {_expected_err(4102): 2}  # the seed lists 4102 in two groups


def test_err_rule_examples() -> None:
    assert [_expected_err(code) for code in (0, 1, 999, 1024, 4101, 5492, 42901)] == [
        "000",
        "001",
        "999",
        "A0O",
        "D2T",
        "EDO",
        "pP1",
    ]
