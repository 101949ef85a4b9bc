"""The GraphStore contract, run against every backend in conftest.BACKEND_NAMES.

Expected values come from the three-triple fixture `people()` (alice: label + age 42, bob:
label), counted by hand.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import rdflib
from pyoxigraph import Literal, NamedNode, Triple
from rdflib.compare import isomorphic

from qualkg.store.base import ExportFormat, GraphStore, QueryError, QueryTimeout, StoreError
from tests.store.cases import AGE, EX, G1, G2, LABEL, Opener, ex, people

LABELS_IN_G1 = f"""
    SELECT ?s ?label WHERE {{ GRAPH <{G1}> {{ ?s <{LABEL.value}> ?label }} }} ORDER BY ?s
"""


class Boom(Exception):
    """Raised by a triple source half-way through, as a failing reader would."""


def failing_after(triples: list[Triple], n: int) -> Iterator[Triple]:
    yield from triples[:n]
    raise Boom("source failed")


def content(store: GraphStore, graph: str) -> set[Triple]:
    return set(store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))


# --- replace_graph ----------------------------------------------------------------------------


def test_replace_writes_and_counts(store: GraphStore) -> None:
    assert store.replace_graph(G1, people()) == 3
    assert store.triple_count(G1) == 3
    assert content(store, G1) == set(people())


def test_replace_replaces_old_content(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    carol = [Triple(ex("carol"), LABEL, Literal("Carol"))]
    assert store.replace_graph(G1, carol) == 1
    assert content(store, G1) == set(carol)


def test_replace_twice_same_triples_same_count(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    assert store.replace_graph(G1, people()) == 3
    assert store.triple_count(G1) == 3


def test_replace_with_nothing_empties_graph(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    assert store.replace_graph(G1, []) == 0
    assert store.graphs() == []


def test_replace_is_atomic_when_source_raises(store: GraphStore) -> None:
    """The source yields two new triples then raises: the old graph must be exactly as before."""
    store.replace_graph(G1, people())
    new = [Triple(ex(f"n{i}"), LABEL, Literal(f"new {i}")) for i in range(4)]
    with pytest.raises(Boom):
        store.replace_graph(G1, failing_after(new, 2))
    assert content(store, G1) == set(people())
    assert store.graphs() == [G1]


def test_readers_see_old_or_new_never_a_mix(store: GraphStore) -> None:
    """While G1 flips between 200 and 300 triples, a reader thread only ever counts 200 or 300."""
    sizes = (200, 300)
    versions = [[Triple(ex(f"s{i}"), LABEL, Literal(f"v{size}")) for i in range(size)] for size in sizes]
    store.replace_graph(G1, versions[0])
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(store.triple_count(G1))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for round_ in range(10):
            store.replace_graph(G1, versions[(round_ + 1) % 2])
    finally:
        done.set()
        reader.join()
    assert seen and seen <= set(sizes)


def test_replace_graphs_writes_all(store: GraphStore) -> None:
    assert store.replace_graphs({G1: people(), G2: people()[:1]}) == {G1: 3, G2: 1}
    assert store.graphs() == [G1, G2]


def test_replace_graphs_is_all_or_nothing(store: GraphStore) -> None:
    """G1's new source is fine, G2's raises: neither graph may change."""
    store.replace_graphs({G1: people(), G2: people()[:1]})
    carol = [Triple(ex("carol"), LABEL, Literal("Carol"))]
    with pytest.raises(Boom):
        store.replace_graphs({G1: carol, G2: failing_after(carol, 1)})
    assert content(store, G1) == set(people())
    assert content(store, G2) == set(people()[:1])


def test_replace_refuses_a_non_triple_item(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    bad = [*people(), "not a triple"]
    with pytest.raises(StoreError, match=r"graph/one.*item 3"):
        store.replace_graph(G1, bad)  # type: ignore[list-item]  # the wrong item is what the test sends
    assert content(store, G1) == set(people())


def test_replace_refuses_an_invalid_graph_iri(store: GraphStore) -> None:
    with pytest.raises(StoreError, match="invalid graph IRI"):
        store.replace_graph("http://example.org/g> } ; DROP ALL ; #", people())
    assert store.graphs() == []


# Literal text that would break out of a naively pasted SPARQL string or N-Triples line.
TRICKY_TEXT = [
    'x" } ; DROP ALL ; #',
    '"} UNION { ?s ?p ?o }',
    "} } ; CLEAR ALL ; INSERT DATA { <http://example.org/x> <http://example.org/y> <http://example.org/z> }",
    "C:\\users\\u0041dmin and \\U0001F600",
    "line\nbreak\r\ttab ''' \"\"\" \x01\x7f",
    "non-BMP 😀 and é",
]


@pytest.mark.parametrize("text", TRICKY_TEXT)
def test_replace_keeps_tricky_literals_exactly(store: GraphStore, text: str) -> None:
    """Each value must come back unchanged and nothing else may be written (G2 stays as it was)."""
    store.replace_graph(G2, people())
    store.replace_graph(G1, [Triple(ex("tricky"), LABEL, Literal(text))])
    assert store.select(LABELS_IN_G1) == [{"s": ex("tricky"), "label": Literal(text)}]
    assert store.graphs() == [G1, G2]
    assert content(store, G2) == set(people())


# --- persistence, drop, graphs ----------------------------------------------------------------


def test_survives_close_and_reopen(make_store: Opener) -> None:
    first = make_store()
    first.replace_graph(G1, people())
    first.close()
    second = make_store()
    try:
        assert second.graphs() == [G1]
        assert content(second, G1) == set(people())
    finally:
        second.close()


def test_drop_graph(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    store.replace_graph(G2, people())
    assert store.drop_graph(G1) is True
    assert store.drop_graph(G1) is False
    assert store.triple_count(G1) == 0
    assert store.graphs() == [G2]
    assert store.triple_count(G2) == 3


def test_graphs_sorted(store: GraphStore) -> None:
    names = [EX + "graph/c", EX + "graph/a", EX + "graph/b"]
    for name in names:
        store.replace_graph(name, people())
    assert store.graphs() == sorted(names)


def test_triple_count_of_missing_graph_is_zero(store: GraphStore) -> None:
    assert store.triple_count(EX + "graph/missing") == 0


# --- queries ----------------------------------------------------------------------------------


def test_select_with_bindings(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    rows = store.select(
        f"SELECT ?s ?label WHERE {{ GRAPH <{G1}> {{ ?s <{LABEL.value}> ?label }} }}", {"label": Literal("Bob")}
    )
    assert rows == [{"s": ex("bob"), "label": Literal("Bob")}]


def test_select_unbound_is_none(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    rows = store.select(
        f"SELECT ?s ?age WHERE {{ GRAPH <{G1}> {{ ?s <{LABEL.value}> ?l OPTIONAL {{ ?s <{AGE.value}> ?age }} }} }}"
        " ORDER BY ?s"
    )
    assert rows == [{"s": ex("alice"), "age": Literal(42)}, {"s": ex("bob"), "age": None}]


@pytest.mark.parametrize("text", TRICKY_TEXT)
def test_binding_cannot_escape(store: GraphStore, text: str) -> None:
    """A crafted bound value is one literal: it matches nothing here and the store is unchanged."""
    store.replace_graph(G1, people())
    assert store.select(LABELS_IN_G1, {"label": Literal(text)}) == []
    assert store.ask(f"ASK WHERE {{ GRAPH ?g {{ ?s <{LABEL.value}> ?label }} }}", {"label": Literal(text)}) is False
    assert store.graphs() == [G1]
    assert content(store, G1) == set(people())


@pytest.mark.parametrize("text", TRICKY_TEXT)
def test_binding_matches_crafted_text_literally(store: GraphStore, text: str) -> None:
    store.replace_graph(G1, [*people(), Triple(ex("mallory"), LABEL, Literal(text))])
    rows = store.select(LABELS_IN_G1, {"label": Literal(text)})
    assert rows == [{"s": ex("mallory"), "label": Literal(text)}]


def test_ask_and_construct_with_bindings(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    assert store.ask(f"ASK WHERE {{ GRAPH ?g {{ ?s <{AGE.value}> 42 }} }}", {"g": NamedNode(G1)}) is True
    assert store.ask(f"ASK WHERE {{ GRAPH ?g {{ ?s <{AGE.value}> 42 }} }}", {"g": NamedNode(G2)}) is False
    construct = f"CONSTRUCT {{ ?s <{LABEL.value}> ?l }}\nWHERE {{ GRAPH <{G1}> {{ ?s <{LABEL.value}> ?l }} }}"
    assert store.construct(construct, {"s": ex("alice")}) == [Triple(ex("alice"), LABEL, Literal("Alice"))]


def test_bindings_with_hash_iri_before_where_on_one_line(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    construct = f"CONSTRUCT {{ ?s <{LABEL.value}> ?l }} WHERE {{ GRAPH <{G1}> {{ ?s <{LABEL.value}> ?l }} }}"
    assert store.construct(construct, {"s": ex("alice")}) == [Triple(ex("alice"), LABEL, Literal("Alice"))]


@pytest.mark.parametrize(
    ("method", "query"),
    [
        ("select", "SELEC ?s WHERE { ?s ?p ?o }"),
        ("ask", "ASK { ?s ?p }"),
        ("construct", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p "),
        ("select", "ASK { ?s ?p ?o }"),  # right syntax, wrong query form for the method
        ("ask", "SELECT * WHERE { ?s ?p ?o }"),
    ],
)
def test_bad_query_raises_query_error(store: GraphStore, method: str, query: str) -> None:
    with pytest.raises(QueryError):
        getattr(store, method)(query)


def test_bindings_reach_subqueries(store: GraphStore) -> None:
    """?label is bound in the outer query and used only inside the subquery: bob alone."""
    store.replace_graph(G1, people())
    query = f"""SELECT ?s WHERE {{ {{ SELECT ?s WHERE {{ GRAPH <{G1}> {{ ?s <{LABEL.value}> ?label }} }} }} }}"""
    assert store.select(query, {"label": Literal("Bob")}) == [{"s": ex("bob")}]


def test_select_df_types_and_order(store: GraphStore) -> None:
    """Column order is the SELECT order (?age before ?s); alice's row only (she has an age)."""
    store.replace_graph(G1, people())
    df = store.select_df(
        f"""SELECT ?age ?s ?half ?adult ?label WHERE {{ GRAPH <{G1}> {{
                ?s <{AGE.value}> ?age ; <{LABEL.value}> ?label }}
                BIND(?age / 84 AS ?half) BIND(?age >= 18 AS ?adult) }}"""
    )
    assert list(df.columns) == ["age", "s", "half", "adult", "label"]
    row = df.iloc[0].to_dict()
    assert row == {"age": 42, "s": EX + "alice", "half": 0.5, "adult": True, "label": "Alice"}
    assert [type(v) for v in df.astype(object).iloc[0]] == [int, str, float, bool, str]


