"""The API answers from the Neo4j projection when asked (?engine=neo4j), the same as from the store."""

from __future__ import annotations

import socket

import httpx
from neo4j import Driver, GraphDatabase

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig
from qualkg.projection.neo4j import sync
from qualkg.queries.catalog import default_catalog
from tests.conftest import LiveServer, fixture_store, serve
from tests.servers.launch import Neo4jServer


def test_engine_neo4j_gives_the_store_answer(driver: Driver) -> None:
    """The fixture study (tests/fixture_study.py) synced to a real Neo4j; three answers compared."""
    store = fixture_store()
    sync(store, driver)
    config = ApiConfig(open_scopes=frozenset({"aggregate", "excerpts"}))
    app = create_app(config, store, default_catalog(), neo4j=driver)
    server, thread = serve(app)
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


UPLOAD = b"id,document,tag,content\n1,doc1,pay.low,SYNTHETIC: upload sync test\n2,doc1,pay.late,SYNTHETIC: second\n"
WRITER = ApiConfig(open_scopes=frozenset({"aggregate", "excerpts", "ingest"}))


def _upload(app) -> tuple[httpx.Response, list[str]]:
    """The upload's answer, and the store's graphs after it (read before the app stops and closes its store)."""
    server, thread = serve(app)
    try:
        r = httpx.post(f"http://127.0.0.1:{server.config.port}/studies", data={"study": "uploaded"},
                       files={"file": ("coded.csv", UPLOAD, "text/csv")}, timeout=60)
        return r, app.state.store.graphs()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_an_upload_is_projected_into_neo4j(driver: Driver, neo4j: Neo4jServer) -> None:
    """Two Taguette rows of one document → two excerpts of study 'uploaded', in Neo4j right after the upload."""
    app_driver = GraphDatabase.driver(neo4j.bolt_uri, auth=None)  # the app closes its driver when it stops
    r, _ = _upload(create_app(WRITER, fixture_store(), default_catalog(), neo4j=app_driver))
    assert r.status_code == 201, r.text
    assert r.json()["neo4j"]["synced"] is True and r.json()["neo4j"]["nodes"] > 0
    study = default_catalog().iris.study("uploaded")
    with driver.session() as session:
        n = session.run("MATCH (x:Excerpt)-[:IN_STUDY]->(s {iri: $s}) RETURN count(x) AS n", s=study).single()["n"]
    assert n == 2


def test_an_upload_stands_when_neo4j_is_down() -> None:
    """Nothing listens on the port: the store keeps the upload; the answer says how to catch Neo4j up."""
    with socket.socket() as closed:  # bound, never listening: connections are refused, and no one else gets the port
        closed.bind(("127.0.0.1", 0))
        dead = GraphDatabase.driver(f"bolt://127.0.0.1:{closed.getsockname()[1]}", connection_timeout=2,
                                    max_transaction_retry_time=2)
        r, graphs = _upload(create_app(WRITER, fixture_store(), default_catalog(), neo4j=dead))
    assert r.status_code == 201, r.text
    assert r.json()["neo4j"]["synced"] is False and "qualkg sync neo4j" in r.json()["neo4j"]["repair"]
    assert default_catalog().iris.graph("uploaded") in graphs


def test_a_delete_and_an_edit_follow_in_neo4j(driver: Driver, neo4j: Neo4jServer) -> None:
    """The two-excerpt upload of study 'uploaded' (UPLOAD), then its title edited and the study deleted over
    HTTP: Neo4j follows each write."""
    app_driver = GraphDatabase.driver(neo4j.bolt_uri, auth=None)  # the app closes its driver when it stops
    server, thread = serve(create_app(WRITER, fixture_store(), default_catalog(), neo4j=app_driver))
    url, study = f"http://127.0.0.1:{server.config.port}", default_catalog().iris.study("uploaded")
    count = "MATCH (x:Excerpt)-[:IN_STUDY]->(s {iri: $s}) RETURN count(x) AS n"
    try:
        r = httpx.post(f"{url}/studies", data={"study": "uploaded"}, files={"file": ("coded.csv", UPLOAD, "text/csv")},
                       timeout=60)
        assert r.status_code == 201, r.text
        edited = httpx.patch(f"{url}/studies/uploaded", json={"title": "Renamed"}, timeout=60)
        assert edited.status_code == 200 and edited.json()["neo4j"] == {"synced": True}, edited.text
        with driver.session() as session:
            assert session.run("MATCH (s {iri: $s}) RETURN s.title AS t", s=study).single()["t"] == "Renamed"
            assert session.run(count, s=study).single()["n"] == 2
        deleted = httpx.delete(f"{url}/studies/uploaded", timeout=60)
        assert deleted.status_code == 200 and deleted.json()["neo4j"] == {"synced": True}, deleted.text
        with driver.session() as session:
            assert session.run(count, s=study).single()["n"] == 0
            assert session.run("MATCH (s {iri: $s}) RETURN count(s) AS n", s=study).single()["n"] == 0
        assert httpx.get(f"{url}/studies/uploaded", timeout=60).status_code == 404
        invalid = httpx.patch(f"{url}/studies/fx", json={"title": "x"}, timeout=60)  # fx: records, no ingest run
        assert invalid.status_code == 422 and invalid.json()["problems"][0]["field"] == "inputDigest"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
