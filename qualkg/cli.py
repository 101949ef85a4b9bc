"""The `qualkg` command: a thin shell over library functions (each command = one call + printing)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.progress import track
from rich.table import Table

from qualkg.cli_projection import sync_app
from qualkg.cli_synthesis import feeds_app, mappings_app, suggest_cmd
from qualkg.ingest.readers import READERS, ReadOptions
from qualkg.ingest.readers.presets import PRESET_CHOICES
from qualkg.invocation import Invocation, invocation
from qualkg.store.base import MEDIA_TYPES, ExportFormat, StoreError

if TYPE_CHECKING:
    from qualkg.ingest.pipeline import IngestReport
    from qualkg.ingest.problems import Problem
    from qualkg.ontology.iris import IriScheme
    from qualkg.store.base import GraphStore

# Commands import the pipeline, the store and the wiring when they run: `qualkg --help` stays light.

app = typer.Typer(help="qualkg: coded qualitative data as one validated knowledge graph.", no_args_is_help=True)
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


def _summary_table(report: IngestReport) -> Table:
    table = Table(title=f"{'Ingested' if report.written else 'Validated (nothing written)'}: {report.source}")
    for col in ("study", *COUNTS):
        table.add_column(col, justify="left" if col == "study" else "right")
    for s in report.studies:
        table.add_row(s.study, *(str(getattr(s, c)) for c in COUNTS))
    return table


def _ingest_one(run: Invocation, path: Path, store: GraphStore | None, fmt: str, options: ReadOptions,
                dry_run: bool, report_file: Path | None, allow_duplicate: bool = False) -> IngestReport:
    """Ingest one input; on failure print the located problems (and write them to --report) and exit 1."""
    from qualkg.ingest.errors import IngestError
    from qualkg.ingest.pipeline import ingest
    from qualkg.wiring import build_iris, sync_after_write

    try:
        report = ingest(path, store, build_iris(run.settings), fmt=fmt, options=options, dry_run=dry_run,
                        progress=_progress(run), allow_duplicate=allow_duplicate)
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
    store = None if dry_run else _open_store(run)
    try:
        report = _ingest_one(run, path, store, fmt, options, dry_run, report_file, allow_duplicate)
    finally:
        if store is not None:
            _close(run, store)
    run.out.print(_summary_table(report))
    if report.warnings:
        run.err.print(_problems_table(report.warnings, f"{len(report.warnings)} warning(s)"))


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
    """Ingest every study package bundled in DATA (what `make run` loads); one summary at the end."""
    from qualkg.ingest.pipeline import IngestReport

    run = invocation(ctx)
    packages = sorted(p.parent for p in data.rglob("study.yaml"))
    if not packages:
        run.err.print(f"no study packages (study.yaml) under {data}")
        raise typer.Exit(code=1)
    store = _open_store(run)
    combined = IngestReport(source=str(data), written=True)
    try:
        for pkg in _progress(run, "loading bundled studies", transient=False)(packages):
            report = _ingest_one(run, pkg, store, "package", ReadOptions(), False, None)
            combined.studies += report.studies
            combined.warnings += report.warnings
    finally:
        _close(run, store)
    run.out.print(_summary_table(combined))
    if combined.warnings:
        run.err.print(f"{len(combined.warnings)} warning(s), mostly recommended study metadata the sources do not "
                      "give; `qualkg validate PACKAGE` lists them.")


QDPX = "qdpx"  # not an RDF serialisation: a REFI-QDA project for QDA tools (ingest.writers.qdpx)
EXPORT_FORMATS = (*(f.value for f in ExportFormat), QDPX)


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
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    from qualkg.app import build_app

    settings = invocation(ctx).settings
    settings = settings.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v})
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port)


@app.command("docs")
def docs_cmd(ctx: typer.Context,
             out: Annotated[Path, typer.Option(help="Folder to write ontology.html into.")] = Path("docs")) -> None:
    """Render the ontology as HTML (pyLODE) into OUT."""
    from qualkg.docs import render_ontology_html

    target = render_ontology_html(out)
    invocation(ctx).out.print(f"wrote {target}")
