"""In-memory stand-ins for every port of :mod:`odr_adapter.ports`, faithful to the AWS adapters' semantics.

Each fake keeps what its adapter promises, and only that: the case store writes a case only over the version
it was read at (else :class:`StaleCase`), a link is claimed once (a conditional write), a task token answers
once (then :class:`TokenGone`), a queue keeps its bodies in order as the JSON SQS would carry. Stored values go
through the same codecs (or a JSON round trip), so nothing the domain holds aliases what a fake stores.

Fault hooks, where a race needs one: :meth:`FakeCases.before_next_save` (another writer gets in first),
:meth:`FakeExecutions.expire` (a wait timed out), :meth:`FakeExecutions.crash_next` (a callback lost in
transit; pass a TransientFault for a throttled or failing Step Functions), :meth:`FakeSms.fail` (a provider
refusing messages).

:class:`World` wires them into a :class:`Services` and a :class:`Delivery`, the way the composition root does.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from odr_adapter import clock as clock_module
from odr_adapter.clock import Clock, iso_z
from odr_adapter.data_access.case_items import case_item, case_of
from odr_adapter.data_access.case_pages import MAX_READS
from odr_adapter.feed.intake import execution_name
from odr_adapter.messages.channels import RetryPolicy
from odr_adapter.messages.sending import Delivery
from odr_adapter.models.api_keys import api_key_hash, new_api_key
from odr_adapter.models.case import Case, HistoryEvent, StaleCase, transition
from odr_adapter.models.counters import Counted, CounterItem
from odr_adapter.models.deadlines import DeadlinePolicies, Phase
from odr_adapter.models.directory import District
from odr_adapter.models.feed import Checkpoint
from odr_adapter.models.links import ActionLink, ActionName
from odr_adapter.models.record import parse_record
from odr_adapter.models.sessions import Holder, SessionRecord
from odr_adapter.models.worklists import CasePage, CaseQuery
from odr_adapter.ports import DeliveryFailed, Resumed, Services, TokenGone
from odr_adapter.workflow.screening import screen_and_route
from odr_adapter.workflow.steps import register_wait


class ConditionFailed(Exception):
    """A conditional write that DynamoDB would refuse (ConditionalCheckFailedException)."""


# --- clock ----------------------------------------------------------------------------------------------------


class FakeClock(Clock):
    """A clock that stands still until moved (``set``/``advance``)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock's time is aware")
        self._at = at  # not a dataclass field: the frozen Clock lets a subclass keep its own attributes

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, delta: timedelta) -> datetime:
        self._at = self._at + delta
        return self._at


@contextmanager
def no_pauses() -> Iterator[list[float]]:
    """Backoffs return at once (as the local stack's virtual time makes them); yields the pauses asked for."""
    asked: list[float] = []
    previous = clock_module._pause
    clock_module.set_pause(asked.append)
    try:
        yield asked
    finally:
        clock_module.set_pause(previous)


# --- cases and their workflow ---------------------------------------------------------------------------------


SaveHook = Callable[["FakeCases", Case], None]


def _as_stored(value: Any) -> str:
    """A value JSON lacks, as a stream image carries it: bytes (the compressed record) as base64 text."""
    return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)


