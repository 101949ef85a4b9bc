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

import numpy as np
import pandas as pd

from qualkg.queries.catalog import Question


@dataclass(frozen=True, slots=True)
class Disclosed:
    frame: pd.DataFrame
    suppressed: int  # how many cells were suppressed
    text_removed: bool


def _secondary(values: np.ndarray, hidden: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Extend `hidden` until no group holds exactly one hidden cell that another non-zero cell could cover.

    `groups` holds, per dimension, each row's group number. One dimension's groups are disjoint, so
    all of them are settled at once, in numpy: this runs on every answer to a caller without the
    `excerpts` scope, and pandas' per-call overhead made it the slowest part of such an answer."""
    hidden = hidden.copy()
    changed = True
    while changed:
        changed = False
        for group in groups:
            lone = (np.bincount(group, weights=hidden)[group] == 1) & (np.bincount(group)[group] >= 2)
            cover = np.flatnonzero(lone & ~hidden & (values > 0))
            if cover.size:
                ranked = cover[np.lexsort((cover, values[cover], group[cover]))]  # by group, value, row
                smallest = ranked[np.r_[True, group[ranked][1:] != group[ranked][:-1]]]
                hidden[smallest] = True
                changed = True
    return hidden


def disclose(df: pd.DataFrame, question: Question, *, may_read_excerpts: bool, k: int) -> Disclosed:
    if may_read_excerpts:
        return Disclosed(df, 0, False)
    text_cols = [c.name for c in question.columns if c.text and c.name in df.columns]
    count_cols = [c.name for c in question.columns if c.count and c.name in df.columns]
    out = df.drop(columns=text_cols).astype(object)
    dimensions = [c for c in out.columns if c not in count_cols]
    whole = np.zeros(len(out), dtype=np.intp)
    groups = [whole] + [pd.factorize(out[d], use_na_sentinel=False)[0] for d in dimensions]
    suppressed = 0
    for col in count_cols:
        values = pd.to_numeric(out[col], errors="coerce").fillna(0).to_numpy(dtype=float)
        hidden = _secondary(values, (values > 0) & (values < k), groups)
        out.loc[hidden, col] = None
        suppressed += int(hidden.sum())
    return Disclosed(out, suppressed, bool(text_cols))
