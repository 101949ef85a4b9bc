"""Cells of a CSV, XLSX or XLS table as LF-normalised strings (decisions 0085, 0087).

CSV: UTF-8, BOM dropped, delimiter sniffed. XLSX/XLS: the first sheet via python-calamine, an XLSX checked
for bombs first. Cells are never evaluated; a table that does not parse gets a located message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from qualkg.ingest.errors import fail
from qualkg.ingest.safe_io import SafeZip, ZipLimits

__all__ = ["DELIMITERS", "SUFFIXES", "Table", "load_table"]

XLSX_LIMITS = ZipLimits(max_total_bytes=500 * 1024**2)  # what a reader would hold in memory
SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls")
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "`,`", ";": "`;`", "\t": "tab", "|": "`|`"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an .xls (BIFF8) is an OLE2 compound file
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class Table(list[list[str]]):
    """Rows of cells, header first; `delimiter` is the CSV delimiter used (None for a workbook)."""

    delimiter: str | None = None


def delimiter_name(d: str | None) -> str:
    return _DELIMITER_NAMES.get(d or "", repr(d))


def load_table(path: Path, file: str | None = None) -> Table:
    """All cells as LF-normalised strings, header row first; checks the file is what it claims."""
    file = file or path.name
    data = path.read_bytes()
    if not data.strip():
        raise fail(file, "empty-file", "the file is empty")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        rows = _read_workbook(path, data, file, suffix)
        table = Table(rows)
    elif suffix in (".csv", ".tsv"):
        table = _read_csv(data, file)
    else:
        raise fail(file, "file-type", f"unsupported extension {suffix!r}: expected .csv or .xlsx (or .xls, .tsv)",
                   value=suffix)
    if not table or not any(any(c.strip() for c in r) for r in table):
        raise fail(file, "empty-file", "the file has no cells")
    return table


# ---------------------------------------------------------------- workbooks


def _read_workbook(path: Path, data: bytes, file: str, suffix: str) -> list[list[str]]:
    if data.startswith(_ZIP_MAGIC):
        with SafeZip(path, XLSX_LIMITS):  # a workbook is a ZIP: bombs, zip-slip and symlinks are refused first
            pass
    elif not data.startswith(_OLE_MAGIC):
        raise fail(file, "file-type", f"named {suffix} but is not an Excel workbook (an .xlsx is a ZIP archive, "
                   "an .xls an OLE2 file; this looks like text - a CSV renamed?)", value=data[:16].hex(" "))
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        if not book.sheet_names:
            return []
        cells = book.get_sheet_by_index(0).to_python(skip_empty_area=False)  # first sheet: an export has one
    except (CalamineError, OSError, ValueError) as e:
        raise fail(file, "file-type", f"named {suffix} but is not a readable Excel workbook: "
                   f"{type(e).__name__}") from None
    width = max((len(r) for r in cells), default=0)
    return [[_cell(c) for c in r] + [""] * (width - len(r)) for r in cells]


def _cell(value: object) -> str:
    """A workbook cell as text: 3.0 → "3" (positions are whole numbers), dates in ISO form, LF line ends."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        text = value.isoformat()
    else:
        text = str(value)
    return _lf(text)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------- CSV


def _read_csv(data: bytes, file: str) -> Table:
    text = _decode(data, file)
    delimiter = sniff_delimiter(text)
    table = Table()
    table.delimiter = delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        table.extend([_lf(c) for c in row] for row in reader)
    except csv.Error as e:
        if "field limit" in str(e):  # csv.field_size_limit() is process-wide: left as it is (131 072 by default)
            raise fail(file, "field-size", f"record {len(table) + 1} (line {reader.line_num}) has a cell over "
                       f"{csv.field_size_limit()} characters; no coded segment is so long", row=len(table) + 1,
                       element=f"line {reader.line_num}") from None
        raise fail(file, "csv-syntax", f"record {len(table) + 1} (line {reader.line_num}) is not well-formed "
                   f"CSV: {_quoting_problem(str(e), delimiter)}", row=len(table) + 1,
                   element=f"line {reader.line_num}") from None
    if not table:
        raise fail(file, "empty-file", "the file has no cells")
    _check_widths(table, file, delimiter, text)
    width = len(table[0])
    for row in table:  # short rows (and blank lines) are padded, as spreadsheets do
        row.extend([""] * (width - len(row)))
    return table


def _decode(data: bytes, file: str) -> str:
    if data.startswith(_UTF16_BOMS):
        raise fail(file, "encoding", "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as "
                   "UTF-8 (Excel: 'CSV UTF-8')", value=data[:2].hex(" "))
    if data.startswith(_ZIP_MAGIC) or data.startswith(_OLE_MAGIC) or b"\x00" in data:
        raise fail(file, "file-type", "named .csv but is binary (a ZIP archive such as an .xlsx or .qdpx, or an "
                   ".xls workbook?); give a workbook its own extension", value=data[:16].hex(" "))
    try:
        return data.decode("utf-8-sig")  # drops a leading BOM
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        guess = _guess_encoding(data)
        raise fail(file, "encoding", f"not UTF-8: byte 0x{data[e.start]:02X} at line {line} (byte offset "
                   f"{e.start}){guess}; save the file as UTF-8 (Excel: 'CSV UTF-8')", element=f"line {line}",
                   value=data[e.start:e.end].hex(" ")) from None


def _quoting_problem(message: str, delimiter: str) -> str:
    """The csv module's complaint in words that say what to fix."""
    if "unexpected end of data" in message:
        return 'a quoted cell is never closed: its opening `"` runs to the end of the file'
    if "expected after" in message:
        return (f"a quoted cell's closing `\"` is followed by more text instead of {delimiter_name(delimiter)} or "
                'a line end; a quote inside a quoted cell is written twice (`""`)')
    return "the cells cannot be split (is it a text table?)"


def _guess_encoding(data: bytes) -> str:
    """What the bytes look like instead of UTF-8, said in the message (never silently decoded)."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return ""
    return "; it looks like Windows-1252/Latin-1 (an 8-bit Western encoding)"


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: csv.Sniffer over its start, else the one the header uses most."""
    sample = text[:65536]
    header = next(csv.reader(io.StringIO(sample, newline=""), delimiter=","), [""])
    first_line = ",".join(header) if len(header) == 1 else sample.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        found = None
    counts = {d: _count_outside_quotes(first_line, d) for d in DELIMITERS}
    if found is not None and counts.get(found, 0) > 0:
        return found
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == delimiter and not quoted:
            count += 1
    return count


def _check_widths(table: Table, file: str, delimiter: str, text: str) -> None:
    """A record wider than the header is refused, naming the widths and any delimiter that fits better."""
    width = len(table[0])
    for n, row in enumerate(table[1:], start=2):
        if len(row) > width:
            others = [d for d in DELIMITERS if d != delimiter and _count_outside_quotes(text.split("\n", 1)[0], d)]
            hint = (f"; the header also contains {', '.join(delimiter_name(d) for d in others)}: is that the "
                    "delimiter?") if others else "; is a cell's delimiter not quoted?"
            raise fail(file, "csv-syntax", f"record {n} has {len(row)} fields but the header has {width} (read "
                       f"as {delimiter_name(delimiter)}-separated){hint}", row=n)
