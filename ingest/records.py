"""Typed, tool-neutral records: what every reader produces and what the mapping consumes (decision 0021).

Ids are the source's own local ids; `ontology.iris.IriScheme` turns them into IRIs. Vocabulary values are
local names of concepts in ontology/vocab (role "peer-practitioner", kind "joint-interview").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qualkg.ingest.problems import Problem, Where

__all__ = [
    "Code", "Coder", "Event", "Excerpt", "Note", "Organisation", "Participant", "Problem", "Provenance",
    "Publication", "SourceProject", "Study", "StudyRecords", "Team", "Transcript", "Where",
]


@dataclass(frozen=True, slots=True)
class Publication:
    doi: str | None
    title: str
    year: int | None = None
    venue: str | None = None
    authors: tuple[str, ...] = ()
    kind: str = "JournalArticle"  # fabio class local name: JournalArticle, SystematicReview, ReviewArticle, Preprint …
    licence: str | None = None  # IRI, e.g. https://creativecommons.org/licenses/by/4.0/
    authors_complete: bool = True  # False: `authors` lists only the first few ("et al.")
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None


@dataclass(frozen=True, slots=True)
class SourceProject:
    """The QDA project the study was read from, as the tool describes it (decision 0091)."""

    name: str
    tool: str | None = None  # the export's origin, e.g. "NVivo for Windows 12.6"
    created: str | None = None  # xsd:dateTime as the tool wrote it
    modified: str | None = None
    creator: str | None = None  # coder id (a <User>)
    modifier: str | None = None


@dataclass(frozen=True, slots=True)
class Study:
    id: str
    title: str
    description: str | None = None
    publication: Publication | None = None
    design: str | None = None  # e.g. "qualitative interview study"
    analysis: str | None = None  # e.g. "thematic analysis"
    countries: tuple[str, ...] = ()
    setting: str | None = None
    sample: str | None = None  # the sample as published, verbatim
    published_themes: tuple[str, ...] = ()  # verbatim from the publication, for study-level records
    synthetic: bool = False  # the study's participant-level content is synthetic
    verification: str | None = None  # None = verified; "unverified" kept from the sources
    source_project: SourceProject | None = None  # the QDA project it was read from
    invented: bool = False  # the study itself is made up (qk:isSynthetic on the study), not only its data


@dataclass(frozen=True, slots=True)
class Organisation:
    id: str
    label: str
    kind: str = "formal"  # formal (e.g. an NHS trust) | unit
    verification: str | None = None
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    label: str
    organisation: str | None = None
    features: tuple[str, ...] = ()  # feature concept local names
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    pseudonym: str
    role: str | None = None  # role concept local name
    team: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # (variable name, value) from QDA cases/variables
    synthetic: bool = False
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    kind: str  # mode concept local name: individual-interview | joint-interview | focus-group | documents …
    label: str | None = None
    participants: tuple[str, ...] = ()
    originating_study: str | None = None  # when the data were first collected for another study
    synthetic: bool = False
    structure: str | None = None  # structure concept local name: structured | semi-structured | unstructured


@dataclass(frozen=True, slots=True)
class Transcript:
    id: str
    label: str
    text: str | None  # LF-normalised plain text; None when only excerpts are known
    event: str | None = None
    synthetic: bool = False
    source_file: str | None = None
    created: str | None = None  # xsd:dateTime the tool gives for the source


@dataclass(frozen=True, slots=True)
class Code:
    id: str
    label: str
    parent: str | None = None
    level: str = "code"  # code | subtheme | theme
    description: str | None = None
    colour: str | None = None
    placeholder_label: bool = False  # label assigned by the project, not the published name
    source: str | None = None  # DOI or IRI the definition comes from
    original_name: str | None = None  # name as the tool wrote it (e.g. "Parent::Child")
    codable: bool = True  # False: a category that groups codes (REFI isCodable="false")
    synthetic: bool = False  # invented by the project, not a code of the source


@dataclass(frozen=True, slots=True)
class Coder:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Provenance:
    source_file: str
    tool: str | None = None  # e.g. "NVivo for Windows 12.6" (the export's origin attribute)
    offset_convention: str | None = None  # unit/line-ends/end, e.g. "utf16/crlf-raw/exclusive" (ingest.offsets)
    original_start: int | None = None
    original_end: int | None = None
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class Excerpt:
    transcript: str
    start: int  # code points over the LF-normalised text, inclusive
    end: int  # exclusive
    text: str  # the exact excerpt text
    codes: tuple[str, ...]
    speaker: str | None = None
    coder: str | None = None
    synthetic: bool = False
    provenance: Provenance | None = None


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    text: str
    target_kind: str  # code | transcript | excerpt | participant | study
    target: str  # local id of the target (for an excerpt: "transcript:start:end")


@dataclass(slots=True)
class StudyRecords:
    """Everything read for one study, ready to map to one named graph."""

    study: Study
    organisations: list[Organisation] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    participants: list[Participant] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    coders: list[Coder] = field(default_factory=list)
    excerpts: list[Excerpt] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
