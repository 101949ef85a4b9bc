"""Session-scoped real servers and per-test views of them that start empty.

Imported by tests/conftest.py, so every test folder can use them. A server that cannot start
raises ServerStartError in the fixture, so every test using it errors (never skips).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pyoxigraph import RdfFormat, parse

from qualkg.store import open_store
from qualkg.store.base import ExportFormat, GraphStore
from tests.servers.launch import FusekiServer, Neo4jServer, start_fuseki, start_neo4j


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    """One Neo4j 5.26 for the whole session (it takes seconds to start)."""
    with start_neo4j(tmp_path_factory.mktemp("neo4j")) as server:
        yield server


@pytest.fixture(scope="session")
def fuseki_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FusekiServer]:
    """One Fuseki 5.6 with an in-memory dataset /ds for the whole session."""
    with start_fuseki(tmp_path_factory.mktemp("fuseki")) as server:
        yield server


@pytest.fixture
def neo4j(neo4j_server: Neo4jServer) -> Neo4jServer:
    """The session's Neo4j, emptied before this test."""
    neo4j_server.reset()
    return neo4j_server


@pytest.fixture
def fuseki(fuseki_server: FusekiServer) -> FusekiServer:
    """The session's Fuseki, its dataset emptied before this test."""
    fuseki_server.reset()
    return fuseki_server


def fuseki_copy(server: FusekiServer, source: GraphStore) -> tuple[GraphStore, Callable[[], GraphStore]]:
    """The remote store on `server` (to close), and a function that returns it holding every graph of
    `source`, loaded again whenever a test has emptied the server since (its reset count moved)."""
    remote = open_store("sparql", query_url=server.query_url, update_url=server.update_url, gsp_url=server.gsp_url)
    graphs = {g: [q.triple for q in parse(source.export(g, ExportFormat.ntriples), format=RdfFormat.N_TRIPLES)]
              for g in source.graphs()}
    loaded_at: int | None = None

    def current() -> GraphStore:
        nonlocal loaded_at
        if loaded_at != server.resets:
            server.reset()
            remote.replace_graphs(graphs)
            loaded_at = server.resets
        return remote

    return remote, current
