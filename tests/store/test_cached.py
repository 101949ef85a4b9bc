"""The answer cache: repeated reads are answered from it, and no answer outlives a write.

The contract suite (test_contract.py) also runs on the cached store ("oxigraph-cached"); these
tests check what only the cache has, on the three-triple fixture of tests/store/cases.py.
"""

from __future__ import annotations

import pytest
from pyoxigraph import Literal

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

    store.inner.select_df = slow_select  # type: ignore[method-assign]
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


def test_kept_shows_a_remembered_value_of_this_generation_and_never_computes() -> None:
    store = CachedStore(open_store("oxigraph"))
    assert store.kept(("answer", 1)) is None
    assert store.remember(("answer", 1), lambda: "rendered") == "rendered"
    assert store.kept(("answer", 1)) == "rendered" and store.kept(("answer", 2)) is None
    store.replace_graph(G1, people())
    assert store.kept(("answer", 1)) is None


# -- kept warm --------------------------------------------------------------------------------------
def test_a_warmer_runs_at_once_and_again_after_every_write() -> None:
    """The warmer asks LABELS: warm, the caller's asking is a hit; after a write that adds the second
    graph (alice again: 3 labels) the warmer has asked again, so the next asking is a hit with 3 rows."""
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    store.keep_warm(lambda: store.select_df(LABELS, {"p": LABEL}))
    assert store.wait_warm(10)
    assert len(store.select_df(LABELS, {"p": LABEL})) == 2 and (store.misses, store.hits) == (1, 1)
    store.replace_graphs({G2: people()[:1]})
    assert store.wait_warm(10)
    misses = store.misses
    assert len(store.select_df(LABELS, {"p": LABEL})) == 3 and store.misses == misses == 2
    store.close()


def test_what_callers_asked_before_a_write_is_asked_again_after_it() -> None:
    """Bob's question was asked in the generation before the write: refreshed (a hit afterwards).
    Alice's was asked only before the write before that: not refreshed again (a miss afterwards)."""
    store = CachedStore(open_store("oxigraph"))
    store.keep_warm(lambda: None)
    store.replace_graph(G1, people())
    store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Alice")})
    store.drop_graph(G2)  # a write: Alice's question is refreshed once
    assert store.wait_warm(10)
    store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Bob")})
    store.drop_graph(G2)  # a write: Bob's is refreshed; Alice's was not asked since the last write
    assert store.wait_warm(10)
    hits, misses = store.hits, store.misses
    bob = store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Bob")})
    assert (store.hits, store.misses) == (hits + 1, misses) and list(bob["s"]) == [ex("bob").value]
    store.select_df(BY_LABEL, {"p": LABEL, "label": Literal("Alice")})
    assert store.misses == misses + 1
    store.close()


def test_a_failing_warmer_does_not_stop_the_refresh() -> None:
    """The first warmer raises a syntax error; the second still runs, and warming still finishes."""
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    store.keep_warm(lambda: store.select_df("SELECT ?x WHERE { ?x ?y }"))
    store.keep_warm(lambda: store.ask("ASK { ?s ?p 'Bob' }"))
    assert store.wait_warm(10)
    misses = store.misses
    assert store.ask("ASK { ?s ?p 'Bob' }") is True and store.misses == misses
    store.close()


def test_without_a_warmer_nothing_is_evaluated_in_the_background() -> None:
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    store.select_df(LABELS, {"p": LABEL})
    store.drop_graph(G2)
    assert store.wait_warm(0.2) is False
    store.select_df(LABELS, {"p": LABEL})
    assert (store.misses, store.hits) == (2, 0)


def test_a_warmer_added_while_warming_runs_before_the_answers_count_as_warm() -> None:
    """The first warmer is held open; a second is added meanwhile: warm only once it has run too."""
    import threading

    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    started, release = threading.Event(), threading.Event()
    store.keep_warm(lambda: (started.set(), release.wait(10)))
    assert started.wait(10)
    store.keep_warm(lambda: store.ask("ASK { ?s ?p 'Bob' }"))
    release.set()
    assert store.wait_warm(10)
    misses = store.misses
    assert store.ask("ASK { ?s ?p 'Bob' }") is True and store.misses == misses
    store.close()


def test_a_read_that_failed_is_not_run_again_after_a_write() -> None:
    """A caller's query with a syntax error fails; after a write only what succeeded is refreshed:
    LABELS is evaluated again (one miss), the failing query is not (no second miss)."""
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    store.keep_warm(lambda: None)
    assert store.wait_warm(10)
    store.select_df(LABELS, {"p": LABEL})
    with pytest.raises(StoreError):
        store.select_df("SELECT ?x WHERE { ?x ?y }")
    misses = store.misses
    store.drop_graph(G2)
    assert store.wait_warm(10)
    assert store.misses == misses + 1
    store.close()
