"""store.terms.to_python: one case per datatype rule, expected values read off the literal by hand."""

from __future__ import annotations

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode

from qualkg.store.terms import PlainValue, to_python

XSD = "http://www.w3.org/2001/XMLSchema#"


def typed(value: str, local: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + local))


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        (NamedNode("http://example.org/a"), "http://example.org/a"),
        (BlankNode("b1"), "_:b1"),
        (None, None),
        (Literal("plain"), "plain"),
        (Literal("hei", language="no"), "hei"),
        (typed("42", "integer"), 42),
        (typed("-7", "int"), -7),
        (typed("3", "nonNegativeInteger"), 3),
        (typed("2.50", "decimal"), 2.5),
        (typed("1.0E2", "double"), 100.0),
        (typed("true", "boolean"), True),
        (typed("0", "boolean"), False),
        (typed("2025-03-01", "date"), "2025-03-01"),
        (typed("ten", "integer"), "ten"),  # ill-typed: keep the lexical form, do not fail
    ],
)
def test_to_python(term: NamedNode | BlankNode | Literal | None, expected: PlainValue) -> None:
    value = to_python(term)
    assert value == expected
    assert type(value) is type(expected)
