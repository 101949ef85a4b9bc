"""An answer cache in front of a store that only this process writes (the embedded Oxigraph store).

A question's answer is a function of its query text, its bound parameters and the store's content,
and the content changes only through this object's write methods. So answers are kept under
(query, parameters, generation), and every write moves to a new generation: an answer computed
before a write is never served after it. A read that races a write keys its answer with the
generation it *started* under, so at worst it is stored under a generation no one asks for again.

Only for a store no other process writes: a remote SPARQL server can change under us, so the
composition root (qualkg.wiring) wraps the embedded store only.

What is cached: `select_df` (each caller gets its own frame over the cached data; pandas'
copy-on-write copies on a change), `ask` and `query_raw` (immutable values), and whatever a caller
hands to `remember`. `select` and `construct` return mutable lists and are passed through.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future
from threading import Lock
from typing import TypeVar

import pandas as pd
from pyoxigraph import Triple

from store.base import Bindings, ExportFormat, GraphStore, Row

_T = TypeVar("_T")
_ABSENT = object()  # "nothing kept" (None can be a kept value)


class CachedStore:
    """GraphStore that remembers up to `max_answers` answers, least recently used dropped first."""

    def __init__(self, inner: GraphStore, max_answers: int = 512) -> None:
        self.inner = inner
        self.max_answers = max_answers
        self.generation = 0
        self.hits = self.misses = 0
        self._answers: OrderedDict[Hashable, object] = OrderedDict()
        self._pending: dict[Hashable, Future[object]] = {}
        self._lock = Lock()

    # -- writes: delegate, then start a new generation ------------------------------------------
    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        try:
            return self.inner.replace_graph(graph, triples)
        finally:
            self._invalidate()

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        try:
            return self.inner.replace_graphs(graphs)
        finally:
            self._invalidate()

    def drop_graph(self, graph: str) -> bool:
        try:
            return self.inner.drop_graph(graph)
        finally:
            self._invalidate()

    # -- cached reads ---------------------------------------------------------------------------
    def select_df(self, query: str, bindings: Bindings | None = None) -> pd.DataFrame:
        frame = self.remember(("select_df", query, _key(bindings)), lambda: self.inner.select_df(query, bindings))
        return frame.copy(deep=False)  # a new frame over the same data: a caller's change copies first (CoW)

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return self.remember(("ask", query, _key(bindings)), lambda: self.inner.ask(query, bindings))

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        return self.remember(("raw", query, media_type), lambda: self.inner.query_raw(query, media_type, timeout_s))

    # -- passed through -------------------------------------------------------------------------
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
        self._invalidate()
        self.inner.close()

    # -- the cache ------------------------------------------------------------------------------
    def kept(self, key: tuple[Hashable, ...]) -> object | None:
        """The value kept under `key` (see `remember`) in this generation, or None; never computes,
        so an async caller can look without leaving its event loop."""
        with self._lock:
            found = self._hit((self.generation, *key))
        return None if found is _ABSENT else found

    def remember(self, key: tuple[Hashable, ...], compute: Callable[[], _T]) -> _T:
        """The kept answer, or one computation of it: callers asking the same thing while it is being
        computed wait for that computation instead of starting their own (16 identical requests
        arriving together would otherwise evaluate the question 16 times on 2 cores).

        Also for values a layer above derives from the store's content only (the API keeps finished
        answers here): they are dropped at the next write like the store's own. The value must not
        be changed by callers; `key` must not collide with the store's own keys (their first item
        is the method name)."""
        with self._lock:
            full_key = (self.generation, *key)
            found = self._hit(full_key)
            if found is not _ABSENT:
                return found  # type: ignore[return-value]
            pending = self._pending.get(full_key)
            if pending is None:
                pending = self._pending[full_key] = Future()
                mine = True
                self.misses += 1
            else:
                mine = False
                self.hits += 1
        if not mine:
            return pending.result()  # re-raises the computation's error, as the caller's own would
        try:
            value = compute()  # outside the lock: readers run in parallel (pyoxigraph releases the GIL)
        except BaseException as e:
            with self._lock:
                del self._pending[full_key]
            pending.set_exception(e)
            raise
        with self._lock:
            del self._pending[full_key]
            if full_key[0] == self.generation:
                self._answers[full_key] = value
                while len(self._answers) > self.max_answers:
                    self._answers.popitem(last=False)
        pending.set_result(value)
        return value

    def _hit(self, full_key: tuple[Hashable, ...]) -> object:
        """The kept value (counted as a hit, made most recent) or _ABSENT. The caller holds the lock."""
        if full_key not in self._answers:
            return _ABSENT
        self._answers.move_to_end(full_key)
        self.hits += 1
        return self._answers[full_key]

    def _invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._answers.clear()


def _key(bindings: Bindings | None) -> tuple[tuple[str, str], ...]:
    """Bindings as a hashable key; terms by their N-Triples form, so equal terms give equal keys."""
    return tuple(sorted((name, str(term)) for name, term in (bindings or {}).items()))