def test_select_df_empty_keeps_columns(store: GraphStore) -> None:
    df = store.select_df("SELECT ?b ?a WHERE { GRAPH ?g { ?a ?p ?b } }")
    assert list(df.columns) == ["b", "a"]
    assert len(df) == 0


# --- export -----------------------------------------------------------------------------------


def expected_rdflib_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    alice, bob = rdflib.URIRef(EX + "alice"), rdflib.URIRef(EX + "bob")
    graph.add((alice, rdflib.RDFS.label, rdflib.Literal("Alice")))
    graph.add((alice, rdflib.URIRef(AGE.value), rdflib.Literal(42)))
    graph.add((bob, rdflib.RDFS.label, rdflib.Literal("Bob")))
    return graph


RDFLIB_FORMATS = {
    ExportFormat.turtle: "turtle",
    ExportFormat.ntriples: "nt",
    ExportFormat.nquads: "nquads",
    ExportFormat.trig: "trig",
    ExportFormat.jsonld: "json-ld",
}


@pytest.mark.parametrize("fmt", [ExportFormat.turtle, ExportFormat.ntriples, ExportFormat.jsonld])
def test_export_one_graph_round_trips(store: GraphStore, fmt: ExportFormat) -> None:
    store.replace_graph(G1, people())
    store.replace_graph(G2, [Triple(ex("other"), LABEL, Literal("not in G1"))])
    parsed = rdflib.Graph().parse(data=store.export(G1, fmt), format=RDFLIB_FORMATS[fmt])
    assert isomorphic(parsed, expected_rdflib_graph())


