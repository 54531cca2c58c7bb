"""The lifecycle of an ODR case from its dispatch, as the docs say it goes, for a scripted timeline of actions.

Sources: README's workflow diagram; docs/rules.md §4 (phases, deadlines, overdue means returned);
docs/notifications.md (the messages and when each goes, links: single use, repeat answered and recorded, another
action refused, refused after the deadline; reminders; notes); docs/statistics.md (what a case counts); the 12315
progress stages (layers' feed/progress docstring: a stage per (name, round), the round rising with each send-back).
Where the docs are silent, the model follows the running stack and says so in a comment marked ``silent:``.

Time runs as the local stack's kernel runs it: events at one instant in the order they were registered; the
deadline's timer is registered when its wait starts, before the wait's steps; the reminder sweep runs on a fixed
rate. A timeline that puts a step on the very instant of a sweep or of a deadline (other than a link's action at
the deadline, which is refused either way) is ambiguous; :attr:`Expected.ties` lists such steps so a generator
moves them.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from odr_model.days import SHANGHAI, Deadline, Policies, deadline
from odr_model.district import District
from odr_model.steps import Step

PHASE_ACTIONS = {"acceptance": ("accept", "decline"), "resolution": ("report",), "review": ("approve", "send_back")}
NEEDS = {"accept": "dispatched", "decline": "dispatched", "report": "accepted"}
NEEDS |= {"approve": "under_review", "send_back": "under_review"}
EVENT_OF = {"accept": "accepted", "decline": "declined", "report": "result_reported"}
EVENT_OF |= {"approve": "approved", "send_back": "sent_back"}
# silent: a repeat after the case moved on is still "the same action again" (answered 200, recorded) while the
# case is in the state the action leads to (an acceptance while the result is awaited or reviewed, a result
# while it is reviewed), as for a repeat on the same link.
DONE_AFTER = {"accept": ("accepted", "under_review"), "report": ("under_review",)}
ROUND_STARTS = {"report": ("sent_back",), "send_back": ("result_reported",)}  # a round's action is due again
MAX_SEND_BACKS = 2  # notifications.md: no send-back after the second
CYCLE_EDGES = (1, 2, 3, 5, 7, 10, 15)
STAGE_OF_EVENT = {"dispatched": "dispatched", "accepted": "accepted", "result_reported": "result_reported"}
STAGE_OF_EVENT["sent_back"] = "sent_back"


@dataclass(frozen=True)
class Case:
    """The complaint as the model needs it (a contract record, docs/rules.md §1)."""

    complaint_id: str
    registered_at: datetime
    claimed_amount: Decimal | None
    uscc: str | None
    division_code: str | None
    revision: int = 1
    odr_opt_in: bool = True

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Case:
        respondent = record.get("respondent") or {}
        claimed = record.get("claimed_amount")
        return cls(
            complaint_id=str(record["complaint_id"]),
            registered_at=datetime.fromisoformat(str(record["registered_at"])),
            claimed_amount=Decimal(claimed) if claimed else None,
            uscc=respondent.get("uscc"),
            division_code=respondent.get("division_code"),
            revision=int(record.get("revision", 1)),
            odr_opt_in=record.get("odr_opt_in") is True,
        )


@dataclass(frozen=True)
class Environment:
    """What is not a rule: when the feed delivered the case (screened and routed at once: no station here
    screens by hand), and the reminder sweep's schedule."""

    received_at: datetime
    sweep_first: datetime
    sweep_every: timedelta = timedelta(minutes=15)

    def sweep_after(self, at: datetime) -> datetime:
        """The first sweep at or after ``at``."""
        if at <= self.sweep_first:
            return self.sweep_first
        n = -(-(at - self.sweep_first) // self.sweep_every)
        return self.sweep_first + n * self.sweep_every


@dataclass(frozen=True)
class Wait:
    name: str  # acceptance, resolution, review, rework
    round: int
    start: datetime
    due: datetime

    @property
    def phase(self) -> str:
        """The deadline's phase on the case: a rework's deadline replaces the resolution deadline."""
        return "resolution" if self.name == "rework" else self.name


@dataclass(frozen=True)
class Message:
    template: str
    to: str
    round: int  # 1 + the send-backs before it
    at: datetime


@dataclass
class Link:
    role: str
    actions: tuple[str, ...]
    expires: datetime
    used_action: str | None = None
    result: str | None = None  # done, repeated, too_late, refused


@dataclass
class Expected:
    """Everything the model says must happen to the case."""

    complaint_id: str
    enterprise_class: str | None = None
    station: str | None = None
    waits: list[Wait] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    reminders: list[tuple[str, int, datetime]] = field(default_factory=list)  # (phase, round, sent at)
    escalation: tuple[str, datetime] | None = None
    people: list[tuple[str, str, str]] = field(default_factory=list)  # (event, role, reason)
    steps: list[tuple[int, int, datetime]] = field(default_factory=list)  # (step, repeat, taken at)
    taken_in: list[str] = field(default_factory=list)  # the wait each of ``steps`` was taken in, or "closed"
    ties: list[int] = field(default_factory=list)
    status: str = "dispatched"
    outcome: str | None = None
    recovered: Decimal | None = None
    overdue: bool = False
    overdue_phase: str | None = None
    closed_at: datetime | None = None
    cycle_days: Decimal | None = None
    revision: int = 1
    stages: list[str] = field(default_factory=list)  # <stage>-<round>, in order
    report: tuple[str, Decimal] | None = None  # the outcome reported to 12315
    facts: dict[tuple[str, str | None], Decimal] = field(default_factory=dict)  # (metric, day) -> value

    def message_counts(self) -> Counter[tuple[str, int | None]]:
        """(template, round) -> how many; a note's message by template alone (its round is when it is sent)."""
        return Counter((m.template, None if m.template.startswith("note_") else m.round) for m in self.messages)


def _day(at: datetime) -> str:
    return at.astimezone(SHANGHAI).date().isoformat()


def _cycle_bucket(days: Decimal) -> str:
    lower = 0
    for edge in CYCLE_EDGES:
        if days < edge:
            return f"cycle_{lower}_{edge}"
        lower = edge
    return f"cycle_{lower}_plus"


class _Life:
    """One case's run through the timeline (a discrete-event loop, as the local stack's kernel runs it)."""

    def __init__(self, case: Case, district: District, policies: Policies, steps: list[Step], env: Environment):
        self.case, self.policies, self.steps, self.env = case, policies, steps, env
        ent = district.enterprises.get(case.uscc or "")
        self.enterprise = ent
        self.klass = ent.enterprise_class if ent else None
        self.out = Expected(case.complaint_id, self.klass, district.station_for(case.division_code, ent))
        self.out.revision = case.revision
        self.queue: list[tuple[datetime, int, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.deadlines: dict[str, Deadline] = {}
        self.wait: Wait | None = None
        self.send_backs = 0
        self.feedback: tuple[bool, Decimal] | None = None
        self.links: list[Link] = []
        self.history: list[tuple[str, str]] = []  # (event, role): what already_done and done_by read
        self.people_at: list[datetime] = []  # when each of out.people happened
        self.now = env.received_at
        self.routed_regular = False

    # -- the loop -------------------------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None], first: bool = False) -> None:
        heapq.heappush(self.queue, (when, 0 if first else 1, next(self.seq), action))

    def run(self) -> Expected:
        self.at(self.env.received_at, self.route)
        while self.queue:
            self.now, _, _, action = heapq.heappop(self.queue)
            action()
        self._facts()
        self._withdrawal_ties()
        return self.out

    def _withdrawal_ties(self) -> None:
        """A withdrawal or revision reaches the case through the feed, pushed at its instant but after the steps
        already due then: another step at the same instant is a tie."""
        at: dict[datetime, list[int]] = {}
        for number, _, when in self.out.steps:
            at.setdefault(when, []).append(number)
        for numbers in at.values():
            if len(numbers) > 1:
                self.out.ties += [n for n in numbers if self.steps[n].do in ("withdraw", "revise")]

    @property
    def open(self) -> bool:
        return self.out.status != "closed"

    def round(self) -> int:
        return 1 + self.send_backs

    def send(self, template: str, to: str, link_phase: str | None = None) -> None:
        """A message; one that acts in a phase carries a new link, valid until that phase's deadline."""
        self.out.messages.append(Message(template, to, self.round(), self.now))
        if link_phase is not None and self.wait is not None:
            actions = PHASE_ACTIONS[link_phase]
            if link_phase == "review" and self.send_backs >= MAX_SEND_BACKS:
                actions = ("approve",)  # the page offers no send-back after the second
            self.links.append(Link(to, actions, self.wait.due))

    def stage(self, name: str, round_: int | None = None) -> None:
        key = f"{name}-{round_ or self.round()}"
        if key not in self.out.stages:  # only the first of a (stage, round) counts
            self.out.stages.append(key)

    def person(self, event: str, role: str, reason: str = "") -> None:
        self.out.people.append((event, role, reason))
        self.people_at.append(self.now)
        self.history.append((event, role))

    # -- waits ------------------------------------------------------------------------------------------------

    def begin(self, name: str, round_: int, due: Deadline) -> None:
        wait = Wait(name, round_, self.now, due.due_at)
        self.wait = wait
        self.out.waits.append(wait)
        self.at(wait.due, lambda: self.timeout(wait))
        tick = self.env.sweep_after(max(due.remind_at, self.now))
        if tick == self.now:  # a sweep at the very instant the wait starts ran before it (registered long before)
            tick += self.env.sweep_every
        if tick < wait.due:
            self.at(tick, lambda: self.remind(wait), first=True)
        for number, step in enumerate(self.steps):
            if (step.of, step.round) == (name, round_):
                self._schedule(number, step, step.when(wait.start, wait.due), 0, wait)

    def _schedule(self, number: int, step: Step, when: datetime, repeat: int, wait: Wait) -> None:
        self.at(when, lambda: self.take(number, step, repeat, wait))

    def timeout(self, wait: Wait) -> None:
        """rules.md §4: a missed deadline makes the case overdue; it goes back to the regulator (returned)."""
        if self.wait is not wait or not self.open:
            return
        self.out.escalation = (wait.phase, self.now)
        self.out.overdue, self.out.overdue_phase = True, wait.phase
        self.send("overdue", "enterprise")
        self.send("overdue_station", "station")
        self.close("returned")

    def remind(self, wait: Wait) -> None:
        """notifications.md: a wait's reminder goes once, at its ``remind_at`` (the first sweep after it)."""
        if self.wait is not wait or not self.open or self.now >= wait.due:
            return
        self.out.reminders.append((wait.phase, wait.round, self.now))
        to = "station" if wait.phase == "review" else "enterprise"
        self.send("review_reminder" if to == "station" else "reminder", to, wait.phase)

    def close(self, outcome: str) -> None:
        recovered = Decimal("0.00")
        if outcome in ("settled", "not_settled") and self.feedback is not None and self.feedback[0]:
            recovered = self.feedback[1]
        self.out.status, self.out.outcome, self.out.recovered = "closed", outcome, recovered
        self.out.closed_at = self.now
        seconds = Decimal(str((self.now - self.case.registered_at).total_seconds()))
        self.out.cycle_days = (seconds / Decimal(86400)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        self.out.report = (outcome, recovered)
        self.wait = None

    # -- what happens -----------------------------------------------------------------------------------------

    def route(self) -> None:
        """rules.md §3: ODR only when the consumer opted in and the respondent is in the directory on the
        registration day; otherwise the station's regular handling (closed as returned, the station told)."""
        day = self.case.registered_at.astimezone(SHANGHAI).date()
        if self.enterprise is not None and self.enterprise.listed(day) and self.case.odr_opt_in:
            self.dispatch()
            return
        self.routed_regular = True
        self.send("regular", "station")
        self.close("returned")

    def dispatch(self) -> None:
        """rules.md §4: acceptance and resolution both count from the dispatch."""
        start = self.now
        self.deadlines["acceptance"] = deadline("acceptance", start, self.klass, self.policies)
        self.deadlines["resolution"] = deadline("resolution", start, self.klass, self.policies)
        self.out.status = "dispatched"
        self.history.append(("dispatched", "adapter"))
        self.stage("dispatched")
        self.begin("acceptance", 1, self.deadlines["acceptance"])
        self.send("dispatched", "enterprise", "acceptance")

    def apply(self, do: str, role: str) -> None:
        """An action the case takes (the wait it answers is open and its deadline not passed)."""
        self.person(EVENT_OF[do], role)
        if do == "accept":
            self.out.status = "accepted"
            self.stage("accepted")
            self.begin("resolution", 1, self.deadlines["resolution"])
            self.send("accepted", "enterprise", "resolution")
        elif do == "decline":
            self.close("returned")  # rules: the enterprise declined ODR; closed as returned to regular handling
        elif do == "report":
            self.out.status = "under_review"
            self.stage("result_reported")
            self.deadlines["review"] = deadline("review", self.now, self.klass, self.policies)
            self.begin("review", self.round(), self.deadlines["review"])
            self.stage("under_review")
            self.send("review", "station", "review")
        elif do == "send_back":
            self.stage("sent_back")
            self.send_backs += 1
            self.out.status = "accepted"
            self.deadlines["resolution"] = deadline("rework", self.now, self.klass, self.policies)
            self.begin("rework", self.send_backs, self.deadlines["resolution"])
            self.send("sent_back", "enterprise", "resolution")
        elif do == "approve":
            assert self.feedback is not None
            self.close("settled" if self.feedback[0] else "not_settled")

    def already_done(self, do: str) -> bool:
        return self.done_by(do) is not None

    def done_by(self, do: str) -> str | None:
        for event, role in reversed(self.history):
            if event == EVENT_OF[do]:
                return role
            if event in ROUND_STARTS.get(do, ()):
                return None
        return None

    def act(self, do: str, role: str, step: Step) -> str:
        """The action as the case takes it: done, repeated, too_late or refused (with what the history keeps)."""
        wait = self.wait
        if self.open and self.out.status == NEEDS[do] and wait is not None:
            if self.now >= wait.due:
                self.person("action_refused", role, "deadline_passed")
                return "too_late"
            if do == "send_back" and self.send_backs >= MAX_SEND_BACKS:
                self.person("action_refused", role, "not_allowed")
                return "refused"
            if do == "report":
                settled = step.settled
                self.feedback = (settled, step.recovered if settled else Decimal("0.00"))
            self.apply(do, role)
            return "done"
        repeat = self.out.status in DONE_AFTER.get(do, ()) or self.already_done(do)
        if repeat:
            by = self.done_by(do)
            if by is not None and by != role:
                return "refused"  # done by someone else: answered, nothing recorded
            self.person("action_repeated", role, do)
            return "repeated"
        if self.out.overdue:
            self.person("action_refused", role, "deadline_passed")
            return "too_late"
        self.person("action_refused", role, "not_allowed")
        return "refused"

    def take(self, number: int, step: Step, repeat: int, wait: Wait) -> None:
        self.out.steps.append((number, repeat, self.now))
        self.out.taken_in.append(self.wait.name if self.wait is not None and self.open else "closed")
        at_due = step.via == "link" and step.do in NEEDS and self.now == wait.due  # refused whatever the order
        if self.now.second == 0 and self.now.microsecond == 0 and not at_due:
            self.out.ties.append(number)  # on a sweep's or a deadline's instant: the order decides
        if step.do in ("withdraw", "revise"):
            self.revision(step.do)
        elif step.do == "note":
            self.note(step.by or "")
        elif step.via == "worklist":
            self.from_worklist(step)
        else:
            self.by_link(number, step, repeat, wait)

    def by_link(self, number: int, step: Step, repeat: int, wait: Wait) -> None:
        """notifications.md, secure links: the person uses the newest link that offered the action. A link is
        used once; the same action again is answered and recorded as a repeat; another action on a used link is
        refused (link_used); after its deadline a link is refused (deadline_passed)."""
        role = step.role
        offering = [link for link in self.links if link.role == role and step.do in link.actions]
        if not offering:
            return
        link = offering[-1]
        if self.now >= link.expires:
            self.person("action_refused", role, "deadline_passed")
        elif link.used_action is not None:
            if link.used_action != step.do:
                self.person("action_refused", role, "link_used")
            elif link.result not in ("too_late", "refused"):
                self.person("action_repeated", role, step.do)
            # silent: the same action again on a link whose action was refused is answered as refused again,
            # and not recorded a second time (the stack's behaviour)
        else:
            link.used_action = step.do
            link.result = self.act(step.do, role, step)
        if repeat < step.repeat:
            self._schedule(number, step, self.now + step.repeat_after, repeat + 1, wait)

    def from_worklist(self, step: Step) -> None:
        """worklists.md: the case is in the list of its phase while the phase waits for the holder; its page
        offers the phase's forms until the deadline."""
        if self.open and self.out.status == NEEDS[step.do] and self.wait is not None and self.now < self.wait.due:
            self.act(step.do, step.role, step)

    def note(self, by: str) -> None:
        """notifications.md, notes: on an open case that was dispatched; the other side gets it by message, with
        a new link to the case when it acts in the phase the case is in."""
        if not self.open:
            return
        self.person("note_added", by)
        to = "enterprise" if by == "station" else "station"
        acting = (to == "enterprise" and self.out.status in ("dispatched", "accepted")) or (
            to == "station" and self.out.status == "under_review"
        )
        self.send(f"note_to_{to}", to, self.wait.phase if acting and self.wait else None)

    def revision(self, do: str) -> None:
        """rules.md §1: a new revision is applied; one with status withdrawn closes the open case as withdrawn."""
        self.out.revision += 1
        if do == "withdraw" and self.open:
            self.send("withdrawn", "enterprise")  # dispatched: the enterprise heard of it
            self.close("withdrawn")

    # -- the figures ------------------------------------------------------------------------------------------

    def _facts(self) -> None:
        """statistics.md, what is counted: each fact dated by the event it records."""
        facts: dict[tuple[str, str | None], Decimal] = {}
        one = Decimal(1)

        def add(metric: str, day: str | None, value: Decimal = one) -> None:
            facts[(metric, day)] = facts.get((metric, day), Decimal(0)) + value

        out = self.out
        add("received", _day(self.case.registered_at))
        add(f"status_{out.status}", None)
        if self.routed_regular:
            add("routed_regular", _day(self.env.received_at))
        else:
            add("dispatched", _day(self.env.received_at))
        accepted = next((t for (e, _, _), t in zip(out.people, self.people_at, strict=True) if e == "accepted"), None)
        if accepted is not None:
            add("accepted", _day(accepted))
            if accepted < self.deadlines["acceptance"].due_at:
                add("accepted_on_time", _day(accepted))
        for (event, _, _), at in zip(out.people, self.people_at, strict=True):
            if event in ("declined", "sent_back"):
                add(event, _day(at))
        if out.escalation is not None:
            add("overdue", _day(out.escalation[1]))
        if out.closed_at is not None and out.outcome is not None and out.cycle_days is not None:
            day = _day(out.closed_at)
            add("closed", day)
            add(out.outcome, day)
            if out.recovered:
                add("recovered_amount", day, out.recovered)
            if out.outcome != "withdrawn" and not self.routed_regular:  # handled: dispatched, not withdrawn
                add("handled", day)
                add("cycle_days", day, out.cycle_days)
                add(_cycle_bucket(out.cycle_days), day)
                if out.outcome in ("settled", "not_settled") and not out.overdue:
                    add("closed_on_time", day)
        out.facts = {k: v for k, v in facts.items() if v}


def simulate(case: Case, district: District, policies: Policies, steps: list[Step], env: Environment) -> Expected:
    """What must happen to ``case`` when its people act as ``steps`` say."""
    return _Life(case, district, policies, steps, env).run()
