"""Review status of mappings and recorded judgements, on the fixture synthesis (tests/synthesis/conftest.py).

Fixture mapping rows (data/fx.sssom.tsv): 2-8 name reviewer qkagent:second, so they are Reviewed; row 9
(lexical, TH1 "Working as a peer" closeMatch F1) and row 10 (TH2 "Team culture" closeMatch F2, manual
curation, no reviewer) are Proposed. The set declares itself a demonstration.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib.namespace import PROV

from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore
from qualkg.synthesis.errors import SynthesisError
from qualkg.synthesis.judgements import (
    AssessmentBody,
    MappingReview,
    current_assessments,
    record_assessment,
    record_mapping_review,
)
from qualkg.synthesis.loader import import_mapping_set, load_synthesis, proposed_view, synthesis_graph
from qualkg.synthesis.mappings import read_mapping_set, read_sssom
from qualkg.synthesis.questions import synthesis_catalog
from tests.synthesis.conftest import DATA, IRIS

SET_ID = "https://w3id.org/qualkg/id/synthesis/mapping-set/fixture"
SKOS_CLOSE = "http://www.w3.org/2004/02/skos/core#closeMatch"
F2 = f"{IRIS.base}review/fxframe/finding/hierarchy"
TH2 = IRIS.scoped("fx", "code", "TH2")
ROW_10 = MappingReview(mapping_set_id=SET_ID, subject_id=TH2, predicate_id=SKOS_CLOSE, object_id=F2,
                       reviewer="Third Person")
USER_SET = """# curie_map:
#   qkagent: https://w3id.org/qualkg/id/agent/
#   qkreview: https://w3id.org/qualkg/id/review/
#   rv: https://w3id.org/qualkg/id/study/rv/
#   semapv: https://w3id.org/semapv/vocab/
#   skos: http://www.w3.org/2004/02/skos/core#
# mapping_set_id: https://example.org/user-set
# license: https://creativecommons.org/licenses/by/4.0/
subject_id	subject_label	predicate_id	object_id	object_label	mapping_justification	author_label\
	mapping_date	confidence	comment
rv:published-theme/money-worries	Money worries	skos:relatedMatch	qkreview:fxframe/finding/hierarchy	Hierarchy\
	semapv:ManualMappingCuration	User	2026-12-01	0.5	a user's mapping
