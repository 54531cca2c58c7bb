"""Virtual time on the emulated stack: moto's interpreter waits in simulated seconds, the patches that make
it so refuse to start on a moto they do not fit, and each function keeps metrics and log output of its own."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from datetime import timedelta
from typing import Any

import pytest

from odr_local import moto_patches
from odr_local.invoker import FUNCTIONS, running
from odr_local.stack import LocalStack

from .conftest import Invoker


def test_a_state_machine_waits_days_of_simulated_time_in_no_time(stack: LocalStack) -> None:
    sfn = stack.client("stepfunctions")
    definition = {
        "StartAt": "Pause",
        "States": {"Pause": {"Type": "Wait", "Seconds": 3 * 86400, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    role = "arn:aws-cn:iam::123456789012:role/odr-local-test"
    machine = sfn.create_state_machine(name="three-days", definition=json.dumps(definition), roleArn=role)
    began, wall = stack.now().replace(microsecond=0), time.monotonic()  # the API's dates have milliseconds
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="pause-1")["executionArn"]
    assert stack.wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    stopped = sfn.describe_execution(executionArn=arn)["stopDate"]
    assert stopped - began >= timedelta(days=3) and stopped - began < timedelta(days=3, seconds=5)
    assert time.monotonic() - wall < 120  # three days, not 259,200 s: a bound no load on the machine can reach


def test_a_patch_that_no_longer_finds_what_it_replaces_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_patches.inspect, "getsource", lambda module: "")
    with pytest.raises(RuntimeError, match="must be adapted"):
        moto_patches._virtual_time()


def emf(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if '"_aws"' in line]


def test_each_function_emits_its_own_metrics_under_its_own_service(
    stack: LocalStack, invoke: Invoker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert invoke("PollerFunction", scheduled)[0]  # loaded
    poller = FUNCTIONS[stack.deployment.ref("PollerFunction")].module
    # A poller invocation is in flight (its metric added, not yet flushed) when the reminders flush theirs.
    poller.obs.metrics.add_metric(name="FeedLagSeconds", unit="Seconds", value=42)  # type: ignore[union-attr]
    capsys.readouterr()
    assert invoke("ReminderFunction", scheduled)[0]
    [reminders] = emf(capsys.readouterr().out)
    names = {m["Name"] for m in reminders["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert reminders["service"] == "reminders"
    assert names == {"NotificationSent", "NotificationFailed"}  # nothing of the poller's
    poller.obs.metrics.clear_metrics()  # type: ignore[union-attr]


def test_each_function_sees_only_its_own_template_environment(stack: LocalStack) -> None:
    functions = {fn.logical_id: fn for fn in FUNCTIONS.values()}
    notify, poller = functions["NotifyFunction"], functions["PollerFunction"]
    assert "SENDER_EMAIL" in notify.environment and "SENDER_EMAIL" not in poller.environment
    with running(poller):
        assert os.environ.get("SENDER_EMAIL") is None  # another function's variable
        assert os.environ["FEED_BASE_URL"] == poller.environment["FEED_BASE_URL"]
        assert os.environ["AWS_LAMBDA_FUNCTION_NAME"] == poller.name
        assert os.environ["AWS_ENDPOINT_URL"] == stack.endpoint  # the process's own (the runtime's) variables
    with running(notify):
        assert os.environ["SENDER_EMAIL"] == notify.environment["SENDER_EMAIL"]
    assert os.environ["SENDER_EMAIL"] and os.environ["FEED_BASE_URL"]  # a test sees them all


def test_a_function_first_loaded_under_a_test_s_stdout_logs_to_stdout_as_it_is_later(
    stack: LocalStack, invoke: Invoker, capsys: pytest.CaptureFixture[str]
) -> None:
    scheduled = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    poller = FUNCTIONS[stack.deployment.ref("PollerFunction")]
    saved, sys.stdout = sys.stdout, io.StringIO()  # what a test that captures its output puts there meanwhile
    try:
        poller.idle.clear()  # the next invocation starts a container cold
        assert invoke("PollerFunction", scheduled)[0]
        sys.stdout.close()
    finally:
        sys.stdout = saved
    capsys.readouterr()
    assert invoke("PollerFunction", scheduled)[0]
    out, err = capsys.readouterr()
    assert '"message":"polled"' in out.replace(" ", "")
    assert "Logging error" not in err
