"""Records → RDF: one study's records become the triples of its named graph.

Pure and deterministic: the same records and base IRI always give the same triples (IRIs from
ontology.iris; nothing time-dependent: the pipeline keeps the ingest time in the study's log graph).
Terms are pyoxigraph terms, which the store loads without conversion.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyoxigraph import Literal, NamedNode, Triple
from rdflib import namespace as std

from qualkg.ingest.records import Code, Excerpt, Publication, SourceProject, StudyRecords
from qualkg.ontology import namespaces as ns
from qualkg.ontology.iris import IriScheme, part, source_iri

# Event kinds (mode concepts) → the event's class; any other mode is a plain qk:DataCollectionEvent.
EVENT_CLASSES: dict[str, str] = {
    "interview": "Interview", "individual-interview": "Interview", "semi-structured-interview": "Interview",
    "joint-interview": "JointInterview", "focus-group": "FocusGroup",
}
CODE_LEVELS: dict[str, str] = {"code": "Code", "subtheme": "Subtheme", "theme": "Theme"}
QUOTE_CONTEXT = 32  # characters of prefix/suffix kept in a TextQuoteSelector


class _Terms:
    """One namespace's terms as pyoxigraph NamedNodes, each made once: `QK.inStudy`, `QK["Theme"]` (decision 0030).

    The first access of a term stores it as an instance attribute; names from the data (`FEATURE[f]`) go
    into a dict of their own."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace
        self._made: dict[str, NamedNode] = {}

    def __getitem__(self, name: str) -> NamedNode:
        node = self._made.get(name)
        if node is None:
            node = self._made[name] = NamedNode(self._namespace + name)
        return node

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("_"):  # not a term: copy, pickle and friends probe such names
            raise AttributeError(name)
        node = self[name]
        setattr(self, name, node)
        return node


QK, OA, BIBO, FABIO = _Terms(ns.QK), _Terms(ns.OA), _Terms(ns.BIBO), _Terms(ns.FABIO)
PRISM = _Terms("http://prismstandard.org/namespaces/basic/2.0/")
FEATURE, MODE, ROLE, STRUCTURE = _Terms(ns.FEATURE), _Terms(ns.MODE), _Terms(ns.ROLE), _Terms(ns.STRUCTURE)
DCTERMS, ORG, PROV, RDF = (_Terms(str(n)) for n in (std.DCTERMS, std.ORG, std.PROV, std.RDF))
RDFS, SKOS, XSD = (_Terms(str(n)) for n in (std.RDFS, std.SKOS, std.XSD))
A = RDF.type
TRUE, FALSE = Literal("true", datatype=XSD.boolean), Literal("false", datatype=XSD.boolean)


def _n(iri: str) -> NamedNode:
    return NamedNode(iri)


def _s(value: str) -> Literal:
    return Literal(value)


def _int(value: int, datatype: NamedNode = XSD.integer) -> Literal:
    return Literal(str(value), datatype=datatype)


