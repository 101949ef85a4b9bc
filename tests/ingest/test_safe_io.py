"""Safe ZIP and XML reading (ingest.safe_io): each refusal is a located ReaderError with its rule.

Archives are tiny and built here; the size and ratio limits are lowered instead of writing
large files.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qualkg.ingest.errors import ReaderError
from qualkg.ingest.safe_io import DEFAULT_ZIP_LIMITS, SafeZip, ZipLimits, parse_xml


def _archive(tmp_path: Path, members: dict[str, bytes]) -> Path:
    path = tmp_path / "a.qdpx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _refusal(path: Path, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> tuple[str, str, str | None, str | None]:
    with pytest.raises(ReaderError) as info:
        SafeZip(path, limits)
    [p] = info.value.problems
    return p.rule, p.where.file, p.where.element, p.value


def test_reads_checked_members_in_memory(tmp_path: Path) -> None:
    path = _archive(tmp_path, {"project.qde": b"<Project/>", "sources/": b"", "sources/x.txt": b"synthetic"})
    with SafeZip(path) as z:
        assert z.names == ("project.qde", "sources/x.txt")  # the directory entry is not a member
        assert z.read("sources/x.txt") == b"synthetic"
    assert not (tmp_path / "sources").exists()  # nothing extracted


@pytest.mark.parametrize("name", ["/abs.txt", "\\abs.txt", "C:/x.txt", "a/../../x.txt", "..\\x.txt", ".."])
def test_zip_slip_names_refused(tmp_path: Path, name: str) -> None:
    assert _refusal(_archive(tmp_path, {name: b"x"})) == ("zip-slip", "a.qdpx", name, name)


@pytest.mark.parametrize("name", ["a..b.txt", "sources/x..txt", "sources/...txt"])
def test_dots_inside_names_are_fine(tmp_path: Path, name: str) -> None:
    with SafeZip(_archive(tmp_path, {name: b"x"})) as z:
        assert z.names == (name,)


def test_encrypted_member_refused(tmp_path: Path) -> None:
    """zipfile cannot write encrypted members, so the flag bit is set in both headers by hand."""
    path = _archive(tmp_path, {"secret.txt": b"x"})
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + flag_at] |= 0x1
    path.write_bytes(bytes(data))
    assert _refusal(path)[:3] == ("zip-encrypted", "a.qdpx", "secret.txt")


def test_total_size_cap(tmp_path: Path) -> None:
    path = _archive(tmp_path, {"a.txt": b"x" * 600, "b.txt": b"y" * 600})
    assert _refusal(path, ZipLimits(max_total_bytes=1000)) == ("zip-bomb-size", "a.qdpx", "b.txt", "1200")


def test_member_count_cap(tmp_path: Path) -> None:
    path = _archive(tmp_path, {f"{i}.txt": b"x" for i in range(4)})
    assert _refusal(path, ZipLimits(max_members=3)) == ("zip-member-count", "a.qdpx", None, "4")


def test_ratio_checked_only_above_the_floor(tmp_path: Path) -> None:
    """64 KiB of zeros compresses about 1000:1 but is too small to hurt: accepted by default."""
    path = _archive(tmp_path, {"zeros.txt": bytes(64 * 1024)})
    with SafeZip(path) as z:
        assert len(z.read("zeros.txt")) == 64 * 1024
    assert _refusal(path, ZipLimits(ratio_floor_bytes=1024))[:3] == ("zip-bomb-ratio", "a.qdpx", "zeros.txt")


def test_missing_file(tmp_path: Path) -> None:
    assert _refusal(tmp_path / "nope.qdpx")[:2] == ("file-missing", "nope.qdpx")


def test_parse_xml_accepts_bom_and_leading_whitespace() -> None:
    root = parse_xml(b"\xef\xbb\xbf \n<a><b/></a>", file="x.xml")
    assert root.tag == "a" and [c.tag for c in root] == ["b"]


@pytest.mark.parametrize(("data", "rule", "element"), [
    (b"  ", "file-empty", None),
    (b"\x00\x01binary", "file-type", None),
    (b"<!DOCTYPE a><a/>", "xml-entities", None),  # even an entity-free DTD is refused
    (b"<a>\n<b></a>", "xml-well-formed", "line 2, column 5"),  # expat: column after "</"
])
def test_parse_xml_refusals(data: bytes, rule: str, element: str | None) -> None:
    with pytest.raises(ReaderError) as info:
        parse_xml(data, file="x.xml")
    [p] = info.value.problems
    assert (p.rule, p.where.file, p.where.element) == (rule, "x.xml", element)
