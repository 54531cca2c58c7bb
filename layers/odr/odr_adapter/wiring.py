"""The composition root: which adapter stands behind each port, built once per container from the function's
settings.

A container runs one function; the local stack runs all of them in one process, each with its own
environment, so what is built here is cached per function name (:func:`cache_clear` starts afresh). A port
whose settings the function lacks is not wired: using it fails with the name of what is missing.

Each builder imports its adapters itself: a function loads the adapters it wires and no others (the messages
room and Jinja2 only where :func:`delivery` is called, the SMS gateway only where one is configured), so a cold
start does not pay for what the function never uses (bench/cold_start.py).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

from odr_adapter.ports import Services
from odr_adapter.settings import Messaging, ReportQueue, Workflow

if TYPE_CHECKING:
    from odr_adapter.data_access.api_keys import ApiKeyStore
    from odr_adapter.data_access.case_pages import CasePageStore
    from odr_adapter.data_access.cases import CaseStore
    from odr_adapter.data_access.directory import DirectoryStore
    from odr_adapter.data_access.sessions import SessionStore
    from odr_adapter.data_access.stats import StatsStore
    from odr_adapter.messages.sending import Delivery
    from odr_adapter.ports import Sender, SmsSender
    from odr_adapter.settings import (
        CaseTable,
        CaseWork,
        CursorKey,
        DirectoryTable,
        MessagingSettings,
        SessionsTable,
        StatsTable,
    )


class NotWired:
    """Stands for a port this function's settings do not provide."""

    def __init__(self, port: str, settings: str) -> None:
        self.port = port
        self.settings = settings

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(f"{self.port} is not wired for {_function() or 'this function'}: it needs {self.settings}")

    send = put = start = _fail


def _function() -> str:
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")


def services(settings: CaseWork) -> Services:
    """What the workflow's steps and the people's actions use."""
    return _services(_function(), settings)


def delivery(settings: MessagingSettings) -> Delivery:
    """What sending a message needs besides the channels: the link store and the pages' public address."""
    return _delivery(_function(), settings)


def case_index(settings: CaseTable) -> CaseStore:
    """The case table's indexes (due dates, stations, enterprises)."""
    from odr_adapter.data_access.cases import CaseStore

    return CaseStore(settings.cases_table)


def case_pages(settings: CaseTable) -> CasePageStore:
    """A holder's cases a page at a time (ByStation, ByEnterprise)."""
    from odr_adapter.data_access.case_pages import CasePageStore

    return CasePageStore(settings.cases_table)


def sessions(settings: SessionsTable) -> SessionStore:
    from odr_adapter.data_access.sessions import SessionStore

    return SessionStore(settings.sessions_table)


def cursor_key(settings: CursorKey) -> bytes:
    """The key that signs page cursors (the secret, cached five minutes per container)."""
    from odr_adapter.data_access.secrets import secret

    return secret(settings.cursor_secret).encode()


def api_keys(settings: DirectoryTable) -> ApiKeyStore:
    from odr_adapter.data_access.api_keys import ApiKeyStore

    return ApiKeyStore(settings.directory_table)


def stats_store(settings: StatsTable) -> StatsStore:
    return _stats(_function(), settings)


def directory(settings: DirectoryTable) -> DirectoryStore:
    return _directory(_function(), settings)


def email_sender(settings: Messaging) -> Sender:
    """The SMTP relay when the channel is smtp (the AWS China partition has no SES), else Amazon SES."""
    if settings.email_channel == "smtp":
        from odr_adapter.data_access.smtp import SmtpEmail

        return SmtpEmail(
            settings.smtp_host, settings.smtp_port, settings.smtp_tls, settings.smtp_secret, settings.sender_email
        )
    from odr_adapter.data_access.messaging import Email

    return Email(settings.sender_email, settings.ses_region)


def sms_sender(settings: Messaging) -> SmsSender:
    """The HTTPS gateway when one is configured (China regions), else Amazon SNS."""
    if settings.sms_gateway_url:
        from odr_adapter.data_access.sms_gateway import SmsGateway

        return SmsGateway(settings.sms_gateway_url, settings.sms_gateway_token_secret)
    from odr_adapter.data_access.messaging import Sms

    return Sms()


@cache
def _services(function_name: str, s: CaseWork) -> Services:
    from odr_adapter.clock import Clock
    from odr_adapter.data_access.cases import CaseStore
    from odr_adapter.data_access.executions import Executions
    from odr_adapter.data_access.quarantine import QuarantineStore
    from odr_adapter.data_access.queues import Queue

    return Services(
        cases=CaseStore(s.cases_table),
        executions=Executions(s.state_machine_arn if isinstance(s, Workflow) else ""),
        directory=_directory(function_name, s),
        email=email_sender(s) if isinstance(s, Messaging) else NotWired("e-mail", "SENDER_EMAIL, SES_REGION"),
        sms=sms_sender(s) if isinstance(s, Messaging) else NotWired("SMS", "the messaging settings"),
        outcomes_to_12315=Queue(s.report_queue_url)
        if isinstance(s, ReportQueue)
        else NotWired("the report queue", "REPORT_QUEUE_URL"),
        quarantine=QuarantineStore(s.cases_table),
        clock=Clock(),
    )


@cache
def _directory(function_name: str, s: DirectoryTable) -> DirectoryStore:
    from odr_adapter.data_access.directory import DirectoryStore

    return DirectoryStore(s.directory_table, s.district_code)


@cache
def _delivery(function_name: str, s: MessagingSettings) -> Delivery:
    from odr_adapter.data_access.links import LinkStore
    from odr_adapter.data_access.queues import Queue
    from odr_adapter.messages.sending import Delivery

    return Delivery(
        links=LinkStore(s.cases_table),
        base_url=s.public_base_url or s.action_base_url,
        confirmations=Queue(s.confirmation_queue_url) if s.confirmation_queue_url else None,
    )


@cache
def _stats(function_name: str, s: StatsTable) -> StatsStore:
    from odr_adapter.data_access.stats import StatsStore

    return StatsStore(s.stats_table)


def cache_clear() -> None:
    """Forget every built adapter (a new local stack, or a test that changed the environment)."""
    for built in (_services, _directory, _delivery, _stats):
        built.cache_clear()
