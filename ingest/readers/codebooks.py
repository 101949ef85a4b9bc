"""Codebook tables: ATLAS.ti's Code Manager export and Taguette's codebook CSV (decision 0086).

ATLAS.ti: `Code;Comment;Code Group 1..4` (hierarchy in the name, groups not read); Taguette:
`tag,description,number of highlights` (dotted paths). Read alone (codes only) or with a coded-segments
table, whose code names it confirms.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.readers.presets import fold
from qualkg.ingest.readers.tables import load_table
from qualkg.ingest.records import Code, Problem, Where

__all__ = ["CODEBOOK_LAYOUTS", "CodebookLayout", "detect_codebook", "read_codebook"]


@dataclass(frozen=True, slots=True)
class CodebookLayout:
    name: str
    tool: str
    code: tuple[str, ...]  # header names of the code column, any language
    description: tuple[str, ...]
    signature: tuple[str, ...]  # further header names that tell this layout apart
    separator: str


CODEBOOK_LAYOUTS = (
    CodebookLayout("atlasti", "ATLAS.ti", ("Code", "Código", "Codice", "Kod"),
                   ("Comment", "Comentário", "Comentario", "Kommentar", "Commentaire", "Commento", "Komentarz"),
                   ("Code Group 1", "Grupo de códigos 1", "Codegruppe 1", "Groupe de codes 1", "Gruppo di codici 1",
                    "Grupa kodów 1"), ": "),
    CodebookLayout("taguette", "Taguette", ("tag",), ("description",), ("number of highlights",), "."),
)


def detect_codebook(header: list[str]) -> CodebookLayout | None:
    """The codebook layout this header has, or None (a coded-segments table, say)."""
    folded = {fold(h) for h in header}
    for layout in CODEBOOK_LAYOUTS:
        if any(fold(n) in folded for n in layout.code) and any(fold(n) in folded for n in layout.signature):
            return layout
    return None


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    folded = [fold(h) for h in header]
    return next((folded.index(fold(n)) for n in names if fold(n) in folded), None)


def read_codebook(path: Path, layout_name: str | None = None) -> tuple[list[Code], CodebookLayout]:
    """The codes of a codebook table, ancestors first; raise ReaderError (located) when it is not one."""
    file = path.name
    table = load_table(path, file)
    header = [h.strip() for h in table[0]]
    layout = detect_codebook(header)
    if layout is None or (layout_name is not None and layout.name != layout_name):
        wanted = [lay for lay in CODEBOOK_LAYOUTS if layout_name in (None, lay.name)]
        expected = "; ".join(f"{lay.tool}: " + ", ".join(repr(c) for c in (lay.code[0], lay.description[0],
                                                                             lay.signature[0])) for lay in wanted)
        raise ReaderError([Problem(Where(file, row=1), "codebook-layout",
                                   f"not a codebook table; columns found: {', '.join(repr(h) for h in header)}; "
                                   f"expected {expected}")])
    code_at = _column(header, layout.code)
    desc_at = _column(header, layout.description)
    assert code_at is not None  # detect_codebook found it
    codes: dict[str, Code] = {}
    problems = []
    for n, row in enumerate(table[1:], start=2):
        name = row[code_at].strip()
        if not name:
            if any(c.strip() for c in row):
                problems.append(Problem(Where(file, row=n, field=header[code_at]), "required-value",
                                        "the code cell is empty"))
            continue
        description = row[desc_at].strip() if desc_at is not None else ""
        add_code(codes, split_code(name, layout.separator), name, description or None)
    if problems:
        raise ReaderError(problems)
    return list(codes.values()), layout


def split_code(name: str, separator: str) -> tuple[str, ...]:
    """A code name's path; an in-vivo code (a quoted name) is never split."""
    stripped = name.strip()
    if len(stripped) > 1 and stripped.startswith('"') and stripped.endswith('"'):
        return (stripped,)
    return tuple(p.strip() for p in stripped.split(separator))


def add_code(codes: dict[str, Code], path: tuple[str, ...], written: str, description: str | None = None) -> str:
    """Add a code and its ancestors (ids are the path joined by ' > '); return the leaf's id."""
    parent = None
    for depth, label in enumerate(path, start=1):
        code_id = " > ".join(path[:depth])
        leaf = depth == len(path)
        known = codes.get(code_id)
        if known is None:
            codes[code_id] = Code(id=code_id, label=label.strip('"') if leaf and label.startswith('"') else label,
                                  parent=parent, original_name=written if leaf else None,
                                  description=description if leaf else None)
        elif leaf and (known.original_name is None or (description and not known.description)):
            codes[code_id] = replace(known, original_name=known.original_name or written,
                                     description=known.description or description)
        parent = code_id
    return " > ".join(path)
