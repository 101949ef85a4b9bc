"""The one located problem type of ingest and synthesis (qualkg.ingest.problems)."""

from __future__ import annotations

from qualkg.ingest.errors import IngestError
from qualkg.ingest.problems import Problem, Where, yaml_location
from qualkg.synthesis.errors import SynthesisError, fail


def test_problem_text_and_dict() -> None:
    p = Problem(Where("excerpts.csv", row=3, field="codes"), "unknown-reference", "no code with this id", "C9")
    assert str(p) == "excerpts.csv, row 3, field codes: no code with this id [unknown-reference] (value 'C9')"
    assert p.as_dict() == {"file": "excerpts.csv", "element": None, "row": 3, "field": "codes", "value": "C9",
                           "rule": "unknown-reference", "message": "no code with this id", "severity": "error"}


def test_both_layers_carry_the_same_type() -> None:
    """A synthesis problem is an ingest Problem: one type, one row rule, one rendering."""
    [p] = fail("m.sssom.tsv", "confidence", "always set a confidence", row=2, field="confidence").problems
    assert isinstance(p, Problem) and p.where == Where("m.sssom.tsv", None, 2, "confidence")
    assert not issubclass(SynthesisError, IngestError)  # two layers, two exceptions, one problem type


def test_yaml_location() -> None:
    assert yaml_location(("teams", 0, "id")) == ("teams[0].id", "id")
    assert yaml_location(("descriptive_themes", 2)) == ("descriptive_themes[2]", "descriptive_themes")
    assert yaml_location(()) == (None, None)
