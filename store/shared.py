"""An embedded store directory shared with the one process that writes it (decision 0115).

The writer (`qualkg serve`) records its address beside the directory (`write_record`) and removes it on
stop; `read_record` gives it to other processes while that process lives. They read through
`ReadOnlyStore`, which reopens the directory when the writer's compaction removed files under it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pyoxigraph import Triple

from qualkg.store.base import Bindings, ExportFormat, Row, StoreError
from qualkg.store.oxigraph import OxigraphStore

if TYPE_CHECKING:
    import pandas as pd

_T = TypeVar("_T")
ATTEMPTS = 5  # a reader reopens at most this often per call; each reopen sees the writer's latest state


@dataclass(frozen=True, slots=True)
class WriterRecord:
    """The process that writes a store directory, and the URL it serves."""

    pid: int
    url: str


def record_path(store_path: Path) -> Path:
    """Where the writer's record lives: beside the directory (`.qualkg/store.server.json`)."""
    return store_path.with_name(store_path.name + ".server.json")


def write_record(store_path: Path, url: str) -> None:
    path = record_path(store_path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"pid": os.getpid(), "url": url}))
    temporary.replace(path)


def remove_record(store_path: Path) -> None:
    """Remove this process's record (another process's is left alone)."""
    record = read_record(store_path)
    if record is not None and record.pid == os.getpid():
        record_path(store_path).unlink(missing_ok=True)


def read_record(store_path: Path) -> WriterRecord | None:
    """The writer's record, or None when there is none or its process is gone (a killed server's record)."""
    try:
        data = json.loads(record_path(store_path).read_text())
        record = WriterRecord(int(data["pid"]), str(data["url"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return record


def held_by_another(error: StoreError) -> bool:
    """Whether opening the directory failed because another process holds its lock."""
    return "lock" in str(error).lower()


def _stale(error: StoreError) -> bool:
    """The writer compacted files away under this reader's view (RocksDB reports it as corruption)."""
    text = str(error)
    return "No such file or directory" in text or "Corruption" in text


class ReadOnlyStore:
    """GraphStore over a directory another process writes: every read on a read-only open, reopened (up to
    ATTEMPTS times) when the writer removed files under it; every write refused with `refusal`."""

    def __init__(self, path: Path, refusal: str) -> None:
        self.path, self.refusal = path, refusal
        self._store: OxigraphStore | None = None

    def _reader(self) -> OxigraphStore:
        if self._store is None:
            self._store = OxigraphStore.read_only(self.path)
        return self._store

    def _read(self, call: Callable[[OxigraphStore], _T]) -> _T:
        for attempt in range(ATTEMPTS):
            try:
                return call(self._reader())
            except StoreError as e:
                if not _stale(e) or attempt == ATTEMPTS - 1:
                    raise
                self._store = None
        raise AssertionError("unreachable")

    def replace_graph(self, graph: str, triples: Iterable[Triple]) -> int:
        raise StoreError(self.refusal)

    def replace_graphs(self, graphs: Mapping[str, Iterable[Triple]]) -> dict[str, int]:
        raise StoreError(self.refusal)

    def drop_graph(self, graph: str) -> bool:
        raise StoreError(self.refusal)

    def graphs(self) -> list[str]:
        return self._read(lambda s: s.graphs())

    def triple_count(self, graph: str) -> int:
        return self._read(lambda s: s.triple_count(graph))

    def select(self, query: str, bindings: Bindings | None = None) -> list[Row]:
        return self._read(lambda s: s.select(query, bindings))

    def select_df(self, query: str, bindings: Bindings | None = None) -> pd.DataFrame:
        return self._read(lambda s: s.select_df(query, bindings))

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        return self._read(lambda s: s.ask(query, bindings))

    def construct(self, query: str, bindings: Bindings | None = None) -> list[Triple]:
        return self._read(lambda s: s.construct(query, bindings))

    def query_raw(self, query: str, media_type: str, timeout_s: float | None = None) -> bytes:
        return self._read(lambda s: s.query_raw(query, media_type, timeout_s))

    def export(self, graph: str | None, fmt: ExportFormat) -> bytes:
        return self._read(lambda s: s.export(graph, fmt))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
