"""The counters function on real DynamoDB stream records (moto in-process): every change counted exactly once,
however its batches are delivered, and the counters equal a recount of the cases."""

from __future__ import annotations

import base64
import importlib.util
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from moto import mock_aws

from odr_adapter import wiring
from odr_adapter.clock import set_pause
from odr_adapter.data_access.case_items import case_change
from odr_adapter.data_access.cases import CaseStore
from odr_adapter.data_access.clients import client
from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.data_access.stats import WAITS, FoldBusy, Journal, StatsStore, _summed
from odr_adapter.models.counters import CaseChange, Counted
from odr_adapter.models.directory import District
from odr_adapter.stats.counters import change_deltas, differences, recount
from odr_adapter.stats.counting import count_batch
from odr_cli.district_files import read_district
from odr_local.template import ROOT, load_template
from tests.unit.test_counters import Life, known_week

REGION = "cn-north-1"


@dataclass(frozen=True)
class StatsAws:
    cases_table: str
    stats_table: str
    directory_table: str
    stream_arn: str

    @property
    def stats(self) -> StatsStore:
        return StatsStore(self.stats_table)


@contextmanager
def stats_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatsAws]:
    """The case table (with its stream), the statistics table and the directory, built from template.yaml on
    moto in-process; names of their own, moto's shared state left alone (a local stack may be running)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "ODR_LOCAL_CLOCK", "POWERTOOLS_METRICS_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("POWERTOOLS_TRACE_DISABLED", "true"),
    ):
        monkeypatch.setenv(name, value)
    mock = mock_aws()
    mock.start(reset=False)
    client.cache_clear()
    wiring.cache_clear()
    try:
        template = load_template()
        resources = template["Resources"]
        # What template.yaml gives the counters function besides the tables: its metrics' namespace and service.
        for variables in (
            template["Globals"]["Function"]["Environment"]["Variables"],
            resources["CountersFunction"]["Properties"]["Environment"]["Variables"],
        ):
            for name in ("POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME"):
                if name in variables:
                    monkeypatch.setenv(name, variables[name])
        monkeypatch.setenv("DISTRICT_CODE", str(template["Parameters"]["DistrictCode"]["Default"]))
        prefix = f"stats-{uuid.uuid4().hex[:10]}"
        db = boto3.client("dynamodb", region_name=REGION)
        names = {}
        for logical_id in ("CasesTable", "StatsTable", "DirectoryTable"):
            props = resources[logical_id]["Properties"]
            keys = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
            names[logical_id] = f"{prefix}-{logical_id}"
            db.create_table(
                TableName=names[logical_id], BillingMode="PAY_PER_REQUEST", **{k: props[k] for k in keys if k in props}
            )
        stream = resources["CasesTable"]["Properties"]["StreamSpecification"]
        got = db.update_table(TableName=names["CasesTable"], StreamSpecification={"StreamEnabled": True, **stream})
        aws = StatsAws(
            names["CasesTable"],
            names["StatsTable"],
            names["DirectoryTable"],
            got["TableDescription"]["LatestStreamArn"],
        )
        monkeypatch.setenv("CASES_TABLE", aws.cases_table)
        monkeypatch.setenv("STATS_TABLE", aws.stats_table)
        monkeypatch.setenv("DIRECTORY_TABLE", aws.directory_table)
        yield aws
    finally:
        client.cache_clear()
        wiring.cache_clear()
        mock.stop(remove_data=False)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatsAws]:
    with stats_aws(monkeypatch) as resources:
        yield resources


def load_handler(name: str) -> ModuleType:
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"stats_test_{name}_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Context:
    function_name = "CountersFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws-cn:lambda:cn-north-1:123456789012:function:CountersFunction"
    memory_limit_in_mb = 512
    aws_request_id = "test"
    log_group_name = "/aws/lambda/CountersFunction"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def save(aws: StatsAws, lives: list[Life]) -> None:
    """Write every version of every case, the cases' writes interleaved as they would be in production."""
    store = CaseStore(aws.cases_table)
    longest = max(len(life.versions) for life in lives)
    for i in range(longest):
        for life in lives:
            if i < len(life.versions):
                version = life.versions[i]
                store.save(version, version.history[-1])


