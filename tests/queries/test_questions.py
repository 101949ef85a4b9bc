"""Every named question against the fixture study (tests/fixture_study.py), answers worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pandas as pd
import pytest

from qualkg.ingest.mapping import map_study
from qualkg.ingest.records import Publication, Study, StudyRecords
from qualkg.queries.catalog import Catalog, ParameterError, parse_question
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model
from tests.conftest import IRIS
from tests.fixture_study import fixture_records


def rows(df: pd.DataFrame, *cols: str) -> set[tuple]:
    return {tuple(None if pd.isna(v) else v for v in r) for r in df[list(cols)].itertuples(index=False)}


def test_challenges_of_peers_in_flattened_hierarchy_teams(catalog: Catalog, fx_store: GraphStore) -> None:
    """Peers in flattened-hierarchy teams: only P1 (T1). P1 said X1 (Low pay) and X2 (Compromised
    hierarchy), both under subtheme "Challenges of the role" → two codes, 1 excerpt / 1 participant each."""
    df = catalog.run(fx_store, "challenges-by-context", {})
    assert rows(df, "theme", "subtheme", "code", "excerpts", "participants", "studies") == {
        ("Working as a peer", "Challenges of the role", "Low pay", 1, 1, 1),
        ("Working as a peer", "Challenges of the role", "Compromised hierarchy", 1, 1, 1),
    }
    assert set(df["example"]) == {"SYNTHETIC: The pay is low.", "The hierarchy came back."}


def test_challenges_without_the_feature_filter_match_nobody_in_team_two(catalog: Catalog, fx_store: GraphStore) -> None:
    """Peers in teams with peer-supervision: again only T1 → same two codes; non-peers (N1 in T1) raised
    only "Shared decisions" under theme "Team culture", which holds no "challenge" → no rows. The topic
    matches code and subtheme labels, not theme labels: "culture" finds nothing, "shared" finds X4."""
    assert len(catalog.run(fx_store, "challenges-by-context", {"feature": "peer-supervision"})) == 2
    assert catalog.run(fx_store, "challenges-by-context", {"role": "non-peer-practitioner"}).empty
    assert catalog.run(fx_store, "challenges-by-context", {"role": "non-peer-practitioner", "topic": "culture"}).empty
    shared = catalog.run(fx_store, "challenges-by-context", {"role": "non-peer-practitioner", "topic": "SHARED"})
    assert rows(shared, "code", "excerpts") == {("Shared decisions", 1)}


def test_matrix_roles_by_themes(catalog: Catalog, fx_store: GraphStore) -> None:
    """Roles × themes: peers have X1, X2 (P1) under "Working as a peer" and X3 (P2) under "Team culture";
    the psychiatrist X4 under "Team culture"; the nurse X5 under "Working as a peer"."""
    df = catalog.run(fx_store, "matrix", {"rows": "role", "columns": "theme"})
    assert rows(df, "row", "column", "excerpts", "participants") == {
        ("peer practitioner", "Working as a peer", 2, 1),
        ("peer practitioner", "Team culture", 1, 1),
        ("psychiatrist", "Team culture", 1, 1),
        ("mental health nurse", "Working as a peer", 1, 1),
    }


def test_matrix_features_by_codes(catalog: Catalog, fx_store: GraphStore) -> None:
    """Features × codes: only T1 has features (both); T1's members are P1 (X1 Low pay, X2 Compromised
    hierarchy) and N1 (X4 Shared decisions) → 3 codes × 2 features, one excerpt each."""
    df = catalog.run(fx_store, "matrix", {"rows": "feature", "columns": "code"})
    assert len(df) == 6
    assert set(df["excerpts"]) == {1}
    assert set(df["column"]) == {"Low pay", "Compromised hierarchy", "Shared decisions"}


def test_cooccurrence_by_overlap_and_same_excerpt(catalog: Catalog, fx_store: GraphStore) -> None:
    """X5 carries Low pay and Compromised hierarchy (same excerpt); X2 [27,51) Compromised hierarchy
    overlaps X3 [31,71) Shared decisions. Each code is on 2 excerpts → c = 1 / (2 + 2 − 1) = 0.333."""
    df = catalog.run(fx_store, "cooccurrence", {})
    pairs = {frozenset((r.code1, r.code2)): (r.n12, r.n1, r.n2, r.c) for r in df.itertuples()}
    assert pairs == {
        frozenset(("Low pay", "Compromised hierarchy")): (1, 2, 2, 0.333),
        frozenset(("Compromised hierarchy", "Shared decisions")): (1, 2, 2, 0.333),
    }


def test_cooccurrence_filtered_to_peers(catalog: Catalog, fx_store: GraphStore) -> None:
    """Among peers' excerpts (X1, X2, X3) only X2 ~ X3 co-occur; n1 = n2 = 1 → c = 1."""
    df = catalog.run(fx_store, "cooccurrence", {"role": "peer-practitioner"})
    assert rows(df, "n12", "n1", "n2", "c") == {(1, 1, 1, 1.0)}


