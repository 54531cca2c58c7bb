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
from typing import Any, ClassVar, TextIO

from odr_adapter.case import Case
from odr_adapter.clock import local
from odr_adapter.data_access.stats import StatsStore
from odr_adapter.directory import District
from odr_adapter.messages import deadline_text
from odr_adapter.report_export import write_html
from odr_adapter.reports import Period, Report, build_report, counts_cover
from odr_adapter.summary import Summary, summarise

from .inbox import Delivered, Inbox, Seen, open_link, submit
from .reconciliation import Reconciliation, reconcile
from .scenario import Behaviour, Scenario
from .services import QueuePump
from .stack import REGION, SES_REGION, LocalStack
from .template import ROOT


@dataclass
class Actor:
    """Plays one case's enterprise, station and consumer per its behaviour, at simulated times.

    The enterprise's specialist and the station's reviewer act as people do: they read the messages the
    adapter sent them (SMS or e-mail), follow the link, and submit the page's form.
    """

    complaint_id: str
    behaviour: Behaviour
    done: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)  # links this actor submitted
    pages: ClassVar[dict[str, Seen]] = {}  # every link opened so far (by URL, which is unique), shared
    districts: ClassVar[dict[str, District]] = {}  # by stack endpoint

    def step(self, case: Case, now: datetime, run: ScenarioRun) -> None:
        b, t = self.behaviour, run.scenario.timing
        acceptance = case.deadlines.get("acceptance")
        if b.accept == "late" and acceptance is not None:
            # A late specialist opens the link in time but submits after the deadline, and is refused. It
            # submits at the first look after the deadline: the workflow closes an overdue case within a
            # second or so, and closed cases are no longer played.
            if now < acceptance.due_at and "opened" not in self.done:
                if self._page(run, case, "accept") is not None:
                    self.done.add("opened")
            elif now >= acceptance.due_at:
                self._once(run, case, "accept", {}, key="acceptance")
            return
        pending = case.pending
        if not case.is_open or pending is None:
            return
        since = pending.since
        if b.withdraw != "no":
            phase = "acceptance" if b.withdraw == "while_waiting_acceptance" else "resolution"
            if "withdraw" in self.done:
                return  # withdrawn: nobody acts on it any more, whatever the case shows until it closes
            if pending.phase == phase and now >= since + timedelta(days=t.withdraw_after_days):
                self.done.add("withdraw")
                run.withdraw(case)
                return
        if pending.phase == "screening":
            if b.screening == "never" or now < since + timedelta(days=t.review_after_days):
                return
            fields = {
                "accept": {"decision": "accept"},
                "regular": {"decision": "regular", "reason": "涉及线下服务,宜由监管所常规处理"},
                "refuse": {"decision": "refuse", "refusal_reason": "handled_elsewhere", "reason": "已由消保委调解"},
            }[b.screening]
            self._once(run, case, "confirm_screening", fields, key="screening")
        elif pending.phase == "acceptance":
            if b.accept == "never":
                return
            if now >= since + timedelta(days=t.accept_after_days):
                self._once(run, case, "decline" if b.accept == "decline" else "accept", {}, key="acceptance")
        elif pending.phase in ("resolution", "rework"):
            if b.result == "never" or now < since + timedelta(days=t.result_after_days):
                return
            self._once(run, case, "report", self._report(case, b), key=f"result-{case.send_backs}")
        elif pending.phase == "review":
            if b.station == "never" or now < since + timedelta(days=t.review_after_days):
                return
            if b.station == "send_back_once" and case.send_backs == 0:
                self._once(run, case, "send_back", {"comment": "请补充与消费者沟通的记录和退款凭证"}, key="send_back")
            else:
                self._once(run, case, "approve", {"comment": "同意办结"}, key="approve")

    def _report(self, case: Case, b: Behaviour) -> dict[str, Any]:
        amount = Decimal(
            str(case.record.get("claimed_amount") or case.record.get("transaction", {}).get("amount") or "0")
        )
        if b.result == "not_settled":
            return {
                "settled": "no",
                "summary": "多次沟通,双方未达成一致",
                "not_settled_reason": "消费者诉求超出法定标准",
            }
        recovered = {
            "full": amount,
            "half": (amount / 2).quantize(Decimal("0.01")),
            "none": Decimal("0.00"),
        }.get(b.recovered, Decimal(b.recovered) if b.recovered[:1].isdigit() else amount)
        return {"settled": "yes", "recovered_amount": f"{recovered:.2f}", "summary": "已与消费者协商一致,完成退款"}

    def _page(self, run: ScenarioRun, case: Case, action: str) -> Seen | None:
        """The newest page, among the links this person received, that offers ``action`` on this case."""
        role = "station" if action in ("approve", "send_back", "confirm_screening") else "enterprise"
        if run.stack.endpoint not in Actor.districts:
            Actor.districts[run.stack.endpoint] = run.stack.district  # the directory does not change in a run
        district = Actor.districts[run.stack.endpoint]
        if role == "station":
            station = district.station(case.station_code or "")
            email, mobile = (station.reviewer_email, station.reviewer_mobile) if station else (None, None)
        else:
            ent = district.by_uscc(case.enterprise.uscc) if case.enterprise else None
            email, mobile = (ent.contact_email, ent.contact_mobile) if ent else (None, None)
        received = list(reversed(Inbox(SES_REGION, REGION, run.stack.sms_gateway).received_by(email, mobile)))
        # Like a person, first the messages that name the case or its deadline, then (rarely) all the others.
        likely = [m for m in received if _mentions(m, case, action)]
        for message in likely + [m for m in received if m not in likely]:
            for url in message.links:
                if url in self.used:
                    continue
                if url not in Actor.pages:
                    Actor.pages[url] = open_link(url)
                page = Actor.pages[url]
                if page.complaint_id == case.complaint_id and action in page.forms:
                    return page
        return None

    def _once(self, run: ScenarioRun, case: Case, action: str, fields: dict[str, Any], key: str) -> None:
        if key in self.done:
            return
        page = self._page(run, case, action)
        if page is None:
            return  # the message with the link has not arrived yet: look again at the next step
        if run.act(page, action, fields) != 429:
            self.done.add(key)
            self.used.add(page.url)


