"""parse_record: the 12315 feed contract v1 (README §1 and complaint.schema.json)."""

from __future__ import annotations

import json
import string
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odr_adapter.models.record import Complaint, RecordInvalid, parse_record

RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "records"

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EXAMPLES = [
    "bad-record.json",
    "not-in-directory.json",
    "odr-by-uscc.json",
    "shop-name-only.json",
    "time-barred.json",
    "withdrawn.json",
]
VALID_EXAMPLES = [name for name in EXAMPLES if name != "bad-record.json"]


def test_fixture_folder_holds_the_six_examples() -> None:
    assert sorted(p.name for p in RECORDS.glob("*.json")) == EXAMPLES


# --- the examples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_every_example_but_bad_record_is_valid(example, name: str) -> None:
    raw = example(name)
    parsed = parse_record(raw)
    assert isinstance(parsed, Complaint)
    assert parsed.complaint_id == raw["complaint_id"]
    assert parsed.revision == raw["revision"]


def test_bad_record_lists_exactly_its_four_problems_by_path(example) -> None:
    raw = example("bad-record")
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    paths = [p.path for p in caught.value.problems]
    assert sorted(paths) == ["consumer.name", "consumer.phone", "respondent.uscc", "transaction.amount"]
    assert len(paths) == len(set(paths))
    assert all(p.reason for p in caught.value.problems)
    assert caught.value.complaint_id == raw["complaint_id"]
    # every problem is in the exception's text, so one log line carries them all
    for path in paths:
        assert path in str(caught.value)


def test_bad_record_reasons_name_the_fault(example) -> None:
    with pytest.raises(RecordInvalid) as caught:
        parse_record(example("bad-record"))
    reasons = {p.path: p.reason for p in caught.value.problems}
    assert "check character" in reasons["respondent.uscc"]
    assert "two decimal" in reasons["transaction.amount"]


def test_withdrawn_is_revision_two_of_odr_by_uscc(example) -> None:
    first = parse_record(example("odr-by-uscc"))
    second = parse_record(example("withdrawn"))
    assert (first.complaint_id, first.revision, first.status) == (second.complaint_id, 1, "submitted")
    assert (second.revision, second.status) == (2, "withdrawn")


def test_unknown_fields_are_kept(example) -> None:
    parsed = parse_record(example("shop-name-only"))
    assert parsed.model_extra == {"source_batch": "push-7731"}
    assert parsed.to_raw()["source_batch"] == "push-7731"


def test_unknown_nested_fields_are_kept(example) -> None:
    raw = example("odr-by-uscc")
    raw["consumer"]["wechat"] = "wx-1"
    raw["respondent"]["license_no"] = {"kind": "food", "no": "JY13101160000001"}
    raw["transaction"]["coupon"] = ["C1", "C2"]
    out = parse_record(raw).to_raw()
    assert out["consumer"]["wechat"] == "wx-1"
    assert out["respondent"]["license_no"] == {"kind": "food", "no": "JY13101160000001"}
    assert out["transaction"]["coupon"] == ["C1", "C2"]


def test_unknown_field_with_null_value_is_kept(example) -> None:
    # Regression: odr_adapter/models/record.py, Complaint.to_raw): the contract says unknown fields "must be kept", but
    # to_raw() uses model_dump(exclude_none=True), so an unknown field sent as null disappears.
    raw = example("shop-name-only")
    raw["source_note"] = None
    out = parse_record(raw).to_raw()
    assert "source_note" in out and out["source_note"] is None


@pytest.mark.parametrize("name", VALID_EXAMPLES)
def test_to_raw_round_trips(example, name: str) -> None:
    raw = example(name)
    parsed = parse_record(raw)
    again = parse_record(json.loads(json.dumps(parsed.to_raw())))
    assert again == parsed
    # money goes back out as the same decimal string it came in as
    assert again.to_raw()["transaction"]["amount"] == raw["transaction"]["amount"]


# --- money ------------------------------------------------------------------------------------------------


def test_money_is_decimal(example) -> None:
    parsed = parse_record(example("odr-by-uscc"))
    assert parsed.transaction is not None
    assert isinstance(parsed.transaction.amount, Decimal)
    assert parsed.transaction.amount == Decimal("199.00")
    assert isinstance(parsed.claimed_amount, Decimal)
    assert parsed.claimed_amount == Decimal("199.00")
    shop = parse_record(example("shop-name-only"))
    assert shop.claimed_amount == Decimal("44.25")


