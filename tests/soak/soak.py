"""A bounded soak on loopback: concurrent ingests and ~50 requests/s of mixed named questions.

`python -m tests.soak.soak --minutes 10` (`make soak`); tests/soak/test_soak.py runs `--seconds 60`.
A quiet run against a real uvicorn child gives the baseline counts; then requests and re-uploads of
the same packages run together. Pass: no 5xx, nothing beyond the timeout, every count unchanged.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.faults.harness import (
    INGEST_KEY,
    READ_KEY,
    ROOT,
    ApiProcess,
    child_env,
    keys_file,
    package_zip,
    upload,
)

SEED = ROOT / "data" / "seed-anestis-2025"
SEED_ID = "anestis-2025"
QUERY_TIMEOUT_S = 10.0  # the server's QUALKG_QUERY_TIMEOUT_S, and the client's limit per request


@dataclass(frozen=True)
class SoakConfig:
    seconds: float = 60.0
    rate: float = 50.0
    ingest_workers: int = 2
    packages: int = 3
    excerpts: int = 40
    timeout_s: float = QUERY_TIMEOUT_S
    workers: int = 32  # request threads: enough that a slow answer does not delay the schedule


@dataclass
class SoakReport:
    config: dict[str, Any]
    seconds: float = 0.0
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0  # 5xx, timeouts and transport errors
    timeouts: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    late_starts: int = 0  # requests sent more than 1 s after their slot (the client could not keep up)
    ingests: int = 0
    ingest_failures: list[str] = field(default_factory=list)
    changed_during: list[str] = field(default_factory=list)  # answers that differed from the baseline
    changed_after: list[str] = field(default_factory=list)
    server_errors_logged: int = 0

    @property
    def ok(self) -> bool:
        return not (self.errors or self.ingest_failures or self.changed_during or self.changed_after
                    or self.server_errors_logged)

    def summary(self) -> str:
        return (f"{self.requests} requests in {self.seconds:.0f} s ({self.requests / max(self.seconds, 1):.1f}/s), "
                f"{self.errors} errors ({self.timeouts} timeouts), p50 {self.p50_ms:.0f} ms, p95 {self.p95_ms:.0f} ms, "
                f"p99 {self.p99_ms:.0f} ms, max {self.max_ms:.0f} ms; {self.ingests} ingests "
                f"({len(self.ingest_failures)} failed); counts {'identical' if not self.changed_after else 'CHANGED'} "
                f"after the load; {'PASS' if self.ok else 'FAIL'}")


def counted_paths(studies: list[str]) -> list[str]:
    """The answers whose counts must not move: the study list and every study's overview."""
    return ["/studies", *(f"/studies/{s}" for s in studies)]


def mixed_paths(studies: list[str]) -> list[str]:
    """One round of the request mix: counts, named questions across and within studies."""
    s = studies[1]  # a synthetic study that is re-ingested during the load
    return [
        *counted_paths(studies),
        "/questions/challenges-by-context",
        f"/questions/codebook?study={SEED_ID}",
        f"/questions/participants?study={SEED_ID}&role=peer-practitioner",
        "/questions/matrix?rows=role&columns=theme",
        f"/questions/matrix?rows=role&columns=theme&study={s}",
        f"/questions/cooccurrence?study={SEED_ID}",
        f"/questions/contexts?study={s}",
        "/questions/teams?feature=flattened-hierarchy",
        f"/questions/perspectives?study={SEED_ID}",
        "/questions/context-contrast",
        f"/questions/study-compare?a={SEED_ID}&b={s}",
        f"/questions/excerpts?study={s}&limit=20",
        "/health",
    ]


def seed_zip(folder: Path) -> Path:
    target = folder / f"{SEED_ID}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(p for p in SEED.rglob("*") if p.is_file()):
            zf.write(f, f.relative_to(SEED).as_posix())
    return target


def read_counts(api: ApiProcess, studies: list[str]) -> dict[str, Any]:
    with api.client(READ_KEY, timeout_s=QUERY_TIMEOUT_S) as client:
        answers = {path: client.get(path) for path in counted_paths(studies)}
    return {path: r.json() if r.status_code == 200 else r.status_code for path, r in answers.items()}


def percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))] if sorted_ms else 0.0


