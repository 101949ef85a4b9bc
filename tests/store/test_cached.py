"""The answer cache: repeated reads are answered from it, and no answer outlives a write.

The contract suite (test_contract.py) also runs on the cached store ("oxigraph-cached"); these
tests check what only the cache has, on the three-triple fixture of tests/store/cases.py.
"""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, Triple

from qualkg.store import open_store
from qualkg.store.base import ExportFormat, StoreError
from qualkg.store.cached import CachedStore
from tests.store.cases import G1, G2, LABEL, ex, people

LABELS = "SELECT ?s ?label WHERE { ?s ?p ?label } ORDER BY ?label"
BY_LABEL = "SELECT ?s WHERE { ?s ?p ?label }"


def test_repeated_question_is_answered_from_the_cache() -> None:
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    first = store.select_df(LABELS, {"p": LABEL})
    second = store.select_df(LABELS, {"p": LABEL})
    assert (store.misses, store.hits) == (1, 1)
    assert list(second["label"]) == ["Alice", "Bob"] == list(first["label"])


def test_different_bindings_are_different_answers() -> None:
    """Same text, other parameter: 'Alice' matches alice only, 'Bob' bob only."""
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    alice = store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Alice")})
    bob = store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Bob")})
    assert list(alice["s"]) == [ex("alice").value] and list(bob["s"]) == [ex("bob").value]
    assert store.misses == 2 and store.hits == 0


def test_every_write_kind_discards_cached_answers() -> None:
    """replace_graph, replace_graphs and drop_graph each make the next read see the new content."""
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    assert len(store.select_df(LABELS, {"p": LABEL})) == 2
    store.replace_graphs({G2: people()[:1]})  # alice's label, a second time, in another graph
    assert len(store.select_df(LABELS, {"p": LABEL})) == 3
    store.drop_graph(G1)
    assert list(store.select_df(LABELS, {"p": LABEL})["label"]) == ["Alice"]
    assert store.ask("ASK { ?s ?p 'Bob' }") is False
    assert store.hits == 0


def test_a_caller_changing_its_frame_does_not_change_the_cached_answer() -> None:
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    mine = store.select_df(LABELS, {"p": LABEL})
    mine.loc[0, "label"] = "Mallory"
    assert list(store.select_df(LABELS, {"p": LABEL})["label"]) == ["Alice", "Bob"]


def test_least_recently_used_answers_are_dropped_beyond_the_limit() -> None:
    store = CachedStore(open_store("oxigraph"), max_answers=2)
    store.replace_graph(G1, people())
    for label in ("Alice", "Bob", "Carol"):  # Alice's answer is the oldest: dropped when Carol's comes in
        store.select_df(BY_LABEL, {"p": LABEL, "label": Literal(label)})
    store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Bob")})
    store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Alice")})
    assert (store.hits, store.misses) == (1, 4)


def test_raw_queries_are_cached_per_media_type() -> None:
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    csv = store.query_raw(LABELS.replace("?p", f"<{LABEL.value}>"), "text/csv")
    tsv = store.query_raw(LABELS.replace("?p", f"<{LABEL.value}>"), "text/tab-separated-values")
    assert csv.splitlines()[1:] != tsv.splitlines()[1:] and store.misses == 2
    assert store.export(G1, ExportFormat.nquads).count(b"\n") == 3


