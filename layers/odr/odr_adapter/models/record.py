"""The 12315 complaint record (feed contract v1) as pydantic models.

Valid records are accepted with unknown fields kept; invalid ones raise :class:`RecordInvalid` listing every
problem by field path. Problem texts never echo the submitted values, so they are safe to log.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)
from stdnum.cn import uscc as stdnum_uscc

from odr_adapter.clock import local
from odr_adapter.models.money import Money


def _uscc(value: Any) -> str:
    """The canonical credit code: full-width characters folded (NFKC), spaces and dashes removed, upper case
    (stdnum's ``compact``); only then checked, so ``９１３１…`` or ``91310116 ma1jk7q26h`` is the same code."""
    if not isinstance(value, str):
        raise ValueError("credit code must be a string")
    value = stdnum_uscc.compact(unicodedata.normalize("NFKC", value))
    if not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", value):
        raise ValueError("credit code must be 18 characters of the GB 32100 alphabet")
    # stdnum's validate() wants 8 leading digits, but GB 32100 allows a letter as the registering
    # authority (e.g. N for rural collectives); its check-character computation covers every form.
    if stdnum_uscc.calc_check_digit(value[:17]) != value[17]:
        raise ValueError("credit code check character is wrong")
    return value


def _phone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("phone must be a string")
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("phone is not a telephone number") from exc
    # number_type is UNKNOWN exactly when is_valid_number is false (it is how that is decided): one look-up
    kind = phonenumbers.number_type(number) if number.country_code == 86 else phonenumbers.PhoneNumberType.UNKNOWN
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise ValueError("phone is not a valid mainland mobile or landline number")
    allowed = {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
    if kind not in allowed:
        raise ValueError("phone must be a mainland mobile or landline number")
    return value


def _timestamp(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("time must be an RFC 3339 string with an offset")
    return value


def _representable(value: datetime) -> datetime:
    """Every rule reads times in UTC and Asia/Shanghai: a time that cannot be shown there is refused."""
    try:
        value.astimezone(UTC)
        local(value)
    except OverflowError as exc:
        raise ValueError("time is out of the representable range") from exc
    return value


def _iso_date(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("date must be an ISO string such as 2026-11-30")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp), AfterValidator(_representable)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Uscc = Annotated[str, BeforeValidator(_uscc)]
Phone = Annotated[str, BeforeValidator(_phone)]
DivisionCode = Annotated[str, Field(pattern=r"^[0-9]{6}([0-9]{3})?$")]


class _Open(BaseModel):
    """Unknown fields are kept: later platform revisions add fields this contract does not know."""

    model_config = ConfigDict(extra="allow", hide_input_in_errors=True, str_strip_whitespace=False)


class Consumer(_Open):
    """投诉人: every field is personal information (operators see it masked: odr_cli.pii)."""

    name: str = Field(min_length=1, max_length=50, repr=False)
    phone: Phone = Field(repr=False)
    email: str | None = Field(default=None, max_length=254, repr=False)
    address: str | None = Field(default=None, max_length=200, repr=False)
    id_number: str | None = Field(default=None, max_length=18, repr=False)


class Respondent(_Open):
    name: str = Field(min_length=1, max_length=100)
    uscc: Uscc | None = None
    shop_name: str | None = Field(default=None, max_length=100)
    platform: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=200)
    division_code: DivisionCode | None = None


class Transaction(_Open):
    order_no: str | None = Field(default=None, max_length=64)
    item_name: str | None = Field(default=None, max_length=200)
    amount: Money | None = None
    quantity: StrictInt | None = Field(default=None, ge=1)
    purchased_on: IsoDate | None = None
    harm_known_on: IsoDate | None = None
    online: StrictBool | None = None


class Attachment(_Open):
    name: str
    url: str
    sha256: str | None = None


Category = Literal["quality", "after_sales", "false_advertising", "contract", "price", "safety", "delivery", "other"]
DemandType = Literal["refund", "exchange", "repair", "compensation", "apology", "other"]


class Complaint(_Open):
    complaint_id: str = Field(pattern=r"^[0-9A-Za-z-]{10,40}$")
    revision: StrictInt = Field(ge=1)
    status: Literal["submitted", "withdrawn"]
    registered_at: Timestamp
    updated_at: Timestamp
    channel: Literal["web", "app", "mini_program", "hotline", "other"]
    odr_opt_in: StrictBool
    consumer: Consumer
    respondent: Respondent
    transaction: Transaction | None = None
    category: Category
    description: str = Field(min_length=1, max_length=4000)
    demand_type: DemandType
    demand: str = Field(min_length=1, max_length=1000)
    claimed_amount: Money | None = None
    handled_elsewhere: str | None = Field(default=None, max_length=500)
    attachments: list[Attachment] | None = Field(default=None, max_length=20)

    @property
    def registered_local(self) -> date:
        """The registration day in Asia/Shanghai, the day every rule counts from."""
        return local(self.registered_at).date()

    def to_raw(self) -> dict[str, Any]:
        """JSON-ready form, money back as strings; unknown fields kept as sent, nulls included."""
        return self.model_dump(mode="json", exclude_unset=True)


class Problem(BaseModel):
    path: str
    reason: str


class RecordInvalid(Exception):
    """A record that breaks the contract; carries every problem found, none of the submitted values."""

    def __init__(self, problems: list[Problem], complaint_id: str | None = None) -> None:
        self.problems = problems
        self.complaint_id = complaint_id
        super().__init__("; ".join(f"{p.path}: {p.reason}" for p in problems))


LONE_SURROGATE = "text holds a lone surrogate (a character cut in half, e.g. half an emoji)"


def _problem(error: Any) -> Problem:
    path = ".".join(str(part).encode("utf-8", "backslashreplace").decode() for part in error["loc"]) or "(record)"
    message = LONE_SURROGATE if error["type"] == "string_unicode" else str(error["msg"]).removeprefix("Value error, ")
    return Problem(path=path, reason=message)


def parse_record(raw: Any) -> Complaint:
    """Validate one feed record; raise :class:`RecordInvalid` with every problem found."""
    if not isinstance(raw, dict):
        raise RecordInvalid([Problem(path="(record)", reason="a record must be a JSON object")])
    try:
        return Complaint.model_validate(raw)
    except ValidationError as exc:
        cid = raw.get("complaint_id") if isinstance(raw.get("complaint_id"), str) else None
        problems = []
        for error in exc.errors():
            # A tagged Literal/union failure can repeat the same path; report each path+reason once.
            problem = _problem(error)
            if problem not in problems:
                problems.append(problem)
        raise RecordInvalid(problems, cid) from None