"""


def _status(store: GraphStore) -> list[tuple]:
    df = synthesis_catalog(IRIS).run(store, "mapping-review-status", {})
    return [tuple(r) for r in df.itertuples(index=False)]


def _derived(store: GraphStore, finding: str) -> set[str]:
    rows = store.select(f"SELECT ?c WHERE {{ GRAPH <{synthesis_graph(IRIS)}> {{ <{finding}> "
                        f"<{PROV.wasDerivedFrom}> ?c }} }}")
    return {r["c"].value for r in rows}


def test_records_carry_review_status(syn_store: GraphStore) -> None:
    assert _status(syn_store) == [(SET_ID, True, 7, 2)]


def test_recording_a_review_makes_the_mapping_count(bare_store: GraphStore) -> None:
    """Row 10 reviewed: F2 is now derived from C2 (row 5) and TH2; 8 reviewed, 1 proposed; the export names
    the reviewer; a record the set does not hold is refused."""
    load_synthesis(DATA, bare_store, IRIS)
    assert TH2 not in _derived(bare_store, F2)
    record_mapping_review(bare_store, IRIS, ROW_10)
    assert _derived(bare_store, F2) == {IRIS.scoped("fx", "code", "C2"), TH2}
    assert _status(bare_store) == [(SET_ID, True, 8, 1)]
    findings = synthesis_catalog(IRIS).run(bare_store, "findings", {})  # the frame survives a rebuild from the store
    assert list(findings["finding"]) == ["A1", "F1", "F2"]
    mset = read_mapping_set(bare_store, synthesis_catalog(IRIS), SET_ID)
    row10 = next(m for m in mset.mappings if m.subject_id == TH2 and m.object_id == F2)
    assert (row10.reviewer_id, row10.reviewer_label) == ((f"{IRIS.base}agent/third-person",), ("Third Person",))
    with pytest.raises(SynthesisError) as e:
        record_mapping_review(bare_store, IRIS, ROW_10.model_copy(update={"predicate_id": SKOS_CLOSE + "x"}))
    assert [p.rule for p in e.value.problems] == ["unknown-mapping"]


def test_rebuild_keeps_user_sets_reviews_and_judgements(bare_store: GraphStore, catalog: Catalog,
                                                        tmp_path: Path) -> None:
    """A user set imported, row 10 reviewed, an assessment recorded; `mappings import` again keeps all three."""
    load_synthesis(DATA, bare_store, IRIS)
    (tmp_path / "user.sssom.tsv").write_text(USER_SET, encoding="utf-8")
    import_mapping_set(bare_store, IRIS, read_sssom(tmp_path / "user.sssom.tsv"), "user.sssom.tsv")
    record_mapping_review(bare_store, IRIS, ROW_10)
    record_assessment(bare_store, IRIS, "F2", AssessmentBody.model_validate({"assessment": CERQUAL}).assessment)
    load_synthesis(DATA, bare_store, IRIS)
    assert _status(bare_store) == [("https://example.org/user-set", False, 0, 1), (SET_ID, True, 8, 1)]
    assert list(current_assessments(bare_store, IRIS)) == [("F2", "cerqual")]


CERQUAL = {
    "method": "cerqual", "assessor": "Ann Reviewer",
    "components": {k: {"concern": c, "explanation": f"{k} explained"} for k, c in (
        ("methodological_limitations", 1), ("coherence", 0), ("adequacy", 2), ("relevance", 3))},
    "overall": {"confidence": "low", "explanation": "two components with concerns"}}


def test_a_second_assessment_revises_the_first(bare_store: GraphStore) -> None:
    """Both stay in the graph; the current one is the second, prov:wasRevisionOf the first."""
    load_synthesis(DATA, bare_store, IRIS)
    first = record_assessment(bare_store, IRIS, "F1", AssessmentBody.model_validate({"assessment": CERQUAL}).assessment)
    again = {**CERQUAL, "overall": {"confidence": "moderate", "explanation": "on second thoughts"}}
    second = record_assessment(bare_store, IRIS, "F1", AssessmentBody.model_validate({"assessment": again}).assessment)
    current = current_assessments(bare_store, IRIS, "F1")[("F1", "cerqual")]
    assert (current["judgement"], current["revision_of"], current["assessor"]) == (second, first, "Ann Reviewer")
    assert current["parts"]["overall"] == {"confidence": "moderate", "comment": "on second thoughts"}
    assert current["parts"]["adequacy"] == {"concern": "2", "comment": "adequacy explained"}
    assert bare_store.ask(f"ASK {{ GRAPH <{synthesis_graph(IRIS)}> {{ <{first}> a ?t }} }}")
    with pytest.raises(KeyError):
        record_assessment(bare_store, IRIS, "F9", AssessmentBody.model_validate({"assessment": CERQUAL}).assessment)


def test_proposed_view_adds_unreviewed_support(syn_store: GraphStore, catalog: Catalog) -> None:
    """mappings=all: row 10 adds TH2 to F2, and TH2's code C3 brings X3 and X4 to C2's X2 and X5; row 9 adds
    TH1 to F1, whose codes C1, C2 (through ST1) bring X2 to C1's X1, X5. The store itself is unchanged."""
    view = proposed_view(syn_store, IRIS)
    try:
        got = {r.finding: r.excerpts for r in catalog.run(view, "recurring-findings", {}).itertuples(index=False)}
    finally:
        view.close()
    assert got == {"F1": 3, "F2": 4, "A1": 5}
    stored = {r.finding: r.excerpts for r in catalog.run(syn_store, "recurring-findings", {}).itertuples()}
    assert stored == {"F1": 2, "F2": 2, "A1": 3}
