"""One measurement per process: `python -m bench worker KIND ...` prints JSON lines on stdout.

A worker prints each figure as soon as it has it, so a parent that stops it at its cap keeps them,
and its peak RSS is its own (docs/decisions/0045-benchmark-harness.md).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualkg.ontology.namespaces import QKDATA

if TYPE_CHECKING:  # the workers import qualkg lazily: each loads only what it measures
    from pyoxigraph import Store

    from qualkg.queries.catalog import Catalog
    from qualkg.store.base import Term

QUESTION_REPEATS, QUESTION_BUDGET_S = 15, 3.0  # per question: at most this many runs or seconds
MAIN_QUESTION = "challenges-by-context"
GATE_FLOOR = "turbo with no shapes (engine floor)"
PAGE = 50  # a paged question is timed as its first page, as the API serves it
SCAN_FLOOR = """PREFIX qk: <https://w3id.org/qualkg/ns#>
SELECT (COUNT(*) AS ?n) WHERE { ?x a qk:CodedExcerpt ; qk:spokenBy ?speaker }"""


def emit(**fields: object) -> None:
    fields["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(fields), flush=True)


def timings(run: Callable[[], object], repeats: int = QUESTION_REPEATS,
            budget_s: float = QUESTION_BUDGET_S) -> tuple[dict[str, float], Any]:
    """(p50/p95 in ms, last result) of `run`, as `paired_timings` times each of its ways."""
    figures, results = paired_timings({"run": run}, repeats, budget_s)
    return figures["run"], results["run"]


def paired_timings(runs: dict[str, Callable[[], object]], repeats: int = QUESTION_REPEATS,
                   budget_s: float = QUESTION_BUDGET_S) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """p50/p95 in ms, and the last result, of each way in `runs`, their runs interleaved (A B, then B A, …).

    One warm-up each, then up to `repeats` rounds within `budget_s` (at least 3, or 1 when a warm-up
    took over a third of the budget); a way whose warm-up exceeded the budget keeps that one cold run."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Any] = {}  # each way's own result type
    warm_up: dict[str, float] = {}
    for name, run in runs.items():
        t = time.perf_counter()
        results[name] = run()
        warm_up[name] = time.perf_counter() - t
    order = [name for name in runs if warm_up[name] <= budget_s]
    least = 3 if max(warm_up.values()) <= budget_s / 3 else 1
    start = time.perf_counter()
    while order and len(samples[order[0]]) < repeats and (time.perf_counter() - start < budget_s
                                                           or len(samples[order[0]]) < least):
        for name in order:
            t = time.perf_counter()
            results[name] = runs[name]()
            samples[name].append((time.perf_counter() - t) * 1000)
        order.reverse()
    return {name: _figures(samples[name] or [warm_up[name] * 1000]) for name in runs}, results


def _figures(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 2),
            "runs": len(samples)}


def _question_args(catalog: Catalog, qid: str, study: str) -> tuple[str, dict[str, Term], dict[str, str]]:
    """(query text, bound parameters, raw parameters) for a question at its defaults; a required
    study parameter gets the corpus's first study."""
    q = catalog.get(qid)
    raw = {p.name: study for p in q.params if p.required and p.type == "study"}
    sparql = q.page(PAGE) if q.paged else q.sparql
    return sparql, catalog.bind(qid, raw), raw


