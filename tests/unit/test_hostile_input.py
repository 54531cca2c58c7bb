"""Hostile and odd input (issue 10): a body nested 100 000 deep, a 5000-digit number, a record of 300 KB, money
as an exponent, a credit code in full-width letters, a phone with +86. Each is answered or kept with its reason,
never a crash, never a loss, never a stall of the records beside it.

The paths that need the real stores (a lone surrogate through SQS and DynamoDB, the 400 KB item limit) are in
tests/integration/test_hostile_feed.py and test_hostile_api.py."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from odr_adapter.feed.intake import ingest, parse_message
from odr_adapter.feed.intake_queue import intake_message
from odr_adapter.feed.webhook import PushRejected, accept_push
from odr_adapter.messages.sending import send_message
from odr_adapter.models.directory import District
from odr_adapter.models.limits import (
    MAX_RECORD_BYTES,
    QUEUE_MESSAGE_BYTES,
    RequestRejected,
    is_digest_stub,
    loads_limited,
    surrogates_and_size,
    text_bytes,
    unpaired_surrogates,
)
from odr_adapter.models.links import ActionLink, link_key
from odr_adapter.models.record import parse_record
from odr_adapter.people.actions import AmountAboveCeiling, ResultReport, perform
from odr_adapter.people.enterprise_api import request_json, request_text
from odr_adapter.people.link_requests import submit_link
from odr_adapter.people.pages import action_page
from odr_cli.pii import mask_phone, masked_raw
from tests.fakes import FakeClock, FakeQueue, World, no_pauses
from tests.unit.conftest import load_example

START = datetime.fromisoformat("2026-11-30T08:00:00+08:00")
SECRET = "push-secret"
JINFENG = "91310116MA1JK7Q26H"
SPECIALIST = f"enterprise:{JINFENG}"


@pytest.fixture(autouse=True)
def pauses() -> Iterator[list[float]]:
    with no_pauses() as asked:
        yield asked


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# --- request bodies: depth, numbers, size ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (deep(100_000), 400, "nested"),
        ('{"items": [' + "1" * 5000 + "]}", 400, "number"),
        ('{"n": 1e999}', 400, "out of range"),
        ('{"n": NaN}', 400, "NaN"),
        ('{"n": -Infinity}', 400, "Infinity"),
        ('{"text": "' + "x" * 600_000 + '"}', 413, "at most"),
        (b'{"x": "\xff"}', 400, "UTF-8"),
    ],
    ids=["deep", "5000 digits", "1e999", "NaN", "-Infinity", "too large", "not UTF-8"],
)
def test_a_hostile_body_is_a_4xx_with_its_reason(body: str | bytes, status: int, says: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        loads_limited(body, max_bytes=500_000, max_depth=32)
    assert caught.value.status == status and says in caught.value.message


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"description": "[" * 500 + '"\\' + "{" * 500, "n": [1, 2.5]})
    assert loads_limited(text, max_bytes=10_000, max_depth=2)["n"] == [1, 2.5]


def test_the_api_reads_bodies_within_its_limits() -> None:
    with pytest.raises(RequestRejected) as deep_body:
        request_json(json.dumps({"settled": True, "summary": json.loads(deep(20))}))
    assert deep_body.value.status == 400
    with pytest.raises(RequestRejected) as big:
        request_text("x" * (64 * 1024 + 1), False)
    assert big.value.status == 413
    with pytest.raises(RequestRejected) as not_base64:
        request_text("%%%not base64%%%", True)
    assert not_base64.value.status == 400


# --- the webhook: signature first, then limits, and one oversize record does not fail the push ----------------------


def signed(body: bytes, clock: FakeClock) -> dict[str, str]:
    stamp = str(int(clock.now().timestamp()))
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-12315-Timestamp": stamp, "X-12315-Signature": f"sha256={digest}"}


def test_a_deep_or_huge_number_push_is_400_but_only_once_its_signature_holds() -> None:
    clock, queue = FakeClock(START), FakeQueue()
    for body in (b'{"items": ' + deep(50_000).encode() + b"}", b'{"items": [{"revision": ' + b"9" * 5000 + b"}]}"):
        with pytest.raises(PushRejected) as unsigned:
            accept_push({"X-12315-Timestamp": "1", "X-12315-Signature": "sha256=0"}, body, SECRET, queue, clock)
        assert unsigned.value.status == 401
        with pytest.raises(PushRejected) as rejected:
            accept_push(signed(body, clock), body, SECRET, queue, clock)
        assert rejected.value.status == 400 and rejected.value.problems[0]["field"] == "items.0"  # the record
    assert queue.bodies == []


def test_a_record_over_the_queue_limit_is_queued_as_its_digest_and_the_others_as_they_are() -> None:
    clock, queue = FakeClock(START), FakeQueue()
    innocent = load_example("odr-by-uscc")
    huge = {**load_example("shop-name-only"), "platform_notes": "很" * 150_000}  # 450 KB of UTF-8
    body = json.dumps({"items": [huge, innocent]}, ensure_ascii=False).encode()
    assert accept_push(signed(body, clock), body, SECRET, queue, clock) == 2
    first, second = queue.take()
    assert second == {"record": innocent, "source": "push"}
    assert is_digest_stub(first["record"]) and len(json.dumps(first).encode()) < QUEUE_MESSAGE_BYTES
    kept = first["record"]["_odr_truncated"]
    assert kept["complaint_id"] == huge["complaint_id"] and kept["revision"] == huge["revision"]
    text = json.dumps(huge, ensure_ascii=False, sort_keys=True).encode()
    assert kept["sha256"] == hashlib.sha256(text).hexdigest() and kept["bytes"] == len(text)
    assert "很" not in json.dumps(first, ensure_ascii=False)  # no value of the record is kept
    assert "bytes" in first["problems"][0]["reason"]


# --- intake: what cannot be stored is quarantined with its reason ----------------------------------------------------


@pytest.fixture
def world(district: District) -> World:
    return World(district, START)


def test_a_digest_from_the_edge_is_quarantined_with_the_edges_reason(world: World) -> None:
    huge = {**load_example("odr-by-uscc"), "notes": "x" * (QUEUE_MESSAGE_BYTES + 1)}
    message = parse_message(json.dumps(intake_message(huge, "poll")))
    assert ingest(message["record"], world.svc) == "quarantined"
    (entry,) = world.quarantine.all()
    assert entry["raw"]["_odr_truncated"]["complaint_id"] == huge["complaint_id"]
    assert "a queued record is at most" in entry["problems"][0]["reason"]
    assert world.cases.get(huge["complaint_id"]) is None


def test_a_valid_record_too_large_for_a_case_item_is_quarantined_not_lost(world: World) -> None:
    raw = {**load_example("odr-by-uscc"), "platform_extra": "x" * MAX_RECORD_BYTES}
    parse_record(raw)  # valid by the contract: unknown fields are kept
    assert ingest(raw, world.svc) == "quarantined"
    (entry,) = world.quarantine.all()
    size = len(json.dumps(raw, ensure_ascii=False).encode())
    assert entry["problems"] == [
        {"path": "(record)", "reason": f"record is {size} bytes; a case keeps at most {MAX_RECORD_BYTES}"}
    ]
    assert world.cases.get(raw["complaint_id"]) is None


# --- credit codes and phones (issue 10, item 11) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [JINFENG.lower(), "9131 0116 MA1J K7Q2 6H", "９１３１０１１６ＭＡ１ＪＫ７Ｑ２６Ｈ", " 91310116-MA1JK7Q26H "],
    ids=["lower case", "spaces", "full width", "dash and padding"],
)
def test_a_credit_code_in_another_form_is_normalised_not_quarantined(given: str, world: World) -> None:
    raw = load_example("odr-by-uscc")
    raw["respondent"]["uscc"] = given
    assert parse_record(raw).respondent.uscc == JINFENG
    case, _ = world.dispatch(raw)  # the directory knows it: the case goes to its ODR enterprise
    assert case.enterprise is not None and case.enterprise.uscc == JINFENG
    assert world.quarantine.all() == []


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+86 137 6123 4567", "137****4567"),
        ("+8613761234567", "137****4567"),
        ("008613761234567", "137****4567"),
        ("13761234567", "137****4567"),
        ("021-57951234", "021****1234"),
        ("+86 21 5795 1234", "021****1234"),
    ],
)
def test_a_phone_is_masked_on_its_national_number(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_a_phone_with_the_country_code_in_free_text_is_hidden() -> None:
    shown = json.dumps(masked_raw({"description": "请拨打+8613761234567或 +86 137 6123 4567 联系"}), ensure_ascii=False)
    assert "6123" not in shown and "4567" not in shown and shown.count("137****") == 2


def test_a_raw_record_with_a_lone_surrogate_can_be_shown() -> None:
    shown = masked_raw({"description": "半个表情\ud83d", "consumer": {"name": "林晓\ud83d"}})
    json.dumps(shown, ensure_ascii=False).encode("utf-8")  # printable: no lone surrogate left


# --- money (issue 10, item 9) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["1E+11", "1e2", "NaN", "Infinity", "-1", "-0.01", "+5", "1.001", " 5", "5 ", "1,000", 199.5, 199, None],
)
def test_money_is_a_decimal_string_with_at_most_two_places(amount: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ResultReport.model_validate({"settled": True, "recovered_amount": amount, "summary": "已退款"})
    assert [e["loc"] for e in caught.value.errors()] == [("recovered_amount",)]


@pytest.mark.parametrize(("amount", "kept"), [("199", "199.00"), ("199.5", "199.50"), ("0", "0.00"), ("0.01", "0.01")])
def test_money_without_decimals_is_accepted(amount: str, kept: str) -> None:
    report = ResultReport.model_validate({"settled": True, "recovered_amount": amount, "summary": "已退款"})
    assert str(report.recovered_amount) == kept


@pytest.mark.parametrize("settled", ["yes", "true", 1, "1", "on", None])
def test_settled_is_a_json_boolean_only(settled: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ResultReport.model_validate(
            {"settled": settled, "recovered_amount": "0", "summary": "s", "not_settled_reason": "r"}
        )
    assert [e["loc"] for e in caught.value.errors()] == [("settled",)]


def accepted(world: World, complaint_id: str, **changes: Any) -> str:
    raw = {**load_example("odr-by-uscc"), "complaint_id": complaint_id, **changes}
    raw = {k: v for k, v in raw.items() if v is not None}
    world.dispatch(raw)
    perform(complaint_id, "accept", SPECIALIST, {}, world.svc)
    return world.wait(complaint_id, "resolution")


@pytest.mark.parametrize(
    ("claimed", "amount", "allowed"),
    [("199.00", "199.00", True), ("199.00", "199.01", False), (None, "100000.00", True), (None, "100000.01", False)],
    ids=["the claim", "above the claim", "the no-claim ceiling", "above the no-claim ceiling"],
)
def test_the_recovered_amount_is_at_most_the_claim(
    world: World, claimed: str | None, amount: str, allowed: bool
) -> None:
    cid = f"U-MONEY-{amount.replace('.', '')}-{claimed is None}"
    token = accepted(world, cid, claimed_amount=claimed)
    before = world.case(cid)
    report = {"settled": True, "recovered_amount": amount, "summary": "已退款"}
    if allowed:
        assert perform(cid, "report", SPECIALIST, report, world.svc).feedback.recovered_amount == Decimal(amount)  # type: ignore[union-attr]
        return
    with pytest.raises(AmountAboveCeiling):
        perform(cid, "report", SPECIALIST, report, world.svc)
    assert world.case(cid) == before and world.executions.answered(token).state == "waiting"  # nothing changed


def test_the_review_page_warns_when_the_reported_amount_is_above_the_claim(world: World) -> None:
    cid = "U-MONEY-WARN-0001"
    accepted(world, cid)
    perform(cid, "report", SPECIALIST, {"settled": True, "recovered_amount": "199.00", "summary": "已退款"}, world.svc)
    link = ActionLink(
        key=link_key("review-link"),
        complaint_id=cid,
        phase="review",
        actions=["approve", "send_back"],
        role="station",
        recipient="310116101",
        expires_at=START + timedelta(days=3),
        created_at=START,
    )
    district = world.directory.district()
    assert "超过" not in action_page(world.case(cid), link, district, START).html
    # The consumer lowered the claim in a later revision, after the result was reported.
    lowered = {**world.case(cid).record, "claimed_amount": "99.00"}
    world.change(cid, "revision_applied", "12315", record=lowered)
    html = action_page(world.case(cid), link, district, START).html
    assert 'id="feedback-above-claim"' in html and "99.00" in html


def test_an_amount_above_the_claim_on_the_page_changes_nothing_and_leaves_the_link_usable(world: World) -> None:
    cid = "U-MONEY-PAGE-0001"
    accepted(world, cid)
    sent = send_message(cid, "accepted", world.svc, world.delivery)
    assert sent.link_id is not None
    before = world.case(cid)
    form = {"action": "report", "settled": "yes", "recovered_amount": "1000", "summary": "已退款"}
    with pytest.raises(AmountAboveCeiling):  # the handler answers it with a 400 page (functions/actions/app.py)
        submit_link(sent.link_id, form, world.svc, world.delivery)
    assert world.case(cid) == before
    link = world.links.get(link_key(sent.link_id))
    assert link is not None and link.used_at is None  # released: the specialist can correct the amount
    done = submit_link(sent.link_id, {**form, "recovered_amount": "199"}, world.svc, world.delivery)
    assert done.status == 200 and world.case(cid).feedback.recovered_amount == Decimal("199.00")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value",
    [
        {"description": "收到的电热水壶", "quantity": 1},
        {"description": "半个表情\ud83d", "attachments": [{"name": "a\udc00"}]},
        {"键\ud83d": "value"},
        {"description": "not a character\ufffe"},  # unsafe for SQS, not a surrogate
    ],
)
def test_surrogates_and_size_from_one_dump_say_what_the_walk_and_the_text_say(value: dict[str, Any]) -> None:
    assert surrogates_and_size(value) == (unpaired_surrogates(value), text_bytes(value))
