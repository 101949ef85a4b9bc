"""Two coders on one span: one excerpt, both coders, and who applied which code (decision 0034).

Hand-worked from the fixture study (tests/fixture_study.py): a second coder who repeats every coding
changes no answer; one who codes X1 differently keeps five excerpts and records each coder's coding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from pyoxigraph import NamedNode

from qualkg.ingest.mapping import StudyMapper, map_study
from qualkg.ingest.pipeline import ingest
from qualkg.ingest.records import Coder, StudyRecords
from qualkg.ontology.iris import IriScheme
from qualkg.ontology.namespaces import QKDATA
from qualkg.queries.catalog import Catalog
from qualkg.store import open_store
from qualkg.store.base import GraphStore
from qualkg.wiring import load_model
from tests.badinputs.make_corpus import PHRASE, START, g, project, qdpx
from tests.conftest import LiveServer
from tests.fixture_study import fixture_records
from tests.ingest.readers.test_tabular import MAXQDA_HEADER, MAXQDA_ROWS, write_xlsx

IRIS = IriScheme(str(QKDATA))
PREFIXES = ("PREFIX qk: <https://w3id.org/qualkg/ns#> PREFIX oa: <http://www.w3.org/ns/oa#> "
            "PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> ")
# Every question, with the parameters that change what it counts: a second coder repeating R1 adds no excerpt.
ASKED: list[tuple[str, dict[str, str | None]]] = [
    ("challenges-by-context", {}), ("challenges-by-context", {"feature": "peer-supervision"}),
    ("codebook", {}), ("context-contrast", {}), ("contexts", {}), ("cooccurrence", {}), ("excerpts", {}),
    ("matrix", {}), ("matrix", {"rows": "team", "columns": "code"}), ("participants", {}), ("perspectives", {}),
    ("recurring-findings", {}), ("studies", {}), ("study-compare", {"a": "fx", "b": "fx"}),
    ("study-overview", {"study": "fx"}), ("teams", {}),
]


def _store(records: StudyRecords) -> GraphStore:
    store = open_store("oxigraph", path=None)
    load_model(store)
    store.replace_graph(IRIS.graph(records.study.id), map_study(records, IRIS))
    return store


def _with_second_coder(records: StudyRecords, codes: dict[int, tuple[str, ...]] | None = None) -> StudyRecords:
    """R2 codes the excerpts `codes` names (index → codes), or repeats every coding of R1."""
    chosen = codes or {i: x.codes for i, x in enumerate(records.excerpts)}
    second = [replace(records.excerpts[i], codes=c, coder="R2") for i, c in chosen.items()]
    return replace(records, coders=[*records.coders, Coder("R2", "Researcher Two")],
                   excerpts=[*records.excerpts, *second])


def _rows(store: GraphStore, query: str, **bindings: NamedNode) -> list[tuple[object, ...]]:
    """The answer as sorted tuples of plain values (IRIs as strings, unbound as None)."""
    df = store.select_df(PREFIXES + query, dict(bindings))
    return sorted((tuple(None if pd.isna(v) else v for v in row) for row in df.itertuples(index=False)), key=repr)


def _answer(catalog: Catalog, store: GraphStore, qid: str, params: dict[str, str | None]) -> list[tuple]:
    df = catalog.run(store, qid, params)
    return sorted(tuple(None if pd.isna(v) else v for v in row) for row in df.itertuples(index=False))


@pytest.mark.parametrize(("qid", "params"), ASKED, ids=[f"{q}-{i}" for i, (q, _) in enumerate(ASKED)])
def test_a_second_coder_repeating_every_coding_changes_no_answer(catalog: Catalog, fx_store: GraphStore,
                                                                 qid: str, params: dict[str, str | None]) -> None:
    doubled = _store(_with_second_coder(fixture_records()))
    try:
        assert _answer(catalog, doubled, qid, params) == _answer(catalog, fx_store, qid, params)
    finally:
        doubled.close()


@pytest.fixture(scope="module")
def disagreeing() -> Iterator[tuple[StudyRecords, GraphStore]]:
    # X1 is TR1 [0, 26) "SYNTHETIC: The pay is low.", coded C1 (Low pay) by R1; R2 codes it C3 (Shared
    # decisions) instead: X1 gets the codes C1 and C3, the creators R1 and R2, and one qk:Coding each
    records = _with_second_coder(fixture_records(), {0: ("C3",)})
    store = _store(records)
    yield records, store
    store.close()


def test_who_applied_which_code_survives(disagreeing: tuple[StudyRecords, GraphStore]) -> None:
    records, store = disagreeing
    x1 = StudyMapper(records, IRIS).excerpt(records.excerpts[0])
    code, coder = (lambda c: IRIS.scoped("fx", "code", c)), (lambda c: IRIS.scoped("fx", "coder", c))
    rows = _rows(store, "SELECT ?coder ?code WHERE { ?x qk:hasCoding ?k . ?k dcterms:creator ?coder ; "
                 "qk:appliedCode ?code }", x=x1)
    assert rows == [(coder("R1"), code("C1")), (coder("R2"), code("C3"))]
    assert _rows(store, "SELECT ?c WHERE { ?x oa:hasBody ?c }", x=x1) == [(code("C1"),), (code("C3"),)]
    assert _rows(store, "SELECT ?c WHERE { ?x dcterms:creator ?c }", x=x1) == [(coder("R1"),), (coder("R2"),)]
    one_coder = _rows(store, "SELECT ?x WHERE { ?x a qk:CodedExcerpt . FILTER NOT EXISTS { ?x qk:hasCoding ?k } }")
    assert len(one_coder) == 4  # X2..X5 have one coder: their one creator applied all their codes


def test_counts_follow_the_spans_not_the_codings(catalog: Catalog,
                                                 disagreeing: tuple[StudyRecords, GraphStore]) -> None:
    """Still five excerpts; "Shared decisions" now has X1, X3, X4 (three), "Low pay" still X1, X5 (two)."""
    _, store = disagreeing
    totals = catalog.run(store, "study-overview", {"study": "fx"})
    assert totals[totals["section"] == "totals"]["n"].tolist() == [5]
    codebook = catalog.run(store, "codebook", {"level": "code"}).set_index("label")["excerpts"]
    assert (codebook["Shared decisions"], codebook["Low pay"], codebook["Compromised hierarchy"]) == (3, 2, 2)


def _two_coder_project(tmp_path: Path, *, second_user: str | None = f' creatingUser="{g(2)}"') -> Path:
    users = f'<Users><User guid="{g(1)}" name="coder-a"/><User guid="{g(2)}" name="coder-b"/></Users>'
    codes = (f'<CodeBook><Codes><Code guid="{g(10)}" name="Pay" isCodable="true"/>'
             f'<Code guid="{g(11)}" name="Hours" isCodable="true"/></Codes></CodeBook>')
    sel = (f'<PlainTextSelection guid="{g(30)}" name="{PHRASE}" startPosition="{START}" '
           f'endPosition="{START + len(PHRASE)}">'
           f'<Coding guid="{g(31)}" creatingUser="{g(1)}"><CodeRef targetGUID="{g(10)}"/></Coding>'
           f'<Coding guid="{g(32)}"{second_user or ""}><CodeRef targetGUID="{g(11)}"/></Coding>'
           f'</PlainTextSelection>')
    path = tmp_path / "two-coders.qdpx"
    path.write_bytes(qdpx(project(codes=users + codes, selections=sel))())
    return path


def test_a_refi_selection_with_two_coders_is_ingested_with_both(tmp_path: Path) -> None:
    """One PlainTextSelection, two <Coding>s by different users: one excerpt, coder-a → Pay, coder-b → Hours."""
    store = open_store("oxigraph", path=None)
    report = ingest(_two_coder_project(tmp_path), store, IRIS)
    assert report.written and report.studies[0].excerpts == 1
    rows = _rows(store, "SELECT ?name ?label WHERE { ?x a qk:CodedExcerpt ; qk:hasCoding ?k . "
                 "?k dcterms:creator/rdfs:label ?name ; qk:appliedCode/skos:prefLabel ?label }")
    assert rows == [("coder-a", "Pay"), ("coder-b", "Hours")]


def test_a_coding_without_a_user_next_to_one_with_a_user_keeps_them_apart(tmp_path: Path) -> None:
    """coder-a applied Pay; nobody said who applied Hours: two codings, one of them without a creator."""
    store = open_store("oxigraph", path=None)
    ingest(_two_coder_project(tmp_path, second_user=None), store, IRIS)
    rows = _rows(store, "SELECT ?k ?code ?coder WHERE { ?x qk:hasCoding ?k . ?k qk:appliedCode ?code . "
                 "OPTIONAL { ?k dcterms:creator ?coder } }")
    found = {(str(k).rsplit("/", 1)[-1], str(code).rsplit("/", 1)[-1], coder is not None) for k, code, coder in rows}
    assert ("unknown-coder", g(11), False) in found and len(found) == 2
    assert any(code == g(10) and known for _, code, known in found)


def test_a_maxqda_segment_coded_by_two_coders_is_one_excerpt(tmp_path: Path) -> None:
    """MAXQDA_ROWS: segment A by coder-a and coder-b, B and C by coder-a: three excerpts, not four."""
    header: list[object] = [*MAXQDA_HEADER]
    path = write_xlsx(tmp_path / "segments.xlsx", [header, *MAXQDA_ROWS])
    report = ingest(path, None, IRIS, dry_run=True)
    assert report.studies[0].excerpts == 3


def test_codings_are_named_by_the_excerpt_and_the_coder() -> None:
    x = "https://w3id.org/qualkg/id/study/s/excerpt/0123456789abcdef"
    assert IRIS.coding(x, None) == f"{x}/coding/unknown-coder"
    assert IRIS.coding(x, "unknown-coder") != IRIS.coding(x, None)
    assert NamedNode(IRIS.coding(x, "Coder A")).value.startswith(f"{x}/coding/")


def test_a_two_coder_project_is_accepted_over_http(live: LiveServer, tmp_path: Path) -> None:
    """The upload the issue reports as refused (422, dcterms:creator maxCount): a dry run gives one excerpt."""
    path = _two_coder_project(tmp_path)
    with live.client("ingest") as c:
        r = c.post("/studies", files={"file": (path.name, path.read_bytes())}, data={"dry_run": "true"})
    assert r.status_code == 200, r.text
    assert r.json()["studies"][0]["excerpts"] == 1
