"""Finished HTTP answers kept for the store's current content, and kept warm after every write (decision 0003)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from threading import Condition, Thread
from typing import TypeVar

from qualkg.store.cached import CachedStore, Memo

log = logging.getLogger(__name__)
_T = TypeVar("_T")
Work = tuple[Hashable, Callable[[], object]]  # a key and how to compute the answer kept under it


class AnswerCache:
    """Up to `max_answers` answers for the store's current generation, at most `max_bytes` together.

    `max_bytes` None takes `CachedStore.max_bytes`; a larger answer is not kept. Kept warm (`keep_warm`),
    it recomputes given answers, then up to `max_refresh` recently asked ones, after every write (decision 0003).
    """

    def __init__(self, store: CachedStore, max_answers: int = 512, max_refresh: int = 64,
                 max_bytes: int | None = None) -> None:
        self.store = store
        self.max_refresh = max_refresh
        self._memo = Memo(max_answers, store.max_bytes if max_bytes is None else max_bytes)
        self._changed = Condition()  # a warming finished
        self._asked: OrderedDict[Hashable, Callable[[], object]] = OrderedDict()  # by callers; most recent last
        self._to_refresh: OrderedDict[Hashable, Callable[[], object]] = OrderedDict()
        self._warmed: int | None = None  # the generation the last finished warming was for
        self._warmer: Thread | None = None

    def kept(self, key: Hashable) -> object | None:
        """The answer kept under `key`, or None; never computes, so an async caller can look from its event loop."""
        return self._memo.kept(self.store.generation, key)

    def remember(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        """The kept answer, or one computation of it (callers asking meanwhile wait for it). When kept warm, a
        caller's answer that succeeded is noted to be computed again after the next write."""
        value = self._memo.remember(self.store.generation, key, compute)
        if self._warmer is not None:
            with self._changed:
                self._asked[key] = compute
                self._asked.move_to_end(key)
                while len(self._asked) > self.max_refresh:
                    self._asked.popitem(last=False)
        return value

    def keep_warm(self, defaults: Sequence[Work]) -> None:
        """Compute `defaults` in a background thread now and after every write, with what callers asked."""
        if self._warmer is not None:
            raise RuntimeError("this answer cache is already kept warm")
        self._warmer = Thread(target=self._keep_warm, args=(defaults,), name="answer-warmer", daemon=True)
        self._warmer.start()

    @property
    def kept_bytes(self) -> int:
        """What the kept answers hold together (store.cached.answer_bytes)."""
        return self._memo.bytes

    @property
    def keeps_warm(self) -> bool:
        return self._warmer is not None

    def wait_warm(self, timeout_s: float | None = None) -> bool:
        """Whether warming the current content finished (waiting up to `timeout_s` for it)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._warmed == self.store.generation, timeout_s)

    def _keep_warm(self, defaults: Sequence[Work]) -> None:
        generation: int | None = self.store.generation
        while generation is not None:
            with self._changed:  # what callers asked, most recent first, then what an interrupted round left
                self._to_refresh = OrderedDict([*reversed(self._asked.items()), *self._to_refresh.items()])
                while len(self._to_refresh) > self.max_refresh:
                    self._to_refresh.popitem()
                self._asked.clear()
                work = [*defaults, *self._to_refresh.items()]
            if self._warm_up(generation, work):
                with self._changed:
                    self._warmed = generation
                    self._to_refresh.clear()
                    self._changed.notify_all()
            generation = self.store.wait_for_write(generation)

    def _warm_up(self, generation: int, work: list[Work]) -> bool:
        """Compute `work` for `generation`; False when a write (or closing) came first."""
        for key, compute in work:
            if self.store.generation != generation:
                return False
            try:
                self._memo.remember(generation, key, compute)
            except Exception:  # one failure must not stop the others; a caller asking gets the error
                if self.store.generation == generation:  # not merely the store written or closed meanwhile
                    log.warning("warming an answer failed", exc_info=True)
        return self.store.generation == generation
