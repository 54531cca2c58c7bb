"""``odr sessions revoke --station CODE | --enterprise USCC``: end every worklist session and unused login link of
one station or one enterprise at once (a lost phone, a person who left); they sign in again by a new link."""

from __future__ import annotations

import argparse
import sys

from odr_adapter.clock import now
from odr_adapter.data_access.sessions import SessionStore
from odr_adapter.models.sessions import Holder
from odr_adapter.people.sessions import revoke_all
from odr_cli.stores import NotConfigured, required


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sessions", help="worklist sessions of stations and enterprises")
    verbs = parser.add_subparsers(dest="verb", required=True)
    revoke = verbs.add_parser("revoke", help="end every session and unused login link of a station or an enterprise")
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--station", metavar="CODE", help="a station's code, e.g. JS-ZJ")
    who.add_argument("--enterprise", metavar="USCC", help="an enterprise's unified social credit code")
    revoke.set_defaults(run=run_revoke)


def run_revoke(args: argparse.Namespace) -> int:
    holder = Holder("station", args.station) if args.station else Holder("enterprise", args.enterprise)
    try:
        store = SessionStore(required("SESSIONS_TABLE"))
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    ended = revoke_all(holder, store, now())
    print(f"revoked {ended} session(s) and login link(s) of {holder.role} {holder.id}")
    return 0
