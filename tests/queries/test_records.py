"""The hidden record columns (decision 0070): each lists exactly the records its count counts, and every
engine lists the same ones — so a cell's perturbation is the same whichever engine answers it.

The parity suite (tests/projection/test_projection_parity.py) compares the published columns; this
compares the record columns, with the same questions and parameters, as sets per row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from neo4j import GraphDatabase

from qualkg.projection.neo4j import sync
from qualkg.queries.catalog import Catalog, Question
from qualkg.queries.cypher_catalog import default_cypher_catalog
from qualkg.store.base import GraphStore
from tests.projection.conftest import build_source_store
from tests.projection.test_projection_parity import CASES
from tests.servers.fixtures import fuseki_copy
from tests.servers.launch import FusekiServer, Neo4jServer

Engine = Callable[[str, dict[str, str]], pd.DataFrame]
ASKED = [(q, p) for q, cases in sorted(CASES.items()) for p in cases]


@pytest.fixture(scope="module")
def store() -> Iterator[GraphStore]:
    """Model, fx, rv, the seed study and the fixture synthesis graph (tests/projection/conftest.py)."""
    s = build_source_store()
    yield s
    s.close()


def _case_id(value: Any) -> str:
    return value if isinstance(value, str) else ",".join(f"{k}={x}" for k, x in value.items()) or "defaults"


def _perturbed(q: Question) -> list[tuple[str, str]]:
    return [(c.name, c.records) for c in q.columns if c.about_persons and c.records]


@pytest.mark.parametrize(("qid", "params"), ASKED, ids=_case_id)
def test_each_count_equals_its_records(qid: str, params: dict[str, str], catalog: Catalog, store: GraphStore) -> None:
    """A count about persons is the number of distinct records in its hidden column, on every row."""
    q = catalog.get(qid)
    df = catalog.run(store, qid, params, records=True)
    for count, records in _perturbed(q):
        assert [int(n) for n in df[count].fillna(0)] == [len(set(r.split())) for r in df[records]], (qid, count)
    assert not {c.name for c in q.columns if c.hidden} & set(catalog.run(store, qid, params).columns)


def test_the_record_columns_name_the_counted_records(catalog: Catalog, store: GraphStore) -> None:
    """Excerpt counts list excerpt IRIs, participant counts participant IRIs, pairs two excerpts each."""
    kinds = {"excerpt": "qk:CodedExcerpt", "participant": "qk:Participant", "team": "org:OrganizationalUnit"}
    known = {unit: set(store.select_df(f"PREFIX qk: <https://w3id.org/qualkg/ns#> PREFIX org: "
                                       f"<http://www.w3.org/ns/org#> SELECT ?r WHERE {{ ?r a {cls} }}")["r"])
             for unit, cls in kinds.items()}
    for qid, params in [("matrix", {}), ("context-contrast", {}), ("cooccurrence", {})]:
        q = catalog.get(qid)
        df = catalog.run(store, qid, params, records=True)
        for count, records in _perturbed(q):
            listed = {r for cell in df[records] for r in cell.split()}
            (unit,) = q.column(count).units  # type: ignore[union-attr]
            if unit == "pair":
                assert all(len(r.split("|")) == 2 and set(r.split("|")) <= known["excerpt"] for r in listed)
            else:
                assert listed and listed <= known[unit], (qid, count)


def _rows(q: Question, df: pd.DataFrame) -> Counter[tuple[Any, ...]]:
    """Rows as (published counts and labels, record sets), comparable across engines."""
    hidden = [c.name for c in q.columns if c.hidden]
    keys = [c.name for c in q.columns if c.count or c.name in {"row", "column", "code1", "code2", "finding", "item",
                                                                 "section", "team", "theme", "subtheme", "code",
                                                                 "label", "study", "title", "concept", "kind"}]
    return Counter(tuple([None if pd.isna(r[k]) else float(r[k]) if isinstance(r[k], int | float) else r[k]
                          for k in keys] + [frozenset(r[h].split()) for h in hidden])
                   for r in df.to_dict("records"))


@pytest.fixture(scope="module")
def neo4j_records(neo4j_server: Neo4jServer, store: GraphStore, catalog: Catalog) -> Iterator[Engine]:
    cypher = default_cypher_catalog(catalog)
    with GraphDatabase.driver(neo4j_server.bolt_uri, auth=None) as driver:
        synced_at: int | None = None

        def run(qid: str, params: dict[str, str]) -> pd.DataFrame:
            nonlocal synced_at
            if synced_at != neo4j_server.resets:
                neo4j_server.reset()
                sync(store, driver)
                synced_at = neo4j_server.resets
            return cypher.run(driver, qid, params, records=True)

        yield run


@pytest.fixture(scope="module")
def fuseki_records(fuseki_server: FusekiServer, store: GraphStore, catalog: Catalog) -> Iterator[Engine]:
    remote, current = fuseki_copy(fuseki_server, store)

    def run(qid: str, params: dict[str, str]) -> pd.DataFrame:
        return catalog.run(current(), qid, params, records=True)

    yield run
    remote.close()


@pytest.mark.servers
@pytest.mark.parametrize("engine_name", ["neo4j", "fuseki"])
@pytest.mark.parametrize(("qid", "params"), [(q, p) for q, p in ASKED if q not in {"excerpts", "participants"}],
                         ids=_case_id)
def test_every_engine_lists_the_same_records(engine_name: str, qid: str, params: dict[str, str], catalog: Catalog,
                                             store: GraphStore, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(f"{engine_name}_records")
    q = catalog.get(qid)
    expected = catalog.run(store, qid, params, records=True)
    actual = engine(qid, params)
    assert list(actual.columns) == list(expected.columns)
    assert _rows(q, actual) == _rows(q, expected)
