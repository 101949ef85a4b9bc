"""THE parity test: every named question, with the same parameters, gives the same answer on the
reference engine (embedded Oxigraph) and on every engine of ENGINES over the same data.

Answers compare as multisets of rows after normalising only what a question leaves open (`_cell`);
why these and no others: docs/decisions/0042-parity-with-a-reference-engine.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from neo4j import Driver, GraphDatabase

from qualkg.projection.neo4j import sync
from qualkg.queries.catalog import Catalog
from qualkg.queries.cypher_catalog import CypherCatalog, Twin, default_cypher_catalog
from qualkg.store.base import GraphStore
from tests.projection.conftest import IRIS
from tests.servers.fixtures import fuseki_copy
from tests.servers.launch import FusekiServer, Neo4jServer

pytestmark = pytest.mark.servers

Engine = Callable[[str, dict[str, str]], pd.DataFrame]
ENGINES = ["neo4j", "fuseki"]

SEED = "anestis-2025"
FX_TH2 = IRIS.scoped("fx", "code", "TH2")  # theme "Team culture"
SEED_THEME_2 = IRIS.scoped(SEED, "code", "theme-2")  # "Opportunities and challenges of the peer role"

# Parameter sets per question: the defaults first, then ones that exercise each parameter.
CASES: dict[str, list[dict[str, str]]] = {
    "challenges-by-context": [{}, {"topic": "hierarchy"}, {"study": "fx", "topic": "pay"},
                              {"role": "non-peer-practitioner", "feature": "peer-supervision", "topic": "a"}],
    "codebook": [{}, {"study": "fx", "level": "code"}, {"level": "theme"}],
    "context-contrast": [{}, {"finding": "F1"}, {"feature": "peer-supervision"}],
    "contexts": [{}, {"study": "fx"}, {"feature": "flattened-hierarchy"}],
    "cooccurrence": [{}, {"study": "fx"}, {"role": "peer-practitioner"}, {"feature": "flattened-hierarchy"}],
    "excerpts": [{}, {"study": "fx", "role": "peer-practitioner"}, {"code": FX_TH2}, {"code": SEED_THEME_2},
                 {"mode": "interview"}, {"synthetic": "false"}, {"contains": "PAY"},
                 {"feature": "flattened-hierarchy"}],
    "matrix": [{}, {"rows": "team", "columns": "code"}, {"rows": "feature", "columns": "subtheme"},
               {"rows": "event-type"}, {"rows": "attribute"}, {"rows": "role", "study": "fx"}],
    "participants": [{}, {"study": "fx"}, {"role": "non-peer-practitioner"}],
    "perspectives": [{}, {"study": "fx"}, {"peer": "psychiatrist", "other": "mental-health-nurse"}],
    "recurring-findings": [{}, {"finding": "F1"}, {"finding": "A1"}],
    "studies": [{}],
    "study-compare": [{"a": "fx", "b": "rv"}, {"a": "rv", "b": "fx"}, {"a": "fx", "b": SEED}, {"a": "fx", "b": "fx"}],
    "study-overview": [{"study": "fx"}, {"study": SEED}, {"study": "rv"}],
    "teams": [{}, {"study": "fx"}, {"feature": "flattened-hierarchy"}],
}


@pytest.fixture(scope="module")
def cypher_catalog(catalog: Catalog) -> CypherCatalog:
    return default_cypher_catalog(catalog)


class Neo4jEngine:
    """The Cypher twins on the session's Neo4j, synced from `source_store`; synced again whenever a
    test has emptied the server since (the per-test `neo4j` fixture does), so any test order works."""

    def __init__(self, server: Neo4jServer, driver: Driver, store: GraphStore, cypher: CypherCatalog) -> None:
        self.server, self.driver, self.store, self.cypher = server, driver, store, cypher
        self.synced_at: int | None = None

    def __call__(self, qid: str, params: dict[str, str], limit: int | None = None, offset: int = 0) -> pd.DataFrame:
        if self.synced_at != self.server.resets:
            self.server.reset()
            sync(self.store, self.driver)
            self.synced_at = self.server.resets
        return self.cypher.run(self.driver, qid, params, limit, offset)


@pytest.fixture(scope="module")
def neo4j_engine(neo4j_server: Neo4jServer, source_store: GraphStore,
                 cypher_catalog: CypherCatalog) -> Iterator[Neo4jEngine]:
    with GraphDatabase.driver(neo4j_server.bolt_uri, auth=None) as driver:
        yield Neo4jEngine(neo4j_server, driver, source_store, cypher_catalog)


@pytest.fixture(scope="module")
def fuseki_engine(fuseki_server: FusekiServer, source_store: GraphStore, catalog: Catalog) -> Iterator[Engine]:
    """The SPARQL questions through the remote store (store/sparql.py) on the session's Fuseki, loaded
    with every graph of `source_store`; loaded again whenever a test has emptied the server since."""
    remote, current = fuseki_copy(fuseki_server, source_store)

    def run(qid: str, params: dict[str, str]) -> pd.DataFrame:
        return catalog.run(current(), qid, params)

    yield run
    remote.close()


def _cell(value: Any, column: str, twin: Twin) -> Any:
    """A cell as compared: null for a missing value, numbers as floats, a `sampled` column as present,
    a `lists` column with its items sorted (row order is left to `normalised`)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if column in twin.sampled:
        return True
    if column in twin.lists and isinstance(value, str):
        sep = twin.lists[column]
        return sep.join(sorted(value.split(sep)))
    return value


