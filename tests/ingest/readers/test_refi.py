"""The REFI-QDA readers on small hand-made projects: tool styles, quirks and bad input.

Every project is built here from strings (all text synthetic, quoting no one). Offsets in the
fixtures are computed by `_at`, which measures the text before a phrase in the tool's unit
(plain str.encode, independent of ingest.offsets); the expected answer is the phrase itself.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.readers.refi import read_qdc, read_qdpx
from qualkg.ingest.records import StudyRecords
from qualkg.ingest.safe_io import ZipLimits

NS = "urn:QDA-XML:project:1.0"


def g(n: int) -> str:
    """A valid GUID numbered n."""
    return f"00000000-0000-4000-8000-{n:012d}"


def _units(text: str, unit: str) -> int:
    return {"codepoint": len(text), "utf16": len(text.encode("utf-16-le")) // 2, "utf8": len(text.encode())}[unit]


def _at(raw: str, phrase: str, unit: str = "codepoint", crlf_as_one: bool = False) -> tuple[int, int]:
    """(start, end exclusive) of `phrase` in `raw` as a tool counting `unit` (and CRLF as 1 or 2) writes it."""
    before, inside = raw[:raw.index(phrase)], phrase
    if crlf_as_one:
        before, inside = before.replace("\r\n", "\n"), inside.replace("\r\n", "\n")
    start = _units(before, unit)
    return start, start + _units(inside, unit)


def project(body: str, *, ns: str = NS, name: str = "Synthetic study") -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{ns}" name="{name}" origin="test">{body}</Project>'


def selection(n: int, start: int, end: int, *codes: int, name: str = "", user: int | None = None,
              extra: str = "") -> str:
    user_attr = f' creatingUser="{g(user)}"' if user is not None else ""
    codings = "".join(f'<Coding guid="{g(n * 100 + i)}"{user_attr}><CodeRef targetGUID="{g(c)}"/></Coding>'
                      for i, c in enumerate(codes))
    return (f'<PlainTextSelection guid="{g(n)}" name="{name}" startPosition="{start}" endPosition="{end}">'
            f'{extra}{codings}</PlainTextSelection>')


def write_qdpx(tmp_path: Path, qde: str, sources: dict[str, bytes] | None = None, *,
               qde_name: str = "project.qde", folder: str = "sources") -> Path:
    path = tmp_path / "study.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(qde_name, qde)
        for name, data in (sources or {}).items():
            z.writestr(f"{folder}/{name}", data)
    return path


# ---------------------------------------------------------------- ATLAS.ti style

ATLAS_TEXT = ("Synthetic interview, written for tests.\r\nI: How was the first week?\r\n"
              "P: Busy, but the café team made me feel welcome.\r\nP: Time for supervision was short.\r\n")
ATLAS_PHRASES = ("the café team made me feel welcome", "Time for supervision was short")


@pytest.fixture
def atlas(tmp_path: Path) -> StudyRecords:
    """ATLAS.ti: <name>.qde, flat "Parent::Child" codes, code points with CRLF counted as one, names = text."""
    (s1, e1), (s2, e2) = (_at(ATLAS_TEXT, p, crlf_as_one=True) for p in ATLAS_PHRASES)
    body = (f'<Users><User guid="{g(1)}" name="coder-a"/></Users>'
            f'<CodeBook><Codes><Code guid="{g(10)}" name="Support::Team" isCodable="true"/>'
            f'<Code guid="{g(11)}" name="Barriers" isCodable="true"/>'
            f'<Code guid="{g(12)}" name="Barriers::Time" isCodable="true"/></Codes></CodeBook>'
            f'<Sources><TextSource guid="{g(20)}" name="Interview 1" plainTextPath="internal://{g(20)}.txt">'
            + selection(30, s1, e1, 10, name=ATLAS_PHRASES[0], user=1,
                        extra="<Description>Synthetic comment on the quotation.</Description>")
            + selection(31, s2, e2, 12, name=ATLAS_PHRASES[1], user=1)
            + "</TextSource></Sources>")
    path = write_qdpx(tmp_path, project(body), {f"{g(20)}.txt": ATLAS_TEXT.encode()}, qde_name="Synthetic Study.qde")
    return read_qdpx(path, study_id="atlas")


def test_atlas_offsets_count_crlf_as_one(atlas: StudyRecords) -> None:
    assert [e.text for e in atlas.excerpts] == list(ATLAS_PHRASES)
    assert {e.provenance.offset_convention for e in atlas.excerpts} == {"codepoint/lf/exclusive"}
    transcript = atlas.transcripts[0]
    assert transcript.text == ATLAS_TEXT.replace("\r\n", "\n")
    assert transcript.source_file == f"study.qdpx/sources/{g(20)}.txt"
    assert all(transcript.text[e.start:e.end] == e.text for e in atlas.excerpts)


def test_atlas_hierarchy_from_names(atlas: StudyRecords) -> None:
    """"Support" exists only in a name, so it is created; "Barriers" exists, so it is reused."""
    codes = {c.label: c for c in atlas.codes}
    assert codes["Team"].parent == "path:Support" and codes["Team"].original_name == "Support::Team"
    assert codes["Support"].id == "path:Support" and codes["Support"].parent is None
    assert codes["Time"].parent == g(11) and codes["Time"].original_name == "Barriers::Time"
    assert codes["Barriers"].original_name is None
    assert len(atlas.codes) == 4


def test_atlas_quirks_are_warnings_and_comments_are_notes(atlas: StudyRecords) -> None:
    rules = {w.rule for w in atlas.warnings}
    assert {"qdpx-project-name", "code-hierarchy-from-names"} <= rules
    assert all(w.severity == "warning" for w in atlas.warnings)
    first = atlas.excerpts[0]
    assert [(n.text, n.target_kind, n.target) for n in atlas.notes] == [
        ("Synthetic comment on the quotation.", "excerpt", f"{g(20)}:{first.start}:{first.end}")]
    assert {e.coder for e in atlas.excerpts} == {g(1)}
    assert atlas.study.title == "Synthetic study"


# ---------------------------------------------------------------- QualCoder style

QC_TEXT = ("Synthetic text \U0001F642 for tests.\nThe rota \U0001F642 changed every week.\n"
           "Peers \U0001F642 shared stories openly.\n")
QC_PHRASES = ("rota", "changed every week", "Peers", "shared stories")


@pytest.fixture
def qualcoder(tmp_path: Path) -> StudyRecords:
    """QualCoder: code points (an emoji counts 1), LF text with a BOM, nested codes with colours,
    upper-case braced GUIDs in references, a note on a code; empty names, so word boundaries decide."""
    sels = "".join(selection(30 + i, *_at(QC_TEXT, p), 11 if i % 2 else 12, user=1) for i, p in enumerate(QC_PHRASES))
    body = (f'<Users><User guid="{g(1)}" name="coder-b"/></Users>'
            f'<CodeBook><Codes><Code guid="{g(10)}" name="Work" isCodable="true" color="#0a0">'
            f'<Description>Synthetic description.</Description><NoteRef targetGUID="{{{g(40).upper()}}}"/>'
            f'<Code guid="{g(11)}" name="Rota" isCodable="true" color="#11AA22"/>'
            f'<Code guid="{g(12)}" name="Peers" isCodable="true"/></Code></Codes></CodeBook>'
            f'<Sources><TextSource guid="{{{g(20).upper()}}}" name="Doc A" plainTextPath="internal://{g(20)}.txt">'
            f'{sels}</TextSource></Sources>'
            f'<Notes><Note guid="{g(40)}" name="memo"><PlainTextContent>Synthetic memo.</PlainTextContent>'
            '</Note></Notes>')
    path = write_qdpx(tmp_path, project(body), {f"{g(20)}.txt": b"\xef\xbb\xbf" + QC_TEXT.encode()})
    return read_qdpx(path, study_id="qualcoder")


def test_qualcoder_code_points(qualcoder: StudyRecords) -> None:
    assert [e.text for e in qualcoder.excerpts] == list(QC_PHRASES)
    assert {e.provenance.offset_convention for e in qualcoder.excerpts} == {"codepoint/lf/exclusive"}
    assert qualcoder.excerpts[0].transcript == g(20)  # braces and case normalised
    assert qualcoder.transcripts[0].text == QC_TEXT  # BOM removed


def test_qualcoder_codes_and_notes(qualcoder: StudyRecords) -> None:
    assert [(c.label, c.parent, c.colour) for c in qualcoder.codes] == [
        ("Work", None, "#00AA00"), ("Rota", g(10), "#11AA22"), ("Peers", g(10), None)]
    assert qualcoder.codes[0].description == "Synthetic description."
    assert [(n.id, n.text, n.target_kind, n.target) for n in qualcoder.notes] == [
        (g(40), "Synthetic memo.", "code", g(10))]
    assert [e.codes for e in qualcoder.excerpts] == [(g(12),), (g(11),), (g(12),), (g(11),)]


# ---------------------------------------------------------------- MAXQDA style

MQ_TEXT = "Synthetic focus group line one.\nSynthetic line two about shifts.\n"


@pytest.fixture
def maxqda(tmp_path: Path) -> StudyRecords:
    """MAXQDA: document variables in a nameless Case with one SourceRef, `sources/`, a range coded
    twice (two selections, one per code, as NVivo also writes), an uncoded comment-only selection."""
    s, e = _at(MQ_TEXT, "line two about shifts")
    body = (f'<CodeBook><Codes><Code guid="{g(10)}" name="Shifts" isCodable="true"/>'
            f'<Code guid="{g(11)}" name="Time" isCodable="true"/></Codes></CodeBook>'
            f'<Variables><Variable guid="{g(50)}" name="age group" typeOfVariable="Text"/></Variables>'
            f'<Cases><Case guid="{g(60)}"><VariableValue><VariableRef targetGUID="{g(50)}"/>'
            f'<TextValue>30-39</TextValue></VariableValue><SourceRef targetGUID="{g(20)}"/></Case></Cases>'
            f'<Sources><TextSource guid="{g(20)}" name="Doc" plainTextPath="internal://{g(20)}.txt">'
            + selection(30, s, e, 10) + selection(31, s, e, 11)
            + selection(32, 0, 9, extra="<Description>Synthetic comment only.</Description>")
            + "</TextSource></Sources><Sets/>")
    return read_qdpx(write_qdpx(tmp_path, project(body), {f"{g(20)}.txt": MQ_TEXT.encode()}), study_id="maxqda")


def test_maxqda_nameless_case_speaks_its_source(maxqda: StudyRecords) -> None:
    [p] = maxqda.participants
    assert (p.id, p.pseudonym, p.attributes) == (g(60), "Case 1", (("age group", "30-39"),))
    [excerpt] = maxqda.excerpts
    assert excerpt.speaker == g(60)
    assert excerpt.codes == (g(10), g(11))  # two selections of one range, merged
    assert excerpt.text == "line two about shifts"


def test_maxqda_uncoded_selection_and_empty_sets_are_warnings(maxqda: StudyRecords) -> None:
    skipped = [w for w in maxqda.warnings if w.rule == "selection-skipped"]
    assert [(w.where.element, w.value) for w in skipped] == [
        (f"PlainTextSelection[@guid='{g(32)}']", "Synthetic comment only.")]
    assert any(w.rule == "xsd" and "Sets" in (w.where.element or "") for w in maxqda.warnings)


def test_other_namespace_and_capital_sources_folder(tmp_path: Path) -> None:
    """Transana's urn:QDA-XML:project:0:10 and NVivo's Sources/ are read, with a schema warning."""
    s, e = _at(MQ_TEXT, "line one")
    body = (f'<CodeBook><Codes><Code guid="{g(10)}" name="A" isCodable="true"/></Codes></CodeBook>'
            f'<Sources><TextSource guid="{g(20)}" plainTextPath="internal://{g(20)}.txt">'
            + selection(30, s, e, 10) + "</TextSource></Sources>")
    path = write_qdpx(tmp_path, project(body, ns="urn:QDA-XML:project:0:10"),
                      {f"{g(20)}.txt": MQ_TEXT.encode()}, folder="Sources")
    records = read_qdpx(path, study_id="transana")
    assert [e.text for e in records.excerpts] == ["line one"]
    assert "xsd" in {w.rule for w in records.warnings}


# ---------------------------------------------------------------- bad input

EMOJI_TEXT = "Synthetic \U0001F642 joy and \U0001F642 calm words."
ONE_CODE = f'<CodeBook><Codes><Code guid="{g(10)}" name="A" isCodable="true"/></Codes></CodeBook>'
TWO_CODES_ONE_GUID = ONE_CODE.replace(  # the same GUID, braced and upper-cased
    "</Codes>", f'<Code guid="{{{g(10).upper()}}}" name="B" isCodable="true"/></Codes>')
CASE_ON_NOTHING = f'<Cases><Case guid="{g(60)}" name="P1"><SourceRef targetGUID="{g(77)}"/></Case></Cases>'
OK_SELECTION = selection(30, 0, 9, 10)


def _qde(selections: str, *, head: str = ONE_CODE, path: str = f"{g(20)}.txt", after: str = "") -> str:
    """One text source holding `selections`; `after` goes into <Sources> after it."""
    source = f'<TextSource guid="{g(20)}" name="Doc" plainTextPath="internal://{path}">{selections}</TextSource>'
    return project(f"{head}<Sources>{source}{after}</Sources>")


def _surrogate_qde() -> str:
    """Two named UTF-16 selections settle the convention; the third starts inside an emoji."""
    (a, b), (c, d) = _at(EMOJI_TEXT, "joy", "utf16"), _at(EMOJI_TEXT, "calm", "utf16")
    inside = _at(EMOJI_TEXT, "\U0001F642 calm", "utf16")[0] + 1
    return _qde(selection(30, a, b, 10, name="joy") + selection(31, c, d, 10, name="calm")
                + selection(32, inside, d, 10))


TEXT_FILE = {f"{g(20)}.txt": MQ_TEXT.encode()}
BAD_PROJECTS: dict[str, tuple[str, dict[str, bytes]]] = {  # kind -> (qde, source files), one defect each
    "past-end": (_qde(selection(30, 0, len(MQ_TEXT) + 5, 10)), TEXT_FILE),
    "negative": (_qde(selection(30, -3, 9, 10)), TEXT_FILE),
    "reversed": (_qde(selection(30, 9, 2, 10)), TEXT_FILE),
    "bad-position": (_qde(OK_SELECTION.replace('endPosition="9"', 'endPosition="nine"')), TEXT_FILE),
    "surrogate": (_surrogate_qde(), {f"{g(20)}.txt": EMOJI_TEXT.encode()}),
    "unknown-code": (_qde(selection(30, 0, 9, 99)), TEXT_FILE),
    "orphan-selection": (_qde(OK_SELECTION, after=selection(31, 0, 9, 10)), TEXT_FILE),
    "case-unknown-source": (_qde(OK_SELECTION, head=ONE_CODE + CASE_ON_NOTHING), TEXT_FILE),
    "duplicate-guid": (_qde(OK_SELECTION, head=TWO_CODES_ONE_GUID), TEXT_FILE),
    "missing-source-file": (_qde(OK_SELECTION, path=f"{g(21)}.txt"), TEXT_FILE),
    "non-utf8": (_qde(OK_SELECTION), {f"{g(20)}.txt": b"caf\xe9 synthetic"}),
}


SEL30 = f"PlainTextSelection[@guid='{g(30)}']"


@pytest.mark.parametrize(("kind", "rule", "file", "element"), [
    ("past-end", "selection-within-text", "study.qdpx/project.qde", SEL30),
    ("negative", "selection-negative", "study.qdpx/project.qde", SEL30),
    ("reversed", "selection-reversed", "study.qdpx/project.qde", SEL30),
    ("bad-position", "selection-position", "study.qdpx/project.qde", SEL30),
    ("surrogate", "selection-splits-character", "study.qdpx/project.qde", f"PlainTextSelection[@guid='{g(32)}']"),
    ("unknown-code", "ref-unknown", "study.qdpx/project.qde", f"Coding[@guid='{g(3000)}']"),
    ("orphan-selection", "selection-source-unknown", "study.qdpx/project.qde", f"PlainTextSelection[@guid='{g(31)}']"),
    ("case-unknown-source", "ref-unknown", "study.qdpx/project.qde", f"Case[@guid='{g(60)}']"),
    ("duplicate-guid", "guid-unique", "study.qdpx/project.qde", f"Code[@guid='{{{g(10).upper()}}}']"),
    ("missing-source-file", "source-missing", "study.qdpx/project.qde", f"TextSource[@guid='{g(20)}']"),
    ("non-utf8", "source-encoding", f"study.qdpx/sources/{g(20)}.txt", f"TextSource[@guid='{g(20)}']"),
])
def test_bad_project_content(tmp_path: Path, kind: str, rule: str, file: str, element: str) -> None:
    qde, sources = BAD_PROJECTS[kind]
    with pytest.raises(ReaderError) as info:
        read_qdpx(write_qdpx(tmp_path, qde, sources), study_id="bad")
    [problem] = info.value.problems
    assert (problem.rule, problem.where.file, problem.where.element) == (rule, file, element)


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
          f'<Project xmlns="{NS}" name="&lol3;"/>')
EXTERNAL = (f'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            f'<Project xmlns="{NS}" name="&x;"/>')


def _zip_with(tmp_path: Path, member: zipfile.ZipInfo | str, data: bytes) -> Path:
    path = tmp_path / "study.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", project(""))
        z.writestr(member, data)
    return path


def _symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("sources/link.txt")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(("case", "rule", "element"), [
    ("malformed", "xml-well-formed", "line 3, column 2"),  # expat: 0-based column of the name after "</"
    ("external-entity", "xml-entities", None),
    ("billion-laughs", "xml-entities", None),
    ("zip-bomb", "zip-bomb-ratio", "sources/zeros.txt"),
    ("zip-slip", "zip-slip", "../evil.txt"),
    ("symlink", "zip-symlink", "sources/link.txt"),
    ("empty", "file-empty", None),
    ("not-a-zip", "file-type", None),
    ("no-qde", "qdpx-project-missing", None),
])
def test_bad_archive_or_xml(tmp_path: Path, case: str, rule: str, element: str | None) -> None:
    """ZIP and XML attacks are refused before anything is parsed; the bomb is 256 KiB of zeros
    checked against a lowered ratio floor, so the test writes nothing large."""
    limits = ZipLimits(ratio_floor_bytes=64 * 1024)
    path = tmp_path / "study.qdpx"
    if case == "malformed":
        write_qdpx(tmp_path, f'<Project xmlns="{NS}" name="x">\n<Users>\n</Project>')
    elif case in ("external-entity", "billion-laughs"):
        write_qdpx(tmp_path, EXTERNAL if case == "external-entity" else LAUGHS)
    elif case == "zip-bomb":
        _zip_with(tmp_path, "sources/zeros.txt", bytes(256 * 1024))
    elif case == "zip-slip":
        _zip_with(tmp_path, "../evil.txt", b"synthetic")
    elif case == "symlink":
        _zip_with(tmp_path, _symlink_member(), b"/etc/passwd")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "not-a-zip":
        path.write_text(project(""), encoding="utf-8")
    elif case == "no-qde":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("sources/a.txt", "synthetic")
    with pytest.raises(ReaderError) as info:
        read_qdpx(path, study_id="bad", limits=limits)
    [problem] = info.value.problems
    inside_qde = case in ("malformed", "external-entity", "billion-laughs")
    expected_file = "study.qdpx/project.qde" if inside_qde else "study.qdpx"
    assert (problem.rule, problem.where.file, problem.where.element) == (rule, expected_file, element)


@pytest.mark.parametrize(("content", "rule"), [
    (b"", "file-empty"),
    (b"PK\x03\x04 not a codebook", "file-type"),
    (b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes>", "xml-well-formed"),
    (f"<Project xmlns='{NS}' name='x'/>".encode(), "refi-root"),
])
def test_bad_codebook(tmp_path: Path, content: bytes, rule: str) -> None:
    path = tmp_path / "codes.qdc"
    path.write_bytes(content)
    with pytest.raises(ReaderError) as info:
        read_qdc(path, study_id="bad")
    assert [(p.rule, p.where.file) for p in info.value.problems] == [(rule, "codes.qdc")]


def test_taguette_style_codebook_with_empty_sets(tmp_path: Path) -> None:
    """Taguette: flat codes named by path, an empty <Sets/> that fails Codebook.xsd: read, with a warning."""
    path = tmp_path / "taguette.qdc"
    path.write_text('<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" '
                    f'origin="Taguette 1.5.2"><Codes><Code guid="{g(1)}" name="roles &gt; peer" isCodable="true"/>'
                    '</Codes><Sets/></CodeBook>', encoding="utf-8")
    records = read_qdc(path, study_id="taguette")
    assert [(c.id, c.label, c.parent, c.original_name) for c in records.codes] == [
        ("path:roles", "roles", None, None), (g(1), "peer", "path:roles", "roles > peer")]
    assert "xsd" in {w.rule for w in records.warnings}
