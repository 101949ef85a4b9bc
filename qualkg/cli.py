"""The `qualkg` command: a thin shell over library functions (each command = one call + printing)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import quote

import typer
from rich.progress import track
from rich.table import Table

from qualkg.cli_projection import sync_app
from qualkg.cli_synthesis import feeds_app, mappings_app, suggest_cmd
from qualkg.ingest.readers import READERS, ReadOptions
from qualkg.ingest.readers.presets import PRESET_CHOICES
from qualkg.invocation import Invocation, console, invocation
from qualkg.store.base import MEDIA_TYPES, ExportFormat, StoreError

if TYPE_CHECKING:
    from datetime import datetime

    import httpx
    from pyoxigraph import Literal

    from qualkg.api.routes.study_lifecycle import StudyEdit
    from qualkg.api.security import KeyFile
    from qualkg.ingest.pipeline import IngestReport
    from qualkg.ingest.problems import Problem
    from qualkg.ontology.iris import IriScheme
    from qualkg.store.base import GraphStore

# Commands import the pipeline, the store and the wiring when they run: `qualkg --help` stays light.

class _Cli(typer.Typer):
    """The command line: a store failure no command handled (a write on the store a running server writes,
    a full disk) is one line on stderr and exit 1, not a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except StoreError as e:
            console(stderr=True).print(f"the graph store refused: {e}", markup=False, highlight=False)
            raise SystemExit(1) from None


app = _Cli(help="qualkg: coded qualitative data as one validated knowledge graph.", no_args_is_help=True)
app.add_typer(mappings_app, name="mappings")
app.add_typer(feeds_app, name="feeds")
app.command("suggest")(suggest_cmd)
app.add_typer(sync_app, name="sync")
T = TypeVar("T")

FormatOpt = Annotated[str, typer.Option("--format", "-f", help=f"auto, {', '.join(READERS)}")]
StudyOpt = Annotated[str | None, typer.Option("--study", help="Study id (default: from the package or the file name).")]
PresetOpt = Annotated[str, typer.Option("--preset", help=f"Tabular preset: {', '.join(PRESET_CHOICES)} "
                                        "(generic = use --mapping).")]
MappingOpt = Annotated[Path | None, typer.Option("--mapping", help="Tabular: a YAML/JSON file naming which column "
                                                 "is document, code, text, parent, speaker, coder, start, end …")]
CodebookOpt = Annotated[Path | None, typer.Option("--codebook", help="Tabular: the tool's codebook table "
                                                  "(ATLAS.ti Code Manager CSV, Taguette codebook CSV).")]
