"""Bounds on untrusted input that no legitimate export comes near (decision 0035).

A reader that recurses over a structure, or hands a number to fixed-width arithmetic, does so only
within these bounds; anything beyond them is refused with a located problem, never a RecursionError
or an OverflowError.
"""

from __future__ import annotations

import re

from qualkg.ingest.problems import Problem, Where

MAX_XML_DEPTH = 100  # element nesting of one XML document (a REFI-QDA project nests about 10 deep)
MAX_CODE_DEPTH = 64  # levels of a code hierarchy, however it is written (nesting, "A::B", parent columns)
MAX_YAML_DEPTH = 50  # nested collections in a study.yaml (its schema nests 3 deep)
MAX_POSITION = 2**31 - 1  # a text offset in any unit: no text an archive may hold (2 GiB) has more units
MAX_VALUE_CHARS = 80  # how much of an offending value a problem repeats
MAX_PROBLEMS = 200  # problems listed for one document or archive; a count stands for the rest

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def shown(value: str | None) -> str | None:
    """`value` as a problem repeats it: cut to MAX_VALUE_CHARS, with the length it had."""
    if value is None or len(value) <= MAX_VALUE_CHARS:
        return value
    return f"{value[:MAX_VALUE_CHARS]}… ({len(value)} characters)"


def capped(problems: list[Problem]) -> list[Problem]:
    """The first MAX_PROBLEMS problems, and one more that counts those left out."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem(Where(problems[MAX_PROBLEMS].where.file), "more-problems",
                                              f"{rest} further problems are not listed.", str(rest))]


def whole_number(text: str | None) -> int | None:
    """An ASCII whole number (optional sign, digits, surrounding spaces), or None for anything else.

    `int()` alone also takes "1_000" and other scripts' digits, and raises on 4,300 digits. A number of
    more than 30 digits comes back as ±10**30, outside every bound here, so callers compare; never raise.
    """
    s = (text or "").strip()
    if not _WHOLE_NUMBER.fullmatch(s):
        return None
    digits = s.lstrip("+-").lstrip("0")
    if len(digits) > 30:
        return -(10**30) if s.startswith("-") else 10**30
    return int(s)
