"""Session-scoped real servers and per-test views of them that start empty.

Imported by tests/conftest.py, so every test folder can use them. A server that cannot start
raises ServerStartError in the fixture, so every test using it errors (never skips).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
