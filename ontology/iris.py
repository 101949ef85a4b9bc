"""The deterministic IRI scheme: the same input always yields the same IRIs.

    {base}study/{study}                               the study
    {base}graph/{study}                               the study's named graph
    {base}study/{study}/{kind}/{local}                anything scoped to a study
    {base}study/{study}/synthetic/{kind}/{local}      synthetic transcripts and excerpts (rule 2 of
                                                      shared/domain/seed-study.md: a distinct path)
    {base}org/{local}                                 organisations, shared across studies

`local` is the source's own identifier when it is stable (a GUID, lower-cased, braces removed;
an id from a study package), otherwise a slug of the name plus a short content hash.
Excerpts are named by a hash of (transcript IRI, start, end), never by a tool's GUID, because
ATLAS.ti and QualCoder mint new GUIDs on every export.
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


class IriScheme:
    """Mints instance IRIs under one base (from settings)."""

    def __init__(self, base: str) -> None:
        if not base.endswith(("/", "#")):
            raise ValueError(f"base IRI must end with '/' or '#': {base!r}")
        self.base = base

    def study(self, study: str) -> str:
        return f"{self.base}study/{local_id(study)}"

    def graph(self, study: str) -> str:
        return f"{self.base}graph/{local_id(study)}"

    def scoped(self, study: str, kind: str, local: str, *, synthetic: bool = False) -> str:
        middle = "synthetic/" if synthetic else ""
        return f"{self.study(study)}/{middle}{kind}/{local_id(local)}"

    def organisation(self, local: str) -> str:
        return f"{self.base}org/{local_id(local)}"

    def excerpt(self, study: str, transcript_iri: str, start: int, end: int, *, synthetic: bool) -> str:
        return self.scoped(study, "excerpt", digest(transcript_iri, start, end), synthetic=synthetic)
