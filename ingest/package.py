"""The qualkg study package: a folder (or a ZIP of one) holding study.yaml and optional CSV files.

The format is docs/study-package.md; `package_json_schema()` generates its JSON Schema. Reading is all or
nothing: every located problem is raised together as one ReaderError. A folder without study.yaml whose
sub-folders are packages is a collection: one StudyRecords per sub-folder, in name order (decision 0027).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qualkg.ingest.cases import AttributeRule, parse_rules
from qualkg.ingest.errors import ReaderError
from qualkg.ingest.limits import MAX_CODE_DEPTH, MAX_YAML_DEPTH, shown
from qualkg.ingest.offsets import QUALKG, RECONSTRUCTED, SEARCHED
from qualkg.ingest.problems import HEADER_ROW, yaml_location
from qualkg.ingest.readers.identifiers import identifier_column, identifier_value
from qualkg.ingest.records import (
    Code,
    Coder,
    Event,
    Excerpt,
    Note,
    Organisation,
    Participant,
    Problem,
    Provenance,
    Publication,
    Study,
    StudyRecords,
    Team,
    Transcript,
    Where,
)
from qualkg.ingest.safe_io import SafeYamlLoader, SafeZip, YamlAliasRefused, YamlTooDeep, ZipLimits
from qualkg.ontology.iris import reserved_study_id

# --- Vocabulary: the allowed local names, in ONE place. They mirror the SKOS schemes in
# ontology/vocab (roles, organisational features, collection modes; a test keeps them equal) and
# the code levels of the model. Literals, so the JSON Schema lists them as enums.
Role = Literal[
    "peer-worker",
    "peer-practitioner",
    "peer-support-worker",
    "certified-peer-support-specialist",
    "non-peer-practitioner",
    "psychiatrist",
    "mental-health-nurse",
    "psychologist",
    "social-worker",
    "occupational-therapist",
    "family-therapist",
    "support-worker",
    "other-clinician",
    "service-user",
    "carer",
    "position",
    "team-manager",
]
Feature = Literal[
    "flattened-hierarchy",
    "peer-supervision",
    "open-dialogue-training",
    "dual-caseload",
    "flexible-contracts",
    "funding-and-resources",
    "leadership-support",
    "low-pay",
    "peer-network",
    "role-clarity",
    "team-culture",
]
EventKind = Literal["individual-interview", "joint-interview", "focus-group", "observation", "participant-observation",
                    "nonparticipant-observation", "documents"]
OldEventKind = Literal["interview", "semi-structured-interview"]  # read, mapped, and warned about
InterviewStructure = Literal["structured", "semi-structured", "unstructured"]
CodeLevel = Literal["code", "subtheme", "theme"]
PublicationKind = Literal["JournalArticle", "ReviewArticle", "SystematicReview", "Preprint"]
OrganisationKind = Literal["formal", "unit"]
Verification = Literal["unverified"]

ROLES: tuple[str, ...] = get_args(Role)
FEATURES: tuple[str, ...] = get_args(Feature)
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
STRUCTURES: tuple[str, ...] = get_args(InterviewStructure)
# The old combined kinds (grouping and structure in one value) → (kind, structure).
OLD_EVENT_KINDS: dict[str, tuple[str, str | None]] = {
    "interview": ("individual-interview", None),
    "semi-structured-interview": ("individual-interview", "semi-structured"),
}
CODE_LEVELS: tuple[str, ...] = get_args(CodeLevel)
PUBLICATION_KINDS: tuple[str, ...] = get_args(PublicationKind)  # FaBiO classes the ontology declares

# ZIP safety: the checks QDPX archives get (ingest.safe_io), with a 500 MB cap for a package.
PACKAGE_ZIP_LIMITS = ZipLimits(max_total_bytes=500 * 1024**2, max_ratio=200.0)

STUDY_FILE = "study.yaml"
PACKAGE_TOOL = "qualkg study package"
# Offset conventions recorded on excerpt provenance, spelled as ingest.offsets spells them.
OFFSETS_GIVEN = str(QUALKG)  # "codepoint/lf/exclusive"
OFFSETS_SEARCHED = SEARCHED
OFFSETS_RECONSTRUCTED = RECONSTRUCTED
MAX_OCCURRENCES_SHOWN = 5  # where an excerpt's text does occur, in a mismatch problem
RECONSTRUCTION_SEPARATOR = "\n\n"  # as the tabular reader joins excerpts into a transcript

LocalId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                               description="A local id: letters, digits, '.', '_', '-'.")]
Synthetic = Annotated[bool | None, Field(description="Invented content; empty: as the study's `synthetic`.")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code.")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- study.yaml ---------------------------------------------------------------------------

class PublicationModel(_Model):
    """The publication reporting the study; a field left out (or empty) is absent, never a placeholder."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, coerce_numbers_to_str=True)
    doi: str | None = Field(None, pattern=r"^10\.\d{4,9}/\S+$", description="Bare DOI, e.g. 10.1192/bjo.2025.10833.")
    title: str = Field(min_length=1)
    year: int | None = Field(None, ge=1900, le=2100)
    authors: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description='In printed order, e.g. "Anestis E".')
    authors_complete: bool = Field(True, description='false: the list is partial, cited with "et al.".')
    journal: str | None = Field(None, description="Journal name, e.g. BJPsych Open.")
    volume: str | None = None
    issue: str | None = None
    pages: str | None = Field(None, description='Page range or article number, e.g. "296–316" or "e216".')
    venue: str | None = Field(None, description="Free text for what has no journal: a report, thesis or book.")
    kind: PublicationKind = "JournalArticle"
    licence: str | None = Field(None, pattern=r"^https?://", description="Licence IRI.")

    @field_validator("doi", "journal", "volume", "issue", "pages", "venue", "licence", mode="before")
    @classmethod
    def _empty_is_absent(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class OrganisationModel(_Model):
    id: LocalId
    label: str
    kind: OrganisationKind = "formal"
    verification: Verification | None = None
    synthetic: Synthetic = None


class TeamModel(_Model):
    id: LocalId
    label: str
    organisation: str | None = None
    features: list[Feature] = Field(default_factory=list)
    synthetic: Synthetic = None


class EventModel(_Model):
    """One data-collection event; also one row of events.csv (participants separated by ';')."""

    id: LocalId
    kind: Literal[EventKind, OldEventKind] = Field(description="The grouping, a mode concept; the old combined values "
                                           "interview and semi-structured-interview are mapped, with a warning.")
    structure: InterviewStructure | None = Field(None, description="How closely the event followed a guide.")
    label: str | None = None
    participants: list[str] = Field(default_factory=list)
    originating_study: str | None = Field(None, description="Id of the study that first collected the data.")
    synthetic: Synthetic = None


class CodedDataModel(_Model):
    """Coded data the package augments: exactly one of a QDPX file or a tabular export."""

    qdpx: str | None = None
    tabular: str | None = None
    preset: str | None = Field(None, description="Tabular preset name (tabular only), e.g. taguette.")
    mapping: str | dict[str, Any] | None = Field(
        None, description="Column mapping for preset generic: a YAML/JSON file in the package, or inline.")
    codebook: str | None = Field(None, description="Codebook file in the package for the table, e.g. ATLAS.ti's "
                                                   "Code Manager CSV for preset atlasti.")

    @model_validator(mode="after")
    def _one_source(self) -> CodedDataModel:
        if (self.qdpx is None) == (self.tabular is None):
            raise ValueError("give exactly one of qdpx or tabular")
        if (self.preset, self.mapping, self.codebook) != (None, None, None) and self.tabular is None:
            raise ValueError("preset, mapping and codebook apply to tabular coded data only")
        return self


class StudyFile(_Model):
    """study.yaml: the study's metadata and its organisational context."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Study id: lower case, digits, '.', '_', '-'.")
    title: str
    description: str | None = None
    publication: PublicationModel | None = None
    design: str | None = None
    analysis: str | None = None
    countries: list[CountryCode] = Field(default_factory=list)
    setting: str | None = None
    sample: str | None = Field(None, description="The sample as published, verbatim.")
    published_themes: list[str] = Field(default_factory=list, description="Theme names verbatim from the publication.")
    synthetic: bool = Field(False, description="The participant-level content is invented: every entity below is "
                            "synthetic unless it says synthetic: false.")
    invented: bool = Field(False, description="The study itself is invented, not only its data.")
    synthetic_note: str | None = None
    verification: Verification | None = None
    notes: list[str] = Field(default_factory=list,
                             description="Editorial notes on the study (status kept in the text).")
    organisations: list[OrganisationModel] = Field(default_factory=list)
    teams: list[TeamModel] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list,
                              description="Roles used; when given, every participant's role must be one.")
    events: list[EventModel] | None = Field(None, description="Events here or in events.csv, not both.")
    coded_data: CodedDataModel | None = None
    cases: dict[str, str] = Field(default_factory=dict, description="QDA case name -> participant id.")
    case_attributes: dict[str, Any] = Field(
        default_factory=dict, description="Case variable -> role, team or feature, or {value: concept} "
        "(see docs/study-package.md).")


# --- CSV rows -----------------------------------------------------------------------------

class ParticipantRow(_Model):
    """participants.csv; any further column becomes a participant attribute (name, value)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)
    id: LocalId
    pseudonym: str
    role: Role | None = None
    team: str | None = None
    synthetic: Synthetic = None