def test_perspectives(catalog: Catalog, fx_store: GraphStore) -> None:
    """Team culture: peer X3 (P2) vs non-peer X4 (N1); Challenges: peers X1, X2 (P1) vs non-peer X5 (N2)."""
    df = catalog.run(fx_store, "perspectives", {})
    assert rows(df, "theme", "subtheme", "peer_excerpts", "peer_participants", "other_excerpts",
                "other_participants", "spoken_by") == {
        ("Team culture", "", 1, 1, 1, 1, "both"),
        ("Working as a peer", "Challenges of the role", 2, 1, 1, 1, "both"),
    }


def test_excerpts_filters(catalog: Catalog, fx_store: GraphStore, iris) -> None:
    """Five excerpts; peers' are X1–X3; focus-group ones X4, X5; under ST1 (with descendants) X1, X2, X5."""
    all_ = catalog.run(fx_store, "excerpts", {})
    assert len(all_) == 5 and all_["synthetic"].all()
    assert set(catalog.run(fx_store, "excerpts", {"role": "peer-practitioner"})["speaker"]) == {"P1", "P2"}
    assert set(catalog.run(fx_store, "excerpts", {"mode": "focus-group"})["speaker"]) == {"N1", "N2"}
    st1 = iris.scoped("fx", "code", "ST1")
    assert len(catalog.run(fx_store, "excerpts", {"code": st1})) == 3
    assert list(catalog.run(fx_store, "excerpts", {"contains": "HOPE"})["speaker"]) == ["N1"]
    assert catalog.run(fx_store, "excerpts", {"synthetic": "false"}).empty
    page = catalog.run(fx_store, "excerpts", {}, limit=2, offset=1)
    assert list(page["start"]) == list(all_["start"][1:3])


def test_study_overview_counts(catalog: Catalog, fx_store: GraphStore) -> None:
    df = catalog.run(fx_store, "study-overview", {"study": "fx"})
    got = {(r.section, r.item): r.n for r in df.itertuples()}
    assert got == {
        ("participants by role", "peer practitioner"): 2, ("participants by role", "psychiatrist"): 1,
        ("participants by role", "mental health nurse"): 1, ("events by type", "joint interview"): 1,
        ("events by type", "focus group"): 1, ("themes", "Working as a peer"): 3, ("themes", "Team culture"): 2,
        ("subthemes", "Challenges of the role"): 3, ("totals", "excerpts"): 5,
    }


def test_contexts_and_teams(catalog: Catalog, fx_store: GraphStore) -> None:
    """T1 members P1 (X1, X2: Working as a peer) and N1 (X4: Team culture); T2 members P2 (X3) and N2 (X5)."""
    df = catalog.run(fx_store, "contexts", {"feature": "flattened-hierarchy"})
    assert rows(df, "team", "theme", "excerpts", "participants") == {
        ("Team One", "Working as a peer", 2, 1), ("Team One", "Team culture", 1, 1)}
    teams = catalog.run(fx_store, "teams", {})
    assert rows(teams, "team", "participants") == {("Team One", 2), ("Team Two", 2)}


