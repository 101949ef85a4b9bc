"""docs/benchmarks.md and docs/bench-growth.png from one run's figures (bench/results/<plan>.json).

Generated, never edited by hand: every table carries the command that produced it, and the
targets table says met / not met from the figures themselves.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.workers import GATE_FLOOR
from bench.workers import MAIN_QUESTION as MAIN

if TYPE_CHECKING:
    from matplotlib.axes import Axes

TARGET_RATE, TARGET_P50_MS, TARGET_RAW_RATIO = 5_000, 20.0, 1.5
TARGET_RPS, TARGET_P99_MS = 1_000, 100.0
TARGET_1M_S, TARGET_1M_RSS_MB, TARGET_1M_P50_MS = 300, 6 * 1024, 200.0
TARGET_SYNC_RATE = 20_000
ENGINE_COLUMNS = (("oxigraph", "Oxigraph (embedded, in-memory reads as `serve` uses)"), ("fuseki", "Fuseki"),
                  ("neo4j", "Neo4j"))
FIRST_SYNC = "first sync (empty database)"
READ_ONLY = "reading rows (store only)"

Row = dict[str, Any]


def _one(rows: list[Row], kind: str, **match: object) -> Row | None:
    return next((r for r in rows if r["kind"] == kind and all(r.get(k) == v for k, v in match.items())), None)


def _fmt(x: object, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if not a or not b else f"{a / b:.2f}×"


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _capped(data: Row, label: str) -> str | None:
    return next((c for c in data["capped"] if c.startswith(label)), None)


def _row_key(row: Row) -> tuple[object, ...]:
    """What a row measures (its kind and the question, step, engine or method it is about)."""
    return tuple(row.get(k) for k in ("kind", "question", "step", "engine", "method", "attempt"))


def combine(current: Row, *others: Row) -> Row:
    """`current` with what it did not measure filled from `others` (newest first), row by row.

    A size's rows come from the newest run that measured them and `runs` says which run gave what;
    capped notes stay unless a newer run measured that step; HTTP comes from the newest run with it.
    """
    sizes: dict[str, list[Row]] = {}
    capped: list[str] = []
    runs: list[Row] = []
    measured: set[str] = set()  # step labels of the newer runs
    for run in (current, *others):
        whole: list[int] = []
        filled: list[int] = []
        for n, rows in run["sizes"].items():
            known = {_row_key(r) for r in sizes.get(n, [])}
            new = [r for r in rows if _row_key(r) not in known]
            if new:
                (filled if n in sizes else whole).append(int(n))
                sizes[n] = sizes.get(n, []) + new
        if whole or filled:
            runs.append({**{k: run[k] for k in ("plan", "command", "started", "finished", "machine", "load_after")},
                         "sizes": sorted(whole), "filled": sorted(filled), "steps": run.get("steps", [])})
        capped += [c for c in run["capped"] if c.rsplit(": ", 1)[0] not in measured]
        measured |= {str(step["step"]) for step in run.get("steps", [])}
    http: list[Row] = next((r["http"] for r in (current, *others) if r["http"]), [])
    return {**current, "sizes": dict(sorted(sizes.items(), key=lambda kv: int(kv[0]))), "capped": capped,
            "runs": runs, "http": http}


def write(data: Row, out: Path) -> None:
    """`data` is a run's figures, or several runs put together by `combine`."""
    sizes = {int(k): v for k, v in data["sizes"].items()}
    plot(sizes, out / "bench-growth.png")
    (out / "benchmarks.md").write_text(markdown(data, sizes), encoding="utf-8")


def _runs(data: Row) -> list[Row]:
    """The runs whose figures are shown (one, unless put together by `combine`)."""
    return data.get("runs") or [{**data, "sizes": sorted(int(k) for k in data["sizes"])}]


def run_lines(data: Row) -> str:
    lines = []
    for r in _runs(data):
        m = r["machine"]
        took = (datetime.fromisoformat(r["finished"]) - datetime.fromisoformat(r["started"])).total_seconds()
        gave = [("sizes " + ", ".join(f"{n:,}" for n in r["sizes"])) if r["sizes"] else "",
                ("what the newer run did not measure at " + ", ".join(f"{n:,}" for n in r.get("filled", [])))
                if r.get("filled") else ""]
        lines += [f"- `{r['command']}`, {r['started']} → {r['finished']} UTC ({took / 60:.0f} min): "
                  + "; ".join(g for g in gave if g) + f"; raw figures `bench/results/{r['plan']}.json`",
                  f"  - machine: {m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}; {m['os']}; Python {m['python']}",
                  (f"  - load average before / after: {', '.join(f'{x:.1f}' for x in m['load_before'])} / "
                   f"{', '.join(f'{x:.1f}' for x in r['load_after'])}")]
    return "\n".join(lines)


def steps_table(data: Row) -> str:
    """Where each run's wall time went, step by step (the slowest first)."""
    parts = []
    for r in _runs(data):
        steps = sorted(r.get("steps", []), key=lambda s: -s["seconds"])
        if steps:
            parts.append(f"`{r['command']}` ({sum(s['seconds'] for s in steps) / 60:.1f} min in these steps):\n\n"
                         + _table(["step", "seconds"], [[s["step"], s["seconds"]] for s in steps]))
    return "\n\n".join(parts) or "(not recorded)"


