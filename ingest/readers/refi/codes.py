"""Codes from a REFI-QDA codebook (inside a project, or a standalone .qdc) (decision 0025).

The hierarchy comes from nesting or, for top-level codes, from names ("Parent::Child", " > ", "\\"); such a
child keeps the tool's name in `original_name`, and a parent found only in names gets the id "path:" + path.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree.ElementTree import Element

from qualkg.ingest.limits import MAX_CODE_DEPTH
from qualkg.ingest.readers.refi.document import Document, child_text, guid, load, locate
from qualkg.ingest.readers.refi.sets import check_sets
from qualkg.ingest.records import Code, Study, StudyRecords
from qualkg.ingest.safe_io import check_not_empty

NAME_SEPARATORS = ("::", " > ", "\\")
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_TRIPLET = re.compile(r"^\s*(\d{1,3})\s*[,; ]\s*(\d{1,3})\s*[,; ]\s*(\d{1,3})\s*$")


def read_qdc(path: Path, *, study_id: str) -> StudyRecords:
    """A REFI-QDA codebook (.qdc): codes only; schema deviations become warnings, errors are raised together."""
    check_not_empty(path, path.name)
    doc = load(path.read_bytes(), file=path.name, root_name="CodeBook", schema_name="Codebook")
    codes = read_codes(doc, doc.root.find("Codes"))
    check_sets(doc)
    doc.raise_errors()
    return StudyRecords(study=Study(id=study_id, title=path.stem), codes=codes, warnings=doc.warnings)


def read_codes(doc: Document, codes_el: Element | None) -> list[Code]:
    """Every code under `codes_el`, with parents from nesting or from hierarchical names."""
    if codes_el is None:
        return []
    nested: list[Code] = []
    _walk(doc, codes_el, nested)
    return _hierarchy_from_names(doc, nested)


def _walk(doc: Document, codes_el: Element, out: list[Code]) -> None:
    """Nested codes in document order, without recursion; a code deeper than MAX_CODE_DEPTH is an error."""
    stack: list[tuple[Element, str | None, int]] = [(el, None, 1) for el in reversed(codes_el.findall("Code"))]
    while stack:
        el, parent, depth = stack.pop()
        code = Code(id=guid(doc, el), label=el.get("name") or "", parent=parent,
                    description=child_text(el, "Description"), colour=_colour(doc, el),
                    codable=(el.get("isCodable") or "true").strip().lower() not in ("false", "0"))
        if depth > MAX_CODE_DEPTH:
            _too_deep(doc, el, "Code", depth)
            continue
        out.append(code)
        stack.extend((child, code.id, depth + 1) for child in reversed(el.findall("Code")))


def _too_deep(doc: Document, el: Element, fld: str | None, depth: int) -> None:
    doc.error("code-depth", f"The code hierarchy is more than {MAX_CODE_DEPTH} levels deep; no codebook needs "
              "so many, and deeper ones are refused.", element=locate(el), field=fld, value=f"level {depth}")


def _split(name: str) -> list[str]:
    for sep in NAME_SEPARATORS:
        parts = [p.strip() for p in name.split(sep)]
        if len(parts) > 1 and all(parts):
            return parts
    return [name]


def _hierarchy_from_names(doc: Document, codes: list[Code]) -> list[Code]:
    by_path = {tuple(_split(c.label)): c.id for c in codes if c.parent is None}
    out: list[Code] = []
    created = 0
    for code in codes:
        parts = _split(code.label)
        if code.parent is not None or len(parts) == 1:
            out.append(code)
            continue
        if len(parts) > MAX_CODE_DEPTH:
            doc.error("code-depth", f"The code's name has more than {MAX_CODE_DEPTH} levels; no codebook needs so "
                      "many, and deeper ones are refused.", element=f"Code[@guid='{code.id}']", field="name",
                      value=code.label)
            continue
        parent = None
        for depth in range(1, len(parts)):
            prefix = tuple(parts[:depth])
            if prefix not in by_path:
                by_path[prefix] = f"path:{'::'.join(prefix)}"
                out.append(Code(id=by_path[prefix], label=prefix[-1], parent=parent))
                created += 1
            parent = by_path[prefix]
        out.append(Code(id=code.id, label=parts[-1], parent=parent, description=code.description,
                        colour=code.colour, original_name=code.label, codable=code.codable))
    if created:
        doc.warn("code-hierarchy-from-names", f"{created} parent code(s) exist only inside code names "
                 f"(separators {', '.join(map(repr, NAME_SEPARATORS))}) and were created.", value=str(created))
    return out


def _colour(doc: Document, el: Element) -> str | None:
    """#RGB or #RRGGBB (upper case, 6 digits); an "r,g,b" triplet is converted; anything else is dropped."""
    raw = el.get("color")
    if raw is None or not raw.strip():
        return None
    if m := _HEX.match(raw.strip()):
        digits = m.group(1)
        return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits).upper()
    if (m := _TRIPLET.match(raw)) and all(int(v) <= 255 for v in m.groups()):
        return "#" + "".join(f"{int(v):02X}" for v in m.groups())
    doc.warn("code-colour", "A code colour is neither #RGB, #RRGGBB nor an r,g,b triplet; it is dropped.",
             element=f"Code[@guid='{el.get('guid')}']", field="color", value=raw)
    return None
