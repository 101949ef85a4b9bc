"""Hostile structure in valid-looking inputs (decision 0035): each refused with a located problem, all the
problems of one input at once, never a RecursionError, an OverflowError or a write.

The bad-input corpus (tests/badinputs) sends one file per case through the CLI and HTTP; these tests pin
the bounds exactly and the collection of several problems from one input.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from qualkg.ingest.errors import IngestError, ReaderError
from qualkg.ingest.limits import MAX_CODE_DEPTH, MAX_POSITION, MAX_PROBLEMS, MAX_XML_DEPTH, capped, shown, whole_number
from qualkg.ingest.offsets import CANDIDATES, SourceText, Span, convert, detect, place_all
from qualkg.ingest.package import read_package
from qualkg.ingest.pipeline import ingest
from qualkg.ingest.problems import Problem, Where
from qualkg.ingest.readers.refi import read_qdc, read_qdpx
from qualkg.ingest.safe_io import SafeZip, parse_xml
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA
from qualkg.store import open_store
from qualkg.wiring import load_model
from tests.badinputs.make_corpus import (
    CODES,
    FOREIGN,
    HUGE_POSITION,
    PACKAGE,
    STUDY_YAML,
    TEXT,
    codebook,
    g,
    nested_codes,
    project,
    selection,
    sets,
    zip_bytes,
    zip_entries,
)

IRIS = IriScheme(str(QKDATA))


def rules(err: pytest.ExceptionInfo[IngestError]) -> set[str]:
    return {p.rule for p in err.value.problems}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- all problems of one input at once


def everything_wrong() -> bytes:
    """One project with a duplicate member, a second .qde, a foreign element, cyclic sets, a position past
    any integer and a coding of a code that does not exist."""
    qde = project(codes=CODES.replace("</Codes>", f'<x:Code xmlns:x="{FOREIGN}" guid="{g(11)}" name="Hours" '
                                                  'isCodable="true"/></Codes>'),
                  selections=selection(0, 4, n=30) + selection(0, 9, code=99, n=32)
                  + selection(0, 3, n=34).replace('endPosition="3"', f'endPosition="{HUGE_POSITION}"'))
    qde = qde.replace("</Sources>", "</Sources>" + sets((1, 2), (2, 3), (3, 1)))
    return zip_entries([("project.qde", qde.encode()), (f"sources/{g(20)}.txt", TEXT.encode()),
                        (f"sources/{g(20)}.txt", b"SYNTHETIC other text"), ("copy.qde", qde.encode())])


def test_every_problem_of_one_project_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ReaderError) as err:
        read_qdpx(write(tmp_path, "all.qdpx", everything_wrong()), study_id="all")
    assert rules(err) == {"zip-duplicate-name", "qdpx-project-ambiguous", "refi-namespace", "set-cycle",
                          "selection-within-text", "ref-unknown"}
    by_rule = {p.rule: p for p in err.value.problems}
    assert by_rule["set-cycle"].where == Where("all.qdpx/project.qde", f"Set[@guid='{g(63)}']", None,
                                               "MemberCode/@targetGUID")
    assert by_rule["set-cycle"].value == "Set 1 → Set 2 → Set 3 → Set 1"
    assert by_rule["selection-within-text"].where.element == f"PlainTextSelection[@guid='{g(34)}']"
    assert by_rule["ref-unknown"].where.element == f"Coding[@guid='{g(33)}']"
    assert by_rule["qdpx-project-ambiguous"].value == "copy.qde, project.qde"


def test_nothing_is_written_and_the_pipeline_gives_the_same_problems(tmp_path: Path) -> None:
    store = open_store("oxigraph", path=None)
    load_model(store)
    before = store.graphs()
    with pytest.raises(IngestError) as err:
        ingest(write(tmp_path, "all.qdpx", everything_wrong()), store, IRIS)
    assert "set-cycle" in rules(err) and store.graphs() == before


def test_problems_past_the_cap_are_counted(tmp_path: Path) -> None:
    """300 codings of unknown codes: 200 listed, then one that counts the other 100."""
    sels = "".join(selection(0, 9, code=99, n=1000 + 2 * i, guid=g(5000 + i)) for i in range(300))
    with pytest.raises(ReaderError) as err:
        read_qdpx(write(tmp_path, "many.qdpx", zip_bytes({"project.qde": project(selections=sels).encode(),
                                                          f"sources/{g(20)}.txt": TEXT.encode()})),
                  study_id="many")
    problems = err.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[-1].rule == "more-problems" and problems[-1].value == "100"


# ---------------------------------------------------------------- namespaces


def test_a_document_in_no_namespace_is_still_read_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.qdc", codebook(f'<Code guid="{g(10)}" name="Pay" isCodable="true"/>')
                 .replace(' xmlns="urn:QDA-XML:codebook:1.0"', "").encode())
    rec = read_qdc(path, study_id="plain")
    assert [c.label for c in rec.codes] == ["Pay"]
    assert "refi-namespace" in {w.rule for w in rec.warnings}


def test_transanas_older_refi_namespace_is_not_foreign(tmp_path: Path) -> None:
    path = write(tmp_path, "transana.qdc", codebook(f'<Code guid="{g(10)}" name="Pay" isCodable="true"/>')
                 .replace("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:0:10").encode())
    assert [c.label for c in read_qdc(path, study_id="t").codes] == ["Pay"]


# ---------------------------------------------------------------- sets


def _with_sets(tmp_path: Path, *members: tuple[int, int]) -> Path:
    body = codebook(f'<Code guid="{g(10)}" name="Pay" isCodable="true"/>').replace("</Codes>",
                                                                                 "</Codes>" + sets(*members))
    return write(tmp_path, "sets.qdc", body.encode())


def test_sets_that_name_sets_without_a_cycle_are_not_refused(tmp_path: Path) -> None:
    """1 → 2, 1 → 3, 2 → 3: a diamond, no cycle (sets are not read, so only cycles are refused)."""
    assert read_qdc(_with_sets(tmp_path, (1, 2), (1, 3), (2, 3)), study_id="s").codes


def test_each_cycle_of_sets_is_reported_once(tmp_path: Path) -> None:
    """1 → 2 → 1 and 3 → 3: two cycles, two problems, each at the set whose member closes it."""
    with pytest.raises(ReaderError) as err:
        read_qdc(_with_sets(tmp_path, (1, 2), (2, 1), (3, 3)), study_id="s")
    assert [(p.rule, p.where.element, p.value) for p in err.value.problems] == [
        ("set-cycle", f"Set[@guid='{g(62)}']", "Set 1 → Set 2 → Set 1"),
        ("set-cycle", f"Set[@guid='{g(63)}']", "Set 3 → Set 3")]


# ---------------------------------------------------------------- archives


def test_duplicate_names_are_collected_when_the_caller_takes_them_and_the_first_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.zip", zip_entries([("a.txt", b"first"), ("A.TXT", b"second"), ("a.txt", b"third")]))
    problems: list[Problem] = []
    with SafeZip(path, problems=problems) as archive:
        assert archive.names == ("a.txt",) and archive.read("a.txt") == b"first"
    assert [(p.rule, p.where.element) for p in problems] == [("zip-duplicate-name", "A.TXT"),
                                                             ("zip-duplicate-name", "a.txt")]
    with pytest.raises(ReaderError) as err:
        SafeZip(path)
    assert len(err.value.problems) == 2


def test_every_unsafe_member_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "unsafe.zip", zip_bytes({"../a.txt": b"x", "/b.txt": b"y", "ok.txt": b"z"}))
    with pytest.raises(ReaderError) as err:
        SafeZip(path)
    assert [(p.rule, p.where.element) for p in err.value.problems] == [("zip-slip", "../a.txt"), ("zip-slip", "/b.txt")]


def test_a_package_with_two_study_files_is_refused(tmp_path: Path) -> None:
    members = [(k, v.encode()) for k, v in PACKAGE.items()] + [("study.yaml", STUDY_YAML.encode())]
    with pytest.raises(ReaderError) as err:
        read_package(write(tmp_path, "p.zip", zip_entries(members)))
    assert rules(err) == {"zip-duplicate-name"}


# ---------------------------------------------------------------- nesting


def test_xml_nested_to_the_limit_is_parsed_and_one_deeper_is_refused() -> None:
    assert parse_xml(b"<a>" * MAX_XML_DEPTH + b"</a>" * MAX_XML_DEPTH, file="x.xml") is not None
    deeper = MAX_XML_DEPTH + 1
    with pytest.raises(ReaderError) as err:
        parse_xml(b"<a>" * deeper + b"</a>" * deeper, file="x.xml")
    assert [(p.rule, p.value) for p in err.value.problems] == [("xml-depth", f"depth {deeper}")]


def test_a_million_nested_elements_are_refused_without_recursion() -> None:
    with pytest.raises(ReaderError) as err:
        parse_xml(b"<a>" * 1_000_000 + b"</a>" * 1_000_000, file="x.xml")
    assert rules(err) == {"xml-depth"}


def _nested_codebook(tmp_path: Path, depth: int) -> Path:
    body = '<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0">' + nested_codes(depth).removeprefix(
        "<CodeBook>")
    return write(tmp_path, "deep.qdc", body.encode())


def test_a_code_hierarchy_to_the_limit_is_read_and_one_deeper_is_refused(tmp_path: Path) -> None:
    rec = read_qdc(_nested_codebook(tmp_path, MAX_CODE_DEPTH), study_id="deep")
    assert len(rec.codes) == MAX_CODE_DEPTH and rec.codes[-1].parent == rec.codes[-2].id  # in document order
    with pytest.raises(ReaderError) as err:
        read_qdc(_nested_codebook(tmp_path, MAX_CODE_DEPTH + 1), study_id="deep")
    assert [(p.rule, p.where.element) for p in err.value.problems] == [
        ("code-depth", f"Code[@guid='{g(1000 + MAX_CODE_DEPTH)}']")]


def test_a_package_code_chain_to_the_limit_is_read(tmp_path: Path) -> None:
    rows = "".join(f"C{i},Level {i + 2},{f'C{i - 1}' if i else 'TH1'},code\n" for i in range(MAX_CODE_DEPTH - 1))
    codebook_csv = "id,label,parent,level\nTH1,Theme one,,theme\n" + rows
    members = {**PACKAGE, "codebook.csv": codebook_csv,
               "excerpts.csv": "transcript,start,end,text,codes,speaker,synthetic\nT1,,,The pay is low,C0,P1,true\n"}
    [rec] = read_package(write(tmp_path, "p.zip", zip_bytes({k: v.encode() for k, v in members.items()})))
    assert len(rec.codes) == MAX_CODE_DEPTH


def test_yaml_nested_to_the_limit_is_not_refused_for_its_depth(tmp_path: Path) -> None:
    """The study.yaml mapping is level 1, so `notes:` may nest 49 lists (level 50); 50 lists are too many."""
    def deep(levels: int) -> Path:
        yaml_text = STUDY_YAML + "notes: " + "[" * levels + "]" * levels + "\n"
        members = {**PACKAGE, "study.yaml": yaml_text}
        return write(tmp_path, f"y{levels}.zip", zip_bytes({k: v.encode() for k, v in members.items()}))
    with pytest.raises(ReaderError) as ok:
        read_package(deep(49))
    assert "yaml-depth" not in rules(ok)  # the schema refuses nested notes, located, for its own reason
    with pytest.raises(ReaderError) as err:
        read_package(deep(50))
    assert rules(err) == {"yaml-depth"}


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(("text", "number"), [
    ("12", 12), (" -3 ", -3), ("+007", 7), ("1_000", None), ("\u0663\u0661", None), ("\u00b2", None), ("1e3", None),
    ("", None), (None, None), ("9" * 5000, 10**30), ("-" + "9" * 31, -(10**30)),
])
def test_whole_numbers_are_ascii_and_never_raise(text: str | None, number: int | None) -> None:
    assert whole_number(text) == number


def test_huge_offsets_are_placed_nowhere_and_never_overflow() -> None:
    source = SourceText("SYNTHETIC text.\n")
    where = Where("p.qde", "sel-1")
    huge = Span(0, 10**25, None, where)
    detect(source, [huge, Span(0, 9, "SYNTHETIC", where)])
    placed, problems = place_all(source, CANDIDATES[0], [huge, Span(0, 9, None, where)])
    assert placed == [None, (0, 9)]
    assert [(p.rule, p.where.field) for p in problems] == [("selection-within-text", "endPosition")]
    with pytest.raises(ReaderError) as err:
        convert(source, CANDIDATES[0], Span(-(10**25), 3, None, where))
    assert rules(err) == {"selection-negative"}
    assert len(err.value.problems[0].value or "") < 100  # the value is cut, not repeated in full


def test_a_position_just_past_the_text_and_one_past_any_text(tmp_path: Path) -> None:
    """TEXT has 73 code points (and UTF-8 bytes): 74 is past this text, 2**31 past any text qualkg reads."""
    for end, rule in ((len(TEXT) + 1, "selection-within-text"), (MAX_POSITION + 1, "selection-within-text")):
        qde = project(selections=selection(0, end))
        members = {"project.qde": qde.encode(), f"sources/{g(20)}.txt": TEXT.encode()}
        path = write(tmp_path, "p.qdpx", zip_bytes(members))
        with pytest.raises(ReaderError) as err:
            read_qdpx(path, study_id="p")
        assert rules(err) == {rule}


def test_values_and_problem_lists_are_cut() -> None:
    assert shown("x" * 10) == "x" * 10
    assert shown("x" * 1000) == "x" * 80 + "… (1000 characters)"
    many = [Problem(Where("f"), "r", "m", str(i)) for i in range(MAX_PROBLEMS + 5)]
    assert capped(many)[-1].value == "5" and len(capped(many)) == MAX_PROBLEMS + 1
    assert capped(many[:3]) == many[:3]


def test_the_corpus_helpers_build_what_they_say() -> None:
    """zip_entries keeps repeated names (the duplicate-name cases rely on it)."""
    with zipfile.ZipFile(io.BytesIO(zip_entries([("a", b"1"), ("a", b"2")]))) as z:
        assert [i.filename for i in z.infolist()] == ["a", "a"]
