"""Notes on the emulated stack: a question typed on the case page (over HTTP, through the local API Gateway and the
real actions handler) or sent through the enterprise API reaches the station by e-mail, shows in the case history
and on the page, changes no deadline and no wait, and concurrent submits of one form keep one note. The message
goes after the answer: the actions function queues it on ConfirmationQueue and SendConfirmationFunction sends it
(its SQS trigger is played by :func:`send_confirmations`), so failing channels never hold the answer back, and a
message whose queueing died with the function is queued again by the sweeper."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import requests
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from odr_adapter.data_access.api_keys import ApiKeyStore
from odr_adapter.data_access.links import LinkStore
from odr_adapter.people.confirmations import LEASE
from odr_adapter.people.healing import GRACE
from odr_local import invoker
from odr_local.inbox import Inbox, open_link, submit
from odr_local.stack import REGION, SES_REGION, LocalStack

from .confirmations import send_confirmations
from .conftest import Invoker
from .helpers import sqs_event
from .test_links import JINFENG, JINFENG_MOBILE, SHANYANG, link_pages, start_case

STATION_EMAIL = "zhujing.station@example.com"  # 朱泾所, the station of the cases start_case makes
STATION_MOBILE = "13800000102"


def station_mail(stack: LocalStack, complaint_id: str) -> list[str]:
    inbox = Inbox(SES_REGION, REGION, stack.sms_gateway)
    return [m.body for m in inbox.received_by(STATION_EMAIL, None) if complaint_id in m.body and "提问" in m.body]


def notes(stack: LocalStack, complaint_id: str) -> list[tuple[str, str]]:
    case = stack.cases.get(complaint_id)
    assert case is not None
    return [(h.actor, h.detail["text"]) for h in case.history if h.event == "note_added"]


def recorded(stack: LocalStack, complaint_id: str) -> list[dict[str, Any]]:
    """How each note's message was sent, as the case history records it."""
    case = stack.cases.get(complaint_id)
    assert case is not None
    return [h.detail for h in case.history if h.event == "notified" and h.detail["key"].startswith("note:")]


def test_a_question_on_the_page_reaches_the_station_and_changes_no_deadline(stack: LocalStack) -> None:
    case = start_case(stack, "IT-NOTE-PAGE-00001")
    [page] = link_pages(stack, case.complaint_id, None, JINFENG_MOBILE)
    assert "note" in page.forms and "向监管所提问" in page.text

    sent = submit(page, "note", {"note": "消费者要求上门换货,<b>能否</b>改为退款?"})
    assert station_mail(stack, case.complaint_id) == []  # answered first; the message is queued
    send_confirmations(stack)

    assert sent.status == 200 and "已发送" in sent.text and "<b>能否</b>" in sent.text  # shown as typed
    assert set(sent.forms) == {"accept", "decline", "note"}  # the link's actions are still there
    after = stack.cases.get(case.complaint_id)
    assert after is not None and after.status == "dispatched" and after.deadlines == case.deadlines
    assert after.pending is not None and after.pending.open and after.pending.task_token == case.pending.task_token  # type: ignore[union-attr]
    assert notes(stack, case.complaint_id) == [(f"enterprise:{JINFENG}", "消费者要求上门换货,<b>能否</b>改为退款?")]
    [mail] = station_mail(stack, case.complaint_id)
    assert "消费者要求上门换货,<b>能否</b>改为退款?" in mail and "/l/" not in mail
    # The page shown again (the specialist opens the link later) has the note, escaped.
    html = requests.get(page.url, timeout=30).text
    assert "&lt;b&gt;能否&lt;/b&gt;" in html and "企业提问" in html


def test_concurrent_submits_of_one_form_keep_one_note_and_send_one_message(stack: LocalStack) -> None:
    case = start_case(stack, "IT-NOTE-RACE-00001")
    [page] = link_pages(stack, case.complaint_id, None, JINFENG_MOBILE)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: submit(page, "note", {"note": "同一表单,连点八次"}).status, range(8)))

    assert answers == [200] * 8
    assert notes(stack, case.complaint_id) == [(f"enterprise:{JINFENG}", "同一表单,连点八次")]
    send_confirmations(stack)
    assert len(station_mail(stack, case.complaint_id)) == 1
    assert len(recorded(stack, case.complaint_id)) == 1