AllowDuplicateOpt = Annotated[bool, typer.Option(
    "--allow-duplicate", help="Ingest an input the store already holds under another study id (counted twice).")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write the report (or the problems) as JSON here.")]
COUNTS = ("participants", "events", "transcripts", "excerpts", "codes", "themes", "triples")
STUDY_COLUMNS = ("title", "doi", "participants", "events", "excerpts")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the listing as JSON instead of a table.")]


@app.callback()
def _invocation(ctx: typer.Context) -> None:
    """Read the settings once for the whole command line."""
    ctx.obj = Invocation()


def _progress(run: Invocation, description: str = "mapping and validating",
              transient: bool = True) -> Callable[[Iterable[T]], Iterator[T]]:
    """A progress bar on a terminal; off one (a pipe, a file, CI) the items as they are, with no output."""

    def progress(items: Iterable[T]) -> Iterator[T]:
        if not run.err.is_terminal:
            return iter(items)
        return iter(track(list(items), description=description, console=run.err, transient=transient))

    return progress


def _problems_table(problems: list[Problem], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col in ("severity", "where", "field", "value", "rule", "message"):
        table.add_column(col, overflow="fold")
    for p in problems:
        value = (p.value or "")[:80]
        located = (p.where.file, p.where.element, f"row {p.where.row}" if p.where.row else None)
        table.add_row(p.severity, ", ".join(x for x in located if x), p.where.field or "", value, p.rule, p.message)
    return table


def _summary_table(report: dict[str, Any]) -> Table:
    """A report as IngestReport.as_dict (or a server's upload answer) gives it."""
    title = f"{'Ingested' if report['written'] else 'Validated (nothing written)'}: {report['source']}"
    table = Table(title=title)
    for col in ("study", *COUNTS):
        table.add_column(col, justify="left" if col == "study" else "right", no_wrap=col == "study")
    for s in report["studies"]:
        table.add_row(s["study"], *(str(s[c]) for c in COUNTS))
    return table


def _ingest_one(run: Invocation, path: Path, store: GraphStore | None, fmt: str, options: ReadOptions,
                dry_run: bool, report_file: Path | None, allow_duplicate: bool = False) -> IngestReport:
    """Ingest one input; on failure print the located problems (and write them to --report) and exit 1."""
    from qualkg.ingest.errors import IngestError
    from qualkg.ingest.pipeline import ingest
    from qualkg.wiring import build_iris, sync_after_write

    try:
        report = ingest(path, store, build_iris(run.settings), fmt=fmt, options=options, dry_run=dry_run,
                        progress=_progress(run), allow_duplicate=allow_duplicate, workers=run.settings.ingest_workers)
    except IngestError as e:
        run.err.print(_problems_table(e.problems, f"Not ingested: {len(e.problems)} problem(s) in {path}"))
        if report_file:
            report_file.write_text(json.dumps({"source": str(path), "written": False,
                                               "problems": [p.as_dict() for p in e.problems]}, indent=2))
        raise typer.Exit(code=1) from None
    except StoreError as e:  # a full disk, a read-only directory, an unreachable server: nothing was written
        run.err.print(f"Not ingested: the graph store failed, nothing was written: {e}")
        raise typer.Exit(code=1) from None
    if report_file:
        report_file.write_text(json.dumps(report.as_dict(), indent=2))
    if report.written and store is not None:
        synced = sync_after_write(run.settings, store, [s.graph for s in report.studies])
        if synced:
            run.err.print(f"synced to Neo4j: {synced.nodes} nodes, {synced.relationships} relationships")
    return report


def _open_store(run: Invocation) -> GraphStore:
    """The configured store, or a one-line error (exit 1) when it cannot be opened."""
    from qualkg.wiring import build_store

    try:
        return build_store(run.settings)
    except StoreError as e:
        run.err.print(f"cannot open the graph store: {e}")
        raise typer.Exit(code=1) from None


def _close(run: Invocation, store: GraphStore) -> None:
    """Close the store; a failure to flush (a full disk) is reported, not raised as a traceback."""
    try:
        store.close()
    except StoreError as e:
        run.err.print(f"the graph store could not be closed cleanly: {e}")
        raise typer.Exit(code=1) from None


def _run_ingest(run: Invocation, path: Path, fmt: str, options: ReadOptions, dry_run: bool,
                report_file: Path | None, allow_duplicate: bool = False) -> None:
    server = None if dry_run else run.server()
    if server is not None:  # the running server is the store's one writer: upload to it
        if options.mapping or options.codebook or allow_duplicate or fmt not in ("auto", "package"):
            run.err.print(f"a server runs at {server.base_url}: --mapping, --codebook, --allow-duplicate and "
                          "--format are not sent in an upload; stop the server or put them in a study package")
            raise typer.Exit(code=2)
        answer = _upload(run, server, path, options)
        if report_file:
            report_file.write_text(json.dumps(answer, indent=2))
        run.out.print(_summary_table(answer))
        return
    store = None if dry_run else _open_store(run)
    try:
        report = _ingest_one(run, path, store, fmt, options, dry_run, report_file, allow_duplicate)
    finally:
        if store is not None:
            _close(run, store)
    run.out.print(_summary_table(report.as_dict()))
    if report.warnings:
        run.err.print(_problems_table(report.warnings, f"{len(report.warnings)} warning(s)"))


def send_to_server(run: Invocation, server: httpx.Client, method: str, path: str, **request: Any) -> dict[str, Any]:
    """One request to the running server (`run.server()`); its refusals as located problems or one-line
    errors (exit 1), its answer as JSON. For every command that writes while a server runs."""
    import httpx

    try:
        with server:
            response = server.request(method, path, **request)
    except httpx.HTTPError as e:
        run.err.print(f"the server at {server.base_url} did not answer ({type(e).__name__}: {e})")
        raise typer.Exit(code=1) from None
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code in (401, 403):
        run.err.print(f"the server at {server.base_url} refused: {body.get('detail', response.text)}; present a "
                      "key with that scope: QUALKG_KEY or QUALKG_KEY_FILE (`qualkg keys create`)")
        raise typer.Exit(code=1)
    if response.status_code == 422 and "problems" in body:
        problems = [_problem(p) for p in body["problems"]]
        run.err.print(_problems_table(problems, f"Not written: {len(problems)} problem(s)"))
        raise typer.Exit(code=1)
    if response.status_code >= 400:
        run.err.print(f"the server at {server.base_url} answered {response.status_code}: "
                      f"{body.get('detail', response.text)}")
        raise typer.Exit(code=1)
    return body


def _problem(data: dict[str, Any]) -> Problem:
    from qualkg.ingest.problems import Problem, Where

    return Problem(Where(data.get("file") or "", data.get("element"), data.get("row"), data.get("field")),
                   data.get("rule", ""), data.get("message", ""), data.get("value"), data.get("severity", "error"))


def _upload(run: Invocation, server: httpx.Client, path: Path, options: ReadOptions) -> dict[str, Any]:
    """Send `path` (a study-package folder as a .zip) to the server's upload route."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qualkg-send-") as folder:
        if path.is_dir():
            path = Path(shutil.make_archive(str(Path(folder) / path.resolve().name), "zip", path))
        fields = {k: v for k, v in (("study", options.study_id), ("preset", options.preset)) if v}
        with path.open("rb") as data:
            answer = send_to_server(run, server, "POST", "/studies", files={"file": (path.name, data)}, data=fields)
    return {**answer, "source": answer.get("source") or path.name}


@app.command("ingest")
def ingest_cmd(ctx: typer.Context, path: Path, fmt: FormatOpt = "auto", study: StudyOpt = None,
               preset: PresetOpt = "auto", mapping: MappingOpt = None, codebook: CodebookOpt = None,
               dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and validate only.")] = False,
               report: ReportOpt = None, allow_duplicate: AllowDuplicateOpt = False) -> None:
    """Read PATH, map it to RDF, validate it with the SHACL shapes and replace its study graph."""
    _run_ingest(invocation(ctx), path, fmt, ReadOptions(study, preset, mapping, codebook), dry_run, report,
                allow_duplicate)


@app.command("validate")
def validate_cmd(ctx: typer.Context, path: Path, fmt: FormatOpt = "auto", study: StudyOpt = None,
                 preset: PresetOpt = "auto", mapping: MappingOpt = None, codebook: CodebookOpt = None,
                 report: ReportOpt = None) -> None:
    """Read and validate PATH without writing anything (exit 1 when it does not conform)."""
    _run_ingest(invocation(ctx), path, fmt, ReadOptions(study, preset, mapping, codebook), True, report)


@app.command("load-bundled")
def load_bundled(ctx: typer.Context,
                 data: Annotated[Path, typer.Option(help="Folder of bundled study packages.")] = Path("data")) -> None:
    """Ingest the study packages bundled in DATA that the store does not hold as they are (by input digest):
    a changed package replaces its study, an unchanged one is skipped, other studies are left alone."""
    from qualkg.ingest.pipeline import DIGEST_QUERY, IngestReport, input_digest
    from qualkg.store.shared import ReadOnlyStore

    run = invocation(ctx)
    packages = sorted(p.parent for p in data.rglob("study.yaml"))
    if not packages:
        run.err.print(f"no study packages (study.yaml) under {data}")
        raise typer.Exit(code=1)
    store = _open_store(run)
    combined = IngestReport(source=str(data), written=True)
    try:
        changed = [p for p in packages if not store.select(DIGEST_QUERY, {"digest": _literal(input_digest(p))})]
        if changed and isinstance(store, ReadOnlyStore):
            run.err.print(f"{len(changed)} bundled package(s) changed, but {store.refusal}")
            raise typer.Exit(code=1)
        for pkg in _progress(run, "loading bundled studies", transient=False)(changed):
            report = _ingest_one(run, pkg, store, "package", ReadOptions(), False, None)
            combined.studies += report.studies
            combined.warnings += report.warnings
    finally:
        _close(run, store)
    run.err.print(f"{len(packages) - len(changed)} of {len(packages)} bundled package(s) unchanged in the store")
    if changed:
        run.out.print(_summary_table(combined.as_dict()))
    if combined.warnings:
        run.err.print(f"{len(combined.warnings)} warning(s), mostly recommended study metadata the sources do not "
                      "give; `qualkg validate PACKAGE` lists them.")


def _literal(text: str) -> Literal:
    from pyoxigraph import Literal

    return Literal(text)


@app.command("delete")
def delete_cmd(ctx: typer.Context, study: str) -> None:
    """Delete STUDY (its graph and log graph) in one step; through the running server when there is one."""
    run = invocation(ctx)
    server = run.server()
    if server is not None:
        answer = send_to_server(run, server, "DELETE", f"/studies/{quote(study, safe='')}")
        run.err.print(f"deleted study '{study}' ({len(answer['deleted'])} graph(s)) through {server.base_url}")
        return
    from qualkg.store.studies import UnknownStudy, delete_study
    from qualkg.wiring import build_iris, drop_after_delete

    store = _open_store(run)
    try:
        graphs = delete_study(store, build_iris(run.settings), study)
        drop_after_delete(run.settings, graphs)
    except UnknownStudy as e:
        run.err.print(str(e))
        raise typer.Exit(code=1) from None
    finally:
        _close(run, store)
    run.err.print(f"deleted study '{study}' ({len(graphs)} graph(s))")


EditOpt = Annotated[str | None, typer.Option()]


@app.command("edit")
def edit_cmd(ctx: typer.Context, study: str, title: EditOpt = None, description: EditOpt = None,
             design: EditOpt = None, analysis: EditOpt = None, setting: EditOpt = None, sample: EditOpt = None,
             remove: Annotated[list[str] | None, typer.Option("--remove", help="A field to remove (repeatable).")]
             = None) -> None:
    """Change STUDY's title or descriptive metadata without re-ingesting (validated by the SHACL shapes)."""
    from pydantic import ValidationError

    from qualkg.api.routes.study_lifecycle import StudyEdit

    run = invocation(ctx)
    given = {k: v for k, v in (("title", title), ("description", description), ("design", design),
                               ("analysis", analysis), ("setting", setting), ("sample", sample)) if v is not None}
    changes: dict[str, str | None] = {**given, **dict.fromkeys(remove or ())}
    try:
        edit = StudyEdit.model_validate(changes)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            run.err.print(f"{'.'.join(map(str, err['loc'])) or 'edit'}: {err['msg']}")
        raise typer.Exit(code=2) from None
    server = run.server()
    if server is not None:
        send_to_server(run, server, "PATCH", f"/studies/{quote(study, safe='')}", json=changes)
    else:
        _edit_here(run, study, edit)
    run.err.print(f"edited study '{study}': {', '.join(sorted(changes))}")


def _edit_here(run: Invocation, study: str, edit: StudyEdit) -> None:
    from qualkg.api.routes.study_lifecycle import edit_study
    from qualkg.ingest.errors import IngestError
    from qualkg.store.studies import UnknownStudy
    from qualkg.wiring import build_iris, sync_after_write

    store = _open_store(run)
    iris = build_iris(run.settings)
    try:
        edit_study(store, iris, study, edit)
        sync_after_write(run.settings, store, [iris.graph(study)])
    except UnknownStudy as e:
        run.err.print(str(e))
        raise typer.Exit(code=1) from None
    except IngestError as e:
        run.err.print(_problems_table(e.problems, f"Not edited: {len(e.problems)} problem(s)"))
        raise typer.Exit(code=1) from None
    finally:
        _close(run, store)


QDPX = "qdpx"  # not an RDF serialisation: a REFI-QDA project for QDA tools (ingest.writers.qdpx)
EXPORT_FORMATS = (*(f.value for f in ExportFormat), QDPX)


@app.command("reindex")
def reindex_cmd(ctx: typer.Context) -> None:
    """Make the columnar projection beside the store again from the graph (decision 0130)."""
    from qualkg.wiring import reindex

    run = invocation(ctx)
    if run.server() is not None:
        run.err.print("a server is running on this store and owns its projection; stop it to reindex")
        raise typer.Exit(code=1)
    try:
        graphs = reindex(run.settings)
    except StoreError as e:
        run.err.print(f"cannot rebuild the columnar projection: {e}", markup=False)
        raise typer.Exit(code=1) from None
    run.err.print(f"columnar projection rebuilt from {graphs} graph(s)")


@app.command("export")
def export_cmd(ctx: typer.Context, study: str,
               fmt: Annotated[str, typer.Option("--format", "-f", help=f"{', '.join(EXPORT_FORMATS)}")] = "ttl",
               out: Annotated[Path | None, typer.Option("--out", "-o")] = None) -> None:
    """Write one study graph as Turtle, N-Quads or JSON-LD, or as a REFI-QDA project (qdpx, needs --out)."""
    from qualkg.wiring import build_iris

    run = invocation(ctx)
    if fmt not in EXPORT_FORMATS:
        run.err.print(f"unknown export format '{fmt}': choose one of {', '.join(EXPORT_FORMATS)}")
        raise typer.Exit(code=2)
    if fmt == QDPX and out is None:
        run.err.print("a .qdpx is a ZIP archive: give --out FILE.qdpx")
        raise typer.Exit(code=2)
    store = _open_store(run)
    try:
        iris = build_iris(run.settings)
        if iris.reserved_study(study) or iris.graph(study) not in store.graphs():
            run.err.print(f"no study '{study}' in the store")
            raise typer.Exit(code=1)
        data, media = _export(store, iris, study, fmt, run)
    finally:
        _close(run, store)
    if out:
        out.write_bytes(data)
        run.err.print(f"wrote {len(data)} bytes of {media} to {out}")
    else:
        typer.echo(data.decode("utf-8"), nl=False)


def _export(store: GraphStore, iris: IriScheme, study: str, fmt: str, run: Invocation) -> tuple[bytes, str]:
    if fmt != QDPX:
        return store.export(iris.graph(study), ExportFormat(fmt)), MEDIA_TYPES[ExportFormat(fmt)]
    from qualkg.ingest.writers import export_qdpx

    result = export_qdpx(store, iris, study)
    for line in result.skipped:
        run.err.print(f"not exported: {line}")
    run.err.print(f"{result.transcripts} source(s), {result.excerpts} excerpt(s), {result.codings} coding(s), "
                  f"{result.codes} code(s), {result.coders} coder(s), {result.cases} case(s)")
    return result.data, "application/vnd.refi-qda+zip"


@app.command("studies")
def studies_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the studies in the store: id (what `export` takes), title, DOI and counts."""
    from qualkg.queries.catalog import default_catalog
    from qualkg.wiring import build_iris

    run = invocation(ctx)
    store = _open_store(run)
    try:
        df = default_catalog(run.settings.base_iri).run(store, "studies", {})
    finally:
        _close(run, store)
    iris = build_iris(run.settings)
    rows = [{"id": (iris.study_scoped(str(r["study"])) or (str(r["study"]),))[0],
             **{c: _cell(r[c]) for c in STUDY_COLUMNS}} for r in df.to_dict("records")]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Studies ({len(rows)})")
    table.add_column("id", no_wrap=True, overflow="ignore")
    for col in STUDY_COLUMNS:
        table.add_column(col, overflow="fold", justify="right" if col in COUNTS else "left")
    for row in rows:
        table.add_row(str(row["id"]), *("" if row[c] is None else str(row[c]) for c in STUDY_COLUMNS))
    run.out.print(table)


def _cell(value: object) -> object:
    """A table cell as plain JSON: numpy scalars as numbers, missing values (None, NaN) as null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    item = getattr(value, "item", None)
    return _cell(item()) if callable(item) else value


@app.command("serve")
def serve_cmd(ctx: typer.Context,
              host: Annotated[str | None, typer.Option(help="Bind address (default from settings: 127.0.0.1).")] = None,
              port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None) -> None:
    """Serve the HTTP API with uvicorn; while it runs, other `qualkg` commands are its clients."""
    from qualkg.app import serve

    settings = invocation(ctx).settings
    serve(settings.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v}))


