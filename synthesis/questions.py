"""The synthesis layer's own SPARQL (synthesis/sparql/*.rq), as a Catalog like the named questions.

These queries feed the loader, the exports and the review feeds; they are not listed among the
public named questions (queries/sparql) but use the same `#+` header and the same safe binding.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from qualkg.ontology.iris import IriScheme
from qualkg.queries.catalog import Catalog, Question, parse_question


@cache
def _questions() -> dict[str, Question]:
    out: dict[str, Question] = {}
    for f in sorted(files("qualkg.synthesis").joinpath("sparql").iterdir(), key=lambda f: f.name):
        if f.name.endswith(".rq"):
            q = parse_question(f.read_text(encoding="utf-8"), f.name)
            out[q.id] = q
    return out


def synthesis_catalog(iris: IriScheme) -> Catalog:
    return Catalog(_questions(), iris)