def _top_functions(profile: cProfile.Profile, n: int = 12) -> list[tuple[str, float, int]]:
    """(function, own seconds, calls) of the `n` functions with the most time of their own."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]  # set by load_stats; typeshed omits it
    rows = [(f"{Path(file).name}:{line}({name})", tt, nc) for (file, line, name), (_, nc, tt, _, _) in stats.items()]
    return [(name, round(tt, 3), calls) for name, tt, calls in sorted(rows, key=lambda r: -r[1])[:n]]


def ingest_packages(corpus: Path, store_dir: Path, nquads: Path) -> None:
    """qualkg end to end (read → map → SHACL gate → store) per study package, then question latency,
    then the whole store as N-Quads for the limit and baseline workers."""
    from pyoxigraph import RdfFormat

    from qualkg.ingest.mapping import map_study
    from qualkg.ingest.package import read_package
    from qualkg.ingest.pipeline import ingest
    from qualkg.ingest.validate import gate
    from qualkg.ontology.iris import IriScheme
    from qualkg.store.oxigraph import OxigraphStore
    from qualkg.wiring import load_model

    iris = IriScheme(str(QKDATA))
    store = OxigraphStore(store_dir)
    load_model(store)
    packages = sorted(p for p in corpus.iterdir() if p.is_dir())
    excerpts = triples = 0
    start = time.perf_counter()
    for pkg in packages:
        for s in ingest(pkg, store, iris).studies:
            excerpts, triples = excerpts + s.excerpts, triples + s.triples
    elapsed = time.perf_counter() - start
    emit(kind="ingest", excerpts=excerpts, triples=triples, studies=len(packages), seconds=round(elapsed, 3),
         excerpts_per_s=round(excerpts / elapsed, 1))

    # Where the time goes: the pipeline's phases, re-run on the first study (same code, timed apart),
    # under cProfile for the functions that take the most time of their own.
    phases: dict[str, float] = {}
    profile = cProfile.Profile()
    profile.enable()
    t = time.perf_counter()
    rec = read_package(packages[0])[0]
    phases["read"], t = time.perf_counter() - t, time.perf_counter()
    mapped = map_study(rec, iris)
    phases["map"], t = time.perf_counter() - t, time.perf_counter()
    gate(mapped, file=str(packages[0]))
    phases["shacl gate (turbo)"], t = time.perf_counter() - t, time.perf_counter()
    store.replace_graph(iris.graph(rec.study.id), mapped)
    phases["store write (replace)"] = time.perf_counter() - t
    profile.disable()
    emit(kind="phases", excerpts=len(rec.excerpts), **{k: round(v, 3) for k, v in phases.items()})
    emit(kind="profile", top=_top_functions(profile))

    # Streamed to the file: at 1M excerpts the dump is several GB.
    store._store.dump(output=str(nquads), format=RdfFormat.N_QUADS)
    store.close()


def question(store_dir: Path, qid: str, out: Path) -> None:
    """One named question at its defaults: qualkg's `Catalog.run` against the same bound query text
    run raw on the same pyoxigraph store (the limit), then the same question as `serve` answers a
    repeat of it (the answer cache over the in-memory copy). One process per question, so the
    parent's time cap stops a runaway query (pyoxigraph cannot cancel one)."""
    from qualkg.queries.catalog import default_catalog
    from qualkg.store.binding import bind_values
    from qualkg.store.cached import CachedStore
    from qualkg.store.oxigraph import OxigraphStore

    store = OxigraphStore.read_only(store_dir)
    catalog = default_catalog()
    study = study_graphs(store.graphs())[0].rsplit("/", 1)[-1]
    sparql, bound, raw = _question_args(catalog, qid, study)
    limit = PAGE if catalog.get(qid).paged else None
    text = bind_values(sparql, bound)
    if qid == MAIN_QUESTION:
        (out / "main-question.rq").write_text(text, encoding="utf-8")
    # One row per figure as it is measured (each repeating the ones before), so a question the
    # parent stops at its cap still reports what it measured; the report keeps the last row.
    figures, results = paired_timings({"qualkg": lambda: catalog.run(store, qid, raw, limit=limit),
                                       "raw": lambda: _solutions(store._store, text)})
    row: dict[str, object] = {"kind": "question", "question": qid, "rows": len(results["qualkg"]), **figures}
    emit(**row)
    if qid == MAIN_QUESTION:
        # The cheapest query that reads every excerpt once: any question that looks at every
        # excerpt costs at least this in the engine, whatever its shape.
        floor, _ = timings(lambda: _solutions(store._store, SCAN_FLOOR))
        emit(kind="scan-floor", query=" ".join(SCAN_FLOOR.split()), raw=floor)
    if figures["qualkg"]["p50_ms"] > 10_000:
        return  # too slow to ask again only to fill the cache: a cached repeat costs the same at any size
    cached_store = CachedStore(store)
    catalog.run(cached_store, qid, raw, limit=limit)  # the first asking fills the cache (timed above, as qualkg)
    row["cached"], _ = timings(lambda: catalog.run(cached_store, qid, raw, limit=limit))
    emit(**row)