def markdown(data: Row, sizes: dict[int, list[Row]]) -> str:
    v = data["versions"]
    parts = [
        "# Benchmarks",
        "",
        ("Generated by `make bench` (1k and 10k excerpts) and `make bench-full` (up to 1M) — do not edit; rerun "
         "the command. Each size's figures come from the last run that measured it. "
         "Corpus: `bench/corpus.py` (seeded, synthetic; ~5,000 excerpts per study, 325-concept codebook, 1–3 codes "
         "per excerpt, quote-length excerpts)."),
        "",
        run_lines(data),
        "",
        ("A load average above the core count means other processes shared the CPUs and every wall-clock figure of "
         "that run is inflated by them."),
        "",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "## Targets",
        "",
        targets(data, sizes),
        "",
        "### What limits the missed targets (from this run's figures)",
        "",
        limits(data, sizes),
        "",
        "## Ingest: validated excerpts per second",
        "",
        ("qualkg = `qualkg.ingest.pipeline.ingest` per study package (read → map → SHACL gate → one store "
         "transaction), into an on-disk Oxigraph store. Limit = `pyoxigraph.Store.bulk_load` of the N-Quads qualkg "
         "wrote (no reading, mapping or validation). Baseline = rdflib `Dataset.parse` of the same N-Quads, then "
         "pySHACL over the whole graph."),
        "",
        ingest_table(data, sizes),
        "",
        "Where the time of one study goes (phases re-run on the first study; same functions the pipeline calls):",
        "",
        phases_table(sizes),
        "",
        profile_table(sizes),
        "",
        "## The SHACL gate: pyshacl-turbo against the pySHACL reference",
        "",
        ("Same shapes, same data (study graph + ontology + vocabularies), no inference; "
         "`tests/validate/test_engine_parity.py` requires identical results from both on every shape fixture."),
        "",
        gate_table(data, sizes),
        "",
        "## Named questions: latency per size (default parameters)",
        "",
        ("qualkg = `Catalog.run` (parameter checks, binding, DataFrame) on the on-disk store (opened read-only, as a "
         "second process would open it; `qualkg serve` answers from an in-memory copy instead: the Oxigraph column "
         "of the engines table below). Raw = the same bound query text on the same pyoxigraph store, results only "
         "iterated, its runs interleaved with qualkg's. Paged questions are timed for their first page of 50. "
         "Repeated = `Catalog.run` through the answer cache the server uses (`store/cached.py`), after one asking "
         "filled it: what a repeat of the question costs until the next write. The scan floor row is the raw time of "
         "the cheapest query that reads every excerpt once (`bench.workers.SCAN_FLOOR`)."),
        "",
        questions_table(data, sizes),
        "",
        ("First askings as served: `python -m qualkg serve` on the ingest worker's store, started as a user starts "
         "it (reads from an in-memory copy; every named question's default answer kept warm: evaluated in the "
         "background at start and after every write, `api/answer_cache.py` `keep_warm`). *ready* = the server "
         "answers `/health`; *warm* = its default answers are all evaluated, counted from *ready*. Then each "
         "question once over HTTP (JSON, no parameters), in catalog order: the time a first caller waits for it, "
         "body read. "
         "A question asked with other parameters is evaluated on the spot: the latency table above and the engines "
         "table below (Oxigraph column) give that cost."),
        "",
        served_table(sizes),
        "",
        "## First askings with new parameters: the old path and the new (issue 20)",
        "",
        ("Parameter sets drawn at random in each run from the corpus's own values (`bench/params.py`, seeded by "
         "the run: never a question's defaults, never asked before in the run), so no answer was evaluated or "
         "kept before it is asked. *new* = what `serve` answers with since issue 20: the question's SQL twin "
         "on the columnar projection (`queries/sql/`, decision 0132) when it has one, else its SPARQL; timed "
         "in-process (`bench/firsts.py`, the store opened as `serve` opens it) and *served* over HTTP from "
         "`qualkg serve` (JSON, disclosure control, body read). *old* = the SPARQL on the in-memory store for "
         "the first of the same sets, in a forked child stopped at its cap. The baseline and the raw engines "
         "for the same questions: the tables above and the engines table below."),
        "",
        firsts_table(sizes),
        "",
        "### Keeping the projection current",
        "",
        ("The columnar projection (`<store>.duckdb`, decisions 0130–0131) is refreshed by the write that changes "
         "the graph: `ColumnarStore` wraps the store, and every `replace_graph(s)` and `drop_graph` (ingest, "
         "uploads, study deletes) re-extracts exactly the graphs written, in one DuckDB transaction, after the "
         "store committed them. From the start of the write until that commit, and while a refresh that failed "
         "leaves a graph stale, questions are answered by SPARQL: no answer comes from a projection older than "
         "the graph. `qualkg reindex` rebuilds it; opening it brings it up to the store (graphs missing, stale "
         "or gone)."),
        "",
        ("- **A remote SPARQL store (Fuseki).** The extracts are plain SPARQL over one named graph, so they run "
         "on any store through the protocol: writes made through qualkg are refreshed the same way (wrap the "
         "`ProtocolStore` in `ColumnarStore`). Fuseki can also be written by others, so a write hook is not "
         "enough there: each projected graph keeps the marker it was built from (its ingest log's "
         "`prov:startedAtTime`, or the graph's triple count), and one probe query for every graph's marker, "
         "before a question or every few seconds, finds the graphs that changed; only those are refreshed, "
         "and until then questions are answered by SPARQL on Fuseki. Not wired yet: with `QUALKG_STORE=sparql` "
         "every question is answered by SPARQL."),
        ("- **Several server processes, one projection.** DuckDB lets one process open a file read-write or "
         "many open it read-only. The writing process (the one that ingests) owns `<store>.duckdb`; after each "
         "committed refresh it checkpoints and publishes a copy named by the store's generation "
         "(`<store>.duckdb.<generation>`, then an atomic rename of a pointer file to it). Serving processes open "
         "the copy the pointer names read-only (`Projection(path, spec, read_only=True)`), look at the pointer "
         "(one `stat`) before each question and reopen when it moved; they answer from SQL only for the "
         "generation their store reports, so a reader never mixes a new graph with an old projection. With "
         "the embedded Oxigraph only one process can open the store, so serving processes beyond one need the "
         "store on a server (Fuseki) as well."),
        "",
        "Main question on the naive baseline (rdflib SPARQL over the in-memory dataset):",
        "",
        baseline_query_table(data, sizes),
        "",
        "## HTTP at 10k excerpts (loopback)",
        "",
        ("qualkg served as `python -m qualkg serve` (one uvicorn process owning the store); the peer is "
         "rdflib-endpoint serving the same N-Quads; both get the same load tool and the same query."),
        "",
        http_table(data),
        "",
        "## Engines: Oxigraph, Fuseki and Neo4j on the same data",
        "",
        ("`bench/engines.py`, one worker per size: the ingest worker's Oxigraph store opened with in-memory reads "
         "(as `qualkg serve` opens it); Fuseki (TDB2, default graph = union of the named graphs) loaded with the "
         "N-Quads exported from that store; Neo4j synced from that store by `qualkg.projection.neo4j.sync` "
         "(`qualkg sync neo4j`). Both servers: full JIT, default collector, 2 GB heap."),
        "",
        engine_versions(sizes),
        "",
        ("Neo4j sync, after one untimed warm-up sync of everything (the server's JIT warmed), with the database "
         "emptied and its constraints dropped again: the first sync writes every graph into an empty database "
         "(creating the constraints), the re-sync replaces one study. \"reading rows\" is the store side alone "
         "(`node_labels` + `read_graph` for every graph, no Neo4j): a lower bound for the sync."),
        "",
        sync_table(data, sizes),
        "",
        ("Every named question at its defaults, on each engine: `Catalog.run` on Oxigraph and on Fuseki "
         "(`qualkg.store.sparql.ProtocolStore`), `CypherCatalog.run` (the question's Cypher twin) on Neo4j. p50 in ms "
         "after two warm-up runs, with `bench.workers.timings` (the question worker's repeats and budget); paged "
         "questions are timed for their first page of 50. A cell that ran past the per-question cap is shown "
         "as capped. *rows* differ between engines only where an engine's answer differs."),
        "",
        engines_table(data, sizes),
        "",
        "## Replacing one large graph on disk",
        "",
        replace_table(sizes),
        "",
        "![cost against corpus size](bench-growth.png)",
        "",
        "## Capped or failed measurements",
        "",
        "\n".join(f"- {c}" for c in data["capped"]) or "- none",
        "",
        "## Where the bench's own time goes",
        "",
        steps_table(data),
        "",
    ]
    return "\n".join(parts)


