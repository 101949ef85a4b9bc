"""SPARQL Update text and RDF formats shared by the backends, built from validated terms only."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from pyoxigraph import NamedNode, RdfFormat, Triple, serialize

from qualkg.store.base import ExportFormat, StoreError

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
    """ONE update that swaps every graph's content: `DROP SILENT GRAPH <g> ; … INSERT DATA { GRAPH <g> {…} … }`,
    the triples serialised by pyoxigraph. Every iterable is consumed before the text exists, so an exception
    from one (re-raised unchanged) or a non-Triple item (StoreError) comes before anything is sent.
    """
    targets = {graph: graph_node(graph) for graph in graphs}  # a bad graph IRI fails before any source is read
    return _update(list(targets), {}, {g: ntriples(g, triples) for g, triples in graphs.items()})


def change_update(old: Mapping[str, str], new: Mapping[str, str]) -> str | None:
    """ONE update that turns each graph's `old` content into its `new` content; None if none changes.

    Both are N-Triples text as pyoxigraph writes it; the update deletes the lines that went and inserts
    the lines that came. A graph whose text may hold a blank node (`_:` or `<<` anywhere in it) is
    dropped and inserted whole instead (decision 0006).
    """
    drops: list[str] = []
    removed: dict[str, str] = {}
    added: dict[str, str] = {}
    for graph, text in new.items():
        before = old.get(graph, "")
        if any(mark in t for t in (before, text) for mark in ("_:", "<<")):
            drops.append(graph)
            added[graph] = text
            continue
        before_lines, after_lines = set(before.splitlines()), set(text.splitlines())
        if gone := before_lines - after_lines:
            removed[graph] = "".join(f"{line}\n" for line in gone)
        if came := after_lines - before_lines:
            added[graph] = "".join(f"{line}\n" for line in came)
    return _update(drops, removed, added) if drops or removed or added else None


def _update(drops: Iterable[str], removed: Mapping[str, str], added: Mapping[str, str]) -> str:
    """`DROP SILENT GRAPH <g> ; … DELETE DATA { GRAPH <g> { … } … } ; INSERT DATA { GRAPH <g> { … } … }`
    from N-Triples text per graph. One request, so one transaction on the store; the parts run in that order.
    """
    text = "".join(f"DROP SILENT GRAPH {graph_node(g)} ;\n" for g in drops)
    if removed:
        text += f"DELETE DATA {{\n{_graphs_block(removed)}}} ;\n"
    return f"{text}INSERT DATA {{\n{_graphs_block(added)}}}"


def _graphs_block(graphs: Mapping[str, str]) -> str:
    return "".join(f"GRAPH {graph_node(g)} {{\n{text}}}\n" for g, text in graphs.items())
