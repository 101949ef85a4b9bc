"""What the tools say, kept (issue 17, item 4) and cases as participants (item 3), on the hand-made
tests/ingest/data/refi/handmade-nvivo-cases.qdpx: its project.qde is short enough to read, and the numbers below
are read off it by hand."""

from __future__ import annotations

from pathlib import Path

from pyoxigraph import NamedNode

from qualkg.ingest.pipeline import ingest
from qualkg.ingest.readers import ReadOptions, read
from qualkg.ingest.records import StudyRecords
from qualkg.ingest.writers import export_qdpx
from qualkg.ontology.iris import IriScheme
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model

CASES = Path(__file__).parent / "data" / "refi" / "handmade-nvivo-cases.qdpx"
QK = "https://w3id.org/qualkg/ns#"


def new_store() -> GraphStore:
    store = open_store("oxigraph", path=None)
    load_model(store)
    return store


def one(path: Path) -> StudyRecords:
    [rec] = list(read(path, "auto", ReadOptions(study_id="cases")))
    return rec


def test_a_code_that_is_not_codable_is_a_category() -> None:
    codes = {c.label: c for c in one(CASES).codes}
    assert {label for label, c in codes.items() if not c.codable} == {"Challenges"}
    assert codes["Low pay"].parent == codes["Challenges"].id


def test_the_category_is_marked_in_the_graph_and_survives_export(iris: IriScheme, tmp_path: Path) -> None:
    store = new_store()
    ingest(CASES, store, iris, options=ReadOptions(study_id="cases"))
    rows = store.select(f"SELECT ?label WHERE {{ ?c <{QK}isCodable> false ; <{QK}inStudy> ?study ; "
                        "<http://www.w3.org/2004/02/skos/core#prefLabel> ?label }",
                        {"study": NamedNode(iris.study("cases"))})
    assert [r["label"].value for r in rows if r["label"] is not None] == ["Challenges"]
    out = tmp_path / "again.qdpx"
    out.write_bytes(export_qdpx(store, iris, "cases").data)
    assert {c.label for c in one(out).codes if not c.codable} == {"Challenges"}


def test_project_name_dates_and_users_are_kept() -> None:
    rec = one(CASES)
    project = rec.study.source_project
    assert project is not None
    users = {c.id: c.name for c in rec.coders}
    assert (project.name, project.tool) == ("Cases fixture", "NVivo for Windows 12.6")
    assert (project.created, project.modified) == ("2024-03-01T10:00:00+00:00", "2024-03-02T11:30:00+00:00")
    assert (users[project.creator or ""], users[project.modifier or ""]) == ("alice", "bob")
    assert [t.created for t in rec.transcripts] == ["2024-03-01T10:05:00+00:00"]