@pytest.fixture(scope="module")
def api_key(stack: LocalStack) -> str:
    return ApiKeyStore(stack.deployment.ref("DirectoryTable")).issue(JINFENG, "notes test", stack.now())


def post_note(stack: LocalStack, key: str, complaint_id: str, body: object, idem: str | None) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}", **({"Idempotency-Key": idem} if idem else {})}
    url = f"{stack.api.url}/prod/api/v1/cases/{complaint_id}/notes"
    return requests.post(url, json=body, headers=headers, timeout=30)


def test_the_api_keeps_one_note_per_idempotency_key_and_says_what_is_wrong(stack: LocalStack, api_key: str) -> None:
    case = start_case(stack, "IT-NOTE-API-000001")

    first = post_note(stack, api_key, case.complaint_id, {"text": "请问能否延期受理?"}, "erp-msg-000001")
    again = post_note(stack, api_key, case.complaint_id, {"text": "请问能否延期受理?"}, "erp-msg-000001")
    too_long = post_note(stack, api_key, case.complaint_id, {"text": "字" * 501}, None)
    bad_key = post_note(stack, api_key, case.complaint_id, {"text": "问"}, "no spaces!")
    other = start_case(stack, "IT-NOTE-API-OTHER1", SHANYANG)
    not_ours = post_note(stack, api_key, other.complaint_id, {"text": "问"}, None)

    assert (first.status_code, again.status_code) == (201, 200)
    assert (first.json()["result"], again.json()["result"]) == ("added", "repeated")
    assert first.json()["note"]["text"] == "请问能否延期受理?" and first.json()["note"]["from"] == "enterprise"
    assert too_long.status_code == 422 and bad_key.status_code == 422 and not_ours.status_code == 404
    assert "Idempotency-Key" in bad_key.text
    assert notes(stack, case.complaint_id) == [(f"enterprise:{JINFENG}", "请问能否延期受理?")]
    send_confirmations(stack)
    assert len(station_mail(stack, case.complaint_id)) == 1
    shown = requests.get(
        f"{stack.api.url}/prod/api/v1/cases/{case.complaint_id}",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    ).json()
    assert [n["text"] for n in shown["notes"]] == ["请问能否延期受理?"]
    assert open_link(link_pages(stack, case.complaint_id, None, JINFENG_MOBILE)[0].url).status == 200


@contextmanager
def aws_failing(operation: str, error: BaseException) -> Iterator[list[str]]:
    """Every ``operation`` call a function makes raises ``error``: the functions that called are listed."""
    callers: list[str] = []
    real = getattr(BaseClient, "_make_api_call")  # noqa: B009  (botocore's private, untyped)

    def call(self: BaseClient, operation_name: str, params: dict[str, Any]) -> Any:
        running = invoker.current()
        if operation_name == operation and running is not None:
            callers.append(running.logical_id)
            raise error
        return real(self, operation_name, params)

    setattr(BaseClient, "_make_api_call", call)  # noqa: B010
    try:
        yield callers
    finally:
        setattr(BaseClient, "_make_api_call", real)  # noqa: B010


