"""Caller-written SPARQL runs in isolated workers: no outbound request reaches a real listener, a memory
bomb is stopped at the cap, a CPU-bound query is killed at the timeout and its CPU freed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from qualkg.store.base import QueryError, QueryTimeout, StoreError
from qualkg.store.sandbox import QueryTooLarge, SandboxBusy, SandboxLimits, SandboxUnavailable, SparqlSandbox

G = NamedNode("https://example.org/g")


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snapshot")
    store = Store(str(path))
    store.extend([Quad(NamedNode(f"https://example.org/s{i}"), NamedNode("https://example.org/p"), Literal(f"v{i}"), G)
                  for i in range(3)])
    store.flush()
    del store
    return path


@pytest.fixture
def sandbox() -> Iterator[SparqlSandbox]:
    box = SparqlSandbox(SandboxLimits(workers=1, memory_bytes=1 << 30, timeout_s=30, wait_s=30))
    yield box
    box.close()


# 200^5 rows of five small VALUES blocks: CPU only, no memory
VALUES_200 = " ".join(str(i) for i in range(200))
SPIN = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{i} {{ {VALUES_200} }}" for i in range(5)) + " }"


def spinning(box: SparqlSandbox, snapshot: Path) -> tuple[threading.Thread, list[type[StoreError]]]:
    """A thread that runs SPIN on `box`, and the list the type of the error that stops it lands in."""
    outcome: list[type[StoreError]] = []

    def spin_once() -> None:
        try:
            box.evaluate(snapshot, SPIN, "text/csv")
        except StoreError as e:
            outcome.append(type(e))

    return threading.Thread(target=spin_once), outcome


def test_answers_from_the_snapshot(sandbox: SparqlSandbox, snapshot: Path) -> None:
    body = sandbox.evaluate(snapshot, "SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o", "text/csv")
    assert body.decode().split() == ["o", "v0", "v1", "v2"]


def test_service_reaches_no_listener(sandbox: SparqlSandbox, snapshot: Path, listener: tuple[int, list[str]]) -> None:
    port, seen = listener
    with pytest.raises(QueryError, match="unreachable"):
        sandbox.evaluate(snapshot, f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/x> {{ ?s ?p ?o }} }}",
                         "text/csv")
    assert seen == []


def test_memory_bomb_is_stopped_at_the_cap(sandbox: SparqlSandbox, snapshot: Path) -> None:
    doubled = "".join(f" BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(30))
    with pytest.raises(QueryTooLarge):
        sandbox.evaluate(snapshot, f"SELECT ?a30 WHERE {{ ?s ?p ?a0 {doubled} }}", "text/csv")
    assert sandbox.evaluate(snapshot, "ASK { ?s ?p ?o }", "application/sparql-results+json").endswith(b"true}")


def test_timed_out_query_stops_using_the_cpu(sandbox: SparqlSandbox, snapshot: Path) -> None:
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        sandbox.evaluate(snapshot, SPIN, "text/csv", timeout_s=2)
    assert time.monotonic() - started < 10
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE]
    assert [p.cpu_percent(interval=0.5) for p in left] in ([], [0.0])  # at most an idle new worker


def test_busy_pool_refuses_instead_of_queueing_forever(snapshot: Path) -> None:
    box = SparqlSandbox(SandboxLimits(workers=1, timeout_s=3, wait_s=0.5))
    first, outcome = spinning(box, snapshot)
    try:
        first.start()
        time.sleep(1.0)  # the one worker is busy with the spin
        with pytest.raises(SandboxBusy):
            box.evaluate(snapshot, "ASK { ?s ?p ?o }", "text/csv")
        first.join()
    finally:
        box.close()
    assert outcome == [QueryTimeout]


def test_engine_errors_are_query_errors(sandbox: SparqlSandbox, snapshot: Path) -> None:
    with pytest.raises(QueryError):
        sandbox.evaluate(snapshot, "SELEC nothing", "text/csv")


def test_an_answer_past_the_answer_cap_is_stopped(snapshot: Path) -> None:
    box = SparqlSandbox(SandboxLimits(workers=1, answer_bytes=1000))
    try:
        big = "SELECT ?o WHERE { ?s ?p ?o BIND(CONCAT(?o, ?o, ?o, ?o, ?o, ?o, ?o, ?o) AS ?x) VALUES ?n { " \
              + " ".join(str(i) for i in range(100)) + " } }"
        with pytest.raises(QueryTooLarge, match="answer"):
            box.evaluate(snapshot, big, "text/csv")
        assert box.evaluate(snapshot, "ASK { ?s ?p ?o }", "text/csv")  # the worker goes on
    finally:
        box.close()


def test_past_the_queue_a_query_is_refused_at_once(snapshot: Path) -> None:
    """One worker, no queue: while it spins, the next query is refused without waiting."""
    box = SparqlSandbox(SandboxLimits(workers=1, queue=0, timeout_s=3, wait_s=30))
    first, outcome = spinning(box, snapshot)
    try:
        first.start()
        time.sleep(0.5)
        started = time.monotonic()
        with pytest.raises(SandboxBusy) as busy:
            box.evaluate(snapshot, "ASK { ?s ?p ?o }", "text/csv")
        assert time.monotonic() - started < 0.5 and busy.value.retry_after_s >= 1
        first.join()
    finally:
        box.close()
    assert outcome == [QueryTimeout]


def test_a_copy_that_cannot_be_opened_is_the_store_failing_not_the_query(sandbox: SparqlSandbox,
                                                                           tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "CURRENT").write_text("MANIFEST-nothing\n")
    with pytest.raises(StoreError) as failed:
        sandbox.evaluate(tmp_path / "broken", "ASK { ?s ?p ?o }", "text/csv")
    assert not isinstance(failed.value, QueryError)


def test_closing_kills_a_busy_worker(snapshot: Path) -> None:
    box = SparqlSandbox(SandboxLimits(workers=1, timeout_s=30))
    worker, outcome = spinning(box, snapshot)
    worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    box.close()
    worker.join(timeout=10)
    assert time.monotonic() - started < 5
    assert outcome == [SandboxUnavailable]
