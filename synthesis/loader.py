"""Synthesis files (`*.frame.yaml`, `*.sssom.tsv`) → one named graph, replaced as a whole (decisions 0032, 0100).

A rebuild keeps every user mapping set already stored and every recorded judgement (reviews, assessments).

A mapped term must be a frame finding, a concept in the store, sssom:NoTermFound as an object, or a
published theme or finding of a loaded study, minted from the study record's words. All or nothing: any
problem raises SynthesisError and the graph is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, parse
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS

from qualkg.ingest.problems import Problem
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QK
from qualkg.queries.catalog import Catalog
from qualkg.store import open_store
from qualkg.store.base import ExportFormat, GraphStore
from qualkg.synthesis.errors import SynthesisError, problem
from qualkg.synthesis.frame import Frame, frame_triples, read_frame
from qualkg.synthesis.mappings import (
    NO_TERM_FOUND,
    SUPPORTING,
    Mapping,
    MappingSet,
    is_accepted,
    mapping_sets_in_store,
    read_mapping_set,
    read_sssom,
    record_iri,
    record_triples,
)
from qualkg.synthesis.questions import synthesis_catalog

MINTED_KINDS = {"published-theme": QK.PublishedTheme, "published-finding": QK.PublishedFinding}
_QUOTED = re.compile(r"\"([^\"]+)\"")
_Report = Callable[[str, str, str | None], None]  # rule, message, value


def synthesis_graph(iris: IriScheme) -> str:
    """The one named graph of frames and mappings (`IriScheme.synthesis_graph`)."""
    return iris.synthesis_graph()


@dataclass(frozen=True, slots=True)
class SynthesisReport:
    graph: str
    mapping_sets: list[str]
    mappings: int
    accepted: int  # reviewed and not negated: materialised as SKOS / qk:refutes triples
    minted: int  # published themes and findings minted from study records
    triples: int


def read_folder(folder: Path,
                extra: tuple[Path, ...] = ()) -> tuple[list[tuple[str, Frame]], list[tuple[str, MappingSet]]]:
    """Every frame and mapping set in `folder` (plus `extra` mapping files), each with its file name."""
    frames = [(str(p), read_frame(p)) for p in sorted(folder.glob("*.frame.yaml"))]
    tsvs = [*sorted(folder.glob("*.sssom.tsv")), *extra]
    problems: list[Problem] = []
    sets = []
    for p in tsvs:
        try:
            sets.append((str(p), read_sssom(p)))
        except SynthesisError as e:
            problems += e.problems
    if problems:
        raise SynthesisError(problems)
    return frames, sets


class _Resolver:
    """Checks each mapped term (see module docstring) and mints published themes and findings."""

    def __init__(self, store: GraphStore, catalog: Catalog, iris: IriScheme, findings: dict[str, str]) -> None:
        self.store, self.catalog, self.iris = store, catalog, iris
        self.findings = findings
        self.minted: dict[str, list[Triple]] = {}

    def check(self, iri: str, label: str | None, where: tuple[str, int | None, str], problems: list[Problem]) -> None:
        """Check one mapped term (see the module docstring); a published theme or finding that passes is minted."""
        file, row, fld = where

        def report(rule: str, message: str, value: str | None) -> None:
            problems.append(problem(file, rule, message, row=row, field=fld, value=value))

        if iri in self.findings:
            if label and label != self.findings[iri]:
                report("label", f"the frame calls this finding {self.findings[iri]!r}", label)
        elif iri == NO_TERM_FOUND:
            if fld != "object_id":
                report("no-term-found", "sssom:NoTermFound may only be an object", iri)
        elif (kind := self._minted_kind(iri)) is None:
            self._check_stored(iri, label, report)
        else:
            self._check_published(iri, label, kind, report)

    def _check_stored(self, iri: str, label: str | None, report: _Report) -> None:
        labels = list(self.catalog.run(self.store, "concept-labels",
                                       {"concept": iri, "exclude": synthesis_graph(self.iris)})["label"])
        if not labels:
            report("unknown-term", "neither a frame finding, a concept in the store, nor a published theme or "
                                   "finding of a loaded study (load the studies first)", iri)
        elif label and label not in labels:
            report("label", f"the store labels this concept {labels[0]!r}", label)

    def _check_published(self, iri: str, label: str | None, kind: tuple[str, str], report: _Report) -> None:
        study_id, kind_name = kind
        expected = self.iris.published(study_id, kind_name, label or "")
        if not label or iri != expected:
            report("minted-iri", f"a {kind_name} IRI must end in the slug of its label: {expected}", iri)
            return
        sources = self.catalog.run(self.store, "study-sources", {"study": study_id})
        if sources.empty:
            report("unknown-study", f"study {study_id!r} is not in the store", iri)
            return
        texts = {k: [t for kk, t in zip(sources["kind"], sources["text"], strict=True) if kk == k]
                 for k in ("theme", "note")}
        quoted = {q for n in texts["note"] if "[verbatim" in n for q in _QUOTED.findall(n)}
        if kind_name == "published-theme" and label not in texts["theme"]:
            report("verbatim", f"not one of the published themes of {study_id}: {texts['theme']}", label)
        elif kind_name == "published-finding" and label not in quoted:
            report("verbatim", f"not a fragment quoted in a [verbatim] note of {study_id}", label)
        else:
            self.minted[iri] = self._mint(iri, label, study_id, kind_name, sources["pub"].iloc[0],
                                          bool(sources["unverified"].iloc[0]))

    def _minted_kind(self, iri: str) -> tuple[str, str] | None:
        segments = self.iris.study_scoped(iri) or ()
        if len(segments) == 3 and segments[1] in MINTED_KINDS:
            return segments[0], segments[1]
        return None

    def _mint(self, iri: str, label: str, study_id: str, kind_name: str, pub: str | None,
              unverified: bool) -> list[Triple]:
        node, study = NamedNode(iri), NamedNode(self.iris.study(study_id))
        out = [Triple(node, NamedNode(str(RDF.type)), NamedNode(str(MINTED_KINDS[kind_name]))),
               Triple(node, NamedNode(str(RDF.type)), NamedNode(str(SKOS.Concept))),
               Triple(node, NamedNode(str(SKOS.prefLabel)), Literal(label)),
               Triple(node, NamedNode(str(QK.inStudy)), study),
               Triple(node, NamedNode(str(SKOS.scopeNote)), Literal(
                   f"Minted by qualkg from the {kind_name.replace('-', ' ')} of the study record {study_id}, "
                   "label verbatim; not part of the study's own codebook."))]
        if pub:
            out.append(Triple(node, NamedNode(str(DCTERMS.source)), NamedNode(pub)))
        if unverified:
            out.append(Triple(node, NamedNode(str(QK.verificationStatus)), NamedNode(str(QK.Unverified))))
        return out


@dataclass(frozen=True, slots=True)
class Frames:
    """The review frames as triples, and their findings' labels by IRI (what mapped finding terms must match)."""

    triples: list[Triple]
    findings: dict[str, str]


