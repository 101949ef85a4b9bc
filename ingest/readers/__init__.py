"""Readers by format name. Each turns one input path into tool-neutral StudyRecords.

Readers import lazily so that, for example, reading a CSV never loads the XML schema machinery.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from qualkg.ingest.errors import fail
from qualkg.ingest.records import StudyRecords
from qualkg.ontology.iris import slug


@dataclass(frozen=True, slots=True)
class ReadOptions:
    study_id: str | None = None  # default: a slug of the file name
    preset: str = "auto"  # tabular presets: one of presets.PRESET_CHOICES
    mapping: Path | None = None  # tabular: a YAML/JSON column-mapping file (preset "generic" or "auto")
    codebook: Path | None = None  # tabular: a codebook table (ATLAS.ti Code Manager, Taguette codebook CSV)


Reader = Callable[[Path, ReadOptions], list[StudyRecords]]


def _qdpx(path: Path, opts: ReadOptions) -> list[StudyRecords]:
    refi = import_module("qualkg.ingest.readers.refi")
    return [refi.read_qdpx(path, study_id=opts.study_id or slug(path.stem))]


def _qdc(path: Path, opts: ReadOptions) -> list[StudyRecords]:
    refi = import_module("qualkg.ingest.readers.refi")
    return [refi.read_qdc(path, study_id=opts.study_id or slug(path.stem))]


def _tabular(path: Path, opts: ReadOptions) -> list[StudyRecords]:
    tabular = import_module("qualkg.ingest.readers.tabular")
    return [tabular.read_tabular(path, study_id=opts.study_id or slug(path.stem), preset=opts.preset,
                                 mapping=opts.mapping, codebook=opts.codebook)]


def _package(path: Path, opts: ReadOptions) -> list[StudyRecords]:
    """A study package, merged with the QDA or tabular export it points to (see ingest/merge.py)."""
    package = import_module("qualkg.ingest.package")
    merge = import_module("qualkg.ingest.merge")
    out: list[StudyRecords] = []
    for rec in package.read_package(path):
        pointer = getattr(rec, "coded_data", None)
        if pointer is None:
            out.append(rec)
            continue
        with tempfile.TemporaryDirectory(prefix="qualkg-coded-") as tmp:
            coded_path = package.materialise_coded_data(pointer, Path(tmp))
            reader = _qdpx if pointer.kind == "qdpx" else _tabular
            options = ReadOptions(rec.study.id, pointer.preset or "auto", _pointed(pointer, "mapping", tmp),
                                  _pointed(pointer, "codebook", tmp))
            coded = reader(coded_path, options)[0]
        out.append(merge.merge_coded(rec, coded))
    return out


def _pointed(pointer: Any, name: str, folder: str) -> Path | None:
    """The package's mapping or codebook for its tabular coded data: a file of the package (copied out of a
    ZIP), or a mapping written inline in study.yaml (written to `folder` as JSON)."""
    value = getattr(pointer, name)
    if value is None:
        return None
    if isinstance(value, dict):
        inline = Path(folder) / f"{name}.json"
        inline.write_text(json.dumps(value), encoding="utf-8")
        return inline
    package = import_module("qualkg.ingest.package")
    path: Path = package.materialise_coded_data(pointer, Path(folder), value)
    return path


READERS: dict[str, Reader] = {"qdpx": _qdpx, "qdc": _qdc, "tabular": _tabular, "package": _package}
EXTENSIONS: dict[str, str] = {".qdpx": "qdpx", ".qdc": "qdc", ".csv": "tabular", ".tsv": "tabular",
                              ".xlsx": "tabular", ".xls": "tabular",
                              ".zip": "package", ".yaml": "package", ".yml": "package"}


def detect_format(path: Path) -> str:
    """The reader for a path: a folder is a study package; otherwise the file extension decides."""
    if path.is_dir():
        return "package"
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise fail(path.name, "file-type", f"cannot tell the format of '{path.name}'; expected one of "
                   f"{', '.join(sorted(EXTENSIONS))} or a study-package folder", value=path.suffix)
    return fmt


def read(path: Path, fmt: str = "auto", options: ReadOptions | None = None) -> list[StudyRecords]:
    """Read one input with the named reader (or the detected one for "auto")."""
    if not path.exists():
        raise fail(path.name, "file-exists", "no such file or folder")
    name = detect_format(path) if fmt == "auto" else fmt
    if name not in READERS:
        raise fail(path.name, "format", f"unknown format '{name}'; choose one of auto, {', '.join(READERS)}",
                   value=name)
    if name == "package" and path.suffix.lower() in (".yaml", ".yml"):
        path = path.parent
    return READERS[name](path, options or ReadOptions())
