"""One study of the store as a REFI-QDA project archive (.qdpx) that QDA tools and qualkg read (decision 0090).

`project.qde` (valid against Project.xsd) and one LF UTF-8 `sources/<guid>.txt` per transcript, qualkg's own
offsets, Cases with Role/Team/Team feature variables and a qualkg:synthetic flag; the same study always gives
the same bytes. Reads the store through GraphStore with the study bound as a term, never pasted.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from pyoxigraph import Literal, NamedNode

from qualkg.ontology.iris import IriScheme
from qualkg.store.base import GraphStore, Row

NS = "urn:QDA-XML:project:1.0"
SYNTHETIC = "qualkg:synthetic"  # a Boolean variable: true on a TextSource or Case whose content is synthetic
ORIGIN = "qualkg"
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$|^#[0-9A-Fa-f]{3}$")

PREFIXES = """
PREFIX qk: <https://w3id.org/qualkg/ns#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""

STUDY_Q = PREFIXES + """SELECT ?title ?description WHERE {
  ?study a qk:Study . OPTIONAL { ?study dcterms:title ?title } OPTIONAL { ?study dcterms:description ?description }
}"""
CODERS_Q = PREFIXES + """SELECT ?coder ?name WHERE {
  ?coder a qk:Coder ; qk:inStudy ?study . OPTIONAL { ?coder rdfs:label ?name }
} ORDER BY ?coder"""
CODES_Q = PREFIXES + """SELECT ?code ?label ?parent ?definition ?colour ?codable WHERE {
  ?code qk:inStudy ?study ; skos:inScheme ?scheme . ?scheme a qk:Codebook .
  OPTIONAL { ?code skos:prefLabel ?label } OPTIONAL { ?code skos:broader ?parent }
  OPTIONAL { ?code skos:definition ?definition } OPTIONAL { ?code qk:colour ?colour }
  OPTIONAL { ?code qk:isCodable ?codable }
} ORDER BY ?code ?parent"""
TRANSCRIPTS_Q = PREFIXES + """SELECT ?transcript ?label ?text ?synthetic WHERE {
  ?transcript a qk:Transcript ; qk:inStudy ?study .
  OPTIONAL { ?transcript rdfs:label ?label } OPTIONAL { ?transcript qk:plainText ?text }
  OPTIONAL { ?transcript qk:isSynthetic ?synthetic }
} ORDER BY ?transcript"""
PARTICIPANTS_Q = PREFIXES + """SELECT ?participant ?pseudonym ?synthetic ?role ?team ?feature WHERE {
  ?participant a qk:Participant ; qk:inStudy ?study . OPTIONAL { ?participant qk:pseudonym ?pseudonym }
  OPTIONAL { ?participant qk:isSynthetic ?synthetic }
  OPTIONAL { ?m org:member ?participant . OPTIONAL { ?m org:role ?role }
             OPTIONAL { ?m org:organization ?t . ?t skos:prefLabel ?team
                        OPTIONAL { ?t org:classification ?feature } } }
} ORDER BY ?participant ?role ?team ?feature"""
ATTRIBUTES_Q = PREFIXES + """SELECT ?participant ?name ?value WHERE {
  ?participant a qk:Participant ; qk:inStudy ?study ; qk:hasAttribute ?a .
  ?a qk:attributeName ?name ; qk:attributeValue ?value .
} ORDER BY ?participant ?name ?value"""
EXCERPTS_Q = PREFIXES + """SELECT ?excerpt ?transcript ?start ?end ?speaker ?coder ?code WHERE {
  ?excerpt a qk:CodedExcerpt ; qk:inStudy ?study ; oa:hasTarget ?target .
  ?target oa:hasSource ?transcript ; oa:hasSelector ?pos .
  ?pos a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
  OPTIONAL { ?excerpt qk:spokenBy ?speaker }
  { ?excerpt qk:hasCoding ?coding . ?coding qk:appliedCode ?code . OPTIONAL { ?coding dcterms:creator ?coder } }
  UNION
  { FILTER NOT EXISTS { ?excerpt qk:hasCoding ?any }
    ?excerpt oa:hasBody ?code . OPTIONAL { ?excerpt dcterms:creator ?coder } }
} ORDER BY ?transcript ?start ?end ?excerpt ?coder ?code ?speaker"""


