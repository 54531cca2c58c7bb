"""``odr --env-file build/local-stack.env doctor`` on the shared local stack (EmailChannel=ses, clock in November
2026): it passes when the stack is ready, and each fault, injected and then undone, is named by a ✗ line of its
own with the exit code 1 while every other check still passes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from odr_cli import doctor_aws
from odr_local.invoker import FUNCTIONS
from odr_local.stack import SES_REGION, LocalStack

from .cli_support import REGION, aws_for_cli, odr

DOMAIN = "jinshan.example.gov.cn"
HOLIDAYS_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-10-01,holiday,国庆节\n"
POLICIES_KEY = {"pk": {"S": "CONFIG"}, "sk": {"S": "deadlines"}}
WORKING_ACCEPTANCE = """\
default:
  acceptance: {days: 2, kind: working}
  resolution: {days: 7}
  review: {days: 2}
  rework: {days: 2}
"""


@pytest.fixture(scope="module")
def ready(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack's env file as `make up` writes it, less its clock: in this process the clock is the stack's."""
    path = tmp_path_factory.mktemp("doctor") / "local-stack.env"
    path.write_text("".join(f"{line}\n" for line in stack.env_file().splitlines() if "ODR_LOCAL_CLOCK" not in line))
    return path


@contextmanager
def policies_restored(stack: LocalStack) -> Iterator[None]:
    """The shared stack's deadline policies as they were, whatever the test stored."""
    db, table = stack.client("dynamodb"), stack.deployment.ref("DirectoryTable")
    before = db.get_item(TableName=table, Key=POLICIES_KEY).get("Item")
    try:
        yield
    finally:
        if before is None:
            db.delete_item(TableName=table, Key=POLICIES_KEY)
        else:
            db.put_item(TableName=table, Item=before)


def doctor(capsys: pytest.CaptureFixture[str], env_file: Path) -> tuple[int, list[str], list[str]]:
    """(exit code, ✓ lines, ✗ lines)."""
    got = odr(capsys, "--env-file", env_file, "doctor")
    lines = got.out.splitlines()
    return got.code, [x for x in lines if x.startswith("✓")], [x for x in lines if x.startswith("✗")]


def test_a_ready_stack_passes_every_check(capsys: pytest.CaptureFixture[str], ready: Path) -> None:
    code, passed, failed = doctor(capsys, ready)
    assert (code, failed) == (0, [])
    text = "\n".join(passed)
    assert sum(" starts: its " in x for x in passed) == len(FUNCTIONS) == 21
    for expected in (
        "the 12315 feed token (FEED_TOKEN_SECRET) exists and its functions read it: PollerFunction, ReportBack",
        "the webhook's signing secret (WEBHOOK_SECRET) exists and its functions read it: WebhookFunction",
        "the SMS gateway's token (SMS_GATEWAY_TOKEN_SECRET) exists and its functions read it: NotifyFunction, "
        "ReminderFunction, ScorecardFunction, SendConfirmationFunction, WorklistsFunction",
        f"SES identity {DOMAIN} is verified in {SES_REGION}",
        "the 12315 feed http://127.0.0.1:",
        "stations are loaded: 11, the intake desk JS-INTAKE among them",
        "the ODR directory is loaded: 10 enterprises listed on 2026-11-30",
        "a working-day calendar for 2026: chinese-calendar",
        "a working-day calendar for 2027: none, and none needed (every deadline policy counts natural days)",
        "the 14 alarms exist and none is in ALARM",
        "/prod/api/v1/cases without a key): 401",
    ):
        assert expected in text
    assert "SMTP_SECRET" not in text  # EmailChannel=ses: no function needs the relay's login


