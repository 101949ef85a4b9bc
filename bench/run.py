"""`python -m bench run --quick|--full`: every measurement side by side, in one run, then the report.

Each measurement is a worker process (bench/workers.py) with a time cap; the report shows this run's
sizes and, for the others, the last run that measured them (bench/results/<plan>.json). Plans, their
durations and why: docs/decisions/0045-benchmark-harness.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench import corpus, http, report
from bench.workers import MAIN_QUESTION
from qualkg.queries.catalog import load_questions

HTTP_SIZE = 10_000
HTTP_SECONDS, HTTP_CONNECTIONS = 6, 16
QUESTION_PATH = "/questions/challenges-by-context"
CHEAP_PATH = "/questions/participants"
WARM_CAP_S = 1800  # the served step waits this long for the server's warm-up (~45 s at 100k for the slowest question)
RESULTS = Path(__file__).parent / "results"  # raw figures of the last run per plan, for the report


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    sizes: tuple[int, ...]
    qdpx_up_to: int
    baseline_up_to: int
    baseline_cap_s: int
    gate_cap_s: int
    replace_triples: int  # one graph of this many triples is replaced on disk ...
    replace_at: int  # ... taken from the N-Quads of this corpus size
    question_cap_s: int
    all_questions_at: tuple[int, ...]  # sizes where every question is timed; elsewhere only the main question
    engines_sizes: tuple[int, ...]  # Oxigraph, Fuseki and Neo4j side by side (bench/engines.py) at these sizes
    engine_cell_cap_s: int  # per question and engine (engines_cap_s: the whole worker)
    engine_questions: str  # "all" named questions on the three engines, or only the "main" one
    served_sizes: tuple[int, ...]  # every question's first asking from `qualkg serve` after its warm-up
    first_sizes: tuple[int, ...] = ()  # first askings with random parameters, old and new path (bench/firsts.py)
    first_sets: int = 5  # random parameter sets per question on the new path ...
    first_old_sets: int = 1  # ... the first of them also on the old path (SPARQL), each stopped at:
    first_old_cap_s: int = 30
    ingest_cap_s: int = 3 * 3600
    engines_cap_s: int = 3 * 3600


PLANS = {
    # quick (under 10 minutes with set-up, as issue #7 asks): every question only at 10k; the naive
    # baseline only at 1k (at 10k its one query takes minutes: see the full run); the engines at 10k
    # with the Neo4j sync and the main question only (all 14 questions on three engines took 4.7 min).
    "quick": Plan("quick", (1_000, 10_000), qdpx_up_to=10_000, baseline_up_to=1_000, baseline_cap_s=60,
                  gate_cap_s=60, replace_triples=100_000, replace_at=10_000, question_cap_s=45,
                  all_questions_at=(10_000,), engines_sizes=(10_000,), engine_cell_cap_s=30, engine_questions="main",
                  served_sizes=(10_000,), first_sizes=(1_000, 10_000), first_old_sets=2),
    # full: the baseline up to 10k (at 100k rdflib would spend the whole cap loading and on one query),
    # the engines at 10k and 100k (at 1M Fuseki's load and the Neo4j sync alone would take an hour).
    "full": Plan("full", (1_000, 10_000, 100_000, 1_000_000), qdpx_up_to=100_000, baseline_up_to=10_000,
                 baseline_cap_s=600, gate_cap_s=120, replace_triples=500_000, replace_at=100_000,
                 question_cap_s=120, all_questions_at=(1_000, 10_000, 100_000), engines_sizes=(10_000, 100_000),
                 engine_cell_cap_s=30, engine_questions="all", served_sizes=(10_000, 100_000),
                 first_sizes=(10_000, 100_000, 1_000_000)),
}


@dataclass(slots=True)
class Results:
    plan: str
    command: str
    started: str
    machine: dict[str, object]
    versions: dict[str, str]
    sizes: dict[int, list[dict[str, object]]] = field(default_factory=dict)
    http: list[dict[str, object]] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)
    steps: list[dict[str, object]] = field(default_factory=list)  # wall time of every worker, in run order
    finished: str = ""
    load_after: tuple[float, ...] = ()
    seed: int = field(default_factory=lambda: time.time_ns() % 2**31)  # of this run's random parameter sets


def machine() -> dict[str, object]:
    import psutil

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    return {"cores": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "cpu": model,
            "os": platform.platform(), "python": platform.python_version(), "load_before": os.getloadavg()}


def versions() -> dict[str, str]:
    names = ("pyoxigraph", "rdflib", "pyshacl", "pyshacl-turbo", "fastapi", "uvicorn", "rdflib-endpoint", "pandas")
    out = {n: version(n) for n in names}
    wrk = shutil.which("wrk")
    banner = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout if wrk else ""
    out["wrk"] = banner.split("\n")[0].strip() if wrk else "absent"
    return out


def _step(results: Results, label: str, started: float) -> None:
    """Record a step's wall time (the report's "where the bench's own time goes")."""
    results.steps.append({"step": label, "seconds": round(time.perf_counter() - started, 1)})


def worker(results: Results, label: str, args: list[str], cap_s: int) -> list[dict[str, object]]:
    """Run one worker; its JSON lines, and a 'capped' note when it ran past `cap_s`."""
    cmd = [sys.executable, "-m", "bench", "worker", *args]
    print(f"[bench] {label}: {' '.join(args[:1])} (cap {cap_s} s)", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=cap_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        results.capped.append(f"{label}: stopped at the {cap_s} s cap")
    _step(results, label, start)
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for line in lines:
        print(f"[bench]   {line}", flush=True)
    if proc.returncode not in (0, -9) and not lines:
        results.capped.append(f"{label}: worker failed with exit code {proc.returncode}")
    return lines


def measure_size(results: Results, plan: Plan, n: int, work: Path) -> None:
    here = work / f"n{n}"
    here.mkdir()
    t = time.perf_counter()
    c = corpus.generate(n)
    packages = here / "packages"
    corpus.write_packages(c, packages)
    rows: list[dict[str, object]] = [{"kind": "corpus", "studies": len(c.studies),
                                      "seconds": round(time.perf_counter() - t, 2)}]
    _step(results, f"{n}: corpus", t)
    nq, store = here / "data.nq", here / "store"
    rows += worker(results, f"{n}: qualkg ingest", ["ingest", str(packages), str(store), str(nq)], plan.ingest_cap_s)
    if nq.exists():
        for qid in sorted(load_questions()) if n in plan.all_questions_at else [MAIN_QUESTION]:
            rows += worker(results, f"{n}: question {qid}", ["question", str(store), qid, str(here)],
                           plan.question_cap_s)
    if nq.exists() and n in plan.first_sizes:
        args = ["firsts", str(store), str(here / "firsts"), str(n), str(results.seed), str(plan.first_sets),
                str(plan.first_old_sets), str(plan.first_old_cap_s)]
        rows += worker(results, f"{n}: first askings, old and new path", args, plan.engines_cap_s)
    if nq.exists() and n in plan.engines_sizes:
        args = ["engines", str(nq), str(store), str(here / "engines"), str(plan.engine_cell_cap_s),
                plan.engine_questions]
        rows += worker(results, f"{n}: engines", args, plan.engines_cap_s)
    if nq.exists():
        rows += worker(results, f"{n}: limit (pyoxigraph bulk load)", ["limit", str(nq), str(here / "limit")], 3600)
        if n <= plan.baseline_up_to:
            rows += worker(results, f"{n}: naive baseline", ["baseline", str(nq), str(here / "main-question.rq")],
                           plan.baseline_cap_s)
    if n == plan.sizes[0]:
        rows += worker(results, f"{n}: SHACL gate engines", ["gate", str(packages)], plan.gate_cap_s)
    if n <= plan.qdpx_up_to:
        corpus.write_qdpxs(c, here / "qdpx")
        rows += worker(results, f"{n}: qualkg ingest (QDPX)", ["qdpx", str(here / "qdpx"), str(here / "store-qdpx")],
                       plan.ingest_cap_s)
        shutil.rmtree(here / "store-qdpx", ignore_errors=True)
    if n in plan.served_sizes and nq.exists():
        t = time.perf_counter()
        rows += measure_served(store, here, n, results.seed, plan.first_sets)
        _step(results, f"{n}: first askings as served", t)
    if n == HTTP_SIZE and nq.exists():
        t = time.perf_counter()
        measure_http(results, store, nq, here)
        _step(results, f"{n}: HTTP", t)
    if nq.exists() and n == plan.replace_at:
        rows += worker(results, f"{n}: replace one big graph", ["replace", str(nq), str(here / "replace"),
                                                                 str(plan.replace_triples)], 3600)
    results.sizes[n] = rows
    shutil.rmtree(here, ignore_errors=True)


def measure_served(store: Path, here: Path, n: int, seed: int, sets: int) -> list[dict[str, object]]:
    """`qualkg serve` as a user starts it: how long it takes to load and to warm every question's default
    answer, each question's first asking over HTTP (JSON, no parameters), then `sets` first askings per
    question with parameter sets drawn at random (never its defaults, never asked before), and the
    server's resident memory after them."""
    import psutil

    from bench.firsts import corpus_values
    from bench.params import Draws
    from qualkg.queries.catalog import default_catalog

    print("[bench] first askings as served", flush=True)
    started = time.perf_counter()
    pids: list[int] = []
    draws = Draws(default_catalog(), corpus_values(corpus.generate(n)), seed + 1)
    with http.serve_qualkg(store, here, pids) as base:
        rows: list[dict[str, object]] = [{"kind": "served-start", "ready_s": round(time.perf_counter() - started, 2),
                                          "warm_s": http.seconds_until_warm(base, WARM_CAP_S)}]
        questions = sorted(load_questions().values(), key=lambda q: q.id)
        for question in questions:
            if not question.needs_a_value:
                rows.append({"kind": "served", "question": question.id,
                             **http.timed_get(f"{base}/questions/{question.id}", {"Accept": "application/json"})})
        for question in questions:
            for i in range(sets):
                params = draws.draw(question.id)
                if params is None:  # no parameter to draw (studies): its one answer is the default one
                    break
                url = f"{base}/questions/{question.id}?{urllib.parse.urlencode(params)}"
                rows.append({"kind": "served-new", "question": question.id, "set": i, "params": params,
                             **http.timed_get(url, {"Accept": "application/json"})})
        rows.append({"kind": "served-rss", "rss_mb": round(psutil.Process(pids[0]).memory_info().rss / 2**20, 1)})
    for row in rows:
        print(f"[bench]   {row}", flush=True)
    return rows


