"""One REFI-QDA XML document: safe parse, XSD validation reported as warnings, lenient reading.

A schema deviation is a warning; only unreadable, ambiguous or hostile content is an error, collected
while reading goes on and raised together (decisions 0025, 0035).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import as_file, files
from xml.etree.ElementTree import Element

import xmlschema

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.limits import capped, shown
from qualkg.ingest.problems import Problem, Where
from qualkg.ingest.safe_io import parse_xml

SCHEMAS = files("qualkg.ingest").joinpath("schemas")
MAX_SCHEMA_WARNINGS = 20  # a file that breaks one rule 300 times needs one line, not 300
XSI_SCHEMA_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
_GUID = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")
_NS = re.compile(r"\{[^}]*\}")
REFI_NAMESPACE = "urn:QDA-XML:"  # any version: the 1.0 schemas, Transana's 0:10


@cache
def schema(name: str) -> xmlschema.XMLSchema:
    """The bundled REFI-QDA schema `name` ("Project" or "Codebook"), compiled once per process."""
    with as_file(SCHEMAS.joinpath(f"{name}.xsd")) as xsd:
        return xmlschema.XMLSchema(str(xsd))


@dataclass(slots=True)
class Document:
    root: Element  # namespaces stripped: every tag is a local name
    file: str  # location label, e.g. "study.qdpx/project.qde"
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)  # raised together by `raise_errors`

    def warn(self, rule: str, message: str, *, element: str | None = None, field: str | None = None,
             value: str | None = None) -> None:
        self.warnings.append(Problem(Where(self.file, element, None, field), rule, message, shown(value), "warning"))

    def error(self, rule: str, message: str, *, element: str | None = None, field: str | None = None,
              value: str | None = None, file: str | None = None) -> None:
        """Record an error and read on, so that one run reports every problem of the document."""
        self.errors.append(Problem(Where(file or self.file, element, None, field), rule, message, shown(value)))

    def raise_errors(self) -> None:
        """Raise every error recorded so far (each once), if there is any."""
        if self.errors:
            raise ReaderError(capped(list(dict.fromkeys(self.errors))))

    def where(self, el: Element) -> Where:
        return Where(self.file, locate(el))


def norm_id(value: str) -> str:
    """GUIDs lose braces and case (tools disagree on both); other ids are kept, trimmed."""
    m = _GUID.match(value.strip())
    return m.group(1).lower() if m else value.strip()


def locate(el: Element) -> str:
    guid = el.get("guid")
    return f"{el.tag}[@guid='{guid}']" if guid else el.tag


def guid(doc: Document, el: Element) -> str:
    """The element's GUID, normalised; a missing one is an error, and the element reads on under a stand-in."""
    value = el.get("guid")
    if not value or not value.strip():
        doc.error("refi-guid-missing", f"A <{el.tag}> has no guid attribute.", element=el.tag, field="guid")
        return f"(no guid {id(el)})"
    return norm_id(value)


def target(el: Element) -> str | None:
    """The GUID a *Ref or Member* element points at (`targetGUID`, or `guid` as ATLAS.ti's codebook has it)."""
    value = el.get("targetGUID") or el.get("guid")
    return norm_id(value) if value else None


def child_text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    text = child.text if child is not None else None
    return text if text and text.strip() else None


def load(data: bytes, *, file: str, root_name: str, schema_name: str,
         errors: list[Problem] | None = None) -> Document:
    """Parse safely, check namespaces, validate against the bundled XSD (warnings), then strip namespaces.

    `errors` are problems found before the document (in its archive), reported with the document's own."""
    try:
        root = parse_xml(data, file=file)
    except ReaderError as e:
        raise ReaderError([*(errors or []), *e.problems]) from None
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != root_name:
        raise ReaderError([*(errors or []), Problem(Where(file, local), "refi-root",
                                                    f"The root element must be <{root_name}>.", root.tag)])
    doc = Document(root, file, errors=list(errors or []))
    _namespaces(doc, namespace, local)
    _schema_location(doc, namespace)
    _validate(doc, schema(schema_name))
    for el in root.iter():
        el.tag = el.tag.rpartition("}")[2]
    _unique_guids(doc)
    return doc


def _namespaces(doc: Document, namespace: str, local: str) -> None:
    """Only REFI-QDA's namespaces, or none: the reader matches local names, so an element in another
    namespace would be read as the REFI-QDA element of the same name."""
    if not namespace:
        doc.warn("refi-namespace", "The root element is in no namespace; reading by local names.", element=local)
    foreign: dict[str, list[Element]] = {}
    for el in doc.root.iter():
        ns = el.tag[1:].partition("}")[0] if el.tag.startswith("{") else ""
        if ns and not ns.startswith(REFI_NAMESPACE):
            foreign.setdefault(ns, []).append(el)
    for ns, els in foreign.items():
        first = els[0]
        name = first.tag.rpartition("}")[2]
        where = f"{name}[@guid='{first.get('guid')}']" if first.get("guid") else name
        if first is doc.root:
            doc.error("refi-namespace", f"The root element is in a namespace that is not REFI-QDA's "
                      f"({REFI_NAMESPACE}…): this is not a REFI-QDA document.", element=where, value=ns)
        else:
            doc.error("refi-namespace", f"{len(els)} element(s) are in a namespace that is not REFI-QDA's "
                      f"({REFI_NAMESPACE}…); read by their local names they would pass for REFI-QDA elements.",
                      element=where, value=ns)


def _schema_location(doc: Document, namespace: str) -> None:
    """ATLAS.ti Win 23.4 declares schemaLocation "urn:QDA-XML:codebook:0:4" for a 1.0 document."""
    hint = doc.root.get(XSI_SCHEMA_LOCATION)
    declared = hint.split()[0] if hint and hint.split() else None
    if declared is not None and declared != namespace:
        doc.warn("xsd-schema-location", f"xsi:schemaLocation names namespace {declared!r}, but the document "
                 f"uses {namespace!r}; the location hint is ignored.", element=doc.root.tag.rpartition("}")[2],
                 field="xsi:schemaLocation", value=hint)


def _validate(doc: Document, xsd: xmlschema.XMLSchema) -> None:
    errors = xsd.iter_errors(doc.root, use_location_hints=False)
    count = 0
    for err in errors:
        count += 1
        if count <= MAX_SCHEMA_WARNINGS:
            reason = _NS.sub("", err.reason or "")
            doc.warn("xsd", f"Deviation from the REFI-QDA schema: {reason}", element=_NS.sub("", err.path or ""),
                     value=None if hasattr(err.obj, "tag") else str(err.obj)[:200])
    if count > MAX_SCHEMA_WARNINGS:
        doc.warn("xsd", f"{count - MAX_SCHEMA_WARNINGS} further schema deviations not listed.", value=str(count))


def _family(tag: str) -> str:
    """GUIDs must be unique within a kind; TextSource and PDFSource share one (SourceRef), as do selections.
    Across kinds a shared GUID is a known quirk (codes minted from cases), not an error."""
    for suffix in ("Source", "Selection"):
        if tag.endswith(suffix):
            return suffix
    return tag


def _unique_guids(doc: Document) -> None:
    seen: set[tuple[str, str]] = set()
    for el in doc.root.iter():
        value = el.get("guid")
        if value is None or el.tag.startswith("Member"):  # MemberCode@guid is a reference, not an id
            continue
        key = (_family(el.tag), norm_id(value))
        if key in seen:
            doc.error("guid-unique", f"Two <{el.tag}> elements share one GUID.", element=locate(el), field="guid",
                      value=value)
        seen.add(key)
