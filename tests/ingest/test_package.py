"""Study packages: the fixture read into exactly the expected records, each bad input refused with
its rule and location, ZIP safety, the committed JSON Schema, and the bundled data in data/.
"""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib.namespace import RDFS, SKOS

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.package import (
    EVENT_KINDS,
    FEATURES,
    OLD_EVENT_KINDS,
    PUBLICATION_KINDS,
    ROLES,
    STRUCTURES,
    CodedData,
    PackageRecords,
    materialise_coded_data,
    package_json_schema,
    read_package,
)
from qualkg.ingest.records import (
    Code,
    Coder,
    Event,
    Excerpt,
    Note,
    Organisation,
    Participant,
    Problem,
    Provenance,
    Publication,
    Study,
    Team,
    Transcript,
    Where,
)
from qualkg.ontology.load import ontology_graph, vocabulary_graph
from qualkg.ontology.namespaces import FABIO, FEATURE, MODE, ROLE, STRUCTURE

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "data" / "package" / "minimal"
SEED = ROOT / "data" / "seed-anestis-2025"
RELATED = ROOT / "data" / "related"
TOOL = "qualkg study package"


def _prov(convention: str, row: int, start: int | None = None, end: int | None = None) -> Provenance:
    where = Where("excerpts.csv", row=row)
    return Provenance("excerpts.csv", TOOL, convention, start, end, where)


EXPECTED = PackageRecords(
    study=Study(
        "fixture-study", "Fixture study (SYNTHETIC)", "Two participants, one joint interview, two transcripts.",
        Publication("10.0000/fixture.1", "Fixture article", 2024, None, ("Doe J", "Roe R")),
        countries=("GB",), sample="two practitioners", published_themes=("Theme one",), synthetic=True),
    # The package says synthetic: true and no row or entry says otherwise, so everything is synthetic.
    organisations=[Organisation("org-a", "Trust A (placeholder)", "formal", "unverified", True)],
    teams=[Team("team-a", "Team A", "org-a", ("flattened-hierarchy",), True)],
    participants=[
        Participant("P1", "P1", "peer-practitioner", "team-a", (("site_type", "urban"),), True,
                    Where("participants.csv", row=2)),
        Participant("N1", "N1", "psychiatrist", "team-a", (), True, Where("participants.csv", row=3)),
    ],
    events=[Event("E1", "joint-interview", "Joint interview 1", ("P1", "N1"), "other-study", True)],
    transcripts=[
        Transcript("T1", "Transcript 1", "Q: pay?\nA: SYNTHETIC pay is low.\nA: SYNTHETIC hierarchy is flat.\n",
                   "E1", True, "t1.txt"),
        Transcript("T2", "Transcript 2", "SYNTHETIC first.\n\nSYNTHETIC second.", None, True, "transcripts.csv"),
    ],
    codes=[
        Code("TH1", "Theme one", None, "theme", "A theme.", None, True, "10.0000/fixture.1", synthetic=True),
        Code("C1", "Low pay", "TH1", "code", synthetic=True),
        Code("C2", "Hierarchy", "TH1", "code", synthetic=True),
    ],
    coders=[Coder("coder1", "coder1"), Coder("coder2", "coder2")],
    # Offsets counted by hand over the LF-normalised text of tests/ingest/data/package/minimal/t1.txt,
    # "Q: pay?\nA: SYNTHETIC pay is low.\nA: SYNTHETIC hierarchy is flat.\n": "Q: pay?\n" is 8 characters and
    # "A: " 3 more, so "SYNTHETIC pay is low." (21) spans 11..32; "\nA: " follows, so "SYNTHETIC hierarchy is
    # flat." (28) spans 36..64; "pay is low" sits 10 characters into the first excerpt, 21..31. T2 has no
    # text: its two excerpts are joined by a blank line, "SYNTHETIC first." (16) at 0..16 and
    # "SYNTHETIC second." (17) at 18..35.
    excerpts=[
        Excerpt("T1", 11, 32, "SYNTHETIC pay is low.", ("C1",), "P1", "coder1", True, _prov("located-by-search", 2)),
        Excerpt("T1", 36, 64, "SYNTHETIC hierarchy is flat.", ("C2", "C1"), "N1", "coder1", True,
                _prov("located-by-search", 3)),
        Excerpt("T1", 21, 31, "pay is low", ("C1",), "P1", "coder2", True, _prov("codepoint/lf/exclusive", 4, 21, 31)),
        Excerpt("T2", 0, 16, "SYNTHETIC first.", ("C1",), "P1", None, True, _prov("reconstructed", 5)),
        Excerpt("T2", 18, 35, "SYNTHETIC second.", ("C2",), None, None, True, _prov("reconstructed", 6)),
    ],
    notes=[Note("note-1", "SYNTHETIC: All participant-level content is invented for tests.", "study", "fixture-study")],
    cases={"Case P1": "P1"},
)


