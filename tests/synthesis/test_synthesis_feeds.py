"""Review feeds on the fixture synthesis (tests/synthesis/conftest.py), expected values by hand."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from fastapi.testclient import TestClient

from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.routes import synthesis as synthesis_routes
from qualkg.api.security import key_hash
from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore
from qualkg.synthesis import feeds
from qualkg.synthesis.suggest import score, stems, suggest
from tests.synthesis.test_synthesis_cli import assert_profile_sheet
from tests.synthesis.test_synthesis_questions import FX_CITE, RV_CITE

# F1 by hand: supported by fx (C1: X1 by P1 in T1, X5 by N2 in T2; both excerpts SYNTHETIC, so fx is marked
# [synthetic data]) and rv (review, unverified, SE, no excerpts). Nothing was assessed: every cell blank.
FX_MARKED = f"{FX_CITE} [synthetic data] [invented study]"  # tests/fixture_study.py: invented
NOT = "not assessed"
F1_PROFILE = {
    "finding": "F1",
    "label": "Low pay",
    "statement": "Pay is low (fixture).",
    "group": "Challenges",
    "cerqual_version": feeds.CERQUAL_VERSION,
    "contributing_studies": sorted([FX_MARKED, RV_CITE]),
    "evidence_profile": {
        "methodological_limitations": {"option": None, "explanation": "", "status": NOT, "notes":
            "Appraise each of the 2 contributing studies: 1 primary, 1 reviews (review findings, not primary data); "
            "1 unverified; 1 rest on SYNTHETIC data."},
        "coherence": {"option": None, "explanation": "", "status": NOT, "notes":
            "Studies with contradicting data: 0. Check the fit between the supporting data and the finding."},
        "adequacy": {"option": None, "explanation": "", "status": NOT, "notes":
            "studies: 2 (1 primary, 1 reviews); held in qualkg: participants: 2; excerpts: 2; "
            "of which synthetic: 2; the richness and quantity of the data in the studies' own reports is not "
            "recorded in qualkg"},
        "relevance": {"option": None, "explanation": "", "status": NOT, "notes":
            "countries recorded for 2 of 2 studies: GB, SE; outside the review context (GB): SE; "
            "roles of the speakers in qualkg's excerpts (1 of 2 studies): mental health nurse, peer practitioner "
            "(outside the review context: mental health nurse); unknown for the studies without excerpts; "
            "features of the speakers in qualkg's excerpts (1 of 2 studies): flattened hierarchy, peer-led "
            "supervision (outside the review context: peer-led supervision); unknown for the studies without "
            "excerpts; settings: not recorded"},
        "cerqual": {"option": None, "explanation": "", "status": NOT},
    },
    "codes": {"concern": feeds.CONCERNS, "confidence": feeds.CONFIDENCE},
}
NOTICES = [
    'The review frame "Fixture frame" is a demonstration written by qualkg, not the findings of a published review.',
    "The mapping set https://w3id.org/qualkg/id/synthesis/mapping-set/fixture is a demonstration: its mappings "
    "show how qualkg works and are not evidence.",
    "2 proposed mapping(s) without a recorded reviewer are not counted; ask with mappings=all to see them.",
    "A study marked [synthetic data] supports a finding through SYNTHETIC codes or excerpts written for qualkg, "
    "not through its published findings.",
]


def _profile(catalog: Catalog, store: GraphStore, finding: str) -> dict:
    support = catalog.run(store, "recurring-findings", {"finding": finding}).iloc[0].to_dict()
    studies = feeds.finding_studies(store, catalog, finding)[finding]
    return feeds.evidence_profile(support, feeds.finding_detail(store, catalog, finding), studies)


def test_evidence_profile_equals_hand_made(catalog: Catalog, syn_store: GraphStore) -> None:
    assert json.loads(json.dumps(_profile(catalog, syn_store, "F1"), default=int)) == F1_PROFILE


def test_notices_say_what_is_a_demonstration(catalog: Catalog, syn_store: GraphStore) -> None:
    assert feeds.notices(syn_store, catalog, proposed=False) == NOTICES
    assert feeds.notices(syn_store, catalog, proposed=True)[2] == (
        "This view includes 2 proposed mapping(s) that no second person has reviewed (mappings=all); they are "
        "not evidence until reviewed.")


def test_relevance_says_what_is_unknown() -> None:
    """Three studies, one with a country: the note names the two without one instead of asserting GB for all."""
    studies = [{"cite": c, "countries": k, "excerpts": False} for c, k in (("A", "GB"), ("B", ""), ("C", ""))]
    assert feeds._countries(studies, ["GB"]) == (
        "countries recorded for 1 of 3 studies: GB; unknown for B | C; those recorded are within the review "
        "context (GB)")
    assert feeds._speakers("roles", [], ["peer practitioner"], studies) == (
        "roles: unknown (qualkg holds no coded excerpts of the supporting studies)")


@pytest.mark.parametrize(("studies", "expected"), [
    ([("r1", True, ""), ("r2", True, "")], "overlap unknown: no included studies recorded for 2 review(s)"),
    ([("r1", True, "p1 p2"), ("r2", True, "p2"), ("p1", False, "")],
     "r1 includes p1; r1 and r2 share 1 included study"),
    ([("r1", True, "p3"), ("r2", True, "p4")], "no shared included study recorded"),
    ([("r1", True, ""), ("p1", False, "")], ""),
])
def test_review_overlap(studies: list[tuple], expected: str) -> None:
    rows = [{"study": s, "cite": s, "review": r, "includes": inc} for s, r, inc in studies]
    assert feeds.overlap(rows) == expected


def test_unknown_finding(catalog: Catalog, syn_store: GraphStore) -> None:
    with pytest.raises(feeds.UnknownFinding):
        feeds.finding_detail(syn_store, catalog, "F9")


def test_soqf_unassessed(catalog: Catalog, syn_store: GraphStore) -> None:
    """iSoQ's six columns and a status; descriptive findings grouped under A1; nothing assessed, so the
    assessment says so; fx's citation is marked [synthetic data] (its support is SYNTHETIC excerpts)."""
    df = feeds.soqf(syn_store, catalog)
    assert list(df.columns) == [*feeds.SOQF_COLUMNS, "Assessment status"]
    columns = df[["No.", "Review finding group", "GRADE-CERQual Assessment", "Assessment status"]]
    assert [tuple(r) for r in columns.itertuples(index=False)] == [
        ("A1", "", NOT, NOT), ("F1", "Challenges", NOT, NOT), ("F2", "Challenges", NOT, NOT)]
    assert set(df.loc[df["No."] == "F2", "References"].iloc[0].split(" | ")) == {FX_MARKED}


