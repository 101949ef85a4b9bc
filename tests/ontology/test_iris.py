"""The IRI scheme (qualkg.ontology.iris): every pattern written out by hand, base B."""

from __future__ import annotations

import pytest

from qualkg.ontology.iris import MODEL_GRAPH, IriScheme, digest, doi_iri, part, reserved_study_id, slug, source_iri
from qualkg.ontology.namespaces import ONTOLOGY_GRAPH

B = "https://example.org/id/"
IRIS = IriScheme(B)


def test_study_patterns() -> None:
    assert IRIS.study("s1") == f"{B}study/s1"
    assert IRIS.study_namespace("s1") == f"{B}study/s1/"
    assert IRIS.graph("s1") == f"{B}graph/s1"
    assert IRIS.log_graph("s1") == f"{B}graph/s1/log"
    assert IRIS.scoped("s1", "code", "C1") == f"{B}study/s1/code/c1-{digest('C1', length=8)}"
    assert IRIS.scoped("s1", "transcript", "t1", synthetic=True) == f"{B}study/s1/synthetic/transcript/t1"
    assert IRIS.organisation("{6F9619FF-8B86-D011-B42D-00C04FC964FF}") == f"{B}org/6f9619ff-8b86-d011-b42d-00c04fc964ff"
    assert IRIS.excerpt("s1", "T", 3, 9, synthetic=False) == f"{B}study/s1/excerpt/{digest('T', 3, 9)}"
    assert IRIS.attribute(f"{B}study/s1/participant/p1", "site") == (
        f"{B}study/s1/participant/p1/attribute/{digest('site', length=12)}")
    assert part("x", "target") == "x/target"


def test_publications() -> None:
    assert IRIS.publication("s1", "10.1/x", "T") == "https://doi.org/10.1/x" == doi_iri("10.1/x")
    assert IRIS.publication("s1", None, "t") == f"{B}study/s1/publication/t"
    assert source_iri(" doi:10.5/y ") == "https://doi.org/10.5/y"
    assert source_iri("https://example.org/a") == "https://example.org/a"


def test_published_concepts_keep_their_slug_as_is() -> None:
    """A 61-character label is cut to 60 characters, ending in '-': the IRI keeps that slug unchanged."""
    label = "flexible working arrangements for peer workers can have the x"
    assert slug(label).endswith("-")
    assert IRIS.published("s1", "published-finding", label) == f"{B}study/s1/published-finding/{slug(label)}"
    assert IRIS.study_scoped(f"{B}study/s1/published-theme/money") == ("s1", "published-theme", "money")
    assert IRIS.study_scoped(f"{B}review/f") is None


def test_synthesis_patterns() -> None:
    assert IRIS.synthesis_graph() == f"{B}graph/synthesis"
    assert IRIS.frame("peer-support") == f"{B}review/peer-support"
    assert IRIS.finding("peer-support", "low-pay") == f"{B}review/peer-support/finding/low-pay"
    assert IRIS.review_namespace() == f"{B}review/" and IRIS.agent_namespace() == f"{B}agent/"
    assert IRIS.mapping_record("set", "s", "p", "o", None) == (
        f"{B}synthesis/mapping/{digest('set', 's', 'p', 'o', None)}")


def test_base_must_end_with_a_separator() -> None:
    with pytest.raises(ValueError, match="must end with"):
        IriScheme("https://example.org/id")


def test_codings_are_parts_of_their_excerpt() -> None:
    x = IRIS.excerpt("s1", "T", 3, 9, synthetic=False)
    assert IRIS.coding(x, "R1") == f"{x}/coding/{digest('coder', 'R1', length=12)}"
    assert IRIS.coding(x, None) == f"{x}/coding/unknown-coder"


def test_internal_graphs_and_the_study_ids_that_would_name_them() -> None:
    """The synthesis and model graphs and the reserved names under {base}graph/ are no study's (decision 0036)."""
    assert IRIS.internal_graphs() == {f"{B}graph/synthesis", MODEL_GRAPH, f"{B}graph/model", f"{B}graph/log"}
    assert MODEL_GRAPH == ONTOLOGY_GRAPH
    for study in ("synthesis", "model", "log"):
        assert reserved_study_id(study) is not None and IRIS.reserved_study(study) is not None
    for study in ("Synthesis", "synthesis-2025", "logs", "s1"):  # other ids, other graph IRIs
        assert reserved_study_id(study) is None and IRIS.reserved_study(study) is None
        assert IRIS.graph(study) not in IRIS.internal_graphs()


def test_a_base_under_which_a_study_graph_would_be_the_model_graph() -> None:
    """With base https://w3id.org/qualkg/ the study "model" would have the model graph's IRI itself."""
    iris = IriScheme("https://w3id.org/qualkg/")
    assert iris.graph("model") == MODEL_GRAPH and iris.reserved_study("model") is not None
