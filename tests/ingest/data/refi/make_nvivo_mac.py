"""Writes nvivo-mac-style-handmade.qdpx, a small SYNTHETIC project shaped like an NVivo for Mac export.

Run from this folder: `python make_nvivo_mac.py`. What it mimics: docs/qda-formats.md §2.
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path

# Mimicked: the sources folder is `sources/` (lower case); the `.txt` is UTF-8 without a BOM, LF line ends only;
# offsets count UTF-16 code units (an emoji counts 2), end exclusive, computed here with str.encode, not
# with qualkg; one selection per code; `name=""`; every ZIP entry stored, not compressed.
OUT = Path(__file__).with_name("nvivo-mac-style-handmade.qdpx")
NS = uuid.UUID("6f1d0c2e-3b7a-4c55-9a41-0d2b7c9e5a10")
TEXT = (
    "SYNTHETIC interview notes, written for qualkg's tests \U0001F642 and quoting no one.\n"
    "Interviewer: How are decisions made in your team?\n"
    "P1: We talk it through together, then we decide. \U0001F642 Nobody pulls rank here.\n"
    "I think that matters more than the pay.\n"
    "P2: The pay is low \U0001F61E and the hours are long.\n"
    "A lot of us work a second job.\n"
    "P1: Supervision from other peers helps me most.\n"
    "I go every fortnight.\n"
)
# (quoted text, occurrence, codes); whole paragraphs include their LF, as NVivo selects them.
SELECTIONS = [
    ("P1: We talk it through together, then we decide. \U0001F642 Nobody pulls rank here.\n", ["decisions"]),
    ("We talk it through", ["decisions", "dialogue"]),
    ("P2: The pay is low \U0001F61E and the hours are long.\n", ["pay"]),
    ("the hours", ["pay"]),
    ("P1: Supervision from other peers helps me most.\n", ["supervision", "dialogue"]),
    ("Supervision from other peers", ["supervision"]),
    ("I go every", ["supervision"]),
]
CODES = ["decisions", "dialogue", "pay", "supervision"]


def gid(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def project() -> str:
    user, source = gid("user"), gid("source")
    codes = "\n".join(f'      <Code guid="{gid(c)}" name="{c}" isCodable="true" />' for c in CODES)
    sels = []
    for i, (quote, codes_of) in enumerate(SELECTIONS):
        start = utf16(TEXT[:TEXT.index(quote)])
        end = start + utf16(quote)
        for code in codes_of:  # NVivo writes one selection per code
            sels.append(
                f'      <PlainTextSelection guid="{gid(f"sel{i}-{code}")}" name="" startPosition="{start}" '
                f'endPosition="{end}" creatingUser="{user}" creationDateTime="2026-01-05T10:00:00Z">\n'
                f'        <Description />\n'
                f'        <Coding guid="{gid(f"coding{i}-{code}")}" creatingUser="{user}" '
                f'creationDateTime="2026-01-05T10:00:00Z">\n'
                f'          <CodeRef targetGUID="{gid(code)}" />\n'
                f'        </Coding>\n'
                f'      </PlainTextSelection>')
    selections = "\n".join(sels)
    return f'''<?xml version="1.0" encoding="utf-8"?>
<Project xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
name="Mac-style hand-made" origin="NVivo for Mac 12.7" creatingUserGUID="{user}" \
creationDateTime="2026-01-05T10:00:00Z" basePath="" xmlns="urn:QDA-XML:project:1.0">
  <Users>
    <User guid="{user}" name="coder-a" />
  </Users>
  <CodeBook>
    <Codes>
{codes}
    </Codes>
  </CodeBook>
  <Sources>
    <TextSource guid="{source}" name="interview-1" plainTextPath="internal://{source}.txt" creatingUser="{user}" \
creationDateTime="2026-01-05T10:00:00Z">
      <Description />
{selections}
    </TextSource>
  </Sources>
</Project>
'''


def main() -> None:
    with zipfile.ZipFile(OUT, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in (("project.qde", project().encode("utf-8")),
                           (f"sources/{gid('source')}.txt", TEXT.encode("utf-8"))):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 5, 10, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            z.writestr(info, data)


if __name__ == "__main__":
    main()
