"""Theme-to-theme mappings with provenance, read and written as SSSOM TSV (sssom-py) (decision 0031).

Predicates are the SKOS mapping relations and qk:refutes. In the graph a mapping is its SSSOM/RDF record (an
owl:Axiom attached to its set by sssom:mappings) with `qk:reviewStatus qk:Proposed|qk:Reviewed`; the plain triple
is asserted only for a reviewed, non-negated mapping (`is_accepted`; decision 0100).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from curies import Converter
from pyoxigraph import Literal, NamedNode, Triple
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD
from sssom.constants import SchemaValidationType
from sssom.parsers import parse_sssom_table
from sssom.util import MappingSetDataFrame
from sssom.validators import validate
from sssom.writers import write_table

from qualkg.ingest.problems import HEADER_ROW, Problem
from qualkg.ingest.safe_io import SafeYamlLoader
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QK, SEMAPV
from qualkg.queries.catalog import Catalog
from qualkg.store.base import GraphStore
from qualkg.synthesis.errors import SynthesisError, fail, problem

SSSOM = "https://w3id.org/sssom/"
PAV = "http://purl.org/pav/"
NO_TERM_FOUND = f"{SSSOM}NoTermFound"
REFUTES = str(QK.refutes)

# The relations a mapping may use; the first four let a study concept support a review finding.
SUPPORTING = tuple(str(p) for p in (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch))
PREDICATES = (*SUPPORTING, str(SKOS.relatedMatch), REFUTES)
# A set-level SSSOM extension slot (declared in extension_definitions): the set was made for demonstration.
DEMONSTRATION = "demonstration"
DEMONSTRATION_EXTENSION = {"slot_name": DEMONSTRATION, "property": f"{QK}demonstration",
                           "type_hint": str(XSD.boolean)}

STANDARD_PREFIXES: dict[str, str] = {
    "skos": str(SKOS), "semapv": str(SEMAPV), "qk": str(QK), "sssom": SSSOM, "orcid": "https://orcid.org/",
}
# Columns in the order SSSOM TSV files list them (multi-valued ones are tuples below).
COLUMNS = ("subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id", "object_label",
           "mapping_justification", "author_id", "author_label", "reviewer_id", "reviewer_label", "mapping_date",
           "confidence", "subject_source", "object_source", "comment")
_MULTI = ("author_id", "author_label", "reviewer_id", "reviewer_label")
_IRI_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification", "author_id", "reviewer_id",
                "subject_source", "object_source")


@dataclass(frozen=True, slots=True)
class Mapping:
    """One SSSOM mapping with every IRI expanded (CURIEs exist only in files)."""

    subject_id: str
    subject_label: str
    predicate_id: str
    object_id: str
    object_label: str | None
    mapping_justification: str
    author_id: tuple[str, ...] = ()
    author_label: tuple[str, ...] = ()
    reviewer_id: tuple[str, ...] = ()
    reviewer_label: tuple[str, ...] = ()
    mapping_date: str | None = None  # ISO date
    confidence: float | None = None
    comment: str | None = None
    subject_source: str | None = None
    object_source: str | None = None
    predicate_modifier: str | None = None  # only "Not"
    row: int | None = field(default=None, compare=False)  # the file's row (header = row 1); None from the store


@dataclass(frozen=True, slots=True)
class MappingSet:
    id: str  # mapping_set_id, an IRI
    license: str
    mappings: tuple[Mapping, ...]
    description: str | None = None
    curie_map: dict[str, str] = field(default_factory=dict)
    demonstration: bool = False  # made to show the machinery, not a review's mappings: feeds say so
    bundled: bool = False  # loaded from the bundled folder, so rebuilt from it (user sets are kept)


def is_reviewed(m: Mapping) -> bool:
    """A mapping is proposed until a reviewer is recorded (SSSOM reviewer_id), whoever authored it."""
    return bool(m.reviewer_id)


def is_accepted(m: Mapping, *, proposed: bool = False) -> bool:
    """Whether the plain SKOS (or qk:refutes) triple may be asserted: reviewed (or `proposed` ones too,
    for the mappings=all view) and not negated."""
    return (proposed or is_reviewed(m)) and m.predicate_modifier is None and m.object_id != NO_TERM_FOUND


# -- reading -----------------------------------------------------------------------------------

def read_sssom(path: Path, name: str | None = None) -> MappingSet:
    """Parse and validate one SSSOM TSV file; raise SynthesisError naming (as `name`) row, field and rule."""
    name = name or str(path)
    try:
        msdf = parse_sssom_table(path)
        demonstration = _demonstration(path)
    except SynthesisError:
        raise
    except Exception as e:
        raise fail(name, "sssom-parse", f"not a readable SSSOM TSV file: {e}") from None
    problems = [problem(name, f"sssom-{kind.value}", str(result))
                for kind, report in validate(msdf, fail_on_error=False).items() for result in report.results]
    rows = _file_rows(path)
    records = msdf.df.to_dict(orient="records")
    kept = {_key(r) for r in records}
    problems += [problem(name, "sssom-malformed", "sssom-py dropped this row as not well-formed (see its log for why)",
                         row=n, value=" ".join(key)) for key, n in rows.items() if key not in kept]
    mappings = []
    for record in records:
        m = _mapping(record, msdf.converter, name, rows.get(_key(record)), problems)
        if m is not None:
            mappings.append(m)
    mappings.sort(key=lambda m: m.row or 0)  # sssom-py sorts the rows; keep the file's order
    meta = msdf.metadata
    problems += [problem(name, "required", f"the mapping set needs a {key}", field=key)
                 for key in ("mapping_set_id", "license") if not meta.get(key)]
    if problems:
        raise SynthesisError(problems)
    return MappingSet(str(meta["mapping_set_id"]), str(meta["license"]), tuple(mappings),
                      meta.get("mapping_set_description"), dict(msdf.converter.bimap), demonstration)


def _demonstration(path: Path) -> bool:
    """The set-level `demonstration` extension slot, read from the `#` block (sssom-py drops extension values)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    block = "\n".join(line[1:] for line in itertools.takewhile(lambda line: line.startswith("#"), lines))
    meta = yaml.load(block, Loader=SafeYamlLoader) or {}
    if not isinstance(meta, dict) or DEMONSTRATION not in meta:
        return False
    declared = any(isinstance(d, dict) and d.get("slot_name") == DEMONSTRATION
                   for d in meta.get("extension_definitions") or [])
    if not declared or not isinstance(meta[DEMONSTRATION], bool):
        raise fail(str(path), "demonstration", "declare the demonstration slot in extension_definitions and give "
                   "it true or false", field=DEMONSTRATION, value=str(meta[DEMONSTRATION]))
    return meta[DEMONSTRATION]


