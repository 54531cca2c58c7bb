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


def test_optional_variables_default_to_empty() -> None:
    env = {**BASE, "SENDER_EMAIL": "a@b.cn", "SES_REGION": "cn-north-1", "ACTION_BASE_URL": "https://odr"}
    assert MessagingSettings.load(env).sms_gateway_url == ""