class CodeRow(_Model):
    """codebook.csv."""

    id: LocalId
    label: str
    parent: str | None = None
    level: CodeLevel = "code"
    description: str | None = None
    placeholder_label: bool = False
    source: str | None = Field(None, description="DOI or IRI the definition comes from.")
    colour: str | None = Field(None, pattern=r"^#[0-9A-Fa-f]{6}$")
    synthetic: Synthetic = None


class TranscriptRow(_Model):
    """transcripts.csv: text inline, or text_file relative to the package root, or neither."""

    id: LocalId
    label: str
    event: str | None = None
    synthetic: Synthetic = None
    text: str | None = None
    text_file: str | None = None


class ExcerptRow(_Model):
    """excerpts.csv: codes separated by ';'. Without start/end the text is found in the transcript."""

    transcript: str
    start: int | None = Field(None, ge=0)
    end: int | None = Field(None, ge=1)
    text: str = Field(min_length=1)
    codes: list[str] = Field(min_length=1)
    speaker: str | None = None
    coder: str | None = None
    synthetic: Synthetic = None


CSV_FILES: dict[str, type[_Model]] = {
    "participants.csv": ParticipantRow,
    "events.csv": EventModel,
    "codebook.csv": CodeRow,
    "transcripts.csv": TranscriptRow,
    "excerpts.csv": ExcerptRow,
}
LIST_COLUMNS = {"events.csv": ("participants",), "excerpts.csv": ("codes",)}


