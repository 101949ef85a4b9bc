"""Offset convention detection and conversion (ingest.offsets).

The oracle `_tool_offsets` writes a phrase's offsets the way a tool with a given convention
would, using only str.encode and str.replace, so it shares no code with the module under test.
The expected answer is always the phrase itself.
"""

from __future__ import annotations

import pytest

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.offsets import (
    CANDIDATES,
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
