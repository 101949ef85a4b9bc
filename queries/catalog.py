"""Named questions as data: `.rq` files with a `#+` YAML header, and checked parameter binding (decision 0040).

Header keys: id, title, description, paged, scope, params, columns. Every numeric column declares
`count: UNIT`, `derived: {formula, of}` or `measure: WHAT`; a question that leaves one undeclared is refused
(decision 0070). Values are bound as checked RDF terms; nothing a caller sends is pasted into SPARQL. An
empty value, or one outside what a parameter takes, is refused naming the values it takes; the values that
depend on the data (studies, attribute names, codes) come from queries/values/NAME.rq (decision 0126).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Generic, Protocol, TypeVar
from typing import Literal as Lit

import pandas as pd
import yaml
from pydantic import BaseModel, Field, model_validator
from pyoxigraph import Literal, NamedNode
from rdflib.namespace import RDF, SKOS, XSD

from qualkg.ontology import vocabulary_graph
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import FEATURE, MODE, QKDATA, ROLE
from qualkg.queries.numeric import count_like_columns
from qualkg.store.base import GraphStore, QueryError, Term


class HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=HasId)  # a question or a twin (Cypher, SQL): anything loaded by its `id`

# Vocabulary name → the namespace its concepts live in.
VOCABULARIES: dict[str, str] = {"role": str(ROLE), "feature": str(FEATURE), "mode": str(MODE)}
PAGE_MARKER = "#PAGE"  # a SPARQL comment line in a paged question: where LIMIT/OFFSET go


class ParameterError(ValueError):
    """A parameter value was refused; says which parameter, which value and why."""

    def __init__(self, param: str, value: str, rule: str, message: str) -> None:
        self.param, self.value, self.rule = param, value, rule
        super().__init__(f"parameter '{param}': {message} (value {value!r})")


class Param(BaseModel):
    name: str
    type: Lit["concept", "study", "string", "int", "bool", "iri"]
    vocab: str | None = None  # for type concept: role | feature | mode
    default: str | None = None
    required: bool = False
    description: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: list[str] | None = None  # for type string: the only values allowed


# What a count column counts. Records about persons (perturbed for callers without 'excerpts'); studies and
# reviews are not about persons (published as they are).
PERSON_UNITS = frozenset({"excerpt", "participant", "event", "team", "pair"})
STUDY_UNITS = frozenset({"study", "review"})
Unit = Lit["excerpt", "participant", "event", "team", "pair", "study", "review"]
FORMULAS = {"c-coefficient": 3, "presence": 2}  # a derived column's formula → how many inputs it takes


class Derived(BaseModel):
    """A column computed from count columns of the same row: disclosure control computes it again from the
    published inputs (decision 0070)."""

    formula: Lit["c-coefficient", "presence"]
    of: list[str]  # the input columns, in the formula's order

    @model_validator(mode="after")
    def _arity(self) -> Derived:
        if len(self.of) != FORMULAS[self.formula]:
            raise ValueError(f"formula '{self.formula}' takes {FORMULAS[self.formula]} columns, not {self.of}")
        return self


class Column(BaseModel):
    name: str
    label: str | None = None
    count: Unit | list[Unit] | None = None  # what a count column counts (one unit, or one per kind of row)
    records: str | None = None  # a person count's hidden column listing the records it counts
    hidden: bool = False  # a helper column (records) that no answer publishes
    derived: Derived | None = None
    measure: str | None = None  # a number that counts no one (an offset, a score)
    text: bool = False  # excerpt text: needs the 'excerpts' scope

    @property
    def units(self) -> frozenset[str]:
        return frozenset([] if self.count is None else [self.count] if isinstance(self.count, str) else self.count)

    @property
    def about_persons(self) -> bool:
        """A count of records about persons: disclosure control perturbs it and hides small values."""
        return bool(self.units & PERSON_UNITS)

    @property
    def declared_numeric(self) -> bool:
        return self.count is not None or self.derived is not None or self.measure is not None

    @model_validator(mode="after")
    def _one_kind(self) -> Column:
        kinds = [k for k, v in (("count", self.count), ("derived", self.derived), ("measure", self.measure),
                                ("hidden", self.hidden or None), ("text", self.text or None)) if v is not None]
        if len(kinds) > 1:
            raise ValueError(f"column '{self.name}' is declared {' and '.join(kinds)}: choose one")
        if self.about_persons and self.units & STUDY_UNITS:
            raise ValueError(f"column '{self.name}' counts persons' records and studies at once")
        if self.records is not None and not self.about_persons:
            raise ValueError(f"column '{self.name}' lists records but counts no records about persons")
        return self


class Question(BaseModel):
    id: str
    title: str
    description: str
    paged: bool = False  # accepts limit/offset, placed where the query's PAGE_MARKER line is
    scope: str = "aggregate"  # the API scope a caller needs; row-per-excerpt answers need "excerpts"
    params: list[Param] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list)
    sparql: str = Field(repr=False)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def needs_a_value(self) -> bool:
        """Whether it has a required parameter without a default (it cannot be asked bare)."""
        return any(p.required and p.default in (None, "") for p in self.params)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def published(self) -> list[Column]:
        """The columns an answer may show (hidden record columns are for disclosure control only)."""
        return [c for c in self.columns if not c.hidden]

    @model_validator(mode="after")
    def _paged_has_one_marker(self) -> Question:
        if self.paged and self.sparql.count(PAGE_MARKER) != 1:
            raise ValueError(f"a paged question needs exactly one '{PAGE_MARKER}' line where its page is cut")
        return self

    @model_validator(mode="after")
    def _columns_refer_to_columns(self) -> Question:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"a column is declared twice: {names}")
        hidden = {c.name for c in self.columns if c.hidden}
        counts = {c.name for c in self.columns if c.count is not None}
        for c in self.columns:
            if c.records is not None and c.records not in hidden:
                raise ValueError(f"column '{c.name}' lists its records in '{c.records}', not a hidden column")
            if c.about_persons and c.records is None and self.scope != "excerpts":
                raise ValueError(f"column '{c.name}' counts records about persons for '{self.scope}' callers: "
                                 "name the hidden column that lists them (`records: NAME`), which disclosure "
                                 "control perturbs it by (decision 0070)")
            if c.derived is not None and not set(c.derived.of) <= counts:
                raise ValueError(f"derived column '{c.name}' is computed from {c.derived.of}, "
                                 f"not all declared counts ({sorted(counts)})")
        return self

    @model_validator(mode="after")
    def _count_like_columns_are_declared(self) -> Question:
        """A column the query computes as a number, or from a count, must say what it is (decision 0070)."""
        declared = {c.name for c in self.columns if c.declared_numeric}
        undeclared = [v for v in count_like_columns(self.sparql) if v not in declared]
        if undeclared:
            raise ValueError(f"undeclared count-like column(s) {undeclared}: declare each as `count: UNIT` "
                             f"({', '.join(sorted(PERSON_UNITS | STUDY_UNITS))}), `derived: {{formula, of}}` "
                             "or `measure: WHAT`")
        return self

    def page(self, limit: int, offset: int = 0) -> str:
        """The query text cut to one page at its `#PAGE` line; the clause is built from ints, never from caller text."""
        return self.sparql.replace(PAGE_MARKER, f"LIMIT {int(limit)} OFFSET {max(0, int(offset))}")


def parse_question(text: str, source: str) -> Question:
    """Split a .rq file into its `#+` YAML header and the query."""
    header = "\n".join(line[3:] if line.startswith("#+ ") else line[2:]
                       for line in text.splitlines() if line.startswith("#+"))
    meta = yaml.safe_load(header) or {}
    try:
        params = [Param(name=name, **(spec or {})) for name, spec in (meta.pop("params", None) or {}).items()]
        columns = [Column(**c) if isinstance(c, dict) else Column(name=c) for c in meta.pop("columns", None) or []]
        return Question(params=params, columns=columns, sparql=text, **meta)
    except Exception as e:  # a broken query file is a packaging bug: name the file
        raise ValueError(f"{source}: bad question header: {e}") from e


@cache
def _concepts(namespace: str) -> frozenset[str]:
    """IRIs of the vocabulary concepts under a namespace."""
    g = vocabulary_graph()
    return frozenset(str(s) for s in g.subjects(SKOS.inScheme, None) if str(s).startswith(namespace)) | frozenset(
        str(s) for s in g.subjects(RDF.type, SKOS.Concept) if str(s).startswith(namespace))


def _concept_ids(p: Param) -> list[str]:
    ns = VOCABULARIES[p.vocab or ""]
    return sorted(c[len(ns):] for c in _concepts(ns))


def _concept_term(p: Param, value: str) -> Term:
    ns = VOCABULARIES[p.vocab or ""]
    iri = value if value.startswith(ns) else ns + value
    if iri not in _concepts(ns):
        raise ParameterError(p.name, value, "vocabulary",
                             f"not a concept of the {p.vocab} vocabulary; one of: {', '.join(_concept_ids(p))}")
    return NamedNode(iri)


def _study_term(p: Param, value: str, iris: IriScheme) -> Term:
    if not value or len(value) > 200 or any(c in value for c in "<>\"{}|\\^` \n\t"):
        raise ParameterError(p.name, value, "study-id", "is not a study id")
    return NamedNode(iris.study(value))


def _int_term(p: Param, value: str) -> Term:
    try:
        n = int(value)
    except ValueError:
        raise ParameterError(p.name, value, "integer", "must be a whole number") from None
    if (p.minimum is not None and n < p.minimum) or (p.maximum is not None and n > p.maximum):
        raise ParameterError(p.name, value, "range", f"must be between {p.minimum} and {p.maximum}")
    return Literal(str(n), datatype=NamedNode(str(XSD.integer)))


def _bool_term(p: Param, value: str) -> Term:
    if value.lower() not in ("true", "false"):
        raise ParameterError(p.name, value, "boolean", "must be true or false")
    return Literal(value.lower(), datatype=NamedNode(str(XSD.boolean)))


def _iri_term(p: Param, value: str) -> Term:
    if not value.startswith(("http://", "https://")):
        raise ParameterError(p.name, value, "iri", "must be an http(s) IRI")
    try:
        return NamedNode(value)  # pyoxigraph refuses anything that is not a valid IRI
    except ValueError:
        raise ParameterError(p.name, value, "iri", "is not a valid IRI") from None


def _string_term(p: Param, value: str) -> Term:
    if p.choices is not None and value not in p.choices:
        raise ParameterError(p.name, value, "choice", f"must be one of: {', '.join(p.choices)}")
    if len(value) > 500:
        raise ParameterError(p.name, value[:40] + "…", "length", "is longer than 500 characters")
    return Literal(value)


def _fixed_values(p: Param) -> list[str] | None:
    """The values a parameter takes whatever the data (None: any text, or values that depend on the data)."""
    if p.type == "concept":
        return _concept_ids(p)
    if p.type == "bool":
        return ["true", "false"]
    return list(p.choices) if p.choices is not None else None


def one_of(values: list[str], shown: int = 40) -> str:
    """'one of: a, b, c' (the first `shown`, then how many more), or that there are none."""
    if not values:
        return "none: the store holds no such value"
    more = f" … and {len(values) - shown} more" if len(values) > shown else ""
    return f"one of: {', '.join(values[:shown])}{more}"


@dataclass(frozen=True)
class ValueList:
    """The values one parameter takes in the current data: a SELECT of `?value` (queries/values/ID.rq)."""

    id: str
    sparql: str


def parse_value_list(text: str, source: str) -> ValueList:
    header = yaml.safe_load("\n".join(line[3:] for line in text.splitlines() if line.startswith("#+ "))) or {}
    if "id" not in header or "?value" not in text:
        raise ValueError(f"{source}: a value list needs an `#+ id:` header and selects ?value")
    return ValueList(id=str(header["id"]), sparql=text)


# Parameter type → how a checked value becomes a term (study ids need the IRI scheme: Catalog._term).
_TERMS: dict[str, Callable[[Param, str], Term]] = {
    "concept": _concept_term, "int": _int_term, "bool": _bool_term, "iri": _iri_term, "string": _string_term,
}


class Catalog:
    """All named questions, loaded from package data; binds parameters and runs questions.

    With `values` (by parameter name, `study` for every study parameter) and a store, `bind` also refuses
    a value the data do not hold."""

    def __init__(self, questions: Mapping[str, Question], iris: IriScheme,
                 values: Mapping[str, ValueList] | None = None) -> None:
        self.questions = dict(questions)
        self.iris = iris
        self.values = dict(values or {})

    def get(self, qid: str) -> Question:
        if qid not in self.questions:
            raise KeyError(f"no question '{qid}'; known: {', '.join(sorted(self.questions))}")
        return self.questions[qid]

    def bind(self, qid: str, raw: Mapping[str, str | None], store: GraphStore | None = None) -> dict[str, Term]:
        """Check each value against its parameter's type and vocabulary (and, given `store`, against the
        data); return terms to substitute. A missing value takes the default; an empty one is refused."""
        q = self.get(qid)
        unknown = set(raw) - {p.name for p in q.params}
        if unknown:
            name = sorted(unknown)[0]
            known = ", ".join(p.name for p in q.params) or "none"
            raise ParameterError(name, str(raw[name]), "unknown-parameter",
                                 f"not a parameter of '{qid}' (parameters: {known})")
        bound: dict[str, Term] = {}
        empty = [p for p in q.params if raw.get(p.name) == ""]
        for p in q.params:
            value = raw.get(p.name)
            value = p.default if value is None else value
            if value in (None, ""):
                if p.required and p not in empty:
                    raise ParameterError(p.name, "", "required", f"is required; {self._one_of(p, store, bound)}")
                continue
            bound[p.name] = self._term(p, str(value))
        if empty:  # after the others: a value list may depend on them (attribute names of the study chosen)
            p = empty[0]
            instead = ("it is required" if p.required else f"leave it out for its default ({p.default})"
                       if p.default not in (None, "") else "leave it out for no filter")
            raise ParameterError(p.name, "", "empty", f"is empty: {instead}, or give {self._one_of(p, store, bound)}")
        if store is not None:
            for p in q.params:
                if p.name in bound:
                    self._check_known(p, bound, store)
        return bound

    def _value_list(self, p: Param) -> ValueList | None:
        return self.values.get("study" if p.type == "study" else p.name)

    def _known(self, p: Param, bound: Mapping[str, Term], store: GraphStore) -> list[str] | None:
        """The values `p` takes in the store's data (None: no value list for it); studies as ids."""
        values = self._value_list(p)
        if values is None:
            return None
        given = {k: v for k, v in bound.items() if k != p.name and f"?{k}" in values.sparql}
        found = [str(v) for v in store.select_df(values.sparql, given)["value"]]
        return [v.rsplit("/study/", 1)[-1] for v in found] if p.type == "study" else found

    def _one_of(self, p: Param, store: GraphStore | None, bound: Mapping[str, Term]) -> str:
        """'one of: …' for an error about `p`: its fixed values, else the data's (with a store)."""
        values = _fixed_values(p)
        if values is None and store is not None:
            values = self._known(p, bound, store)
        return one_of(values) if values is not None else ("a text" if p.type == "string" else f"a {p.type} value")

    def _check_known(self, p: Param, bound: Mapping[str, Term], store: GraphStore) -> None:
        known = self._known(p, bound, store)
        if known is None:
            return
        value = str(getattr(bound[p.name], "value", bound[p.name]))
        if p.type == "study":
            value = value.rsplit("/study/", 1)[-1]
        if value not in known:
            what = "study" if p.type == "study" else f"{p.name} in the data" + (" of that study" * ("study" in bound))
            raise ParameterError(p.name, value, "unknown", f"no such {what}; {one_of(known)}")

    def _term(self, p: Param, value: str) -> Term:
        if p.type == "study":
            return _study_term(p, value, self.iris)
        return _TERMS.get(p.type, _string_term)(p, value)

    def run(self, store: GraphStore, qid: str, raw: Mapping[str, str | None],
            limit: int | None = None, offset: int = 0, *, records: bool = False) -> pd.DataFrame:
        """Run a question with checked parameters; a DataFrame with the declared columns.

        `limit`/`offset` page a paged question inside the engine (see `Question.page`). The hidden record
        columns are kept only with `records` (for disclosure control), each as a string of record ids.
        """
        q = self.get(qid)
        sparql = q.page(limit, offset) if q.paged and limit is not None else q.sparql
        return answer_frame(q, store.select_df(sparql, self.bind(qid, raw, store)), records=records)


