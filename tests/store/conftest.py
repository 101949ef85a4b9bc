"""Fixtures for the backend-neutral store contract tests.

`make_store` is parametrised over BACKEND_NAMES; to add a backend, add its name there and a branch to
`_opener` returning a `Backend` (a client on the same storage every call, and the cheapest empty store).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.store.cached import CachedStore
from tests.store.cases import Opener

BACKEND_NAMES = ["oxigraph", "oxigraph-memory-reads", "oxigraph-cached", "sparql"]


class Backend(NamedTuple):
    on_storage: Opener  # opens a client on this test's storage, the same on every call
    fresh: Opener  # opens the cheapest empty store of the backend


def _opener(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Backend:
    if name == "sparql":
        # The real Fuseki of this session, emptied for this test; every client reaches the same dataset.
        server = request.getfixturevalue("fuseki")

        def client() -> GraphStore:
            return open_store("sparql", query_url=server.query_url, update_url=server.update_url,
                              gsp_url=server.gsp_url)

        return Backend(client, client)
    if name == "oxigraph-memory-reads":
        # On disk, with every read answered from the in-memory copy the API uses.
        def mirrored() -> GraphStore:
            return open_store("oxigraph", path=tmp_path / "oxigraph", memory_reads=True)

        return Backend(mirrored, mirrored)
    if name == "oxigraph-cached":
        # What the API serves from: the answer cache over the in-memory copy of an on-disk store.
        def cached() -> GraphStore:
            return CachedStore(open_store("oxigraph", path=tmp_path / "oxigraph", memory_reads=True))

        return Backend(cached, cached)
    if name == "oxigraph":
        # On disk for reopening; in memory otherwise (creating a RocksDB directory costs ~0.3 s).
        return Backend(lambda: open_store("oxigraph", path=tmp_path / "oxigraph"), lambda: open_store("oxigraph"))
    raise AssertionError(f"no fixture opener for backend {name!r}")


@pytest.fixture(params=BACKEND_NAMES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return _opener(request.param, tmp_path, request)


@pytest.fixture
def make_store(backend: Backend) -> Opener:
    """A function opening the backend on this test's own storage; same storage on every call."""
    return backend.on_storage


@pytest.fixture
def store(backend: Backend) -> Iterator[GraphStore]:
    """An open, empty store, closed after the test (tests that close it themselves use make_store)."""
    opened = backend.fresh()
    yield opened
    opened.close()
