"""A live uvicorn for hostile input: an empty store (the model only), one ingest key, hardened HTTP.

Until api.config.ApiConfig carries the HTTP policy fields, the policy is passed as `Policy`;
`hardened_app` is the one place that builds the app the way the factory will.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.security import key_hash
from qualkg.ontology.namespaces import ONTOLOGY_GRAPH
from qualkg.queries.catalog import default_catalog
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model
from tests.conftest import serve

INGEST_KEY = "badinputs-ingest-key"
EXCERPTS_KEY = "badinputs-excerpts-key"
ALL_KEY = "badinputs-all-scopes-key"
AGGREGATE_KEY = "badinputs-aggregate-key"
MODEL_ONLY = [ONTOLOGY_GRAPH]


@dataclass(frozen=True)
class Policy:
    max_upload_bytes: int = 1024 * 1024
    max_body_bytes: int = 64 * 1024
    cors_origins: Sequence[str] = field(default_factory=tuple)


def empty_store() -> GraphStore:
    store = open_store("oxigraph", path=None)
    load_model(store)
    return store


def hardened_app(store: GraphStore, policy: Policy = Policy(), **config: object) -> FastAPI:
    keys = [ApiKey(key_sha256=key_hash(INGEST_KEY), name="ingest", scopes=frozenset({"ingest"})),
            ApiKey(key_sha256=key_hash(EXCERPTS_KEY), name="reader", scopes=frozenset({"aggregate", "excerpts"})),
            ApiKey(key_sha256=key_hash(AGGREGATE_KEY), name="counts", scopes=frozenset({"aggregate"})),
            ApiKey(key_sha256=key_hash(ALL_KEY), name="all",
                   scopes=frozenset({"aggregate", "excerpts", "sparql", "ingest"}))]
    return create_app(ApiConfig(keys=keys, max_upload_bytes=policy.max_upload_bytes,
                                max_body_bytes=policy.max_body_bytes, cors_origins=tuple(policy.cors_origins),
                                **config), store, default_catalog())


@dataclass(frozen=True)
class Hostile:
    url: str
    store: GraphStore


@pytest.fixture(scope="session")
def hostile() -> Iterator[Hostile]:
    store = empty_store()
    server, thread = serve(hardened_app(store))
    yield Hostile(f"http://127.0.0.1:{server.config.port}", store)
    server.should_exit = True
    thread.join(timeout=10)