def _questions(rows: list[Row]) -> list[Row]:
    """One row per question: the worker emits a row per figure measured, each repeating the ones
    before, so the last row of a question holds everything it measured."""
    last = {r["question"]: r for r in rows if r["kind"] == "question"}
    return list(last.values())


def _main_question(rows: list[Row]) -> Row | None:
    return next((r for r in _questions(rows) if r["question"] == MAIN), None)


def _p50(row: Row | None, figure: str) -> float | None:
    return (row or {}).get(figure, {}).get("p50_ms")


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "NOT met")


def _field(row: Row | None, key: str) -> Any:
    """`row[key]`, or None when there is no row."""
    return None if row is None else row.get(key)


def targets(data: Row, sizes: dict[int, list[Row]]) -> str:
    at_100k = sizes.get(100_000, [])
    rows = [_ingest_target(at_100k), _served_target(at_100k), _raw_target(at_100k), _http_target(data),
            _one_million_target(data, sizes.get(1_000_000, [])), sync_target(sizes), *firsts_targets(sizes)]
    big = max(sizes) if sizes else 0
    note = "" if big >= 100_000 else (f"\n\nThis run went up to {big:,} excerpts; the 100k and 1M targets are "
                                       "measured by `make bench-full`.")
    return _table(["target (2-core machine)", "measured", "verdict"], rows) + note


def _ingest_target(at_100k: list[Row]) -> list[object]:
    ing = _one(at_100k, "ingest")
    return ["≥ 5,000 validated excerpts/s at 100k", _fmt(_field(ing, "excerpts_per_s")),
            _verdict(None if ing is None else ing["excerpts_per_s"] >= TARGET_RATE)]