class Load:
    """The open-loop request schedule and the ingest loops, recording into one report."""

    def __init__(self, api: ApiProcess, config: SoakConfig, paths: list[str], baseline: dict[str, Any],
                 packages: list[Path], report: SoakReport) -> None:
        self.api, self.config, self.paths, self.baseline = api, config, paths, baseline
        self.packages, self.report = packages, report
        self.latencies: list[float] = []
        self.statuses = Counter[str]()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.deadline = 0.0

    def client(self) -> httpx.Client:
        if not hasattr(self.local, "client"):
            self.local.client = self.api.client(READ_KEY, timeout_s=self.config.timeout_s)
        return self.local.client

    def request(self, path: str, slot: float) -> None:
        started = time.monotonic()
        try:
            r = self.client().get(path)
            outcome = str(r.status_code)
            changed = path in self.baseline and r.status_code == 200 and r.json() != self.baseline[path]
        except httpx.TimeoutException:
            outcome, changed = "timeout", False
        except httpx.HTTPError as e:
            outcome, changed = type(e).__name__, False
        elapsed_ms = (time.monotonic() - started) * 1000
        with self.lock:
            self.statuses[outcome] += 1
            self.latencies.append(elapsed_ms)
            self.report.late_starts += started - slot > 1.0
            if changed:
                self.report.changed_during.append(path)

    def ingest_loop(self, worker: int) -> None:
        with self.api.client(INGEST_KEY, timeout_s=120) as client:
            i = worker
            while time.monotonic() < self.deadline and self.api.process and self.api.process.poll() is None:
                package = self.packages[i % len(self.packages)]
                try:
                    r = upload(client, package)
                    failure = None if r.status_code == 201 else f"{package.name}: {r.status_code} {r.text[:200]}"
                except httpx.HTTPError as e:
                    failure = f"{package.name}: {type(e).__name__}"
                with self.lock:
                    if failure:
                        self.report.ingest_failures.append(failure)
                    else:
                        self.report.ingests += 1
                i += 1

    def run(self) -> None:
        cfg = self.config
        start = time.monotonic()
        self.deadline = start + cfg.seconds
        ingesters = [threading.Thread(target=self.ingest_loop, args=(w,)) for w in range(cfg.ingest_workers)]
        for t in ingesters:
            t.start()
        with ThreadPoolExecutor(cfg.workers, thread_name_prefix="soak") as pool:
            for n in range(int(cfg.rate * cfg.seconds)):
                slot = start + n / cfg.rate
                time.sleep(max(0.0, slot - time.monotonic()))
                if self.api.process and self.api.process.poll() is not None:
                    break  # the server died: stop, the report will say so
                pool.submit(self.request, self.paths[n % len(self.paths)], slot)
        for t in ingesters:
            t.join()
        self.report.seconds = time.monotonic() - start


def run_soak(config: SoakConfig, workdir: Path) -> SoakReport:
    """Run the quiet baseline, the load and the final check against a fresh server in `workdir`."""
    report = SoakReport(config=asdict(config))
    packages = [package_zip(workdir / f"pkg-{i}", config.excerpts, seed=100 + i, study=f"soak-{i}")
                for i in range(1, config.packages + 1)]
    studies = [SEED_ID, *(f"soak-{i}" for i in range(1, config.packages + 1))]
    env = child_env(workdir / "store", api_keys_file=str(keys_file(workdir)), query_timeout_s=str(config.timeout_s))
    api = ApiProcess(workdir, env).start()
    try:
        with api.client(INGEST_KEY) as client:
            for package in [seed_zip(workdir), *packages]:
                r = upload(client, package)
                if r.status_code != 201:
                    raise RuntimeError(f"quiet ingest of {package.name} failed: {r.status_code} {r.text[:500]}")
        baseline = read_counts(api, studies)
        load = Load(api, config, mixed_paths(studies), baseline, packages, report)
        load.run()
        latencies = sorted(load.latencies)
        report.requests = len(latencies)
        report.statuses = dict(sorted(load.statuses.items()))
        report.timeouts = load.statuses["timeout"]
        report.errors = sum(n for s, n in load.statuses.items() if not (s.isdigit() and int(s) < 500))
        report.p50_ms, report.p95_ms, report.p99_ms = (percentile(latencies, q) for q in (0.50, 0.95, 0.99))
        report.max_ms = latencies[-1] if latencies else 0.0
        final = read_counts(api, studies)
        report.changed_after = [path for path in baseline if final[path] != baseline[path]]
    finally:
        api.stop()
    log = api.log.read_text(errors="replace")
    report.server_errors_logged = log.count("Traceback") + log.count("ERROR")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak.soak", description=__doc__.split("\n\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long the load runs (default 10)")
    length.add_argument("--seconds", type=float)
    parser.add_argument("--rate", type=float, default=SoakConfig.rate, help="requests per second")
    parser.add_argument("--ingest-workers", type=int, default=SoakConfig.ingest_workers)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (store, server log)")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes if args.minutes is not None else 10)
    config = SoakConfig(seconds=seconds, rate=args.rate, ingest_workers=args.ingest_workers)
    workdir = Path(tempfile.mkdtemp(prefix="qualkg-soak-"))
    try:
        report = run_soak(config, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
