"""State transitions per case on every path of the case workflow (prints figures, asserts nothing).

Step Functions (Standard) bills a state transition for each state an execution enters. This walks the real
statemachine/case_workflow.asl.json, state by state as the interpreter would, along every path a case can take
in the district's rules: each wait answered, timed out (then escalated), or ended by a withdrawal; the
enterprise declining; a hand screening; up to MAX_SEND_BACKS send-backs. A path's count is the states it
enters, the first and the last included, as an execution's StateEntered events count them (tests/e2e runs the
usual paths on moto's interpreter and checks their states). Faults are shown apart: an unexpected error
(RecordFailure, Failed) and a callback lost just before its deadline (the answer then taken at the deadline,
AnsweredInTime's branches). Each figure is given for the same walk over a baseline definition (git revision, the
one before the notifications were merged into the waits they announce) in the same run.

Run: .venv/bin/python bench/transitions.py [--baseline REV]
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ASL = "statemachine/case_workflow.asl.json"
OUT = ROOT / "build" / "bench"
BASELINE = "ac23e06"  # the definition before the notifications were merged into the waits they announce
MAX_SEND_BACKS = 2  # odr_adapter.models.case.MAX_SEND_BACKS

# An answer Escalate may take at the deadline (a callback lost) for the wait that timed out.
TAKEN = {
    "acceptance": ("accepted", "declined"),
    "resolution": ("result_reported",),
    "review": ("approved", "sent_back"),
}


@dataclass(frozen=True)
class Walk:
    state: str
    entered: tuple[str, ...] = ()
    screened: bool = False  # the station screened by hand already: Route is not "manual" again
    send_backs: int = 0
    waited: str = ""  # the phase of the last wait that timed out
    faults: tuple[str, ...] = ()  # fault kinds taken on the way


def phase_of(state: dict[str, Any]) -> str:
    payload = state.get("Parameters", {}).get("Payload", {})
    return str(payload.get("phase") or payload.get("wait", {}).get("phase") or "")


def is_wait(state: dict[str, Any]) -> bool:
    return str(state.get("Resource", "")).endswith(".waitForTaskToken")


def walks(asl: dict[str, Any], fault_kinds: set[str]) -> Iterator[Walk]:
    """Every finished walk through the definition (depth first)."""
    states = asl["States"]
    stack = [Walk(asl["StartAt"])]
    while stack:
        w = stack.pop()
        st = states[w.state]
        here = Walk(w.state, (*w.entered, w.state), w.screened, w.send_backs, w.waited, w.faults)
        if st["Type"] in ("Succeed", "Fail") or st.get("End"):
            yield here
            continue
        stack.extend(_next(here, st, fault_kinds))


def _go(w: Walk, state: str, **changes: Any) -> Walk:
    fields = {**w.__dict__, "state": state, **changes}
    return Walk(**fields)


def _next(w: Walk, st: dict[str, Any], fault_kinds: set[str]) -> list[Walk]:
    out: list[Walk] = []
    if st["Type"] == "Choice":
        for choice in st["Choices"]:
            value = choice.get("StringEquals")
            nxt = choice["Next"]
            variable = choice["Variable"]
            if variable.endswith("routing.decision"):
                if value == "manual" and w.screened:
                    continue
                out.append(_go(w, nxt))
            elif w.waited and any(value in answers for answers in TAKEN.values()) and w.state == "AnsweredInTime":
                if "lost callback" in fault_kinds and value in TAKEN.get(w.waited, ()) and not w.faults:
                    extra = {"send_backs": w.send_backs + 1} if value == "sent_back" else {}
                    if value != "sent_back" or w.send_backs < MAX_SEND_BACKS:
                        out.append(_go(w, nxt, waited="", faults=("lost callback",), **extra))
            elif value == "sent_back":
                if w.send_backs < MAX_SEND_BACKS:
                    out.append(_go(w, nxt, send_backs=w.send_backs + 1))
            else:
                out.append(_go(w, nxt))
        if w.state == "AnsweredInTime" and st.get("Default") and st["Default"] != "UnknownDecision":
            out.append(_go(w, st["Default"], waited=""))
        return out
    if st["Type"] == "Pass":
        return [_go(w, st["Next"])]
    # A Task: its Next, and each Catch a case can take.
    if "Next" in st:
        screened = w.screened or w.state == "ApplyScreening"
        out.append(_go(w, st["Next"], screened=screened))
    for catch in st.get("Catch", []):
        errors = catch["ErrorEquals"]
        if errors == ["States.Timeout"]:
            out.append(_go(w, catch["Next"], waited=phase_of(st), screened=w.screened or phase_of(st) == "screening"))
        elif errors == ["CaseWithdrawn"] or errors == ["EnterpriseDeclined"]:
            out.append(_go(w, catch["Next"]))
        elif errors == ["States.ALL"] and "error" in fault_kinds and not w.faults and w.state != "RecordFailure":
            out.append(_go(w, catch["Next"], faults=("error",)))
    return out


def summary(asl: dict[str, Any]) -> dict[str, Any]:
    business = list(walks(asl, set()))
    lost = [w for w in walks(asl, {"lost callback"}) if w.faults]
    failed = [w for w in walks(asl, {"error"}) if w.faults]
    worst = max(business, key=lambda w: len(w.entered))
    named = {
        "happy path (accept, report, approve)": _shortest(business, ["AwaitAcceptance", "CloseResolved"], sends=0),
        "two send-backs, then approved": _shortest(business, ["CloseResolved"], sends=2),
        "hand screening, two send-backs, approved": _shortest(business, ["ApplyScreening", "CloseResolved"], sends=2),
    }
    return {
        "paths": len(business),
        "worst": len(worst.entered),
        "worst_path": list(worst.entered),
        "named": {k: len(v.entered) if v else None for k, v in named.items()},
        "worst_lost_callback": max((len(w.entered) for w in lost), default=0),
        "worst_error": max((len(w.entered) for w in failed), default=0),
        "mean": sum(len(w.entered) for w in business) / len(business),
    }


def _shortest(walked: list[Walk], through: list[str], sends: int) -> Walk | None:
    found = [w for w in walked if all(s in w.entered for s in through) and w.send_backs == sends]
    return min(found, key=lambda w: len(w.entered)) if found else None


def definition(revision: str | None) -> dict[str, Any]:
    if revision is None:
        return dict(json.loads((ROOT / ASL).read_text(encoding="utf-8")))
    text = subprocess.run(["git", "show", f"{revision}:{ASL}"], cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(text.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision of the baseline definition ({BASELINE})")
    args = parser.parse_args()
    now, before = summary(definition(None)), summary(definition(args.baseline))
    print(f"state transitions per case, every path of {ASL} (baseline: {args.baseline})\n")
    print(f"{'':48} {'baseline':>9} {'now':>6} {'ratio':>6}")
    rows = [
        *((name, before["named"][name], now["named"][name]) for name in now["named"]),
        ("mean over the paths (each path once)", before["mean"], now["mean"]),
        ("worst path", before["worst"], now["worst"]),
        ("worst with a callback lost at a deadline", before["worst_lost_callback"], now["worst_lost_callback"]),
        ("worst with an unexpected error", before["worst_error"], now["worst_error"]),
    ]
    for name, was, is_ in rows:
        ratio = f"{is_ / was:.2f}" if was and is_ else "n/a"
        print(f"{name:48} {was or 0:9.1f} {is_ or 0:6.1f} {ratio:>6}")
    print(f"\npaths walked: {now['paths']} (baseline {before['paths']})")
    print(f"worst path ({now['worst']}): {' > '.join(now['worst_path'])}")
    print(f"\ntransitions per case: {now['worst']} at most on every path a case can take (faults apart)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "transitions.json").write_text(
        json.dumps({"transitions_per_case": now["worst"], "now": now, "baseline": before}, indent=2) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
