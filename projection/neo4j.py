"""The Neo4j projection: each named graph of a GraphStore becomes labelled nodes and relationships.

The rows come from projection/sparql/{nodes,properties,relationships}.rq. Every node is a `:Resource`
keyed by `iri`; every node and relationship lists the graphs that state it in `graphs` and goes with
the last of them. One write transaction per graph; syncing twice gives the same graph (decision 0043).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction
from pyoxigraph import BlankNode, Literal, NamedNode

from qualkg.ontology.namespaces import ONTOLOGY_GRAPH
from qualkg.store.base import GraphStore, Row
from qualkg.store.terms import to_python

# Every label and relationship type the .rq files may produce (checked, so a typo in a .rq file
# fails the sync instead of creating a stray label). Labels reach Cypher as parameters (Neo4j 5.26
# dynamic labels, `SET n:$(row.labels)`). Relationship types are written into the MERGE text, and
# only ever from REL_TYPES: Neo4j 5.26 plans `MERGE (a)-[r:$(row.type)]->(b)` as a scan of every
# relationship in the database for each row (quadratic in the graph), a literal type as an expand
# between the two ends.
LABELS: tuple[str, ...] = (
    "Study", "Publication", "Participant", "Role", "Team", "Organisation", "OrgFeature", "Mode", "Event",
    "Transcript", "Excerpt", "Attribute", "Concept", "Code", "Subtheme", "Theme", "PublishedTheme",
    "PublishedFinding", "ReviewFinding", "AnalyticalTheme", "DescriptiveTheme", "ReviewFrame", "MappingRecord",
)
REL_TYPES: tuple[str, ...] = (
    "IN_STUDY", "UNIT_OF", "HAS_FEATURE", "BROADER", "CODED_AS", "FROM_TRANSCRIPT", "FROM_EVENT",
    "HAS_PARTICIPANT", "HAS_MODE", "REPORTED_IN", "DERIVED_FROM", "HAS_ATTRIBUTE", "SOURCE", "TARGET",
    "IN_SCHEME", "SPOKE", "HOLDS_ROLE", "MEMBER_OF", "MAPS_TO",
)
LIST_KEYS = frozenset({"countries", "published_themes", "authors"})  # multi-valued: always a sorted list
BATCH = 5_000

T = TypeVar("T")
Progress = Callable[[Iterable[T]], Iterator[T]]


class ProjectionError(RuntimeError):
    """The projection met something it cannot write; the message names the graph and the item."""


@cache
def _query(name: str) -> str:
    return files("qualkg.projection").joinpath("sparql", name).read_text(encoding="utf-8")


def _text(row: Row, name: str, query: str) -> str:
    """The IRI or literal text that `query` bound to `name` in `row`."""
    term = row.get(name)
    if not isinstance(term, NamedNode | BlankNode | Literal):
        raise ProjectionError(f"{query} left ?{name} unbound (or bound it to a triple)")
    return term.value


@dataclass
class GraphRows:
    """One named graph as rows ready for Cypher: nodes (iri, labels, props) and relationships
    (from, type, to); MAPS_TO relationships apart, because their predicate is part of their key."""

    graph: str
    nodes: list[dict[str, Any]] = field(default_factory=list)
    rels: list[dict[str, Any]] = field(default_factory=list)
    maps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def relationship_count(self) -> int:
        return len(self.rels) + len(self.maps)

    def foreign_ends(self) -> list[str]:
        """Relationship ends that are not nodes of this graph (nodes of another graph), sorted."""
        own = {n["iri"] for n in self.nodes}
        return sorted({r[end] for rels in (self.rels, self.maps) for r in rels for end in ("from", "to")} - own)


@dataclass
class SyncReport:
    graphs: list[str]
    nodes: int  # nodes written (a node stated by two graphs counts twice)
    relationships: int
    dropped: list[str]  # graphs removed from Neo4j because the store no longer has them
    seconds: float

    @property
    def per_second(self) -> float:
        """Throughput in nodes + relationships per second."""
        return (self.nodes + self.relationships) / self.seconds if self.seconds else 0.0


def node_labels(store: GraphStore, graph: str | None = None) -> dict[str, dict[str, set[str]]]:
    """graph → node IRI → labels, for one graph or (None) every graph."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    bindings = {"g": NamedNode(graph)} if graph else None
    for row in store.select(_query("nodes.rq"), bindings):
        g, iri, label = (_text(row, v, "nodes.rq") for v in ("g", "iri", "label"))
        if label not in LABELS:
            raise ProjectionError(f"{graph}: nodes.rq gave the unknown label {label!r}")
        out[g][iri].add(label)
    return out


