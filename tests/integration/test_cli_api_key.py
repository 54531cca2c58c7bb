"""``odr api-key issue|revoke``: a key works for its own enterprise only, is shown once, stored as a hash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from odr_adapter.data_access.api_keys import ApiKeyStore
from odr_adapter.models.api_keys import api_key_hash

from .cli_support import Aws, aws_for_cli, odr

DISTRICT = Path(__file__).resolve().parents[2] / "data" / "district"
JINFENG = "91310116MA1JK7Q26H"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Aws]:
    with aws_for_cli(monkeypatch) as env:
        assert odr(capsys, "stations", "import", DISTRICT / "stations.csv").code == 0
        assert odr(capsys, "directory", "import", DISTRICT / "odr-directory.csv").code == 0
        yield env


def test_issue_prints_the_key_once_and_stores_only_its_hash(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    issued = odr(capsys, "api-key", "issue", JINFENG, "--label", "金枫云购工单系统")
    assert issued.code == 0
    key = issued.out.splitlines()[1]
    store = ApiKeyStore(aws.directory_table)
    assert store.enterprise_for(api_key_hash(key)) == JINFENG
    items = aws.client("dynamodb").query(
        TableName=aws.directory_table,
        KeyConditionExpression="pk = :k",
        ExpressionAttributeValues={":k": {"S": "APIKEY"}},
    )["Items"]
    assert len(items) == 1 and key not in str(items)


def test_revoke_stops_the_key(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    key = odr(capsys, "api-key", "issue", JINFENG, "--label", "x").out.splitlines()[1]
    assert odr(capsys, "api-key", "revoke", key).code == 0
    assert ApiKeyStore(aws.directory_table).enterprise_for(api_key_hash(key)) is None
    assert odr(capsys, "api-key", "revoke", key).code == 2  # no such (live) key


def test_an_enterprise_outside_the_directory_gets_no_key(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    refused = odr(capsys, "api-key", "issue", "91310116MA1R2T4U5E", "--label", "x")
    assert refused.code == 2 and "not in the ODR directory" in refused.err
