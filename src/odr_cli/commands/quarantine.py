"""``odr quarantine list | show ID | redrive [ID...|--all]``: feed records intake could not accept.

Redrive sends the raw record to the intake queue again (as the poller does, with source ``redrive``) and
removes the entry only once the send succeeded; a record still invalid is quarantined again by intake.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from odr_adapter.data_access.quarantine import RedriveFailed
from odr_adapter.data_access.queues import Queue
from odr_cli.pii import masked_raw
from odr_cli.stores import NotConfigured, quarantine_store


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("quarantine", help="invalid feed records kept with every reason")
    verbs = parser.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="every quarantined record, oldest first")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)
    show = verbs.add_parser("show", help="one record (consumer data masked) and its problems")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)
    redrive = verbs.add_parser("redrive", help="send records to intake again, e.g. after a validator fix")
    redrive.add_argument("ids", nargs="*", metavar="ID")
    redrive.add_argument("--all", action="store_true", help="every quarantined record")
    redrive.set_defaults(run=run_redrive)


def _summary(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "complaint_id": entry["complaint_id"],
        "quarantined_at": entry["quarantined_at"],
        "problems": entry["problems"],
    }


def run_list(args: argparse.Namespace) -> int:
    try:
        entries = quarantine_store().all()
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([_summary(e) for e in entries], ensure_ascii=False, indent=2))
        return 0
    print(f"{len(entries)} quarantined record(s)")
    for e in entries:
        paths = ", ".join(p.get("path", "?") for p in e["problems"])
        print(f"  {e['id']}  {e['complaint_id'] or '(no id)':<28} {e['quarantined_at']}  {len(e['problems'])}: {paths}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        entry = quarantine_store().get(args.id)
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    if entry is None:
        print(f"odr: no quarantined record {args.id} (odr quarantine list)", file=sys.stderr)
        return 1
    shown = {**_summary(entry), "record": masked_raw(entry["raw"])}
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    cid = entry["complaint_id"] or "(no id)"
    print(f"quarantined record {entry['id']}  complaint {cid}  at {entry['quarantined_at']}")
    print("problems:")
    for p in entry["problems"]:
        print(f"  - {p.get('path', '?')}: {p.get('reason', '')}")
    print("record (consumer data masked):")
    print(json.dumps(shown["record"], ensure_ascii=False, indent=2))
    return 0


def run_redrive(args: argparse.Namespace) -> int:
    if bool(args.ids) == args.all:
        print("odr: name the records to redrive, or --all", file=sys.stderr)
        return 2
    url = os.environ.get("INTAKE_QUEUE_URL", "")
    try:
        if not url:
            raise NotConfigured("INTAKE_QUEUE_URL is not set (export it, or pass --env-file build/local-stack.env)")
        store = quarantine_store()
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    entries = store.all()
    if not args.all:
        by_id = {e["id"]: e for e in entries}
        unknown = [i for i in args.ids if i not in by_id]
        if unknown:
            print(f"odr: no quarantined record {', '.join(unknown)}; nothing was sent", file=sys.stderr)
            return 1
        entries = [by_id[i] for i in dict.fromkeys(args.ids)]
    queue = Queue(url)
    for number, entry in enumerate(entries):
        try:
            removed = store.redrive(entry, queue)
        except RedriveFailed as exc:
            print(f"odr: {exc}; {number} of {len(entries)} record(s) were sent before", file=sys.stderr)
            return 1
        note = "" if removed else " (intake quarantined it again meanwhile: still invalid)"
        print(f"redriven {entry['id']} {entry['complaint_id'] or '(no id)'}{note}")
    print(f"{len(entries)} record(s) sent to intake")
    return 0
