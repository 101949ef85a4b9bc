"""`qualkg --help` imports no heavy layer: commands import the pipeline, synthesis and servers when they run."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sssom", "pyshacl", "pyshacl_turbo", "neo4j", "uvicorn", "fastapi", "openpyxl", "xmlschema",
         "qualkg.ingest.pipeline", "qualkg.synthesis.feeds", "qualkg.wiring", "qualkg.settings")


def test_the_cli_module_imports_no_heavy_layer() -> None:
    probe = f"import sys, qualkg.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == []


def test_help_lists_every_command_group() -> None:
    done = subprocess.run([sys.executable, "-m", "qualkg", "--help"], capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": ""}, check=True)
    assert {"ingest", "validate", "studies", "export", "serve", "mappings", "feeds", "sync"} <= set(done.stdout.split())
