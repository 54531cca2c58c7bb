"""The confirmation queue of a local stack without triggers: what the SQS event source mapping would do."""

from __future__ import annotations

import json

from odr_local.stack import LocalStack


def send_confirmations(stack: LocalStack) -> int:
    """Hand every queued confirmation to SendConfirmationFunction (the real handler), as its SQS trigger would;
    a message whose handling failed stays queued. Returns how many were sent on."""
    sqs, url = stack.client("sqs"), stack.deployment.ref("ConfirmationQueue")
    lam = stack.client("lambda")
    done = 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            return done
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:123456789012:ConfirmationQueue",
                "awsRegion": "cn-north-1",
            }
            for m in got
        ]
        answer = lam.invoke(
            FunctionName=stack.deployment.ref("SendConfirmationFunction"),
            Payload=json.dumps({"Records": records}).encode(),
        )
        failed = {
            f["itemIdentifier"] for f in json.loads(answer["Payload"].read() or b"{}").get("batchItemFailures", [])
        }
        for m in got:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                done += 1