class StudyNotFound(LookupError):
    """The store holds no study with this id."""


@dataclass(slots=True)
class QdpxExport:
    """The archive's bytes and what went into it."""

    data: bytes
    transcripts: int = 0
    excerpts: int = 0
    codings: int = 0
    codes: int = 0
    coders: int = 0
    cases: int = 0
    skipped: list[str] = field(default_factory=list)  # what could not be written, one line each


@dataclass(slots=True)
class _Excerpt:
    transcript: str
    start: int
    end: int
    speaker: str | None = None
    codings: dict[tuple[str | None, str], None] = field(default_factory=dict)  # (coder, code), in order


def _guid(iri: str, *extra: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "\x1f".join((iri, *extra))))


def _v(row: Row, name: str) -> str | None:
    term = row.get(name)
    return None if term is None else term.value if isinstance(term, Literal | NamedNode) else str(term)


def _clean(value: str) -> str:
    """Text XML 1.0 can hold (control characters other than tab and line ends are dropped)."""
    return _NOT_XML.sub("", value)


def _el(parent: ET.Element, tag: str, **attrs: str | None) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS}}}{tag}", {k: _clean(v) for k, v in attrs.items() if v is not None})


def _text_el(parent: ET.Element, tag: str, text: str) -> ET.Element:
    el = _el(parent, tag)
    el.text = _clean(text)
    return el


def export_qdpx(store: GraphStore, iris: IriScheme, study: str) -> QdpxExport:
    """The study `study` as .qdpx bytes. Raises StudyNotFound when the store holds no such study."""
    bind = {"study": NamedNode(iris.study(study))}
    head = store.select(STUDY_Q, bind)
    if not head:
        raise StudyNotFound(study)
    result = QdpxExport(b"")
    root = ET.Element(f"{{{NS}}}Project", {"name": _clean(_v(head[0], "title") or study), "origin": ORIGIN})
    users = _users(root, store.select(CODERS_Q, bind), result)
    codes = _codebook(root, store.select(CODES_Q, bind), result)
    excerpts = _excerpts(store.select(EXCERPTS_Q, bind))
    files = _sources_and_cases(root, store, bind, excerpts, users, codes, result)
    if description := _v(head[0], "description"):
        _text_el(root, "Description", description)
    result.data = _archive(root, files)
    return result


def _users(root: ET.Element, rows: list[Row], result: QdpxExport) -> dict[str, str]:
    """<Users>: coder IRI → user GUID."""
    users: dict[str, str] = {}
    if rows:
        users_el = _el(root, "Users")
        for row in rows:
            iri = _v(row, "coder") or ""
            users[iri] = _guid(iri)
            _el(users_el, "User", guid=users[iri], name=_v(row, "name") or iri.rsplit("/", 1)[-1])
    result.coders = len(users)
    return users


