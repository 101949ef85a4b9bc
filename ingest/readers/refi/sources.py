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

import numpy as np

from qualkg.ingest.limits import shown, whole_number
from qualkg.ingest.offsets import Detection, SourceText, Span, detect, place_all
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
    unreadable: bool = False  # its text was refused with an error already


class TextFiles:
    """Reads the text a TextSource or Note points at from the archive's sources folder, by safe name only."""

    def __init__(self, doc: Document, archive: SafeZip) -> None:
        self.doc, self.archive = doc, archive
        # By name, ignoring case (SafeZip refused names that differ only in case), as NVivo's Sources/ needs.
        self.members = {posixpath.basename(n).casefold(): n for n in archive.names
                        if posixpath.dirname(n).lower() == "sources"}
        self.unreadable: set[int] = set()  # ids of elements whose text is refused with an error

    def read(self, el: Element) -> tuple[str | None, str | None]:
        """(text with line ends as stored, archive member or None); None text with a warning if absent, or
        with an error if the path is unsafe or its member missing or not UTF-8 (`unreadable` then holds `el`)."""
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
            return self._unreadable(el, "source-path", "An internal:// path must be a plain file name.", path)
        member = self.members.get(name.casefold())
        if member is None:
            return self._unreadable(el, "source-missing", "The archive's sources folder has no such file.", path)
        data = self.archive.read(member)
        try:
            return data.decode("utf-8-sig"), member
        except UnicodeDecodeError as exc:
            return self._unreadable(el, "source-encoding", "The text is not valid UTF-8.",
                                    f"byte {exc.start}: {data[exc.start:exc.start + 4].hex(' ')}",
                                    file=f"{self.archive.label}/{member}", fld=None)

    def _unreadable(self, el: Element, rule: str, message: str, value: str, *, file: str | None = None,
                    fld: str | None = "plainTextPath") -> tuple[None, None]:
        self.unreadable.add(id(el))
        self.doc.error(rule, message, element=locate(el), field=fld, value=value, file=file)
        return None, None


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
        out.append(Source(el, transcript, text, selections, unreadable=id(el) in files.unreadable))
    for sel in sources_el.iter("PlainTextSelection"):
        if id(sel) not in placed:
            doc.error("selection-source-unknown", "A selection is not inside a text source.", element=locate(sel))
    return out


def _warn_close(doc: Document, source: Source, detection: Detection, spans: list[Span]) -> None:
    """The best two readings scored the same or nearly: say so at the source, with every candidate's score
    and the first selection they place differently, with the text each gives it."""
    assert source.text is not None and detection.runner_up is not None and detection.differs_at is not None
    text, span = source.text, spans[detection.differs_at]
    gives = []
    for conv in (detection.convention, detection.runner_up):
        (start,), (end,) = text.place(conv, np.array([span.start]), np.array([span.end]))
        gives.append(f"{conv} gives {shown(text.text[start:end])!r}" if start >= 0 else f"{conv} cannot place it")
    tied = detection.ambiguous_with
    rule, how = (("offset-convention-ambiguous", "scored the same as") if tied
                 else ("offset-convention-close", "scored nearly as well as"))
    doc.warn(rule, f"Offsets read as {detection.convention}, but {detection.runner_up} {how} it and places "
             f"spans differently, first at {span.where.element} ({span.start}-{span.end}): {'; '.join(gives)}. "
             f"Scores (boundary points, higher is better): {detection.describe()}.",
             element=locate(source.el), value=str(detection.convention))


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
        if not source.selections or source.unreadable:
            continue
        if source.text is None:
            doc.error("selection-source-text", "The selection's source has no readable text.",
                      element=locate(source.selections[0]))
            continue
        readable = [(sel, span) for sel in source.selections if (span := _span(doc, sel, source.text)) is not None]
        if not readable:
            continue
        spans = [span for _, span in readable]
        detection = detect(source.text, spans)
        if detection.close:
            _warn_close(doc, source, detection, spans)
        placed, problems = place_all(source.text, detection.convention, spans)
        doc.errors += problems
        groups: dict[tuple[int, int, str | None], _Group] = {}
        for (sel, span), at in zip(readable, placed, strict=True):
            if at is not None:
                _group(doc, result, groups, sel, span, at, codes=codes, coders=coders, transcript=source.transcript.id)
        text = source.text.text
        sid = source.transcript.id
        for (start, end, coder), g in groups.items():
            speaker = speakers.get(guid(doc, g.first)) or speakers.get(sid)
            provenance = Provenance(source_file=doc.file, tool=tool, offset_convention=str(detection.convention),
                                    original_start=g.start, original_end=g.end, where=doc.where(g.first))
            result.excerpts.append(Excerpt(transcript=sid, start=start, end=end, text=text[start:end],
                                           codes=tuple(g.codes), speaker=speaker, coder=coder, provenance=provenance))
    return result


def _group(doc: Document, result: ExcerptResult, groups: dict[tuple[int, int, str | None], _Group], sel: Element,
           span: Span, at: tuple[int, int], *, codes: set[str], coders: set[str], transcript: str) -> None:
    """Add one placed selection's codings to the excerpt of its (start, end, coder)."""
    start, end = at
    key = f"{transcript}:{start}:{end}"
    codings = sel.findall("Coding")
    if start == end or not codings:
        doc.warn("selection-skipped", "An empty or uncoded selection is not an excerpt.",
                 element=locate(sel), value=child_text(sel, "Description"))
        return
    result.targets[guid(doc, sel)] = key
    description = child_text(sel, "Description")
    if description:
        result.notes.append(Note(id=f"{guid(doc, sel)}#description", text=description,
                                 target_kind="excerpt", target=key))
    for coding in codings:
        result.targets[guid(doc, coding)] = key
        code = _code_of(doc, coding, codes)
        if code is None:
            continue
        coder = _coder_of(doc, coding, sel, coders)
        group = groups.setdefault((start, end, coder), _Group([], sel, span.start, span.end))
        if code not in group.codes:
            group.codes.append(code)


def _span(doc: Document, sel: Element, text: SourceText) -> Span | None:
    """The selection's numbers as the tool wrote them; None, with an error, when one is not a whole number
    or is further into the text than any of its units reaches (a bound that also keeps numpy in range)."""
    numbers = []
    bound = text.max_units()
    for attr in ("startPosition", "endPosition"):
        value = sel.get(attr)
        number = whole_number(value)
        if number is None:
            doc.error("selection-position", "A selection position is missing or not a whole number.",
                      element=locate(sel), field=attr, value=value)
        elif number > bound:
            doc.error("selection-within-text", f"The selection position lies past the end of the text, which has "
                      f"at most {bound} units however it is counted.", element=locate(sel), field=attr, value=value)
        elif number < 0:
            doc.error("selection-negative", "A selection position is negative.", element=locate(sel), field=attr,
                      value=value)
        else:
            numbers.append(number)
    if len(numbers) < 2:
        return None
    return Span(numbers[0], numbers[1], sel.get("name"), doc.where(sel))


def _code_of(doc: Document, coding: Element, codes: set[str]) -> str | None:
    ref = coding.find("CodeRef")
    code = target(ref) if ref is not None else None
    if code is None or code not in codes:
        doc.error("ref-unknown", "The coding refers to a code that is not in the codebook.", element=locate(coding),
                  field="CodeRef/@targetGUID", value=code)
        return None
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