def read_graph(store: GraphStore, graph: str, labels: dict[str, set[str]], known: set[str]) -> GraphRows:
    """The rows of one graph: its nodes (`labels`) with their properties, and the relationships
    whose ends are both in `known` (the nodes of every graph)."""
    g = {"g": NamedNode(graph)}
    props: dict[str, dict[str, Any]] = {iri: {} for iri in labels}
    for row in store.select(_query("properties.rq"), g):
        iri, key = _text(row, "iri", "properties.rq"), _text(row, "key", "properties.rq")
        if iri not in props:
            continue  # a property of something that is not a node here (a selector is folded into its excerpt)
        value = to_python(row["value"])
        if key in LIST_KEYS:
            props[iri].setdefault(key, []).append(value)
        elif key not in props[iri] or str(value) < str(props[iri][key]):
            props[iri][key] = value  # a single-valued key stated twice: keep the smallest, deterministically
    for p in props.values():
        for key in LIST_KEYS & p.keys():
            p[key] = sorted(set(p[key]))
    rows = GraphRows(graph, nodes=[{"iri": iri, "labels": sorted(labels[iri]), "props": p}
                                   for iri, p in sorted(props.items())])
    for row in store.select(_query("relationships.rq"), g):
        start, rtype, end = (_text(row, v, "relationships.rq") for v in ("from", "type", "to"))
        if rtype not in REL_TYPES:
            raise ProjectionError(f"{graph}: relationships.rq gave the unknown type {rtype!r}")
        if start in known and end in known:
            rel = {"from": start, "type": rtype, "to": end}
            if rtype == "MAPS_TO":
                rows.maps.append({**rel, "predicate": _text(row, "predicate", "relationships.rq")})
            else:
                rows.rels.append(rel)
    rows.rels.sort(key=lambda r: (r["type"], r["from"], r["to"]))
    rows.maps.sort(key=lambda r: (r["from"], r["to"], r["predicate"]))
    return rows


# -- Cypher ------------------------------------------------------------------------------------

_ADD_GRAPH = "CASE WHEN $g IN coalesce({v}.graphs, []) THEN {v}.graphs ELSE coalesce({v}.graphs, []) + $g END"


def constraint_statements() -> list[str]:
    """One uniqueness constraint on `iri` per label (and on :Resource, the key every MERGE uses).
    Schema commands take no parameters: the labels come from LABELS."""
    return [f"CREATE CONSTRAINT {label.lower()}_iri IF NOT EXISTS FOR (n:{label}) REQUIRE n.iri IS UNIQUE"
            for label in ("Resource", *LABELS)]


def ensure_constraints(driver: Driver, database: str | None = None) -> None:
    for statement in constraint_statements():
        driver.execute_query(statement, database_=database)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)


def _forget_graph(tx: ManagedTransaction, graph: str) -> None:
    """Take `graph` off every node and relationship; delete those no other graph states."""
    tx.run("MATCH (n:Resource)-[r]->() WHERE $g IN n.graphs AND $g IN r.graphs "
           "SET r.graphs = [x IN r.graphs WHERE x <> $g] WITH r WHERE size(r.graphs) = 0 DELETE r", g=graph).consume()
    tx.run("MATCH (n:Resource) WHERE $g IN n.graphs SET n.graphs = [x IN n.graphs WHERE x <> $g] "
           "WITH n WHERE size(n.graphs) = 0 DETACH DELETE n", g=graph).consume()


