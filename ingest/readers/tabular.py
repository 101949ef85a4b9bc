"""Coded-segment tables (CSV, XLSX) from Taguette, MAXQDA or any tool, via a `ColumnMapping` (decision 0026).

One row is one (segment, code); the rows of one segment and coder are one Excerpt; a repeated row is
dropped with a warning. Transcript texts are rebuilt from the segments (offset_convention
"reconstructed"). Cells stay text, never evaluated. The Study is a placeholder.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from qualkg.ingest.cases import AttributeRule, apply_rules, default_rules
from qualkg.ingest.errors import ReaderError, fail
from qualkg.ingest.limits import MAX_CODE_DEPTH, MAX_POSITION, shown, whole_number
from qualkg.ingest.offsets import RECONSTRUCTED
from qualkg.ingest.readers.codebooks import add_code, detect_codebook, read_codebook
from qualkg.ingest.readers.identifiers import identifier_value
from qualkg.ingest.readers.presets import (
    GENERIC,
    PRESET_CHOICES,
    PRESETS,
    ColumnMapping,
    PresetName,
    detect,
    load_mapping,
)
from qualkg.ingest.readers.tables import XLSX_LIMITS, Table, delimiter_name, load_table
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

__all__ = ["MAX_FIELD_CHARS", "OFFSET_CONVENTION", "XLSX_LIMITS", "ColumnMapping", "read_tabular"]

MAX_FIELD_CHARS = 1_000_000  # a longer cell is not a coded segment; refuse it rather than load it
OFFSET_CONVENTION = RECONSTRUCTED
SEGMENT_JOINER = "\n\n"
_FORMULA_START = ("=", "+", "-", "@")
_REQUIRED = ("document", "code", "text")  # cells that must not be empty
_CHECKED_FOR_FORMULAS = ("document", "group", "code", "parent", "text", "participant", "role", "coder")
ATTRIBUTE = "@"  # prefix of an attribute column's key among the row's fields


def read_tabular(path: Path, *, study_id: str, preset: PresetName = "auto",
                 mapping: ColumnMapping | Path | None = None, codebook: Path | None = None,
                 max_field_chars: int = MAX_FIELD_CHARS) -> StudyRecords:
    """Read a coded-segments table (or a codebook table) into records; raise ReaderError listing every problem.

    `preset`: one of PRESET_CHOICES ("auto" picks by header or uses `mapping`; "generic" needs `mapping`).
    `codebook`: a codebook table whose codes join the study and confirm the code names.
    """
    file = path.name
    if isinstance(mapping, Path):
        mapping = load_mapping(mapping)
    table = load_table(path, file)
    _check_field_sizes(table, file, max_field_chars)
    header = [h.replace("\ufeff", "").strip() for h in table[0]]
    _check_header(header, file)
    known: list[Code] = read_codebook(codebook)[0] if codebook is not None else []
    if mapping is None and preset in ("auto", *PRESETS) and (layout := detect_codebook(header)):
        if preset in ("auto", layout.name) and detect(header) is None:
            return _codebook_only(path, study_id)
    chosen = _choose_mapping(preset, mapping, header, file, table)
    positions = _column_positions(chosen, header, file)
    data = [(n, r) for n, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if not data:
        raise fail(file, "no-rows", "no coded segments: the table has a header but no data rows", row=1)
    rows, problems = _parse_rows(data, chosen, positions, file, {c.original_name for c in known if c.original_name})
    if any(p.severity == "error" for p in problems):
        raise ReaderError([p for p in problems if p.severity == "error"])
    records = _assemble(rows, chosen, file, study_id, known)
    records.warnings = sorted(problems + records.warnings, key=lambda p: p.where.row or 0)
    return records


def _codebook_only(path: Path, study_id: str) -> StudyRecords:
    """A codebook table read alone: the study's codes, no excerpts (like a `.qdc`)."""
    codes, _ = read_codebook(path)
    return StudyRecords(study=Study(id=study_id, title=study_id), codes=codes)


