"""qualkg installs non-editable too: the wheel carries every data file the code finds through
importlib.resources (ontology, shapes, vocabularies, schemas, queries, twins, explorer pages)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = ["ontology", "store", "ingest", "queries", "api", "qualkg", "synthesis", "projection", "explorer"]
DATA_SUFFIXES = {".ttl", ".rq", ".cypher", ".xsd", ".jsonld", ".html", ".js", ".css", ".py"}


def test_wheel_has_every_package_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, timeout=300)
    [wheel] = tmp_path.glob("qualkg-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", *PACKAGES], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    expected = {f for f in tracked if Path(f).suffix in DATA_SUFFIXES}
    assert expected, "git lists the package files"
    assert expected - in_wheel == set()