def _bool(value: bool) -> Literal:
    return TRUE if value else FALSE


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
        self._scoped_nodes: dict[tuple[str, str, bool], NamedNode] = {}

    # -- IRIs by local id -------------------------------------------------------------------
    def _scoped(self, kind: str, local: str, synthetic: bool = False) -> NamedNode:
        """A study-scoped IRI, made once per (kind, id): excerpts refer to the same few
        participants, codes, coders and transcripts thousands of times."""
        key = (kind, local, synthetic)
        node = self._scoped_nodes.get(key)
        if node is None:
            node = self._scoped_nodes[key] = _n(self.iris.scoped(self.sid, kind, local, synthetic=synthetic))
        return node

    def participant(self, pid: str) -> NamedNode:
        return self._scoped("participant", pid)

    def team(self, tid: str) -> NamedNode:
        return self._scoped("team", tid)

    def event(self, eid: str) -> NamedNode:
        return self._scoped("event", eid)

    def code(self, cid: str) -> NamedNode:
        return self._scoped("code", cid)

    def coder(self, cid: str) -> NamedNode:
        return self._scoped("coder", cid)

    def transcript(self, tid: str) -> NamedNode:
        t = self.transcripts.get(tid)
        return self._scoped("transcript", tid, bool(t and t.synthetic))

    def excerpt(self, x: Excerpt) -> NamedNode:
        return _n(self.iris.excerpt(self.sid, self.transcript(x.transcript).value, x.start, x.end,
                                    synthetic=x.synthetic))

    # -- triples ----------------------------------------------------------------------------
    def triples(self) -> Iterator[Triple]:
        yield from self._study()
        for o in self.r.organisations:
            node = _n(self.iris.organisation(o.id))
            yield Triple(node, A, ORG.FormalOrganization if o.kind == "formal" else ORG.OrganizationalUnit)
            yield Triple(node, SKOS.prefLabel, _s(o.label))
            if o.verification == "unverified":
                yield Triple(node, QK.verificationStatus, QK.Unverified)
            if o.synthetic:
                yield Triple(node, QK.isSynthetic, TRUE)
        for t in self.r.teams:
            node = self.team(t.id)
            yield Triple(node, A, ORG.OrganizationalUnit)
            yield Triple(node, SKOS.prefLabel, _s(t.label))
            yield Triple(node, QK.inStudy, self.study)
            if t.organisation:
                yield Triple(node, ORG.unitOf, _n(self.iris.organisation(t.organisation)))
            for f in t.features:
                yield Triple(node, ORG.classification, FEATURE[f])
            if t.synthetic:
                yield Triple(node, QK.isSynthetic, TRUE)
        yield from self._participants()
        yield from self._events()
        yield from self._transcripts()
        yield from self._codes()
        for c in self.r.coders:
            node = self.coder(c.id)
            yield Triple(node, A, QK.Coder)
            yield Triple(node, RDFS.label, _s(c.name))
            yield Triple(node, QK.inStudy, self.study)
        for node, records in self.spans().items():
            for x in records:
                yield from self._excerpt(x)
            if len({x.coder for x in records}) > 1:
                yield from self._codings(node, records)
        yield from self._notes()

    def spans(self) -> dict[NamedNode, list[Excerpt]]:
        """The excerpt records of each excerpt node, in record order. One span is one excerpt however many
        coders coded it: readers give one record per (span, coder), all named by the span (decision 0034)."""
        spans: dict[NamedNode, list[Excerpt]] = {}
        for x in self.r.excerpts:
            spans.setdefault(self.excerpt(x), []).append(x)
        return spans

    def _codings(self, node: NamedNode, records: list[Excerpt]) -> Iterator[Triple]:
        """One qk:Coding per coder of a span several coders coded: who applied which of its codes."""
        by_coder: dict[str | None, list[str]] = {}
        for x in records:
            by_coder.setdefault(x.coder, []).extend(x.codes)
        for coder, codes in by_coder.items():
            coding = _n(self.iris.coding(node.value, coder))
            yield Triple(node, QK.hasCoding, coding)
            yield Triple(coding, A, QK.Coding)
            if coder:
                yield Triple(coding, DCTERMS.creator, self.coder(coder))
            for cid in dict.fromkeys(codes):
                yield Triple(coding, QK.appliedCode, self.code(cid))

    def _study(self) -> Iterator[Triple]:
        s, st = self.r.study, self.study
        yield Triple(st, A, QK.Study)
        yield Triple(st, DCTERMS.title, _s(s.title))
        optional = {QK.design: s.design, QK.analysisMethod: s.analysis, QK.setting: s.setting,
                    QK.sampleDescription: s.sample, DCTERMS.description: s.description}
        for prop, value in optional.items():
            if value:
                yield Triple(st, prop, _s(value))
        for c in s.countries:
            yield Triple(st, QK.country, _s(c))
        for theme in s.published_themes:
            yield Triple(st, QK.publishedTheme, _s(theme))
        if s.synthetic or s.invented:  # the data are invented; the study itself only when `invented`
            yield Triple(st, QK.hasSyntheticData, TRUE)
        if s.invented:
            yield Triple(st, QK.isSynthetic, TRUE)
        if s.verification == "unverified":
            yield Triple(st, QK.verificationStatus, QK.Unverified)
        yield Triple(self.activity, A, QK.IngestActivity)
        yield Triple(self.activity, QK.inStudy, st)
        if s.publication:
            yield from self._publication(s.publication)
        if s.source_project:
            yield from self._source_project(s.source_project)

    def _source_project(self, p: SourceProject) -> Iterator[Triple]:
        """The tool's project as provenance: name, tool, dates, creating and modifying users (decision 0091)."""
        node = _n(self.iris.scoped(self.sid, "source", "project"))
        yield Triple(self.study, PROV.wasDerivedFrom, node)
        yield Triple(node, A, QK.SourceProject)
        yield Triple(node, A, PROV.Entity)
        yield Triple(node, DCTERMS.title, _s(p.name))
        if p.tool:
            yield Triple(node, QK.sourceTool, _s(p.tool))
        if p.created:
            yield Triple(node, DCTERMS.created, Literal(p.created, datatype=XSD.dateTime))
        if p.modified:
            yield Triple(node, DCTERMS.modified, Literal(p.modified, datatype=XSD.dateTime))
        if p.creator:
            yield Triple(node, DCTERMS.creator, self.coder(p.creator))
        if p.modifier:
            yield Triple(node, DCTERMS.contributor, self.coder(p.modifier))

    def _publication(self, p: Publication) -> Iterator[Triple]:
        """The publication node; a field the record lacks writes no triple (decision 0093)."""
        pub = _n(self.iris.publication(self.sid, p.doi, p.title))
        yield Triple(self.study, QK.reportedIn, pub)
        yield Triple(pub, A, FABIO[p.kind])
        yield Triple(pub, DCTERMS.title, _s(p.title))
        optional = {BIBO.doi: p.doi, PRISM.publicationName: p.journal, PRISM.volume: p.volume,
                    PRISM.issueIdentifier: p.issue, PRISM.pageRange: p.pages, DCTERMS.isPartOf: p.venue}
        for prop, value in optional.items():
            if value:
                yield Triple(pub, prop, _s(value))
        if p.year:
            yield Triple(pub, FABIO.hasPublicationYear, _int(p.year, XSD.gYear))
        for author in p.authors:
            yield Triple(pub, DCTERMS.creator, _s(author))
        yield from self._author_list(pub, p.authors)
        if not p.authors_complete:
            yield Triple(pub, QK.authorsComplete, FALSE)
        if p.authors:
            yield Triple(pub, DCTERMS.bibliographicCitation, _s(citation(p)))
        if p.licence:
            yield Triple(pub, DCTERMS.license, _n(p.licence))

    def _author_list(self, pub: NamedNode, authors: tuple[str, ...]) -> Iterator[Triple]:
        """`bibo:authorList`: an rdf:List of the names in printed order, its cells study-scoped IRIs."""
        cells = [_n(self.iris.scoped(self.sid, "author-list", str(i))) for i in range(1, len(authors) + 1)]
        if not cells:
            return
        yield Triple(pub, BIBO.authorList, cells[0])
        for cell, author, rest in zip(cells, authors, [*cells[1:], RDF.nil], strict=True):
            yield Triple(cell, RDF.first, _s(author))
            yield Triple(cell, RDF.rest, rest)

    def _participants(self) -> Iterator[Triple]:
        for p in self.r.participants:
            node = self.participant(p.id)
            yield Triple(node, A, QK.Participant)
            yield Triple(node, QK.pseudonym, _s(p.pseudonym))
            yield Triple(node, RDFS.label, _s(p.pseudonym))
            yield Triple(node, QK.inStudy, self.study)
            if p.synthetic:
                yield Triple(node, QK.isSynthetic, _bool(True))
            if p.role or p.team:
                m = _n(part(node.value, "membership"))
                yield Triple(m, A, ORG.Membership)
                yield Triple(m, ORG.member, node)
                yield Triple(m, QK.inStudy, self.study)
                if p.role:
                    yield Triple(m, ORG.role, ROLE[p.role])
                if p.team:
                    yield Triple(m, ORG.organization, self.team(p.team))
            for name, value in p.attributes:
                attr = _n(self.iris.attribute(node.value, name))
                yield Triple(node, QK.hasAttribute, attr)
                yield Triple(attr, A, QK.ParticipantAttribute)
                yield Triple(attr, QK.attributeName, _s(name))
                yield Triple(attr, QK.attributeValue, _s(value))

    def _events(self) -> Iterator[Triple]:
        for e in self.r.events:
            node = self.event(e.id)
            yield Triple(node, A, QK[EVENT_CLASSES.get(e.kind, "DataCollectionEvent")])
            yield Triple(node, QK.collectionMode, MODE[e.kind])
            if e.structure:
                yield Triple(node, QK.interviewStructure, STRUCTURE[e.structure])
            yield Triple(node, QK.inStudy, self.study)
            yield Triple(node, RDFS.label, _s(e.label or e.id))
            if e.synthetic:
                yield Triple(node, QK.isSynthetic, _bool(True))
            if e.originating_study:
                yield Triple(node, QK.originatingStudy, _n(self.iris.study(e.originating_study)))
            for pid in e.participants:
                yield Triple(node, QK.hasParticipant, self.participant(pid))

    def _transcripts(self) -> Iterator[Triple]:
        for t in self.r.transcripts:
            node = self.transcript(t.id)
            yield Triple(node, A, QK.Transcript)
            yield Triple(node, RDFS.label, _s(t.label))
            yield Triple(node, QK.inStudy, self.study)
            yield Triple(node, QK.isSynthetic, _bool(t.synthetic))
            if t.text is not None:
                yield Triple(node, QK.plainText, _s(t.text))
            if t.event:
                yield Triple(node, PROV.wasGeneratedBy, self.event(t.event))
            if t.source_file:
                yield Triple(node, QK.sourceFile, _s(t.source_file))
            if t.created:
                yield Triple(node, DCTERMS.created, Literal(t.created, datatype=XSD.dateTime))

    def _codes(self) -> Iterator[Triple]:
        if not self.r.codes:
            return
        cb = self.codebook
        yield Triple(cb, A, QK.Codebook)
        yield Triple(cb, SKOS.prefLabel, _s(f"Codebook of {self.r.study.title}"))
        yield Triple(cb, QK.inStudy, self.study)
        for c in self.r.codes:
            yield from self._code(c)

    def _code(self, c: Code) -> Iterator[Triple]:
        node = self.code(c.id)
        yield Triple(node, A, QK[CODE_LEVELS[c.level]])
        yield Triple(node, SKOS.prefLabel, _s(c.label))
        yield Triple(node, SKOS.inScheme, self.codebook)
        yield Triple(node, QK.inStudy, self.study)
        if c.parent:
            yield Triple(node, SKOS.broader, self.code(c.parent))
        else:
            yield Triple(node, SKOS.topConceptOf, self.codebook)
        if c.description:
            yield Triple(node, SKOS.definition, _s(c.description))
        if c.colour:
            yield Triple(node, QK.colour, _s(c.colour))
        if c.placeholder_label:
            yield Triple(node, QK.labelStatus, QK.Placeholder)
        if c.source:
            yield Triple(node, DCTERMS.source, _n(source_iri(c.source)))
        if c.original_name and c.original_name != c.label:
            yield Triple(node, SKOS.hiddenLabel, _s(c.original_name))
        if not c.codable:
            yield Triple(node, QK.isCodable, FALSE)
        if c.synthetic:
            yield Triple(node, QK.isSynthetic, TRUE)

    def _excerpt(self, x: Excerpt) -> Iterator[Triple]:
        node = self.excerpt(x)
        t_node = self.transcript(x.transcript)
        target, pos, quote = (_n(part(node.value, name)) for name in ("target", "position", "quote"))
        yield Triple(node, A, QK.CodedExcerpt)
        yield Triple(node, OA.motivatedBy, OA.classifying)
        for cid in x.codes:
            yield Triple(node, OA.hasBody, self.code(cid))
        yield Triple(node, OA.hasTarget, target)
        yield Triple(node, QK.inStudy, self.study)
        yield Triple(node, QK.isSynthetic, _bool(x.synthetic))
        yield Triple(node, PROV.wasQuotedFrom, t_node)
        yield Triple(node, PROV.wasGeneratedBy, self.activity)
        if x.speaker:
            yield Triple(node, QK.spokenBy, self.participant(x.speaker))
        if x.coder:
            yield Triple(node, DCTERMS.creator, self.coder(x.coder))
        pv = x.provenance
        if pv:
            yield Triple(node, QK.sourceFile, _s(pv.source_file))
            if pv.tool:
                yield Triple(node, QK.sourceTool, _s(pv.tool))
            if pv.offset_convention:
                yield Triple(node, QK.offsetConvention, _s(pv.offset_convention))
            if pv.original_start is not None:
                yield Triple(node, QK.originalStart, _int(pv.original_start))
            if pv.original_end is not None:
                yield Triple(node, QK.originalEnd, _int(pv.original_end))
        yield Triple(target, A, OA.SpecificResource)
        yield Triple(target, OA.hasSource, t_node)
        yield Triple(target, OA.hasSelector, pos)
        yield Triple(target, OA.hasSelector, quote)
        yield Triple(pos, A, OA.TextPositionSelector)
        yield Triple(pos, OA.start, _int(x.start, XSD.nonNegativeInteger))
        yield Triple(pos, OA.end, _int(x.end, XSD.nonNegativeInteger))
        yield Triple(quote, A, OA.TextQuoteSelector)
        yield Triple(quote, OA.exact, _s(x.text))
        text = self.transcripts[x.transcript].text if x.transcript in self.transcripts else None
        if text:
            prefix, suffix = text[max(0, x.start - QUOTE_CONTEXT):x.start], text[x.end:x.end + QUOTE_CONTEXT]
            if prefix:
                yield Triple(quote, OA.prefix, _s(prefix))
            if suffix:
                yield Triple(quote, OA.suffix, _s(suffix))

    def _notes(self) -> Iterator[Triple]:
        targets = {"code": self.code, "participant": self.participant, "transcript": self.transcript,
                   "study": lambda _id: self.study}
        for n in self.r.notes:
            node = _n(self.iris.scoped(self.sid, "note", n.id))
            body = _n(part(node.value, "body"))
            if n.target_kind == "excerpt":
                tid, start, end = n.target.rsplit(":", 2)
                t_node = self.transcript(tid)
                syn = bool(self.transcripts.get(tid) and self.transcripts[tid].synthetic)
                target = _n(self.iris.excerpt(self.sid, t_node.value, int(start), int(end), synthetic=syn))
            else:
                target = targets[n.target_kind](n.target)
            yield Triple(node, A, OA.Annotation)
            yield Triple(node, OA.motivatedBy, OA.commenting)
            yield Triple(node, OA.hasTarget, target)
            yield Triple(node, OA.hasBody, body)
            yield Triple(node, QK.inStudy, self.study)
            yield Triple(body, A, OA.TextualBody)
            yield Triple(body, RDF.value, _s(n.text))


