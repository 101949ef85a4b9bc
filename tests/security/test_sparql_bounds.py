"""Caller-written SPARQL on real uvicorn servers (issue 16, items 1 and 3; decision 0060).

The text checked is the text run, nothing reaches a real listener on 127.0.0.1, FROM is refused, and
every evaluation is bounded in memory, wall time and concurrency.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.security import key_hash
from qualkg.ingest.mapping import map_study
from qualkg.queries.catalog import default_catalog
from qualkg.store import sandbox as sandbox_module
from qualkg.store.oxigraph import OxigraphStore
from qualkg.store.sandbox import SandboxLimits
from qualkg.wiring import load_model
from tests.conftest import IRIS, LiveServer, serve
from tests.faults.harness import ApiProcess, child_env
from tests.fixture_study import fixture_records

pytestmark = pytest.mark.servers

SPARQL_KEY = "test-key-sparql"
TIMEOUT_S = 4
MEMORY_MB = 512
VALUES = " ".join(str(i) for i in range(200))


def spin(n: int) -> str:
    """200**5 solutions to count: runs for hours. Each `n` is a different text, so none is a kept answer."""
    return ("SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{i} {{ {VALUES} }}" for i in range(5))
            + f" FILTER(?v0 != -{n}) }}")


# 26 doublings of every literal of the store: the 1 KB query that grew the server to 3.1 GB.
BOMB = ("SELECT ?a26 WHERE { ?s ?p ?o BIND(STR(?o) AS ?a0)"
        + "".join(f" BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(26)) + " }")


def ask(live: LiveServer, method: str, query: str) -> httpx.Response:
    with live.client("sparql") as c:
        if method == "GET":
            return c.get("/sparql", params={"query": query})
        if method == "POST-form":
            return c.post("/sparql", data={"query": query})
        return c.post("/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"})


# --- the text checked is the text run ----------------------------------------------------------------

METHODS = ["GET", "POST", "POST-form"]


@pytest.mark.parametrize("method", METHODS)
def test_service_behind_a_comment_ended_by_cr_reaches_nothing(live: LiveServer, listener: tuple[int, list[str]],
                                                               method: str) -> None:
    """rdflib ends a '#' comment only at LF, Oxigraph also at CR: the SERVICE was hidden from the check."""
    port, seen = listener
    r = ask(live, method, f"SELECT ?x WHERE {{ # c\r SERVICE <http://127.0.0.1:{port}/x> {{ ?x ?p ?o }} \n }}")
    time.sleep(0.2)
    assert seen == []
    assert r.status_code == 400, r.text
    assert "SERVICE" in r.json()["detail"]


@pytest.mark.parametrize("method", METHODS)
def test_service_behind_an_escaped_quote_reaches_nothing(live: LiveServer, listener: tuple[int, list[str]],
                                                         method: str) -> None:
    """rdflib expands \\u0022 before parsing (as SPARQL says), Oxigraph only inside strings: to rdflib the
    SERVICE was inside a string, to Oxigraph it was code. Now the expanded text runs: a string stays a string."""
    port, seen = listener
    query = ("SELECT * WHERE { FILTER(CONCAT(\"\\u0022, \") != '') "
             f"SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} FILTER(CONCAT('a', \", \\u0022, \") != '') }}")
    r = ask(live, method, query)
    time.sleep(0.2)
    assert seen == []
    assert r.status_code in (200, 400), r.text


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:{port}/x> { ?s ?p ?o } }",
    "select * where { ?s ?p ?o OPTIONAL { service silent <http://127.0.0.1:{port}/x> { ?s ?p ?o } } }",
    "SELECT * WHERE { ?s ?p ?o .SERVICE<http://127.0.0.1:{port}/x>{ ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:{port}/x> { ?s ?p ?o } }",
    "ASK { # c\r\n SERVICE <http://127.0.0.1:{port}/x> { ?s ?p ?o } }",
])
def test_service_is_refused(live: LiveServer, listener: tuple[int, list[str]], query: str) -> None:
    port, seen = listener
    r = ask(live, "GET", query.replace("{port}", str(port)))
    time.sleep(0.2)
    assert seen == []
    assert r.status_code == 400 and "SERVICE" in r.json()["detail"], r.text


@pytest.mark.parametrize("query", [
    "SELECT (COUNT(*) AS ?n) FROM <urn:nothing> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <urn:nothing> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "CONSTRUCT { ?s ?p ?o } FROM <urn:nothing> WHERE { ?s ?p ?o }",
    "ASK FROM <urn:nothing> { ?s ?p ?o }",
])
def test_from_is_refused(live: LiveServer, query: str) -> None:
    """Oxigraph ignored FROM <urn:nothing> (the default graph is the union) and counted every triple."""
    r = ask(live, "GET", query)
    assert r.status_code == 400, r.text
    assert "FROM" in r.json()["detail"]


def test_words_that_only_look_like_keywords_are_not_refused(live: LiveServer) -> None:
    query = ("PREFIX ex: <https://example.org/service#> SELECT ?from ?service WHERE { "
             "BIND('from SERVICE' AS ?from) BIND(ex:service AS ?service) } # SERVICE FROM")
    r = ask(live, "GET", query)
    assert r.status_code == 200, r.text


def test_without_network_isolation_raw_sparql_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail closed: a worker that cannot leave the network (here a stand-in that says so, as the real one
    does when unshare is refused) means 503 with the reason, never an evaluation in the server."""
    fake = tmp_path / "worker.py"
    fake.write_text("import sys\nfrom multiprocessing.connection import Connection\n"
                    "Connection(int(sys.argv[1])).send(('unavailable', 'cannot leave the network: unshare: "
                    "Operation not permitted'))\n")
    monkeypatch.setattr(sandbox_module, "WORKER", fake)
    store = OxigraphStore(sparql_limits=SandboxLimits(workers=1))
    load_model(store)
    config = ApiConfig(keys=[ApiKey(key_sha256=key_hash(SPARQL_KEY), name="sparql", scopes=frozenset({"sparql"}))])
    server, thread = serve(create_app(config, store, default_catalog()))
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=30,
                          headers={"Authorization": f"Bearer {SPARQL_KEY}"}) as c:
            r = c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert r.status_code == 503, r.text
    detail = r.json()["detail"]
    assert "unavailable on this machine" in detail and "unisolated" in detail and "Operation not permitted" in detail
    assert "graph store" not in detail


