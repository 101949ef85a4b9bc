"""Caller-written SPARQL evaluated in worker processes that reach no network, under a memory cap, killed at the timeout.

`SparqlSandbox.evaluate(snapshot, query, media_type)` runs one query on a read-only copy of the
store (a directory no process writes) in one of a bounded number of workers and returns the
serialised answer. Why and how: docs/decisions/0060-sandboxed-raw-sparql.md.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from queue import Empty, Queue

from qualkg.store.base import QueryError, QueryTimeout, StoreError

_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000


class SandboxBusy(StoreError):
    """Every worker stayed busy for the whole wait: the query was not started."""


class SandboxUnavailable(StoreError):
    """This machine cannot start a worker that is cut off from the network: raw SPARQL is refused."""


class QueryTooLarge(StoreError):
    """The evaluation needed more memory than the sandbox's cap and was stopped."""


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    workers: int = 2  # evaluations at once
    memory_bytes: int = 2 << 30  # address space of one worker, interpreter and store included
    timeout_s: float = 10.0  # wall time of one evaluation, then the worker is killed
    wait_s: float = 10.0  # how long a query waits for a free worker


def isolate_from_network() -> None:
    """Move this process into a new, empty network namespace (no interface, not even loopback).

    :raises OSError: the kernel refuses both a network namespace and a user + network namespace.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNET) != 0 and libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"cannot leave the network: unshare: {os.strerror(code)}")
    for family, address in ((socket.AF_INET, ("127.0.0.1", 9)), (socket.AF_INET6, ("::1", 9))):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(address)
            except OSError as e:
                if e.errno not in (errno.ENETUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    raise OSError(e.errno, f"network still reachable after unshare: {e}") from e
            else:
                raise OSError(errno.EPERM, "network still reachable after unshare")


def _serve(conn: Connection, memory_bytes: int) -> None:
    """A worker: isolate, cap memory, then answer (snapshot, query, media type) requests until EOF."""
    try:
        isolate_from_network()
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        from pyoxigraph import QueryResultsFormat, QueryTriples, RdfFormat, Store
    except (OSError, ValueError, ImportError) as e:
        conn.send(("unavailable", str(e)))
        return
    conn.send(("ready", ""))
    opened: tuple[str, Store] | None = None
    while True:
        try:
            snapshot, query, media_type = conn.recv()
        except EOFError:
            return
        try:
            if opened is None or opened[0] != snapshot:
                opened = None
                opened = (snapshot, Store.read_only(snapshot))
            result = opened[1].query(query, use_default_graph_as_union=True)
            if isinstance(result, QueryTriples):
                graph_format = RdfFormat.from_media_type(media_type)
                body = result.serialize(format=graph_format) if graph_format is not None else None
            else:
                results_format = QueryResultsFormat.from_media_type(media_type)
                body = result.serialize(format=results_format) if results_format is not None else None
            if body is None:
                conn.send(("error", f"these results cannot be served as {media_type!r}"))
            else:
                conn.send(("ok", body))
        except (SyntaxError, OSError, ValueError, TypeError, RuntimeError) as e:
            conn.send(("error", str(e)))


class _Worker:
    """One worker process (`python -m qualkg.store.sandbox FD BYTES`) and the parent's end of its socket."""

    def __init__(self, memory_bytes: int, start_timeout_s: float) -> None:
        parent, child = socket.socketpair()
        env = {**os.environ, "RUST_BACKTRACE": "0"}  # an allocation failure aborts: one line, no backtrace
        with child:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "qualkg.store.sandbox", str(child.fileno()), str(memory_bytes)],
                pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.conn = Connection(parent.detach())
        self.snapshot: str | None = None
        if not self.conn.poll(start_timeout_s):
            self.kill()
            raise SandboxUnavailable("the SPARQL sandbox worker did not start")
        try:
            status, detail = self.conn.recv()
        except EOFError:
            status, detail = "unavailable", f"the worker ended with status {self.process.wait()}"
        if status != "ready":
            self.kill()
            raise SandboxUnavailable(f"raw SPARQL is unavailable on this machine: {detail}")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.conn.close()


class SparqlSandbox:
    """A bounded pool of isolated workers; each evaluation is bounded in wall time and memory."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._slots = threading.BoundedSemaphore(self.limits.workers)
        self._idle: Queue[_Worker] = Queue()
        self._closed = False

    def evaluate(self, snapshot: Path, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        """The serialised answer of `query` on the read-only store at `snapshot`.

        :raises QueryTimeout: past the timeout (the worker is killed, its CPU freed).
        :raises QueryTooLarge: past the memory cap. :raises SandboxBusy: no worker free within the wait.
        :raises QueryError: the engine refuses the query. :raises SandboxUnavailable: no isolated worker.
        """
        if self._closed:
            raise SandboxUnavailable("the SPARQL sandbox is closed")
        if not self._slots.acquire(timeout=self.limits.wait_s):
            raise SandboxBusy(f"all {self.limits.workers} SPARQL workers stayed busy for "
                              f"{self.limits.wait_s:g} s; try again later")
        try:
            return self._evaluate(snapshot, query, media_type, timeout_s)
        finally:
            self._slots.release()

    def snapshots_in_use(self) -> set[str]:
        """The snapshot directories an idle worker still has open (the caller keeps them on disk)."""
        with self._idle.mutex:
            return {w.snapshot for w in self._idle.queue if w.snapshot is not None}

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except Empty:
                return

    def _evaluate(self, snapshot: Path, query: str, media_type: str, timeout_s: float | None) -> bytes:
        try:
            worker = self._idle.get_nowait()
        except Empty:
            worker = _Worker(self.limits.memory_bytes, start_timeout_s=60)
        limit = self.limits.timeout_s if timeout_s is None else min(timeout_s, self.limits.timeout_s)
        try:
            worker.conn.send((str(snapshot), query, media_type))
            worker.snapshot = str(snapshot)
            if not worker.conn.poll(limit):
                worker.kill()
                raise QueryTimeout(f"query stopped after {limit:g} s (the configured timeout); its evaluation "
                                   "was ended")
            status, body = worker.conn.recv()
        except (EOFError, OSError):
            worker.kill()
            if worker.process.returncode == -signal.SIGABRT:  # Rust aborts when an allocation fails
                raise QueryTooLarge(f"query stopped: its evaluation needed more than "
                                    f"{self.limits.memory_bytes >> 20} MiB of memory") from None
            raise StoreError(f"the query's evaluation ended abnormally (status {worker.process.returncode})") from None
        if self._closed:
            worker.kill()
        else:
            self._idle.put(worker)
        if status == "error":
            raise QueryError(body)
        return bytes(body)


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