def test_participants_and_codebook(catalog: Catalog, fx_store: GraphStore) -> None:
    people = catalog.run(fx_store, "participants", {"role": "non-peer-practitioner"})
    assert rows(people, "pseudonym", "role_name", "excerpts") == {("N1", "psychiatrist", 1),
                                                                  ("N2", "mental health nurse", 1)}
    themes = catalog.run(fx_store, "codebook", {"level": "theme"})
    assert rows(themes, "label", "excerpts") == {("Working as a peer", 3), ("Team culture", 2)}


@pytest.mark.parametrize(("qid", "params", "param", "rule", "says"), [
    ("challenges-by-context", {"role": "wizard"}, "role", "vocabulary", "wizard"),
    ("challenges-by-context", {"role": "peer-practitioner> } UNION { ?s ?p ?o"}, "role", "vocabulary", "UNION"),
    ("challenges-by-context", {"feature": "https://evil.example/x"}, "feature", "vocabulary", "evil.example"),
    ("matrix", {"rows": "role } UNION {"}, "rows", "choice", "UNION"),
    ("excerpts", {"synthetic": "maybe"}, "synthetic", "boolean", "maybe"),
    ("excerpts", {"code": "not an iri"}, "code", "iri", "not an iri"),
    ("excerpts", {"code": "http://x/a> } ; DROP ALL ; <b"}, "code", "iri", "DROP ALL"),
    ("study-overview", {}, "study", "required", "study"),
    ("study-overview", {"study": 'fx" }'}, "study", "study-id", 'fx" }'),
    ("teams", {"bogus": "1"}, "bogus", "unknown-parameter", "bogus"),
    # an empty value is refused, not defaulted (`topic` used to mean "challenge" silently)
    ("challenges-by-context", {"topic": ""}, "topic", "empty",
     "leave it out for its default (challenge), or give a text"),
    ("matrix", {"rows": ""}, "rows", "empty", "one of: role, team, feature, event-type, attribute"),
    ("excerpts", {"synthetic": ""}, "synthetic", "empty", "leave it out for no filter, or give one of: true, false"),
    ("excerpts", {"role": ""}, "role", "empty", "peer-practitioner"),
    ("study-overview", {"study": ""}, "study", "empty", "it is required"),
])
def test_bad_parameters_are_refused(catalog: Catalog, qid: str, params: dict, param: str, rule: str,
                                    says: str) -> None:
    """Refused with the parameter, the rule and a message that names the value or what is allowed."""
    with pytest.raises(ParameterError) as err:
        catalog.bind(qid, params)
    assert (err.value.param, err.value.rule) == (param, rule)
    assert says in str(err.value)


def test_text_parameter_is_a_literal_not_syntax(catalog: Catalog, fx_store: GraphStore) -> None:
    """A crafted `contains` value is matched as text: no excerpt contains it, so no rows — and no error."""
    df = catalog.run(fx_store, "excerpts", {"contains": '") || true || ("'})
    assert df.empty


def test_a_page_of_a_filtered_listing_is_cut_after_the_filter(catalog: Catalog, fx_store: GraphStore) -> None:
    """Peers' excerpts are X1–X3 (P1, P2; see test_excerpts_filters); the page is cut from those, so
    offset 1, limit 5 gives the last two of them — not a filtered remnant of an unfiltered page."""
    peers = catalog.run(fx_store, "excerpts", {"role": "peer-practitioner"})
    page = catalog.run(fx_store, "excerpts", {"role": "peer-practitioner"}, limit=5, offset=1)
    assert len(peers) == 3 and list(page["excerpt"]) == list(peers["excerpt"][1:])


def test_paged_question_without_a_page_marker_is_a_packaging_error() -> None:
    text = "#+ id: broken\n#+ title: t\n#+ description: d\n#+ paged: true\nSELECT ?x WHERE { ?x ?p ?o }\n"
    with pytest.raises(ValueError, match=r"(?s)broken.rq: bad question header.*#PAGE"):
        parse_question(text, "broken.rq")


def test_an_empty_study_lists_the_studies_there_are(catalog: Catalog, fx_store: GraphStore) -> None:
    with pytest.raises(ParameterError, match=r"is empty: leave it out for no filter, or give one of: fx \(value"):
        catalog.bind("teams", {"study": ""}, fx_store)