def _served_target(at_100k: list[Row]) -> list[object]:
    """The main question at 100k: as served (answers kept warm) and as computed for other parameters."""
    q = _main_question(at_100k)
    in_memory = (_one(at_100k, "engines", question=MAIN) or {}).get("oxigraph", {}).get("p50_ms")
    served, warm = _one(at_100k, "served", question=MAIN), _one(at_100k, "served-start")
    computed = f"on disk {_fmt(q['qualkg']['p50_ms'])} ms, in memory {_fmt(in_memory)} ms" if q else "—"
    measured = f"computed (a parameter set not kept warm): {computed}"
    if served is None:
        return ["main question p50 ≤ 20 ms at 100k", measured, _verdict(None)]
    if warm is not None:
        measured = (f"first asking as served (default parameters, answers kept warm): {_fmt(served['ms'])} ms, "
                    f"warm {_fmt(warm['warm_s'])} s after the server answered; " + measured)
    slow = q is None or q["qualkg"]["p50_ms"] > TARGET_P50_MS
    verdict = _verdict(served["status"] == 200 and served["ms"] <= TARGET_P50_MS)
    return ["main question p50 ≤ 20 ms at 100k", measured, verdict + (" as served; NOT met computed" if slow else "")]


def _raw_target(at_100k: list[Row]) -> list[object]:
    q = _main_question(at_100k)
    qualkg, raw = _p50(q, "qualkg"), _p50(q, "raw")
    return ["main question within 1.5× of raw Oxigraph at 100k", _ratio(qualkg, raw),
            _verdict(None if qualkg is None or not raw else qualkg <= TARGET_RAW_RATIO * raw)]


def _http_target(data: Row) -> list[object]:
    h = next((x for x in data["http"] if x["target"].startswith("qualkg GET /questions")), None)
    if h is None:
        return ["≥ 1,000 req/s, p99 < 100 ms at 10k (repeated question)", "—", _verdict(None)]
    measured = (f"{h['rps']:,.0f} req/s, p99 {h['p99_ms']} ms" if h["requests"]
                else f"no request completed in {h['tool'].rsplit('-d', 1)[-1]}")
    return ["≥ 1,000 req/s, p99 < 100 ms at 10k (repeated question)", measured,
            _verdict(h["rps"] >= TARGET_RPS and h["p99_ms"] < TARGET_P99_MS)]


def _one_million_target(data: Row, one_m: list[Row]) -> list[object]:
    name = "1M ingested < 5 min, peak RSS < 6 GB, main question p50 < 200 ms"
    ing, q = _one(one_m, "ingest"), _main_question(one_m)
    if ing is None:
        return [name, "—", _verdict(None)]
    p50 = _p50(q, "qualkg")
    question = f"p50 {_fmt(p50)} ms" if p50 is not None else \
        (_capped(data, f"1000000: question {MAIN}") or "p50 —").split(": ", 2)[-1]
    ok = (ing["seconds"] < TARGET_1M_S and ing["peak_rss_mb"] < TARGET_1M_RSS_MB
          and p50 is not None and p50 < TARGET_1M_P50_MS)
    return [name, f"{ing['seconds']:,.0f} s, {ing['peak_rss_mb']:,.0f} MB, {question}", _verdict(ok)]


def sync_target(sizes: dict[int, list[Row]]) -> list[object]:
    """The Neo4j sync target at the largest size measured: met when both the first sync and the
    re-sync of one study reach the rate."""
    n = max((k for k, rs in sizes.items() if _one(rs, "neo4j-sync", step=FIRST_SYNC)), default=None)
    if n is None:
        return ["Neo4j sync ≥ 20,000 nodes+relationships/s", "—", "not measured"]
    steps = [r for r in sizes[n] if r["kind"] == "neo4j-sync" and r["step"] != READ_ONLY]
    shown = ", ".join(f"{r['step'].split(' (')[0]} {r['per_s']:,.0f}/s" for r in steps)
    return [f"Neo4j sync ≥ 20,000 nodes+relationships/s (at {n:,})", shown,
            "met" if all(r["per_s"] >= TARGET_SYNC_RATE for r in steps) else "NOT met"]


def limits(data: Row, sizes: dict[int, list[Row]]) -> str:
    """One line per bottleneck, each computed from the figures below (phases, profile, raw ratios)."""
    mains = {k: q for k, rs in sizes.items() if (q := _main_question(rs))}
    lines = [_ingest_limit(sizes), _questions_limit(sizes, mains), _sync_limit(sizes), _http_limit(data, mains)]
    out = [line for line in lines if line] + growth_lines(sizes)
    return "\n".join(out) or "- every measured target is met"


def _ingest_limit(sizes: dict[int, list[Row]]) -> str:
    n = max((k for k, rs in sizes.items() if _one(rs, "phases")), default=None)
    ph = None if n is None else _one(sizes[n], "phases")
    if n is None or ph is None:
        return ""
    names = [k for k in ph if k not in ("kind", "excerpts", "peak_rss_mb")]
    total = sum(ph[k] for k in names)
    shares = ", ".join(f"{k} {ph[k] / total:.0%}" for k in sorted(names, key=lambda k: -ph[k]))
    return (f"- **Ingest** (one study of {ph['excerpts']:,} excerpts, corpus {n:,}): {shares} of "
            f"{total:.1f} s, i.e. {ph['excerpts'] / total:,.0f} excerpts/s before any other cost. "
            "The profile table names the functions." + gate_floor_line(sizes))


