"""Participants from what QualCoder and ATLAS.ti write: QualCoder's case attributes, ATLAS.ti's document groups.

Both projects are written here, small enough to read. QualCoder's shape follows its REFI export
(ccbogel/QualCoder, src/qualcoder/refi.py: `cases_xml`, `case_variables_xml`, `case_source_ref_xml`,
`variables_xml`): each Case has a Description, one VariableValue (VariableRef + TextValue) per attribute and
a SourceRef per whole file linked to the case; Variables carry a Description; plain texts sit in `Sources/`
as UTF-8 with a BOM. ATLAS.ti writes document groups as <Sets> of <MemberSource>s (the shape QualCoder's
importer, `parse_sets`, documents for them). Expected participants are read off the XML by hand.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from qualkg.ingest.cases import parse_rules
from qualkg.ingest.readers.refi import read_qdpx
from qualkg.ingest.records import StudyRecords, Where

G = "00000000-0000-4000-8000-{:012d}".format
A_TEXT = "SYNTHETIC I work as a peer.\nSYNTHETIC The pay is low.\n"  # "The pay is low." at 38..53
B_TEXT = "SYNTHETIC We share decisions.\n"  # "We share decisions." at 10..29

QUALCODER_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
name="cases.qda" origin="QualCoder 3.8" creatingUserGUID="{G(99)}" creationDateTime="2024-05-01T10:00:00Z" \
xmlns="urn:QDA-XML:project:1.0">
<Users>
<User guid="{G(1)}" name="default" />
</Users>
<CodeBook>
<Codes>
<Code guid="{G(10)}" name="Low pay" isCodable="true" color="#F8E0E0"></Code>
<Code guid="{G(11)}" name="Shared decisions" isCodable="true" color="#F8E0E0"></Code>
</Codes>
</CodeBook>
<Variables>
<Variable guid="{G(20)}" name="Role" typeOfVariable="Text" >
<Description />
</Variable>
<Variable guid="{G(21)}" name="Team" typeOfVariable="Text" >
<Description />
</Variable>
</Variables>
<Cases>
<Case guid="{G(30)}" name="Anna">
<Description />
<VariableValue>
<VariableRef targetGUID="{G(20)}" />
<TextValue>Peer support worker</TextValue>
</VariableValue>
<VariableValue>
<VariableRef targetGUID="{G(21)}" />
<TextValue>North</TextValue>
</VariableValue>
<SourceRef targetGUID="{G(40)}"/>
</Case>
<Case guid="{G(31)}" name="Ben">
<Description>SYNTHETIC second case</Description>
<VariableValue>
<VariableRef targetGUID="{G(20)}" />
<TextValue>Psychiatrist</TextValue>
</VariableValue>
<VariableValue>
<VariableRef targetGUID="{G(21)}" />
<TextValue>South</TextValue>
</VariableValue>
<SourceRef targetGUID="{G(41)}"/>
</Case>
</Cases>
<Sources>
<TextSource richTextPath="internal://a.txt" plainTextPath="internal://{G(40)}.txt" creatingUser="{G(1)}" \
creationDateTime="2024-05-01T10:05:00Z" guid="{G(40)}" name="a.txt">
<PlainTextSelection guid="{G(50)}" startPosition="38" endPosition="53" name="The pay is low." \
creatingUser="{G(1)}" creationDateTime="2024-05-01T10:10:00Z">
<Coding guid="{G(60)}" creatingUser="{G(1)}" ><CodeRef targetGUID="{G(10)}" />
</Coding>
</PlainTextSelection>
</TextSource>
<TextSource richTextPath="internal://b.txt" plainTextPath="internal://{G(41)}.txt" creatingUser="{G(1)}" \
creationDateTime="2024-05-01T10:06:00Z" guid="{G(41)}" name="b.txt">
<PlainTextSelection guid="{G(51)}" startPosition="10" endPosition="29" name="We share decisions." \
creatingUser="{G(1)}" creationDateTime="2024-05-01T10:11:00Z">
<Coding guid="{G(61)}" creatingUser="{G(1)}" ><CodeRef targetGUID="{G(11)}" />
</Coding>
</PlainTextSelection>
</TextSource>
</Sources>
<Description>None</Description>
</Project>"""


def _archive(path: Path, qde: str) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", "\ufeff" + qde)
        z.writestr(f"Sources/{G(40)}.txt", ("\ufeff" + A_TEXT).encode("utf-8"))
        z.writestr(f"Sources/{G(41)}.txt", ("\ufeff" + B_TEXT).encode("utf-8"))
    return path