def test_an_unknown_study_is_refused_naming_the_studies(catalog: Catalog, fx_store: GraphStore) -> None:
    """The fixture store holds one study, fx; without the store the id cannot be checked against data."""
    with pytest.raises(ParameterError) as err:
        catalog.run(fx_store, "teams", {"study": "nope"})
    assert (err.value.param, err.value.rule, err.value.value) == ("study", "unknown", "nope")
    assert "no such study; one of: fx" in str(err.value)
    assert len(catalog.run(fx_store, "teams", {"study": "fx"})) == 2  # T1, T2
    assert "study" in catalog.bind("teams", {"study": "nope"})  # no store: the form alone is checked


@pytest.fixture(scope="module")
def with_attributes() -> Iterator[GraphStore]:
    """The fixture study with case attributes: P1 Gender=woman, N1 Gender=man and Age band=30-39."""
    records = fixture_records()
    attributes = {"P1": (("Gender", "woman"),), "N1": (("Gender", "man"), ("Age band", "30-39"))}
    people = [replace(p, attributes=attributes.get(p.id, ())) for p in records.participants]
    store = open_store("oxigraph", path=None)
    load_model(store)
    store.replace_graph(IRIS.graph("fx"), map_study(replace(records, participants=people), IRIS))
    yield store
    store.close()


def test_an_unknown_matrix_attribute_is_refused_naming_those_there_are(catalog: Catalog,
                                                                        with_attributes: GraphStore) -> None:
    with pytest.raises(ParameterError) as err:
        catalog.run(with_attributes, "matrix", {"rows": "attribute", "attribute": "Age"})
    assert (err.value.param, err.value.rule) == ("attribute", "unknown")
    assert "no such attribute in the data; one of: Age band, Gender" in str(err.value)
    with pytest.raises(ParameterError, match="no such attribute in the data of that study; one of: Age band, Gender"):
        catalog.bind("matrix", {"rows": "attribute", "attribute": "gender", "study": "fx"}, with_attributes)
    # Gender rows: P1 (woman) said X1, X2; N1 (man) said X4 — one row per (value, theme).
    df = catalog.run(with_attributes, "matrix", {"rows": "attribute", "attribute": "Gender", "columns": "theme"})
    assert rows(df, "row", "column", "excerpts") == {("woman", "Working as a peer", 2), ("man", "Team culture", 1)}


def test_studies_give_design_sample_kind_and_synthetic_data(catalog: Catalog) -> None:
    """The fixture study (synthetic, a report) beside a study-level record of a systematic review with no
    invented content: its kind is review and its data are not synthetic."""
    review = Study("rv", "A review", publication=Publication(None, "A review", 2024, kind="SystematicReview"),
                   design="systematic review", setting="mental health services")
    store = open_store("oxigraph", path=None)
    load_model(store)
    store.replace_graph(IRIS.graph("fx"), map_study(fixture_records(), IRIS))
    store.replace_graph(IRIS.graph("rv"), map_study(StudyRecords(study=review), IRIS))
    df = catalog.run(store, "studies", {})
    store.close()
    assert rows(df, "title", "design", "sample", "setting", "analysis", "kind", "synthetic") == {
        ("Fixture study", "qualitative interview study", "4 practitioners (SYNTHETIC)", None, "thematic analysis",
         "primary study", True),
        ("A review", "systematic review", None, "mental health services", None, "review", False)}


def test_an_unknown_code_is_refused(catalog: Catalog, fx_store: GraphStore, iris) -> None:
    """The fixture codebook has six concepts (TH1, ST1, C1, C2, TH2, C3); a code of no codebook, or one
    asked for within a study it is not in, is refused rather than answered with no rows."""
    c1 = iris.scoped("fx", "code", "C1")
    assert len(catalog.run(fx_store, "excerpts", {"code": c1})) == 2  # X1, X5
    with pytest.raises(ParameterError) as err:
        catalog.run(fx_store, "excerpts", {"code": "https://example.org/no-such-code"})
    assert (err.value.param, err.value.rule) == ("code", "unknown")
    assert str(err.value).count("https://w3id.org/qualkg/id/study/fx/code/") == 6
    with pytest.raises(ParameterError, match="of that study"):
        catalog.bind("excerpts", {"code": iris.scoped("fx", "code", "C9"), "study": "fx"}, fx_store)
