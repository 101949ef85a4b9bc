"""`make docs`: the ontology rendered as HTML by pyLODE (the `docs` extra)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path


def render_ontology_html(out_dir: Path) -> Path:
    # imported here: an optional dependency, needed only for docs; pyLODE ships no type information
    from pylode import OntPub

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "ontology.html"
    with as_file(files("qualkg.ontology") / "qualkg.ttl") as source:
        OntPub(ontology=str(source)).make_html(destination=str(target))
    return target
