"""The disclosure rule on hand-made tables (api/disclosure.py)."""

from __future__ import annotations

import pandas as pd

from api.disclosure import disclose
from queries.catalog import Column, Question

Q = Question(id="q", title="t", description="d", sparql="",
             columns=[Column(name="label"), Column(name="n", count=True), Column(name="text", text=True)])


def test_primary_and_secondary_suppression() -> None:
    """k = 3: the lone 1 is suppressed, and so is the next-smallest non-zero cell (4), so 10 − (5 + 0) won't
    reveal it; 0 is kept (an empty cell discloses nobody); text is dropped."""
    df = pd.DataFrame({"label": list("abcd"), "n": [1, 4, 5, 0], "text": ["w", "x", "y", "z"]})
    out = disclose(df, Q, may_read_excerpts=False, k=3)
    assert list(out.frame["n"]) == [None, None, 5, 0]
    assert out.suppressed == 2 and "text" not in out.frame.columns


def test_no_secondary_when_two_cells_are_already_suppressed() -> None:
    df = pd.DataFrame({"label": list("abc"), "n": [1, 2, 9], "text": ["", "", ""]})
    assert list(disclose(df, Q, may_read_excerpts=False, k=3).frame["n"]) == [None, None, 9]


def test_everything_shown_with_the_excerpts_scope() -> None:
    df = pd.DataFrame({"label": ["a"], "n": [1], "text": ["x"]})
    out = disclose(df, Q, may_read_excerpts=True, k=3)
    assert out.frame.equals(df) and out.suppressed == 0
