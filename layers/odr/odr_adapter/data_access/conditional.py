"""Conditional writes that survive a lost answer.

When a write's answer is lost (a timeout after DynamoDB applied it), botocore sends it again and the retry fails
its own condition: the write that is in the way is this one. Each conditional write therefore asks for the item
that failed the condition (``ReturnValuesOnConditionCheckFailure=ALL_OLD``, in the same call) and counts the
write as done when that item is what this write would have left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

Item = dict[str, Any]


def write_once(call: Callable[..., Any], is_ours: Callable[[Item], bool], **request: Any) -> bool:
    """Run the conditional ``call``; False when its condition failed on another writer's item."""
    return write_or_found(call, is_ours, **request) is None


def write_or_found(call: Callable[..., Any], is_ours: Callable[[Item], bool], **request: Any) -> Item | None:
    """Run the conditional ``call``; None when it wrote, else the other writer's item that failed its condition
    (wire form), learnt in the same call: a create that finds what is stored needs no read before it."""
    try:
        call(ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old: Item = dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
        return None if is_ours(old) else old
    return None
