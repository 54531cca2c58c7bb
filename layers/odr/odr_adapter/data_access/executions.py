"""Step Functions: starting a case's execution and completing the wait it is in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from odr_adapter.clock import Clock
from odr_adapter.data_access.clients import client
from odr_adapter.ports import Resumed, TokenGone

JUST_STARTED = timedelta(minutes=1)  # an execution this young was started by this call (a repeat finds it older)


class Executions:
    def __init__(self, state_machine_arn: str) -> None:
        self.arn = state_machine_arn
        self.sfn = client("stepfunctions")

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start once: the same name and input return the running execution (idempotent start)."""
        try:
            got = self.sfn.start_execution(stateMachineArn=self.arn, name=name, input=json.dumps(payload))
            return str(got["executionArn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            return f"{self.arn.replace(':stateMachine:', ':execution:')}:{name}"

    def resume(self, name: str, payload: dict[str, Any]) -> Resumed:
        """StartExecution tells the three apart: a new execution, the running one (its start date, minutes old:
        a start repeated with the same input), or ExecutionAlreadyExists for one that ended."""
        try:
            got = self.sfn.start_execution(stateMachineArn=self.arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            return "ended"
        started: datetime = got["startDate"]
        return "started" if Clock().now() - started < JUST_STARTED else "running"

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        try:
            self.sfn.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
                raise TokenGone(exc.response["Error"]["Code"]) from exc
            raise

    def fail(self, task_token: str, error: str, cause: str) -> None:
        try:
            self.sfn.send_task_failure(taskToken=task_token, error=error, cause=cause)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
                raise TokenGone(exc.response["Error"]["Code"]) from exc
            raise
