"""The recorder of the functions' AWS calls (odr_local.aws_calls): the action and resource IAM authorizes for
each call, and which calls are a function's."""

from __future__ import annotations

from pathlib import Path

import botocore.session
from botocore.handlers import BUILTIN_HANDLERS
from botocore.stub import Stubber

from odr_local import aws_calls
from odr_local.aws_calls import UNMAPPED, Call, iam_requests
from odr_local.invoker import LocalFunction, running

CN = "cn-north-1"
TABLE = "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/cases"


def test_dynamodb_items_indexes_and_transactions() -> None:
    assert iam_requests("dynamodb", "GetItem", {"TableName": "cases"}, CN) == [("dynamodb:GetItem", TABLE)]
    assert iam_requests("dynamodb", "Query", {"TableName": "cases", "IndexName": "ByDue"}, CN) == [
        ("dynamodb:Query", f"{TABLE}/index/ByDue")
    ]
    items = [
        {"Put": {"TableName": "stats"}},
        {"Update": {"TableName": "cases"}},
        {"ConditionCheck": {"TableName": TABLE}},
    ]
    assert iam_requests("dynamodb", "TransactWriteItems", {"TransactItems": items}, CN) == [
        ("dynamodb:PutItem", TABLE.replace("cases", "stats")),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:ConditionCheckItem", TABLE),
    ]
    assert iam_requests("dynamodb", "BatchWriteItem", {"RequestItems": {"cases": []}}, CN) == [
        ("dynamodb:BatchWriteItem", TABLE)
    ]


def test_queues_state_machines_secrets_and_sms() -> None:
    url = "http://127.0.0.1:5000/123456789012/odr-local-ReportQueue"
    assert iam_requests("sqs", "SendMessageBatch", {"QueueUrl": url}, CN) == [
        ("sqs:SendMessage", "arn:aws-cn:sqs:cn-north-1:123456789012:odr-local-ReportQueue")
    ]
    machine = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m"
    assert iam_requests("states", "StartExecution", {"stateMachineArn": machine}, CN) == [
        ("states:StartExecution", machine)
    ]
    secret = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:s-AbCdEf"
    assert iam_requests("secretsmanager", "GetSecretValue", {"SecretId": secret}, CN) == [
        ("secretsmanager:GetSecretValue", secret)
    ]
    assert iam_requests("sns", "Publish", {"PhoneNumber": "+8613800000000", "Message": "m"}, CN) == [
        ("sns:Publish", "*")
    ]
    assert iam_requests("sns", "Publish", {"Message": "m"}, CN) == [("sns:Publish", UNMAPPED)]
    assert iam_requests("lambda", "Invoke", {"FunctionName": "f"}, CN) == [
        ("lambda:InvokeFunction", "arn:aws-cn:lambda:cn-north-1:123456789012:function:f")
    ]
    assert iam_requests("s3", "GetObject", {"Bucket": "b", "Key": "k"}, CN) == [("s3:GetObject", UNMAPPED)]


def test_mail_is_authorized_on_the_sender_identity_in_the_ses_region() -> None:
    source = "区市场监督管理局 <odr-noreply@jinshan.example.gov.cn>"
    assert iam_requests("ses", "SendEmail", {"Source": source}, "ap-southeast-1") == [
        ("ses:SendEmail", "arn:aws:ses:ap-southeast-1:123456789012:identity/jinshan.example.gov.cn")
    ]


def test_only_a_running_function_s_calls_are_recorded_and_not_the_emulator_s() -> None:
    aws_calls.install(BUILTIN_HANDLERS)
    segment = aws_calls.begin("unit")
    client = botocore.session.get_session().create_client(
        "sqs", region_name=CN, aws_access_key_id="k", aws_secret_access_key="s"
    )
    url = "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q"
    fn = LocalFunction("CloseFunction", "odr-local-CloseFunction", Path("."), "app.handler", 3)
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("send_message", {"MessageId": "1"}, {"QueueUrl": url, "MessageBody": "b"})
        client.send_message(QueueUrl=url, MessageBody="b")  # the harness's call
        with running(fn):
            client.send_message(QueueUrl=url, MessageBody="b")
            with aws_calls.answering():
                client.send_message(QueueUrl=url, MessageBody="b")  # the emulator's own doing
    queue = "arn:aws-cn:sqs:cn-north-1:123456789012:q"
    assert dict(segment.calls) == {Call("CloseFunction", "sqs:SendMessage", queue): 1}
