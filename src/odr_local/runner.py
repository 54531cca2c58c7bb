"""Runs a scenario on the local stack: publishes complaints on the simulated 12315 platform, plays the
enterprises, stations and consumers through the adapter's HTTP API, and summarises the outcome."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import requests

from odr_adapter.case import Case
from odr_adapter.clock import local
from odr_adapter.summary import Summary, summarise

from .scenario import Behaviour, Scenario
from .stack import LocalStack


@dataclass
class Actor:
    """Plays one case's enterprise, station and consumer per its behaviour, at simulated times."""

    complaint_id: str
    behaviour: Behaviour
    done: set[str] = field(default_factory=set)

    def step(self, case: Case, now: datetime, run: ScenarioRun) -> None:
        b, t = self.behaviour, run.scenario.timing
        acceptance = case.deadlines.get("acceptance")
        if b.accept == "late" and acceptance is not None:
            # A late specialist acts after the deadline whatever the case shows, and is refused.
            if now >= acceptance.due_at + timedelta(days=t.late_margin_days):
                self._once(run, "accept", {}, key="acceptance")
            return
        pending = case.pending
        if not case.is_open or pending is None:
            return
        since = pending.since
        if b.withdraw != "no" and "withdraw" not in self.done:
            phase = "acceptance" if b.withdraw == "while_waiting_acceptance" else "resolution"
            if pending.phase == phase and now >= since + timedelta(days=t.withdraw_after_days):
                self.done.add("withdraw")
                run.withdraw(case)
            return
        if pending.phase == "acceptance":
            if b.accept == "never":
                return
            if now >= since + timedelta(days=t.accept_after_days):
                self._once(run, "decline" if b.accept == "decline" else "accept", {}, key="acceptance")
        elif pending.phase in ("resolution", "rework"):
            if b.result == "never" or now < since + timedelta(days=t.result_after_days):
                return
            self._once(run, "result", self._report(case, b), key=f"result-{case.send_backs}")
        elif pending.phase == "review":
            if b.station == "never" or now < since + timedelta(days=t.review_after_days):
                return
            if b.station == "send_back_once" and case.send_backs == 0:
                self._once(run, "send-back", {"comment": "请补充与消费者沟通的记录和退款凭证"}, key="send_back")
            else:
                self._once(run, "approve", {"comment": "同意办结"}, key="approve")

    def _report(self, case: Case, b: Behaviour) -> dict[str, Any]:
        amount = Decimal(
            str(case.record.get("claimed_amount") or case.record.get("transaction", {}).get("amount") or "0")
        )
        if b.result == "not_settled":
            return {
                "settled": False,
                "summary": "多次沟通,双方未达成一致",
                "not_settled_reason": "消费者诉求超出法定标准",
            }
        recovered = {
            "full": amount,
            "half": (amount / 2).quantize(Decimal("0.01")),
            "none": Decimal("0.00"),
        }.get(b.recovered, Decimal(b.recovered) if b.recovered[:1].isdigit() else amount)
        return {
            "settled": True,
            "recovered_amount": f"{recovered:.2f}",
            "summary": "已与消费者协商一致,完成退款",
        }

    def _once(self, run: ScenarioRun, action: str, body: dict[str, Any], key: str) -> None:
        if key in self.done:
            return
        if run.act(self.complaint_id, action, body) != 429:
            self.done.add(key)


