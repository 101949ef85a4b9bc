"""Parity of the SQL twins: every question that has one, with every parameter set of CASES, gives the same
answer on the columnar projection (DuckDB) as on the reference engine (embedded Oxigraph SPARQL), and as
the SPARQL on Fuseki and the Cypher twin on Neo4j over the same data (decision 0132).

SQL against Oxigraph: the same rows in the same order, every published cell equal (numbers as floats),
the hidden record columns as sets of records. Against Fuseki and Neo4j: the same multiset of rows (as in
tests/projection/test_projection_parity.py, whose servers and source store these reuse).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from neo4j import GraphDatabase
from pyoxigraph import RdfFormat, parse

from qualkg.projection.neo4j import sync
from qualkg.queries.catalog import Catalog
from qualkg.queries.cypher_catalog import CypherCatalog, default_cypher_catalog
from qualkg.queries.sql_catalog import SqlCatalog, default_sql_catalog, projection_spec
from qualkg.store import open_store
from qualkg.store.base import ExportFormat, GraphStore
from qualkg.store.columnar import ColumnarStore, Projection
from tests.projection.conftest import IRIS, build_source_store
from tests.projection.test_projection_parity import CASES as PROJECTION_CASES
from tests.servers.fixtures import fuseki_copy
from tests.servers.launch import FusekiServer, Neo4jServer

SEED = "anestis-2025"
FX_C1 = IRIS.scoped("fx", "code", "C1")  # "Low pay" (X1, X5)
FX_ST1 = IRIS.scoped("fx", "code", "ST1")  # subtheme "Challenges of the role": C1, C2 (X1, X2, X5)

# More parameter sets per question than the projection parity's, from the fixture study's values
# (tests/fixture_study.py) and the seed study's; filters combined.
EXTRA: dict[str, list[dict[str, str]]] = {
    "challenges-by-context": [{"topic": "low", "feature": "peer-supervision"}, {"study": SEED, "topic": "role"},
                              {"role": "psychiatrist", "topic": "hierarchy"}],
    "codebook": [{"study": SEED, "level": "subtheme"}, {"level": "code"}],
    "contexts": [{"study": SEED, "feature": "peer-supervision"}, {"feature": "low-pay"}],
    "cooccurrence": [{"study": "fx", "role": "peer-practitioner"}, {"role": "psychiatrist"},
                     {"study": SEED, "feature": "peer-supervision"}],
    "excerpts": [{"code": FX_ST1, "role": "peer-practitioner"}, {"code": FX_C1, "contains": "low"},
                 {"study": SEED, "mode": "focus-group", "synthetic": "true"},
                 {"study": "fx", "feature": "peer-supervision"}, {"study": "rv"}],
    "matrix": [{"rows": "team", "columns": "theme", "study": SEED}, {"rows": "event-type", "columns": "code"},
               {"rows": "attribute", "columns": "subtheme", "attribute": "group"}, {"rows": "feature", "study": "fx"}],
    "participants": [{"study": SEED, "role": "peer-practitioner"}, {"role": "psychiatrist"}],
    "perspectives": [{"study": SEED}, {"peer": "peer-practitioner", "other": "psychiatrist", "study": "fx"}],
    "teams": [{"study": SEED, "feature": "peer-supervision"}, {"feature": "low-pay"}],
}


@pytest.fixture(scope="module")
def source() -> Iterator[GraphStore]:
    store = build_source_store()
    yield store
    store.close()


@pytest.fixture(scope="module")
def columnar(source: GraphStore) -> Iterator[ColumnarStore]:
    """An empty store wrapped in ColumnarStore, then given every graph of `source` in one write: the
    projection is filled by the write hook, as in the server."""
    store = ColumnarStore(open_store("oxigraph", path=None), Projection(None, projection_spec()))
    store.replace_graphs({g: [q.triple for q in parse(source.export(g, ExportFormat.ntriples),
                                                      format=RdfFormat.N_TRIPLES)] for g in source.graphs()})
    assert store.projection.current
    yield store
    store.close()


@pytest.fixture(scope="module")
def sql(catalog: Catalog) -> SqlCatalog:
    return default_sql_catalog(catalog)


def _cases(sql_ids: list[str]) -> list[tuple[str, dict[str, str]]]:
    return [(q, p) for q in sorted(sql_ids) for p in [*PROJECTION_CASES[q], *EXTRA.get(q, [])]]


SQL_IDS = [  # the questions with an SQL twin, by hand: a twin added without cases fails the first test
    "challenges-by-context", "codebook", "contexts", "cooccurrence", "excerpts", "matrix", "participants",
    "perspectives", "teams"]
CASE_LIST = _cases(SQL_IDS)


def _case_id(value: str | dict[str, str]) -> str:
    return value if isinstance(value, str) else ",".join(f"{k}={x}" for k, x in value.items()) or "defaults"


def _cell(value: Any, column: str, lists: dict[str, str]) -> Any:
    """A cell as compared: null for a missing value, numbers as floats, records as a sorted set, the items
    of a list cell sorted (SPARQL's GROUP_CONCAT leaves their order to the engine)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if column.endswith("_records") and isinstance(value, str):
        return " ".join(sorted(set(value.split())))
    if column in lists and isinstance(value, str):
        return lists[column].join(sorted(value.split(lists[column])))
    return value


def rows(df: pd.DataFrame, lists: dict[str, str]) -> list[tuple[Any, ...]]:
    return [tuple(_cell(v, str(c), lists) for v, c in zip(row, df.columns, strict=True))
            for row in df.itertuples(index=False)]


def test_every_twin_is_tested_and_has_a_question(sql: SqlCatalog, catalog: Catalog) -> None:
    assert sorted(sql.twins) == SQL_IDS
    assert set(sql.twins) <= set(catalog.questions)


@pytest.mark.parametrize(("qid", "params"), CASE_LIST, ids=_case_id)
def test_same_answer_as_oxigraph(qid: str, params: dict[str, str], catalog: Catalog, sql: SqlCatalog,
                                 source: GraphStore, columnar: ColumnarStore) -> None:
    expected = catalog.run(source, qid, params, records=True)
    actual = sql.run(columnar.projection, qid, params, records=True)
    lists = sql.twins[qid].lists
    assert list(actual.columns) == list(expected.columns)
    assert sorted(rows(actual, lists), key=repr) == sorted(rows(expected, lists), key=repr)


@pytest.mark.parametrize(("qid", "params"), CASE_LIST, ids=_case_id)
def test_same_order_as_oxigraph(qid: str, params: dict[str, str], catalog: Catalog, sql: SqlCatalog,
                                source: GraphStore, columnar: ColumnarStore) -> None:
    """Rows come in the order the .rq's ORDER BY gives: compared on the published columns the order is
    made of, so rows that tie on all of them may come in either order."""
    keys = ORDER[qid]
    expected = catalog.run(source, qid, params)
    actual = sql.run(columnar.projection, qid, params)
    assert rows(actual[keys], {}) == rows(expected[keys], {})


# The columns each question's ORDER BY is made of, in order.
ORDER: dict[str, list[str]] = {
    "challenges-by-context": ["excerpts", "theme", "subtheme", "code"], "codebook": ["study_id", "kind", "label"],
    "contexts": ["team", "theme"], "cooccurrence": ["n12", "code1", "code2"],
    "excerpts": ["study_title", "transcript", "start", "excerpt"], "matrix": ["row", "column"],
    "participants": ["study_id", "pseudonym"], "perspectives": ["theme", "subtheme"], "teams": ["study_id", "team"],
}


@pytest.mark.parametrize(("limit", "offset"), [(4, 3), (1, 0), (50, 45), (10, 200)])
def test_pages_are_the_same_rows(limit: int, offset: int, catalog: Catalog, sql: SqlCatalog, source: GraphStore,
                                 columnar: ColumnarStore) -> None:
    """excerpts is paged inside the query: the same excerpts, in the same order, for each page."""
    expected = catalog.run(source, "excerpts", {}, limit=limit, offset=offset)
    actual = sql.run(columnar.projection, "excerpts", {}, limit=limit, offset=offset)
    assert list(actual["excerpt"]) == list(expected["excerpt"])
    assert len(expected) == max(0, min(limit, 50 - offset))  # 50 excerpts: 5 in fx, 45 in the seed study


def test_some_case_of_each_twin_has_rows(catalog: Catalog, sql: SqlCatalog, columnar: ColumnarStore) -> None:
    """Guard against vacuous parity: each twin answers something for some case."""
    answered = {q for q, p in CASE_LIST if len(sql.run(columnar.projection, q, p))}
    assert answered == set(SQL_IDS)


def test_the_main_question_by_hand(sql: SqlCatalog, columnar: ColumnarStore) -> None:
    """tests/fixture_study.py: peers (P1 T1, P2 T2) in flattened-hierarchy teams (T1 only) are P1; P1 said
    X1 (C1 "Low pay") and X2 (C2 "Compromised hierarchy"), both under ST1 "Challenges of the role" (TH1),
    whose label holds "challenge"."""
    df = sql.run(columnar.projection, "challenges-by-context", {"study": "fx"})
    got = [(r.theme, r.subtheme, r.code, r.excerpts, r.participants, r.example) for r in df.itertuples()]
    assert sorted(got) == [
        ("Working as a peer", "Challenges of the role", "Compromised hierarchy", 1, 1, "The hierarchy came back."),
        ("Working as a peer", "Challenges of the role", "Low pay", 1, 1, "SYNTHETIC: The pay is low.")]


@pytest.fixture(scope="module")
def fuseki_store(fuseki_server: FusekiServer, source: GraphStore) -> Iterator[Any]:
    remote, current = fuseki_copy(fuseki_server, source)
    yield current
    remote.close()


@pytest.fixture(scope="module")
def cypher(catalog: Catalog) -> CypherCatalog:
    return default_cypher_catalog(catalog)


@pytest.fixture(scope="module")
def neo4j_synced(neo4j_server: Neo4jServer, source: GraphStore) -> Iterator[Any]:
    """A driver on the session's Neo4j, synced from `source` again whenever a test has emptied it since."""
    with GraphDatabase.driver(neo4j_server.bolt_uri, auth=None) as driver:
        synced_at: list[int | None] = [None]

        def current() -> Any:
            if synced_at[0] != neo4j_server.resets:
                neo4j_server.reset()
                sync(source, driver)
                synced_at[0] = neo4j_server.resets
            return driver

        yield current


@pytest.mark.servers
@pytest.mark.parametrize(("qid", "params"), CASE_LIST, ids=_case_id)
def test_same_answer_as_fuseki_and_neo4j(qid: str, params: dict[str, str], catalog: Catalog, sql: SqlCatalog,
                                         cypher: CypherCatalog, columnar: ColumnarStore, fuseki_store: Any,
                                         neo4j_synced: Any) -> None:
    lists = sql.twins[qid].lists
    actual = sorted(rows(sql.run(columnar.projection, qid, params, records=True), lists), key=repr)
    on_fuseki = catalog.run(fuseki_store(), qid, params, records=True)
    on_neo4j = cypher.run(neo4j_synced(), qid, params, records=True)
    assert sorted(rows(on_fuseki, lists), key=repr) == actual
    assert sorted(rows(on_neo4j, lists), key=repr) == actual
