"""The `qualkg` command: a thin shell over library functions (each command = one call + printing)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from qualkg.cli_projection import sync_app
from qualkg.cli_synthesis import feeds_app, mappings_app, suggest_cmd
from qualkg.ingest.errors import IngestError
from qualkg.ingest.pipeline import IngestReport, ingest
from qualkg.ingest.readers import READERS, ReadOptions
from qualkg.ingest.records import Problem
from qualkg.settings import Settings
from qualkg.store.base import MEDIA_TYPES, ExportFormat, GraphStore, StoreError
from qualkg.wiring import build_iris, build_store, sync_after_write

app = typer.Typer(help="qualkg: coded qualitative data as one validated knowledge graph.", no_args_is_help=True)
app.add_typer(mappings_app, name="mappings")
app.add_typer(feeds_app, name="feeds")
app.command("suggest")(suggest_cmd)
app.add_typer(sync_app, name="sync")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")

FormatOpt = Annotated[str, typer.Option("--format", "-f", help=f"auto, {', '.join(READERS)}")]
StudyOpt = Annotated[str | None, typer.Option("--study", help="Study id (default: from the package or the file name).")]
PresetOpt = Annotated[str, typer.Option("--preset", help="Tabular preset: auto, taguette, maxqda, generic.")]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write the report (or the problems) as JSON here.")]


def _progress(items: Iterable[T]) -> Iterator[T]:
    return iter(track(list(items), description="mapping and validating", console=err, transient=True))


def _problems_table(problems: list[Problem], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col in ("severity", "where", "field", "value", "rule", "message"):
        table.add_column(col, overflow="fold")
    for p in problems:
        value = (p.value or "")[:80]
        where = ", ".join(x for x in (p.where.file, p.where.element, f"row {p.where.row}" if p.where.row else None) if x)
        table.add_row(p.severity, where, p.where.field or "", value, p.rule, p.message)
    return table


def _summary_table(report: IngestReport) -> Table:
    table = Table(title=f"{'Ingested' if report.written else 'Validated (nothing written)'}: {report.source}")
    for col in ("study", "participants", "events", "transcripts", "excerpts", "codes", "themes", "triples"):
        table.add_column(col, justify="left" if col == "study" else "right")
    for s in report.studies:
        table.add_row(s.study, *(str(getattr(s, c)) for c in ("participants", "events", "transcripts", "excerpts", "codes", "themes", "triples")))
    return table


def _ingest_one(path: Path, store: GraphStore | None, settings: Settings, fmt: str, options: ReadOptions,
                dry_run: bool, report_file: Path | None) -> IngestReport:
    """Ingest one input; on failure print the located problems (and write them to --report) and exit 1."""
    try:
        report = ingest(path, store, build_iris(settings), fmt=fmt, options=options, dry_run=dry_run,
                        progress=_progress)
    except IngestError as e:
        err.print(_problems_table(e.problems, f"Not ingested: {len(e.problems)} problem(s) in {path}"))
        if report_file:
            report_file.write_text(json.dumps({"source": str(path), "written": False,
                                               "problems": [p.as_dict() for p in e.problems]}, indent=2))
        raise typer.Exit(code=1) from None
    except StoreError as e:  # a full disk, a read-only directory, an unreachable server: nothing was written
        err.print(f"Not ingested: the graph store failed, nothing was written: {e}")
        raise typer.Exit(code=1) from None
    if report_file:
        report_file.write_text(json.dumps(report.as_dict(), indent=2))
    if report.written and store is not None:
        synced = sync_after_write(settings, store, [s.graph for s in report.studies])
        if synced:
            err.print(f"synced to Neo4j: {synced.nodes} nodes, {synced.relationships} relationships")
    return report


def _open_store(settings: Settings) -> GraphStore:
    """The configured store, or a one-line error (exit 1) when it cannot be opened."""
    try:
        return build_store(settings)
    except StoreError as e:
        err.print(f"cannot open the graph store: {e}")
        raise typer.Exit(code=1) from None


def _close(store: GraphStore) -> None:
    """Close the store; a failure to flush (a full disk) is reported, not raised as a traceback."""
    try:
        store.close()
    except StoreError as e:
        err.print(f"the graph store could not be closed cleanly: {e}")
        raise typer.Exit(code=1) from None


def _run_ingest(path: Path, fmt: str, study: str | None, preset: str, dry_run: bool, report_file: Path | None) -> None:
    settings = Settings()
    store = None if dry_run else _open_store(settings)
    try:
        report = _ingest_one(path, store, settings, fmt, ReadOptions(study, preset), dry_run, report_file)
    finally:
        if store is not None:
            _close(store)
    console.print(_summary_table(report))
    if report.warnings:
        err.print(_problems_table(report.warnings, f"{len(report.warnings)} warning(s)"))


@app.command("ingest")
def ingest_cmd(path: Path, fmt: FormatOpt = "auto", study: StudyOpt = None, preset: PresetOpt = "auto",
               dry_run: Annotated[bool, typer.Option("--dry-run", help="Read and validate only.")] = False,
               report: ReportOpt = None) -> None:
    """Read PATH, map it to RDF, validate it with the SHACL shapes and replace its study graph."""
    _run_ingest(path, fmt, study, preset, dry_run, report)


@app.command("validate")
def validate_cmd(path: Path, fmt: FormatOpt = "auto", study: StudyOpt = None, preset: PresetOpt = "auto",
                 report: ReportOpt = None) -> None:
    """Read and validate PATH without writing anything (exit 1 when it does not conform)."""
    _run_ingest(path, fmt, study, preset, True, report)


@app.command("load-bundled")
def load_bundled(data: Annotated[Path, typer.Option(help="Folder of bundled study packages.")] = Path("data")) -> None:
    """Ingest every study package bundled in DATA (what `make run` loads); one summary at the end."""
    packages = sorted(p.parent for p in data.rglob("study.yaml"))
    if not packages:
        err.print(f"no study packages (study.yaml) under {data}")
        raise typer.Exit(code=1)
    settings = Settings()
    store = _open_store(settings)
    combined = IngestReport(source=str(data), written=True)
    try:
        for pkg in track(packages, description="loading bundled studies", console=err):
            report = _ingest_one(pkg, store, settings, "package", ReadOptions(), False, None)
            combined.studies += report.studies
            combined.warnings += report.warnings
    finally:
        _close(store)
    console.print(_summary_table(combined))
    if combined.warnings:
        err.print(f"{len(combined.warnings)} warning(s), mostly recommended study metadata the sources do not give; "
                  "`qualkg validate PACKAGE` lists them.")


@app.command("export")
def export_cmd(study: str, fmt: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.turtle,
               out: Annotated[Path | None, typer.Option("--out", "-o")] = None) -> None:
    """Write one study graph as Turtle, N-Quads or JSON-LD (to stdout or --out)."""
    settings = Settings()
    store = _open_store(settings)
    try:
        graph = build_iris(settings).graph(study)
        if graph not in store.graphs():
            err.print(f"no study '{study}' in the store")
            raise typer.Exit(code=1)
        data = store.export(graph, fmt)
    finally:
        _close(store)
    if out:
        out.write_bytes(data)
        err.print(f"wrote {len(data)} bytes of {MEDIA_TYPES[fmt]} to {out}")
    else:
        typer.echo(data.decode("utf-8"), nl=False)


@app.command("studies")
def studies_cmd() -> None:
    """List the studies in the store with their counts."""
    from qualkg.queries.catalog import default_catalog

    settings = Settings()
    store = _open_store(settings)
    try:
        df = default_catalog().run(store, "studies", {})[["title", "doi", "participants", "events", "excerpts"]]
    finally:
        _close(store)
    table = Table(title="Studies")
    for col in df.columns:
        table.add_column(str(col))
    for row in df.itertuples(index=False):
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@app.command("serve")
def serve_cmd(host: Annotated[str | None, typer.Option(help="Bind address (default from settings: 127.0.0.1).")] = None,
              port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None) -> None:
    """Serve the HTTP API with uvicorn."""
    import uvicorn

    from qualkg.app import build_app

    settings = Settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port)


@app.command("docs")
def docs_cmd(out: Annotated[Path, typer.Option(help="Folder to write ontology.html into.")] = Path("docs")) -> None:
    """Render the ontology as HTML (pyLODE) into OUT."""
    from qualkg.docs import render_ontology_html

    target = render_ontology_html(out)
    console.print(f"wrote {target}")
