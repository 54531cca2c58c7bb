"""Creates every resource of template.yaml on the local AWS emulation.

Each resource type has a creator here; a type without one stops the deployment (and fails a test), so the
local stack cannot silently drift from the template. SAM event sources become local pumps and triggers.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from .cron import Cron
from .invoker import FUNCTIONS, LocalFunction
from .template import ROOT, Resolver, load_template

STACK = "odr-local"
ACCOUNT = "123456789012"


@dataclass
class ApiRoute:
    method: str
    path: str
    function: str

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path) + "$")


@dataclass
class QueueTrigger:
    queue_url: str
    queue_arn: str
    function: str
    batch_size: int


@dataclass
class StreamTrigger:
    stream_arn: str
    function: str
    batch_size: int
    filters: list[dict[str, Any]] = field(default_factory=list)  # FilterCriteria patterns; none: every record


@dataclass
class ScheduleTrigger:
    """A rate (every ``rate_seconds``) or a cron expression (EventBridge's, in UTC)."""

    function: str
    rate_seconds: float | None = None
    cron: Cron | None = None


@dataclass
class Deployment:
    resolver: Resolver
    created: dict[str, str] = field(default_factory=dict)  # logical id -> type
    routes: list[ApiRoute] = field(default_factory=list)
    queues: list[QueueTrigger] = field(default_factory=list)
    streams: list[StreamTrigger] = field(default_factory=list)
    schedules: list[ScheduleTrigger] = field(default_factory=list)

    def ref(self, logical_id: str) -> str:
        return self.resolver.refs[logical_id]

    def att(self, logical_id: str, attr: str) -> str:
        return self.resolver.attrs[(logical_id, attr)]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# the local stack runs the real handler in-process\n")
    return buffer.getvalue()


def _rate_seconds(expression: str) -> float:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if not match:
        raise ValueError(f"unsupported schedule {expression!r}")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


class Deployer:
    def __init__(
        self,
        endpoint: str,
        region: str,
        parameters: dict[str, str],
        secrets: dict[str, str],
        template: dict[str, Any] | None = None,
    ) -> None:
        self.region = region
        self.partition = boto3.session.Session().get_partition_for_region(region)
        self.endpoint = endpoint
        self.secrets = secrets
        self.template = template or load_template()
        pseudo = {
            "AWS::Region": region,
            "AWS::Partition": self.partition,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
        }
        defaults = {k: str(v.get("Default", "")) for k, v in self.template.get("Parameters", {}).items()}
        conditions = self.template.get("Conditions", {})
        self.deployment = Deployment(Resolver(pseudo, {**defaults, **parameters}, conditions))
        self.creators: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Serverless::Api": self._api,
            "AWS::Serverless::Function": self._function,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Serverless::StateMachine": self._state_machine,
            "AWS::SNS::Topic": self._topic,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::Dashboard": self._dashboard,
        }

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def arn(self, service: str, rest: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{ACCOUNT}:{rest}"

    def deploy(self) -> Deployment:
        """Create resources in dependency order: a resource waits until what it references exists."""
        pending = dict(self.template["Resources"])
        unknown = sorted({r["Type"] for r in pending.values()} - set(self.creators))
        if unknown:
            raise NotImplementedError(f"template resource types without a local counterpart: {unknown}")
        while pending:
            progressed = False
            for logical_id, resource in list(pending.items()):
                try:
                    self.creators[resource["Type"]](logical_id, resource.get("Properties", {}))
                except KeyError:
                    continue  # references something not created yet
                self.deployment.created[logical_id] = resource["Type"]
                del pending[logical_id]
                progressed = True
            if not progressed:
                raise RuntimeError(f"cannot resolve references of {sorted(pending)}")
        return self.deployment

    # -- creators: each sets the Ref / GetAtt values CloudFormation would give -------------------------

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        name = f"{STACK}-{logical_id}"
        args: dict[str, Any] = {
            k: props[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes") if k in props
        }
        got = self.client("dynamodb").create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **args)
        stream = props.get("StreamSpecification")
        if stream:
            got = self.client("dynamodb").update_table(
                TableName=name, StreamSpecification={"StreamEnabled": True, **stream}
            )
        r = self.deployment.resolver
        r.refs[logical_id] = name
        r.attrs[(logical_id, "Arn")] = got["TableDescription"]["TableArn"]
        r.attrs[(logical_id, "StreamArn")] = got["TableDescription"].get("LatestStreamArn", "")

    def _queue(self, logical_id: str, props: dict[str, Any]) -> None:
        resolved = self.deployment.resolver.resolve(props)
        attributes = {k: str(v) for k, v in resolved.items() if k in ("VisibilityTimeout", "MessageRetentionPeriod")}
        if "RedrivePolicy" in resolved:
            attributes["RedrivePolicy"] = json.dumps(resolved["RedrivePolicy"])
        name = f"{STACK}-{logical_id}"
        if str(resolved.get("FifoQueue", "")).lower() == "true":  # CloudFormation names a FIFO queue *.fifo
            attributes["FifoQueue"] = "true"
            name += ".fifo"
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        r = self.deployment.resolver
        r.refs[logical_id] = url
        r.attrs[(logical_id, "Arn")] = self.arn("sqs", name)
        r.attrs[(logical_id, "QueueName")] = name

    def _secret(self, logical_id: str, props: dict[str, Any]) -> None:
        name = f"{STACK}-{logical_id}"
        arn = self.client("secretsmanager").create_secret(
            Name=name, SecretString=self.secrets.get(logical_id, "local")
        )["ARN"]
        self.deployment.resolver.refs[logical_id] = arn

    def _layer(self, logical_id: str, props: dict[str, Any]) -> None:
        # The layer's package is installed in the local environment; moto keeps the version for Ref.
        got = self.client("lambda").publish_layer_version(
            LayerName=f"{STACK}-{logical_id}", Content={"ZipFile": _zip()}, CompatibleRuntimes=["python3.11"]
        )
        self.deployment.resolver.refs[logical_id] = got["LayerVersionArn"]

    def _api(self, logical_id: str, props: dict[str, Any]) -> None:
        api_id = self.client("apigateway").create_rest_api(name=f"{STACK}-{logical_id}")["id"]
        self.deployment.resolver.refs[logical_id] = api_id

    def _role(self, logical_id: str, service: str) -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        got = self.client("iam").create_role(
            RoleName=f"{STACK}-{logical_id}Role", AssumeRolePolicyDocument=json.dumps(trust)
        )
        return str(got["Role"]["Arn"])

    def _function(self, logical_id: str, props: dict[str, Any]) -> None:
        r = self.deployment.resolver
        merged = self._with_globals(props)
        environment = r.resolve(merged.get("Environment", {}).get("Variables", {}))
        layers = r.resolve(merged.get("Layers", []))
        events = merged.get("Events", {})
        for event in events.values():  # resolve before creating anything, so a missing reference defers cleanly
            r.resolve(event.get("Properties", {}))
        name = f"{STACK}-{logical_id}"
        role = self._role(logical_id, "lambda.amazonaws.com")
        got = self.client("lambda").create_function(
            FunctionName=name,
            Runtime=merged["Runtime"],
            Role=role,
            Handler=merged["Handler"],
            Code={"ZipFile": _zip()},
            Timeout=int(merged.get("Timeout", 3)),
            MemorySize=int(merged.get("MemorySize", 128)),
            Environment={"Variables": {k: str(v) for k, v in environment.items()}},
            Layers=layers,
        )
        r.refs[logical_id] = name
        r.attrs[(logical_id, "Arn")] = got["FunctionArn"]
        FUNCTIONS[name] = LocalFunction(
            logical_id,
            name,
            ROOT / merged["CodeUri"],
            merged["Handler"],
            int(merged.get("Timeout", 3)),
            environment={k: str(v) for k, v in environment.items()},
        )
        for event in events.values():
            self._event_source(name, event["Type"], r.resolve(event.get("Properties", {})))

    def _event_source(self, function: str, kind: str, props: dict[str, Any]) -> None:
        d = self.deployment
        if kind == "Api":
            d.routes.append(ApiRoute(props["Method"].upper(), props["Path"], function))
        elif kind == "SQS":
            if "FilterCriteria" in props:
                raise NotImplementedError("FilterCriteria on an SQS event source has no local counterpart yet")
            arn = props["Queue"]
            name = arn.rsplit(":", 1)[1]
            url = self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
            d.queues.append(QueueTrigger(url, arn, function, int(props.get("BatchSize", 10))))
        elif kind == "DynamoDB":
            patterns = [json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])]
            d.streams.append(StreamTrigger(props["Stream"], function, int(props.get("BatchSize", 100)), patterns))
        elif kind == "Schedule":
            expression = str(props["Schedule"])
            if expression.startswith("cron("):
                d.schedules.append(ScheduleTrigger(function, cron=Cron.parse(expression)))
            else:
                d.schedules.append(ScheduleTrigger(function, _rate_seconds(expression)))
        else:
            raise NotImplementedError(f"event source {kind} has no local counterpart")

    def _with_globals(self, props: dict[str, Any]) -> dict[str, Any]:
        merged = dict(self.template.get("Globals", {}).get("Function", {}))
        for key, value in props.items():
            if key == "Environment":
                variables = {
                    **merged.get("Environment", {}).get("Variables", {}),
                    **value.get("Variables", {}),
                }
                merged["Environment"] = {"Variables": variables}
            else:
                merged[key] = value
        return merged

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> None:
        resolved = self.deployment.resolver.resolve(props)
        logs = self.client("logs")
        name = resolved["LogGroupName"]
        logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(resolved["RetentionInDays"]))
        self.deployment.resolver.refs[logical_id] = name
        self.deployment.resolver.attrs[(logical_id, "Arn")] = self.arn("logs", f"log-group:{name}:*")

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> None:
        r = self.deployment.resolver
        substitutions = {k: str(v) for k, v in r.resolve(props.get("DefinitionSubstitutions", {})).items()}
        definition = substitute(Path(ROOT / props["DefinitionUri"]).read_text(encoding="utf-8"), substitutions)
        name = f"{STACK}-{logical_id}"
        got = self.client("stepfunctions").create_state_machine(
            name=name,
            definition=definition,
            roleArn=self._role(logical_id, "states.amazonaws.com"),
            type=props.get("Type", "STANDARD"),
        )
        r.refs[logical_id] = got["stateMachineArn"]
        r.attrs[(logical_id, "Name")] = name
        r.attrs[(logical_id, "Arn")] = got["stateMachineArn"]

    def _topic(self, logical_id: str, props: dict[str, Any]) -> None:
        resolved = self.deployment.resolver.resolve(props)
        name = resolved.get("TopicName") or f"{STACK}-{logical_id}"
        attributes = {k: str(resolved[k]) for k in ("DisplayName", "KmsMasterKeyId") if k in resolved}
        arn = self.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self.deployment.resolver.refs[logical_id] = arn
        self.deployment.resolver.attrs[(logical_id, "TopicName")] = name
        self.deployment.resolver.attrs[(logical_id, "TopicArn")] = arn

    def _alarm(self, logical_id: str, props: dict[str, Any]) -> None:
        # CloudFormation's alarm properties are PutMetricAlarm's parameters, but YAML may give numbers as text.
        numbers: dict[str, Callable[[Any], Any]] = {
            "Period": int,
            "EvaluationPeriods": int,
            "DatapointsToAlarm": int,
            "Threshold": float,
        }
        resolved = self.deployment.resolver.resolve(props)
        name = resolved.pop("AlarmName", None) or f"{STACK}-{logical_id}"
        args = {k: numbers[k](v) if k in numbers else v for k, v in resolved.items()}
        self.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
        self.deployment.resolver.refs[logical_id] = name
        self.deployment.resolver.attrs[(logical_id, "Arn")] = self.arn("cloudwatch", f"alarm:{name}")

    def _dashboard(self, logical_id: str, props: dict[str, Any]) -> None:
        resolved = self.deployment.resolver.resolve(props)
        name = resolved.get("DashboardName") or f"{STACK}-{logical_id}"
        body = resolved["DashboardBody"]
        json.loads(body)  # CloudFormation refuses a body that is not JSON; so does the local stack
        self.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body)
        self.deployment.resolver.refs[logical_id] = name


def substitute(definition: str, substitutions: dict[str, str]) -> str:
    """DefinitionSubstitutions: replace each ``${Name}``; an unknown name is an error, as in CloudFormation."""

    def one(match: re.Match[str]) -> str:
        return substitutions[match.group(1)]

    return re.sub(r"\$\{(\w+)\}", one, definition)
