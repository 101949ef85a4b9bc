"""Python use: the API's named questions as pandas DataFrames, for notebooks and scripts (decision 0015).

    >>> import qualkg
    >>> kg = qualkg.connect()  # the configured store: that of `make run` by default
    >>> kg.ask("challenges-by-context", role="peer-practitioner", feature="flattened-hierarchy").columns.tolist()
    ['theme', 'subtheme', 'code', 'excerpts', 'participants', 'studies', 'synthetic', 'example']
    >>> "matrix" in set(kg.questions()["id"])
    True
    >>> kg.close()

Answers are not disclosure-controlled: the caller owns the store. While `qualkg serve` runs on the same
store, `connect()` reads it read-only beside the server (docs/clients.md).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from qualkg.queries.catalog import Catalog, default_catalog
from qualkg.settings import Settings
from qualkg.store.base import GraphStore
from qualkg.wiring import build_store


class QualKG:
    def __init__(self, store: GraphStore, catalog: Catalog) -> None:
        self.store = store
        self.catalog = catalog

    def ask(self, question: str, *, limit: int | None = None, offset: int = 0, **params: object) -> pd.DataFrame:
        """Run a named question; parameters as keyword arguments (strings, numbers or booleans)."""
        raw = {k: None if v is None else (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items()}
        return self.catalog.run(self.store, question, raw, limit=limit, offset=offset)

    def questions(self) -> pd.DataFrame:
        return pd.DataFrame([{"id": q.id, "title": q.title, "params": ", ".join(p.name for p in q.params)}
                             for q in sorted(self.catalog.questions.values(), key=lambda q: q.id)])

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> QualKG:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(store_path: str | Path | None = None, settings: Settings | None = None) -> QualKG:
    """Open the configured store (or the one at `store_path`) with the named questions."""
    settings = settings or Settings()
    if store_path is not None:
        settings = settings.model_copy(update={"store_path": Path(store_path)})
    return QualKG(build_store(settings), default_catalog(settings.base_iri))
