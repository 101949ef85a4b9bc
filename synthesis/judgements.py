"""Judgements reviewers record: mapping reviews and CERQual, JBI and ConQual assessments (decision 0101).

Each is a node under `judgement_namespace` in the synthesis graph, with PROV: prov:wasAttributedTo the
person, prov:generatedAtTime, and prov:wasRevisionOf the judgement of the same finding and method it
replaces (never deleted). Values enter the graph as typed literals in triples, never as query text.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pyoxigraph import Literal as Lit
from pyoxigraph import NamedNode, RdfFormat, Triple, parse
from rdflib.namespace import PROV, RDF, RDFS, XSD

from qualkg.ontology.iris import IriScheme, slug
from qualkg.ontology.namespaces import QK
from qualkg.store.base import ExportFormat, GraphStore
from qualkg.synthesis.errors import SynthesisError, problem
from qualkg.synthesis.loader import judgement_namespace, rebuild_from_store, synthesis_graph
from qualkg.synthesis.mappings import Mapping, read_mapping_set, record_iri
from qualkg.synthesis.questions import synthesis_catalog

CONFIDENCE_LEVELS = ("high", "moderate", "low", "very low")
CREDIBILITY_LEVELS = ("unequivocal", "credible", "unsupported")
# The JBI critical-appraisal questions ConQual's dependability uses (Munn et al. 2014): 2, 3, 4, 6 and 7.
DEPENDABILITY_QUESTIONS = ("q2", "q3", "q4", "q6", "q7")
WRITE_LOCK = threading.Lock()  # one read-modify-write of the synthesis graph at a time


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = Annotated[str, Field(min_length=1, max_length=4000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Component(_Strict):
    concern: Annotated[int, Field(ge=0, le=3, description="0 no or very minor, 1 minor, 2 moderate, 3 serious")]
    explanation: Text


class Overall(_Strict):
    confidence: Literal["high", "moderate", "low", "very low"]
    explanation: Text


class CerqualComponents(_Strict):
    methodological_limitations: Component
    coherence: Component
    adequacy: Component
    relevance: Component


class Cerqual(_Strict):
    """A GRADE-CERQual assessment of one review finding (iSoQ's concern codes)."""

    method: Literal["cerqual"]
    assessor: Name
    assessor_id: str | None = None  # an IRI (e.g. an ORCID); minted from the name when absent
    components: CerqualComponents
    overall: Overall


class Illustration(_Strict):
    study_finding: Annotated[str, Field(min_length=1, description="The study finding's IRI (the JBI worksheet's "
                                                                  "study_finding_iri column).")]
    credibility: Literal["unequivocal", "credible", "unsupported"]
    explanation: str = ""


class Jbi(_Strict):
    """JBI credibility of the study findings (with their illustrations) in one category."""

    method: Literal["jbi"]
    assessor: Name
    assessor_id: str | None = None
    illustrations: Annotated[list[Illustration], Field(min_length=1)]


class Dependability(_Strict):
    answers: dict[Literal["q2", "q3", "q4", "q6", "q7"], bool]  # yes/no to the five appraisal questions
    explanation: str = ""

    @model_validator(mode="after")
    def _all_five(self) -> Dependability:
        missing = [q for q in DEPENDABILITY_QUESTIONS if q not in self.answers]
        if missing:
            raise ValueError(f"answer all five dependability questions; missing {', '.join(missing)}")
        return self


class Credibility(_Strict):
    # ConQual: all unequivocal; a mix of unequivocal and credible; a mix of credible and unsupported; unsupported
    level: Literal["unequivocal", "unequivocal-credible", "credible-unsupported", "unsupported"]
    explanation: str = ""


class Conqual(_Strict):
    """A ConQual summary of one synthesised finding: dependability, credibility, the resulting confidence."""

    method: Literal["conqual"]
    assessor: Name
    assessor_id: str | None = None
    dependability: Dependability
    credibility: Credibility
    overall: Overall


Assessment = Annotated[Cerqual | Jbi | Conqual, Field(discriminator="method")]


class AssessmentBody(BaseModel):
    """The request body of POST /synthesis/findings/{id}/assessment."""

    model_config = ConfigDict(extra="forbid")
    assessment: Assessment


class MappingReview(_Strict):
    """A second person's review of one mapping record: afterwards the record is Reviewed."""

    mapping_set_id: Annotated[str, Field(min_length=1)]
    subject_id: Annotated[str, Field(min_length=1)]
    predicate_id: Annotated[str, Field(min_length=1)]
    object_id: Annotated[str, Field(min_length=1)]
    predicate_modifier: Literal["Not"] | None = None
    reviewer: Name
    reviewer_id: str | None = None


def _n(iri: object) -> NamedNode:
    return NamedNode(str(iri))


def _agent(iris: IriScheme, name: str, given: str | None) -> NamedNode:
    return _n(given) if given else _n(f"{iris.agent_namespace()}{slug(name)}")


def _now() -> Lit:
    return Lit(datetime.now(UTC).isoformat(timespec="seconds"), datatype=_n(XSD.dateTime))


def _graph_triples(store: GraphStore, graph: str) -> list[Triple]:
    if graph not in store.graphs():
        return []
    return [Triple(q.subject, q.predicate, q.object)
            for q in parse(store.export(graph, ExportFormat.ntriples), format=RdfFormat.N_TRIPLES)]


def _check_iri(value: str | None, fld: str) -> None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise SynthesisError([problem("request body", "iri", "must be an absolute http(s) IRI", field=fld,
                                      value=value)])


def _current(store: GraphStore, iris: IriScheme, finding: str, method: str) -> str | None:
    df = synthesis_catalog(iris).run(store, "current-assessments", {"finding": finding})
    rows = df[df["method"] == method]
    return str(rows["judgement"].iloc[0]) if not rows.empty else None


def finding_iri(store: GraphStore, iris: IriScheme, notation: str) -> str | None:
    """The review finding with this notation, or None."""
    df = synthesis_catalog(iris).run(store, "finding-iri", {"finding": notation})
    return str(df["iri"].iloc[0]) if not df.empty else None


def record_assessment(store: GraphStore, iris: IriScheme, notation: str, body: Cerqual | Jbi | Conqual) -> str:
    """Write one assessment of the finding with this notation; its IRI. Raises KeyError for an unknown finding."""
    _check_iri(body.assessor_id, "assessment.assessor_id")
    with WRITE_LOCK:
        f = finding_iri(store, iris, notation)
        if f is None:
            raise KeyError(notation)
        if isinstance(body, Jbi):
            _check_study_findings(store, iris, notation, body)
        j = _n(f"{judgement_namespace(iris)}{uuid.uuid4()}")
        kind = {"cerqual": QK.CERQualAssessment, "jbi": QK.JBICredibilityAssessment,
                "conqual": QK.ConQualAssessment}[body.method]
        out = [Triple(j, _n(RDF.type), _n(QK.Assessment)), Triple(j, _n(RDF.type), _n(kind)),
               Triple(j, _n(QK.assessmentOf), _n(f)), Triple(j, _n(QK.method), Lit(body.method)),
               Triple(j, _n(PROV.wasAttributedTo), _agent(iris, body.assessor, body.assessor_id)),
               Triple(j, _n(QK.assessorLabel), Lit(body.assessor)), Triple(j, _n(PROV.generatedAtTime), _now())]
        if (previous := _current(store, iris, notation, body.method)) is not None:
            out.append(Triple(j, _n(PROV.wasRevisionOf), _n(previous)))
        for key, values in _parts(body):
            part = _n(f"{j.value}/{slug(key)}")
            out += [Triple(j, _n(QK.part), part), Triple(part, _n(QK.partKey), Lit(key))]
            out += [Triple(part, _n(p), o) for p, o in values]
        graph = synthesis_graph(iris)
        store.replace_graph(graph, [*_graph_triples(store, graph), *out])
    return j.value


def _int(v: int) -> Lit:
    return Lit(str(v), datatype=_n(XSD.integer))


def _parts(body: Cerqual | Jbi | Conqual) -> list[tuple[str, list[tuple[Any, Lit | NamedNode]]]]:
    """(part key, [(property, value)]) of an assessment: components, illustrations, overall."""
    if isinstance(body, Cerqual):
        parts: list[tuple[str, list[tuple[Any, Lit | NamedNode]]]] = [
            (key, [(QK.concern, _int(c.concern)), (RDFS.comment, Lit(c.explanation))]) for key, c in body.components]
        return [*parts, ("overall", [(QK.confidence, Lit(body.overall.confidence)),
                                     (RDFS.comment, Lit(body.overall.explanation))])]
    if isinstance(body, Jbi):
        return [(f"illustration-{i}", [(QK.studyFinding, _n(ill.study_finding)),
                                       (QK.credibility, Lit(ill.credibility)),
                                       *([(RDFS.comment, Lit(ill.explanation))] if ill.explanation else [])])
                for i, ill in enumerate(body.illustrations, start=1)]
    dep = body.dependability
    return [("dependability", [(QK.dependabilityYes, _int(sum(dep.answers.values()))),
                               *[(QK[f"answer{q.upper()}"], Lit("yes" if a else "no")) for q, a in
                                 sorted(dep.answers.items())],
                               *([(RDFS.comment, Lit(dep.explanation))] if dep.explanation else [])]),
            ("credibility", [(QK.credibility, Lit(body.credibility.level)),
                             *([(RDFS.comment, Lit(body.credibility.explanation))]
                               if body.credibility.explanation else [])]),
            ("overall", [(QK.confidence, Lit(body.overall.confidence)),
                         (RDFS.comment, Lit(body.overall.explanation))])]


def _check_study_findings(store: GraphStore, iris: IriScheme, notation: str, body: Jbi) -> None:
    df = synthesis_catalog(iris).run(store, "category-study-findings", {"finding": notation})
    known = set(df["study_finding_iri"])
    bad = [problem("request body", "study-finding", f"not a study finding supporting {notation} by a reviewed "
                   "mapping (see the JBI worksheet's study_finding_iri)",
                   field=f"assessment.illustrations[{i}].study_finding", value=ill.study_finding)
           for i, ill in enumerate(body.illustrations) if ill.study_finding not in known]
    if bad:
        raise SynthesisError(bad)


def record_mapping_review(store: GraphStore, iris: IriScheme, review: MappingReview) -> str:
    """Record that `review.reviewer` reviewed one mapping record; the record becomes Reviewed and, unless
    negated, its triple is asserted. Raises SynthesisError when the set holds no such record."""
    for fld in ("mapping_set_id", "subject_id", "predicate_id", "object_id", "reviewer_id"):
        _check_iri(getattr(review, fld), fld)
    with WRITE_LOCK:
        mset = read_mapping_set(store, synthesis_catalog(iris), review.mapping_set_id)
        key = Mapping(review.subject_id, "", review.predicate_id, review.object_id, None, "",
                      predicate_modifier=review.predicate_modifier)
        record = record_iri(iris, mset.id, key)
        if not any(record_iri(iris, mset.id, m) == record for m in mset.mappings):
            raise SynthesisError([problem("request body", "unknown-mapping", "the mapping set holds no mapping with "
                                          "this subject, predicate, object and modifier",
                                          field="subject_id", value=review.subject_id)])
        r = _n(f"{judgement_namespace(iris)}{uuid.uuid4()}")
        out = [Triple(r, _n(RDF.type), _n(QK.MappingReview)), Triple(r, _n(QK.reviewOf), record),
               Triple(r, _n(PROV.wasAttributedTo), _agent(iris, review.reviewer, review.reviewer_id)),
               Triple(r, _n(QK.reviewerLabel), Lit(review.reviewer)), Triple(r, _n(PROV.generatedAtTime), _now())]
        graph = synthesis_graph(iris)
        before = _graph_triples(store, graph)
        store.replace_graph(graph, [*before, *out])
        try:
            rebuild_from_store(store, iris)
        except Exception:
            store.replace_graph(graph, before)  # all or nothing
            raise
    return r.value


def current_assessments(store: GraphStore, iris: IriScheme, notation: str | None = None) -> dict[
        tuple[str, str], dict[str, Any]]:
    """(finding notation, method) → the current assessment: judgement, assessor, at, revision_of, and
    parts (key → {property local name: value})."""
    df = synthesis_catalog(iris).run(store, "current-assessments", {"finding": notation})
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in df.itertuples(index=False):
        a = out.setdefault((str(r.finding), str(r.method)), {
            "judgement": r.judgement, "assessor": r.assessor, "at": r.at, "revision_of": r.revision_of or None,
            "parts": {}})
        if r.part_key:
            a["parts"].setdefault(r.part_key, {})[r.property] = r.value
    return out
