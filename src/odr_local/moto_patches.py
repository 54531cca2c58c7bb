"""The local stack's changes to moto 5.2.1 (pinned in pyproject.toml because of them). Each patch first checks
that moto still has what it replaces and fails loudly at start-up if not, naming the module.

- Lambda invocations run the real handlers in-process (no Docker here).
- StartExecution deep-copies the state machine *with its running executions* (and their locks), which
  fails as soon as two executions of one state machine run at once: the snapshot leaves the runs out.
- Every request lists moto's package folders from disk under a global lock; the list is computed once.
- Virtual time (kernel.py): the Step Functions interpreter's threads become kernel threads and its waits
  (task timeouts, callback waits, Retry intervals, Wait states, joins) kernel waits, so they take simulated
  seconds and give the baton back while they wait.
- Finished executions: moto keeps every thread it ever started in ``TMP_THREADS``; finished ones are pruned.
- TransactWriteItems deep-copies every table it touches, once per item, to roll back on failure: a cost that
  grows with the table (the statistics table grows with every case). The items the transaction names are
  copied instead, and put back (with the stream records it wrote dropped) when it fails.
- DynamoDB answers: moto 5.2 serializes every nested attribute value through the service model, member by
  member (a case item with its history took 12 ms per GetItem). Attribute values are already in their wire
  form: they are written out as they are. Requests the same way: each attribute value (a structure of ten
  members) was parsed member by member through the service model; it is read as it is, blobs decoded.
- Writing an item checked its size once per attribute, summing every attribute set before (quadratic in the
  attribute count: 136 size computations, the history included each time, for a 16-attribute case item): the
  size is checked once, on the whole item, against the same limit.
- Item sizes: a Query computes the size of every candidate item, each time (twice for those it returns); an
  item's size is kept on it until an update changes the item in place.
- Comparing two strings or two numbers (a Query matching and sorting keys, millions of times in a long run)
  compares them directly instead of converting both to Python values first.
- A Query on a table's own key reads that partition, not every item of the table sorted (the statistics table
  holds a marker per case version); the full sorted list, where it is needed, is sorted on plain values.
- Each execution parsed the state machine's definition anew with ANTLR (0.1 s for the case workflow): the
  parsed program is kept per definition text. Its components hold no state of an evaluation (that lives in
  the execution's environment; only Map and Parallel states, which the workflow does not use, keep some).
- FIFO queues: moto counts a message group as busy while any of its messages is still marked pending, even one
  whose visibility timeout has passed, so after a failed batch it delivered the group's *last* message first.
  A receive first forgets the messages visible again: a group is busy only while one of its messages is in
  flight, and its messages come in order, several to a batch, as in SQS.
"""

from __future__ import annotations

import base64
import copy
import importlib
import inspect
import operator
import threading
import time
import types
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import moto
import moto.backends as moto_backends
import moto.dynamodb.models as dynamodb_models
from moto.awslambda.models import LambdaFunction
from moto.core.parse import BaseJSONParser
from moto.core.serialize import BaseJSONSerializer, ResponseSerializer
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.parsing.executors import UpdateExpressionExecutor
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser import utils as sfn_utils

from odr_adapter import clock

from . import kernel
from .invoker import invoke_in_process

_SFN = "moto.stepfunctions.parser."

# module -> (the source text the patch relies on, {global name: replacement})
_VIRTUAL_TIME: dict[str, tuple[str, dict[str, Any]]] = {
    "backend.execution_worker": ("Thread(target=self._execution_logic", {"Thread": kernel.SimThread}),
    "asl.component.program.program": ("worker_thread.join(timeout=timeout)", {"threading": "shim"}),
    "asl.component.state.exec.execute_state": (
        "finished_on_time: bool = terminated_event.wait(timeout_seconds)",
        {"threading": "shim", "Thread": kernel.SimThread},
    ),
    "asl.component.state.exec.state_task.service.state_task_service_callback": (
        "thread_wait_for_task_token = threading.Thread(",
        {"threading": "shim", "time": "time"},
    ),
    "asl.eval.callback.callback": ("self._notify_event.wait(timeout=timeout)", {"Event": kernel.VirtualEvent}),
    "asl.eval.environment": ("self.program_state_event = threading.Event()", {"threading": "shim"}),
    "asl.component.common.retry.retrier_decl": ("time.sleep(interval_seconds)", {"time": "time"}),
    "asl.component.state.wait.wait_function.wait_function": ("env.program_state_event.wait(wait_seconds)", {}),
}