def test_jbi_illustrations_and_credibility(catalog: Catalog, syn_store: GraphStore) -> None:
    """F1's study findings: C1 "Low pay" illustrated by X1 and X5; rv's "Money worries" (a published theme)
    and "pay was low" (a quoted fragment) have no illustration held. No credibility was recorded: "not
    assessed", never "Unsupported". Each label says where it comes from."""
    df, warnings = feeds.jbi(syn_store, catalog, "F1")
    got = {(r.synthesised_finding, r.category, r.study_finding, r.illustration, r.study_finding_source, r.credibility)
           for r in df.itertuples(index=False)}
    code, theme, fragment = ("the study's codebook label", "verbatim: a theme as the publication names it",
                             "verbatim: a fragment the study record quotes")
    assert got == {
        ("Challenges", "Low pay", "Low pay", "SYNTHETIC: The pay is low.", code, NOT),
        ("Challenges", "Low pay", "Low pay", "Pay for peers is low.", code, NOT),
        ("Challenges", "Low pay", "Money worries", "no illustration held", theme, NOT),
        ("Challenges", "Low pay", "pay was low", "no illustration held", fragment, NOT),
    }
    assert warnings == []  # F1 has 3 study findings; the synthesised finding is judged on the whole sheet


def test_jbi_warnings_on_the_whole_worksheet(catalog: Catalog, syn_store: GraphStore) -> None:
    """F2 "Hierarchy" has one study finding (C2, broadMatch; C3 contradicts, rv's is relatedMatch, TH2's
    mapping is proposed), below JBI's two; A1 "Challenges" has two categories, so no warning for it."""
    _, warnings = feeds.jbi(syn_store, catalog)
    assert warnings == ['Category F2 "Hierarchy" has 1 study finding (JBI aggregates at least two).']


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Low pay", "pay was low", 1.0),  # {low, pay} both sides
    ("Compromised hierarchy", "Hierarchy returns", 0.5),  # 2·1/(2+2)
    ("Pay for peers is low", "Low pay", 0.8),  # {pay, peer, low} vs {low, pay}: 2·2/5
    ("Working as a peer", "Money worries", 0.0),
])
def test_lexical_score(a: str, b: str, expected: float) -> None:
    assert score(a, b) == expected


def test_stems() -> None:
    assert stems("Pay for peers is low") == {"pay", "peer", "low"}


def test_suggestions_never_create_mappings(catalog: Catalog, syn_store: GraphStore) -> None:
    """fx × rv above 0.3: Low pay ↔ pay was low (1.0), Compromised hierarchy ↔ Hierarchy returns (0.5).
    The store's graphs and their sizes are the same before and after."""
    before = {g: syn_store.triple_count(g) for g in syn_store.graphs()}
    df = suggest(syn_store, catalog, "fx", "rv", min_score=0.3)
    assert [(r.subject_label, r.object_label, r.score) for r in df.itertuples(index=False)] == [
        ("Low pay", "pay was low", 1.0), ("Compromised hierarchy", "Hierarchy returns", 0.5)]
    assert set(df["mapping_justification"]) == {"semapv:LexicalMatching"}
    assert {g: syn_store.triple_count(g) for g in syn_store.graphs()} == before


