"""The SPARQL 1.1 Protocol endpoint with real clients (SPARQLWrapper, rdflib SPARQLStore) on a live uvicorn.

The fixture study has 4 participants (P1, P2, N1, N2) and 5 excerpts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from xml.dom.minidom import parseString

import httpx
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, XML, SPARQLWrapper

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig
from qualkg.ontology.namespaces import QK
from qualkg.queries.catalog import default_catalog
from tests.conftest import LiveServer, fixture_store, serve

PARTICIPANTS = ("PREFIX qk: <https://w3id.org/qualkg/ns#> "
                "SELECT ?p ?name WHERE { ?p a qk:Participant ; qk:pseudonym ?name }")


def wrapper(live: LiveServer, method: str = "GET") -> SPARQLWrapper:
    sw = SPARQLWrapper(f"{live.url}/sparql")
    sw.addCustomHttpHeader("Authorization", f"Bearer {live.keys['sparql']}")
    sw.setMethod(method)
    return sw


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_json(live: LiveServer, method: str) -> None:
    sw = wrapper(live, method)
    sw.setQuery(PARTICIPANTS)
    sw.setReturnFormat(JSON)
    names = {b["name"]["value"] for b in sw.queryAndConvert()["results"]["bindings"]}
    assert names == {"P1", "P2", "N1", "N2"}


def test_sparqlwrapper_ask_and_xml(live: LiveServer) -> None:
    sw = wrapper(live)
    sw.setQuery("PREFIX qk: <https://w3id.org/qualkg/ns#> ASK { ?x a qk:CodedExcerpt }")
    sw.setReturnFormat(JSON)
    assert sw.queryAndConvert()["boolean"] is True
    sw.setQuery(PARTICIPANTS)
    sw.setReturnFormat(XML)
    doc = sw.queryAndConvert()
    assert len(doc.getElementsByTagName("result")) == 4


def test_rdflib_sparqlstore(live: LiveServer) -> None:
    graph = Graph(store=SPARQLStore(f"{live.url}/sparql", headers={"Authorization": f"Bearer {live.keys['sparql']}"}))
    rows = list(graph.query(PARTICIPANTS))
    assert {str(r[1]) for r in rows} == {"P1", "P2", "N1", "N2"}
    assert len(list(graph.triples((None, RDF.type, URIRef(QK.CodedExcerpt))))) == 5


@pytest.mark.parametrize(("accept", "check"), [
    ("text/csv", lambda body: len(list(csv.reader(io.StringIO(body)))) == 5),  # header + 4
    ("text/tab-separated-values", lambda body: len(body.strip().splitlines()) == 5),
    ("application/sparql-results+json", lambda body: body.count('"pseudonym"') == 0 and body.count('"name"') == 5),
])
def test_result_formats(live: LiveServer, accept: str, check) -> None:
    with live.client("sparql") as c:
        r = c.get("/sparql", params={"query": PARTICIPANTS}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
    assert check(r.text)


def test_construct_as_turtle(live: LiveServer) -> None:
    q = "PREFIX qk: <https://w3id.org/qualkg/ns#> CONSTRUCT { ?p a qk:Participant } WHERE { ?p a qk:Participant }"
    with live.client("sparql") as c:
        r = c.post("/sparql", content=q, headers={"Content-Type": "application/sparql-query", "Accept": "text/turtle"})
    assert r.status_code == 200
    assert len(Graph().parse(data=r.text, format="turtle")) == 4


@pytest.mark.parametrize(("how", "payload", "message"), [
    ("post-update", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read only"),
    ("form-update", "DROP ALL", "read only"),
    ("get-query", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read only"),
    ("get-query", "LOAD <http://example.org/x.ttl>", "read only"),
    ("get-query", "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("get-query", "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://x/> { ?s ?p ?o } } }", "SERVICE"),
    ("get-query", "SELECT * WHERE { ?s ?p ?o } LIMIT 5000", "row cap"),
    ("get-query", "SELEKT nonsense", "not a SPARQL query"),
])
def test_refused(live: LiveServer, how: str, payload: str, message: str) -> None:
    with live.client("all") as c:
        if how == "post-update":
            r = c.post("/sparql", content=payload, headers={"Content-Type": "application/sparql-update"})
        elif how == "form-update":
            r = c.post("/sparql", data={"update": payload})
        else:
            r = c.get("/sparql", params={"query": payload})
    assert r.status_code == 400, r.text
    assert message in r.json()["detail"]
    with live.client("all") as c:  # and nothing changed
        assert c.get("/studies").json()["rows"][0]["participants"] == 4


def test_row_cap_is_appended(live: LiveServer) -> None:
    """The live server caps rows at 1000; the cross product of typed nodes has tens of thousands."""
    with live.client("sparql") as c:
        r = c.get("/sparql", params={"query": "SELECT * WHERE { ?s a ?c . ?t a ?d }"},
                  headers={"Accept": "application/sparql-results+json"})
    assert len(r.json()["results"]["bindings"]) == 1000
    assert r.headers["Qualkg-Row-Cap"] == "1000" and r.headers["Qualkg-Rows-Truncated"] == "1000"


@pytest.fixture(scope="module")
def cap3() -> Iterator[str]:
    """A live server whose row cap is 3: the fixture's 4 participants are one row too many."""
    app = create_app(ApiConfig(keys=[], open_scopes=frozenset({"sparql"}), max_rows=3), fixture_store(),
                     default_catalog())
    server, thread = serve(app)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)


