"""A reference model of the case lifecycle, written from docs/rules.md and docs/notifications.md alone.

It does not import the adapter's workflow, deadline or message code, so that a test comparing the running stack
with it (tests/e2e/test_reference_model.py) finds where the code departs from the written rules. It reads only
pure data the adapter reads too: the district's files and China's working-day calendar (chinese-calendar).
See docs/reference-model.md.
"""

from odr_model.days import Deadline, Policies, Policy, deadline
from odr_model.district import District, load_district
from odr_model.lifecycle import Case, Environment, Expected, simulate
from odr_model.steps import Step, steps_from

__all__ = [
    "Case",
    "Deadline",
    "District",
    "Environment",
    "Expected",
    "Policies",
    "Policy",
    "Step",
    "deadline",
    "load_district",
    "simulate",
    "steps_from",
]
