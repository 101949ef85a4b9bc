"""`projection.neo4j.sync` on the real Neo4j: constraints, shape of the projection, idempotence,
per-graph replacement and dropping.

Expected numbers are read off the table of tests/fixture_study.py: 4 participants, 2 teams of 1
organisation, 2 events, 2 transcripts, 5 excerpts (X5 has two codes: 6 CODED_AS), 6 concepts.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from neo4j import Driver

from qualkg.ingest.mapping import map_study
from qualkg.ontology.namespaces import ONTOLOGY_GRAPH
from qualkg.projection.neo4j import LABELS, ProjectionError, sync
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model
from tests.fixture_study import fixture_records
from tests.projection.conftest import IRIS
from tests.synthesis.conftest import fx_records

pytestmark = pytest.mark.servers

FX = IRIS.graph("fx")


def _fx_store() -> GraphStore:
    store = open_store("oxigraph", path=None)
    load_model(store)
    store.replace_graph(FX, map_study(fixture_records(), IRIS))
    return store


def _count(driver: Driver, cypher: str) -> int:
    return driver.execute_query(cypher).records[0][0]


def _counts(driver: Driver) -> tuple[int, int]:
    return _count(driver, "MATCH (n) RETURN count(n)"), _count(driver, "MATCH ()-[r]->() RETURN count(r)")


def test_constraints_are_created_for_every_label(driver: Driver) -> None:
    sync(_fx_store(), driver)
    records = driver.execute_query("SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties").records
    unique_iri = {r["labelsOrTypes"][0] for r in records if r["type"] == "UNIQUENESS" and r["properties"] == ["iri"]}
    assert unique_iri == {"Resource", *LABELS}


@pytest.mark.parametrize(("label", "expected"), [
    ("Study", 1), ("Publication", 1), ("Participant", 4), ("Team", 2), ("Organisation", 1), ("Event", 2),
    ("Transcript", 2), ("Excerpt", 5), ("Concept", 6), ("Theme", 2), ("Subtheme", 1), ("Code", 3),
])
def test_fixture_nodes_per_label(driver: Driver, label: str, expected: int) -> None:
    sync(_fx_store(), driver)
    assert _count(driver, f"MATCH (n:{label}) RETURN count(n)") == expected


@pytest.mark.parametrize(("rtype", "expected"), [
    ("SPOKE", 5), ("CODED_AS", 6), ("HOLDS_ROLE", 4), ("MEMBER_OF", 4), ("HAS_FEATURE", 2), ("UNIT_OF", 2),
    ("FROM_TRANSCRIPT", 5), ("FROM_EVENT", 2), ("HAS_PARTICIPANT", 4), ("HAS_MODE", 2), ("REPORTED_IN", 1),
])
def test_fixture_relationships_per_type(driver: Driver, rtype: str, expected: int) -> None:
    sync(_fx_store(), driver)
    assert _count(driver, f"MATCH ()-[r:{rtype}]->() RETURN count(r)") == expected


def test_excerpt_keeps_iri_text_offsets_and_synthetic_flag(driver: Driver) -> None:
    """X2: P1 says "The hierarchy came back." at [27, 51) of TR1, coded C2 "Compromised hierarchy"."""
    sync(_fx_store(), driver)
    records = driver.execute_query(
        "MATCH (p:Participant)-[:SPOKE]->(x:Excerpt)-[:CODED_AS]->(c:Code {label: 'Compromised hierarchy'}), "
        "(x)-[:FROM_TRANSCRIPT]->(t:Transcript) WHERE x.start = 27 "
        "RETURN x.iri AS iri, x.text AS text, x.end AS end, x.synthetic AS syn, p.pseudonym AS who, t.label AS t"
    ).records
    assert [(r["text"], r["end"], r["syn"], r["who"], r["t"]) for r in records] == [
        ("The hierarchy came back.", 51, True, "P1", "Transcript 1")]
    assert records[0]["iri"].startswith(IRIS.study("fx") + "/synthetic/excerpt/")


def test_every_node_keeps_its_iri(driver: Driver) -> None:
    sync(_fx_store(), driver)
    assert _count(driver, "MATCH (n) WHERE n.iri IS NULL OR NOT n:Resource RETURN count(n)") == 0
    assert _count(driver, "MATCH (n:Resource) RETURN count(n)") > 0


def test_sync_twice_gives_the_same_graph(driver: Driver, source_store: GraphStore) -> None:
    first = sync(source_store, driver)
    after_first = _counts(driver)
    second = sync(source_store, driver)
    assert _counts(driver) == after_first
    assert (second.nodes, second.relationships) == (first.nodes, first.relationships)
    assert after_first[0] > 100 and after_first[1] > 200  # the seed study alone has 45 excerpts


def test_replacing_one_study_changes_only_that_study(driver: Driver, source_store: GraphStore) -> None:
    """fx loses X4 (N1's excerpt) and N1; rv, the seed study, the vocabulary and the synthesis
    mappings onto fx concepts stay as they were."""
    store = open_store("oxigraph", path=None)
    store.replace_graphs({g: source_store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
                          for g in source_store.graphs()})
    sync(store, driver)
    before = {q: _count(driver, q) for q in (
        "MATCH (x:Excerpt) RETURN count(x)", "MATCH (p:Participant) RETURN count(p)",
        "MATCH ()-[r:MAPS_TO]->() RETURN count(r)", "MATCH (r:Role) RETURN count(r)")}
    records = fx_records()
    records.excerpts = [x for x in records.excerpts if x.speaker != "N1"]
    records.participants = [p for p in records.participants if p.id != "N1"]
    records.events[1] = replace(records.events[1], participants=("N2",))
    store.replace_graph(FX, map_study(records, IRIS))
    report = sync(store, driver, [FX])
    assert report.graphs == [FX]
    after = {q: _count(driver, q) for q in before}
    assert after == {**before, "MATCH (x:Excerpt) RETURN count(x)": before["MATCH (x:Excerpt) RETURN count(x)"] - 1,
                     "MATCH (p:Participant) RETURN count(p)": before["MATCH (p:Participant) RETURN count(p)"] - 1}
    n1 = IRIS.scoped("fx", "participant", "N1")
    assert _count(driver, f"MATCH (p:Participant {{iri: '{n1}'}}) RETURN count(p)") == 0


def test_sync_drops_graphs_the_store_no_longer_has(driver: Driver) -> None:
    store = _fx_store()
    sync(store, driver)
    store.drop_graph(FX)
    report = sync(store, driver)
    assert report.dropped == [FX]
    assert _count(driver, "MATCH (n:Study) RETURN count(n)") == 0
    assert _count(driver, "MATCH (n:Role) RETURN count(n)") == 17  # the vocabulary stays (roles.ttl: 17 concepts)


def test_unknown_graph_is_refused_before_writing(driver: Driver) -> None:
    with pytest.raises(ProjectionError, match=re.escape("not in the store: https://example.org/synthetic/nope")):
        sync(_fx_store(), driver, ["https://example.org/synthetic/nope"])
    assert _counts(driver) == (0, 0)


def test_model_graph_alone_gives_the_vocabularies(driver: Driver) -> None:
    store = _fx_store()
    sync(store, driver, [ONTOLOGY_GRAPH])
    labels = driver.execute_query("MATCH (n:Resource) UNWIND labels(n) AS l WITH l WHERE l <> 'Resource' "
                                  "RETURN l, count(*) AS n ORDER BY l").records
    # by hand from ontology/vocab: 9 modes (the deprecated one too), 11 features, 17 roles
    assert {r["l"]: r["n"] for r in labels} == {"Mode": 9, "OrgFeature": 11, "Role": 17}
