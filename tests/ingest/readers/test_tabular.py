"""Tabular coded-segment readers (Taguette CSV, MAXQDA XLSX, generic CSV + mapping) and bad input.

Expected records are derived by hand from tests/ingest/data/tabular/ and `write_maxqda_xlsx` (the counts
are comments at the asserts). A transcript's reconstructed text is its distinct segments in row order
joined by "\\n\\n", so segment k starts at sum(len(earlier segments) + 2).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from pydantic import ValidationError

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.readers.tabular import OFFSET_CONVENTION, ColumnMapping, read_tabular
from qualkg.ingest.records import Code, Coder, Participant, Problem, StudyRecords, Where

DATA = Path(__file__).parents[1] / "data" / "tabular"
TAGUETTE_HEADER = "id,document,tag,content\n"
MAXQDA_HEADER = ["Document group", "Document name", "Code", "Segment", "Created by", "Begin", "End"]
ROLE_TEXT = "SYNTHETIC: My role was never written down."
MAXQDA_ROWS = [
    ["Site 1", "Interview 01", "Challenges\\Role clarity", ROLE_TEXT, "coder-a", 3, 3],
    ["Site 1", "Interview 01", "Challenges > Role clarity", ROLE_TEXT, "coder-b", 3, 3],
    ["Site 1", "Interview 01", "Support", "SYNTHETIC: Colleagues covered for me.\r\nEvery week.", "coder-a", 5, 6],
    ["Site 2", "007", "Support", "SYNTHETIC: We shared the load.", "coder-a", 2, 2],
]


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    """A one-sheet workbook; string cells stay strings even when they start with '=' (never formulas)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    wb.save(path)
    return path


def write_maxqda_xlsx(path: Path) -> Path:
    return write_xlsx(path, [MAXQDA_HEADER, *MAXQDA_ROWS])


def spans(records: StudyRecords) -> list[tuple[str, int, int, tuple[str, ...], str | None]]:
    return [(e.transcript, e.start, e.end, e.codes, e.coder) for e in records.excerpts]


# ---------------------------------------------------------------- Taguette


@pytest.fixture(scope="module")
def taguette() -> StudyRecords:
    return read_tabular(DATA / "taguette_highlights.csv", study_id="demo")


def test_taguette_excerpts_merge_tags_and_point_into_reconstructed_text(taguette: StudyRecords) -> None:
    # Every text starts "SYNTHETIC: " (11 code points), the rest counted word by word.
    # S1 "SYNTHETIC: I felt glad when the team met." = 11 + 30 = 41 → 0..41 (rows 2 and 3: one highlight,
    # two tags); S2 "SYNTHETIC: At first I was afraid\nof saying the wrong thing." = 11 + 21 + 1 + 26 = 59 →
    # 43..102 (CRLF inside the cell became one LF; row 5 repeats row 4); S3 "SYNTHETIC: Nobody was in charge
    # of the meeting." = 11 + 36 = 47 → 0..47 in interview-b
    assert spans(taguette) == [
        ("interview-a.txt", 0, 41, ("emotion > joy", "team"), None),
        ("interview-a.txt", 43, 102, ("emotion > fear",), None),
        ("interview-b.txt", 0, 47, ("team > hierarchy",), None),
    ]
    texts = {t.id: t.text for t in taguette.transcripts}
    for e in taguette.excerpts:
        assert texts[e.transcript][e.start:e.end] == e.text


def test_taguette_transcript_text_is_segments_joined_by_blank_line(taguette: StudyRecords) -> None:
    a = taguette.transcripts[0]
    assert (a.id, a.label, a.source_file) == ("interview-a.txt", "interview-a.txt", "taguette_highlights.csv")
    assert a.text == ("SYNTHETIC: I felt glad when the team met.\n\n"
                      "SYNTHETIC: At first I was afraid\nof saying the wrong thing.")
    assert [t.id for t in taguette.transcripts] == ["interview-a.txt", "interview-b.txt"]


