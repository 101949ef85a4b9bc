"""Selection offsets: detect how a tool counted them, and convert to qualkg's convention (decisions 0024, 0080).

A convention is "unit/line-ends/end" (e.g. "utf16/crlf-raw/exclusive"), the spelling `qk:offsetConvention`
carries (`Convention.parse`). qualkg's own is "codepoint/lf/exclusive". Offsets no tool wrote are marked
`SEARCHED` or `RECONSTRUCTED`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from qualkg.ingest.errors import ReaderError, fail
from qualkg.ingest.limits import MAX_POSITION, shown
from qualkg.ingest.problems import Problem, Where

UNITS = ("codepoint", "utf16", "utf8")
LINE_ENDS = ("lf", "crlf-raw")
ENDS = ("exclusive", "inclusive")


@dataclass(frozen=True, slots=True)
class Convention:
    unit: str
    line_ends: str
    end: str

    def __str__(self) -> str:
        return f"{self.unit}/{self.line_ends}/{self.end}"

    @classmethod
    def parse(cls, spelling: str) -> Convention:
        """The convention `str(convention)` wrote; ValueError for any other spelling."""
        unit, _, rest = spelling.partition("/")
        line_ends, _, end = rest.partition("/")
        if unit not in UNITS or line_ends not in LINE_ENDS or end not in ENDS:
            raise ValueError(f"not an offset convention: {spelling!r} (expected unit/line-ends/end, "
                             f"e.g. {QUALKG})")
        return cls(unit, line_ends, end)


CANDIDATES = tuple(Convention(unit, line_ends, end) for unit in UNITS for line_ends in LINE_ENDS for end in ENDS)
QUALKG = Convention("codepoint", "lf", "exclusive")  # what oa:start/oa:end count; CANDIDATES[0]
SEARCHED = "located-by-search"  # qk:offsetConvention of offsets qualkg found by searching the text
RECONSTRUCTED = "reconstructed"  # ... of offsets into a text rebuilt from the excerpts (decision 0026)
SPLIT_PENALTY = 2  # a position between the CR and LF of one line break costs more than an unclean end earns
CLOSE_SHARE = 20  # the best two candidates are close when they differ by at most 1 point per 20 selections


@dataclass(frozen=True, slots=True)
class Span:
    """A selection as the tool wrote it: its numbers, its name (quoted text, if any), its location."""

    start: int
    end: int
    name: str | None
    where: Where


@dataclass(frozen=True, slots=True, order=True)
class Score:
    """How well a candidate reads a source's selections; compared in this order."""

    names: int  # selection names (quoted text) reproduced
    boundaries: int  # clean starts + clean ends - SPLIT_PENALTY x positions inside a CRLF pair
    placed: int  # selections it can place at all

    def __str__(self) -> str:
        return f"{self.boundaries}" if not self.names else f"{self.names} names, {self.boundaries}"


