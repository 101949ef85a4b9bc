"""Build the bad-input corpus: every file in tests/badinputs/files/ and manifest.yaml.

Run `python -m tests.badinputs.make_corpus` after changing a case; the output is byte-for-byte
reproducible. A case is one file, the rule and location of one problem its refusal must report, and
the upload's HTTP status. Every text is SYNTHETIC (docs/decisions/0048-bad-input-corpus.md).
"""

from __future__ import annotations

import io
import re
import stat
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import yaml

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
MANIFEST = HERE / "manifest.yaml"
EPOCH = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Case:
    name: str
    covers: str  # which kind of bad input, in the words
    build: Callable[[], bytes]
    rule: str
    where: dict[str, object] = field(default_factory=dict)  # file / element / row / field expected
    http: int = 422
    preset: str = "auto"


# ---------------------------------------------------------------- archive helpers


def zip_bytes(members: dict[str, bytes], *, attrs: dict[str, int] | None = None) -> bytes:
    """A deflated ZIP with fixed timestamps; `attrs` sets a member's Unix mode (e.g. a symlink)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (attrs or {}).get(name, stat.S_IFREG | 0o644) << 16
            z.writestr(info, data)
    return buf.getvalue()


def patch_central(data: bytes, name: str, *, compressed: int, uncompressed: int) -> bytes:
    """Forge the sizes a member declares in the central directory (what is checked before reading)."""
    out = bytearray(data)
    at = out.index(b"PK\x01\x02")
    while True:
        name_len = int.from_bytes(out[at + 28:at + 30], "little")
        if out[at + 46:at + 46 + name_len].decode() == name:
            out[at + 20:at + 24] = compressed.to_bytes(4, "little")
            out[at + 24:at + 28] = uncompressed.to_bytes(4, "little")
            return bytes(out)
        extra, comment = (int.from_bytes(out[at + i:at + i + 2], "little") for i in (30, 32))
        at = out.index(b"PK\x01\x02", at + 46 + name_len + extra + comment)


def bad_crc() -> bytes:
    """A valid project whose source text is stored uncompressed, then altered: its CRC no longer matches."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("project.qde", date_time=EPOCH), project())
        z.writestr(zipfile.ZipInfo(f"sources/{g(20)}.txt", date_time=EPOCH), TEXT)
    data = buf.getvalue()
    at = data.rindex(PHRASE.encode())  # in the text member, stored last
    return data[:at] + PHRASE.upper().encode() + data[at + len(PHRASE):]


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """A one-sheet workbook, re-zipped with fixed timestamps and fixed document dates."""
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    raw = io.BytesIO()
    wb.save(raw)
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["docProps/core.xml"] = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2020-01-01T00:00:00Z",
                                          members["docProps/core.xml"])
    return zip_bytes(members)


