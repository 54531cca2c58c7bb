"""Scripted timelines: a scenario gives a complaint the exact actions its people take, each at a time set
relative to the start of the wait it acts in, or to that wait's deadline (docs/scenarios.md, "Timelines").

The people act through the paths people use: the latest message link that offers the action (or their worklist),
notes from the worklist's case page, a withdrawal or a revision as a new revision of the record on the simulated
12315 platform. A wait's start and deadline are read where a person would learn them: the case's ``waiting``
event (its time and the deadline it announces), found on the case table's stream. A step whose wait never starts
is never taken; every step taken is logged with its time and the HTTP status it got.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from odr_adapter.clock import local
from odr_adapter.models.case import Case

from .inbox import Seen, submit
from .worklist_people import NotListed, WorklistPerson

Do = Literal["accept", "decline", "report", "send_back", "approve", "note", "withdraw", "revise"]
WaitName = Literal["acceptance", "resolution", "review", "rework"]
Role = Literal["enterprise", "station"]
ROLE_OF: dict[str, Role] = {
    "accept": "enterprise",
    "decline": "enterprise",
    "report": "enterprise",
    "approve": "station",
    "send_back": "station",
}
LIST_OF = {
    "accept": "acceptance",
    "decline": "acceptance",
    "report": "resolution",
    "approve": "review",
    "send_back": "review",
}
RETRY_AFTER_BUSY = timedelta(minutes=10)  # a 503 (the workflow not at that wait yet): the person tries again


class Step(BaseModel):
    """One action of a timeline: what, in which wait, and when (after its start, or relative to its deadline)."""

    model_config = ConfigDict(extra="forbid")

    do: Do
    of: WaitName
    round: int = Field(default=1, ge=1)  # review n is the n-th review; rework n follows the n-th send-back
    after: timedelta | None = None  # from the wait's start
    at_deadline: timedelta | None = None  # from the wait's deadline: -PT1S one second before it, PT0S at it
    via: Literal["link", "worklist"] = "link"
    repeat: int = Field(default=0, ge=0)  # the same form submitted again this many times (same page)
    repeat_after: timedelta = timedelta(seconds=20)  # between the submits of a repeat
    settled: bool = True  # report
    recovered: str = "0.00"  # report, when settled
    reason: str = "消费者诉求超出法定标准"  # report, when not settled
    comment: str | None = None  # approve, send_back
    by: Role | None = None  # note
    text: str = "请尽快与消费者联系,协商处理方案"  # note

    @model_validator(mode="after")
    def _one_time(self) -> Step:
        if (self.after is None) == (self.at_deadline is None):
            raise ValueError("a step needs exactly one of 'after' and 'at_deadline'")
        if self.do == "note" and self.by is None:
            raise ValueError("a note needs 'by' (enterprise or station)")
        return self

    def when(self, start: datetime, due: datetime) -> datetime:
        return start + self.after if self.after is not None else due + (self.at_deadline or timedelta(0))


def wait_of(case: Case, index: int) -> tuple[str, int] | None:
    """The wait (name, round) that the ``waiting`` event at ``index`` of the history starts."""
    event = case.history[index]
    if event.event != "waiting":
        return None
    backs = sum(1 for h in case.history[:index] if h.event == "sent_back")
    phase = event.detail.get("phase")
    if phase == "resolution":
        return ("rework", backs) if backs else ("resolution", 1)
    if phase == "review":
        return "review", backs + 1
    if phase == "acceptance":
        return "acceptance", 1
    return None


@dataclass
class TimelineDriver:
    """Plays the timelines of a scenario run (hooked into :class:`odr_local.runner.ScenarioRun`)."""

    timelines: dict[str, list[Step]]
    now: Callable[[], datetime]
    call_at: Callable[[datetime, Callable[[], None], str], object]
    case: Callable[[str], Case | None]
    desk: Callable[[str, str], WorklistPerson]  # (role, holder) -> the person signed in to that worklist
    publish: Callable[[dict[str, Any]], None]
    log: list[dict[str, Any]] = field(default_factory=list)
    pages: dict[tuple[str, str], list[Seen]] = field(default_factory=dict)  # (complaint, role) -> links, newest last
    started: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)  # history events looked at, per complaint
    revisions: dict[str, int] = field(default_factory=dict)
    scheduled: int = 0  # steps scheduled and not taken yet
    awaited: dict[str, int] = field(default_factory=dict)  # revisions published and not yet on their case

    @property
    def pending(self) -> bool:
        """Whether a step is still to be taken, or a revision it published has not reached its case yet."""
        return bool(self.scheduled or self.awaited)

    def owns(self, complaint_id: str) -> bool:
        return complaint_id in self.timelines

    def received(self, page: Seen) -> None:
        """A message's link reached one of the case's people: kept, newest last, for the steps to use."""
        if page.forms:
            role: Role = "station" if page.phase in ("review", "screening") else "enterprise"
            self.pages.setdefault((page.complaint_id, role), []).append(page)

    def changed(self, complaint_id: str) -> None:
        """The case changed (its stream record): every wait that started since is scheduled with its steps."""
        if complaint_id not in self.timelines:
            return
        case = self.case(complaint_id)
        if case is None:
            return
        if case.revision >= self.awaited.get(complaint_id, case.revision + 1):
            del self.awaited[complaint_id]
        seen = self.started.setdefault(complaint_id, set())
        for index in range(self.read.get(complaint_id, 0), len(case.history)):
            wait = wait_of(case, index)
            if wait is None or wait in seen:
                continue
            seen.add(wait)
            event = case.history[index]
            due = datetime.fromisoformat(str(event.detail.get("due_at")))
            for number, step in enumerate(self.timelines[complaint_id]):
                if (step.of, step.round) == wait:
                    self._schedule(complaint_id, number, step, step.when(event.at, due))
        self.read[complaint_id] = len(case.history)

    def _schedule(self, cid: str, number: int, step: Step, when: datetime, repeat: int = 0) -> None:
        def take() -> None:
            self.scheduled -= 1
            self._take(cid, number, step, repeat)

        self.scheduled += 1
        self.call_at(when, take, f"timeline {cid} step {number}")

    def _record(self, cid: str, number: int, step: Step, status: int | str, via: str, repeat: int = 0) -> None:
        self.log.append(
            {
                "complaint_id": cid,
                "step": number,
                "repeat": repeat,
                "do": step.do,
                "at": self.now().isoformat(),
                "status": status,
                "via": via,
            }
        )

    def _take(self, cid: str, number: int, step: Step, repeat: int) -> None:
        if step.do in ("withdraw", "revise"):
            self._revision(cid, number, step)
        elif step.do == "note":
            self._note(cid, number, step)
        elif step.via == "worklist":
            self._from_worklist(cid, number, step)
        else:
            self._by_link(cid, number, step, repeat)

    def _fields(self, step: Step) -> dict[str, Any]:
        if step.do == "report":
            if step.settled:
                return {"settled": "yes", "recovered_amount": step.recovered, "summary": "已与消费者协商一致"}
            return {"settled": "no", "summary": "多次沟通,双方未达成一致", "not_settled_reason": step.reason}
        if step.do == "send_back":
            return {"comment": step.comment or "请补充与消费者沟通的记录和退款凭证"}
        if step.do == "approve":
            return {"comment": step.comment or "同意办结"}
        return {}

    def _by_link(self, cid: str, number: int, step: Step, repeat: int) -> None:
        """The newest link the person received that offered this action (a repeat: the same page again)."""
        offering = [p for p in self.pages.get((cid, ROLE_OF[step.do]), []) if step.do in p.forms]
        if not offering:
            self._record(cid, number, step, "no_link", "link", repeat)
            return
        got = submit(offering[-1], step.do, self._fields(step))
        if got.status == 503:
            self._record(cid, number, step, 503, "link", repeat)
            self._schedule(cid, number, step, self.now() + RETRY_AFTER_BUSY, repeat)
            return
        self._record(cid, number, step, got.status, "link", repeat)
        if repeat < step.repeat:
            self._schedule(cid, number, step, self.now() + step.repeat_after, repeat + 1)

    def _holder(self, case: Case, role: str) -> str | None:
        if role == "station":
            return case.station_code
        return case.enterprise.uscc if case.enterprise else None

    def _from_worklist(self, cid: str, number: int, step: Step) -> None:
        """The same action from the holder's worklist: the case found in its phase's list, its page's form."""
        case = self.case(cid)
        holder = self._holder(case, ROLE_OF[step.do]) if case else None
        if holder is None:
            self._record(cid, number, step, "no_holder", "worklist")
            return
        status: int | str
        try:
            status = self.desk(ROLE_OF[step.do], holder).act(cid, LIST_OF[step.do], step.do, self._fields(step)).status
        except NotListed:
            status = "not_listed"
        self._record(cid, number, step, status, "worklist")

    def _note(self, cid: str, number: int, step: Step) -> None:
        case = self.case(cid)
        holder = self._holder(case, step.by or "") if case else None
        if holder is None or step.by is None:
            self._record(cid, number, step, "no_holder", "worklist")
            return
        got = self.desk(step.by, holder).note(cid, step.text)
        self._record(cid, number, step, got.status if got is not None else "no_form", "worklist")

    def _revision(self, cid: str, number: int, step: Step) -> None:
        """The consumer withdraws, or revises the complaint: a new revision on the platform, updated now."""
        case = self.case(cid)
        if case is None:
            self._record(cid, number, step, "no_case", "12315")
            return
        revision = max(case.revision, self.revisions.get(cid, 0)) + 1
        self.revisions[cid] = revision
        record = dict(case.record)
        record.update(revision=revision, updated_at=local(self.now()).isoformat())
        if step.do == "withdraw":
            record["status"] = "withdrawn"
        else:
            record["description"] = f"{record.get('description', '')}(补充说明 {revision})"[:4000]
        self.publish(record)
        self.awaited[cid] = revision
        self._record(cid, number, step, "published", "12315")
