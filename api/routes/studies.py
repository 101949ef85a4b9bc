"""Studies: list, one study's overview, and ingest by upload (scope `ingest`).

An upload is checked before its body is read (decision 0065): the key and the scope (the route's
dependency), then the declared length; only then is the multipart body read, as it streams in, with its
file parts (the input, and a table's `mapping` and `codebook`) written straight to one private folder and
counted together against `max_upload_bytes`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from neo4j.exceptions import DriverError, Neo4jError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from qualkg.api.answer import answer
from qualkg.api.deps import CatalogDep
from qualkg.api.routes.questions import FormatQ
from qualkg.api.security import PrincipalDep, require
from qualkg.ingest.errors import IngestError
from qualkg.ingest.pipeline import ingest
from qualkg.ingest.problems import Problem
from qualkg.ingest.readers import EXTENSIONS, ReadOptions
from qualkg.ingest.readers.presets import PresetChoice
from qualkg.projection.neo4j import ProjectionError, sync_written

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

router = APIRouter(prefix="/studies", tags=["studies"])
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_STUDY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@router.get("", summary="Every study with citation and counts", dependencies=[require("aggregate")])
async def list_studies(request: Request, catalog: CatalogDep, principal: PrincipalDep,
                       format: FormatQ = None) -> Response:
    return await answer(request, catalog, "studies", {}, principal, fmt=format)


@router.get("/{study}", summary="One study's overview: participants by role, events by type, themes",
            dependencies=[require("aggregate")])
async def study_overview(study: str, request: Request, catalog: CatalogDep, principal: PrincipalDep,
                         format: FormatQ = None) -> Response:
    graphs = await run_in_threadpool(request.app.state.store.graphs)
    if not _STUDY_ID.match(study) or catalog.iris.reserved_study(study) or catalog.iris.graph(study) not in graphs:
        raise HTTPException(404, f"no study '{study}'")
    return await answer(request, catalog, "study-overview", {"study": study}, principal, fmt=format)


class UploadForm(BaseModel):
    """The form fields of an upload besides its file."""

    model_config = ConfigDict(extra="ignore")
    study: str | None = Field(None, pattern=_STUDY_ID.pattern, description="The study id; default: a slug of "
                              "the file name.")
    preset: PresetChoice = Field(PresetChoice("auto"), description="Column layout of a coded-segment table "
                                 "(the presets of qualkg.ingest.readers.presets; `generic` needs a `mapping` file "
                                 "part, `atlasti` takes a `codebook` file part).")
    dry_run: bool = Field(False, description="Read, map and validate, but write nothing.")


# The file parts an upload may have and the extensions each takes; `mapping` and `codebook` go with a table.
FILE_PARTS: dict[str, tuple[str, ...]] = {"file": tuple(sorted(EXTENSIONS)), "mapping": (".json", ".yaml", ".yml"),
                                          "codebook": (".csv", ".tsv", ".xls", ".xlsx")}
TABLE_EXTENSIONS = tuple(sorted(ext for ext, reader in EXTENSIONS.items() if reader == "tabular"))
_PART_TEXT = {"file": "The input", "mapping": "A column mapping (YAML or JSON) for a table, as `--mapping`",
              "codebook": "A codebook table for a table, e.g. ATLAS.ti's Code Manager CSV, as `--codebook`"}
UPLOAD_BODY: dict[str, Any] = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {**{part: {"type": "string", "contentMediaType": "application/octet-stream",
                             "description": f"{_PART_TEXT[part]}: one {', '.join(exts)} file."}
                      for part, exts in FILE_PARTS.items()},
                   **UploadForm.model_json_schema()["properties"]}}}}}
UPLOAD_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not a multipart form of one file and a few small fields."},
    413: {"description": "The upload is larger than the server's max_upload_bytes (refused before it is read "
                         "when its length is declared)."},
    415: {"description": "The file's extension is not one a reader takes."},
    422: {"description": "A form field is invalid (FastAPI's validation shape), or the input is refused: "
                         "`written: false` and every located problem.",
          "content": {"application/json": {"schema": {"anyOf": [
              {"$ref": "#/components/schemas/HTTPValidationError"},
              {"type": "object", "required": ["written", "problems"],
               "properties": {"written": {"type": "boolean"}, "problems": {"type": "array",
                                                                           "items": {"type": "object"}}}}]}}}},
}


@router.post("", summary="Ingest an upload (.qdpx, .qdc, .csv, .xlsx or a study-package .zip); all or nothing",
             dependencies=[require("ingest")], status_code=201, openapi_extra={"requestBody": UPLOAD_BODY},
             responses=UPLOAD_ANSWERS)
async def upload_study(request: Request) -> JSONResponse:
    # No body parameters: FastAPI reads a form body before it runs any dependency, so this route reads its
    # own, after require("ingest"); a declared length over the limit was refused before (api/middleware.py
    # BodyLimit). Decision 0065.
    config, app_state = request.app.state.config, request.app.state
    folder = Path(tempfile.mkdtemp(prefix="qualkg-upload-"))
    try:
        upload = await _receive(request, folder, config.max_upload_bytes)
        form = _form(upload)

        def run() -> JSONResponse:
            assert upload.path is not None
            with app_state.write_lock:  # one writer at a time: a batch is replaced atomically
                try:
                    report = ingest(upload.path, app_state.store, app_state.catalog.iris, dry_run=form.dry_run,
                                    workers=config.ingest_workers,
                                    options=ReadOptions(form.study, form.preset.value, upload.paths.get("mapping"),
                                                        upload.paths.get("codebook")))
                except IngestError as e:  # 422 (app.py), naming the uploaded file only
                    raise type(e)([_named(p) for p in e.problems]) from None
                body = _cut_folders(report.as_dict())
                if report.written and app_state.neo4j is not None and config.neo4j_auto_sync:
                    body["neo4j"] = _sync_neo4j(request, [s.graph for s in report.studies])
            return JSONResponse(body, status_code=200 if form.dry_run else 201)

        return await run_in_threadpool(run)
    finally:
        await run_in_threadpool(shutil.rmtree, folder, True)


class _Upload:
    """A multipart body read as it streams in: each file part (FILE_PARTS) is written to `folder` under its
    own (safe) name, all counted against `limit`; the few small fields are kept. Nothing else is spooled."""

    MAX_PARTS = 16
    MAX_FIELD_BYTES = 1024

    def __init__(self, folder: Path, limit: int) -> None:
        self.folder, self.limit = folder, limit
        self.fields: dict[str, str] = {}
        self.paths: dict[str, Path] = {}  # part name → its file, once the part's headers are read
        self.size = 0
        self.pending: list[tuple[Path, bytes]] = []  # file data parsed, not yet written
        self._out: dict[Path, BinaryIO] = {}
        self._parts = 0
        self._new_part()

    @property
    def path(self) -> Path | None:
        """The input file."""
        return self.paths.get("file")

    def _new_part(self) -> None:
        self._header, self._value, self._disposition = bytearray(), bytearray(), b""
        self._name: str | None = None
        self._file: Path | None = None
        self._data = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {"on_part_begin": self._new_part, "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value, "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished, "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        if self._header.lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._header, self._value = bytearray(), bytearray()

    def _on_headers_finished(self) -> None:
        self._parts += 1
        if self._parts > self.MAX_PARTS:
            raise HTTPException(400, f"invalid multipart upload: more than {self.MAX_PARTS} parts")
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise HTTPException(400, "invalid multipart upload: a part without a name")
        self._name = options[b"name"].decode("utf-8", "replace")
        if b"filename" not in options:
            return
        if self._name not in FILE_PARTS or self._name in self.paths:
            raise HTTPException(400, "invalid multipart upload: send one file as the 'file' field, and at most one "
                                     "'mapping' and one 'codebook' file")
        name = _SAFE_NAME.sub("_", Path(options[b"filename"].decode("utf-8", "replace")).name)[-100:] or "upload"
        if Path(name).suffix.lower() not in FILE_PARTS[self._name]:
            raise HTTPException(415, f"unsupported {self._name} '{name}': expected one of "
                                     f"{', '.join(FILE_PARTS[self._name])}")
        if any(p.name == name for p in self.paths.values()):  # two parts of one name: keep both
            name = f"{self._name}-{name}"
        self._file = self.paths[self._name] = self.folder / name

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self.size += end - start
            if self.size > self.limit:
                raise HTTPException(413, f"upload larger than {self.limit} bytes")
            self.pending.append((self._file, bytes(data[start:end])))
            return
        self._data += data[start:end]
        if len(self._data) > self.MAX_FIELD_BYTES:
            raise HTTPException(400, f"invalid multipart upload: field '{self._name}' is over "
                                     f"{self.MAX_FIELD_BYTES} bytes")

    def _on_part_end(self) -> None:
        if self._file is None and self._name is not None:
            self.fields.setdefault(self._name, self._data.decode("utf-8", "replace"))

    def write_pending(self) -> None:
        """Write the parsed file data (in a worker thread: disk writes block)."""
        for path, data in self.pending:
            out = self._out.get(path)
            if out is None:
                out = self._out[path] = path.open("wb")
            out.write(data)
        self.pending.clear()

    def close(self) -> None:
        self.write_pending()
        for out in self._out.values():
            out.close()
        for path in self.paths.values():
            path.touch()  # an empty file part


async def _receive(request: Request, folder: Path, limit: int) -> _Upload:
    """Read the multipart body of `request` into an _Upload (400, 413 or 415 as soon as it goes wrong)."""
    ctype, params = parse_options_header(request.headers.get("content-type"))
    upload = _Upload(folder, limit)
    if ctype != b"multipart/form-data":
        return upload  # no file: _form answers 422, and the body is never read
    if b"boundary" not in params:
        raise HTTPException(400, "invalid multipart upload: no boundary in its Content-Type")
    try:
        parser = MultipartParser(params[b"boundary"], upload.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
            if upload.pending:
                await run_in_threadpool(upload.write_pending)
        parser.finalize()
    except (FormParserError, ValueError):
        raise HTTPException(400, "invalid multipart upload: the body is not a well-formed multipart form") \
            from None
    except OSError as e:  # the server's temporary folder (a full disk): paths stay in the log
        raise HTTPException(503, f"the server has no room for the upload now: {e.strerror}",
                            headers={"Retry-After": "5"}) from None
    finally:
        await run_in_threadpool(upload.close)
    return upload


def _form(upload: _Upload) -> UploadForm:
    """The form fields, checked; 422 in FastAPI's validation shape (an empty field counts as absent)."""
    if upload.path is None:
        raise RequestValidationError([{"type": "missing", "loc": ("body", "file"), "msg": "Field required",
                                       "input": None}])
    extra = [part for part in ("mapping", "codebook") if part in upload.paths]
    if extra and upload.path.suffix.lower() not in TABLE_EXTENSIONS:
        raise RequestValidationError([{"type": "value_error", "loc": ("body", part), "input": upload.paths[part].name,
                                       "msg": f"a {part} goes with a coded-segments table "
                                              f"({', '.join(TABLE_EXTENSIONS)}), not a {upload.path.suffix} file"}
                                      for part in extra])
    try:
        return UploadForm.model_validate({k: v for k, v in upload.fields.items() if v != ""})
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])}
                                      for err in e.errors(include_url=False)]) from None


