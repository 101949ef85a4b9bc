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

Kept warm (`keep_warm`, off until called): a write would otherwise leave the next caller of every
question to pay its full evaluation (seconds at 100k excerpts). With a warmer registered, a
background thread runs it at once and again after every write, and re-evaluates the reads callers
made since the write before (up to `max_refresh`, most recent first), so what is being asked is
answered from memory again soon after a write. A caller asking while that runs waits for the same
evaluation (single flight) rather than starting a second one; a write during a refresh restarts it
for the new content.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future
from threading import Condition, Lock, Thread, current_thread
from typing import TypeVar

import pandas as pd
from pyoxigraph import Triple

from qualkg.store.base import Bindings, ExportFormat, GraphStore, Row

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_ABSENT = object()  # "nothing kept" (None can be a kept value)


class CachedStore:
    """GraphStore that remembers up to `max_answers` answers, least recently used dropped first."""

    def __init__(self, inner: GraphStore, max_answers: int = 512, max_refresh: int = 64) -> None:
        self.inner = inner
        self.max_answers = max_answers
        self.max_refresh = max_refresh
        self.generation = 0
        self.hits = self.misses = 0
        # Warming is due again at every write and every new warmer (`_due` counts both); `_done` is
        # the count the last finished warming started from.
        self._due, self._done = 0, -1
        self._answers: OrderedDict[Hashable, object] = OrderedDict()
        self._pending: dict[Hashable, Future[object]] = {}
        self._lock = Lock()
        self._changed = Condition(self._lock)  # a write happened, warming finished, or closing
        # Reads callers made in this generation (key -> how to evaluate it again), most recent last.
        self._asked: OrderedDict[tuple[Hashable, ...], Callable[[], object]] = OrderedDict()
        self._to_refresh: OrderedDict[tuple[Hashable, ...], Callable[[], object]] = OrderedDict()
        self._warmers: list[Callable[[], object]] = []
        self._warmer_thread: Thread | None = None
        self._closing = False

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
        frame = self._read(("select_df", query, _key(bindings)), lambda: self.inner.select_df(query, bindings))
        return frame.copy(deep=False)  # a new frame over the same data: a caller's change copies first (CoW)

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return self._read(("ask", query, _key(bindings)), lambda: self.inner.ask(query, bindings))

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        return self._read(("raw", query, media_type), lambda: self.inner.query_raw(query, media_type, timeout_s))

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
        with self._lock:
            self._closing = True
            self._changed.notify_all()
        if self._warmer_thread is not None and self._warmer_thread is not current_thread():
            self._warmer_thread.join()  # an evaluation in progress finishes first: pyoxigraph cannot cancel it
        self._invalidate()
        self.inner.close()

    # -- kept warm ------------------------------------------------------------------------------
    def keep_warm(self, warmer: Callable[[], object]) -> None:
        """Run `warmer` (reads through this store, e.g. every named question with its defaults) in the
        background now and after every write; see the module's docstring."""
        with self._lock:
            self._warmers.append(warmer)
            self._due += 1
            if self._warmer_thread is None:
                self._warmer_thread = Thread(target=self._keep_warm, name="answer-warmer", daemon=True)
                self._warmer_thread.start()
            self._changed.notify_all()

    @property
    def keeps_warm(self) -> bool:
        return bool(self._warmers)

    def wait_warm(self, timeout_s: float | None = None) -> bool:
        """Whether warming the current content finished (waiting up to `timeout_s` for it)."""
        with self._lock:
            return self._changed.wait_for(lambda: self._done == self._due or self._closing, timeout_s) \
                and self._done == self._due

    def _keep_warm(self) -> None:
        while True:
            with self._lock:
                self._changed.wait_for(lambda: self._closing or self._done != self._due)
                if self._closing:
                    return
                due, work = self._due, [*self._warmers, *self._to_refresh.values()]
            for evaluate in work:
                if self._due != due or self._closing:
                    break  # written meanwhile (or a warmer added): start over
                try:
                    evaluate()
                except Exception:  # a failed warm-up must not stop the others; a caller asking sees the error
                    log.warning("warming an answer failed", exc_info=True)
            with self._lock:
                if self._due == due and not self._closing:
                    self._done = due
                    self._to_refresh.clear()
                    self._changed.notify_all()

    # -- the cache ------------------------------------------------------------------------------
    def _read(self, key: tuple[Hashable, ...], compute: Callable[[], _T]) -> _T:
        """`remember` for the store's own reads, noting a caller's read so it is refreshed after a write.
        Only a read that succeeded: a query that fails or times out (and, in Oxigraph, runs on to its
        end regardless) must not be run again in the background after every write."""
        value = self.remember(key, compute)
        if self._warmer_thread is not None and current_thread() is not self._warmer_thread:
            with self._lock:
                self._asked[key] = lambda: self.remember(key, compute)
                self._asked.move_to_end(key)
                while len(self._asked) > self.max_refresh:
                    self._asked.popitem(last=False)
        return value

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
            self._due += 1
            self._answers.clear()
            # What callers asked before this write is evaluated again for them, most recent first, with
            # what an interrupted refresh had still to do; a refresh is not a caller's read, so what no
            # one asks again is not refreshed after the next write.
            self._to_refresh = OrderedDict([*reversed(self._asked.items()), *self._to_refresh.items()])
            while len(self._to_refresh) > self.max_refresh:
                self._to_refresh.popitem()
            self._asked.clear()
            self._changed.notify_all()


def _key(bindings: Bindings | None) -> tuple[tuple[str, str], ...]:
    """Bindings as a hashable key; terms by their N-Triples form, so equal terms give equal keys."""
    return tuple(sorted((name, str(term)) for name, term in (bindings or {}).items()))
