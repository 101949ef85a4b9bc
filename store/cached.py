"""Answers kept per generation of the content of a store that only this process writes (decision 0002).

Every write moves the store to a new generation, and an answer is kept only for the generation it was
computed in. Only for the embedded store: a remote server can change under us (qualkg.wiring decides).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from threading import Condition, Lock
from typing import TypeVar, cast

import pandas as pd
from pyoxigraph import Triple

from qualkg.store.base import Bindings, ExportFormat, GraphStore, Row, StoreError

_T = TypeVar("_T")
_ABSENT = object()  # "nothing kept" (None can be a kept value)


def answer_bytes(value: object) -> int:
    """About how much memory a kept value holds: a serialised answer's length, a DataFrame's memory (its
    strings included), an object's `body`; other values by `sys.getsizeof` (lists and tuples by their items)."""
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(index=True, deep=True).sum())
    body = getattr(value, "body", None)
    if isinstance(body, bytes | bytearray):
        return len(body) + sys.getsizeof(value)
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + sum(answer_bytes(v) for v in value)
    return sys.getsizeof(value)


class Memo:
    """Values derived from a store's content, kept for its latest generation: at most `size` of them and at
    most `max_bytes` together (answer_bytes), least recently used dropped first; a value larger than
    `max_bytes` is returned but not kept. Callers asking for a value being computed wait for that computation
    (single flight)."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0  # what the kept values hold together
        self.hits = self.misses = 0
        self._generation = 0
        self._values: OrderedDict[Hashable, object] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._pending: dict[tuple[int, Hashable], Future[object]] = {}
        self._lock = Lock()

    def kept(self, generation: int, key: Hashable) -> object | None:
        """The value kept under `key` for `generation`, or None; never computes."""
        with self._lock:
            found = self._hit(generation, key)
        return None if found is _ABSENT else found

    def remember(self, generation: int, key: Hashable, compute: Callable[[], _T]) -> _T:
        """The value kept under `key` for `generation`, or one computation of it; a failed one is not kept."""
        with self._lock:
            found = self._hit(generation, key)
            if found is not _ABSENT:
                return cast(_T, found)
            pending = self._pending.get((generation, key))
            mine = pending is None
            if pending is None:
                pending = self._pending[generation, key] = Future()
                self.misses += 1
            else:
                self.hits += 1
        if not mine:
            return cast(_T, pending.result())  # re-raises the computation's error, as the caller's own would
        try:
            value = compute()  # outside the lock: readers run in parallel (pyoxigraph releases the GIL)
        except BaseException as e:
            with self._lock:
                del self._pending[generation, key]
            pending.set_exception(e)
            raise
        nbytes = answer_bytes(value)  # outside the lock: a DataFrame's strings take a while to count
        with self._lock:
            del self._pending[generation, key]
            if generation == self._generation:
                self._keep(key, value, nbytes)
        pending.set_result(value)
        return value

    def __len__(self) -> int:
        return len(self._values)

    def _keep(self, key: Hashable, value: object, nbytes: int) -> None:
        """Keep `value`, then drop the least recently used values beyond both limits. The caller holds the lock."""
        if self.max_bytes is not None and nbytes > self.max_bytes:
            return
        if key in self._values:
            self.bytes -= self._sizes[key]
        self._values[key], self._sizes[key] = value, nbytes
        self._values.move_to_end(key)
        self.bytes += nbytes
        while len(self._values) > self.size or (self.max_bytes is not None and self.bytes > self.max_bytes):
            dropped, _ = self._values.popitem(last=False)
            self.bytes -= self._sizes.pop(dropped)

    def _hit(self, generation: int, key: Hashable) -> object:
        """The kept value (counted as a hit, made most recent) or _ABSENT; a newer generation drops every value.
        The caller holds the lock."""
        if generation > self._generation:
            self._generation = generation
            self._values.clear()
            self._sizes.clear()
            self.bytes = 0
        if generation != self._generation or key not in self._values:
            return _ABSENT
        self._values.move_to_end(key)
        self.hits += 1
        return self._values[key]


DEFAULT_MAX_BYTES = 256 << 20


class ForwardingStore:
    """A GraphStore that passes every call to `inner`: the base of the wrappers that add to some calls."""

    def __init__(self, inner: GraphStore) -> None:
        self.inner = inner

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        return self.inner.replace_graph(graph, triples)

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        return self.inner.replace_graphs(graphs)

    def drop_graph(self, graph: str) -> bool:
        return self.inner.drop_graph(graph)

    def select_df(self, query: str, bindings: Bindings | None = None) -> pd.DataFrame:
        return self.inner.select_df(query, bindings)

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return self.inner.ask(query, bindings)

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        return self.inner.query_raw(query, media_type, timeout_s)

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        return self.inner.select(query, bindings)

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        return self.inner.construct(query, bindings)

    def graphs(self) -> list[str]:
        return self.inner.graphs()

    def triple_count(self, graph: str) -> int:
        return self.inner.triple_count(graph)

    def export(self, graph: str | None, fmt: ExportFormat) -> bytes:
        return self.inner.export(graph, fmt)

    def close(self) -> None:
        self.inner.close()


class CachedStore(ForwardingStore):
    """GraphStore keeping up to `max_answers` answers of `select_df`, `ask` and `query_raw` (immutable, or
    copied per caller), holding at most `max_bytes` together, for the current generation; `select` and
    `construct` return mutable lists: passed through."""

    def __init__(self, inner: GraphStore, max_answers: int = 512, max_bytes: int | None = DEFAULT_MAX_BYTES) -> None:
        super().__init__(inner)
        self.max_bytes = max_bytes  # also the budget of the finished answers kept above it (api.answer_cache)
        self._memo = Memo(max_answers, max_bytes)
        self._generation = 0
        self._closed = False
        self._reading = 0  # cached reads in progress
        self._changed = Condition()  # a write, the end of a read, or closing

    @property
    def generation(self) -> int:
        """The generation of the content: bumped by every write (and by closing)."""
        return self._generation

    @property
    def hits(self) -> int:
        return self._memo.hits

    @property
    def misses(self) -> int:
        return self._memo.misses

    @property
    def kept_bytes(self) -> int:
        """What the kept answers hold together (store.cached.answer_bytes)."""
        return self._memo.bytes

    def wait_for_write(self, generation: int) -> int | None:
        """Block until the content is past `generation`: the current generation, or None once the store is closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._generation != generation)
            return None if self._closed else self._generation

    # -- writes: delegate, then start a new generation ------------------------------------------
    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        try:
            return self.inner.replace_graph(graph, triples)
        finally:
            self._written()

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        try:
            return self.inner.replace_graphs(graphs)
        finally:
            self._written()

    def drop_graph(self, graph: str) -> bool:
        try:
            return self.inner.drop_graph(graph)
        finally:
            self._written()

    # -- cached reads ---------------------------------------------------------------------------
    def select_df(self, query: str, bindings: Bindings | None = None) -> pd.DataFrame:
        frame = self._read(("select_df", query, _key(bindings)), lambda: self.inner.select_df(query, bindings))
        return frame.copy(deep=False)  # a new frame over the same data: a caller's change copies first (CoW)

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return self._read(("ask", query, _key(bindings)), lambda: self.inner.ask(query, bindings))

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        return self._read(("raw", query, media_type), lambda: self.inner.query_raw(query, media_type, timeout_s))

    def close(self) -> None:
        """Refuse further cached reads, wake `wait_for_write`, let the reads in progress end (pyoxigraph
        cannot cancel an evaluation), then close the inner store; closing again does nothing."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            self._generation += 1
            self._changed.notify_all()
            self._changed.wait_for(lambda: self._reading == 0)
        self.inner.close()

    # -- helpers --------------------------------------------------------------------------------
    def _read(self, key: tuple[Hashable, ...], compute: Callable[[], _T]) -> _T:
        with self._open():
            return self._memo.remember(self._generation, key, compute)

    @contextmanager
    def _open(self) -> Iterator[None]:
        """Count a cached read in progress, so that `close` waits for it."""
        with self._changed:
            if self._closed:
                raise StoreError("the graph store is closed")
            self._reading += 1
        try:
            yield
        finally:
            with self._changed:
                self._reading -= 1
                self._changed.notify_all()

    def _written(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()


def _key(bindings: Bindings | None) -> tuple[tuple[str, str], ...]:
    """Bindings as a hashable key; terms by their N-Triples form, so equal terms give equal keys."""
    return tuple(sorted((name, str(term)) for name, term in (bindings or {}).items()))
