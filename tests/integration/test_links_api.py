"""The enterprise JSON API on the emulated stack: per-enterprise API keys (only their hash stored), a key
reaches only its enterprise's cases, validation of the result, repeats and refusals in the history; and the
OpenAPI document in docs/ is the one the handler generates."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import requests

from odr_adapter.data_access.api_keys import ApiKeyStore
from odr_adapter.models.api_keys import api_key_hash
from odr_local.stack import LocalStack
from tests.waiting import wait_for_case

from .conftest import Invoker
from .test_links import JINFENG, SHANYANG, start_case

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def keys(stack: LocalStack) -> dict[str, str]:
    store = ApiKeyStore(stack.deployment.ref("DirectoryTable"))
    return {uscc: store.issue(uscc, "integration test", stack.now()) for uscc in (JINFENG, SHANYANG)}


def api(stack: LocalStack, method: str, path: str, key: str | None, body: object = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.request(method, f"{stack.api.url}/prod/api/v1{path}", json=body, headers=headers, timeout=30)


def test_only_the_hash_of_a_key_is_stored(stack: LocalStack, keys: dict[str, str]) -> None:
    items = stack.client("dynamodb").query(
        TableName=stack.deployment.ref("DirectoryTable"),
        KeyConditionExpression="pk = :k",
        ExpressionAttributeValues={":k": {"S": "APIKEY"}},
    )["Items"]
    stored = json.dumps(items)
    assert all(key not in stored for key in keys.values())
    assert {i["sk"]["S"] for i in items} >= {api_key_hash(k) for k in keys.values()}


def test_no_key_or_a_wrong_key_is_unauthorised(stack: LocalStack, keys: dict[str, str]) -> None:
    case = start_case(stack, "IT-API-NOKEY-0001")
    for key in (None, "odr_not-a-real-key", keys[JINFENG] + "x", "Basic abc"):
        got = api(stack, "POST", f"/cases/{case.complaint_id}/accept", key)
        assert got.status_code == 401 and got.headers["WWW-Authenticate"] == "Bearer"
    assert stack.cases.get(case.complaint_id).version == case.version  # type: ignore[union-attr]


def test_a_key_never_reaches_another_enterprises_case(stack: LocalStack, keys: dict[str, str]) -> None:
    case = start_case(stack, "IT-API-OTHER-0001", JINFENG)
    for method, path in (("GET", ""), ("POST", "/accept"), ("POST", "/decline")):
        got = api(stack, method, f"/cases/{case.complaint_id}{path}", keys[SHANYANG])
        assert got.status_code == 404 and got.json() == {"error": f"no case {case.complaint_id}"}
    listed = api(stack, "GET", "/cases", keys[SHANYANG]).json()["cases"]
    assert case.complaint_id not in [c["complaint_id"] for c in listed]
    assert stack.cases.get(case.complaint_id).version == case.version  # type: ignore[union-attr]


def test_the_enterprise_accepts_and_reports_through_the_api(stack: LocalStack, keys: dict[str, str]) -> None:
    key = keys[JINFENG]
    case = start_case(stack, "IT-API-FLOW-00001", JINFENG)
    listed = api(stack, "GET", "/cases", key).json()["cases"]
    assert case.complaint_id in [c["complaint_id"] for c in listed]
    got = api(stack, "POST", f"/cases/{case.complaint_id}/accept", key)
    assert got.status_code == 200 and got.json()["result"] == "done"
    again = api(stack, "POST", f"/cases/{case.complaint_id}/accept", key)
    assert again.status_code == 200 and again.json()["result"] == "repeated"
    wait_for_case(stack, case.complaint_id, lambda c: c.pending is not None and c.pending.phase == "resolution")

    bad = api(stack, "POST", f"/cases/{case.complaint_id}/result", key, {"settled": False, "summary": "未谈拢"})
    assert bad.status_code == 422 and "not_settled_reason is required" in bad.text
    wrong = api(stack, "POST", f"/cases/{case.complaint_id}/result", key, {"settled": "maybe"})
    assert wrong.status_code == 422
    result = {"settled": True, "recovered_amount": "150.50", "summary": "部分退款,消费者同意"}
    done = api(stack, "POST", f"/cases/{case.complaint_id}/result", key, result)
    assert done.status_code == 200 and done.json()["case"]["feedback"]["recovered_amount"] == "150.50"
    after = wait_for_case(stack, case.complaint_id, lambda c: c.pending is not None and c.pending.phase == "review")
    acted = [(h.event, h.actor, h.detail.get("via")) for h in after.history if h.actor.startswith("enterprise:")]
    assert acted == [
        ("accepted", f"enterprise:{JINFENG}", None),
        ("action_repeated", f"enterprise:{JINFENG}", "api"),
        ("result_reported", f"enterprise:{JINFENG}", None),
    ]
    # Once accepted, declining is refused (and recorded), not silently ignored.
    refused = api(stack, "POST", f"/cases/{case.complaint_id}/decline", key)
    assert refused.status_code == 409 and refused.json()["code"] == "not_allowed"


def test_a_revoked_key_stops_working(stack: LocalStack) -> None:
    store = ApiKeyStore(stack.deployment.ref("DirectoryTable"))
    key = store.issue(JINFENG, "to revoke", stack.now())
    assert api(stack, "GET", "/cases", key).status_code == 200
    store.revoke(api_key_hash(key), stack.now())
    assert api(stack, "GET", "/cases", key).status_code == 401


def test_the_checked_in_openapi_document_is_the_generated_one() -> None:
    spec = importlib.util.spec_from_file_location("actions_app_openapi", ROOT / "functions" / "actions" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = json.loads(module.openapi_json())
    checked_in = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert checked_in == generated, "regenerate: .venv/bin/python functions/actions/app.py > docs/openapi.json"
    assert set(generated["paths"]) == {
        "/l/{link_id}",
        "/api/v1/cases",
        "/api/v1/cases/{complaint_id}",
        "/api/v1/cases/{complaint_id}/accept",
        "/api/v1/cases/{complaint_id}/decline",
        "/api/v1/cases/{complaint_id}/result",
        "/api/v1/cases/{complaint_id}/notes",
    }


def test_the_sample_events_run_through_the_real_handler(stack: LocalStack, invoke: Invoker) -> None:
    def sample(name: str) -> dict[str, object]:
        return dict(json.loads((ROOT / "events" / name).read_text(encoding="utf-8")))

    ok, page = invoke("ActionsFunction", sample("actions_open_link.json"))
    assert ok and page["statusCode"] == 404 and "链接无效" in page["body"]  # no such link on this stack
    ok, posted = invoke("ActionsFunction", sample("actions_submit_link.json"))
    assert ok and posted["statusCode"] == 404
    ok, api_call = invoke("ActionsFunction", sample("actions_api_result.json"))
    assert ok and api_call["statusCode"] == 401  # the sample's key was never issued
    ok, swept = invoke("ReminderFunction", sample("reminders.json"))
    assert ok and set(swept) == {"candidates", "reminded", "failed"}
