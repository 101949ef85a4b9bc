"""Every count-like column says what it counts, and no listing an `aggregate` caller reaches has a row per
person (decision 0070): checked on the headers' text, on bad headers, and on answers of the fixture study."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from qualkg.queries.catalog import PERSON_UNITS, Catalog, parse_question
from qualkg.queries.numeric import count_like_columns, projected
from qualkg.store.base import GraphStore, QueryError
from qualkg.synthesis.questions import synthesis_catalog

HEAD = "#+ id: bad\n#+ title: t\n#+ description: d\n#+ scope: excerpts\n"  # no records needed (below)
PREFIXES = "PREFIX qk: <https://w3id.org/qualkg/ns#>\nPREFIX oa: <http://www.w3.org/ns/oa#>\n"


def question_text(columns: str, select: str, head: str = HEAD) -> str:
    return head + "#+ columns:\n" + "".join(f"#+   - {c}\n" for c in columns.split("|")) + PREFIXES + select


def all_questions(catalog: Catalog) -> list:
    return [*catalog.questions.values(), *synthesis_catalog(catalog.iris).questions.values()]


def test_every_count_like_column_is_declared(catalog: Catalog) -> None:
    """The catalog loaded, so each header passed; this says what passing means for every shipped question."""
    for q in all_questions(catalog):
        declared = {c.name for c in q.columns if c.declared_numeric}
        assert set(count_like_columns(q.sparql)) <= declared, q.id
        # the header lists the answer's columns; a CONSTRUCT answers triples, listed as s, p, o
        constructs = re.search(r"^CONSTRUCT\b", q.sparql, re.MULTILINE) is not None
        assert [c.name for c in q.columns] == (["s", "p", "o"] if constructs else projected(q.sparql)), q.id


def test_person_counts_and_study_counts_are_told_apart(catalog: Catalog) -> None:
    units = {(q.id, c.name): c.units for q in all_questions(catalog) for c in q.columns if c.count}
    assert units[("recurring-findings", "studies")] == {"study"}
    assert units[("recurring-findings", "reviews")] == {"review"}
    assert units[("challenges-by-context", "synthetic")] == {"excerpt"}  # was never suppressed (issue 16)
    assert units[("context-contrast", "with_teams")] == {"team"}
    assert units[("study-overview", "n")] == {"participant", "event", "excerpt"}
    assert all(u <= PERSON_UNITS or not u & PERSON_UNITS for u in units.values())


def test_derived_columns_name_their_inputs(catalog: Catalog) -> None:
    c = catalog.get("cooccurrence").column("c")
    assert c is not None and c.derived is not None
    assert (c.derived.formula, c.derived.of) == ("c-coefficient", ["n12", "n1", "n2"])
    spoken = catalog.get("perspectives").column("spoken_by")
    assert spoken is not None and spoken.derived is not None and spoken.derived.formula == "presence"


@pytest.mark.parametrize(("columns", "select", "message"), [
    pytest.param("{name: x}|{name: n}", "SELECT ?x (COUNT(?y) AS ?n) WHERE { ?x qk:p ?y } GROUP BY ?x",
                 r"undeclared count-like column\(s\) \['n'\]", id="an undeclared COUNT"),
    pytest.param("{name: x}|{name: n}", "SELECT ?x ?n WHERE { { SELECT ?x (COUNT(?y) AS ?m) WHERE { ?x qk:p ?y } "
                 "GROUP BY ?x } BIND(COALESCE(?m, 0) AS ?n) }", r"\['n'\]", id="a count through a subquery"),
    pytest.param("{name: x}|{name: share}", "SELECT ?x (?a / ?b AS ?share) WHERE { ?x qk:a ?a ; qk:b ?b }",
                 r"\['share'\]", id="arithmetic"),
    pytest.param("{name: x}|{name: label}", 'SELECT ?x (IF(COUNT(?y) > 2, "many", "few") AS ?label) '
                 "WHERE { ?x qk:p ?y } GROUP BY ?x", r"\['label'\]", id="a label computed from a count"),
    pytest.param("{name: x}|{name: n, count: true}", "SELECT ?x (COUNT(?y) AS ?n) WHERE { ?x qk:p ?y } GROUP BY ?x",
                 "valid list", id="count: true says nothing about what is counted"),
    pytest.param("{name: x}|{name: n, count: excerpt}|{name: c, derived: {formula: presence, of: [n, x]}}",
                 "SELECT ?x (COUNT(?y) AS ?n) ?c WHERE { ?x qk:p ?y } GROUP BY ?x ?c",
                 "not all declared counts", id="derived from a column that is no count"),
    pytest.param("{name: x}|{name: n, count: excerpt, records: x}",
                 "SELECT ?x (COUNT(?y) AS ?n) WHERE { ?x qk:p ?y } GROUP BY ?x",
                 "not a hidden column", id="records in a published column"),
    pytest.param("{name: x}|{name: n, count: [excerpt, study]}",
                 "SELECT ?x (COUNT(?y) AS ?n) WHERE { ?x qk:p ?y } GROUP BY ?x",
                 "persons' records and studies at once", id="persons and studies in one column"),
])
def test_a_bad_header_is_refused(columns: str, select: str, message: str) -> None:
    with pytest.raises(ValueError, match=rf"(?s)bad.rq: bad question header.*{message}"):
        parse_question(question_text(columns, select), "bad.rq")


def test_a_person_count_for_aggregate_callers_names_its_records() -> None:
    """Disclosure control keys a count's noise on the records it counts: the question must list them."""
    aggregate = HEAD.replace("excerpts", "aggregate")
    select = "SELECT ?x (COUNT(?y) AS ?n) WHERE { ?x qk:p ?y } GROUP BY ?x"
    with pytest.raises(ValueError, match=r"column 'n' counts records about persons for 'aggregate' callers"):
        parse_question(question_text("{name: x}|{name: n, count: excerpt}", select, aggregate), "bad.rq")
    listed = ('SELECT ?x (COUNT(?y) AS ?n) (GROUP_CONCAT(DISTINCT STR(?y); SEPARATOR=" ") AS ?n_records) '
              "WHERE { ?x qk:p ?y } GROUP BY ?x")
    columns = "{name: x}|{name: n, count: excerpt, records: n_records}|{name: n_records, hidden: true}"
    q = parse_question(question_text(columns, listed, aggregate), "ok.rq")
    assert [c.name for c in q.published] == ["x", "n"]
    studies = parse_question(question_text("{name: x}|{name: n, count: study}", select, aggregate), "ok.rq")
    assert studies.column("n") is not None  # counts of studies are not about persons: no records