def _batches(rows: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _write_graph(tx: ManagedTransaction, rows: GraphRows, batch: int, held: bool) -> None:
    """Replace one graph: forget its old state (when Neo4j `held` it), then write its nodes, the ends of
    its relationships that are other graphs' nodes (they leave with `g`), and its relationships
    (CREATE where an end was just created, MERGE otherwise)."""
    g = rows.graph
    if held:
        _forget_graph(tx, g)
    ids: dict[str, str] = {}
    fresh: set[str] = set()  # nodes created by this transaction: no relationship can exist at them yet
    returned = "WITH row, n, n.graphs IS NULL AS fresh SET {sets} RETURN {iri}, elementId(n), fresh"
    statements: tuple[tuple[str, list[Any]], ...] = (("UNWIND $rows AS row MERGE (n:Resource {iri: row.iri}) "
                   + returned.format(sets=f"n:$(row.labels), n += row.props, n.graphs = {_ADD_GRAPH.format(v='n')}",
                                     iri="row.iri"), rows.nodes),
                  ("UNWIND $rows AS row MERGE (n:Resource {iri: row}) "
                   + returned.format(sets=f"n.graphs = {_ADD_GRAPH.format(v='n')}", iri="row"), rows.foreign_ends()))
    for statement, items in statements:
        for chunk in _batches(items, batch):
            for iri, element_id, created in tx.run(statement, rows=chunk, g=g).values():
                ids[iri] = element_id
                if created:
                    fresh.add(iri)
    ends = "UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row.from MATCH (b) WHERE elementId(b) = row.to "
    for rtype, same_type in groupby(rows.rels + rows.maps, key=itemgetter("type")):  # sorted by type, MAPS_TO last
        if rtype not in REL_TYPES:  # read_graph refuses these already; the text takes no other type
            raise ProjectionError(f"{g}: unknown relationship type {rtype!r}")
        pattern = f"(a)-[r:{rtype}{' {predicate: row.predicate}' if rtype == 'MAPS_TO' else ''}]->(b)"
        new: list[dict[str, Any]] = []
        old: list[dict[str, Any]] = []
        for r in same_type:
            (new if r["from"] in fresh or r["to"] in fresh else old).append(
                {**r, "from": ids[r["from"]], "to": ids[r["to"]]})
        for chunk in _batches(new, batch):
            tx.run(f"{ends} CREATE {pattern} SET r.graphs = [$g]", rows=chunk, g=g).consume()
        for chunk in _batches(old, batch):
            tx.run(f"{ends} MERGE {pattern} SET r.graphs = {_ADD_GRAPH.format(v='r')}", rows=chunk, g=g).consume()


def drop_graph(driver: Driver, graph: str, database: str | None = None) -> None:
    """Remove one graph's nodes and relationships (those no other graph states) in one transaction."""
    with driver.session(database=database) as session:
        session.execute_write(_forget_graph, graph)


def synced_graphs(driver: Driver, database: str | None = None) -> list[str]:
    """The graphs Neo4j holds nodes of, sorted."""
    # Quiet: on an empty database Neo4j warns that the property `graphs` does not exist yet.
    with driver.session(database=database, notifications_min_severity="OFF") as session:
        result = session.run("MATCH (n:Resource) UNWIND n.graphs AS g RETURN DISTINCT g ORDER BY g")
        return [r["g"] for r in result]


def sync_written(store: GraphStore, driver: Driver, graphs: list[str], *, database: str | None = None) -> SyncReport:
    """Project graphs an ingest just wrote, with the model graph their nodes' types and concepts
    come from (the model may have changed with this version). Used after every ingest: CLI and HTTP."""
    return sync(store, driver, [ONTOLOGY_GRAPH, *graphs], database=database)


def sync(store: GraphStore, driver: Driver, graphs: Iterable[str] | None = None, *, database: str | None = None,
         batch: int = BATCH, progress: Progress[str] = iter) -> SyncReport:
    """Project `graphs` into Neo4j, one transaction per graph; returns counts and the time taken.

    Default: every graph of the store, and the graphs the store no longer has are dropped from Neo4j.
    A graph the store does not hold raises ProjectionError before anything is written."""
    started = time.perf_counter()
    ensure_constraints(driver, database)
    labels = node_labels(store)
    known = {iri for nodes in labels.values() for iri in nodes}
    in_store = store.graphs()
    targets = sorted(set(in_store) if graphs is None else set(graphs))
    missing = [g for g in targets if g not in in_store]
    if missing:
        raise ProjectionError(f"not in the store: {', '.join(missing)}")
    held = set(synced_graphs(driver, database))
    dropped = sorted(held - set(in_store)) if graphs is None else []
    nodes = rels = 0

    def read(g: str) -> GraphRows:
        return read_graph(store, g, labels.get(g, {}), known)

    with driver.session(database=database) as session, ThreadPoolExecutor(max_workers=1) as reader:
        for g in dropped:
            session.execute_write(_forget_graph, g)
        pending = {g: reader.submit(read, g) for g in targets[:1]}
        for i, g in enumerate(progress(targets)):
            if i + 1 < len(targets):
                pending[targets[i + 1]] = reader.submit(read, targets[i + 1])
            rows = pending.pop(g).result()
            session.execute_write(_write_graph, rows, batch, g in held)
            nodes, rels = nodes + len(rows.nodes), rels + rows.relationship_count
    return SyncReport(targets, nodes, rels, dropped, time.perf_counter() - started)
