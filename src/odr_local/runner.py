"""Runs a scenario on the local stack: publishes complaints on the simulated 12315 platform, plays the
enterprises, stations and consumers through the adapter's HTTP API, and summarises the outcome.

The people are driven by events, not by polling cases: each looks at a message when it reaches them (SMS or
e-mail, as the adapter sent it), opens its link, and plans the action their behaviour says, at the behaviour's
delay, as a timer on the kernel. The run ends when every complaint offered is a closed case or quarantined,
which the runner learns from the case table's stream, as any consumer of it would.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from odr_adapter.clock import local
from odr_adapter.data_access.stats import StatsStore
from odr_adapter.models.case import Case
from odr_adapter.stats.figures import Period, Report, Summary, build_report, summarise
from odr_cli.report_export import write_html
from odr_cli.report_text import report_table

from .inbox import Delivered, Inbox, Seen, open_link, submit
from .reconciliation import ProgressReconciliation, Reconciliation, reconcile, reconcile_progress
from .scenario import Behaviour, Scenario
from .stack import LocalStack
from .template import ROOT
from .timelines import TimelineDriver
from .worklist_people import NotListed, WorklistPerson

TOLD_WITHIN = timedelta(days=1)  # after the last case closed: its outcome and progress reach 12315 in this time
RETRY_AFTER_BUSY = timedelta(minutes=10)  # a page answered 503 (the workflow not at that wait yet): try again
LATE_BY = timedelta(hours=1)  # how long after the deadline a late specialist submits
PROGRESS_EVERY = timedelta(hours=6)
STALLED_AFTER = timedelta(days=1)  # a complaint offered and visible this long, yet neither a case nor quarantined
FEED_CHECK_EVERY = timedelta(hours=1)


class FeedStalled(RuntimeError):
    """The feed makes no progress: the run stops naming the cause and the complaints, instead of polling on until
    ``max_days`` (issue 20: a record the simulator could not serve kept a run polling for 10 simulated days)."""


@dataclass
class Person:
    """Everything one complaint's people plan and do: the enterprise's specialist, the station's responsible
    person and the consumer, per the complaint's behaviour."""

    complaint_id: str
    behaviour: Behaviour
    planned: set[str] = field(default_factory=set)  # one plan per wait: "acceptance-0", "review-1", ...
    withdrawn: bool = False
    by_worklist: bool = False  # the specialist accepts and the station reviews from their worklists


