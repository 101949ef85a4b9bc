"""Coded-segment tables (CSV, XLSX) from Taguette, MAXQDA or any tool, via a `ColumnMapping` (decision 0026).

One row is one (segment, code); the rows of one segment and coder are one Excerpt; a repeated row is
dropped with a warning. Transcript texts are rebuilt from the segments (offset_convention
"reconstructed"). Cells stay text, never evaluated. The Study is a placeholder.
"""

from __future__ import annotations

import difflib
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from qualkg.ingest.errors import ReaderError, fail
from qualkg.ingest.limits import MAX_CODE_DEPTH, MAX_POSITION, shown, whole_number
from qualkg.ingest.readers.identifiers import identifier_value
from qualkg.ingest.readers.presets import TAGUETTE, ColumnMapping, PresetName, detect, maxqda
from qualkg.ingest.records import (
    Code,
    Coder,
    Excerpt,
    Participant,
    Problem,
    Provenance,
    Study,
    StudyRecords,
    Transcript,
    Where,
)
from qualkg.ingest.safe_io import SafeZip, ZipLimits

__all__ = ["MAX_FIELD_CHARS", "OFFSET_CONVENTION", "ColumnMapping", "read_tabular"]

XLSX_LIMITS = ZipLimits(max_total_bytes=500 * 1024**2)  # what openpyxl would hold in memory
MAX_FIELD_CHARS = 1_000_000  # a longer cell is not a coded segment; refuse it rather than load it
OFFSET_CONVENTION = "reconstructed"
SEGMENT_JOINER = "\n\n"
_FORMULA_START = ("=", "+", "-", "@")
_ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_REQUIRED = ("document", "code", "text")  # cells that must not be empty
_CHECKED_FOR_FORMULAS = ("document", "group", "code", "text", "participant", "role", "coder")


