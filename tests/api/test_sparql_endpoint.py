"""The SPARQL 1.1 Protocol endpoint with real clients (SPARQLWrapper, rdflib SPARQLStore) on a live uvicorn.

The fixture study has 4 participants (P1, P2, N1, N2) and 5 excerpts.
"""

from __future__ import annotations

import csv
import io

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, XML, SPARQLWrapper

from qualkg.ontology.namespaces import QK
from tests.conftest import LiveServer

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
