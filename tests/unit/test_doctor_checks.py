"""``odr doctor``'s reading of the functions' answers where the local stack cannot produce them: moto enforces no
IAM, so a role that may not read a secret, or an operator who may not invoke, is only seen in AWS."""

from __future__ import annotations

from odr_cli.doctor import Answer, functions_start, secrets_readable
from odr_cli.doctor_aws import Deployment

SECRET = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:odr-FeedTokenSecret-AbCdEf"
POLLER, REPORT_BACK = "odr-PollerFunction-1A", "odr-ReportBackFunction-2B"
DEPLOYMENT = Deployment(
    "odr", "cn-north-1", {POLLER: {}, REPORT_BACK: {}}, [], "https://api/prod",
    {POLLER: "PollerFunction", REPORT_BACK: "ReportBackFunction"},
)  # fmt: skip
DENIED = (
    "GetParameterError: An error occurred (AccessDeniedException) when calling the GetSecretValue operation: "
    "User: arn:aws-cn:sts::123456789012:assumed-role/odr-ReportBackRole/x is not authorized"
)


def answer(function: str, secrets: dict[str, object]) -> Answer:
    return Answer(function, True, {"doctor": "ok", "function": function, "settings": ["A", "B"], "secrets": secrets})


def test_a_role_that_may_not_read_its_secret_is_named_with_the_policy_to_fix() -> None:
    answers = [
        answer(POLLER, {"FEED_TOKEN_SECRET": {"secret": SECRET, "read": True}}),
        answer(REPORT_BACK, {"FEED_TOKEN_SECRET": {"secret": SECRET, "read": False, "error": DENIED}}),
    ]
    [result] = secrets_readable(DEPLOYMENT, answers)
    assert not result.ok
    assert result.problem.startswith(f"ReportBackFunction cannot read {SECRET}: GetParameterError: ")
    assert result.fix == f"let ReportBackFunction's role read {SECRET} (its Policies in template.yaml) and deploy again"


def test_a_function_the_operator_cannot_invoke_is_not_taken_for_a_failed_start() -> None:
    answers = [
        Answer(POLLER, False, None, "ClientError: AccessDeniedException when calling the Invoke operation"),
        answer(REPORT_BACK, {}),
    ]
    failed, started = functions_start(DEPLOYMENT, answers)
    assert failed.line() == (
        "✗ PollerFunction starts: it could not be invoked: ClientError: AccessDeniedException when calling the "
        "Invoke operation — fix: let the role odr runs with call lambda:InvokeFunction on the stack's functions"
    )
    assert started.line() == "✓ ReportBackFunction starts: its 2 settings load"
