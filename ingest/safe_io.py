"""Safe reading of untrusted ZIP archives and XML documents (decision 0022).

Archives are checked before a byte is decompressed, and members are read into memory by checked name, never
extracted. XML goes through defusedxml with DTDs and entities forbidden. Every refusal is a ReaderError
with one located problem.
"""

from __future__ import annotations

import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from qualkg.ingest.errors import fail


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Caps for one archive; the ratio is checked only on members of at least `ratio_floor_bytes`."""

    max_total_bytes: int = 2 * 1024**3  # sum of declared uncompressed sizes
    max_ratio: float = 200.0  # uncompressed : compressed, per member
    ratio_floor_bytes: int = 1024**2  # members smaller than this skip the ratio check
    max_members: int = 10_000


DEFAULT_ZIP_LIMITS = ZipLimits()

# What zipfile raises on damaged or exotic archives: a bad deflate stream (zlib.error), an unsupported
# version or compression method (NotImplementedError), undecodable names (UnicodeDecodeError, a ValueError).
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error)
_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_name(name: str) -> bool:
    """True for absolute names, drive letters and any `..` part (either slash counts as one)."""
    parts = re.split(r"[\\/]", name)
    return name.startswith(("/", "\\")) or bool(_DRIVE.match(name)) or ".." in parts


class SafeZip:
    """An archive whose every member passed the checks; members are read into memory by name."""

    def __init__(self, path: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
        self.label = path.name  # never the full local path: it can leak a user name
        check_not_empty(path, self.label)
        if not zipfile.is_zipfile(path):
            raise fail(self.label, "file-type", "The file is not a ZIP archive (a .qdpx must be one).",
                       value=_head(path))
        try:
            self._zip = zipfile.ZipFile(path)
        except _ZIP_ERRORS as exc:
            raise fail(self.label, "zip-corrupt", f"The ZIP archive cannot be opened: {exc}.") from exc
        try:
            self._members = self._check(limits)
        except BaseException:
            self._zip.close()
            raise

    def _check(self, limits: ZipLimits) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > limits.max_members:
            raise fail(self.label, "zip-member-count", f"The archive has more than {limits.max_members} members.",
                       value=str(len(infos)))
        total = 0
        for info in infos:
            name = info.filename
            if _unsafe_name(name):
                raise fail(self.label, "zip-slip", "A member name is absolute or climbs out of the archive with '..'.",
                           element=name, value=name)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise fail(self.label, "zip-symlink", "The archive contains a symbolic link member.",
                           element=name, value=name)
            if info.flag_bits & 0x1:
                raise fail(self.label, "zip-encrypted", "The archive contains an encrypted member.",
                           element=name, value=name)
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size >= limits.ratio_floor_bytes and ratio > limits.max_ratio:
                raise fail(self.label, "zip-bomb-ratio",
                           f"A member expands more than {limits.max_ratio:g}:1 (a likely ZIP bomb).",
                           element=name, value=f"{ratio:.0f}:1")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise fail(self.label, "zip-bomb-size",
                           f"The archive expands to more than {limits.max_total_bytes} bytes.",
                           element=name, value=str(total))
        return {info.filename: info for info in infos if not info.is_dir()}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._members)

    def read(self, name: str) -> bytes:
        """The member's bytes. zipfile stops at the checked declared size and verifies the CRC."""
        try:
            return self._zip.read(self._members[name])
        except _ZIP_ERRORS as exc:
            raise fail(self.label, "zip-corrupt", f"The member cannot be decompressed: {exc}.", element=name) from exc

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def check_not_empty(path: Path, label: str) -> None:
    """Refuse a missing or empty file with a located error rather than a parser's puzzle."""
    if not path.is_file():
        raise fail(label, "file-missing", "The file does not exist or is not a regular file.")
    if path.stat().st_size == 0:
        raise fail(label, "file-empty", "The file is empty.")


def _head(path: Path) -> str:
    with path.open("rb") as fh:
        return fh.read(8).hex(" ")


def parse_xml(data: bytes, *, file: str) -> Element:
    """Parse untrusted XML bytes: well-formed, no DTD, no entities; errors located by line/column."""
    body = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not body:
        raise fail(file, "file-empty", "The XML document is empty.")
    if not body.startswith(b"<"):
        raise fail(file, "file-type", "The file is not an XML document.", value=body[:8].hex(" "))
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise fail(file, "xml-entities",
                   "DTDs and entity declarations are refused: they allow external-entity and "
                   "entity-expansion attacks, and REFI-QDA never needs them.",
                   value=type(exc).__name__) from exc
    except LookupError as exc:  # expat knows no codec for the declared encoding, e.g. encoding="latin-9"
        raise fail(file, "xml-encoding", f"The XML declares an encoding Python does not know: {exc}.") from exc
    except ParseError as exc:
        line, column = exc.position
        raise fail(file, "xml-well-formed", f"The XML is not well-formed: {exc}.",
                   element=f"line {line}, column {column}") from exc
