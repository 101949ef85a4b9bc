"""A columnar projection of the graph in DuckDB, beside the store, refreshed by the same writes (decision 0130).

The graph stays the record: every table is derived from it by SPARQL extract queries (`Extract`, one per
table, run once per named graph), so `rebuild` can make it again at any time. `ColumnarStore` wraps a
GraphStore and refreshes the rows of each graph it writes or drops; questions use the projection only
while it is `current` (decision 0131).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd
import yaml
from pyoxigraph import NamedNode, Triple

from qualkg.store.base import GraphStore, StoreError
from qualkg.store.cached import ForwardingStore

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_SELECTED = re.compile(r"SELECT\s+(.*?)\s+WHERE", re.IGNORECASE | re.DOTALL)
SCHEMA_VERSION = "1"  # bump when the tables' meaning changes without their extracts changing


@dataclass(frozen=True)
class Extract:
    """One table of the projection: a SELECT over `GRAPH ?g` and how its variables become columns.

    `keys`: IRI variables stored as integer keys (`k(iri)`, a 64-bit hash); `iris`: keys whose IRI text is
    kept too, as `<name>_iri`; `types`: the DuckDB type of every other variable. A `stage` extract makes no
    table: its rows are readable under its name only while `Spec.derive` runs."""

    table: str
    sparql: str = field(repr=False)
    variables: tuple[str, ...]
    keys: tuple[str, ...] = ()
    iris: tuple[str, ...] = ()
    types: Mapping[str, str] = field(default_factory=dict)
    stage: bool = False

    def columns(self) -> list[tuple[str, str]]:
        """(column, DuckDB type) in table order, after the graph column `g`."""
        out: list[tuple[str, str]] = []
        for v in self.variables:
            if v in self.keys:
                out.append((v, "UBIGINT"))
                if v in self.iris:
                    out.append((f"{v}_iri", "VARCHAR"))
            else:
                out.append((v, self.types[v]))
        return out

    def ddl(self) -> str:
        cols = ", ".join(f'"{c}" {t}' for c, t in [("g", "VARCHAR"), *self.columns()])
        return f'CREATE TABLE "{self.table}" ({cols})'

    def insert(self) -> str:
        """The INSERT of one graph's extracted frame (registered as `src`) into the table."""
        values = ["$g"]
        for v in self.variables:
            if v in self.keys:
                values.append(f'k("{v}")')
                if v in self.iris:
                    values.append(f'"{v}"')
            else:
                values.append(f'TRY_CAST("{v}" AS {self.types[v]})')
        return f'INSERT INTO "{self.table}" SELECT {", ".join(values)} FROM src'


def parse_extract(text: str, source: str) -> Extract:
    """An extract `.rq` file: a `#+` YAML header (table, description, keys, iris, types) and a SELECT."""
    header = "\n".join(line[3:] if line.startswith("#+ ") else line[2:]
                       for line in text.splitlines() if line.startswith("#+"))
    meta = yaml.safe_load(header) or {}
    selected = _SELECTED.search(text)
    variables = _selected(selected.group(1)) if selected else ()
    keys, iris, types = tuple(meta.get("keys") or ()), tuple(meta.get("iris") or ()), dict(meta.get("types") or {})
    problems = [f"'{v}' is neither a key nor typed" for v in variables if v not in keys and v not in types]
    problems += [f"'{v}' is not selected" for v in (*keys, *types) if v not in variables]
    problems += [f"iri '{v}' is not a key" for v in iris if v not in keys]
    table = str(meta.get("table", ""))
    if not _NAME.match(table) or not variables or problems:
        raise ValueError(f"{source}: bad extract (table {table!r}, variables {variables}): {'; '.join(problems)}")
    return Extract(table, text, variables, keys, iris, types, bool(meta.get("stage", False)))


@dataclass(frozen=True)
class Spec:
    """What the projection holds: the extracts, the DDL of the tables `derive` fills, and `derive`: the
    statements (`;` at a line's end) run once per graph after its extracts are loaded, with `$g` bound."""

    extracts: Sequence[Extract]
    schema: str
    derive: str

    @property
    def tables(self) -> list[str]:
        """Every table that holds rows per graph."""
        made = [e.table for e in self.extracts if not e.stage]
        return [*made, *re.findall(r"CREATE TABLE (\w+)", self.schema)]

    @property
    def fingerprint(self) -> str:
        text = "\n".join([SCHEMA_VERSION, self.schema, self.derive, *(e.sparql for e in self.extracts)])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def statements(sql: str) -> list[str]:
    """The statements of an SQL file: split where a line ends with `;`, `--` comment lines dropped."""
    kept = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*$", kept, flags=re.MULTILINE) if part.strip()]