def test_taguette_dotted_tags_become_a_code_hierarchy(taguette: StudyRecords) -> None:
    assert taguette.codes == [
        Code("emotion", "emotion"),
        Code("emotion > joy", "joy", parent="emotion", original_name="emotion.joy"),
        Code("team", "team", original_name="team"),
        Code("emotion > fear", "fear", parent="emotion", original_name="emotion.fear"),
        Code("team > hierarchy", "hierarchy", parent="team", original_name="team.hierarchy"),
    ]


def test_taguette_repeated_row_is_dropped_with_a_warning(taguette: StudyRecords) -> None:
    assert [(w.rule, w.where.row, w.severity, w.value) for w in taguette.warnings] == [
        ("duplicate-row", 5, "warning", "emotion.fear")]
    assert "repeats row 4" in taguette.warnings[0].message


def test_taguette_provenance_says_offsets_are_reconstructed(taguette: StudyRecords) -> None:
    prov = taguette.excerpts[0].provenance
    assert prov is not None
    assert (prov.tool, prov.offset_convention, prov.original_start, prov.where) == (
        "Taguette", OFFSET_CONVENTION, None, Where("taguette_highlights.csv", element="id=1", row=2))
    assert OFFSET_CONVENTION == "reconstructed"
    assert not any(e.synthetic for e in taguette.excerpts) and not taguette.participants and not taguette.coders


# ---------------------------------------------------------------- MAXQDA


@pytest.fixture(scope="module")
def maxqda(tmp_path_factory: pytest.TempPathFactory) -> StudyRecords:
    return read_tabular(write_maxqda_xlsx(tmp_path_factory.mktemp("mx") / "segments.xlsx"), study_id="demo")


def test_maxqda_groups_coders_and_offsets(maxqda: StudyRecords) -> None:
    t1, t2 = "Site 1 / Interview 01", "Site 2 / 007"
    # A ROLE_TEXT = 11 + 31 = 42 → 0..42, coded by two coders (two excerpts, one span); B "SYNTHETIC:
    # Colleagues covered for me.\nEvery week." = 11 + 26 + 1 + 11 = 49 → 44..93; C "SYNTHETIC: We shared
    # the load." = 11 + 19 = 30 → 0..30 in the other group's "007"
    assert spans(maxqda) == [
        (t1, 0, 42, ("Challenges > Role clarity",), "coder-a"),
        (t1, 0, 42, ("Challenges > Role clarity",), "coder-b"),
        (t1, 44, 93, ("Support",), "coder-a"),
        (t2, 0, 30, ("Support",), "coder-a"),
    ]
    assert [(t.id, t.label) for t in maxqda.transcripts] == [(t1, t1), (t2, t2)]
    assert maxqda.excerpts[2].text == "SYNTHETIC: Colleagues covered for me.\nEvery week."


def test_maxqda_codes_coders_and_original_positions(maxqda: StudyRecords) -> None:
    assert maxqda.codes == [
        Code("Challenges", "Challenges"),
        Code("Challenges > Role clarity", "Role clarity", parent="Challenges",
             original_name="Challenges\\Role clarity"),
        Code("Support", "Support", original_name="Support"),
    ]
    assert maxqda.coders == [Coder("coder-a", "coder-a"), Coder("coder-b", "coder-b")]
    originals = [(e.provenance.original_start, e.provenance.original_end, e.provenance.tool)
                 for e in maxqda.excerpts if e.provenance]
    assert originals == [(3, 3, "MAXQDA"), (3, 3, "MAXQDA"), (5, 6, "MAXQDA"), (2, 2, "MAXQDA")]
    assert maxqda.warnings == []


def test_maxqda_needs_only_name_code_and_segment(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "min.xlsx", [["Document name", "Code", "Segment"],
                                              ["007", "Support", "SYNTHETIC: Fine."]])
    records = read_tabular(path, study_id="demo", preset="maxqda")
    e = records.excerpts[0]
    assert (e.transcript, e.start, e.end, e.coder, e.provenance and e.provenance.original_start) == (
        "007", 0, 16, None, None)