def _solutions(raw: Store, text: str) -> list[object]:
    """Every solution of a SELECT run on the engine itself (the named graphs' union as default graph)."""
    from pyoxigraph import QuerySolutions

    result = raw.query(text, use_default_graph_as_union=True)
    if not isinstance(result, QuerySolutions):
        raise TypeError(f"not a SELECT query: {text[:80]!r}")
    return list(result)


def study_graphs(graphs: list[str]) -> list[str]:
    """The corpus's study graphs among `graphs` (not the model graph, not the ingest logs)."""
    prefix = f"{QKDATA}graph/"
    return [g for g in graphs if g.startswith(prefix) and not g.endswith("/log")]


def ingest_qdpx(corpus: Path, store_dir: Path) -> None:
    """qualkg end to end from REFI-QDA projects (XML + XSD check + offset detection), one per study."""
    from qualkg.ingest.pipeline import ingest
    from qualkg.ontology.iris import IriScheme
    from qualkg.store.oxigraph import OxigraphStore
    from qualkg.wiring import load_model

    iris = IriScheme(str(QKDATA))
    store = OxigraphStore(store_dir)
    load_model(store)
    excerpts = 0
    start = time.perf_counter()
    for path in sorted(corpus.glob("*.qdpx")):
        excerpts += sum(s.excerpts for s in ingest(path, store, iris, fmt="qdpx").studies)
    elapsed = time.perf_counter() - start
    emit(kind="ingest-qdpx", excerpts=excerpts, seconds=round(elapsed, 3), excerpts_per_s=round(excerpts / elapsed, 1))
    store.close()


def limit(nquads: Path, store_dir: Path) -> None:
    """The engine alone: pyoxigraph bulk load of the same N-Quads qualkg wrote, no validation."""
    from pyoxigraph import RdfFormat, Store

    start = time.perf_counter()
    store = Store(store_dir)
    store.bulk_load(path=str(nquads), format=RdfFormat.N_QUADS)
    store.flush()
    emit(kind="limit-load", seconds=round(time.perf_counter() - start, 3), quads=len(store))


def baseline(nquads: Path, query: Path) -> None:
    """The naive design: rdflib in-memory dataset, rdflib SPARQL for the main question, then pySHACL
    over the whole graph (ontology as ont_graph, like the gate). Printed phase by phase, since the
    parent stops it at a time cap."""
    import pyshacl
    from rdflib import Dataset, Graph

    from qualkg.ontology import model_graph, shapes_graph, vocabulary_graph

    start = time.perf_counter()
    data = Dataset(default_union=True)
    data.parse(str(nquads), format="nquads")
    emit(kind="baseline-load", seconds=round(time.perf_counter() - start, 3), quads=len(data))
    text = query.read_text(encoding="utf-8")
    emit(kind="baseline-query", **timings(lambda: list(data.query(text)), repeats=5, budget_s=12)[0])
    whole = Graph()
    for s, p, o, _ in data.quads((None, None, None, None)):
        whole.add((s, p, o))
    start = time.perf_counter()
    conforms, _, _ = pyshacl.validate(whole + vocabulary_graph(), shacl_graph=shapes_graph(), ont_graph=model_graph(),
                                      inference="none", allow_warnings=True)
    emit(kind="baseline-validate", seconds=round(time.perf_counter() - start, 3), conforms=bool(conforms))


def gate_engines(corpus: Path) -> None:
    """The SHACL gate alone on the first study: pyshacl-turbo (default), then pySHACL (the reference;
    the parent's time cap may stop it, which the report shows)."""
    import pyshacl_turbo
    from rdflib import Graph

    from qualkg.ingest.mapping import map_study
    from qualkg.ingest.package import read_package
    from qualkg.ingest.validate import ENGINES, gate, turbo_input
    from qualkg.ontology.iris import IriScheme

    rec = read_package(min(p for p in corpus.iterdir() if p.is_dir()))[0]
    mapped = map_study(rec, IriScheme(str(QKDATA)))
    gate(mapped[:50], file="warm-up")  # compile shapes, parse the model
    # The engine's floor: the same input through pyshacl-turbo with no shapes at all (parsing and
    # indexing the study, building an empty report). No gate on this engine can be faster.
    no_shapes = pyshacl_turbo.compile_shapes(Graph())
    start = time.perf_counter()
    no_shapes.validate(turbo_input(mapped), inference="none", allow_warnings=True)
    emit(kind="gate", engine=GATE_FLOOR, excerpts=len(rec.excerpts), triples=len(mapped),
         seconds=round(time.perf_counter() - start, 3), errors=0)
    for engine in ENGINES:  # turbo (the default), then pySHACL (the reference)
        start = time.perf_counter()
        problems = gate(mapped, file="bench", engine=engine)
        emit(kind="gate", engine=engine, excerpts=len(rec.excerpts), triples=len(mapped),
             seconds=round(time.perf_counter() - start, 3), errors=sum(p.severity == "error" for p in problems))


