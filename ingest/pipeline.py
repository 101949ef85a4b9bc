"""read → records → RDF → SHACL gate → store, all or nothing (decision 0023).

Every study of a batch is mapped and validated before anything is written, then all study graphs and
their log graphs are replaced in one store operation. The same input always gives the same study graph.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pyoxigraph import Literal, NamedNode, Triple
from rdflib.namespace import PROV, XSD

from qualkg.ingest.errors import IngestError, ShapeViolation
from qualkg.ingest.mapping import StudyMapper, map_study
from qualkg.ingest.readers import ReadOptions, read
from qualkg.ingest.records import Problem, StudyRecords, Where
from qualkg.ingest.validate import gate
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QK
from qualkg.store.base import GraphStore

T = TypeVar("T")
Progress = Callable[[Iterable[T]], Iterator[T]]


@dataclass(slots=True)
class StudySummary:
    study: str
    graph: str
    triples: int
    participants: int
    events: int
    transcripts: int
    excerpts: int
    codes: int
    themes: int


@dataclass(slots=True)
class IngestReport:
    source: str
    studies: list[StudySummary] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    written: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "written": self.written,
            "studies": [asdict(s) for s in self.studies],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def log_graph(iris: IriScheme, study: str) -> str:
    """The per-study graph holding ingest-time provenance (kept apart so the study graph is stable)."""
    return iris.log_graph(study)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def _locations(mapper: StudyMapper) -> dict[str, Where]:
    """Node IRI → where its record came from, so SHACL problems point into the input."""
    where: dict[str, Where] = {}
    for x in mapper.r.excerpts:  # a span several coders coded: the first record's place
        if x.provenance and x.provenance.where:
            where.setdefault(mapper.excerpt(x).value, x.provenance.where)
    for p in mapper.r.participants:
        if p.where:
            where[mapper.participant(p.id).value] = p.where
    return where


def _input_triples(mapper: StudyMapper, source: Path, digest: str) -> list[Triple]:
    """What the ingest read: deterministic, so it belongs in the study graph."""
    act = mapper.activity
    return [
        Triple(act, NamedNode(str(PROV.used)), Literal(source.name)),
        Triple(act, NamedNode(str(QK.inputDigest)), Literal(digest)),
    ]


def _log_triples(mapper: StudyMapper, now: datetime) -> list[Triple]:
    """When the ingest ran: changes on every run, so it lives in the study's log graph."""
    return [Triple(mapper.activity, NamedNode(str(PROV.startedAtTime)),
                   Literal(now.isoformat(), datatype=NamedNode(str(XSD.dateTime))))]


def _summary(mapper: StudyMapper, graph: str, triples: int) -> StudySummary:
    """What one study's graph holds: excerpts are spans, however many coders coded each (decision 0034)."""
    rec = mapper.r
    return StudySummary(
        study=rec.study.id, graph=graph, triples=triples, participants=len(rec.participants),
        events=len(rec.events), transcripts=len(rec.transcripts), excerpts=len(mapper.spans()),
        codes=sum(c.level == "code" for c in rec.codes), themes=sum(c.level == "theme" for c in rec.codes))


def _reserved(path: Path, options: ReadOptions | None, study: str, named: str) -> Problem:
    """A study id that names an internal graph (decision 0036), located where the id came from: the study
    option (CLI --study, the upload's `study` field) or the file name (a package's study.yaml id is refused
    by the package reader, with its row)."""
    if options is not None and options.study_id is not None:
        message = f"The study id given for this input names {named}, not a study. Choose another study id."
    else:
        message = (f"The study id comes from the file name and names {named}, not a study. Rename the file or "
                   "give another study id.")
    return Problem(Where(path.name, field="study"), "study-id-reserved",
                   message + " Ingesting it would replace that graph.", study)


DIGEST_QUERY = f"""PREFIX qk: <{QK}>
SELECT DISTINCT ?study WHERE {{ ?activity qk:inputDigest ?digest ; qk:inStudy ?study . }} ORDER BY ?study"""


