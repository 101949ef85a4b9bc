"""The API answers a question from its SQL twin while the projection is current, and from SPARQL otherwise
(decision 0131); disclosure control applies to both the same way. A real uvicorn over the fixture study
(tests/fixture_study.py: 5 excerpts X1–X5 in fx)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.security import key_hash
from qualkg.ingest.mapping import map_study
from qualkg.queries.catalog import default_catalog
from qualkg.queries.sql_catalog import projection_spec
from qualkg.store import open_store
from qualkg.store.columnar import ColumnarStore, Projection
from qualkg.wiring import load_model
from tests.conftest import IRIS, serve
from tests.fixture_study import fixture_records

FX = IRIS.graph("fx")
COUNTS_KEY = "test-key-counts-only"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, ColumnarStore]]:
    store = ColumnarStore(open_store("oxigraph", path=None), Projection(None, projection_spec()))
    load_model(store)
    store.replace_graph(FX, map_study(fixture_records(), IRIS))
    counts_only = ApiKey(key_sha256=key_hash(COUNTS_KEY), name="counts", scopes=frozenset({"aggregate"}))
    config = ApiConfig(open_scopes=frozenset({"aggregate", "excerpts"}), keys=[counts_only], min_cell_count=2,
                       answer_cache=0)
    server, thread = serve(create_app(config, store, default_catalog()))
    yield f"http://127.0.0.1:{server.config.port}", store
    server.should_exit = True
    thread.join(timeout=10)


def excerpts(base: str) -> list[str]:
    answer = httpx.get(f"{base}/questions/excerpts", params={"study": "fx"}, timeout=30)
    assert answer.status_code == 200
    return sorted(row["excerpt"] for row in answer.json()["rows"])


def test_answers_come_from_the_projection_while_it_is_current(served: tuple[str, ColumnarStore]) -> None:
    """Rows deleted from the projection behind its back vanish from the answer: SQL answered. While a write
    is in progress (or a refresh failed) the same question is answered by SPARQL: all five again."""
    base, store = served
    assert len(excerpts(base)) == 5
    assert httpx.get(f"{base}/health").json()["projection_current"] is True
    store.projection.query("DELETE FROM excerpt WHERE x_iri LIKE '%'")
    try:
        assert excerpts(base) == []
        with store.projection.writing([FX]):
            assert not store.projection.current
            assert httpx.get(f"{base}/health").json()["projection_current"] is False
            assert len(excerpts(base)) == 5
    finally:
        assert store.projection.refresh(store.inner, [FX])
    assert len(excerpts(base)) == 5


def test_a_new_study_is_answered_after_its_write(served: tuple[str, ColumnarStore]) -> None:
    base, store = served
    store.replace_graph(IRIS.graph("fz"), map_study(fixture_records("fz"), IRIS))
    try:
        answer = httpx.get(f"{base}/questions/participants", params={"study": "fz"}, timeout=30).json()
        assert sorted(row["pseudonym"] for row in answer["rows"]) == ["N1", "N2", "P1", "P2"]
    finally:
        store.drop_graph(IRIS.graph("fz"))
    assert store.projection.query("SELECT count(*) AS n FROM participant WHERE g = $g",
                                  {"g": IRIS.graph("fz")})["n"][0] == 0


def test_a_counts_only_caller_gets_counts_disclosed_the_same_way(served: tuple[str, ColumnarStore]) -> None:
    """A caller without the 'excerpts' scope gets perturbed, small-count-suppressed counts: the SQL answer and
    the SPARQL one (while the projection is not current) are the same table."""
    base, store = served
    url = f"{base}/questions/matrix"
    headers = {"Authorization": f"Bearer {COUNTS_KEY}"}
    answered = httpx.get(url, params={"study": "fx"}, timeout=30, headers=headers)
    assert answered.status_code == 200, answered.text
    from_sql = answered.json()
    with store.projection.writing([FX]):
        from_sparql = httpx.get(url, params={"study": "fx"}, timeout=30, headers=headers).json()
    assert from_sql["rows"] == from_sparql["rows"] and from_sql["notices"] == from_sparql["notices"]
    # (role, theme) cells: peer × TH1 (X1, X2), peer × TH2 (X3), psychiatrist × TH2 (X4), nurse × TH1 (X5)
    assert len(from_sql["rows"]) == 4
