"""limits.feed_items: the one reader of a feed envelope (a push body, a page of the pull API) for both paths. Each
record is read on its own under the record limits; one over them is an OverLimits with every reason and the
identity its top level shows; the envelope around them is judged as a body."""

from __future__ import annotations

import json
import time

import pytest

from odr_adapter.feed.intake_queue import intake_message
from odr_adapter.feed.polling import record_key, updated_at
from odr_adapter.models.limits import (
    MAX_FEED_RECORD_DEPTH,
    OverLimits,
    RequestRejected,
    feed_items,
    is_digest_stub,
    loads_limited,
)

AT = "2026-11-30T08:00:00+08:00"


def nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = {"next": value}
    return value


def test_each_record_is_read_on_its_own_and_one_over_the_limits_keeps_its_identity_and_every_reason() -> None:
    good = {"complaint_id": "A-0000000001", "revision": 1, "updated_at": AT, "text": '[{"not nested'}
    bad = {"complaint_id": "A-0000000002", "revision": 3, "updated_at": AT, "x": nested(40), "n": int("9" * 40)}
    body = json.dumps({"items": [good, bad, good], "next_cursor": None, "server_time": AT}).encode()
    page = feed_items(body)
    assert page["items"][0] == good and page["items"][2] == good and page["server_time"] == AT
    over = page["items"][1]
    assert isinstance(over, OverLimits)
    assert over.reasons == [
        f"record is nested 41 levels deep; at most {MAX_FEED_RECORD_DEPTH}",
        "a number in the record is 40 characters long; at most 32",
    ]
    assert over.identity == {"complaint_id": "A-0000000002", "revision": 3, "updated_at": AT}
    assert record_key(over) == "A-0000000002#3" and updated_at(over) is not None  # the poller keys and dates it
    message = intake_message(over, "poll")
    assert is_digest_stub(message["record"]) and [p["reason"] for p in message["problems"]] == over.reasons


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (b'{"a": "\xff"}', "record is not UTF-8"),
        (b'{"n": NaN}', "NaN is not a JSON number"),
        (b'{"n": 1e999}', "a number in the record is out of range"),
        (b"[" * 50_000 + b"]" * 50_000, "record is nested 50000 levels deep"),
        (b'{"a": 1 2}', "record is not JSON"),
    ],
)
def test_a_record_over_the_limits_does_not_take_its_page_with_it(text: bytes, says: str) -> None:
    page = feed_items(b'{"items": [{"complaint_id": "OK"}, ' + text + b"]}")
    assert page["items"][0] == {"complaint_id": "OK"}
    assert isinstance(page["items"][1], OverLimits) and page["items"][1].reasons[0].startswith(says)


@pytest.mark.parametrize(
    "body", [b'{"items": [1,]}', b'{"items": [1', b'{"items": ["open]}', b'{"items": [], "x": ' + b"[" * 40 + b"]" * 40]
)
def test_an_envelope_that_is_not_json_around_its_records_is_refused_whole(body: bytes) -> None:
    with pytest.raises(RequestRejected) as refused:
        feed_items(body)
    assert refused.value.status == 400


def test_a_string_never_closed_is_refused_in_linear_time() -> None:
    """The old check removed strings with a regex that backtracked over every quote: quadratic on this body."""
    body = b'{"a": "' + b'\\"' * 300_000
    started = time.monotonic()
    with pytest.raises(RequestRejected, match="a string is not closed"):
        loads_limited(body, 10_000_000)
    assert time.monotonic() - started < 2.0


def test_a_record_with_countless_values_out_of_bounds_names_ten_and_counts_the_rest() -> None:
    """Its reasons go into a queue message (SQS takes 256 KiB): 20,000 long numbers must not make it larger."""
    numbers = b"[" + b",".join([b"9" * 40] * 20_000) + b"]"  # 820 KB
    (over,) = feed_items(b'{"items": [' + numbers + b"]}")["items"]
    assert isinstance(over, OverLimits) and len(over.reasons) == 11
    assert over.reasons[-1] == "19990 more values outside strings are out of bounds"
    assert len(json.dumps(intake_message(over, "poll"))) < 2000


def test_the_depth_limit_is_the_same_whichever_way_the_page_is_read() -> None:
    """A page within every limit is read at the C parser's speed, any other the exact way: the limit is one."""
    at_limit, over = nested(MAX_FEED_RECORD_DEPTH), nested(MAX_FEED_RECORD_DEPTH + 1)
    assert feed_items(json.dumps({"items": [at_limit]}).encode()) == {"items": [at_limit]}
    (refused,) = feed_items(json.dumps({"items": [over]}).encode())["items"]
    assert isinstance(refused, OverLimits)
    assert refused.reasons == [f"record is nested {MAX_FEED_RECORD_DEPTH + 1} levels deep; at most 30"]
    both = feed_items(json.dumps({"items": [at_limit, over]}).encode())["items"]  # read the exact way
    assert both[0] == at_limit and isinstance(both[1], OverLimits)
