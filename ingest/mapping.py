"""Records → RDF: one study's records become the triples of its named graph.

Pure and deterministic: the same records and base IRI always give the same triples (IRIs from
ontology.iris; nothing time-dependent — the ingest time is kept in the catalog graph by the
pipeline, not here). Terms are pyoxigraph terms, which the store loads without conversion.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyoxigraph import Literal, NamedNode, Triple
from rdflib.namespace import DCTERMS, ORG, PROV, RDF, RDFS, SKOS, XSD

from ingest.records import Code, Excerpt, StudyRecords
from ontology.iris import IriScheme, digest
from ontology.namespaces import BIBO, FABIO, FEATURE, MODE, OA, QK, ROLE

# Event kinds (records) → (class, collection mode concept).
EVENT_KINDS: dict[str, tuple[str, str]] = {
    "interview": ("Interview", "interview"),
    "semi-structured-interview": ("Interview", "semi-structured-interview"),
    "joint-interview": ("JointInterview", "joint-interview"),
    "focus-group": ("FocusGroup", "focus-group"),
}
CODE_LEVELS: dict[str, str] = {"code": "Code", "subtheme": "Subtheme", "theme": "Theme"}
QUOTE_CONTEXT = 32  # characters of prefix/suffix kept in a TextQuoteSelector


def _n(iri: object) -> NamedNode:
    return NamedNode(str(iri))


def _s(value: str) -> Literal:
    return Literal(value)


def _int(value: int, datatype: object = XSD.integer) -> Literal:
    return Literal(str(value), datatype=_n(datatype))


def _bool(value: bool) -> Literal:
    return Literal("true" if value else "false", datatype=_n(XSD.boolean))


A = _n(RDF.type)


class StudyMapper:
    """Maps one StudyRecords to triples. Holds the IRI lookups that records refer to by local id."""

    def __init__(self, records: StudyRecords, iris: IriScheme) -> None:
        self.r = records
        self.iris = iris
        self.sid = records.study.id
        self.study = _n(iris.study(self.sid))
        self.codebook = _n(iris.scoped(self.sid, "codebook", "main"))
        self.activity = _n(iris.scoped(self.sid, "ingest", "activity"))
        self.transcripts = {t.id: t for t in records.transcripts}

    # -- IRIs by local id -------------------------------------------------------------------
    def participant(self, pid: str) -> NamedNode:
        return _n(self.iris.scoped(self.sid, "participant", pid))

    def team(self, tid: str) -> NamedNode:
        return _n(self.iris.scoped(self.sid, "team", tid))

    def event(self, eid: str) -> NamedNode:
        return _n(self.iris.scoped(self.sid, "event", eid))

    def code(self, cid: str) -> NamedNode:
        return _n(self.iris.scoped(self.sid, "code", cid))

    def coder(self, cid: str) -> NamedNode:
        return _n(self.iris.scoped(self.sid, "coder", cid))

    def transcript(self, tid: str) -> NamedNode:
        t = self.transcripts.get(tid)
        return _n(self.iris.scoped(self.sid, "transcript", tid, synthetic=bool(t and t.synthetic)))

    def excerpt(self, x: Excerpt) -> NamedNode:
        return _n(self.iris.excerpt(self.sid, self.transcript(x.transcript).value, x.start, x.end,
                                    synthetic=x.synthetic))

    # -- triples ----------------------------------------------------------------------------
    def triples(self) -> Iterator[Triple]:
        yield from self._study()
        for o in self.r.organisations:
            node = _n(self.iris.organisation(o.id))
            kind = ORG.FormalOrganization if o.kind == "formal" else ORG.OrganizationalUnit
            yield Triple(node, A, _n(kind))
            yield Triple(node, _n(SKOS.prefLabel), _s(o.label))
            if o.verification == "unverified":
                yield Triple(node, _n(QK.verificationStatus), _n(QK.Unverified))
        for t in self.r.teams:
            node = self.team(t.id)
            yield Triple(node, A, _n(ORG.OrganizationalUnit))
            yield Triple(node, _n(SKOS.prefLabel), _s(t.label))
            yield Triple(node, _n(QK.inStudy), self.study)
            if t.organisation:
                yield Triple(node, _n(ORG.unitOf), _n(self.iris.organisation(t.organisation)))
            for f in t.features:
                yield Triple(node, _n(ORG.classification), _n(FEATURE[f]))
        yield from self._participants()
        yield from self._events()
        yield from self._transcripts()
        yield from self._codes()
        for c in self.r.coders:
            node = self.coder(c.id)
            yield Triple(node, A, _n(QK.Coder))
            yield Triple(node, _n(RDFS.label), _s(c.name))
            yield Triple(node, _n(QK.inStudy), self.study)
        for x in self.r.excerpts:
            yield from self._excerpt(x)
        yield from self._notes()

    def _study(self) -> Iterator[Triple]:
        s, st = self.r.study, self.study
        yield Triple(st, A, _n(QK.Study))
        yield Triple(st, _n(DCTERMS.title), _s(s.title))
        optional = {QK.design: s.design, QK.analysisMethod: s.analysis, QK.setting: s.setting,
                    QK.sampleDescription: s.sample, DCTERMS.description: s.description}
        for prop, value in optional.items():
            if value:
                yield Triple(st, _n(prop), _s(value))
        for c in s.countries:
            yield Triple(st, _n(QK.country), _s(c))
        for theme in s.published_themes:
            yield Triple(st, _n(QK.publishedTheme), _s(theme))
        if s.synthetic:
            yield Triple(st, _n(QK.isSynthetic), _bool(True))
        if s.verification == "unverified":
            yield Triple(st, _n(QK.verificationStatus), _n(QK.Unverified))
        yield Triple(self.activity, A, _n(QK.IngestActivity))
        yield Triple(self.activity, _n(QK.inStudy), st)
        if s.publication:
            p = s.publication
            pub = _n(f"https://doi.org/{p.doi}") if p.doi else _n(self.iris.scoped(self.sid, "publication", p.title))
            yield Triple(st, _n(QK.reportedIn), pub)
            yield Triple(pub, A, _n(FABIO[p.kind]))
            yield Triple(pub, _n(DCTERMS.title), _s(p.title))
            if p.doi:
                yield Triple(pub, _n(BIBO.doi), _s(p.doi))
            if p.year:
                yield Triple(pub, _n(FABIO.hasPublicationYear), Literal(str(p.year), datatype=_n(XSD.gYear)))
            if p.venue:
                yield Triple(pub, _n(DCTERMS.isPartOf), _s(p.venue))
            for author in p.authors:
                yield Triple(pub, _n(DCTERMS.creator), _s(author))
            if p.authors:
                yield Triple(pub, _n(DCTERMS.bibliographicCitation), _s(citation(p.authors, p.year, p.title, p.venue, p.doi)))
            if p.licence:
                yield Triple(pub, _n(DCTERMS.license), _n(p.licence))

    def _participants(self) -> Iterator[Triple]:
        for p in self.r.participants:
            node = self.participant(p.id)
            yield Triple(node, A, _n(QK.Participant))
            yield Triple(node, _n(QK.pseudonym), _s(p.pseudonym))
            yield Triple(node, _n(RDFS.label), _s(p.pseudonym))
            yield Triple(node, _n(QK.inStudy), self.study)
            if p.synthetic:
                yield Triple(node, _n(QK.isSynthetic), _bool(True))
            if p.role or p.team:
                m = _n(f"{node.value}/membership")
                yield Triple(m, A, _n(ORG.Membership))
                yield Triple(m, _n(ORG.member), node)
                yield Triple(m, _n(QK.inStudy), self.study)
                if p.role:
                    yield Triple(m, _n(ORG.role), _n(ROLE[p.role]))
                if p.team:
                    yield Triple(m, _n(ORG.organization), self.team(p.team))
            for name, value in p.attributes:
                attr = _n(f"{node.value}/attribute/{digest(name, length=12)}")
                yield Triple(node, _n(QK.hasAttribute), attr)
                yield Triple(attr, A, _n(QK.ParticipantAttribute))
                yield Triple(attr, _n(QK.attributeName), _s(name))
                yield Triple(attr, _n(QK.attributeValue), _s(value))

    def _events(self) -> Iterator[Triple]:
        for e in self.r.events:
            node = self.event(e.id)
            cls, mode = EVENT_KINDS[e.kind]
            yield Triple(node, A, _n(QK[cls]))
            yield Triple(node, _n(QK.collectionMode), _n(MODE[mode]))
            yield Triple(node, _n(QK.inStudy), self.study)
            yield Triple(node, _n(RDFS.label), _s(e.label or e.id))
            if e.synthetic:
                yield Triple(node, _n(QK.isSynthetic), _bool(True))
            if e.originating_study:
                yield Triple(node, _n(QK.originatingStudy), _n(self.iris.study(e.originating_study)))
            for pid in e.participants:
                yield Triple(node, _n(QK.hasParticipant), self.participant(pid))

    def _transcripts(self) -> Iterator[Triple]:
        for t in self.r.transcripts:
            node = self.transcript(t.id)
            yield Triple(node, A, _n(QK.Transcript))
            yield Triple(node, _n(RDFS.label), _s(t.label))
            yield Triple(node, _n(QK.inStudy), self.study)
            yield Triple(node, _n(QK.isSynthetic), _bool(t.synthetic))
            if t.text is not None:
                yield Triple(node, _n(QK.plainText), _s(t.text))
            if t.event:
                yield Triple(node, _n(PROV.wasGeneratedBy), self.event(t.event))
            if t.source_file:
                yield Triple(node, _n(QK.sourceFile), _s(t.source_file))

    def _codes(self) -> Iterator[Triple]:
        if not self.r.codes:
            return
        cb = self.codebook
        yield Triple(cb, A, _n(QK.Codebook))
        yield Triple(cb, _n(SKOS.prefLabel), _s(f"Codebook of {self.r.study.title}"))
        yield Triple(cb, _n(QK.inStudy), self.study)
        for c in self.r.codes:
            yield from self._code(c)

    def _code(self, c: Code) -> Iterator[Triple]:
        node = self.code(c.id)
        yield Triple(node, A, _n(QK[CODE_LEVELS[c.level]]))
        yield Triple(node, _n(SKOS.prefLabel), _s(c.label))
        yield Triple(node, _n(SKOS.inScheme), self.codebook)
        yield Triple(node, _n(QK.inStudy), self.study)
        if c.parent:
            yield Triple(node, _n(SKOS.broader), self.code(c.parent))
        else:
            yield Triple(node, _n(SKOS.topConceptOf), self.codebook)
        if c.description:
            yield Triple(node, _n(SKOS.definition), _s(c.description))
        if c.colour:
            yield Triple(node, _n(QK.colour), _s(c.colour))
        if c.placeholder_label:
            yield Triple(node, _n(QK.labelStatus), _n(QK.Placeholder))
        if c.source:
            yield Triple(node, _n(DCTERMS.source), _n(_as_iri(c.source)))
        if c.original_name and c.original_name != c.label:
            yield Triple(node, _n(SKOS.hiddenLabel), _s(c.original_name))

    def _excerpt(self, x: Excerpt) -> Iterator[Triple]:
        node = self.excerpt(x)
        t_node = self.transcript(x.transcript)
        target, pos, quote = (_n(f"{node.value}/{part}") for part in ("target", "position", "quote"))
        yield Triple(node, A, _n(QK.CodedExcerpt))
        yield Triple(node, _n(OA.motivatedBy), _n(OA.classifying))
        for cid in x.codes:
            yield Triple(node, _n(OA.hasBody), self.code(cid))
        yield Triple(node, _n(OA.hasTarget), target)
        yield Triple(node, _n(QK.inStudy), self.study)
        yield Triple(node, _n(QK.isSynthetic), _bool(x.synthetic))
        yield Triple(node, _n(PROV.wasQuotedFrom), t_node)
        yield Triple(node, _n(PROV.wasGeneratedBy), self.activity)
        if x.speaker:
            yield Triple(node, _n(QK.spokenBy), self.participant(x.speaker))
        if x.coder:
            yield Triple(node, _n(DCTERMS.creator), self.coder(x.coder))
        pv = x.provenance
        if pv:
            yield Triple(node, _n(QK.sourceFile), _s(pv.source_file))
            if pv.tool:
                yield Triple(node, _n(QK.sourceTool), _s(pv.tool))
            if pv.offset_convention:
                yield Triple(node, _n(QK.offsetConvention), _s(pv.offset_convention))
            if pv.original_start is not None:
                yield Triple(node, _n(QK.originalStart), _int(pv.original_start))
            if pv.original_end is not None:
                yield Triple(node, _n(QK.originalEnd), _int(pv.original_end))
        yield Triple(target, A, _n(OA.SpecificResource))
        yield Triple(target, _n(OA.hasSource), t_node)
        yield Triple(target, _n(OA.hasSelector), pos)
        yield Triple(target, _n(OA.hasSelector), quote)
        yield Triple(pos, A, _n(OA.TextPositionSelector))
        yield Triple(pos, _n(OA.start), _int(x.start, XSD.nonNegativeInteger))
        yield Triple(pos, _n(OA.end), _int(x.end, XSD.nonNegativeInteger))
        yield Triple(quote, A, _n(OA.TextQuoteSelector))
        yield Triple(quote, _n(OA.exact), _s(x.text))
        text = self.transcripts[x.transcript].text if x.transcript in self.transcripts else None
        if text:
            prefix, suffix = text[max(0, x.start - QUOTE_CONTEXT):x.start], text[x.end:x.end + QUOTE_CONTEXT]
            if prefix:
                yield Triple(quote, _n(OA.prefix), _s(prefix))
            if suffix:
                yield Triple(quote, _n(OA.suffix), _s(suffix))

    def _notes(self) -> Iterator[Triple]:
        targets = {"code": self.code, "participant": self.participant, "transcript": self.transcript,
                   "study": lambda _id: self.study}
        for n in self.r.notes:
            node = _n(self.iris.scoped(self.sid, "note", n.id))
            body = _n(f"{node.value}/body")
            if n.target_kind == "excerpt":
                tid, start, end = n.target.rsplit(":", 2)
                t_node = self.transcript(tid)
                syn = bool(self.transcripts.get(tid) and self.transcripts[tid].synthetic)
                target = _n(self.iris.excerpt(self.sid, t_node.value, int(start), int(end), synthetic=syn))
            else:
                target = targets[n.target_kind](n.target)
            yield Triple(node, A, _n(OA.Annotation))
            yield Triple(node, _n(OA.motivatedBy), _n(OA.commenting))
            yield Triple(node, _n(OA.hasTarget), target)
            yield Triple(node, _n(OA.hasBody), body)
            yield Triple(node, _n(QK.inStudy), self.study)
            yield Triple(body, A, _n(OA.TextualBody))
            yield Triple(body, _n(RDF.value), _s(n.text))


def _as_iri(source: str) -> str:
    """A DOI ("10.…" or "doi:10.…") becomes its https://doi.org/ IRI; an IRI stays as it is."""
    s = source.strip()
    if s.lower().startswith("doi:"):
        s = s[4:]
    return f"https://doi.org/{s}" if s.startswith("10.") else s


def citation(authors: tuple[str, ...], year: int | None, title: str, venue: str | None, doi: str | None) -> str:
    """A short human-readable citation: 'Anestis E, Weaver T, et al. (2025). Title. Venue. doi:…'."""
    names = ", ".join(authors[:3]) + (", et al." if len(authors) > 3 else "")
    parts = [f"{names} ({year})." if year else f"{names}.", f"{title}."]
    if venue:
        parts.append(f"{venue}.")
    if doi:
        parts.append(f"doi:{doi}")
    return " ".join(parts)


def map_study(records: StudyRecords, iris: IriScheme) -> list[Triple]:
    """All triples of one study's named graph, deduplicated, in a stable order."""
    return list(dict.fromkeys(StudyMapper(records, iris).triples()))