@dataclass
class ScenarioRun:
    scenario: Scenario
    stack: LocalStack
    out: TextIO = sys.stdout
    actions: list[dict[str, Any]] = field(default_factory=list)

    def act(self, complaint_id: str, action: str, body: dict[str, Any]) -> int:
        url = f"{self.stack.api.url}/prod/cases/{complaint_id}/{action}"
        response = requests.post(url, json=body, timeout=30)
        self.actions.append({"complaint_id": complaint_id, "action": action, "status": response.status_code})
        # 409 with Retry-After: the workflow has not reached that wait yet; the actor tries again.
        return 429 if response.status_code == 409 and "Retry-After" in response.headers else response.status_code

    def withdraw(self, case: Case) -> None:
        record = dict(case.record)
        now = self.stack.clock.now()
        record.update(revision=case.revision + 1, status="withdrawn", updated_at=local(now).isoformat())
        self.stack.simulator.publish(record)

    def run(self) -> dict[str, Any]:
        stack = self.stack
        records = self.scenario.records(stack.district)
        for record in records:
            stack.simulator.publish(record)
        ids = sorted({str(r.get("complaint_id")) for r in records})
        actors = {cid: Actor(cid, self.scenario.behaviour_for(cid)) for cid in ids}
        stack.run_triggers()
        deadline = time.monotonic() + self.scenario.max_days * self.scenario.seconds_per_day + 60
        cases: dict[str, Case] = {}
        last_print = 0.0
        quarantined = 0
        while time.monotonic() < deadline:
            now = stack.clock.now()
            for cid in ids:
                if cid in cases and not cases[cid].is_open:
                    continue  # closed cases do not change any more
                case = stack.cases.get(cid)
                if case is None:
                    continue
                cases[cid] = case
                actors[cid].step(case, now, self)
            if len(cases) + quarantined < len(ids):
                quarantined = len(stack.quarantine.all())
            open_count = sum(1 for c in cases.values() if c.is_open)
            if time.monotonic() - last_print > 1.0:
                self._progress(now, cases, open_count, len(ids), quarantined)
                last_print = time.monotonic()
            if len(cases) + quarantined >= len(ids) and open_count == 0:
                break
            time.sleep(0.5)
        self._progress(stack.clock.now(), cases, sum(1 for c in cases.values() if c.is_open), len(ids), quarantined)
        summary = summarise(list(cases.values()))
        print(file=self.out)
        print(summary.table(), file=self.out)
        print(file=self.out)
        print(summary.sentence(), file=self.out)
        return self.result(list(cases.values()), summary, quarantined, len(ids))

    def _progress(self, now: datetime, cases: dict[str, Case], open_count: int, total: int, quarantined: int) -> None:
        by: dict[str, int] = {}
        for c in cases.values():
            key = c.outcome or c.status
            by[key] = by.get(key, 0) + 1
        parts = " ".join(f"{k}={v}" for k, v in sorted(by.items()))
        print(
            f"[{local(now):%m-%d %H:%M}] cases {len(cases)}/{total} open {open_count} "
            f"quarantined {quarantined} | {parts}",
            file=self.out,
            flush=True,
        )

    def result(self, cases: list[Case], summary: Summary, quarantined: int, offered: int) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "offered": offered,
            "quarantined": quarantined,
            "cases": [
                {
                    "complaint_id": c.complaint_id,
                    "status": c.status,
                    "outcome": c.outcome,
                    "overdue": c.overdue,
                    "refusal_reason": c.refusal_reason,
                    "screening": c.screening.model_dump() if c.screening else None,
                    "route": c.route.model_dump() if c.route else None,
                    "enterprise": c.enterprise.model_dump() if c.enterprise else None,
                    "station": c.station_code,
                    "deadlines": {p: local(d.due_at).isoformat() for p, d in c.deadlines.items()},
                    "recovered_amount": str(c.recovered_amount) if c.recovered_amount is not None else None,
                    "cycle_days": str(c.cycle_days) if c.cycle_days is not None else None,
                    "calendar_fallback": c.calendar_fallback,
                }
                for c in sorted(cases, key=lambda c: c.complaint_id)
            ],
            "summary": summary.as_dict(),
            "actions": self.actions,
            "reported_to_12315": len(self.stack.simulator.result_log),
        }


def run_scenario(path: Path, result_path: Path | None = None, out: TextIO = sys.stdout) -> dict[str, Any]:
    scenario = Scenario.load(path)
    stack = LocalStack(scenario.start, scenario.seconds_per_day, policies=scenario.deadline_policies).start()
    try:
        print(
            f"local stack up: AWS emulation {stack.endpoint}, API {stack.api.url}, "
            f"12315 simulator {stack.simulator.url}",
            file=out,
        )
        print(f"scenario '{scenario.name}': 1 simulated day = {scenario.seconds_per_day}s", file=out)
        result = ScenarioRun(scenario, stack, out).run()
    finally:
        stack.stop()
    if result_path:
        result_path.parent.mkdir(parents=True, exist_ok=True)
        result_path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"result written to {result_path}", file=out)
    return result
