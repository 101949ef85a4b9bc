"""The columnar projection follows the store's writes: per graph, after the write, never ahead of it.

Counts from tests/fixture_study.py: 5 excerpts X1–X5 (X5 carries two codes: 6 excerpt × code rows),
4 participants, 2 teams; a second copy of the study under another id holds the same counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qualkg.ingest.mapping import map_study
from qualkg.queries.sql_catalog import projection_spec
from qualkg.store import open_store
from qualkg.store.base import GraphStore, StoreError
from qualkg.store.columnar import ColumnarStore, Projection, Spec, parse_extract, projection_of
from qualkg.wiring import load_model
from tests.conftest import IRIS
from tests.fixture_study import fixture_records

FX, FY = IRIS.graph("fx"), IRIS.graph("fy")


def counts(projection: Projection, graph: str) -> tuple[int, int, int]:
    """(excerpts, excerpt × code rows, participants) the projection holds for `graph`."""
    row = projection.query("SELECT (SELECT count(*) FROM excerpt WHERE g = $g), (SELECT count(*) FROM excerpt_code "
                           "WHERE g = $g), (SELECT count(*) FROM participant WHERE g = $g) AS n", {"g": graph})
    return tuple(int(v) for v in row.iloc[0])  # type: ignore[return-value]


@pytest.fixture
def store() -> Iterator[ColumnarStore]:
    wrapped = ColumnarStore(open_store("oxigraph", path=None), Projection(None, projection_spec()))
    load_model(wrapped)
    yield wrapped
    wrapped.close()


def test_a_write_fills_only_its_graph(store: ColumnarStore) -> None:
    store.replace_graph(FX, map_study(fixture_records(), IRIS))
    assert counts(store.projection, FX) == (5, 6, 4)
    store.replace_graphs({FY: map_study(fixture_records("fy"), IRIS)})
    assert counts(store.projection, FY) == (5, 6, 4)
    assert counts(store.projection, FX) == (5, 6, 4)
    assert store.projection.current and set(store.projection.graphs()) >= {FX, FY}


def test_a_rewrite_replaces_and_a_drop_removes_the_rows(store: ColumnarStore) -> None:
    store.replace_graphs({FX: map_study(fixture_records(), IRIS), FY: map_study(fixture_records("fy"), IRIS)})
    records = fixture_records()
    records.excerpts = records.excerpts[:2]  # X1, X2: one code each
    store.replace_graph(FX, map_study(records, IRIS))
    assert counts(store.projection, FX) == (2, 2, 4)
    assert store.drop_graph(FY)
    assert counts(store.projection, FY) == (0, 0, 0)
    assert FY not in store.projection.graphs() and store.projection.current


def test_a_failed_refresh_leaves_the_graph_stale_and_the_write_done(store: ColumnarStore) -> None:
    """The write stands (the graph is the record); the projection says it is not current (decision 0131)."""
    broken = Spec([*store.projection.spec.extracts,
                   parse_extract("#+ table: nope\n#+ types: {v: VARCHAR}\nSELECT ?v WHERE { GRAPH ?g { ?v ?v ?v } }",
                                 "nope.rq")], store.projection.spec.schema, "INSERT INTO missing_table SELECT 1;")
    store.projection = Projection(None, broken)
    store.replace_graph(FX, map_study(fixture_records(), IRIS))
    assert store.triple_count(FX) > 0
    assert not store.projection.current and store.projection.stale == [FX]


def test_not_current_while_the_store_is_written(store: ColumnarStore) -> None:
    seen: list[bool] = []

    class Watching:
        """The inner store, noting whether the projection says it is current during the write."""

        def __init__(self, inner: GraphStore) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def replace_graph(self, graph: str, triples: object) -> int:
            seen.append(store.projection.current)
            return self.inner.replace_graph(graph, triples)  # type: ignore[arg-type]

    store.inner = Watching(store.inner)  # type: ignore[assignment]
    store.replace_graph(FX, map_study(fixture_records(), IRIS))
    assert seen == [False] and store.projection.current


def test_a_failed_write_keeps_the_rows(store: ColumnarStore) -> None:
    store.replace_graph(FX, map_study(fixture_records(), IRIS))
    with pytest.raises(StoreError):
        store.replace_graph(FX, ["not a triple"])  # type: ignore[list-item]
    assert counts(store.projection, FX) == (5, 6, 4) and store.projection.current


def test_reopened_it_catches_up_with_the_store(tmp_path: Path) -> None:
    """A projection file that missed a write (made by a process without it) is brought up to the store by
    `sync`; one made by other extracts is made again."""
    graph_store = open_store("oxigraph", path=tmp_path / "store")
    projection = Projection(tmp_path / "p.duckdb", projection_spec())
    ColumnarStore(graph_store, projection).replace_graph(FX, map_study(fixture_records(), IRIS))
    graph_store.replace_graph(FY, map_study(fixture_records("fy"), IRIS))  # behind the projection's back
    graph_store.drop_graph(FX)
    projection.close()
    again = Projection(tmp_path / "p.duckdb", projection_spec())
    assert again.graphs() == [FX]
    assert again.sync(graph_store) == [FX, FY]
    assert again.graphs() == [FY] and counts(again, FY) == (5, 6, 4) and counts(again, FX) == (0, 0, 0)
    again.close()
    spec = projection_spec()
    other = Projection(tmp_path / "p.duckdb", Spec(spec.extracts[1:], spec.schema, spec.derive))
    assert other.graphs() == []  # other tables: made again, empty until synced
    other.close()
    graph_store.close()


def test_rebuild_makes_it_again_from_the_graph(store: ColumnarStore) -> None:
    store.replace_graph(FX, map_study(fixture_records(), IRIS))
    store.projection.query("DELETE FROM excerpt")
    assert counts(store.projection, FX) == (0, 6, 4)
    assert store.projection.rebuild(store.inner) == len(store.graphs())
    assert counts(store.projection, FX) == (5, 6, 4)


def test_projection_of_finds_it_under_other_wrappers(store: ColumnarStore) -> None:
    from qualkg.store.cached import CachedStore

    assert projection_of(CachedStore(store)) is store.projection
    assert projection_of(store.inner) is None


@pytest.mark.parametrize(("text", "problem"), [
    ("#+ table: t\n#+ keys: [x]\nSELECT ?x ?y WHERE { GRAPH ?g { ?x ?p ?y } }", "'y' is neither a key nor typed"),
    ("#+ table: t\n#+ keys: [x, z]\nSELECT ?x WHERE { GRAPH ?g { ?x ?p ?y } }", "'z' is not selected"),
    ("#+ table: T-1\n#+ keys: [x]\nSELECT ?x WHERE { GRAPH ?g { ?x ?p ?y } }", "table 'T-1'"),
])
def test_a_bad_extract_is_refused_with_its_file(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as refused:
        parse_extract(text, "bad.rq")
    assert "bad.rq" in str(refused.value)


def test_close_waits_for_a_running_read_and_refuses_later_ones() -> None:
    """Shutting the server down while a question runs on the projection: the read finishes with its answer,
    close does not fail ("connection is busy"), and a read after it is a StoreError, not a crash."""
    projection = Projection(None, projection_spec())
    answers: list[object] = []
    reader = threading.Thread(target=lambda: answers.append(
        projection.query("SELECT count(*) AS n FROM range(300000000) t(i) WHERE i % 7 = 0").iloc[0, 0]))
    reader.start()
    time.sleep(0.05)  # the read is running
    projection.close()
    reader.join()
    assert answers == [42857143]  # ceil(300,000,000 / 7), by hand
    with pytest.raises(StoreError, match="closed"):
        projection.query("SELECT 1")