class _Shim(types.ModuleType):
    """A module's view of ``threading`` or ``time`` with the kernel's versions of a few names."""

    def __init__(self, real: types.ModuleType, **overrides: Any) -> None:
        super().__init__(real.__name__)
        self._real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _virtual_time() -> None:
    import threading
    import time

    shims = {
        "shim": _Shim(threading, Thread=kernel.SimThread, Event=kernel.VirtualEvent),
        "time": _Shim(time, sleep=kernel.sleep),
    }
    for name, (expected, replacements) in _VIRTUAL_TIME.items():
        module = importlib.import_module(_SFN + name)
        if expected not in inspect.getsource(module):
            raise RuntimeError(
                f"moto {moto.__version__}: {module.__name__} no longer has {expected!r}; "
                "the local stack's virtual time (odr_local/moto_patches.py) must be adapted"
            )
        for attr, replacement in replacements.items():
            if not hasattr(module, attr):
                raise RuntimeError(f"moto {moto.__version__}: {module.__name__}.{attr} is gone")
            setattr(module, attr, shims.get(replacement, replacement) if isinstance(replacement, str) else replacement)


def prune_finished_threads() -> None:
    sfn_utils.TMP_THREADS[:] = [t for t in sfn_utils.TMP_THREADS if t.is_alive()]


class _TablesAsTheyAre(types.ModuleType):
    """moto.dynamodb.models' view of ``copy``: a table is not copied (the transaction keeps item copies)."""

    def __init__(self) -> None:
        super().__init__("copy")

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, dynamodb_models.Table) else copy.deepcopy(value, memo)


def _transact_with_item_rollback(original: Any) -> Any:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, DynamoType, DynamoType | None, Any]] = []
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op["Item"] if op_type == "Put" else op.get("Key", {})
            if table.hash_key_attr not in key:
                continue  # moto reports the malformed item itself
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                _restore(table, hash_key, range_key, item)
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    return transact_write_items


def _restore(table: Any, hash_key: DynamoType, range_key: DynamoType | None, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


def _dynamodb_transactions() -> None:
    backend = dynamodb_models.DynamoDBBackend
    method = backend.transact_write_items
    if getattr(method, "_odr_patched", False):
        return
    if "original_table_state[table_name] = copy.deepcopy(" not in inspect.getsource(method):
        raise RuntimeError(f"moto {moto.__version__}: DynamoDBBackend.transact_write_items changed; adapt the patch")
    patched = _transact_with_item_rollback(method)
    patched._odr_patched = True
    backend.transact_write_items = patched  # type: ignore[method-assign]
    dynamodb_models.copy = _TablesAsTheyAre()


def _wire(value: Any) -> Any:
    """An attribute value in DynamoDB's JSON wire form (nested values may still be moto's own objects)."""
    if isinstance(value, DynamoType):
        value = value.to_json()
    (kind, inner), *_ = value.items()
    if kind == "M":
        return {"M": {k: _wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_wire(v) for v in inner]}
    if kind == "B" and isinstance(inner, bytes):
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in inner]}
    return {kind: inner}


def _attribute_values_as_they_are() -> None:
    general = ResponseSerializer._serialize_type_structure
    if getattr(BaseJSONSerializer._serialize_type_structure, "_odr_patched", False):
        return
    if "_serialize_structure_member(wrapper, value, member_shape, member_key)" not in inspect.getsource(general):
        raise RuntimeError(f"moto {moto.__version__}: ResponseSerializer._serialize_type_structure changed")

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name != "AttributeValue" or not isinstance(value, dict | DynamoType):
            general(self, serialized, value, shape, key)
        elif key:
            self._default_serialize(serialized, _wire(value), shape, key)
        else:
            serialized.update(_wire(value))

    serialize_structure._odr_patched = True  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


def _parsed(parser: Any, value: dict[str, Any]) -> Any:
    """An attribute value from a request's JSON, as moto's service-model parser leaves it (blobs as bytes)."""
    parsed = parser.MAP_TYPE()
    for kind, inner in value.items():
        if inner is None or kind not in _ATTRIBUTE_KINDS:
            continue
        if kind == "M":
            inner = parser.MAP_TYPE((k, _parsed(parser, v) if isinstance(v, dict) else v) for k, v in inner.items())
        elif kind == "L":
            inner = [_parsed(parser, v) if isinstance(v, dict) else v for v in inner]
        elif kind == "B":
            inner = parser._blob_parser(inner)
        elif kind == "BS":
            inner = [parser._blob_parser(v) for v in inner]
        parsed[kind] = inner
    return parsed


_ATTRIBUTE_KINDS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


