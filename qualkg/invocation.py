"""What one `qualkg` command line uses: the settings, read once, its two consoles (decision 0016), and the
running server its writes go to, if there is one (decision 0115)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    import httpx

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

    def server(self) -> httpx.Client | None:
        """A client of the running server (QUALKG_SERVER_URL, else the one `qualkg serve` recorded beside the
        embedded store), presenting QUALKG_KEY / QUALKG_KEY_FILE; None when no server runs."""
        import httpx

        from qualkg.store.shared import read_record

        url = self.settings.server_url
        if url is None and self.settings.store == "oxigraph":
            record = read_record(self.settings.store_path)
            url = record.url if record else None
        if url is None:
            return None
        key = self.settings.client_key()
        return httpx.Client(base_url=url, timeout=httpx.Timeout(10, read=600),
                            headers={"Authorization": f"Bearer {key}"} if key else {})


def invocation(ctx: typer.Context) -> Invocation:
    """The command line's Invocation: made by the main callback, or here for a sub-app run on its own."""
    return ctx.ensure_object(Invocation)