def _temporary_folders() -> re.Pattern[str]:
    """qualkg's own temporary folders ("qualkg-upload-…", and "qualkg-coded-…" that a reader unpacks a
    package's coded data into), with the separator after one when a file inside it is named."""
    roots = {tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())}
    return re.compile("|".join(re.escape(r.rstrip("/\\")) + r"[/\\]qualkg-[a-z]+-[^/\\\s'\"]+[/\\]?"
                               for r in roots))


def _cut_folders(value: Any) -> Any:
    """`value` (a JSON answer) with every server-side temporary folder cut from its strings, so a file is
    named by its own name only ("/tmp/qualkg-upload-x1y2/study.xlsx" becomes "study.xlsx")."""
    if isinstance(value, str):
        return _temporary_folders().sub("", value)
    if isinstance(value, dict):
        return {k: _cut_folders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_folders(v) for v in value]
    return value


def _named(problem: Problem) -> Problem:
    where = problem.where
    return replace(problem, message=_cut_folders(problem.message), value=_cut_folders(problem.value),
                   where=replace(where, file=_cut_folders(where.file), element=_cut_folders(where.element)))


def _sync_neo4j(request: Request, graphs: list[str]) -> dict[str, object]:
    """Project the graphs just written (and the model) into Neo4j. The store is the record: when
    Neo4j fails, the upload still stands and the answer says how to catch the projection up."""
    state = request.app.state
    try:
        synced = sync_written(state.store, state.neo4j, graphs, database=state.config.neo4j_database)
    except (DriverError, Neo4jError, ProjectionError) as e:
        return {"synced": False, "error": f"{type(e).__name__}: {e}",
                "repair": "run `qualkg sync neo4j` once Neo4j is reachable"}
    return {"synced": True, "nodes": synced.nodes, "relationships": synced.relationships}
