"""The local stack's speed-ups of moto change what it costs to answer, never the answer."""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.parse import BaseJSONParser, JSONParser

from odr_local.stack import LocalStack

_blob = st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode())
_scalar = st.one_of(
    st.text(max_size=5).map(lambda s: {"S": s}),
    st.integers(-(10**9), 10**9).map(lambda n: {"N": str(n)}),
    _blob.map(lambda b: {"B": b}),
    st.just({"NULL": True}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.lists(st.text(max_size=3), min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(0, 99).map(str), min_size=1, max_size=3, unique=True).map(lambda v: {"NS": v}),
    st.lists(_blob, min_size=1, max_size=2, unique=True).map(lambda v: {"BS": v}),
)
attribute_values = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.dictionaries(st.text(max_size=4), inner, max_size=4).map(lambda m: {"M": m}),
        st.lists(inner, max_size=4).map(lambda items: {"L": items}),
    ),
    max_leaves=12,
)
PUT_ITEM = botocore.session.get_session().get_service_model("dynamodb").operation_model("PutItem")


def _parse(body: dict[str, Any]) -> dict[str, Any]:
    request = {"body": json.dumps(body), "headers": {}, "method": "POST", "query_string": {}, "url_path": "/"}
    return JSONParser(PUT_ITEM).parse(request)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(item=st.dictionaries(st.text(min_size=1, max_size=4), attribute_values, min_size=1, max_size=5))
def test_a_request_is_read_as_moto_itself_reads_it(stack: LocalStack, item: dict[str, Any]) -> None:
    body = {"TableName": "t", "Item": item, "ExpressionAttributeValues": {":v": next(iter(item.values()))}}
    ours = _parse(body)
    patched = BaseJSONParser._parse_structure
    BaseJSONParser._parse_structure = patched.__wrapped__  # type: ignore[attr-defined, method-assign]
    try:
        assert _parse(body) == ours
    finally:
        BaseJSONParser._parse_structure = patched  # type: ignore[method-assign]


def test_every_kind_of_attribute_comes_back_as_it_was_put(stack: LocalStack) -> None:
    db, table = stack.client("dynamodb"), stack.deployment.ref("CasesTable")
    item = {
        "pk": {"S": "PATCH#kinds"},
        "sk": {"S": "CASE"},
        "text": {"S": "投诉"},
        "number": {"N": "12.50"},
        "bytes": {"B": b"\x00\xff"},
        "nothing": {"NULL": True},
        "flag": {"BOOL": False},
        "texts": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
        "blobs": {"BS": [b"x", b"y"]},
        "nested": {"M": {"list": {"L": [{"S": "x"}, {"M": {"b": {"B": b"z"}}}]}}},
    }
    db.put_item(TableName=table, Item=item)
    got = db.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})["Item"]
    for sets in ("texts", "numbers", "blobs"):
        (kind, values), (_, got_values) = *item[sets].items(), *got[sets].items()
        assert sorted(got_values) == sorted(values), sets
        got[sets] = {kind: values}
    assert got == item


@pytest.mark.parametrize(("size", "refused"), [(390_000, False), (410_000, True)])
def test_an_item_over_the_size_limit_is_still_refused(stack: LocalStack, size: int, refused: bool) -> None:
    db, table = stack.client("dynamodb"), stack.deployment.ref("CasesTable")
    item = {
        "pk": {"S": f"PATCH#size{size}"},
        "sk": {"S": "CASE"},
        **{f"a{i}": {"S": "x" * (size // 10)} for i in range(10)},
    }
    if not refused:
        db.put_item(TableName=table, Item=item)
        return
    with pytest.raises(ClientError, match="Item size has exceeded the maximum allowed size"):
        db.put_item(TableName=table, Item=item)
