"""First askings with new parameters, the old path and the new side by side (issue 20, decision 0134).

The worker opens the ingest worker's store as `serve` opens it (in-memory reads), builds the columnar
projection beside it, refreshes one study, then asks every named question with parameter sets drawn at
random (bench/params.py): each once on the new path (its SQL twin on the projection, else SPARQL) and on
the old path (SPARQL on the store, in a forked child stopped at the cap).
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bench.corpus import Corpus
from bench.params import Draws, Values, vocabulary_values
from bench.workers import PAGE, emit, study_graphs
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA

if TYPE_CHECKING:
    import pandas as pd

    from qualkg.queries.catalog import Catalog
    from qualkg.queries.sql_catalog import SqlCatalog
    from qualkg.store.base import GraphStore
    from qualkg.store.columnar import Projection


def corpus_values(corpus: Corpus, concepts_per_study: int = 40) -> Values:
    """The values a parameter may take, from the generated corpus itself: its study ids, the IRIs of some
    of each study's concepts, the words of the concept labels, and the vocabularies."""
    iris = IriScheme(str(QKDATA))
    concepts = [iris.scoped(s.id, "code", c[0]) for s in corpus.studies for c in s.codes[:concepts_per_study]]
    words = sorted({w.strip(":.").lower() for s in corpus.studies[:1] for c in s.codes for w in c[1].split()
                    if len(w) > 3 and not w[0].isdigit()})
    return Values([s.id for s in corpus.studies], concepts, words, vocabulary_values())


def _ms(run: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = run()
    return round((time.perf_counter() - start) * 1000, 2), out


def _asking(qid: str, params: dict[str, str], limit: int | None, sql: SqlCatalog | None, projection: Projection,
            store: GraphStore, catalog: Catalog) -> Callable[[], pd.DataFrame]:
    """One asking: the SQL twin on the projection when `sql` is given, else the SPARQL on the store."""
    if sql is not None:
        return lambda: sql.run(projection, qid, params, limit=limit, store=store)
    return lambda: catalog.run(store, qid, params, limit=limit)


def _timed_rows(run: Callable[[], pd.DataFrame]) -> dict[str, object]:
    ms, frame = _ms(run)
    return {"ms": ms, "rows": len(frame)}  # type: ignore[arg-type]


def measure(store_dir: Path, work: Path, excerpts: int, seed: int, sets: int, old_sets: int, cap_s: float) -> None:
    """The projection's build and refresh times, then `sets` first askings per question on the new path
    (the first `old_sets` of them also on the old one), then this process's peak RSS."""
    from bench.corpus import generate
    from bench.engines import within
    from qualkg.queries.catalog import default_catalog
    from qualkg.queries.sql_catalog import default_sql_catalog, projection_spec
    from qualkg.store.cached import CachedStore
    from qualkg.store.columnar import Projection
    from qualkg.store.oxigraph import OxigraphStore

    store = OxigraphStore(store_dir, memory_reads=True)
    start = time.perf_counter()
    projection = Projection(work / "projection.duckdb", projection_spec())
    projection.sync(store)
    emit(kind="projection-build", seconds=round(time.perf_counter() - start, 2),
         mb=round(sum(f.stat().st_size for f in work.glob("projection.duckdb*")) / 2**20, 1))  # with its WAL
    study = study_graphs(store.graphs())[0]
    refresh = [_ms(lambda: projection.refresh(store, [study]))[0] for _ in range(3)]
    emit(kind="projection-refresh", excerpts=min(excerpts, 5000), p50_ms=statistics.median(refresh),
         runs_ms=refresh)
    catalog = default_catalog()
    sql = default_sql_catalog(catalog)
    served = CachedStore(store)  # as `serve` has it: the value lists a parameter is checked against are kept
    draws = Draws(catalog, corpus_values(generate(excerpts)), seed)
    for qid in sorted(catalog.questions):
        question = catalog.get(qid)
        limit = PAGE if question.paged else None
        for i in range(sets):
            params = draws.draw(qid)
            if params is None:  # no parameter to draw (studies): its one answer is the default one
                break
            try:
                new_ms, frame = _ms(_asking(qid, params, limit, sql if qid in sql.twins else None, projection,
                                            served, catalog))
                row: dict[str, object] = {"ms": new_ms, "rows": len(frame)}  # type: ignore[arg-type]
            except ValueError as e:  # a drawn value the data does not hold (refused as for a caller)
                row = {"refused": str(e)[:120]}
            old = _asking(qid, params, limit, None, projection, served, catalog)
            emit(kind="first-asking", question=qid, set=i, params=params,
                 path="sql" if qid in sql.twins else "sparql", new=row,
                 old=within(cap_s, partial(_timed_rows, old)) if i < old_sets and "ms" in row else None)
    emit(kind="first-askings-rss", peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    projection.close()
    store.close()