SES_500 = ClientError(
    {"Error": {"Code": "InternalFailure", "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 500}},  # type: ignore[typeddict-item]
    "SendEmail",
)


def test_with_ses_and_sms_failing_the_api_answers_without_calling_them_and_the_queue_delivers_later(
    stack: LocalStack, api_key: str
) -> None:
    case = start_case(stack, "IT-NOTE-ASYNC-0001")
    send_confirmations(stack)  # what earlier tests left queued
    texts = stack.sms_gateway.requests
    stack.sms_gateway.fail_next(100, 503)
    with aws_failing("SendEmail", SES_500) as mailed:
        answer = post_note(stack, api_key, case.complaint_id, {"text": "消费者同意换货,是否可结案?"}, "erp-async-01")

        assert (answer.status_code, answer.json()["result"]) == (201, "added")
        assert (mailed, stack.sms_gateway.requests) == ([], texts)  # no provider was called before the answer
        owed = stack.cases.get(case.complaint_id)
        assert owed is not None and owed.notes_owed == ["note:erp-async-01"]
        assert case.complaint_id in stack.cases.owing(stack.now() + timedelta(seconds=1))  # on ByOwed meanwhile
        stack.sms_gateway.recover()
        send_confirmations(stack)  # SES still fails: retried, then the station's SMS

    assert mailed == ["SendConfirmationFunction"] * 3
    [detail] = recorded(stack, case.complaint_id)
    assert (detail["channel"], detail["to"]) == ("sms", "station")
    sms = Inbox(SES_REGION, REGION, stack.sms_gateway).received_by(None, STATION_MOBILE)[-1]
    assert "提问" in sms.body and "是否可结案" not in sms.body  # the SMS says a note came, not what it says
    sent = stack.cases.get(case.complaint_id)
    assert sent is not None and sent.notes_owed == [] and sent.owes_since is None

    again = post_note(stack, api_key, case.complaint_id, {"text": "消费者同意换货,是否可结案?"}, "erp-async-01")
    send_confirmations(stack)
    assert again.status_code == 200 and len(recorded(stack, case.complaint_id)) == 1


def test_a_function_that_died_after_keeping_the_note_leaves_its_message_to_the_sweeper(
    stack: LocalStack, invoke: Invoker, api_key: str
) -> None:
    case = start_case(stack, "IT-NOTE-CRASH-0001")
    with aws_failing("SendMessage", RuntimeError("the function died before queueing")) as queued:
        died = post_note(stack, api_key, case.complaint_id, {"text": "退款已到账,请确认。"}, "erp-crash-01")
    assert (died.status_code, queued) == (502, ["ActionsFunction"])
    retried = post_note(stack, api_key, case.complaint_id, {"text": "退款已到账,请确认。"}, "erp-crash-01")
    assert (retried.status_code, retried.json()["result"]) == (200, "repeated")  # kept before the crash
    send_confirmations(stack)
    assert station_mail(stack, case.complaint_id) == []  # nothing queued it

    ok, early = invoke("SweeperFunction", {})
    assert ok and early["notes"] == 0  # within the grace
    stack.kernel.advance(GRACE + timedelta(minutes=1))
    ok, swept = invoke("SweeperFunction", {})
    assert ok and swept["notes"] == 1
    send_confirmations(stack)

    [mail] = station_mail(stack, case.complaint_id)
    assert "退款已到账,请确认。" in mail and len(recorded(stack, case.complaint_id)) == 1
    ok, after = invoke("SweeperFunction", {})
    assert ok and after["notes"] == 0


def test_a_message_another_sender_holds_is_handed_back_to_the_queue_then_sent_once_after_its_lease(
    stack: LocalStack, invoke: Invoker, api_key: str
) -> None:
    case = start_case(stack, "IT-NOTE-LEASE-0001")
    send_confirmations(stack)  # what earlier tests left queued
    now = stack.now()
    claim = f"note:{case.complaint_id}:erp-lease-01"
    assert LinkStore(stack.deployment.ref("CasesTable")).reserve(claim, now, now + LEASE)  # a sender that then died
    post_note(stack, api_key, case.complaint_id, {"text": "请尽快回复。"}, "erp-lease-01")
    owed = {"complaint_id": case.complaint_id, "key": "note:erp-lease-01"}

    gone = {"complaint_id": case.complaint_id, "key": "note:not-owed-01"}  # a message no longer owed: dropped

    ok, held = invoke("SendConfirmationFunction", sqs_event([owed, gone]))
    assert ok and held == {"batchItemFailures": [{"itemIdentifier": "m0"}]}  # SQS gives it again, then the DLQ
    assert station_mail(stack, case.complaint_id) == []
    stack.kernel.advance(LEASE)
    ok, taken = invoke("SendConfirmationFunction", sqs_event([owed, owed]))  # and delivered twice meanwhile

    assert ok and taken == {"batchItemFailures": []}
    [mail] = station_mail(stack, case.complaint_id)
    assert "请尽快回复。" in mail and len(recorded(stack, case.complaint_id)) == 1
    send_confirmations(stack)  # the API's own queued message: no longer owed, dropped
    assert len(station_mail(stack, case.complaint_id)) == 1
