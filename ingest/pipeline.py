"""read → records → RDF → SHACL gate → store, all or nothing (decision 0023).

Every study of a batch is mapped and validated before anything is written, then all study graphs and
their log graphs are replaced in one store operation. The same input always gives the same study graph.
Large batches are mapped and validated in worker processes, in transcript chunks (decision 0140).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

from pyoxigraph import Literal, NamedNode, Triple
from rdflib.namespace import PROV, XSD

from qualkg.ingest.errors import IngestError, ShapeViolation
from qualkg.ingest.mapping import StudyMapper, map_study
from qualkg.ingest.readers import ReadOptions, read
from qualkg.ingest.records import Excerpt, Note, Problem, StudyRecords, Where
from qualkg.ingest.validate import keyed_gate, warm
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


def input_digest(path: Path) -> str:
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


def _input_triples(mapper: StudyMapper, source: str, digest: str) -> list[Triple]:
    """What the ingest read: deterministic, so it belongs in the study graph."""
    act = mapper.activity
    return [
        Triple(act, NamedNode(str(PROV.used)), Literal(source)),
        Triple(act, NamedNode(str(QK.inputDigest)), Literal(digest)),
    ]


def _log_triples(mapper: StudyMapper, now: datetime) -> list[Triple]:
    """When the ingest ran: changes on every run, so it lives in the study's log graph."""
    return [Triple(mapper.activity, NamedNode(str(PROV.startedAtTime)),
                   Literal(now.isoformat(), datatype=NamedNode(str(XSD.dateTime))))]


def _summary(rec: StudyRecords, graph: str, checked: Checked) -> StudySummary:
    """What one study's graph holds: excerpts are spans, however many coders coded each (decision 0034)."""
    return StudySummary(
        study=rec.study.id, graph=graph, triples=len(checked.triples), participants=len(rec.participants),
        events=len(rec.events), transcripts=len(rec.transcripts), excerpts=checked.spans,
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


CHUNK_EXCERPTS = 1_250  # a study with more excerpts is checked in transcript chunks of about this many
Key = tuple[str, ...]


@dataclass(slots=True)
class Checked:
    """One study, or one transcript chunk of it, mapped and validated: its triples, its problems with their
    sort keys, and how many excerpt spans it holds."""

    triples: list[Triple]
    problems: list[tuple[Key, Problem]]
    spans: int


def check(rec: StudyRecords, iris: IriScheme, source: str, digest: str) -> Checked:
    """Map and validate one study's records (or a chunk of them); module-level, so a spawned worker runs it."""
    mapper = StudyMapper(rec, iris)
    triples = map_study(rec, iris) + _input_triples(mapper, source, digest)
    return Checked(triples, keyed_gate(triples, file=source, locate=_locations(mapper)), len(mapper.spans()))


def chunks(rec: StudyRecords, size: int) -> list[StudyRecords]:
    """The study as transcript chunks of about `size` excerpts, each with every study-level record (study,
    people, events, codes, coders). A transcript goes whole into one chunk with its excerpts and the notes on
    them; excerpts of an unknown transcript and notes on anything else go into the first chunk."""
    if len(rec.excerpts) <= size or len(rec.transcripts) < 2:
        return [rec]
    first: list[Excerpt] = []
    by_transcript: dict[str, list[Excerpt]] = {t.id: [] for t in rec.transcripts}
    for x in rec.excerpts:
        by_transcript.get(x.transcript, first).append(x)
    groups: list[list[str]] = [[]]
    count = len(first)
    for tid, xs in by_transcript.items():
        if count >= size:
            groups.append([])
            count = 0
        groups[-1].append(tid)
        count += len(xs)
    home = {tid: i for i, group in enumerate(groups) for tid in group}
    notes: list[list[Note]] = [[] for _ in groups]
    for n in rec.notes:
        tid = n.target.rsplit(":", 2)[0] if n.target_kind == "excerpt" else n.target
        notes[home.get(tid, 0) if n.target_kind in ("excerpt", "transcript") else 0].append(n)
    transcripts = {t.id: t for t in rec.transcripts}
    return [replace(rec, transcripts=[transcripts[t] for t in group], notes=notes[i],
                    excerpts=(first if i == 0 else []) + [x for t in group for x in by_transcript[t]])
            for i, group in enumerate(groups)]


def merged(parts: list[Checked]) -> Checked:
    """The chunks of one study as the whole study's result: triples once each; problems in the whole graph's
    order, a study-level problem (found in every chunk) once, a chunk's own problems from that chunk."""
    if len(parts) == 1:
        return parts[0]
    counts: Counter[Key] = Counter()
    first: dict[Key, Problem] = {}
    for part in parts:
        counts |= Counter(key for key, _ in part.problems)  # `|` keeps the larger count
        for key, problem in part.problems:
            first.setdefault(key, problem)
    return Checked(list(dict.fromkeys(t for part in parts for t in part.triples)),
                   [(key, first[key]) for key in sorted(counts) for _ in range(counts[key])],
                   sum(part.spans for part in parts))


_pools: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """One spawned pool per worker count, kept for the process's life: its start-up (imports, compiled shapes)
    is paid once, not per ingest."""
    pool = _pools.get(workers)
    if pool is None:
        pool = _pools[workers] = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=warm)
    return pool