def test_xlsx_text_that_looks_like_a_formula_is_kept_as_text(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", [["Document name", "Code", "Segment"], ["d", "c", "=1+1"]])
    records = read_tabular(path, study_id="demo")
    assert records.excerpts[0].text == "=1+1"
    assert [(w.rule, w.where.row, w.where.field) for w in records.warnings] == [("formula-injection", 2, "Segment")]


# ---------------------------------------------------------------- generic


@pytest.fixture(scope="module")
def generic() -> StudyRecords:
    mapping = ColumnMapping.model_validate_json((DATA / "generic_mapping.json").read_text())
    return read_tabular(DATA / "generic_segments.csv", study_id="demo", preset="generic", mapping=mapping)


def test_generic_mapping_speakers_split_identical_text(generic: StudyRecords) -> None:
    # D "SYNTHETIC: We listened before we spoke." = 11 + 28 = 39 → 0..39; E "SYNTHETIC: It took months to
    # feel part of it." = 11 + 34 = 45, spoken by 012 (41..86) and by 007 (88..133): two speakers, two spans
    assert [(e.start, e.end, e.speaker, e.codes) for e in generic.excerpts] == [
        (0, 39, "007", ("Relationships > Trust",)),
        (41, 86, "012", ("Relationships",)),
        (88, 133, "007", ("Relationships > Trust",)),
    ]
    assert generic.coders == [Coder("R1", "R1")]
    assert generic.excerpts[0].provenance and generic.excerpts[0].provenance.tool is None


def test_generic_mapping_participants_keep_leading_zeros_and_roles(generic: StudyRecords) -> None:
    assert [(p.id, p.pseudonym, p.role) for p in generic.participants] == [
        ("007", "007", "peer-practitioner"), ("012", "012", "non-peer-practitioner")]
    assert generic.participants[0] == Participant("007", "007", role="peer-practitioner",
                                                  attributes=(("Speaker role", "peer-practitioner"),),
                                                  where=Where("generic_segments.csv", row=2))


# Rows 2–5: P1 (two rows, a role label, North), P2 (Psychiatrist, North), P3 (a value no role has, South);
# "Site" is a team by its name (ingest.cases), "Job" a role because the mapping says so.
SPEAKERS = ("Doc,Who,Job,Site,Code,Quote\n"
            "d1,P1,Peer practitioner,North,Pay,SYNTHETIC one.\n"
            "d1,P1,,North,Pay,SYNTHETIC two.\n"
            "d1,P2,Psychiatrist,North,Pay,SYNTHETIC three.\n"
            "d1,P3,Volunteer,South,Pay,SYNTHETIC four.\n")
SPEAKER_MAPPING = ColumnMapping(document="Doc", participant="Who", role="Job", attributes=("Site",), code="Code",
                                text="Quote")


def test_a_tables_speaker_columns_give_roles_and_teams(tmp_path: Path) -> None:
    table = tmp_path / "speakers.csv"
    table.write_text(SPEAKERS, encoding="utf-8")
    rec = read_tabular(table, study_id="sp", mapping=SPEAKER_MAPPING)
    teams = {t.id: t.label for t in rec.teams}
    assert {p.pseudonym: (p.role, teams.get(p.team or "")) for p in rec.participants} == {
        "P1": ("peer-practitioner", "North"), "P2": ("psychiatrist", "North"), "P3": (None, "South")}
    assert rec.participants[0].attributes == (("Job", "Peer practitioner"), ("Site", "North"))
    [unmapped] = [w for w in rec.warnings if w.rule == "attribute-unmapped"]
    assert (unmapped.where.file, unmapped.value) == ("speakers.csv", "Volunteer (1 case)")


def test_code_first_seen_as_parent_gets_its_written_name_later(generic: StudyRecords) -> None:
    assert generic.codes == [
        Code("Relationships", "Relationships", original_name="Relationships"),
        Code("Relationships > Trust", "Trust", parent="Relationships", original_name="Relationships/Trust"),
    ]


@pytest.mark.parametrize("bad", [
    {"separators": ["/", ""]},
    {"role": "Speaker role", "participant": None},
    {"colour": "Colour"},
], ids=["empty-separator", "role-without-participant", "unknown-field"])
def test_column_mapping_rejects_bad_declarations(bad: dict[str, object]) -> None:
    base = {"document": "d", "code": "c", "text": "t"}
    with pytest.raises(ValidationError):
        ColumnMapping.model_validate(base | bad)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"preset": "generic"}, "needs a column mapping"),
    ({"preset": "taguette", "mapping": ColumnMapping(document="d", code="c", text="t")}, "goes with preset"),
    ({"preset": "nvivo"}, "unknown preset 'nvivo'"),
], ids=["generic-without-mapping", "preset-with-mapping", "unknown-preset"])
def test_caller_errors_are_located_reader_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ReaderError, match=match) as caught:
        read_tabular(DATA / "generic_segments.csv", study_id="demo", **kwargs)  # type: ignore[arg-type]
    assert [(p.where.file, p.rule) for p in caught.value.problems] == [("generic_segments.csv", "preset")]


