"""``{"doctor": true}`` is answered by ``Observed.handler`` itself: the handler's body never runs, no metric is
flushed, and the secrets a function reads are exactly those it uses at work."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from odr_adapter.observability import DOCTOR_EVENT, Observed, secrets_needed
from odr_adapter.settings import CountersSettings, MessagingSettings, PollerSettings

MESSAGING = {
    "CASES_TABLE": "cases",
    "DIRECTORY_TABLE": "directory",
    "DISTRICT_CODE": "310116",
    "SENDER_EMAIL": "odr-noreply@example.gov.cn",
    "SES_REGION": "cn-north-1",
    "ACTION_BASE_URL": "https://api.example",
    "EMAIL_CHANNEL": "ses",
    "SMS_GATEWAY_TOKEN_SECRET": "arn:sms",
}


class Context:
    function_name = "odr-CountersFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws-cn:lambda:cn-north-1:123456789012:function:odr-CountersFunction"
    memory_limit_in_mb = 512
    aws_request_id = "r-1"


def test_the_doctor_event_is_answered_before_the_handler_and_flushes_no_metric(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATS_TABLE", "stats")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "OdrAdapter")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    obs = Observed(CountersSettings)
    calls: list[Any] = []

    @obs.handler(None)
    def handler(event: dict[str, Any], context: Any) -> str:
        calls.append(event)
        obs.metrics.add_metric(name="Folded", unit=MetricUnit.Count, value=1)
        return "worked"

    answer = handler(dict(DOCTOR_EVENT), Context())
    assert answer == {"doctor": "ok", "function": "odr-CountersFunction", "settings": ["STATS_TABLE"], "secrets": {}}
    assert calls == []
    assert '"_aws"' not in capsys.readouterr().out  # no EMF document: nothing reached CloudWatch metrics
    assert handler({"Records": []}, Context()) == "worked"  # any other event is the handler's, metrics flushed
    assert any(
        '"_aws"' in line and json.loads(line)["Folded"] == [1.0] for line in capsys.readouterr().out.splitlines()
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"SMS_GATEWAY_URL": "https://sms.example"}, ["SMS_GATEWAY_TOKEN_SECRET"]),
        ({"EMAIL_CHANNEL": "smtp", "SMTP_HOST": "smtp.example", "SMTP_SECRET": "arn:smtp"}, ["SMTP_SECRET"]),
    ],
)
def test_a_sender_reads_the_relay_login_only_with_smtp_and_the_gateway_token_only_with_a_gateway(
    changes: dict[str, str], expected: list[str]
) -> None:
    assert sorted(secrets_needed(MessagingSettings.load({**MESSAGING, **changes}))) == expected


def test_the_poller_reads_the_feed_token() -> None:
    env = {"CASES_TABLE": "c", "FEED_BASE_URL": "https://f", "FEED_TOKEN_SECRET": "arn:feed", "INTAKE_QUEUE_URL": "q"}
    assert secrets_needed(PollerSettings.load(env)) == {"FEED_TOKEN_SECRET": "arn:feed"}
