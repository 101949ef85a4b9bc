"""A remote server going away: Fuseki under a running API, Neo4j under `qualkg sync neo4j`.

Fuseki killed during an upload: every answer is 200 or an "unavailable" 503, never 500, and a restarted
Fuseki holds the old or the new study graph, never a mix. Neo4j cut mid-sync: the sync fails cleanly and
the next one completes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from neo4j import GraphDatabase
from typer.testing import CliRunner

from qualkg.cli_projection import sync_app
from qualkg.ingest.pipeline import ingest
from qualkg.settings import Settings
from qualkg.wiring import build_store
from tests.faults.conftest import Reference, copy_store
from tests.faults.harness import (
    INGEST_KEY,
    IRIS,
    READ_KEY,
    STUDY,
    ApiProcess,
    Relay,
    child_env,
    keys_file,
    upload,
)
from tests.servers.launch import FusekiServer, Neo4jServer, start_fuseki

pytestmark = pytest.mark.servers
UNAVAILABLE = "the graph store is unavailable"
READS = (f"/studies/{STUDY}", "/studies", f"/questions/codebook?study={STUDY}", "/health")


class Reader(threading.Thread):
    """Asks READS in turn until stopped; counts the statuses and keeps the 5xx bodies."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.statuses, self.bodies = url, Counter[int](), list[str]()
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {READ_KEY}"}, timeout=30) as c:
            while not self.halt.is_set():
                for path in READS:
                    r = c.get(path)
                    self.statuses[r.status_code] += 1
                    if r.status_code >= 500:
                        self.bodies.append(r.text)
                time.sleep(0.05)


def sparql_env(fuseki: FusekiServer, folder: Path) -> dict[str, str]:
    return child_env(None, store="sparql", sparql_query_url=fuseki.query_url, sparql_update_url=fuseki.update_url,
                     sparql_gsp_url=fuseki.gsp_url, api_keys_file=str(keys_file(folder)))


