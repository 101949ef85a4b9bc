"""Disclosure control for callers without the `excerpts` scope.

Rule (documented in docs/api.md and docs/security.md):
1. Excerpt text columns are removed.
2. Primary suppression: a count c with 0 < c < k (k = min_cell_count, default 3) is returned as
   null and counted in `suppressed`, never as the number.
3. Secondary suppression, against differencing: the answer's dimension columns (those that are
   neither counts nor text — a matrix's row and column, a theme label …) group its cells. Wherever
   a group (all rows sharing one value of one dimension, or the whole column) holds exactly one
   suppressed cell of a count column, the group's smallest other non-zero cell is suppressed too,
   repeated until no group has a lone suppressed cell. A total published by this or any other
   question, minus the visible cells of its group, then gives at most the sum of two or more hidden
   cells, never one of them.
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


def _secondary(values: pd.Series, hidden: pd.Series, groups: list[pd.Series]) -> pd.Series:
    """Extend `hidden` until no group holds exactly one hidden cell that another non-zero cell could cover."""
    hidden = hidden.copy()
    changed = True
    while changed:
        changed = False
        for keys in groups:
            for _, members in hidden.groupby(keys, dropna=False):
                if members.sum() != 1 or len(members) < 2:
                    continue
                others = values[members.index][~members & (values[members.index] > 0)]
                if not others.empty:
                    hidden.loc[others.idxmin()] = True
                    changed = True
    return hidden


def disclose(df: pd.DataFrame, question: Question, *, may_read_excerpts: bool, k: int) -> Disclosed:
    if may_read_excerpts:
        return Disclosed(df, 0, False)
    text_cols = [c.name for c in question.columns if c.text and c.name in df.columns]
    count_cols = [c.name for c in question.columns if c.count and c.name in df.columns]
    out = df.drop(columns=text_cols).astype(object)
    dimensions = [c for c in out.columns if c not in count_cols]
    whole = pd.Series(0, index=out.index)
    groups = [whole] + [out[d].astype(str) for d in dimensions]
    suppressed = 0
    for col in count_cols:
        values = pd.to_numeric(out[col], errors="coerce").fillna(0)
        hidden = _secondary(values, (values > 0) & (values < k), groups)
        out.loc[hidden, col] = None
        suppressed += int(hidden.sum())
    return Disclosed(out, suppressed, bool(text_cols))