def frames_from_files(frames: list[tuple[str, Frame]], iris: IriScheme) -> Frames:
    return Frames([t for _, fr in frames for t in frame_triples(fr, iris)],
                  {iris.finding(fr.id, f.id): f.label for _, fr in frames for f in fr.findings()})


def frames_from_store(store: GraphStore, iris: IriScheme) -> Frames:
    """The frames as the synthesis graph holds them (for writes made through the API, which has no folder)."""
    syn = synthesis_catalog(iris)
    triples = store.construct(syn.get("frame-triples").sparql, syn.bind("frame-triples", {}))
    found = syn.run(store, "frame-findings", {})
    return Frames(triples, dict(zip(found["iri"], found["label"], strict=True)))


def judgement_namespace(iris: IriScheme) -> str:
    """`{base}synthesis/judgement/`: recorded judgements (mapping reviews, assessments) and their parts."""
    return f"{iris.base}synthesis/judgement/"


def _judgement_triples(store: GraphStore, iris: IriScheme) -> list[Triple]:
    syn = synthesis_catalog(iris)
    return store.construct(syn.get("judgement-triples").sparql,
                           syn.bind("judgement-triples", {"prefix": judgement_namespace(iris)}))


def _with_reviews(mset: MappingSet, reviews: dict[str, list[tuple[str, str]]], iris: IriScheme) -> MappingSet:
    """The set with every review recorded through qualkg added to its records (reviewer_id, reviewer_label)."""
    out = []
    for m in mset.mappings:
        found = reviews.get(record_iri(iris, mset.id, m).value, [])
        if found:
            m = replace(m, reviewer_id=tuple(sorted({*m.reviewer_id, *(r for r, _ in found)})),
                        reviewer_label=tuple(sorted({*m.reviewer_label, *(lbl for _, lbl in found if lbl)})))
        out.append(m)
    return replace(mset, mappings=tuple(out))


def build_synthesis(frames: Frames, sets: list[tuple[str, MappingSet]], store: GraphStore,
                    iris: IriScheme, *, proposed: bool = False) -> tuple[list[Triple], SynthesisReport]:
    """The synthesis graph's triples: frames, mapping records, minted concepts and what accepted mappings
    assert (the SKOS/qk:refutes triple; prov:wasDerivedFrom into frame findings). `proposed` asserts the
    proposed mappings too: the mappings=all view, never written to the store."""
    resolver = _Resolver(store, synthesis_catalog(iris), iris, frames.findings)
    problems: list[Problem] = []
    triples: list[Triple] = list(frames.triples)
    accepted = 0
    for file, mset in sets:
        triples += record_triples(mset, iris)
        for m in mset.mappings:
            resolver.check(m.subject_id, m.subject_label, (file, m.row, "subject_id"), problems)
            resolver.check(m.object_id, m.object_label, (file, m.row, "object_id"), problems)
            if m.subject_id in resolver.findings:
                problems.append(problem(file, "finding-as-object",
                                        "a review finding goes in object_id, the study concept in subject_id",
                                        row=m.row, field="subject_id", value=m.subject_id))
            accepted += is_accepted(m)
            if is_accepted(m, proposed=proposed):
                triples += _asserted(m, resolver.findings)
    if problems:
        raise SynthesisError(problems)
    for minted in resolver.minted.values():
        triples += minted
    triples = list(dict.fromkeys(triples))
    report = SynthesisReport(synthesis_graph(iris), [s.id for _, s in sets],
                             sum(len(s.mappings) for _, s in sets), accepted, len(resolver.minted), len(triples))
    return triples, report