@pytest.mark.parametrize("value", ["0", "7", "88.5", "88.50", "123456789012.99"])
def test_money_accepts_decimal_strings(example, value: str) -> None:
    raw = example("odr-by-uscc")
    raw["transaction"]["amount"] = value
    raw["claimed_amount"] = value
    parsed = parse_record(raw)
    assert parsed.transaction is not None
    assert parsed.transaction.amount == Decimal(value)
    assert parsed.claimed_amount == Decimal(value)


@pytest.mark.parametrize("field", ["transaction.amount", "claimed_amount"])
@pytest.mark.parametrize("value", [199.0, 0.1, 199, True])
def test_money_as_json_number_is_rejected(example, field: str, value: Any) -> None:
    raw = example("odr-by-uscc")
    if field == "claimed_amount":
        raw["claimed_amount"] = value
    else:
        raw["transaction"]["amount"] = value
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert [p.path for p in caught.value.problems] == [field]


@pytest.mark.parametrize(
    "value",
    ["12.345", "1.", ".5", "-1.00", "+1", "1e3", "1,000.00", "１２", "1234567890123", "", " 1.00", "NaN"],
)
def test_money_malformed_strings_are_rejected(example, value: str) -> None:
    raw = example("odr-by-uscc")
    raw["transaction"]["amount"] = value
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert [p.path for p in caught.value.problems] == ["transaction.amount"]


# --- times ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["registered_at", "updated_at"])
@pytest.mark.parametrize("value", ["2026-11-30T09:12:44", "2026-11-30T09:12:44.123", "2026-11-30"])
def test_times_without_offset_are_rejected(example, field: str, value: str) -> None:
    raw = example("odr-by-uscc")
    raw[field] = value
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert [p.path for p in caught.value.problems] == [field]


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2026-11-30T09:12:44+08:00", datetime(2026, 11, 30, 1, 12, 44, tzinfo=UTC)),
        ("2026-11-30T01:12:44Z", datetime(2026, 11, 30, 1, 12, 44, tzinfo=UTC)),
        ("2026-11-29T20:12:44-05:00", datetime(2026, 11, 30, 1, 12, 44, tzinfo=UTC)),
        ("2026-11-30T09:12:44.250+08:00", datetime(2026, 11, 30, 1, 12, 44, 250000, tzinfo=UTC)),
    ],
)
def test_times_with_offset_are_accepted(example, value: str, utc: datetime) -> None:
    raw = example("odr-by-uscc")
    raw["registered_at"] = value
    parsed = parse_record(raw)
    assert parsed.registered_at == utc
    assert parsed.registered_at.utcoffset() is not None


def test_registered_local_is_the_shanghai_day(example) -> None:
    raw = example("odr-by-uscc")
    raw["registered_at"] = "2026-11-30T16:30:00Z"  # 2026-12-01 00:30 in Shanghai
    assert parse_record(raw).registered_local == date(2026, 12, 1)


# --- phone, credit code -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    ["021-57351234", "02157351234", "(021) 5735 1234", "13761234567", "137 6123 4567", "+86 137 6123 4567"],
)
def test_mainland_mobile_and_landline_are_accepted(example, phone: str) -> None:
    raw = example("odr-by-uscc")
    raw["consumer"]["phone"] = phone
    assert parse_record(raw).consumer.phone == phone


def test_landline_of_the_shop_name_only_example_is_accepted(example) -> None:
    assert parse_record(example("shop-name-only")).consumer.phone == "021-57351234"


@pytest.mark.parametrize("phone", ["12345", "1376123456", "137612345678", "+852 6123 4567", "not a phone", 13761234567])
def test_impossible_phones_are_rejected(example, phone: Any) -> None:
    raw = example("odr-by-uscc")
    raw["consumer"]["phone"] = phone
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert [p.path for p in caught.value.problems] == ["consumer.phone"]


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("1376123456", "phone is not a valid mainland mobile or landline number"),
        ("+852 6123 4567", "phone is not a valid mainland mobile or landline number"),
        ("4008123123", "phone must be a mainland mobile or landline number"),  # valid, but a toll-free service line
        ("not a phone", "phone is not a telephone number"),
    ],
)
def test_a_rejected_phone_says_why(example, phone: str, reason: str) -> None:
    raw = example("odr-by-uscc")
    raw["consumer"]["phone"] = phone
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert [(p.path, p.reason) for p in caught.value.problems] == [("consumer.phone", reason)]