def package_json_schema() -> dict[str, Any]:
    """JSON Schema of study.yaml, with one definition per CSV row under $defs (see docs)."""
    schema = StudyFile.model_json_schema()
    defs = schema.setdefault("$defs", {})
    for name, model in CSV_FILES.items():
        row = model.model_json_schema()
        defs.update(row.pop("$defs", {}))
        row["title"] = f"{name} row"
        defs[name] = row
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "qualkg study package (study.yaml)",
            **schema}


# --- what read_package returns beyond StudyRecords -----------------------------------------

@dataclass(frozen=True, slots=True)
class CodedData:
    """Pointer to the coded data a package augments; the pipeline reads and merges it."""

    kind: Literal["qdpx", "tabular"]
    file: str  # path relative to the package root
    preset: str | None
    package: Path  # the package folder or .zip
    mapping: str | dict[str, Any] | None = None  # a file relative to the package root, or the mapping itself
    codebook: str | None = None  # a file relative to the package root


@dataclass(slots=True)
class PackageRecords(StudyRecords):
    """StudyRecords plus the package's pointer to coded data and its QDA case map."""

    coded_data: CodedData | None = None
    cases: dict[str, str] = field(default_factory=dict)
    case_attributes: list[AttributeRule] = field(default_factory=list)  # applied by ingest.merge


# --- reading ------------------------------------------------------------------------------

ReadFile = Callable[[str], bytes | None]  # relative path -> bytes, or None when absent