def _selected(clause: str) -> tuple[str, ...]:
    """The variables a SELECT clause names: `?v` at depth 0 and `(… AS ?v)`."""
    out, depth, token, prev = [], 0, "", ""
    for ch in clause + " ":
        depth += (ch == "(") - (ch == ")")
        token = token + ch if not ch.isspace() and ch not in "()" else token
        if (ch.isspace() or ch in "()") and token:
            if token.startswith("?") and (depth == 0 or (ch == ")" and prev.upper() == "AS")):
                out.append(token[1:])
            prev, token = token, ""
    return tuple(out)


class Projection:
    """The DuckDB file of the projection (`path`; None: in memory) holding what `spec` describes. Readers
    call `query` from any thread; writes take turns."""

    def __init__(self, path: Path | None, spec: Spec, *, read_only: bool = False,
                 memory_limit_mb: int = 1024, threads: int = 1) -> None:
        self.path, self.spec, self.read_only = path, spec, read_only
        self._derive = statements(spec.derive)
        config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": f"{memory_limit_mb}MB",
                                                                   "threads": threads}
        try:
            self._db = duckdb.connect(str(path) if path else ":memory:", read_only=read_only, config=config)
        except duckdb.Error as e:
            raise StoreError(f"cannot open the columnar projection {path}: {e}") from e
        self._lock = threading.Lock()  # one writer at a time
        self._reads = threading.Condition()  # guards `_reading` and `_closed`: close waits for running reads
        self._reading = 0
        self._closed = False
        self._pending = 0  # writes of the graph in progress: the projection may lag behind them
        if not read_only:
            self._create()
        self._stale: set[str] = set(self._graphs_in("stale", "pending"))

    # -- state ----------------------------------------------------------------------------------
    @property
    def current(self) -> bool:
        """Whether the projection holds what the graph holds: no write in progress, no graph left stale."""
        return self._pending == 0 and not self._stale

    @property
    def stale(self) -> list[str]:
        """Graphs whose last refresh failed (or was cut short): rebuilt by the next write of them or `sync`."""
        return sorted(self._stale)

    def graphs(self) -> list[str]:
        """The graphs the projection holds current rows of."""
        return self._graphs_in("current")

    # -- reads ----------------------------------------------------------------------------------
    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run one statement with named `$parameters`; its result as a DataFrame (StoreError once closed)."""
        with self._reads:
            if self._closed:
                raise StoreError("the columnar projection is closed")
            self._reading += 1
        try:
            cursor = self._db.cursor()
            try:
                return cursor.execute(sql, dict(params or {})).df()
            finally:
                cursor.close()
        except duckdb.Error as e:
            raise StoreError(f"the columnar projection could not answer: {e}") from e
        finally:
            with self._reads:
                self._reading -= 1
                self._reads.notify_all()

    # -- writes ---------------------------------------------------------------------------------
    @contextmanager
    def writing(self, graphs: Sequence[str]) -> Iterator[None]:
        """Around a write of `graphs` to the store: the projection is not current until the block ends."""
        with self._lock:
            self._pending += 1
        try:
            self._set_state(graphs, "pending")
            yield
        finally:
            with self._lock:
                self._pending -= 1

    def refresh(self, store: GraphStore, graphs: Iterable[str]) -> bool:
        """Replace the rows of `graphs` by what the store holds now (none for a graph it no longer has), in
        one transaction. A failure is logged and leaves those graphs stale; returns whether it succeeded."""
        graphs = list(graphs)
        try:
            present = set(store.graphs())
            frames = {g: self._extract(store, g) for g in graphs if g in present}
            with self._transaction() as cur:
                self._delete(cur, graphs)
                for g, tables in frames.items():
                    for extract, frame in tables:
                        if extract.stage:
                            cur.register(extract.table, frame)
                        elif len(frame):
                            cur.register("src", frame)
                            cur.execute(extract.insert(), {"g": g})
                            cur.unregister("src")
                    for statement in self._derive:
                        cur.execute(statement, {"g": g} if "$g" in statement else {})
                    for extract, _ in tables:
                        if extract.stage:
                            cur.unregister(extract.table)
                cur.execute("INSERT INTO projected SELECT unnest($gs), 'current'", {"gs": list(frames)})
        except Exception as e:  # the graph is written; the projection must not pretend to follow it
            # one line, no traceback: a full disk here is an operating condition, and the CLI prints no tracebacks
            log.error("refreshing the columnar projection of %s failed (%s: %s): it is stale until rebuilt",
                      graphs, type(e).__name__, e)
            self._set_state(graphs, "stale")
            return False
        self._stale -= set(graphs)
        return True

    def sync(self, store: GraphStore) -> list[str]:
        """Bring the projection up to the store: refresh the graphs it lacks or holds stale, forget the ones
        the store no longer has. Returns the graphs refreshed or forgotten."""
        held, present = set(self.graphs()), set(store.graphs())
        changed = sorted((present - held) | set(self._stale) | (held - present))
        for g in changed:
            self.refresh(store, [g])
        return changed

    def rebuild(self, store: GraphStore) -> int:
        """Make the whole projection again from the store (`qualkg reindex`); returns the graphs projected."""
        with self._transaction() as cur:
            self._drop_tables(cur)
        self._create()
        self._stale.clear()
        graphs = store.graphs()
        failed = [g for g in graphs if not self.refresh(store, [g])]
        if failed:
            raise StoreError(f"the columnar projection of {', '.join(failed)} could not be rebuilt (see the log)")
        return len(graphs)

    def close(self, wait_s: float = 30.0) -> None:
        """Close after the reads running now (up to `wait_s`) and any write in progress; later reads fail."""
        with self._reads:
            self._closed = True
            self._reads.wait_for(lambda: self._reading == 0, timeout=wait_s)
        with self._lock:
            self._db.close()

    # -- helpers --------------------------------------------------------------------------------
    def _extract(self, store: GraphStore, graph: str) -> list[tuple[Extract, pd.DataFrame]]:
        return [(e, store.select_df(e.sparql, {"g": NamedNode(graph)})) for e in self.spec.extracts]

    def _delete(self, cur: duckdb.DuckDBPyConnection, graphs: Sequence[str]) -> None:
        for table in [*self.spec.tables, "projected"]:
            cur.execute(f'DELETE FROM "{table}" WHERE g IN (SELECT unnest($gs))', {"gs": list(graphs)})

    def _set_state(self, graphs: Sequence[str], state: str) -> None:
        if state == "stale":
            self._stale |= set(graphs)
        with self._transaction() as cur:
            cur.execute("DELETE FROM projected WHERE g IN (SELECT unnest($gs))", {"gs": list(graphs)})
            cur.execute("INSERT INTO projected SELECT unnest($gs), $state", {"gs": list(graphs), "state": state})

    def _graphs_in(self, *states: str) -> list[str]:
        rows = self.query("SELECT g FROM projected WHERE state IN (SELECT unnest($s)) ORDER BY g", {"s": list(states)})
        return [str(g) for g in rows["g"]]

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            cur = self._db.cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def _create(self) -> None:
        """Create the tables when the file is new, or again when they were made by other extracts."""
        with self._transaction() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            found = cur.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if found and found[0] == self.spec.fingerprint:
                return
            self._drop_tables(cur)
            cur.execute("CREATE OR REPLACE MACRO k(v) AS CASE WHEN v IS NULL THEN NULL ELSE hash(v) END")
            for e in self.spec.extracts:
                if not e.stage:
                    cur.execute(e.ddl())
            for statement in statements(self.spec.schema):
                cur.execute(statement)
            cur.execute("CREATE TABLE projected (g VARCHAR, state VARCHAR)")
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('schema', $s)", {"s": self.spec.fingerprint})

    def _drop_tables(self, cur: duckdb.DuckDBPyConnection) -> None:
        for (name,) in cur.execute("SELECT table_name FROM information_schema.tables WHERE table_name <> 'meta'"
                                   ).fetchall():
            cur.execute(f'DROP TABLE "{name}"')
        cur.execute("DELETE FROM meta")


class ColumnarStore(ForwardingStore):
    """GraphStore refreshing `projection` with every write and drop it passes on: the rows of exactly the
    graphs written, after the store committed them; a failed refresh leaves them stale (decision 0131)."""

    def __init__(self, inner: GraphStore, projection: Projection) -> None:
        super().__init__(inner)
        self.projection = projection

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        return self._written([graph], lambda: self.inner.replace_graph(graph, triples))

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        return self._written(list(graphs), lambda: self.inner.replace_graphs(graphs))

    def drop_graph(self, graph: str) -> bool:
        return self._written([graph], lambda: self.inner.drop_graph(graph))

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.projection.close()

    def _written(self, graphs: list[str], write: Callable[[], _T]) -> _T:
        with self.projection.writing(graphs):
            try:
                return write()
            finally:  # also after a failed write, which left the graphs as they were: their rows are read again
                self.projection.refresh(self.inner, graphs)


def projection_of(store: object) -> Projection | None:
    """The projection a store (or a wrapper around it) keeps current, if any."""
    while store is not None:
        if isinstance(store, ColumnarStore):
            return store.projection
        store = getattr(store, "inner", None)
    return None
