"""Parameter binding shared by every backend (decision 0008): the bound terms, serialised by pyoxigraph,
become one one-row VALUES block that opens every WHERE group of the query, subqueries included."""

from __future__ import annotations

import re

from qualkg.store.base import Bindings, QueryError

_WHERE_GROUP = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bind_values(query: str, bindings: Bindings | None) -> str:
    """The query with a VALUES block of the bindings opening each of its WHERE groups."""
    if not bindings:
        return query
    for name in bindings:
        if not _VARIABLE.match(name):
            raise QueryError(f"not a SPARQL variable name: {name!r}")
    names = " ".join(f"?{n}" for n in bindings)
    values = " ".join(str(t) for t in bindings.values())
    block = f" VALUES ({names}) {{ ({values}) }} "
    groups = [m for m in _WHERE_GROUP.finditer(query) if not _in_comment(query, m.start())]
    if not groups:
        raise QueryError("a query with parameters needs a WHERE { … } group to bind them in")
    out, last = [], 0
    for m in groups:
        out += [query[last:m.end()], block]
        last = m.end()
    return "".join(out) + query[last:]


_IRI_OR_STRING = re.compile(r"<[^<>\s]*>|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def _in_comment(query: str, pos: int) -> bool:
    """Whether `pos` lies in a `#` comment (the metadata header of a .rq file is one).

    A `#` inside an IRI (`<…rdf-schema#label>`) or a string on the same line does not start one.
    """
    line_start = query.rfind("\n", 0, pos) + 1
    return "#" in _IRI_OR_STRING.sub("", query[line_start:pos])