# ---------------------------------------------------------------- header and mapping


def _check_field_sizes(table: list[list[str]], file: str, cap: int) -> None:
    header = table[0]
    problems = [Problem(Where(file, row=n, field=header[i] if n > 1 and i < len(header) else None), "field-size",
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
                    file: str, table: Table) -> ColumnMapping:
    if preset not in PRESET_CHOICES:
        raise fail(file, "preset", f"unknown preset {preset!r}: expected one of {', '.join(PRESET_CHOICES)}",
                   value=str(preset))
    if mapping is not None:
        if preset not in ("auto", GENERIC):
            raise fail(file, "preset", f"a mapping goes with preset 'generic' or 'auto', not {preset!r}: the "
                       "preset already says which column is which", value=preset)
        return mapping
    if preset == GENERIC:
        raise fail(file, "preset", "preset 'generic' needs a column mapping (a YAML or JSON file: --mapping FILE) "
                   "that says which column is the document, the code and the text", value=preset)
    if preset != "auto":
        return PRESETS[preset].mapping(header)
    name = detect(header)
    if name is None:
        raise fail(file, "unknown-layout", f"cannot tell which tool wrote this table; columns found: "
                   f"{_names(header)}{_delimiter_hint(header, table)}; expected one of: "
                   + "; ".join(f"{p.tool} ({_names(p.headers())})" for p in PRESETS.values())
                   + "; otherwise pass a column mapping (--mapping FILE)", row=1)
    return PRESETS[name].mapping(header)


def _delimiter_hint(header: list[str], table: Table) -> str:
    """Say which delimiter a one-column table looks like it uses."""
    if table.delimiter is None or len(header) != 1:
        return ""
    inside = [d for d in (",", ";", "\t", "|") if d in header[0]]
    if not inside:
        return f" (one column, read as {delimiter_name(table.delimiter)}-separated)"
    return (f" (one column: this file looks {delimiter_name(inside[0])}-separated, but each line is one quoted "
            "cell; re-export it without quoting whole lines)")


def _column_positions(mapping: ColumnMapping, header: list[str], file: str) -> dict[str, int]:
    """Field name → column index (an attribute column under `@` + its name); every declared column must be in
    the header."""
    expected = mapping.columns() | {ATTRIBUTE + col: col for col in mapping.attributes}
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
    attributes: tuple[tuple[str, str], ...] = ()  # (column, value) describing the speaker, the role's first
    occurrence: int = 0  # the how-manieth repeat of this segment, code and coder (a separate span when > 0)

    @property
    def segment(self) -> tuple[object, ...]:
        """What identifies one span of the reconstructed text."""
        return (self.transcript, self.speaker, self.text, self.start, self.end, self.occurrence)


def _parse_rows(data: list[tuple[int, list[str]]], mapping: ColumnMapping, positions: dict[str, int],
                file: str, known: set[str]) -> tuple[list[_Row], list[Problem]]:
    """Typed rows (one per code) plus every problem found (errors and warnings), in row order."""
    columns = mapping.columns()
    rows: list[_Row] = []
    problems: list[Problem] = []
    for n, cells in data:
        raw = {fld: cells[i] for fld, i in positions.items()}
        row_problems = _cell_problems(raw, columns, n, file)
        names = _code_names(raw, mapping, columns, n, file, known, row_problems)
        paths = [_code_path(name, raw, mapping, columns, n, file, row_problems) for name in names]
        start, end = (_integer(raw, fld, columns, n, file, row_problems) for fld in ("start", "end"))
        problems += row_problems
        if any(p.severity == "error" for p in row_problems):
            continue
        doc, group = raw["document"].strip(), _optional(raw, "group")
        described = [(c, v) for c, key in ((mapping.role, "role"), *((a, ATTRIBUTE + a) for a in mapping.attributes))
                     if c is not None and (v := _optional(raw, key))]
        for name, path in zip(names, paths, strict=True):
            rows.append(_Row(n, f"{group} / {doc}" if group else doc, raw["text"], path, name,
                             _optional(raw, "participant"), _optional(raw, "role"), _optional(raw, "coder"),
                             start, end, _optional(raw, "segment_id"), tuple(described)))
    return rows, problems


def _code_names(raw: dict[str, str], mapping: ColumnMapping, columns: dict[str, str], n: int, file: str,
                known: set[str], problems: list[Problem]) -> list[str]:
    """The code names in the row's code cell: one, or (ATLAS.ti) a list checked against its count."""
    cell = raw["code"].strip()
    if not cell:
        return []
    if mapping.code_list is None:
        return [cell]
    names = split_code_list(cell, mapping.code_list, known)
    if names is None:
        problems.append(Problem(Where(file, row=n, field=columns["code"]), "code-list",
                                f"cannot split the codes at the names of the codebook ({len(known)} codes): a "
                                "code in this cell is not in it", value=shown(cell)))
        return []
    count = _optional(raw, "code_count")
    if count is not None and whole_number(count) != len(names):
        hint = "" if known else "; pass the codebook (--codebook FILE) so that code names holding " \
               f"{mapping.code_list!r} are not split"
        problems.append(Problem(Where(file, row=n, field=columns["code"]), "code-count",
                                f"the cell splits into {len(names)} codes but {columns['code_count']!r} says "
                                f"{count}{hint}", value=shown(cell)))
    return names


def split_code_list(cell: str, joiner: str, known: set[str]) -> list[str] | None:
    """Split `cell` at `joiner` into code names: quoted (in-vivo) names whole, else the longest known name.

    Without known names every joiner splits. None when a part is not a known name.
    """
    out: list[str] = []
    i = 0
    while i < len(cell):
        if cell.startswith('"', i):  # an in-vivo code: its quoted text, up to a quote before a joiner or the end
            j = cell.find('"' + joiner, i + 1)
            end = j + 1 if j >= 0 else len(cell)
        elif known:
            hits = [k for k in known if cell.startswith(k, i) and (i + len(k) == len(cell)
                                                                  or cell.startswith(joiner, i + len(k)))]
            if not hits:
                return None
            end = i + len(max(hits, key=len))
        else:
            j = cell.find(joiner, i)
            end = j if j >= 0 else len(cell)
        out.append(cell[i:end].strip())
        i = end + len(joiner)
    return [name for name in out if name]


def _code_path(name: str, raw: dict[str, str], mapping: ColumnMapping, columns: dict[str, str], n: int,
               file: str, problems: list[Problem]) -> tuple[str, ...]:
    parts: list[str] = []  # the parent cell (QualCoder's Category) is one level above the code
    parent = _optional(raw, "parent")
    if parent:
        parts += _split_path(parent, mapping.separators)
    parts += [name] if parent or name.startswith('"') else _split_path(name, mapping.separators)
    if not all(parts):
        problems.append(Problem(Where(file, row=n, field=columns["code"]), "code-path",
                                f"code path has an empty part (separators {_names(mapping.separators)})",
                                value=shown(raw["code"])))
    elif len(parts) > MAX_CODE_DEPTH:  # each level's id is its whole path: a deep path costs its square
        problems.append(Problem(Where(file, row=n, field=columns["code"]), "code-depth",
                                f"code path has more than {MAX_CODE_DEPTH} levels; no codebook needs so "
                                "many, and deeper ones are refused", value=shown(raw["code"])))
    return tuple(parts)


def _split_path(name: str, separators: tuple[str, ...]) -> list[str]:
    pattern = "|".join(re.escape(s) for s in sorted(separators, key=len, reverse=True))
    return [p.strip() for p in re.split(pattern, name)]


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


def _assemble(rows: list[_Row], mapping: ColumnMapping, file: str, study_id: str,
              known: list[Code]) -> StudyRecords:
    records = StudyRecords(study=Study(id=study_id, title=study_id))
    rows = rows if mapping.merge_repeats else _number_repeats(rows)
    spans = _reconstruct(rows, records, file)
    codes: dict[str, Code] = {c.id: c for c in known}
    coders: dict[str, Coder] = {}
    participants: dict[str, Participant] = {}
    excerpts: dict[tuple[object, ...], tuple[_Row, list[str]]] = {}
    for r in rows:
        if known and " > ".join(r.code) not in codes and not r.code_as_written.startswith('"'):
            records.warnings.append(Problem(Where(file, row=r.row), "code-not-in-codebook",
                                            f"code {r.code_as_written!r} is not in the codebook; added",
                                            value=shown(r.code_as_written), severity="warning"))
        leaf = add_code(codes, r.code, r.code_as_written)
        if r.coder:
            coders.setdefault(r.coder, Coder(id=r.coder, name=r.coder))
        if r.speaker:
            _add_participant(r, r.speaker, participants, file, mapping.role)
        first, excerpt_codes = excerpts.setdefault((r.segment, r.coder), (r, []))
        if leaf in excerpt_codes:  # only with merge_repeats: otherwise a repeat is a new occurrence
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
    return apply_rules(records, _speaker_rules(mapping, records.participants), source=file)


def _speaker_rules(mapping: ColumnMapping, participants: list[Participant]) -> list[AttributeRule]:
    """The role column holds roles; attribute columns are read by their names, like QDA case variables."""
    named = [r for r in default_rules(participants) if r.variable in mapping.attributes]
    return ([AttributeRule(mapping.role, "role")] if mapping.role else []) + named


def _number_repeats(rows: list[_Row]) -> list[_Row]:
    """Two rows with the same segment, code and coder are two codings: the second gets a span of its own.

    The k-th repeat of a (segment, code, coder) is occurrence k; the rows of one occurrence form one excerpt.
    """
    seen: Counter[tuple[object, ...]] = Counter()
    out = []
    for r in rows:
        key = (r.segment, r.code, r.coder)
        out.append(replace(r, occurrence=seen[key]) if seen[key] else r)
        seen[key] += 1
    return out


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


def _add_participant(r: _Row, speaker: str, participants: dict[str, Participant], file: str,
                     role_column: str | None) -> None:
    """One participant per pseudonym with the attributes of all its rows (the role and attribute columns,
    mapped to a role and team later by `_speaker_rules`); two different roles fail."""
    known = participants.get(speaker)
    if known is None:
        participants[speaker] = Participant(id=speaker, pseudonym=speaker, attributes=r.attributes,
                                            where=Where(file, row=r.row))
        return
    earlier = dict(known.attributes).get(role_column or "")
    if r.role and earlier is not None and earlier != r.role:
        raise fail(file, "participant-role", f"participant {speaker!r} has role {earlier!r} in an earlier row "
                   f"but {r.role!r} here", row=r.row, value=r.role)
    added = tuple(a for a in r.attributes if a not in known.attributes)
    if added:
        participants[speaker] = replace(known, attributes=known.attributes + added)


def _excerpt(r: _Row, codes: tuple[str, ...], start: int, mapping: ColumnMapping, file: str) -> Excerpt:
    element = f"{mapping.segment_id}={r.segment_id}" if mapping.segment_id and r.segment_id else None
    return Excerpt(transcript=r.transcript, start=start, end=start + len(r.text), text=r.text, codes=codes,
                   speaker=r.speaker, coder=r.coder,
                   provenance=Provenance(source_file=file, tool=mapping.tool, offset_convention=OFFSET_CONVENTION,
                                         original_start=r.start, original_end=r.end,
                                         where=Where(file, element=element, row=r.row)))
