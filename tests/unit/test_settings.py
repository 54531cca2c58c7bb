"""Settings fail at load, naming every variable that is missing or empty."""

from __future__ import annotations

import pytest

from odr_adapter.settings import CloseSettings, MessagingSettings, SettingsInvalid

BASE = {"CASES_TABLE": "cases", "DIRECTORY_TABLE": "directory", "DISTRICT_CODE": "310116"}


def test_given_every_variable_the_settings_load_and_ignore_the_rest() -> None:
    settings = CloseSettings.load({**BASE, "REPORT_QUEUE_URL": "https://q", "OTHER": "x"})
    assert (settings.cases_table, settings.report_queue_url) == ("cases", "https://q")


def test_a_missing_and_an_empty_variable_are_both_named() -> None:
    env = {**BASE, "AWS_LAMBDA_FUNCTION_NAME": "odr-NotifyFunction", "SENDER_EMAIL": "", "SES_REGION": "cn-north-1"}
    with pytest.raises(SettingsInvalid) as caught:
        MessagingSettings.load(env)
    message = str(caught.value)
    assert message.startswith("odr-NotifyFunction (MessagingSettings): ")
    assert "SENDER_EMAIL is empty" in message and "ACTION_BASE_URL is not set" in message


MESSAGING = {**BASE, "SENDER_EMAIL": "a@b.cn", "SES_REGION": "cn-north-1", "ACTION_BASE_URL": "https://odr"}


def test_optional_variables_default_to_empty() -> None:
    assert MessagingSettings.load({**MESSAGING, "EMAIL_CHANNEL": "ses"}).sms_gateway_url == ""


def test_the_smtp_channel_needs_its_relay_and_login() -> None:
    with pytest.raises(SettingsInvalid) as caught:
        MessagingSettings.load({**MESSAGING, "EMAIL_CHANNEL": "smtp", "SMTP_HOST": ""})
    assert "SMTP_HOST and SMTP_SECRET must be set" in str(caught.value)
    relay = {"EMAIL_CHANNEL": "smtp", "SMTP_HOST": "smtp.example.cn", "SMTP_PORT": "465", "SMTP_TLS": "implicit"}
    settings = MessagingSettings.load({**MESSAGING, **relay, "SMTP_SECRET": "arn:aws-cn:secretsmanager:x"})
    assert (settings.smtp_port, settings.smtp_tls) == (465, "implicit")


def test_an_unknown_email_channel_is_refused() -> None:
    with pytest.raises(SettingsInvalid, match="EMAIL_CHANNEL"):
        MessagingSettings.load({**MESSAGING, "EMAIL_CHANNEL": "pigeon"})


def test_a_port_out_of_range_is_refused_by_name() -> None:
    with pytest.raises(SettingsInvalid, match="SMTP_PORT must be a port number"):
        MessagingSettings.load({**MESSAGING, "EMAIL_CHANNEL": "ses", "SMTP_PORT": "70000"})


def test_loaded_settings_are_frozen_and_equal_by_value() -> None:
    """The composition root caches what it builds by the settings: equal environments, one cache entry."""
    env = {**BASE, "REPORT_QUEUE_URL": "https://q"}
    first, again = CloseSettings.load(env), CloseSettings.load(dict(env))
    assert first == again and hash(first) == hash(again)
    assert first != CloseSettings.load({**env, "REPORT_QUEUE_URL": "https://other"})
    with pytest.raises(AttributeError):
        first.cases_table = "x"


def test_an_empty_ses_region_is_the_functions_own_region() -> None:
    """template.yaml documents SesRegion "" as the stack's region: a function deployed so must start (issue 20)."""
    own = {**MESSAGING, "EMAIL_CHANNEL": "ses", "SES_REGION": "", "AWS_REGION": "ap-southeast-1"}
    assert MessagingSettings.load(own).ses_region == "ap-southeast-1"
    assert MessagingSettings.load({**own, "SES_REGION": "us-east-1"}).ses_region == "us-east-1"
    with pytest.raises(SettingsInvalid, match="SES_REGION is empty and AWS_REGION is not set"):
        MessagingSettings.load({k: v for k, v in own.items() if k != "AWS_REGION"})
