"""``sam deploy`` refuses a bad combination of parameters before it creates anything: each samconfig environment
passes template.yaml's parameter constraints and Rules, and each bad combination is refused with its reason."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from odr_local import profiles
from odr_local.parameter_checks import problems
from odr_local.stack import LocalStack
from odr_local.template import load_template

TEMPLATE = load_template()
CHINA = profiles.load("china")
DEFAULT = profiles.load("default")


@pytest.mark.parametrize("name", profiles.names())
def test_every_samconfig_environment_deploys(name: str) -> None:
    profile = profiles.load(name)
    assert problems(TEMPLATE, profile.parameters, profile.region) == []


def test_the_documented_environments_exist() -> None:
    assert {"default", "china"} <= set(profiles.names())
    assert (DEFAULT.region, DEFAULT.parameters["EmailChannel"]) == ("ap-southeast-1", "ses")
    assert (CHINA.region, CHINA.parameters["EmailChannel"]) == ("cn-north-1", "smtp")
    assert CHINA.parameters["SmsGatewayUrl"].startswith("https://")


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1"])
def test_an_aws_china_region_needs_the_smtp_relay(region: str) -> None:
    refused = problems(TEMPLATE, {**CHINA.parameters, "EmailChannel": "ses"}, region)
    assert len(refused) == 1 and refused[0].startswith("rule ChinaRegionsSendBySmtp: An AWS China region has no")
    assert problems(TEMPLATE, {}, region) == refused  # the template's defaults are SES: refused there too
    assert problems(TEMPLATE, {}, "ap-southeast-1") == []


@pytest.mark.parametrize(
    ("missing", "reason"),
    [("SmtpHost", "EmailChannel=smtp needs SmtpHost"), ("SmtpSecretArn", "EmailChannel=smtp needs SmtpSecretArn")],
)
def test_the_smtp_channel_needs_its_relay_and_login(missing: str, reason: str) -> None:
    refused = problems(TEMPLATE, {**CHINA.parameters, missing: ""}, CHINA.region)
    assert len(refused) == 1 and refused[0].startswith(f"rule SmtpNeedsItsRelay: {reason}"), refused
    assert problems(TEMPLATE, {**DEFAULT.parameters, missing: ""}, DEFAULT.region) == []  # SES needs neither


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("EmailChannel", "pigeon"),
        ("SmtpTls", "none"),
        ("FeedBaseUrl", "http://12315.example.gov.cn/api"),
        ("SenderEmail", "odr-noreply"),
        ("SesRegion", "singapore"),
        ("SmtpHost", "smtp.example.cn:465"),
        ("SmtpPort", "70000"),
        ("SmtpPort", "smtp"),
        ("SmtpSecretArn", "odr-smtp-login"),
        ("SmsGatewayUrl", "http://sms.example.cn/send"),
        ("PublicBaseUrl", "odr.jsamr.gov.cn"),
        ("DistrictCode", "31011"),
        ("FeedPollRate", "rate(1"),  # what sam reads of an unquoted FeedPollRate=rate(1 minute)
        ("LogRetentionDays", "7"),
    ],
)
def test_a_malformed_parameter_is_refused_by_name(parameter: str, value: str) -> None:
    refused = problems(TEMPLATE, {**CHINA.parameters, parameter: value}, CHINA.region)
    assert refused and all(r.startswith(f"parameter {parameter}") for r in refused), refused


def test_an_unknown_parameter_is_refused() -> None:
    assert problems(TEMPLATE, {"SesRegoin": "ap-southeast-1"}, "ap-southeast-1") == [
        "parameter SesRegoin does not exist in the template"
    ]


def rule(condition: Any) -> dict[str, Any]:
    declared = {"Parameters": {"A": {"Type": "String"}, "L": {"Type": "CommaDelimitedList"}}}
    return {**declared, "Rules": {"R": {"Assertions": [{"Assert": condition, "AssertDescription": "no"}]}}}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"Fn::Contains": [["a", "b"], {"Ref": "A"}]}, True),
        ({"Fn::Contains": [{"Ref": "L"}, "c"]}, False),
        ({"Fn::EachMemberEquals": [{"Ref": "L"}, "x"]}, False),
        ({"Fn::EachMemberEquals": [["x", "x"], "x"]}, True),
        ({"Fn::EachMemberIn": [{"Ref": "L"}, ["x", "y", "z"]]}, True),
        ({"Fn::EachMemberIn": [{"Ref": "L"}, ["x"]]}, False),
        ({"Fn::And": [{"Fn::Equals": [{"Ref": "A"}, "a"]}, {"Fn::Not": [{"Fn::Equals": ["", {"Ref": "A"}]}]}]}, True),
        ({"Fn::Or": [{"Fn::Equals": [{"Ref": "A"}, "b"]}, {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws"]}]}, True),
        ({"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}, False),
    ],
)
def test_the_rule_functions_as_cloudformation_defines_them(condition: Any, holds: bool) -> None:
    refused = problems(rule(condition), {"A": "a", "L": "x, y"}, "ap-southeast-1")
    assert refused == ([] if holds else ["rule R: no"])


def test_a_rule_whose_condition_is_false_is_not_asserted() -> None:
    template = rule({"Fn::Equals": ["1", "2"]})
    template["Rules"]["R"]["RuleCondition"] = {"Fn::Equals": [{"Ref": "A"}, "on"]}
    assert problems(template, {"A": "off", "L": "x"}, "ap-southeast-1") == []
    assert problems(template, {"A": "on", "L": "x"}, "ap-southeast-1") == ["rule R: no"]


def test_the_local_stack_refuses_what_sam_deploy_refuses_before_starting_anything() -> None:
    with pytest.raises(profiles.ProfileError, match="ChinaRegionsSendBySmtp"):
        LocalStack(datetime.now(UTC), config_env="china", parameters={"EmailChannel": "ses"})
    with pytest.raises(profiles.ProfileError, match="no environment 'staging'"):
        LocalStack(datetime.now(UTC), config_env="staging")
