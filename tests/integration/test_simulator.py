"""The 12315 simulator seen by a raw HTTP client: paging, each fault on demand, report-back keys, the pusher."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from odr_local.kernel import Kernel
from odr_local.simulator import Faults, Pusher, Simulator

START = datetime.fromisoformat("2026-11-30T08:00:00+08:00")
AUTH = {"Authorization": "Bearer sim-token"}
SINCE = "2026-11-29T00:00:00+08:00"


def rec(complaint_id: str, at: datetime, revision: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "complaint_id": complaint_id,
        "revision": revision,
        "status": "submitted",
        "updated_at": at.isoformat(),
        **extra,
    }


def pull(sim: Simulator, **params: Any) -> requests.Response:
    query = {"updated_after": SINCE, **params}
    return requests.get(f"{sim.url}/v1/complaints", params=query, headers=AUTH, timeout=10)


def ids(response: requests.Response) -> list[tuple[str, int]]:
    return [(r["complaint_id"], r["revision"]) for r in response.json()["items"]]


def publish_five(sim: Simulator) -> None:
    for n in (3, 1, 5, 2, 4):  # published out of order: served in (updated_at, complaint_id) order
        sim.publish(rec(f"C-000000000{n}", START - timedelta(minutes=10 - n)))


def test_pages_follow_the_opaque_cursor_in_feed_order(sim: Simulator) -> None:
    publish_five(sim)
    served, cursor, pages = [], None, 0
    while True:
        got = pull(sim, limit=2, **({"cursor": cursor} if cursor else {}))
        assert got.status_code == 200
        body = got.json()
        assert datetime.fromisoformat(body["server_time"]) >= START
        served += ids(got)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert served == [(f"C-000000000{n}", 1) for n in range(1, 6)]
    assert ids(pull(sim, updated_after=(START - timedelta(minutes=7)).isoformat())) == [
        ("C-0000000004", 1),
        ("C-0000000005", 1),
    ]


def test_a_record_shows_only_once_the_clock_reaches_it(sim: Simulator, kernel: Kernel) -> None:
    sim.publish(rec("C-FUTURE-001", kernel.now() + timedelta(seconds=300)))
    assert ids(pull(sim)) == []
    kernel.advance(timedelta(seconds=299))
    assert ids(pull(sim)) == []
    kernel.advance(timedelta(seconds=1))
    assert ids(pull(sim)) == [("C-FUTURE-001", 1)]


def test_a_bad_token_is_refused(sim: Simulator) -> None:
    got = requests.get(f"{sim.url}/v1/complaints", params={"updated_after": SINCE}, timeout=10)
    assert got.status_code == 401
    bad = requests.get(
        f"{sim.url}/v1/complaints", params={"updated_after": SINCE}, headers={"Authorization": "Bearer x"}, timeout=10
    )
    assert bad.status_code == 401


def test_error_fault_answers_5xx_until_switched_off(sim: Simulator) -> None:
    publish_five(sim)
    sim.faults.update(error_rate=1.0)
    assert [pull(sim).status_code for _ in range(3)] == [503, 503, 503]
    sim.faults.update(error_rate=0.0)
    assert pull(sim).status_code == 200
    assert sim.counters()["faults"] == {"error": 3}
    assert sim.counters()["pull_requests"] == 4 and sim.counters()["pages_served"] == 1


def test_throttle_fault_answers_429_with_retry_after(sim: Simulator) -> None:
    sim.faults.update(throttle_rate=1.0, retry_after_seconds=3)
    got = pull(sim)
    assert got.status_code == 429 and got.headers["Retry-After"] == "3"


def test_slow_fault_answers_late(sim: Simulator) -> None:
    publish_five(sim)
    sim.faults.update(slow_rate=1.0, slow_seconds=0.5)
    began = time.monotonic()
    got = pull(sim)
    assert got.status_code == 200 and len(ids(got)) == 5
    assert time.monotonic() - began >= 0.5


def test_drop_fault_closes_the_connection_without_an_answer(sim: Simulator) -> None:
    publish_five(sim)
    sim.faults.update(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        pull(sim)
    assert sim.counters()["faults"] == {"drop": 1} and sim.counters()["pages_served"] == 0
    sim.faults.update(drop_rate=0.0)
    assert pull(sim).status_code == 200


def test_duplicate_page_fault_serves_the_same_page_again(sim: Simulator) -> None:
    publish_five(sim)
    sim.faults.update(duplicate_page_rate=1.0)
    first = pull(sim, limit=2)
    again = pull(sim, limit=2, cursor=first.json()["next_cursor"])
    assert ids(first) == ids(again) == [("C-0000000001", 1), ("C-0000000002", 1)]
    last = pull(sim, limit=5)  # a single page: its next cursor starts the query over
    assert ids(pull(sim, limit=5, cursor=last.json()["next_cursor"])) == ids(last)


def test_repeat_items_fault_overlaps_consecutive_pages(sim: Simulator) -> None:
    publish_five(sim)
    sim.faults.update(repeat_items_rate=1.0, repeat_items=1)
    first = pull(sim, limit=3)
    second = pull(sim, limit=3, cursor=first.json()["next_cursor"])
    assert ids(first) == [("C-0000000001", 1), ("C-0000000002", 1), ("C-0000000003", 1)]
    assert ids(second) == [("C-0000000003", 1), ("C-0000000004", 1), ("C-0000000005", 1)]


def test_late_fault_shows_a_record_after_newer_ones(sim: Simulator, kernel: Kernel) -> None:
    now = kernel.now()
    sim.faults.update(late_rate=1.0, late_seconds=300)
    sim.publish(rec("C-LATE-00001", now - timedelta(seconds=100)))  # visible 200 s from now
    sim.faults.update(late_rate=0.0)
    sim.publish(rec("C-ONTIME-001", now - timedelta(seconds=50)))
    first = pull(sim)
    assert ids(first) == [("C-ONTIME-001", 1)]
    kernel.advance(timedelta(seconds=200))
    later = pull(sim).json()["items"]
    assert [r["complaint_id"] for r in later] == ["C-LATE-00001", "C-ONTIME-001"]
    # The late record's updated_at is earlier than the newest one already served.
    assert later[0]["updated_at"] < first.json()["items"][0]["updated_at"]
    assert sim.counters()["faults"]["late"] == 1


def test_stale_revision_fault_serves_an_older_revision_after_the_newer(sim: Simulator) -> None:
    sim.publish(rec("C-REVISED-01", START - timedelta(minutes=5), 1))
    sim.publish(rec("C-REVISED-01", START - timedelta(minutes=4), 2, status="withdrawn"))
    assert ids(pull(sim)) == [("C-REVISED-01", 1), ("C-REVISED-01", 2)]
    sim.faults.update(stale_revision_rate=1.0)
    assert ids(pull(sim)) == [("C-REVISED-01", 1), ("C-REVISED-01", 2), ("C-REVISED-01", 1)]
    newer_only = pull(sim, updated_after=(START - timedelta(minutes=4, seconds=30)).isoformat())
    assert ids(newer_only) == [("C-REVISED-01", 2), ("C-REVISED-01", 1)]


def test_faults_are_deterministic_under_a_seed() -> None:
    def statuses(seed: int) -> list[int]:
        simulator = Simulator(faults=Faults(seed=seed, error_rate=0.3, drop_rate=0.2))
        simulator.start()
        try:
            out = []
            for _ in range(30):
                try:
                    out.append(pull(simulator).status_code)
                except requests.ConnectionError:
                    out.append(0)
            return out
        finally:
            simulator.stop()

    assert statuses(7) == statuses(7)
    assert statuses(7) != statuses(8)
    assert {0, 200, 503} <= set(statuses(7))


def test_a_script_forces_the_next_faults_in_order(sim: Simulator) -> None:
    sim.faults.update(script=["throttle", "drop", "error"])
    assert pull(sim).status_code == 429
    with pytest.raises(requests.ConnectionError):
        pull(sim)
    assert pull(sim).status_code == 503
    assert pull(sim).status_code == 200
    assert sim.counters()["faults"] == {"throttle": 1, "drop": 1, "error": 1}


def test_the_admin_route_switches_faults_and_reports_counters(sim: Simulator) -> None:
    publish_five(sim)
    bad = requests.post(f"{sim.url}/_sim/faults", json={"error_rate": 2, "nonsense": 1}, timeout=10)
    assert bad.status_code == 400
    assert {p["field"] for p in bad.json()["problems"]} == {"error_rate", "nonsense"}
    too_much = requests.post(f"{sim.url}/_sim/faults", json={"error_rate": 0.7, "drop_rate": 0.7}, timeout=10)
    assert too_much.status_code == 400 and sim.faults.error_rate == 0.0  # nothing applied
    ok = requests.post(f"{sim.url}/_sim/faults", json={"error_rate": 1.0}, timeout=10)
    assert ok.status_code == 200 and ok.json()["error_rate"] == 1.0
    assert pull(sim).status_code == 503
    assert requests.get(f"{sim.url}/_sim/faults", timeout=10).json()["error_rate"] == 1.0
    counters = requests.get(f"{sim.url}/_sim/counters", timeout=10).json()
    assert counters["records_offered"] == 5 and counters["records_visible"] == 5
    assert counters["faults"] == {"error": 1} and counters["pull_requests"] == 1


def report(sim: Simulator, complaint_id: str, key: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{sim.url}/v1/complaints/{complaint_id}/results",
        json=body,
        headers={**AUTH, "Idempotency-Key": key},
        timeout=10,
    )


SETTLED = {"outcome": "settled", "recovered_amount": "199.00", "closed_at": "2026-12-03T10:00:00+08:00"}


def test_report_back_follows_the_idempotency_key_rules(sim: Simulator) -> None:
    sim.publish(rec("C-REPORTED-1", START - timedelta(minutes=1)))
    assert report(sim, "C-REPORTED-1", "k1", SETTLED).status_code == 201
    assert report(sim, "C-REPORTED-1", "k1", SETTLED).status_code == 200
    assert report(sim, "C-REPORTED-1", "k1", {**SETTLED, "recovered_amount": "1.00"}).status_code == 409
    assert report(sim, "C-UNKNOWN-01", "k2", SETTLED).status_code == 404
    no_key = requests.post(f"{sim.url}/v1/complaints/C-REPORTED-1/results", json=SETTLED, headers=AUTH, timeout=10)
    assert no_key.status_code == 400
    assert [(r["key"], r["outcome"]) for r in sim.result_log] == [("k1", "settled")]
    counters = sim.counters()
    assert (counters["results_recorded"], counters["results_repeated"], counters["results_conflicting"]) == (1, 1, 1)


def test_a_lost_reply_on_report_back_records_the_outcome_once(sim: Simulator) -> None:
    sim.publish(rec("C-REPORTED-2", START - timedelta(minutes=1)))
    sim.faults.update(targets=["results"], script=["drop"])
    with pytest.raises(requests.ConnectionError):
        report(sim, "C-REPORTED-2", "k-lost", SETTLED)
    assert report(sim, "C-REPORTED-2", "k-lost", SETTLED).status_code == 200  # the retry finds it recorded
    assert [r["key"] for r in sim.result_log] == ["k-lost"]


class Receiver:
    """A stand-in for the adapter's webhook: checks the signature on its own and answers as told."""

    def __init__(self, statuses: list[int], secret: str = "sim-push-secret") -> None:
        self.statuses, self.secret = statuses, secret
        self.received: list[dict[str, Any]] = []
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/feed/complaints"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        stamp = request.headers["X-12315-Timestamp"]
        expected = hmac.new(self.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        signed = request.headers["X-12315-Signature"] == f"sha256={expected}"
        self.received.append({"stamp": int(stamp), "signed": signed, "items": json.loads(body)["items"]})
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Response("{}", status, content_type="application/json")(environ, start_response)


def test_the_pusher_signs_batches_and_retries_until_accepted(sim: Simulator, kernel: Kernel) -> None:
    publish_five(sim)
    receiver = Receiver([503, 202])
    sim.start_pusher(receiver.url, kernel, batch_size=3)
    assert kernel.run_until(lambda: sim.counters()["records_pushed"] == 5)
    retried_at = kernel.now()
    assert retried_at - START == timedelta(seconds=Pusher.RETRY_SECONDS)  # the pause after the failed push
    kernel.advance(timedelta(hours=1))  # nothing accepted is pushed again
    assert all(r["signed"] for r in receiver.received)
    signed_at = [r["stamp"] for r in receiver.received]
    assert signed_at == [int(START.timestamp())] + [int(retried_at.timestamp())] * 2  # the platform's clock
    first, *rest = receiver.received
    assert [i["complaint_id"] for i in first["items"]] == ["C-0000000001", "C-0000000002", "C-0000000003"]
    assert [r["items"] for r in rest[:1]] == [first["items"]]  # the refused batch came again
    delivered = [i["complaint_id"] for r in rest for i in r["items"]]
    assert sorted(delivered) == [f"C-000000000{n}" for n in range(1, 6)]
    counters = sim.counters()
    assert (counters["pushes_attempted"], counters["pushes_accepted"], counters["pushes_failed"]) == (3, 2, 1)
    late = rec("C-0000000006", kernel.now() + timedelta(minutes=5))
    sim.publish(late)
    assert kernel.run_until(lambda: sim.counters()["records_pushed"] == 6)
    assert kernel.now() == datetime.fromisoformat(late["updated_at"])  # pushed as it became visible
    assert receiver.received[-1]["items"] == [late]


def test_the_pusher_gives_up_a_refused_batch_and_can_push_twice(sim: Simulator, kernel: Kernel) -> None:
    sim.publish(rec("C-0000000001", START - timedelta(minutes=1)))
    refusing = Receiver([401], secret="another secret")
    sim.start_pusher(refusing.url, kernel)
    assert kernel.run_until(lambda: sim.counters()["pushes_rejected"] == 1)
    kernel.advance(timedelta(hours=1))
    assert len(refusing.received) == 1 and not refusing.received[0]["signed"]
    assert sim.counters()["records_pushed"] == 0

    sim.faults.update(push_duplicate_rate=1.0)
    accepting = Receiver([202])
    sim.start_pusher(accepting.url, kernel)
    assert kernel.run_until(lambda: len(accepting.received) == 2)
    assert accepting.received[0]["items"] == accepting.received[1]["items"]
    assert sim.counters()["faults"] == {"push_duplicate": 1}


def test_records_are_published_on_a_running_platform_over_http(sim: Simulator, kernel: Kernel) -> None:
    url = f"{sim.url}/_sim/publish"
    bad = requests.post(url, json={"records": [rec("C-PUB-0001", START), {"complaint_id": "x"}]}, timeout=10)
    assert bad.status_code == 400 and [p["index"] for p in bad.json()["problems"]] == [1]
    assert ids(pull(sim)) == []  # all or nothing
    kernel.advance(timedelta(hours=3))
    got = requests.post(url, json={"records": [rec("C-PUB-0001", START - timedelta(days=9))], "now": True}, timeout=10)
    assert got.status_code == 202 and got.json() == {"published": 1}
    [served] = pull(sim, updated_after=(kernel.now() - timedelta(minutes=1)).isoformat()).json()["items"]
    assert datetime.fromisoformat(served["updated_at"]) == kernel.now()  # registered as it was published
