"""The offline IAM evaluator (odr_local.iam): wildcards, Deny, NotResource, SAM policy templates resolved for
the China partition, and what it refuses to judge."""

from __future__ import annotations

from typing import Any

import pytest

from odr_local.iam import Statement, allows, expand_policy_template, function_statements, wildcard_match
from odr_local.template import Resolver

TABLE = "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/odr-local-CasesTable"


def resolver() -> Resolver:
    r = Resolver(
        {"AWS::Partition": "aws-cn", "AWS::Region": "cn-north-1", "AWS::AccountId": "123456789012"},
        {"SenderEmail": "odr@example.gov.cn"},
    )
    r.refs["CasesTable"] = "odr-local-CasesTable"
    r.refs["ReportQueue"] = "http://127.0.0.1:5000/123456789012/odr-local-ReportQueue"
    r.attrs[("CasesTable", "Arn")] = TABLE
    r.attrs[("ReportQueue", "QueueName")] = "odr-local-ReportQueue"
    return r


def test_wildcards_are_iam_s() -> None:
    assert wildcard_match("sqs:SendMessage*", "sqs:SendMessage")
    assert wildcard_match("sqs:SendMessage*", "sqs:SendMessageBatch")
    assert wildcard_match("SQS:sendmessage", "sqs:SendMessage", ignore_case=True)
    assert not wildcard_match("SQS:sendmessage", "sqs:SendMessage")  # resources are case-sensitive
    assert wildcard_match("arn:aws-cn:ses:*:1:identity/*", "arn:aws-cn:ses:ap-southeast-1:1:identity/a.cn")
    assert not wildcard_match("arn:aws-cn:ses:*:1:identity/*", "arn:aws:ses:ap-southeast-1:1:identity/a.cn")
    assert wildcard_match("table/t?", "table/t1") and not wildcard_match("table/t?", "table/t12")
    assert not wildcard_match("a.b", "axb")  # a dot is a dot


def test_the_crud_template_grants_scan_and_delete_on_the_table_and_every_index() -> None:
    statements = function_statements([{"DynamoDBCrudPolicy": {"TableName": {"Ref": "CasesTable"}}}], resolver())
    assert allows(statements, "dynamodb:Scan", TABLE)
    assert allows(statements, "dynamodb:DeleteItem", TABLE)
    assert allows(statements, "dynamodb:Query", f"{TABLE}/index/ByDue")
    assert not allows(statements, "dynamodb:Query", TABLE.replace("CasesTable", "StatsTable"))
    assert not allows(statements, "dynamodb:CreateTable", TABLE)


def test_tight_statements_allow_what_they_name_and_nothing_else() -> None:
    policies: list[Any] = [
        {
            "Statement": [
                {
                    "Sid": "CaseItems",
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                    "Resource": {"Fn::GetAtt": ["CasesTable", "Arn"]},
                },
                {
                    "Sid": "DueCases",
                    "Effect": "Allow",
                    "Action": "dynamodb:Query",
                    "Resource": {"Fn::Sub": "${CasesTable.Arn}/index/ByDue"},
                },
            ]
        },
        {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["ReportQueue", "QueueName"]}}},
    ]
    statements = function_statements(policies, resolver())
    assert [s.source for s in statements] == ["Statement CaseItems", "Statement DueCases", "SQSSendMessagePolicy"]
    assert allows(statements, "dynamodb:PutItem", TABLE)
    assert not allows(statements, "dynamodb:Scan", TABLE)
    assert not allows(statements, "dynamodb:Query", TABLE)  # the table itself: only the index is granted
    assert allows(statements, "dynamodb:Query", f"{TABLE}/index/ByDue")
    assert not allows(statements, "dynamodb:Query", f"{TABLE}/index/ByStation")
    queue = "arn:aws-cn:sqs:cn-north-1:123456789012:odr-local-ReportQueue"
    assert allows(statements, "sqs:SendMessage", queue)
    assert not allows(statements, "sqs:SendMessage", queue.replace("aws-cn", "aws"))


def test_not_resource_and_deny() -> None:
    sms = Statement("sms", "Allow", actions=("sns:Publish",), not_resources=("arn:aws-cn:sns:*:*:*",))
    assert allows([sms], "sns:Publish", "*")  # a phone number
    assert not allows([sms], "sns:Publish", "arn:aws-cn:sns:cn-north-1:123456789012:topic")
    deny = Statement("deny", "Deny", actions=("sns:*",), resources=("*",))
    assert not allows([sms, deny], "sns:Publish", "*")
    assert not allows([], "sns:Publish", "*")  # implicit deny


def test_sam_templates_come_from_the_installed_translator() -> None:
    expanded = expand_policy_template("StepFunctionsExecutionPolicy", {"StateMachineName": "m"})
    assert expanded[0]["Action"] == ["states:StartExecution"]
    with pytest.raises(ValueError, match="needs"):
        expand_policy_template("DynamoDBCrudPolicy", {})
    with pytest.raises(ValueError, match="not a SAM policy template"):
        expand_policy_template("NoSuchPolicy", {})


@pytest.mark.parametrize(
    "policy",
    [
        "AmazonDynamoDBFullAccess",
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {}}}]},
        {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::${aws:username}/*"}]},
    ],
)
def test_what_the_evaluator_does_not_read_is_refused(policy: Any) -> None:
    from odr_local.iam import granted_actions

    with pytest.raises(ValueError):
        granted_actions(function_statements([policy], resolver()))