# --- bounded: memory, wall time, concurrency (a uvicorn child, measured from outside) -----------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    # A uvicorn child on an on-disk store, whose resident memory and CPU are measured with psutil (what the
    # check refuses goes to the session's in-thread `live` server): 2 SPARQL workers of MEMORY_MB, a
    # TIMEOUT_S query timeout, no background warming (it would use the CPU being measured).
    folder = tmp_path_factory.mktemp("sparql-bounds")
    store = OxigraphStore(folder / "store")
    load_model(store)
    store.replace_graph(IRIS.graph("fx"), map_study(fixture_records(), IRIS))
    store.close()
    keys = folder / "keys.json"
    keys.write_text(json.dumps([{"name": "sparql", "key_sha256": key_hash(SPARQL_KEY), "scopes": ["sparql"]}]))
    env = child_env(folder / "store", api_keys_file=str(keys), query_timeout_s=str(TIMEOUT_S), sparql_workers="2",
                    sparql_memory_mb=str(MEMORY_MB), warm_answers="false")
    process = ApiProcess(folder, env).start()
    yield process
    process.stop()


def server_of(api: ApiProcess) -> psutil.Process:
    assert api.process is not None
    return psutil.Process(api.process.pid)


class Peaks(threading.Thread):
    """Samples the server's resident memory (and its children's, the SPARQL workers) every 20 ms; kills the
    server past `kill_above` bytes, so a failing run cannot take the machine's memory."""

    def __init__(self, server: psutil.Process, kill_above: int) -> None:
        super().__init__(daemon=True)
        self.server, self.kill_above = server, kill_above
        self.server_peak = self.worker_peak = 0
        self.killed = False
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            try:
                rss = self.server.memory_info().rss
                workers = [c.memory_info().rss for c in self.server.children(recursive=True)]
            except psutil.Error:
                return
            self.server_peak = max(self.server_peak, rss)
            self.worker_peak = max([self.worker_peak, *workers])
            if rss > self.kill_above:
                self.killed = True
                self.server.kill()
                return

    def __enter__(self) -> Peaks:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self.join(timeout=5)


