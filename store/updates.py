"""SPARQL Update text and RDF formats shared by the backends, built from validated terms only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from pyoxigraph import NamedNode, RdfFormat, Triple, serialize

from store.base import ExportFormat, StoreError

RDF_FORMATS: dict[ExportFormat, RdfFormat] = {
    ExportFormat.turtle: RdfFormat.TURTLE,
    ExportFormat.nquads: RdfFormat.N_QUADS,
    ExportFormat.ntriples: RdfFormat.N_TRIPLES,
    ExportFormat.jsonld: RdfFormat.JSON_LD,
    ExportFormat.trig: RdfFormat.TRIG,
}


def graph_node(graph: str) -> NamedNode:
    try:
        return NamedNode(graph)
    except ValueError as e:
        raise StoreError(f"invalid graph IRI <{graph}>: {e}") from e


def graph_names(graphs: Mapping[str, object]) -> str:
    return ", ".join(f"<{g}>" for g in graphs)


def checked(graph: str, triples: Iterable[Triple]) -> Iterator[Triple]:
    """The triples, refusing (by position) anything that is not a pyoxigraph Triple."""
    for position, triple in enumerate(triples):
        if not isinstance(triple, Triple):
            raise StoreError(f"graph <{graph}>: item {position} is a {type(triple).__name__}, not a Triple")
        yield triple


def ntriples(graph: str, triples: Iterable[Triple]) -> str:
    """The triples as N-Triples text (validated by `checked`)."""
    data = serialize(checked(graph, triples), format=RdfFormat.N_TRIPLES)
    assert data is not None  # serialize returns bytes when given no output
    return data.decode()


def replace_update(graphs: Mapping[str, Iterable[Triple]]) -> str:
    """ONE update that swaps every graph's content: `DROP SILENT GRAPH <g> ; … INSERT DATA { GRAPH <g> { … } … }`.

    Each graph's triples are serialised by pyoxigraph (validated terms, its own escaping;
    N-Triples is a subset of the SPARQL triple syntax). Every iterable is consumed before the
    text exists, so an exception from one (re-raised unchanged) or a non-Triple item
    (StoreError) happens before anything is sent.
    """
    targets = {graph: graph_node(graph) for graph in graphs}
    drops = "".join(f"DROP SILENT GRAPH {node} ;\n" for node in targets.values())
    inserts = "".join(f"GRAPH {targets[g]} {{\n{ntriples(g, triples)}}}\n" for g, triples in graphs.items())
    return f"{drops}INSERT DATA {{\n{inserts}}}"
