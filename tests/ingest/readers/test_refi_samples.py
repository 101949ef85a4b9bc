"""The REFI-QDA readers on real exports (tests/ingest/data/refi, see README.md there).

Expected numbers are counted here independently of the reader, with plain zipfile and
ElementTree; expected excerpt texts are cut from the raw UTF-16 encoding of the source file,
which is how NVivo counts (docs/qda-formats.md §2), not through ingest.offsets.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qualkg.ingest.offsets import CANDIDATES, SourceText
from qualkg.ingest.readers.refi import read_qdc, read_qdpx
from qualkg.ingest.records import StudyRecords

DATA = Path(__file__).resolve().parents[1] / "data" / "refi"
NVIVO = DATA / "nvivo12.6-win-oltas0517.qdpx"
ATLAS_QDC = DATA / "atlasti-win-23.4.0_codebook.qdc"
NS = "{urn:QDA-XML:project:1.0}"


@pytest.fixture(scope="module")
def nvivo() -> StudyRecords:
    return read_qdpx(NVIVO, study_id="nvivo-sample")


@pytest.fixture(scope="module")
def raw() -> tuple[ET.Element, dict[str, str]]:
    """The project XML and each text source's raw text (BOM removed, CRLF kept), read without qualkg."""
    with zipfile.ZipFile(NVIVO) as z:
        root = ET.fromstring(z.read("project.qde"))
        texts = {}
        for src in root.iter(f"{NS}TextSource"):
            member = "Sources/" + src.get("plainTextPath").removeprefix("internal://")
            texts[src.get("guid")] = z.read(member).decode("utf-8-sig")
    return root, texts


def test_counts_match_the_xml(nvivo: StudyRecords, raw: tuple[ET.Element, dict[str, str]]) -> None:
    root, texts = raw
    selections = [(src.get("guid"), sel) for src in root.iter(f"{NS}TextSource")
                  for sel in src.iter(f"{NS}PlainTextSelection")]
    spans = {(g, int(s.get("startPosition")), int(s.get("endPosition"))) for g, s in selections}
    span_codes = {(g, s.get("startPosition"), s.get("endPosition"), c.find(f"{NS}CodeRef").get("targetGUID"))
                  for g, s in selections for c in s.iter(f"{NS}Coding")}
    assert len(nvivo.codes) == len(list(root.iter(f"{NS}Code")))
    assert len(nvivo.transcripts) == len(texts)
    assert len(nvivo.coders) == len(list(root.iter(f"{NS}User")))
    assert len(nvivo.excerpts) == len(spans)  # NVivo repeats a range once per code; merged here
    assert len(selections) > len(spans)  # so the merge did happen in this file
    assert sum(len(e.codes) for e in nvivo.excerpts) == len(span_codes)
    top_level = root.find(f"{NS}CodeBook/{NS}Codes").findall(f"{NS}Code")
    assert sum(c.parent is None for c in nvivo.codes) == len(top_level)


def test_every_excerpt_is_the_utf16_slice_of_its_source(nvivo: StudyRecords,
                                                        raw: tuple[ET.Element, dict[str, str]]) -> None:
    _, texts = raw
    utf16 = {guid: text.encode("utf-16-le") for guid, text in texts.items()}
    transcripts = {t.id: t for t in nvivo.transcripts}
    for e in nvivo.excerpts:
        assert e.provenance is not None and e.provenance.original_start is not None
        units = utf16[e.transcript]
        expected = units[2 * e.provenance.original_start:2 * e.provenance.original_end].decode("utf-16-le")
        assert e.text == expected.replace("\r\n", "\n"), e.provenance.where
        assert e.text == transcripts[e.transcript].text[e.start:e.end]


def test_offsets_fall_on_word_boundaries(nvivo: StudyRecords) -> None:
    texts = {t.id: t.text for t in nvivo.transcripts}

    def cuts_word(text: str, i: int) -> bool:
        return 0 < i < len(text) and bool(re.match(r"\w\w", text[i - 1:i + 1]))

    starts_ok = sum(not cuts_word(texts[e.transcript], e.start) for e in nvivo.excerpts)
    ends_ok = sum(not cuts_word(texts[e.transcript], e.end) for e in nvivo.excerpts)
    assert starts_ok >= 0.95 * len(nvivo.excerpts)
    assert ends_ok >= 0.95 * len(nvivo.excerpts)


