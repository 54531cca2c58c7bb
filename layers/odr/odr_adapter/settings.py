"""Where things are: each function's resource names and endpoints, from the environment template.yaml gives it.

One class per function, composed of the groups below, loaded at cold start: a variable missing from a
function's template environment stops it there, with an error that names the variable, rather than becoming
``""`` and failing later on a call that names nothing.

Plain classes, not pydantic models: the settings are strings read once. As pydantic models their thirty-odd
classes cost every cold start about 25 ms of CPU to define, and a function that validates nothing else with
pydantic paid for importing pydantic too (bench/cold_start.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, Self


class SettingsInvalid(Exception):
    """A function's environment lacks a variable it needs (or has an unusable value)."""


class Variable:
    """One environment variable: required (set, not empty) unless it has a default; ``parse`` checks its text
    and turns it into the setting's value, raising ValueError with the reason."""

    def __init__(
        self, name: str, default: object = None, parse: Callable[[str], object] = str, fallback: str | None = None
    ) -> None:
        self.name = name
        self.default = default
        self.parse = parse
        self.fallback = fallback  # another variable whose value this one takes when missing or empty

    @property
    def required(self) -> bool:
        return self.default is None


def required(name: str) -> Any:
    """A variable the function cannot start without."""
    return Variable(name)


def optional(name: str, default: str = "") -> Any:
    """A variable that may be missing or empty (then ``default``)."""
    return Variable(name, default)


def or_else(name: str, other: str) -> Any:
    """A variable that may be missing or empty: then ``other``'s value (which the function cannot start without)."""
    return Variable(name, fallback=other)


def one_of(name: str, *choices: str, default: str | None = None) -> Any:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}")
        return text

    return Variable(name, default, parse)


def port(name: str, default: int) -> Any:
    def parse(text: str) -> int:
        if not (text.isdigit() and 0 < int(text) < 65536):
            raise ValueError(f"{name} must be a port number (1 to 65535)")
        return int(text)

    return Variable(name, default, parse)


class FunctionSettings:
    """The settings of a function: its variables are the class attributes made by :func:`required` and the
    like, over the class and its bases; :meth:`load` reads them all, then :meth:`check` what they say together.
    Loaded settings are frozen, equal by value and hashable (the composition root caches by them)."""

    _variables: ClassVar[dict[str, Variable]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, Variable] = {}
        for klass in reversed(cls.__mro__):
            found |= {attr: v for attr, v in vars(klass).items() if isinstance(v, Variable)}
        cls._variables = found

    @classmethod
    def variables(cls) -> Mapping[str, Variable]:
        """Attribute name → the variable it is read from."""
        return cls._variables

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        problems: list[str] = []
        for attr, variable in cls._variables.items():
            text = env.get(variable.name)
            if not text and variable.fallback:
                text = env.get(variable.fallback)
                if not text:
                    problems.append(f"{variable.name} is empty and {variable.fallback} is not set")
                    continue
            if not text:
                if variable.required:
                    problems.append(f"{variable.name} {'is not set' if text is None else 'is empty'}")
                else:
                    values[attr] = variable.default
                continue
            try:
                values[attr] = variable.parse(text)
            except ValueError as exc:
                problems.append(str(exc))
        settings = object.__new__(cls)
        settings.__dict__.update(values)  # an instance's value hides its class's Variable
        if not problems:
            problems = settings.check()
        if problems:
            function = env.get("AWS_LAMBDA_FUNCTION_NAME", "this function")
            raise SettingsInvalid(
                f"{function} ({cls.__name__}): {'; '.join(problems)}"
                " — give it in the function's Environment in template.yaml"
            )
        return settings

    def check(self) -> list[str]:
        """What is wrong with the variables taken together (each group adds its own rules)."""
        return []

    def __setattr__(self, attr: str, value: object) -> None:
        raise AttributeError(f"settings are frozen: {attr} cannot be set")

    def _key(self) -> tuple[object, ...]:
        return (type(self), *sorted(vars(self).items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionSettings) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


# --- groups ---------------------------------------------------------------------------------------------------


class CaseTable(FunctionSettings):
    cases_table: str = required("CASES_TABLE")


class DirectoryTable(FunctionSettings):
    directory_table: str = required("DIRECTORY_TABLE")
    district_code: str = required("DISTRICT_CODE")


class Workflow(FunctionSettings):
    state_machine_arn: str = required("STATE_MACHINE_ARN")


class Messaging(FunctionSettings):
    sender_email: str = required("SENDER_EMAIL")
    # The SES identity's region (SesRegion); empty: the function's own, as the template documents
    ses_region: str = or_else("SES_REGION", "AWS_REGION")
    action_base_url: str = required("ACTION_BASE_URL")
    public_base_url: str = optional("PUBLIC_BASE_URL")  # short public base for SMS links; else the above
    sms_gateway_url: str = optional("SMS_GATEWAY_URL")  # HTTPS SMS gateway (China regions); empty: SNS
    sms_gateway_token_secret: str = optional("SMS_GATEWAY_TOKEN_SECRET")
    # Where an action or a note queues the message it owes (actions, worklists, the sweeper); empty: sent at once
    confirmation_queue_url: str = optional("CONFIRMATION_QUEUE_URL")
    # E-mail through SES or an SMTP relay over TLS (the AWS China partition has no SES)
    email_channel: Literal["ses", "smtp"] = one_of("EMAIL_CHANNEL", "ses", "smtp")
    smtp_host: str = optional("SMTP_HOST")
    smtp_port: int = port("SMTP_PORT", 587)
    smtp_tls: Literal["starttls", "implicit"] = one_of("SMTP_TLS", "starttls", "implicit", default="starttls")
    smtp_secret: str = optional("SMTP_SECRET")  # the ARN of the relay's login (JSON username, password)

    def check(self) -> list[str]:
        problems = super().check()
        if self.email_channel == "smtp" and not (self.smtp_host and self.smtp_secret):
            problems.append("EMAIL_CHANNEL is smtp: SMTP_HOST and SMTP_SECRET must be set")
        return problems


class ReportQueue(FunctionSettings):
    report_queue_url: str = required("REPORT_QUEUE_URL")


class ProgressQueue(FunctionSettings):
    progress_queue_url: str = required("PROGRESS_QUEUE_URL")


class IntakeQueue(FunctionSettings):
    intake_queue_url: str = required("INTAKE_QUEUE_URL")


class FeedAccess(FunctionSettings):
    feed_base_url: str = required("FEED_BASE_URL")
    feed_token_secret: str = required("FEED_TOKEN_SECRET")


class WebhookSecret(FunctionSettings):
    webhook_secret: str = required("WEBHOOK_SECRET")


class StatsTable(FunctionSettings):
    stats_table: str = required("STATS_TABLE")


class SessionsTable(FunctionSettings):
    sessions_table: str = required("SESSIONS_TABLE")


class CursorKey(FunctionSettings):
    cursor_secret: str = required("CURSOR_SECRET")  # the secret that signs page cursors (its ARN)


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

    confirmation_queue_url: str = required("CONFIRMATION_QUEUE_URL")


class WorklistsSettings(MessagingSettings, SessionsTable, CursorKey):
    """The worklists: sign-in by login link (sent by e-mail or SMS), sessions, pages of cases, their actions."""

    confirmation_queue_url: str = required("CONFIRMATION_QUEUE_URL")


class SweeperSettings(MessagingSettings, Workflow):
    """The sweeper: delivers owed callbacks, ends withdrawn cases' waits, queues owed confirmations, starts
    workflows that never reached their first step."""

    confirmation_queue_url: str = required("CONFIRMATION_QUEUE_URL")


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
