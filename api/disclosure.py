"""Disclosure control for callers without the `excerpts` scope (decision 0010; docs/security.md):
excerpt text removed; a count c with 0 < c < k returned as null and counted in `suppressed`; and,
wherever a group of an answer's cells holds one lone suppressed cell of a count column, its smallest
other non-zero cell suppressed too, until no group does. Derived columns (the c-coefficient) are
computed again from the published counts, so they are hidden whenever an input is.
"""

from __future__ import annotations

import math
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

    `groups` holds, per dimension, each row's group number; one dimension's groups are settled at once."""
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
    count_cols = [c.name for c in question.columns if c.about_persons and c.name in df.columns]
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
    derive(out, question)
    return Disclosed(out, suppressed, bool(text_cols))


def _number(value: object) -> float | None:
    """A published count as a float; None for a hidden (null) one."""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return None if math.isnan(value) else float(value)
    return None


def c_coefficient(n12: object, n1: object, n2: object) -> float | None:
    """ATLAS.ti's c = n12 / (n1 + n2 − n12), to 3 places, from published counts; None when one is hidden."""
    both, a, b = _number(n12), _number(n1), _number(n2)
    if both is None or a is None or b is None or a + b - both <= 0:
        return None
    return round(min(1.0, max(0.0, both / (a + b - both))), 3)


def derive(out: pd.DataFrame, question: Question) -> None:
    """Compute each derived column again from the published values of its inputs, in place: a statistic of
    a hidden count is hidden too, and never gives the count back (n12 from c, n1 and n2).

    `presence` columns ("both", "peers only" …) are kept: they say only whether their inputs are zero, and
    disclosure control never changes whether a count is zero."""
    for col in question.columns:
        if col.derived is None or col.name not in out.columns or col.derived.formula == "presence":
            continue
        inputs = [out[name] if name in out.columns else pd.Series([None] * len(out), index=out.index)
                  for name in col.derived.of]
        out[col.name] = pd.Series([c_coefficient(*row) for row in zip(*inputs, strict=True)],
                                  index=out.index, dtype=object)
