"""The deterministic IRI scheme: every instance IRI qualkg mints is built here, the same input always the same IRI.

The patterns are in each `IriScheme` method's docstring and in docs/ontology.md §4; why they look as
they do is in docs/decisions/0023-deterministic-study-graphs.md.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_SAFE = re.compile(r"[^a-z0-9._-]+")


def digest(*parts: object, length: int = 16) -> str:
    """A short stable hash of the parts (sha256, hex)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:length]


def slug(text: str) -> str:
    """A lower-case ASCII slug, safe in an IRI path segment; never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = _SAFE.sub("-", ascii_text.lower()).strip("-.")
    return s[:60] or "x"


def local_id(identifier: str) -> str:
    """Normalise a source identifier for use as the last IRI segment.

    GUIDs lose braces and case; other ids that are already safe are kept; anything else becomes
    a slug with a hash suffix so that two different names never collide.
    """
    m = _GUID.match(identifier.strip())
    if m:
        return m.group(1).lower()
    s = slug(identifier)
    return s if s == identifier else f"{s}-{digest(identifier, length=8)}"


DOI_BASE = "https://doi.org/"


def doi_iri(doi: str) -> str:
    """A DOI's IRI: `https://doi.org/{doi}`."""
    return f"{DOI_BASE}{doi}"


def source_iri(source: str) -> str:
    """A DOI ("10.…" or "doi:10.…") becomes its https://doi.org/ IRI; an IRI stays as it is."""
    s = source.strip()
    if s.lower().startswith("doi:"):
        s = s[4:]
    return doi_iri(s) if s.startswith("10.") else s


MODEL_GRAPH = "https://w3id.org/qualkg/graph/model"  # the ontology and vocabularies, whatever the base
# Names under `{base}graph/` that are not studies: the graphs qualkg writes itself, and the log graphs'
# last segment. A study with one of these ids would replace one of those graphs (decision 0036).
RESERVED_GRAPH_NAMES: dict[str, str] = {
    "synthesis": "the synthesis graph (review frames and theme mappings)",
    "model": "the model graph (ontology and vocabularies)",
    "log": "the log graphs (each study's ingest times, …/graph/{study}/log)",
}


def reserved_study_id(study: str) -> str | None:
    """What a study id would name instead of a study (see RESERVED_GRAPH_NAMES), or None for a free id."""
    return RESERVED_GRAPH_NAMES.get(local_id(study))


def part(node: str, *names: str) -> str:
    """A node that exists only as part of another: `{node}/{name}/…` (a membership, a selector, a note body)."""
    return "/".join((node, *names))


class IriScheme:
    """Mints instance IRIs under one base (from settings)."""

    def __init__(self, base: str) -> None:
        if not base.endswith(("/", "#")):
            raise ValueError(f"base IRI must end with '/' or '#': {base!r}")
        self.base = base

    # -- studies and their graphs -----------------------------------------------------------
    def study(self, study: str) -> str:
        """`{base}study/{study}`"""
        return f"{self.base}study/{local_id(study)}"

    def study_namespace(self, study: str) -> str:
        """`{base}study/{study}/`: what every IRI scoped to the study starts with."""
        return self.study(study) + "/"

    def graph(self, study: str) -> str:
        """`{base}graph/{study}`: the study's named graph."""
        return f"{self.base}graph/{local_id(study)}"

    def log_graph(self, study: str) -> str:
        """`{base}graph/{study}/log`: the study's ingest-time provenance, apart from its stable graph."""
        return part(self.graph(study), "log")

    def internal_graphs(self) -> frozenset[str]:
        """Every graph that is not a study's own: the synthesis and model graphs, and each reserved name."""
        names = {f"{self.base}graph/{local_id(n)}" for n in RESERVED_GRAPH_NAMES}
        return frozenset({self.synthesis_graph(), MODEL_GRAPH, *names})

    def reserved_study(self, study: str) -> str | None:
        """What the study's graph or log graph would replace, or None when both are the study's own."""
        if (named := reserved_study_id(study)) is not None:
            return named
        internal = self.internal_graphs()
        if self.graph(study) in internal or self.log_graph(study) in internal:
            return "a graph qualkg writes itself"
        return None

    def scoped(self, study: str, kind: str, local: str, *, synthetic: bool = False) -> str:
        """`{base}study/{study}/{kind}/{local}`, or `…/synthetic/{kind}/{local}` for synthetic content."""
        middle = "synthetic/" if synthetic else ""
        return f"{self.study_namespace(study)}{middle}{kind}/{local_id(local)}"

    def organisation(self, local: str) -> str:
        """`{base}org/{local}`: organisations are shared across studies."""
        return f"{self.base}org/{local_id(local)}"

    def excerpt(self, study: str, transcript_iri: str, start: int, end: int, *, synthetic: bool) -> str:
        """`…/excerpt/{hash of transcript IRI, start, end}`: never a tool's GUID."""
        return self.scoped(study, "excerpt", digest(transcript_iri, start, end), synthetic=synthetic)

    def coding(self, excerpt_iri: str, coder: str | None) -> str:
        """`{excerpt}/coding/{hash of coder}`, or `{excerpt}/coding/unknown-coder`: the codes one coder applied
        to an excerpt that several coders coded (a hex hash never reads "unknown-coder")."""
        return part(excerpt_iri, "coding", digest("coder", coder, length=12) if coder else "unknown-coder")

    def publication(self, study: str, doi: str | None, title: str) -> str:
        """A publication: its DOI's IRI, or `{base}study/{study}/publication/{title}` without one."""
        return doi_iri(doi) if doi else self.scoped(study, "publication", title)

    def attribute(self, participant_iri: str, name: str) -> str:
        """`{participant}/attribute/{hash of name}`: one (name, value) of a participant."""
        return part(participant_iri, "attribute", digest(name, length=12))

    def published(self, study: str, kind: str, label: str) -> str:
        """`{base}study/{study}/{kind}/{slug of label}`, kind "published-theme" or "published-finding"."""
        return part(self.study(study), kind, slug(label))  # the slug as is: cut at 60 characters, it may end in "-"

    def study_scoped(self, iri: str) -> tuple[str, ...] | None:
        """The path segments after `{base}study/` (study, kind, local …), or None for any other IRI."""
        prefix = f"{self.base}study/"
        return tuple(iri[len(prefix):].split("/")) if iri.startswith(prefix) else None

    # -- synthesis --------------------------------------------------------------------------
    def synthesis_graph(self) -> str:
        """`{base}graph/synthesis`: the one graph of frames and mappings."""
        return f"{self.base}graph/synthesis"

    def review_namespace(self) -> str:
        """`{base}review/`: review frames and their findings."""
        return f"{self.base}review/"

    def frame(self, frame: str) -> str:
        """`{base}review/{frame}`: a review frame."""
        return f"{self.review_namespace()}{local_id(frame)}"

    def finding(self, frame: str, finding: str) -> str:
        """`{base}review/{frame}/finding/{finding}`: a review finding of a frame."""
        return part(self.frame(frame), "finding", local_id(finding))

    def agent_namespace(self) -> str:
        """`{base}agent/`: people and tools who author mappings."""
        return f"{self.base}agent/"

    def mapping_record(self, mapping_set: str, subject: str, predicate: str, obj: str, modifier: str | None) -> str:
        """`{base}synthesis/mapping/{hash}`: one SSSOM mapping record of a mapping set."""
        return f"{self.base}synthesis/mapping/{digest(mapping_set, subject, predicate, obj, modifier)}"
