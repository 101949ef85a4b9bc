"""A REFI-QDA project archive (.qdpx) as StudyRecords (decision 0025).

Users → Coder; CodeBook → Code; Cases and their variables → Participant (pseudonym: the case name, or
"Case <n>"); a case's SourceRef or SelectionRef → the speaker; TextSources → Transcript and Excerpt;
Notes with their NoteRefs → Note. Sets, Links and Graphs are not read.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from qualkg.ingest.errors import fail
from qualkg.ingest.offsets import normalise_line_ends
from qualkg.ingest.readers.identifiers import identifier_column, identifier_value
from qualkg.ingest.readers.refi.codes import read_codes
from qualkg.ingest.readers.refi.document import Document, child_text, guid, load, locate, target
from qualkg.ingest.readers.refi.sources import Source, TextFiles, read_excerpts, read_sources
from qualkg.ingest.records import Coder, Note, Participant, Study, StudyRecords
from qualkg.ingest.safe_io import DEFAULT_ZIP_LIMITS, SafeZip, ZipLimits

VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")


def read_qdpx(path: Path, *, study_id: str, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> StudyRecords:
    """Read a .qdpx safely (see ingest.safe_io); schema deviations and quirks become warnings."""
    with SafeZip(path, limits) as archive:
        member = _project_member(archive)
        doc = load(archive.read(member), file=f"{archive.label}/{member}", root_name="Project",
                   schema_name="Project")
        if member != "project.qde":
            doc.warn("qdpx-project-name", "The project XML is not named project.qde (an ATLAS.ti habit).",
                     value=member)
        root = doc.root
        coders = [Coder(id=guid(doc, u), name=u.get("name") or u.get("id") or guid(doc, u))
                  for u in root.findall("Users/User")]
        codes = read_codes(doc, root.find("CodeBook/Codes"))
        files = TextFiles(doc, archive)
        sources = read_sources(doc, files)
        participants, speakers = _participants(doc, sources)
        found = read_excerpts(doc, sources, codes={c.id for c in codes}, coders={c.id for c in coders},
                              speakers=speakers, tool=root.get("origin"))
        notes = found.notes + _notes(doc, files, found.targets, study_id)
    if root.find("Links/Link") is not None:
        doc.warn("links-unsupported", "Links (NVivo's annotations, relations) are not read.",
                 value=str(len(root.findall("Links/Link"))))
    study = Study(id=study_id, title=root.get("name") or path.stem, description=child_text(root, "Description"))
    return StudyRecords(study=study, participants=participants, transcripts=[s.transcript for s in sources],
                        codes=codes, coders=coders, excerpts=found.excerpts, notes=notes, warnings=doc.warnings)


def _project_member(archive: SafeZip) -> str:
    """project.qde, else the one *.qde at the archive root (ATLAS.ti names it after the project)."""
    candidates = [n for n in archive.names if "/" not in n and n.lower().endswith(".qde")]
    if "project.qde" in candidates:
        return "project.qde"
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise fail(archive.label, "qdpx-project-missing", "The archive has no .qde project file at its root.")
    raise fail(archive.label, "qdpx-project-ambiguous", "The archive has several .qde files and no project.qde.",
               value=", ".join(sorted(candidates)))


def _participants(doc: Document, sources: list[Source]) -> tuple[list[Participant], dict[str, str]]:
    """Participants, and speakers: source or selection GUID -> the one case that references it."""
    root = doc.root
    variables = {guid(doc, v): v.get("name") or guid(doc, v) for v in root.findall("Variables/Variable")}
    for v in root.findall("Variables/Variable"):
        if identifier_column(variables[guid(doc, v)]):
            raise fail(doc.file, "direct-identifier", "Participants are pseudonymised: this case variable "
                       "holds a direct identifier; remove it from the export.", element=locate(v), field="name",
                       value=v.get("name"))
    sources_el = root.find("Sources")
    source_ids = {guid(doc, el) for el in (sources_el.iter() if sources_el is not None else ())
                  if el.tag.endswith("Source") or el.tag == "Representation"}
    selection_ids = {guid(doc, sel) for s in sources for sel in s.selections}
    known = {"SourceRef": source_ids, "SelectionRef": selection_ids}
    cases_by_target: dict[str, list[str]] = {}
    participants: list[Participant] = []
    for n, case in enumerate(root.findall("Cases/Case"), start=1):
        cid = guid(doc, case)
        attributes = tuple(_variable_value(doc, vv, variables) for vv in case.findall("VariableValue"))
        for fld, value in [("name", case.get("name") or ""), *attributes]:
            if kind := identifier_value(value):
                raise fail(doc.file, "direct-identifier",
                           f"Participants are pseudonymised: this value looks like {kind}.",
                           element=locate(case), field=fld, value=value)
        participants.append(Participant(id=cid, pseudonym=case.get("name") or f"Case {n}",
                                        attributes=attributes, where=doc.where(case)))
        for tag, ids in known.items():
            for ref in case.findall(tag):
                tid = target(ref)
                if tid not in ids:
                    raise fail(doc.file, "ref-unknown", f"The case's {tag} points at nothing in <Sources>.",
                               element=locate(case), field=f"{tag}/@targetGUID", value=tid)
                cases_by_target.setdefault(tid, []).append(cid)
    speakers: dict[str, str] = {}
    for tid, cids in cases_by_target.items():
        if len(set(cids)) == 1:
            speakers[tid] = cids[0]
        else:
            doc.warn("speaker-ambiguous", "Several cases reference one source or selection; no speaker is set.",
                     element=f"[@guid='{tid}']", value=", ".join(sorted(set(cids))))
    return participants, speakers


def _variable_value(doc: Document, vv: Element, variables: dict[str, str]) -> tuple[str, str]:
    ref = vv.find("VariableRef")
    vid = target(ref) if ref is not None else None
    if vid not in variables:
        raise fail(doc.file, "ref-unknown", "A variable value refers to no <Variable>.", element=locate(vv),
                   field="VariableRef/@targetGUID", value=vid)
    value = next((child.text or "" for child in vv if child.tag in VALUE_TAGS), "")
    return variables[vid], value.strip()


def _notes(doc: Document, files: TextFiles, excerpt_targets: dict[str, str], study_id: str) -> list[Note]:
    """One Note per (note, NoteRef); a note nothing refers to belongs to the study."""
    texts: dict[str, str] = {}
    for el in doc.root.findall("Notes/Note"):
        raw, _ = files.read(el)
        text = normalise_line_ends(raw).strip() if raw else el.get("name")
        if text:
            texts[guid(doc, el)] = text
    refs: dict[str, list[tuple[str, str]]] = {nid: [] for nid in texts}
    for parent in doc.root.iter():
        for ref in parent.findall("NoteRef"):
            nid = target(ref)
            if nid not in texts:
                raise fail(doc.file, "ref-unknown", "The NoteRef points at no <Note> with text.",
                           element=locate(parent), field="NoteRef/@targetGUID", value=nid)
            refs[nid].append(_note_target(doc, parent, excerpt_targets, study_id))
    notes: list[Note] = []
    for nid, targets in refs.items():
        targets = targets or [("study", study_id)]
        for i, (kind, tid) in enumerate(targets, start=1):
            notes.append(Note(id=nid if len(targets) == 1 else f"{nid}#{i}", text=texts[nid],
                              target_kind=kind, target=tid))
    return notes


def _note_target(doc: Document, parent: Element, excerpt_targets: dict[str, str], study_id: str) -> tuple[str, str]:
    tag = parent.tag
    if tag == "Code":
        return "code", guid(doc, parent)
    if tag in ("TextSource", "Representation"):
        return "transcript", guid(doc, parent)
    if tag == "Case":
        return "participant", guid(doc, parent)
    if tag in ("PlainTextSelection", "Coding") and guid(doc, parent) in excerpt_targets:
        return "excerpt", excerpt_targets[guid(doc, parent)]
    if tag != "Project":
        doc.warn("note-target-unsupported", f"A note on a <{tag}> is attached to the study instead.",
                 element=locate(parent))
    return "study", study_id
