"""Property tests of ingest.offsets: conversions round-trip, and nothing but ReaderError escapes.

The oracle `tool_offsets` writes a span the way a tool with a given convention would, from
str.encode and a hand walk over the raw text (CRLF, lone CR and LF, astral characters), sharing
no code with the module under test; the expected answer is the span it started from.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.offsets import CANDIDATES, Convention, SourceText, Span, convert, convert_all, detect, score
from qualkg.ingest.records import Where

FAST = settings(max_examples=60, deadline=None, database=None)  # no .hypothesis/ folder in the repo
# Pieces that every convention counts differently: ASCII, a 2-byte letter, an astral emoji, line ends.
PIECES = st.sampled_from(["a", "b", " ", ".", "\u00e9", "\U0001F600", "\r\n", "\n", "\r"])
RAW = st.lists(PIECES, min_size=1, max_size=40).map("".join)
WHERE = Where("fuzz.qde", "PlainTextSelection")


def units(text: str, unit: str) -> int:
    return {"codepoint": len(text), "utf16": len(text.encode("utf-16-le")) // 2, "utf8": len(text.encode())}[unit]


def raw_index(raw: str) -> list[tuple[int, int]]:
    """For each LF-normalised character: (first, last) index of the raw characters it came from."""
    out, j = [], 0
    while j < len(raw):
        width = 2 if raw.startswith("\r\n", j) else 1
        out.append((j, j + width - 1))
        j += width
    return out


def tool_offsets(raw: str, start: int, end: int, conv: Convention) -> tuple[int, int]:
    """[start, end) over the LF-normalised text, written as `conv` counts (end > start)."""
    if conv.line_ends == "lf":
        counted = raw.replace("\r\n", "\n").replace("\r", "\n")
        first, last_char = start, end - 1
    else:
        counted, index = raw, raw_index(raw)
        first, last_char = index[start][0], index[end - 1][1]
    tool_start = units(counted[:first], conv.unit)
    tool_end = units(counted[:last_char + 1] if conv.end == "exclusive" else counted[:last_char], conv.unit)
    return tool_start, tool_end


@st.composite
def text_and_span(draw: st.DrawFn) -> tuple[str, int, int]:
    raw = draw(RAW)
    n = len(raw.replace("\r\n", "\n"))
    start = draw(st.integers(0, n - 1))
    end = draw(st.integers(start + 1, n))
    return raw, start, end


@FAST
@given(text_and_span(), st.sampled_from(CANDIDATES))
def test_every_convention_round_trips(case: tuple[str, int, int], conv: Convention) -> None:
    raw, start, end = case
    tool_start, tool_end = tool_offsets(raw, start, end, conv)
    span = Span(tool_start, tool_end, None, WHERE)
    assert convert(SourceText(raw), conv, span) == (start, end)


@FAST
@given(st.lists(text_and_span(), min_size=1, max_size=1).flatmap(
    lambda c: st.tuples(st.just(c[0][0]), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)),
                                                    min_size=1, max_size=5))), st.sampled_from(CANDIDATES))
def test_named_spans_are_found_again(case: tuple[str, list[tuple[int, int]]], conv: Convention) -> None:
    """Spans written by any convention with their text as name: detection places every name's text."""
    raw, seeds = case
    text = SourceText(raw).text
    spans = []
    for i, (a, b) in enumerate(seeds):
        start = a % len(text)
        end = start + 1 + b % (len(text) - start)
        spans.append(Span(*tool_offsets(raw, start, end, conv), text[start:end], Where("fuzz.qde", f"sel{i}")))
    source = SourceText(raw)
    placed = convert_all(source, detect(source, spans).convention, spans)
    assert [" ".join(text[s:e].split()) for s, e in placed] == [" ".join((sp.name or "").split()) for sp in spans]


@FAST
@given(RAW, st.integers(-10**12, 10**12), st.integers(-10**12, 10**12), st.sampled_from(CANDIDATES))
def test_any_numbers_give_a_span_or_a_located_refusal(raw: str, start: int, end: int, conv: Convention) -> None:
    source = SourceText(raw)
    try:
        s, e = convert(source, conv, Span(start, end, None, WHERE))
    except ReaderError as err:
        p = err.problems[0]
        assert p.rule.startswith("selection-") and (p.where.file, p.where.element) == (WHERE.file, WHERE.element)
    else:
        assert 0 <= s <= e <= len(source.text)


@FAST
@given(RAW, st.lists(st.tuples(st.integers(-5, 200), st.integers(-5, 200), st.text(max_size=5)),
                    min_size=1, max_size=6))
def test_detection_never_fails(raw: str, spans: list[tuple[int, int, str]]) -> None:
    """Detection scores any numbers (even negative or reversed) without raising; placing them may refuse."""
    source = SourceText(raw)
    found = detect(source, [Span(a, b, name, WHERE) for a, b, name in spans])
    assert found.convention in CANDIDATES
    s, e = source.place(found.convention, np.array([a for a, _, _ in spans]), np.array([b for _, b, _ in spans]))
    assert all((x == -1 and y == -1) or 0 <= x <= y <= len(source.text)
               for x, y in zip(s.tolist(), e.tolist(), strict=True))


WORD = st.lists(st.sampled_from(["a", "b", "I", "\u00e9", "\U0001F600", ".", ","]), min_size=1, max_size=6).map("".join)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)  # never empty, never opens with a space


@FAST
@given(st.lists(LINE, min_size=2, max_size=6), st.data())
def test_a_whole_paragraph_reads_best_with_its_own_end(lines: list[str], data: st.DataObject) -> None:
    """Whole paragraphs selected with their CRLF, as an exclusive tool (NVivo) writes them and as an
    inclusive one would (naming the LF): of the two readings of the end, the tool's own scores higher, and
    it cuts each paragraph with its line break, never with the next line's first character."""
    raw = "\r\n".join(lines) + "\r\n"
    source = SourceText(raw)
    picked = sorted(data.draw(st.sets(st.integers(0, len(lines) - 2), min_size=1)))  # each has a next line
    bounds = [(sum(len(line) + 1 for line in lines[:i]), sum(len(line) + 1 for line in lines[:i + 1]))
              for i in picked]  # [start, end) over the LF-normalised text, the LF included
    exclusive, inclusive = Convention("utf16", "crlf-raw", "exclusive"), Convention("utf16", "crlf-raw", "inclusive")
    for tool, other in ((exclusive, inclusive), (inclusive, exclusive)):
        spans = [Span(*tool_offsets(raw, a, b, tool), "", WHERE) for a, b in bounds]
        assert score(source, tool, spans)[0] > score(source, other, spans)[0]
        assert [source.text[a:b] for a, b in convert_all(source, tool, spans)] == [f"{lines[i]}\n" for i in picked]
