"""Read-only copies of one store's content for the SPARQL sandbox (decision 0060).

One copy per generation, made when the first raw query after a write asks for it; a stale copy is deleted
once no evaluation or worker uses it. The folder is emptied at first use and removed at close.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from threading import Lock

from qualkg.store.base import StoreError

Copy = Callable[[Path], int]  # writes the content to a new directory, returns the generation it holds


class Snapshots:
    """Copies of a store's content made by `copy`, under `folder` (None: a new temporary folder);
    `in_use` names the directories workers still have open (SparqlSandbox.snapshots_in_use)."""

    def __init__(self, folder: Path | None, copy: Copy, in_use: Callable[[], set[str]]) -> None:
        self._folder = folder
        self._temporary = folder is None
        self._copy = copy
        self._in_use = in_use
        self._ready = False
        self._lock = Lock()
        self._names = count(1)
        self._current: tuple[int, Path] | None = None
        self._held: Counter[Path] = Counter()
        self._remove: weakref.finalize[..., Snapshots] | None = None  # a temporary folder's removal, at close or exit
        self.made = 0  # copies made so far

    @property
    def folder(self) -> Path | None:
        return self._folder if self._ready else None

    @contextmanager
    def use(self, generation: int) -> Iterator[Path]:
        """A copy holding `generation` (or a later one), kept on disk while the block runs."""
        with self._lock:
            path = self._current_copy(generation)
            self._held[path] += 1
        try:
            yield path
        finally:
            with self._lock:
                self._held[path] -= 1
                if not self._held[path]:
                    del self._held[path]
                self._prune()

    def prune(self) -> None:
        """Delete every copy but the current one that nothing uses any more."""
        with self._lock:
            self._prune()

    def close(self) -> None:
        with self._lock:
            if self._ready and self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
            self._ready, self._current = False, None
            if self._temporary:
                self._folder = None
            if self._remove is not None:
                self._remove.detach()

    def _current_copy(self, generation: int) -> Path:
        """The lock is held."""
        if self._current is not None and self._current[0] >= generation:
            return self._current[1]
        folder = self._prepare()
        target = folder / f"g{generation}-{next(self._names)}"
        try:
            held = self._copy(target)
        except (OSError, RuntimeError) as e:
            shutil.rmtree(target, ignore_errors=True)
            raise StoreError(f"could not make a read-only copy of the store for raw SPARQL: {e}") from e
        self._current = (held, target)
        self.made += 1
        self._prune()
        return target

    def _prepare(self) -> Path:
        if not self._ready:
            if self._folder is None:
                self._folder = Path(tempfile.mkdtemp(prefix="qualkg-sparql-"))
                # also when the store is dropped without close, or the process exits (tests do both)
                self._remove = weakref.finalize(self, shutil.rmtree, str(self._folder), True)
            else:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder.mkdir(parents=True)
            self._ready = True
        assert self._folder is not None
        return self._folder

    def _prune(self) -> None:
        """The lock is held."""
        if not self._ready or self._folder is None:
            return
        keep = {str(p) for p in self._held} | self._in_use()
        if self._current is not None:
            keep.add(str(self._current[1]))
        for child in self._folder.iterdir():
            if str(child) not in keep:
                shutil.rmtree(child, ignore_errors=True)