_KEY_COLUMNS = ("subject_id", "predicate_id", "object_id")


def _key(record: dict) -> tuple[str, str, str]:
    subject, predicate, obj = (str(record.get(c) or "") for c in _KEY_COLUMNS)
    return subject, predicate, obj


def _file_rows(path: Path) -> dict[tuple[str, str, str], int]:
    """(subject, predicate, object) CURIEs → the row a spreadsheet shows for the table (its header = row 1).

    The `#` metadata block above the table is not counted: sssom-py reads it apart, as YAML.
    """
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    table = itertools.dropwhile(lambda line: line.startswith("#"), lines)
    records = csv.reader(table, delimiter="\t")  # quoting as pandas reads it for sssom-py
    header = next(records, [])
    cols = [header.index(c) if c in header else None for c in _KEY_COLUMNS]
    out: dict[tuple[str, str, str], int] = {}
    for n, cells in enumerate(records, start=HEADER_ROW + 1):
        if not any(cells):  # a blank line: a row of the sheet, but no mapping
            continue
        subject, predicate, obj = (cells[c] if c is not None and c < len(cells) else "" for c in cols)
        out.setdefault((subject, predicate, obj), n)
    return out


def _cell(row: dict, key: str) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return str(value)


def _values(row: dict, key: str) -> list[str]:
    value = row.get(key)
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    one = _cell(row, key)
    return one.split("|") if one else []


def _confidence(row: dict) -> float | None:
    """The row's confidence; None when it is missing or not a number."""
    value = row.get("confidence")
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:  # "" or text
        return None
    return None if math.isnan(number) else number


