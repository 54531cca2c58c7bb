"""Progress of a case for the consumer's view on 12315 (contract v1.1, section 4a).

A stage is read from the case's history, never decided apart from it: ``dispatched``, ``accepted`` and
``result_reported`` are the events of those names, ``under_review`` is the start of the station's review wait,
``sent_back`` the station's send-back. A case sent back goes round again, so a stage is numbered by its round
(1 + the send-backs before it) and only the first of a (stage, round) counts: a wait registered twice in one
round is one stage. The key ``<complaint_id>-<stage>-<round>``, the body and the order are functions of the
history alone, so a redelivered stream record queues the very same messages, and the platform answers 200 to a
repeat.

Progress never holds up a case: the stages are found from the case table's stream and queued (one FIFO group
per case, so a case's stages reach the platform in the order they happened), then posted with retries; a stage
the platform refuses because the outcome is already reported (422) is *superseded*, as the contract says, and
dropped. Notes carry deadlines and the settlement's yes or no, never the consumer's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from odr_adapter.clock import local
from odr_adapter.feed.client import PlatformError

if TYPE_CHECKING:  # read, never built here: posting a queued stage (ReportProgressFunction) loads no model
    from odr_adapter.models.case import Case, HistoryEvent
    from odr_adapter.models.directory import District

StageName = Literal["dispatched", "accepted", "result_reported", "under_review", "sent_back"]
STAGES: tuple[StageName, ...] = ("dispatched", "accepted", "result_reported", "under_review", "sent_back")
_BY_EVENT: dict[str, StageName] = {
    "dispatched": "dispatched",
    "accepted": "accepted",
    "result_reported": "result_reported",
    "sent_back": "sent_back",
}
STATION_STAGES = ("under_review", "sent_back")  # the station acts; the enterprise handles the others
NOTE_LIMIT = 200


@dataclass(frozen=True)
class Stage:
    name: StageName
    round: int
    event: HistoryEvent

    def key(self, complaint_id: str) -> str:
        return f"{complaint_id}-{self.name}-{self.round}"


def _stage_of(event: HistoryEvent) -> StageName | None:
    if event.event == "waiting" and event.detail.get("phase") == "review":
        return "under_review"
    return _BY_EVENT.get(event.event)


def stages(case: Case, after_version: int = 0) -> list[Stage]:
    """The stages the case reached, in history order; only those recorded after ``after_version``."""
    found: list[Stage] = []
    seen: set[tuple[str, int]] = set()
    round_ = 1
    for event in case.history:
        name = _stage_of(event)
        if name is not None and (name, round_) not in seen:
            seen.add((name, round_))
            if event.version > after_version:
                found.append(Stage(name, round_, event))
        if event.event == "sent_back":
            round_ += 1
    return found


def _when(value: Any) -> str:
    """A deadline as people read it (``2026-12-02 17:00``); empty when the history lacks it."""
    if isinstance(value, datetime):
        return f"{local(value):%Y-%m-%d %H:%M}"
    if isinstance(value, str) and value:
        return f"{local(datetime.fromisoformat(value)):%Y-%m-%d %H:%M}"
    return ""


def _deadline(case: Case, phase: str) -> datetime | None:
    deadline = case.deadlines.get(phase)
    return deadline.due_at if deadline else None


def _note(case: Case, stage: Stage) -> str:
    detail = stage.event.detail
    if stage.name == "dispatched":
        note = f"已分派ODR企业,受理期限至{_when(detail.get('acceptance_due'))}"
    elif stage.name == "accepted":
        note = f"企业已受理,处理期限至{_when(_deadline(case, 'resolution'))}"
    elif stage.name == "result_reported":
        note = "企业已反馈处理结果:" + ("和解成功" if detail.get("settled") else "和解不成")
    elif stage.name == "under_review":
        note = f"监管所审核中,审核期限至{_when(detail.get('due_at'))}"
    else:
        note = f"第{stage.round}次退回企业重新处理,处理期限至{_when(_deadline(case, 'resolution'))}"
    return note[:NOTE_LIMIT]


def _handled_by(case: Case, stage: Stage, district: District) -> dict[str, str]:
    """The contract's ``handled_by``: the enterprise (name, credit code) or the station (code, name)."""
    if stage.name in STATION_STAGES or case.enterprise is None:
        code = case.station_code or ""
        station = district.station(code)
        return {"code": code, "name": station.name if station else code}
    return {"name": case.enterprise.name, "uscc": case.enterprise.uscc}


def progress_message(case: Case, stage: Stage, district: District) -> dict[str, Any]:
    """What is queued for one stage: the complaint, the key the platform dedupes by, and the body."""
    return {
        "complaint_id": case.complaint_id,
        "idempotency_key": stage.key(case.complaint_id),
        "body": {
            "stage": stage.name,
            "at": local(stage.event.at).isoformat(),
            "handled_by": _handled_by(case, stage, district),
            "note": _note(case, stage),
        },
    }


class OrderedOutbound(Protocol):
    def send_in_order(self, messages: list[dict[str, Any]]) -> None:
        """Queue every message or raise; each case's messages stay in the order given."""
        ...


class DistrictSource(Protocol):
    def district(self) -> District: ...


def queue_progress(
    changes: list[tuple[Case | None, Case]], directory: DistrictSource, queue: OrderedOutbound
) -> list[dict[str, Any]]:
    """Queue the stages a batch of case changes reached (``(before, after)`` per write, in stream order)."""
    found = [(after, stage) for before, after in changes for stage in stages(after, before.version if before else 0)]
    if not found:
        return []
    district = directory.district()
    messages = [progress_message(case, stage, district) for case, stage in found]
    queue.send_in_order(messages)
    return messages


class ProgressApi(Protocol):
    def progress(self, complaint_id: str, idempotency_key: str, body: dict[str, Any]) -> int: ...


Posted = Literal["recorded", "repeated", "superseded"]
SUPERSEDED = 422  # the platform's answer to a stage after the outcome was reported


def send_progress(message: dict[str, Any], api: ProgressApi) -> Posted:
    """POST one queued stage: 201 recorded, 200 already recorded, 422 superseded by the outcome (dropped).

    Any other refusal or fault raises, and the queue redelivers it (then keeps it in its DLQ), exactly as for
    the outcome."""
    try:
        status = api.progress(message["complaint_id"], message["idempotency_key"], message["body"])
    except PlatformError as exc:
        if exc.status == SUPERSEDED:
            return "superseded"
        raise
    return "recorded" if status == 201 else "repeated"
