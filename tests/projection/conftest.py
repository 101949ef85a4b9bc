"""The projection tests' data and servers: `source_store` (read-only; its graphs: `build_source_store`)
and a per-test `driver` on the session's real Neo4j, emptied first (tests/servers/fixtures.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver, GraphDatabase

from qualkg.ingest.mapping import map_study
from qualkg.ingest.pipeline import ingest
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.synthesis.loader import load_synthesis
from qualkg.wiring import load_model
from tests.servers.launch import Neo4jServer
from tests.synthesis.conftest import DATA as SYNTHESIS_DATA
from tests.synthesis.conftest import fx_records, rv_records

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "seed-anestis-2025"
IRIS = IriScheme(str(QKDATA))


def build_source_store() -> GraphStore:
    """The model; fx (tests/fixture_study.py, with the publication of tests/synthesis); rv (the synthesis
    tests' study-level review record); the bundled seed study package anestis-2025; and the synthesis
    graph of tests/synthesis/data (frame fxframe, findings F1, F2, A1; 8 mappings). All SYNTHETIC or bundled."""
    store = open_store("oxigraph", path=None)
    load_model(store)
    store.replace_graph(IRIS.graph("fx"), map_study(fx_records(), IRIS))
    store.replace_graph(IRIS.graph("rv"), map_study(rv_records(), IRIS))
    ingest(SEED, store, IRIS, fmt="package")
    load_synthesis(SYNTHESIS_DATA, store, IRIS)
    return store


@pytest.fixture(scope="session")
def source_store() -> Iterator[GraphStore]:
    """Read-only: model, fx, rv, the seed study and the fixture synthesis graph."""
    store = build_source_store()
    yield store
    store.close()


@pytest.fixture
def driver(neo4j: Neo4jServer) -> Iterator[Driver]:
    """A driver on the session's Neo4j, emptied before this test."""
    with GraphDatabase.driver(neo4j.bolt_uri, auth=None) as opened:
        yield opened