class FakeCases:
    """CaseRepository and the case table's indexes, in a dict of stored items.

    Items are stored in the adapter's own form (:func:`case_item`) and read back with :func:`case_of`, so the
    domain never holds the stored object and the index attributes are derived as in DynamoDB.
    """

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.saves = 0  # successful writes
        self.creates = 0  # conditional writes of a new case (successful or not)
        self.reads = 0  # get() calls
        self.stale = 0  # writes refused because another writer got there first
        self.stream: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []  # (old, new) images, as the stream
        self._hooks: list[tuple[int, SaveHook]] = []
        self._in_hook = False

    # CaseRepository
    def get(self, complaint_id: str, consistent: bool = True) -> Case | None:
        self.reads += 1
        item = self.items.get(complaint_id)
        return case_of(json.loads(json.dumps(item))) if item is not None else None

    def save(self, case: Case, event: HistoryEvent) -> Case:
        if self._hooks and not self._in_hook:  # another writer gets in between this one's read and write
            skip, hook = self._hooks.pop(0)
            if skip:
                self._hooks.insert(0, (skip - 1, hook))
            else:
                self._in_hook = True  # the other writer's own saves go straight through
                try:
                    hook(self, case)
                finally:
                    self._in_hook = False
        if not case.history or case.history[-1] != event:
            raise ValueError("a case is saved with the history event of its transition")
        expected = case.version - 1
        stored = self.items.get(case.complaint_id)
        if (expected == 0 and stored is not None) or (
            expected != 0 and (stored is None or stored.get("version") != expected)
        ):
            self.stale += 1
            raise StaleCase(f"case {case.complaint_id} changed since version {expected}")
        item = json.loads(json.dumps(case_item(case), default=_as_stored))
        self.stream.append((stored, item))
        self.items[case.complaint_id] = item
        self.saves += 1
        return case

    def create(self, case: Case, event: HistoryEvent) -> Case | None:
        """One conditional write: None when written; else the stored case, as ALL_OLD brings it."""
        self.creates += 1
        try:
            self.save(case, event)
        except StaleCase:
            stored = self.items[case.complaint_id]
            return case_of(json.loads(json.dumps(stored)))
        return None

    # fault hooks
    def before_next_save(self, hook: SaveHook, skip: int = 0) -> None:
        """Run ``hook(store, case being saved)`` just before a save's version check: the next one, or the one
        after ``skip`` more saves. Hooks run one per save, in the order given."""
        self._hooks.append((skip, hook))

    def race(self, event: str = "other_writer", actor: str = "test", skip: int = 0, **changes: Any) -> None:
        """Another writer saves version N+1 of the same case right before the next save (or the one after
        ``skip`` more) checks version N."""

        def other_writer(store: FakeCases, mine: Case) -> None:
            current = store.get(mine.complaint_id)
            assert current is not None, "a race needs a stored case"
            updated, entry = transition(current, event, actor, current.history[-1].at, **changes)
            store.save(updated, entry)

        self.before_next_save(other_writer, skip)

    @property
    def pending_hooks(self) -> int:
        return len(self._hooks)

    # indexes (Query on sparse GSIs: only items with the attribute, compared as stored strings)
    def all(self) -> list[Case]:
        return [c for c in (self.get(cid) for cid in sorted(self.items)) if c is not None]

    def history(self, complaint_id: str) -> list[HistoryEvent]:
        case = self.get(complaint_id)
        return case.history if case else []

    def due_before(self, when: datetime) -> list[Case]:
        due = [(item["due_at"], cid) for cid, item in self.items.items() if "due_at" in item]
        return self._cases(cid for at, cid in sorted(due) if at < iso_z(when))

    def reminders_due(self, now: datetime, lookahead: timedelta) -> list[Case]:
        limit, now_text = iso_z(now + lookahead), iso_z(now)
        due = [
            (item["due_at"], cid)
            for cid, item in self.items.items()
            if "due_at" in item and item["due_at"] <= limit and item.get("remind_at", "\uffff") <= now_text
        ]
        return self._cases(cid for _, cid in sorted(due))

    def held(self, complaint_ids: list[str]) -> dict[str, int]:
        items = [self.items[cid] for cid in complaint_ids if cid in self.items]
        return {item["complaint_id"]: item["revision"] for item in items if "owes_pk" not in item}

    def owing(self, before: datetime) -> list[str]:
        limit = iso_z(before)
        found = sorted(
            (item["owes_since"], cid)
            for cid, item in self.items.items()
            if "owes_pk" in item and item["owes_since"] < limit
        )
        return [cid for _, cid in found]

    def _cases(self, ids: Iterator[str] | Any) -> list[Case]:
        return [c for c in (self.get(cid) for cid in ids) if c is not None]


@dataclass
class Wait:
    """A task token the (imagined) state machine handed to a waiting step, and how the wait ended."""

    token: str
    execution: str
    state: str = "waiting"  # waiting, succeeded, failed, timed_out
    output: dict[str, Any] | None = None
    error: tuple[str, str] | None = None


