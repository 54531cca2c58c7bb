"""Where ``odr doctor`` finds a deployment, and the AWS calls its checks make (all through
:func:`odr_adapter.data_access.clients.client`, as every store does).

A deployed stack is named by its stack name: CloudFormation lists its functions and alarms (ListStackResources,
paginated: DescribeStackResources stops at 100 and a stack of this template holds more) and its ``ApiUrl``
output; each function's environment comes from GetFunctionConfiguration. The local stack has no CloudFormation
stack: its env file (``--env-file build/local-stack.env``) names the alarms (``ODR_ALARMS``) and the API
(``ODR_API_URL``), and its functions are every function of the emulator.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from odr_adapter.data_access.clients import client
from odr_cli.stores import required

FUNCTION = "AWS::Lambda::Function"
ALARM = "AWS::CloudWatch::Alarm"
LOCAL_PREFIX = "odr-local-"  # the local stack names each resource <stack>-<logical id>, its stack odr-local


@dataclass(frozen=True)
class Deployment:
    name: str  # the stack's name, or "the local stack"
    region: str
    functions: dict[str, dict[str, str]]  # function name -> its environment variables
    alarms: list[str]  # the alarm names the stack declares
    api_url: str  # the API's base URL, stage included
    labels: dict[str, str] = field(default_factory=dict)  # function name -> how its lines name it (its logical id)
    merged: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        merged: dict[str, str] = {}
        for variables in self.functions.values():
            for key, value in variables.items():
                if value and not merged.get(key):
                    merged[key] = value
        object.__setattr__(self, "merged", merged)

    def label(self, function: str) -> str:
        return self.labels.get(function, function)

    def value(self, variable: str) -> str:
        """A variable as the functions that have it set it (the template gives each one value for all)."""
        return self.merged.get(variable, "")


def deployed(stack_name: str, region: str | None) -> Deployment:
    cfn = client("cloudformation", region)
    resources = [
        r for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        for r in page["StackResourceSummaries"]
    ]  # fmt: skip
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    lam = client("lambda", region)
    functions = {
        r["PhysicalResourceId"]: lam.get_function_configuration(FunctionName=r["PhysicalResourceId"])
        .get("Environment", {})
        .get("Variables", {})
        for r in resources
        if r["ResourceType"] == FUNCTION
    }
    alarms = sorted(r["PhysicalResourceId"] for r in resources if r["ResourceType"] == ALARM)
    labels = {r["PhysicalResourceId"]: r["LogicalResourceId"] for r in resources if r["ResourceType"] == FUNCTION}
    return Deployment(stack_name, cfn.meta.region_name, functions, alarms, outputs.get("ApiUrl", ""), labels)


def local() -> Deployment:
    """The local stack, from its env file's variables (already in the environment)."""
    api_url = required("ODR_API_URL")  # an env file written before odr doctor existed lacks it: restart the stack
    alarms = [a for a in required("ODR_ALARMS").split(",") if a]
    lam = client("lambda")
    functions: dict[str, dict[str, str]] = {}
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            functions[fn["FunctionName"]] = fn.get("Environment", {}).get("Variables", {})
    labels = {name: name.removeprefix(LOCAL_PREFIX) for name in functions}
    return Deployment("the local stack", lam.meta.region_name, functions, alarms, api_url, labels)


def invoke(function: str, event: dict[str, Any], region: str) -> tuple[bool, Any]:
    """(answered without a FunctionError, the payload)."""
    got = client("lambda", region).invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = got["Payload"].read()
    try:
        body = json.loads(payload or b"null")
    except json.JSONDecodeError:
        body = payload.decode("utf-8", "replace")
    return "FunctionError" not in got, body


def alarm_states(names: list[str], region: str) -> dict[str, tuple[str, str]]:
    """Alarm name -> (state, reason) for those of ``names`` that exist."""
    cloudwatch = client("cloudwatch", region)
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        pages = cloudwatch.get_paginator("describe_alarms").paginate(AlarmNames=names[start : start + 100])
        for page in pages:
            for alarm in page["MetricAlarms"] + page.get("CompositeAlarms", []):
                found[alarm["AlarmName"]] = (alarm["StateValue"], alarm.get("StateReason", ""))
    return found


def ses_verification(identities: list[str], region: str) -> dict[str, str]:
    """Identity -> its SES verification status (``Success`` when verified); an identity SES does not know is absent."""
    got = client("ses", region).get_identity_verification_attributes(Identities=identities)
    return {k: v.get("VerificationStatus", "") for k, v in got["VerificationAttributes"].items()}


def http_get(url: str, timeout: float = 10.0) -> int:
    """The HTTP status of an unauthenticated GET (an error status is an answer too)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