@pytest.mark.parametrize(
    "uscc",
    [
        "91310116MA1JK7Q26G",  # wrong check character
        "91310116MA1JK7Q26",  # 17 characters
        "91310116MA1JK7Q26HH",  # 19 characters
        "91310116MA1JK7O26H",  # O is not in the GB 32100 alphabet
    ],
)
def test_bad_credit_codes_are_rejected(example, uscc: str) -> None:
    raw = example("odr-by-uscc")
    raw["respondent"]["uscc"] = uscc
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert [p.path for p in caught.value.problems] == ["respondent.uscc"]


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def with_check_character(first17: str) -> str:
    """GB 32100-2015: the 18th character makes the weighted sum (mod 31) zero."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_ALPHABET[(31 - total % 31) % 31]


def test_own_check_character_agrees_with_the_directory_codes() -> None:
    assert with_check_character("91310116MA1JK7Q26") == "91310116MA1JK7Q26H"
    assert with_check_character("92310116MA7E4F1H0") == "92310116MA7E4F1H09"


@pytest.mark.parametrize("first17", ["N2310116MA1JK7Q26", "Y1310116MA1JK7Q26", "A1310116MA1JK7Q26"])
def test_credit_code_with_letter_registration_authority_is_accepted(example, first17: str) -> None:
    # Regression: odr_adapter/models/record.py, _uscc): GB 32100 registration-authority codes include letters
    # (A 中央军委改革和编制办公室, N 农业 e.g. 农村集体经济组织 "N2...", Y 其他), and the contract's pattern
    # ^[0-9A-HJ-NPQRTUWXY]{18}$ allows them; stdnum.cn.uscc requires the first 8 characters to be digits, so
    # a correctly checked code such as N2310116MA1JK7Q261 is rejected as
    # "credit code check character is wrong".
    raw = example("odr-by-uscc")
    raw["respondent"]["uscc"] = with_check_character(first17)
    assert parse_record(raw).respondent.uscc == raw["respondent"]["uscc"]


# --- shapes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, [], "record", 1, 1.5, True])
def test_a_record_must_be_an_object(raw: Any) -> None:
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert [p.path for p in caught.value.problems] == ["(record)"]


def test_every_missing_required_field_is_reported() -> None:
    with pytest.raises(RecordInvalid) as caught:
        parse_record({})
    paths = {p.path for p in caught.value.problems}
    assert paths == {
        "complaint_id",
        "revision",
        "status",
        "registered_at",
        "updated_at",
        "channel",
        "odr_opt_in",
        "consumer",
        "respondent",
        "category",
        "description",
        "demand_type",
        "demand",
    }
    assert caught.value.complaint_id is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("complaint_id", "short"),
        ("complaint_id", "3101160000000202611300012/1"),
        ("revision", 0),
        ("status", "closed"),
        ("channel", "fax"),
        ("category", "noise"),
        ("demand_type", "money"),
        ("description", ""),
        ("description", "x" * 4001),
        ("demand", ""),
        ("consumer.name", "x" * 51),
        ("respondent.name", ""),
        ("respondent.division_code", "3101161"),
        ("transaction.quantity", 0),
        ("transaction.harm_known_on", "2026-02-30"),
        ("handled_elsewhere", "x" * 501),
        ("attachments", [{"name": "a.jpg", "url": "https://x.example/a.jpg"}] * 21),
    ],
)
def test_single_field_violations_are_reported_by_path(example, path: str, value: Any) -> None:
    raw = example("odr-by-uscc")
    *parents, leaf = path.split(".")
    target = raw
    for part in parents:
        target = target[part]
    target[leaf] = value
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    assert {p.path for p in caught.value.problems} == {path}


# --- personal information never echoed --------------------------------------------------------------------


def test_bad_record_reasons_do_not_echo_the_phone(example) -> None:
    raw = example("bad-record")
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    text = str(caught.value) + json.dumps([p.model_dump() for p in caught.value.problems], ensure_ascii=False)
    assert "12345" not in text


@pytest.mark.parametrize(
    ("name", "phone"),
    [
        ("林晓" * 26, "13761234567"),  # name too long; phone fine
        ("欧阳娜娜", "1376123456"),  # phone one digit short
        ("欧阳娜娜", "+852 6123 4567"),  # Hong Kong mobile
        ("王" * 60, "qwerty-12345"),
        ("Zhang San the Consumer" * 3, "0000000000000000"),
    ],
)
def test_reasons_never_contain_consumer_name_or_phone(example, name: str, phone: str) -> None:
    raw = example("odr-by-uscc")
    raw["consumer"]["name"] = name
    raw["consumer"]["phone"] = phone
    with pytest.raises(RecordInvalid) as caught:
        parse_record(raw)
    for problem in caught.value.problems:
        assert name not in problem.reason and phone not in problem.reason
        assert name not in problem.path and phone not in problem.path
    assert name not in str(caught.value) and phone not in str(caught.value)


_distinctive_name = st.text(alphabet="赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许", min_size=2, max_size=80)
_distinctive_phone = st.one_of(
    st.text(alphabet=string.digits + "+-() ", min_size=5, max_size=25).filter(
        lambda s: sum(c.isdigit() for c in s) >= 5
    ),
    st.text(alphabet="QXZJKVqxzjkv0123456789", min_size=5, max_size=25),  # no English words
)


@PROPERTY
@given(name=_distinctive_name, phone=_distinctive_phone, uscc=st.text(string.ascii_uppercase, max_size=20))
def test_property_reasons_never_echo_consumer_values(example, name: str, phone: str, uscc: str) -> None:
    raw = example("odr-by-uscc")
    raw["consumer"]["name"] = name
    raw["consumer"]["phone"] = phone
    raw["respondent"]["uscc"] = uscc
    try:
        parse_record(raw)
    except RecordInvalid as invalid:
        text = str(invalid) + "".join(p.path + p.reason for p in invalid.problems)
        assert name not in text
        assert phone not in text


# --- property: the schema's valid space is accepted -------------------------------------------------------

_offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
_instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 12, 30), timezones=_offsets)


def _rfc3339(dt: datetime, zulu: bool) -> str:
    text = dt.isoformat()
    if zulu and dt.utcoffset() == timedelta(0):
        text = text.removesuffix("+00:00") + "Z"
    return text


date_time = st.builds(_rfc3339, _instants, st.booleans())
full_date = st.dates(min_value=date(1970, 1, 1), max_value=date(2200, 12, 31)).map(date.isoformat)
money = st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,2})?", fullmatch=True)


def _n_digits(n: int) -> st.SearchStrategy[str]:
    return st.text(string.digits, min_size=n, max_size=n)


# Mobile prefixes and landline area codes checked exhaustively against the phone metadata; local landline
# numbers start 2..7 (Shanghai's 8000-8009 block is not a landline range).
_mobile = st.builds(
    lambda prefix, rest, style: {
        "plain": prefix + rest,
        "spaced": f"{prefix} {rest[:4]} {rest[4:]}",
        "intl": f"+86 {prefix}{rest}",
        "dashed": f"{prefix}-{rest[:4]}-{rest[4:]}",
    }[style],
    st.sampled_from(["130", "133", "135", "136", "137", "138", "139", "150", "158", "159", "186", "189"]),
    _n_digits(8),
    st.sampled_from(["plain", "spaced", "intl", "dashed"]),
)
_landline = st.builds(
    lambda area, first, rest, sep: f"{area}{sep}{first}{rest}",
    st.sampled_from(["021", "020", "022", "023", "0571", "0755"]),
    st.sampled_from("234567"),
    _n_digits(7),
    st.sampled_from(["-", "", " "]),
)
phone = st.one_of(_mobile, _landline)
uscc = st.builds(
    lambda head, kind, division, org: with_check_character(head + kind + division + org),
    st.sampled_from("123456789"),
    st.sampled_from("123456789"),
    _n_digits(6),
    st.text(_USCC_ALPHABET, min_size=9, max_size=9),
)


def text(min_size: int = 0, max_size: int = 50) -> st.SearchStrategy[str]:
    return st.text(min_size=min_size, max_size=max_size)


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
# Unknown fields: names that no contract field has; top-level values not null (the null case is tested above).
unknown_fields = st.dictionaries(
    st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).map(lambda k: "x_" + k),
    json_value.filter(lambda v: v is not None),
    max_size=3,
)


def optional(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


consumer = st.builds(
    lambda required, extra_known, extra: {**required, **extra_known, **extra},
    st.fixed_dictionaries({"name": text(1, 50), "phone": phone}),
    optional({"email": text(0, 254), "address": text(0, 200), "id_number": text(0, 18)}),
    unknown_fields,
)
respondent = st.builds(
    lambda required, extra_known, extra: {**required, **extra_known, **extra},
    st.fixed_dictionaries({"name": text(1, 100)}),
    optional(
        {
            "uscc": uscc,
            "shop_name": text(0, 100),
            "platform": text(0, 50),
            "address": text(0, 200),
            "division_code": st.from_regex(r"[0-9]{6}([0-9]{3})?", fullmatch=True),
        }
    ),
    unknown_fields,
)
transaction = st.builds(
    lambda known, extra: {**known, **extra},
    optional(
        {
            "order_no": text(0, 64),
            "item_name": text(0, 200),
            "amount": money,
            "quantity": st.integers(min_value=1, max_value=10**9),
            "purchased_on": full_date,
            "harm_known_on": full_date,
            "online": st.booleans(),
        }
    ),
    unknown_fields,
)
attachment = st.builds(
    lambda required, sha: {**required, **sha},
    st.fixed_dictionaries({"name": text(0, 40), "url": text(0, 80)}),
    optional({"sha256": st.text("0123456789abcdef", min_size=64, max_size=64)}),
)
valid_record = st.builds(
    lambda required, optional_fields, extra: {**required, **optional_fields, **extra},
    st.fixed_dictionaries(
        {
            "complaint_id": st.from_regex(r"[0-9A-Za-z-]{10,40}", fullmatch=True),
            "revision": st.integers(min_value=1, max_value=2**31),
            "status": st.sampled_from(["submitted", "withdrawn"]),
            "registered_at": date_time,
            "updated_at": date_time,
            "channel": st.sampled_from(["web", "app", "mini_program", "hotline", "other"]),
            "odr_opt_in": st.booleans(),
            "consumer": consumer,
            "respondent": respondent,
            "category": st.sampled_from(
                [
                    "quality",
                    "after_sales",
                    "false_advertising",
                    "contract",
                    "price",
                    "safety",
                    "delivery",
                    "other",
                ]
            ),
            "description": text(1, 4000),
            "demand_type": st.sampled_from(["refund", "exchange", "repair", "compensation", "apology", "other"]),
            "demand": text(1, 1000),
        }
    ),
    optional(
        {
            "transaction": transaction,
            "claimed_amount": money,
            "handled_elsewhere": text(0, 500),
            "attachments": st.lists(attachment, max_size=20),
        }
    ),
    unknown_fields,
)


@PROPERTY
@given(raw=valid_record)
def test_property_schema_valid_records_are_never_rejected(raw: dict[str, Any]) -> None:
    parsed = parse_record(json.loads(json.dumps(raw)))
    assert parsed.complaint_id == raw["complaint_id"]
    out = parsed.to_raw()
    for key, value in raw.items():
        if key.startswith("x_"):
            assert out[key] == value
    if "claimed_amount" in raw:
        assert parsed.claimed_amount == Decimal(raw["claimed_amount"])
    # what to_raw gives back is itself a valid record, equal to the first parse
    assert parse_record(json.loads(json.dumps(out))) == parsed


# --- property: anything else is RecordInvalid, never another exception ------------------------------------

FIELD_NAMES = [
    "complaint_id",
    "revision",
    "status",
    "registered_at",
    "updated_at",
    "channel",
    "odr_opt_in",
    "consumer",
    "respondent",
    "transaction",
    "category",
    "description",
    "demand_type",
    "demand",
    "claimed_amount",
    "handled_elsewhere",
    "attachments",
]
NESTED_FIELDS = {
    "consumer": ["name", "phone", "email", "address", "id_number"],
    "respondent": ["name", "uscc", "shop_name", "platform", "address", "division_code"],
    "transaction": ["order_no", "item_name", "amount", "quantity", "purchased_on", "harm_known_on", "online"],
}
_json_ish = st.recursive(
    st.one_of(
        json_leaf,
        st.floats(),  # NaN and infinities too: a Python caller can pass them
        st.sampled_from(["", "2026-11-30T09:12:44+08:00", "2026-11-30", "199.00", "12.345", "13761234567"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from([*FIELD_NAMES, "name", "url"]), st.text(max_size=6)), inner),
    ),
    max_leaves=20,
)
arbitrary_dict = st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=10)), _json_ish, max_size=20)


@st.composite
def mutated_record(draw: st.DrawFn) -> dict[str, Any]:
    """A valid record with one to three fields (top-level or nested) replaced by arbitrary JSON-ish values."""
    raw = draw(valid_record)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        top = draw(st.sampled_from(FIELD_NAMES))
        if top in NESTED_FIELDS and isinstance(raw.get(top), dict) and draw(st.booleans()):
            raw[top][draw(st.sampled_from(NESTED_FIELDS[top]))] = draw(_json_ish)
        else:
            raw[top] = draw(_json_ish)
    return raw


@PROPERTY
@given(raw=st.one_of(arbitrary_dict, mutated_record(), _json_ish))
def test_property_arbitrary_input_raises_only_record_invalid(raw: Any) -> None:
    try:
        parsed = parse_record(raw)
    except RecordInvalid as invalid:
        assert invalid.problems, "a rejection carries at least one problem"
        assert all(p.path and p.reason for p in invalid.problems)
        assert invalid.complaint_id is None or isinstance(invalid.complaint_id, str)
    else:
        assert isinstance(parsed, Complaint)
