"""The model files: they parse, declare the contract's terms, document them, and the shapes are sound.

Expected term lists are copied by hand from the term contract (the model's terms shared with the
mapping) and docs/vocabulary-sources.md, so a term dropped or renamed in the Turtle fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import OWL, RDF, RDFS, SKOS, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, SH
from rdflib.term import Node

from qualkg.ingest.offsets import CANDIDATES, RECONSTRUCTED, SEARCHED
from qualkg.ontology.load import model_graph, ontology_graph, shape_files, shapes_graph, vocabulary_graph
from qualkg.ontology.namespaces import FEATURE, MODE, PRINCIPLE, QK, ROLE

LOCAL_CLASSES = [
    "Study", "DataCollectionEvent", "Interview", "JointInterview", "FocusGroup", "Participant",
    "Transcript", "CodedExcerpt", "Code", "Subtheme", "Theme", "Codebook", "OrganisationalFeature",
    "DataCollectionMode", "OpenDialoguePrinciple", "Coder", "IngestActivity", "ParticipantAttribute", "Status",
    "Coding",
]
LOCAL_PROPERTIES = [
    "inStudy", "reportedIn", "isSynthetic", "pseudonym", "spokenBy", "hasParticipant", "collectionMode",
    "originatingStudy", "plainText", "sourceFile", "sourceTool", "offsetConvention", "originalStart",
    "originalEnd", "colour", "labelStatus", "verificationStatus", "hasAttribute", "attributeName",
    "attributeValue", "design", "analysisMethod", "setting", "sampleDescription", "country",
    "publishedTheme", "inputDigest", "hasCoding", "appliedCode", "authorsComplete", "interviewStructure",
    "hasSyntheticData",
]
PROPERTY_TYPES = {OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property}
DECLARATION_TYPES = PROPERTY_TYPES | {OWL.Class, RDFS.Class, OWL.NamedIndividual, SKOS.ConceptScheme, SKOS.Concept}
BUILT_IN = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
            "http://www.w3.org/2001/XMLSchema#", "http://www.w3.org/ns/shacl#", "http://www.w3.org/2002/07/owl#")


def _local_terms() -> list[URIRef]:
    g = ontology_graph()
    return sorted({s for s in g.subjects(RDF.type, None) if isinstance(s, URIRef) and str(s).startswith(str(QK))})


def test_ontology_header() -> None:
    g = ontology_graph()
    onto = URIRef("https://w3id.org/qualkg/ns")
    assert (onto, RDF.type, OWL.Ontology) in g
    assert g.value(onto, OWL.versionInfo) == Literal("0.1.0")
    assert g.value(onto, OWL.versionIRI) == URIRef("https://w3id.org/qualkg/ns/0.1.0")
    assert g.value(onto, DCTERMS.license) == URIRef("https://opensource.org/licenses/MIT")
    for p in (DCTERMS.title, DCTERMS.description, DCTERMS.creator):
        assert g.value(onto, p) is not None, p


def test_shapes_are_split_by_concern() -> None:
    assert shape_files() == ["core.ttl", "excerpts.ttl", "pseudonymisation.ttl", "ranges.ttl",
                             "recommended.ttl", "vocabularies.ttl"]


@pytest.mark.parametrize("name", LOCAL_CLASSES)
def test_contract_class_is_declared(name: str) -> None:
    assert (QK[name], RDF.type, OWL.Class) in ontology_graph()


@pytest.mark.parametrize("name", LOCAL_PROPERTIES)
def test_contract_property_is_declared(name: str) -> None:
    assert set(ontology_graph().objects(QK[name], RDF.type)) & PROPERTY_TYPES


@pytest.mark.parametrize(("sub", "sup"), [
    (QK.Participant, URIRef("http://xmlns.com/foaf/0.1/Person")),
    (QK.JointInterview, QK.Interview),
    (QK.CodedExcerpt, URIRef("http://www.w3.org/ns/oa#Annotation")),
    (QK.Code, SKOS.Concept),
    (URIRef("http://www.w3.org/ns/org#OrganizationalUnit"), URIRef("http://www.w3.org/ns/org#Organization")),
    (URIRef("http://www.w3.org/ns/org#Role"), SKOS.Concept),
])
def test_subclass_axiom_for_sh_class(sub: URIRef, sup: URIRef) -> None:
    """The axioms pySHACL's ont_graph needs so sh:class accepts subclass instances."""
    assert (sub, RDFS.subClassOf, sup) in ontology_graph()