def _questions_limit(sizes: dict[int, list[Row]], mains: dict[int, Row]) -> str:
    if not mains:
        return ""
    k = max(mains)
    v = mains[k]
    floor = _one(sizes[k], "scan-floor")
    where = ("the time is the query's evaluation in the engine, not qualkg's binding or DataFrame."
             if (_p50(v, "raw") or 0) * TARGET_RAW_RATIO >= v["qualkg"]["p50_ms"] else
             "qualkg's own work (binding, building the DataFrame) is above 1.5× here; the profile of "
             "`Catalog.run` is the place to look.")
    scan = "" if not floor else (
        f" The cheapest query that reads every excerpt once (the scan floor row) takes "
        f"{floor['raw']['p50_ms']:,.0f} ms at this size: a question that looks at every excerpt "
        "cannot be faster in this engine: a first asking under 20 ms at 100k is possible only for answers "
        "evaluated before they are asked (the served table: default answers kept warm).")
    return (f"- **Questions**: at {k:,} excerpts the main question's raw Oxigraph time is "
            f"{_fmt(_p50(v, 'raw'), 0)} ms and qualkg's {v['qualkg']['p50_ms']:,.0f} ms "
            f"({_ratio(_p50(v, 'qualkg'), _p50(v, 'raw'))}): " + where + scan
            + f" A repeated question is answered from the answer cache in {_fmt(_p50(v, 'cached'), 3)} ms.")


def _sync_limit(sizes: dict[int, list[Row]]) -> str:
    n = max((k for k, rs in sizes.items() if _one(rs, "neo4j-sync", step=FIRST_SYNC)), default=None)
    if n is None:
        return ""
    first, read = _one(sizes[n], "neo4j-sync", step=FIRST_SYNC), _one(sizes[n], "neo4j-sync", step=READ_ONLY)
    if first is None or read is None or first["per_s"] >= TARGET_SYNC_RATE:
        return ""
    return (f"- **Neo4j sync** ({n:,} excerpts): {first['per_s']:,.0f} nodes+relationships/s; reading the "
            f"rows from the store alone takes {read['seconds']:,.1f} s of the {first['seconds']:,.1f} s "
            f"({read['per_s']:,.0f}/s), the rest is Neo4j writing (the next graph is read while one is written).")


def _http_limit(data: Row, mains: dict[int, Row]) -> str:
    h = next((x for x in data["http"] if x["target"].startswith("qualkg GET /questions")), None)
    if h is None or 10_000 not in mains:
        return ""
    p50 = _p50(mains[10_000], "raw") or mains[10_000]["qualkg"]["p50_ms"]
    health = next((x for x in data["http"] if "/health" in x["target"]), None)
    return (f"- **HTTP**: the repeated question is answered from the answer cache (its first evaluation took "
            f"{p50:,.0f} ms in the engine at 10k), so what remains is HTTP work in one Python process: "
            f"{h['rps']:,.0f} req/s ({_fmt(_field(health, 'rps'))} req/s for `/health`, which reads the "
            "store's graph list on every call), with the load tool on the same 2 cores.")


def growth_lines(sizes: dict[int, list[Row]]) -> list[str]:
    """How ingest and the main question grow from the smallest to the largest size measured: a rate
    that stays flat means the cost is per study (no growth to fix), a falling one means growth."""
    ingests = {n: r for n, rs in sizes.items() if (r := _one(rs, "ingest"))}
    out = []
    if len(ingests) > 1:
        lo, hi = min(ingests), max(ingests)
        a, b = ingests[lo], ingests[hi]
        out.append(f"- **Ingest growth**: {a['excerpts_per_s']:,.0f} excerpts/s at {lo:,}, "
                   f"{b['excerpts_per_s']:,.0f}/s at {hi:,} ({b['seconds']:,.0f} s, "
                   f"peak RSS {b['peak_rss_mb']:,.0f} MB): "
                   + ("the rate holds, so the time is per study (gate and write above), not growth with the store."
                      if b["excerpts_per_s"] >= 0.8 * a["excerpts_per_s"] else
                      "the rate falls as the store grows: the write slows with the store's size."))
    mains = {n: q for n, rs in sizes.items() if (q := _main_question(rs))}
    if len(mains) > 1:
        lo, hi = min(mains), max(mains)
        ratio = mains[hi]["qualkg"]["p50_ms"] / max(mains[lo]["qualkg"]["p50_ms"], 1e-9)
        floors = {n: f for n, rs in sizes.items() if (f := _one(rs, "scan-floor"))}
        floor = floors.get(hi)
        out.append(f"- **Main question growth**: {_fmt(mains[lo]['qualkg']['p50_ms'])} ms at {lo:,}, "
                   f"{_fmt(mains[hi]['qualkg']['p50_ms'])} ms at {hi:,} ({ratio:,.0f}× for {hi // lo:,}× the excerpts)"
                   + ("" if not floor else f"; the scan floor at {hi:,} is {_fmt(floor['raw']['p50_ms'])} ms") + ".")
    return out


def gate_floor_line(sizes: dict[int, list[Row]]) -> str:
    """The SHACL engine's own floor, from the gate table's no-shapes row."""
    floor = next((g for rs in sizes.values() if (g := _one(rs, "gate", engine=GATE_FLOOR))), None)
    if not floor:
        return ""
    rate = floor["excerpts"] / floor["seconds"]
    return (f" pyshacl-turbo with no shapes at all takes {floor['seconds']:.2f} s on a study of {floor['excerpts']:,} "
            f"excerpts ({floor['triples']:,} triples: parsing and indexing them), so no gate on this engine exceeds "
            f"{rate:,.0f} excerpts/s, before mapping or writing.")