@dataclass
class ScenarioRun:
    scenario: Scenario
    stack: LocalStack
    out: TextIO = sys.stdout
    actions: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.inbox = Inbox(self.stack.ses_region, self.stack.region, self.stack.sms_gateway, self.stack.smtp_server)
        self.read = (0, 0, 0)  # messages looked at so far, per channel
        self.status: dict[str, str] = {}  # complaint id -> status, from the case stream
        self.outcomes: dict[str, str] = {}
        self.quarantined: set[str] = set()
        self.desks: dict[str, WorklistPerson] = {}  # holder -> the person signed in to its worklist
        self.stalled: str | None = None  # why the feed makes no progress, once it is seen (the run then stops)
        self.timelines = TimelineDriver(
            self.scenario.timelines,
            self.stack.now,
            self.stack.kernel.call_at,
            self.stack.cases.get,
            self._desk,
            self.stack.simulator.publish,
        )

    # -- what people do ---------------------------------------------------------------------------------

    def look_at_new_messages(self) -> bool:
        """A kernel source: every message that reached someone since the last look (plans, does no work)."""
        messages, self.read = self.inbox.new_since(self.read)
        for message in messages:
            self._receive(message)
        return False

    def _receive(self, message: Delivered) -> None:
        for url in message.links:
            page = open_link(url)
            if self.timelines.owns(page.complaint_id):
                self.timelines.received(page)  # its people act by the scenario's timeline
                continue
            person = self.people.get(page.complaint_id)
            if person is None or person.withdrawn or not page.forms:
                continue
            case = self.stack.cases.get(page.complaint_id)
            if case is None or not case.is_open:
                continue
            self._plan(person, page, case)

    def _plan(self, person: Person, page: Seen, case: Case) -> None:
        b, t = person.behaviour, self.scenario.timing
        now = self.stack.now()
        key = f"{page.phase}-{case.send_backs}"
        if key in person.planned:
            return  # a reminder, or the same notice by the other channel
        person.planned.add(key)
        if "confirm_screening" in page.forms:
            if b.screening != "never":
                fields = {
                    "accept": {"decision": "accept"},
                    "regular": {"decision": "regular", "reason": "涉及线下服务,宜由监管所常规处理"},
                    "refuse": {"decision": "refuse", "refusal_reason": "handled_elsewhere", "reason": "已由消保委调解"},
                }[b.screening]
                self._at(now + timedelta(days=t.review_after_days), person, page, "confirm_screening", fields)
            return
        if "accept" in page.forms:
            if b.withdraw == "while_waiting_acceptance":
                self._withdraw_at(now + timedelta(days=t.withdraw_after_days), person)
            deadline = case.deadlines.get("acceptance")
            if b.accept == "late" and deadline is not None:
                self._at(deadline.due_at + LATE_BY, person, page, "accept", {})
            elif b.accept in ("on_time", "decline"):
                action = "decline" if b.accept == "decline" else "accept"
                when = now + timedelta(days=t.accept_after_days)
                if person.by_worklist and action == "accept":
                    self._from_worklist(when, person, case, "acceptance", action, {})
                else:
                    self._at(when, person, page, action, {})
            return
        if "report" in page.forms:
            if b.withdraw == "while_waiting_result" and case.send_backs == 0:
                self._withdraw_at(now + timedelta(days=t.withdraw_after_days), person)
            if b.result != "never":
                self._at(now + timedelta(days=t.result_after_days), person, page, "report", _report(case, b))
            return
        if "approve" in page.forms and b.station != "never":
            if b.station == "send_back_once" and case.send_backs == 0:
                fields, action = {"comment": "请补充与消费者沟通的记录和退款凭证"}, "send_back"
            else:
                fields, action = {"comment": "同意办结"}, "approve"
            when = now + timedelta(days=t.review_after_days)
            if person.by_worklist:
                self._from_worklist(when, person, case, "review", action, fields)
            else:
                self._at(when, person, page, action, fields)

    def _at(self, when: datetime, person: Person, page: Seen, action: str, fields: dict[str, Any]) -> None:
        def act() -> None:
            if person.withdrawn:
                return  # withdrawn: nobody acts on it any more
            got = submit(page, action, fields)
            if got.status == 503:  # the workflow has not reached that wait yet: the person tries again
                self._at(self.stack.now() + RETRY_AFTER_BUSY, person, page, action, fields)
                return
            self.actions.append(
                {"complaint_id": page.complaint_id, "action": action, "status": got.status, "via": "link"}
            )

        self.stack.kernel.call_at(when, act, f"{action} {page.complaint_id}")

    def _from_worklist(
        self, when: datetime, person: Person, case: Case, phase: str, action: str, fields: dict[str, Any]
    ) -> None:
        """The same action, taken from the holder's worklist: signed in by a login link, the case found in the
        list of its phase, the case page's form submitted."""
        role = "station" if phase == "review" else "enterprise"
        holder = case.station_code if role == "station" else case.enterprise.uscc if case.enterprise else None
        if holder is None:
            return
        desk = self._desk(role, holder)

        def act() -> None:
            if person.withdrawn:
                return
            try:
                got = desk.act(person.complaint_id, phase, action, fields)
                status = got.status
            except NotListed:
                status = 404  # no longer in the phase's list (it moved on, or was withdrawn)
            if status == 503:  # the workflow has not reached that wait yet
                self._from_worklist(self.stack.now() + RETRY_AFTER_BUSY, person, case, phase, action, fields)
                return
            self.actions.append(
                {"complaint_id": person.complaint_id, "action": action, "status": status, "via": "worklist"}
            )

        self.stack.kernel.call_at(when, act, f"{action} {person.complaint_id} from the worklist")

    def _desk(self, role: str, holder: str) -> WorklistPerson:
        if holder not in self.desks:
            district = self.stack.district
            if role == "station":
                station = district.station(holder)
                email, mobile = (station.reviewer_email, station.reviewer_mobile) if station else (None, None)
            else:
                ent = district.by_uscc(holder)
                email, mobile = (ent.contact_email, ent.contact_mobile) if ent else (None, None)
            # One contact, where its login links come: a station's e-mail, a specialist's phone (as messages go)
            first_email = (role == "station" and email) or not mobile
            email, mobile = (email, None) if first_email else (None, mobile)
            self.desks[holder] = WorklistPerson(f"{self.stack.api.url}/prod", self.inbox, email, mobile)
        return self.desks[holder]

    def _withdraw_at(self, when: datetime, person: Person) -> None:
        def withdraw() -> None:
            case = self.stack.cases.get(person.complaint_id)
            if case is None or not case.is_open:
                return
            person.withdrawn = True
            record = dict(case.record)
            stamp = local(self.stack.now()).isoformat()
            record.update(revision=case.revision + 1, status="withdrawn", updated_at=stamp)
            self.stack.simulator.publish(record)

        self.stack.kernel.call_at(when, withdraw, f"withdraw {person.complaint_id}")

    # -- watching the case table's stream ---------------------------------------------------------------

    def observe(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            image = record["dynamodb"].get("NewImage") or {}
            pk = image.get("pk", {}).get("S", "")
            if pk.startswith("CASE#"):
                cid = pk.removeprefix("CASE#")
                self.status[cid] = image.get("status", {}).get("S", "")
                if "outcome" in image:
                    self.outcomes[cid] = image["outcome"]["S"]
                self.timelines.changed(cid)
            elif pk == "QUARANTINE" and "complaint_id" in image:
                self.quarantined.add(image["complaint_id"]["S"])

    def _finished(self) -> bool:
        closed = all(self.status.get(cid) == "closed" or cid in self.quarantined for cid in self.people)
        return closed and not self.timelines.pending  # a timeline's people still act on a closed case

    def _progress(self) -> None:
        by: dict[str, int] = {}
        for cid, status in self.status.items():
            key = self.outcomes.get(cid) or status
            by[key] = by.get(key, 0) + 1
        open_count = sum(1 for s in self.status.values() if s != "closed")
        parts = " ".join(f"{k}={v}" for k, v in sorted(by.items()))
        print(
            f"[{local(self.stack.now()):%m-%d %H:%M}] cases {len(self.status)}/{len(self.people)} "
            f"open {open_count} quarantined {len(self.quarantined)} | {parts}",
            file=self.out,
            flush=True,
        )

    def _watch_feed(self) -> None:
        """A kernel timer: is the feed making progress? Not when the simulator failed to serve (a fault of its own,
        never an injected one) while a complaint it offers is neither a case nor quarantined, or when a complaint
        has been visible on the feed for :data:`STALLED_AFTER` without becoming either: retries, injected faults
        and a poll every few minutes bring a record in within minutes or hours, never a day."""
        sim, now = self.stack.simulator, self.stack.now()
        visible = sim.visible_since()
        waiting = sorted(cid for cid in visible if cid not in self.status and cid not in self.quarantined)
        overdue = [cid for cid in waiting if now - visible[cid] >= STALLED_AFTER]
        if self.stalled is not None or not (overdue or (waiting and sim.serving_errors)):
            return
        feed = sim.counters()
        if sim.serving_errors:
            failed = sim.serving_errors
            cause = f"the 12315 simulator failed {len(failed)} times to serve (last: {failed[-1]})"
        else:
            cause = (
                f"nothing brought them in for {STALLED_AFTER.total_seconds() / 3600:g} simulated hours (pulls "
                f"{feed['pull_requests']}, pages served {feed['pages_served']}, pushes accepted "
                f"{feed['pushes_accepted']} of {feed['pushes_attempted']}, faults injected {feed['faults']})"
            )
        stuck = waiting  # all held up by the same cause, the newest too
        named = ", ".join(stuck[:10]) + (f" and {len(stuck) - 10} more" if len(stuck) > 10 else "")
        self.stalled = f"the feed makes no progress: complaints {named} are neither cases nor quarantined; {cause}"

    # -- the run -----------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        stack, kernel = self.stack, self.stack.kernel
        records = self.scenario.records(stack.district)
        # Before publishing: which records arrive late is decided as they are published.
        stack.simulator.configure(self.scenario.feed, f"{stack.api.url}/prod/feed/complaints", kernel)
        for record in records:
            stack.simulator.publish(record)
        ids = sorted({str(r.get("complaint_id")) for r in records})
        listed = self.scenario.by_worklist(ids)
        self.people = {cid: Person(cid, self.scenario.behaviour_for(cid), by_worklist=cid in listed) for cid in ids}
        cases_stream = stack.deployment.att("CasesTable", "StreamArn")
        for pump in stack.stream_pumps:
            if pump.trigger.stream_arn == cases_stream:
                pump.observers.append(self.observe)
                break  # each mapping on the stream reads every record: one is enough to watch it
        kernel.add_source(self.look_at_new_messages)
        kernel.every(PROGRESS_EVERY.total_seconds(), self._progress, "progress")
        kernel.every(FEED_CHECK_EVERY.total_seconds(), self._watch_feed, "feed progress")
        stack.run_triggers()
        finished = kernel.run_until(
            lambda: self._finished() or self.stalled is not None,
            until=self.scenario.start + timedelta(days=self.scenario.max_days),
        )
        if self.stalled is not None:
            print(f"stopped: {self.stalled}", file=self.out, flush=True)
            raise FeedStalled(self.stalled)
        if finished:  # the last outcomes and stages are still on their way to 12315
            kernel.run_until(self._told_12315, until=stack.now() + TOLD_WITHIN)
        self._progress()
        if not finished:
            print(f"stopped after {self.scenario.max_days} simulated days with cases still open", file=self.out)
        cases = [c for c in (stack.cases.get(cid) for cid in ids) if c is not None]
        quarantine = stack.quarantine.all()
        summary = summarise(cases)
        report = self._report(cases)
        print(file=self.out)
        print(report_table(report), file=self.out)
        print(file=self.out)
        print(report.sentence(), file=self.out)
        ingestion = self._reconcile(cases, quarantine)
        print(ingestion.line(), file=self.out)
        progress = self._reconcile_progress(cases)
        print(progress.line(), file=self.out)
        result = self.result(cases, summary, len(quarantine), len(ids))
        result["report"] = report.as_dict()
        result["ingestion"] = ingestion.as_dict()
        result["progress"] = progress.as_dict()
        result["feed"] = stack.simulator.counters()
        return result

    def _reconcile(self, cases: list[Case], quarantine: list[dict[str, Any]]) -> Reconciliation:
        intake = self.stack.deployment.ref("IntakeFunction")
        deliveries = sum(p.delivered for p in self.stack.queue_pumps if p.trigger.function == intake)
        return reconcile(self.stack.simulator.offered(), cases, quarantine, deliveries)

    def _told_12315(self) -> bool:
        """Nothing left to tell the platform: the case stream is read and the report queues are empty."""
        senders = {self.stack.deployment.ref(f) for f in ("ReportBackFunction", "ReportProgressFunction")}
        return all(p.caught_up() for p in self.stack.stream_pumps) and all(
            p.is_empty() for p in self.stack.queue_pumps if p.trigger.function in senders
        )

    def _reconcile_progress(self, cases: list[Case]) -> ProgressReconciliation:
        sim = self.stack.simulator
        return reconcile_progress(cases, sim.progress_log, sim.superseded_log, sim.counters())

    def _report(self, closed: list[Case]) -> Report:
        """The bureau's report from the counters the stream keeps (as in production), written as HTML too."""
        store = StatsStore(self.stack.deployment.ref("StatsTable"))
        today = local(self.stack.now()).date()
        period = Period.covering(closed) if closed else Period(today, today)
        report = build_report(store, period, {s.code: s.name for s in self.stack.district.stations})
        path = ROOT / "build" / "report.html"
        path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no build/ yet
        write_html(report, path, self.stack.now())
        print(f"HTML report: {path}", file=self.out)
        return report

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
                    "closed_at": local(c.closed_at).isoformat() if c.closed_at else None,
                }
                for c in sorted(cases, key=lambda c: c.complaint_id)
            ],
            "summary": summary.as_dict(),
            "actions": self.actions,
            "timeline_steps": self.timelines.log,
            "reported_to_12315": len(self.stack.simulator.result_log),
        }