# ---------------------------------------------------------------- cell hygiene


@pytest.mark.parametrize("first", ["=", "+", "-", "@"])
def test_formula_like_cell_is_kept_verbatim_with_a_warning(tmp_path: Path, first: str) -> None:
    text = f"{first}HYPERLINK(\"http://example.org\") SYNTHETIC"
    path = tmp_path / "f.csv"
    path.write_text(TAGUETTE_HEADER + f'1,d,t,"{text.replace(chr(34), chr(34) * 2)}"\n', encoding="utf-8")
    records = read_tabular(path, study_id="demo")
    assert records.excerpts[0].text == text
    assert [(w.rule, w.severity, w.where.row, w.where.field, w.value) for w in records.warnings] == [
        ("formula-injection", "warning", 2, "content", text)]


def test_blank_lines_are_skipped_but_rows_keep_file_numbers(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text(TAGUETTE_HEADER + "\n1,d,t,SYNTHETIC: a\n", encoding="utf-8")
    prov = read_tabular(path, study_id="demo").excerpts[0].provenance
    assert prov is not None and prov.where == Where("blank.csv", element="id=1", row=3)


# ---------------------------------------------------------------- bad input


def _zip_bytes(tmp_path: Path) -> bytes:
    z = tmp_path / "z.zip"
    with zipfile.ZipFile(z, "w") as archive:
        archive.writestr("project.qde", "<Project/>")
    return z.read_bytes()


BAD = [  # id, file name, content (bytes, or a callable of tmp_path), read_tabular kwargs, expected problem
    ("missing-column", "t.csv", b"id,document,tags,content\n1,d,t,SYNTHETIC: x\n", {"preset": "taguette"},
     ("required-column", 1, "tag", "tag", ["did you mean 'tags'", "columns found: 'id', 'document', 'tags'",
                                           "expected: 'document', 'tag', 'content', 'id'"])),
    ("unknown-layout", "t.csv", b"a,b\n1,2\n", {}, ("unknown-layout", 1, None, None, ["columns found: 'a', 'b'"])),
    ("duplicate-column", "t.csv", b"id,document,tag,content,tag\n1,d,t,SYNTHETIC: x,u\n", {},
     ("duplicate-column", 1, "tag", "tag", ["columns 3 and 5"])),
    ("empty-file", "t.csv", b"", {}, ("empty-file", None, None, None, ["empty"])),
    ("blank-file", "t.csv", b" \r\n\r\n", {}, ("empty-file", None, None, None, ["empty"])),
    ("empty-xlsx", "t.xlsx", lambda p: write_xlsx(p / "e.xlsx", []).read_bytes(), {},
     ("empty-file", None, None, None, ["no cells"])),
    ("header-only", "t.csv", b"id,document,tag,content\r\n", {}, ("no-rows", 1, None, None, ["no coded segments"])),
    ("empty-code", "t.csv", b"id,document,tag,content\n1,d,,SYNTHETIC: x\n", {},
     ("required-value", 2, "tag", "", ["code cell is empty"])),
    ("empty-text", "t.csv", b"id,document,tag,content\n1,d,t,SYNTHETIC: x\n2,d,t,  \n", {},
     ("required-value", 3, "content", "  ", ["text cell is empty"])),
    ("empty-code-part", "t.csv", b"id,document,tag,content\n1,d,emotion..joy,SYNTHETIC: x\n", {},
     ("code-path", 2, "tag", "emotion..joy", ["empty part"])),
    ("not-utf8", "t.csv", b"id,document,tag,content\n1,d,t,SYNTHETIC: caf\xe9\n", {},
     ("encoding", None, None, "e9", ["0xE9 at line 2", "UTF-8"])),
    ("utf16", "t.csv", "id,document,tag,content\n".encode("utf-16"), {},
     ("encoding", None, None, "ff fe", ["UTF-16"])),
    ("xlsx-is-text", "t.xlsx", b"id,document,tag,content\n1,d,t,SYNTHETIC: x\n", {},
     ("file-type", None, None, "69 64 2c 64 6f 63 75 6d 65 6e 74 2c 74 61 67 2c", ["not an Excel workbook"])),
    ("xlsx-is-other-zip", "t.xlsx", _zip_bytes, {},
     ("file-type", None, None, None, ["not a readable Excel workbook"])),
    ("csv-is-zip", "t.csv", _zip_bytes, {}, ("file-type", None, None, None, ["binary"])),
    ("unsupported-extension", "t.txt", b"id,document,tag,content\n", {},
     ("file-type", None, None, ".txt", [".csv or .xlsx"])),
    ("ragged-csv", "t.csv", b"id,document,tag,content\n1,d,t,SYNTHETIC: x\n2,d,t,SYNTHETIC: y,extra\n", {},
     ("csv-syntax", 3, None, None, ["record 3 has 5 fields but the header has 4", "`,`-separated"])),
    ("huge-field", "t.csv", b"id,document,tag,content\n1,d,t,SYNTHETIC: " + b"x" * 100 + b"\n",
     {"max_field_chars": 100},
     ("field-size", 2, "content", "SYNTHETIC: " + "x" * 29 + "…", ["111 characters", "limit of 100"])),
    ("bad-begin", "t.csv", b"Document name,Code,Segment,Begin,End\nd,c,SYNTHETIC: x,p. 3,4\n", {},
     ("integer", 2, "Begin", "p. 3", ["whole number"])),
    ("role-conflict", "t.csv",
     b"T,S,R,C,Q\nd,007,peer-practitioner,c,SYNTHETIC: x\nd,007,psychiatrist,c,SYNTHETIC: y\n",
     {"mapping": ColumnMapping(document="T", participant="S", role="R", code="C", text="Q")},
     ("participant-role", 3, None, "psychiatrist", ["'peer-practitioner'"])),
]


@pytest.mark.parametrize(("name", "content", "kwargs", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_a_located_reader_error(tmp_path: Path, name: str, content: object,
                                             kwargs: dict[str, object], expected: tuple) -> None:
    rule, row, field, value, fragments = expected
    path = tmp_path / name
    path.write_bytes(content(tmp_path) if callable(content) else content)  # type: ignore[arg-type]
    with pytest.raises(ReaderError) as caught:
        read_tabular(path, study_id="demo", **kwargs)  # type: ignore[arg-type]
    problem: Problem = caught.value.problems[0]
    assert (problem.where.file, problem.rule, problem.where.row, problem.where.field, problem.severity) == (
        name, rule, row, field, "error")
    if value is not None:
        assert problem.value == value
    for fragment in fragments:
        assert fragment in problem.message


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(TAGUETTE_HEADER + "1,d,,SYNTHETIC: x\n2,,t,SYNTHETIC: y\n", encoding="utf-8")
    with pytest.raises(ReaderError) as caught:
        read_tabular(path, study_id="demo")
    assert [(p.where.row, p.where.field) for p in caught.value.problems] == [(2, "tag"), (3, "document")]
