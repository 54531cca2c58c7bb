"""pii: masks used in every log line and error message hide the clear values."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odr_cli.pii import (
    PII_FIELDS,
    mask_consumer,
    mask_email,
    mask_name,
    mask_phone,
    mask_text,
    masked_raw,
)

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)


@pytest.mark.parametrize(
    ("clear", "masked"),
    [("林晓", "林*"), ("欧阳娜娜", "欧***"), ("Zhang San", "Z********")],
)
def test_mask_name(clear: str, masked: str) -> None:
    assert mask_name(clear) == masked
    assert clear not in mask_name(clear)


def test_mask_name_single_character_is_hidden() -> None:
    # Regression: odr_cli/pii.py, mask_name): mask_name("林") == "林*", which shows the whole name; the
    # contract allows a one-character consumer.name (minLength 1), so the mask must not keep its only char.
    assert "林" not in mask_name("林")


@pytest.mark.parametrize(
    ("clear", "masked"),
    [
        ("13761234567", "137****4567"),
        ("021-57351234", "021****1234"),
        ("+86 137 6123 4567", "137****4567"),
        ("12345", "*****"),
    ],
)
def test_mask_phone(clear: str, masked: str) -> None:
    assert mask_phone(clear) == masked
    assert clear not in mask_phone(clear)


def test_mask_phone_hides_the_middle_digits() -> None:
    assert "6123" not in mask_phone("13761234567")
    assert "5735" not in mask_phone("021-57351234")


@pytest.mark.parametrize(
    ("clear", "masked"),
    [("lin.xiao@example.com", "l***@example.com"), ("not-an-email", "***")],
)
def test_mask_email(clear: str, masked: str) -> None:
    assert mask_email(clear) == masked
    assert clear not in mask_email(clear)


@pytest.mark.parametrize(
    ("clear", "masked"), [("上海市金山区朱泾镇某路1号", "上海市***"), ("金山区", "***"), ("", "***")]
)
def test_mask_text(clear: str, masked: str) -> None:
    assert mask_text(clear) == masked
    assert not clear or clear not in mask_text(clear)


def test_mask_consumer_of_the_example(example) -> None:
    consumer = example("odr-by-uscc")["consumer"]
    consumer["email"] = "lin.xiao@example.com"
    consumer["id_number"] = "310116199001011234"
    masked = mask_consumer(consumer)
    assert set(masked) == set(consumer)
    assert masked == {
        "name": "林*",
        "phone": "137****4567",
        "address": "上海市***",
        "email": "l***@example.com",
        "id_number": "31" + "*" * 12 + "34",
    }
    for key in PII_FIELDS:
        assert consumer[key] not in masked[key]


def test_mask_consumer_keeps_non_pii_fields(example) -> None:
    consumer = {"name": "周敏", "phone": "021-57351234", "preferred_contact": "phone"}
    assert mask_consumer(consumer)["preferred_contact"] == "phone"


@pytest.mark.parametrize("name", ["odr-by-uscc", "shop-name-only", "bad-record", "time-barred"])
def test_masked_raw_has_no_clear_consumer_value(example, name: str) -> None:
    raw = example(name)
    out = masked_raw(raw)
    text = json.dumps(out, ensure_ascii=False)
    for key, value in raw["consumer"].items():
        if key in PII_FIELDS and value:
            assert value not in out["consumer"][key]
            if len(value) > 1:
                assert value not in text
    # the contract's other fields are untouched (free text only scrubbed), and the input is not modified
    kept = {k for k in raw if k not in ("consumer", "description", "demand", "handled_elsewhere", "source_batch")}
    assert {k: out[k] for k in kept} == {k: raw[k] for k in kept}
    assert raw == example(name)


def test_masked_raw_without_consumer_object() -> None:
    assert masked_raw({"complaint_id": "x", "consumer": "林晓"}) == {"complaint_id": "x", "consumer": "***"}


@PROPERTY
@given(st.text(min_size=2, max_size=50).filter(lambda s: "*" not in s))
def test_property_mask_name_hides_names_of_two_or_more_characters(name: str) -> None:
    masked = mask_name(name)
    assert name not in masked
    assert len(masked) == len(name)


@PROPERTY
@given(
    st.builds(
        lambda prefix, rest: prefix + rest,
        st.sampled_from(["13", "15", "18", "0211", "0571"]),
        st.text(string.digits, min_size=8, max_size=9),
    )
)
def test_property_mask_phone_hides_phone_numbers(phone: str) -> None:
    masked = mask_phone(phone)
    assert phone not in masked
    assert masked.count("*") == 4
    assert masked[:3] == phone[:3] and masked[-4:] == phone[-4:]


@PROPERTY
@given(st.text(min_size=4, max_size=200).filter(lambda s: "*" not in s))
def test_property_mask_text_hides_text(value: str) -> None:
    assert value not in mask_text(value)


@PROPERTY
@given(st.emails().filter(lambda s: "*" not in s))
def test_property_mask_email_hides_email(value: str) -> None:
    assert value not in mask_email(value)


def test_masked_raw_hides_pii_sent_with_the_wrong_type(example) -> None:
    # Regression: odr_cli/pii.py, mask_consumer): only str values are masked; an invalid record that sends
    # consumer.phone as a JSON number (or a name as a list) keeps the clear value in the "safe to log" copy.
    raw = example("odr-by-uscc")
    raw["consumer"]["phone"] = 13761234567
    raw["consumer"]["name"] = ["林晓"]
    text = json.dumps(masked_raw(raw), ensure_ascii=False)
    assert "13761234567" not in text
    assert "林晓" not in text