def _asserted(m: Mapping, findings: dict[str, str]) -> list[Triple]:
    s, o = NamedNode(m.subject_id), NamedNode(m.object_id)
    out = [Triple(s, NamedNode(m.predicate_id), o)]
    if m.object_id in findings and m.predicate_id in SUPPORTING:
        out.append(Triple(o, NamedNode(str(PROV.wasDerivedFrom)), s))
    return out


def _stored_sets(store: GraphStore, iris: IriScheme) -> list[MappingSet]:
    syn = synthesis_catalog(iris)
    return [read_mapping_set(store, syn, s) for s in mapping_sets_in_store(store, syn)]


def _rebuild(store: GraphStore, iris: IriScheme, frames: Frames, sets: list[tuple[str, MappingSet]],
             *, dry_run: bool) -> SynthesisReport:
    ids = [s.id for _, s in sets]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise SynthesisError([problem(f, "duplicate-set", "two files share this mapping_set_id",
                                      field="mapping_set_id", value=s.id) for f, s in sets if s.id in dupes])
    found = synthesis_catalog(iris).run(store, "recorded-reviews", {})
    reviews: dict[str, list[tuple[str, str]]] = {}
    for record, who, label in found.itertuples(index=False):
        reviews.setdefault(record, []).append((who, label))
    sets = [(f, _with_reviews(s, reviews, iris)) for f, s in sets]
    kept = _judgement_triples(store, iris)
    triples, report = build_synthesis(frames, sets, store, iris)
    if not dry_run:
        store.replace_graph(report.graph, list(dict.fromkeys([*triples, *kept])))
    return report


def load_synthesis(folder: Path, store: GraphStore, iris: IriScheme, extra: tuple[Path, ...] = (),
                   *, dry_run: bool = False) -> SynthesisReport:
    """Rebuild the synthesis graph from `folder` (its sets marked bundled) plus `extra` mapping files, keeping
    every mapping set imported earlier that is not bundled and every recorded judgement (unless `dry_run`)."""
    frames, sets = read_folder(folder, extra)
    bundled = {str(p) for p in folder.glob("*.sssom.tsv")}
    sets = [(f, replace(s, bundled=f in bundled)) for f, s in sets]
    given = {s.id for _, s in sets}
    kept = [(s.id, s) for s in _stored_sets(store, iris) if not s.bundled and s.id not in given]
    return _rebuild(store, iris, frames_from_files(frames, iris), [*sets, *kept], dry_run=dry_run)


def import_mapping_set(store: GraphStore, iris: IriScheme, mset: MappingSet, name: str) -> SynthesisReport:
    """Add (or replace) one user mapping set, rebuilding the synthesis graph from the store; a bundled set
    cannot be replaced this way (edit its file and run `qualkg mappings import`)."""
    stored = _stored_sets(store, iris)
    if any(s.id == mset.id and s.bundled for s in stored):
        raise SynthesisError([problem(name, "bundled-set", "a bundled mapping set: edit its file in the "
                                      "bundled folder and run `qualkg mappings import`",
                                      field="mapping_set_id", value=mset.id)])
    sets = [(s.id, s) for s in stored if s.id != mset.id]
    return _rebuild(store, iris, frames_from_store(store, iris), [*sets, (name, mset)], dry_run=False)


def rebuild_from_store(store: GraphStore, iris: IriScheme) -> SynthesisReport:
    """Rebuild the synthesis graph from what it holds (after a review is recorded)."""
    return _rebuild(store, iris, frames_from_store(store, iris), [(s.id, s) for s in _stored_sets(store, iris)],
                    dry_run=False)


def proposed_view(store: GraphStore, iris: IriScheme) -> GraphStore:
    """An in-memory copy of the store whose synthesis graph also asserts the proposed mappings (mappings=all).

    Never written back; costs a copy of the store (decision 0100)."""
    triples, _ = build_synthesis(frames_from_store(store, iris),
                                 [(s.id, s) for s in _stored_sets(store, iris)], store, iris, proposed=True)
    triples += _judgement_triples(store, iris)
    graphs: dict[str, list[Triple]] = {}
    for q in parse(store.export(None, ExportFormat.nquads), format=RdfFormat.N_QUADS):
        if isinstance(q.graph_name, NamedNode):
            graphs.setdefault(q.graph_name.value, []).append(Triple(q.subject, q.predicate, q.object))
    graphs[synthesis_graph(iris)] = list(dict.fromkeys(triples))
    view = open_store("oxigraph", path=None)
    view.replace_graphs(graphs)
    return view
