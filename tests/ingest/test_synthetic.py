"""A real study with synthetic data vs an invented study; every invented node flagged, overrides kept.

The package is written here: study.yaml with one organisation and two teams (one says synthetic: false),
a codebook of a real theme and an invented code, two participants (one real), one event, one transcript
and its excerpt. Which node is synthetic is read off those rows by hand.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal, URIRef

from qualkg.ingest.mapping import map_study
from qualkg.ingest.package import read_package
from qualkg.ingest.readers import read
from qualkg.ingest.validate import shacl_results, to_rdflib
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QK, QKDATA

IRIS = IriScheme(str(QKDATA))
STUDY = """id: syn
title: A real study with invented data
synthetic: true
organisations:
  - {id: org-x, label: Trust X}
teams:
  - {id: team-real, label: Team named in the paper, organisation: org-x, synthetic: false}
  - {id: team-made, label: Team made up, organisation: org-x}
"""
FILES = {
    "codebook.csv": "id,label,parent,level,synthetic\nTH1,Theme from the abstract,,theme,false\n"
                    "C1,Invented code,TH1,code,\n",
    "participants.csv": "id,pseudonym,team,synthetic\nP1,P1,team-made,\nP2,P2,team-real,false\n",
    "events.csv": "id,kind,participants\nE1,individual-interview,P1\n",
    "transcripts.csv": "id,label,event,text\nT1,Transcript 1,E1,SYNTHETIC words here.\n",
    "excerpts.csv": "transcript,text,codes,speaker\nT1,SYNTHETIC words,C1,P1\n",
}


def _write(tmp_path: Path, study: str = STUDY) -> Path:
    (tmp_path / "study.yaml").write_text(study, encoding="utf-8")
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _graph(tmp_path: Path, study: str = STUDY) -> tuple[Graph, list[str]]:
    [records] = read_package(_write(tmp_path, study))
    triples = map_study(records, IRIS)
    activity = IRIS.scoped("syn", "ingest", "activity")  # its input digest is the pipeline's to add
    violations = [r.message for r in shacl_results(triples) if r.severity == "Violation" and r.focus != activity]
    return to_rdflib(triples), violations


def _synthetic(g: Graph) -> set[str]:
    """The nodes marked qk:isSynthetic true."""
    return {str(s) for s in g.subjects(QK.isSynthetic, Literal(True))}


def _iri(kind: str, local: str, synthetic: bool = False) -> str:
    return IRIS.organisation(local) if kind == "org" else IRIS.scoped("syn", kind, local, synthetic=synthetic)


def test_every_invented_node_is_flagged_and_overrides_are_kept(tmp_path: Path) -> None:
    g, violations = _graph(tmp_path)
    assert violations == []
    made = _synthetic(g)
    expected = {_iri("org", "org-x"), _iri("team", "team-made"), _iri("code", "C1"), _iri("participant", "P1"),
                _iri("event", "E1"), _iri("transcript", "T1", synthetic=True)}
    # Not flagged: the study (real), team-real and P2 (synthetic: false), theme TH1 (false).
    assert {_iri("team", "team-real"), _iri("participant", "P2"), _iri("code", "TH1")}.isdisjoint(made)
    excerpts = {s for s in made - expected if "/synthetic/excerpt/" in s}
    assert len(excerpts) == 1
    assert made == expected | excerpts


def test_a_real_study_has_synthetic_data_but_is_not_synthetic(tmp_path: Path) -> None:
    g, _ = _graph(tmp_path)
    study = URIRef(IRIS.study("syn"))
    assert g.value(study, QK.hasSyntheticData) == Literal(True)
    assert (study, QK.isSynthetic, None) not in g


def test_an_invented_study_is_synthetic_itself(tmp_path: Path) -> None:
    g, violations = _graph(tmp_path, STUDY.replace("synthetic: true\n", "invented: true\n", 1))
    study = URIRef(IRIS.study("syn"))
    assert violations == []
    assert g.value(study, QK.isSynthetic) == Literal(True)
    assert g.value(study, QK.hasSyntheticData) == Literal(True)
    assert _iri("code", "C1") in _synthetic(g) and _iri("code", "TH1") not in _synthetic(g)


def test_a_real_package_flags_only_what_its_rows_say(tmp_path: Path) -> None:
    g, _ = _graph(tmp_path, STUDY.replace("synthetic: true\n", "", 1))  # empty cells now mean real
    assert (URIRef(IRIS.study("syn")), QK.hasSyntheticData, None) not in g
    assert _synthetic(g) == set()


def test_coded_data_merged_into_a_synthetic_package_is_synthetic(tmp_path: Path) -> None:
    """A table of 1 row (speaker P9, code Pay) in a synthetic package: its transcript, excerpt, participant and
    code are all invented with the package."""
    (tmp_path / "t.csv").write_text("Doc,Who,Code,Quote\nd1,P9,Pay,SYNTHETIC pay.\n", encoding="utf-8")
    (tmp_path / "study.yaml").write_text(
        "id: syn\ntitle: Synthetic with a table\nsynthetic: true\ncoded_data: {tabular: t.csv, preset: generic, "
        "mapping: {document: Doc, participant: Who, code: Code, text: Quote}}\n", encoding="utf-8")
    [rec] = read(tmp_path)
    assert [(p.pseudonym, p.synthetic) for p in rec.participants] == [("P9", True)]
    assert [(t.id, t.synthetic) for t in rec.transcripts] == [("d1", True)]
    assert [(x.text, x.synthetic) for x in rec.excerpts] == [("SYNTHETIC pay.", True)]
    assert [(c.label, c.synthetic) for c in rec.codes] == [("Pay", True)]
