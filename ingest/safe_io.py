"""Safe reading of untrusted ZIP archives and XML documents (decision 0022).

Archives are checked before a byte is decompressed, and members are read into memory by checked name, never
extracted. XML goes through defusedxml with DTDs and entities forbidden. Every refusal is a ReaderError
with one located problem.
"""

from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET
import yaml

from qualkg.ingest.errors import ReaderError, fail
from qualkg.ingest.limits import MAX_XML_DEPTH, MAX_YAML_DEPTH, capped, shown
from qualkg.ingest.problems import Problem, Where


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
    """An archive whose every member passed the checks; members are read into memory by name.

    All problems are raised together. Names equal but for case or slash direction are ambiguous: with
    `problems` given the caller takes those (the first member is read), else they are raised (decision 0035).
    """

    def __init__(self, path: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS, *,
                 problems: list[Problem] | None = None) -> None:
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
            unsafe, ambiguous = self._check(limits)
            if unsafe or (ambiguous and problems is None):
                raise ReaderError(capped(unsafe + ambiguous))
            if problems is not None:
                problems += ambiguous
        except BaseException:
            self._zip.close()
            raise

    def _check(self, limits: ZipLimits) -> tuple[list[Problem], list[Problem]]:
        """(problems that make the archive unsafe to read, names that make it ambiguous)."""
        infos = self._zip.infolist()
        if len(infos) > limits.max_members:
            raise fail(self.label, "zip-member-count", f"The archive has more than {limits.max_members} members.",
                       value=str(len(infos)))
        unsafe = [p for info in infos if (p := self._unsafe(info, limits)) is not None]
        total = 0
        for info in infos:
            total += info.file_size
            if total > limits.max_total_bytes:
                unsafe.append(self._problem("zip-bomb-size",
                                            f"The archive expands to more than {limits.max_total_bytes} bytes.",
                                            info.filename, str(total)))
                break
        self._members: dict[str, zipfile.ZipInfo] = {}
        seen: dict[str, str] = {}
        ambiguous = []
        for info in infos:
            key = unicodedata.normalize("NFC", info.filename.replace("\\", "/")).casefold()
            if key in seen and not info.is_dir():
                same = "the same name" if seen[key] == info.filename else f"the name of {seen[key]!r} but for case"
                ambiguous.append(self._problem("zip-duplicate-name", f"Two members have {same}: which one is meant "
                                               "cannot be told, and tools would read different ones.",
                                               info.filename, info.filename))
                continue
            seen[key] = info.filename
            if not info.is_dir():
                self._members[info.filename] = info
        return unsafe, ambiguous

    def _unsafe(self, info: zipfile.ZipInfo, limits: ZipLimits) -> Problem | None:
        name = info.filename
        if _unsafe_name(name):
            return self._problem("zip-slip", "A member name is absolute or climbs out of the archive with '..'.",
                                 name, name)
        if stat.S_ISLNK(info.external_attr >> 16):
            return self._problem("zip-symlink", "The archive contains a symbolic link member.", name, name)
        if info.flag_bits & 0x1:
            return self._problem("zip-encrypted", "The archive contains an encrypted member.", name, name)
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= limits.ratio_floor_bytes and ratio > limits.max_ratio:
            return self._problem("zip-bomb-ratio",
                                 f"A member expands more than {limits.max_ratio:g}:1 (a likely ZIP bomb).",
                                 name, f"{ratio:.0f}:1")
        return None

    def _problem(self, rule: str, message: str, member: str, value: str) -> Problem:
        return Problem(Where(self.label, member), rule, message, shown(value))

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


def parse_xml(data: bytes, *, file: str, max_depth: int = MAX_XML_DEPTH) -> Element:
    """Parse untrusted XML bytes: well-formed, no DTD, no entities, at most `max_depth` elements deep;
    errors located by line/column (or element, for the depth)."""
    body = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not body:
        raise fail(file, "file-empty", "The XML document is empty.")
    if not body.startswith(b"<"):
        raise fail(file, "file-type", "The file is not an XML document.", value=body[:8].hex(" "))
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
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
    _check_depth(root, file, max_depth)
    return root


def _check_depth(root: Element, file: str, max_depth: int) -> None:
    """Refuse elements nested deeper than `max_depth`, walking without recursion: readers and the schema
    validator recurse over the tree, and Python's recursion limit is about 1,000 frames."""
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > max_depth:
            tag = el.tag.rpartition("}")[2]
            guid = el.get("guid")
            raise fail(file, "xml-depth", f"Elements are nested more than {max_depth} deep; no REFI-QDA document "
                       "nests nearly so deep, and deeper nesting is refused.",
                       element=f"{tag}[@guid='{guid}']" if guid else tag, value=f"depth {depth}")
        stack.extend((child, depth + 1) for child in reversed(el))  # document order


class YamlAliasRefused(yaml.YAMLError):
    def __init__(self, line: int) -> None:
        super().__init__(f"alias at line {line}")
        self.line = line


class YamlTooDeep(yaml.YAMLError):
    def __init__(self, line: int) -> None:
        super().__init__(f"nested more than {MAX_YAML_DEPTH} deep at line {line}")
        self.line = line


class SafeYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (anchors alone are harmless; reusing them is what multiplies) and
    collections nested more than MAX_YAML_DEPTH deep (PyYAML composes them by recursion)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise YamlAliasRefused(self.peek_event().start_mark.line + 1)
        if self._depth >= MAX_YAML_DEPTH:
            raise YamlTooDeep(self.peek_event().start_mark.line + 1)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