def read_package(path: Path) -> list[StudyRecords]:
    """Read a study package (folder, its study.yaml, or a .zip), or a folder of package folders.

    Raises ReaderError with every located problem; returns one StudyRecords per study.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        path = path.parent
    if path.is_file():
        with SafeZip(path, PACKAGE_ZIP_LIMITS) as zf:
            prefix = _zip_root(zf, path.name)
            return [_read_one(_zip_reader(zf, prefix), path, "")]
    if (path / STUDY_FILE).is_file():
        return [_read_one(_folder_reader(path), path, "")]
    subs = sorted(p for p in path.iterdir() if (p / STUDY_FILE).is_file()) if path.is_dir() else []
    if not subs:
        raise ReaderError([Problem(Where(path.name), "package-format",
                                   f"no {STUDY_FILE} in the folder or its sub-folders")])
    records: list[PackageRecords] = []
    problems: list[Problem] = []
    for sub in subs:  # report the problems of every package in the collection at once
        try:
            records.append(_read_one(_folder_reader(sub), sub, f"{sub.name}/"))
        except ReaderError as e:
            problems += e.problems
    if problems:
        raise ReaderError(problems)
    _check_unique((r.study.id, Where(f"{sub.name}/{STUDY_FILE}", field="id"))
                  for r, sub in zip(records, subs, strict=True))
    return list(records)


def materialise_coded_data(pointer: CodedData, into: Path, file: str | None = None) -> Path:
    """A filesystem path to the coded-data file (or another `file` of the package, e.g. its codebook): in the
    folder, or copied out of the ZIP into `into`."""
    file = file or pointer.file
    if pointer.package.is_dir():
        return pointer.package / file
    with SafeZip(pointer.package, PACKAGE_ZIP_LIMITS) as zf:
        data = _zip_reader(zf, _zip_root(zf, pointer.package.name))(file)
    if data is None:  # checked when the package was read; the archive changed since
        raise ReaderError([Problem(Where(pointer.package.name, element=file), "missing-file",
                                   "coded-data file not in the package")])
    target = into / PurePosixPath(file).name
    target.write_bytes(data)
    return target


def _folder_reader(root: Path) -> ReadFile:
    real_root = root.resolve()

    def read(rel: str) -> bytes | None:
        target = (root / rel).resolve()
        if not target.is_relative_to(real_root) or not target.is_file():
            return None
        return target.read_bytes()

    return read


def _zip_reader(zf: SafeZip, prefix: str) -> ReadFile:
    names = set(zf.names)

    def read(rel: str) -> bytes | None:
        return zf.read(prefix + rel) if prefix + rel in names else None

    return read


def _zip_root(zf: SafeZip, label: str) -> str:
    """The member prefix of the package root: '' or the one top folder holding study.yaml."""
    if STUDY_FILE in zf.names:
        return ""
    roots = {n.split("/", 1)[0] for n in zf.names if n.endswith("/" + STUDY_FILE) and n.count("/") == 1}
    if len(roots) != 1:
        raise ReaderError([Problem(Where(label), "package-format",
                                   f"the archive needs {STUDY_FILE} at its root or in one top folder")])
    return roots.pop() + "/"


@dataclass(slots=True)
class _Located:
    """A validated row or YAML item with where it came from."""

    where: Where
    item: Any


class _Reader:
    """Reads one package; collects problems instead of stopping at the first."""

    def __init__(self, read: ReadFile, package: Path, prefix: str) -> None:
        self.read = read
        self.package = package
        self.prefix = prefix  # sub-folder label for packages in a collection
        self.problems: list[Problem] = []
        self.invalid: dict[str, set[str]] = {}  # CSV file -> ids of rows refused (not reported again as unknown)

    def where(self, file: str, **kw: Any) -> Where:
        return Where(self.prefix + file, **kw)

    def problem(self, where: Where, rule: str, message: str, value: object = None) -> None:
        self.problems.append(Problem(where, rule, message, None if value is None else str(value)))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ReaderError(self.problems)

    # -- parsing --

    def study_file(self) -> StudyFile:
        raw = self.read(STUDY_FILE)
        if raw is None:
            raise ReaderError([Problem(self.where(STUDY_FILE), "missing-file", f"a package needs {STUDY_FILE}")])
        try:
            data = yaml.load(raw.decode("utf-8"), Loader=SafeYamlLoader)
        except UnicodeDecodeError as e:
            raise ReaderError([Problem(self.where(STUDY_FILE), "utf-8", f"not UTF-8: {e.reason}")]) from None
        except YamlAliasRefused as e:
            raise ReaderError([Problem(self.where(STUDY_FILE, element=f"line {e.line}"), "yaml-alias",
                                       "YAML aliases (*name) are refused: nested aliases expand exponentially "
                                       "(a 'billion laughs' attack) and a study.yaml never needs them")]) from None
        except YamlTooDeep as e:
            raise ReaderError([Problem(self.where(STUDY_FILE, element=f"line {e.line}"), "yaml-depth",
                                       f"lists and mappings are nested more than {MAX_YAML_DEPTH} deep; a "
                                       "study.yaml nests about 3 deep, and deeper nesting is refused")]) from None
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            element = f"line {mark.line + 1}" if mark else None
            raise ReaderError([Problem(self.where(STUDY_FILE, element=element), "yaml-well-formed", str(e))]) from None
        if not isinstance(data, dict):
            raise ReaderError([Problem(self.where(STUDY_FILE), "yaml-mapping",
                                       f"{STUDY_FILE} must be a mapping of fields")])
        try:
            return StudyFile.model_validate(data)
        except ValidationError as e:
            for err in e.errors():
                element, name = yaml_location(err["loc"])
                self._validation_problem(self.where(STUDY_FILE, element=element, field=name), err)
            raise ReaderError(self.problems) from None

    def csv_rows(self, name: str) -> list[_Located]:
        """Validated rows of one CSV (empty when the file is absent); problems are collected."""
        records = self._csv_records(name)
        header = [h.strip() for h in records[0]] if records else []
        if not self._header_ok(name, header):
            return []
        rows: list[_Located] = []
        for number, cells in enumerate(records[1:], start=HEADER_ROW + 1):
            if any(c.strip() for c in cells):
                row = self._csv_row(name, header, cells, self.where(name, row=number))
                if row is not None:
                    rows.append(row)
        return rows

    def _csv_records(self, name: str) -> list[list[str]]:
        """The CSV's records, header first; [] when the file is absent or unreadable (a problem is collected)."""
        raw = self.read(name)
        if raw is None:
            return []
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            self.problem(self.where(name), "utf-8", f"not UTF-8: {e.reason}")
            return []
        records: list[list[str]] = []
        try:
            for record in csv.reader(io.StringIO(text, newline="")):
                records.append(record)
        except csv.Error as e:  # e.g. a cell over csv.field_size_limit() (131 072 characters by default)
            rule = "field-size" if "field limit" in str(e) else "csv-syntax"
            self.problem(self.where(name, row=len(records) + 1), rule, f"unreadable CSV record: {e}")
            return []
        return records

    def _csv_row(self, name: str, header: list[str], cells: list[str], where: Where) -> _Located | None:
        """One data row validated by its file's model, or None with its problems collected."""
        if len(cells) > len(header):
            self.problem(where, "csv-shape", f"{len(cells)} cells but {len(header)} columns")
            return None
        # A short row fills the first columns; empty cells are absent fields.
        values: dict[str, Any] = {h: c.strip() for h, c in zip(header, cells, strict=False) if c.strip()}
        for column in LIST_COLUMNS.get(name, ()):
            if column in values:
                values[column] = [v.strip() for v in values[column].split(";") if v.strip()]
        try:
            return _Located(where, CSV_FILES[name].model_validate(values))
        except ValidationError as e:
            if isinstance(values.get("id"), str):
                self.invalid.setdefault(name, set()).add(values["id"])
            for err in e.errors():
                self._validation_problem(replace(where, field=str(err["loc"][0]) if err["loc"] else None), err)
            return None

    def _header_ok(self, name: str, header: list[str]) -> bool:
        ok = True
        for column in header:
            where = self.where(name, row=HEADER_ROW, field=column)
            if not column:
                self.problem(where, "csv-header", "empty column name")
                ok = False
            elif header.count(column) > 1:
                self.problem(where, "csv-header", "duplicate column name", column)
                ok = False
            elif identifier_column(column):
                self.problem(where, "direct-identifier",
                             "participants are pseudonymised: this column identifies a person directly", column)
                ok = False
        return ok

    def _validation_problem(self, where: Where, err: Mapping[str, Any]) -> None:
        rule = {"literal_error": "vocabulary", "missing": "required", "extra_forbidden": "unknown-field",
                "string_pattern_mismatch": "pattern"}.get(err["type"], err["type"])
        value = err.get("input")
        self.problem(where, rule, err["msg"], value if isinstance(value, str | int | float | bool) else None)

    # -- checks --

    def unique(self, items: Iterable[_Located], key: str = "id") -> dict[str, _Located]:
        seen: dict[str, _Located] = {}
        for located in items:
            value = getattr(located.item, key)
            if value in seen:
                self.problem(replace(located.where, field=key), "duplicate-id",
                             f"id already used at {seen[value].where}", value)
            else:
                seen[value] = located
        return seen

    def refs(self, where: Where, field_name: str, values: Iterable[str | None], known: Mapping[str, object],
             what: str, file: str | None = None) -> None:
        """Report each value that names nothing in `known`; one naming a row of `file` that was refused
        already is not reported again."""
        refused = self.invalid.get(file, set()) if file else set()
        for value in values:
            if value is not None and value not in known and value not in refused:
                self.problem(replace(where, field=field_name), "unknown-reference", f"no {what} with this id", value)


