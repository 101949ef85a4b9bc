"""Alignment suggestions between two studies' themes: a lexical baseline for a person to review (decision 0033).

Score: the Dice coefficient of the two labels' content-word stems, 2·|A∩B| / (|A|+|B|). Suggestions are
returned, never stored.
"""

from __future__ import annotations

import re

import pandas as pd

from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore
from qualkg.synthesis.questions import synthesis_catalog

STOP_WORDS = frozenset([
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "in", "into", "is", "it", "its", "of",
    "on", "or", "over", "the", "their", "them", "they", "this", "to", "was", "were", "what", "with", "without",
    "within", "yet",
])
_WORD = re.compile(r"[a-z0-9]+")
COLUMNS = ["subject_id", "subject_label", "object_id", "object_label", "score", "predicate_id", "mapping_justification"]


def stems(label: str) -> frozenset[str]:
    """Content-word stems of a label: 'Pay for peers is low' → {'pay', 'peer', 'low'}."""
    out = set()
    for w in _WORD.findall(label.lower()):
        if w in STOP_WORDS:
            continue
        out.add(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w)
    return frozenset(out)


def score(a: str, b: str) -> float:
    """Dice coefficient of the labels' stems, rounded to 3 places (0 when either has none)."""
    sa, sb = stems(a), stems(b)
    if not sa or not sb:
        return 0.0
    return round(2 * len(sa & sb) / (len(sa) + len(sb)), 3)


def suggest(store: GraphStore, catalog: Catalog, a: str, b: str, *, min_score: float = 0.3,
            limit: int = 100) -> pd.DataFrame:
    """Candidate mappings from study `a`'s concepts to study `b`'s, best first; nothing is written."""
    syn = synthesis_catalog(catalog.iris)
    left = syn.run(store, "study-concepts", {"study": a})
    right = syn.run(store, "study-concepts", {"study": b})
    rows = [(s, sl, o, ol, score(sl, ol)) for s, sl in zip(left["concept"], left["label"], strict=True)
            for o, ol in zip(right["concept"], right["label"], strict=True)]
    rows = sorted((r for r in rows if r[4] >= min_score), key=lambda r: (-r[4], r[1], r[3]))[:limit]
    return pd.DataFrame([(*r, "skos:relatedMatch", "semapv:LexicalMatching") for r in rows], columns=COLUMNS)
