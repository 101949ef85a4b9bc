"""Namespaces of the qualkg model and the standard vocabularies it reuses.

The local namespace `qk:` holds only terms no standard vocabulary has (see ontology/qualkg.ttl).
Controlled vocabularies (roles, organisational features, collection modes, Open Dialogue
principles) each have their own namespace so their concept IRIs read well.
"""

from rdflib import Namespace
from rdflib.namespace import DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SH, SKOS, TIME, XSD

from qualkg.ontology.iris import MODEL_GRAPH

QK = Namespace("https://w3id.org/qualkg/ns#")
QKDATA = Namespace("https://w3id.org/qualkg/id/")  # default base of instance IRIs (settings may change it)
ROLE = Namespace("https://w3id.org/qualkg/vocab/role/")
FEATURE = Namespace("https://w3id.org/qualkg/vocab/feature/")
MODE = Namespace("https://w3id.org/qualkg/vocab/mode/")
STRUCTURE = Namespace("https://w3id.org/qualkg/vocab/structure/")
PRINCIPLE = Namespace("https://w3id.org/qualkg/vocab/od-principle/")

OA = Namespace("http://www.w3.org/ns/oa#")
FABIO = Namespace("http://purl.org/spar/fabio/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
PRISM = Namespace("http://prismstandard.org/namespaces/basic/2.0/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")
SCHEMA = Namespace("http://schema.org/")

# The named graph holding the model (ontology + vocabularies); every other graph's IRI comes from IriScheme.
ONTOLOGY_GRAPH = MODEL_GRAPH

PREFIXES: dict[str, str] = {
    "qk": str(QK),
    "role": str(ROLE),
    "feature": str(FEATURE),
    "mode": str(MODE),
    "structure": str(STRUCTURE),
    "odp": str(PRINCIPLE),
    "oa": str(OA),
    "org": str(ORG),
    "skos": str(SKOS),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "foaf": str(FOAF),
    "time": str(TIME),
    "fabio": str(FABIO),
    "bibo": str(BIBO),
    "prism": str(PRISM),
    "dcat": str(DCAT),
    "semapv": str(SEMAPV),
    "schema": str(SCHEMA),
    "sh": str(SH),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}