def test_every_person_count_for_aggregate_callers_lists_its_records(catalog: Catalog) -> None:
    for q in all_questions(catalog):
        for c in q.columns:
            if c.about_persons and q.scope != "excerpts":
                records = q.column(c.records or "")
                assert records is not None and records.hidden, (q.id, c.name)


def test_comments_strings_and_iris_are_not_syntax() -> None:
    text = question_text("{name: x}|{name: label}", 'SELECT ?x ("COUNT(?y) AS ?n" AS ?label) WHERE {\n'
                         "  # (COUNT(?y) AS ?n)\n  ?x <http://e/COUNT(x)> ?y }")
    assert parse_question(text, "ok.rq").id == "bad"


def test_a_number_from_a_triple_pattern_is_refused_when_answered(catalog: Catalog, fx_store: GraphStore) -> None:
    """Offsets come straight from the graph: the text cannot tell, the answer can."""
    text = question_text("{name: x}|{name: start}", "SELECT ?x ?start WHERE { ?x oa:start ?start }")
    q = parse_question(text, "bad.rq")
    with pytest.raises(QueryError, match=r"answers numbers in \['start'\]"):
        Catalog({"bad": q}, catalog.iris).run(fx_store, "bad", {})


def _identifiers(store: GraphStore) -> set[str]:
    """Every excerpt's and participant's IRI, and every pseudonym, in the store."""
    df = store.select_df("PREFIX qk: <https://w3id.org/qualkg/ns#> SELECT ?r ?name WHERE { "
                         "{ ?r a qk:CodedExcerpt } UNION { ?r a qk:Participant OPTIONAL { ?r qk:pseudonym ?name } } }")
    return {str(v) for v in pd.concat([df["r"], df["name"]]).dropna()}


ASKED = {"challenges-by-context": [{}, {"role": "non-peer-practitioner", "topic": "a"}], "cooccurrence": [{}],
         "matrix": [{"rows": r} for r in ("role", "team", "feature", "event-type", "attribute")],
         "study-overview": [{"study": "fx"}], "study-compare": [{"a": "fx", "b": "fx"}]}


def test_no_aggregate_answer_lists_persons_or_excerpts(catalog: Catalog, fx_store: GraphStore) -> None:
    """What an `aggregate` caller reaches holds no excerpt or participant IRI and no pseudonym: a listing
    with a row per person or excerpt needs the `excerpts` scope (participants, excerpts, jbi)."""
    identifiers = _identifiers(fx_store)
    assert len(identifiers) == 5 + 4 + 4
    for q in catalog.questions.values():
        if q.scope == "excerpts":
            continue
        for raw in ASKED.get(q.id, [{}]):
            df = catalog.run(fx_store, q.id, raw)
            shown = df[[c.name for c in q.published if not c.text]]
            cells = {str(v) for v in shown.to_numpy().ravel() if isinstance(v, str)}
            assert not cells & identifiers, (q.id, raw, cells & identifiers)
    assert {q.id for q in all_questions(catalog) if q.scope == "excerpts"} == {"excerpts", "participants", "jbi"}
