"""Turning RDF terms into plain Python values for tables (pandas), by literal datatype.

Only the datatypes qualkg's queries return are mapped; anything else keeps its lexical form
as `str`, so a value is never lost, only left untyped.
"""

from __future__ import annotations

import pandas as pd
from pyoxigraph import BlankNode, Literal, NamedNode, QuerySolutions, Triple

Term = NamedNode | BlankNode | Literal | Triple

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = frozenset(
    _XSD + name
    for name in (
        "integer", "int", "long", "short", "byte",
        "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
        "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    )
)  # fmt: skip
_FLOAT_TYPES = frozenset(_XSD + name for name in ("decimal", "double", "float"))
_BOOLEAN = _XSD + "boolean"

PlainValue = str | int | float | bool | None


def to_python(term: NamedNode | BlankNode | Literal | Triple | None) -> PlainValue:
    """IRI → its string; blank node/triple → its N-Triples form; literal → int/float/bool/str by datatype.

    A literal whose lexical form does not fit its datatype (e.g. "ten"^^xsd:integer) is
    returned as its lexical string rather than raising: a table cell is no place to fail.
    """
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return term.value
    if not isinstance(term, Literal):
        return str(term)
    datatype = term.datatype.value
    try:
        if datatype in _INTEGER_TYPES:
            return int(term.value)
        if datatype in _FLOAT_TYPES:
            return float(term.value)
    except ValueError:
        return term.value
    if datatype == _BOOLEAN and term.value in ("true", "1", "false", "0"):
        return term.value in ("true", "1")
    return term.value


def solutions_table(solutions: QuerySolutions) -> tuple[list[str], list[list[Term | None]]]:
    """Variable names (in SELECT order) and rows of terms of a solution sequence, read to the end."""
    names = [v.value for v in solutions.variables]
    return names, [[row[name] for name in names] for row in solutions]


def table_frame(names: list[str], rows: list[list[Term | None]]) -> pd.DataFrame:
    """A DataFrame of plain values (to_python); columns kept when there are no rows.

    Pandas infers column types: an integer column with unbound cells becomes float with NaN.
    """
    return pd.DataFrame([[to_python(t) for t in row] for row in rows], columns=names)