def test_concurrent_identical_questions_are_evaluated_once() -> None:
    """Eight threads ask the same question while the first evaluation is still running: one miss,
    seven waiters that get the same answer (the evaluation is held open until all have asked)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    release, evaluations = threading.Event(), []
    inner_select = store.inner.select_df

    def slow_select(query, bindings=None):
        evaluations.append(query)
        release.wait(timeout=10)
        return inner_select(query, bindings)

    store.inner.select_df = slow_select  # type: ignore[method-assign]  # the test holds the evaluation open
    with ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(store.select_df, LABELS, {"p": LABEL}) for _ in range(8)]
        while store.hits + store.misses < 8:
            threading.Event().wait(0.01)
        release.set()
        labels = [list(a.result()["label"]) for a in answers]
    assert len(evaluations) == 1 and (store.misses, store.hits) == (1, 7)
    assert labels == [["Alice", "Bob"]] * 8


def test_a_failed_evaluation_is_not_kept() -> None:
    store = CachedStore(open_store("oxigraph"))
    with pytest.raises(StoreError):
        store.select_df("SELECT ?x WHERE { ?x ?y }")  # a syntax error
    with pytest.raises(StoreError):
        store.select_df("SELECT ?x WHERE { ?x ?y }")
    assert store.misses == 2


def test_every_write_and_closing_starts_a_new_generation() -> None:
    """A waiter on `wait_for_write` is woken by the next write (with its generation) and by closing (None)."""
    import threading

    store = CachedStore(open_store("oxigraph"))
    assert store.generation == 0 and store.wait_for_write(-1) == 0
    woken: list[int | None] = []
    waiter = threading.Thread(target=lambda: woken.append(store.wait_for_write(0)))
    waiter.start()
    store.replace_graph(G1, people())
    waiter.join(timeout=10)
    assert woken == [1] and store.generation == 1
    waiter = threading.Thread(target=lambda: woken.append(store.wait_for_write(1)))
    waiter.start()
    store.close()
    waiter.join(timeout=10)
    assert woken == [1, None]


def test_closing_waits_for_a_read_in_progress_and_refuses_new_ones() -> None:
    """The evaluation is held open while `close` runs: the inner store is closed only once it ended."""
    import threading

    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    started, release, events = threading.Event(), threading.Event(), []
    inner_select, inner_close = store.inner.select_df, store.inner.close

    def slow_select(query, bindings=None):
        started.set()
        release.wait(timeout=10)
        events.append("read ended")
        return inner_select(query, bindings)

    def close() -> None:
        events.append("inner closed")
        inner_close()

    store.inner.select_df = slow_select  # type: ignore[method-assign]  # the test holds the evaluation open
    store.inner.close = close  # type: ignore[method-assign]  # the test records when the inner store closes
    reader = threading.Thread(target=store.select_df, args=(LABELS, {"p": LABEL}))
    reader.start()
    assert started.wait(10)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(timeout=0.2)
    assert closer.is_alive()  # waiting for the read
    release.set()
    closer.join(timeout=10)
    reader.join(timeout=10)
    assert events == ["read ended", "inner closed"]
    with pytest.raises(StoreError, match="closed"):
        store.ask("ASK { ?s ?p ?o }")


def test_memo_keeps_answers_within_its_byte_budget() -> None:
    """Answers of 40 KiB each under a 100 KiB budget: two are kept, the least recently used goes first,
    and an answer larger than the whole budget is returned but not kept."""
    from qualkg.store.cached import Memo

    memo = Memo(size=512, max_bytes=100 << 10)
    for key in ("a", "b", "c"):
        memo.remember(0, key, lambda: b"x" * (40 << 10))
    assert len(memo) == 2 and memo.bytes == 80 << 10
    assert memo.kept(0, "a") is None and memo.kept(0, "b") is not None
    assert memo.remember(0, "huge", lambda: b"x" * (200 << 10)) == b"x" * (200 << 10)
    assert memo.kept(0, "huge") is None and len(memo) == 2 and memo.bytes == 80 << 10
    memo.remember(1, "d", lambda: b"y")  # a new generation starts empty
    assert len(memo) == 1 and memo.bytes == 1


def test_cached_store_bounds_raw_answers_in_bytes() -> None:
    """Twelve 1 MiB raw answers with a 4 MiB budget: at most four are kept, never more than the budget."""
    store = CachedStore(open_store("oxigraph"), max_bytes=4 << 20)
    store.replace_graph(G1, [Triple(ex(f"s{i}"), LABEL, Literal("x" * 1100)) for i in range(1024)])
    for i in range(12):
        body = store.query_raw(f"SELECT ?o WHERE {{ ?s ?p ?o }} # {i}", "text/csv")
        assert len(body) > 1 << 20
        assert store.kept_bytes <= 4 << 20
    assert 3 <= len(store._memo) <= 4


def test_answer_bytes_counts_frames_and_bodies() -> None:
    import pandas as pd

    from qualkg.store.cached import answer_bytes

    frame = pd.DataFrame({"text": ["x" * 1000] * 100})
    assert answer_bytes(frame) > 100_000
    assert answer_bytes(b"abc") == 3

    class Table:
        body = b"z" * 5000

    assert 5000 < answer_bytes(Table()) < 6000