class _RowProblems:
    """Collects the problems of one mapping row (file and row fixed)."""

    def __init__(self, file: str, row: int | None, problems: list[Problem]) -> None:
        self.file, self.row, self.problems, self.start = file, row, problems, len(problems)

    def __call__(self, fld: str, value: str | None, rule: str, message: str) -> None:
        self.problems.append(problem(self.file, rule, message, row=self.row, field=fld, value=value))

    @property
    def any(self) -> bool:
        return len(self.problems) > self.start


def _expanded(row: dict, conv: Converter, report: _RowProblems) -> dict[str, list[str]]:
    """Every IRI column's CURIEs expanded; an undeclared prefix and a missing required column are reported."""
    def expand(fld: str, curie: str) -> str:
        iri = conv.expand(curie)
        if iri is None:
            report(fld, curie, "curie", "prefix not declared in the curie_map")
            return curie
        return iri

    iris = {k: [expand(k, v) for v in _values(row, k)] for k in _IRI_COLUMNS}
    for k in ("subject_id", "predicate_id", "object_id", "mapping_justification"):
        if not iris[k]:
            report(k, None, "required", f"every mapping needs a {k}")
    return iris


def _check_rules(row: dict, iris: dict[str, list[str]], report: _RowProblems) -> None:
    """qualkg's rules on one mapping, beyond the SSSOM schema."""
    predicate, justification = iris["predicate_id"][0], iris["mapping_justification"][0]
    if predicate not in PREDICATES:
        report("predicate_id", _cell(row, "predicate_id"), "predicate",
               "must be skos:exactMatch, closeMatch, broadMatch, narrowMatch, relatedMatch or qk:refutes")
    if not justification.startswith(str(SEMAPV)):
        report("mapping_justification", _cell(row, "mapping_justification"), "justification",
               "must be a semapv: term")
    if _confidence(row) is None:
        given = _cell(row, "confidence")
        report("confidence", given, "confidence", "always set a confidence (SSSOM reads a missing one as 1.0)"
               if given is None else "the confidence must be a number")
    if not (iris["author_id"] or _values(row, "author_label")):
        report("author_id", None, "author", "say who made the mapping (author_id or author_label)")
    modifier = _cell(row, "predicate_modifier")
    if modifier not in (None, "Not"):
        report("predicate_modifier", modifier, "modifier", "the only predicate modifier is Not")
    if predicate == str(SKOS.exactMatch) and not _cell(row, "comment"):
        report("comment", None, "exact-match",
               "skos:exactMatch is transitive: a comment must say why the two are identical")


def _mapping(row: dict, conv: Converter, file: str, n: int | None, problems: list[Problem]) -> Mapping | None:
    """One record of sssom-py's table as a Mapping, or None with its problems added to `problems`."""
    report = _RowProblems(file, n, problems)
    iris = _expanded(row, conv, report)
    if not report.any:
        _check_rules(row, iris, report)
    confidence = _confidence(row)
    if report.any or confidence is None:
        return None
    return Mapping(
        subject_id=iris["subject_id"][0], subject_label=_cell(row, "subject_label") or "",
        predicate_id=iris["predicate_id"][0], object_id=iris["object_id"][0], object_label=_cell(row, "object_label"),
        mapping_justification=iris["mapping_justification"][0],
        author_id=tuple(sorted(iris["author_id"])), author_label=tuple(sorted(_values(row, "author_label"))),
        reviewer_id=tuple(sorted(iris["reviewer_id"])), reviewer_label=tuple(sorted(_values(row, "reviewer_label"))),
        mapping_date=_cell(row, "mapping_date"),
        confidence=confidence, comment=_cell(row, "comment"),
        subject_source=next(iter(iris["subject_source"]), None), object_source=next(iter(iris["object_source"]), None),
        predicate_modifier=_cell(row, "predicate_modifier"), row=n)


# -- writing -----------------------------------------------------------------------------------

