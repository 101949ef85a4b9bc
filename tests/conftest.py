"""Shared fixtures: the embedded store with the fixture study, the catalog, a live uvicorn server.

Costly things are session-scoped; tests that write get their own store.
"""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.security import key_hash
from qualkg.ingest.mapping import map_study
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA
from qualkg.queries.catalog import Catalog, default_catalog
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model
from tests.fixture_study import fixture_records
from tests.servers.fixtures import fuseki, fuseki_server, neo4j, neo4j_server  # noqa: F401 - shared server fixtures

IRIS = IriScheme(str(QKDATA))


def fixture_store() -> GraphStore:
    """An in-memory Oxigraph store holding the model and the fixture study."""
    store = open_store("oxigraph", path=None)
    load_model(store)
    store.replace_graph(IRIS.graph("fx"), map_study(fixture_records(), IRIS))
    return store


@pytest.fixture(scope="session", autouse=True)
def _no_qualkg_settings_from_the_shell() -> Iterator[None]:
    """QUALKG_* variables of the shell that runs the suite would change what each test configures."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("QUALKG_")]:
            patch.delenv(name)
        yield


@pytest.fixture(scope="session")
def iris() -> IriScheme:
    return IRIS


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def fx_store() -> Iterator[GraphStore]:
    """Read-only use: the fixture study. Tests must not write to it."""
    store = fixture_store()
    yield store
    store.close()


def free_port() -> int:
    """A port that was free a moment ago; prefer `serve(app)`, which keeps the port it binds."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_line(output: str) -> str:
    """CLI output as one line of single spaces: rich breaks lines at the terminal's width, which differs by machine."""
    return " ".join(output.split())


@dataclass(frozen=True)
class LiveServer:
    url: str
    keys: dict[str, str]  # scope set name → API key

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


# Keys for the access tests: one per scope, one with every scope, a revoked and an expired one.
TEST_KEYS = {"aggregate": {"aggregate"}, "excerpts": {"aggregate", "excerpts"}, "sparql": {"sparql"},
             "ingest": {"ingest"}, "all": {"aggregate", "excerpts", "sparql", "ingest"}}


def serve(app: FastAPI, port: int | None = None, host: str = "127.0.0.1") -> tuple[uvicorn.Server, threading.Thread]:
    """A real uvicorn serving `app` in a thread, bound to `host`; `server.config.port` is its port.

    Without `port` the socket is bound here, before the server starts, so no other process can take
    the port between choosing and binding it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds its own sockets
    sock.bind((host, port or 0))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=sock.getsockname()[1], log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return server, thread


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    """A real uvicorn serving the fixture study; anonymous callers get no scope (as off loopback)."""
    from datetime import UTC, datetime, timedelta

    keys = {name: f"test-key-{name}" for name in TEST_KEYS}
    api_keys = [ApiKey(key_sha256=key_hash(keys[n]), name=n, scopes=frozenset(s)) for n, s in TEST_KEYS.items()]
    keys["revoked"], keys["expired"] = "test-key-revoked", "test-key-expired"
    api_keys += [ApiKey(key_sha256=key_hash(keys["revoked"]), name="revoked", scopes=frozenset({"aggregate"}),
                        revoked=True),
                 ApiKey(key_sha256=key_hash(keys["expired"]), name="expired", scopes=frozenset({"aggregate"}),
                        expires=datetime.now(UTC) - timedelta(days=1))]
    config = ApiConfig(keys=api_keys, open_scopes=frozenset(), min_cell_count=2, max_rows=1000, query_timeout_s=1)
    app = create_app(config, fixture_store(), default_catalog())
    server, thread = serve(app)
    yield LiveServer(f"http://127.0.0.1:{server.config.port}", keys)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A real HTTP listener on 127.0.0.1 that records every request it gets."""
    seen: list[str] = []

    class Record(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(b'{"head": {"vars": []}, "results": {"bindings": [{}]}}')

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Record)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()