def _attribute_values_read_as_they_are() -> None:
    general = BaseJSONParser._parse_structure
    if getattr(general, "_odr_patched", False):
        return
    if "raw_value = value.get(json_name)" not in inspect.getsource(general):
        raise RuntimeError(f"moto {moto.__version__}: BaseJSONParser._parse_structure changed; adapt the patch")

    def parse_structure(self: Any, shape: Any, value: Any) -> Any:
        if shape.name == "AttributeValue" and isinstance(value, dict) and set(shape.members) == _ATTRIBUTE_KINDS:
            return _parsed(self, value)
        return general(self, shape, value)

    parse_structure._odr_patched = True  # type: ignore[attr-defined]
    parse_structure.__wrapped__ = general  # type: ignore[attr-defined]  # moto's own, for the equivalence test
    BaseJSONParser._parse_structure = parse_structure  # type: ignore[method-assign]


ITEM_SIZE_LIMIT = 405000  # moto's LimitedSizeDict: between DynamoDB's measured 409 and 410 KB


def _item_size_checked_once() -> None:
    if getattr(Item.__init__, "_odr_patched", False):
        return
    if "self.attrs[key] = DynamoType(value)" not in inspect.getsource(Item.__init__) or "405000" not in (
        inspect.getsource(LimitedSizeDict.__setitem__)
    ):
        raise RuntimeError(f"moto {moto.__version__}: Item.__init__ or LimitedSizeDict changed; adapt the patch")

    def init(self: Any, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
        self.hash_key, self.range_key = hash_key, range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict(values)  # dict.update: no per-attribute check

    init._odr_patched = True  # type: ignore[attr-defined]
    Item.__init__ = init  # type: ignore[method-assign]


def _item_sizes_kept() -> None:
    if getattr(Item.size, "_odr_patched", False):
        return
    if "value.size()" not in inspect.getsource(Item.size) or "self.item" not in inspect.getsource(
        UpdateExpressionExecutor.execute
    ):
        raise RuntimeError(f"moto {moto.__version__}: Item.size or UpdateExpressionExecutor changed; adapt the patch")
    size, execute, legacy = Item.size, UpdateExpressionExecutor.execute, Item.update_with_attribute_updates

    def kept_size(self: Any) -> int:
        known = self.__dict__.get("_odr_size")
        if known is None:
            known = self.__dict__["_odr_size"] = size(self)
        return int(known)

    def execute_and_forget(self: Any, node: Any = None) -> None:
        self.item.__dict__.pop("_odr_size", None)
        execute(self, node)
        self.item.__dict__.pop("_odr_size", None)

    def legacy_update(self: Any, attribute_updates: dict[str, Any]) -> None:
        self.__dict__.pop("_odr_size", None)
        legacy(self, attribute_updates)

    kept_size._odr_patched = True  # type: ignore[attr-defined]
    Item.size = kept_size  # type: ignore[method-assign]
    UpdateExpressionExecutor.execute = execute_and_forget  # type: ignore[method-assign]
    Item.update_with_attribute_updates = legacy_update  # type: ignore[method-assign]


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "__eq__": operator.eq,
    "__ne__": operator.ne,
    "__lt__": operator.lt,
    "__le__": operator.le,
    "__gt__": operator.gt,
    "__ge__": operator.ge,
}


def _scalar_comparisons() -> None:
    if getattr(DynamoType.__lt__, "_odr_patched", False):
        return
    if "self.cast_value < other.cast_value" not in inspect.getsource(DynamoType.__lt__):
        raise RuntimeError(f"moto {moto.__version__}: DynamoType comparisons changed; adapt the patch")
    for name, compare in _COMPARISONS.items():

        def fast(self: Any, other: Any, compare: Callable[[Any, Any], bool] = compare, slow: Any = None) -> bool:
            kind = self.type
            if isinstance(other, DynamoType) and kind == other.type:
                if kind == "S":
                    return compare(self.value, other.value)
                if kind == "N":
                    return compare(Decimal(self.value), Decimal(other.value))
            return bool(slow(self, other))

        fast.__defaults__ = (compare, getattr(DynamoType, name))
        fast._odr_patched = True  # type: ignore[attr-defined]
        setattr(DynamoType, name, fast)


_partition = threading.local()  # (table, hash key) while this thread runs a Query on a table's own key


