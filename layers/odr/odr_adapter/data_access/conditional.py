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
    try:
        call(ReturnValuesOnConditionCheckFailure="ALL_OLD", **request)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old: Item = dict(exc.response.get("Item") or {})  # type: ignore[call-overload]
        return is_ours(old)
    return True
