"""Where things are: each function's resource names and endpoints, from the environment template.yaml gives it.

One pydantic model per function, composed of the groups below, validated at cold start: a variable missing
from a function's template environment stops it there, with an error that names the variable, rather than
becoming ``""`` and failing later on a call that names nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

Required = Annotated[str, StringConstraints(min_length=1)]


class SettingsInvalid(Exception):
    """A function's environment lacks a variable it needs (or has an unusable value)."""


class FunctionSettings(BaseModel):
    # defer_build: a function validates one of the classes below; only that one's validator is built, at load
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        try:
            return cls.model_validate(dict(env))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))} {'is not set' if e['type'] == 'missing' else 'is empty'}"
                if e["type"] in ("missing", "string_too_short")
                else f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in exc.errors(include_input=False)
            )
            function = env.get("AWS_LAMBDA_FUNCTION_NAME", "this function")
            raise SettingsInvalid(
                f"{function} ({cls.__name__}): {problems} — give it in the function's Environment in template.yaml"
            ) from None


# --- groups ---------------------------------------------------------------------------------------------------


class CaseTable(FunctionSettings):
    cases_table: Required = Field(alias="CASES_TABLE")


class DirectoryTable(FunctionSettings):
    directory_table: Required = Field(alias="DIRECTORY_TABLE")
    district_code: Required = Field(alias="DISTRICT_CODE")


class Workflow(FunctionSettings):
    state_machine_arn: Required = Field(alias="STATE_MACHINE_ARN")


class Messaging(FunctionSettings):
    sender_email: Required = Field(alias="SENDER_EMAIL")
    ses_region: Required = Field(alias="SES_REGION")
    action_base_url: Required = Field(alias="ACTION_BASE_URL")
    public_base_url: str = Field("", alias="PUBLIC_BASE_URL")  # short public base for SMS links; else the above
    sms_gateway_url: str = Field("", alias="SMS_GATEWAY_URL")  # HTTPS SMS gateway (China regions); empty: SNS
    sms_gateway_token_secret: str = Field("", alias="SMS_GATEWAY_TOKEN_SECRET")
    # Where an action or a note queues the message it owes (actions, worklists, the sweeper); empty: sent at once
    confirmation_queue_url: str = Field("", alias="CONFIRMATION_QUEUE_URL")
    # E-mail through SES or an SMTP relay over TLS (the AWS China partition has no SES)
    email_channel: Literal["ses", "smtp"] = Field(alias="EMAIL_CHANNEL")
    smtp_host: str = Field("", alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT", gt=0, lt=65536)
    smtp_tls: Literal["starttls", "implicit"] = Field("starttls", alias="SMTP_TLS")
    smtp_secret: str = Field("", alias="SMTP_SECRET")  # the ARN of the relay's login (JSON username, password)

    @model_validator(mode="after")
    def _smtp_needs_its_relay(self) -> Self:
        if self.email_channel == "smtp" and not (self.smtp_host and self.smtp_secret):
            raise ValueError("EMAIL_CHANNEL is smtp: SMTP_HOST and SMTP_SECRET must be set")
        return self


class ReportQueue(FunctionSettings):
    report_queue_url: Required = Field(alias="REPORT_QUEUE_URL")


class ProgressQueue(FunctionSettings):
    progress_queue_url: Required = Field(alias="PROGRESS_QUEUE_URL")


class IntakeQueue(FunctionSettings):
    intake_queue_url: Required = Field(alias="INTAKE_QUEUE_URL")


class FeedAccess(FunctionSettings):
    feed_base_url: Required = Field(alias="FEED_BASE_URL")
    feed_token_secret: Required = Field(alias="FEED_TOKEN_SECRET")


class WebhookSecret(FunctionSettings):
    webhook_secret: Required = Field(alias="WEBHOOK_SECRET")


class StatsTable(FunctionSettings):
    stats_table: Required = Field(alias="STATS_TABLE")


class SessionsTable(FunctionSettings):
    sessions_table: Required = Field(alias="SESSIONS_TABLE")


class CursorKey(FunctionSettings):
    cursor_secret: Required = Field(alias="CURSOR_SECRET")  # the secret that signs page cursors (its ARN)


# --- per function ---------------------------------------------------------------------------------------------


class CaseWork(CaseTable, DirectoryTable):
    """What every function that reads and writes cases has: the case table and the district's directory."""


class StepSettings(CaseWork):
    """A workflow step that reads and writes the case: screen, apply screening, await, escalate, failures."""


class CloseSettings(StepSettings, ReportQueue):
    pass


class IntakeSettings(CaseWork, Workflow):
    pass


class MessagingSettings(CaseWork, Messaging):
    """Functions that send messages with action links: notify, reminders, the action pages and API."""


class ActionsSettings(MessagingSettings, CursorKey):
    """The action pages and the enterprise API (its case list's cursors are signed). The messages its actions and
    notes owe are queued, never sent while a person waits: the queue is required."""

    confirmation_queue_url: Required = Field(alias="CONFIRMATION_QUEUE_URL")


class WorklistsSettings(MessagingSettings, SessionsTable, CursorKey):
    """The worklists: sign-in by login link (sent by e-mail or SMS), sessions, pages of cases, their actions."""

    confirmation_queue_url: Required = Field(alias="CONFIRMATION_QUEUE_URL")


class SweeperSettings(MessagingSettings, Workflow):
    """The sweeper: delivers owed callbacks, ends withdrawn cases' waits, queues owed confirmations, starts
    workflows that never reached their first step."""

    confirmation_queue_url: Required = Field(alias="CONFIRMATION_QUEUE_URL")


class ConfirmationSettings(MessagingSettings):
    """The confirmation function: sends each owed message (a confirmation, a note's message) once, as queued."""


class ScorecardSettings(MessagingSettings, StatsTable):
    """The monthly scorecard message: the counters, the directory, and the channels to each enterprise's contact."""


class PollerSettings(CaseTable, FeedAccess, IntakeQueue):
    pass


class ReportBackSettings(FeedAccess):
    pass


class ProgressSettings(DirectoryTable, ProgressQueue):
    """The progress function: finds the stages in the case table's stream and queues them (the station's name
    comes from the directory)."""


class ReportProgressSettings(FeedAccess):
    pass


class WebhookSettings(IntakeQueue, WebhookSecret):
    pass


class CountersSettings(StatsTable):
    pass


class StatsApiSettings(DirectoryTable, StatsTable):
    pass