def test_memory_bomb_is_stopped_and_the_server_stays_small(api: ApiProcess) -> None:
    server = server_of(api)
    with api.client(SPARQL_KEY) as c:
        assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200  # a worker is up
        before = server.memory_info().rss
        with Peaks(server, kill_above=before + (1536 << 20)) as peaks:
            started = time.monotonic()
            r = c.get("/sparql", params={"query": BOMB})
            seconds = time.monotonic() - started
    assert not peaks.killed
    assert r.status_code == 413, r.text
    assert f"{MEMORY_MB} MiB" in r.json()["detail"]
    grew = peaks.server_peak - before
    print(f"\nmemory bomb: {r.status_code} after {seconds:.2f} s; server RSS {before >> 20} MiB before, peak "
          f"{peaks.server_peak >> 20} MiB (+{grew >> 20} MiB); worker peak {peaks.worker_peak >> 20} MiB")
    assert grew < 100 << 20
    assert peaks.worker_peak < (MEMORY_MB + 64) << 20
    with api.client(SPARQL_KEY) as c:  # and the next query is answered
        assert c.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_timed_out_queries_stop_using_the_cpu(api: ApiProcess) -> None:
    """Two rounds of two spinning queries, each answered 503 at the timeout; then /health answers at once and
    neither the server nor a worker keeps a core busy (before: each spin ran on in a server thread)."""
    server = server_of(api)
    answers: list[httpx.Response] = []

    def one(n: int) -> None:
        with api.client(SPARQL_KEY) as c:
            answers.append(c.get("/sparql", params={"query": spin(n)}))

    started = time.monotonic()
    for round_ in range(2):
        threads = [threading.Thread(target=one, args=(2 * round_ + i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    seconds = time.monotonic() - started
    assert [a.status_code for a in answers] == [503] * 4, [a.text for a in answers]
    assert seconds < 4 * TIMEOUT_S + 6
    health = []
    with httpx.Client(base_url=api.url, timeout=30) as c:
        for _ in range(10):
            t = time.monotonic()
            assert c.get("/health").status_code == 200
            health.append(time.monotonic() - t)
    server.cpu_percent(None)
    workers = server.children(recursive=True)
    for w in workers:
        w.cpu_percent(None)
    time.sleep(2)
    server_cpu = server.cpu_percent(None)
    worker_cpu = [w.cpu_percent(None) for w in workers if w.is_running()]
    print(f"\n4 timed-out queries in {seconds:.1f} s; /health p50 {statistics.median(health) * 1000:.1f} ms, max "
          f"{max(health) * 1000:.1f} ms; CPU over 2 s after: server {server_cpu:.0f} %, workers {worker_cpu}")
    assert statistics.median(health) < 0.25 and max(health) < 1
    assert server_cpu < 25
    assert all(cpu < 5 for cpu in worker_cpu)
    assert all(f"timeout of {TIMEOUT_S} s" in a.json()["detail"] and "evaluation was ended" in a.json()["detail"]
               for a in answers)


def test_a_busy_pool_answers_503_at_once_instead_of_hanging(api: ApiProcess) -> None:
    """Both workers spin; a third query waits for a worker at most 2 s, then gets 503 with Retry-After."""
    answers: list[httpx.Response] = []

    def one(n: int) -> None:
        with api.client(SPARQL_KEY) as c:
            answers.append(c.get("/sparql", params={"query": spin(n)}))

    spinning = [threading.Thread(target=one, args=(100 + i,)) for i in range(2)]
    for t in spinning:
        t.start()
    time.sleep(1)
    with api.client(SPARQL_KEY) as c:
        started = time.monotonic()
        r = c.get("/sparql", params={"query": 'ASK { ?s ?p "busy" }'})
        seconds = time.monotonic() - started
    for t in spinning:
        t.join(timeout=60)
    print(f"\nbusy pool: {r.status_code} after {seconds:.2f} s")
    assert r.status_code == 503, r.text
    assert "busy" in r.json()["detail"] and int(r.headers["Retry-After"]) >= 1
    assert seconds < TIMEOUT_S - 0.5
    assert [a.status_code for a in answers] == [503, 503]


@pytest.mark.parametrize("query", ["SELECT * WHERE " + "{" * 300 + " ?s ?p ?o " + "}" * 300,
                                   "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 30 + "1" + ")" * 30 + ") }"])
def test_a_deeply_nested_query_is_refused_not_a_500(live: LiveServer, query: str) -> None:
    """rdflib's parser raised RecursionError on these (a 500, found by hand)."""
    r = ask(live, "POST", query)
    assert r.status_code == 400, r.text
    assert "nest" in r.json()["detail"]
