"""Every AWS call a function makes on the local stack, as IAM sees it: (function, action, resource ARN).

A botocore ``before-parameter-build`` handler (every client of the process, installed with :mod:`in_process`)
notes each call made while a thread runs a function (invoker's thread-local current function); calls the emulator makes
while answering one (Step Functions' own Lambda invocations), the event source mappings' receives and deletes,
the runner's and the tests' calls are AWS's or the operator's, not the function role's, and are not noted.

The action is the one IAM authorizes (``sqs:SendMessageBatch`` is ``sqs:SendMessage``; a DynamoDB transaction
is one ``PutItem`` / ``UpdateItem`` / ``DeleteItem`` / ``ConditionCheckItem`` per item, on its table), and the
resource is built from the parameters the way the service does (a table or index ARN, a queue ARN from its URL,
the state machine a task token belongs to, the SES identity of the sender, ``*`` for an SMS to a phone number).
A call is one increment of a counter: the e2e suite runs as fast as before.

Calls are kept per :class:`Segment`: one per local stack (a new one when the stack's emulator is served), so
each is evaluated against the resolved template of its own stack (secret ARNs differ from stack to stack).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import boto3

from . import invoker

ACCOUNT = "123456789012"  # the local stack's account (odr_local.deploy.ACCOUNT)
UNMAPPED = "<unmapped>"  # a call whose resource the recorder cannot build: the IAM test fails on it

_answering = threading.local()  # depth of emulator answers on this thread (in_process sets it)


@dataclass(frozen=True)
class Call:
    function: str  # the function's logical id in template.yaml
    action: str  # service prefix and IAM action, e.g. dynamodb:GetItem
    resource: str  # the resource ARN IAM authorizes the action on, or "*"


@dataclass
class Segment:
    """The calls made on one local stack (its emulator's endpoint)."""

    endpoint: str
    calls: Counter[Call] = field(default_factory=Counter)
    resolver: Any = None  # the stack's template resolver (odr_local.template.Resolver), set by whoever knows it
    label: str = ""  # which scenario ran on the stack, set with the resolver


SEGMENTS: list[Segment] = []
_lock = threading.Lock()


def begin(endpoint: str) -> Segment:
    """A new local stack serves ``endpoint``: its functions' calls are kept apart from the previous stacks'."""
    segment = Segment(endpoint)
    with _lock:
        SEGMENTS.append(segment)
    return segment


def segment_for(endpoint: str) -> Segment | None:
    """The latest segment of the stack at ``endpoint``."""
    return next((s for s in reversed(SEGMENTS) if s.endpoint == endpoint), None)


class answering:
    """Context manager: this thread is the emulator answering a call; calls made meanwhile are AWS's own."""

    def __enter__(self) -> None:
        _answering.depth = getattr(_answering, "depth", 0) + 1

    def __exit__(self, *_: object) -> None:
        _answering.depth -= 1


def _record(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    fn: invoker.LocalFunction | None = getattr(invoker._current, "function", None)
    depth: int = getattr(_answering, "depth", 0)
    if fn is None or depth > 0 or not SEGMENTS:
        return
    service = model.service_model.signing_name
    region = context.get("client_region") or "us-east-1"
    segment = SEGMENTS[-1]
    try:
        found = iam_requests(service, model.name, params, region)
    except Exception:
        found = [(f"{service}:{model.name}", UNMAPPED)]
    for action, resource in found:
        segment.calls[Call(fn.logical_id, action, resource)] += 1


def install(builtin_handlers: list[tuple[str, Any]]) -> None:
    """Register the recorder for every botocore session (called by :func:`in_process.install`)."""
    if ("before-parameter-build", _record) not in builtin_handlers:
        builtin_handlers.append(("before-parameter-build", _record))
    if boto3.DEFAULT_SESSION is not None:
        handler: Any = _record
        boto3.DEFAULT_SESSION._session.unregister("before-parameter-build", handler)
        boto3.DEFAULT_SESSION._session.register("before-parameter-build", handler)


# -- from an API call to what IAM authorizes ------------------------------------------------------------------


@cache
def partition(region: str) -> str:
    return boto3.session.Session().get_partition_for_region(region)


def arn(service: str, region: str, rest: str, account: str = ACCOUNT) -> str:
    return f"arn:{partition(region)}:{service}:{region}:{account}:{rest}"


_RENAMED = {  # API operations that IAM authorizes as another action
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeFunction",
}
_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def iam_requests(service: str, operation: str, params: dict[str, Any], region: str) -> list[tuple[str, str]]:
    """The (action, resource) pairs IAM authorizes for one API call."""
    if service == "dynamodb":
        return _dynamodb(operation, params, region)
    action = f"{service}:{_RENAMED.get((service, operation), operation)}"
    builder = _RESOURCES.get(service)
    try:
        resource = builder(operation, params, region) if builder else UNMAPPED
    except (KeyError, ValueError, IndexError):
        resource = UNMAPPED
    return [(action, resource)]


def _table(name: str, region: str) -> str:
    return name if name.startswith("arn:") else arn("dynamodb", region, f"table/{name}")


def _dynamodb(operation: str, params: dict[str, Any], region: str) -> list[tuple[str, str]]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                action = "GetItem" if kind == "Get" else _TRANSACT.get(kind, kind)
                found.append((f"dynamodb:{action}", _table(body["TableName"], region)))
        return found
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(f"dynamodb:{operation}", _table(name, region)) for name in params.get("RequestItems", {})]
    if operation in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
        return [(f"dynamodb:{operation}", "*")]
    name = params.get("TableName")
    if not name:
        return [(f"dynamodb:{operation}", UNMAPPED)]
    table = _table(name, region)
    index = params.get("IndexName") if operation in ("Query", "Scan") else None
    return [(f"dynamodb:{operation}", f"{table}/index/{index}" if index else table)]


def _sqs(operation: str, params: dict[str, Any], region: str) -> str:
    if operation == "ListQueues":
        return "*"
    if operation == "GetQueueUrl":
        return arn("sqs", region, params["QueueName"], params.get("QueueOwnerAWSAccountId") or ACCOUNT)
    account, name = urlsplit(params["QueueUrl"]).path.strip("/").split("/")[-2:]
    return arn("sqs", region, name, account)


def _states(operation: str, params: dict[str, Any], region: str) -> str:
    if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        return _token_state_machine(params["taskToken"], region)
    for key in ("executionArn", "stateMachineArn", "activityArn", "mapRunArn"):
        if key in params:
            return str(params[key])
    return "*" if operation.startswith("List") else UNMAPPED


def _token_state_machine(token: str, region: str) -> str:
    """The state machine whose execution issued ``token`` (AWS reads it from the token; moto keeps it in the
    execution's callback pool); the region's only state machine when no execution knows the token (any more)."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    machines = list(stepfunctions_parser_backends[ACCOUNT][region].state_machines)
    for machine in machines:
        for execution in machine.executions:
            worker = getattr(execution, "exec_worker", None)
            if worker is not None and worker.env.callback_pool_manager.get(token) is not None:
                return str(machine.arn)
    return str(machines[0].arn) if len(machines) == 1 else UNMAPPED


def _secretsmanager(operation: str, params: dict[str, Any], region: str) -> str:
    secret_id = str(params.get("SecretId", ""))
    if not secret_id:
        return "*" if operation in ("ListSecrets", "GetRandomPassword") else UNMAPPED
    if secret_id.startswith("arn:"):
        return secret_id
    from moto.secretsmanager.models import secretsmanager_backends

    secrets = secretsmanager_backends[ACCOUNT][region].secrets
    return str(secrets[secret_id].arn) if secret_id in secrets else arn("secretsmanager", region, f"secret:{secret_id}")


def _ses(operation: str, params: dict[str, Any], region: str) -> str:
    """Sending is authorized on the verified identity that sends: the sender's address if it is verified
    itself, otherwise its domain."""
    if params.get("SourceArn"):
        return str(params["SourceArn"])
    if not params.get("Source"):
        return UNMAPPED if operation.startswith("Send") else "*"
    address = parseaddr(params["Source"])[1]
    from moto.ses.models import ses_backends

    verified = ses_backends[ACCOUNT][region].email_identities
    identity = address if address in verified else address.rsplit("@", 1)[1]
    return arn("ses", region, f"identity/{identity}")


def _sns(operation: str, params: dict[str, Any], region: str) -> str:
    if operation in ("Publish", "PublishBatch") and params.get("PhoneNumber"):
        return "*"  # an SMS to a phone number: AWS authorizes it on resource "*"
    for key in ("TopicArn", "TargetArn"):
        if params.get(key):
            return str(params[key])
    return UNMAPPED


def _lambda(operation: str, params: dict[str, Any], region: str) -> str:
    name = str(params["FunctionName"])
    return name if name.startswith("arn:") else arn("lambda", region, f"function:{name}")


def _star(operation: str, params: dict[str, Any], region: str) -> str:
    return "*"


_RESOURCES = {
    "sqs": _sqs,
    "states": _states,
    "secretsmanager": _secretsmanager,
    "ses": _ses,
    "sns": _sns,
    "lambda": _lambda,
    "sts": _star,
    "xray": _star,
    "cloudwatch": _star,  # PutMetricData has no resource
}
