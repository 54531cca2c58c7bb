"""``odr api-key issue USCC --label L | revoke HASH``: keys for enterprises that call the JSON API themselves.

The key is printed once and only its SHA-256 is stored; a key acts only on its own enterprise's cases.
"""

from __future__ import annotations

import argparse
import os
import sys

from odr_adapter.clock import now
from odr_adapter.data_access.api_keys import ApiKeyStore
from odr_adapter.data_access.directory import DirectoryStore
from odr_adapter.models.api_keys import api_key_hash
from odr_cli.stores import NotConfigured


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("api-key", help="API keys of enterprises that integrate their own systems")
    verbs = parser.add_subparsers(dest="verb", required=True)
    issue = verbs.add_parser("issue", help="a new key for an enterprise of the ODR directory (printed once)")
    issue.add_argument("uscc")
    issue.add_argument("--label", required=True, help="who holds it, e.g. the enterprise's system name")
    issue.set_defaults(run=run_issue)
    revoke = verbs.add_parser("revoke", help="stop a key (give the key itself or its SHA-256)")
    revoke.add_argument("key_or_hash")
    revoke.set_defaults(run=run_revoke)


def _table() -> str:
    table = os.environ.get("DIRECTORY_TABLE", "")
    if not table:
        raise NotConfigured("DIRECTORY_TABLE is not set (use --env-file or the environment)")
    return table


def run_issue(args: argparse.Namespace) -> int:
    try:
        table = _table()
        if DirectoryStore(table).district().by_uscc(args.uscc) is None:
            print(f"odr: {args.uscc} is not in the ODR directory", file=sys.stderr)
            return 2
        key = ApiKeyStore(table).issue(args.uscc, args.label, now())
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    print(f"API key for {args.uscc} ({args.label}); shown once, keep it secret:\n{key}")
    print(f"its hash (to revoke it): {api_key_hash(key)}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    value = args.key_or_hash
    key_hash = value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else api_key_hash(value)
    try:
        store = ApiKeyStore(_table())
    except NotConfigured as exc:
        print(f"odr: {exc}", file=sys.stderr)
        return 2
    if store.enterprise_for(key_hash) is None:
        print("odr: no such key", file=sys.stderr)
        return 2
    store.revoke(key_hash, now())
    print(f"revoked {key_hash}")
    return 0
