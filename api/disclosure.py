"""Disclosure control for callers without the `excerpts` scope.

Rule (documented in docs/api.md):
1. Excerpt text columns are removed.
2. Primary suppression: a count c with 0 < c < k (k = min_cell_count, default 3) is returned as
   null and listed in `suppressed`, never as the number.
3. Secondary suppression: where a count column has exactly one suppressed cell, the smallest
   other non-zero cell of that column is suppressed too, so that a column total minus the other
   cells does not reveal the suppressed value.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from queries.catalog import Question


@dataclass(frozen=True, slots=True)
class Disclosed:
    frame: pd.DataFrame
    suppressed: int  # how many cells were suppressed
    text_removed: bool


def disclose(df: pd.DataFrame, question: Question, *, may_read_excerpts: bool, k: int) -> Disclosed:
    if may_read_excerpts:
        return Disclosed(df, 0, False)
    text_cols = [c.name for c in question.columns if c.text and c.name in df.columns]
    out = df.drop(columns=text_cols).astype(object)
    suppressed = 0
    for col in (c.name for c in question.columns if c.count and c.name in out.columns):
        values = pd.to_numeric(out[col], errors="coerce")
        small = (values > 0) & (values < k)
        if small.sum() == 1 and len(values) > 1:
            others = values[~small & (values > 0)]
            if not others.empty:
                small.loc[others.idxmin()] = True
        out.loc[small, col] = None
        suppressed += int(small.sum())
    return Disclosed(out, suppressed, bool(text_cols))
