"""HTTP load on loopback: a server in a child process, and wrk (or a bounded Python client) against it.

`serve_qualkg` serves as `qualkg serve` does, `serve_peer` is rdflib-endpoint over the same N-Quads,
and `load` gives both the same load (docs/decisions/0045-benchmark-harness.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WARM_UP_S = 20
BENCH_KEY = "bench-only-key"  # a throwaway key for the loopback server this module starts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer {url} within {timeout_s} s")


@contextmanager
def serve(cmd: list[str], ready_url: str, env: dict[str, str], log: Path, timeout_s: float = 180,
          pids: list[int] | None = None) -> Iterator[None]:
    """The server `cmd` started and answering `ready_url`; its process id appended to `pids` when given."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        if pids is not None:
            pids.append(proc.pid)
        try:
            _wait_ready(ready_url, proc, timeout_s)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def serve_qualkg(store_dir: Path, work: Path, pids: list[int] | None = None) -> Iterator[str]:
    """`python -m qualkg serve` on a free loopback port, with one key holding the sparql scope (its process id
    appended to `pids` when given)."""
    port = free_port()
    keys = work / "bench-keys.json"
    keys.write_text(json.dumps([{"name": "bench", "key_sha256": hashlib.sha256(BENCH_KEY.encode()).hexdigest(),
                                 "scopes": ["aggregate", "excerpts", "sparql"]}]), encoding="utf-8")
    env = {"QUALKG_STORE_PATH": str(store_dir), "QUALKG_API_KEYS_FILE": str(keys)}
    base = f"http://127.0.0.1:{port}"
    with serve([sys.executable, "-m", "qualkg", "serve", "--host", "127.0.0.1", "--port", str(port)],
               f"{base}/health", env, work / "qualkg-server.log", pids=pids):
        yield base


@contextmanager
def serve_peer(nquads: Path, work: Path) -> Iterator[str]:
    """rdflib-endpoint over the same N-Quads (rdflib's default in-memory store)."""
    port = free_port()
    exe = Path(sys.executable).with_name("rdflib-endpoint")
    base = f"http://127.0.0.1:{port}"
    probe = base + "/?query=" + urllib.parse.quote("ASK { ?s ?p ?o }")
    with serve([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), str(nquads)],
               probe, {}, work / "peer-server.log", timeout_s=900):
        yield base


def seconds_until_warm(base: str, timeout_s: float) -> float | None:
    """Seconds until the server's /health says its answers are warm; None when not within `timeout_s`
    or when the server keeps no answers warm (QUALKG_WARM_ANSWERS=false: nothing to wait for)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        with urllib.request.urlopen(f"{base}/health", timeout=30) as r:
            warm = json.load(r).get("answers_warm")
        if warm is None:
            return None
        if warm:
            return round(time.perf_counter() - start, 2)
        time.sleep(0.2)
    return None


def timed_get(url: str, headers: dict[str, str]) -> dict[str, object]:
    """One GET: its wall time in ms (the whole body read), status and body size."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=600) as r:
            status, size = r.status, len(r.read())
    except urllib.error.HTTPError as e:
        status, size = e.code, len(e.read())
    return {"ms": round((time.perf_counter() - start) * 1000, 2), "status": status, "bytes": size}


def load(url: str, *, seconds: int, connections: int, headers: dict[str, str] | None = None) -> dict[str, float | str]:
    """Requests/s and latency percentiles for repeated GETs of `url`: wrk when installed, else Python
    threads. One untimed request first (given up after WARM_UP_S): the figure is for a repeated
    request, and a first asking (seconds at 10k for the main question) inside a 6-second window
    would be most of its p99."""
    headers = headers or {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=WARM_UP_S) as first:
            first.read()
    except (urllib.error.URLError, TimeoutError):
        pass  # a server too slow for one request is measured as it is
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections, headers)
    return _python_load(url, seconds, connections, headers)


def _found(pattern: str, text: str) -> str:
    """The first group of `pattern` in wrk's output; a line missing from it is a failed run."""
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
    return match.group(1)


def _ms(text: str) -> float:
    """wrk's latency text (e.g. `1.52ms`) in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise RuntimeError(f"wrk printed a latency in no unit it is known to use: {text!r}")
    value, unit = match.groups()
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit], 2)


def _wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, float | str]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(_found(r"(\d+) requests in", out))
    if requests == 0:  # nothing completed: wrk prints zeros, which are not latencies
        pct = {}
    return {"tool": f"wrk -t1 -c{connections} -d{seconds}s",
            "requests": requests,
            "rps": float(_found(r"Requests/sec:\s+([\d.]+)", out)),
            "p50_ms": _ms(pct["50"]) if "50" in pct else float("nan"),
            "p99_ms": _ms(pct["99"]) if "99" in pct else float("nan"),
            "non_2xx": int(errors.group(1)) if errors else 0}


def _python_load(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, float | str]:
    """Fallback: `connections` threads, each a keep-alive loop, for `seconds` (bounded)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    bad = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        mine: list[float] = []
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
                resp.read()
            except OSError:  # timed out or refused: not a completed request
                with lock:
                    bad[0] += 1
                break
            mine.append((time.perf_counter() - t) * 1000)
            if resp.status >= 300:
                bad[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    latencies.sort()

    def pick(q: float) -> float:  # 0 when none completed (the report says so from `requests`)
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else 0.0

    return {"tool": f"python threads c{connections} {seconds}s", "requests": len(latencies),
            "rps": round(len(latencies) / seconds, 1), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "non_2xx": bad[0]}