def _rows(media: str, body: str) -> list[str]:
    """The first column of each row of a SELECT answer, in any of the four result formats."""
    if media == "text/csv":
        return [r[0] for r in list(csv.reader(io.StringIO(body)))[1:]]
    if media == "text/tab-separated-values":
        return [line.split("\t")[0] for line in body.split("\n")[1:] if line]
    if media == "application/sparql-results+json":
        return [b["t"]["value"] for b in httpx.Response(200, text=body).json()["results"]["bindings"]]
    results = parseString(body).getElementsByTagName("result")
    return [n.getElementsByTagName("literal")[0].firstChild.data for n in results]


# Four rows; the first holds a line break, a quote and a comma (one CSV record over two lines).
FOUR = 'SELECT ?t WHERE { VALUES ?t { "a\\nb \\"q\\", c" "d" "e" "f" } } ORDER BY ?t'
THREE = 'SELECT ?t WHERE { VALUES ?t { "d" "e" "f" } } ORDER BY ?t'


@pytest.mark.parametrize("media", ["text/csv", "text/tab-separated-values", "application/sparql-results+json",
                                   "application/sparql-results+xml"])
def test_an_answer_cut_at_the_cap_says_so(cap3: str, media: str) -> None:
    with httpx.Client(base_url=cap3, headers={"Accept": media}) as c:
        cut, whole, limited = (c.get("/sparql", params={"query": q}) for q in (FOUR, THREE, FOUR + " LIMIT 2"))
    assert cut.status_code == 200 and cut.headers["content-type"].startswith(media)
    first = 'a\nb "q", c' if media != "text/tab-separated-values" else '"a\\nb \\"q\\", c"'
    assert _rows(media, cut.text) == [first, *(["d", "e"] if media != "text/tab-separated-values" else ['"d"', '"e"'])]
    assert cut.headers["Qualkg-Row-Cap"] == "3" and cut.headers["Qualkg-Rows-Truncated"] == "3"
    assert len(_rows(media, whole.text)) == 3  # exactly at the cap: nothing was cut
    assert whole.headers["Qualkg-Row-Cap"] == "3" and "Qualkg-Rows-Truncated" not in whole.headers
    assert len(_rows(media, limited.text)) == 2  # the caller's own LIMIT: the cap played no part
    assert "Qualkg-Row-Cap" not in limited.headers and "Qualkg-Rows-Truncated" not in limited.headers


def test_graph_answers_name_the_cap(cap3: str) -> None:
    """A CONSTRUCT's cap counts solutions, which a graph does not show: the cap is named, never a cut."""
    q = "PREFIX qk: <https://w3id.org/qualkg/ns#> CONSTRUCT { ?p a qk:Participant } WHERE { ?p a qk:Participant }"
    with httpx.Client(base_url=cap3) as c:
        r = c.get("/sparql", params={"query": q}, headers={"Accept": "text/turtle"})
    assert len(Graph().parse(data=r.text, format="turtle")) == 3
    assert r.headers["Qualkg-Row-Cap"] == "3" and "Qualkg-Rows-Truncated" not in r.headers


def test_timeout_answers_503(live: LiveServer) -> None:
    """A triple cross product (~21 million rows to count) runs for seconds; the live server waits 1 s."""
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a a ?c . ?d a ?f . ?g a ?i }"
    with live.client("sparql") as c:
        r = c.get("/sparql", params={"query": slow})
    assert r.status_code == 503 and "timeout" in r.json()["detail"]


def test_concurrent_queries_are_checked_safely() -> None:
    """rdflib's SPARQL parser fails when two threads parse at once (TypeError from pyparsing); the
    check runs in the thread pool, so it must serialise parsing. 32 distinct texts on 8 threads."""
    from concurrent.futures import ThreadPoolExecutor

    from qualkg.api.routes.sparql import check_query

    texts = [f"SELECT ?s WHERE {{ ?s ?p ?o }} # {i}" for i in range(32)]
    with ThreadPoolExecutor(8) as pool:
        forms = list(pool.map(lambda t: check_query(t, 100)[0], texts))
    assert forms == ["SelectQuery"] * 32