class FakeExecutions:
    """ExecutionControl: idempotent starts by name; a task token answers once, then raises TokenGone."""

    def __init__(self, arn: str = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:odr") -> None:
        self.arn = arn
        self.started: dict[str, dict[str, Any]] = {}  # name -> input of the first start
        self.starts = 0  # StartExecution calls, repeats included
        self.ended: set[str] = set()  # executions that ran and ended: their names are not taken again
        self.waits: dict[str, Wait] = {}
        self._tokens = itertools.count(1)
        self._crashes: list[Exception] = []
        self._meanwhile: dict[str, Callable[[], None]] = {}
        self.on_expire: Callable[[Wait], None] | None = None  # the World moves its clock to the deadline

    def start(self, name: str, payload: dict[str, Any]) -> str:
        self.starts += 1
        self.started.setdefault(name, json.loads(json.dumps(payload)))
        return f"{self.arn.replace(':stateMachine:', ':execution:')}:{name}"

    def resume(self, name: str, payload: dict[str, Any]) -> Resumed:
        if self._crashes:
            raise self._crashes.pop(0)
        if name in self.ended:
            return "ended"
        running = name in self.started
        self.start(name, payload)
        return "running" if running else "started"

    def end(self, name: str) -> None:
        """The execution ``name`` ended (failed, say): it is not started again under that name."""
        self.ended.add(name)

    def wait(self, execution: str) -> str:
        """A new task token for a wait of ``execution`` (what ``waitForTaskToken`` hands the step)."""
        token = f"token-{next(self._tokens)}-{execution}"
        self.waits[token] = Wait(token, execution)
        return token

    def expire(self, token: str, meanwhile: Callable[[], None] | None = None) -> None:
        """The wait's timeout fired: the token is over (TaskTimedOut from now on). ``meanwhile`` is what the
        workflow did next (an escalation, say), run when someone first answers the token too late. A timer
        fires at the deadline: the World's clock moves to a second before it (the two clocks' skew)."""
        wait = self._open(token)
        wait.state = "timed_out"
        if self.on_expire is not None:
            self.on_expire(wait)
        if meanwhile is not None:
            self._meanwhile[token] = meanwhile

    def crash_next(self, error: Exception | None = None) -> None:
        """The next callback (or a sweeper's start) never reaches Step Functions (the call raises; the wait stays
        open)."""
        self._crashes.append(error or ConnectionError("callback lost in transit"))

    def succeed(self, task_token: str, output: dict[str, Any]) -> None:
        wait = self._answer(task_token)
        wait.state, wait.output = "succeeded", json.loads(json.dumps(output))

    def fail(self, task_token: str, error: str, cause: str) -> None:
        wait = self._answer(task_token)
        wait.state, wait.error = "failed", (error, cause)

    def _answer(self, token: str) -> Wait:
        if self._crashes:
            raise self._crashes.pop(0)
        if token in self._meanwhile:
            self._meanwhile.pop(token)()
        return self._open(token)

    def answered(self, token: str) -> Wait:
        return self.waits[token]

    def _open(self, token: str) -> Wait:
        wait = self.waits.get(token)
        if wait is None:
            raise TokenGone("InvalidToken")
        if wait.state == "timed_out":
            raise TokenGone("TaskTimedOut")
        if wait.state != "waiting":
            raise TokenGone("TaskDoesNotExist")
        return wait


# --- reference data -------------------------------------------------------------------------------------------


class FakeDirectory:
    """DistrictSource over a District and its DeadlinePolicies (the AWS one caches them; these never change
    unless a test replaces them)."""

    def __init__(self, district: District, policies: DeadlinePolicies | None = None) -> None:
        self._district = district
        self._policies = policies or DeadlinePolicies()

    def district(self) -> District:
        return self._district

    def deadline_policies(self) -> DeadlinePolicies:
        return self._policies

    def policies(self) -> DeadlinePolicies:
        return self._policies

    def replace(self, district: District) -> None:
        self._district = district


# --- the 12315 feed -------------------------------------------------------------------------------------------


class FakeFeed:
    """Feed: the platform's records, served in ``updated_at`` order, ``limit`` per page."""

    def __init__(self, records: list[dict[str, Any]] | None = None, server_time: str | None = None) -> None:
        self.records = list(records or [])
        self.server_time = server_time
        self.calls: list[tuple[str, str | None, int]] = []

    def page(self, updated_after: str, cursor: str | None, limit: int) -> dict[str, Any]:
        self.calls.append((updated_after, cursor, limit))
        after = datetime.fromisoformat(updated_after)
        matching = sorted(
            (r for r in self.records if datetime.fromisoformat(r["updated_at"]) > after),
            key=lambda r: datetime.fromisoformat(r["updated_at"]),
        )
        start = int(cursor or 0)
        items = matching[start : start + limit]
        more = start + limit < len(matching)
        page: dict[str, Any] = {
            "items": json.loads(json.dumps(items)),
            "next_cursor": str(start + limit) if more else None,
        }
        if self.server_time:
            page["server_time"] = self.server_time
        return page


class FakeFeedState:
    """StateStore: a cursor that never moves back, and a lease taken over only once expired."""

    def __init__(self) -> None:
        self.checkpoint = Checkpoint()
        self.lease: tuple[str, datetime] | None = None

    def read(self) -> Checkpoint:
        return Checkpoint(self.checkpoint.updated_after, dict(self.checkpoint.recent))

    def save(self, checkpoint: Checkpoint) -> None:
        if checkpoint.updated_after is None:
            return
        stored = self.checkpoint.updated_after
        if stored is None or stored <= checkpoint.updated_after:
            self.checkpoint = Checkpoint(checkpoint.updated_after, dict(checkpoint.recent))

    def acquire(self, owner: str, now: datetime, until: datetime) -> bool:
        if self.lease is not None and self.lease[1] >= now and self.lease[0] != owner:
            return False
        self.lease = (owner, until)
        return True

    def release(self, owner: str) -> None:
        if self.lease is not None and self.lease[0] == owner:
            self.lease = None


class FakeQueue:
    """Outbound and BulkQueue: the bodies as SQS carries them (JSON), in the order they were sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self._failures: list[Exception] = []

    def send(self, body: dict[str, Any]) -> None:
        if self._failures:
            raise self._failures.pop(0)
        self.bodies.append(json.loads(json.dumps(body, ensure_ascii=False)))

    def send_all(self, bodies: list[dict[str, Any]]) -> None:
        for body in bodies:
            self.send(body)

    def fail_next(self, error: Exception | None = None) -> None:
        self._failures.append(error or ConnectionError("queue unavailable"))

    def take(self) -> list[dict[str, Any]]:
        """Receive and delete everything queued so far."""
        taken, self.bodies = self.bodies, []
        return taken


class FakeQuarantine:
    """Quarantine: one entry per distinct raw record (its id a hash of it), the latest time kept."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def put(self, raw: Any, problems: list[dict[str, str]], at: str) -> str:
        text = json.dumps(raw, ensure_ascii=False, sort_keys=True)
        key = hashlib.sha256(text.encode()).hexdigest()[:16]
        cid = raw.get("complaint_id") if isinstance(raw, dict) else None
        self.entries[key] = {
            "id": key,
            "complaint_id": str(cid or ""),
            "raw": json.loads(text),
            "problems": json.loads(json.dumps(problems, ensure_ascii=False)),
            "quarantined_at": at,
        }
        return key

    def all(self) -> list[dict[str, Any]]:
        return sorted(self.entries.values(), key=lambda e: (e["quarantined_at"], e["id"]))

    def get(self, entry_id: str) -> dict[str, Any] | None:
        return self.entries.get(entry_id)

    def delete(self, entry_id: str, quarantined_at: str) -> bool:
        entry = self.entries.get(entry_id)
        if entry is None or entry["quarantined_at"] != quarantined_at:
            return False
        del self.entries[entry_id]
        return True


# --- people ---------------------------------------------------------------------------------------------------


class FakeLinks:
    """LinkRepository: a link is put once, claimed once (conditional), released only for the same action and
    only while it has no result."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.claims: dict[str, dict[str, str]] = {}  # single-effect claims (CLAIM#<key>)

    def put(self, link: ActionLink) -> None:
        if link.key in self.items:
            raise ConditionFailed(f"link {link.key[:8]} exists")
        doc = link.model_dump(mode="json", exclude_none=True)
        self.items[link.key] = {**doc, "expires_at": iso_z(link.expires_at)}

    def get(self, key: str) -> ActionLink | None:
        item = self.items.get(key)
        return ActionLink.model_validate(dict(item)) if item is not None else None

    def claim(self, key: str, action: ActionName, at: datetime) -> bool:
        item = self.items.get(key)
        if item is None or "used_at" in item:
            return False
        item["used_at"], item["used_action"] = iso_z(at), action
        return True

    def release(self, key: str, action: ActionName) -> None:
        item = self.items.get(key)
        if item is not None and item.get("used_action") == action and "result" not in item:
            item.pop("used_at", None)
            item.pop("used_action", None)

    def settle(self, key: str, result: str) -> None:
        self.items.setdefault(key, {})["result"] = result  # UpdateItem writes even a missing item

    def reserve(self, key: str, at: datetime, until: datetime) -> bool:
        claim = self.claims.get(key)
        if claim is not None and ("done" in claim or claim["lease_until"] > iso_z(at)):
            return False
        self.claims[key] = {"lease_until": iso_z(until), "claimed_at": iso_z(at)}
        return True

    def finish(self, key: str) -> None:
        self.claims.setdefault(key, {"lease_until": "", "claimed_at": ""})["done"] = "yes"

    def for_case(self, complaint_id: str) -> list[ActionLink]:
        return [
            ActionLink.model_validate(dict(i)) for i in self.items.values() if i.get("complaint_id") == complaint_id
        ]


class FakeApiKeys:
    """ApiKeyRepository: only the key's hash is kept; a revoked key answers None."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, str]] = {}

    def issue(self, uscc: str, label: str = "test") -> str:
        key = new_api_key()
        self.items[api_key_hash(key)] = {"uscc": uscc, "label": label}
        return key

    def revoke(self, key_hash: str) -> None:
        self.items[key_hash]["revoked"] = "yes"

    def enterprise_for(self, key_hash: str) -> str | None:
        item = self.items.get(key_hash)
        return None if item is None or "revoked" in item else item["uscc"]


class FakeCasePages:
    """CasePages over :class:`FakeCases`' items, as the adapter reads the index: the holder's partition in
    ``reg_sk`` order, the period as the key condition, the section, status and enterprise as a filter applied
    after ``limit`` items are read (DynamoDB's Limit), read on at most ``MAX_READS`` times to fill a page; the
    next page starts after the last item read, or after the last case returned when a page is cut short."""

    def __init__(self, cases: FakeCases) -> None:
        self.cases = cases
        self.reads = 0  # Queries made

    def page(self, holder: Holder, query: CaseQuery, start: dict[str, str] | None, limit: int) -> CasePage:
        attribute, prefix = {"station": ("station_pk", "STATION#"), "enterprise": ("enterprise_pk", "ENT#")}[
            holder.role
        ]
        low = iso_z(query.registered_from) if query.registered_from else ""
        high = iso_z(query.registered_before) if query.registered_before else "\uffff"
        items = sorted(
            (
                i
                for i in self.cases.items.values()
                if i.get(attribute) == prefix + holder.id and low <= i["reg_sk"] < high
            ),
            key=lambda i: str(i["reg_sk"]),
            reverse=query.newest_first,
        )
        if start is not None:
            keys = [str(i["reg_sk"]) for i in items]
            items = items[keys.index(start["reg_sk"]) + 1 :] if start["reg_sk"] in keys else []

        def matches(item: dict[str, Any]) -> bool:
            closed = item["status"] == "closed"
            return (
                closed == (query.section == "closed")
                and (query.status is None or item["status"] == query.status)
                and (query.enterprise_uscc is None or item.get("enterprise_pk") == f"ENT#{query.enterprise_uscc}")
            )

        found: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None
        for _ in range(MAX_READS):
            read, items = items[:limit], items[limit:]
            self.reads += 1
            found += [i for i in read if matches(i)]
            last = read[-1] if read and items else None
            if len(found) >= limit or last is None:
                break
        if len(found) > limit:
            found, last = found[:limit], found[limit - 1]
        next_key = {k: str(last[k]) for k in ("pk", "sk", attribute, "reg_sk")} if last is not None else None
        return CasePage([case_of(json.loads(json.dumps(i))) for i in found], next_key)


class FakeSessions:
    """SessionRepository: records under their holder by hash; a login link used once (conditional), only while
    live; a revocation marks the record."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    @staticmethod
    def _key(holder: Holder, kind: str, key_hash: str) -> tuple[str, str]:
        return f"HOLDER#{holder.role}#{holder.id}", f"{kind.upper()}#{key_hash}"

    def put(self, record: SessionRecord) -> None:
        key = self._key(record.holder, record.kind, record.key_hash)
        if key in self.items:
            raise ConditionFailed("a session record with this hash exists")
        self.items[key] = record.model_dump(mode="json", exclude_none=True)

    def get(self, holder: Holder, kind: str, key_hash: str) -> SessionRecord | None:
        item = self.items.get(self._key(holder, kind, key_hash))
        return SessionRecord.model_validate(item) if item is not None else None

    def use(self, holder: Holder, key_hash: str, at: datetime) -> bool:
        item = self.items.get(self._key(holder, "login", key_hash))
        if item is None or "used_at" in item or "revoked_at" in item or not item["expires_at"] > iso_z(at):
            return False
        item["used_at"] = iso_z(at)
        return True

    def revoke(self, holder: Holder, kind: str, key_hash: str, at: datetime) -> None:
        item = self.items.get(self._key(holder, kind, key_hash))
        if item is not None and "revoked_at" not in item:
            item["revoked_at"] = iso_z(at)

    def of_holder(self, holder: Holder) -> list[SessionRecord]:
        pk = f"HOLDER#{holder.role}#{holder.id}"
        return [SessionRecord.model_validate(i) for (p, _), i in sorted(self.items.items()) if p == pk]


# --- messages -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    to: str
    subject: str
    body: str
    message_id: str


@dataclass
class _Failure:
    code: str
    permanent: bool
    to: str | None
    times: int | None  # None: until recovered


class _Provider:
    """What both channels share: every message taken is recorded; DeliveryFailed is raised as told (for
    everyone or one recipient, a number of times or until :meth:`recover`)."""

    channel = ""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.refused: list[tuple[str, str]] = []  # (recipient, code) of every refused call
        self._failures: list[_Failure] = []
        self._ids = itertools.count(1)

    def fail(self, code: str, permanent: bool = False, to: str | None = None, times: int | None = None) -> None:
        self._failures.append(_Failure(code, permanent, to, times))

    def recover(self) -> None:
        self._failures.clear()

    def to(self, recipient: str) -> list[Sent]:
        return [s for s in self.sent if s.to == recipient]

    def _take(self, to: str, subject: str, body: str) -> str:
        for failure in self._failures:
            if failure.to in (None, to) and failure.times != 0:
                if failure.times is not None:
                    failure.times -= 1
                self.refused.append((to, failure.code))
                raise DeliveryFailed(failure.code, permanent=failure.permanent)
        sent = Sent(to, subject, body, f"{self.channel}-{next(self._ids)}")
        self.sent.append(sent)
        return sent.message_id


class FakeEmail(_Provider):
    """Sender (SES)."""

    channel = "email"

    def send(self, to: str, subject: str, body: str) -> str:
        return self._take(to, subject, body)


class FakeSms(_Provider):
    """SmsSender (the gateway or SNS)."""

    channel = "sms"

    def send(self, mobile: str, text: str) -> str:
        return self._take(mobile, "", text)


# --- statistics -----------------------------------------------------------------------------------------------


class FakeCounters:
    """CounterSink and CounterReader: a change's deltas added unless its case's marker (the last version counted)
    is already at it."""

    def __init__(self) -> None:
        self.markers: dict[str, int] = {}
        self.values: dict[tuple[str, str], dict[str, Decimal]] = {}

    def fold(self, changes: list[Counted], now: datetime) -> int:
        fresh = []
        for change in changes:  # a case's changes come in version order, as its stream records do
            if change.version > self.markers.get(change.complaint_id, 0):
                fresh.append(change)
                self.markers[change.complaint_id] = change.version
        for change in fresh:
            for counter, values in change.deltas.items():
                stored = self.values.setdefault(counter, {})
                for metric, value in values.items():
                    stored[metric] = stored.get(metric, Decimal(0)) + value
        return len(fresh)

    def read(self, scope: str, first: str, last: str) -> list[CounterItem]:
        found = sorted((b, v) for (s, b), v in self.values.items() if s == scope and first <= b <= last)
        return [CounterItem(bucket, dict(values)) for bucket, values in found]


# --- the composition --------------------------------------------------------------------------------------------


BASE_URL = "https://odr.example.gov.cn"
NO_BACKOFF = RetryPolicy(attempts=3, base_delay=0.0)


@dataclass
class World:
    """Every fake, wired as :mod:`odr_adapter.wiring` wires the AWS adapters."""

    district: District
    now: datetime
    policies: DeadlinePolicies = field(default_factory=DeadlinePolicies)
    cases: FakeCases = field(default_factory=FakeCases)
    executions: FakeExecutions = field(default_factory=FakeExecutions)
    email: FakeEmail = field(default_factory=FakeEmail)
    sms: FakeSms = field(default_factory=FakeSms)
    reports: FakeQueue = field(default_factory=FakeQueue)
    quarantine: FakeQuarantine = field(default_factory=FakeQuarantine)
    links: FakeLinks = field(default_factory=FakeLinks)
    api_keys: FakeApiKeys = field(default_factory=FakeApiKeys)
    counters: FakeCounters = field(default_factory=FakeCounters)

    def __post_init__(self) -> None:
        self.clock = FakeClock(self.now)
        self.directory = FakeDirectory(self.district, self.policies)
        self.svc = Services(
            cases=self.cases,
            executions=self.executions,
            directory=self.directory,
            email=self.email,
            sms=self.sms,
            outcomes_to_12315=self.reports,
            quarantine=self.quarantine,
            clock=self.clock,
        )
        self.delivery = Delivery(links=self.links, base_url=BASE_URL, retry=NO_BACKOFF)
        self.executions.on_expire = self._timer_fired

    def queue_confirmations(self) -> FakeQueue:
        """Confirmations queued for the confirmation function (as the actions function does), not sent inline."""
        queue = FakeQueue()
        self.delivery = replace(self.delivery, confirmations=queue)
        return queue

    def _timer_fired(self, wait: Wait) -> None:
        complaint_id = next((c for c in self.cases.items if execution_name(c) == wait.execution), None)
        case = self.cases.get(complaint_id) if complaint_id else None
        due = case.next_due_at if case else None
        if due is not None and self.clock.now() < due - timedelta(seconds=1):
            self.clock.set(due - timedelta(seconds=1))

    def seed(self, raw: dict[str, Any], **changes: Any) -> Case:
        """A received case written straight to the store, its execution started (as tests/integration's
        ``seed_case``): the steps are then run by hand."""
        complaint = parse_record(raw)
        case, event = transition(
            Case(
                complaint_id=complaint.complaint_id,
                revision=complaint.revision,
                registered_at=complaint.registered_at,
                received_at=self.clock.now(),
                record=complaint.to_raw(),
                execution_name=execution_name(complaint.complaint_id),
                execution_started=True,
            ),
            "received",
            "test",
            self.clock.now(),
            **changes,
        )
        self.executions.started[case.execution_name] = {"complaint_id": case.complaint_id}
        return self.cases.save(case, event)

    def change(self, complaint_id: str, event: str, actor: str = "test", **changes: Any) -> Case:
        """Write a transition straight to the store (what another function did meanwhile)."""
        case = self.cases.get(complaint_id)
        assert case is not None
        updated, entry = transition(case, event, actor, self.clock.now(), **changes)
        return self.cases.save(updated, entry)

    def wait(self, complaint_id: str, phase: Phase) -> str:
        """The workflow reaches the ``phase`` wait: a new task token, kept on the case by the real step."""
        token = self.executions.wait(execution_name(complaint_id))
        register_wait(complaint_id, phase, token, self.svc)
        return token

    def dispatch(self, raw: dict[str, Any]) -> tuple[Case, str]:
        """A case screened (by the real step) to its ODR enterprise, waiting for the acceptance: (case, token)."""
        case = self.seed(raw)
        decided = screen_and_route(case.complaint_id, self.svc)
        assert decided["decision"] == "odr", decided
        token = self.wait(case.complaint_id, "acceptance")
        return self.case(case.complaint_id), token

    def case(self, complaint_id: str) -> Case:
        case = self.cases.get(complaint_id)
        assert case is not None, f"no case {complaint_id}"
        return case

    def events(self, complaint_id: str) -> list[str]:
        return [h.event for h in self.case(complaint_id).history]
