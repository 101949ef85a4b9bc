"""One SPARQL sandbox worker, run by path: `python -I sandbox_worker.py FD MEMORY_BYTES ANSWER_BYTES`.

Imports only the standard library and pyoxigraph; isolates and caps itself, says "ready", then answers
(snapshot, query, media type) requests on socket FD until EOF with ("ok", length) and the answer, or
(status, message). Parent side: qualkg.store.sandbox (decision 0060).
"""

from __future__ import annotations

import ctypes
import errno
import io
import os
import resource
import signal
import socket
import sys
from multiprocessing.connection import Connection
from typing import Any

_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_PR_SET_PDEATHSIG = 1


class AnswerTooLarge(Exception):
    """The serialised answer passed the answer cap."""


def isolate_from_network() -> None:
    """Move this process into a new, empty network namespace (no interface, not even loopback), and check
    that neither 127.0.0.1 nor ::1 can be reached from it.

    :raises OSError: the kernel refuses a network namespace, with or without a user namespace first.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if (libc.unshare(_CLONE_NEWNET) != 0 and libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0
            and not (libc.unshare(_CLONE_NEWUSER) == 0 and libc.unshare(_CLONE_NEWNET) == 0)):
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


def confine(memory_bytes: int) -> None:
    """Die with the parent, leave the network, cap memory, write no core, yield the CPU to the server."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above
        raise OSError(errno.ESRCH, "the server is gone")
    isolate_from_network()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    os.nice(5)


class _Capped(io.BytesIO):
    """A buffer that refuses to grow past `limit` bytes (the engine then stops serialising)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: Any) -> int:
        if self.tell() + memoryview(data).nbytes > self.limit:
            raise AnswerTooLarge
        return super().write(data)


def serve(conn: Connection, memory_bytes: int, answer_bytes: int) -> None:
    """Confine this process, then answer requests on `conn` until EOF."""
    try:
        confine(memory_bytes)
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
        out = _Capped(answer_bytes)
        if opened is None or opened[0] != snapshot:
            opened = None  # the old snapshot is closed before the new one is opened
            try:
                opened = (snapshot, Store.read_only(snapshot))
            except (OSError, RuntimeError) as e:
                conn.send(("store", f"cannot open the read-only copy of the store {snapshot}: {e}"))
                continue
        try:
            result = opened[1].query(query, use_default_graph_as_union=True)
            if isinstance(result, QueryTriples):
                graph_format = RdfFormat.from_media_type(media_type)
                if graph_format is None:
                    raise ValueError(f"CONSTRUCT/DESCRIBE results cannot be served as {media_type!r}")
                result.serialize(out, format=graph_format)
            else:
                results_format = QueryResultsFormat.from_media_type(media_type)
                if results_format is None:
                    raise ValueError(f"SELECT/ASK results cannot be served as {media_type!r}")
                result.serialize(out, format=results_format)
        except MemoryError:
            conn.send(("memory", ""))
            continue
        except AnswerTooLarge:  # raised by `out.write`; pyoxigraph hands it back as it is
            conn.send(("answer", ""))
            continue
        except (SyntaxError, OSError, ValueError, TypeError, RuntimeError) as e:
            conn.send(("error", str(e)))
            continue
        answer = out.getbuffer()
        conn.send(("ok", answer.nbytes))
        conn.send_bytes(answer)
        answer.release()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]))
