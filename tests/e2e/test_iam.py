"""IAM proven offline: every AWS call a function made in the e2e scenarios is allowed by that function's
``Policies:`` in template.yaml, and nothing is granted that no scenario uses unless :data:`NOT_REACHED` says
why it is needed.

The calls are recorded on each scenario's stack (:mod:`odr_local.aws_calls`); the policies are expanded and
evaluated by :mod:`odr_local.iam` with that stack's resolver. These tests run after the other e2e modules
(:mod:`tests.e2e.iam_recording`); run alone, they run the conftest's scenarios themselves.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

from odr_local import aws_calls
from odr_local.aws_calls import UNMAPPED, Call, Segment
from odr_local.iam import Statement, allows, function_statements, granted_actions, wildcard_match
from odr_local.runner import ScenarioRun, stack_for
from odr_local.scenario import Scenario
from odr_local.template import Resolver, load_template

pytest_plugins = ["tests.e2e.iam_recording"]

HERE = Path(__file__).parent
TEMPLATE = load_template()
FUNCTIONS = sorted(k for k, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function")
SCENARIOS = {"paths": "paths.yaml", "screening": "screening.yaml", "working_days": "working_days.yaml"}  # conftest
EVERY_SCENARIO = {*SCENARIOS, "counted"}  # with test_counters.py: random complaints, redelivery, the stats API

# Calls into another partition than the stack's. SES is not offered in the China partition: the local stack
# sends from ap-southeast-1 (SesRegion), which an aws-cn role cannot reach (docs/notifications.md, "China
# regions"). They are judged against the policies as a deployment in that partition would resolve them.
OTHER_PARTITION = {"ses:SendEmail", "ses:SendRawEmail"}

# Functions no scenario invokes: their grants are read, not proven.
NOT_INVOKED = {
    "RecordFailureFunction": "the Catch of an unexpected fault; no scenario injects one (tests/integration does)",
}

# SMS goes through Amazon SNS when the SmsGatewayUrl parameter is empty (the default); the local stack sets it
# and sends SMS through the gateway simulator (docs/notifications.md).
SMS_BY_SNS = "SMS through Amazon SNS when SmsGatewayUrl is empty (the default); the scenarios use the gateway"
# E-mail is the channel of a contact without a mobile and the fallback when SMS fails.
MAIL = "e-mail to a contact without a mobile, or after SMS failed: paths.yaml sends these messages by SMS (the random "
"counters scenario may e-mail some)"

# Granted, needed, and not used by any scenario: (function, statement, action) -> why.
NOT_REACHED: dict[tuple[str, str, str], str] = {
    ("NotifyFunction", "SmsToPhoneNumbers", "sns:Publish"): SMS_BY_SNS,
    ("ReminderFunction", "SmsToPhoneNumbers", "sns:Publish"): SMS_BY_SNS,
    ("SendConfirmationFunction", "SmsToPhoneNumbers", "sns:Publish"): SMS_BY_SNS,
    ("ReminderFunction", "SendMailOnly", "ses:SendEmail"): MAIL,
    ("SendConfirmationFunction", "SendMailOnly", "ses:SendEmail"): MAIL,
    ("RecordFailureFunction", "CaseItems", "dynamodb:GetItem"): NOT_INVOKED["RecordFailureFunction"],
    ("RecordFailureFunction", "CaseItems", "dynamodb:PutItem"): NOT_INVOKED["RecordFailureFunction"],
    ("ActionsFunction", "EnterpriseCases", "dynamodb:Query"): "the enterprise API's case list (GET /api/v1/cases); "
    "the scenarios' enterprises act through links (tests/integration call the API)",
    ("ActionsFunction", "EnterpriseCasesRead", "dynamodb:BatchGetItem"): "the cases of a page of the enterprise "
    "API's case list (the index projects keys, status and enterprise); the scenarios' enterprises use links and lists",
    ("ActionsFunction", "AWSSecretsManagerGetSecretValuePolicy", "secretsmanager:GetSecretValue"): "the cursor key "
    "of the enterprise API's case list (GET /api/v1/cases); the scenarios' enterprises act through links and lists",
    ("WorklistsFunction", "EndWaits", "states:SendTaskFailure"): "a decline from a worklist: paths.yaml's specialist "
    "declines through the message's link",
    ("WorklistsFunction", "SmsToPhoneNumbers", "sns:Publish"): SMS_BY_SNS,
    ("CountersFunction", "SQSSendMessagePolicy", "sqs:SendMessage*"): "Lambda sends a batch that keeps failing to "
    "the stream mapping's OnFailure queue with the function's role; the scenarios' batches all succeed",
    ("ProgressFunction", "StreamFailures", "sqs:SendMessage"): "Lambda sends a batch that keeps failing to the "
    "stream mapping's OnFailure queue with the function's role; the scenarios' batches all succeed",
    ("SweeperFunction", "CaseItems", "dynamodb:GetItem"): "healing: only a case that owes a callback or a "
    "confirmation for minutes (a failed call to AWS) is read again; the scenarios' calls do not fail",
    ("SweeperFunction", "EndWaits", "states:SendTaskSuccess"): "healing: a callback owed after a failed call",
    ("SweeperFunction", "EndWaits", "states:SendTaskFailure"): "healing: a withdrawal's end of the wait owed",
    ("SweeperFunction", "SQSSendMessagePolicy", "sqs:SendMessage*"): "healing: a confirmation owed, queued again",
    ("SweeperFunction", "CaseItems", "dynamodb:PutItem"): "healing: a restart's next execution name recorded (a "
    "workflow that ended before its first step); the scenarios' workflows all start",
    ("SweeperFunction", "StartWorkflows", "states:StartExecution"): "healing: a workflow owed for minutes started "
    "(again); the scenarios' first steps all run within seconds",
    ("ScorecardFunction", "SmsToPhoneNumbers", "sns:Publish"): SMS_BY_SNS,
    ("ScorecardFunction", "AWSSecretsManagerGetSecretValuePolicy", "secretsmanager:GetSecretValue"): "the SMS "
    "gateway's token, read for a first SMS: the monthly scorecard goes by e-mail first, and every sample enterprise "
    "has an address (SMS when it has none, or e-mail fails)",
}


def _run_here(label: str, scenario_file: str) -> None:
    from .iam_recording import remember  # imported by pytest_plugins first (so pytest may rewrite it)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    scenario = Scenario.load(HERE / scenario_file)
    stack = stack_for(scenario)
    try:
        ScenarioRun(scenario, stack, io.StringIO()).run()
    finally:
        stack.stop()
    remember(label, stack)


@pytest.fixture(scope="module")
def segments() -> list[Segment]:
    """The recorded stacks with their resolvers; the conftest's scenarios run here if they did not before."""
    done = {s.label for s in aws_calls.SEGMENTS if s.resolver is not None}
    for label, scenario_file in SCENARIOS.items():
        if label not in done:
            _run_here(label, scenario_file)
    return [s for s in aws_calls.SEGMENTS if s.resolver is not None]


