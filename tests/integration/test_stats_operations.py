"""The operations dashboard and alarms of template.yaml: valid, naming only metrics that exist (emitted by our
code with those dimensions, or published by AWS), on resources of the right kind, each alarm to AlarmTopic with
a runbook section; and they deploy on the local stack's emulated CloudWatch."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from odr_local.stack import LocalStack
from odr_local.template import ROOT, TEMPLATE, Resolver, load_template

# The AWS metrics the dashboard and alarms may use, with the dimension each is published under (AWS docs:
# "Available CloudWatch metrics for Amazon SQS", "Monitoring Step Functions metrics", "Lambda function metrics").
AWS_METRICS: dict[str, tuple[set[str], str, str]] = {
    "AWS/SQS": (
        {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"},
        "QueueName",
        "AWS::SQS::Queue",
    ),
    "AWS/States": (
        {"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"},
        "StateMachineArn",
        "AWS::Serverless::StateMachine",
    ),
    "AWS/Lambda": (
        {"Errors", "Invocations", "Throttles", "Duration", "IteratorAge"},
        "FunctionName",
        "AWS::Serverless::Function",
    ),
}
REQUIRED_ALARMS = {
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "IntakeDeadLetterQueue"),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "ReportDeadLetterQueue"),
    ("OdrAdapter", "RecordsSeen", "poller"),
    ("AWS/Lambda", "Errors", "PollerFunction"),
    ("AWS/States", "ExecutionsFailed", "CaseWorkflow"),
    ("OdrAdapter", "CalendarFallbackUsed", "screen"),
    ("OdrAdapter", "ReportBackFailed", "report_back"),
}


@dataclass
class Emitter:
    """A module that publishes metrics: the string constants in it, and the dimensions it sets."""

    path: Path
    strings: set[str] = field(default_factory=set)
    dimensions: dict[str, set[str]] = field(default_factory=dict)  # name -> values


def emitters() -> list[Emitter]:
    """Each function's app.py: its metrics go out under the service template.yaml names it (Observed), and
    ``obs.measure(...)`` adds the dimensions it names (a constant, or any value set at run time)."""
    services = {
        str(props["Properties"]["CodeUri"]).rstrip("/"): props["Properties"]["Environment"]["Variables"]
        for props in RESOURCES.values()
        if props["Type"] == "AWS::Serverless::Function"
    }
    out = []
    for path in ROOT.glob("functions/*/app.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        emitter = Emitter(path)
        emitter.strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        service = services[f"functions/{path.parent.name}"]["POWERTOOLS_SERVICE_NAME"]
        emitter.dimensions["service"] = {service}
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "measure":
                for keyword in call.keywords:
                    values = emitter.dimensions.setdefault(str(keyword.arg), set())
                    if isinstance(keyword.value, ast.Constant):
                        values.add(str(keyword.value.value))
                    else:  # set at run time: any value
                        values.clear()
        out.append(emitter)
    return out


RESOURCES: dict[str, Any] = load_template()["Resources"]
EMITTERS = emitters()


class Placeholders(dict[tuple[str, str], str]):
    """GetAtt values that say what they stand for: ``<Resource>.<Attribute>``."""

    def __missing__(self, key: tuple[str, str]) -> str:
        assert key[0] in RESOURCES, f"{key[0]} is not a resource of the template"
        return f"<{key[0]}.{key[1]}>"


def resolver() -> Resolver:
    r = Resolver({"AWS::Region": "<region>", "AWS::StackName": "<stack>", "AWS::Partition": "<partition>"}, {})
    r.refs.update({logical_id: f"<{logical_id}>" for logical_id in RESOURCES})
    r.attrs = Placeholders()
    return r


def resource_of(value: str) -> tuple[str, str]:
    """(logical id, its type) of a placeholder such as ``<IntakeDeadLetterQueue.QueueName>``."""
    match = re.fullmatch(r"<(\w+)(?:\.\w+)?>", value)
    assert match, f"{value!r} is not a reference to a template resource"
    return match.group(1), RESOURCES[match.group(1)]["Type"]


def check_metric(namespace: str, name: str, dimensions: dict[str, str]) -> None:
    if namespace == "OdrAdapter":
        candidates = [e for e in EMITTERS if name in e.strings]
        assert candidates, f"no function publishes {name}"
        assert any(
            all(
                dim in e.dimensions and (not e.dimensions[dim] or value in e.dimensions[dim])
                for dim, value in dimensions.items()
            )
            for e in candidates
        ), f"{name} is not published with dimensions {dimensions} ({[str(e.path) for e in candidates]})"
        return
    assert namespace in AWS_METRICS, f"unexpected namespace {namespace}"
    names, dimension, resource_type = AWS_METRICS[namespace]
    assert name in names, f"{namespace} has no metric {name}"
    assert list(dimensions) == [dimension], f"{namespace} {name} is published by {dimension}, not {list(dimensions)}"
    assert resource_of(dimensions[dimension])[1] == resource_type


def dashboard() -> dict[str, Any]:
    body = resolver().resolve(RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"])
    document: dict[str, Any] = json.loads(body)
    return document


def metric_rows(widget: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    namespace = name = ""
    for row in widget["properties"].get("metrics", []):
        parts = [p for p in row if isinstance(p, str)]
        namespace = namespace if parts[0] == "." else parts[0]
        name = name if parts[1] == "." else parts[1]
        rows.append((namespace, name, dict(zip(parts[2::2], parts[3::2], strict=True))))
    return rows


def test_the_template_passes_cfn_lint() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run([str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_metric_on_the_dashboard_exists() -> None:
    widgets = dashboard()["widgets"]
    rows = [row for w in widgets if w["type"] == "metric" for row in metric_rows(w)]
    assert len(rows) >= 30
    for namespace, name, dimensions in rows:
        check_metric(namespace, name, dimensions)
    titles = " / ".join(w["properties"].get("title", "") for w in widgets).lower()
    for topic in ("ingestion lag", "new cases", "by status", "overdue", "notifications", "dead-letter", "executions"):
        assert topic in titles
    assert "report-back failures" in titles
    assert {w["properties"]["region"] for w in widgets if w["type"] == "metric"} == {"<region>"}


def test_the_dashboard_shows_every_alarm() -> None:
    alarm_widget = next(w for w in dashboard()["widgets"] if w["type"] == "alarm")
    shown = {resource_of(a)[0] for a in alarm_widget["properties"]["alarms"]}
    assert shown == {k for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def runbook_anchors() -> set[str]:
    text = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    return {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-") for h in re.findall(r"^#+ (.+)$", text, re.M)
    }


@pytest.mark.parametrize("logical_id", [k for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"])
def test_each_alarm_watches_an_existing_metric_notifies_the_topic_and_has_a_runbook_section(logical_id: str) -> None:
    props = resolver().resolve(RESOURCES[logical_id]["Properties"])
    dimensions = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
    check_metric(props["Namespace"], props["MetricName"], dimensions)
    assert props["AlarmActions"] == props["OKActions"] == ["<AlarmTopic>"]
    assert props["TreatMissingData"] in ("breaching", "notBreaching")
    anchor = re.search(r"docs/runbook\.md#([\w-]+)", props["AlarmDescription"])
    assert anchor and anchor.group(1) in runbook_anchors()


def test_the_alarms_the_operators_need_are_there() -> None:
    present = set()
    for props in (v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::CloudWatch::Alarm"):
        resolved = resolver().resolve(props)
        (value,) = [d["Value"] for d in resolved["Dimensions"]]
        target = resource_of(value)[0] if value.startswith("<") else value
        present.add((resolved["Namespace"], resolved["MetricName"], target))
    assert present >= REQUIRED_ALARMS
    stale = RESOURCES["PollerStaleAlarm"]["Properties"]
    assert (stale["Statistic"], stale["ComparisonOperator"], stale["TreatMissingData"]) == (
        "SampleCount",
        "LessThanThreshold",
        "breaching",  # no data at all is the stale poller
    )


def test_arns_in_the_template_are_partition_aware() -> None:
    assert not re.search(r"arn:aws[:-]", TEMPLATE.read_text(encoding="utf-8"))


def test_the_alarms_and_the_dashboard_deploy_on_the_local_stack(stack: LocalStack) -> None:
    cloudwatch = stack.client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    stale = alarms["odr-local-PollerStaleAlarm"]
    assert (stale["Namespace"], stale["MetricName"], stale["Threshold"]) == ("OdrAdapter", "RecordsSeen", 1.0)
    assert stale["AlarmActions"] == [stack.deployment.ref("AlarmTopic")]
    assert stack.deployment.ref("AlarmTopic").startswith("arn:aws-cn:sns:cn-north-1:")
    failed = alarms["odr-local-ExecutionsFailedAlarm"]
    assert failed["Dimensions"] == [{"Name": "StateMachineArn", "Value": stack.state_machine_arn}]
    body = json.loads(cloudwatch.get_dashboard(DashboardName="odr-local-operations")["DashboardBody"])
    shown = next(w for w in body["widgets"] if w["type"] == "alarm")["properties"]["alarms"]
    alarm_ids = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"]
    assert shown == [stack.deployment.att(a, "Arn") for a in alarm_ids]
    assert all(arn.startswith("arn:aws-cn:cloudwatch:cn-north-1:") for arn in shown)
    queues = [row[3] for w in body["widgets"] for row in w["properties"].get("metrics", []) if row[0] == "AWS/SQS"]
    dead_letter = ("IntakeDeadLetterQueue", "ReportDeadLetterQueue", "CountersDeadLetterQueue")
    assert queues == [stack.deployment.att(q, "QueueName") for q in dead_letter]
