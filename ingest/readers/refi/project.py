"""A REFI-QDA project archive (.qdpx) as StudyRecords (decisions 0025, 0092, 0095).

Users → Coder; CodeBook → Code; Cases (or, without cases, documents with variables or ATLAS.ti document
groups) → Participant, the speaker of what they reference; TextSources → Transcript and Excerpt; Notes →
Note. Links and Graphs are not read; other sets only checked for cycles.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import Element

from qualkg.ingest.cases import AttributeRule, apply_rules, default_rules
from qualkg.ingest.errors import ReaderError
from qualkg.ingest.limits import shown
from qualkg.ingest.offsets import normalise_line_ends
from qualkg.ingest.readers.identifiers import identifier_column, identifier_value
from qualkg.ingest.readers.refi.codes import read_codes
from qualkg.ingest.readers.refi.document import Document, child_text, guid, load, locate, norm_id, target
from qualkg.ingest.readers.refi.sets import check_sets
from qualkg.ingest.readers.refi.sources import Source, TextFiles, read_excerpts, read_sources
from qualkg.ingest.records import (
    Coder,
    Excerpt,
    Note,
    Participant,
    Problem,
    SourceProject,
    Study,
    StudyRecords,
    Transcript,
    Where,
)
from qualkg.ingest.safe_io import DEFAULT_ZIP_LIMITS, SafeZip, ZipLimits

VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")
SYNTHETIC = "qualkg:synthetic"  # qualkg's own export marks synthetic sources and cases so (ingest.writers.qdpx)
TRUE_VALUES = ("true", "1")
DOCUMENT_GROUP = "Document group"  # the variable an ATLAS.ti document group's name is the value of


def read_qdpx(path: Path, *, study_id: str, limits: ZipLimits = DEFAULT_ZIP_LIMITS,
              rules: list[AttributeRule] | None = None) -> StudyRecords:
    """Read a .qdpx safely (see ingest.safe_io); schema deviations and quirks become warnings.

    Cases' attributes give roles, teams and team features by `rules`, or by the variables' names when None
    (ingest.cases, decision 0092); a project without cases says once how to add participants.

    Errors are collected while reading goes on, and raised together: the archive's ambiguous names and
    project files with everything wrong in the project document (decision 0035)."""
    archive_problems: list[Problem] = []
    with SafeZip(path, limits, problems=archive_problems) as archive:
        member = _project_member(archive, archive_problems)
        doc = load(archive.read(member), file=f"{archive.label}/{member}", root_name="Project",
                   schema_name="Project", errors=archive_problems)
        if member != "project.qde":
            doc.warn("qdpx-project-name", "The project XML is not named project.qde (an ATLAS.ti habit).",
                     value=member)
        root = doc.root
        coders = [Coder(id=guid(doc, u), name=u.get("name") or u.get("id") or guid(doc, u))
                  for u in root.findall("Users/User")]
        codes = read_codes(doc, root.find("CodeBook/Codes"))
        check_sets(doc)
        files = TextFiles(doc, archive)
        sources = read_sources(doc, files)
        participants, speakers = _participants(doc, sources)
        found = read_excerpts(doc, sources, codes={c.id for c in codes}, coders={c.id for c in coders},
                              speakers=speakers, tool=root.get("origin"))
        notes = found.notes + _notes(doc, files, found.targets, study_id)
    transcripts, excerpts = _synthetic_sources(doc, sources, found.excerpts)
    if not participants:
        participants, excerpts = _document_participants(doc, sources, excerpts)
    doc.raise_errors()
    if root.find("Links/Link") is not None:
        doc.warn("links-unsupported", "Links (NVivo's annotations, relations) are not read.",
                 value=str(len(root.findall("Links/Link"))))
    synthetic = any(t.synthetic for t in transcripts) or any(p.synthetic for p in participants)
    study = Study(id=study_id, title=root.get("name") or path.stem, description=_description(root),
                  synthetic=synthetic, source_project=_source_project(doc, {c.id for c in coders}, path))
    if not participants:
        doc.warn("no-cases", "The project has no cases, so no excerpt has a speaker and no participant a role or "
                 "team: role and team questions and the matrix have nothing to count. Add cases with Role and Team "
                 "attributes in the QDA tool, or give participants in a study package that points at this file "
                 "(study.yaml: coded_data: {qdpx: FILE}, participants.csv and a cases: map; docs/study-package.md).",
                 element="Cases")
    rec = StudyRecords(study=study, participants=participants, transcripts=transcripts,
                       codes=codes, coders=coders, excerpts=excerpts, notes=notes, warnings=doc.warnings)
    return apply_rules(rec, default_rules(participants) if rules is None else rules, source=doc.file)


def _description(root: Element) -> str | None:
    """The project's description; QualCoder writes "None" for a project without one."""
    text = child_text(root, "Description")
    quirk = text == "None" and (root.get("origin") or "").casefold().startswith("qualcoder")
    return None if quirk else text