def _partition(arn: str) -> str | None:
    return arn.split(":", 2)[1] if arn.startswith("arn:") else None


_statements: dict[tuple[int, str, str], list[Statement]] = {}


def statements(segment: Segment, function: str, partition: str | None = None) -> list[Statement]:
    """The function's statements as resolved on the segment's stack (or as a stack in ``partition`` would)."""
    resolver: Resolver = segment.resolver
    partition = partition or resolver.refs["AWS::Partition"]
    key = (id(segment), function, partition)
    if key not in _statements:
        if partition != resolver.refs["AWS::Partition"]:
            other = Resolver({}, {})
            other.refs, other.attrs = {**resolver.refs, "AWS::Partition": partition}, resolver.attrs
            other.conditions = resolver.conditions
            resolver = other
        policies = TEMPLATE["Resources"][function]["Properties"].get("Policies", [])
        _statements[key] = function_statements(policies, resolver)
    return _statements[key]


def calls_of(function: str, segments: list[Segment]) -> list[tuple[Segment, Call]]:
    return [(s, c) for s in segments for c in s.calls if c.function == function]


def judged(segment: Segment, call: Call) -> list[Statement]:
    """The statements a call is judged against: resolved in the partition of the resource it names."""
    partition = _partition(call.resource)
    if partition and partition != segment.resolver.refs["AWS::Partition"] and call.action in OTHER_PARTITION:
        return statements(segment, call.function, partition)
    return statements(segment, call.function)