def stream_records(aws: StatsAws) -> list[dict[str, Any]]:
    """Every record of the case table's stream, shaped as Lambda delivers them."""
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    out = []
    for shard in streams.describe_stream(StreamArn=aws.stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=aws.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            got = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not got["Records"]:
                break
            out.extend(got["Records"])
            iterator = got.get("NextShardIterator")
    for record in out:
        record["eventSourceARN"] = aws.stream_arn
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    return json.loads(json.dumps(out, default=_base64))  # what crosses the Lambda boundary is JSON


def _base64(value: Any) -> str:
    """A binary attribute as a Lambda event carries it (the compressed record)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


Deliver = Callable[[list[dict[str, Any]]], dict[str, int]]


def deliverer() -> Deliver:
    """Delivers stream records to the real counters handler, as Lambda's event source mapping does."""
    module = load_handler("counters")

    def call(records: list[dict[str, Any]]) -> dict[str, int]:
        result: dict[str, int] = module.handler({"Records": records}, Context())
        return result

    return call


@pytest.fixture
def deliver(aws: StatsAws) -> Deliver:
    return deliverer()


def in_batches(records: list[dict[str, Any]], size: int = 100) -> list[list[dict[str, Any]]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def assert_counters_equal_a_recount(aws: StatsAws, lives: list[Life]) -> None:
    assert differences(recount(life.case for life in lives).items, aws.stats.everything()) == []


def test_every_change_is_counted_once_and_the_counters_equal_a_recount(aws: StatsAws, deliver: Deliver) -> None:
    lives = known_week()
    save(aws, lives)
    records = stream_records(aws)
    assert len(records) == sum(len(life.versions) for life in lives)
    results = [deliver(batch) for batch in in_batches(records, 10)]
    applied = sum(r["applied"] for r in results)
    assert applied + sum(r["no_change"] for r in results) == len(records)
    assert sum(r["duplicates"] for r in results) == 0
    assert_counters_equal_a_recount(aws, lives)
    # One marker per case: the last version counted, with its expiry.
    markers = boto3.client("dynamodb", region_name=REGION).scan(
        TableName=aws.stats_table,
        FilterExpression="begins_with(pk, :m)",
        ExpressionAttributeValues={":m": {"S": "APPLIED#"}},
    )["Items"]
    last = {life.case.complaint_id: life.case.version for life in lives}  # every case's last change counts
    assert {m["pk"]["S"].removeprefix("APPLIED#"): int(m["version"]["N"]) for m in markers} == last
    assert all(int(m["expires_at"]["N"]) > 0 for m in markers)


def test_a_redelivered_batch_counts_nothing_twice(aws: StatsAws, deliver: Deliver) -> None:
    lives = known_week()
    save(aws, lives)
    records = stream_records(aws)
    first = deliver(records)
    counted = aws.stats.everything()
    again = deliver(records)
    assert again == {"applied": 0, "duplicates": first["applied"], "no_change": first["no_change"]}
    assert aws.stats.everything() == counted
    assert_counters_equal_a_recount(aws, lives)


def test_a_batch_that_failed_halfway_is_delivered_again_without_double_counting(
    aws: StatsAws, deliver: Deliver
) -> None:
    lives = known_week()
    save(aws, lives)
    records = stream_records(aws)
    poison = json.loads(json.dumps(records[40]))
    del poison["dynamodb"]["NewImage"]["registered_at"]  # a case image the domain cannot read
    with pytest.raises(ValueError, match="registered_at"):
        deliver([*records[:40], poison, *records[40:]])
    partial = aws.stats.everything()
    assert partial and differences(recount(life.case for life in lives).items, partial)  # 40 counted, not more
    # Lambda splits the failed batch (BisectBatchOnFunctionError): the halves come again, the poison alone fails.
    deliver(records[:40])
    deliver(records[40:])
    with pytest.raises(ValueError):
        deliver([poison])
    assert_counters_equal_a_recount(aws, lives)


class Killed(BaseException):
    """The counters function's process dies (a timeout): nothing after it runs."""


class DiesAt(StatsStore):
    """The statistics table, with a writer that dies at its ``n``-th counter or marker write."""

    def __init__(self, table: str, n: int) -> None:
        super().__init__(table)
        self.writes_left = n

    def _conditional(self, update: dict[str, Any]) -> None:
        self.writes_left -= 1
        if self.writes_left == 0:
            raise Killed
        super()._conditional(update)


def case_changes(records: list[dict[str, Any]]) -> list[CaseChange]:
    found = [case_change(r["dynamodb"].get("OldImage"), r["dynamodb"]["NewImage"]) for r in plain(records)]
    return [c for c in found if c is not None]


def plain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stream records with their images in plain values (as the handler's data classes give them)."""
    des = TypeDeserializer()
    out = []
    for record in records:
        stream = record["dynamodb"]
        images = {
            k: {n: des.deserialize(_bytes(v)) for n, v in stream[k].items()}
            for k in ("OldImage", "NewImage")
            if k in stream
        }
        out.append({**record, "dynamodb": images})
    return out


def _bytes(value: dict[str, Any]) -> dict[str, Any]:
    return {"B": base64.b64decode(value["B"])} if "B" in value else value


@pytest.mark.parametrize("dies_at", [1, 7, 30])
def test_a_fold_that_died_midway_is_finished_by_the_next_and_nothing_counts_twice(
    aws: StatsAws, deliver: Deliver, dies_at: int
) -> None:
    lives = known_week()
    save(aws, lives)
    records = stream_records(aws)
    long_ago = datetime.now(UTC) - timedelta(hours=1)  # its lease has run out by the time the batch comes again
    with pytest.raises(Killed):
        count_batch(case_changes(records), DiesAt(aws.stats_table, dies_at), long_ago)
    assert differences(recount(life.case for life in lives).items, aws.stats.everything())  # counted in part
    again = deliver(records)  # Lambda delivers the batch again: the dead fold is finished first
    assert again["applied"] == 0 and again["duplicates"] > 0  # that fold had counted them
    assert_counters_equal_a_recount(aws, lives)
    assert deliver(records)["applied"] == 0
    assert_counters_equal_a_recount(aws, lives)


def test_a_fold_finished_twice_adds_nothing_twice(aws: StatsAws, deliver: Deliver) -> None:
    """A slow writer whose lease ran out and the writer that took its fold over both finish it."""
    lives = known_week()
    save(aws, lives)
    records = stream_records(aws)
    store = DiesAt(aws.stats_table, 0)  # never dies
    changes = case_changes(records)
    counted = [Counted(c.complaint_id, c.version, d) for c in changes if (d := change_deltas(c.old, c.new))]
    journal = Journal(1, _summed(counted), {c.complaint_id: c.version for c in counted})
    now = datetime.now(UTC)
    assert store._begin(journal, 0, now)
    store._finish(journal, now)
    store._finish(journal, now)  # the other writer
    assert_counters_equal_a_recount(aws, lives)
    assert deliver(records) == {"applied": 0, "duplicates": len(counted), "no_change": len(changes) - len(counted)}


def test_a_running_fold_makes_the_next_batch_wait_then_fail(aws: StatsAws, deliver: Deliver) -> None:
    lives = known_week()
    save(aws, lives)
    records = stream_records(aws)
    pauses: list[float] = []
    set_pause(pauses.append)
    try:
        with pytest.raises(Killed):  # a fold that is still running: its lease is good for two minutes
            count_batch(case_changes(records[:10]), DiesAt(aws.stats_table, 2), datetime.now(UTC))
        with pytest.raises(FoldBusy):
            deliver(records)
        assert len(pauses) == WAITS  # it waited for the running fold to end, then left the batch to Lambda
    finally:
        set_pause(time.sleep)


def test_other_items_of_the_case_table_are_not_counted(aws: StatsAws, deliver: Deliver) -> None:
    db = boto3.client("dynamodb", region_name=REGION)
    for pk, sk in (("FEED", "CURSOR"), ("QUARANTINE", "abc123"), ("LINK#x1", "LINK")):
        db.put_item(TableName=aws.cases_table, Item={"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": "1"}})
    lives = known_week()[:1]
    save(aws, lives)
    result = deliver(stream_records(aws))
    assert result["applied"] + result["no_change"] == len(lives[0].versions)
    assert_counters_equal_a_recount(aws, lives)


def test_the_counters_publish_how_many_cases_are_in_each_status(
    aws: StatsAws, deliver: Deliver, capsys: pytest.CaptureFixture[str]
) -> None:
    lives = known_week()
    open_one = Life.received("still-open", datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    save(aws, [*lives, open_one])
    capsys.readouterr()
    deliver(stream_records(aws))
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"CasesInStatus"' in line]
    by_status = {m["status"]: m["CasesInStatus"][0] for m in emitted}
    assert by_status == {
        "received": 1.0,
        "screening": 0.0,
        "dispatched": 0.0,
        "accepted": 0.0,
        "under_review": 0.0,
        "closed": 7.0,
    }
    assert {m["service"] for m in emitted} == {"counters"}
    assert emitted[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OdrAdapter"


def sample_district() -> District:
    return read_district(ROOT / "data" / "district")


def seed_directory(aws: StatsAws, district: District) -> None:
    DirectoryStore(aws.directory_table).replace(district)


def counted_week(aws: StatsAws, deliver: Deliver) -> list[Life]:
    """The known week written, streamed and counted by the real function (for the API and CLI tests)."""
    lives = known_week()
    save(aws, lives)
    deliver(stream_records(aws))
    return lives


def test_the_sample_event_is_a_change_the_function_counts(aws: StatsAws, deliver: Deliver) -> None:
    """events/counters.json (for ``sam local invoke``) is a case closing as settled."""
    records = json.loads((ROOT / "events" / "counters.json").read_text(encoding="utf-8"))["Records"]
    assert deliver(records) == {"applied": 1, "duplicates": 0, "no_change": 0}
    assert deliver(records) == {"applied": 0, "duplicates": 1, "no_change": 0}
    assert aws.stats.read("ALL", "D#2026-12-03", "D#2026-12-03")[0].values["settled"] == 1
