"""The default backend: an embedded Oxigraph store (pyoxigraph), on disk or in memory.

Serving: RocksDB lets only one process open a directory read-write. Run the API as ONE process
that owns the store and serve requests from threads: pyoxigraph releases the GIL while it
evaluates a query, and every read sees one committed snapshot ("repeatable read"), so threads
need no lock of ours. `OxigraphStore.read_only(path)` is for other processes that read a
directory no writer holds (a report job, or a copy made with pyoxigraph's `Store.backup`);
pyoxigraph documents reading while another process writes as undefined behaviour.

What pyoxigraph 0.5 lacks: query cancellation. `query_raw` stops *waiting* after `timeout_s`
and raises QueryTimeout, but the evaluation runs on in its daemon thread until it ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from threading import Lock, Thread
from typing import TypeVar

import pandas as pd
from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
)

from qualkg.ontology.namespaces import PREFIXES
from qualkg.store.base import Bindings, ExportFormat, QueryError, QueryTimeout, Row, StoreError
from qualkg.store.binding import bind_values
from qualkg.store.terms import solutions_table, table_frame, to_python
from qualkg.store.updates import (
    RDF_FORMATS,
    change_update,
    checked,
    graph_names,
    graph_node,
    ntriples,
)

Result = QuerySolutions | QueryBoolean | QueryTriples
_R = TypeVar("_R", QuerySolutions, QueryBoolean, QueryTriples)
_T = TypeVar("_T")

_FORM_NAMES: dict[type, str] = {QuerySolutions: "SELECT", QueryBoolean: "ASK", QueryTriples: "CONSTRUCT/DESCRIBE"}


class OxigraphStore:
    """GraphStore on pyoxigraph: a persistent directory, or memory when `path` is None (tests)."""

    def __init__(self, path: Path | None = None, *, memory_reads: bool = False) -> None:
        """`memory_reads` keeps an in-memory copy of an on-disk store and answers every read from it:
        on this machine queries ran 2–9× faster from memory than from RocksDB. Writes go to the disk
        store first (one transaction), then the same update to the copy, so readers see the old or the
        new state; a crash in between loses nothing, since the copy is rebuilt from disk at open."""
        try:
            self._store = Store(path) if path is not None else Store()
        except OSError as e:
            raise StoreError(f"cannot open Oxigraph store at {path}: {e}") from e
        self._reads = self._store
        self._write_lock = Lock()
        if memory_reads and path is not None:
            self._reads = Store()
            self._reads.bulk_extend(self._store.quads_for_pattern(None, None, None, None))

    @classmethod
    def read_only(cls, path: Path) -> OxigraphStore:
        """Open `path` without write access, for a process other than the one writer (module doc).

        Writes on it raise StoreError.
        """
        reader = cls.__new__(cls)
        try:
            reader._store = Store.read_only(str(path))
        except OSError as e:
            raise StoreError(f"cannot open Oxigraph store at {path} read-only: {e}") from e
        reader._reads = reader._store
        reader._write_lock = Lock()
        return reader

    # --- writes -------------------------------------------------------------------------

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        return self.replace_graphs({graph: triples})[graph]

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        """Swap the graphs' contents in ONE Oxigraph transaction.

        Every iterable is consumed before anything is written, so an exception from one or a
        non-Triple item leaves every graph as it was. Then:

        - none of the graphs holds anything yet (a first ingest): the quads go in with
          `Store.extend`, which pyoxigraph runs as one transaction — about twice as fast as parsing
          an INSERT DATA (137k triples on disk: 3.7 s vs 7.9 s);
        - otherwise the old contents are read and ONE SPARQL update from store.updates.change_update
          deletes what went and inserts what came (nothing at all for an unchanged graph; a
          re-ingest of an unchanged study of 137k triples: write ~16 s -> ~2 s on this machine).

        Writes hold a lock, so two threads replacing the same graph cannot mix their contents
        (each reads the old content, then writes); readers never wait for it.

        Why not a staging graph + MOVE: two transactions, a staging graph that `GRAPH ?g` queries
        can see in between and that a crash leaves behind, and it measured about twice as slow
        (MOVE copies the staging graph, then deletes it).
        """
        targets = {graph: graph_node(graph) for graph in graphs}
        try:
            new = {g: list(checked(g, triples)) for g, triples in graphs.items()}
            with self._write_lock:
                if any(next(self._store.quads_for_pattern(None, None, None, node), None) for node in targets.values()):
                    old = {g: self._ntriples(node) for g, node in targets.items()}
                    update = change_update(old, {g: _as_stored(ntriples(g, triples)) for g, triples in new.items()})
                    if update is not None:
                        self._write(update)
                else:
                    self._extend([Quad(t.subject, t.predicate, t.object, targets[g])
                                  for g, ts in new.items() for t in ts])
        except (OSError, SyntaxError, RuntimeError) as e:
            raise StoreError(f"could not write graphs {graph_names(graphs)}: {e}") from e
        return {graph: self.triple_count(graph) for graph in graphs}

    def drop_graph(self, graph: str) -> bool:
        existed = self.triple_count(graph) > 0
        try:
            with self._write_lock:
                self._write(f"DROP SILENT GRAPH {graph_node(graph)}")
        except (OSError, RuntimeError) as e:
            raise StoreError(f"could not drop graph <{graph}>: {e}") from e
        return existed

    # --- reads --------------------------------------------------------------------------

    def graphs(self) -> list[str]:
        # Oxigraph can keep a graph name with no triples (e.g. after a DELETE); the contract
        # lists only graphs that hold something. One index lookup per graph, no scan.
        return sorted(
            g.value
            for g in self._reads.named_graphs()
            if isinstance(g, NamedNode) and next(self._reads.quads_for_pattern(None, None, None, g), None)
        )

    def triple_count(self, graph: str) -> int:
        rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": graph_node(graph)})
        count = to_python(rows[0]["n"])
        assert isinstance(count, int)
        return count

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        solutions = self._query(query, bindings, QuerySolutions)
        names, rows = _drain(lambda: solutions_table(solutions))
        return [dict(zip(names, row, strict=True)) for row in rows]

    def select_df(self, query: str, bindings: Bindings | None = None) -> pd.DataFrame:
        """Columns in the query's SELECT order, kept when there are no rows; cells via store.terms.to_python."""
        solutions = self._query(query, bindings, QuerySolutions)
        return table_frame(*_drain(lambda: solutions_table(solutions)))

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return bool(self._query(query, bindings, QueryBoolean))

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        triples = self._query(query, bindings, QueryTriples)
        return _drain(lambda: list(triples))

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        """Run a query (never an update: pyoxigraph's query parser refuses one) and serialise it.

        SELECT/ASK go out as a SPARQL results format, CONSTRUCT/DESCRIBE as an RDF syntax,
        both chosen by media type. Past `timeout_s` this raises QueryTimeout (see module doc).
        """

        def run() -> bytes:
            result = self._run(query, None)
            if isinstance(result, QueryTriples):
                graph_format = RdfFormat.from_media_type(media_type)
                data = None if graph_format is None else _drain(lambda: result.serialize(format=graph_format))
            else:
                results_format = QueryResultsFormat.from_media_type(media_type)
                data = None if results_format is None else _drain(lambda: result.serialize(format=results_format))
            if data is None:  # serialize returns bytes when given no output: None means no format was found
                raise QueryError(f"{_FORM_NAMES[type(result)]} results cannot be served as {media_type!r}")
            return data

        return run() if timeout_s is None else _wait_at_most(timeout_s, run)

    def export(self, graph: str | None, fmt: ExportFormat) -> bytes:
        """One graph in any format; all named graphs only in a dataset format (N-Quads, TriG, JSON-LD).

        The whole-dataset dump also holds the default graph, which qualkg never writes (every
        write goes through replace_graphs into named graphs).
        """
        rdf_format = RDF_FORMATS[fmt]
        if graph is None and not rdf_format.supports_datasets:
            raise StoreError(f"{fmt.name} holds one graph: name a graph, or export all as nquads, trig or jsonld")
        source = graph_node(graph) if graph is not None else None
        try:
            data = self._reads.dump(format=rdf_format, from_graph=source, prefixes=PREFIXES)
        except OSError as e:
            raise StoreError(f"could not export graph <{graph}> as {fmt.name}: {e}") from e
        assert data is not None  # dump returns bytes when given no output
        return data

    def close(self) -> None:
        """Flush writes and drop our reference: pyoxigraph has no explicit close, RocksDB files
        and the directory lock are released when the Store object is garbage-collected.

        The reference is dropped even when the flush fails (e.g. the disk is full: RocksDB then
        refuses every write until the directory is reopened), so the lock can still be released."""
        try:
            self._store.flush()
        except OSError as e:
            raise StoreError(f"could not flush the Oxigraph store: {e}") from e
        except RuntimeError:
            pass  # a read-only store has nothing to flush
        finally:
            del self._store, self._reads

    # --- helpers ------------------------------------------------------------------------

    def _ntriples(self, graph: NamedNode) -> str:
        """A graph's triples as stored, as N-Triples text (from the store itself, not the read copy)."""
        data = self._store.dump(format=RdfFormat.N_TRIPLES, from_graph=graph)
        assert data is not None  # dump returns bytes when given no output
        return data.decode()

    def _extend(self, quads: list[Quad]) -> None:
        """One transactional insert (see `_apply`)."""
        self._apply(lambda store: store.extend(quads))

    def _write(self, update: str) -> None:
        """One SPARQL update (see `_apply`)."""
        self._apply(lambda store: store.update(update))

    def _apply(self, change: Callable[[Store], None]) -> None:
        """`change` on the store, flushed to disk at once, then on the in-memory copy that answers
        reads (if there is one).

        Why the flush: left alone, RocksDB keeps up to six 128 MB memtables per column family in
        memory, and ingesting study after study grew the process by ~130 MB per study of 137k
        triples (2 GB after 18 studies); flushed, it stays near 460 MB and writes took no longer
        (a bare extend loop: 5.1-6.8 s per 137k-triple graph with the flush, 5.4-7.8 s without)."""
        change(self._store)
        self._store.flush()
        if self._reads is not self._store:
            change(self._reads)

    def _run(self, query: str, bindings: Bindings | None) -> Result:
        """Run `query` with `bindings` bound by store.binding (VALUES blocks, as every backend does)."""
        try:
            return self._reads.query(bind_values(query, bindings), use_default_graph_as_union=True)
        except SyntaxError as e:
            raise QueryError(f"SPARQL syntax error: {e}") from e
        except (RuntimeError, TypeError, ValueError) as e:
            raise QueryError(f"query rejected: {e}") from e
        except OSError as e:
            raise StoreError(f"query failed: {e}") from e

    def _query(self, query: str, bindings: Bindings | None, form: type[_R]) -> _R:
        result = self._run(query, bindings)
        if not isinstance(result, form):
            raise QueryError(f"expected a {_FORM_NAMES[form]} query, got a {_FORM_NAMES[type(result)]} query")
        return result