def citation(p: Publication) -> str:
    """'Anestis E, Weaver T, Tew J, et al. (2025). Title. BJPsych Open 11(5):e216. doi:…': at most three
    names, "et al." after them when there are more or the list is partial; absent fields are left out."""
    etal = len(p.authors) > 3 or not p.authors_complete
    names = ", ".join(p.authors[:3]) + (", et al." if etal else "")
    head = f"{names} ({p.year})." if p.year else names if etal else f"{names}."
    parts = [head, p.title if p.title[-1:] in ".?!" else f"{p.title}."]
    if source := _source(p):
        parts.append(f"{source}.")
    if p.doi:
        parts.append(f"doi:{p.doi}")
    return " ".join(parts)


def _source(p: Publication) -> str | None:
    """'Journal 11(5):e216' from the structured fields, else the free-text venue."""
    if not p.journal:
        return p.venue
    numbers = (p.volume or "") + (f"({p.issue})" if p.issue else "")
    located = numbers + (f":{p.pages}" if numbers and p.pages else p.pages or "")
    return f"{p.journal} {located}" if located else p.journal


def map_study(records: StudyRecords, iris: IriScheme) -> list[Triple]:
    """All triples of one study's named graph, deduplicated, in a stable order."""
    return list(dict.fromkeys(StudyMapper(records, iris).triples()))