def measure_http(results: Results, store: Path, nq: Path, here: Path) -> None:
    query = (here / "main-question.rq").read_text(encoding="utf-8")
    q = "?query=" + urllib.parse.quote(query)
    auth = {"Authorization": f"Bearer {http.BENCH_KEY}"}
    print("[bench] HTTP: qualkg", flush=True)
    with http.serve_qualkg(store, here) as base:
        http.seconds_until_warm(base, WARM_CAP_S)  # the warm-up would otherwise share the CPUs with the load
        for target, path, headers in (("qualkg GET /questions/challenges-by-context", QUESTION_PATH, {}),
                                      ("qualkg GET /sparql (same query)", f"/sparql{q}", auth),
                                      ("qualkg GET /questions/participants (a cheap question)", CHEAP_PATH, {}),
                                      ("qualkg GET /health (server floor)", "/health", {})):
            row = http.load(base + path, seconds=HTTP_SECONDS, connections=HTTP_CONNECTIONS,
                            headers={"Accept": "application/json", **headers})
            results.http.append({"target": target, **row})
            print(f"[bench]   {results.http[-1]}", flush=True)
    print("[bench] HTTP: peer (rdflib-endpoint)", flush=True)
    with http.serve_peer(nq, here) as base:
        row = http.load(f"{base}/{q}", seconds=HTTP_SECONDS, connections=HTTP_CONNECTIONS,
                        headers={"Accept": "application/sparql-results+json"})
        results.http.append({"target": "rdflib-endpoint GET / (same query)", **row})
        print(f"[bench]   {results.http[-1]}", flush=True)