def _numeric(values: pd.Series) -> bool:
    """Whether a result column holds numbers (booleans and columns without a value are not numbers)."""
    values = values.dropna()
    return not values.empty and pd.api.types.infer_dtype(values, skipna=True) in {
        "integer", "floating", "mixed-integer", "mixed-integer-float", "decimal", "complex"}


def answer_frame(q: Question, df: pd.DataFrame, *, records: bool) -> pd.DataFrame:
    """An engine's answer as the catalog gives it: refused when a numeric column is not declared as a count,
    derived or measure (decision 0070); hidden record columns as strings, or dropped without `records`."""
    undeclared = [c for c in df.columns if _numeric(df[c]) and not ((col := q.column(str(c))) and col.declared_numeric)]
    if undeclared:
        raise QueryError(f"question '{q.id}' answers numbers in {undeclared}, which its header does not declare "
                         "(count, derived or measure)")
    hidden = [c.name for c in q.columns if c.hidden and c.name in df.columns]
    if not records:
        return df.drop(columns=hidden) if hidden else df
    lists = {name: [v if isinstance(v, str) else " ".join(v) if isinstance(v, list | tuple) else "" for v in df[name]]
             for name in hidden if not all(isinstance(v, str) for v in df[name])}
    return df.assign(**lists) if lists else df  # a new frame: an engine's answer may be kept and shared


