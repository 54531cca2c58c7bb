"""A timeline's steps as the model reads them: the same fields as a scenario's ``timelines`` (docs/scenarios.md),
kept apart from the local stack's parser so the model depends on nothing of the adapter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

ROLE_OF = {"accept": "enterprise", "decline": "enterprise", "report": "enterprise"}
ROLE_OF |= {"approve": "station", "send_back": "station"}


def duration(value: Any) -> timedelta | None:
    """An ISO 8601 duration as the scenarios write it: ``PT30M``, ``-PT1S``, ``P1DT2H``."""
    if value is None or isinstance(value, timedelta):
        return value
    text = str(value)
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    assert text.startswith("P"), f"not a duration: {value!r}"
    days, _, clock = text[1:].partition("T")
    total = timedelta(days=float(days.rstrip("D"))) if days else timedelta(0)
    number = ""
    for ch in clock:
        if ch.isdigit() or ch == ".":
            number += ch
            continue
        total += timedelta(**{{"H": "hours", "M": "minutes", "S": "seconds"}[ch]: float(number)})
        number = ""
    return sign * total


@dataclass(frozen=True)
class Step:
    do: str  # accept, decline, report, send_back, approve, note, withdraw, revise
    of: str  # the wait it acts in: acceptance, resolution, review, rework
    round: int = 1
    after: timedelta | None = None
    at_deadline: timedelta | None = None
    via: str = "link"
    repeat: int = 0
    repeat_after: timedelta = timedelta(seconds=20)
    settled: bool = True
    recovered: Decimal = Decimal("0.00")
    by: str | None = None  # a note's author

    @property
    def role(self) -> str:
        return self.by or "" if self.do == "note" else ROLE_OF.get(self.do, "consumer")

    def when(self, start: datetime, due: datetime) -> datetime:
        return start + self.after if self.after is not None else due + (self.at_deadline or timedelta(0))


def steps_from(raw: list[dict[str, Any]]) -> list[Step]:
    """Steps from a scenario's YAML/JSON form (fields the model has no use for, like a note's text, are ignored)."""
    out = []
    for r in raw:
        if ("after" in r) == ("at_deadline" in r):
            raise ValueError(f"a step needs exactly one of 'after' and 'at_deadline': {r}")
        out.append(
            Step(
                do=r["do"],
                of=r["of"],
                round=int(r.get("round", 1)),
                after=duration(r.get("after")),
                at_deadline=duration(r.get("at_deadline")),
                via=r.get("via", "link"),
                repeat=int(r.get("repeat", 0)),
                repeat_after=duration(r.get("repeat_after")) or timedelta(seconds=20),
                settled=bool(r.get("settled", True)),
                recovered=Decimal(str(r.get("recovered", "0.00"))),
                by=r.get("by"),
            )
        )
    return out
