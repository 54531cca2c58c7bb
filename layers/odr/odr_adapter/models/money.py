"""Money as the 12315 contract and the people's forms write it: yuan in a decimal string.

Its own module, apart from the record: the people's actions read money too, and need neither the record's
phone-number and credit-code checks nor the cost of importing them at cold start.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"


def _money(value: Any) -> Decimal:
    """Yuan as a decimal string: digits, then at most two decimals ("199", "199.5" and "199.00" alike).

    Never a JSON number (a binary float cannot hold 0.1), an exponent ("1E+11"), NaN, Infinity, a sign or spaces.
    """
    if not isinstance(value, str):
        raise PydanticCustomError("money_type", 'money must be a decimal string such as "299.00"')
    if not re.fullmatch(r"[0-9]{1,12}(\.[0-9]+)?", value):
        raise PydanticCustomError(
            "money_format", "money must be digits with an optional decimal part (no sign, exponent or spaces)"
        )
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise PydanticCustomError("money_places", "money has at most two decimal places")
    return amount


Money = Annotated[Decimal, BeforeValidator(_money)]
MoneyString = Annotated[
    Decimal,
    BeforeValidator(_money),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["199.00", "199"]}),
]
"""Money in a request body: the same decimal string, documented as such in the OpenAPI document."""