def _source_project(doc: Document, coders: set[str], path: Path) -> SourceProject:
    """The project's name, tool, dates and users as the tool wrote them (decision 0091)."""
    root = doc.root

    def user(attr: str) -> str | None:
        value = root.get(attr)
        return uid if value and (uid := norm_id(value)) in coders else None

    return SourceProject(name=root.get("name") or path.stem, tool=root.get("origin"),
                         created=date_time(doc, root, "creationDateTime"),
                         modified=date_time(doc, root, "modifiedDateTime"),
                         creator=user("creatingUserGUID"), modifier=user("modifyingUserGUID"))


def date_time(doc: Document, el: Element, attr: str) -> str | None:
    """An xsd:dateTime attribute in its canonical ISO form; one that does not parse is warned about and dropped."""
    value = (el.get(attr) or "").strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        doc.warn("date-time", "A date is not an ISO 8601 date and time; it is not kept.", element=locate(el),
                 field=attr, value=value)
        return None


def _document_participants(doc: Document, sources: list[Source], excerpts: list[Excerpt]
                           ) -> tuple[list[Participant], list[Excerpt]]:
    """MAXQDA's document variables (VariableValues on a TextSource) and ATLAS.ti's document groups in a project
    without cases: one document is one participant's interview, so each document with variables or groups is
    a participant who speaks its excerpts."""
    variables = _variables(doc)
    groups = _document_groups(doc)
    participants: list[Participant] = []
    for s in sources:
        values = [a for vv in s.el.findall("VariableValue") if (a := _variable_value(doc, vv, variables))]
        values += groups.get(guid(doc, s.el), [])
        attributes = tuple(a for a in values if a[0] != SYNTHETIC)
        for fld, value in attributes:
            if kind := identifier_value(value):
                doc.error("direct-identifier", f"Participants are pseudonymised: this value looks like {kind}.",
                          element=locate(s.el), field=fld, value=value)
        if attributes:
            participants.append(Participant(id=f"document:{s.transcript.id}", pseudonym=s.transcript.label,
                                            attributes=attributes, synthetic=s.transcript.synthetic,
                                            where=doc.where(s.el)))
    if not participants:
        return [], excerpts
    doc.warn("document-participants", f"The project has no cases; {len(participants)} document(s) with variables "
             "or document groups are taken as one participant each, who speaks the document's excerpts.",
             element="Sources",
             value=", ".join(p.pseudonym for p in participants))
    speaker = {p.id.removeprefix("document:"): p.id for p in participants}
    return participants, [x if x.speaker or x.transcript not in speaker else replace(x, speaker=speaker[x.transcript])
                          for x in excerpts]


def _document_groups(doc: Document) -> dict[str, list[tuple[str, str]]]:
    """Source GUID → the attributes its ATLAS.ti document groups (<Sets> of MemberSources) give: a group named
    "Variable::value" gives (Variable, value), any other (DOCUMENT_GROUP, its name). Other tools' sets: none."""
    if not (doc.root.get("origin") or "").casefold().startswith("atlas.ti"):
        return {}
    attributes: dict[str, list[tuple[str, str]]] = {}
    for group in doc.root.findall("Sets/Set"):
        name = (group.get("name") or "").strip()
        variable, sep, value = name.partition("::")
        attribute = (variable.strip(), value.strip()) if sep and variable.strip() and value.strip() else (
            DOCUMENT_GROUP, name)
        for member in group.findall("MemberSource"):
            if name and (tid := target(member)):
                attributes.setdefault(tid, []).append(attribute)
    return attributes


def _variables(doc: Document) -> dict[str, str]:
    """Variable GUID → its name."""
    return {guid(doc, v): v.get("name") or guid(doc, v) for v in doc.root.findall("Variables/Variable")}


