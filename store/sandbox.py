"""Caller-written SPARQL evaluated in worker processes that reach no network, capped in memory, killed at the timeout.

`SparqlSandbox.evaluate` runs one query on a read-only copy of the store in one of a bounded number of
workers (`store/sandbox_worker.py`, run by path) and returns the serialised answer (decision 0060).
"""

from __future__ import annotations

import atexit
import math
import os
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from queue import Empty, Queue

from qualkg.store.base import QueryError, QueryTimeout, StoreError

WORKER = Path(__file__).with_name("sandbox_worker.py")


class SandboxError(StoreError):
    """The sandbox could not evaluate the query; the store itself is fine."""


class SandboxBusy(SandboxError):
    """Every worker stayed busy for the whole wait (or too many queries wait already): the query was not started."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SandboxUnavailable(SandboxError):
    """This machine cannot start a worker that is cut off from the network: raw SPARQL is refused."""


class QueryTooLarge(SandboxError):
    """The evaluation needed more memory than the sandbox's cap, or its answer passed the answer cap; stopped."""


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    workers: int = 2  # evaluations at once
    memory_bytes: int = 1 << 30  # address space of one worker, interpreter and store included
    answer_bytes: int = 64 << 20  # largest serialised answer a worker hands back
    timeout_s: float = 10.0  # wall time of one evaluation, then the worker is killed
    wait_s: float = 2.0  # how long a query waits for a free worker
    queue: int = 8  # queries that may wait for a worker at once; more are refused at once


