"""The controlled vocabularies' structure, checked against what ontology/vocab/*.ttl should say.

Expected concept lists, links and sources are written out by hand from decisions 0110 and 0111 and
docs/vocabulary-sources.md, never computed from the vocabulary under test.
"""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, SKOS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS

from qualkg.ontology.load import vocabulary_graph
from qualkg.ontology.namespaces import FEATURE, MODE, QK, ROLE

STRUCTURE = Namespace("https://w3id.org/qualkg/vocab/structure/")
PEER_ROLES = ["peer-practitioner", "peer-support-worker", "certified-peer-support-specialist"]
PROFESSIONS = ["psychiatrist", "mental-health-nurse", "psychologist", "social-worker", "occupational-therapist",
               "family-therapist", "support-worker", "other-clinician"]
GROUPINGS = ["interview", "individual-interview", "joint-interview", "focus-group", "observation",
             "participant-observation", "nonparticipant-observation", "documents", "semi-structured-interview"]
STRUCTURES = ["structured", "semi-structured", "unstructured"]
# The schemes whose every concept carries a definition (the OD principles have none by design: no
# definition has been verified against a primary source, od-principles.ttl says).
DEFINED_SCHEMES = [ROLE.scheme, FEATURE.scheme, MODE.scheme, STRUCTURE.scheme]
# Every source the vocabularies cite (docs/vocabulary-sources.md), so that a new one is added on purpose.
SOURCES = {
    "https://doi.org/10.1192/bjo.2025.10833", "https://doi.org/10.3389/fpsyg.2023.1176839",
    "https://doi.org/10.3389/fpsyg.2024.1432327", "https://doi.org/10.1186/1472-6963-13-188",
    "https://doi.org/10.1007/s10597-020-00741-1", "https://doi.org/10.1111/inm.13415",
    "https://doi.org/10.1038/bdj.2008.192", "https://doi.org/10.1177/1049732313501889",
    "https://doi.org/10.1186/s12888-024-05664-9", "https://doi.org/10.1186/s12916-024-03260-y",
    "https://doi.org/10.1007/s00127-019-01739-1", "https://doi.org/10.1037/h0094744",
    "https://doi.org/10.1007/s10488-021-01186-8",
    "https://dbhdd.georgia.gov/recovery-transformation/cps",
    "https://digital.nhs.uk/data-and-information/areas-of-interest/workforce/"
    "national-workforce-data-set-nwd-guidance-documents/workforce-definition",
    "https://www.lexisnexis.co.uk/legal/commentary/halsburys-laws-of-england/mental-health-capacity/"
    "mental-health-nurses",
    "http://www.hpc-uk.org/aboutregistration/professions/index.asp?id=14",
    "https://www.nottinghamshirehealthcare.nhs.uk/latest-news/occupational-therapy-week-28-november-2020-3732",
    "https://www.aft.org.uk/page/whatisfamilytherapy", "https://aft-registry.org.uk/",
    "https://v3.datadictionary.nhs.uk/data_dictionary/nhs_business_definitions/c/carer_de.asp?shownav=0",
    "https://www.w3.org/TR/vocab-org/",
    "http://sonet.nottingham.ac.uk/rlos/ucel/p_np_observation/index.html",
}


@pytest.fixture(scope="module")
def g() -> Graph:
    return vocabulary_graph()


def _in(g: Graph, scheme: URIRef) -> set[URIRef]:
    return {c for c in g.subjects(SKOS.inScheme, scheme) if isinstance(c, URIRef)}


def _labels(g: Graph, concept: URIRef) -> set[str]:
    return {str(v).casefold() for p in (SKOS.prefLabel, SKOS.altLabel) for v in g.objects(concept, p)}


def test_the_three_peer_roles_share_one_broader_concept(g: Graph) -> None:
    for name in PEER_ROLES:
        assert set(g.objects(ROLE[name], SKOS.broader)) == {ROLE["peer-worker"]}, name
    assert (ROLE["peer-worker"], SKOS.topConceptOf, ROLE.scheme) in g


def test_the_three_peer_roles_are_distinct(g: Graph) -> None:
    """Distinct IRIs, and no label (preferred or alternative) shared between two of them or with peer worker."""
    names = [*PEER_ROLES, "peer-worker"]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert _labels(g, ROLE[a]).isdisjoint(_labels(g, ROLE[b])), (a, b)
    assert (ROLE["peer-practitioner"], SKOS.altLabel, Literal("peer support worker", lang="en")) not in g


def test_peer_practitioner_is_defined_from_hendy_2023(g: Graph) -> None:
    definition = str(g.value(ROLE["peer-practitioner"], SKOS.definition))
    assert "Open Dialogue practitioner" in definition and "equal" in definition
    hendy = URIRef("https://doi.org/10.3389/fpsyg.2023.1176839")
    assert hendy in set(g.objects(ROLE["peer-practitioner"], DCTERMS.source))