def _codebook(root: ET.Element, rows: list[Row], result: QdpxExport) -> dict[str, str]:
    """<CodeBook>: the hierarchy nested (a code with several broader codes under the first); code IRI → GUID."""
    info: dict[str, Row] = {}
    parent: dict[str, str | None] = {}
    for row in rows:
        iri = _v(row, "code") or ""
        info.setdefault(iri, row)
        parent.setdefault(iri, _v(row, "parent"))
    children: dict[str | None, list[str]] = {}
    for iri, up in parent.items():
        children.setdefault(up if up in parent and up != iri else None, []).append(iri)
    guids: dict[str, str] = {}
    if not parent:
        return guids
    codes_el = _el(_el(root, "CodeBook"), "Codes")
    stack: list[tuple[ET.Element, str]] = [(codes_el, iri) for iri in reversed(children.get(None, []))]
    while stack:
        parent_el, iri = stack.pop()
        if iri in guids:
            continue
        row = info[iri]
        guids[iri] = _guid(iri)
        colour = _v(row, "colour")
        el = _el(parent_el, "Code", guid=guids[iri], name=_v(row, "label") or iri.rsplit("/", 1)[-1],
                 isCodable="false" if _v(row, "codable") == "false" else "true",
                 color=colour if colour and _HEX.match(colour) else None)
        if definition := _v(row, "definition"):
            _text_el(el, "Description", definition)
        stack.extend((el, child) for child in reversed(children.get(iri, [])))
    for iri in parent:  # a cycle of broader codes reaches no top: such codes are written at the top
        if iri not in guids:
            stack = [(codes_el, iri)]
            while stack:
                parent_el, c = stack.pop()
                if c in guids:
                    continue
                guids[c] = _guid(c)
                _el(parent_el, "Code", guid=guids[c], name=_v(info[c], "label") or c, isCodable="true")
    result.codes = len(guids)
    return guids


def _excerpts(rows: list[Row]) -> dict[str, _Excerpt]:
    out: dict[str, _Excerpt] = {}
    for row in rows:
        iri = _v(row, "excerpt") or ""
        x = out.get(iri)
        if x is None:
            x = out[iri] = _Excerpt(_v(row, "transcript") or "", int(_v(row, "start") or 0), int(_v(row, "end") or 0),
                                    _v(row, "speaker"))
        x.codings[(_v(row, "coder"), _v(row, "code") or "")] = None
    return out


def _sources_and_cases(root: ET.Element, store: GraphStore, bind: dict[str, NamedNode], excerpts: dict[str, _Excerpt],
                       users: dict[str, str], codes: dict[str, str], result: QdpxExport) -> dict[str, str]:
    """<Variables>, <Cases> and <Sources>, in the order Project.xsd wants them; returns the source files."""
    files: dict[str, str] = {}
    by_transcript: dict[str, list[tuple[str, _Excerpt]]] = {}
    for iri, x in excerpts.items():
        by_transcript.setdefault(x.transcript, []).append((iri, x))
    sources_el = ET.Element(f"{{{NS}}}Sources")
    spoken: dict[str, list[str]] = {}
    for row in store.select(TRANSCRIPTS_Q, bind):
        iri = _v(row, "transcript") or ""
        text, sid = _v(row, "text"), _guid(iri)
        el = _el(sources_el, "TextSource", guid=sid, name=_v(row, "label") or iri.rsplit("/", 1)[-1],
                 plainTextPath=f"internal://{sid}.txt" if text is not None else None)
        result.transcripts += 1
        if text is None:
            n = len(by_transcript.get(iri, []))
            result.skipped += [f"transcript {iri}: no text kept, so its {n} excerpt(s) cannot be placed"] if n else []
            continue
        files[f"sources/{sid}.txt"] = text
        for x_iri, x in by_transcript.get(iri, []):
            _selection(el, x_iri, x, users, codes, result)
            if x.speaker:
                spoken.setdefault(x.speaker, []).append(_guid(x_iri))
        if _v(row, "synthetic") == "true":
            _synthetic_value(el)
    _cases(root, _participant_rows(store, bind), spoken, result,
           synthetic=_any_synthetic(sources_el))
    if len(sources_el):
        root.append(sources_el)
    return files


def _selection(source_el: ET.Element, iri: str, x: _Excerpt, users: dict[str, str], codes: dict[str, str],
               result: QdpxExport) -> None:
    sel = _el(source_el, "PlainTextSelection", guid=_guid(iri), startPosition=str(x.start), endPosition=str(x.end))
    coders = {c for c, _ in x.codings}
    if len(coders) == 1 and (only := next(iter(coders))) in users:
        sel.set("creatingUser", users[only])
    for coder, code in x.codings:
        if code not in codes:
            result.skipped.append(f"excerpt {iri}: code {code} is not in the study's codebook")
            continue
        coding = _el(sel, "Coding", guid=_guid(iri, coder or "", code),
                     creatingUser=users.get(coder) if coder else None)
        _el(coding, "CodeRef", targetGUID=codes[code])
        result.codings += 1
    result.excerpts += 1