def test_next_year_without_a_calendar_then_imported(
    capsys: pytest.CaptureFixture[str], stack: LocalStack, ready: Path, tmp_path: Path
) -> None:
    """Acceptance counted in working days, the stack's clock in November 2026: 2027 needs the operator's table."""
    (tmp_path / "policies.yaml").write_text(WORKING_ACCEPTANCE, encoding="utf-8")
    (tmp_path / "holidays-2027.csv").write_text(HOLIDAYS_2027, encoding="utf-8")
    with policies_restored(stack):
        assert odr(capsys, "--env-file", ready, "policies", "set", tmp_path / "policies.yaml").code == 0
        code, passed, failed = doctor(capsys, ready)
        assert code == 1
        assert len(failed) == 1
        assert failed[0].startswith("✗ a working-day calendar for 2027: chinese-calendar does not cover it")
        assert "fix: odr calendar import FILE --source '<the State Council notice for 2027>'" in failed[0]
        assert "✓ a working-day calendar for 2026: chinese-calendar (chinesecalendar-1.11.0)" in passed
        assert odr(capsys, "--env-file", ready, "calendar", "import", tmp_path / "holidays-2027.csv").code == 0
        code, passed, _ = doctor(capsys, ready)
        assert code == 0
        assert "✓ a working-day calendar for 2027: operator-table (operator:2027)" in passed


def test_a_deleted_secret(capsys: pytest.CaptureFixture[str], stack: LocalStack, ready: Path) -> None:
    secrets, arn = stack.client("secretsmanager"), stack.deployment.ref("FeedTokenSecret")
    secrets.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    try:
        code, _, failed = doctor(capsys, ready)
    finally:
        secrets.restore_secret(SecretId=arn)
    assert code == 1
    assert len(failed) == 2, failed
    assert failed[0].startswith("✗ the 12315 feed token (FEED_TOKEN_SECRET) exists and its functions read it: ")
    assert f"PollerFunction (and 2 more) cannot read {arn}: " in failed[0]
    assert "marked deleted" in failed[0] and "restore-secret" in failed[0]
    assert failed[1].startswith("✗ the 12315 feed http://127.0.0.1:") and "the token cannot be read" in failed[1]
    assert doctor(capsys, ready)[0] == 0


def test_the_feed_refuses_a_wrong_token(capsys: pytest.CaptureFixture[str], stack: LocalStack, ready: Path) -> None:
    secrets, arn = stack.client("secretsmanager"), stack.deployment.ref("FeedTokenSecret")
    secrets.put_secret_value(SecretId=arn, SecretString="not-the-token")
    try:
        code, passed, failed = doctor(capsys, ready)
    finally:
        secrets.put_secret_value(SecretId=arn, SecretString=stack.simulator.token)
    assert code == 1
    assert [f.split(" — fix: ")[0].split(" answers with the token: ")[1] for f in failed] == [
        "it refuses the token (HTTP 401)"
    ]
    assert f"fix: put the bearer token the 12315 platform issued into {arn}" in failed[0]
    assert any(x.startswith("✓ the 12315 feed token (FEED_TOKEN_SECRET) exists") for x in passed)  # it is read
    assert doctor(capsys, ready)[0] == 0  # and read again as restored: the functions' cache holds the right one


def test_an_empty_directory(capsys: pytest.CaptureFixture[str], stack: LocalStack, ready: Path) -> None:
    db, table = stack.client("dynamodb"), stack.deployment.ref("DirectoryTable")
    only = {"KeyConditionExpression": "pk = :k", "ExpressionAttributeValues": {":k": {"S": "ENTERPRISE"}}}
    enterprises = db.query(TableName=table, **only)["Items"]
    for item in enterprises:
        db.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    try:
        code, _, failed = doctor(capsys, ready)
    finally:
        for item in enterprises:
            db.put_item(TableName=table, Item=item)
    assert code == 1
    assert failed == [
        "✗ the ODR directory is loaded: no enterprise is listed on 2026-11-30 — fix: odr directory import "
        "odr-directory.csv (the columns of data/district/odr-directory.csv)"
    ]


