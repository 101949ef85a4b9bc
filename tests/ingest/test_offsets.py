"""Offset convention detection and conversion (ingest.offsets).

The oracle `_tool_offsets` writes a phrase's offsets the way a tool with a given convention
would, using only str.encode and str.replace, so it shares no code with the module under test.
The expected answer is always the phrase itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.offsets import (
    CANDIDATES,
    QUALKG,
    Convention,
    SourceText,
    Span,
    convert,
    convert_all,
    detect,
    normalise_line_ends,
)
from qualkg.ingest.records import Where

# CRLF, a two-byte letter and an astral emoji before every phrase: each convention counts differently.
TEXT = ("Synthetic notes for tests, caf\u00e9 \U0001F642.\r\nFirst phrase here, then more.\r\n"
        "Second \U0001F642 phrase \u00e9t\u00e9 there.\r\nThird line ends.")
PHRASES = ("First phrase here", "phrase \u00e9t\u00e9 there", "line ends")


def _units(text: str, unit: str) -> int:
    return {"codepoint": len(text), "utf16": len(text.encode("utf-16-le")) // 2, "utf8": len(text.encode())}[unit]


def _tool_offsets(raw: str, phrase: str, conv: Convention) -> tuple[int, int]:
    counted = raw if conv.line_ends == "crlf-raw" else raw.replace("\r\n", "\n")
    i = counted.index(phrase)
    start = _units(counted[:i], conv.unit)
    end = start + _units(phrase if conv.end == "exclusive" else phrase[:-1], conv.unit)
    return start, end


def _spans(raw: str, conv: Convention, *, named: bool) -> list[Span]:
    return [Span(*_tool_offsets(raw, p, conv), p if named else "", Where("t.qde", f"sel{i}"))
            for i, p in enumerate(PHRASES)]


@pytest.mark.parametrize("conv", CANDIDATES, ids=str)
def test_named_selections_identify_every_convention(conv: Convention) -> None:
    source = SourceText(TEXT)
    spans = _spans(TEXT, conv, named=True)
    detection = detect(source, spans)
    assert detection.convention == conv
    assert detection.ambiguous_with == ()
    assert [source.text[a:b] for a, b in convert_all(source, conv, spans)] == list(PHRASES)


@pytest.mark.parametrize("conv", [Convention("utf16", "crlf-raw", "exclusive"),  # NVivo
                                  Convention("codepoint", "lf", "exclusive"),  # ATLAS.ti
                                  Convention("utf8", "lf", "exclusive")], ids=str)  # Taguette-like
def test_nameless_selections_detected_by_word_boundaries(conv: Convention) -> None:
    source = SourceText(TEXT)
    assert detect(source, _spans(TEXT, conv, named=False)).convention == conv


def test_equal_scores_that_place_differently_are_reported() -> None:
    """'a' ends cleanly at 1 (exclusive) and 'a,' at 2 (inclusive): one nameless span cannot tell."""
    detection = detect(SourceText("a, b"), [Span(0, 1, "", Where("t"))])
    assert str(detection.convention) == "codepoint/lf/exclusive"
    assert Convention("codepoint", "lf", "inclusive") in detection.ambiguous_with


def test_line_ends_normalised_and_lone_cr_kept_as_one_char() -> None:
    assert normalise_line_ends("a\r\nb\rc\n") == "a\nb\nc\n"
    source = SourceText("a\r\nb\rc")
    assert convert(source, Convention("codepoint", "crlf-raw", "exclusive"), Span(3, 6, None, Where("t"))) == (2, 5)


@pytest.mark.parametrize(("start", "end", "rule", "field"), [
    (-1, 3, "selection-negative", "startPosition"),
    (5, 2, "selection-reversed", "endPosition"),
    (0, 99, "selection-within-text", "endPosition"),
    (4, 7, "selection-splits-character", None),  # the emoji is units 3-4; 4 is its low surrogate
])
def test_unplaceable_selections_are_located_errors(start: int, end: int, rule: str, field: str | None) -> None:
    source = SourceText("ab \U0001F642 cd")
    with pytest.raises(ReaderError) as info:
        convert(source, Convention("utf16", "lf", "exclusive"), Span(start, end, None, Where("p.qde", "sel-x")))
    [problem] = info.value.problems
    assert (problem.rule, problem.where.file, problem.where.element, problem.where.field) == (
        rule, "p.qde", "sel-x", field)
    assert problem.value == f"{start}-{end}"


# Whole paragraphs, each followed by a line that opens with a one-letter word: reading NVivo's exclusive
# ends as inclusive adds that letter, which still ends on a word boundary ("I" then a space).
PARAGRAPHS = ("P1: We talk it through \U0001F642 together.", "P2: The pay is low.", "P3: Peers help me most.")
PARAGRAPH_TEXT = "SYNTHETIC notes \U0001F642.\r\n" + "".join(f"{p}\r\nI agree.\r\n" for p in PARAGRAPHS)


def _paragraph_spans(raw: str, *, inclusive: bool) -> list[Span]:
    """Each paragraph with its CRLF, counted as NVivo for Windows does (UTF-16 units over the stored text);
    an inclusive tool names the LF as the last character."""
    spans = []
    for i, p in enumerate(PARAGRAPHS):
        start = len(raw[:raw.index(p)].encode("utf-16-le")) // 2
        end = start + len((p + "\r\n").encode("utf-16-le")) // 2
        spans.append(Span(start, end - inclusive, "", Where("t.qde", f"sel{i}")))
    return spans


def test_a_whole_paragraph_ends_just_after_its_line_break() -> None:
    """The end after the CRLF is clean, so exclusive wins and no excerpt gains the next line's first letter."""
    source = SourceText(PARAGRAPH_TEXT)
    spans = _paragraph_spans(PARAGRAPH_TEXT, inclusive=False)
    detection = detect(source, spans)
    assert str(detection.convention) == "utf16/crlf-raw/exclusive"
    assert not detection.close
    assert [source.text[a:b] for a, b in convert_all(source, detection.convention, spans)] == [
        f"{p}\n" for p in PARAGRAPHS]


