"""SQS batches: at most 10 messages and under the 1 MiB batch limit, in order, nothing dropped."""

from __future__ import annotations

from odr_adapter.data_access.queues import _BATCH_BYTES, _batches


def test_batches_respect_count_and_size_and_keep_everything_in_order() -> None:
    texts = [f"{i}:" + "x" * 300_000 for i in range(7)] + [f"small-{i}" for i in range(12)]
    batches = _batches(texts)
    assert [t for batch in batches for t in batch] == texts
    assert all(len(b) <= 10 for b in batches)
    assert all(sum(len(t.encode()) for t in b) <= _BATCH_BYTES for b in batches)


def test_a_single_large_message_is_its_own_batch() -> None:
    big = "大" * 200_000  # 600 kB in UTF-8
    assert _batches([big, big]) == [[big], [big]]