def normalised(df: pd.DataFrame, twin: Twin) -> list[tuple[Any, ...]]:
    """The rows of an answer as comparable tuples (cells as `_cell` gives them), sorted."""
    rows = [tuple(_cell(v, c, twin) for v, c in zip(row, df.columns, strict=True))
            for row in df.itertuples(index=False)]
    return sorted(rows, key=repr)


def test_every_question_has_a_twin_and_parity_cases(catalog: Catalog, cypher_catalog: CypherCatalog) -> None:
    assert cypher_catalog.missing() == []
    assert sorted(CASES) == sorted(catalog.questions)


@pytest.mark.parametrize("qid", sorted(CASES))
def test_some_case_has_rows(qid: str, catalog: Catalog, source_store: GraphStore) -> None:
    """Guard against vacuous parity: every question answers something on the reference engine."""
    assert any(len(catalog.run(source_store, qid, params)) for params in CASES[qid])


def _case_id(value: str | dict[str, str]) -> str:
    return value if isinstance(value, str) else ",".join(f"{k}={x}" for k, x in value.items()) or "defaults"


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize(("qid", "params"), [(q, p) for q, cases in sorted(CASES.items()) for p in cases],
                         ids=_case_id)
def test_same_answer_as_oxigraph(engine_name: str, qid: str, params: dict[str, str], catalog: Catalog,
                                 cypher_catalog: CypherCatalog, source_store: GraphStore,
                                 request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(f"{engine_name}_engine")
    twin = cypher_catalog.twins[qid]
    expected = catalog.run(source_store, qid, params)
    actual = engine(qid, params)
    assert list(actual.columns) == list(expected.columns)
    assert normalised(actual, twin) == normalised(expected, twin)


def test_paged_question_pages_the_same_rows(neo4j_engine: Neo4jEngine, catalog: Catalog,
                                            source_store: GraphStore) -> None:
    """excerpts is paged: rows 3–6 of the seed study, ordered by transcript and start, are the
    same excerpts on both engines (the order keys are never null for excerpts)."""
    expected = catalog.run(source_store, "excerpts", {"study": SEED}, limit=4, offset=3)
    actual = neo4j_engine("excerpts", {"study": SEED}, limit=4, offset=3)
    assert len(expected) == 4
    assert list(actual["excerpt"]) == list(expected["excerpt"])


def test_teams_by_hand(neo4j_engine: Neo4jEngine) -> None:
    """tests/fixture_study.py: Team One has flattened hierarchy and peer-led supervision and two
    members (P1, N1); Team Two has no feature and two members (P2, N2)."""
    df = neo4j_engine("teams", {"study": "fx"})
    rows = [{k: None if pd.isna(v) else v for k, v in row.items()} for row in df.to_dict("records")]
    team = {"organisation": "Trust A (fixture)", "study_id": "fx", "participants": 2}
    assert rows == [{"team": "Team One", **team, "features": "flattened hierarchy; peer-led supervision"},
                    {"team": "Team Two", **team, "features": None}]


@pytest.mark.parametrize(("raw", "message"), [
    ({"role": "astronaut"}, "not a concept of the role vocabulary"),
    ({"study": "fx> }"}, "is not a study id"),
    ({"nope": "1"}, "not a parameter of 'participants'"),
])
def test_parameters_are_checked_as_for_sparql(raw: dict[str, str], message: str, cypher_catalog: CypherCatalog) -> None:
    with pytest.raises(ValueError, match=message):
        cypher_catalog.parameters("participants", raw)


def test_parameters_become_plain_cypher_values(cypher_catalog: CypherCatalog) -> None:
    assert cypher_catalog.parameters("excerpts", {"study": "fx", "role": "psychiatrist", "synthetic": "true"}) == {
        "study": IRIS.study("fx"), "code": None, "role": "https://w3id.org/qualkg/vocab/role/psychiatrist",
        "feature": None, "mode": None, "synthetic": True, "contains": None}


def test_driver_fixture_starts_from_an_empty_graph(driver: Driver, neo4j_engine: Neo4jEngine) -> None:
    """The per-test `driver` fixture empties the server even after this module synced it, and the
    engine syncs again on its next question, whatever order the tests run in."""
    assert driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"] == 0
    assert len(neo4j_engine("studies", {})) > 0