def _as_stored(ntriples_text: str) -> str:
    """N-Triples text as Oxigraph writes it back after storing it.

    Oxigraph keeps some literals in a canonical form (an xsd:nonNegativeInteger offset comes back
    as xsd:integer), so new content is put through an in-memory store before it is compared with
    the stored content; otherwise every such literal would look changed on every re-ingest.
    """
    canonical = Store()
    canonical.load(ntriples_text, format=RdfFormat.N_TRIPLES)
    data = canonical.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph())
    assert data is not None  # dump returns bytes when given no output
    return data.decode()


def _drain(collect: Callable[[], _T]) -> _T:
    """Run `collect`, which pulls lazily evaluated results, mapping the errors raised on the way."""
    try:
        return collect()
    except OSError as e:
        raise StoreError(f"query failed while reading results: {e}") from e
    except RuntimeError as e:
        raise QueryError(f"query failed while evaluating: {e}") from e


def _wait_at_most(timeout_s: float, work: Callable[[], _T]) -> _T:
    """Run `work` in a daemon thread and wait for it at most `timeout_s` seconds."""
    outcome: Future[_T] = Future()

    def target() -> None:
        outcome.set_running_or_notify_cancel()
        try:
            outcome.set_result(work())
        except BaseException as e:  # handed to the waiting caller, who re-raises it
            outcome.set_exception(e)

    Thread(target=target, name="qualkg-query", daemon=True).start()
    try:
        return outcome.result(timeout=timeout_s)
    except TimeoutError:
        raise QueryTimeout(
            f"query still running after {timeout_s} s; stopped waiting (Oxigraph cannot cancel it)"
        ) from None
