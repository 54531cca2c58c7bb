"""The local stack is built from template.yaml and nothing else."""

from __future__ import annotations

import copy

import pytest

from odr_local.deploy import Deployer
from odr_local.stack import REGION, LocalStack
from odr_local.template import load_template


def test_every_template_resource_has_a_local_counterpart(stack: LocalStack) -> None:
    template = load_template()
    assert set(stack.deployment.created) == set(template["Resources"])
    assert {t for t in stack.deployment.created.values()} == {r["Type"] for r in template["Resources"].values()}


def test_a_resource_type_without_a_counterpart_stops_the_deployment(stack: LocalStack) -> None:
    template = copy.deepcopy(load_template())
    template["Resources"]["Mystery"] = {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}
    with pytest.raises(NotImplementedError, match="AWS::Kinesis::Stream"):
        Deployer(stack.endpoint, REGION, {}, {}, template=template).deploy()


def test_event_sources_become_local_triggers(stack: LocalStack) -> None:
    d = stack.deployment
    assert {(q.function, q.queue_arn.split(":")[-1]) for q in d.queues} >= {
        (d.ref("IntakeFunction"), d.att("IntakeQueue", "QueueName")),
        (d.ref("ReportBackFunction"), d.att("ReportQueue", "QueueName")),
    }
    assert d.ref("PollerFunction") in {s.function for s in d.schedules}
    api_events = {
        (e["Properties"]["Method"].upper(), e["Properties"]["Path"])
        for r in load_template()["Resources"].values()
        for e in r.get("Properties", {}).get("Events", {}).values()
        if e["Type"] == "Api"
    }
    assert api_events and {(r.method, r.path) for r in d.routes} == api_events


def test_arns_are_partition_aware(stack: LocalStack) -> None:
    assert stack.state_machine_arn.startswith("arn:aws-cn:states:cn-north-1:")
    definition = stack.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn)
    assert "arn:aws-cn:lambda:cn-north-1:" in definition["definition"]
    assert "${" not in definition["definition"]


def test_functions_get_the_template_environment(stack: LocalStack) -> None:
    config = stack.client("lambda").get_function_configuration(FunctionName=stack.deployment.ref("IntakeFunction"))
    variables = config["Environment"]["Variables"]
    assert variables["CASES_TABLE"] == stack.deployment.ref("CasesTable")
    assert variables["STATE_MACHINE_ARN"] == stack.state_machine_arn
    assert config["Runtime"] == "python3.11"