def _report(case: Case, b: Behaviour) -> dict[str, Any]:
    """What a specialist fills in on the result form."""
    amount = Decimal(str(case.record.get("claimed_amount") or case.record.get("transaction", {}).get("amount") or "0"))
    if b.result == "not_settled":
        return {"settled": "no", "summary": "多次沟通,双方未达成一致", "not_settled_reason": "消费者诉求超出法定标准"}
    recovered = {
        "full": amount,
        "half": (amount / 2).quantize(Decimal("0.01")),
        "none": Decimal("0.00"),
    }.get(b.recovered, Decimal(b.recovered) if b.recovered[:1].isdigit() else amount)
    return {"settled": "yes", "recovered_amount": f"{recovered:.2f}", "summary": "已与消费者协商一致,完成退款"}


def stack_for(scenario: Scenario, seconds_per_day: float | None = None, port: int = 0) -> LocalStack:
    return LocalStack(
        scenario.start,
        seconds_per_day,
        port=port,
        policies=scenario.deadline_policies,
        manual_screening=scenario.manual_screening,
        parameters=scenario.parameters,
        config_env=scenario.config_env,
    ).start()


def write_result(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


def run_scenario(
    path: Path, result_path: Path | None = None, out: TextIO = sys.stdout, config_env: str | None = None
) -> dict[str, Any]:
    scenario = Scenario.load(path)
    scenario.config_env = config_env or scenario.config_env
    stack = stack_for(scenario)
    try:
        print(
            f"local stack up: AWS emulation {stack.endpoint}, API {stack.api.url}, "
            f"12315 simulator {stack.simulator.url}",
            file=out,
        )
        print("\n".join(stack.deployed_from()), file=out)
        print(f"scenario '{scenario.name}' in virtual time from {local(scenario.start):%Y-%m-%d %H:%M}", file=out)
        try:
            result = ScenarioRun(scenario, stack, out).run()
        except FeedStalled as stalled:  # a clear error and a non-zero exit
            raise SystemExit(f"odr-local: {stalled}") from None
    finally:
        stack.stop()
    if result_path:
        write_result(result, result_path)
        print(f"result written to {result_path}", file=out)
    return result
