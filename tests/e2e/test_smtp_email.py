"""E-mail by SMTP on the whole local stack (smtp.yaml): the functions send through the stack's SMTP relay over
STARTTLS with the login kept in Secrets Manager, the relay's first transactions fail for now (a 421, a dropped
connection) and are retried, the stations read their notices there and close the cases, nothing goes to SES, and
the send functions' roles read that secret only because EmailChannel is smtp."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.ses.models import ses_backends

from odr_local import aws_calls
from odr_local.iam import allows, function_statements
from odr_local.runner import ScenarioRun, stack_for
from odr_local.scenario import Scenario
from odr_local.stack import SES_REGION
from odr_local.template import load_template

from .conftest import PathsRun

HERE = Path(__file__).parent
SENDERS = ("NotifyFunction", "ReminderFunction", "SendConfirmationFunction", "WorklistsFunction", "ScorecardFunction")


@pytest.fixture(scope="module")
def smtp_run() -> Iterator[PathsRun]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    scenario = Scenario.load(HERE / "smtp.yaml")
    stack = stack_for(scenario)
    assert stack.smtp_server is not None
    stack.smtp_server.script = ["421", "drop"]  # the relay's first two transactions fail for now
    out = io.StringIO()
    try:
        result = ScenarioRun(scenario, stack, out).run()
        yield PathsRun(stack, result, out.getvalue())
    finally:
        stack.stop()


def _emails(run: PathsRun) -> list[dict]:
    return [
        h.detail
        for c in run.result["cases"]
        for h in run.case(c["complaint_id"]).history
        if h.event in ("notified", "notification_failed") and h.detail.get("channel") == "email"
    ]


def test_stations_read_their_notices_from_the_relay_and_close_the_cases(smtp_run: PathsRun) -> None:
    relay = smtp_run.stack.smtp_server
    assert relay is not None
    odr = [c for c in smtp_run.result["cases"] if c["route"] and c["route"]["rule"] == "odr_directory_member"]
    emails = _emails(smtp_run)

    assert odr and all(c["outcome"] == "settled" for c in odr)  # each closed on the station's e-mailed link
    assert {d["template"] for d in emails} >= {"review"}
    assert len(relay.received) >= len(emails) and relay.logins >= len(emails)  # the rest: monthly scorecards
    assert {m.to for m in relay.received} <= {s.reviewer_email for s in smtp_run.stack.district.stations} | {
        e.contact_email for e in smtp_run.stack.district.enterprises
    }
    assert list(ses_backends["123456789012"][SES_REGION].sent_messages) == []  # nothing went through SES


def test_the_relays_transient_failures_were_retried_and_recorded(smtp_run: PathsRun) -> None:
    relay = smtp_run.stack.smtp_server
    assert relay is not None and relay.faults == {"421": 1, "drop": 1}
    retried = [d for d in _emails(smtp_run) if len(d["attempts"]) > 1]

    assert [[(a["try"], a["ok"], a.get("error")) for a in d["attempts"]] for d in retried] == [
        [(1, False, "SMTP 421"), (2, False, "SMTPServerDisconnected"), (3, True, None)]
    ]


def test_the_send_functions_read_the_relays_login_only_under_the_smtp_condition(smtp_run: PathsRun) -> None:
    resolver = smtp_run.stack.deployment.resolver
    secret = resolver.refs["SmtpSecretArn"]
    segment = aws_calls.segment_for(smtp_run.stack.endpoint)
    assert segment is not None
    template = load_template()
    calls = [c for c in segment.calls if c.function in SENDERS]
    read = {c.function for c in calls if c.action == "secretsmanager:GetSecretValue" and c.resource == secret}

    assert "NotifyFunction" in read and not any(c.action.startswith("ses:") for c in calls)
    for call in calls:
        policies = template["Resources"][call.function]["Properties"]["Policies"]
        assert allows(function_statements(policies, resolver), call.action, call.resource), call
    for function in SENDERS:
        policies = template["Resources"][function]["Properties"]["Policies"]
        under_smtp = function_statements(policies, resolver)
        under_ses = function_statements(policies, resolver.with_parameters(EmailChannel="ses"))
        assert allows(under_smtp, "secretsmanager:GetSecretValue", secret), function
        assert not allows(under_smtp, "ses:SendEmail", "arn:aws-cn:ses:cn-north-1:123456789012:identity/x"), function
        assert not allows(under_ses, "secretsmanager:GetSecretValue", secret), function