def _duplicates(store: GraphStore | None, iris: IriScheme, path: Path, digest: str, ids: set[str]) -> list[Problem]:
    """The same input already stored under other study ids (decision 0091): a second copy would count every
    excerpt, participant and code twice in every cross-study answer."""
    if store is None:
        return []
    rows = store.select(DIGEST_QUERY, {"digest": Literal(digest)})
    stored = [sid for row in rows if isinstance(term := row.get("study"), NamedNode)
              and (sid := (iris.study_scoped(term.value) or ("",))[0]) and sid not in ids]
    return [Problem(Where(path.name), "duplicate-input",
                    f"This input (SHA-256 {digest[:12]}…) is already in the store as study '{sid}'. Ingesting it "
                    f"again as '{', '.join(sorted(ids))}' would count its excerpts twice in every cross-study "
                    f"answer. Ingest it as '{sid}' to replace that study, or allow the copy (library: "
                    "allow_duplicate=True; CLI: --allow-duplicate).", sid) for sid in stored]


def _study_metadata(rec: StudyRecords, mapper: StudyMapper, path: Path, warnings: list[Problem]) -> list[Problem]:
    """A QDA project's missing study metadata as one warning that says where to give it (decision 0092):
    the tool's project has no field for design, setting or publication, so a warning per field helps no one."""
    if rec.study.source_project is None:
        return warnings
    study = mapper.study.value
    missing = [p for p in warnings if p.where.element == study and p.rule.endswith("_recommended)")]
    if len(missing) < 2:
        return warnings
    fields = ", ".join(p.where.field or p.rule for p in missing)
    one = Problem(Where(path.name, element=study), "study-metadata-recommended",
                  f"A QDA project has no place for the study's {fields}. Give them in a study package that points "
                  "at this file (study.yaml with the metadata and coded_data: {qdpx: " + path.name + "}; "
                  "docs/study-package.md).", fields, "warning")
    return [one, *(p for p in warnings if p not in missing)]


def ingest(path: Path, store: GraphStore | None, iris: IriScheme, *, fmt: str = "auto",
           options: ReadOptions | None = None, dry_run: bool = False,
           progress: Progress = iter, now: datetime | None = None, allow_duplicate: bool = False) -> IngestReport:
    """Ingest one input (file or study package). Raises IngestError with located problems, writing nothing.

    With `dry_run` (or no store) the input is read, mapped and validated but not written. An input whose
    digest the store already holds under another study id is refused unless `allow_duplicate`.
    """
    batch = read(path, fmt, options)
    report = IngestReport(source=path.name)
    graphs: dict[str, list[Triple]] = {}
    errors: list[Problem] = []
    seen: set[str] = set()
    digest, when = _digest(path), now or datetime.now(UTC)
    for rec in progress(batch):
        if rec.study.id in seen:
            errors.append(Problem(Where(path.name), "unique-study",
                                  f"study '{rec.study.id}' appears twice in one batch", rec.study.id))
            continue
        seen.add(rec.study.id)
        if (named := iris.reserved_study(rec.study.id)) is not None:
            errors.append(_reserved(path, options, rec.study.id, named))
            continue
        mapper = StudyMapper(rec, iris)
        triples = map_study(rec, iris) + _input_triples(mapper, path, digest)
        problems = gate(triples, file=path.name, locate=_locations(mapper))
        errors += [p for p in problems if p.severity == "error"]
        report.warnings += rec.warnings + _study_metadata(rec, mapper, path,
                                                          [p for p in problems if p.severity != "error"])
        graph = iris.graph(rec.study.id)
        graphs[graph] = triples
        graphs[log_graph(iris, rec.study.id)] = _log_triples(mapper, when)
        report.studies.append(_summary(mapper, graph, len(triples)))
    if not allow_duplicate:
        errors += _duplicates(store, iris, path, digest, seen)
    if errors:
        shapes_only = all(p.rule.startswith("shacl:") for p in errors)
        raise (ShapeViolation if shapes_only else IngestError)(errors)
    if store is not None and not dry_run:
        store.replace_graphs(graphs)
        report.written = True
    return report


__all__ = ["IngestError", "IngestReport", "StudySummary", "ingest", "log_graph"]