def _client(store: GraphStore, catalog: Catalog, scopes: set[str]) -> TestClient:
    """The app with one key holding `scopes`, sent with every request (open scopes depend on the peer)."""
    key = ApiKey(key_sha256=key_hash("synthesis-test-key"), name="reviewer", scopes=frozenset(scopes))
    config = ApiConfig(keys=[key], min_cell_count=3, max_rows=1000, query_timeout_s=5)
    app = create_app(config, store, catalog)
    app.include_router(synthesis_routes.router)
    return TestClient(app, headers={"Authorization": "Bearer synthesis-test-key"})


def test_api_cerqual_json_equals_hand_made(catalog: Catalog, syn_store: GraphStore) -> None:
    r = _client(syn_store, catalog, {"aggregate", "excerpts"}).get("/synthesis/findings/F1/cerqual")
    assert r.status_code == 200
    assert r.json() == {**F1_PROFILE, "notices": NOTICES}


def test_api_cerqual_xlsx_with_suppressed_counts(catalog: Catalog, syn_store: GraphStore) -> None:
    """Aggregate-only callers: 2 participants, 2 excerpts and 2 synthetic excerpts are below k=3, so the notes
    say suppressed; the studies (not persons) are shown."""
    r = _client(syn_store, catalog, {"aggregate"}).get("/synthesis/findings/F1/cerqual?format=xlsx")
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert_profile_sheet(wb)  # the layout the CLI writes too
    sheet = wb.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("finding", "review_finding", "component", "isoq_key")
    assert [row[2] for row in rows[1:]] == [*feeds.COMPONENTS.values(), "Overall CERQual assessment"]
    adequacy = next(row for row in rows if row[3] == "adequacy")
    assert adequacy[-1] == ("studies: 2 (1 primary, 1 reviews); held in qualkg: participants: suppressed "
                            "(small count); excerpts: suppressed (small count); of which synthetic: "
                            "suppressed (small count); the richness and quantity of the data in the studies' own "
                            "reports is not recorded in qualkg")


@pytest.mark.parametrize(("path", "status"), [
    ("/synthesis/findings/F9/cerqual", 404),
    ("/synthesis/suggestions?a=fx&b=rv", 200),
    ("/synthesis/suggestions?a=f%20x&b=rv", 422),
    ("/synthesis/references.ris", 200),
    ("/synthesis/soqf?format=csv", 200),
])
def test_api_statuses(catalog: Catalog, syn_store: GraphStore, path: str, status: int) -> None:
    assert _client(syn_store, catalog, {"aggregate"}).get(path).status_code == status


def test_api_jbi_hides_illustrations_without_excerpts_scope(catalog: Catalog, syn_store: GraphStore) -> None:
    """Without 'excerpts' the worksheet has one row per study finding (jbi-outline), none per illustration,
    and no speakers: C1 "Low pay" (illustrated twice) is one row; rv's two have no illustration held.
    With 'excerpts' the two illustrations of C1 are two rows, with their speakers."""
    body = _client(syn_store, catalog, {"aggregate"}).get("/synthesis/jbi?finding=F1").json()
    assert body["question"] == "jbi-outline"
    assert not {"illustration", "speaker"} & set(body["columns"])
    assert sorted((r["study_finding"], r["illustrated"], r["synthetic"], r["credibility"]) for r in body["rows"]) == [
        ("Low pay", True, True, NOT), ("Money worries", False, False, NOT), ("pay was low", False, False, NOT)]
    full = _client(syn_store, catalog, {"aggregate", "excerpts"}).get("/synthesis/jbi?finding=F1").json()
    assert full["question"] == "jbi" and len(full["rows"]) == 4
    assert {r["speaker"] for r in full["rows"] if r["study_finding"] == "Low pay"} == {"P1", "N2"}


def test_api_findings_mark_synthetic_support_in_every_format(catalog: Catalog, syn_store: GraphStore) -> None:
    """fx supports F1 (C1), F2 (C2) and so A1 only through SYNTHETIC excerpts: its reference is marked on each
    row; rv (F1 only) is a review, unverified. One review per finding: no overlap to report."""
    client = _client(syn_store, catalog, {"aggregate"})
    body = client.get("/synthesis/findings").json()
    got = {r["finding"]: (r["references"], r["synthetic_studies"], r["review_overlap"]) for r in body["rows"]}
    assert got == {"A1": (f"{FX_MARKED} | {RV_CITE}", 1, ""), "F1": (f"{FX_MARKED} | {RV_CITE}", 1, ""),
                   "F2": (FX_MARKED, 1, "")}
    assert body["notices"] == NOTICES
    csv_text = client.get("/synthesis/findings?format=csv").text
    assert csv_text.count("[synthetic data]") == 3
    wb = openpyxl.load_workbook(io.BytesIO(client.get("/synthesis/findings?format=xlsx").content))
    sheet = wb.worksheets[0]
    header = [c.value for c in sheet[1]]
    column = header.index("references") + 1
    assert [sheet.cell(row=r, column=column).value.count("[synthetic data]") for r in range(2, 5)] == [1, 1, 1]
    assert [c.value for c in wb["notes"]["A"]][1:] == NOTICES