def _people(rec: StudyRecords) -> dict[str, tuple[str | None, str | None]]:
    teams = {t.id: t.label for t in rec.teams}
    return {p.pseudonym: (p.role, teams.get(p.team or "")) for p in rec.participants}


def test_qualcoder_cases_become_participants_who_speak_their_files(tmp_path: Path) -> None:
    rec = read_qdpx(_archive(tmp_path / "qc.qdpx", QUALCODER_QDE), study_id="qc")
    assert _people(rec) == {"Anna": ("peer-support-worker", "North"), "Ben": ("psychiatrist", "South")}
    anna, ben = rec.participants
    assert anna.attributes == (("Role", "Peer support worker"), ("Team", "North"))
    assert [(x.text, x.speaker) for x in rec.excerpts] == [("The pay is low.", anna.id),
                                                          ("We share decisions.", ben.id)]
    assert "no-cases" not in {w.rule for w in rec.warnings}
    assert rec.study.description is None  # QualCoder writes <Description>None</Description> for "no description"


ATLAS_QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Groups" origin="ATLAS.ti 23.4.0">
<Users><User guid="{G(1)}" name="coder"/></Users>
<CodeBook><Codes><Code guid="{G(10)}" name="Low pay" isCodable="true"/>
<Code guid="{G(11)}" name="Shared decisions" isCodable="true"/></Codes></CodeBook>
<Sources>
<TextSource guid="{G(40)}" name="Interview A" plainTextPath="internal://{G(40)}.txt">
<PlainTextSelection guid="{G(50)}" startPosition="38" endPosition="53" creatingUser="{G(1)}">
<Coding guid="{G(60)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(10)}"/></Coding></PlainTextSelection>
</TextSource>
<TextSource guid="{G(41)}" name="Interview B" plainTextPath="internal://{G(41)}.txt">
<PlainTextSelection guid="{G(51)}" startPosition="10" endPosition="29" creatingUser="{G(1)}">
<Coding guid="{G(61)}" creatingUser="{G(1)}"><CodeRef targetGUID="{G(11)}"/></Coding></PlainTextSelection>
</TextSource>
</Sources>
<Sets>
<Set guid="{G(70)}" name="Role::Peer worker"><Description>SYNTHETIC group</Description>
<MemberSource targetGUID="{G(40)}"/></Set>
<Set guid="{G(71)}" name="Team::North"><MemberSource targetGUID="{G(40)}"/>
<MemberSource targetGUID="{G(41)}"/></Set>
<Set guid="{G(72)}" name="Psychiatrists"><MemberSource targetGUID="{G(41)}"/></Set>
</Sets>
</Project>"""


def test_atlasti_document_groups_become_the_documents_attributes(tmp_path: Path) -> None:
    """"Role::Peer worker" and "Team::North" are (variable, value); "Psychiatrists" is a Document group value."""
    rec = read_qdpx(_archive(tmp_path / "at.qdpx", ATLAS_QDE), study_id="at")
    a, b = rec.participants
    assert a.attributes == (("Role", "Peer worker"), ("Team", "North"))
    assert b.attributes == (("Team", "North"), ("Document group", "Psychiatrists"))
    assert _people(rec) == {"Interview A": ("peer-worker", "North"), "Interview B": (None, "North")}
    assert [x.speaker for x in rec.excerpts] == [a.id, b.id]


def test_a_package_maps_a_document_group_to_a_role(tmp_path: Path) -> None:
    rules, problems = parse_rules({"Role": "role", "Team": "team", "Document group": {"Psychiatrists": "psychiatrist"}},
                                  Where("study.yaml"))
    assert problems == []
    rec = read_qdpx(_archive(tmp_path / "at.qdpx", ATLAS_QDE), study_id="at", rules=rules)
    assert _people(rec) == {"Interview A": ("peer-worker", "North"), "Interview B": ("psychiatrist", "North")}


def test_sets_of_other_tools_are_not_document_groups(tmp_path: Path) -> None:
    qde = ATLAS_QDE.replace('origin="ATLAS.ti 23.4.0"', 'origin="NVivo for Windows 12.6"')
    rec = read_qdpx(_archive(tmp_path / "nv.qdpx", qde), study_id="nv")
    assert rec.participants == [] and "no-cases" in {w.rule for w in rec.warnings}