def to_msdf(mset: MappingSet, prefixes: dict[str, str]) -> MappingSetDataFrame:
    """The mapping set as sssom-py's MappingSetDataFrame, IRIs compressed with `prefixes`."""
    conv = Converter.from_prefix_map({**STANDARD_PREFIXES, **prefixes})

    def compress(iri: str) -> str:
        curie = conv.compress(iri)
        if curie is None:
            raise fail(mset.id, "curie", "no prefix covers this IRI", value=iri)
        return curie

    rows = []
    for m in mset.mappings:
        row: dict[str, object] = {}
        for col in COLUMNS:
            value = getattr(m, col)
            if col in _IRI_COLUMNS and value:
                value = tuple(compress(v) for v in value) if col in _MULTI else compress(value)
            if col in _MULTI:  # SSSOM TSV separates multiple values with "|"
                value = "|".join(value) if value else None
            row[col] = value
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS)).dropna(axis=1, how="all")
    meta: dict[str, object] = {"mapping_set_id": mset.id, "license": mset.license}
    if mset.description:
        meta["mapping_set_description"] = mset.description
    if mset.demonstration:
        meta["extension_definitions"] = [DEMONSTRATION_EXTENSION]
    return MappingSetDataFrame(df=df, converter=conv, metadata=meta)


def write_sssom(mset: MappingSet, prefixes: dict[str, str]) -> str:
    """The mapping set as SSSOM TSV text (YAML metadata block with curie_map, then the table)."""
    buf = io.StringIO()
    write_table(to_msdf(mset, prefixes), buf)
    text = buf.getvalue()
    if mset.demonstration:  # sssom-py writes no extension values: add the slot to the metadata block
        text = f"# {DEMONSTRATION}: true\n{text}"
    return text


def validate_sssom_text(text: str) -> list[str]:
    """sssom-py's validator on SSSOM TSV text (JSON schema, prefix map, CURIE format): the errors, if any."""
    msdf = parse_sssom_table(io.StringIO(text))
    kinds = [SchemaValidationType.JsonSchema, SchemaValidationType.PrefixMapCompleteness,
             SchemaValidationType.StrictCurieFormat]
    return [str(r) for report in validate(msdf, kinds, fail_on_error=False).values() for r in report.results]


def study_prefixes(iris: Iterable[str], base: str) -> dict[str, str]:
    """CURIE prefixes for qualkg instance IRIs: one per study, frame and agent namespace.

    `{base}study/anestis-2025/code/x` → prefix `anestis2025` for `{base}study/anestis-2025/`; frames
    and agents get `qkreview` and `qkagent`. The same rule names the prefixes of the bundled files,
    so an export reads like what was authored.
    """
    scheme = IriScheme(base)
    out: dict[str, str] = {}
    for iri in iris:
        segments = scheme.study_scoped(iri)
        if segments is not None and len(segments) > 2:
            namespace = scheme.study_namespace(segments[0])
            if iri.startswith(namespace):
                out[re.sub(r"[^A-Za-z0-9]", "", segments[0]).lower()] = namespace
        for name, namespace in (("qkreview", scheme.review_namespace()), ("qkagent", scheme.agent_namespace())):
            if iri.startswith(namespace):
                out[name] = namespace
    return out


# -- graph -------------------------------------------------------------------------------------

def _n(iri: object) -> NamedNode:
    return NamedNode(str(iri))


def record_iri(iris: IriScheme, set_id: str, m: Mapping) -> NamedNode:
    """The IRI of one mapping's SSSOM/RDF record in its set."""
    return _n(iris.mapping_record(set_id, m.subject_id, m.predicate_id, m.object_id, m.predicate_modifier))


