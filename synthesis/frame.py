"""The review frame: a review-level concept scheme of descriptive and analytical themes (decision 0032).

Authored as YAML (data/synthesis/*.frame.yaml, the `Frame` model; docs/synthesis.md, "Review frame").
Both kinds of theme are review findings; analytical themes are prov:wasDerivedFrom descriptive ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pyoxigraph import Literal, NamedNode, Triple
from rdflib import URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS, XSD

from qualkg.ingest.limits import MAX_YAML_DEPTH
from qualkg.ingest.problems import Problem, yaml_location
from qualkg.ingest.safe_io import SafeYamlLoader, YamlAliasRefused, YamlTooDeep
from qualkg.ontology import vocabulary_graph
from qualkg.ontology.iris import IriScheme, slug
from qualkg.ontology.namespaces import FEATURE, QK, ROLE
from qualkg.synthesis.errors import SynthesisError, fail, problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Context(_Strict):
    """The review question's context, against which relevance is judged (CERQual)."""

    countries: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)  # role vocabulary local names
    features: list[str] = Field(default_factory=list)  # feature vocabulary local names


class Finding(_Strict):
    id: str
    notation: str  # the short id reviewers cite, e.g. F1
    label: str
    statement: str  # the summarised review finding
    derived_from: list[str] = Field(default_factory=list)  # analytical themes: ids of descriptive themes


class Frame(_Strict):
    id: str
    title: str
    description: str | None = None
    creator: str = "qualkg contributors"
    note: str | None = None
    synthetic: bool = False  # the frame and its statements were written for demonstration
    context: Context = Field(default_factory=Context)
    descriptive_themes: list[Finding]
    analytical_themes: list[Finding] = Field(default_factory=list)

    def findings(self) -> list[Finding]:
        return [*self.descriptive_themes, *self.analytical_themes]


def read_frame(path: Path) -> Frame:
    """Parse a frame file; every problem names the file and the field path."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeYamlLoader)  # ingest's depth-limited loader
        frame = Frame.model_validate(data)
    except YamlAliasRefused as e:
        raise fail(str(path), "yaml-alias", f"YAML aliases (*name) are refused (line {e.line})") from None
    except YamlTooDeep as e:
        raise fail(str(path), "yaml-depth", f"nested more than {MAX_YAML_DEPTH} deep (line {e.line})") from None
    except yaml.YAMLError as e:
        raise fail(str(path), "yaml", f"not valid YAML: {e}") from None
    except ValidationError as e:
        raise SynthesisError([_yaml_problem(str(path), err) for err in e.errors()]) from None
    _check(frame, str(path))
    return frame


def _yaml_problem(file: str, err: Mapping[str, Any]) -> Problem:
    element, name = yaml_location(err["loc"])
    return problem(file, err["type"], err["msg"], element=element, field=name, value=str(err.get("input"))[:80])


def _check(frame: Frame, file: str) -> None:
    problems: list[Problem] = []
    if slug(frame.id) != frame.id:
        problems.append(problem(file, "frame-id",
                                "a frame id must be a slug (lower case letters, digits, '.', '_', '-')",
                                element="id", field="id", value=frame.id))
    ids = [f.id for f in frame.findings()]
    for kind, findings in (("descriptive_themes", frame.descriptive_themes),
                           ("analytical_themes", frame.analytical_themes)):
        problems += [problem(file, "finding-id", "finding ids must be unique slugs", element=f"{kind}[{i}].id",
                             field="id", value=f.id)
                     for i, f in enumerate(findings) if slug(f.id) != f.id or ids.count(f.id) > 1]
    descriptive = {f.id for f in frame.descriptive_themes}
    for i, a in enumerate(frame.analytical_themes):
        problems += [problem(file, "reference", "not a descriptive theme of this frame",
                             element=f"analytical_themes[{i}].derived_from", field="derived_from", value=d)
                     for d in a.derived_from if d not in descriptive]
    vocab = vocabulary_graph()
    for kind, ns, names in (("roles", ROLE, frame.context.roles), ("features", FEATURE, frame.context.features)):
        problems += [problem(file, "vocabulary", f"not a concept of the {kind} vocabulary", element=f"context.{kind}",
                             field=kind, value=n)
                     for n in names if (URIRef(ns[n]), None, None) not in vocab]
    if problems:
        raise SynthesisError(problems)


def _n(iri: object) -> NamedNode:
    return NamedNode(str(iri))


def frame_triples(frame: Frame, iris: IriScheme) -> list[Triple]:
    """The frame as a qk:ReviewFrame concept scheme with its findings (types stated, no inference needed)."""
    s = _n(iris.frame(frame.id))
    a = _n(RDF.type)
    out = [Triple(s, a, _n(QK.ReviewFrame)), Triple(s, a, _n(SKOS.ConceptScheme)),
           Triple(s, _n(SKOS.prefLabel), Literal(frame.title)), Triple(s, _n(DCTERMS.creator), Literal(frame.creator))]
    if frame.description:
        out.append(Triple(s, _n(DCTERMS.description), Literal(frame.description)))
    if frame.note:
        out.append(Triple(s, _n(SKOS.editorialNote), Literal(frame.note)))
    if frame.synthetic:
        out.append(Triple(s, _n(QK.isSynthetic), Literal("true", datatype=_n(XSD.boolean))))
    out += [Triple(s, _n(QK.contextCountry), Literal(c)) for c in frame.context.countries]
    out += [Triple(s, _n(QK.contextRole), _n(ROLE[r])) for r in frame.context.roles]
    out += [Triple(s, _n(QK.contextFeature), _n(FEATURE[f])) for f in frame.context.features]
    for cls, findings in ((QK.DescriptiveTheme, frame.descriptive_themes),
                          (QK.AnalyticalTheme, frame.analytical_themes)):
        for f in findings:
            node = _n(iris.finding(frame.id, f.id))
            out += [Triple(node, a, _n(cls)), Triple(node, a, _n(QK.ReviewFinding)), Triple(node, a, _n(SKOS.Concept)),
                    Triple(node, _n(SKOS.inScheme), s), Triple(node, _n(SKOS.prefLabel), Literal(f.label)),
                    Triple(node, _n(SKOS.notation), Literal(f.notation)),
                    Triple(node, _n(SKOS.definition), Literal(f.statement))]
            out += [Triple(node, _n(PROV.wasDerivedFrom), _n(iris.finding(frame.id, d))) for d in f.derived_from]
    return out