def test_an_end_on_the_cr_of_a_crlf_is_penalised() -> None:
    """An inclusive tool's paragraph ends name the LF: read as exclusive they would stop on the CR."""
    source = SourceText(PARAGRAPH_TEXT)
    spans = _paragraph_spans(PARAGRAPH_TEXT, inclusive=True)
    conv = Convention("utf16", "crlf-raw", "exclusive")
    starts, ends = np.array([s.start for s in spans]), np.array([s.end for s in spans])
    assert source.splits_line_breaks(conv, starts, ends).tolist() == [1, 1, 1]
    detection = detect(source, spans)
    assert str(detection.convention) == "utf16/crlf-raw/inclusive"
    assert [source.text[a:b] for a, b in convert_all(source, detection.convention, spans)] == [
        f"{p}\n" for p in PARAGRAPHS]


def test_close_candidates_are_reported_with_every_score() -> None:
    detection = detect(SourceText("a, b"), [Span(0, 1, "", Where("t"))])
    assert detection.close and detection.runner_up == Convention("codepoint", "lf", "inclusive")
    assert detection.differs_at == 0
    scores = dict(detection.scores)
    assert len(scores) == len(CANDIDATES) and scores[detection.convention] == scores[detection.runner_up]
    assert detection.describe().startswith("codepoint/lf/exclusive 2, ")


def test_names_make_a_clear_winner_and_word_boundaries_alone_may_not() -> None:
    """Each phrase of TEXT is followed by ',' or '.', so without names an inclusive reading ends as cleanly:
    a tie, reported as close; with names the exclusive reading wins outright."""
    conv = Convention("utf16", "crlf-raw", "exclusive")
    source = SourceText(TEXT)
    assert not detect(source, _spans(TEXT, conv, named=True)).close
    nameless = detect(source, _spans(TEXT, conv, named=False))
    assert nameless.convention == conv and nameless.close
    assert nameless.runner_up == Convention("utf16", "crlf-raw", "inclusive")


@pytest.mark.parametrize("conv", CANDIDATES, ids=str)
def test_one_spelling_read_back(conv: Convention) -> None:
    assert Convention.parse(str(conv)) == conv


@pytest.mark.parametrize("spelling", ["codepoints/exclusive/lf", "utf16/exclusive/crlf=2", "reconstructed", ""])
def test_other_spellings_are_refused(spelling: str) -> None:
    with pytest.raises(ValueError, match="not an offset convention"):
        Convention.parse(spelling)


def test_qualkg_convention_is_the_first_candidate() -> None:
    assert CANDIDATES[0] == QUALKG and str(QUALKG) == "codepoint/lf/exclusive"