def load_by_id(folder: str, suffix: str, parse: Callable[[str, str], T]) -> dict[str, T]:
    """Every `suffix` file under queries/`folder`, parsed, by its `id`; a duplicate id is a packaging bug."""
    out: dict[str, T] = {}
    for f in sorted(files("qualkg.queries").joinpath(folder).iterdir(), key=lambda f: f.name):
        if f.name.endswith(suffix):
            item = parse(f.read_text(encoding="utf-8"), f.name)
            if item.id in out:
                raise ValueError(f"{f.name}: duplicate id '{item.id}'")
            out[item.id] = item
    return out


class TwinCatalog(Generic[T]):
    """The named questions' twins for one other engine (`engine`: "SQL", "Cypher"), each answering a SPARQL
    question of `catalog`: the SPARQL question stays the definition, a question without a twin is not refused."""

    engine = "other"

    def __init__(self, catalog: Catalog, twins: Mapping[str, T]) -> None:
        orphans = sorted(set(twins) - set(catalog.questions))
        if orphans:
            raise ValueError(f"{self.engine} twins without a SPARQL question: {', '.join(orphans)}")
        self.catalog = catalog
        self.twins = dict(twins)

    def missing(self) -> list[str]:
        """Named questions that have no twin yet (answered from the RDF store)."""
        return sorted(set(self.catalog.questions) - set(self.twins))

    def twin(self, qid: str) -> T:
        """The twin of question `qid`; KeyError when it has none."""
        twin = self.twins.get(qid)
        if twin is None:
            raise KeyError(f"question '{qid}' has no {self.engine} twin")
        return twin


def load_questions() -> dict[str, Question]:
    """Every .rq file under queries/sparql, by id."""
    return load_by_id("sparql", ".rq", parse_question)


def load_value_lists() -> dict[str, ValueList]:
    """Every .rq file under queries/values, by id (the parameter name it serves)."""
    return load_by_id("values", ".rq", parse_value_list)


def default_catalog(base_iri: str = str(QKDATA)) -> Catalog:
    return Catalog(load_questions(), IriScheme(base_iri), load_value_lists())

