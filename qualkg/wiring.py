"""Composition root: builds the store, the IRI scheme and the app from Settings. Nothing imports this back."""

from __future__ import annotations

import logging
from pathlib import Path

from neo4j import Driver, GraphDatabase
from pyoxigraph import RdfFormat, parse

from qualkg.ontology import model_graph
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import ONTOLOGY_GRAPH
from qualkg.projection.neo4j import SyncReport, drop_graph, sync_written
from qualkg.queries.sql_catalog import projection_spec
from qualkg.settings import Settings
from qualkg.store import open_store
from qualkg.store.base import GraphStore, StoreError
from qualkg.store.cached import CachedStore
from qualkg.store.columnar import ColumnarStore, Projection, projection_of
from qualkg.store.sandbox import SandboxLimits
from qualkg.store.shared import ReadOnlyStore, held_by_another, read_record

log = logging.getLogger(__name__)


def build_store(settings: Settings, *, serving: bool = False) -> GraphStore:
    """The configured store, with the current model (ontology + vocabularies) in its own graph.

    `serving`: for the API process, which answers reads from an in-memory copy, keeps answers to repeated
    questions when configured, and evaluates caller-written SPARQL in its own sandbox (decision 0060).
    """
    if settings.store == "oxigraph":
        settings.store_path.mkdir(parents=True, exist_ok=True)
        try:
            store = open_store("oxigraph", path=settings.store_path,
                               memory_reads=serving and settings.store_memory_reads,
                               sparql_limits=sandbox_limits(settings) if serving else None)
        except StoreError as e:
            if serving or not held_by_another(e):
                raise
            return beside_writer(settings.store_path)  # a running server writes it: read it alongside
        store = with_projection(settings, store)
        if serving and settings.answer_cache:
            # Safe only because this process is the store's one writer (RocksDB allows no other).
            store = CachedStore(store, settings.answer_cache, max_bytes=settings.answer_cache_mb << 20)
    else:
        store = open_store(settings.store, query_url=settings.sparql_query_url,
                           update_url=settings.sparql_update_url, gsp_url=settings.sparql_gsp_url,
                           user=settings.sparql_user, union_graph=settings.sparql_union_graph,
                           password=settings.sparql_password.get_secret_value() if settings.sparql_password else None)
    load_model(store)
    return store


def projection_path(settings: Settings) -> Path:
    """The columnar projection's DuckDB file, beside the embedded store (`<store>.duckdb`)."""
    return settings.store_path.with_name(settings.store_path.name + ".duckdb")


def with_projection(settings: Settings, store: GraphStore) -> GraphStore:
    """The store wrapped so its writes refresh the columnar projection beside it, brought up to the store
    first (decision 0130); the store alone, logged, when the projection cannot be opened."""
    try:
        projection = Projection(projection_path(settings), projection_spec())
    except StoreError:
        log.warning("answering every question with SPARQL: no columnar projection", exc_info=True)
        return store
    projection.sync(store)
    return ColumnarStore(store, projection)


def reindex(settings: Settings) -> int:
    """`qualkg reindex`: make the columnar projection again from the graph; returns the graphs projected."""
    store = build_store(settings)
    try:
        projection = projection_of(store)
        if projection is None:
            raise StoreError(f"no columnar projection at {projection_path(settings)}")
        return projection.rebuild(store)
    finally:
        store.close()


def beside_writer(path: Path) -> GraphStore:
    """A read-only view of the store at `path`, which another process (a running `qualkg serve`) writes."""
    record = read_record(path)
    writer = f"the server at {record.url}" if record else "another process"
    return ReadOnlyStore(path, f"{writer} writes the store at {path}; send writes through it (docs/clients.md)")


def sandbox_limits(settings: Settings) -> SandboxLimits:
    """Bounds of the SPARQL sandbox that evaluates caller-written queries on the embedded store."""
    return SandboxLimits(workers=settings.sparql_workers, memory_bytes=settings.sparql_memory_mb << 20,
                         answer_bytes=settings.sparql_answer_mb << 20, timeout_s=settings.query_timeout_s)


def load_model(store: GraphStore) -> int:
    """Replace the model graph with the ontology and vocabularies shipped in this version."""
    data = model_graph().serialize(format="nt", encoding="utf-8")
    return store.replace_graph(ONTOLOGY_GRAPH, (q.triple for q in parse(data, format=RdfFormat.N_TRIPLES)))


def build_iris(settings: Settings) -> IriScheme:
    return IriScheme(settings.base_iri)


def neo4j_driver(settings: Settings) -> Driver:
    """The driver for settings.neo4j_uri; no password configured means a server with auth off."""
    if not settings.neo4j_uri:
        raise ValueError("QUALKG_NEO4J_URI is not set")
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
    return GraphDatabase.driver(settings.neo4j_uri, auth=(settings.neo4j_user, password) if password else None)


def sync_after_write(settings: Settings, store: GraphStore, graphs: list[str]) -> SyncReport | None:
    """When Neo4j is configured with auto-sync, project the graphs just written (and the model)."""
    if not (settings.neo4j_uri and settings.neo4j_auto_sync and graphs):
        return None
    with neo4j_driver(settings) as driver:
        return sync_written(store, driver, graphs, database=settings.neo4j_database)


def drop_after_delete(settings: Settings, graphs: list[str]) -> None:
    """When Neo4j is configured with auto-sync, remove the graphs a delete just removed from the store."""
    if not (settings.neo4j_uri and settings.neo4j_auto_sync and graphs):
        return
    with neo4j_driver(settings) as driver:
        for graph in graphs:
            drop_graph(driver, graph, settings.neo4j_database)