def test_professions_sit_under_non_peer_practitioner(g: Graph) -> None:
    for name in PROFESSIONS:
        assert set(g.objects(ROLE[name], SKOS.broader)) == {ROLE["non-peer-practitioner"]}, name


def test_team_manager_is_a_position_not_a_profession(g: Graph) -> None:
    """Only upward links are stated, so the broader chain of team manager is position, then nothing."""
    assert set(g.objects(ROLE["team-manager"], SKOS.broader)) == {ROLE.position}
    assert set(g.objects(ROLE.position, SKOS.broader)) == set()
    assert (ROLE.position, SKOS.topConceptOf, ROLE.scheme) in g


def test_service_users_and_carers_are_roles_of_their_own(g: Graph) -> None:
    for name in ["service-user", "carer"]:
        assert (ROLE[name], SKOS.topConceptOf, ROLE.scheme) in g
    assert "person with lived experience" in _labels(g, ROLE["service-user"])
    assert {"carer", "family member"} <= _labels(g, ROLE.carer)


def test_role_scheme_has_exactly_these_concepts(g: Graph) -> None:
    tops = ["peer-worker", "non-peer-practitioner", "service-user", "carer", "position"]
    assert _in(g, ROLE.scheme) == {ROLE[n] for n in [*tops, *PEER_ROLES, *PROFESSIONS, "team-manager"]}


def test_structure_and_grouping_are_different_schemes(g: Graph) -> None:
    groupings, structures = _in(g, MODE.scheme), _in(g, STRUCTURE.scheme)
    assert groupings == {MODE[n] for n in GROUPINGS}
    assert structures == {STRUCTURE[n] for n in STRUCTURES}
    assert (STRUCTURE.scheme, RDF.type, SKOS.ConceptScheme) in g
    assert STRUCTURE.scheme != MODE.scheme


def test_groupings_nest_under_interview_and_observation(g: Graph) -> None:
    expected = {"individual-interview": MODE.interview, "joint-interview": MODE.interview,
                "participant-observation": MODE.observation, "nonparticipant-observation": MODE.observation}
    for name, broader in expected.items():
        assert set(g.objects(MODE[name], SKOS.broader)) == {broader}, name
    for name in ["interview", "focus-group", "observation", "documents"]:
        assert (MODE[name], SKOS.topConceptOf, MODE.scheme) in g, name


def test_joint_interview_means_two_participants(g: Graph) -> None:
    assert "two participants" in str(g.value(MODE["joint-interview"], SKOS.definition))


def test_the_combined_semi_structured_interview_is_deprecated_and_replaced(g: Graph) -> None:
    old = MODE["semi-structured-interview"]
    assert (old, OWL.deprecated, Literal(True)) in g
    assert set(g.objects(old, DCTERMS.isReplacedBy)) == {MODE["individual-interview"], STRUCTURE["semi-structured"]}
    assert set(g.subjects(OWL.deprecated, Literal(True))) == {old}


@pytest.mark.parametrize("scheme", DEFINED_SCHEMES, ids=str)
def test_every_concept_has_a_definition_and_a_source(g: Graph, scheme: URIRef) -> None:
    concepts = _in(g, scheme)
    assert concepts
    for concept in concepts:
        definitions = [d for d in g.objects(concept, SKOS.definition) if isinstance(d, Literal) and d.language == "en"]
        assert len(definitions) == 1 and str(definitions[0]).strip(), concept
        assert set(g.objects(concept, DCTERMS.source)), concept


def test_every_source_is_one_the_sources_page_lists(g: Graph) -> None:
    assert {str(s) for s in g.objects(None, DCTERMS.source)} == SOURCES


def test_flattened_hierarchy_is_defined_as_the_seed_describes_network_meetings(g: Graph) -> None:
    """Anestis et al. 2025, Introduction: network meetings (the person's social network and two
    practitioners) have a flattened hierarchy "wherein all contribute equally"."""
    definition = str(g.value(FEATURE["flattened-hierarchy"], SKOS.definition))
    assert "network meetings" in definition and "contribute equally" in definition
    assert "person with lived experience" in definition and "social network" in definition
    assert "unverified" in str(g.value(FEATURE["flattened-hierarchy"], SKOS.scopeNote))


def test_peer_led_supervision_label_and_definition_agree(g: Graph) -> None:
    """Peer-led means led by a supervisor with lived experience; the non-peer alternative is excluded."""
    concept = FEATURE["peer-supervision"]
    assert str(g.value(concept, SKOS.prefLabel)) == "peer-led supervision"
    definition = str(g.value(concept, SKOS.definition))
    assert "lived experience" in definition and "sound understanding" not in definition
    assert "not peer-led" in str(g.value(concept, SKOS.scopeNote))
    assert (concept, QK.verificationStatus, QK.Unverified) in g
