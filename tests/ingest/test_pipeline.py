"""The pipeline: all or nothing, deterministic, located SHACL problems, provenance on every excerpt."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pyoxigraph import NamedNode
from rdflib import Graph
from rdflib.compare import isomorphic

from qualkg.ingest.errors import IngestError, ReaderError
from qualkg.ingest.mapping import map_study
from qualkg.ingest.pipeline import ingest, log_graph
from qualkg.ingest.readers import ReadOptions
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


NVIVO = Path(__file__).parent / "data" / "refi" / "nvivo12.6-win-oltas0517.qdpx"


def test_the_same_input_under_another_id_is_refused(iris: IriScheme) -> None:
    """Decision 0091: a second copy of one input would double every cross-study count."""
    store = new_store()
    ingest(NVIVO, store, iris, options=ReadOptions(study_id="first"))
    with pytest.raises(IngestError) as exc:
        ingest(NVIVO, store, iris, options=ReadOptions(study_id="second"))
    [problem] = exc.value.problems
    assert problem.rule == "duplicate-input" and problem.value == "first" and problem.where.file == NVIVO.name
    assert "--allow-duplicate" in problem.message
    assert iris.graph("second") not in store.graphs()


def test_the_same_input_again_under_its_id_replaces_it(iris: IriScheme) -> None:
    store = new_store()
    ingest(NVIVO, store, iris, options=ReadOptions(study_id="first"))
    assert ingest(NVIVO, store, iris, options=ReadOptions(study_id="first")).written


def test_a_duplicate_is_kept_when_asked_for(iris: IriScheme) -> None:
    store = new_store()
    ingest(NVIVO, store, iris, options=ReadOptions(study_id="first"))
    assert ingest(NVIVO, store, iris, options=ReadOptions(study_id="second"), allow_duplicate=True).written
    assert {iris.graph("first"), iris.graph("second")} <= set(store.graphs())


def test_a_dry_run_reports_the_duplicate_too(iris: IriScheme) -> None:
    store = new_store()
    ingest(NVIVO, store, iris, options=ReadOptions(study_id="first"))
    with pytest.raises(IngestError):
        ingest(NVIVO, store, iris, options=ReadOptions(study_id="second"), dry_run=True)


def test_project_provenance_is_kept(iris: IriScheme) -> None:
    """project.qde's root: name="Untitled", origin="NVivo for Windows 12.6", created 2025-02-21T15:09:07Z by
    floriansipos, modified 2025-06-18T02:18:21Z by Gergo (read off the XML by hand)."""
    store = new_store()
    ingest(NVIVO, store, iris, options=ReadOptions(study_id="nv"))
    rows = store.select("""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX qk: <https://w3id.org/qualkg/ns#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?name ?tool ?created ?modified ?creator ?modifier WHERE {
          ?study prov:wasDerivedFrom ?p . ?p a qk:SourceProject ; dcterms:title ?name ; qk:sourceTool ?tool ;
            dcterms:created ?created ; dcterms:modified ?modified ;
            dcterms:creator/rdfs:label ?creator ; dcterms:contributor/rdfs:label ?modifier }""",
                        {"study": NamedNode(iris.study("nv"))})
    [row] = [{k: v.value for k, v in r.items() if v is not None} for r in rows]
    assert row == {"name": "Untitled", "tool": "NVivo for Windows 12.6", "created": "2025-02-21T15:09:07Z",
                   "modified": "2025-06-18T02:18:21Z", "creator": "floriansipos", "modifier": "Gergo"}
