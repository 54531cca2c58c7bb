"""The bureau's figures for a set of cases, as a scenario run's result gives them: the cases are recounted into
counters and read by :mod:`odr_adapter.stats.figures` like any report, so a run and the reports cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable

from odr_adapter.models.case import Case
from odr_adapter.models.directory import CLASS_NAMES
from odr_adapter.stats.counters import recount
from odr_adapter.stats.figures import Summary, lifetime


def summarise(cases: Iterable[Case]) -> Summary:
    """The all-time figures of ``cases``, whatever days they fall on."""
    book = recount(cases)
    everything = lifetime(book)
    return Summary(by_class={k: lifetime(book, f"CLASS#{k}") for k in CLASS_NAMES}, total=everything, now=everything)