def test_fixture_reads_into_expected_records() -> None:
    assert read_package(FIXTURE) == [EXPECTED]


def test_zip_of_fixture_reads_the_same(tmp_path: Path) -> None:
    """A ZIP whose single top folder is the package gives the same records as the folder."""
    archive = tmp_path / "minimal.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(FIXTURE.iterdir()):
            zf.write(f, f"minimal/{f.name}")
    assert read_package(archive) == [EXPECTED]


def test_coded_data_pointer_is_recorded_and_materialised(tmp_path: Path) -> None:
    """The pointer names the file relative to the package; from a ZIP it is copied out intact."""
    root = tmp_path / "pkg"
    shutil.copytree(FIXTURE, root)
    (root / "study.yaml").write_text((root / "study.yaml").read_text(encoding="utf-8")
                                     + "coded_data: {tabular: coded/export.csv, preset: taguette}\n", encoding="utf-8")
    (root / "coded").mkdir()
    (root / "coded" / "export.csv").write_bytes(b"id,document,tag,content\n")
    [records] = read_package(root)
    assert isinstance(records, PackageRecords)
    assert records.coded_data == CodedData("tabular", "coded/export.csv", "taguette", root)
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            zf.write(f, f.relative_to(root).as_posix())
    [zipped] = read_package(archive)
    assert isinstance(zipped, PackageRecords) and zipped.coded_data is not None
    out = tmp_path / "out"
    out.mkdir()
    assert materialise_coded_data(zipped.coded_data, out).read_bytes() == b"id,document,tag,content\n"


def test_collection_reports_problems_of_every_package(tmp_path: Path) -> None:
    """Two broken packages in one folder: both problems come back, each prefixed by its folder."""
    for name in ("a", "b"):
        shutil.copytree(FIXTURE, tmp_path / name)
        sub("participants.csv", "N1,N1,psychiatrist", "N1,N1,wizard")(tmp_path / name)
    with pytest.raises(ReaderError) as caught:
        read_package(tmp_path)
    assert [(p.rule, p.where.file) for p in caught.value.problems] == [
        ("vocabulary", "a/participants.csv"), ("vocabulary", "b/participants.csv")]


Edit = Callable[[Path], None]


