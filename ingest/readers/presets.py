"""Which column means what in a coded-segments table: `ColumnMapping` and the one preset registry.

A preset finds a tool's columns in a header, in any interface language it knows; a user's YAML/JSON
mapping (`load_mapping`) goes through the same reader. `PRESETS` feeds the CLI, the API enum and
docs/qda-formats.md §4 (decisions 0026, 0085).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qualkg.ingest.errors import ReaderError, fail
from qualkg.ingest.records import Problem, Where

MAPPING_FIELDS = ("document", "code", "text", "group", "parent", "participant", "role", "coder", "start", "end",
                  "segment_id", "code_count")


class ColumnMapping(BaseModel):
    """The header names of the columns that carry each field; None = the table has no such column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document: str = Field(description="Document (transcript) name.")
    code: str = Field(description="Code path, parts joined by one of `separators` (or a list, see `code_list`).")
    text: str = Field(description="The coded segment's text.")
    group: str | None = Field(None, description="Document group; part of the transcript's identity.")
    parent: str | None = Field(None, description="Parent code (category) of the row's code.")
    participant: str | None = Field(None, description="Pseudonym of the speaker.")
    role: str | None = Field(None, description="Speaker's role: a role concept's local name or label, or a value "
                             "a study package's case_attributes maps.")
    coder: str | None = Field(None, description="Who applied the code.")
    start: str | None = Field(None, description="Tool's own start position (provenance only).")
    end: str | None = Field(None, description="Tool's own end position (provenance only).")
    segment_id: str | None = Field(None, description="Tool's own row/highlight/quotation id (provenance only).")
    code_count: str | None = Field(None, description="Number of codes in the `code` cell (checks the split).")
    separators: tuple[str, ...] = Field((" > ",), min_length=1, description="Code path separators.")
    code_list: str | None = Field(None, description="The `code` cell lists several codes joined by this.")
    merge_repeats: bool = Field(False, description="A row repeating an earlier row's segment and code is a "
                                "tool's duplicate (dropped), not a second coding (kept).")
    tool: str | None = Field(None, description="Tool name recorded in provenance.")
    attributes: tuple[str, ...] = Field((), description="Columns that describe the speaker (team, site, group …): "
                                        "participant attributes, read like QDA case variables (ingest.cases).")

    @field_validator("separators")
    @classmethod
    def _separators_not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not all(v):
            raise ValueError("a code path separator cannot be empty")
        return v

    @model_validator(mode="after")
    def _dependent_columns(self) -> ColumnMapping:
        if (self.role is not None or self.attributes) and self.participant is None:
            raise ValueError("a role or attribute column needs a participant column (whose role is it?)")
        if self.code_count is not None and self.code_list is None:
            raise ValueError("a code_count column needs code_list (the joiner of the codes in one cell)")
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end go together: declare both columns or neither")
        return self

    def columns(self) -> dict[str, str]:
        """Field name → declared column name, for the fields this mapping uses (all required)."""
        return {f: col for f in MAPPING_FIELDS if (col := getattr(self, f)) is not None}


# ---------------------------------------------------------------- presets


def fold(name: str) -> str:
    """A header name compared without case, accents, BOM or surrounding/doubled blanks."""
    decomposed = unicodedata.normalize("NFKD", name.replace("\ufeff", ""))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l").replace("Ł", "L")
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class Preset:
    """A tool's table: for each field, the header names it has in each interface language."""

    name: str
    tool: str
    summary: str
    required: Mapping[str, tuple[str, ...]]  # field → header names (first = English, shown in messages)
    optional: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    paired: tuple[str, ...] = ()  # optional fields used only when all of them are found
    settings: Mapping[str, Any] = field(default_factory=dict)  # separators, code_list, merge_repeats
    evidence: str = ""
    codebook: str | None = None  # the codebook table that goes with it, if any

    def find(self, header: Iterable[str]) -> dict[str, str]:
        """Field → the header's own column name, for every known field present."""
        folded: dict[str, str] = {}
        for h in header:
            folded.setdefault(fold(h), h)
        found = {}
        for fld, names in {**self.required, **self.optional}.items():
            hit = next((folded[fold(n)] for n in names if fold(n) in folded), None)
            if hit is not None:
                found[fld] = hit
        if self.paired and not all(f in found for f in self.paired):
            for f in self.paired:
                found.pop(f, None)
        return found

    def matches(self, header: Iterable[str]) -> bool:
        return set(self.required) <= set(self.find(header))

    def mapping(self, header: Iterable[str]) -> ColumnMapping:
        """The mapping for this header; a required column missing is named with its English header."""
        found = self.find(header)
        columns = {f: found.get(f, names[0]) for f, names in self.required.items()}
        columns |= {f: found[f] for f in self.optional if f in found}
        return ColumnMapping(**columns, tool=self.tool, **self.settings)

    def headers(self) -> list[str]:
        """The English header names of the required columns."""
        return [names[0] for names in self.required.values()]


