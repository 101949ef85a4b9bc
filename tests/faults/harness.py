"""Real processes for the fault and load tests, and how to read a store back after a crash.

Synthetic packages (`package_zip`), CLI and uvicorn children (`cli_ingest`, `ApiProcess`; they die with
the test run), study states that compare exactly (`StudyState`), small filesystems to fill or make
read-only (`tmpfs`, `remount`), and a TCP relay that cuts connections (`Relay`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.corpus import generate, write_package
from qualkg.api.security import key_hash
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import ONTOLOGY_GRAPH, QKDATA
from qualkg.store.base import ExportFormat
from qualkg.store.oxigraph import OxigraphStore
from tests.servers.launch import _die_with_parent, free_port

ROOT = Path(__file__).resolve().parents[2]
IRIS = IriScheme(str(QKDATA))
STUDY = "fault-study"
INGEST_KEY = "faults-ingest-key"
READ_KEY = "faults-read-key"
START_TIMEOUT_S = 90.0  # uvicorn imports the whole app; on a busy 2-core machine that has taken ~10 s


def package_zip(folder: Path, excerpts: int, seed: int, study: str = STUDY) -> Path:
    """`folder`/`study`.zip: a synthetic package of about `excerpts` excerpts with the study id `study`."""
    generated = generate(excerpts, seed=seed).studies[0]
    generated.id = study
    source = write_package(generated, folder / "src" / study)
    target = folder / f"{study}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(p for p in source.rglob("*") if p.is_file()):
            zf.write(f, f.relative_to(source).as_posix())
    return target


def child_env(store_path: Path | None = None, **settings: str) -> dict[str, str]:
    """The environment of a qualkg child: ours, minus every QUALKG_* variable, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUALKG_")}
    env["PYTHONPATH"] = str(ROOT)
    if store_path is not None:
        env["QUALKG_STORE_PATH"] = str(store_path)
    env.update({f"QUALKG_{k.upper()}": v for k, v in settings.items()})
    return env


def spawn(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A Python child in `cwd` (no stray .env), console to `log`."""
    with log.open("ab") as out:  # preexec_fn only calls prctl through ctypes: no lock a thread could hold
        return subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)


def cli_ingest(package: Path, store_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    return spawn(["-m", "qualkg", "ingest", str(package)], cwd, child_env(store_path), cwd / "cli.log")


def keys_file(folder: Path) -> Path:
    """An API keys file with an ingest key and a read key (aggregate + excerpts)."""
    path = folder / "keys.json"
    path.write_text(json.dumps([
        {"name": "ingest", "key_sha256": key_hash(INGEST_KEY), "scopes": ["ingest"]},
        {"name": "reader", "key_sha256": key_hash(READ_KEY), "scopes": ["aggregate", "excerpts"]},
    ]))
    return path


class ApiProcess:
    """uvicorn serving qualkg.app:build_app in a child process, on a loopback port kept across restarts."""

    # configured only by QUALKG_* variables and an API keys file; killed with SIGKILL or stopped with SIGTERM

    def __init__(self, workdir: Path, env: dict[str, str], port: int | None = None) -> None:
        self.workdir, self.env, self.port = workdir, env, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "uvicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ApiProcess:
        """Start and wait until /health answers 200 (moving to another free port when this one was taken
        since it was chosen); raise with the log's tail if it does not start."""
        for _attempt in range(3):
            started_at = self.log.stat().st_size if self.log.exists() else 0
            self.process = spawn(["-m", "uvicorn", "--factory", "qualkg.app:build_app", "--host", "127.0.0.1",
                                  "--port", str(self.port), "--log-level", "warning"], self.workdir, self.env, self.log)
            if self._answers(self.process):
                return self
            self.kill()
            if b"address already in use" not in self.log.read_bytes()[started_at:]:
                break
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise RuntimeError(f"uvicorn did not start (exit {self.process.returncode}):\n{self.log_tail()}")

    def _answers(self, process: subprocess.Popen[bytes]) -> bool:
        """Whether `process` answers /health with 200 before it exits or START_TIMEOUT_S pass."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return False

    def client(self, key: str, timeout_s: float = 120.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown (the lifespan closes the store)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def upload(client: httpx.Client, package: Path) -> httpx.Response:
    return client.post("/studies", files={"file": (package.name, package.read_bytes(), "application/zip")})


@dataclass(frozen=True)
class StudyState:
    """A study graph and its log graph as sorted N-Triples lines, and the model graph's size."""

    # the mapping mints no blank nodes, so the lines are deterministic and two states compare exactly

    study: tuple[str, ...]
    log: tuple[str, ...]
    model_triples: int

    @classmethod
    def read(cls, store_path: Path, study: str = STUDY) -> StudyState:
        """Open the directory (RocksDB replays its log: this is the crash recovery), read, close."""
        store = OxigraphStore(store_path)
        try:
            def lines(graph: str) -> tuple[str, ...]:
                return tuple(sorted(store.export(graph, ExportFormat.ntriples).decode().splitlines()))

            return cls(lines(IRIS.graph(study)), lines(IRIS.graph(study) + "/log"), store.triple_count(ONTOLOGY_GRAPH))
        finally:
            store.close()


class Relay:
    """A loopback TCP relay to `target_port`; `cut_after(n)` drops every connection once `n` bytes
    have gone client → server, and refuses new ones until `restore()`.

    Used where restarting the server itself costs too much (Neo4j takes ~50 s to start here): to
    the client the effect is the same as the server going away mid-conversation.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0  # the first `restore` binds a port the OS picks, and every later one binds it again
        self.sent = 0  # bytes relayed client → server since the last restore
        self._limit: int | None = None
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        """Drop what is open, listen afresh on the same port and relay without limit."""
        self.cut()
        with self._lock:
            self.sent, self._limit = 0, None
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut_after(self, limit: int) -> None:
        with self._lock:
            self._limit = limit

    def cut(self) -> None:
        """Close the listener and every relayed connection now."""
        with self._lock:
            conns, self._conns = self._conns, []
            listener, self._listener = self._listener, None
        for s in [*conns, *([listener] if listener else [])]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._conns += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
                if not data:
                    break
                if upstream:
                    with self._lock:
                        self.sent += len(data)
                        over = self._limit is not None and self.sent >= self._limit
                    if over:
                        self.cut()
                        return
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@contextmanager
def tmpfs(mountpoint: Path, size: str = "256m") -> Iterator[Path]:
    """A tmpfs at `mountpoint` (needs root, as the test containers run), unmounted afterwards."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def remount(mountpoint: Path, options: str) -> None:
    """Change a mounted tmpfs: `size=…` to fill or free it, `ro`/`rw` to make it read-only or writable."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(mountpoint)], check=True, capture_output=True)


def used_kib(mountpoint: Path) -> int:
    fs = os.statvfs(mountpoint)
    return fs.f_frsize * (fs.f_blocks - fs.f_bfree) // 1024