def _read_one(read: ReadFile, package: Path, prefix: str) -> PackageRecords:
    """One package, every problem at once: a refused study.yaml still has its CSV files checked, and a
    problem in one part (a role, a reference) does not hide those of the next (the excerpts' offsets)."""
    r = _Reader(read, package, prefix)
    meta = _study_file(r)
    _check_study_id(r, meta)

    def yaml_items(name: str, items: list[Any]) -> list[_Located]:
        return [_Located(r.where(STUDY_FILE, element=f"{name}[{i}]"), item) for i, item in enumerate(items)]

    orgs = r.unique(yaml_items("organisations", meta.organisations))
    teams = r.unique(yaml_items("teams", meta.teams))
    participants = r.unique(r.csv_rows("participants.csv"))
    event_rows = r.csv_rows("events.csv")
    if meta.events is not None and r.read("events.csv") is not None:
        r.problem(r.where(STUDY_FILE, element="events"), "duplicate-source",
                  "events are given in study.yaml and in events.csv")
    events = r.unique(yaml_items("events", meta.events or []) + event_rows)
    codes = r.unique(r.csv_rows("codebook.csv"))
    transcripts = r.unique(r.csv_rows("transcripts.csv"))
    excerpt_rows = r.csv_rows("excerpts.csv")
    _default_synthetic(meta.synthetic or meta.invented, orgs, teams, participants, events, codes, transcripts,
                       {str(i): x for i, x in enumerate(excerpt_rows)})

    for t in teams.values():
        r.refs(t.where, "organisation", [t.item.organisation], orgs, "organisation")
    for p in participants.values():
        r.refs(p.where, "team", [p.item.team], teams, "team")
        if meta.roles and p.item.role is not None and p.item.role not in meta.roles:
            r.problem(replace(p.where, field="role"), "role-not-declared", "role not in study.yaml roles", p.item.role)
        _check_identifiers(r, p)
    for e in events.values():
        r.refs(e.where, "participants", e.item.participants, participants, "participant", "participants.csv")
    for case, participant in meta.cases.items():
        r.refs(r.where(STUDY_FILE, element=f"cases[{case}]"), "cases", [participant], participants, "participant",
               "participants.csv")
    for t in transcripts.values():
        r.refs(t.where, "event", [t.item.event], events, "event", "events.csv")
        if t.item.text is not None and t.item.text_file is not None:
            r.problem(replace(t.where, field="text_file"), "one-text-source", "give text or text_file, not both")
    _check_code_tree(r, codes)
    for x in excerpt_rows:
        r.refs(x.where, "transcript", [x.item.transcript], transcripts, "transcript", "transcripts.csv")
        r.refs(x.where, "speaker", [x.item.speaker], participants, "participant", "participants.csv")
        r.refs(x.where, "codes", x.item.codes, codes, "code", "codebook.csv")
        transcript = transcripts.get(x.item.transcript)
        if transcript is not None and transcript.item.synthetic != x.item.synthetic:
            r.problem(replace(x.where, field="synthetic"), "synthetic-consistency",
                      "an excerpt and its transcript must both be synthetic or both real", x.item.synthetic)
    coded = _coded_data(r, meta)
    rules, rule_problems = parse_rules(meta.case_attributes, r.where(STUDY_FILE))
    r.problems += rule_problems
    texts = {tid: _transcript_text(r, t) for tid, t in transcripts.items()}
    readable = {tid: text for tid, text in texts.items()  # a refused text file: its excerpts are not checked
                if text is not None or transcripts[tid].item.text_file is None}

    excerpts, located = _locate_excerpts(r, excerpt_rows, readable)
    texts.update(located)
    warnings = _old_event_kinds(r, events)
    r.raise_if_any()
    return PackageRecords(
        study=_study(meta),
        organisations=[Organisation(o.id, o.label, o.kind, o.verification, bool(o.synthetic))
                       for o in (x.item for x in orgs.values())],
        teams=[Team(t.id, t.label, t.organisation, tuple(t.features), bool(t.synthetic))
               for t in (x.item for x in teams.values())],
        participants=[_participant(p) for p in participants.values()],
        events=[_event(e) for e in (x.item for x in events.values())],
        transcripts=[Transcript(t.id, t.label, texts[t.id], t.event, bool(t.synthetic),
                                prefix + (t.text_file or "transcripts.csv"))
                     for t in (x.item for x in transcripts.values())],
        codes=[Code(c.id, c.label, c.parent, c.level, c.description, c.colour, c.placeholder_label, c.source,
                    synthetic=bool(c.synthetic)) for c in (x.item for x in codes.values())],
        coders=[Coder(name, name) for name in dict.fromkeys(x.item.coder for x in excerpt_rows if x.item.coder)],
        excerpts=excerpts,
        notes=_notes(meta),
        coded_data=coded,
        cases=dict(meta.cases),
        case_attributes=rules,
        warnings=warnings,
    )


