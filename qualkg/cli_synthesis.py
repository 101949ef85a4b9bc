"""CLI of cross-study synthesis: thin wrappers over synthesis.* (mount with app.add_typer).

    qualkg mappings import [FILES…] [--dir data/synthesis] [--dry-run]
    qualkg mappings export [--set IRI] [--out FILE]
    qualkg feeds findings|soqf|jbi|cerqual F1 [--format csv|xlsx|json] [--out FILE]
    qualkg feeds references [--format ris|csl] [--finding F1]
    qualkg suggest A B [--min-score 0.3]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from qualkg.invocation import Invocation, invocation

if TYPE_CHECKING:
    import pandas as pd

    from qualkg.queries.catalog import Catalog
    from qualkg.store.base import GraphStore
    from qualkg.synthesis.errors import SynthesisError

# Commands import synthesis (and sssom, pandas) when they run: `qualkg --help` stays light.

mappings_app = typer.Typer(help="Theme mappings (SSSOM TSV) and the synthesis graph.", no_args_is_help=True)
feeds_app = typer.Typer(help="Systematic-review feeds: CERQual, SoQF, JBI, references.", no_args_is_help=True)

TableFormat = Annotated[str, typer.Option("--format", "-f", help="csv, xlsx or json.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write here (default: stdout; xlsx needs --out).")]


@contextmanager
def _context(run: Invocation) -> Iterator[tuple[GraphStore, Catalog]]:
    from qualkg.queries.catalog import default_catalog
    from qualkg.wiring import build_store

    store = build_store(run.settings)
    try:
        yield store, default_catalog(run.settings.base_iri)
    finally:
        store.close()


def _fail(err: Console, e: SynthesisError) -> typer.Exit:
    for p in e.problems:
        err.print(str(p), style="red", markup=False, highlight=False)
    return typer.Exit(code=1)


def _write(err: Console, df: pd.DataFrame, fmt: str, out: Path | None) -> None:
    if fmt == "xlsx":
        if out is None:
            err.print("xlsx needs --out FILE")
            raise typer.Exit(code=2)
        df.to_excel(out, index=False)
    else:
        writers: dict[str, Callable[[], str]] = {
            "csv": lambda: df.to_csv(index=False),
            "json": lambda: df.to_json(orient="records", force_ascii=False, indent=2)}
        if fmt not in writers:
            err.print("format must be csv, xlsx or json")
            raise typer.Exit(code=2)
        _emit(err, writers[fmt](), out)


def _emit(err: Console, text: str, out: Path | None) -> None:
    if out:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


FolderOpt = Annotated[Path, typer.Option("--dir", help="Synthesis folder: *.frame.yaml, *.sssom.tsv.")]
SetOpt = Annotated[str | None, typer.Option("--set", help="mapping_set_id (default: list the sets).")]


@mappings_app.command("import")
def import_cmd(ctx: typer.Context,
               files: Annotated[list[Path] | None, typer.Argument(help="Extra SSSOM TSV files.")] = None,
               folder: FolderOpt = Path("data/synthesis"),
               dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False) -> None:
    """Rebuild the synthesis graph from the frames and mapping sets in DIR plus FILES (all or nothing)."""
    from qualkg.synthesis.errors import SynthesisError
    from qualkg.synthesis.loader import load_synthesis
    from qualkg.wiring import build_iris

    run = invocation(ctx)
    with _context(run) as (store, _):
        try:
            report = load_synthesis(folder, store, build_iris(run.settings), tuple(files or ()), dry_run=dry_run)
        except SynthesisError as e:
            raise _fail(run.err, e) from None
    verb = "checked" if dry_run else "loaded"
    run.out.print(f"{verb} {len(report.mapping_sets)} mapping set(s), {report.mappings} mappings "
                  f"({report.accepted} reviewed, {report.mappings - report.accepted} proposed or negated), "
                  f"{report.minted} minted concepts, {report.triples} triples → {report.graph}")


@mappings_app.command("export")
def export_cmd(ctx: typer.Context, set_id: SetOpt = None, out: OutOpt = None) -> None:
    """Write one mapping set from the store as SSSOM TSV."""
    from qualkg.synthesis.errors import SynthesisError
    from qualkg.synthesis.mappings import mapping_sets_in_store, read_mapping_set, study_prefixes, write_sssom
    from qualkg.synthesis.questions import synthesis_catalog

    run = invocation(ctx)
    with _context(run) as (store, catalog):
        syn = synthesis_catalog(catalog.iris)
        if set_id is None:
            for s in mapping_sets_in_store(store, syn):
                typer.echo(s)
            return
        try:
            mset = read_mapping_set(store, syn, set_id)
        except SynthesisError as e:
            raise _fail(run.err, e) from None
    used = [v for m in mset.mappings
            for v in (m.subject_id, m.object_id, *m.author_id, m.subject_source, m.object_source) if v]
    _emit(run.err, write_sssom(mset, study_prefixes(used, run.settings.base_iri)), out)


def _table_cmd(ctx: typer.Context, build: Callable[[GraphStore, Catalog], pd.DataFrame], fmt: str,
               out: Path | None) -> None:
    run = invocation(ctx)
    with _context(run) as (store, catalog):
        df = build(store, catalog)
    _write(run.err, df, fmt, out)


@feeds_app.command("findings")
def findings_cmd(ctx: typer.Context, fmt: TableFormat = "csv", out: OutOpt = None) -> None:
    """Review findings with their support across studies (the recurring-findings question)."""
    _table_cmd(ctx, lambda s, c: c.run(s, "recurring-findings", {}), fmt, out)


@feeds_app.command("cerqual")
def cerqual_cmd(ctx: typer.Context, finding: str, fmt: TableFormat = "csv", out: OutOpt = None) -> None:
    """GRADE-CERQual evidence-profile draft of FINDING (e.g. F1); json gives iSoQ's shape."""
    from qualkg.synthesis import feeds

    run = invocation(ctx)
    with _context(run) as (store, catalog):
        try:
            detail = feeds.finding_detail(store, catalog, finding)
        except feeds.UnknownFinding:
            run.err.print(f"no review finding '{finding}'")
            raise typer.Exit(code=1) from None
        support = catalog.run(store, "recurring-findings", {"finding": finding}).iloc[0]
    profile = feeds.evidence_profile({str(column): v for column, v in support.items()}, detail)
    if fmt == "json":
        _emit(run.err, json.dumps(profile, ensure_ascii=False, indent=2, default=int), out)
    else:
        _write(run.err, feeds.evidence_profile_table(profile), fmt, out)


