"""Finished answers kept with the store's answers (api/answer.py over store/cached.py), on a live
uvicorn: a repeat is served without asking the store again, every caller still gets the answer
for its own scopes and format, and a write drops every kept answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from qualkg.api.answer import warm_answers
from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.security import key_hash
from qualkg.queries.catalog import default_catalog
from qualkg.store.cached import CachedStore
from tests.conftest import IRIS, fixture_store, free_port, serve

KEYS = {"aggregate": "cache-key-aggregate", "excerpts": "cache-key-excerpts"}
CONFIG = ApiConfig(keys=[ApiKey(key_sha256=key_hash(KEYS["aggregate"]), name="a", scopes=frozenset({"aggregate"})),
                         ApiKey(key_sha256=key_hash(KEYS["excerpts"]), name="e", scopes=frozenset({"aggregate", "excerpts"}))],
                   min_cell_count=3)
CHALLENGES = "/questions/challenges-by-context"


def client(url: str, scope: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEYS[scope]}"}, timeout=30)


@pytest.fixture()
def served() -> Iterator[tuple[str, CachedStore]]:
    """A cached server and the cache under it (its own store: the last test writes)."""
    store = CachedStore(fixture_store())
    server, thread = serve(create_app(CONFIG, store, default_catalog()), free_port())
    yield f"http://127.0.0.1:{server.config.port}", store
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def uncached() -> Iterator[str]:
    """The same app without the cache: what every answer must equal."""
    server, thread = serve(create_app(CONFIG, fixture_store(), default_catalog()), free_port())
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
    """Kept warm, every question with its defaults is answered at start and again after a write: the
    first asking of the headline question and of the excerpts list (a paged question: warmed with the
    page a request without limit gets) then evaluates nothing and renders nothing (the finished answer
    was kept), and after the fixture study's graph is dropped, the first asking of `studies` already
    lists none without an evaluation. The evaluations are counted on the real store's select_df."""
    store = CachedStore(fixture_store())
    evaluations: list[str] = []
    evaluate = store.inner.select_df

    def counted(query, bindings=None):
        evaluations.append(query)
        return evaluate(query, bindings)

    store.inner.select_df = counted  # type: ignore[method-assign]
    app = create_app(CONFIG, store, default_catalog())
    store.keep_warm(lambda: warm_answers(app.state))
    server, thread = serve(app, free_port())
    try:
        with client(f"http://127.0.0.1:{server.config.port}", "excerpts") as c, \
                client(f"http://127.0.0.1:{server.config.port}", "aggregate") as counts:
            assert store.wait_warm(30) and c.get("/health").json()["answers_warm"] is True
            warmed, misses = len(evaluations), store.misses
            first = c.get(CHALLENGES)
            assert first.status_code == 200 and first.json()["rows"]
            page = c.get("/questions/excerpts")
            assert page.status_code == 200 and page.json()["rows"]
            assert "example" not in counts.get(CHALLENGES).json()["columns"]  # its own, suppressed answer
            assert len(evaluations) == warmed and store.misses == misses
            store.drop_graph(IRIS.graph("fx"))
            assert store.wait_warm(30)
            warmed = len(evaluations)
            assert c.get("/questions/studies").json()["rows"] == [] and len(evaluations) == warmed
    finally:
        server.should_exit = True
        thread.join(timeout=10)