def wait_for(check: httpx.Client, path: str, status: int, timeout_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        r = check.get(path)
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_fuseki_killed_and_restarted(tmp_path: Path, old_pkg: Path, new_pkg: Path, reference: Reference) -> None:
    # an API configured only by QUALKG_STORE=sparql (+ URLs); Fuseki gets SIGKILL while a reader keeps asking,
    # and a new Fuseki on the same port and database must bring the answers back unchanged (one SPARQL Update
    # per batch, so the study graph is the old one or the new one)
    fuseki = start_fuseki(tmp_path / "fuseki")
    port = int(fuseki.base_url.rsplit(":", 1)[1])
    api = ApiProcess(tmp_path, sparql_env(fuseki, tmp_path)).start()
    reader = Reader(api.url)
    try:
        with api.client(INGEST_KEY) as ingest_client, api.client(READ_KEY) as read:
            assert upload(ingest_client, old_pkg).status_code == 201
            before = read.get(f"/studies/{STUDY}").json()
            reader.start()
            uploaded: list[int] = []
            poster = threading.Thread(target=lambda: uploaded.append(upload(ingest_client, new_pkg).status_code))
            poster.start()
            time.sleep(0.5 * reference.upload_seconds)  # inside the upload: reading and validating
            fuseki.process.kill()
            fuseki.stop()
            poster.join(timeout=120)
            assert uploaded in ([503], [201]), uploaded

            down = read.get(f"/studies/{STUDY}")
            assert down.status_code == 503 and down.headers["retry-after"] == "5"
            assert UNAVAILABLE in down.json()["detail"] and "unreachable" in down.json()["detail"]
            assert fuseki.base_url not in down.text  # the cause, not the server's address
            assert upload(ingest_client, old_pkg).status_code == 503

            fuseki = start_fuseki(tmp_path / "fuseki", port=port)  # same database, same port
            back = wait_for(read, f"/studies/{STUDY}", 200)
            assert back.status_code == 200, back.text
            assert back.json() == before if uploaded == [503] else back.json() != before
            assert upload(ingest_client, new_pkg).status_code == 201
            assert read.get(f"/studies/{STUDY}").status_code == 200
        reader.halt.set()
        reader.join(timeout=60)
        print(f"Fuseki outage: upload {uploaded}, reader statuses {dict(reader.statuses)}")
        assert set(reader.statuses) <= {200, 503} and reader.statuses[503] > 0, reader.statuses
        assert all(UNAVAILABLE in body for body in reader.bodies)
    finally:
        reader.halt.set()
        api.stop()
        fuseki.stop()


# ---------------------------------------------------------------- Neo4j


def graph_counts(server: Neo4jServer) -> dict[str, int]:
    """Nodes per graph in Neo4j (read directly, not through the relay)."""
    with GraphDatabase.driver(server.bolt_uri, auth=None) as driver:
        records = driver.execute_query("MATCH (n:Resource) UNWIND n.graphs AS g RETURN g, count(n) AS n").records
    return {r["g"]: r["n"] for r in records}


@dataclass(frozen=True)
class SyncRuns:
    """What one full sync wrote, and the runs of a sync cut at half its bytes and of the one after."""

    expected: dict[str, int]
    total_bytes: int
    cut: Result
    cut_seconds: float
    after_cut: dict[str, int]
    later: Result
    after_later: dict[str, int]


def sync(relay: Relay, cut_after: int | None = None, restore_after_s: float | None = None) -> tuple[Result, float]:
    """`qualkg sync neo4j` through `relay`, optionally cut after `cut_after` bytes (and restored later)."""
    relay.restore()
    if cut_after is not None:
        relay.cut_after(cut_after)
    if restore_after_s is not None:
        threading.Timer(restore_after_s, relay.restore).start()
    started = time.monotonic()
    result = CliRunner().invoke(sync_app, ["neo4j"], env={"QUALKG_NEO4J_URI": f"bolt://127.0.0.1:{relay.port}"})
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def sync_store(tmp_path_factory: pytest.TempPathFactory, old_store: Path, new_pkg: Path) -> Iterator[Path]:
    """An Oxigraph directory with the model and the study (two graphs: the study and its log); the
    sync reads it from QUALKG_STORE_PATH, in a folder without a .env."""
    folder = tmp_path_factory.mktemp("sync")
    path = copy_store(old_store, folder)
    store = build_store(Settings(store_path=path))
    try:
        ingest(new_pkg, store, IRIS)
    finally:
        store.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        mp.setenv("QUALKG_STORE_PATH", str(path))
        yield path


@pytest.fixture(scope="module")
def relay(neo4j_server: Neo4jServer) -> Iterator[Relay]:
    # starting Neo4j takes ~50 s here, so the outage is made on the wire: dropping every connection after
    # half the bytes of an uninterrupted sync, and refusing new ones, is to the driver the server vanishing
    # mid-transaction
    relay = Relay(int(neo4j_server.bolt_uri.rsplit(":", 1)[1]))
    yield relay
    relay.cut()


@pytest.fixture(scope="module")
def long_outage(sync_store: Path, neo4j_server: Neo4jServer, relay: Relay) -> SyncRuns:
    """Neo4j gone for good halfway through a sync (the driver retries for its 30 s, then gives up);
    then a later sync with Neo4j back."""
    neo4j_server.reset()
    full, _ = sync(relay)
    assert full.exit_code == 0, full.output
    expected, total = graph_counts(neo4j_server), relay.sent
    neo4j_server.reset()
    cut, seconds = sync(relay, cut_after=total // 2)
    after_cut = graph_counts(neo4j_server)
    later, _ = sync(relay)
    print(f"Neo4j cut after {total // 2} of {total} bytes: exit {cut.exit_code} after {seconds:.1f} s "
          f"({cut.exception!r}); later sync exit {later.exit_code}")
    return SyncRuns(expected, total, cut, seconds, after_cut, later, graph_counts(neo4j_server))


def test_neo4j_gone_mid_sync_then_back(long_outage: SyncRuns) -> None:
    """The cut sync fails, leaves each graph all or nothing (one transaction per graph), a later sync
    restores everything."""
    assert long_outage.cut.exit_code != 0
    assert all(long_outage.after_cut[g] == long_outage.expected[g] for g in long_outage.after_cut)
    assert long_outage.later.exit_code == 0, long_outage.later.output
    assert long_outage.after_later == long_outage.expected


def test_neo4j_gone_mid_sync_is_a_clear_error(long_outage: SyncRuns) -> None:
    assert isinstance(long_outage.cut.exception, SystemExit), long_outage.cut.exception
    assert "Neo4j" in long_outage.cut.output and "Traceback" not in long_outage.cut.output


def test_neo4j_short_outage_mid_sync_is_retried(sync_store: Path, neo4j: Neo4jServer, relay: Relay,
                                                long_outage: SyncRuns) -> None:
    """Connections dropped halfway and refused for 2 s: the driver's retry finishes the same sync."""
    result, seconds = sync(relay, cut_after=long_outage.total_bytes // 2, restore_after_s=2.0)
    print(f"Neo4j cut for 2 s mid-sync: exit {result.exit_code} after {seconds:.1f} s")
    assert result.exit_code == 0, result.output
    assert graph_counts(neo4j) == long_outage.expected
