"""The default backend: an embedded Oxigraph store (pyoxigraph), on disk or in memory.

One process owns a directory read-write (decision 0005); `OxigraphStore.read_only` is for other processes.
`query_raw` runs a caller's SPARQL in the sandbox (store.sandbox) on a read-only copy (store.snapshots),
never in this process (decision 0060).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from threading import Lock
from typing import TypeVar

import pandas as pd
from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
)

from qualkg.ontology.namespaces import PREFIXES
from qualkg.store.base import Bindings, ExportFormat, QueryError, Row, StoreError
from qualkg.store.binding import bind_values
from qualkg.store.sandbox import SandboxLimits, SparqlSandbox, shared_sandbox
from qualkg.store.snapshots import Snapshots
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

    def __init__(self, path: Path | None = None, *, memory_reads: bool = False,
                 sparql_limits: SandboxLimits | None = None) -> None:
        """`memory_reads`: answer every read from an in-memory copy of an on-disk store, which each write
        updates after the disk store (decision 0005). `sparql_limits`: this store's own SPARQL sandbox for
        `query_raw`, closed with the store; without, the process's shared one (store.sandbox.shared_sandbox).
        """
        try:
            self._store = Store(path) if path is not None else Store()
        except OSError as e:
            raise StoreError(f"cannot open Oxigraph store at {path}: {e}") from e
        self._reads = self._store
        self._write_lock = Lock()
        self._generation = 0  # bumped by every write: which content a snapshot holds
        self._on_disk = path is not None
        if memory_reads and path is not None:
            self._reads = Store()
            self._reads.bulk_extend(self._store.quads_for_pattern(None, None, None, None))
        self._own_sandbox = sparql_limits is not None
        self._sandbox = SparqlSandbox(sparql_limits) if sparql_limits is not None else shared_sandbox()
        self._fixed_snapshot: Path | None = None
        # For a directory: copies beside the data (same filesystem: hard links); in memory: a temporary folder.
        self._snapshots: Snapshots | None = Snapshots(path / "snapshots" if path is not None else None,
                                                      self._snapshot_to, self._sandbox.snapshots_in_use)

    @classmethod
    def read_only(cls, path: Path) -> OxigraphStore:
        """Open `path` without write access, for a process other than the one writer (module doc).

        Writes on it raise StoreError.
        """
        reader = cls.__new__(cls)
        try:
            reader._store = Store.read_only(str(path))
        except (OSError, RuntimeError) as e:  # RuntimeError: files the writer compacted away while opening
            raise StoreError(f"cannot open Oxigraph store at {path} read-only: {e}") from e
        reader._reads = reader._store
        reader._write_lock = Lock()
        reader._generation, reader._on_disk = 0, True
        reader._own_sandbox, reader._sandbox = False, shared_sandbox()
        reader._fixed_snapshot, reader._snapshots = Path(path), None  # no process writes it: queried as it is
        return reader

    # --- writes -------------------------------------------------------------------------

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        return self.replace_graphs({graph: triples})[graph]

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        """Swap the graphs' contents in ONE Oxigraph transaction (decision 0006): `Store.extend` when none
        holds anything yet, else one update of only what changed (store.updates.change_update).

        Every iterable is consumed before anything is written, so an exception from one or a non-Triple
        item leaves every graph as it was. Writers take turns; readers never wait for them.
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
        """A caller's query (never an update) run in the SPARQL sandbox on a read-only copy, as `media_type`.

        :raises QueryTimeout: past `timeout_s` (or the sandbox's timeout); the evaluation is killed.
        Other errors: see `SparqlSandbox.evaluate` (decision 0060).
        """
        if self._snapshots is None:
            assert self._fixed_snapshot is not None
            return self._sandbox.evaluate(self._fixed_snapshot, query, media_type, timeout_s)
        with self._snapshots.use(self._generation) as snapshot:
            return self._sandbox.evaluate(snapshot, query, media_type, timeout_s)

    @property
    def snapshots(self) -> Snapshots | None:
        """The read-only copies raw queries run on (None for a store opened read-only: it is queried as it is)."""
        return self._snapshots

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
        if self._own_sandbox:
            self._sandbox.close()
        if self._snapshots is not None:
            self._snapshots.close()
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
        """`change` on the store, flushed to disk at once (decision 0007), then on the in-memory copy that
        answers reads (if there is one)."""
        change(self._store)
        self._store.flush()
        if self._reads is not self._store:
            change(self._reads)
        self._generation += 1

    def _snapshot_to(self, target: Path) -> int:
        """Write the current content to the new directory `target`, as a store no process writes; return the
        generation it holds. A directory is checkpointed (RocksDB hard-links its files); memory is copied."""
        with self._write_lock:  # no write between reading the generation and copying
            generation = self._generation
            if self._on_disk:
                self._store.backup(str(target))
            else:  # pyoxigraph: "It is not possible to backup an in-memory database"
                copy = Store(str(target))
                copy.bulk_extend(self._store.quads_for_pattern(None, None, None, None))
                copy.flush()
                del copy  # closes it before any worker opens the directory
        return generation

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
