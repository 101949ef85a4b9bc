"""events.csv: kind is the grouping (a mode concept), structure its own column; old combined kinds still load.

Each package is a study.yaml and an events.csv written here; expected kinds, structures, warnings and
triples are written out by hand from those rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import NamedNode, Triple
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.mapping import map_study
from qualkg.ingest.package import PackageRecords, read_package
from qualkg.ingest.validate import shacl_results, to_rdflib
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import MODE, QK, QKDATA, STRUCTURE

IRIS = IriScheme(str(QKDATA))
STUDY = "id: ev\ntitle: Events study\n"
# Rows 2–6: two old combined kinds (three rows of one, one of the other), a new kind with a structure,
# an observation with none.
EVENTS = """id,kind,structure,label
E1,semi-structured-interview,,Interview 1
E2,semi-structured-interview,,Interview 2
E3,interview,,Interview 3
E4,focus-group,unstructured,Focus group
E5,nonparticipant-observation,,Team meeting
E6,semi-structured-interview,,Interview 6
"""


def _read(tmp_path: Path, events: str) -> PackageRecords:
    (tmp_path / "study.yaml").write_text(STUDY, encoding="utf-8")
    (tmp_path / "events.csv").write_text(events, encoding="utf-8")
    [records] = read_package(tmp_path)
    assert isinstance(records, PackageRecords)
    return records


def test_kinds_and_structures_are_read_with_old_kinds_mapped(tmp_path: Path) -> None:
    r = _read(tmp_path, EVENTS)
    assert [(e.id, e.kind, e.structure) for e in r.events] == [
        ("E1", "individual-interview", "semi-structured"),
        ("E2", "individual-interview", "semi-structured"),
        ("E3", "individual-interview", None),
        ("E4", "focus-group", "unstructured"),
        ("E5", "nonparticipant-observation", None),
        ("E6", "individual-interview", "semi-structured"),
    ]


def test_each_old_kind_is_warned_about_once_at_its_first_row(tmp_path: Path) -> None:
    r = _read(tmp_path, EVENTS)
    warned = [(w.rule, w.severity, w.where.file, w.where.row, w.where.field, w.value) for w in r.warnings]
    assert warned == [
        ("event-kind-old", "warning", "events.csv", 2, "kind", "semi-structured-interview"),
        ("event-kind-old", "warning", "events.csv", 4, "kind", "interview"),
    ]
    assert "individual-interview and structure semi-structured (3 events: E1, E2, E6)" in r.warnings[0].message


def test_new_kinds_give_no_warning(tmp_path: Path) -> None:
    r = _read(tmp_path, "id,kind,structure\nE1,individual-interview,semi-structured\nE2,documents,\n")
    assert r.warnings == []


def test_events_map_to_mode_and_structure_triples(tmp_path: Path) -> None:
    r = _read(tmp_path, EVENTS)
    triples = map_study(r, IRIS)
    g: Graph = to_rdflib(triples)
    e1, e4, e5 = (URIRef(IRIS.scoped("ev", "event", e)) for e in ("E1", "E4", "E5"))
    assert g.value(e1, QK.collectionMode) == MODE["individual-interview"]
    assert g.value(e1, QK.interviewStructure) == STRUCTURE["semi-structured"]
    assert (e1, RDF.type, QK.Interview) in g
    assert g.value(e4, QK.interviewStructure) == STRUCTURE["unstructured"]
    assert (e4, RDF.type, QK.FocusGroup) in g
    assert (e5, QK.interviewStructure, None) not in g
    assert (e5, RDF.type, QK.DataCollectionEvent) in g
    events = {str(e) for e in g.subjects(RDF.type, None) if "/event/" in str(e)}
    assert [x for x in shacl_results(triples) if x.focus in events and x.severity == "Violation"] == []


def test_a_structure_outside_the_scheme_is_refused_by_the_shapes(tmp_path: Path) -> None:
    r = _read(tmp_path, "id,kind,structure\nE1,individual-interview,structured\n")
    good = map_study(r, IRIS)
    bad = [t for t in good if t.predicate.value != str(QK.interviewStructure)]
    e1 = IRIS.scoped("ev", "event", "E1")
    bad.append(Triple(NamedNode(e1), NamedNode(str(QK.interviewStructure)), NamedNode(str(MODE["focus-group"]))))
    assert [x.shape for x in shacl_results(bad) if x.focus == e1 and x.severity == "Violation"] == [
        "https://w3id.org/qualkg/shapes#DataCollectionEvent_qk_interviewStructure_range"]


@pytest.mark.parametrize(("events", "row", "field", "rule"), [
    ("id,kind,structure\nE1,semi-structured-interview,structured\n", 2, "structure", "event-structure"),
    ("id,kind,structure\nE1,individual-interview,half-structured\n", 2, "structure", "vocabulary"),
    ("id,kind\nE1,group-chat\n", 2, "kind", "vocabulary"),
])
def test_a_bad_kind_or_structure_is_located(tmp_path: Path, events: str, row: int, field: str, rule: str) -> None:
    with pytest.raises(ReaderError) as e:
        _read(tmp_path, events)
    assert [(p.where.file, p.where.row, p.where.field, p.rule) for p in e.value.problems] == [
        ("events.csv", row, field, rule)]