def test_convention_and_provenance(nvivo: StudyRecords) -> None:
    assert {e.provenance.offset_convention for e in nvivo.excerpts} == {"utf16/crlf-raw/exclusive"}
    assert {e.provenance.tool for e in nvivo.excerpts} == {"NVivo for Windows 12.6"}
    assert all(e.provenance.source_file == "nvivo12.6-win-oltas0517.qdpx/project.qde" for e in nvivo.excerpts)
    assert all(e.provenance.where.element.startswith("PlainTextSelection[@guid=") for e in nvivo.excerpts)
    assert {t.text.count("\r") for t in nvivo.transcripts} == {0}  # LF-normalised


def test_nvivo_sample_is_schema_valid_and_needs_no_warnings(nvivo: StudyRecords) -> None:
    assert nvivo.study.title == "Untitled"  # Project@name
    # The export has no <Cases>: the one warning says once how to add participants (issue 17, item 3).
    assert [w.rule for w in nvivo.warnings if w.rule != "no-cases"] == []


def test_atlasti_codebook() -> None:
    """One code with description and colour; the 0:4 schemaLocation is a warning, not an error."""
    records = read_qdc(ATLAS_QDC, study_id="atlas-codebook")
    assert [(c.label, c.description, c.colour, c.parent) for c in records.codes] == [
        ("code1", "description", "#46AA00", None)]
    assert records.codes[0].id == "1ff58b12-6f6f-4b0c-8be5-bbdc91f55294"
    assert [(w.rule, w.severity, w.value) for w in records.warnings] == [
        ("xsd-schema-location", "warning", "urn:QDA-XML:codebook:0:4 Codebook.xsd")]


def test_detection_scores_on_the_nvivo_export(raw: tuple[ET.Element, dict[str, str]]) -> None:
    """The figures of docs/qda-formats.md §2 and decision record 0024: of the 303 selections of the coded
    source, 302 start cleanly (no word cut, no leading space) when read as UTF-16 units with raw CRLF,
    87 as code points over the stored text, 61 as code points over the LF-normalised text."""
    root, texts = raw
    [source] = [s for s in root.iter(f"{NS}TextSource") if s.find(f"{NS}PlainTextSelection") is not None]
    selections = source.findall(f"{NS}PlainTextSelection")
    text = SourceText(texts[source.get("guid")])
    starts = np.array([int(s.get("startPosition")) for s in selections])
    ends = np.array([int(s.get("endPosition")) for s in selections])

    def clean_starts(convention: str) -> int:
        [conv] = [c for c in CANDIDATES if str(c) == convention]
        placed, _ = text.place(conv, starts, ends)
        return sum(text.starts_cleanly(int(p)) for p in placed if p >= 0)

    assert len(selections) == 303
    assert [clean_starts(c) for c in ("utf16/crlf-raw/exclusive", "codepoint/crlf-raw/exclusive",
                                      "codepoint/lf/exclusive")] == [302, 87, 61]


MAC = DATA / "nvivo-mac-style-handmade.qdpx"


def _selections_sliced(qdpx: Path) -> list[tuple[str, int, int, str, int, int, str]]:
    """Every PlainTextSelection of `qdpx`, sliced here: (source GUID, startPosition, endPosition, code GUID,
    expected start and end as code points over the LF-normalised text, expected text). NVivo counts UTF-16
    units over the text as stored (docs/qda-formats.md §2), so the slice is of the UTF-16 encoding."""
    out = []
    with zipfile.ZipFile(qdpx) as z:
        members = {n.lower(): n for n in z.namelist()}
        root = ET.fromstring(z.read("project.qde"))
        for src in root.iter(f"{NS}TextSource"):
            name = "sources/" + src.get("plainTextPath").removeprefix("internal://")
            units = z.read(members[name]).decode("utf-8-sig").encode("utf-16-le")
            for sel in src.iter(f"{NS}PlainTextSelection"):
                a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
                before = units[:2 * a].decode("utf-16-le").replace("\r\n", "\n")
                text = units[2 * a:2 * b].decode("utf-16-le").replace("\r\n", "\n")
                for coding in sel.iter(f"{NS}Coding"):
                    code = coding.find(f"{NS}CodeRef").get("targetGUID")
                    out.append((src.get("guid"), a, b, code, len(before), len(before) + len(text), text))
    return out