def read_tabular(path: Path, *, study_id: str, preset: PresetName = "auto",
                 mapping: ColumnMapping | None = None, max_field_chars: int = MAX_FIELD_CHARS) -> StudyRecords:
    """Read a coded-segments table into records; raise ReaderError listing every located problem.

    `preset` "auto" picks Taguette or MAXQDA by header; "generic" (or "auto" with a `mapping`)
    uses the caller's mapping.
    """
    file = path.name
    table = _load(path, file)
    _check_field_sizes(table, file, max_field_chars)
    header = [h.replace("\ufeff", "").strip() for h in table[0]]
    _check_header(header, file)
    chosen = _choose_mapping(preset, mapping, header, file)
    positions = _column_positions(chosen, header, file)
    data = [(n, r) for n, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if not data:
        raise fail(file, "no-rows", "no coded segments: the table has a header but no data rows", row=1)
    rows, problems = _parse_rows(data, chosen, positions, file)
    if any(p.severity == "error" for p in problems):
        raise ReaderError([p for p in problems if p.severity == "error"])
    records = _assemble(rows, chosen, file, study_id)
    records.warnings = sorted(problems + records.warnings, key=lambda p: p.where.row or 0)
    return records


# ---------------------------------------------------------------- loading


def _load(path: Path, file: str) -> list[list[str]]:
    """All cells as LF-normalised strings, header row first; checks the file is what it claims."""
    data = path.read_bytes()
    if not data.strip():
        raise fail(file, "empty-file", "the file is empty")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        frame = _read_xlsx(path, data, file)
    elif suffix == ".csv":
        frame = _read_csv(data, file)
    else:
        raise fail(file, "file-type", f"unsupported extension {suffix!r}: expected .csv or .xlsx", value=suffix)
    if frame.empty:
        raise fail(file, "empty-file", "the file has no cells")
    return [[_lf(c) for c in row] for row in frame.to_numpy().tolist()]


def _read_xlsx(path: Path, data: bytes, file: str) -> pd.DataFrame:
    if not data.startswith(_ZIP_MAGIC):
        raise fail(file, "file-type", "named .xlsx but is not an Excel workbook (an .xlsx is a ZIP "
                   "archive; this looks like text - a CSV renamed?)", value=data[:16].hex(" "))
    with SafeZip(path, XLSX_LIMITS):  # a workbook is a ZIP: bombs, zip-slip and symlinks are refused first
        pass
    try:  # first sheet only: a coded-segments export has one
        return pd.read_excel(path, header=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise fail(file, "file-type", f"named .xlsx but is not a readable Excel workbook: {e}") from None


def _read_csv(data: bytes, file: str) -> pd.DataFrame:
    if data.startswith(_UTF16_BOMS):
        raise fail(file, "encoding", "the file is UTF-16; save it as UTF-8 (Excel: 'CSV UTF-8')",
                   value=data[:2].hex(" "))
    if data.startswith(_ZIP_MAGIC) or b"\x00" in data:
        raise fail(file, "file-type", "named .csv but is binary (a ZIP archive such as an .xlsx or "
                   ".qdpx?)", value=data[:16].hex(" "))
    try:
        text = data.decode("utf-8-sig")  # drops a leading BOM
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise fail(file, "encoding", f"not UTF-8: byte 0x{data[e.start]:02X} at line {line} (byte offset "
                   f"{e.start}); save the file as UTF-8 (Excel: 'CSV UTF-8')", element=f"line {line}",
                   value=data[e.start:e.end].hex(" ")) from None
    try:  # keep blank lines so that row numbers match the file's records
        return pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                           skip_blank_lines=False)
    except pd.errors.EmptyDataError:  # e.g. only a BOM, or only blank lines
        raise fail(file, "empty-file", "the file has no cells") from None
    except pd.errors.ParserError as e:
        m = re.search(r"line (\d+)", str(e))
        raise fail(file, "csv-syntax", f"not a well-formed CSV table: {e}",
                   row=int(m.group(1)) if m else None) from None


def _lf(cell: object) -> str:
    """A cell as text with LF line ends (pandas fills short rows with '' when keep_default_na=False)."""
    return str(cell).replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- header and mapping


def _check_field_sizes(table: list[list[str]], file: str, cap: int) -> None:
    header = table[0]
    problems = [Problem(Where(file, row=n, field=header[i] if n > 1 else None), "field-size",
                        f"cell has {len(c)} characters, over the limit of {cap}", value=c[:40] + "…")
                for n, row in enumerate(table, start=1) for i, c in enumerate(row) if len(c) > cap]
    if problems:
        raise ReaderError(problems)


def _check_header(header: list[str], file: str) -> None:
    seen: dict[str, int] = {}
    problems = []
    for i, name in enumerate(header, start=1):
        if name and name in seen:
            problems.append(Problem(Where(file, row=1, field=name), "duplicate-column",
                                    f"column name {name!r} appears in columns {seen[name]} and {i}; "
                                    "rename one so each field is unambiguous", value=name))
        seen.setdefault(name, i)
    if problems:
        raise ReaderError(problems)


def _choose_mapping(preset: PresetName, mapping: ColumnMapping | None, header: list[str],
                    file: str) -> ColumnMapping:
    if mapping is not None:
        if preset not in ("auto", "generic"):
            raise ValueError(f"a mapping goes with preset 'generic' or 'auto', not {preset!r}")
        return mapping
    if preset == "generic":
        raise ValueError("preset 'generic' needs a ColumnMapping")
    name = detect(header) if preset == "auto" else preset
    if name == "taguette":
        return TAGUETTE
    if name == "maxqda":
        return maxqda(header)
    if name is None:
        raise fail(file, "unknown-layout", f"cannot tell which tool wrote this table; columns found: "
                   f"{_names(header)}; a Taguette export has {_names(TAGUETTE.columns().values())}, a "
                   f"MAXQDA export has {_names(maxqda([]).columns().values())}; otherwise pass a "
                   "ColumnMapping", row=1)
    raise ValueError(f"unknown preset {preset!r}: expected auto, taguette, maxqda or generic")


def _column_positions(mapping: ColumnMapping, header: list[str], file: str) -> dict[str, int]:
    """Field name → column index; every declared column must be in the header."""
    expected = mapping.columns()
    problems = []
    for fld, col in expected.items():
        if col in header:
            continue
        close = difflib.get_close_matches(col, header, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(Problem(Where(file, row=1, field=col), "required-column",
                                f"required column {col!r} ({fld}) is missing; columns found: {_names(header)}; "
                                f"expected: {_names(expected.values())}{hint}", value=col))
    if problems:
        raise ReaderError(problems)
    return {fld: header.index(col) for fld, col in expected.items()}


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


# ---------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class _Row:
    row: int
    transcript: str
    text: str
    code: tuple[str, ...]  # path parts, root first
    code_as_written: str
    speaker: str | None
    role: str | None
    coder: str | None
    start: int | None
    end: int | None
    segment_id: str | None

    @property
    def segment(self) -> tuple[object, ...]:
        """What identifies one span of the reconstructed text."""
        return (self.transcript, self.speaker, self.text, self.start, self.end)


def _parse_rows(data: list[tuple[int, list[str]]], mapping: ColumnMapping, positions: dict[str, int],
                file: str) -> tuple[list[_Row], list[Problem]]:
    """Typed rows plus every problem found (errors and warnings), in row order."""
    separators = re.compile("|".join(re.escape(s) for s in sorted(mapping.separators, key=len, reverse=True)))
    columns = mapping.columns()
    rows: list[_Row] = []
    problems: list[Problem] = []
    for n, cells in data:
        raw = {fld: cells[i] for fld, i in positions.items()}
        row_problems = _cell_problems(raw, columns, n, file)
        code = tuple(p.strip() for p in separators.split(raw["code"]))
        if raw["code"].strip() and not all(code):
            row_problems.append(Problem(Where(file, row=n, field=columns["code"]), "code-path",
                                        f"code path has an empty part (separators {_names(mapping.separators)})",
                                        value=shown(raw["code"])))
        elif len(code) > MAX_CODE_DEPTH:  # each level's id is its whole path: a deep path costs its square
            row_problems.append(Problem(Where(file, row=n, field=columns["code"]), "code-depth",
                                        f"code path has more than {MAX_CODE_DEPTH} levels; no codebook needs so "
                                        "many, and deeper ones are refused", value=shown(raw["code"])))
        start, end = (_integer(raw, fld, columns, n, file, row_problems) for fld in ("start", "end"))
        problems += row_problems
        if any(p.severity == "error" for p in row_problems):
            continue
        name, group = raw["document"].strip(), _optional(raw, "group")
        rows.append(_Row(n, f"{group} / {name}" if group else name, raw["text"], code, raw["code"].strip(),
                         _optional(raw, "participant"), _optional(raw, "role"), _optional(raw, "coder"),
                         start, end, _optional(raw, "segment_id")))
    return rows, problems


def _cell_problems(raw: dict[str, str], columns: dict[str, str], n: int, file: str) -> list[Problem]:
    problems = [Problem(Where(file, row=n, field=columns[f]), "required-value", f"the {f} cell is empty",
                        value=raw[f]) for f in _REQUIRED if not raw[f].strip()]
    problems += [Problem(Where(file, row=n, field=columns[f]), "formula-injection",
                         f"cell starts with {raw[f][0]!r}, which spreadsheets run as a formula; kept as plain "
                         "text (never evaluated) - escape it before opening any export in a spreadsheet",
                         value=raw[f][:80], severity="warning")
                 for f in _CHECKED_FOR_FORMULAS if f in raw and raw[f].startswith(_FORMULA_START)]
    kind = identifier_value(raw["participant"]) if raw.get("participant", "").strip() else None
    if kind:
        problems.append(Problem(Where(file, row=n, field=columns["participant"]), "direct-identifier",
                                f"participants are pseudonymised: this speaker looks like {kind}",
                                value=raw["participant"]))
    return problems


def _optional(raw: dict[str, str], fld: str) -> str | None:
    return raw.get(fld, "").strip() or None


def _integer(raw: dict[str, str], fld: str, columns: dict[str, str], n: int, file: str,
             problems: list[Problem]) -> int | None:
    value = _optional(raw, fld)
    if value is None:
        return None
    number = whole_number(value)
    if number is None or not 0 <= number <= MAX_POSITION:  # str.isdigit() also passes "²", which int() refuses
        problems.append(Problem(Where(file, row=n, field=columns[fld]), "integer",
                                f"{fld} must be a whole number from 0 to {MAX_POSITION}, or empty", value=shown(value)))
        return None
    return number


# ---------------------------------------------------------------- records


def _assemble(rows: list[_Row], mapping: ColumnMapping, file: str, study_id: str) -> StudyRecords:
    records = StudyRecords(study=Study(id=study_id, title=study_id))
    spans = _reconstruct(rows, records, file)
    codes: dict[str, Code] = {}
    coders: dict[str, Coder] = {}
    participants: dict[str, Participant] = {}
    excerpts: dict[tuple[object, ...], tuple[_Row, list[str]]] = {}
    for r in rows:
        leaf = _add_code_path(r, codes)
        if r.coder:
            coders.setdefault(r.coder, Coder(id=r.coder, name=r.coder))
        if r.speaker:
            _add_participant(r, r.speaker, participants, file)
        first, excerpt_codes = excerpts.setdefault((r.segment, r.coder), (r, []))
        if leaf in excerpt_codes:
            records.warnings.append(Problem(
                Where(file, row=r.row), "duplicate-row",
                f"repeats row {first.row} (same segment and code); ignored - Taguette 1.5.2 repeats rows "
                "in path-prefix exports", value=r.code_as_written, severity="warning"))
        else:
            excerpt_codes.append(leaf)
    records.codes = list(codes.values())
    records.coders = list(coders.values())
    records.participants = list(participants.values())
    records.excerpts = [_excerpt(r, tuple(cs), spans[r.segment], mapping, file) for r, cs in excerpts.values()]
    return records


def _reconstruct(rows: list[_Row], records: StudyRecords, file: str) -> dict[tuple[object, ...], int]:
    """Build each transcript's text from its distinct segments; return each segment's start."""
    segments: dict[str, dict[tuple[object, ...], str]] = {}
    for r in rows:
        segments.setdefault(r.transcript, {}).setdefault(r.segment, r.text)
    starts: dict[tuple[object, ...], int] = {}
    for transcript, texts in segments.items():
        offset = 0
        for key, text in texts.items():
            starts[key] = offset
            offset += len(text) + len(SEGMENT_JOINER)
        records.transcripts.append(Transcript(id=transcript, label=transcript, source_file=file,
                                              text=SEGMENT_JOINER.join(texts.values())))
    return starts


def _add_code_path(r: _Row, codes: dict[str, Code]) -> str:
    """Add the code and its ancestors (ids are the path joined by ' > '); return the leaf's id."""
    parent = None
    for depth, label in enumerate(r.code, start=1):
        code_id = " > ".join(r.code[:depth])
        written = r.code_as_written if depth == len(r.code) else None
        known = codes.get(code_id)
        if known is None:
            codes[code_id] = Code(id=code_id, label=label, parent=parent, original_name=written)
        elif known.original_name is None and written:  # first seen as an ancestor, now used itself
            codes[code_id] = replace(known, original_name=written)
        parent = code_id
    return " > ".join(r.code)


def _add_participant(r: _Row, speaker: str, participants: dict[str, Participant], file: str) -> None:
    """One participant per pseudonym; a role given in any row applies, two different roles fail."""
    known = participants.get(speaker)
    if known is None or (known.role is None and r.role):
        participants[speaker] = Participant(id=speaker, pseudonym=speaker, role=r.role, where=Where(file, row=r.row))
    elif r.role and known.role != r.role:
        raise fail(file, "participant-role", f"participant {speaker!r} has role {known.role!r} in an earlier row "
                   f"but {r.role!r} here", row=r.row, value=r.role)


def _excerpt(r: _Row, codes: tuple[str, ...], start: int, mapping: ColumnMapping, file: str) -> Excerpt:
    element = f"{mapping.segment_id}={r.segment_id}" if mapping.segment_id and r.segment_id else None
    return Excerpt(transcript=r.transcript, start=start, end=start + len(r.text), text=r.text, codes=codes,
                   speaker=r.speaker, coder=r.coder,
                   provenance=Provenance(source_file=file, tool=mapping.tool, offset_convention=OFFSET_CONVENTION,
                                         original_start=r.start, original_end=r.end,
                                         where=Where(file, element=element, row=r.row)))