def _default_synthetic(default: bool, *groups: Mapping[str, _Located]) -> None:
    """A row or entry that does not say `synthetic` is as synthetic as the study says its data are."""
    for group in groups:
        for located in group.values():
            if located.item.synthetic is None:
                located.item.synthetic = default


def _event(e: EventModel) -> Event:
    kind, structure = OLD_EVENT_KINDS.get(e.kind, (e.kind, None))
    return Event(e.id, kind, e.label, tuple(e.participants), e.originating_study, bool(e.synthetic),
                 e.structure or structure)


def _old_event_kinds(r: _Reader, events: dict[str, _Located]) -> list[Problem]:
    """One warning per old combined kind, at its first event; a structure that contradicts the kind is refused."""
    found: dict[str, list[_Located]] = {}
    for located in events.values():
        if located.item.kind in OLD_EVENT_KINDS:
            found.setdefault(located.item.kind, []).append(located)
    warnings = []
    for old, rows in found.items():
        kind, structure = OLD_EVENT_KINDS[old]
        for x in rows:
            if structure and x.item.structure not in (None, structure):
                r.problem(replace(x.where, field="structure"), "event-structure",
                          f"kind {old} says the structure is {structure}", x.item.structure)
        ids = ", ".join(x.item.id for x in rows[:MAX_OCCURRENCES_SHOWN]) + (
            ", …" if len(rows) > MAX_OCCURRENCES_SHOWN else "")
        said = f"kind {kind} and structure {structure}" if structure else f"kind {kind}"
        warnings.append(Problem(replace(rows[0].where, field="kind"), "event-kind-old",
                                f"the old kind {old} is read as {said} ({len(rows)} event"
                                f"{'s' if len(rows) > 1 else ''}: {ids}); write that instead", old, "warning"))
    return warnings


