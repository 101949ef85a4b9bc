"""Start and stop the real servers the tests use: Neo4j 5.26 (in-process harness) and Fuseki 5.6.

Each `start_*` picks a free port on 127.0.0.1, waits until the server answers its own protocol and
returns a `Server` to stop; one that dies or does not answer raises `ServerStartError` with its
log's tail. The jars come from `fetch.sh`, run on first use.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self, TypeVar

import httpx
from neo4j import GraphDatabase
from neo4j.exceptions import DriverError, Neo4jError

HERE = Path(__file__).resolve().parent
LIB = HERE / "lib"
FETCH_SCRIPT = HERE / "fetch.sh"
FUSEKI_JAR = LIB / "fuseki" / "jena-fuseki-server-5.6.0.jar"
NEO4J_CLASSPATH = f"{LIB / 'launcher'}:{LIB / 'neo4j'}/*"
FUSEKI_DATASET = "ds"

PORT_ATTEMPTS = 3  # a free port can be taken by another process before the JVM binds it
START_TIMEOUT_S = 180.0  # generous: on a busy 2-core machine Neo4j has taken ~50 s to start
STOP_GRACE_S = 20.0
LOG_TAIL_LINES = 40

# Short-lived test servers: C1-only JIT and the serial collector start faster and use fewer
# threads than the defaults, which matters on 2 cores shared with the rest of the suite.
JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
# Benchmarks measure the servers as deployed: full JIT, the default collector, pass `heap` too.
BENCH_JVM_FLAGS: list[str] = []


S = TypeVar("S", bound="Server")


class ServerStartError(RuntimeError):
    """A server process exited or did not become ready; the message holds its log's tail."""


@dataclass
class Server:
    """A running server process, its console log, and how to stop it."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)
    resets: int = field(default=0, init=False)  # how often reset() emptied it: a fixture can tell it must reload

    def stop(self) -> None:
        """Ask politely (SIGTERM), wait, then kill; safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin is not None:
            self.process.stdin.close()
        self._log.close()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last `lines` lines of the console log, for error messages."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class Neo4jServer(Server):
    """Neo4j with Bolt on 127.0.0.1, auth disabled (connect with auth=None)."""

    bolt_uri: str

    def reset(self) -> None:
        """Delete every node and relationship, so each test starts from an empty graph."""
        with GraphDatabase.driver(self.bolt_uri, auth=None) as driver:
            driver.execute_query("MATCH (n) DETACH DELETE n")
        self.resets += 1


@dataclass
class FusekiServer(Server):
    """Fuseki with one in-memory, updatable dataset /ds."""

    base_url: str

    def reset(self) -> None:
        """Drop the default and every named graph, so each test starts from an empty dataset."""
        httpx.post(self.update_url, data={"update": "DROP ALL"}).raise_for_status()
        self.resets += 1

    @property
    def query_url(self) -> str:
        """SPARQL 1.1 Protocol query endpoint."""
        return f"{self.base_url}/{FUSEKI_DATASET}/query"

    @property
    def update_url(self) -> str:
        """SPARQL 1.1 Protocol update endpoint."""
        return f"{self.base_url}/{FUSEKI_DATASET}/update"

    @property
    def gsp_url(self) -> str:
        """Graph Store Protocol endpoint (add ?graph=<iri> or ?default)."""
        return f"{self.base_url}/{FUSEKI_DATASET}/data"

    @property
    def ping_url(self) -> str:
        return f"{self.base_url}/$/ping"