# MAXQDA's Coded Segments table in each interface language. English, German and Polish names are
# confirmed by real exports (docs/qda-formats.md §4); the others follow MAXQDA's translations and
# are matched without case or accents, so a small spelling difference still matches.
_MAXQDA_REQUIRED = {
    "document": ("Document name", "Dokumentname", "Nom du document", "Nombre del documento", "Nombre de documento",
                 "Nome do documento", "Nazwa dokumentu", "Nome documento", "Nome del documento"),
    "code": ("Code", "Kod", "Código", "Codice", "Codigo"),
    "text": ("Segment", "Fragment", "Segmento", "Segment codé", "Segmento codificato"),
}
_MAXQDA_OPTIONAL = {
    "group": ("Document group", "Dokumentgruppe", "Groupe de documents", "Grupo de documentos",
              "Grupa dokumentów", "Gruppo di documenti", "Gruppo documenti"),
    "coder": ("Created by", "Author", "Erstellt von", "Autor", "Créé par", "Auteur", "Creado por", "Criado por",
              "Utworzone przez", "Creato da", "Autore"),
    "start": ("Begin", "Beginning", "Anfang", "Début", "Inicio", "Comienzo", "Início", "Początek", "Inizio"),
    "end": ("End", "Ende", "Fin", "Fim", "Koniec", "Fine"),
}

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("taguette", "Taguette", "Taguette highlights export (CSV or XLSX), one row per highlight and tag",
           required={"document": ("document",), "code": ("tag",), "text": ("content",), "segment_id": ("id",)},
           settings={"separators": (".",), "merge_repeats": True},
           evidence="Taguette 1.5.2 exports; 1.5.2 repeats a row in path-prefix exports (dropped, with a warning)",
           codebook="Taguette codebook CSV: `tag,description,number of highlights`"),
    Preset("maxqda", "MAXQDA", "MAXQDA Coded Segments (XLSX or XLS), any interface language",
           required=_MAXQDA_REQUIRED, optional=_MAXQDA_OPTIONAL, paired=("start", "end"),
           settings={"separators": ("\\", " > ")},
           evidence="English `Document name, Code, Segment`; German `Dokumentname`; Polish `Nazwa dokumentu, Kod, "
                    "Fragment, Początek, Koniec, Autor`. Two identical rows are two codings, both kept"),
    Preset("qualcoder", "QualCoder", "QualCoder coding export CSV (`Category` is the code's parent)",
           required={"document": ("File",), "coder": ("Coder",), "text": ("Coded",), "code": ("Codename",)},
           optional={"segment_id": ("Id",), "parent": ("Category",)},
           settings={"separators": (" > ",)},
           evidence="QualCoder's `File,Coder,Coded,Id,Codename,Coded_Memo,Category`, UTF-8 with BOM, CRLF"),
    Preset("atlasti", "ATLAS.ti", "ATLAS.ti Quotation Manager export (`;`-separated), one row per quotation",
           required={"segment_id": ("Number", "Número", "Nummer", "Numéro", "Numero", "Numer"),
                     "document": ("Document", "Documento", "Dokument"),
                     "text": ("Text Content", "Conteúdo de texto", "Contenido de texto", "Textinhalt",
                              "Contenu du texte", "Contenuto di testo", "Treść tekstowa"),
                     "code": ("Codes", "Códigos", "Kodes", "Codici", "Kody")},
           optional={"code_count": ("Number of Codes", "Número de códigos", "Anzahl Codes", "Nombre de codes",
                                    "Numero di codici", "Liczba kodów"),
                     "start": ("Initial Position", "Posição inicial", "Posición inicial", "Anfangsposition",
                               "Position initiale", "Posizione iniziale", "Pozycja początkowa"),
                     "end": ("Final Position", "Posição final", "Posición final", "Endposition", "Position finale",
                             "Posizione finale", "Pozycja końcowa")},
           paired=("start", "end"), settings={"separators": (": ",), "code_list": ", "},
           evidence="ATLAS.ti desktop export (tests/ingest/data/tabular/atlasti-*.csv); positions are paragraph "
                    "numbers; `Codes` is split against the codebook and checked with `Number of Codes`",
           codebook="ATLAS.ti Code Manager export: `Code;Comment;Code Group 1..4`, hierarchy `Theme: Code`"),
)}
GENERIC = "generic"
PRESET_CHOICES: tuple[str, ...] = ("auto", *PRESETS, GENERIC)
PresetName = str  # one of PRESET_CHOICES; checked by `preset_mapping`
PresetChoice = Enum("PresetChoice", {n: n for n in PRESET_CHOICES}, type=str)  # type: ignore[misc]
"""The presets as a str Enum, for the API's form field and OpenAPI schema."""

