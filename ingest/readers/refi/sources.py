"""Text sources and their coded selections: Transcript and Excerpt records (decision 0024).

The text is `PlainTextContent`, or the sources-folder member that `plainTextPath` ("internal://…") names,
UTF-8 with an optional BOM. Offsets are detected per source; selections with the same (source, start,
end, coder) are one Excerpt carrying all their codes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from qualkg.ingest.errors import fail
from qualkg.ingest.offsets import SourceText, Span, convert_all, detect
from qualkg.ingest.readers.refi.document import Document, child_text, guid, locate, norm_id, target
from qualkg.ingest.records import Excerpt, Note, Provenance, Transcript
from qualkg.ingest.safe_io import SafeZip

TEXT_SOURCE_TAGS = ("TextSource", "Representation")  # Representation: the text layer of a PDFSource
OTHER_SOURCE_TAGS = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
INTERNAL = "internal://"


@dataclass(slots=True)
class Source:
    el: Element
    transcript: Transcript
    text: SourceText | None
    selections: list[Element] = field(default_factory=list)


class TextFiles:
    """Reads the text a TextSource or Note points at from the archive's sources folder, by safe name only."""

    def __init__(self, doc: Document, archive: SafeZip) -> None:
        self.doc, self.archive = doc, archive
        self.members = {posixpath.basename(n): n for n in archive.names
                        if posixpath.dirname(n).lower() == "sources"}

    def read(self, el: Element) -> tuple[str | None, str | None]:
        """(text with line ends as stored, archive member or None); None text with a warning if absent."""
        content = el.find("PlainTextContent")
        if content is not None:
            return content.text or "", None
        path = el.get("plainTextPath")
        if not path:
            self.doc.warn("source-no-text", "The source has neither PlainTextContent nor plainTextPath.",
                          element=locate(el))
            return None, None
        if not path.startswith(INTERNAL):
            self.doc.warn("source-external", "The text lies outside the archive (relative:// or absolute://) "
                          "and is not read.", element=locate(el), field="plainTextPath", value=path)
            return None, None
        name = path[len(INTERNAL):]
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise fail(self.doc.file, "source-path", "An internal:// path must be a plain file name.",
                       element=locate(el), field="plainTextPath", value=path)
        member = self.members.get(name)
        if member is None:
            raise fail(self.doc.file, "source-missing", "The archive's sources folder has no such file.",
                       element=locate(el), field="plainTextPath", value=path)
        data = self.archive.read(member)
        try:
            return data.decode("utf-8-sig"), member
        except UnicodeDecodeError as exc:
            raise fail(f"{self.archive.label}/{member}", "source-encoding", "The text is not valid UTF-8.",
                       element=locate(el), value=f"byte {exc.start}: {data[exc.start:exc.start + 4].hex(' ')}") from exc


def read_sources(doc: Document, files: TextFiles) -> list[Source]:
    """Every text source under <Sources>; other media are reported as not read."""
    sources_el = doc.root.find("Sources")
    if sources_el is None:
        return []
    out: list[Source] = []
    placed: set[int] = set()
    for el in sources_el.iter():
        if el.tag in OTHER_SOURCE_TAGS:
            doc.warn("source-kind-unsupported", f"<{el.tag}> is not read (only text is).", element=locate(el))
        if el.tag not in TEXT_SOURCE_TAGS:
            continue
        raw, member = files.read(el)
        sid = guid(doc, el)
        text = None if raw is None else SourceText(raw)
        transcript = Transcript(id=sid, label=el.get("name") or sid, text=text.text if text else None,
                                source_file=f"{files.archive.label}/{member}" if member else doc.file)
        selections = el.findall("PlainTextSelection")
        placed.update(id(s) for s in selections)
        out.append(Source(el, transcript, text, selections))
    for sel in sources_el.iter("PlainTextSelection"):
        if id(sel) not in placed:
            raise fail(doc.file, "selection-source-unknown", "A selection is not inside a text source.",
                       element=locate(sel))
    return out