def _study_file(r: _Reader) -> StudyFile:
    """study.yaml; when it is refused, its problems come with those of every CSV file."""
    try:
        return r.study_file()
    except ReaderError as e:
        found = list(e.problems)
        r.problems = []
        for name in CSV_FILES:
            r.csv_rows(name)
        raise ReaderError(found + r.problems) from None


def _check_study_id(r: _Reader, meta: StudyFile) -> None:
    """A study id must not name a graph qualkg writes itself (decision 0036)."""
    if (named := reserved_study_id(meta.id)) is not None:
        r.problem(r.where(STUDY_FILE, field="id"), "study-id-reserved",
                  f"this study id names {named}, not a study: ingesting it would replace that graph; "
                  "choose another id", meta.id)


def _study(meta: StudyFile) -> Study:
    pub = meta.publication
    publication = None if pub is None else Publication(
        pub.doi, pub.title, pub.year, pub.venue, tuple(pub.authors), pub.kind, pub.licence, pub.authors_complete,
        pub.journal, pub.volume, pub.issue, pub.pages)
    return Study(meta.id, meta.title, meta.description, publication, meta.design, meta.analysis,
                 tuple(meta.countries), meta.setting, meta.sample, tuple(meta.published_themes),
                 meta.synthetic or meta.invented, meta.verification, invented=meta.invented)


def _notes(meta: StudyFile) -> list[Note]:
    texts = ([f"SYNTHETIC: {meta.synthetic_note}"] if meta.synthetic_note else []) + meta.notes
    return [Note(f"note-{i}", text, "study", meta.id) for i, text in enumerate(texts, start=1)]


def _participant(located: _Located) -> Participant:
    p: ParticipantRow = located.item
    attributes = tuple((k, str(v)) for k, v in (p.model_extra or {}).items())
    return Participant(p.id, p.pseudonym, p.role, p.team, attributes, bool(p.synthetic), located.where)


def _check_identifiers(r: _Reader, located: _Located) -> None:
    """A pseudonym or participant attribute that is an e-mail address or phone number is refused."""
    p: ParticipantRow = located.item
    for name, value in [("pseudonym", p.pseudonym), *(p.model_extra or {}).items()]:
        kind = identifier_value(str(value))
        if kind:
            r.problem(replace(located.where, field=name), "direct-identifier",
                      f"participants are pseudonymised: this value looks like {kind}", value)


def _check_code_tree(r: _Reader, codes: dict[str, _Located]) -> None:
    """Every parent exists, no code is its own ancestor (skos:broader must not loop), and no chain of parents
    is longer than MAX_CODE_DEPTH (reported once, at the first code too deep)."""
    for cid, located in codes.items():
        r.refs(located.where, "parent", [located.item.parent], codes, "code", "codebook.csv")
        match _ancestry(codes, cid):
            case ("cycle", parent):
                r.problem(replace(located.where, field="parent"), "codebook-cycle",
                          f"the parent chain loops back through {parent}", located.item.parent)
            case ("deep", _) if _ancestry(codes, located.item.parent or "")[0] != "deep":
                r.problem(replace(located.where, field="parent"), "code-depth",
                          f"the code hierarchy is more than {MAX_CODE_DEPTH} levels deep here; no codebook needs "
                          "so many, and deeper ones are refused", located.item.parent)


def _ancestry(codes: dict[str, _Located], cid: str) -> tuple[str, str | None]:
    """("cycle", the code it loops through), ("deep", None) past MAX_CODE_DEPTH levels, or ("ok", None)."""
    seen = {cid}
    parent = codes[cid].item.parent if cid in codes else None
    while parent in codes:
        if parent in seen:
            return "cycle", parent
        if len(seen) >= MAX_CODE_DEPTH:
            return "deep", None
        seen.add(parent)
        parent = codes[parent].item.parent
    return "ok", None


def _coded_data(r: _Reader, meta: StudyFile) -> CodedData | None:
    if meta.coded_data is None:
        return None
    c = meta.coded_data
    kind: Literal["qdpx", "tabular"] = "qdpx" if c.qdpx is not None else "tabular"
    file = c.qdpx or c.tabular or ""
    named = {kind: file, "mapping": c.mapping if isinstance(c.mapping, str) else None, "codebook": c.codebook}
    for name, rel in named.items():
        if rel is not None and (_unsafe_relative(rel) or r.read(rel) is None):
            r.problem(r.where(STUDY_FILE, element=f"coded_data.{name}", field=name), "missing-file",
                      f"coded-data {'file' if name == kind else name} not found inside the package", rel)
    return CodedData(kind, file, c.preset, r.package, c.mapping, c.codebook)


