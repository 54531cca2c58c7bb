"""Builds the AWS-backed :class:`~odr_adapter.ports.Services` a handler needs, once per container."""

from __future__ import annotations

import os
from functools import cache

from odr_adapter.clock import Clock
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.data_access.executions import Executions
from odr_adapter.data_access.messaging import Email
from odr_adapter.data_access.quarantine import QuarantineStore
from odr_adapter.data_access.queues import Queue
from odr_adapter.data_access.sms_gateway import sms_sender
from odr_adapter.ports import Services
from odr_adapter.settings import Settings


def services() -> Services:
    """Once per container, that is per function (a container runs one function; the local stack runs all of
    them in one process, each with its own environment)."""
    return _services_for(os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))


@cache
def _services_for(function_name: str) -> Services:
    s = Settings.from_env()
    directory = DirectoryStore(s.directory_table, s.district_code)
    return Services(
        cases=CaseStore(s.cases_table),
        executions=Executions(s.state_machine_arn),
        directory=directory,
        email=Email(s.sender_email, s.ses_region),
        sms=sms_sender(s),
        reports=Queue(s.report_queue_url),
        quarantine=QuarantineStore(s.cases_table),
        clock=Clock(),
    )


services.cache_clear = _services_for.cache_clear  # type: ignore[attr-defined]