def ingest_table(data: Row, sizes: dict[int, list[Row]]) -> str:
    rows = []
    for n, rs in sorted(sizes.items()):
        ing, lim = _one(rs, "ingest"), _one(rs, "limit-load")
        bl, bv, qd = _one(rs, "baseline-load"), _one(rs, "baseline-validate"), _one(rs, "ingest-qdpx")
        capped = _capped(data, f"{n}: naive baseline")
        b_validate = bv["seconds"] if bv else ("> cap" if capped else None)
        seconds = _field(ing, "seconds")
        baseline = bl["seconds"] + bv["seconds"] if bl and bv else None
        rows.append([n, _field(ing, "studies"), _field(ing, "triples"), seconds, _field(ing, "excerpts_per_s"),
                     _field(ing, "peak_rss_mb"), _field(lim, "seconds"), _ratio(seconds, _field(lim, "seconds")),
                     _field(bl, "seconds"), b_validate, _ratio(baseline, seconds), _field(qd, "excerpts_per_s")])
    return _table(["excerpts", "studies", "triples", "qualkg s", "qualkg excerpts/s", "qualkg peak RSS MB",
                   "limit load s", "qualkg / limit", "baseline load s", "baseline pySHACL s",
                   "baseline / qualkg", "QDPX excerpts/s"], rows)


def phases_table(sizes: dict[int, list[Row]]) -> str:
    rows = []
    for n, rs in sorted(sizes.items()):
        ph = _one(rs, "phases")
        if ph:
            names = [k for k in ph if k not in ("kind", "excerpts", "peak_rss_mb")]
            total = sum(ph[k] for k in names)
            rows.append([n, ph["excerpts"], *(f"{ph[k]:.2f} s ({ph[k] / total:.0%})" for k in names),
                         f"{ph['excerpts'] / total:,.0f}"])
            header = ["corpus", "study excerpts", *names, "excerpts/s"]
    return _table(header, rows) if rows else "(no phase figures)"


def profile_table(sizes: dict[int, list[Row]]) -> str:
    profiles = {k: p for k, rs in sizes.items() if (p := _one(rs, "profile"))}
    if not profiles:
        return ""
    n = max(profiles)
    top = profiles[n]["top"]
    return (f"Functions with the most time of their own in those phases (cProfile, corpus {n:,}; profiling "
            "inflates Python-heavy code):\n\n" + _table(["function", "own s", "calls"], [list(t) for t in top]))


def gate_table(data: Row, sizes: dict[int, list[Row]]) -> str:
    rows: list[list[object]] = []
    for n, rs in sorted(sizes.items()):
        turbo = _one(rs, "gate", engine="turbo")
        for engine in (GATE_FLOOR, "turbo", "pyshacl"):
            g = _one(rs, "gate", engine=engine)
            if g:
                rows.append([engine, g["excerpts"], g["triples"], g["seconds"], f"{g['excerpts'] / g['seconds']:,.0f}",
                             g["errors"]])
            elif turbo:  # the gate step ran, but this engine has no figure: capped or failed
                cap = _capped(data, f"{n}: SHACL gate engines") or "not measured"
                rows.append([engine, turbo["excerpts"], "", cap, "", ""])
    return _table(["engine", "excerpts", "triples", "seconds", "excerpts/s", "errors"], rows)


def questions_table(data: Row, sizes: dict[int, list[Row]]) -> str:
    rows: list[list[object]] = []
    for n, rs in sorted(sizes.items()):
        prefix = f"{n}: question "
        capped = {c[len(prefix):].split(":")[0]: c.split(": ", 2)[-1] for c in data["capped"] if c.startswith(prefix)}
        for q in _questions(rs):
            cut = f"stopped at the cap ({capped[q['question']].split('the ')[-1]})" if q["question"] in capped else "—"
            cached = _p50(q, "cached")
            rows.append([n, q["question"], q["rows"], q["qualkg"]["p50_ms"], q["qualkg"]["p95_ms"],
                         _p50(q, "raw") or cut, _ratio(q["qualkg"]["p50_ms"], _p50(q, "raw")),
                         cut if cached is None else f"{cached:.3f}"])
        measured = {q["question"] for q in _questions(rs)}
        rows += [[n, qid, "—", text, "", "", "", ""] for qid, text in capped.items() if qid not in measured]
        floor = _one(rs, "scan-floor")
        if floor:
            rows.append([n, "*(scan floor)*", 1, "", "", floor["raw"]["p50_ms"], "", ""])
    return _table(["excerpts", "question", "rows", "qualkg p50 ms", "qualkg p95 ms", "raw p50 ms", "qualkg / raw",
                   "repeated (cached) p50 ms"], rows)


