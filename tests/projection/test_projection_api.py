"""The API answers from the Neo4j projection when asked (?engine=neo4j), the same as from the store."""

from __future__ import annotations

import httpx
from neo4j import Driver

from api.app import create_app
from api.config import ApiConfig
from projection.neo4j import sync
from queries.catalog import default_catalog
from tests.conftest import LiveServer, free_port, fixture_store, serve


def test_engine_neo4j_gives_the_store_answer(driver: Driver) -> None:
    """The fixture study (tests/fixture_study.py) synced to a real Neo4j; three answers compared."""
    store = fixture_store()
    sync(store, driver)
    app = create_app(ApiConfig(open_scopes=frozenset({"aggregate", "excerpts"})), store, default_catalog(), neo4j=driver)
    server, thread = serve(app, free_port())
    url = f"http://127.0.0.1:{server.config.port}"
    try:
        for path in ("/questions/challenges-by-context", "/questions/matrix?rows=role&columns=theme&study=fx",
                     "/studies/fx"):
            on_store = httpx.get(url + path).json()
            on_neo4j = httpx.get(url + path, params={"engine": "neo4j"}).json()
            assert on_store["rows"], path
            assert _rows(on_neo4j) == _rows(on_store), path
        bad = httpx.get(url + "/questions/studies", params={"engine": "mongo"})
        assert bad.status_code == 422
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _rows(answer: dict) -> list[tuple[str, ...]]:
    """Rows as sorted tuples of text; `example` is a SAMPLE, so any excerpt of the group may appear."""
    return sorted(tuple(str(r[c]) for c in answer["columns"] if c != "example") for r in answer["rows"])


def test_engine_neo4j_without_a_projection_is_a_client_error(live: LiveServer) -> None:
    with live.client("all") as c:
        r = c.get("/questions/studies", params={"engine": "neo4j"})
    assert r.status_code == 400 and "Neo4j" in r.json()["detail"]
