"""The same named questions on Oxigraph, Fuseki and Neo4j, on the same data, and the Neo4j sync rate.

`measure` is the engines worker (`python -m bench worker engines …`, from bench/run.py); it prints
JSON lines. Each (question, engine) cell runs in a forked child stopped at `cap_s` and is reported as
capped, never left out (docs/decisions/0046-engines-side-by-side.md).
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import DriverError, Neo4jError

from bench.report import FIRST_SYNC, READ_ONLY
from bench.workers import PAGE, _question_args, emit, study_graphs, timings
from qualkg.projection.neo4j import node_labels, read_graph, sync
from qualkg.queries.catalog import Catalog, default_catalog
from qualkg.queries.cypher_catalog import CypherCatalog, default_cypher_catalog
from qualkg.store.base import StoreError
from qualkg.store.oxigraph import OxigraphStore
from qualkg.store.sparql import ProtocolStore
from tests.servers.launch import (
    BENCH_JVM_FLAGS,
    FUSEKI_JAR,
    start_fuseki,
    start_neo4j,
)

HEAP = "2g"
ENGINES = ("oxigraph", "fuseki", "neo4j")
Cell = dict[str, Any]


def empty_neo4j(driver: Driver) -> None:
    """Every node, relationship and constraint gone: a first sync starts from nothing. Deleted in
    batches (implicit transactions), since one transaction over a 100k corpus would need a big heap."""
    with driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    for record in driver.execute_query("SHOW CONSTRAINTS YIELD name").records:
        driver.execute_query(f"DROP CONSTRAINT {record['name']}")  # names come from the server itself


def _sync_row(step: str, graphs: int, nodes: int, relationships: int, seconds: float) -> None:
    emit(kind="neo4j-sync", step=step, graphs=graphs, nodes=nodes, relationships=relationships,
         seconds=round(seconds, 3), per_s=round((nodes + relationships) / seconds, 1))


def measure_sync(store: OxigraphStore, driver: Driver, first_study: str) -> None:
    """The store side alone (every graph's rows, no Neo4j), then the first sync and a re-sync."""
    start = time.perf_counter()
    labels = node_labels(store)
    known = {iri for nodes in labels.values() for iri in nodes}
    read = [read_graph(store, g, labels.get(g, {}), known) for g in store.graphs()]
    _sync_row(READ_ONLY, len(read), sum(len(r.nodes) for r in read), sum(r.relationship_count for r in read),
              time.perf_counter() - start)
    sync(store, driver)  # warm-up: a long-running server has compiled the sync's statements and grown its files
    empty_neo4j(driver)
    for step, graphs in ((FIRST_SYNC, None), ("re-sync one study (replace)", [first_study])):
        report = sync(store, driver, graphs)
        _sync_row(step, len(report.graphs), report.nodes, report.relationships, report.seconds)


def load_fuseki(gsp_url: str, nquads: Path) -> None:
    """The N-Quads into the dataset in one Graph Store Protocol POST (one TDB2 transaction)."""
    start = time.perf_counter()
    with nquads.open("rb") as body:
        httpx.post(gsp_url, content=body, headers={"Content-Type": "application/n-quads"},
                   timeout=None).raise_for_status()
    emit(kind="fuseki-load", seconds=round(time.perf_counter() - start, 3), mb=round(nquads.stat().st_size / 2**20, 1))


def within(cap_s: float, work: Callable[[], Cell]) -> Cell:
    """`work()` in a forked child (it inherits the in-memory store), stopped at `cap_s`. An engine's
    refusal (a query error, a server-side timeout) becomes an `error` cell."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(work())
        except (Neo4jError, DriverError, StoreError, OSError) as e:
            send.send({"error": f"{type(e).__name__}: {str(e)[:200]}"})

    process = context.Process(target=child, daemon=True)
    process.start()
    send.close()
    try:
        cell = receive.recv() if receive.poll(cap_s) else {"capped_s": cap_s}
    except EOFError:  # the child died without an answer; its traceback is on stderr
        cell = {"error": f"the measuring process exited with code {process.exitcode}"}
    process.kill()
    process.join()
    return cell


def question_cells(qid: str, study: str, store: OxigraphStore, catalog: Catalog, cypher: CypherCatalog,
                   fuseki_urls: tuple[str, str, str], bolt_uri: str, cap_s: float) -> dict[str, Cell]:
    """One question at its defaults on each engine. The remote clients are made in the child, so
    no connection is shared across the fork."""
    _, _, raw = _question_args(catalog, qid, study)
    limit = PAGE if catalog.get(qid).paged else None

    def timed(run: Callable[[], Any]) -> Cell:
        run()  # the servers plan and compile a query on its first run: one run more before timings' own warm-up
        figures, frame = timings(run)
        return {**figures, "rows": len(frame)}

    def on_oxigraph() -> Cell:
        return timed(lambda: catalog.run(store, qid, raw, limit=limit))

    def on_fuseki() -> Cell:
        remote = ProtocolStore(*fuseki_urls, timeout_s=cap_s + 5)
        return timed(lambda: catalog.run(remote, qid, raw, limit=limit))

    def on_neo4j() -> Cell:
        if qid not in cypher.twins:
            return {"error": "no Cypher twin"}
        with GraphDatabase.driver(bolt_uri, auth=None, notifications_min_severity="OFF") as driver:
            return timed(lambda: cypher.run(driver, qid, raw, limit, timeout_s=cap_s))

    runs = {"oxigraph": on_oxigraph, "fuseki": on_fuseki, "neo4j": on_neo4j}
    return {engine: within(cap_s, runs[engine]) for engine in ENGINES}


def measure(nquads: Path, store_dir: Path, work: Path, cap_s: float, only: str | None = None) -> None:
    """The sync, then every named question (or `only` that one) on the three engines."""
    store = OxigraphStore(store_dir, memory_reads=True)
    study = study_graphs(store.graphs())[0]
    catalog = default_catalog()
    cypher = default_cypher_catalog(catalog)
    with (start_neo4j(work / "neo4j", heap=HEAP, jvm_flags=BENCH_JVM_FLAGS) as neo4j,
          GraphDatabase.driver(neo4j.bolt_uri, auth=None) as driver):
        server = driver.execute_query("CALL dbms.components() YIELD versions RETURN versions[0] AS v").records[0]["v"]
        emit(kind="engine-versions", neo4j=server, driver=version("neo4j"), fuseki=FUSEKI_JAR.stem.rsplit("-", 1)[-1],
             jvm=" ".join([f"-Xmx{HEAP}", *BENCH_JVM_FLAGS]))
        measure_sync(store, driver, study)
        with start_fuseki(work / "fuseki", heap=HEAP, jvm_flags=BENCH_JVM_FLAGS, query_timeout_s=cap_s) as fuseki:
            load_fuseki(fuseki.gsp_url, nquads)
            urls = (fuseki.query_url, fuseki.update_url, fuseki.gsp_url)
            for qid in [only] if only else sorted(catalog.questions):
                cells = question_cells(qid, study.rsplit("/", 1)[-1], store, catalog, cypher, urls, neo4j.bolt_uri,
                                       cap_s)
                emit(kind="engines", question=qid, **cells)
    store.close()