@pytest.mark.parametrize("term", _local_terms(), ids=lambda t: t.removeprefix(str(QK)))
def test_local_term_has_label_and_definition(term: URIRef) -> None:
    g = ontology_graph()
    assert g.value(term, RDFS.label) is not None
    assert g.value(term, SKOS.definition) is not None


def _path_terms(shapes: Graph, path: Node) -> set[Node]:
    if isinstance(path, URIRef):
        return {path}
    if (path, RDF.first, None) in shapes:
        return {t for item in Collection(shapes, path) for t in _path_terms(shapes, item)}
    return {t for _, o in shapes.predicate_objects(path) for t in _path_terms(shapes, o)}


def _terms_used_by_shapes() -> list[URIRef]:
    """Classes and properties the shapes name (SPARQL texts aside), minus RDF/RDFS/XSD/SHACL/OWL built-ins."""
    shapes = shapes_graph()
    used: set[Node] = set()
    for path in shapes.objects(None, SH.path):
        used |= _path_terms(shapes, path)
    for p in (SH["class"], SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.equals,
              SH.lessThan, SH.hasValue):
        used |= set(shapes.objects(None, p))
    for lst in shapes.objects(None, SH["in"]):
        used |= set(Collection(shapes, lst))
    return sorted(t for t in used if isinstance(t, URIRef) and not str(t).startswith(BUILT_IN))


@pytest.mark.parametrize("term", _terms_used_by_shapes(), ids=str)
def test_every_term_the_shapes_use_is_declared(term: URIRef) -> None:
    assert set(model_graph().objects(term, RDF.type)) & DECLARATION_TYPES, f"{term} is not declared"


def test_shapes_pass_shacl_meta_validation() -> None:
    """pySHACL validates the shapes graph against SHACL-SHACL first (meta_shacl) and fails if it does not conform."""
    conforms, _, text = validate(Graph(), shacl_graph=shapes_graph(), meta_shacl=True)
    assert conforms, text


def test_shapes_never_target_skos_concept() -> None:
    """Roles and motivations are skos:Concepts too; shapes target project classes instead."""
    assert (None, SH.targetClass, SKOS.Concept) not in shapes_graph()


def test_every_named_property_shape_explains_itself() -> None:
    shapes = shapes_graph()
    silent = [s for s in shapes.subjects(RDF.type, SH.PropertyShape) if shapes.value(s, SH.message) is None]
    assert silent == []


def _concepts(scheme: URIRef) -> set[URIRef]:
    return set(vocabulary_graph().subjects(SKOS.inScheme, scheme))


@pytest.mark.parametrize(("scheme", "expected"), [
    (ROLE.scheme, {ROLE[n] for n in ["peer-worker", "peer-practitioner", "peer-support-worker",
                                     "certified-peer-support-specialist", "non-peer-practitioner", "psychiatrist",
                                     "mental-health-nurse", "psychologist", "social-worker", "occupational-therapist",
                                     "family-therapist", "support-worker", "other-clinician", "service-user", "carer",
                                     "position", "team-manager"]}),
    (MODE.scheme, {MODE[n] for n in ["interview", "individual-interview", "joint-interview", "focus-group",
                                     "observation", "participant-observation", "nonparticipant-observation",
                                     "documents", "semi-structured-interview"]}),
    (PRINCIPLE.scheme, {PRINCIPLE[n] for n in ["immediate-help", "social-network-perspective",
                                               "flexibility-and-mobility", "responsibility",
                                               "psychological-continuity", "tolerance-of-uncertainty",
                                               "dialogism"]}),
])
def test_scheme_has_exactly_the_contract_concepts(scheme: URIRef, expected: set[URIRef]) -> None:
    assert _concepts(scheme) == expected