def run(plan_name: str, out: Path, only: tuple[int, ...] = ()) -> Results:
    """Every size of the plan, or `only` those of its sizes (a re-measurement of one size without the
    hours of the others: kept in its own results file, so the plan's last complete run still fills
    the sizes it did not measure)."""
    plan = PLANS[plan_name]
    sizes, name, command = selection(plan, only)
    results = Results(plan=name, command=command, started=datetime.now(UTC).isoformat(timespec="seconds"),
                      machine=machine(), versions=versions())
    with tempfile.TemporaryDirectory(prefix="qualkg-bench-") as tmp:
        for n in sizes:
            measure_size(results, plan, n, Path(tmp))
    results.finished = datetime.now(UTC).isoformat(timespec="seconds")
    results.load_after = os.getloadavg()
    data = results_dict(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    report.write(report.combine(data, *previous_runs(exclude=name)), out)
    return results


def selection(plan: Plan, only: tuple[int, ...]) -> tuple[tuple[int, ...], str, str]:
    """The sizes to measure, the results file's name and the command that reproduces the run."""
    sizes = tuple(n for n in plan.sizes if not only or n in only)
    if not sizes or len(sizes) != len(set(only or sizes)):
        raise SystemExit(f"--sizes must be among the {plan.name} plan's sizes: {', '.join(map(str, plan.sizes))}")
    if sizes == plan.sizes:
        target = "bench" if plan.name == "quick" else "bench-full"
        return sizes, plan.name, f"make {target}  (= python -m bench run --{plan.name})"
    listed = " ".join(map(str, sizes))
    return sizes, f"{plan.name}-{'-'.join(map(str, sizes))}", f"python -m bench run --{plan.name} --sizes {listed}"


def previous_runs(exclude: str) -> list[dict[str, object]]:
    """The last figures of the other plans, newest first, to fill the sizes this run did not measure."""
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob("*.json")) if p.stem != exclude]
    return sorted(runs, key=lambda r: str(r["started"]), reverse=True)


def results_dict(r: Results) -> dict[str, object]:
    return {"plan": r.plan, "command": r.command, "started": r.started, "finished": r.finished,
            "machine": r.machine, "load_after": r.load_after, "versions": r.versions,
            "sizes": {str(k): v for k, v in r.sizes.items()}, "http": r.http, "capped": r.capped, "steps": r.steps,
            "seed": r.seed}
