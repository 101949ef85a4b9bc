"""The cross-study named questions on the fixture synthesis (tests/synthesis/conftest.py), by hand.

Excerpts of fx (tests/fixture_study.py): X1 P1/T1 C1; X2 P1/T1 C2; X3 P2/T2 C3; X4 N1/T1 C3;
X5 N2/T2 C1+C2. T1 has flattened-hierarchy and peer-supervision; T2 has no feature.
"""

from __future__ import annotations

import pandas as pd
import pytest

from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore

FX_CITE = "Roe R, Doe J, Abe K, et al. (2025). Fixture report. Fixture J 1(2):10-12. doi:10.5555/fx"
RV_CITE = "Poe A, et al. Fixture review report. Review J 2. doi:10.5555/rv [review] [unverified]"


def _set(value: object, sep: str) -> set[str]:
    return set(filter(None, str(value or "").split(sep)))


def _row(df: pd.DataFrame, key: str, value: str) -> dict:
    match = df[df[key] == value]
    assert len(match) == 1, (value, df)
    return match.iloc[0].to_dict()


def test_recurring_findings_order_and_counts(catalog: Catalog, syn_store: GraphStore) -> None:
    """F1 is supported by C1 (fx), "Money worries" and "pay was low" (rv); row 8 (lexical, unreviewed)
    adds nothing. F2 only by C2 (broadMatch); C3 refutes it; rv's relatedMatch is no support.
    A1 = F1 ∪ F2. Excerpts: C1 → X1, X5; C2 → X2, X5. Order: studies desc, then notation."""
    df = catalog.run(syn_store, "recurring-findings", {})
    cols = ["finding", "studies", "primary_studies", "reviews", "participants", "excerpts", "synthetic",
            "refuting_studies", "unverified_studies"]
    assert [tuple(r) for r in df[cols].itertuples(index=False)] == [
        ("A1", 2, 1, 1, 2, 3, 3, 0, 1),
        ("F1", 2, 1, 1, 2, 2, 2, 0, 1),
        ("F2", 1, 1, 0, 2, 2, 2, 1, 0),
    ]


@pytest.mark.parametrize(("finding", "countries", "roles", "features", "citations"), [
    ("F1", {"GB", "SE"}, {"peer practitioner", "mental health nurse"}, {"flattened hierarchy", "peer-led supervision"},
     {FX_CITE, RV_CITE}),
    ("F2", {"GB"}, {"peer practitioner", "mental health nurse"}, {"flattened hierarchy", "peer-led supervision"},
     {FX_CITE}),
    ("A1", {"GB", "SE"}, {"peer practitioner", "mental health nurse"}, {"flattened hierarchy", "peer-led supervision"},
     {FX_CITE, RV_CITE}),
])
def test_recurring_findings_contexts_and_citations(catalog: Catalog, syn_store: GraphStore, finding: str,
                                                   countries: set, roles: set, features: set, citations: set) -> None:
    """Speakers P1 (peer, T1: both features) and N2 (nurse, T2: none); countries from the study records."""
    df = catalog.run(syn_store, "recurring-findings", {"finding": finding})
    assert list(df["finding"]) == [finding]
    row = df.iloc[0]
    assert (_set(row["countries"], ", "), _set(row["roles"], ", "), _set(row["features"], ", "),
            _set(row["citations"], " | ")) == (countries, roles, features, citations)


@pytest.mark.parametrize(("feature", "expected"), [
    ("flattened-hierarchy", {("A1", 2, 1, 1, 1, 1, 1), ("F1", 1, 1, 1, 1, 1, 1), ("F2", 1, 1, 1, 1, 1, 1)}),
    ("peer-supervision", {("A1", 2, 1, 1, 1, 1, 1), ("F1", 1, 1, 1, 1, 1, 1), ("F2", 1, 1, 1, 1, 1, 1)}),
    ("dual-caseload", {("A1", 0, 0, 0, 3, 2, 2), ("F1", 0, 0, 0, 2, 2, 2), ("F2", 0, 0, 0, 2, 2, 2)}),
])
def test_context_contrast(catalog: Catalog, syn_store: GraphStore, feature: str, expected: set) -> None:
    """With the feature: T1 (X1 for F1, X2 for F2, both for A1, all by P1); without: T2 (X5 by N2).
    No team has dual-caseload, so everything falls on the 'without' side (T1 and T2)."""
    df = catalog.run(syn_store, "context-contrast", {"feature": feature})
    cols = ["finding", "with_excerpts", "with_participants", "with_teams", "without_excerpts",
            "without_participants", "without_teams"]
    assert {tuple(r) for r in df[cols].itertuples(index=False)} == expected


def test_study_compare(catalog: Catalog, syn_store: GraphStore) -> None:
    """Shared = close/exact on both sides (directly or via one finding); partly = any other link; unique = none.
    fx: C1 ↔ "pay was low" close/close via F1 → shared; C2 and C3 meet "Hierarchy returns" only through
    F2 (broad/refutes vs related) → partly; TH2 relatedMatch "Hierarchy returns" directly → partly;
    TH1's only mapping is unreviewed → unique. rv: "pay was low" shared with C1; "Money worries" narrow vs
    close → partly; "Hierarchy returns" → partly."""
    df = catalog.run(syn_store, "study-compare", {"a": "fx", "b": "rv"})
    got = {(r.side, r.theme, r.status, frozenset(_set(r.counterparts, " | ")), frozenset(_set(r.via_findings, " | ")))
           for r in df.itertuples(index=False)}
    assert got == {
        ("A", "Low pay", "shared", frozenset(),
         frozenset({"Money worries (via Low pay)", "pay was low (via Low pay)"})),
        ("A", "Compromised hierarchy", "partly shared", frozenset(), frozenset({"Hierarchy returns (via Hierarchy)"})),
        ("A", "Shared decisions", "partly shared", frozenset(), frozenset({"Hierarchy returns (via Hierarchy)"})),
        ("A", "Team culture", "partly shared", frozenset({"Hierarchy returns"}), frozenset()),
        ("A", "Working as a peer", "unique", frozenset(), frozenset()),
        ("B", "pay was low", "shared", frozenset(), frozenset({"Low pay (via Low pay)"})),
        ("B", "Money worries", "partly shared", frozenset(), frozenset({"Low pay (via Low pay)"})),
        ("B", "Hierarchy returns", "partly shared", frozenset({"Team culture"}),
         frozenset({"Compromised hierarchy (via Hierarchy)", "Shared decisions (via Hierarchy)"})),
    }