def test_feature_scheme_has_the_contract_features() -> None:
    assert {FEATURE[n] for n in ["flattened-hierarchy", "peer-supervision", "open-dialogue-training",
                                 "dual-caseload"]} <= _concepts(FEATURE.scheme)


@pytest.mark.parametrize(("scheme", "concept_class"), [
    (ROLE.scheme, URIRef("http://www.w3.org/ns/org#Role")),
    (FEATURE.scheme, QK.OrganisationalFeature),
    (MODE.scheme, QK.DataCollectionMode),
    (PRINCIPLE.scheme, QK.OpenDialoguePrinciple),
])
def test_concepts_are_typed_labelled_and_copied_by_pyshacl(scheme: URIRef, concept_class: URIRef) -> None:
    """Each concept has its class, one English prefLabel, and owl:NamedIndividual (so ont_graph copies it)."""
    g = vocabulary_graph()
    for concept in _concepts(scheme):
        assert {concept_class, SKOS.Concept, OWL.NamedIndividual} <= set(g.objects(concept, RDF.type)), concept
        labels = [lbl for lbl in g.objects(concept, SKOS.prefLabel) if lbl.language == "en"]
        assert len(labels) == 1, concept


def test_vocabularies_only_link_upwards() -> None:
    """pySHACL deep-copies owl:NamedIndividuals along their links (10 levels); downward links
    (skos:narrower, skos:hasTopConcept) fan out and made one validation run for over ten minutes."""
    g = vocabulary_graph()
    assert (None, SKOS.narrower, None) not in g
    assert (None, SKOS.hasTopConcept, None) not in g


def test_open_dialogue_principles_in_published_order() -> None:
    """Notations follow the order of the list in Anestis et al. 2025 (open-dialogue.md §2)."""
    g = vocabulary_graph()
    by_notation = {str(g.value(c, SKOS.notation)): str(g.value(c, SKOS.prefLabel)) for c in _concepts(PRINCIPLE.scheme)}
    assert [by_notation[str(n)] for n in range(1, 8)] == [
        "immediate help", "social network perspective", "flexibility and mobility", "responsibility",
        "psychological continuity", "tolerance of uncertainty", "dialogism"]


def test_unverified_features_are_flagged() -> None:
    """Features from secondary summaries of related literature carry qk:Unverified; the seed-study ones do not."""
    g = vocabulary_graph()
    assert (FEATURE["peer-supervision"], QK.verificationStatus, QK.Unverified) in g
    assert (FEATURE["flattened-hierarchy"], QK.verificationStatus, None) not in g


def _context_terms() -> list[str]:
    context = json.loads((Path(__file__).parents[2] / "ontology" / "context.jsonld").read_text(encoding="utf-8"))
    return sorted({(v if isinstance(v, str) else v["@id"]) for k, v in context["@context"].items()
                   if not k.startswith("@") and isinstance(v, (str, dict))})


@pytest.mark.parametrize("curie", [t for t in _context_terms() if t.startswith("qk:")])
def test_json_ld_context_names_declared_terms(curie: str) -> None:
    """Every qk: term the JSON-LD context maps is declared in the ontology (no typo'd keys)."""
    assert set(ontology_graph().objects(QK[curie.removeprefix("qk:")], RDF.type)) & PROPERTY_TYPES


def test_the_offset_convention_pattern_takes_every_spelling_ingest_writes() -> None:
    """The shape's sh:pattern and ingest/offsets.py spell conventions one way: all 12 unit/line-ends/end
    candidates (3 units x 2 line ends x 2 ends) and the two found-by-qualkg values, nothing older."""
    shape = URIRef("https://w3id.org/qualkg/shapes#CodedExcerpt_qk_offsetConvention_range")
    pattern = re.compile(str(shapes_graph().value(shape, SH.pattern)))
    spellings = [str(c) for c in CANDIDATES] + [SEARCHED, RECONSTRUCTED]
    assert len(spellings) == 14 and all(pattern.search(s) for s in spellings)
    assert not any(pattern.search(s) for s in ("utf16/exclusive/crlf=2", "codepoints/exclusive/lf", "utf16/crlf/x"))
