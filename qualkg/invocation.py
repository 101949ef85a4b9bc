"""What one `qualkg` command line uses: the settings, read once, and its two consoles (decision 0016)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from qualkg.settings import Settings

WIDTH = 120  # columns of the tables written to a file or a pipe, the same on every machine


def console(*, stderr: bool = False) -> Console:
    """Messages are never wrapped; tables take the terminal's width, or WIDTH when not on a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, soft_wrap=True, width=None if stream.isatty() else WIDTH)


def _settings() -> Settings:
    """The settings, read when a command runs (pydantic-settings is not needed for `--help`)."""
    from qualkg.settings import Settings

    return Settings()


@dataclass
class Invocation:
    settings: Settings = field(default_factory=_settings)
    out: Console = field(default_factory=console)
    err: Console = field(default_factory=partial(console, stderr=True))


def invocation(ctx: typer.Context) -> Invocation:
    """The command line's Invocation: made by the main callback, or here for a sub-app run on its own."""
    return ctx.ensure_object(Invocation)

