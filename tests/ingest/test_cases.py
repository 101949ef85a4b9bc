"""What the tools say, kept (issue 17, item 4) and cases as participants (item 3), on the hand-made
tests/ingest/data/refi/handmade-nvivo-cases.qdpx: its project.qde is short enough to read, and the numbers below
are read off it by hand."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from qualkg.ingest.cases import parse_rules
from qualkg.ingest.errors import ReaderError
from qualkg.ingest.mapping import map_study
from qualkg.ingest.pipeline import ingest
from qualkg.ingest.readers import ReadOptions, read
from qualkg.ingest.readers.refi import read_qdpx
from qualkg.ingest.records import StudyRecords, Where
from qualkg.ingest.writers import export_qdpx
from qualkg.ontology.iris import IriScheme
from qualkg.queries.catalog import default_catalog
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model

CASES = Path(__file__).parent / "data" / "refi" / "handmade-nvivo-cases.qdpx"
NVIVO = Path(__file__).parent / "data" / "refi" / "nvivo12.6-win-oltas0517.qdpx"
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


# -- item 3: cases as participants ------------------------------------------------------------------------------
# project.qde: P01 Role "Peer worker", Team "North team", Team feature "Flat hierarchy", spoke selection 1
# (Low pay) — "Peer worker" is the label of role:peer-worker, the broader peer concept; P02 "Psychiatrist",
# "North team", "Flat hierarchy", selection 2 (Hierarchy); P03 "Volunteer",
# "South team", selection 3 (Shared decisions).

RULES = {"Role": {"Volunteer": "support-worker"}, "Team": "team",
         "Team feature": {"Flat hierarchy": "flattened-hierarchy"}}


def read_with(rules: object) -> StudyRecords:
    parsed, problems = parse_rules(rules, Where("study.yaml"))
    assert problems == []
    return read_qdpx(CASES, study_id="cases", rules=parsed)


def test_cases_become_participants_with_roles_and_teams_by_the_vocabulary_labels() -> None:
    rec = one(CASES)
    teams = {t.id: t for t in rec.teams}
    got = {p.pseudonym: (p.role, teams[p.team].label if p.team else None) for p in rec.participants}
    assert got == {"P01": ("peer-worker", "North team"), "P02": ("psychiatrist", "North team"),
                   "P03": (None, "South team")}
    speakers = {x.text: next(p.pseudonym for p in rec.participants if p.id == x.speaker) for x in rec.excerpts}
    assert speakers == {"The pay is low for peer workers.": "P01", "The hierarchy is flat here.": "P02",
                        "We share decisions.": "P03"}


def test_values_no_concept_matches_are_listed_once_per_variable() -> None:
    unmapped = {w.where.element: w.value for w in one(CASES).warnings if w.rule == "attribute-unmapped"}
    assert unmapped == {"Variables/Variable[@name='Role']": "Volunteer (1 case)",
                        "Variables/Variable[@name='Team feature']": "Flat hierarchy (2 cases)"}


def test_a_package_maps_values_to_concepts() -> None:
    rec = read_with(RULES)
    roles = {p.pseudonym: p.role for p in rec.participants}
    assert roles == {"P01": "peer-worker", "P02": "psychiatrist", "P03": "support-worker"}
    assert {t.label: t.features for t in rec.teams} == {"North team": ("flattened-hierarchy",), "South team": ()}
    assert not [w for w in rec.warnings if w.rule == "attribute-unmapped"]


def test_a_mapping_to_no_concept_is_refused_located() -> None:
    _, problems = parse_rules({"Role": {"Peer worker": "peer-wizard"}}, Where("study.yaml"))
    [p] = problems
    assert (p.rule, p.where.element, p.value) == ("vocabulary", "case_attributes.Role", "peer-wizard")


def test_the_matrix_and_the_main_question_answer_on_cases(iris: IriScheme) -> None:
    store = new_store()
    store.replace_graph(iris.graph("cases"), map_study(read_with(RULES), iris))
    matrix = default_catalog().run(store, "matrix", {"rows": "role", "columns": "code", "study": "cases"})
    cells = {(r["row"], r["column"]): r["excerpts"] for r in matrix.to_dict("records")}
    assert {k: v for k, v in cells.items() if v} == {
        ("peer worker", "Low pay"): 1, ("psychiatrist", "Hierarchy"): 1,
        ("support worker", "Shared decisions"): 1}
    main = default_catalog().run(store, "challenges-by-context",
                                 {"role": "peer-worker", "feature": "flattened-hierarchy", "topic": "pay"})
    assert [(r["code"], r["excerpts"], r["participants"]) for r in main.to_dict("records")] == [("Low pay", 1, 1)]


def test_a_project_without_cases_says_once_how_to_add_them(iris: IriScheme) -> None:
    report = ingest(NVIVO, None, iris, options=ReadOptions(study_id="nv"))
    rules = Counter(w.rule for w in report.warnings)
    assert rules["no-cases"] == 1 and rules["study-metadata-recommended"] == 1
    [no_cases] = [w for w in report.warnings if w.rule == "no-cases"]
    assert no_cases.where.element == "Cases" and "coded_data" in no_cases.message
    assert not [w for w in report.warnings if w.rule.endswith("_recommended)") and w.where.element == iris.study("nv")]


def cases_package(tmp_path: Path, extra: str = "") -> Path:
    """A package around the hand-made project that maps only P01; P02 and P03 stay case participants."""
    pkg = tmp_path / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "study.yaml").write_text("id: cases-pkg\ntitle: Cases package (SYNTHETIC)\nsynthetic: true\n"
                                    "teams: [{id: team-a, label: Team A, features: [flattened-hierarchy]}]\n"
                                    "coded_data: {qdpx: cases.qdpx}\ncases: {P01: peer1}\n" + extra)
    (pkg / "participants.csv").write_text("id,pseudonym,role,team\npeer1,peer1,peer-practitioner,team-a\n")
    (pkg / "cases.qdpx").write_bytes(CASES.read_bytes())
    return pkg


def test_a_package_keeps_the_teams_of_the_cases_it_does_not_map(iris: IriScheme, tmp_path: Path) -> None:
    [rec] = list(read(cases_package(tmp_path)))
    teams = {t.id: t.label for t in rec.teams}
    got = {p.pseudonym: (p.role, teams.get(p.team or "")) for p in rec.participants}
    assert got == {"peer1": ("peer-practitioner", "Team A"), "P02": ("psychiatrist", "North team"),
                   "P03": (None, "South team")}
    assert ingest(cases_package(tmp_path / "again"), None, iris).studies[0].participants == 3


def test_package_case_attributes_replace_the_names_guess(tmp_path: Path) -> None:
    """study.yaml's case_attributes map P03's "Volunteer" (unmapped by the labels) to support-worker."""
    extra = ("case_attributes:\n  Role: {Volunteer: support-worker}\n  Team: team\n"
             "  Team feature: {Flat hierarchy: flattened-hierarchy}\n")
    [rec] = list(read(cases_package(tmp_path, extra)))
    assert {p.pseudonym: p.role for p in rec.participants} == {
        "peer1": "peer-practitioner", "P02": "psychiatrist", "P03": "support-worker"}
    assert not [w for w in rec.warnings if w.rule == "attribute-unmapped"]


def test_package_case_attributes_list_the_values_they_do_not_map(tmp_path: Path) -> None:
    """Only Role is mapped, and not "Volunteer": that value is listed, once, in one warning."""
    [rec] = list(read(cases_package(tmp_path, "case_attributes: {Role: role}\n")))
    [unmapped] = [w for w in rec.warnings if w.rule == "attribute-unmapped"]
    assert (unmapped.where.element, unmapped.value) == ("Variables/Variable[@name='Role']", "Volunteer (1 case)")


def test_bad_package_case_attributes_are_located_in_study_yaml(tmp_path: Path) -> None:
    pkg = cases_package(tmp_path, "case_attributes:\n  Role: {Volunteer: peer-wizard}\n  Site: colour\n")
    with pytest.raises(ReaderError) as caught:
        read(pkg)
    assert [(p.rule, p.where.file, p.where.element, p.value) for p in caught.value.problems] == [
        ("vocabulary", "study.yaml", "case_attributes.Role", "peer-wizard"),
        ("case-attributes", "study.yaml", "case_attributes.Site", "colour")]


def test_a_tables_speaker_columns_take_the_package_case_attributes(tmp_path: Path) -> None:
    """A table in a package: the speaker's Job column is mapped by the package's rules."""
    pkg = tmp_path / "tab"
    pkg.mkdir()
    (pkg / "t.csv").write_text("Doc,Who,Job,Code,Quote\nd1,P1,Volunteer,Pay,SYNTHETIC one.\n", encoding="utf-8")
    (pkg / "study.yaml").write_text(
        "id: tab\ntitle: Table\ncoded_data: {tabular: t.csv, preset: generic, mapping: {document: Doc, "
        "participant: Who, role: Job, code: Code, text: Quote}}\ncase_attributes: {Job: {Volunteer: support-worker}}\n",
        encoding="utf-8")
    [rec] = list(read(pkg))
    assert [(p.pseudonym, p.role) for p in rec.participants] == [("P1", "support-worker")]


G = "00000000-0000-4000-8000-{:012d}".format
MAXQDA_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Document variables" origin="MAXQDA 24">
<Users><User guid="{G(1)}" name="coder"/></Users>
<CodeBook><Codes><Code guid="{G(10)}" name="Low pay" isCodable="true"/></Codes></CodeBook>
<Variables><Variable guid="{G(20)}" name="Role" typeOfVariable="Text"/>
<Variable guid="{G(21)}" name="Team" typeOfVariable="Text"/></Variables>
<Sources>
<TextSource guid="{G(30)}" name="Interview 1"><PlainTextContent>SYNTHETIC pay is low.</PlainTextContent>
<PlainTextSelection guid="{G(40)}" startPosition="10" endPosition="21" creatingUser="{G(1)}">
<Coding guid="{G(50)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(10)}"/></Coding></PlainTextSelection>
<VariableValue><VariableRef targetGUID="{G(20)}"/><TextValue>Peer support worker</TextValue></VariableValue>
<VariableValue><VariableRef targetGUID="{G(21)}"/><TextValue>East</TextValue></VariableValue>
</TextSource>
<TextSource guid="{G(31)}" name="Notes"><PlainTextContent>SYNTHETIC notes.</PlainTextContent></TextSource>
</Sources></Project>"""


def test_maxqda_document_variables_make_the_document_a_participant(tmp_path: Path) -> None:
    """No <Cases>: "Interview 1" carries Role and Team, so it is one participant who speaks its excerpt;
    "Notes" has no variables and is no one."""
    path = tmp_path / "maxqda.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", MAXQDA_QDE)
    rec = read_qdpx(path, study_id="mx")
    [p] = rec.participants
    [team] = rec.teams
    assert (p.pseudonym, p.role, team.label, p.team) == ("Interview 1", "peer-support-worker", "East", team.id)
    assert [(x.text, x.speaker) for x in rec.excerpts] == [("pay is low.", p.id)]
    assert "no-cases" not in {w.rule for w in rec.warnings}
    assert [w.value for w in rec.warnings if w.rule == "document-participants"] == ["Interview 1"]
