"""The AWS side of the ``odr`` CLI tests: moto in-process, tables and the intake queue built from template.yaml.

The mock starts without resetting moto's shared state (an in-process local stack of other tests may be
running on it) and every test gets tables with names of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from odr_adapter.data_access.clients import client
from odr_cli.main import main
from odr_local.template import load_template

REGION = "cn-north-1"


@dataclass(frozen=True)
class Aws:
    cases_table: str
    directory_table: str
    intake_queue_url: str

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


@contextmanager
def aws_for_cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "ODR_LOCAL_CLOCK", "DISTRICT_CODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(name, value)
    mock = mock_aws()
    mock.start(reset=False)
    client.cache_clear()  # cached clients may point at another test's endpoint
    try:
        resources = load_template()["Resources"]
        prefix = f"cli-{uuid.uuid4().hex[:10]}"
        db = boto3.client("dynamodb", region_name=REGION)
        for logical_id in ("CasesTable", "DirectoryTable"):
            props = resources[logical_id]["Properties"]
            keys = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
            db.create_table(
                TableName=f"{prefix}-{logical_id}",
                BillingMode=props["BillingMode"],
                **{k: props[k] for k in keys if k in props},
            )
        queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName=f"{prefix}-IntakeQueue")["QueueUrl"]
        aws = Aws(f"{prefix}-CasesTable", f"{prefix}-DirectoryTable", queue)
        monkeypatch.setenv("CASES_TABLE", aws.cases_table)
        monkeypatch.setenv("DIRECTORY_TABLE", aws.directory_table)
        monkeypatch.setenv("INTAKE_QUEUE_URL", aws.intake_queue_url)
        yield aws
    finally:
        client.cache_clear()
        mock.stop(remove_data=False)


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def odr(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Result:
    """Run ``odr ARGS`` in-process (the real entry point) and capture what it printed (argparse exits too)."""
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    printed = capsys.readouterr()
    return Result(code, printed.out, printed.err)