def _synthetic_value(el: ET.Element) -> None:
    vv = _el(el, "VariableValue")
    _el(vv, "VariableRef", targetGUID=_guid("variable", SYNTHETIC))
    _text_el(vv, "BooleanValue", "true")


def _any_synthetic(sources_el: ET.Element) -> bool:
    return sources_el.find(f"*/{{{NS}}}VariableValue") is not None


@dataclass(slots=True)
class _Participant:
    pseudonym: str
    synthetic: bool = False
    values: dict[str, list[str]] = field(default_factory=dict)  # variable name → values, in order


def _participant_rows(store: GraphStore, bind: dict[str, NamedNode]) -> dict[str, _Participant]:
    out: dict[str, _Participant] = {}
    for row in store.select(PARTICIPANTS_Q, bind):
        iri = _v(row, "participant") or ""
        p = out.setdefault(iri, _Participant(_v(row, "pseudonym") or iri.rsplit("/", 1)[-1],
                                             _v(row, "synthetic") == "true"))
        if role := _v(row, "role"):
            _add(p.values, "Role", role.rsplit("/", 1)[-1])
        if team := _v(row, "team"):
            _add(p.values, "Team", team)
        if feature := _v(row, "feature"):
            _add(p.values, "Team feature", feature.rsplit("/", 1)[-1])
    for row in store.select(ATTRIBUTES_Q, bind):
        found = out.get(_v(row, "participant") or "")
        if found is not None:
            _add(found.values, _v(row, "name") or "", _v(row, "value") or "")
    return out


def _add(values: dict[str, list[str]], name: str, value: str) -> None:
    if value not in values.setdefault(name, []):
        values[name].append(value)


def _cases(root: ET.Element, participants: dict[str, _Participant], spoken: dict[str, list[str]],
           result: QdpxExport, *, synthetic: bool) -> None:
    """Text variables (a variable with several values for one case: one VariableValue each), the Boolean
    SYNTHETIC variable when anything is synthetic, and one Case per participant, its excerpts as SelectionRefs."""
    names = sorted({n for p in participants.values() for n in p.values})
    variables = {n: _guid("variable", n) for n in names}
    synthetic = synthetic or any(p.synthetic for p in participants.values())
    if names or synthetic:
        vars_el = _el(root, "Variables")
        for n in names:
            _el(vars_el, "Variable", guid=variables[n], name=n, typeOfVariable="Text")
        if synthetic:
            _el(vars_el, "Variable", guid=_guid("variable", SYNTHETIC), name=SYNTHETIC, typeOfVariable="Boolean")
    if not participants:
        return
    cases_el = _el(root, "Cases")
    for iri, p in participants.items():
        case = _el(cases_el, "Case", guid=_guid(iri), name=p.pseudonym)
        for n, values in sorted(p.values.items()):
            for value in values:
                vv = _el(case, "VariableValue")
                _el(vv, "VariableRef", targetGUID=variables[n])
                _text_el(vv, "TextValue", value)
        if p.synthetic:
            _synthetic_value(case)
        for sel in spoken.get(iri, []):
            _el(case, "SelectionRef", targetGUID=sel)
        result.cases += 1


def _entries(root: ET.Element, files: dict[str, str]) -> Iterator[tuple[str, bytes]]:
    ET.register_namespace("", NS)
    yield "project.qde", ET.tostring(root, encoding="utf-8", xml_declaration=True)
    for name, text in sorted(files.items()):
        yield name, text.encode("utf-8")


def _archive(root: ET.Element, files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in _entries(root, files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


__all__ = ["QdpxExport", "StudyNotFound", "export_qdpx"]