def sub(file: str, old: str, new: str) -> Edit:
    """Replace `old` (which must be present) by `new` in one fixture file."""
    def edit(root: Path) -> None:
        text = (root / file).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {file}"
        (root / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return edit


# (edit, rule, file, element, row, field, value) — each refused package and the first matching problem.
BAD = {
    "role not in vocabulary": (sub("participants.csv", "N1,N1,psychiatrist", "N1,N1,wizard"),
                               "vocabulary", "participants.csv", None, 3, "role", "wizard"),
    "feature not in vocabulary": (sub("study.yaml", "features: [flattened-hierarchy]", "features: [flat]"),
                                  "vocabulary", "study.yaml", "teams[0].features[0]", None, "features", "flat"),
    "event kind not in vocabulary": (sub("events.csv", "E1,joint-interview", "E1,chat"),
                                     "vocabulary", "events.csv", None, 2, "kind", "chat"),
    "code level not in vocabulary": (sub("codebook.csv", ",theme,", ",chapter,"),
                                     "vocabulary", "codebook.csv", None, 2, "level", "chapter"),
    "direct identifier column": (sub("participants.csv", ",site_type\n", ",email\n"),
                                 "direct-identifier", "participants.csv", None, 1, "email", "email"),
    "birth date column": (sub("participants.csv", ",site_type\n", ",Birth Date\n"),
                          "direct-identifier", "participants.csv", None, 1, "Birth Date", "Birth Date"),
    "pseudonym missing": (sub("participants.csv", "N1,N1,", "N1,,"),
                          "required", "participants.csv", None, 3, "pseudonym", None),
    "unknown team": (sub("participants.csv", "P1,P1,peer-practitioner,team-a", "P1,P1,peer-practitioner,team-z"),
                     "unknown-reference", "participants.csv", None, 2, "team", "team-z"),
    "unknown event participant": (sub("events.csv", "P1; N1", "P1; N9"),
                                  "unknown-reference", "events.csv", None, 2, "participants", "N9"),
    "unknown code on excerpt": (sub("excerpts.csv", "C2;C1", "C2;C9"),
                                "unknown-reference", "excerpts.csv", None, 3, "codes", "C9"),
    "unknown case participant": (sub("study.yaml", "Case P1: P1", "Case P1: P7"),
                                 "unknown-reference", "study.yaml", "cases[Case P1]", None, "cases", "P7"),
    "role not declared": (sub("study.yaml", "roles: [peer-practitioner, psychiatrist]", "roles: [peer-practitioner]"),
                          "role-not-declared", "participants.csv", None, 3, "role", "psychiatrist"),
    "duplicate code id": (sub("codebook.csv", "C2,Hierarchy", "C1,Hierarchy"),
                          "duplicate-id", "codebook.csv", None, 4, "id", "C1"),
    "codebook cycle": (sub("codebook.csv", "TH1,Theme one,,", "TH1,Theme one,C2,"),
                       "codebook-cycle", "codebook.csv", None, 2, "parent", "C2"),
    "excerpt not in transcript": (sub("excerpts.csv", "SYNTHETIC pay is low.", "SYNTHETIC pay is high."),
                                  "excerpt-not-in-transcript", "excerpts.csv", None, 2, "text",
                                  "SYNTHETIC pay is high."),
    "offsets do not select the text": (sub("excerpts.csv", "T1,21,31", "T1,20,31"),
                                       "excerpt-text-mismatch", "excerpts.csv", None, 4, "text", "pay is low"),
    "start without end": (sub("excerpts.csv", "T1,21,31", "T1,21,"),
                          "offsets-pair", "excerpts.csv", None, 4, "end", None),
    "offsets on a transcript without text": (sub("excerpts.csv", "T2,,,SYNTHETIC first.", "T2,0,16,SYNTHETIC first."),
                                             "offsets-without-text", "excerpts.csv", None, 5, "start", "0"),
    "synthetic excerpt of a real transcript": (sub("transcripts.csv", "T2,Transcript 2,,true",
                                                   "T2,Transcript 2,,false"),
                                               "synthetic-consistency", "excerpts.csv", None, 5, "synthetic", "True"),
    "transcript file missing": (sub("transcripts.csv", "t1.txt", "t9.txt"),
                                "missing-file", "transcripts.csv", None, 2, "text_file", "t9.txt"),
    "transcript file outside the package": (sub("transcripts.csv", "t1.txt", "../minimal/t1.txt"),
                                            "missing-file", "transcripts.csv", None, 2, "text_file",
                                            "../minimal/t1.txt"),
    "unknown study.yaml field": (sub("study.yaml", "countries: [GB]", "countries: [GB]\nparticipant_names: [x]"),
                                 "unknown-field", "study.yaml", "participant_names", None, "participant_names", None),
    "country not ISO alpha-2": (sub("study.yaml", "countries: [GB]", "countries: [UK-EN]"),
                                "pattern", "study.yaml", "countries[0]", None, "countries", "UK-EN"),
    "events in yaml and csv": (sub("study.yaml", "roles:", "events: []\nroles:"),
                               "duplicate-source", "study.yaml", "events", None, None, None),
    "coded data file missing": (sub("study.yaml", "roles:", "coded_data: {qdpx: project.qdpx}\nroles:"),
                                "missing-file", "study.yaml", "coded_data.qdpx", None, "qdpx", "project.qdpx"),
    "yaml not well formed": (sub("study.yaml", "title: Fixture study (SYNTHETIC)", "title: [unclosed"),
                             "yaml-well-formed", "study.yaml", "line 4", None, None, None),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_package_is_refused_with_location(case: str, tmp_path: Path) -> None:
    edit, rule, file, element, row, field, value = BAD[case]
    root = tmp_path / "pkg"
    shutil.copytree(FIXTURE, root)
    edit(root)
    with pytest.raises(ReaderError) as caught:
        read_package(root)
    found = [p for p in caught.value.problems if p.rule == rule]
    assert found, [p.as_dict() for p in caught.value.problems]
    w = found[0].where
    assert (w.file, w.element, w.row, w.field, found[0].value) == (file, element, row, field, value)


def _zip_with(tmp_path: Path, add: Callable[[zipfile.ZipFile], None]) -> Path:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(FIXTURE.iterdir()):
            zf.write(f, f.name)
        add(zf)
    return archive


def _symlink(zf: zipfile.ZipFile) -> None:
    info = zipfile.ZipInfo("link.txt")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(info, "/etc/passwd")


BAD_ZIPS = {  # rule ids are ingest.safe_io's, shared with QDPX archives
    "climbs out with ..": (lambda zf: zf.writestr("../evil.txt", "x"), "zip-slip", "../evil.txt"),
    "absolute path": (lambda zf: zf.writestr("/abs.txt", "x"), "zip-slip", "/abs.txt"),
    "symbolic link": (_symlink, "zip-symlink", "link.txt"),
    "ratio above 200:1": (lambda zf: zf.writestr("zeros.txt", "0" * 2_000_000), "zip-bomb-ratio", "zeros.txt"),
}


@pytest.mark.parametrize("case", list(BAD_ZIPS))
def test_unsafe_zip_is_refused(case: str, tmp_path: Path) -> None:
    add, rule, member = BAD_ZIPS[case]
    archive = _zip_with(tmp_path, add)
    with pytest.raises(ReaderError) as caught:
        read_package(archive)
    assert [(p.rule, p.where.file, p.where.element) for p in caught.value.problems] == [(rule, "bad.zip", member)]


@pytest.mark.parametrize(("allowed", "namespace"), [(ROLES, ROLE), (FEATURES, FEATURE), (EVENT_KINDS, MODE)],
                         ids=["roles", "features", "event kinds"])
def test_vocabulary_constants_equal_the_skos_schemes(allowed: tuple[str, ...], namespace: str) -> None:
    """The package's allowed local names, with the old event kinds it maps, are exactly the concepts of the
    scheme in ontology/vocab."""
    g = vocabulary_graph()
    concepts = {str(c).removeprefix(str(namespace)) for c in g.subjects(SKOS.inScheme, namespace["scheme"])}
    old = set(OLD_EVENT_KINDS) if namespace == MODE else set()
    assert set(allowed) | old == concepts


def test_structures_equal_the_skos_scheme() -> None:
    g = vocabulary_graph()
    concepts = {str(c).removeprefix(str(STRUCTURE)) for c in g.subjects(SKOS.inScheme, STRUCTURE["scheme"])}
    assert set(STRUCTURES) == concepts == {"structured", "semi-structured", "unstructured"}


def test_publication_kinds_are_the_fabio_classes_the_ontology_declares() -> None:
    declared = {str(c).removeprefix(str(FABIO)) for c in ontology_graph().subjects(RDFS.subClassOf, FABIO.Expression)}
    assert set(PUBLICATION_KINDS) == declared


def test_committed_json_schema_is_current() -> None:
    """docs/study-package.schema.json must equal what the pydantic model generates today."""
    committed = json.loads((ROOT / "docs" / "study-package.schema.json").read_text(encoding="utf-8"))
    assert committed == package_json_schema()


# --- bundled data -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seed() -> PackageRecords:
    [records] = read_package(SEED)
    assert isinstance(records, PackageRecords)
    return records


def test_seed_design_counts_equal_the_abstract(seed: PackageRecords) -> None:
    """Abstract: 9 peer practitioners; 18 non-peer practitioners from 11 interviews and 4 focus
    groups; three themes. Peers are the participants with role peer-practitioner; non-peers the
    rest; non-peer events are those whose participants are all non-peers."""
    peers = {p.id for p in seed.participants if p.role == "peer-practitioner"}
    others = {p.id for p in seed.participants if p.role != "peer-practitioner"}
    non_peer_events = [e for e in seed.events if e.participants and set(e.participants) <= others]
    peer_events = [e for e in seed.events if e.participants and set(e.participants) <= peers]
    assert (len(peers), len(others)) == (9, 18)
    assert {p for e in non_peer_events for p in e.participants} == others
    assert {p for e in peer_events for p in e.participants} == peers
    assert sorted(e.kind for e in non_peer_events).count("individual-interview") == 11
    assert sorted(e.kind for e in non_peer_events).count("focus-group") == 4
    assert len(non_peer_events) == 15
    assert {e.kind for e in peer_events} == {"individual-interview", "joint-interview"}
    assert len(peer_events) + len(non_peer_events) == len(seed.events)
    themes = [c for c in seed.codes if c.level == "theme"]
    assert len(themes) == 3
    assert all(t.placeholder_label and t.source == "10.1192/bjo.2025.10833" for t in themes)
    assert seed.study.publication is not None and seed.study.publication.doi == "10.1192/bjo.2025.10833"


def test_seed_has_a_contrast_team_without_flattened_hierarchy(seed: PackageRecords) -> None:
    with_fh = [t for t in seed.teams if "flattened-hierarchy" in t.features]
    without = [t for t in seed.teams if "flattened-hierarchy" not in t.features]
    assert with_fh and without
    assert all("placeholder" in t.label for t in seed.teams)
    assert all(o.verification == "unverified" for o in seed.organisations)


def test_every_bundled_excerpt_and_transcript_is_synthetic_and_marked(seed: PackageRecords) -> None:
    assert 40 <= len(seed.excerpts) <= 60
    assert all(x.synthetic and x.text.startswith("SYNTHETIC:") for x in seed.excerpts)
    assert all(t.synthetic and t.text and t.text.startswith("SYNTHETIC") for t in seed.transcripts)
    speakers_roles = {p.id: p.role for p in seed.participants}
    spoken = {speakers_roles[x.speaker] == "peer-practitioner" for x in seed.excerpts if x.speaker}
    assert spoken == {True, False}  # both peer and non-peer voices
    teams = {p.id: p.team for p in seed.participants}
    assert len({teams[x.speaker] for x in seed.excerpts if x.speaker}) >= 3


def test_all_bundled_related_studies_read() -> None:
    """data/related has one package per study in related-studies.md sections A and B (A12: the
    three located items) plus the ODDESSI programme; none has participants or excerpts."""
    records = read_package(RELATED)
    folders = sorted(p.name for p in RELATED.iterdir() if (p / "study.yaml").is_file())
    assert len(records) == len(folders) >= 20
    assert all(not r.participants and not r.excerpts for r in records)
    assert len({r.study.id for r in records}) == len(records)


def _broken(tmp_path: Path, *edits: Edit) -> list[Problem]:
    root = tmp_path / "pkg"
    shutil.copytree(FIXTURE, root)
    for edit in edits:
        edit(root)
    with pytest.raises(ReaderError) as caught:
        read_package(root)
    return list(caught.value.problems)


@pytest.mark.parametrize("role_edit", [
    sub("participants.csv", "N1,N1,psychiatrist", "N1,N1,wizard"),  # refused by the vocabulary
    sub("study.yaml", "roles: [peer-practitioner, psychiatrist]", "roles: [peer-practitioner]"),  # not declared
], ids=["vocabulary", "not-declared"])
def test_a_role_problem_and_an_offset_problem_are_reported_at_once(role_edit: Edit, tmp_path: Path) -> None:
    """Fixing the role does not reveal the offsets next run: both come in the first one, and the refused
    participant N1 (speaker of row 3, in events.csv) is not reported again as unknown."""
    problems = _broken(tmp_path, role_edit, sub("excerpts.csv", "T1,21,31", "T1,20,31"))
    rules = [(p.rule, p.where.file, p.where.row) for p in problems]
    assert {rules[0][0]} <= {"vocabulary", "role-not-declared"}
    assert rules[1:] == [("excerpt-text-mismatch", "excerpts.csv", 4)]
    assert rules[0][1:] == ("participants.csv", 3)


def test_study_yaml_and_csv_problems_are_reported_at_once(tmp_path: Path) -> None:
    problems = _broken(tmp_path, sub("study.yaml", "countries: [GB]", "countries: [UK-EN]"),
                       sub("codebook.csv", ",theme,", ",chapter,"))
    assert [(p.rule, p.where.file) for p in problems] == [("pattern", "study.yaml"), ("vocabulary", "codebook.csv")]


def test_a_mismatch_says_what_the_offsets_hold_and_where_the_text_is(tmp_path: Path) -> None:
    """t1.txt holds "pay is low" once, at 21:31 (counted by hand, see the module docstring); 20:31 holds
    " pay is low"."""
    [problem] = _broken(tmp_path, sub("excerpts.csv", "T1,21,31", "T1,20,31"))
    assert problem.rule == "excerpt-text-mismatch"
    assert "the transcript text at 20:31 is ' pay is low'" in problem.message
    assert "the excerpt text occurs at 21:31" in problem.message


def test_a_mismatch_says_when_the_text_occurs_nowhere(tmp_path: Path) -> None:
    [problem] = _broken(tmp_path, sub("excerpts.csv", "T1,21,31,pay is low", "T1,21,31,pay is lox"))
    assert "the transcript text at 21:31 is 'pay is low'" in problem.message
    assert "occurs nowhere in the transcript" in problem.message


def test_a_mismatch_past_the_end_says_how_long_the_text_is(tmp_path: Path) -> None:
    [problem] = _broken(tmp_path, sub("excerpts.csv", "T1,21,31", "T1,90,100"))
    assert "the transcript has 65 characters, so 90:100 runs past its end" in problem.message
    assert "the excerpt text occurs at 21:31" in problem.message


def test_a_searched_excerpt_not_found_says_where_it_does_occur(tmp_path: Path) -> None:
    """Row 3 searches from where row 2's excerpt starts (36); its text sits before, at 11:32."""
    problems = _broken(tmp_path, sub("excerpts.csv", "T1,,,SYNTHETIC hierarchy is flat.,C2;C1",
                                     "T1,,,SYNTHETIC hierarchy is flat.,C2;C1\nT1,,,SYNTHETIC pay is low.,C1"))
    [problem] = [p for p in problems if p.rule == "excerpt-not-in-transcript"]
    assert "at or after character 36" in problem.message
    assert "the excerpt text occurs at 11:32" in problem.message