_PHASE_OF = {
    "accept": "acceptance",
    "decline": "acceptance",
    "report": "resolution",
    "approve": "review",
    "confirm_screening": "screening",
}


def _mentions(message: Delivered, case: Case, action: str) -> bool:
    """An e-mail names the case; an SMS (no room for the id) gives the deadline of the phase it acts in."""
    if case.complaint_id in message.subject:
        return True
    deadline = case.deadlines.get(_PHASE_OF.get(action, "review"))
    return deadline is not None and deadline_text(deadline.due_at, short=True) in message.body


@dataclass
class ScenarioRun:
    scenario: Scenario
    stack: LocalStack
    out: TextIO = sys.stdout
    actions: list[dict[str, Any]] = field(default_factory=list)

    def act(self, page: Seen, action: str, fields: dict[str, Any]) -> int:
        """Submit the page's form for ``action``, as the person who opened the link."""
        got = submit(page, action, fields)
        self.actions.append({"complaint_id": page.complaint_id, "action": action, "status": got.status})
        # 503 with Retry-After: the workflow has not reached that wait yet; the person tries again.
        return 429 if got.status == 503 else got.status

    def withdraw(self, case: Case) -> None:
        record = dict(case.record)
        now = self.stack.clock.now()
        record.update(revision=case.revision + 1, status="withdrawn", updated_at=local(now).isoformat())
        self.stack.simulator.publish(record)

    def run(self) -> dict[str, Any]:
        stack = self.stack
        records = self.scenario.records(stack.district)
        # Before publishing: which records arrive late is decided as they are published.
        stack.simulator.configure(self.scenario.feed, f"{stack.api.url}/prod/feed/complaints")
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
        report = self._report(list(cases.values()))
        print(file=self.out)
        print(report.table(), file=self.out)
        print(file=self.out)
        print(report.sentence(), file=self.out)
        ingestion = self._reconcile(list(cases.values()))
        print(ingestion.line(), file=self.out)
        result = self.result(list(cases.values()), summary, quarantined, len(ids))
        result["report"] = report.as_dict()
        result["ingestion"] = ingestion.as_dict()
        result["feed"] = self.stack.simulator.counters()
        return result

    def _reconcile(self, cases: list[Case]) -> Reconciliation:
        intake = self.stack.deployment.ref("IntakeFunction")
        deliveries = sum(
            p.delivered for p in self.stack.pumps if isinstance(p, QueuePump) and p.trigger.function == intake
        )
        fresh = [c for c in (self.stack.cases.get(c.complaint_id) for c in cases) if c is not None]
        return reconcile(self.stack.simulator.offered(), fresh, self.stack.quarantine.all(), deliveries)

    def _report(self, closed: list[Case]) -> Report:
        """The bureau's report from the counters the stream keeps (as in production), written as HTML too."""
        store = StatsStore(self.stack.deployment.ref("StatsTable"))
        deadline = time.monotonic() + 60
        while closed and not counts_cover(store, closed) and time.monotonic() < deadline:
            time.sleep(0.2)  # the stream trails the workflow by a moment
        today = local(self.stack.clock.now()).date()
        period = Period.covering(closed) if closed else Period(today, today)
        report = build_report(store, period, {s.code: s.name for s in self.stack.district.stations})
        path = ROOT / "build" / "report.html"
        write_html(report, path, self.stack.clock.now())
        print(f"HTML report: {path}", file=self.out)
        return report

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
    stack = LocalStack(
        scenario.start,
        scenario.seconds_per_day,
        policies=scenario.deadline_policies,
        manual_screening=scenario.manual_screening,
    ).start()
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
