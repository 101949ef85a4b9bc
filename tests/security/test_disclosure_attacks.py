"""An `aggregate` caller attacking disclosure control (issue 16 item 2; decision 0070), on a real uvicorn.

Two datasets: the bundled one (the fixture study fx, the review record rv, the bundled seed study
anestis-2025 and the fixture synthesis graph: tests/projection/conftest.py) and a generated corpus
(bench/corpus.py, SYNTHETIC). k = 3 and a fixed secret. The caller asks every question, listing and feed it
reaches, over a grid of parameters (`requests`); the true counts come from the same requests with the
`excerpts` key, and the records behind every cell from the catalog in this process (`records=True`).

The attacks, each counted in the dataset's figures, printed and written to
tests/artifacts/disclosure-attacks-<dataset>.json:

- row counting: listings with a row per participant or excerpt answer 403 (the JBI worksheet its outline),
  and no answer the caller gets names an excerpt, a participant or a pseudonym;
- averaging: every request asked again, and asked in equivalent ways (a concept as its IRI, a topic in
  capitals, a listing through its question, CSV instead of JSON), gives the same numbers; and every cell
  counting the same records has the same published value in every answer — there is no second noisy
  observation of anything to average;
- marginal recovery: a c-coefficient is published only with all its inputs, and gives back only them;
- differencing: every exact relation between the cells of all answers — a total equal to the union of
  disjoint cells of one answer (a row, a column, the rows sharing a label), or a total from any answer
  minus a cell from any answer equal to a hidden cell — is found from the records (more than a caller can
  know). The sound attacker narrows the counts each published value allows through all of them together;
  a hidden cell is recovered when one value is left: must be 0. The Bayesian attacker multiplies every
  relation's evidence on each hidden cell: no count may reach a posterior of 0.8 (none reaches 0.9).

Two controls show the attackers have teeth: the same cells published as small-cell suppression publishes
them fall to the sound attacker, and published with cell-key noise alone (no record weights) to the
Bayesian one. The figures also give the naive estimate's hits (total minus visible cells) against guessing
the commonest small value, and the mean error the perturbation costs.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI

from bench import corpus
from qualkg.api.app import create_app
from qualkg.api.config import ApiConfig, ApiKey
from qualkg.api.disclosure import MAX_NOISE, CellKeys, noise, noise_probability
from qualkg.api.security import key_hash
from qualkg.ingest.pipeline import ingest
from qualkg.queries.catalog import Catalog, Question, default_catalog
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.store.cached import CachedStore
from qualkg.synthesis.questions import synthesis_catalog
from qualkg.wiring import load_model
from tests.conftest import IRIS, serve
from tests.projection.conftest import build_source_store

pytestmark = pytest.mark.servers

K = 3
SECRET = b"the attack test's fixed cell-key secret"
KEYS = {"aggregate": "test-key-aggregate", "excerpts": "test-key-excerpts"}
GENERATED_EXCERPTS = 1_200
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ROW_PER_PERSON = ("/participants", "/questions/participants", "/excerpts", "/questions/excerpts")


@dataclass(frozen=True)
class Ask:
    """One request, and the question (catalog, id, parameters) that answers it."""

    path: str
    params: tuple[tuple[str, str], ...] = ()
    qid: str | None = None
    raw: tuple[tuple[str, str], ...] = ()
    synthesis: bool = False

    @property
    def label(self) -> str:
        return self.path + ("?" + "&".join(f"{k}={v}" for k, v in self.params) if self.params else "")


@dataclass
class Cell:
    ask: str
    row: tuple[Any, ...]  # the row's labels (its dimension columns)
    column: str
    unit: str  # what the column counts
    published: int | None
    true: int
    records: frozenset[str]


@dataclass
class Dataset:
    name: str
    url: str
    store: GraphStore
    catalog: Catalog
    cells: list[Cell] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # ask label → aggregate JSON answer
    figures: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, path: str, params: tuple[tuple[str, str], ...] = ()) -> httpx.Response:
        return httpx.get(self.url + path, params=dict(params), headers={"Authorization": f"Bearer {KEYS[key]}"},
                         timeout=120)


def generated_store() -> GraphStore:
    """The model and a generated corpus of GENERATED_EXCERPTS excerpts, ingested as study packages."""
    store = open_store("oxigraph", path=None)
    load_model(store)
    with tempfile.TemporaryDirectory(prefix="qualkg-attack-") as tmp:
        corpus.write_packages(corpus.generate(GENERATED_EXCERPTS), Path(tmp))
        ingest(Path(tmp), store, IRIS, fmt="package")
    return store


def app_for(store: GraphStore, catalog: Catalog) -> FastAPI:
    keys = [ApiKey(key_sha256=key_hash(KEYS["aggregate"]), name="aggregate", scopes=frozenset({"aggregate"})),
            ApiKey(key_sha256=key_hash(KEYS["excerpts"]), name="excerpts", scopes=frozenset({"aggregate", "excerpts"}))]
    config = ApiConfig(keys=keys, min_cell_count=K, max_rows=100_000, query_timeout_s=120, answer_cache=0,
                       warm_answers=False)
    app = create_app(config, store, catalog)
    app.state.cell_keys = CellKeys(SECRET)
    return app


# -- what the caller asks ------------------------------------------------------------------------------

def _vocab(ds: Dataset, name: str) -> list[str]:
    return [c["id"] for c in ds.get("aggregate", f"/vocab/{name}").json()]


def _q(qid: str, **raw: str) -> Ask:
    params = tuple(sorted(raw.items()))
    return Ask(f"/questions/{qid}", params, qid, params)


def requests(ds: Dataset) -> list[Ask]:
    """Every question, listing and feed an aggregate caller reaches, over a grid of parameters: each
    parameter varied alone from the defaults, and the filters that slice by person crossed."""
    studies = [r["study"].rsplit("/", 1)[-1] for r in ds.get("aggregate", "/studies").json()["rows"]]
    roles, features = _vocab(ds, "role"), _vocab(ds, "feature")
    findings = [r["finding"] for r in ds.get("aggregate", "/synthesis/findings").json()["rows"]]
    scope = [{}] + [{"study": s} for s in studies]
    asks = [Ask("/studies", (), "studies"), _q("studies")]
    for s in studies:
        asks += [Ask(f"/studies/{s}", (), "study-overview", (("study", s),)), _q("study-overview", study=s)]
    for where in scope:
        asks += [Ask("/themes", tuple(sorted({**where, "level": lv}.items())), "codebook",
                     tuple(sorted({**where, "level": lv}.items()))) for lv in ("theme", "subtheme", "all")]
        asks += [Ask("/codes", tuple(where.items()), "codebook", tuple(sorted({**where, "level": "code"}.items())))]
        asks += [Ask("/teams", tuple(sorted({**where, **f}.items())), "teams", tuple(sorted({**where, **f}.items())))
                 for f in [{}] + [{"feature": f} for f in features]]
        asks += [_q("matrix", rows=r, columns=c, **where) for c in ("theme", "subtheme", "code")
                 for r in ("role", "team", "feature", "event-type", "attribute")]
        asks += [_q("contexts", **where, **f) for f in [{}] + [{"feature": f} for f in features]]
        asks += [_q("perspectives", **where, **pair) for pair in
                 [{}] + [{"peer": "peer-practitioner", "other": r} for r in roles if r != "peer-practitioner"]]
    asks += [_q("challenges-by-context", role=r, feature=f, topic="a") for r in roles for f in features]
    asks += [_q("challenges-by-context", topic=t) for t in ("challenge", "e", "o")]
    asks += [_q("cooccurrence")] + [_q("cooccurrence", role=r) for r in roles]
    asks += [_q("cooccurrence", feature=f) for f in features]
    asks += [_q("context-contrast", feature=f) for f in features]
    asks += [Ask("/synthesis/findings", (), "recurring-findings"), _q("recurring-findings")]
    asks += [_q("recurring-findings", finding=f) for f in findings]
    asks += [_q("context-contrast", finding=f) for f in findings]
    asks += [Ask("/synthesis/jbi", (), "jbi-outline", synthesis=True), Ask("/synthesis/soqf"),
             Ask("/synthesis/references.ris"), Ask("/synthesis/references.csl.json"), Ask("/questions"),
             Ask("/health")]
    asks += [Ask(f"/synthesis/findings/{f}/cerqual") for f in findings]
    if len(studies) > 1:
        asks += [Ask("/synthesis/suggestions", (("a", studies[0]), ("b", studies[1])))]
    return asks


# -- the survey: every answer, its true counts and its records -------------------------------------------

def _norm(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, bool | str):
        return value
    return float(value)


def _dimensions(q: Question) -> list[str]:
    return [c.name for c in q.published if not c.text and not c.declared_numeric]


def _true_frame(ds: Dataset, ask: Ask) -> tuple[Question, pd.DataFrame]:
    catalog = synthesis_catalog(ds.catalog.iris) if ask.synthesis else ds.catalog
    assert ask.qid is not None
    return catalog.get(ask.qid), catalog.run(ds.store, ask.qid, dict(ask.raw), records=True)


def _cells(ds: Dataset, ask: Ask, published: dict[str, Any], exact: dict[str, Any]) -> list[Cell]:
    """The cells of one answer: its published counts about persons against the true ones and their records."""
    q, truth = _true_frame(ds, ask)
    dims = _dimensions(q)
    by_row = {tuple(_norm(r[d]) for d in dims): r for r in truth.to_dict("records")}
    assert len(by_row) == len(truth), f"{ask.label}: rows are not told apart by {dims}"
    exact_rows = {tuple(_norm(r[d]) for d in dims): r for r in exact["rows"]}
    out = []
    for row in published["rows"]:
        key = tuple(_norm(row[d]) for d in dims)
        true_row = by_row[key]
        for col in q.columns:
            if col.about_persons and col.records:
                true = int(0 if pd.isna(true_row[col.name]) else true_row[col.name])
                assert exact_rows[key][col.name] == true, f"{ask.label}: the excerpts key sees the true count"
                records = frozenset(true_row[col.records].split())
                unit = "/".join(sorted(col.units))
                out.append(Cell(ask.label, key, col.name, unit, row[col.name], true, records))
    assert len(published["rows"]) == len(truth), f"{ask.label}: the aggregate answer keeps every row"
    return out


def survey(ds: Dataset) -> None:
    asked = requests(ds)
    for ask in asked:
        r = ds.get("aggregate", ask.path, ask.params)
        assert r.status_code == 200, (ask.label, r.text[:300])
        if r.headers["content-type"].startswith("application/json"):
            ds.answers[ask.label] = r.json()
        if ask.qid is not None:
            exact = ds.get("excerpts", ask.path, ask.params).json()
            ds.cells += _cells(ds, ask, r.json(), exact)
    hidden = [c for c in ds.cells if c.published is None and c.true > 0]
    ds.figures.update(requests=len(asked), questions_asked=len({a.qid for a in asked if a.qid}),
                      cells=len(ds.cells), hidden_cells=len(hidden),
                      distinct_hidden_record_sets=len({c.records for c in hidden}),
                      exact_visible_cells=sum(1 for c in ds.cells if c.published == c.true and c.true >= K),
                      visible_cells=sum(1 for c in ds.cells if c.published not in (None, 0)),
                      **_errors(ds.cells))


def _errors(cells: list[Cell]) -> dict[str, float]:
    """What the perturbation costs: the mean absolute error of the visible counts, by size."""
    out = {}
    for name, low, high in (("3-9", 3, 9), ("10-49", 10, 49), ("50+", 50, UNBOUNDED)):
        errors = [abs(c.published - c.true) for c in cells if c.published and low <= c.true <= high]
        out[f"mean_abs_error_counts_{name}"] = round(sum(errors) / len(errors), 2) if errors else 0.0
    return out


@pytest.fixture(scope="module", params=["bundled", "generated"])
def dataset(request: pytest.FixtureRequest) -> Iterator[Dataset]:
    # Each question is evaluated once: the aggregate, the excerpts and the in-process asking share it.
    store = CachedStore(build_source_store() if request.param == "bundled" else generated_store(),
                        max_answers=100_000, max_bytes=None)
    catalog = default_catalog()
    server, thread = serve(app_for(store, catalog))
    ds = Dataset(request.param, f"http://127.0.0.1:{server.config.port}", store, catalog)
    survey(ds)
    yield ds
    ARTIFACTS.mkdir(exist_ok=True)
    figures = json.dumps(ds.figures, indent=2, default=int)
    (ARTIFACTS / f"disclosure-attacks-{ds.name}.json").write_text(figures + "\n")
    print(f"\ndisclosure attacks on the {ds.name} data: {json.dumps(ds.figures, default=int)}")
    server.should_exit = True  # the app closes the store as it stops
    thread.join(timeout=10)


# -- row counting --------------------------------------------------------------------------------------

def _identifiers(store: GraphStore) -> set[str]:
    df = store.select_df("PREFIX qk: <https://w3id.org/qualkg/ns#> PREFIX oa: <http://www.w3.org/ns/oa#> "
                         "SELECT ?r ?name WHERE { { ?r a qk:CodedExcerpt } UNION { ?r a qk:Participant "
                         "OPTIONAL { ?r qk:pseudonym ?name } } }")
    return {str(v) for v in pd.concat([df["r"], df["name"]]).dropna()}


def test_row_counting_finds_no_row_per_person(dataset: Dataset) -> None:
    """No listing with a row per person or excerpt, and no answer naming one: nothing to count rows of."""
    for path in ROW_PER_PERSON:
        assert dataset.get("aggregate", path).status_code == 403, path
    assert dataset.answers["/synthesis/jbi"]["question"] == "jbi-outline"
    names = _identifiers(dataset.store)
    leaks = [label for label, body in dataset.answers.items()
             if set(re.findall(r'[^\s;|,"]+', json.dumps(body, ensure_ascii=False))) & names]
    dataset.figures["answers_naming_a_person_or_excerpt"] = len(leaks)
    dataset.figures["row_per_person_listings_refused"] = len(ROW_PER_PERSON)
    assert leaks == []


# -- averaging ---------------------------------------------------------------------------------------------

def _equivalents(ds: Dataset) -> list[tuple[tuple[str, dict[str, str]], tuple[str, dict[str, str]]]]:
    """Pairs of requests that ask for the same cells in other words."""
    role = "https://w3id.org/qualkg/vocab/role/peer-practitioner"
    study = next(iter(r["study"].rsplit("/", 1)[-1] for r in ds.get("aggregate", "/studies").json()["rows"]))
    return [(("/questions/challenges-by-context", {"role": "peer-practitioner"}),
             ("/questions/challenges-by-context", {"role": role})),
            (("/questions/challenges-by-context", {"topic": "challenge"}),
             ("/questions/challenges-by-context", {"topic": "CHALLENGE"})),
            (("/questions/matrix", {}), ("/questions/matrix", {"rows": "role", "columns": "theme"})),
            (("/themes", {}), ("/questions/codebook", {"level": "theme"})),
            (("/codes", {"study": study}), ("/questions/codebook", {"level": "code", "study": study})),
            (("/teams", {}), ("/questions/teams", {})),
            (("/studies", {}), ("/questions/studies", {})),
            ((f"/studies/{study}", {}), ("/questions/study-overview", {"study": study})),
            (("/synthesis/findings", {}), ("/questions/recurring-findings", {}))]


def test_averaging_finds_no_second_noisy_value(dataset: Dataset) -> None:
    """Asked again, asked otherwise, or met in another answer, the same records give the same number."""
    repeats = 0
    for label, body in dataset.answers.items():
        path, _, query = label.partition("?")
        again = dataset.get("aggregate", path, tuple(tuple(p.split("=", 1)) for p in query.split("&") if p))
        assert again.json() == body, f"{label} asked again differs"
        repeats += 1
    for (p1, q1), (p2, q2) in _equivalents(dataset):
        a = dataset.get("aggregate", p1, tuple(q1.items())).json()["rows"]
        b = dataset.get("aggregate", p2, tuple(q2.items())).json()["rows"]
        # the second answer's columns: a feed may add its own (the findings feed adds references and marks)
        assert [{k: r.get(k) for k in (b[0] if b else {})} for r in a] == b, f"{p1} {q1} and {p2} {q2} differ"
    published: dict[frozenset[str], set[int | None]] = defaultdict(set)
    for c in dataset.cells:
        published[c.records].add(c.published)
    differing = [s for s, values in published.items() if len(values) > 1]
    met = Counter(c.records for c in dataset.cells)
    dataset.figures.update(repeats=repeats, equivalent_pairs=len(_equivalents(dataset)),
                           record_sets=len(met), record_sets_met_more_than_once=sum(1 for n in met.values() if n > 1),
                           record_sets_with_two_published_values=len(differing))
    assert differing == []


def test_csv_gives_the_numbers_json_gives(dataset: Dataset) -> None:
    for label in ("/questions/matrix?columns=code&rows=team", "/studies"):
        path, _, query = label.partition("?")
        params = tuple(tuple(p.split("=", 1)) for p in query.split("&") if p)
        rows = list(csv.DictReader(io.StringIO(dataset.get("aggregate", path, (*params, ("format", "csv"))).text)))
        body = dataset.answers[label]["rows"]
        assert [{k: "" if v is None else str(v) for k, v in r.items()} for r in body] == rows


def test_cerqual_counts_are_the_findings_counts(dataset: Dataset) -> None:
    """A CERQual profile's adequacy note repeats the finding's counts: the same published values."""
    findings = {r["finding"]: r for r in dataset.answers["/synthesis/findings"]["rows"]}
    for f, row in findings.items():
        notes = dataset.answers[f"/synthesis/findings/{f}/cerqual"]["evidence_profile"]["adequacy"]["notes"]
        for what, column in (("participants", "participants"), ("excerpts", "excerpts"),
                             ("of which synthetic", "synthetic")):
            shown = re.search(rf"{what}: (\d+|suppressed)", notes)
            assert shown is not None
            assert shown.group(1) == ("suppressed" if row[column] is None else str(row[column])), (f, what)


# -- marginal recovery -----------------------------------------------------------------------------------

def test_the_c_coefficient_gives_back_no_hidden_count(dataset: Dataset) -> None:
    """c is published only beside all of n12, n1 and n2, and solving it for n12 gives the published n12."""
    rows = [r for label, body in dataset.answers.items() if label.startswith("/questions/cooccurrence")
            for r in body["rows"]]
    assert rows
    with_c = [r for r in rows if r["c"] is not None]
    assert all(None not in (r["n12"], r["n1"], r["n2"]) for r in with_c)
    recovered = [r for r in with_c if round(r["c"] * (r["n1"] + r["n2"]) / (1 + r["c"])) != r["n12"]]
    dataset.figures.update(cooccurrence_rows=len(rows), rows_hiding_an_input=sum(1 for r in rows if r["c"] is None),
                           hidden_counts_from_c=len(recovered))
    assert recovered == []


# -- differencing ----------------------------------------------------------------------------------------

UNBOUNDED = 10**9


def feasible(published: int | None, exact: bool = False) -> tuple[int, int]:
    """The true counts a published value may stand for: under api/disclosure.py (a weight of 0 to 2 per
    record, plus noise to ±MAX_NOISE: no upper bound), or, for the control, under suppression alone."""
    if published == 0:
        return 0, 0
    if exact:
        return (1, K - 1) if published is None else (published, published)
    if published is None:
        return 1, UNBOUNDED
    return max(K, -(-(published - MAX_NOISE) // 2)), UNBOUNDED


class System:
    """One unknown per distinct set of records; bounds from every published value of it; exact relations
    (total = sum of disjoint parts) between unknowns."""

    def __init__(self, cells: list[Cell], exact: bool = False) -> None:
        self.index: dict[frozenset[str], int] = {}
        self.lo: list[int] = []
        self.hi: list[int] = []
        self.true: list[int] = []
        self.published: list[int | None] = []
        self.relations: set[tuple[int, tuple[int, ...]]] = set()
        for c in cells:
            if not c.records:
                continue
            i = self.index.setdefault(c.records, len(self.lo))
            lo, hi = feasible(c.published, exact)
            if i == len(self.lo):
                self.lo.append(lo)
                self.hi.append(hi)
                self.true.append(len(c.records))
                self.published.append(c.published)
            else:
                self.lo[i], self.hi[i] = max(self.lo[i], lo), min(self.hi[i], hi)
        self.hidden = {self.index[c.records] for c in cells if c.published is None and c.records}
        self.by_record: dict[str, set[int]] = defaultdict(set)
        for s, i in self.index.items():
            for r in s:
                self.by_record[r].add(i)
        self.sets = {i: s for s, i in self.index.items()}

    def relate(self, total: frozenset[str], parts: list[frozenset[str]]) -> None:
        if total in self.index and len(parts) >= 2 and all(parts) and all(p in self.index for p in parts):
            ids = tuple(sorted(self.index[p] for p in parts))
            if self.index[total] not in ids:
                self.relations.add((self.index[total], ids))

    def propagate(self, rounds: int = 200) -> None:
        """Bounds consistency over every relation, until nothing narrows."""
        for _ in range(rounds):
            changed = False
            for t, parts in self.relations:
                lo_sum, hi_sum = sum(self.lo[p] for p in parts), sum(self.hi[p] for p in parts)
                changed |= self._narrow(t, lo_sum, hi_sum)
                for p in parts:
                    changed |= self._narrow(p, self.lo[t] - (hi_sum - self.hi[p]), self.hi[t] - (lo_sum - self.lo[p]))
            if not changed:
                return

    def _narrow(self, i: int, lo: int, hi: int) -> bool:
        lo, hi = max(self.lo[i], lo), min(self.hi[i], hi)
        assert lo <= self.true[i] <= hi, "the bounds are sound: a published value never excludes the truth"
        changed = (lo, hi) != (self.lo[i], self.hi[i])
        self.lo[i], self.hi[i] = lo, hi
        return changed


def _groups(all_cells: list[Cell]) -> Iterator[list[frozenset[str]]]:
    """Cells one answer puts side by side: per column, the whole column and the rows sharing a label; per
    row, its columns counting the same unit (peers' and others' excerpts; with and without a feature)."""
    by_answer: dict[str, list[Cell]] = defaultdict(list)
    for c in all_cells:
        by_answer[c.ask].append(c)
    for cells in by_answer.values():
        columns: dict[str, list[Cell]] = defaultdict(list)
        rows: dict[tuple[Any, ...], list[frozenset[str]]] = defaultdict(list)
        for c in cells:
            columns[c.column].append(c)
            rows[(*c.row, c.unit)].append(c.records)
        yield from rows.values()
        for column_cells in columns.values():
            yield [c.records for c in column_cells]
            width = len(column_cells[0].row)
            for d in range(width):
                shared: dict[Any, list[frozenset[str]]] = defaultdict(list)
                for c in column_cells:
                    shared[c.row[d]].append(c.records)
                yield from shared.values()


def build_system(cells: list[Cell], exact: bool = False) -> System:
    system = System(cells, exact)
    for group in _groups(cells):
        _partitions(system, [g for g in group if g])
    for h in system.hidden:
        _around(system, h)
    return system


def _partitions(system: System, group: list[frozenset[str]]) -> None:
    """A group of pairwise disjoint record sets whose union is counted elsewhere: total = Σ parts. Overlapping
    groups are split into their disjoint runs of distinct sets."""
    distinct = list(dict.fromkeys(group))
    union: set[str] = set()
    parts: list[frozenset[str]] = []
    for s in distinct:
        if union.isdisjoint(s):
            union |= s
            parts.append(s)
    if len(parts) >= 2:
        system.relate(frozenset(union), parts)


def _around(system: System, h: int) -> None:
    """Totals from any answer minus cells from any answer that leave the hidden cell h, and the cells h is
    the total of."""
    s = system.sets[h]
    supersets = set.intersection(*(system.by_record[r] for r in s))
    for t in supersets - {h}:
        system.relate(system.sets[t], [system.sets[t] - s, s])
    subsets = {i for r in s for i in system.by_record[r] if i != h and system.sets[i] < s}
    for a in subsets:
        system.relate(s, [system.sets[a], s - system.sets[a]])


def _naive(system: System) -> tuple[int, int, int]:
    """(estimates, exact hits, hits of guessing the commonest hidden value) of a total minus its visible
    parts, or the sum of visible parts, for each relation with one hidden cell."""
    commonest = Counter(system.true[h] for h in system.hidden).most_common(1)[0][0] if system.hidden else 0
    estimates = hits = guessed = 0
    for t, parts in system.relations:
        unknown = [i for i in (t, *parts) if i in system.hidden]
        if len(unknown) != 1:
            continue
        h, shown = unknown[0], {i: system.published[i] or 0 for i in (t, *parts)}
        estimate = shown[t] - sum(shown[p] for p in parts if p != h) if h != t else sum(shown[p] for p in parts)
        estimates += 1
        hits += estimate == system.true[h]
        guessed += commonest == system.true[h]
    return estimates, hits, guessed


def test_differencing_recovers_no_hidden_cell(dataset: Dataset) -> None:
    """The sound attacker: every value the perturbation table allows, narrowed through every relation."""
    base = System(dataset.cells)
    before = {h: (base.lo[h], base.hi[h]) for h in base.hidden}
    system = build_system(dataset.cells)
    estimates, hits, guessed = _naive(system)  # before propagation: each relation on its own published values
    system.propagate()
    recovered = [h for h in system.hidden if system.lo[h] == system.hi[h]]
    narrowed = [h for h in system.hidden if (system.lo[h], system.hi[h]) != before[h]]
    dataset.figures.update(
        unknowns=len(system.lo), exact_relations=len(system.relations),
        relations_with_a_hidden_cell=sum(1 for t, p in system.relations if {t, *p} & system.hidden),
        hidden_cells_narrowed=len(narrowed), hidden_cells_recovered=len(recovered),
        naive_estimates=estimates, naive_exact=hits, guessing_the_commonest_small_value=guessed)
    assert system.relations and system.hidden
    assert recovered == [], [(sorted(system.sets[h])[:3], system.true[h]) for h in recovered]


def test_the_same_attack_recovers_cells_from_suppression_alone(dataset: Dataset) -> None:
    """Control, so that the 0 above means something: the same cells published the way small-cell suppression
    publishes them (exact when ≥ k, null below) fall to the same attacker, who then knows the exact values."""
    suppressed = [replace(c, published=c.true if c.true == 0 or c.true >= K else None) for c in dataset.cells]
    system = build_system(suppressed, exact=True)
    system.propagate()
    recovered = [h for h in system.hidden if system.lo[h] == system.hi[h]]
    dataset.figures.update(control_suppression_hidden_record_sets=len(system.hidden),
                           control_suppression_recovered=len(recovered))
    assert recovered


# -- the Bayesian attacker -------------------------------------------------------------------------------

SPAN = 15  # noise beyond ±15 has probability < 1e-7: left out of the sums
WEIGHTS = np.arange(0, 2 * (K + SPAN))  # the weights a hidden cell may have (api/disclosure.py)
NOISE = {n: noise_probability(n) for n in range(-SPAN, SPAN + 1)}
NULL_BELOW = {w: sum(p for n, p in NOISE.items() if w + n < K) for w in range(-SPAN, 20 * K)}


def _given_weight(published: int | None, weights: np.ndarray) -> np.ndarray:
    """P(published | the cell's weight), for an array of weights (the count taken to be ≥ k unless null)."""
    if published == 0:
        return (weights == 0).astype(float)
    if published is None:
        return np.array([NULL_BELOW.get(int(w), 0.0) for w in weights])
    return np.array([NOISE.get(published - int(w), 0.0) for w in weights])


def _weight_of(published: int | None) -> tuple[int, np.ndarray]:
    """(first weight, probabilities): what a published value says of its cell's weight, flat prior."""
    if published == 0:
        return 0, np.array([1.0])
    first = 0 if published is None else max(0, published - SPAN)
    weights = np.arange(first, (K + SPAN if published is None else published + SPAN) + 1)
    p = _given_weight(published, weights)
    return first, p / p.sum()


def _relation_evidence(system: System, t: int, parts: tuple[int, ...], h: int) -> np.ndarray:
    """P(the relation's other published values | the hidden cell h's weight = each of WEIGHTS): the others'
    weights summed over. Weights add up, so total = Σ parts holds for them as for the counts."""
    first, dist = 0, np.array([1.0])
    for i in parts:
        if i != h:
            f, w = _weight_of(system.published[i])
            first, dist = first + f, np.convolve(dist, w)
    if h == t:
        index = WEIGHTS - first
        inside = (index >= 0) & (index < len(dist))
        return np.where(inside, dist[np.clip(index, 0, len(dist) - 1)], 0.0)
    sums = np.arange(first, first + len(dist))
    return np.array([float(np.dot(dist, _given_weight(system.published[t], w + sums))) for w in WEIGHTS])


def _count_posterior(weight_posterior: np.ndarray) -> np.ndarray:
    """P(count | what the weight posterior says), counts 1 … len-1, flat prior; a hidden count ≥ k needed
    its published value to fall below k."""
    counts = np.arange(1, len(WEIGHTS) // 2)
    out = np.array([sum(weight_posterior[w] * math.comb(2 * c, w) / 4 ** c * (1 if c < K else NULL_BELOW[w])
                        for w in range(min(2 * c, len(WEIGHTS) - 1) + 1)) for c in counts])
    return out / out.sum()


def _evidence(system: System) -> dict[int, np.ndarray]:
    """Per hidden cell, the log-likelihood of each weight, summed over every relation it is in."""
    evidence: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(len(WEIGHTS)))
    for t, parts in system.relations:
        for h in {t, *parts} & system.hidden:
            like = _relation_evidence(system, t, parts, h)
            if like.sum() > 0:
                evidence[h] += np.log(np.maximum(like, 1e-300))
    return evidence


def test_a_bayesian_attacker_stays_unsure(dataset: Dataset) -> None:
    """The attacker of the right model: for every hidden cell, every relation's evidence on the cell's weight
    (flat priors), multiplied over all its relations as if independent, then what that weight says of its
    count. However sure of the weight, one draw of Binomial(2c, 1/2) leaves any count below 0.8."""
    system = build_system(dataset.cells)
    evidence = _evidence(system)
    prior = _given_weight(None, WEIGHTS)
    sure_of_weight = right = sure = 0
    most = 0.0
    for h, log_like in evidence.items():
        weight = prior * np.exp(log_like - log_like.max())
        weight /= weight.sum()
        sure_of_weight += int(weight.max() >= 0.99)
        counts = _count_posterior(weight)
        right += int(int(counts.argmax()) + 1 == system.true[h])
        sure += int(counts.max() >= 0.9)
        most = max(most, float(counts.max()))
    commonest = Counter(system.true[h] for h in evidence).most_common(1)[0][1] if evidence else 0
    dataset.figures.update(bayes_hidden_cells=len(evidence), bayes_weight_known_at_099=sure_of_weight,
                           bayes_max_posterior_of_a_count=round(most, 3), bayes_counts_at_09=sure,
                           bayes_best_guess_right=right, guessing_the_commonest_small_value_right=commonest)
    assert evidence and most < 0.8 and sure == 0


def test_cell_key_noise_alone_falls_to_the_same_attacker(dataset: Dataset) -> None:
    """Control for the weights: the same cells published with the cell-key noise alone (c + noise, as ABS
    and ONS perturb) and the same attacker, whose evidence on each hidden count now adds up over relations
    with fresh noise each. It becomes sure of counts; the weights are what stops that."""
    keys = CellKeys(SECRET)

    def alone(c: Cell) -> int | None:
        if c.true == 0 or c.true < K:
            return 0 if c.true == 0 else None
        published = c.true + noise(keys.cell_key(c.records))
        return published if published >= K else None

    system = build_system([replace(c, published=alone(c)) for c in dataset.cells])
    sure = right = 0
    for h, log_like in _evidence(system).items():  # a weight is now the count itself: one per record
        posterior = _given_weight(None, WEIGHTS) * np.exp(log_like - log_like.max()) * (WEIGHTS > 0)
        posterior /= posterior.sum()
        if posterior.max() >= 0.9:
            sure += 1
            right += int(WEIGHTS[posterior.argmax()]) == system.true[h]
    dataset.figures.update(control_cell_key_alone_counts_at_09=sure, control_cell_key_alone_right=right)
    assert sure > 0