@feeds_app.command("soqf")
def soqf_cmd(ctx: typer.Context, fmt: TableFormat = "csv", out: OutOpt = None) -> None:
    """Summary of Qualitative Findings table skeleton."""
    from qualkg.synthesis import feeds

    _table_cmd(ctx, feeds.soqf, fmt, out)


@feeds_app.command("jbi")
def jbi_cmd(ctx: typer.Context, finding: Annotated[str | None, typer.Option(help="One category, e.g. F1.")] = None,
            fmt: TableFormat = "csv", out: OutOpt = None) -> None:
    """JBI meta-aggregation worksheet (includes excerpt text: handle as the data require)."""
    from qualkg.synthesis import feeds

    _table_cmd(ctx, lambda s, c: feeds.jbi(s, c, finding), fmt, out)


@feeds_app.command("references")
def references_cmd(ctx: typer.Context, fmt: Annotated[str, typer.Option("--format", "-f", help="ris or csl.")] = "ris",
                   finding: Annotated[str | None, typer.Option(help="Only the studies of one finding.")] = None,
                   out: OutOpt = None) -> None:
    """References of the studies mapped to review findings, as RIS or CSL-JSON."""
    from qualkg.synthesis import feeds

    run = invocation(ctx)
    render = {"ris": feeds.to_ris, "csl": feeds.to_csl_json}
    if fmt not in render:
        run.err.print("format must be ris or csl")
        raise typer.Exit(code=2)
    with _context(run) as (store, catalog):
        refs = feeds.references(store, catalog, finding)
    _emit(run.err, render[fmt](refs), out)


def suggest_cmd(ctx: typer.Context, a: str, b: str,
                min_score: Annotated[float, typer.Option(min=0, max=1)] = 0.3) -> None:
    """Suggest mappings between the themes of studies A and B by word overlap. Nothing is written."""
    from qualkg.synthesis.suggest import suggest

    run = invocation(ctx)
    with _context(run) as (store, catalog):
        df = suggest(store, catalog, a, b, min_score=min_score)
    table = Table(title=f"Suggestions {a} → {b} (review before use; nothing was written)")
    for col in ("subject_label", "object_label", "score"):
        table.add_column(col)
    for r in df.itertuples(index=False):
        table.add_row(str(r.subject_label), str(r.object_label), f"{r.score:.3f}")
    run.out.print(table)