def _partition_reads() -> None:
    table_class = dynamodb_models.Table
    if getattr(table_class.all_items, "_odr_patched", False):
        return
    if "key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key" not in inspect.getsource(
        table_class.all_items
    ):
        raise RuntimeError(f"moto {moto.__version__}: Table.all_items changed; adapt the patch")
    query = table_class.query

    def all_items(self: Any) -> list[Any]:
        asked = getattr(_partition, "key", None)
        if asked is not None and asked[0] is self:
            bucket = self.items.get(asked[1])
            if bucket is None:
                return []
            if not self.range_key_attr:
                return [bucket]
            return sorted(bucket.values(), key=lambda item: item.range_key.cast_value)
        items = [i for bucket in self.items.values() for i in (bucket.values() if self.range_key_attr else [bucket])]
        if self.range_key_attr:
            return sorted(items, key=lambda item: (item.hash_key.cast_value, item.range_key.cast_value))
        return sorted(items, key=lambda item: item.hash_key.cast_value)

    def query_partition(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        _partition.key = (self, hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _partition.key = None

    all_items._odr_patched = True  # type: ignore[attr-defined]
    table_class.all_items = all_items  # type: ignore[method-assign]
    table_class.query = query_partition  # type: ignore[method-assign]


def _programs_kept() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    entrypoint = ExecutionWorker._get_evaluation_entrypoint
    if getattr(entrypoint, "_odr_patched", False):
        return
    if "AmazonStateLanguageParser.parse(" not in inspect.getsource(entrypoint):
        raise RuntimeError(f"moto {moto.__version__}: ExecutionWorker._get_evaluation_entrypoint changed")
    programs: dict[str, Any] = {}

    def kept_program(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        if definition not in programs:
            programs[definition] = AmazonStateLanguageParser.parse(definition)[0]
        return programs[definition]

    kept_program._odr_patched = True  # type: ignore[attr-defined]
    ExecutionWorker._get_evaluation_entrypoint = kept_program  # type: ignore[method-assign]


def _clone_without_executions(self: Any, memo: dict[int, Any]) -> Any:
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for key, value in self.__dict__.items():
        setattr(clone, key, [] if key == "executions" else copy.deepcopy(value, memo))
    return clone


def _botocore_waits() -> None:
    """botocore's retry backoff is a pause inside an invocation, so it goes through the one clock's pause (instant
    in virtual time, where simulated time stands still during work). Adaptive mode's client-side rate limiter is
    left out: its token bucket refills from ``time.time()``, which stands still during work, so it would wait
    forever; what it adds in AWS is flow control, not correctness (the retries themselves stay)."""
    from botocore import endpoint
    from botocore.retries import bucket

    if "time.sleep(handler_response)" not in inspect.getsource(endpoint.Endpoint):
        raise RuntimeError("botocore: Endpoint._needs_retry no longer sleeps with time.sleep; adapt the patch")
    if not hasattr(bucket.TokenBucket, "acquire"):
        raise RuntimeError("botocore: TokenBucket.acquire is gone; adapt the patch")
    endpoint.time = _Shim(time, sleep=lambda seconds: clock.pause(seconds))  # type: ignore[attr-defined]
    bucket.TokenBucket.acquire = lambda self, amount=1, block=True: True  # type: ignore[method-assign]


def _fifo_groups_in_flight() -> None:
    from moto.sqs.models import SQSBackend

    receive = SQSBackend.receive_message
    if getattr(receive, "_odr_patched", False):
        return
    source = inspect.getsource(receive)
    if "currently_pending_groups = deepcopy(queue.pending_message_groups)" not in source:
        raise RuntimeError(f"moto {moto.__version__}: SQSBackend.receive_message changed; adapt the patch")

    def release_then_receive(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        queue.pending_messages.difference_update({m for m in queue.pending_messages if m.visible})
        return receive(self, queue_name, *args, **kwargs)

    release_then_receive._odr_patched = True  # type: ignore[attr-defined]
    SQSBackend.receive_message = release_then_receive  # type: ignore[method-assign]


def install() -> None:
    for owner, name in ((LambdaFunction, "_invoke_lambda"), (moto_backends, "list_of_moto_modules")):
        if not hasattr(owner, name):
            raise RuntimeError(f"moto {moto.__version__}: {owner.__name__}.{name} is gone; adapt the patch")
    LambdaFunction._invoke_lambda = invoke_in_process  # type: ignore[method-assign]
    StateMachine.__deepcopy__ = _clone_without_executions  # type: ignore[attr-defined]
    modules = tuple(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules
    _virtual_time()
    _dynamodb_transactions()
    _attribute_values_as_they_are()
    _attribute_values_read_as_they_are()
    _item_size_checked_once()
    _item_sizes_kept()
    _scalar_comparisons()
    _partition_reads()
    _programs_kept()
    _botocore_waits()
    _fifo_groups_in_flight()