def _unsafe_relative(rel: str) -> bool:
    p = PurePosixPath(rel.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or re.match(r"^[A-Za-z]:", rel) is not None


def _transcript_text(r: _Reader, located: _Located) -> str | None:
    t: TranscriptRow = located.item
    if t.text_file is None:
        return None if t.text is None else _lf(t.text)
    where = replace(located.where, field="text_file")
    raw = None if _unsafe_relative(t.text_file) else r.read(t.text_file)
    if raw is None:
        r.problem(where, "missing-file", "transcript file not found inside the package", t.text_file)
        return None
    try:
        return _lf(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        r.problem(where, "utf-8", f"not UTF-8: {e.reason}", t.text_file)
        return None


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _locate_excerpts(r: _Reader, rows: list[_Located],
                     texts: dict[str, str | None]) -> tuple[list[Excerpt], dict[str, str | None]]:
    """Give every excerpt offsets over its transcript's LF-normalised text (decision 0027).

    Given offsets must select exactly the excerpt text; missing ones are the first match at or after the
    previous excerpt's start in the same transcript; a transcript without text is rebuilt from its excerpts.
    """
    texts = dict(texts)
    reconstructed: dict[str, dict[str, int]] = {}  # transcript -> excerpt text -> start
    last_start: dict[str, int] = {}
    excerpts: list[Excerpt] = []
    for located in rows:
        x: ExcerptRow = located.item
        if x.transcript not in texts:  # an unknown or refused transcript: reported already
            continue
        text = _lf(x.text)
        full = texts[x.transcript]
        if (x.start is None) != (x.end is None):
            r.problem(replace(located.where, field="end" if x.end is None else "start"), "offsets-pair",
                      "give both start and end, or neither")
            continue
        if x.start is not None and x.end is not None:
            convention = OFFSETS_GIVEN
            if full is None or x.transcript in reconstructed:
                r.problem(replace(located.where, field="start"), "offsets-without-text",
                          "offsets need a transcript with text", x.start)
                continue
            start, end = x.start, x.end
            if not (start < end <= len(full)) or full[start:end] != text:
                r.problem(replace(located.where, field="text"), "excerpt-text-mismatch",
                          f"{_at(full, start, end)}, not this excerpt text; {_occurs(full, text)}", x.text)
                continue
        elif full is None or x.transcript in reconstructed:
            convention = OFFSETS_RECONSTRUCTED
            spans = reconstructed.setdefault(x.transcript, {})
            if text not in spans:
                prefix = texts[x.transcript] or ""
                spans[text] = len(prefix) + (len(RECONSTRUCTION_SEPARATOR) if prefix else 0)
                texts[x.transcript] = prefix + (RECONSTRUCTION_SEPARATOR if prefix else "") + text
            start = spans[text]
            end = start + len(text)
        else:
            convention = OFFSETS_SEARCHED
            after = last_start.get(x.transcript, 0)
            start = full.find(text, after)
            if start < 0:
                r.problem(replace(located.where, field="text"), "excerpt-not-in-transcript",
                          f"excerpt text not found in the transcript at or after character {after} (where the "
                          f"previous excerpt starts); {_occurs(full, text)}", x.text)
                continue
            end = start + len(text)
        last_start[x.transcript] = start
        provenance = Provenance(located.where.file, PACKAGE_TOOL, convention, x.start, x.end, located.where)
        excerpts.append(Excerpt(x.transcript, start, end, text, tuple(x.codes), x.speaker, x.coder, bool(x.synthetic),
                                provenance))
    return excerpts, texts


def _at(full: str, start: int, end: int) -> str:
    """What the transcript holds at start:end, said in a problem message."""
    if start >= end:
        return f"the offsets {start}:{end} select nothing (end must be after start)"
    if end > len(full):
        return f"the transcript has {len(full)} characters, so {start}:{end} runs past its end"
    return f"the transcript text at {start}:{end} is {shown(full[start:end])!r}"


def _occurs(full: str, text: str) -> str:
    """Where `text` occurs in `full` (character offsets, code points over the LF-normalised text), or that
    it occurs nowhere."""
    found: list[int] = []
    at = full.find(text)
    while at >= 0 and len(found) <= MAX_OCCURRENCES_SHOWN:
        found.append(at)
        at = full.find(text, at + 1)
    if not found:
        return "the excerpt text occurs nowhere in the transcript"
    more = ", …" if len(found) > MAX_OCCURRENCES_SHOWN else ""
    shown_at = ", ".join(f"{a}:{a + len(text)}" for a in found[:MAX_OCCURRENCES_SHOWN])
    return f"the excerpt text occurs at {shown_at}{more}"


def _check_unique(pairs: Iterable[tuple[str, Where]]) -> None:
    seen: set[str] = set()
    problems = []
    for value, where in pairs:
        if value in seen:
            problems.append(Problem(where, "duplicate-id", "two packages in the folder have this study id", value))
        seen.add(value)
    if problems:
        raise ReaderError(problems)
