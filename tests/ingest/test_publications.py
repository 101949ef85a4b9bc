"""study.yaml `publication:` → the publication node: author order, partial lists, structured fields.

Each package is a study.yaml written here; the expected triples and citations are written out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, XSD

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.mapping import map_study
from qualkg.ingest.package import read_package
from qualkg.ingest.validate import shacl_results, to_rdflib
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import BIBO, FABIO, QK, QKDATA

PRISM = Namespace("http://prismstandard.org/namespaces/basic/2.0/")
IRIS = IriScheme(str(QKDATA))
DOI = URIRef("https://doi.org/10.0000/pub.1")
# Five authors in printed order, deliberately not alphabetical after the third (as in #18's example).
FULL = """id: pub-study
title: Publication study
publication:
  doi: "10.0000/pub.1"
  title: A paper about teams
  year: 2025
  authors: ["Anestis E", "Carr B", "Hendy C", "Melia D", "Clarke E", "Pilling F"]
  journal: BJPsych Open
  volume: 11
  issue: "5"
  pages: e216
  licence: https://creativecommons.org/licenses/by/4.0/
"""
PARTIAL = """id: pub-study
title: Publication study
publication:
  title: A review of reviews
  authors: ["Cooper R", "Saunders K"]
  authors_complete: false
  venue: Report of a working group
"""
BARE = """id: pub-study
title: Publication study
publication:
  title: Only a title
  authors: ["Solo A"]
  volume: ""
"""


def _graph(tmp_path: Path, study_yaml: str) -> tuple[Graph, URIRef]:
    (tmp_path / "study.yaml").write_text(study_yaml, encoding="utf-8")
    [records] = read_package(tmp_path)
    triples = map_study(records, IRIS)
    g = to_rdflib(triples)
    pub = g.value(URIRef(IRIS.study("pub-study")), QK.reportedIn)
    assert [r for r in shacl_results(triples) if r.focus == str(pub) and r.severity == "Violation"] == []
    return g, pub


def test_authors_keep_their_printed_order(tmp_path: Path) -> None:
    g, pub = _graph(tmp_path, FULL)
    assert pub == DOI
    names = [str(n) for n in Collection(g, g.value(pub, BIBO.authorList))]
    assert names == ["Anestis E", "Carr B", "Hendy C", "Melia D", "Clarke E", "Pilling F"]
    assert len(set(g.objects(pub, DCTERMS.creator))) == 6
    assert (pub, QK.authorsComplete, None) not in g  # complete: the default writes nothing


def test_structured_fields_and_citation(tmp_path: Path) -> None:
    g, pub = _graph(tmp_path, FULL)
    assert g.value(pub, PRISM.publicationName) == Literal("BJPsych Open")
    assert g.value(pub, PRISM.volume) == Literal("11")  # a YAML number is kept as the printed string
    assert g.value(pub, PRISM.issueIdentifier) == Literal("5")
    assert g.value(pub, PRISM.pageRange) == Literal("e216")
    assert g.value(pub, FABIO.hasPublicationYear) == Literal("2025", datatype=XSD.gYear)
    assert (pub, DCTERMS.isPartOf, None) not in g
    assert str(g.value(pub, DCTERMS.bibliographicCitation)) == (
        "Anestis E, Carr B, Hendy C, et al. (2025). A paper about teams. BJPsych Open 11(5):e216. "
        "doi:10.0000/pub.1")


def test_a_partial_list_is_flagged_and_cited_with_et_al(tmp_path: Path) -> None:
    g, pub = _graph(tmp_path, PARTIAL)
    assert g.value(pub, QK.authorsComplete) == Literal(False)
    assert [str(n) for n in Collection(g, g.value(pub, BIBO.authorList))] == ["Cooper R", "Saunders K"]
    assert g.value(pub, DCTERMS.isPartOf) == Literal("Report of a working group")
    assert str(g.value(pub, DCTERMS.bibliographicCitation)) == (
        "Cooper R, Saunders K, et al. A review of reviews. Report of a working group.")


def test_absent_fields_write_no_triple(tmp_path: Path) -> None:
    g, pub = _graph(tmp_path, BARE)
    for prop in (BIBO.doi, FABIO.hasPublicationYear, PRISM.publicationName, PRISM.volume, PRISM.issueIdentifier,
                 PRISM.pageRange, DCTERMS.isPartOf, DCTERMS.license, QK.authorsComplete):
        assert (pub, prop, None) not in g, prop
    citation = str(g.value(pub, DCTERMS.bibliographicCitation))
    assert citation == "Solo A. Only a title."
    text = g.serialize(format="nt")
    assert "None" not in text and "nan" not in text.replace("Solo", "")


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("authors_complete", "perhaps", "bool_parsing"),
    ("authors", '["Doe J", ""]', "string_too_short"),
    ("journel", "Typo J", "unknown-field"),
])
def test_a_bad_publication_field_is_located(tmp_path: Path, field: str, value: str, rule: str) -> None:
    (tmp_path / "study.yaml").write_text(f"id: s\ntitle: S\npublication:\n  title: T\n  {field}: {value}\n",
                                         encoding="utf-8")
    with pytest.raises(ReaderError) as e:
        read_package(tmp_path)
    [problem] = e.value.problems
    assert (problem.where.file, problem.rule) == ("study.yaml", rule)
    assert problem.where.element is not None and problem.where.element.startswith("publication")