@app.command("docs")
def docs_cmd(ctx: typer.Context,
             out: Annotated[Path, typer.Option(help="Folder to write ontology.html into.")] = Path("docs")) -> None:
    """Render the ontology as HTML (pyLODE) into OUT."""
    from qualkg.docs import render_ontology_html

    target = render_ontology_html(out)
    invocation(ctx).out.print(f"wrote {target}")


keys_app = typer.Typer(help="API keys of the server (the keys file; a running server sees changes at once).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _key_file(run: Invocation) -> KeyFile:
    from qualkg.api.security import KeyFile

    return KeyFile(run.settings.keys_path())


def _expiry(text: str | None) -> datetime | None:
    """DATE (the key works through that day, UTC) or an ISO date-time (UTC unless it names a zone)."""
    from datetime import UTC, datetime, timedelta

    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date (YYYY-MM-DD) or an ISO date-time") from None
    if len(text) == 10:
        when += timedelta(days=1)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@keys_app.command("create")
def keys_create(ctx: typer.Context, name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
                scopes: Annotated[list[str], typer.Option("--scopes", help="Repeatable; aggregate, excerpts, sparql, "
                                                          "ingest, review.")],
                expires: Annotated[str | None, typer.Option("--expires", help="YYYY-MM-DD (valid through that day, "
                                                            "UTC) or an ISO date-time.")] = None) -> None:
    """Make a key; print it once (only its SHA-256 is kept)."""
    from qualkg.api.security import KeyFileError

    run = invocation(ctx)
    keys = _key_file(run)
    try:
        secret = keys.create(name, [s for scope in scopes for s in scope.replace(",", " ").split()], _expiry(expires))
    except KeyFileError as e:
        run.err.print(str(e))
        raise typer.Exit(code=1) from None
    run.err.print(f"key '{name}' added to {keys.path}; it is shown only now:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The keys: name, scopes, created, expires, revoked (never the keys themselves)."""
    run = invocation(ctx)
    rows: list[dict[str, Any]] = [
        {"name": k.name, "scopes": sorted(k.scopes), "created": k.created and k.created.isoformat(),
         "expires": k.expires and k.expires.isoformat(), "revoked": k.revoked} for k in _key_file(run).read()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"API keys ({len(rows)})")
    for col in ("name", "scopes", "created", "expires", "revoked"):
        table.add_column(col, no_wrap=col == "name", overflow="ignore" if col == "name" else "fold")
    for r in rows:
        table.add_row(str(r["name"]), " ".join(r["scopes"]), r["created"] or "", r["expires"] or "never",
                      "yes" if r["revoked"] else "")
    run.out.print(table)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, name: str) -> None:
    """Revoke the key NAME (a running server refuses it from the next request)."""
    from qualkg.api.security import KeyFileError

    run = invocation(ctx)
    try:
        _key_file(run).revoke(name)
    except KeyFileError as e:
        run.err.print(str(e))
        raise typer.Exit(code=1) from None
    run.err.print(f"revoked key '{name}'")
