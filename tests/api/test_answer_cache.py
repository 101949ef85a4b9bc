"""Finished answers kept per store generation (api/answer_cache.py over store/cached.py).

On the three-triple fixture of tests/store/cases.py: warming computes given and recently asked answers
after every write. On a live uvicorn: a repeat skips the store, each caller gets its own scopes' and
format's answer, and a write drops every kept answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from pyoxigraph import Literal

from qualkg.api.answer_cache import AnswerCache, Work
from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.security import key_hash
from qualkg.queries.catalog import default_catalog
from qualkg.store import open_store
from qualkg.store.base import StoreError
from qualkg.store.cached import CachedStore
from tests.conftest import IRIS, fixture_store, serve
from tests.store.cases import G1, G2, LABEL, people

LABELS = "SELECT ?s ?label WHERE { ?s ?p ?label } ORDER BY ?label"
BY_LABEL = "SELECT ?s WHERE { ?s ?p ?label }"
BROKEN = "SELECT ?x WHERE { ?x ?y }"  # a syntax error


def labels(store: CachedStore, label: str | None = None) -> Work:
    """A key and an answer computed from the store: the labels, or the subjects with one label."""
    if label is None:
        return ("labels",), lambda: list(store.select_df(LABELS, {"p": LABEL})["label"])
    return ("by", label), lambda: list(store.select_df(BY_LABEL, {"p": LABEL, "label": Literal(label)})["s"])


@pytest.fixture()
def cached() -> Iterator[CachedStore]:
    store = CachedStore(open_store("oxigraph"))
    store.replace_graph(G1, people())
    yield store
    store.close()


def test_an_answer_is_kept_until_the_next_write(cached: CachedStore) -> None:
    answers = AnswerCache(cached)
    key, compute = labels(cached)
    assert answers.kept(key) is None
    assert answers.remember(key, compute) == ["Alice", "Bob"] == answers.kept(key)
    cached.replace_graphs({G2: people()[:1]})
    assert answers.kept(key) is None
    assert answers.remember(key, compute) == ["Alice", "Alice", "Bob"]


def test_given_answers_are_computed_at_once_and_again_after_every_write(cached: CachedStore) -> None:
    answers = AnswerCache(cached)
    answers.keep_warm([labels(cached)])
    assert answers.wait_warm(10) and answers.kept(("labels",)) == ["Alice", "Bob"]
    cached.replace_graphs({G2: people()[:1]})  # alice again, in another graph
    assert answers.wait_warm(10) and answers.kept(("labels",)) == ["Alice", "Alice", "Bob"]


def test_what_callers_asked_before_a_write_is_asked_again_after_it(cached: CachedStore) -> None:
    """Bob's answer was asked in the generation before the write: computed again. Alice's was asked only
    before the write before that: not again."""
    answers = AnswerCache(cached)
    answers.keep_warm([])
    answers.remember(*labels(cached, "Alice"))
    cached.drop_graph(G2)  # a write: Alice's answer is computed again once
    assert answers.wait_warm(10) and answers.kept(("by", "Alice")) is not None
    answers.remember(*labels(cached, "Bob"))
    cached.drop_graph(G2)  # a write: Bob's answer again; Alice's was not asked since the last write
    assert answers.wait_warm(10)
    assert answers.kept(("by", "Bob")) is not None and answers.kept(("by", "Alice")) is None


def test_a_failing_answer_does_not_stop_the_others(cached: CachedStore) -> None:
    answers = AnswerCache(cached)
    answers.keep_warm([(("broken",), lambda: cached.select_df(BROKEN)), labels(cached)])
    assert answers.wait_warm(10) and answers.kept(("labels",)) == ["Alice", "Bob"]


def test_an_answer_that_failed_is_not_asked_again_after_a_write(cached: CachedStore) -> None:
    answers = AnswerCache(cached)
    answers.keep_warm([])
    evaluations: list[str] = []

    def broken() -> object:
        evaluations.append("broken")
        return cached.select_df(BROKEN)

    with pytest.raises(StoreError):
        answers.remember(("broken",), broken)
    cached.drop_graph(G2)
    assert answers.wait_warm(10) and evaluations == ["broken"]


def test_without_keep_warm_nothing_is_computed_in_the_background(cached: CachedStore) -> None:
    answers = AnswerCache(cached)
    answers.remember(*labels(cached))
    cached.drop_graph(G2)
    assert not answers.keeps_warm and answers.wait_warm(0.2) is False
    assert answers.kept(("labels",)) is None


def test_a_write_during_warming_starts_it_over(cached: CachedStore) -> None:
    """The first answer is held open while a write comes in: warm only once the new content is done."""
    answers = AnswerCache(cached)
    started, release = threading.Event(), threading.Event()
    answers.keep_warm([(("held",), lambda: (started.set(), release.wait(10))), labels(cached)])
    assert started.wait(10)
    cached.replace_graphs({G2: people()[:1]})
    release.set()
    assert answers.wait_warm(10) and answers.kept(("labels",)) == ["Alice", "Alice", "Bob"]


def test_closing_the_store_ends_the_warming(cached: CachedStore) -> None:
    answers, before = AnswerCache(cached), set(threading.enumerate())
    answers.keep_warm([labels(cached)])
    assert answers.wait_warm(10)
    [warmer] = [t for t in threading.enumerate() if t.name == "answer-warmer" and t not in before]
    cached.close()
    warmer.join(timeout=10)
    assert not warmer.is_alive()


# -- served -----------------------------------------------------------------------------------------
KEYS = {"aggregate": "cache-key-aggregate", "excerpts": "cache-key-excerpts"}
CONFIG = ApiConfig(keys=[ApiKey(key_sha256=key_hash(KEYS["aggregate"]), name="a", scopes=frozenset({"aggregate"})),
                         ApiKey(key_sha256=key_hash(KEYS["excerpts"]), name="e",
                                scopes=frozenset({"aggregate", "excerpts"}))],
                   min_cell_count=3, warm_answers=False)
CHALLENGES = "/questions/challenges-by-context"


def client(url: str, scope: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEYS[scope]}"}, timeout=30)


@pytest.fixture()
def served() -> Iterator[tuple[str, CachedStore]]:
    """A cached server (answers not kept warm) and the store under it (its own: the last test writes)."""
    store = CachedStore(fixture_store())
    server, thread = serve(create_app(CONFIG, store, default_catalog()))
    yield f"http://127.0.0.1:{server.config.port}", store
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def uncached() -> Iterator[str]:
    """The same app without the cache: what every answer must equal."""
    server, thread = serve(create_app(CONFIG, fixture_store(), default_catalog()))
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_repeated_question_is_answered_without_the_store(served: tuple[str, CachedStore], uncached: str) -> None:
    url, store = served
    with client(url, "excerpts") as c, client(uncached, "excerpts") as u:
        first = c.get(CHALLENGES)
        misses = store.misses
        again = c.get(CHALLENGES)
        assert first.status_code == again.status_code == 200
        assert store.misses == misses  # nothing was evaluated for the repeat
        assert again.content == first.content == u.get(CHALLENGES).content


def test_each_scope_gets_its_own_answer(served: tuple[str, CachedStore], uncached: str) -> None:
    """The excerpts caller fills the cache first; the aggregate caller must still get counts below k
    suppressed and no excerpt text, exactly as the uncached server answers it."""
    url, _ = served
    with client(url, "excerpts") as full, client(url, "aggregate") as counts, client(uncached, "aggregate") as u:
        full_body = full.get(CHALLENGES).json()
        body = counts.get(CHALLENGES).json()
        assert body == u.get(CHALLENGES).json()
        assert body != full_body
        assert "example" in full_body["columns"] and "example" not in body["columns"]


def test_each_format_gets_its_own_answer(served: tuple[str, CachedStore]) -> None:
    url, _ = served
    with client(url, "excerpts") as c:
        as_json = c.get("/questions/studies")
        as_csv = c.get("/questions/studies", params={"format": "csv"})
    assert as_json.headers["content-type"] == "application/json"
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"] == 'attachment; filename="studies.csv"'
    assert as_csv.text.splitlines()[0].startswith(as_json.json()["columns"][0])


def test_a_write_drops_the_kept_answers(served: tuple[str, CachedStore]) -> None:
    """The fixture holds one study; once its graph is dropped, the studies question lists none."""
    url, store = served
    with client(url, "excerpts") as c:
        assert len(c.get("/questions/studies").json()["rows"]) == 1
        store.drop_graph(IRIS.graph("fx"))
        assert c.get("/questions/studies").json()["rows"] == []


def test_a_warm_server_answers_a_first_asking_without_the_store() -> None:
    """Kept warm, the first asking of a question with its defaults, before and after a write, evaluates nothing."""
    store = CachedStore(fixture_store())
    evaluations: list[str] = []  # counted on the real store's select_df
    evaluate = store.inner.select_df

    def counted(query, bindings=None):
        evaluations.append(query)
        return evaluate(query, bindings)

    store.inner.select_df = counted  # type: ignore[method-assign]  # the test counts the evaluations
    app = create_app(CONFIG.model_copy(update={"warm_answers": True}), store, default_catalog())
    server, thread = serve(app)
    answers: AnswerCache = app.state.answers
    try:
        with client(f"http://127.0.0.1:{server.config.port}", "excerpts") as c, \
                client(f"http://127.0.0.1:{server.config.port}", "aggregate") as counts:
            assert answers.wait_warm(30) and c.get("/health").json()["answers_warm"] is True
            warmed, misses = len(evaluations), store.misses
            # every question with its defaults was answered at start; the headline question and the
            # excerpts list (paged: warmed with the page a request without limit gets) then evaluate and
            # render nothing, since the finished answer was kept
            first = c.get(CHALLENGES)
            assert first.status_code == 200 and first.json()["rows"]
            page = c.get("/questions/excerpts")
            assert page.status_code == 200 and page.json()["rows"]
            assert "example" not in counts.get(CHALLENGES).json()["columns"]  # its own, suppressed answer
            assert len(evaluations) == warmed and store.misses == misses
            store.drop_graph(IRIS.graph("fx"))  # warmed again after the write: `studies` lists none unevaluated
            assert answers.wait_warm(30)
            warmed = len(evaluations)
            assert c.get("/questions/studies").json()["rows"] == [] and len(evaluations) == warmed
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_finished_answers_are_bounded_in_bytes(cached: CachedStore) -> None:
    """By default the store's budget; twelve 16 KiB answers under a 64 KiB one keep at most four, and one
    larger than the budget is answered but not kept."""
    assert AnswerCache(cached).kept_bytes == 0
    small = CachedStore(open_store("oxigraph"), max_bytes=64 << 10)
    try:
        answers = AnswerCache(small)
        for i in range(12):
            answers.remember(("big", i), lambda: b"x" * (16 << 10))
            assert answers.kept_bytes <= 64 << 10
        assert answers.kept(("big", 11)) is not None and answers.kept(("big", 0)) is None
        assert answers.remember("huge", lambda: b"y" * (65 << 10)) == b"y" * (65 << 10)
        assert answers.kept("huge") is None
    finally:
        small.close()
