"""`qualkg sync neo4j`: project the store into the configured Neo4j (a shim over projection.neo4j.sync).

Mounted by the main CLI as `app.add_typer(sync_app, name="sync")`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import track

from qualkg.invocation import invocation


def _progress(err: Console) -> Callable[[Iterable[str]], Iterator[str]]:
    """A progress bar on a terminal; off one (a pipe, a file, CI) the graphs as they are, with no output."""
    if not err.is_terminal:
        return iter
    return lambda graphs: iter(track(list(graphs), description="syncing graphs", console=err, transient=True))


sync_app = typer.Typer(help="Project the RDF store into another engine.", no_args_is_help=True)


@sync_app.callback()
def _sync_group() -> None:
    """Project the RDF store into another engine (a group even while Neo4j is its only command)."""


@sync_app.command("neo4j")
def sync_neo4j(
    ctx: typer.Context,
    study: Annotated[list[str] | None, typer.Option("--study", help="Only this study's graph (repeatable); "
                                                    "default: every graph, and drop the ones the store lost.")] = None,
    database: Annotated[str | None, typer.Option(help="Neo4j database (default: the server's default).")] = None,
) -> None:
    """Write the store's graphs to Neo4j as labelled nodes and relationships, one transaction per graph."""
    from neo4j.exceptions import DriverError, Neo4jError

    from qualkg.projection.neo4j import ProjectionError, sync
    from qualkg.wiring import build_iris, build_store, neo4j_driver

    run = invocation(ctx)
    settings, err = run.settings, run.err
    if not settings.neo4j_uri:
        err.print("set QUALKG_NEO4J_URI (and QUALKG_NEO4J_PASSWORD unless auth is off) to sync to Neo4j")
        raise typer.Exit(code=1)
    store = build_store(settings)
    graphs = [build_iris(settings).graph(s) for s in study] if study else None
    try:
        with neo4j_driver(settings) as driver:
            report = sync(store, driver, graphs, database=database or settings.neo4j_database,
                          progress=_progress(err))
    except ProjectionError as e:
        err.print(str(e))
        raise typer.Exit(code=1) from None
    except (DriverError, Neo4jError) as e:  # Neo4j went away or refused: a later sync starts over per graph
        err.print(f"Neo4j sync failed ({type(e).__name__}): {e}; graphs not yet synced keep their previous state")
        raise typer.Exit(code=1) from None
    finally:
        store.close()
    run.out.print(f"synced {len(report.graphs)} graph(s): {report.nodes} nodes, {report.relationships} relationships "
                  f"in {report.seconds:.1f} s ({report.per_second:,.0f}/s)"
                  + (f"; dropped {len(report.dropped)} graph(s) no longer in the store" if report.dropped else ""))
