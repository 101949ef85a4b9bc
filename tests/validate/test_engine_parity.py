"""The fast SHACL engine (pyshacl-turbo) gives exactly the reference's (pySHACL's) results.

Every shape fixture of tests/ontology/cases, and the mapped fixture study intact and with one quote
broken, through `qualkg.ingest.validate.shacl_results` and `gate` with both engines (decision 0042).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse
from rdflib import Graph
from rdflib.namespace import PROV

from qualkg.ingest.mapping import StudyMapper, map_study
from qualkg.ingest.records import StudyRecords
from qualkg.ingest.validate import gate, shacl_results
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QK, QKDATA
from tests.fixture_study import fixture_records
from tests.ontology.test_ontology_shapes import CASES, INVALID, VALID, _apply


def _triples(g: Graph) -> list[Triple]:
    return [q.triple for q in parse(g.serialize(format="nt", encoding="utf-8"), format=RdfFormat.N_TRIPLES)]


FIXTURES = [pytest.param(CASES / "study.ttl", id="study.ttl")] + [
    pytest.param(c.path, id=c.id) for c in VALID + INVALID]


@pytest.mark.parametrize("case", FIXTURES)
def test_turbo_matches_pyshacl_on_shape_fixture(case: Path) -> None:
    g = Graph().parse(case, format="turtle") if case.name == "study.ttl" else _apply(case)
    triples = _triples(g)
    reference = shacl_results(triples, "pyshacl")
    assert shacl_results(triples, "turbo") == reference
    # Invalid fixtures must still fail under both: parity on an empty result would prove nothing.
    assert bool(reference) == (case.parent != CASES and CASES / "valid" not in case.parents)


def _quote_broken() -> list[Triple]:
    rec = fixture_records()
    rec.excerpts[1] = replace(rec.excerpts[1], text="The hierarchy came bacK.")
    return _mapped(rec)


def _intact() -> list[Triple]:
    """The mapped study plus the input record the pipeline adds (the shapes require an input digest)."""
    activity = StudyMapper(fixture_records(), IriScheme(str(QKDATA))).activity
    return [*_mapped(fixture_records()), Triple(activity, NamedNode(str(QK.inputDigest)), Literal("0" * 64)),
            Triple(activity, NamedNode(str(PROV.used)), Literal("fixture"))]


def _mapped(rec: StudyRecords) -> list[Triple]:
    return map_study(rec, IriScheme(str(QKDATA)))


@pytest.mark.parametrize(("make", "has_errors"), [
    pytest.param(_intact, False, id="fixture-study"),
    pytest.param(_quote_broken, True, id="fixture-study-quote-broken"),
])
def test_gate_verdicts_agree_on_mapped_study(make: Callable[[], list[Triple]], has_errors: bool) -> None:
    """The gate's problems (rule, location, message, severity) are the same with either engine; the
    broken quote (X2 of tests/fixture_study.py) is an error, the intact study has none (only
    recommendation warnings)."""
    triples = make()
    fast = gate(triples, file="fx", engine="turbo")
    assert fast == gate(triples, file="fx", engine="pyshacl")
    assert any(p.severity == "error" for p in fast) == has_errors