def test_an_unverified_ses_identity(capsys: pytest.CaptureFixture[str], stack: LocalStack, ready: Path) -> None:
    ses = stack.client("ses", SES_REGION)
    ses.delete_identity(Identity=DOMAIN)
    try:
        code, _, failed = doctor(capsys, ready)
    finally:
        ses.verify_domain_identity(Domain=DOMAIN)
    assert code == 1
    assert len(failed) == 1
    assert failed[0].startswith(
        f"✗ SES identity for odr-noreply@{DOMAIN} is verified in {SES_REGION}: not verified (unknown to SES there)"
    )
    assert f"aws ses verify-domain-identity --domain {DOMAIN} --region {SES_REGION}" in failed[0]


@contextmanager
def _reconfigured(stack: LocalStack, logical_id: str, without: str) -> Iterator[None]:
    """``lambda update-function-configuration`` without one variable: the next invocation is a cold start with the
    new environment (the local stack runs handlers in-process, so its container is replaced here as Lambda does)."""
    lam, name = stack.client("lambda"), stack.deployment.ref(logical_id)
    old = FUNCTIONS[name]
    environment = {k: v for k, v in old.environment.items() if k != without}
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": environment})
    FUNCTIONS[name] = replace(old, module=None, lock=threading.Lock(), idle=[], containers=0, environment=environment)
    try:
        yield
    finally:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": old.environment})
        FUNCTIONS[name] = old


def test_a_function_whose_settings_fail(capsys: pytest.CaptureFixture[str], stack: LocalStack, ready: Path) -> None:
    with _reconfigured(stack, "NotifyFunction", without="SENDER_EMAIL"):
        code, _, failed = doctor(capsys, ready)
    assert code == 1
    assert len(failed) == 1
    assert failed[0].startswith(
        "✗ NotifyFunction starts: its cold start fails: SettingsInvalid: odr-local-NotifyFunction "
        "(MessagingSettings): SENDER_EMAIL is not set"
    )
    assert "fix: give the variable it names in the function's Environment" in failed[0]


def test_an_alarm_in_alarm(capsys: pytest.CaptureFixture[str], stack: LocalStack, ready: Path) -> None:
    cloudwatch, name = stack.client("cloudwatch"), stack.deployment.ref("PollerStaleAlarm")
    state = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="no poll for 15 minutes")
    try:
        code, _, failed = doctor(capsys, ready)
    finally:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue=state["StateValue"], StateReason=state["StateReason"])
    assert code == 1
    assert failed == [
        f"✗ alarm {name} is not in ALARM: it is in ALARM (no poll for 15 minutes) — fix: see docs/runbook.md for "
        "this alarm; it returns to OK by itself once the cause is gone"
    ]


STACK_TEMPLATE = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
        },
        "NotifyFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "odr-prod-NotifyFunction-1A2B3C",
                "Runtime": "python3.11",
                "Handler": "app.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context): pass"},
                "Environment": {"Variables": {"SENDER_EMAIL": "odr@example.gov.cn", "SES_REGION": ""}},
            },
        },
        "IntakeQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "odr-prod-IntakeQueue-4D5E"}},
    },
    "Outputs": {"ApiUrl": {"Value": "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod"}},
}


def test_a_deployed_stack_is_found_by_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """CloudFormation names the functions (physical names, suffixes and all) among its resources, its output the
    API; each function's environment is its configuration's, an empty SES region meaning the stack's own."""
    with aws_for_cli(monkeypatch) as aws:
        aws.client("cloudformation").create_stack(StackName="odr-prod", TemplateBody=json.dumps(STACK_TEMPLATE))
        deployment = doctor_aws.deployed("odr-prod", REGION)
    assert deployment.functions == {
        "odr-prod-NotifyFunction-1A2B3C": {"SENDER_EMAIL": "odr@example.gov.cn", "SES_REGION": ""}
    }
    assert deployment.label("odr-prod-NotifyFunction-1A2B3C") == "NotifyFunction"  # its lines name it so
    assert deployment.alarms == []  # moto's CloudFormation creates no alarm; the local stack's test counts them
    assert deployment.api_url == "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod"
    assert (deployment.region, deployment.value("SES_REGION") or deployment.region) == (REGION, REGION)