@dataclass(slots=True)
class ExcerptResult:
    excerpts: list[Excerpt]
    targets: dict[str, str]  # selection or coding GUID -> "transcript:start:end" (for NoteRefs)
    notes: list[Note]  # selection descriptions (ATLAS.ti 26 comments)


@dataclass(slots=True)
class _Group:
    codes: list[str]
    first: Element
    start: int
    end: int


def read_excerpts(doc: Document, sources: list[Source], *, codes: set[str], coders: set[str],
                  speakers: Mapping[str, str], tool: str | None) -> ExcerptResult:
    """Excerpts of every coded selection. `speakers` maps source or selection GUIDs to participants."""
    result = ExcerptResult([], {}, [])
    for source in sources:
        if not source.selections:
            continue
        if source.text is None:
            raise fail(doc.file, "selection-source-text", "The selection's source has no readable text.",
                       element=locate(source.selections[0]))
        spans = [_span(doc, sel) for sel in source.selections]
        detection = detect(source.text, spans)
        if detection.ambiguous_with:
            doc.warn("offset-convention-ambiguous", f"Offsets read as {detection.convention}; "
                     f"{', '.join(map(str, detection.ambiguous_with))} scored the same but place spans differently.",
                     element=locate(source.el), value=str(detection.convention))
        groups: dict[tuple[int, int, str | None], _Group] = {}
        placed = convert_all(source.text, detection.convention, spans)
        for sel, span, (start, end) in zip(source.selections, spans, placed, strict=True):
            key = f"{source.transcript.id}:{start}:{end}"
            codings = sel.findall("Coding")
            if start == end or not codings:
                doc.warn("selection-skipped", "An empty or uncoded selection is not an excerpt.",
                         element=locate(sel), value=child_text(sel, "Description"))
                continue
            result.targets[guid(doc, sel)] = key
            description = child_text(sel, "Description")
            if description:
                result.notes.append(Note(id=f"{guid(doc, sel)}#description", text=description,
                                         target_kind="excerpt", target=key))
            for coding in codings:
                result.targets[guid(doc, coding)] = key
                code = _code_of(doc, coding, codes)
                coder = _coder_of(doc, coding, sel, coders)
                group = groups.setdefault((start, end, coder), _Group([], sel, span.start, span.end))
                if code not in group.codes:
                    group.codes.append(code)
        text = source.text.text
        sid = source.transcript.id
        for (start, end, coder), g in groups.items():
            speaker = speakers.get(guid(doc, g.first)) or speakers.get(sid)
            provenance = Provenance(source_file=doc.file, tool=tool, offset_convention=str(detection.convention),
                                    original_start=g.start, original_end=g.end, where=doc.where(g.first))
            result.excerpts.append(Excerpt(transcript=sid, start=start, end=end, text=text[start:end],
                                           codes=tuple(g.codes), speaker=speaker, coder=coder, provenance=provenance))
    return result


def _span(doc: Document, sel: Element) -> Span:
    numbers = []
    for attr in ("startPosition", "endPosition"):
        value = sel.get(attr)
        try:
            numbers.append(int(value or ""))
        except ValueError:
            raise fail(doc.file, "selection-position", "A selection position is missing or not an integer.",
                       element=locate(sel), field=attr, value=value) from None
    return Span(numbers[0], numbers[1], sel.get("name"), doc.where(sel))


def _code_of(doc: Document, coding: Element, codes: set[str]) -> str:
    ref = coding.find("CodeRef")
    code = target(ref) if ref is not None else None
    if code not in codes:
        raise fail(doc.file, "ref-unknown", "The coding refers to a code that is not in the codebook.",
                   element=locate(coding), field="CodeRef/@targetGUID", value=code)
    return code


def _coder_of(doc: Document, coding: Element, sel: Element, coders: set[str]) -> str | None:
    """Coding@creatingUser, else the selection's creatingUser; an unknown user is warned about and dropped."""
    user = coding.get("creatingUser") or sel.get("creatingUser")
    if user is None:
        return None
    uid = norm_id(user)
    if uid not in coders:
        doc.warn("user-unknown", "The coding's creatingUser is not among <Users>.", element=locate(coding),
                 field="creatingUser", value=user)
        return None
    return uid
