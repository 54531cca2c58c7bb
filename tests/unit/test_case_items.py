"""The case item codec keeps the 12315 record compressed, and reads it back whole from every form it comes in."""

from __future__ import annotations

import base64
import json

from boto3.dynamodb.types import Binary

from odr_adapter.data_access.case_items import case_item, case_of
from odr_adapter.models.case import Case, transition
from tests.unit.conftest import START, load_example


def _case() -> Case:
    raw = load_example("odr-by-uscc")
    case = Case(
        complaint_id=raw["complaint_id"],
        revision=1,
        registered_at=START,
        received_at=START,
        record=raw,
        execution_name="case-x",
    )
    return transition(case, "received", "12315", START)[0]


def test_the_record_is_stored_compressed_and_read_back_as_it_came() -> None:
    case = _case()
    item = case_item(case)
    text = json.dumps(case.record, ensure_ascii=False).encode()
    assert isinstance(item["record"], bytes) and len(item["record"]) < 0.75 * len(text)  # mostly Chinese text
    for stored in (
        item["record"],  # as written
        Binary(item["record"]),  # as boto3 reads it back
        base64.b64encode(item["record"]).decode(),  # as a Lambda event carries a binary attribute
        json.dumps(case.record, ensure_ascii=False),  # an item written before: the JSON text itself
    ):
        assert case_of({**item, "record": stored}).record == case.record


def test_fields_at_their_defaults_are_not_stored_and_read_back_as_they_were() -> None:
    case = _case()
    item = case_item(case)
    assert not {"execution_started", "send_backs", "overdue", "reminders_sent", "notes_owed", "deadlines"} & set(item)
    assert (item["status"], item["version"]) == ("received", 1)  # read raw: the stream's filter, the indexes
    assert case_of(item) == case
    changed = transition(case, "started", "workflow", START, execution_started=True, send_backs=1)[0]
    stored = case_item(changed)
    assert (stored["execution_started"], stored["send_backs"]) == (True, 1)
    assert case_of(stored) == changed
    written_before = {**item, "execution_started": False, "notes_owed": [], "deadlines": {}}  # every field stored
    assert case_of(written_before) == case
