"""CLI of cross-study synthesis: thin wrappers over synthesis.* (mount with app.add_typer).

    qualkg mappings import [FILES…] [--dir data/synthesis] [--dry-run]   (keeps user sets and judgements)
    qualkg mappings list [--json]
    qualkg mappings export [--set IRI] [--out FILE|DIR]                  (no --set: every set, into DIR)
    qualkg mappings review SET SUBJECT PREDICATE OBJECT --reviewer NAME [--reviewer-id IRI] [--not]
    qualkg feeds findings|soqf|jbi|cerqual F1 [--format csv|xlsx|json] [--out FILE] [--mappings reviewed|all]
    qualkg feeds assess F1 BODY.json                                     (a CERQual, JBI or ConQual assessment)
    qualkg feeds references [--format ris|csl] [--finding F1]
    qualkg suggest A B [--min-score 0.3] [--json]
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
    from pydantic import ValidationError

    from qualkg.queries.catalog import Catalog
    from qualkg.store.base import GraphStore
    from qualkg.synthesis.errors import SynthesisError

# Commands import synthesis (and sssom, pandas) when they run: `qualkg --help` stays light.

mappings_app = typer.Typer(help="Theme mappings (SSSOM TSV) and the synthesis graph.", no_args_is_help=True)
feeds_app = typer.Typer(help="Systematic-review feeds: CERQual, SoQF, JBI, references.", no_args_is_help=True)

TableFormat = Annotated[str, typer.Option("--format", "-f", help="csv, xlsx or json.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write here (default: stdout; xlsx needs --out).")]
MappingsOpt = Annotated[str, typer.Option("--mappings", help="reviewed (default) or all: proposed mappings too.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


@contextmanager
def _context(run: Invocation, mappings: str = "reviewed") -> Iterator[tuple[GraphStore, Catalog]]:
    """The store and catalog; with mappings=all an in-memory view that also asserts proposed mappings."""
    from qualkg.queries.catalog import default_catalog
    from qualkg.wiring import build_store

    if mappings not in ("reviewed", "all"):
        run.err.print("--mappings must be reviewed or all")
        raise typer.Exit(code=2)
    store = build_store(run.settings)
    catalog = default_catalog(run.settings.base_iri)
    try:
        if mappings == "all":
            from qualkg.synthesis.loader import proposed_view

            view = proposed_view(store, catalog.iris)
            try:
                yield view, catalog
            finally:
                view.close()
        else:
            yield store, catalog
    finally:
        store.close()


def _fail(err: Console, e: SynthesisError) -> typer.Exit:
    for p in e.problems:
        err.print(str(p), style="red", markup=False, highlight=False)
    return typer.Exit(code=1)


def _invalid(err: Console, e: ValidationError, where: str, code: int) -> typer.Exit:
    """Every field pydantic refused, each on its own line (`where` names the file, if any)."""
    for problem in e.errors():
        err.print(f"{where}{'.'.join(map(str, problem['loc']))}: {problem['msg']}", markup=False)
    return typer.Exit(code=code)


def _write(err: Console, df: pd.DataFrame, fmt: str, out: Path | None, notices: list[str], name: str) -> None:
    """The table as the API renders it (api/tables.render_table: the same XLSX layout, notices, guard)."""
    from qualkg.api.tables import MEDIA, render_table

    if fmt not in MEDIA:
        err.print("format must be csv, xlsx or json")
        raise typer.Exit(code=2)
    if fmt == "xlsx" and out is None:
        err.print("xlsx needs --out FILE")
        raise typer.Exit(code=2)
    from qualkg.synthesis.feeds import dropdowns

    body = render_table(df, fmt, {"notices": notices, "dropdowns": dropdowns(df)}, name).body
    if out is not None:
        out.write_bytes(body)
        err.print(f"wrote {out}")
    else:
        typer.echo(body.decode("utf-8"), nl=False)
    if out is None or fmt == "csv":
        for n in notices:
            err.print(f"note: {n}", markup=False, highlight=False)


def _emit(err: Console, text: str, out: Path | None) -> None:
    if out:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


FolderOpt = Annotated[Path, typer.Option("--dir", help="Synthesis folder: *.frame.yaml, *.sssom.tsv.")]
SetOpt = Annotated[str | None, typer.Option("--set", help="mapping_set_id (default: every set, into --out DIR).")]


@mappings_app.command("import")
def import_cmd(ctx: typer.Context,
               files: Annotated[list[Path] | None, typer.Argument(help="Extra SSSOM TSV files.")] = None,
               folder: FolderOpt = Path("data/synthesis"),
               dry_run: Annotated[bool, typer.Option("--dry-run", help="Check only; write nothing.")] = False) -> None:
    """Rebuild the synthesis graph from DIR plus FILES (all or nothing), keeping the mapping sets imported
    before that are not bundled, and every recorded review and assessment."""
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


@mappings_app.command("list")
def list_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The mapping sets in the store: demonstration or not, reviewed and proposed mappings."""
    from qualkg.synthesis.questions import synthesis_catalog

    run = invocation(ctx)
    with _context(run) as (store, catalog):
        df = synthesis_catalog(catalog.iris).run(store, "mapping-review-status", {})
    rows = [{"set": str(s), "demonstration": bool(d), "reviewed": int(r), "proposed": int(p)}
            for s, d, r, p in zip(df["set"], df["demonstration"], df["reviewed"], df["proposed"], strict=True)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Mapping sets")
    for col in ("set", "demonstration", "reviewed", "proposed"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    run.out.print(table)


@mappings_app.command("export")
def export_cmd(ctx: typer.Context, set_id: SetOpt = None, out: OutOpt = None) -> None:
    """Write one mapping set from the store as SSSOM TSV; without --set every set, one file each in --out DIR."""
    from qualkg.synthesis.errors import SynthesisError
    from qualkg.synthesis.mappings import mapping_sets_in_store, read_mapping_set, study_prefixes, write_sssom
    from qualkg.synthesis.questions import synthesis_catalog

    run = invocation(ctx)
    with _context(run) as (store, catalog):
        syn = synthesis_catalog(catalog.iris)
        ids = [set_id] if set_id else mapping_sets_in_store(store, syn)
        if set_id is None and (out is None or (out.exists() and not out.is_dir())):
            run.err.print("without --set every set is exported: give --out DIR (one .sssom.tsv per set)")
            raise typer.Exit(code=2)
        try:
            sets = [read_mapping_set(store, syn, i) for i in ids]
        except SynthesisError as e:
            raise _fail(run.err, e) from None
    for mset in sets:
        used = [v for m in mset.mappings
                for v in (m.subject_id, m.object_id, *m.author_id, *m.reviewer_id, m.subject_source, m.object_source)
                if v]
        text = write_sssom(mset, study_prefixes(used, run.settings.base_iri))
        if set_id is None and out is not None:
            out.mkdir(parents=True, exist_ok=True)
            _emit(run.err, text, out / f"{mset.id.rstrip('/').rsplit('/', 1)[-1]}.sssom.tsv")
        else:
            _emit(run.err, text, out)


@mappings_app.command("review")
def review_cmd(ctx: typer.Context, set_id: str, subject: str, predicate: str, obj: str,
               reviewer: Annotated[str, typer.Option(help="The reviewer's name.")],
               reviewer_id: Annotated[str | None, typer.Option(help="The reviewer's IRI (e.g. ORCID).")] = None,
               negated: Annotated[bool, typer.Option("--not", help="The mapping has predicate_modifier Not.")] = False,
               ) -> None:
    """Record that REVIEWER reviewed the mapping SUBJECT PREDICATE OBJECT (full IRIs) of mapping set SET_ID."""
    from pydantic import ValidationError

    from qualkg.synthesis.errors import SynthesisError
    from qualkg.synthesis.judgements import MappingReview, record_mapping_review

    run = invocation(ctx)
    try:
        review = MappingReview(mapping_set_id=set_id, subject_id=subject, predicate_id=predicate, object_id=obj,
                               predicate_modifier="Not" if negated else None, reviewer=reviewer,
                               reviewer_id=reviewer_id)
    except ValidationError as e:
        raise _invalid(run.err, e, "", 2) from None
    with _context(run) as (store, catalog):
        try:
            iri = record_mapping_review(store, catalog.iris, review)
        except SynthesisError as e:
            raise _fail(run.err, e) from None
    run.out.print(f"recorded review {iri}", markup=False)


def _table_cmd(ctx: typer.Context, build: Callable[[GraphStore, Catalog], tuple[pd.DataFrame, list[str]]],
               fmt: str, out: Path | None, mappings: str, name: str) -> None:
    from qualkg.synthesis import feeds

    run = invocation(ctx)
    with _context(run, mappings) as (store, catalog):
        df, extra = build(store, catalog)
        notices = [*extra, *feeds.notices(store, catalog, proposed=mappings == "all")]
    _write(run.err, df, fmt, out, notices, name)


@feeds_app.command("findings")
def findings_cmd(ctx: typer.Context, fmt: TableFormat = "csv", out: OutOpt = None,
                 mappings: MappingsOpt = "reviewed") -> None:
    """Review findings with their support across studies (recurring-findings, each citation marked)."""
    from qualkg.synthesis import feeds

    _table_cmd(ctx, lambda s, c: (feeds.annotate_findings(c.run(s, "recurring-findings", {}),
                                                          feeds.finding_studies(s, c)), []),
               fmt, out, mappings, "findings")


@feeds_app.command("cerqual")
def cerqual_cmd(ctx: typer.Context, finding: str, fmt: TableFormat = "csv", out: OutOpt = None,
                mappings: MappingsOpt = "reviewed") -> None:
    """GRADE-CERQual evidence profile of FINDING (e.g. F1) with what reviewers recorded; json: iSoQ's shape."""
    from qualkg.synthesis import feeds
    from qualkg.synthesis.judgements import current_assessments

    run = invocation(ctx)
    with _context(run, mappings) as (store, catalog):
        try:
            detail = feeds.finding_detail(store, catalog, finding)
        except feeds.UnknownFinding:
            run.err.print(f"no review finding '{finding}'")
            raise typer.Exit(code=1) from None
        support = catalog.run(store, "recurring-findings", {"finding": finding}).iloc[0]
        studies = feeds.finding_studies(store, catalog, finding).get(finding, [])
        assessment = current_assessments(store, catalog.iris, finding).get((finding, "cerqual"))
        notices = feeds.notices(store, catalog, proposed=mappings == "all")
    profile = feeds.evidence_profile({str(column): v for column, v in support.items()}, detail, studies, assessment)
    if fmt == "json":
        _emit(run.err, json.dumps({**profile, "notices": notices}, ensure_ascii=False, indent=2, default=int), out)
    else:
        _write(run.err, feeds.evidence_profile_table(profile), fmt, out, notices, f"cerqual-{finding}")


@feeds_app.command("assess")
def assess_cmd(ctx: typer.Context, finding: str,
               body: Annotated[Path, typer.Argument(help="JSON: a CERQual, JBI or ConQual assessment.")]) -> None:
    """Record an assessment of FINDING from a JSON file (the body of POST /synthesis/findings/{id}/assessment)."""
    from pydantic import TypeAdapter, ValidationError

    from qualkg.synthesis.errors import SynthesisError
    from qualkg.synthesis.judgements import Assessment, record_assessment

    run = invocation(ctx)
    try:
        assessment = TypeAdapter(Assessment).validate_json(body.read_bytes())
    except ValidationError as e:
        raise _invalid(run.err, e, f"{body}, ", 1) from None
    with _context(run) as (store, catalog):
        try:
            iri = record_assessment(store, catalog.iris, finding, assessment)
        except KeyError:
            run.err.print(f"no review finding '{finding}'")
            raise typer.Exit(code=1) from None
        except SynthesisError as e:
            raise _fail(run.err, e) from None
    run.out.print(f"recorded {assessment.method} assessment {iri}", markup=False)


@feeds_app.command("soqf")
def soqf_cmd(ctx: typer.Context, fmt: TableFormat = "csv", out: OutOpt = None,
             mappings: MappingsOpt = "reviewed") -> None:
    """Summary of Qualitative Findings table, with the recorded CERQual assessments."""
    from qualkg.synthesis import feeds

    _table_cmd(ctx, lambda s, c: (feeds.soqf(s, c), []), fmt, out, mappings, "soqf")


@feeds_app.command("jbi")
def jbi_cmd(ctx: typer.Context, finding: Annotated[str | None, typer.Option(help="One category, e.g. F1.")] = None,
            fmt: TableFormat = "csv", out: OutOpt = None, mappings: MappingsOpt = "reviewed") -> None:
    """JBI meta-aggregation worksheet (includes excerpt text: handle as the data require)."""
    from qualkg.synthesis import feeds

    _table_cmd(ctx, lambda s, c: feeds.jbi(s, c, finding), fmt, out, mappings, "jbi")


@feeds_app.command("references")
def references_cmd(ctx: typer.Context, fmt: Annotated[str, typer.Option("--format", "-f", help="ris or csl.")] = "ris",
                   finding: Annotated[str | None, typer.Option(help="Only the studies of one finding.")] = None,
                   out: OutOpt = None, mappings: MappingsOpt = "reviewed") -> None:
    """References of the studies mapped to review findings, as RIS or CSL-JSON."""
    from qualkg.synthesis import feeds

    run = invocation(ctx)
    render = {"ris": feeds.to_ris, "csl": feeds.to_csl_json}
    if fmt not in render:
        run.err.print("format must be ris or csl")
        raise typer.Exit(code=2)
    with _context(run, mappings) as (store, catalog):
        refs = feeds.references(store, catalog, finding)
    _emit(run.err, render[fmt](refs), out)


def suggest_cmd(ctx: typer.Context, a: str, b: str,
                min_score: Annotated[float, typer.Option(min=0, max=1)] = 0.3, as_json: JsonOpt = False) -> None:
    """Suggest mappings between the themes of studies A and B by word overlap. Nothing is written."""
    from qualkg.synthesis.suggest import suggest

    run = invocation(ctx)
    with _context(run) as (store, catalog):
        df = suggest(store, catalog, a, b, min_score=min_score)
    if as_json:
        typer.echo(df.to_json(orient="records", force_ascii=False, indent=2))
        return
    table = Table(title=f"Suggestions {a} → {b} (review before use; nothing was written)")
    for col in ("subject_label", "object_label", "score"):
        table.add_column(col, overflow="fold")
    for r in df.itertuples(index=False):
        table.add_row(str(r.subject_label), str(r.object_label), f"{r.score:.3f}")
    run.out.print(table)
