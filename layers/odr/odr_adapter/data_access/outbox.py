"""Builds the link store, outbox and indexes the notification, action and reminder handlers need.

Built per call (cheap: the boto3 clients underneath are shared), so a new local stack is always met afresh.
"""

from __future__ import annotations

from odr_adapter.data_access.api_keys import ApiKeyStore
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.data_access.links import LinkStore
from odr_adapter.messages.sending import Outbox
from odr_adapter.settings import Settings


def outbox() -> Outbox:
    s = Settings.from_env()
    return Outbox(links=LinkStore(s.cases_table), base_url=s.public_base_url or s.action_base_url)


def case_index() -> CaseStore:
    return CaseStore(Settings.from_env().cases_table)


def api_keys() -> ApiKeyStore:
    return ApiKeyStore(Settings.from_env().directory_table)