@dataclass(frozen=True, slots=True)
class Detection:
    convention: Convention
    ambiguous_with: tuple[Convention, ...]  # equally scored candidates that place spans differently
    scores: tuple[tuple[Convention, Score], ...] = ()  # every candidate, best first (ties in CANDIDATES order)
    runner_up: Convention | None = None  # the best candidate that places some selection differently
    differs_at: int | None = None  # index of the first selection the two place differently

    @property
    def close(self) -> bool:
        """The runner-up reproduces as many names, places as many selections (one that cannot place them all
        would be refused anyway) and scores at most one boundary point per CLOSE_SHARE selections fewer (an
        exact tie included): the choice rests on little evidence."""
        if self.runner_up is None:
            return False
        score = dict(self.scores)
        best, second = score[self.convention], score[self.runner_up]
        margin = max(1, best.placed // CLOSE_SHARE)
        return ((best.names, best.placed) == (second.names, second.placed)
                and best.boundaries - second.boundaries <= margin)

    def describe(self) -> str:
        """Every candidate's score, best first: "utf16/crlf-raw/exclusive 598, … " (boundary points; names
        reproduced first when there are any)."""
        return ", ".join(f"{conv} {score}" for conv, score in self.scores)


def normalise_line_ends(text: str) -> str:
    """CRLF and lone CR become LF (a lone CR is one unit either way, so offsets do not move)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class SourceText:
    """One source's decoded text (BOM removed, line ends as stored) and its offset tables."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.text = normalise_line_ends(raw)
        is_crlf = np.frombuffer(raw.encode("utf-32-le"), dtype="<u4") == 13
        lf_next = np.frombuffer((raw[1:] + " ").encode("utf-32-le"), dtype="<u4") == 10
        # crlf_before[i]: how many CRs of CRLF pairs lie before raw index i (raw -> LF-normalised).
        self._crlf_before = np.concatenate(([0], np.cumsum(is_crlf & lf_next)))
        # inside_crlf[i]: raw index i lies between the CR and the LF of one line break.
        self._inside_crlf = np.concatenate(([False], is_crlf & lf_next))
        self._tables: dict[tuple[str, str], np.ndarray] = {}

    def _units_before(self, unit: str, line_ends: str) -> np.ndarray:
        """units_before[i] = units the tool counted before character i of the counted text."""
        key = (unit, line_ends)
        if key not in self._tables:
            counted = self.raw if line_ends == "crlf-raw" else self.text
            cp = np.frombuffer(counted.encode("utf-32-le"), dtype="<u4")
            if unit == "codepoint":
                widths = np.ones(len(cp), dtype=np.int64)
            elif unit == "utf16":
                widths = 1 + (cp > 0xFFFF).astype(np.int64)
            else:
                widths = 1 + (cp > 0x7F).astype(np.int64) + (cp > 0x7FF) + (cp > 0xFFFF)
            self._tables[key] = np.concatenate(([0], np.cumsum(widths)))
        return self._tables[key]

    def length(self, conv: Convention) -> int:
        """How many units long the text is when counted as `conv`."""
        return int(self._units_before(conv.unit, conv.line_ends)[-1])

    def max_units(self) -> int:
        """The most units any candidate counts (UTF-8 bytes of the text as stored): no offset lies beyond."""
        return self.length(Convention("utf8", "crlf-raw", "exclusive"))

    def _chars(self, conv: Convention, offsets: np.ndarray) -> np.ndarray:
        """Character indices of unit offsets in the counted text; -1 where none starts there."""
        table = self._units_before(conv.unit, conv.line_ends)
        idx = np.searchsorted(table, offsets)
        found = (idx < len(table)) & (table[np.minimum(idx, len(table) - 1)] == offsets)
        return np.where(found, idx, -1)

    def _to_lf(self, conv: Convention, chars: np.ndarray) -> np.ndarray:
        if conv.line_ends == "lf":
            return chars
        return np.where(chars >= 0, chars - self._crlf_before[np.maximum(chars, 0)], -1)

    def _counted(self, conv: Convention, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start/end as character indices of the counted text, end exclusive; -1 where there is none."""
        s = self._chars(conv, starts)
        if conv.end == "exclusive":
            return s, self._chars(conv, ends)
        last = self._chars(conv, ends)  # the end names the last character: move one character on
        n = len(self.raw if conv.line_ends == "crlf-raw" else self.text)
        return s, np.where((last >= 0) & (last < n), last + 1, -1)

    def place(self, conv: Convention, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start/end in qualkg's convention for every selection; -1 where `conv` cannot place it."""
        s, e = self._counted(conv, starts, ends)
        s, e = self._to_lf(conv, s), self._to_lf(conv, e)
        bad = (s < 0) | (e < 0) | (e < s)
        return np.where(bad, -1, s), np.where(bad, -1, e)

    def splits_line_breaks(self, conv: Convention, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Per selection, how many of its start and end fall between the CR and LF of one CRLF: a selection
        ending on the CR (or starting on the LF) of a line break, which no tool means. Only a crlf-raw
        reading can say so; the LF-normalised text has one character per line break."""
        if conv.line_ends != "crlf-raw":
            return np.zeros(len(starts), dtype=np.int64)
        s, e = self._counted(conv, starts, ends)
        inside = self._inside_crlf
        return (inside[np.maximum(s, 0)] & (s >= 0)).astype(np.int64) + (inside[np.maximum(e, 0)] & (e >= 0))

    def starts_cleanly(self, pos: int) -> bool:
        """A plausible selection start: it cuts no word in two and does not begin on whitespace."""
        t = self.text
        if pos >= len(t):
            return True
        return not t[pos].isspace() and (pos == 0 or not (t[pos - 1].isalnum() and t[pos].isalnum()))

    def ends_cleanly(self, pos: int, start: int = 0) -> bool:
        """Whether `pos` is a plausible exclusive end of a selection from `start` (decision 0080).

        Plausible: just after a line break, or cutting no word and not ending on whitespace; crossing a line
        break only to take the next line's first character is not.
        """
        t = self.text
        if pos <= 0 or t[pos - 1] == "\n":
            return True
        if pos >= 2 and t[pos - 2] == "\n" and start < pos - 1:
            return False
        return not t[pos - 1].isspace() and (pos >= len(t) or not (t[pos - 1].isalnum() and t[pos].isalnum()))


def _squash(text: str) -> str:
    return " ".join(text.split())


def score(source: SourceText, conv: Convention, spans: Sequence[Span]) -> tuple[Score, tuple[np.ndarray, np.ndarray]]:
    """`conv`'s score on `spans` and where it places them (`SourceText.place`)."""
    starts, ends = _offsets(sp.start for sp in spans), _offsets(sp.end for sp in spans)
    s, e = source.place(conv, starts, ends)
    split = source.splits_line_breaks(conv, starts, ends)
    names = boundaries = placed = 0
    for sp, a, b, n_split in zip(spans, s.tolist(), e.tolist(), split.tolist(), strict=True):
        if a < 0:
            continue
        placed += 1
        if sp.name and _squash(source.text[a:b]) == _squash(normalise_line_ends(sp.name)):
            names += 1
        boundaries += source.starts_cleanly(a) + source.ends_cleanly(b, a) - SPLIT_PENALTY * n_split
    return Score(names, boundaries, placed), (s, e)


def detect(source: SourceText, spans: Sequence[Span]) -> Detection:
    """The candidate that reproduces most selection names, then puts most starts and ends on word
    boundaries or just after line breaks (and fewest inside a CRLF pair), then places most selections;
    ties go to the earlier one in `CANDIDATES`. The runner-up is the best candidate that places some
    selection differently; `Detection.close` says whether it came near."""
    scored = [(conv, *score(source, conv, spans)) for conv in CANDIDATES]
    ranked = sorted(scored, key=lambda item: item[1], reverse=True)  # stable: ties keep CANDIDATES order
    chosen, best, (s0, e0) = ranked[0]
    differing = [(conv, key, int(np.flatnonzero((s != s0) | (e != e0))[0])) for conv, key, (s, e) in ranked[1:]
                 if not (np.array_equal(s, s0) and np.array_equal(e, e0))]
    tied = tuple(conv for conv, key, _ in differing if key == best)
    runner_up, differs_at = (differing[0][0], differing[0][2]) if differing else (None, None)
    return Detection(chosen, tied, tuple((conv, key) for conv, key, _ in ranked), runner_up, differs_at)


def check_span(span: Span) -> None:
    """Refuse negative and reversed selections, whatever the convention."""
    where = span.where
    if span.start < 0 or span.end < 0:
        raise fail(where.file, "selection-negative", "A selection position is negative.", element=where.element,
                   field="startPosition" if span.start < 0 else "endPosition", value=shown(f"{span.start}-{span.end}"))
    if span.end < span.start:
        raise fail(where.file, "selection-reversed", "The selection ends before it starts.", element=where.element,
                   field="endPosition", value=shown(f"{span.start}-{span.end}"))


def _offsets(values: Iterable[int]) -> np.ndarray:
    """Offsets as int64, any beyond MAX_POSITION (or below -1) clipped there: each is as unplaceable as
    before, and numpy never overflows (decision 0035)."""
    return np.array([min(max(v, -1), MAX_POSITION + 1) for v in values], dtype=np.int64)


def convert_all(source: SourceText, conv: Convention, spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Every selection in qualkg's convention (vectorised); the first unplaceable one raises via `convert`."""
    placed, problems = place_all(source, conv, spans)
    if problems:
        raise ReaderError(problems[:1])
    return [p for p in placed if p is not None]


def place_all(source: SourceText, conv: Convention,
              spans: Sequence[Span]) -> tuple[list[tuple[int, int] | None], list[Problem]]:
    """Every selection in qualkg's convention (vectorised), None where it cannot be placed, and one located
    problem for each of those (what `convert` raises)."""
    s, e = source.place(conv, _offsets(sp.start for sp in spans), _offsets(sp.end for sp in spans))
    placed: list[tuple[int, int] | None] = []
    problems: list[Problem] = []
    for span, start, end in zip(spans, s.tolist(), e.tolist(), strict=True):
        if start >= 0:
            placed.append((start, end))
            continue
        try:
            convert(source, conv, span)  # raises the located error
        except ReaderError as err:
            problems += err.problems
        placed.append(None)
    return placed, problems


def convert(source: SourceText, conv: Convention, span: Span) -> tuple[int, int]:
    """One selection in qualkg's convention, or a located ReaderError saying why it cannot be placed."""
    check_span(span)
    where = span.where
    s, e = source.place(conv, _offsets([span.start]), _offsets([span.end]))
    if s[0] >= 0:
        return int(s[0]), int(e[0])
    total = source.length(conv)
    if max(span.start, span.end + (conv.end == "inclusive")) > total:
        raise fail(where.file, "selection-within-text",
                   f"The selection runs past the end of the text ({total} units as {conv}).",
                   element=where.element, field="endPosition", value=shown(f"{span.start}-{span.end}"))
    raise fail(where.file, "selection-splits-character",
               f"A selection position falls inside a character (a UTF-16 surrogate pair or UTF-8 sequence) "
               f"when read as {conv}.", element=where.element, value=shown(f"{span.start}-{span.end}"))
