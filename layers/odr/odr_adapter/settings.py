"""Where things are: resource names and endpoints, from the function's environment (set by template.yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    cases_table: str
    directory_table: str
    state_machine_arn: str
    intake_queue_url: str
    report_queue_url: str
    sender_email: str
    ses_region: str
    action_base_url: str
    feed_base_url: str
    feed_token_secret: str
    webhook_secret: str
    district_code: str
    public_base_url: str = ""  # short public base of the action pages (SMS links); else action_base_url
    sms_gateway_url: str = ""  # HTTPS SMS gateway (China regions); empty: Amazon SNS
    sms_gateway_token_secret: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        return cls(
            cases_table=env("CASES_TABLE", ""),
            directory_table=env("DIRECTORY_TABLE", ""),
            state_machine_arn=env("STATE_MACHINE_ARN", ""),
            intake_queue_url=env("INTAKE_QUEUE_URL", ""),
            report_queue_url=env("REPORT_QUEUE_URL", ""),
            sender_email=env("SENDER_EMAIL", ""),
            ses_region=env("SES_REGION", ""),
            action_base_url=env("ACTION_BASE_URL", ""),
            feed_base_url=env("FEED_BASE_URL", ""),
            feed_token_secret=env("FEED_TOKEN_SECRET", ""),
            webhook_secret=env("WEBHOOK_SECRET", ""),
            district_code=env("DISTRICT_CODE", "310116"),
            public_base_url=env("PUBLIC_BASE_URL", ""),
            sms_gateway_url=env("SMS_GATEWAY_URL", ""),
            sms_gateway_token_secret=env("SMS_GATEWAY_TOKEN_SECRET", ""),
        )