def check_batch(studies: list[StudyRecords], iris: IriScheme, source: str, digest: str, workers: int,
               chunk: int) -> list[Checked]:
    """Every study checked, in order: in `workers` processes, by transcript chunks, when the batch has more
    than `chunk` excerpts; else whole, in this process. Both give the same (tests/ingest/test_parallel.py)."""
    parallel = workers > 1 and sum(len(rec.excerpts) for rec in studies) > chunk
    parts = [(i, c) for i, rec in enumerate(studies) for c in (chunks(rec, chunk) if parallel else [rec])]
    if parallel and len(parts) > 1:
        try:
            done = list(_pool(workers).map(check, [c for _, c in parts], repeat(iris), repeat(source),
                                           repeat(digest)))
        except BaseException:
            _pools.pop(workers).shutdown(wait=False, cancel_futures=True)  # a broken pool is not reused
            raise
    else:
        done = [check(c, iris, source, digest) for _, c in parts]
    return [merged([d for (j, _), d in zip(parts, done, strict=True) if j == i]) for i in range(len(studies))]


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
           progress: Progress = iter, now: datetime | None = None, allow_duplicate: bool = False,
           workers: int = 1, chunk_excerpts: int = CHUNK_EXCERPTS) -> IngestReport:
    """Ingest one input (file or study package). Raises IngestError with located problems, writing nothing.

    With `dry_run` (or no store) the input is read, mapped and validated but not written. An input whose
    digest the store already holds under another study id is refused unless `allow_duplicate`. `workers`
    processes (settings: `ingest_workers`) check studies and transcript chunks of `chunk_excerpts` excerpts.
    """
    batch = read(path, fmt, options)
    report = IngestReport(source=path.name)
    graphs: dict[str, list[Triple]] = {}
    steps: list[Problem | StudyRecords] = []  # in batch order: a refused study's problem, or a study to check
    seen: set[str] = set()
    digest, when = input_digest(path), now or datetime.now(UTC)
    for rec in progress(batch):
        if rec.study.id in seen:
            steps.append(Problem(Where(path.name), "unique-study",
                                 f"study '{rec.study.id}' appears twice in one batch", rec.study.id))
            continue
        seen.add(rec.study.id)
        if (named := iris.reserved_study(rec.study.id)) is not None:
            steps.append(_reserved(path, options, rec.study.id, named))
            continue
        steps.append(rec)
    studies = [s for s in steps if isinstance(s, StudyRecords)]
    checked = iter(check_batch(studies, iris, path.name, digest, workers, chunk_excerpts))
    errors: list[Problem] = []
    for step in steps:
        if isinstance(step, Problem):
            errors.append(step)
            continue
        rec, result = step, next(checked)
        mapper = StudyMapper(rec, iris)
        problems = [p for _, p in result.problems]
        errors += [p for p in problems if p.severity == "error"]
        report.warnings += rec.warnings + _study_metadata(rec, mapper, path,
                                                          [p for p in problems if p.severity != "error"])
        graph = iris.graph(rec.study.id)
        graphs[graph] = result.triples
        graphs[log_graph(iris, rec.study.id)] = _log_triples(mapper, when)
        report.studies.append(_summary(rec, graph, result))
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