TAGUETTE = PRESETS["taguette"].mapping(PRESETS["taguette"].headers())


def maxqda(header: list[str]) -> ColumnMapping:
    """The MAXQDA preset for this header (kept for callers of the first API)."""
    return PRESETS["maxqda"].mapping(header)


def detect(header: list[str]) -> str | None:
    """The preset whose required columns are all in the header, or None (first match in registry order)."""
    return next((name for name, p in PRESETS.items() if p.matches(header)), None)


def presets_markdown() -> str:
    """The preset table of docs/qda-formats.md §4, generated from the registry."""
    lines = ["| preset | tool | what | required columns (English) | codebook | evidence |", "|---|---|---|---|---|---|"]
    for p in PRESETS.values():
        lines.append(f"| `{p.name}` | {p.tool} | {p.summary} | {', '.join(f'`{h}`' for h in p.headers())} | "
                     f"{p.codebook or '—'} | {p.evidence} |")
    lines.append(f"| `{GENERIC}` | any | a table read with a mapping file (`--mapping FILE`, YAML or JSON) | "
                 "as declared | — | — |")
    return "\n".join(lines)


# ---------------------------------------------------------------- mapping files


def load_mapping(path: Path) -> ColumnMapping:
    """A `ColumnMapping` from a YAML or JSON file; raise ReaderError naming each wrong or missing key."""
    file = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise fail(file, "mapping-file", "no such mapping file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise fail(file, "mapping-file", f"cannot read the mapping file as UTF-8 text: {e}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        mark = getattr(e, "problem_mark", None)
        line = getattr(e, "lineno", None) or (mark.line + 1 if mark is not None else None)
        raise fail(file, "mapping-syntax", f"not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                   f"{getattr(e, 'problem', None) or getattr(e, 'msg', None) or e}",
                   element=f"line {line}" if line else None) from None
    return mapping_from_data(data, file)


def mapping_from_data(data: object, file: str) -> ColumnMapping:
    """A `ColumnMapping` from parsed YAML/JSON (also a study package's `mapping:`); errors are located."""
    if not isinstance(data, dict):
        raise fail(file, "mapping-shape", "a column mapping is a mapping of field names to column names, e.g. "
                   "{document: Transcript, code: Code, text: Quote}", value=type(data).__name__)
    for listed in ("separators", "attributes"):
        if isinstance(data.get(listed), str):
            data = {**data, listed: [data[listed]]}
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as e:
        known = ", ".join([*MAPPING_FIELDS, "separators", "code_list", "merge_repeats", "tool", "attributes"])
        problems = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or None
            if err["type"] == "missing":
                msg = f"the mapping does not say which column is the {key}"
            elif err["type"] == "extra_forbidden":
                msg = f"unknown key {key!r}; known keys: {known}"
            else:
                msg = err["msg"].removeprefix("Value error, ")
            problems.append(Problem(Where(file, field=key), "mapping", msg,
                                    value=None if err["type"] == "missing" else str(err.get("input"))[:80]))
        raise ReaderError(problems) from None