@pytest.mark.parametrize("qdpx", [NVIVO, MAC], ids=["nvivo-win", "nvivo-mac"])
def test_every_selection_is_ingested_as_its_own_slice(qdpx: Path) -> None:
    """For every selection of the file: one excerpt at its numbers, with the text and offsets cut here, and
    its code among the excerpt's."""
    records = read_qdpx(qdpx, study_id="sample")
    by_numbers = {(e.transcript, e.provenance.original_start, e.provenance.original_end): e
                  for e in records.excerpts if e.provenance is not None}
    selections = _selections_sliced(qdpx)
    assert len(selections) == {NVIVO: 303, MAC: 9}[qdpx]  # one Coding per selection
    for source, a, b, code, start, end, text in selections:
        e = by_numbers[(source, a, b)]
        assert (e.start, e.end, e.text) == (start, end, text), (a, b)
        assert code in e.codes
    assert len(by_numbers) == len({(s, a, b) for s, a, b, *_ in selections}) == len(records.excerpts)


def test_nvivo_whole_paragraph_selections_keep_their_line_break(nvivo: StudyRecords) -> None:
    """The one range of the export that is a whole paragraph (4 selections, one per code) ends with the
    paragraph's line break, not with the first letter of the next line."""
    selections = _selections_sliced(NVIVO)
    paragraphs = {(s, a, b) for s, a, b, _, _, _, text in selections if text.endswith("\n")}
    assert (len(paragraphs), sum(text.endswith("\n") for *_, text in selections)) == (1, 4)
    ends = {(e.transcript, e.provenance.original_start, e.provenance.original_end): e.text for e in nvivo.excerpts}
    assert all(ends[p].endswith("\n") for p in paragraphs)


def test_nvivo_mac_style_source_is_detected_as_utf16() -> None:
    """sources/ in lower case, LF only, no BOM, stored entries, an emoji before the selections."""
    with zipfile.ZipFile(MAC) as z:
        infos = z.infolist()
        [txt] = [i for i in infos if i.filename.endswith(".txt")]
        data = z.read(txt)
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}
    assert txt.filename.startswith("sources/") and b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")
    records = read_qdpx(MAC, study_id="mac")
    assert {e.provenance.offset_convention for e in records.excerpts} == {"utf16/lf/exclusive"}
    assert sum(e.text.endswith("\n") for e in records.excerpts) == 3
    assert [w.rule for w in records.warnings if w.rule != "no-cases"] == []  # no offset warning, no XSD one


def test_close_readings_are_warned_at_the_source_with_every_score(tmp_path: Path) -> None:
    """One nameless selection followed by ',': exclusive and inclusive readings tie."""
    text = "SYNTHETIC: we decide, together."
    project = (f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
               '<Users><User guid="00000000-0000-4000-8000-000000000001" name="u"/></Users>'
               '<CodeBook><Codes><Code guid="00000000-0000-4000-8000-000000000002" name="c" isCodable="true"/>'
               '</Codes></CodeBook><Sources><TextSource guid="00000000-0000-4000-8000-000000000003" name="t">'
               f'<PlainTextContent>{text}</PlainTextContent>'
               '<PlainTextSelection guid="00000000-0000-4000-8000-000000000004" name="" startPosition="14" '
               'endPosition="20"><Coding guid="00000000-0000-4000-8000-000000000005">'
               '<CodeRef targetGUID="00000000-0000-4000-8000-000000000002"/></Coding></PlainTextSelection>'
               '</TextSource></Sources></Project>')
    path = tmp_path / "close.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", project)
    records = read_qdpx(path, study_id="close")
    [warning] = [w for w in records.warnings if w.rule.startswith("offset-convention")]
    assert warning.rule == "offset-convention-ambiguous"
    assert warning.where.element == "TextSource[@guid='00000000-0000-4000-8000-000000000003']"
    assert warning.value == "codepoint/lf/exclusive"
    assert "PlainTextSelection[@guid='00000000-0000-4000-8000-000000000004']" in warning.message
    assert "'decide'" in warning.message and "'decide,'" in warning.message
    assert all(str(c) in warning.message for c in CANDIDATES)
    assert [e.text for e in records.excerpts] == ["decide"]