@pytest.mark.parametrize("fmt", [ExportFormat.nquads, ExportFormat.trig, ExportFormat.jsonld])
def test_export_dataset_round_trips(store: GraphStore, fmt: ExportFormat) -> None:
    store.replace_graph(G1, people())
    store.replace_graph(G2, people()[:1])
    parsed = rdflib.Dataset().parse(data=store.export(None, fmt), format=RDFLIB_FORMATS[fmt])
    counts = {str(g.identifier): len(g) for g in parsed.graphs() if len(g)}
    assert counts == {G1: 3, G2: 1}
    assert isomorphic(parsed.graph(rdflib.URIRef(G1)), expected_rdflib_graph())


@pytest.mark.parametrize("fmt", [ExportFormat.turtle, ExportFormat.ntriples])
def test_export_dataset_in_a_graph_format_is_refused(store: GraphStore, fmt: ExportFormat) -> None:
    with pytest.raises(StoreError, match="name a graph"):
        store.export(None, fmt)


# --- query_raw --------------------------------------------------------------------------------


def test_query_raw_select_as_json(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    body = store.query_raw(LABELS_IN_G1, "application/sparql-results+json")
    rows = json.loads(body)["results"]["bindings"]
    assert [(r["s"]["value"], r["label"]["value"]) for r in rows] == [(EX + "alice", "Alice"), (EX + "bob", "Bob")]


def test_query_raw_construct_as_turtle(store: GraphStore) -> None:
    store.replace_graph(G1, people())
    body = store.query_raw(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}", "text/turtle")
    assert isomorphic(rdflib.Graph().parse(data=body, format="turtle"), expected_rdflib_graph())


@pytest.mark.parametrize(
    ("query", "media_type"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "text/turtle"),  # results of a SELECT are no RDF graph
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/sparql-results+json"),
        ("SELECT * WHERE { ?s ?p ?o }", "application/x-unknown"),
        ("DROP ALL", "application/sparql-results+json"),  # an update is no query
    ],
)
def test_query_raw_refuses(store: GraphStore, query: str, media_type: str) -> None:
    store.replace_graph(G1, people())
    with pytest.raises(QueryError):
        store.query_raw(query, media_type)
    assert store.triple_count(G1) == 3


def test_query_raw_times_out(store: GraphStore) -> None:
    """A 4-way cross join over 25 triples (25**4 = 390,625 rows) takes well over 0.05 s here."""
    store.replace_graph(G1, [Triple(ex(f"s{i}"), LABEL, Literal(i)) for i in range(25)])
    slow = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a ?b ?c . ?d ?e ?f . ?h ?i ?j . ?k ?l ?m } }"
    with pytest.raises(QueryTimeout, match=r"0\.05 s"):
        store.query_raw(slow, "application/sparql-results+json", timeout_s=0.05)
    assert store.triple_count(G1) == 25
