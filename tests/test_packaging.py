"""The wheel installs one import name, `qualkg`, with every data file the code finds through
importlib.resources (ontology, shapes, vocabularies, schemas, queries, twins, explorer pages)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
FOLDERS = ["ontology", "store", "ingest", "queries", "api", "synthesis", "projection", "explorer"]
DATA_SUFFIXES = {".ttl", ".rq", ".cypher", ".xsd", ".jsonld", ".html", ".js", ".css", ".py", ".typed"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out)], check=True, timeout=300)
    [built] = out.glob("qualkg-*.whl")
    return built


def test_wheel_has_every_package_file_under_qualkg(wheel: Path) -> None:
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "qualkg", *FOLDERS], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    expected = {f if f.startswith("qualkg/") else f"qualkg/{f}" for f in tracked if Path(f).suffix in DATA_SUFFIXES}
    assert "qualkg/py.typed" in expected and "qualkg/api/app.py" in expected
    assert expected - in_wheel == set()


def test_wheel_installs_only_qualkg(wheel: Path) -> None:
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"qualkg", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}


def test_installed_wheel_imports_every_module_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    """A clean venv holds only the wheel; the dependencies come from this environment's site-packages,
    appended after the clean one by a path line (its .pth files, so this checkout's editable qualkg, stay out)."""
    venv = tmp_path / "clean"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                    str(wheel)], check=True, timeout=300)
    [site] = (venv / "lib").glob("python3*/site-packages")
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    modules = sorted(n[:-3].removesuffix("/__init__").replace("/", ".")
                     for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py") and "__main__" not in n)
    script = ("import importlib, importlib.util, sys\n"
              f"for m in {modules!r}: importlib.import_module(m)\n"
              "import qualkg\n"
              "assert qualkg.__file__.startswith(sys.prefix), qualkg.__file__\n"
              f"print(qualkg.__version__, [n for n in {FOLDERS!r} if importlib.util.find_spec(n)])\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    done = subprocess.run([str(python), "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    version, importable_folders = done.stdout.split(" ", 1)
    assert version == wheel.name.split("-")[1]
    assert importable_folders.strip() == "[]"  # `import api` fails: only qualkg.api exists
    helped = subprocess.run([str(venv / "bin" / "qualkg"), "--help"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert helped.returncode == 0, helped.stderr
    assert "ingest" in helped.stdout