class _Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self, limits: SandboxLimits, start_timeout_s: float) -> None:
        parent, child = socket.socketpair()
        # Nothing of the server's environment but what starting Python needs. An allocation failure aborts the
        # worker with one line on stderr and no backtrace; two malloc arenas keep the address space (which the
        # cap limits) close to the memory used.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LD_LIBRARY_PATH")}
        env |= {"RUST_BACKTRACE": "0", "MALLOC_ARENA_MAX": "2"}
        with child:
            self.process = subprocess.Popen(
                [sys.executable, "-I", str(WORKER), str(child.fileno()), str(limits.memory_bytes),
                 str(limits.answer_bytes)],
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
            raise SandboxUnavailable(f"raw SPARQL is unavailable on this machine: the server cannot start a query "
                                     f"worker cut off from the network ({detail}), and it never runs a caller's "
                                     "query unisolated")

    def rss(self) -> int:
        """Resident memory of the worker process in bytes (0 when it cannot be read)."""
        try:
            return int(Path(f"/proc/{self.process.pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            return 0

    def stop(self) -> None:
        """Kill the process only (another thread may be waiting on the socket: it sees EOF)."""
        if self.process.poll() is None:
            self.process.kill()

    def kill(self) -> None:
        self.stop()
        self.process.wait(timeout=10)
        self.conn.close()


class SparqlSandbox:
    """A bounded pool of isolated workers; each evaluation is bounded in wall time, memory and answer size."""

    def __init__(self, limits: SandboxLimits | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._slots = threading.BoundedSemaphore(self.limits.workers)
        self._idle: Queue[_Worker] = Queue()
        self._lock = threading.Lock()
        self._busy: set[_Worker] = set()
        self._asked: Counter[str] = Counter()  # snapshots of the evaluations waiting or running
        self._closed = False
        # Workers die with the thread that started them (PR_SET_PDEATHSIG is per thread), so one thread that
        # lives as long as the sandbox starts them all, not the request threads, which come and go.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sparql-sandbox")

    def evaluate(self, snapshot: Path, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        """The serialised answer of `query` on the read-only store at `snapshot`.

        :raises QueryTimeout: past the timeout (the worker is killed). :raises QueryTooLarge: past the memory
        or answer cap. :raises QueryError: the engine refuses it. :raises SandboxBusy: no worker free in time.
        :raises SandboxUnavailable: no isolated worker can start, or the sandbox is closed.
        """
        key = str(snapshot)
        with self._lock:
            if self._closed:
                raise SandboxUnavailable("the SPARQL sandbox is closed")
            if sum(self._asked.values()) >= self.limits.workers + self.limits.queue:
                raise self._busy_error()
            self._asked[key] += 1
        try:
            if not self._slots.acquire(timeout=self.limits.wait_s):
                raise self._busy_error()
            try:
                return self._evaluate(key, query, media_type, timeout_s)
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._asked[key] -= 1
                if not self._asked[key]:
                    del self._asked[key]

    def snapshots_in_use(self) -> set[str]:
        """The snapshot directories a worker has open or an evaluation is about to open (keep them on disk)."""
        with self._lock:
            asked = set(self._asked)
        with self._idle.mutex:
            return asked | {w.snapshot for w in self._idle.queue if w.snapshot is not None}

    def close(self) -> None:
        """Refuse further evaluations and kill every worker, idle or busy."""
        with self._lock:
            self._closed = True
            for worker in self._busy:
                worker.stop()
        self._spawner.shutdown(wait=False)  # its thread's end would also kill the workers (PR_SET_PDEATHSIG)
        while True:
            try:
                self._idle.get_nowait().kill()
            except Empty:
                return

    def _busy_error(self) -> SandboxBusy:
        return SandboxBusy(f"all {self.limits.workers} SPARQL workers are busy; try again later",
                           retry_after_s=max(1, math.ceil(self.limits.timeout_s)))

    def _take_worker(self) -> _Worker:
        worker = self._idle_worker() or self._new_worker()
        with self._lock:
            if self._closed:
                worker.kill()
                raise SandboxUnavailable("the SPARQL sandbox is closed")
            self._busy.add(worker)
        return worker

    def _idle_worker(self) -> _Worker | None:
        """An idle worker that is still alive (one may have been killed from outside meanwhile), or None."""
        while True:
            try:
                worker = self._idle.get_nowait()
            except Empty:
                return None
            if worker.process.poll() is None:
                return worker
            worker.kill()

    def _new_worker(self) -> _Worker:
        try:
            return self._spawner.submit(_Worker, self.limits, 30).result()
        except RuntimeError:  # "cannot schedule new futures after shutdown"
            raise SandboxUnavailable("the SPARQL sandbox is closed") from None

    def _give_back(self, worker: _Worker) -> None:
        """Keep the worker for the next query, unless the sandbox closed or the worker holds on to much memory."""
        with self._lock:  # as one step with `close` marking the sandbox closed, so no worker is left behind
            self._busy.discard(worker)
            keep = not self._closed and worker.rss() < self.limits.memory_bytes // 4
            if keep:
                self._idle.put(worker)
        if not keep:
            worker.kill()

    def _evaluate(self, snapshot: str, query: str, media_type: str, timeout_s: float | None) -> bytes:
        worker = self._take_worker()
        limit = self.limits.timeout_s if timeout_s is None else min(timeout_s, self.limits.timeout_s)
        try:
            worker.conn.send((snapshot, query, media_type))
            worker.snapshot = snapshot
            if not worker.conn.poll(limit):
                self._drop(worker)
                raise QueryTimeout(f"query stopped after {limit:g} s (the configured timeout); its evaluation "
                                   "was ended")
            status, detail = worker.conn.recv()
            body = worker.conn.recv_bytes(self.limits.answer_bytes + 1) if status == "ok" else b""
        except (EOFError, OSError):
            self._drop(worker)
            raise self._ended(worker) from None
        self._give_back(worker)
        if status == "error":
            raise QueryError(detail)
        if status == "store":  # the copy could not be opened: the store's trouble, not the query's
            raise StoreError(detail)
        if status == "memory":
            raise self._too_large()
        if status == "answer":
            raise QueryTooLarge(f"the answer passed this endpoint's cap of {self.limits.answer_bytes >> 20} MiB; "
                                "ask for fewer or smaller results")
        return body

    def _drop(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.kill()

    def _too_large(self) -> QueryTooLarge:
        return QueryTooLarge(f"query stopped: its evaluation needed more than {self.limits.memory_bytes >> 20} MiB "
                             "of memory (the configured cap)")

    def _ended(self, worker: _Worker) -> SandboxError:
        """Why a worker's socket ended while it evaluated."""
        if self._closed:
            return SandboxUnavailable("the SPARQL sandbox was closed during the evaluation")
        if worker.process.returncode == -signal.SIGABRT:  # Rust aborts when an allocation fails
            return self._too_large()
        return SandboxError(f"the query's evaluation ended abnormally (status {worker.process.returncode})")


_shared: SparqlSandbox | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> SparqlSandbox:
    """One sandbox with the default limits for every store of this process opened without limits of its own
    (tests, the Python session); its workers end with the process."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SparqlSandbox()
            atexit.register(_shared.close)
        return _shared