def ensure_fetched() -> None:
    """Run fetch.sh (idempotent, silent and instant when everything is already there)."""
    result = subprocess.run(
        [str(FETCH_SCRIPT)], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise ServerStartError(
            f"{FETCH_SCRIPT} failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _on_a_free_port(start: Callable[[int], S], port: int | None) -> S:
    """`start(port)`; without `port`, on a free one, and on another if that one was taken meanwhile."""
    if port:
        return start(port)
    for _ in range(PORT_ATTEMPTS - 1):
        try:
            return start(free_port())
        except ServerStartError as e:
            if "already in use" not in str(e):
                raise
    return start(free_port())


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the test process dies, so no JVM outlives a crashed run.

    (Linux prctl PR_SET_PDEATHSIG; it fires when the thread that started the child exits, which
    for pytest fixtures is the main thread.)
    """
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _spawn(
    name: str, command: list[str], workdir: Path, env: dict[str, str] | None
) -> tuple[subprocess.Popen[bytes], Path, IO[bytes]]:
    """Start `command` in `workdir`, console output to <workdir>/<name>-console.log."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}-console.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdin=subprocess.PIPE,  # the Neo4j launcher also stops when this pipe closes
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    return process, log_path, log


def _wait_ready(server: Server, probe: Callable[[], bool], timeout_s: float) -> None:
    """Poll `probe` until it returns True; stop the server and raise if it dies or times out."""
    deadline = time.monotonic() + timeout_s
    while True:
        exit_code = server.process.poll()
        if exit_code is not None:
            problem = f"exited with code {exit_code} before it was ready"
        elif probe():
            return
        elif time.monotonic() > deadline:
            problem = f"was not ready after {timeout_s:.0f} s"
        else:
            time.sleep(0.25)
            continue
        server.stop()
        raise ServerStartError(
            f"{server.name} {problem}; last lines of {server.log_path}:\n{server.log_tail()}"
        )


def _bolt_answers(uri: str) -> bool:
    try:
        with GraphDatabase.driver(uri, auth=None, connection_timeout=2.0) as driver:
            driver.verify_connectivity()
    except (DriverError, Neo4jError, OSError):
        return False
    return True


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start_neo4j(
    workdir: Path, port: int | None = None, timeout_s: float = START_TIMEOUT_S, *,
    heap: str = "1g", jvm_flags: Sequence[str] = JVM_FLAGS,
) -> Neo4jServer:
    """Start Neo4j 5.26 Community (harness) with its store under `workdir`; ready for Bolt.

    `port` defaults to a free one; pass one to run by hand on a fixed port. `heap` (-Xmx) and
    `jvm_flags` default to the test settings; benchmarks pass BENCH_JVM_FLAGS and a bigger heap.
    """
    ensure_fetched()
    java = ["java", f"-Xmx{heap}", *jvm_flags, "-cp", NEO4J_CLASSPATH]

    def start(port: int) -> Neo4jServer:
        command = [*java, "Neo4jLauncher", str(port), str(workdir / "neo4j")]
        process, log_path, log = _spawn("neo4j", command, workdir, env=None)
        server = Neo4jServer("neo4j", process, log_path, log, f"bolt://127.0.0.1:{port}")
        _wait_ready(server, lambda: _bolt_answers(server.bolt_uri), timeout_s)
        return server

    return _on_a_free_port(start, port)


def start_fuseki(
    workdir: Path, port: int | None = None, timeout_s: float = START_TIMEOUT_S, *,
    heap: str = "512m", jvm_flags: Sequence[str] = JVM_FLAGS, query_timeout_s: float | None = None,
) -> FusekiServer:
    """Start Fuseki 5.6 with an empty TDB2 dataset /ds that accepts updates and GSP writes.

    Its default graph is the union of the named graphs (as qualkg's questions read a store). `port`,
    `heap` and `jvm_flags` as for start_neo4j; `query_timeout_s` makes Fuseki abort longer queries itself.
    """
    ensure_fetched()
    database = workdir / "tdb2"
    database.mkdir(parents=True, exist_ok=True)
    java = ["java", f"-Xmx{heap}", *jvm_flags, "-jar", str(FUSEKI_JAR)]
    options = ["--ping", "--update", "--tdb2", f"--loc={database}", "--set", "tdb:unionDefaultGraph=true"]
    if query_timeout_s is not None:
        options += ["--set", f"arq:queryTimeout={round(query_timeout_s * 1000)}"]
    # Fuseki writes its run area (config, shiro.ini) under FUSEKI_BASE: keep it in workdir.
    env = {**os.environ, "FUSEKI_BASE": str(workdir / "fuseki-base")}

    def start(port: int) -> FusekiServer:
        command = [*java, "--localhost", f"--port={port}", *options, f"/{FUSEKI_DATASET}"]
        process, log_path, log = _spawn("fuseki", command, workdir, env=env)
        server = FusekiServer("fuseki", process, log_path, log, f"http://127.0.0.1:{port}")
        _wait_ready(server, lambda: _http_ok(server.ping_url), timeout_s)
        return server

    return _on_a_free_port(start, port)
