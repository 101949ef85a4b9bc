"""The pipeline: all or nothing, deterministic, located SHACL problems, provenance on every excerpt."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.mapping import map_study
from qualkg.ingest.pipeline import ingest, log_graph
from qualkg.ingest.records import StudyRecords
from qualkg.ingest.validate import gate
from qualkg.ontology.iris import IriScheme
from qualkg.store import open_store
from qualkg.store.base import ExportFormat, GraphStore
from qualkg.wiring import load_model
from tests.fixture_study import fixture_records

MINIMAL = Path(__file__).parent / "data" / "package" / "minimal"


def new_store() -> GraphStore:
    store = open_store("oxigraph", path=None)
    load_model(store)
    return store


def as_graph(store: GraphStore, graph: str) -> Graph:
    return Graph().parse(data=store.export(graph, ExportFormat.ntriples), format="nt")


def test_mapping_is_deterministic(iris: IriScheme) -> None:
    assert map_study(fixture_records(), iris) == map_study(fixture_records(), iris)


def test_reingest_changes_nothing_but_the_log(iris: IriScheme) -> None:
    store = new_store()
    ingest(MINIMAL, store, iris)
    graph = iris.graph("fixture-study")
    first = as_graph(store, graph)
    ingest(MINIMAL, store, iris)
    assert isomorphic(first, as_graph(store, graph))
    assert store.triple_count(log_graph(iris, "fixture-study")) == 1  # only the ingest time


def test_dry_run_writes_nothing(iris: IriScheme) -> None:
    store = new_store()
    before = store.graphs()
    report = ingest(MINIMAL, store, iris, dry_run=True)
    assert not report.written and store.graphs() == before


def broken(rec: StudyRecords) -> StudyRecords:
    """The fixture with excerpt X2's quote no longer equal to its transcript slice."""
    x2 = rec.excerpts[1]
    rec.excerpts[1] = replace(x2, text="The hierarchy came bacK.")
    return rec


def test_shape_violation_is_located(iris: IriScheme) -> None:
    """The quote/offset SHACL-SPARQL check names the excerpt, and the gate turns it into an error."""
    rec = broken(fixture_records())
    problems = [p for p in gate(map_study(rec, iris), file="fx") if "exactly the transcript text" in p.message]
    x2 = iris.excerpt("fx", iris.scoped("fx", "transcript", "TR1", synthetic=True), 27, 51, synthetic=True)
    assert [(p.severity, p.value, p.rule) for p in problems] == [
        ("error", x2, "shacl:SPARQLConstraintComponent (Transcript_excerpt_quote_matches_text)")]
    assert "offsets 27 to 51" in problems[0].message


def test_invalid_input_writes_nothing(tmp_path: Path, iris: IriScheme) -> None:
    """A package whose excerpt offsets disagree with its text is refused; the store keeps its old state."""
    store = new_store()
    ingest(MINIMAL, store, iris)
    before = as_graph(store, iris.graph("fixture-study"))
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in MINIMAL.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    (bad / "participants.csv").write_text("id,pseudonym,role,team,synthetic\nP1,P1,wizard,team-a,true\n")
    with pytest.raises(Exception) as err:
        ingest(bad, store, iris)
    assert getattr(err.value, "problems", None), "a located problem list"
    assert isomorphic(before, as_graph(store, iris.graph("fixture-study")))


def test_every_excerpt_has_provenance(iris: IriScheme) -> None:
    store = new_store()
    ingest(MINIMAL, store, iris)
    rows = store.select("""PREFIX qk: <https://w3id.org/qualkg/ns#> PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?x ?file ?act WHERE { ?x a qk:CodedExcerpt . OPTIONAL { ?x qk:sourceFile ?file }
        OPTIONAL { ?x prov:wasGeneratedBy ?act } }""")
    assert rows and all(r["file"] is not None and r["act"] is not None for r in rows)


def test_batch_is_all_or_nothing(tmp_path: Path, iris: IriScheme) -> None:
    """A folder of two packages where the second is invalid: neither is written."""
    batch = tmp_path / "batch"
    (batch / "good").mkdir(parents=True)
    for f in MINIMAL.iterdir():
        (batch / "good" / f.name).write_bytes(f.read_bytes())
    (batch / "bad").mkdir()
    (batch / "bad" / "study.yaml").write_text(
        "id: bad-study\ntitle: Bad\nteams: [{id: t, label: T, features: [no-such-feature]}]\n")
    store = new_store()
    before = store.graphs()
    with pytest.raises(ReaderError) as caught:
        ingest(batch, store, iris)
    assert [(p.rule, p.where.file, p.value) for p in caught.value.problems] == [
        ("vocabulary", "bad/study.yaml", "no-such-feature")]
    assert store.graphs() == before