def _synthetic_sources(doc: Document, sources: list[Source], excerpts: list[Excerpt]
                       ) -> tuple[list[Transcript], list[Excerpt]]:
    """Transcripts with their creation dates; they and their excerpts marked synthetic when their source has
    SYNTHETIC true."""
    variables = _variables(doc)
    flagged = {s.transcript.id for s in sources
               if any(a[0] == SYNTHETIC and a[1].lower() in TRUE_VALUES
                      for vv in s.el.findall("VariableValue") if (a := _variable_value(doc, vv, variables)))}
    transcripts = [replace(s.transcript, synthetic=s.transcript.id in flagged,
                           created=date_time(doc, s.el, "creationDateTime")) for s in sources]
    if not flagged:
        return transcripts, excerpts
    return transcripts, [replace(x, synthetic=True) if x.transcript in flagged else x for x in excerpts]


def _project_member(archive: SafeZip, problems: list[Problem]) -> str:
    """The one *.qde at the archive root: project.qde, or named after the project (ATLAS.ti).

    A second .qde anywhere in the archive is an error: tools would disagree on which project it holds.
    Reading goes on with project.qde (else the first by name), so that its problems are reported too."""
    qde = sorted(n for n in archive.names if n.lower().endswith(".qde"))
    at_root = [n for n in qde if "/" not in n]
    if not at_root:
        raise ReaderError([*problems, Problem(Where(archive.label), "qdpx-project-missing",
                                              "The archive has no .qde project file at its root.",
                                              shown(", ".join(qde)) or None)])
    if len(qde) > 1:
        problems.append(Problem(Where(archive.label), "qdpx-project-ambiguous",
                                f"The archive has {len(qde)} .qde project files; a .qdpx holds one project.",
                                shown(", ".join(qde))))
    return "project.qde" if "project.qde" in at_root else at_root[0]


def _participants(doc: Document, sources: list[Source]) -> tuple[list[Participant], dict[str, str]]:
    """Participants, and speakers: source or selection GUID -> the one case that references it."""
    root = doc.root
    variables = _variables(doc)
    for v in root.findall("Variables/Variable"):
        if identifier_column(variables[guid(doc, v)]):
            doc.error("direct-identifier", "Participants are pseudonymised: this case variable holds a direct "
                      "identifier; remove it from the export.", element=locate(v), field="name", value=v.get("name"))
    sources_el = root.find("Sources")
    source_ids = {guid(doc, el) for el in (sources_el.iter() if sources_el is not None else ())
                  if el.tag.endswith("Source") or el.tag == "Representation"}
    selection_ids = {guid(doc, sel) for s in sources for sel in s.selections}
    known = {"SourceRef": source_ids, "SelectionRef": selection_ids}
    cases_by_target: dict[str, list[str]] = {}
    participants: list[Participant] = []
    for n, case in enumerate(root.findall("Cases/Case"), start=1):
        cid = guid(doc, case)
        values = [a for vv in case.findall("VariableValue") if (a := _variable_value(doc, vv, variables))]
        synthetic = any(name == SYNTHETIC and value.lower() in TRUE_VALUES for name, value in values)
        attributes = tuple(a for a in values if a[0] != SYNTHETIC)
        for fld, value in [("name", case.get("name") or ""), *attributes]:
            if kind := identifier_value(value):
                doc.error("direct-identifier", f"Participants are pseudonymised: this value looks like {kind}.",
                          element=locate(case), field=fld, value=value)
        participants.append(Participant(id=cid, pseudonym=case.get("name") or f"Case {n}",
                                        attributes=attributes, synthetic=synthetic, where=doc.where(case)))
        for tag, ids in known.items():
            for ref in case.findall(tag):
                tid = target(ref)
                if tid is None or tid not in ids:
                    doc.error("ref-unknown", f"The case's {tag} points at nothing in <Sources>.",
                              element=locate(case), field=f"{tag}/@targetGUID", value=tid)
                    continue
                cases_by_target.setdefault(tid, []).append(cid)
    speakers: dict[str, str] = {}
    for tid, cids in cases_by_target.items():
        if len(set(cids)) == 1:
            speakers[tid] = cids[0]
        else:
            doc.warn("speaker-ambiguous", "Several cases reference one source or selection; no speaker is set.",
                     element=f"[@guid='{tid}']", value=", ".join(sorted(set(cids))))
    return participants, speakers


def _variable_value(doc: Document, vv: Element, variables: dict[str, str]) -> tuple[str, str] | None:
    ref = vv.find("VariableRef")
    vid = target(ref) if ref is not None else None
    if vid is None or vid not in variables:
        doc.error("ref-unknown", "A variable value refers to no <Variable>.", element=locate(vv),
                  field="VariableRef/@targetGUID", value=vid)
        return None
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
            if nid is None or nid not in texts:
                doc.error("ref-unknown", "The NoteRef points at no <Note> with text.", element=locate(parent),
                          field="NoteRef/@targetGUID", value=nid)
                continue
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
