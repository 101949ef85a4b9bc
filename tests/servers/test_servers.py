"""The test servers are real: Neo4j answers Cypher over Bolt; Fuseki, SPARQL and GSP over HTTP.

All data here is synthetic probe data under http://example.org/synthetic/servers/. Expected
answers are read off the data each test writes (one node, two literals, one triple).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import Driver, GraphDatabase
from rdflib import Graph, Literal, URIRef

from tests.servers.launch import FusekiServer, Neo4jServer, ServerStartError, start_fuseki

pytestmark = pytest.mark.servers

EX = "http://example.org/synthetic/servers/"
SPARQL_JSON = "application/sparql-results+json"


@pytest.fixture
def driver(neo4j: Neo4jServer) -> Iterator[Driver]:
    with GraphDatabase.driver(neo4j.bolt_uri, auth=None) as opened:
        yield opened


def _select(fuseki: FusekiServer, query: str) -> list[dict[str, str]]:
    """Run a SELECT; rows as {variable: value} (values only: the probes use no language tags)."""
    response = httpx.post(fuseki.query_url, data={"query": query}, headers={"Accept": SPARQL_JSON})
    response.raise_for_status()
    bindings = response.json()["results"]["bindings"]
    return [{name: term["value"] for name, term in row.items()} for row in bindings]


def _update(fuseki: FusekiServer, update: str) -> None:
    httpx.post(fuseki.update_url, data={"update": update}).raise_for_status()


def test_neo4j_is_community_5_26(driver: Driver) -> None:
    records, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"
    )
    (component,) = records
    assert component["name"] == "Neo4j Kernel"
    assert component["versions"][0].startswith("5.26.")
    assert component["edition"] == "community"


def test_neo4j_node_created_over_bolt_reads_back(driver: Driver) -> None:
    """One node with answer 41 is created; reading it back in a new transaction gives 41 + 1."""
    driver.execute_query("CREATE (:Probe {name: $name, answer: 41})", name="probe-a")
    records, _, _ = driver.execute_query("MATCH (p:Probe) RETURN p.name AS name, p.answer + 1 AS n")
    assert [(r["name"], r["n"]) for r in records] == [("probe-a", 42)]


def test_neo4j_reset_empties_the_graph(neo4j: Neo4jServer, driver: Driver) -> None:
    driver.execute_query("CREATE (:Probe)-[:LINKS]->(:Probe)")
    neo4j.reset()
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS nodes")
    assert records[0]["nodes"] == 0


def test_fuseki_is_5_6_0(fuseki: FusekiServer) -> None:
    response = httpx.get(f"{fuseki.base_url}/$/server")
    response.raise_for_status()
    assert response.json()["version"] == "5.6.0"


def test_fuseki_sparql_update_then_select(fuseki: FusekiServer) -> None:
    """Two literals inserted into a named graph come back, sorted, from the default graph — which
    is the union of the named graphs, as qualkg's questions read a store — and nothing else."""
    _update(fuseki, f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> "one", "two" }} }}')
    rows = _select(fuseki, f"SELECT ?o WHERE {{ <{EX}s> <{EX}p> ?o }} ORDER BY ?o")
    assert rows == [{"o": "one"}, {"o": "two"}]


def test_fuseki_gsp_put_replaces_named_graph_and_get_returns_it(fuseki: FusekiServer) -> None:
    """PUT twice: the graph holds only the second body, and so does the union default graph."""
    graph = {"graph": f"{EX}g1"}
    turtle = {"Content-Type": "text/turtle"}
    first = f'<{EX}s> <{EX}p> "first" .'
    second = f'<{EX}s> <{EX}p> "second" .'
    assert httpx.put(fuseki.gsp_url, params=graph, content=first, headers=turtle).status_code == 201
    replaced = httpx.put(fuseki.gsp_url, params=graph, content=second, headers=turtle)
    assert replaced.status_code in (200, 204)

    got = httpx.get(fuseki.gsp_url, params=graph, headers={"Accept": "application/n-triples"})
    got.raise_for_status()
    triples = set(Graph().parse(data=got.text, format="nt"))
    assert triples == {(URIRef(f"{EX}s"), URIRef(f"{EX}p"), Literal("second"))}
    assert _select(fuseki, "SELECT ?o WHERE { ?s ?p ?o }") == [{"o": "second"}]


def test_fuseki_reset_drops_default_and_named_graphs(fuseki: FusekiServer) -> None:
    triple = f"<{EX}a> <{EX}b> <{EX}c> ."
    _update(fuseki, f"INSERT DATA {{ {triple} GRAPH <{EX}g> {{ {triple} }} }}")
    fuseki.reset()
    rows = _select(fuseki, "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
    assert rows == []


def test_start_failure_raises_with_server_log_tail(tmp_path: Path) -> None:
    """Fuseki on a port already taken exits; the error must say so and quote its log."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServerStartError) as raised:
            start_fuseki(tmp_path, port=port, timeout_s=60)
    message = str(raised.value)
    assert "fuseki exited with code" in message
    assert "Address already in use" in message