def replace_big(nquads: Path, store_dir: Path, max_triples: int) -> None:
    """Replacing one graph of `max_triples` triples on disk: the store's one-transaction
    DROP + INSERT DATA, against a DROP followed by pyoxigraph's atomic `extend` (two transactions)
    and by the bulk loader (no transaction): lower bounds for a faster atomic path."""
    from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, parse

    from qualkg.store.oxigraph import OxigraphStore

    triples = []
    for q in parse(path=str(nquads), format=RdfFormat.N_QUADS):
        if not isinstance(q.graph_name, DefaultGraph) and "/ontology" not in q.graph_name.value:
            triples.append(q.triple)
            if len(triples) >= max_triples:
                break
    graph = "https://w3id.org/qualkg/id/graph/bench-replace"
    store = OxigraphStore(store_dir)
    for attempt in ("first write", "rewrite"):
        start = time.perf_counter()
        store.replace_graph(graph, triples)
        emit(kind="replace", method="DROP + INSERT DATA (store.replace_graph)", attempt=attempt,
             triples=len(triples), seconds=round(time.perf_counter() - start, 3))
    raw = store._store  # the engine under the backend, measured
    node = NamedNode(graph)
    start = time.perf_counter()
    raw.update(f"DROP SILENT GRAPH <{graph}>")
    raw.extend(Quad(t.subject, t.predicate, t.object, node) for t in triples)
    emit(kind="replace", method="DROP, then Store.extend (2 transactions)", attempt="rewrite",
         triples=len(triples), seconds=round(time.perf_counter() - start, 3))
    start = time.perf_counter()
    raw.update(f"DROP SILENT GRAPH <{graph}>")
    raw.bulk_extend(Quad(t.subject, t.predicate, t.object, node) for t in triples)
    raw.flush()
    emit(kind="replace", method="DROP, then Store.bulk_extend (bulk loader, not transactional)", attempt="rewrite",
         triples=len(triples), seconds=round(time.perf_counter() - start, 3))
    store.close()


def engines(nquads: Path, store_dir: Path, work: Path, cap_s: float, questions: str) -> None:
    """Oxigraph, Fuseki and Neo4j side by side, and the Neo4j sync rate (bench/engines.py)."""
    from bench.engines import measure

    measure(nquads, store_dir, work, cap_s, only=None if questions == "all" else MAIN_QUESTION)


def first_askings(store_dir: Path, work: Path, excerpts: int, seed: int, sets: int, old_sets: int,
                  cap_s: float) -> None:
    """The columnar projection's build and refresh, and first askings on the old and the new path (bench/firsts.py)."""
    from bench.firsts import measure

    work.mkdir(parents=True, exist_ok=True)
    measure(store_dir, work, excerpts, seed, sets, old_sets, cap_s)


WORKERS: dict[str, Callable[..., None]] = {
    "ingest": lambda c, s, n: ingest_packages(Path(c), Path(s), Path(n)),
    "question": lambda s, q, o: question(Path(s), q, Path(o)),
    "qdpx": lambda c, s: ingest_qdpx(Path(c), Path(s)),
    "limit": lambda n, s: limit(Path(n), Path(s)),
    "baseline": lambda n, q: baseline(Path(n), Path(q)),
    "gate": lambda c: gate_engines(Path(c)),
    "replace": lambda n, s, m: replace_big(Path(n), Path(s), int(m)),
    "engines": lambda n, s, w, c, q: engines(Path(n), Path(s), Path(w), float(c), q),
    "firsts": lambda s, w, n, seed, k, o, c: first_askings(Path(s), Path(w), int(n), int(seed), int(k), int(o),
                                                           float(c)),
}


def main(argv: list[str]) -> None:
    WORKERS[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