def zip_entries(entries: list[tuple[str, bytes]]) -> bytes:
    """A deflated ZIP of (name, data) in order, repeated names included (zipfile warns and writes them)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        warnings.simplefilter("ignore")  # "Duplicate name": the point of the case
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            z.writestr(info, data)
    return buf.getvalue()


def with_duplicate(build: Callable[[], bytes], name: str, data: bytes, *,
                   as_name: str | None = None) -> Callable[[], bytes]:
    """The archive `build` makes, with one more member named `as_name` (default `name`) after it."""
    def dup() -> bytes:
        with zipfile.ZipFile(io.BytesIO(build())) as z:
            entries = [(i.filename, z.read(i)) for i in z.infolist()]
        return zip_entries([*entries, (as_name or name, data)])
    return dup


# ---------------------------------------------------------------- REFI-QDA projects


def g(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


TEXT = "SYNTHETIC interview for tests.\nP: The pay is low and the hours are long.\n"
PHRASE = "The pay is low"
START = TEXT.index(PHRASE)
CODES = f'<CodeBook><Codes><Code guid="{g(10)}" name="Pay" isCodable="true"/></Codes></CodeBook>'
CASES = f'<Cases><Case guid="{g(40)}" name="P1"><SourceRef targetGUID="{g(20)}"/></Case></Cases>'


def selection(start: int = START, end: int = START + len(PHRASE), code: int = 10, n: int = 30,
              guid: str | None = None, name: str = PHRASE) -> str:
    return (f'<PlainTextSelection guid="{guid or g(n)}" name="{name}" startPosition="{start}" '
            f'endPosition="{end}"><Coding guid="{g(n + 1)}"><CodeRef targetGUID="{g(code)}"/></Coding>'
            f'</PlainTextSelection>')


def project(*, codes: str = CODES, selections: str | None = None, cases: str = CASES, source_path: str | None = None,
            prolog: str = "") -> str:
    sels = selection() if selections is None else selections
    path = source_path or f"internal://{g(20)}.txt"
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}'
            f'<Project xmlns="urn:QDA-XML:project:1.0" name="Synthetic study" origin="badinputs">'
            f'{codes}<Sources><TextSource guid="{g(20)}" name="Interview 1" plainTextPath="{path}">{sels}'
            f'</TextSource></Sources>{cases}</Project>')


def qdpx(qde: str | bytes | None = None, *, text: bytes | None = None, extra: dict[str, bytes] | None = None,
         qde_name: str = "project.qde", attrs: dict[str, int] | None = None) -> Callable[[], bytes]:
    def build() -> bytes:
        body = project() if qde is None else qde
        members = {qde_name: body.encode() if isinstance(body, str) else body,
                   f"sources/{g(20)}.txt": TEXT.encode() if text is None else text}
        return zip_bytes(members | (extra or {}), attrs=attrs)
    return build


def qdc(body: str | bytes) -> Callable[[], bytes]:
    return lambda: body.encode() if isinstance(body, str) else body


def codebook(codes: str, prolog: str = "") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}<CodeBook xmlns="urn:QDA-XML:codebook:1.0">'
            f'<Codes>{codes}</Codes></CodeBook>')


XXE = '<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
LAUGHS = ('<!DOCTYPE Project [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)) + "]>\n")

# Selections that fix the convention as UTF-16 (their names match only when read so), plus one whose
# start falls between the two halves of the surrogate pair of U+1F600.
EMOJI_TEXT = "SYNTHETIC \U0001F600 peers say hello there.\n"


def _utf16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def surrogate_project() -> str:
    a = EMOJI_TEXT.index("peers say")
    b = EMOJI_TEXT.index("hello there")
    good = (selection(_utf16(EMOJI_TEXT[:a]), _utf16(EMOJI_TEXT[:a]) + 9, n=30, name="peers say")
            + selection(_utf16(EMOJI_TEXT[:b]), _utf16(EMOJI_TEXT[:b]) + 11, n=32, name="hello there"))
    split = selection(11, 14, n=34, name="")  # 10 = the high surrogate, 11 = the low one
    return project(selections=good + split)


def nested_codes(depth: int, first: int = 1000) -> str:
    """A CodeBook whose codes nest `depth` deep, the code at level i having GUID g(first + i - 1)."""
    opening = "".join(f'<Code guid="{g(first + i)}" name="Level {i + 1}" isCodable="true">' for i in range(depth))
    return f"<CodeBook><Codes>{opening}{'</Code>' * depth}</Codes></CodeBook>"


def sets(*members: tuple[int, int]) -> str:
    """<Sets> of sets g(60 + i), each (set, member) pair making one a MemberCode of the other."""
    ids = sorted({n for pair in members for n in pair})
    body = "".join(f'<Set guid="{g(60 + n)}" name="Set {n}">'
                   + "".join(f'<MemberCode targetGUID="{g(60 + m)}"/>' for s_, m in members if s_ == n) + "</Set>"
                   for n in ids)
    return f"<Sets>{body}</Sets>"


HUGE_POSITION = "10000000000000000000000000"  # 10**25: past any int64, as the report had it
FOREIGN = "urn:example:not-refi"


# ---------------------------------------------------------------- study packages


STUDY_YAML = """\
# SYNTHETIC package for the bad-input corpus.
id: badinput-study
title: Bad-input study (SYNTHETIC)
synthetic: true
roles: [peer-practitioner]
"""
PACKAGE = {
    "study.yaml": STUDY_YAML,
    "participants.csv": "id,pseudonym,role,synthetic\nP1,P1,peer-practitioner,true\n",
    "codebook.csv": "id,label,parent,level\nTH1,Theme one,,theme\nC1,Pay,TH1,code\n",
    "transcripts.csv": "id,label,synthetic,text_file\nT1,Transcript 1,true,t1.txt\n",
    "excerpts.csv": "transcript,start,end,text,codes,speaker,synthetic\nT1,,,The pay is low,C1,P1,true\n",
    "t1.txt": TEXT,
}


def package(changes: dict[str, str | bytes | None] | None = None, *, attrs: dict[str, int] | None = None,
            raw: dict[str, bytes] | None = None) -> Callable[[], bytes]:
    """The valid base package with files replaced (None = removed), zipped."""
    def build() -> bytes:
        files = {**PACKAGE, **(changes or {})}
        members = {k: v.encode() if isinstance(v, str) else v for k, v in files.items() if v is not None}
        return zip_bytes(members | (raw or {}), attrs=attrs)
    return build


def excerpts(*rows: str) -> str:
    return "transcript,start,end,text,codes,speaker,synthetic\n" + "".join(r + "\n" for r in rows)


def participants(header: str, *rows: str) -> str:
    return header + "\n" + "".join(r + "\n" for r in rows)


YAML_LAUGHS = STUDY_YAML + "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))

# ---------------------------------------------------------------- tabular

TAGUETTE = "id,document,tag,content\n"


def text(s: str, encoding: str = "utf-8") -> Callable[[], bytes]:
    return lambda: s.encode(encoding)


def raw(b: bytes) -> Callable[[], bytes]:
    return lambda: b


MAXQDA_HEADER = ["Document group", "Document name", "Code", "Segment"]
HUGE = "SYNTHETIC " + "x" * 140_000  # over the csv module's 131 072-character field limit, compresses to ~200 bytes

# ---------------------------------------------------------------- the cases

CASES_: list[Case] = [
    # -- malformed, truncated and hostile XML
    Case("xml_malformed.qdpx", "malformed XML", qdpx(project().replace("</Sources>", "")), "xml-well-formed",
         {"file": "xml_malformed.qdpx/project.qde"}),
    Case("xml_truncated.qdpx", "truncated XML", qdpx(project()[:300]), "xml-well-formed",
         {"file": "xml_truncated.qdpx/project.qde"}),
    Case("xml_external_entity.qdpx", "external entity", qdpx(project(prolog=XXE).replace("Interview 1", "&xxe;")),
         "xml-entities", {"file": "xml_external_entity.qdpx/project.qde"}),
    Case("xml_billion_laughs.qdpx", "billion laughs", qdpx(project(prolog=LAUGHS).replace("Interview 1", "&lol9;")),
         "xml-entities", {"file": "xml_billion_laughs.qdpx/project.qde"}),
    Case("xml_not_xml.qdpx", "wrong content in the archive", qdpx("P: this is plain text, not XML\n"), "file-type",
         {"file": "xml_not_xml.qdpx/project.qde"}),
    Case("xml_empty_project.qdpx", "empty file", qdpx(b""), "file-empty",
         {"file": "xml_empty_project.qdpx/project.qde"}),
    Case("xml_wrong_root.qdpx", "wrong document",
         qdpx(codebook('<Code guid="' + g(10) + '" name="Pay" isCodable="true"/>')), "refi-root",
         {"file": "xml_wrong_root.qdpx/project.qde", "element": "CodeBook"}),
    Case("xml_bad_utf8.qdpx", "non-UTF-8 XML", qdpx(project().encode().replace(b"Interview 1", b"Interview \xe9")),
         "xml-well-formed", {"file": "xml_bad_utf8.qdpx/project.qde"}),
    Case("xml_external_entity.qdc", "external entity (codebook)",
         qdc(codebook('<Code guid="' + g(10) + '" name="&xxe;" isCodable="true"/>',
                      XXE.replace("Project", "CodeBook"))),
         "xml-entities", {"file": "xml_external_entity.qdc"}),
    Case("xml_billion_laughs.qdc", "billion laughs (codebook)",
         qdc(codebook('<Code guid="' + g(10) + '" name="&lol9;" isCodable="true"/>',
                      LAUGHS.replace("Project", "CodeBook"))),
         "xml-entities", {"file": "xml_billion_laughs.qdc"}),
    Case("xml_truncated.qdc", "truncated XML (codebook)",
         qdc(codebook('<Code guid="' + g(10) + '" name="Pay" isCodable="true"/>')[:120]), "xml-well-formed",
         {"file": "xml_truncated.qdc"}),
    Case("empty.qdc", "empty file", qdc(b""), "file-empty", {"file": "empty.qdc"}),
    Case("bom_only.qdc", "BOM and nothing else", qdc(b"\xef\xbb\xbf\r\n"), "file-empty", {"file": "bom_only.qdc"}),
    Case("utf16_no_bom.qdc", "non-UTF-8 encoding",
         qdc(codebook('<Code guid="' + g(10) + '" name="Pay" isCodable="true"/>').encode("utf-16-le")),
         "xml-well-formed", {"file": "utf16_no_bom.qdc"}),
    # -- ZIP archives
    Case("zip_bomb_ratio.qdpx", "ZIP bomb (ratio)", qdpx(extra={"sources/pad.txt": b"\0" * (4 * 1024**2)}),
         "zip-bomb-ratio", {"file": "zip_bomb_ratio.qdpx", "element": "sources/pad.txt"}),
    Case("zip_bomb_size.qdpx", "ZIP bomb (size, declared)",
         lambda: patch_central(qdpx(extra={"sources/big.txt": b"SYNTHETIC"})(), "sources/big.txt",
                               compressed=30_000_000, uncompressed=3_000_000_000),
         "zip-bomb-size", {"file": "zip_bomb_size.qdpx", "element": "sources/big.txt"}),
    Case("zip_bomb_ratio.xlsx", "ZIP bomb (ratio) in a workbook",
         lambda: zip_bytes({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b" " * (4 * 1024**2)}),
         "zip-bomb-ratio", {"file": "zip_bomb_ratio.xlsx", "element": "xl/worksheets/sheet1.xml"}),
    Case("zip_bomb_ratio.zip", "ZIP bomb (ratio) in a package", package(raw={"pad.txt": b"\0" * (4 * 1024**2)}),
         "zip-bomb-ratio", {"file": "zip_bomb_ratio.zip", "element": "pad.txt"}),
    Case("zip_slip.qdpx", "zip-slip", qdpx(extra={"../../evil.txt": b"x"}), "zip-slip",
         {"file": "zip_slip.qdpx", "element": "../../evil.txt"}),
    Case("zip_slip_backslash.qdpx", "zip-slip (Windows separators)", qdpx(extra={"sources\\..\\..\\evil.txt": b"x"}),
         "zip-slip", {"file": "zip_slip_backslash.qdpx", "element": "sources\\..\\..\\evil.txt"}),
    Case("zip_absolute.qdpx", "absolute path", qdpx(extra={"/tmp/evil.txt": b"x"}), "zip-slip",
         {"file": "zip_absolute.qdpx", "element": "/tmp/evil.txt"}),
    Case("zip_drive_letter.zip", "absolute path (drive letter) in a package", package(raw={"C:/evil.txt": b"x"}),
         "zip-slip", {"file": "zip_drive_letter.zip", "element": "C:/evil.txt"}),
    Case("zip_symlink.qdpx", "symlink in an archive",
         qdpx(extra={"sources/link.txt": b"/etc/passwd"}, attrs={"sources/link.txt": stat.S_IFLNK | 0o777}),
         "zip-symlink", {"file": "zip_symlink.qdpx", "element": "sources/link.txt"}),
    Case("zip_symlink.zip", "symlink in a package",
         package({"t1.txt": "/etc/passwd"}, attrs={"t1.txt": stat.S_IFLNK | 0o777}),
         "zip-symlink", {"file": "zip_symlink.zip", "element": "t1.txt"}),
    Case("zip_bad_crc.qdpx", "corrupt archive (CRC mismatch)", bad_crc, "zip-corrupt",
         {"file": "zip_bad_crc.qdpx", "element": f"sources/{g(20)}.txt"}),
    Case("zip_truncated.qdpx", "truncated archive", lambda: qdpx()()[:200], "file-type",
         {"file": "zip_truncated.qdpx"}),
    Case("zip_no_project.qdpx", "missing project", lambda: zip_bytes({f"sources/{g(20)}.txt": TEXT.encode()}),
         "qdpx-project-missing", {"file": "zip_no_project.qdpx"}),
    Case("zip_two_projects.qdpx", "extra project files", qdpx(qde_name="a.qde", extra={"b.qde": project().encode()}),
         "qdpx-project-ambiguous", {"file": "zip_two_projects.qdpx"}),
    # -- sources
    Case("source_missing.qdpx", "missing source", lambda: zip_bytes({"project.qde": project().encode()}),
         "source-missing", {"file": "source_missing.qdpx/project.qde", "element": f"TextSource[@guid='{g(20)}']",
                            "field": "plainTextPath"}),
    Case("source_path_traversal.qdpx", "source path climbing out", qdpx(project(source_path="internal://../../etc/passwd")),
         "source-path", {"file": "source_path_traversal.qdpx/project.qde", "field": "plainTextPath"}),
    Case("source_latin1.qdpx", "non-UTF-8 source text", qdpx(text=TEXT.replace("pay", "pay\u00e9").encode("latin-1")),
         "source-encoding", {"file": f"source_latin1.qdpx/sources/{g(20)}.txt"}),
    Case("source_mixed_encoding.qdpx", "mixed encodings in one source",
         qdpx(text="SYNTHETIC caf\u00e9 ".encode() + "caf\u00e9\n".encode("cp1252") + TEXT.encode()),
         "source-encoding", {"file": f"source_mixed_encoding.qdpx/sources/{g(20)}.txt"}),
    Case("package_extra_source.zip", "extra source (events twice)",
         package({"study.yaml": STUDY_YAML + "events: []\n", "events.csv": "id,kind\nE1,interview\n"}),
         "duplicate-source", {"file": "study.yaml", "element": "events"}),
    Case("package_text_and_file.zip", "two sources for one transcript",
         package({"transcripts.csv": "id,label,synthetic,text,text_file\n"
                                     "T1,Transcript 1,true,SYNTHETIC text,t1.txt\n"}),
         "one-text-source", {"file": "transcripts.csv", "row": 2, "field": "text_file"}),
    Case("package_transcript_missing.zip", "missing source (package)", package({"t1.txt": None}),
         "missing-file", {"file": "transcripts.csv", "row": 2, "field": "text_file"}),
    Case("package_transcript_absolute.zip", "absolute path (package)",
         package({"transcripts.csv": "id,label,synthetic,text_file\nT1,Transcript 1,true,/etc/passwd\n"}),
         "missing-file", {"file": "transcripts.csv", "row": 2, "field": "text_file"}),
    Case("package_coded_data_escape.zip", "zip-slip via a package pointer",
         package({"study.yaml": STUDY_YAML + "coded_data: {qdpx: ../../outside.qdpx}\n"}),
         "missing-file", {"file": "study.yaml", "element": "coded_data.qdpx"}),
    Case("package_nested_bomb.zip", "ZIP bomb nested in a package",
         package({"study.yaml": STUDY_YAML + "coded_data: {qdpx: coded.qdpx}\n"},
                 raw={"coded.qdpx": qdpx(extra={"sources/pad.txt": b"\0" * (4 * 1024**2)})()}),
         "zip-bomb-ratio", {"file": "coded.qdpx", "element": "sources/pad.txt"}),
    # -- offsets
    Case("offset_negative.qdpx", "negative offset", qdpx(project(selections=selection(-5, 10))), "selection-negative",
         {"file": "offset_negative.qdpx/project.qde", "element": f"PlainTextSelection[@guid='{g(30)}']",
          "field": "startPosition"}),
    Case("offset_reversed.qdpx", "reversed offsets", qdpx(project(selections=selection(40, 20))), "selection-reversed",
         {"file": "offset_reversed.qdpx/project.qde", "element": f"PlainTextSelection[@guid='{g(30)}']",
          "field": "endPosition"}),
    Case("offset_past_end.qdpx", "offset past the end", qdpx(project(selections=selection(0, 999))),
         "selection-within-text", {"file": "offset_past_end.qdpx/project.qde",
                                   "element": f"PlainTextSelection[@guid='{g(30)}']", "field": "endPosition"}),
    Case("offset_splits_surrogate.qdpx", "offset splitting a surrogate pair",
         qdpx(surrogate_project(), text=EMOJI_TEXT.encode()), "selection-splits-character",
         {"file": "offset_splits_surrogate.qdpx/project.qde", "element": f"PlainTextSelection[@guid='{g(34)}']"}),
    Case("offset_not_integer.qdpx", "offset not a number",
         qdpx(project(selections=selection().replace(f'startPosition="{START}"', 'startPosition="1e3"'))),
         "selection-position", {"file": "offset_not_integer.qdpx/project.qde", "field": "startPosition"}),
    Case("package_offset_negative.zip", "negative offset (package)",
         package({"excerpts.csv": excerpts(f"T1,-3,{START + 14},The pay is low,C1,P1,true")}),
         "greater_than_equal", {"file": "excerpts.csv", "row": 2, "field": "start"}),
    Case("package_offset_reversed.zip", "reversed offsets (package)",
         package({"excerpts.csv": excerpts(f"T1,{START + 14},{START},The pay is low,C1,P1,true")}),
         "excerpt-text-mismatch", {"file": "excerpts.csv", "row": 2, "field": "text"}),
    Case("package_offset_past_end.zip", "offset past the end (package)",
         package({"excerpts.csv": excerpts("T1,70,900,The pay is low,C1,P1,true")}),
         "excerpt-text-mismatch", {"file": "excerpts.csv", "row": 2, "field": "text"}),
    # -- references and ids
    Case("ref_unknown_code.qdpx", "unknown code reference", qdpx(project(selections=selection(code=99))), "ref-unknown",
         {"file": "ref_unknown_code.qdpx/project.qde", "element": f"Coding[@guid='{g(31)}']",
          "field": "CodeRef/@targetGUID"}),
    Case("ref_unknown_source.qdpx", "unknown source reference", qdpx(project(cases=CASES.replace(g(20), g(77)))),
         "ref-unknown", {"file": "ref_unknown_source.qdpx/project.qde", "element": f"Case[@guid='{g(40)}']",
                         "field": "SourceRef/@targetGUID"}),
    Case("package_unknown_code.zip", "unknown code reference (package)",
         package({"excerpts.csv": excerpts("T1,,,The pay is low,C9,P1,true")}), "unknown-reference",
         {"file": "excerpts.csv", "row": 2, "field": "codes"}),
    Case("package_unknown_transcript.zip", "unknown source reference (package)",
         package({"excerpts.csv": excerpts("T9,,,The pay is low,C1,P1,true")}), "unknown-reference",
         {"file": "excerpts.csv", "row": 2, "field": "transcript"}),
    Case("guid_duplicate.qdpx", "duplicate ids",
         qdpx(project(codes=CODES.replace("</Codes>",
                                          f'<Code guid="{g(10)}" name="Hours" isCodable="true"/></Codes>'))),
         "guid-unique", {"file": "guid_duplicate.qdpx/project.qde", "field": "guid"}),
    Case("guid_duplicate_after_normalising.qdpx", "duplicate ids (braces and case)",
         qdpx(project(codes=CODES.replace(
             "</Codes>", f'<Code guid="{{{g(10).upper()}}}" name="Hours" isCodable="true"/></Codes>'))),
         "guid-unique", {"file": "guid_duplicate_after_normalising.qdpx/project.qde", "field": "guid"}),
    Case("guid_missing.qdpx", "missing id", qdpx(project(codes=CODES.replace(f' guid="{g(10)}"', ""))),
         "refi-guid-missing", {"file": "guid_missing.qdpx/project.qde", "element": "Code", "field": "guid"}),
    Case("package_duplicate_id.zip", "duplicate ids (package)",
         package({"participants.csv": participants("id,pseudonym,role,synthetic", "P1,P1,peer-practitioner,true",
                                                   "P1,P2,peer-practitioner,true")}),
         "duplicate-id", {"file": "participants.csv", "row": 3, "field": "id"}),
    Case("package_non_guid_id.zip", "malformed ids (package)",
         package({"codebook.csv": "id,label,parent,level\nTH1,Theme one,,theme\nC 1!,Pay,TH1,code\n"}),
         "pattern", {"file": "codebook.csv", "row": 3, "field": "id"}),
    # -- cyclic code hierarchies
    Case("code_cycle.zip", "cyclic code hierarchy (codebook.csv)",
         package({"codebook.csv": "id,label,parent,level\nTH1,Theme one,C1,theme\nC1,Pay,TH1,code\n"}),
         "codebook-cycle", {"file": "codebook.csv", "row": 2, "field": "parent"}),
    Case("code_self_parent.zip", "code that is its own parent",
         package({"codebook.csv": "id,label,parent,level\nTH1,Theme one,,theme\nC1,Pay,C1,code\n"}),
         "codebook-cycle", {"file": "codebook.csv", "row": 3, "field": "parent"}),
    Case("code_cycle_nested.qdc", "cyclic code hierarchy (nested codes repeating an ancestor's GUID)",
         qdc(codebook(f'<Code guid="{g(10)}" name="Support" isCodable="true"><Code guid="{g(11)}" name="Team::Support" '
                      f'isCodable="true"><Code guid="{g(10)}" name="Support" isCodable="true"/></Code></Code>')),
         "guid-unique", {"file": "code_cycle_nested.qdc", "field": "guid"}),
    # -- encodings, BOMs, line ends
    Case("csv_latin1.csv", "non-UTF-8 encoding", text(TAGUETTE + "1,doc1,pay,SYNTHETIC caf\u00e9 talk\n", "latin-1"),
         "encoding", {"file": "csv_latin1.csv", "element": "line 2"}),
    Case("csv_utf16.csv", "UTF-16 encoding", text("\ufeff" + TAGUETTE + "1,doc1,pay,SYNTHETIC\n", "utf-16-le"),
         "encoding", {"file": "csv_utf16.csv"}),
    Case("csv_mixed_encoding.csv", "mixed encodings",
         raw((TAGUETTE + "1,doc1,pay,SYNTHETIC caf\u00e9\n").encode()
             + "2,doc1,pay,SYNTHETIC caf\u00e9\n".encode("cp1252")),
         "encoding", {"file": "csv_mixed_encoding.csv", "element": "line 3"}),
    Case("csv_bom_crlf_mixed.csv", "BOM and CRLF/LF mix (located correctly)",
         text("\ufeff" + TAGUETTE.replace("\n", "\r\n") + "1,doc1,pay,SYNTHETIC one\r\n2,doc1,pay,SYNTHETIC two\n"
              "3,doc1,,SYNTHETIC three\r\n"),
         "required-value", {"file": "csv_bom_crlf_mixed.csv", "row": 4, "field": "tag"}),
    Case("package_yaml_latin1.zip", "non-UTF-8 study.yaml",
         package({"study.yaml": (STUDY_YAML + "description: caf\u00e9\n").encode("latin-1")}), "utf-8",
         {"file": "study.yaml"}),
    Case("package_transcript_cp1252.zip", "non-UTF-8 transcript",
         package({"t1.txt": TEXT.replace("pay ", "pay \u2019").encode("cp1252")}),
         "utf-8", {"file": "transcripts.csv", "row": 2, "field": "text_file"}),
    Case("package_csv_bom_crlf_mixed.zip", "BOM and CRLF/LF mix (package, located correctly)",
         package({"excerpts.csv": "\ufefftranscript,start,end,text,codes,speaker,synthetic\r\n"
                  "T1,,,The pay is low,C1,P1,true\nT1,,,hours are long,C7,P1,true\r\n"}),
         "unknown-reference", {"file": "excerpts.csv", "row": 3, "field": "codes"}),
    # -- tables: columns, formulas, empties, sizes
    Case("csv_missing_column.csv", "missing column", text("id,document,tag\n1,doc1,pay\n"), "unknown-layout",
         {"file": "csv_missing_column.csv", "row": 1}),
    Case("csv_misnamed_column.csv", "misnamed column", text("id,document,tag,contents\n1,doc1,pay,SYNTHETIC\n"),
         "required-column", {"file": "csv_misnamed_column.csv", "row": 1, "field": "content"}, preset="taguette"),
    Case("csv_duplicate_column.csv", "duplicated column", text("id,document,tag,content,tag\n1,doc1,pay,SYNTHETIC,x\n"),
         "duplicate-column", {"file": "csv_duplicate_column.csv", "row": 1, "field": "tag"}),
    Case("xlsx_missing_column.xlsx", "missing column (XLSX)",
         lambda: xlsx_bytes([MAXQDA_HEADER[:3], ["g", "doc1", "Pay"]]),
         "required-column", {"file": "xlsx_missing_column.xlsx", "row": 1, "field": "Segment"}, preset="maxqda"),
    Case("xlsx_duplicate_column.xlsx", "duplicated column (XLSX)",
         lambda: xlsx_bytes([[*MAXQDA_HEADER, "Code"], ["g", "doc1", "Pay", "SYNTHETIC", "x"]]),
         "duplicate-column", {"file": "xlsx_duplicate_column.xlsx", "row": 1, "field": "Code"}),
    Case("xlsx_misnamed_column.xlsx", "misnamed column (XLSX)",
         lambda: xlsx_bytes([["Document group", "Document", "Code", "Segment"], ["g", "doc1", "Pay", "SYNTHETIC"]]),
         "required-column", {"file": "xlsx_misnamed_column.xlsx", "row": 1, "field": "Document name"}, preset="maxqda"),
    Case("package_duplicate_column.zip", "duplicated column (package)",
         package({"participants.csv": participants("id,pseudonym,role,role",
                                                   "P1,P1,peer-practitioner,peer-practitioner")}),
         "csv-header", {"file": "participants.csv", "row": 1, "field": "role"}),
    Case("package_missing_column.zip", "missing column (package)",
         package({"excerpts.csv": "transcript,start,end,codes,speaker,synthetic\nT1,,,C1,P1,true\n"}),
         "required", {"file": "excerpts.csv", "row": 2, "field": "text"}),
    Case("package_misnamed_column.zip", "misnamed column (package)",
         package({"excerpts.csv": "transcript,start,end,txt,codes,speaker,synthetic\n"
                                  "T1,,,The pay is low,C1,P1,true\n"}),
         "unknown-field", {"file": "excerpts.csv", "row": 2, "field": "txt"}),
    Case("csv_formula_bad_row.csv", "formula in a cell next to a bad row",
         text(TAGUETTE + "1,doc1,pay,=HYPERLINK(\"http://example.invalid\")\n2,doc1,pay,\n"),
         "required-value", {"file": "csv_formula_bad_row.csv", "row": 3, "field": "content"}),
    Case("package_formula_id.zip", "formula as an id (package)",
         package({"participants.csv": participants("id,pseudonym,role,synthetic", "=1+1,P1,peer-practitioner,true")}),
         "pattern", {"file": "participants.csv", "row": 2, "field": "id"}),
    Case("empty.csv", "empty file", raw(b""), "empty-file", {"file": "empty.csv"}),
    Case("empty.xlsx", "empty file", raw(b""), "empty-file", {"file": "empty.xlsx"}),
    Case("empty.qdpx", "empty file", raw(b""), "file-empty", {"file": "empty.qdpx"}),
    Case("empty.zip", "empty file", raw(b""), "file-empty", {"file": "empty.zip"}),
    Case("header_only.csv", "no data rows", text(TAGUETTE), "no-rows", {"file": "header_only.csv", "row": 1}),
    Case("package_empty_zip.zip", "empty archive", lambda: zip_bytes({}), "package-format",
         {"file": "package_empty_zip.zip"}),
    Case("package_empty_yaml.zip", "empty study.yaml", package({"study.yaml": ""}), "yaml-mapping",
         {"file": "study.yaml"}),
    Case("csv_is_xlsx.csv", "wrong extension (workbook named .csv)",
         lambda: xlsx_bytes([["id", "document", "tag", "content"], ["1", "doc1", "pay", "SYNTHETIC"]]), "file-type",
         {"file": "csv_is_xlsx.csv"}),
    Case("xlsx_is_csv.xlsx", "wrong extension (CSV named .xlsx)", text(TAGUETTE + "1,doc1,pay,SYNTHETIC\n"),
         "file-type", {"file": "xlsx_is_csv.xlsx"}),
    Case("qdpx_is_csv.qdpx", "wrong extension (CSV named .qdpx)", text(TAGUETTE + "1,doc1,pay,SYNTHETIC\n"),
         "file-type", {"file": "qdpx_is_csv.qdpx"}),
    Case("package_is_qdpx.zip", "wrong extension (project named .zip)", qdpx(), "package-format",
         {"file": "package_is_qdpx.zip"}),
    Case("interview.txt", "wrong extension", text(TEXT), "file-type", {"file": "interview.txt"}, http=415),
    Case("project.nvp", "wrong extension (native NVivo project)", raw(b"\x00\x01NVivo"), "file-type",
         {"file": "project.nvp"}, http=415),
    Case("package_huge_field.zip", "huge single field (package)",
         package({"excerpts.csv": excerpts("T1,,,The pay is low,C1,P1,true", f"T1,,,{HUGE},C1,P1,true")}),
         "field-size", {"file": "excerpts.csv", "row": 3}),
    Case("package_yaml_billion_laughs.zip", "billion laughs (YAML aliases)", package({"study.yaml": YAML_LAUGHS}),
         "yaml-alias", {"file": "study.yaml"}),
    Case("package_yaml_malformed.zip", "malformed YAML", package({"study.yaml": STUDY_YAML + "roles: [peer\n"}),
         "yaml-well-formed", {"file": "study.yaml"}),
    Case("package_no_study_yaml.zip", "missing study.yaml", package({"study.yaml": None}), "package-format",
         {"file": "package_no_study_yaml.zip"}),
    # -- direct identifiers
    Case("package_email_column.zip", "direct identifier column (email)",
         package({"participants.csv": participants("id,pseudonym,role,synthetic,email",
                                                   "P1,P1,peer-practitioner,true,p1@example.org")}),
         "direct-identifier", {"file": "participants.csv", "row": 1, "field": "email"}),
    Case("package_name_column.zip", "direct identifier column (full name)",
         package({"participants.csv": participants("id,pseudonym,role,synthetic,Full Name",
                                                   "P1,P1,peer-practitioner,true,Jane Example")}),
         "direct-identifier", {"file": "participants.csv", "row": 1, "field": "Full Name"}),
    Case("package_email_pseudonym.zip", "direct identifier value (email as pseudonym)",
         package({"participants.csv": participants("id,pseudonym,role,synthetic",
                                                   "P1,jane.example@example.org,peer-practitioner,true")}),
         "direct-identifier", {"file": "participants.csv", "row": 2, "field": "pseudonym"}),
    Case("package_phone_attribute.zip", "direct identifier value (phone number)",
         package({"participants.csv": participants("id,pseudonym,role,synthetic,contact",
                                                   "P1,P1,peer-practitioner,true,+44 20 7946 0958")}),
         "direct-identifier", {"file": "participants.csv", "row": 2, "field": "contact"}),
    Case("qdpx_email_case.qdpx", "direct identifier value (QDA case name)",
         qdpx(project(cases=CASES.replace('name="P1"', 'name="jane.example@example.org"'))),
         "direct-identifier", {"file": "qdpx_email_case.qdpx/project.qde", "element": f"Case[@guid='{g(40)}']",
                               "field": "name"}),
    Case("qdpx_name_variable.qdpx", "direct identifier variable (QDA case variable 'Name')",
         qdpx(project(cases=f'<Cases><Case guid="{g(40)}" name="P1"><VariableValue><VariableRef targetGUID="{g(50)}"/>'
                            f'<TextValue>Jane Example</TextValue></VariableValue><SourceRef targetGUID="{g(20)}"/>'
                            f'</Case></Cases>').replace(
             "<Sources>",
             f'<Variables><Variable guid="{g(50)}" name="Name" typeOfVariable="Text"/></Variables><Sources>')),
         "direct-identifier", {"file": "qdpx_name_variable.qdpx/project.qde", "element": f"Variable[@guid='{g(50)}']",
                               "field": "name"}),
]


HOSTILE: list[Case] = [
    # -- hostile structure: namespaces, cycles, archives, nesting, numbers (issue 16, decision 0035)
    Case("xml_foreign_namespace.qdpx", "foreign root namespace",
         qdpx(project().replace("urn:QDA-XML:project:1.0", FOREIGN)), "refi-namespace",
         {"file": "xml_foreign_namespace.qdpx/project.qde", "element": "Project"}),
    Case("xml_foreign_namespace.qdc", "foreign root namespace (codebook)",
         qdc(codebook(f'<Code guid="{g(10)}" name="Pay" isCodable="true"/>').replace("urn:QDA-XML:codebook:1.0",
                                                                                   FOREIGN)),
         "refi-namespace", {"file": "xml_foreign_namespace.qdc", "element": "CodeBook"}),
    Case("xml_foreign_namespace_child.qdpx", "element in a foreign namespace, passing for a REFI-QDA one",
         qdpx(project(codes=CODES.replace("</Codes>", f'<x:Code xmlns:x="{FOREIGN}" guid="{g(11)}" name="Hours" '
                                                      'isCodable="true"/></Codes>'))),
         "refi-namespace", {"file": "xml_foreign_namespace_child.qdpx/project.qde",
                            "element": f"Code[@guid='{g(11)}']"}),
    Case("sets_cycle.qdpx", "cyclic sets (A contains B, B contains A)",
         qdpx(project().replace("</Sources>", "</Sources>" + sets((1, 2), (2, 1)))),
         "set-cycle", {"file": "sets_cycle.qdpx/project.qde", "element": f"Set[@guid='{g(62)}']",
                       "field": "MemberCode/@targetGUID"}),
    Case("sets_self_member.qdc", "a set that contains itself (codebook)",
         qdc(codebook(f'<Code guid="{g(10)}" name="Pay" isCodable="true"/>').replace("</Codes>",
                                                                                   "</Codes>" + sets((1, 1)))),
         "set-cycle", {"file": "sets_self_member.qdc", "element": f"Set[@guid='{g(61)}']",
                       "field": "MemberCode/@targetGUID"}),
    Case("zip_two_qde.qdpx", "two .qde files in one archive (one of them project.qde)",
         qdpx(extra={"other.qde": project().replace("Synthetic study", "Other study").encode()}),
         "qdpx-project-ambiguous", {"file": "zip_two_qde.qdpx"}),
    Case("zip_qde_in_folder.qdpx", "a second .qde inside a folder",
         qdpx(extra={"backup/project.qde": project().encode()}), "qdpx-project-ambiguous",
         {"file": "zip_qde_in_folder.qdpx"}),
    Case("zip_duplicate_name.qdpx", "duplicate ZIP entry names (two texts for one source)",
         with_duplicate(qdpx(), f"sources/{g(20)}.txt", TEXT.replace("low", "fine").encode()),
         "zip-duplicate-name", {"file": "zip_duplicate_name.qdpx", "element": f"sources/{g(20)}.txt"}),
    Case("zip_duplicate_project.qdpx", "duplicate ZIP entry names (two project.qde)",
         with_duplicate(qdpx(), "project.qde", project(selections="").encode()),
         "zip-duplicate-name", {"file": "zip_duplicate_project.qdpx", "element": "project.qde"}),
    Case("zip_duplicate_name_case.qdpx", "ZIP entry names equal but for case",
         with_duplicate(qdpx(), f"sources/{g(20)}.txt", TEXT.encode(), as_name=f"Sources/{g(20)}.TXT"),
         "zip-duplicate-name", {"file": "zip_duplicate_name_case.qdpx", "element": f"Sources/{g(20)}.TXT"}),
    Case("zip_duplicate_name.zip", "duplicate ZIP entry names (package)",
         with_duplicate(package(), "study.yaml", STUDY_YAML.replace("badinput-study", "other-study").encode()),
         "zip-duplicate-name", {"file": "zip_duplicate_name.zip", "element": "study.yaml"}),
    Case("zip_duplicate_name.xlsx", "duplicate ZIP entry names (workbook)",
         with_duplicate(lambda: xlsx_bytes([MAXQDA_HEADER, ["g", "doc1", "Pay", "SYNTHETIC"]]),
                        "xl/worksheets/sheet1.xml", b"<worksheet/>"),
         "zip-duplicate-name", {"file": "zip_duplicate_name.xlsx", "element": "xl/worksheets/sheet1.xml"}),
    Case("xml_deep_codes.qdpx", "10,000 nested <Code> elements",
         qdpx(project(codes=nested_codes(10_000))),
         "xml-depth", {"file": "xml_deep_codes.qdpx/project.qde", "element": f"Code[@guid='{g(1097)}']"}),
    Case("xml_deep_codes.qdc", "1,000 nested <Code> elements (codebook)",
         qdc('<?xml version="1.0" encoding="utf-8"?>\n<CodeBook xmlns="urn:QDA-XML:codebook:1.0">'
             + nested_codes(1_000).removeprefix("<CodeBook>")),
         "xml-depth", {"file": "xml_deep_codes.qdc", "element": f"Code[@guid='{g(1098)}']"}),
    Case("code_depth.qdpx", "a code hierarchy 70 levels deep (nesting)",
         qdpx(project(codes=nested_codes(70).replace("<Codes>", CODES.removeprefix("<CodeBook>").removesuffix(
             "</Codes></CodeBook>")))),
         "code-depth", {"file": "code_depth.qdpx/project.qde", "element": f"Code[@guid='{g(1064)}']"}),
    Case("code_depth_names.qdc", "a code hierarchy 70 levels deep (in a name)",
         qdc(codebook(f'<Code guid="{g(10)}" name="{"::".join(["Level"] * 70)}" isCodable="true"/>')),
         "code-depth", {"file": "code_depth_names.qdc", "element": f"Code[@guid='{g(10)}']", "field": "name"}),
    Case("csv_code_depth.csv", "a code path 10,000 levels deep (tabular)",
         text(TAGUETTE + "1,doc1," + ".".join(["a"] * 10_000) + ",SYNTHETIC text\n"),
         "code-depth", {"file": "csv_code_depth.csv", "row": 2, "field": "tag"}),
    Case("package_code_depth.zip", "a codebook.csv parent chain 100 levels deep",
         package({"codebook.csv": "id,label,parent,level\nTH1,Theme one,,theme\nC1,Pay,TH1,code\n"
                                  + "".join(f"D{i},Level {i},{f'D{i - 1}' if i else 'TH1'},code\n"
                                            for i in range(100))}),
         "code-depth", {"file": "codebook.csv", "row": 67, "field": "parent"}),
    Case("package_yaml_deep.zip", "YAML nested 10,000 deep",
         package({"study.yaml": STUDY_YAML + "notes: " + "[" * 10_000 + "]" * 10_000 + "\n"}),
         "yaml-depth", {"file": "study.yaml", "element": "line 6"}),
    Case("offset_huge.qdpx", "endPosition past any integer type",
         qdpx(project(selections=selection(START, 0).replace('endPosition="0"', f'endPosition="{HUGE_POSITION}"'))),
         "selection-within-text", {"file": "offset_huge.qdpx/project.qde",
                                   "element": f"PlainTextSelection[@guid='{g(30)}']", "field": "endPosition"}),
    Case("offset_huge_digits.qdpx", "startPosition of 5,000 digits",
         qdpx(project(selections=selection().replace(f'startPosition="{START}"', f'startPosition="{"9" * 5000}"'))),
         "selection-within-text", {"file": "offset_huge_digits.qdpx/project.qde",
                                   "element": f"PlainTextSelection[@guid='{g(30)}']", "field": "startPosition"}),
    Case("offset_other_digits.qdpx", "offset in another script's digits",
         qdpx(project(selections=selection().replace(f'startPosition="{START}"', 'startPosition="\u0663\u0661"'))),
         "selection-position", {"file": "offset_other_digits.qdpx/project.qde", "field": "startPosition"}),
    Case("xlsx_begin_superscript.xlsx", "a Begin cell Python's isdigit() takes and int() refuses",
         lambda: xlsx_bytes([[*MAXQDA_HEADER, "Begin", "End"], ["g", "doc1", "Pay", "SYNTHETIC", "\u00b2", "3"]]),
         "integer", {"file": "xlsx_begin_superscript.xlsx", "row": 2, "field": "Begin"}),
    Case("xlsx_begin_huge.xlsx", "a Begin cell of 5,000 digits",
         lambda: xlsx_bytes([[*MAXQDA_HEADER, "Begin", "End"], ["g", "doc1", "Pay", "SYNTHETIC", "9" * 5000, "3"]]),
         "integer", {"file": "xlsx_begin_huge.xlsx", "row": 2, "field": "Begin"}),
    # -- reserved study ids (issue 16, decision 0036)
    Case("synthesis.csv", "a file name that makes the study id 'synthesis'", text(TAGUETTE + "1,doc1,pay,SYNTHETIC\n"),
         "study-id-reserved", {"file": "synthesis.csv", "field": "study"}),
    Case("model.qdc", "a file name that makes the study id 'model'",
         qdc(codebook(f'<Code guid="{g(10)}" name="Pay" isCodable="true"/>')),
         "study-id-reserved", {"file": "model.qdc", "field": "study"}),
    Case("package_reserved_id.zip", "a package whose study id is 'synthesis'",
         package({"study.yaml": STUDY_YAML.replace("badinput-study", "synthesis")}),
         "study-id-reserved", {"file": "study.yaml", "field": "id"}),
]
CASES_ += HOSTILE


def build_all() -> dict[str, bytes]:
    """File name → bytes for every case (what the committed files must equal)."""
    names = [c.name for c in CASES_]
    assert len(names) == len(set(names)), "case names must be unique"
    return {c.name: c.build() for c in CASES_}


def manifest() -> dict[str, dict[str, object]]:
    return {c.name: {"covers": c.covers, "rule": c.rule, **c.where,
                     **({"http": c.http} if c.http != 422 else {}),
                     **({"preset": c.preset} if c.preset != "auto" else {})} for c in CASES_}


def main() -> None:
    FILES.mkdir(exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    for name, data in build_all().items():
        (FILES / name).write_bytes(data)
    header = "# GENERATED by tests/badinputs/make_corpus.py - edit the script, not this file.\n"
    MANIFEST.write_text(header + yaml.safe_dump(manifest(), sort_keys=False, allow_unicode=True, width=120))
    print(f"{len(CASES_)} bad inputs written to {FILES}")


if __name__ == "__main__":
    main()