def served_table(sizes: dict[int, list[Row]]) -> str:
    rows: list[list[object]] = []
    for n, rs in sorted(sizes.items()):
        start = _one(rs, "served-start")
        if not start:
            continue
        firsts = sorted(r["ms"] for r in rs if r["kind"] == "served")
        rows.append([n, "*(server: ready / warm, s)*", "", "",
                     f"{_fmt(start['ready_s'])} / " + ("not warm within the cap" if start["warm_s"] is None
                                                       else _fmt(start["warm_s"]))])
        rows += [[n, r["question"], r["status"], f"{r['bytes']:,}", r["ms"]] for r in rs if r["kind"] == "served"]
        if firsts:
            p95 = firsts[min(len(firsts) - 1, int(0.95 * len(firsts)))]
            p50 = firsts[len(firsts) // 2]
            rows.append([n, "*(p50 / p95 over the questions)*", "", "", f"{_fmt(p50)} / {_fmt(p95)}"])
    return _table(["excerpts", "question", "status", "bytes", "first asking ms"], rows) if rows \
        else "(not measured in this run)"


def _pct(values: list[float], q: float) -> float | None:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def _new_ms(rs: list[Row], kind: str) -> dict[str, list[float]]:
    """First-asking times per question: `first-asking` rows (in-process, new path) or `served-new` (HTTP)."""
    out: dict[str, list[float]] = {}
    for r in rs:
        if r["kind"] == kind == "first-asking" and "ms" in r["new"]:
            out.setdefault(str(r["question"]), []).append(float(r["new"]["ms"]))
        elif r["kind"] == kind == "served-new" and r.get("status") == 200:
            out.setdefault(str(r["question"]), []).append(float(r["ms"]))
    return out


def firsts_table(sizes: dict[int, list[Row]]) -> str:
    rows: list[list[object]] = []
    lines: list[str] = []
    for n, rs in sorted(sizes.items()):
        asked = [r for r in rs if r["kind"] == "first-asking"]
        if not asked:
            continue
        new, served = _new_ms(rs, "first-asking"), _new_ms(rs, "served-new")
        for qid in sorted({str(r["question"]) for r in asked}):
            mine = [r for r in asked if r["question"] == qid]
            olds = [r["old"] for r in mine if r.get("old")]
            old_ms = [float(o["ms"]) for o in olds if "ms" in o]
            capped = [o for o in olds if "capped_s" in o]
            old = _fmt(statistics.median(old_ms)) if old_ms else (f"> {capped[0]['capped_s']:g} s (capped)" if capped
                                                                   else "—")
            p50 = statistics.median(new[qid]) if qid in new else None
            refused = sum(1 for r in mine if "refused" in r["new"])
            rows.append([n, qid, mine[0]["path"], len(mine) - refused, _fmt(p50),
                         _fmt(statistics.median(served[qid])) if qid in served else "—", old,
                         _ratio(statistics.median(old_ms) if old_ms else None, p50)])
        every_new = [v for vs in new.values() for v in vs]
        every_served = [v for vs in served.values() for v in vs]
        build, refresh = _one(rs, "projection-build"), _one(rs, "projection-refresh")
        rss = _one(rs, "served-rss")
        lines.append(f"- {n:,} excerpts: p95 over every first asking {_fmt(_pct(every_new, 0.95))} ms in-process, "
                     f"{_fmt(_pct(every_served, 0.95))} ms served; projection built from the store in "
                     f"{_fmt(_field(build, 'seconds'))} s ({_fmt(_field(build, 'mb'))} MB on disk); one study of "
                     f"{_fmt(_field(refresh, 'excerpts'), 0)} excerpts refreshed in "
                     f"{_fmt(_field(refresh, 'p50_ms'))} ms (p50 of 3); serving process RSS after the askings "
                     f"{_fmt(_field(rss, 'rss_mb'))} MB.")
    if not rows:
        return "(not measured in this run)"
    header = ["excerpts", "question", "new path", "sets", "new p50 ms", "served p50 ms", "old p50 ms", "old / new"]
    return _table(header, rows) + "\n\n" + "\n".join(lines)


def firsts_targets(sizes: dict[int, list[Row]]) -> list[list[object]]:
    """Issue 20's targets: random-parameter first askings, the serving RSS, one study's refresh."""
    out: list[list[object]] = []
    for n, p50_max, rss_max in ((100_000, TARGET_P50_MS, 1536), (1_000_000, TARGET_1M_P50_MS, 3072)):
        rs = sizes.get(n, [])
        served = _new_ms(rs, "served-new") or _new_ms(rs, "first-asking")
        if not served:
            out.append([f"first askings (random parameters) p50 ≤ {p50_max:g} ms per question at {n:,}", "—",
                        _verdict(None)])
            continue
        p50s = {q: statistics.median(v) for q, v in served.items()}
        slow = sorted(q for q, v in p50s.items() if v > p50_max)
        p95 = _pct([v for vs in served.values() for v in vs], 0.95)
        out.append([f"first askings (random parameters) p50 ≤ {p50_max:g} ms per question"
                    + (", p95 ≤ 100 ms overall" if n == 100_000 else "") + f" at {n:,}",
                    f"worst p50 {_fmt(max(p50s.values()))} ms ({max(p50s, key=p50s.__getitem__)}); p95 {_fmt(p95)} ms; "
                    f"over the target: {', '.join(slow) or 'none'}",
                    _verdict(not slow and (n != 100_000 or (p95 or 0) <= 100))])
        rss = _one(rs, "served-rss")
        out.append([f"serving process ≤ {rss_max / 1024:g} GB RSS at {n:,}", f"{_fmt(_field(rss, 'rss_mb'))} MB",
                    _verdict(None if rss is None else rss["rss_mb"] <= rss_max)])
    refresh = next((r for n in sorted(sizes, reverse=True) for r in sizes[n] if r["kind"] == "projection-refresh"),
                   None)
    out.append(["refresh one 5,000-excerpt study ≤ 1 s", f"{_fmt(_field(refresh, 'p50_ms'))} ms",
                _verdict(None if refresh is None else refresh["p50_ms"] <= 1000)])
    return out


def baseline_query_table(data: Row, sizes: dict[int, list[Row]]) -> str:
    rows = []
    for n, rs in sorted(sizes.items()):
        b, q = _one(rs, "baseline-query"), _main_question(rs)
        if b or _capped(data, f"{n}: naive baseline"):
            theirs, ours = _field(b, "p50_ms"), _p50(q, "qualkg")
            rows.append([n, theirs, ours, _ratio(theirs, ours)])
    return _table(["excerpts", "rdflib p50 ms", "qualkg p50 ms", "baseline / qualkg"], rows)


def http_table(data: Row) -> str:
    rows = [[h["target"], h["tool"], h["requests"], h["rps"],
             *((h["p50_ms"], h["p99_ms"]) if h["requests"] else ("none completed", "none completed")), h["non_2xx"]]
            for h in data["http"]]
    header = ["server and request", "load tool", "requests", "req/s", "p50 ms", "p99 ms", "non-2xx"]
    return _table(header, rows) if rows else "(not measured in this run)"


def engine_versions(sizes: dict[int, list[Row]]) -> str:
    v = next((r for rs in sizes.values() for r in rs if r["kind"] == "engine-versions"), None)
    return "(engines not measured in this run)" if not v else \
        f"Servers: Neo4j {v['neo4j']} (Community, driver {v['driver']}), Fuseki {v['fuseki']}; JVM flags {v['jvm']}."


def sync_table(data: Row, sizes: dict[int, list[Row]]) -> str:
    rows: list[list[object]] = []
    for n, rs in sorted(sizes.items()):
        for r in (r for r in rs if r["kind"] == "neo4j-sync"):
            rows.append([n, r["step"], r["graphs"], r["nodes"], r["relationships"], r["seconds"],
                         f"{r['per_s']:,.0f}", "" if r["step"] == READ_ONLY else
                         ("met" if r["per_s"] >= TARGET_SYNC_RATE else "NOT met")])
        capped = _capped(data, f"{n}: engines")
        if capped:
            rows.append([n, capped.split(": ", 2)[-1], "", "", "", "", "", ""])
    loads = [f"{n:,}: {f['mb']:,.0f} MB in {f['seconds']:,.1f} s" for n, rs in sorted(sizes.items())
             if (f := _one(rs, "fuseki-load"))]
    fuseki = ("\n\nFuseki load (the N-Quads in one Graph Store Protocol POST, one TDB2 transaction): "
              + "; ".join(loads) + ".") if loads else ""
    return _table(["excerpts", "step", "graphs", "nodes", "relationships", "seconds", "nodes+relationships/s",
                   f"≥ {TARGET_SYNC_RATE:,}/s"], rows) + fuseki if rows else "(not measured in this run)"


def _engine_cell(cell: Row) -> object:
    if "capped_s" in cell:
        return f"> {cell['capped_s']:.0f} s (capped)"
    if "error" in cell:
        return f"error: {cell['error']}"
    return cell["p50_ms"]


def engines_table(data: Row, sizes: dict[int, list[Row]]) -> str:
    rows: list[list[object]] = []
    for n, rs in sorted(sizes.items()):
        for q in (r for r in rs if r["kind"] == "engines"):
            counts = [q[e].get("rows") for e, _ in ENGINE_COLUMNS]
            known = [c for c in counts if c is not None]
            shown = known[0] if known and len(set(known)) == 1 else \
                " / ".join("—" if c is None else str(c) for c in counts)
            rows.append([n, q["question"], shown, *(_engine_cell(q[e]) for e, _ in ENGINE_COLUMNS)])
    return _table(["excerpts", "question", "rows", *(f"{name} p50 ms" for _, name in ENGINE_COLUMNS)], rows) \
        if rows else "(not measured in this run)"


def replace_table(sizes: dict[int, list[Row]]) -> str:
    rows = [[r["method"], r["attempt"], r["triples"], r["seconds"], f"{r['triples'] / r['seconds']:,.0f}"]
            for rs in sizes.values() for r in rs if r["kind"] == "replace"]
    note = ("`store.replace_graph` is one transaction (readers see the old or the new graph). The second method "
            "is two transactions: between them a reader sees the graph empty, so it is a lower bound, not a "
            "drop-in replacement.")
    return (_table(["method", "attempt", "triples", "seconds", "triples/s"], rows) + "\n\n" + note) if rows \
        else "(not measured in this run)"


def plot(sizes: dict[int, list[Row]], path: Path) -> None:
    """Log-log: seconds against excerpts, for ingest and for the main question."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ns = sorted(sizes)

    def series(ax: Axes, label: str, pick: Callable[[list[Row]], float | None]) -> None:
        pts = [(n, y) for n in ns if (y := pick(sizes[n]))]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o", label=label)

    series(left, "qualkg ingest (end to end)", lambda rs: (_one(rs, "ingest") or {}).get("seconds"))
    series(left, "limit: pyoxigraph bulk load", lambda rs: (_one(rs, "limit-load") or {}).get("seconds"))
    series(left, "baseline: rdflib load", lambda rs: (_one(rs, "baseline-load") or {}).get("seconds"))
    series(left, "baseline: pySHACL whole graph", lambda rs: (_one(rs, "baseline-validate") or {}).get("seconds"))
    series(right, "qualkg p50", lambda rs: (_main_question(rs) or {}).get("qualkg", {}).get("p50_ms"))
    series(right, "raw Oxigraph p50", lambda rs: (_main_question(rs) or {}).get("raw", {}).get("p50_ms"))
    series(right, "baseline rdflib p50", lambda rs: (_one(rs, "baseline-query") or {}).get("p50_ms"))
    for ax, title, unit in ((left, "Ingest", "seconds"), (right, f"Question {MAIN}", "milliseconds")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("excerpts in the corpus")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
