"""E-mail (SES) and SMS (SNS) delivery; each call either delivers or raises."""

from __future__ import annotations

from .clients import client


class Email:
    def __init__(self, sender: str, region: str | None = None) -> None:
        """``region``: SES is not offered in the AWS China regions, so e-mail may go through another one."""
        self.sender = sender
        self.ses = client("ses", region)

    def send(self, to: str, subject: str, body: str) -> str:
        got = self.ses.send_email(
            Source=self.sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
            },
        )
        return str(got["MessageId"])


class Sms:
    def __init__(self) -> None:
        self.sns = client("sns")

    def send(self, mobile: str, text: str) -> str:
        number = mobile if mobile.startswith("+") else f"+86{mobile}"
        got = self.sns.publish(PhoneNumber=number, Message=text)
        return str(got["MessageId"])