def record_triples(mset: MappingSet, iris: IriScheme) -> list[Triple]:
    """The SSSOM/RDF records of a mapping set and the set's own metadata (nothing materialised)."""
    s = _n(mset.id)
    true = Literal("true", datatype=_n(XSD.boolean))
    out = [Triple(s, _n(RDF.type), _n(f"{SSSOM}MappingSet")), Triple(s, _n(DCTERMS.license), _n(mset.license))]
    if mset.description:
        out.append(Triple(s, _n(DCTERMS.description), Literal(mset.description)))
    out += [Triple(s, _n(p), true) for p, on in ((QK.demonstration, mset.demonstration),
                                                 (QK.bundledSet, mset.bundled)) if on]
    for m in mset.mappings:
        r = record_iri(iris, mset.id, m)
        status = QK.Reviewed if is_reviewed(m) else QK.Proposed
        out += [Triple(r, _n(QK.reviewStatus), _n(status)),
                Triple(s, _n(f"{SSSOM}mappings"), r), Triple(r, _n(RDF.type), _n(OWL.Axiom)),
                Triple(r, _n(OWL.annotatedSource), _n(m.subject_id)),
                Triple(r, _n(OWL.annotatedProperty), _n(m.predicate_id)),
                Triple(r, _n(OWL.annotatedTarget), _n(m.object_id)),
                Triple(r, _n(f"{SSSOM}mapping_justification"), _n(m.mapping_justification)),
                Triple(r, _n(f"{SSSOM}subject_label"), Literal(m.subject_label))]
        optional: list[tuple[str, NamedNode | Literal | None]] = [
            (f"{SSSOM}object_label", Literal(m.object_label) if m.object_label else None),
            (f"{DCTERMS}created", Literal(m.mapping_date, datatype=_n(XSD.date)) if m.mapping_date else None),
            (f"{SSSOM}confidence",
             Literal(repr(m.confidence), datatype=_n(XSD.double)) if m.confidence is not None else None),
            (str(RDFS.comment), Literal(m.comment) if m.comment else None),
            (f"{SSSOM}subject_source", _n(m.subject_source) if m.subject_source else None),
            (f"{SSSOM}object_source", _n(m.object_source) if m.object_source else None),
            (f"{SSSOM}predicate_modifier", Literal(m.predicate_modifier) if m.predicate_modifier else None),
        ]
        optional += [(f"{PAV}authoredBy", _n(a)) for a in m.author_id]
        optional += [(f"{SSSOM}author_label", Literal(a)) for a in m.author_label]
        optional += [(f"{SSSOM}reviewer_id", _n(a)) for a in m.reviewer_id]
        optional += [(f"{SSSOM}reviewer_label", Literal(a)) for a in m.reviewer_label]
        out += [Triple(r, _n(p), o) for p, o in optional if o is not None]
    return out


# Record predicates → Mapping fields, for reading records back from the store.
_FIELDS: dict[str, str] = {
    str(OWL.annotatedSource): "subject_id", str(OWL.annotatedProperty): "predicate_id",
    str(OWL.annotatedTarget): "object_id", f"{SSSOM}mapping_justification": "mapping_justification",
    f"{SSSOM}subject_label": "subject_label", f"{SSSOM}object_label": "object_label",
    f"{DCTERMS}created": "mapping_date", f"{SSSOM}confidence": "confidence", str(RDFS.comment): "comment",
    f"{SSSOM}subject_source": "subject_source", f"{SSSOM}object_source": "object_source",
    f"{SSSOM}predicate_modifier": "predicate_modifier", f"{PAV}authoredBy": "author_id",
    f"{SSSOM}author_label": "author_label", f"{SSSOM}reviewer_id": "reviewer_id",
    f"{SSSOM}reviewer_label": "reviewer_label",
}


def mapping_sets_in_store(store: GraphStore, catalog: Catalog) -> list[str]:
    """IRIs of the mapping sets held in the store."""
    return sorted(catalog.run(store, "mapping-sets", {})["set"])


def read_mapping_set(store: GraphStore, catalog: Catalog, set_id: str) -> MappingSet:
    """A mapping set back from its SSSOM/RDF records in the store (what `export` writes out)."""
    meta = catalog.run(store, "mapping-set-metadata", {"set": set_id})
    if meta.empty:
        raise fail(set_id, "unknown-set", "no such mapping set in the store", value=set_id)
    props = dict(zip(meta["p"], meta["o"], strict=True))
    records: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r, p, o in catalog.run(store, "mapping-set-records", {"set": set_id}).itertuples(index=False):
        if p in _FIELDS:
            records[r][_FIELDS[p]].append(o)
    mappings = []
    for rec in records.values():
        single = {k: v[0] for k, v in rec.items() if k not in _MULTI}
        multi = {k: tuple(sorted(str(x) for x in rec.get(k, []))) for k in _MULTI}
        if "confidence" in single:
            single["confidence"] = float(single["confidence"])
        mappings.append(Mapping(**{"object_label": None, **single, **multi}))
    mappings.sort(key=lambda m: (m.subject_id, m.predicate_id, m.object_id))
    flags = {p for p, o in props.items() if o in ("true", True)}
    return MappingSet(set_id, props[str(DCTERMS.license)], tuple(mappings), props.get(str(DCTERMS.description)),
                      demonstration=str(QK.demonstration) in flags, bundled=str(QK.bundledSet) in flags)
