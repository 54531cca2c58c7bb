"""E-mail by SMTP (the AWS China partition has no SES): the real client (smtplib over TLS, its login from Secrets
Manager on the emulated AWS) against the local stack's real SMTP relay (aiosmtpd), through the channels' own
retries and fallback: transient replies and dropped connections are retried, a permanent refusal goes to SMS as
SES failures do, and the login is never logged."""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Callable, Iterator

import pytest

from odr_adapter.data_access.smtp import SmtpEmail
from odr_adapter.messages.channels import RetryPolicy, Route, deliver
from odr_adapter.ports import DeliveryFailed
from odr_local.smtp_server import SmtpServer
from odr_local.stack import LocalStack

SENDER = "odr-noreply@jinshan.example.gov.cn"
TO = "zhujing@jinshan.example.gov.cn"
SUBJECT = "【金山区ODR】待审核:投诉 3101160000000202611300001"
BODY = "请于12月5日前审核办结:http://127.0.0.1/l/abc"


@pytest.fixture(params=["starttls", "implicit"])
def relay(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    server = SmtpServer(request.param).start()
    yield server
    server.stop()


@pytest.fixture
def starttls_relay() -> Iterator[SmtpServer]:
    server = SmtpServer("starttls").start()
    yield server
    server.stop()


def login_secret(stack: LocalStack, value: str) -> str:
    """A secret holding the relay's login, as an operator keeps it; its ARN."""
    got = stack.client("secretsmanager").create_secret(Name=f"it-smtp-{uuid.uuid4().hex}", SecretString=value)
    return str(got["ARN"])


def client(stack: LocalStack, relay: SmtpServer, trusted: bool = True) -> SmtpEmail:
    def trusting() -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(relay.cert_path))

    return SmtpEmail(
        "127.0.0.1",
        relay.port,
        relay.tls,
        login_secret(stack, relay.login_json()),
        SENDER,
        timeout=5,
        context=trusting if trusted else ssl.create_default_context,
    )


class Texts:
    """The SMS route: the other channel, which takes every message."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self) -> str:
        self.sent.append(BODY)
        return "sms-1"


def routes(email: SmtpEmail, texts: Texts) -> list[Route]:
    return [Route("email", lambda: email.send(TO, SUBJECT, BODY)), Route("sms", texts.send)]


def no_pause(seconds: float) -> None:
    pass


def test_a_message_goes_over_tls_with_the_login_kept_in_secrets_manager(stack: LocalStack, relay: SmtpServer) -> None:
    message_id = client(stack, relay).send(TO, SUBJECT, BODY)

    assert [(m.to, m.subject, m.body.strip(), m.message_id) for m in relay.received] == [
        (TO, SUBJECT, BODY, message_id)
    ]
    assert relay.logins == 1 and message_id.endswith("@jinshan.example.gov.cn>")


def test_transient_replies_and_dropped_connections_are_retried(stack: LocalStack, relay: SmtpServer) -> None:
    relay.script = ["421", "drop"]  # MAIL refused for now; then the connection dropped at DATA
    texts = Texts()

    channel, tries = deliver(routes(client(stack, relay), texts), RetryPolicy(), no_pause)

    assert channel == "email" and texts.sent == []
    assert [(t["channel"], t["try"], t["ok"], t.get("error")) for t in tries] == [
        ("email", 1, False, "SMTP 421"),
        ("email", 2, False, "SMTPServerDisconnected"),
        ("email", 3, True, None),
    ]
    assert len(relay.received) == 1  # the dropped transaction kept nothing: one message, not two


@pytest.mark.parametrize("refusal", ["550", "554"])
def test_a_permanent_refusal_falls_back_to_sms_at_once(
    stack: LocalStack, starttls_relay: SmtpServer, refusal: str
) -> None:
    starttls_relay.script = [refusal]  # type: ignore[list-item]
    texts = Texts()

    channel, tries = deliver(routes(client(stack, starttls_relay), texts), RetryPolicy(), no_pause)

    assert channel == "sms" and texts.sent == [BODY]
    assert [(t["channel"], t["ok"], t.get("error")) for t in tries] == [
        ("email", False, f"SMTP {refusal}"),
        ("sms", True, None),
    ]
    assert starttls_relay.received == []


def test_a_refused_login_is_read_again_from_secrets_manager(stack: LocalStack, starttls_relay: SmtpServer) -> None:
    arn = login_secret(stack, '{"username": "odr-local", "password": "an old one"}')
    email = SmtpEmail(
        "127.0.0.1",
        starttls_relay.port,
        "starttls",
        arn,
        SENDER,
        context=lambda: ssl.create_default_context(cafile=str(starttls_relay.cert_path)),
    )
    with pytest.raises(DeliveryFailed) as refused:
        email.send(TO, SUBJECT, BODY)
    assert (refused.value.code, refused.value.permanent) == ("SMTP 535", False)
    stack.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=starttls_relay.login_json())  # rotated

    email.send(TO, SUBJECT, BODY)  # within the five-minute cache: read again because it was refused

    assert len(starttls_relay.received) == 1


def test_a_certificate_the_trust_store_does_not_know_is_final(stack: LocalStack, starttls_relay: SmtpServer) -> None:
    with pytest.raises(DeliveryFailed) as refused:
        client(stack, starttls_relay, trusted=False).send(TO, SUBJECT, BODY)

    assert (refused.value.code, refused.value.permanent) == ("SMTP certificate not trusted", True)
    assert starttls_relay.logins == 0  # the login never left the client


def test_the_login_is_never_logged(
    stack: LocalStack,
    starttls_relay: SmtpServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)  # the functions' level (POWERTOOLS_LOG_LEVEL); our own code at every level
    caplog.set_level(logging.DEBUG, logger="odr_adapter")
    starttls_relay.script = ["auth", "421", "drop", "550"]
    email = client(stack, starttls_relay)
    seen: list[str] = []
    attempts: list[Callable[[], object]] = [lambda: email.send(TO, SUBJECT, BODY)] * 5
    for attempt in attempts:
        try:
            attempt()
        except DeliveryFailed as exc:
            seen += [str(exc), exc.code, repr(exc)]
    out, err = capfd.readouterr()

    assert starttls_relay.faults == {"auth": 1, "421": 1, "drop": 1, "550": 1} and len(starttls_relay.received) == 1
    for text in (caplog.text, out, err, *seen):
        assert starttls_relay.password not in text