def full_run(segments: list[Segment]) -> bool:
    return {s.label for s in segments} >= EVERY_SCENARIO


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_call_is_allowed_by_the_function_policies(function: str, segments: list[Segment]) -> None:
    denied = []
    for segment, call in calls_of(function, segments):
        where = f"{call.action} on {call.resource} ({segment.label})"
        if call.resource == UNMAPPED:
            denied.append(f"{where}: the recorder cannot name the resource; teach odr_local.aws_calls")
            continue
        partition = _partition(call.resource)
        if partition and partition != segment.resolver.refs["AWS::Partition"] and call.action not in OTHER_PARTITION:
            denied.append(f"{where}: a call into another partition")
        if not allows(judged(segment, call), call.action, call.resource):
            denied.append(where)
    assert not denied, f"{function}'s Policies in template.yaml do not allow:\n" + "\n".join(denied)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_granted_action_is_used_or_listed_with_its_reason(function: str, segments: list[Segment]) -> None:
    calls = calls_of(function, segments)
    if not calls and function not in NOT_INVOKED:
        if full_run(segments):
            pytest.fail(f"no scenario made {function} call AWS: its grants are unproven (or list it in NOT_INVOKED)")
        pytest.skip(f"{function} made no AWS call in the scenarios of this session (run the whole tests/e2e)")
    unused, listed_but_used = [], []
    resolved = statements(segments[0], function)
    for statement, action in granted_actions(resolved):
        index = resolved.index(statement)
        using = [
            segment
            for segment, call in calls
            if wildcard_match(action, call.action, ignore_case=True)
            and judged(segment, call)[index].matches_resource(call.resource)
        ]
        key = (function, statement.source.removeprefix("Statement "), action)
        if not using and key not in NOT_REACHED:
            unused.append(f"{action} ({statement.source})")
        if key in NOT_REACHED and any(segment.label in SCENARIOS for segment in using):
            listed_but_used.append(f"{action} ({statement.source})")  # a fixed scenario uses it: not a gap
    assert not unused, f"{function} is granted what no scenario uses (tighten template.yaml or list it in NOT_REACHED "
    f"with the reason): {unused}"
    assert not listed_but_used, f"{function}: NOT_REACHED lists what a fixed scenario uses: {listed_but_used}"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_resource_a_statement_names_is_used(function: str, segments: list[Segment]) -> None:
    """An action used on one resource of a statement does not justify its other resources (a table's indexes)."""
    calls = calls_of(function, segments)
    if not calls:
        pytest.skip(NOT_INVOKED.get(function, f"{function} made no AWS call in the scenarios of this session"))
    unused = []
    for index, statement in enumerate(statements(segments[0], function)):
        if statement.effect != "Allow" or statement.not_resources:
            continue
        for pattern_number, _ in enumerate(statement.resources):
            used = False
            for segment, call in calls:
                resolved = judged(segment, call)[index]
                if resolved.matches_action(call.action) and wildcard_match(
                    resolved.resources[pattern_number], call.resource
                ):
                    used = True
                    break
            key_actions = [(function, statement.source.removeprefix("Statement "), a) for a in statement.actions]
            if not used and not all(k in NOT_REACHED for k in key_actions):
                unused.append(f"{statement.resources[pattern_number]} ({statement.source})")
    assert not unused, f"{function} is granted resources no scenario uses: {unused}"


def test_the_recorder_leaves_out_what_aws_does_itself(segments: list[Segment]) -> None:
    """Step Functions invokes the steps and the event source mappings receive and delete messages with roles of
    their own (or SAM's managed ones): none of it is a function's call."""
    aws_own = {"lambda:InvokeFunction", "sqs:ReceiveMessage", "sqs:DeleteMessage", "dynamodb:GetRecords"}
    seen: dict[str, Any] = {c.action: c for s in segments for c in s.calls if c.action in aws_own}
    assert not seen
    assert {c.function for s in segments for c in s.calls} <= set(FUNCTIONS)
