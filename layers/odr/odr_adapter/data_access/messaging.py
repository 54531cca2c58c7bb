"""E-mail (SES) and SMS (SNS) delivery; each call returns the provider's message id or raises DeliveryFailed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from odr_adapter.data_access.clients import client
from odr_adapter.ports import DeliveryFailed

_THROTTLED = {"Throttling", "ThrottlingException", "Throttled", "TooManyRequestsException", "LimitExceeded"}


def provider_call(call: Callable[[], Any]) -> Any:
    """Run an SDK call, turning its errors into DeliveryFailed: 5xx and throttling may pass, the rest not."""
    try:
        return call()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        raise DeliveryFailed(code, permanent=status < 500 and code not in _THROTTLED) from exc
    except BotoCoreError as exc:  # connection and timeout faults
        raise DeliveryFailed(type(exc).__name__, permanent=False) from exc


class Email:
    def __init__(self, sender: str, region: str | None = None) -> None:
        """``region``: SES is not offered in the AWS China regions, so e-mail may go through another one."""
        self.sender = sender
        self.ses = client("ses", region)

    def send(self, to: str, subject: str, body: str) -> str:
        got = provider_call(
            lambda: self.ses.send_email(
                Source=self.sender,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
                },
            )
        )
        return str(got["MessageId"])


def e164(mobile: str) -> str:
    """A mainland mobile as +86...; a number already in international form is kept."""
    return mobile if mobile.startswith("+") else f"+86{mobile}"


class Sms:
    def __init__(self) -> None:
        self.sns = client("sns")

    def send(self, mobile: str, text: str) -> str:
        got = provider_call(
            lambda: self.sns.publish(
                PhoneNumber=e164(mobile),
                Message=text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                },
            )
        )
        return str(got["MessageId"])
