"""Property tests of the readers: any bytes give records or an IngestError, and tables round-trip.

Each reader gets arbitrary bytes and mutations of a valid input (bit flips, truncation) and may only
return records or raise a located IngestError; a generated Taguette table reads back as its rows.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualkg.ingest.errors import IngestError
from qualkg.ingest.package import read_package
from qualkg.ingest.readers.refi import read_qdc, read_qdpx
from qualkg.ingest.readers.refi.codes import NAME_SEPARATORS, _hierarchy_from_names
from qualkg.ingest.readers.refi.document import Document
from qualkg.ingest.readers.tabular import read_tabular
from qualkg.ingest.records import Code, StudyRecords
from qualkg.ingest.safe_io import parse_xml
from tests.badinputs.make_corpus import codebook, package, qdpx

FAST = settings(max_examples=40, deadline=None, database=None)


def read_bytes(data: bytes, name: str, reader: Callable[[Path], object]) -> object:
    """Write `data` as `name` in a fresh folder and read it: records, or the IngestError raised."""
    with tempfile.TemporaryDirectory(prefix="qualkg-fuzz-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return reader(path)
        except IngestError as e:
            assert e.problems and all(p.where.file and p.rule for p in e.problems)  # located, with a rule
            return e


READERS: dict[str, tuple[str, Callable[[Path], object], Callable[[], bytes]]] = {
    "qdpx": ("fuzz.qdpx", lambda p: read_qdpx(p, study_id="fuzz"), qdpx()),
    "qdc": ("fuzz.qdc", lambda p: read_qdc(p, study_id="fuzz"),
            lambda: codebook('<Code guid="00000000-0000-4000-8000-000000000010" name="A::B" isCodable="true"/>')
            .encode()),
    "csv": ("fuzz.csv", lambda p: read_tabular(p, study_id="fuzz"),
            lambda: b"id,document,tag,content\n1,doc1,pay.low,SYNTHETIC text\n2,doc1,hours,SYNTHETIC more\n"),
    "package": ("fuzz.zip", read_package, package()),
}


@pytest.mark.parametrize("kind", list(READERS))
@FAST
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(kind: str, data: bytes) -> None:
    name, reader, _ = READERS[kind]
    read_bytes(data, name, reader)


@st.composite
def mutation(draw: st.DrawFn, valid: bytes) -> bytes:
    """Flip some bytes of a valid input, or cut it short."""
    data = bytearray(valid)
    if draw(st.booleans()):
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.parametrize("kind", list(READERS))
@FAST
@given(data=st.data())
def test_mutated_valid_input(kind: str, data: st.DataObject) -> None:
    name, reader, valid = READERS[kind]
    result = read_bytes(data.draw(mutation(valid())), name, reader)
    if not isinstance(result, IngestError):  # a mutation the reader accepts still gives consistent excerpts
        for rec in result if isinstance(result, list) else [result]:
            texts = {t.id: t.text for t in rec.transcripts}
            assert all(texts[x.transcript] is None or texts[x.transcript][x.start:x.end] == x.text
                       for x in rec.excerpts)


@FAST
@given(st.binary(max_size=300))
def test_parse_xml_refuses_or_parses(data: bytes) -> None:
    try:
        assert isinstance(parse_xml(data, file="fuzz.xml"), Element)
    except IngestError as e:
        assert e.problems[0].rule in {"file-empty", "file-type", "xml-entities", "xml-well-formed"}


CELL = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\n\r\t,\""),
               min_size=1, max_size=30).filter(lambda s: s.strip() and not s.startswith(("=", "+", "-", "@")))
TAG = st.lists(st.sampled_from(["pay", "hours", "team", "hope"]), min_size=1, max_size=3).map(".".join)


@FAST
@given(st.lists(st.tuples(st.sampled_from(["doc1", "doc2"]), TAG, CELL), min_size=1, max_size=12))
def test_taguette_table_round_trips(rows: list[tuple[str, str, str]]) -> None:
    """Every row comes back as an excerpt of its document with its text (LF-normalised) and its tag path,
    and the reconstructed transcript holds that text at the excerpt's offsets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # minimal quoting leaves a lone CR bare
    writer.writerow(["id", "document", "tag", "content"])
    writer.writerows([i, doc, tag, text] for i, (doc, tag, text) in enumerate(rows, start=1))
    result = read_bytes(out.getvalue().encode(), "rt.csv", lambda p: read_tabular(p, study_id="rt"))
    assert isinstance(result, StudyRecords), result
    lf = [(doc, tag.replace(".", " > "), text.replace("\r\n", "\n").replace("\r", "\n")) for doc, tag, text in rows]
    got = {(x.transcript, code, x.text) for x in result.excerpts for code in x.codes}
    assert got == set(lf)
    texts = {t.id: t.text for t in result.transcripts}
    assert all(texts[x.transcript][x.start:x.end] == x.text for x in result.excerpts)


NAME = st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=4).flatmap(
    lambda parts: st.sampled_from(NAME_SEPARATORS).map(lambda sep: sep.join(parts)))


@FAST
@given(st.lists(NAME, min_size=1, max_size=8))
def test_codes_from_names_form_a_tree(names: list[str]) -> None:
    """Hierarchical code names ("A::B", "B::A", "A::B::A"…) can never make a parent loop: every parent
    exists and following parents always ends at a root."""
    doc = Document(Element("CodeBook"), "fuzz.qdc")
    codes = _hierarchy_from_names(doc, [Code(id=f"g{i}", label=n) for i, n in enumerate(names)])
    parents = {c.id: c.parent for c in codes}
    assert all(p is None or p in parents for p in parents.values())
    for start in parents:
        seen, node = set(), start
        while node is not None:
            assert node not in seen
            seen.add(node)
            node = parents[node]


def test_mutations_start_from_valid_inputs() -> None:
    """The mutation tests mean something only if the unmutated inputs are read without a problem."""
    for name, reader, valid in READERS.values():
        assert not isinstance(read_bytes(valid(), name, reader), IngestError), name
    assert zipfile.is_zipfile(io.BytesIO(qdpx()()))
