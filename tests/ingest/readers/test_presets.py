"""Every preset of the one registry, on real samples and small hand-made files (decisions 0085-0087).

Expected values are derived without qualkg: the real ATLAS.ti export is counted with the `csv` module,
hand-made files by hand (in comments at their asserts). Every hand-made text starts "SYNTHETIC: ".
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from qualkg.cli import app
from qualkg.ingest.errors import ReaderError
from qualkg.ingest.readers import ReadOptions, read
from qualkg.ingest.readers.presets import (
    PRESET_CHOICES,
    PRESETS,
    PresetChoice,
    detect,
    load_mapping,
    presets_markdown,
)
from qualkg.ingest.readers.tabular import read_tabular
from qualkg.ingest.records import Code, StudyRecords

DATA = Path(__file__).parents[1] / "data" / "tabular"
ATLAS = DATA / "atlasti-quotation-manager-export.csv"
ATLAS_CODEBOOK = DATA / "atlasti-codebook-export.csv"


def spans(records: StudyRecords) -> list[tuple[str, int, int, tuple[str, ...], str | None]]:
    return [(e.transcript, e.start, e.end, e.codes, e.coder) for e in records.excerpts]


def exact(records: StudyRecords) -> bool:
    texts = {t.id: t.text for t in records.transcripts}
    return all(texts[e.transcript][e.start:e.end] == e.text for e in records.excerpts)


# ---------------------------------------------------------------- the registry


def test_one_registry_feeds_choices_enum_docs_and_detection() -> None:
    assert PRESET_CHOICES == ("auto", "taguette", "maxqda", "qualcoder", "atlasti", "generic")
    assert [c.value for c in PresetChoice] == list(PRESET_CHOICES)
    table = presets_markdown()
    for name, preset in PRESETS.items():
        assert f"| `{name}` | {preset.tool} |" in table
        assert detect(preset.headers()) == name


def test_cli_help_lists_the_registry_and_the_new_options() -> None:
    out = CliRunner().invoke(app, ["validate", "--help"], env={"COLUMNS": "200"}).output
    assert ", ".join(PRESET_CHOICES) in " ".join(out.split())
    assert "--mapping" in out and "--codebook" in out


# ---------------------------------------------------------------- ATLAS.ti (real export)


@pytest.fixture(scope="module")
def atlas_rows() -> list[dict[str, str]]:
    with ATLAS.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


@pytest.fixture(scope="module")
def atlas_codebook_names() -> list[str]:
    with ATLAS_CODEBOOK.open(encoding="utf-8-sig", newline="") as f:
        return [r["Code"] for r in csv.DictReader(f, delimiter=";")]


@pytest.fixture(scope="module")
def atlas() -> StudyRecords:
    return read_tabular(ATLAS, study_id="edge", preset="atlasti", codebook=ATLAS_CODEBOOK)


def test_atlasti_every_quotation_and_every_coding_is_kept(atlas: StudyRecords, atlas_rows: list[dict[str, str]]
                                                         ) -> None:
    assert len(atlas_rows) == 394
    assert len(atlas.excerpts) == len(atlas_rows)
    assert [len(e.codes) for e in atlas.excerpts] == [int(r["Number of Codes"]) for r in atlas_rows]
    assert sum(len(e.codes) for e in atlas.excerpts) == sum(int(r["Number of Codes"]) for r in atlas_rows) == 1465
    assert [e.text for e in atlas.excerpts] == [r["Text Content"] for r in atlas_rows]
    assert exact(atlas) and [t.id for t in atlas.transcripts] == ["[ATLAS] - Codifying Fragments"]
    assert not atlas.warnings


def test_atlasti_provenance_keeps_quotation_number_and_paragraphs(atlas: StudyRecords,
                                                                  atlas_rows: list[dict[str, str]]) -> None:
    prov = atlas.excerpts[0].provenance
    assert prov is not None and prov.tool == "ATLAS.ti"
    assert (prov.where.element, prov.where.row, prov.original_start, prov.original_end) == (
        f"Number={atlas_rows[0]['Number']}", 2, int(atlas_rows[0]["Initial Position"]),
        int(atlas_rows[0]["Final Position"]))


def test_atlasti_codes_come_from_the_codebook_plus_in_vivo(atlas: StudyRecords,
                                                           atlas_codebook_names: list[str]) -> None:
    in_vivo = '"Check the publishing and receiving messages via MQTTBox."'  # row 2's first code, by hand
    assert atlas.excerpts[0].codes[0] == in_vivo
    assert len(atlas_codebook_names) == 465
    assert {c.original_name for c in atlas.codes} == {*atlas_codebook_names, in_vivo}
    by_id = {c.id: c for c in atlas.codes}
    leaf = by_id["T2. Security, Privacy & Trust Management > Access Control"]
    assert (leaf.label, leaf.parent) == ("Access Control", "T2. Security, Privacy & Trust Management")
    assert by_id[in_vivo].label == in_vivo.strip('"') and by_id[in_vivo].parent is None
    themes = [n for n in atlas_codebook_names if ": " not in n]
    assert sorted(c.id for c in atlas.codes if c.parent is None and c.id != in_vivo) == sorted(themes)


def test_atlasti_without_its_codebook_names_the_missing_codebook(atlas_rows: list[dict[str, str]]) -> None:
    with pytest.raises(ReaderError) as caught:
        read_tabular(ATLAS, study_id="edge")
    first = caught.value.problems[0]
    assert (first.rule, first.where.field) == ("code-count", "Codes")
    assert "--codebook" in first.message and "'Number of Codes' says" in first.message


def test_atlasti_codebook_alone_is_a_codebook(atlas_codebook_names: list[str]) -> None:
    records = read_tabular(ATLAS_CODEBOOK, study_id="edge")
    assert len(records.codes) == len(atlas_codebook_names) and not records.excerpts


def test_atlasti_codebook_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALKG_STORE_PATH", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "r.json"
    r = CliRunner().invoke(app, ["validate", str(ATLAS), "--preset", "atlasti", "--codebook", str(ATLAS_CODEBOOK),
                                 "--study", "edge", "--report", str(report)])
    assert "Traceback" not in r.output
    data = json.loads(report.read_text())
    assert data["studies"][0]["excerpts"] == 394


# ---------------------------------------------------------------- QualCoder


QUALCODER = ("\ufeffFile,Coder,Coded,Id,Codename,Coded_Memo,Category\r\n"
             "int01.txt,ann,SYNTHETIC: I was never told my role.,1,Role clarity,,Challenges\r\n"
             "int01.txt,ann,SYNTHETIC: I was never told my role.,1,Support,,\r\n"
             "int01.txt,ben,SYNTHETIC: I was never told my role.,1,Role clarity,,Challenges\r\n"
             "int01.txt,ann,SYNTHETIC: We met weekly.,1,Support,a memo,\r\n")


def test_qualcoder_category_is_the_parent_and_coders_split_excerpts(tmp_path: Path) -> None:
    path = tmp_path / "qualcoder.csv"
    path.write_bytes(QUALCODER.encode("utf-8"))
    records = read_tabular(path, study_id="qc")  # auto-detected
    # "SYNTHETIC: I was never told my role." = 11 + 25 = 36 → 0..36, coded "Role clarity" (parent
    # "Challenges") and "Support" by ann, "Role clarity" by ben (one span, two excerpts);
    # "SYNTHETIC: We met weekly." = 11 + 14 = 25 → 38..63
    assert spans(records) == [
        ("int01.txt", 0, 36, ("Challenges > Role clarity", "Support"), "ann"),
        ("int01.txt", 0, 36, ("Challenges > Role clarity",), "ben"),
        ("int01.txt", 38, 63, ("Support",), "ann"),
    ]
    assert Code("Challenges > Role clarity", "Role clarity", parent="Challenges",
                original_name="Role clarity") in records.codes
    assert [c.id for c in records.coders] == ["ann", "ben"]
    assert exact(records) and records.excerpts[0].provenance.tool == "QualCoder"  # type: ignore[union-attr]


# ---------------------------------------------------------------- MAXQDA, every language

MAXQDA_HEADERS = {  # group, name, code, segment, begin, end, author
    "en": ["Document group", "Document name", "Code", "Segment", "Begin", "End", "Created by"],
    "de": ["Dokumentgruppe", "Dokumentname", "Code", "Segment", "Anfang", "Ende", "Autor"],
    "fr": ["Groupe de documents", "Nom du document", "Code", "Segment", "Début", "Fin", "Auteur"],
    "es": ["Grupo de documentos", "Nombre del documento", "Código", "Segmento", "Inicio", "Fin", "Autor"],
    "pt": ["Grupo de documentos", "Nome do documento", "Código", "Segmento", "Início", "Fim", "Autor"],
    "pl": ["Grupa dokumentów", "Nazwa dokumentu", "Kod", "Fragment", "Początek", "Koniec", "Autor"],
    "it": ["Gruppo di documenti", "Nome documento", "Codice", "Segmento", "Inizio", "Fine", "Autore"],
}
ROLE = "SYNTHETIC: My role was never written down."
MAXQDA_ROWS = [
    ["Site 1", "Interview 01", "Challenges\\Role clarity", ROLE, 3, 3, "coder-a"],
    ["Site 1", "Interview 01", "Challenges\\Role clarity", ROLE, 3, 3, "coder-a"],  # identical: a second coding
    ["Site 1", "Interview 01", "Support", "SYNTHETIC: We shared the load.", 5, 5, "coder-a"],
]


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)  # type: ignore[union-attr]
    wb.save(path)
    return path


@pytest.mark.parametrize("language", list(MAXQDA_HEADERS))
def test_maxqda_in_every_interface_language_keeps_identical_rows(tmp_path: Path, language: str) -> None:
    path = write_xlsx(tmp_path / f"segments-{language}.xlsx", [MAXQDA_HEADERS[language], *MAXQDA_ROWS])
    records = read_tabular(path, study_id="mx")
    t = "Site 1 / Interview 01"
    # ROLE = 42 → 0..42; its identical repeat is a second coding with its own span 44..86;
    # "SYNTHETIC: We shared the load." = 30 → 88..118
    assert spans(records) == [
        (t, 0, 42, ("Challenges > Role clarity",), "coder-a"),
        (t, 44, 86, ("Challenges > Role clarity",), "coder-a"),
        (t, 88, 118, ("Support",), "coder-a"),
    ]
    assert [e.provenance.original_start for e in records.excerpts] == [3, 3, 5]  # type: ignore[union-attr]
    assert exact(records) and not records.warnings


def test_maxqda_xls_with_polish_headers() -> None:
    records = read_tabular(DATA / "maxqda_pl_segments.xls", study_id="mx", preset="maxqda")
    t = "Wywiady / Wywiad 01"
    # "SYNTHETIC: Nikt nie opisał mojej roli." = 11 + 27 = 38 → 0..38 with two codes;
    # "SYNTHETIC: Koledzy mnie zastąpili." = 11 + 23 = 34, twice → 40..74 and 76..110
    assert spans(records) == [
        (t, 0, 38, ("Wyzwania > Jasność roli", "Wsparcie"), "ania"),
        (t, 40, 74, ("Wsparcie",), "ania"),
        (t, 76, 110, ("Wsparcie",), "ania"),
    ]
    assert exact(records)


def test_xls_reads_through_the_format_registry() -> None:
    [records] = read(DATA / "maxqda_pl_segments.xls")
    assert len(records.excerpts) == 3


# ---------------------------------------------------------------- Taguette codebook


def test_taguette_codebook_alone_and_with_its_highlights(tmp_path: Path) -> None:
    book = tmp_path / "codebook.csv"
    book.write_text("tag,description,number of highlights\r\nemotion.joy,Feeling glad,1\r\nteam,,2\r\n"
                    "unused,Never applied,0\r\n", encoding="utf-8")
    alone = read_tabular(book, study_id="t")
    assert alone.codes == [Code("emotion", "emotion"),
                           Code("emotion > joy", "joy", parent="emotion", description="Feeling glad",
                                original_name="emotion.joy"),
                           Code("team", "team", original_name="team"),
                           Code("unused", "unused", description="Never applied", original_name="unused")]
    both = read_tabular(DATA / "taguette_highlights.csv", study_id="t", codebook=book)
    ids = [c.id for c in both.codes]
    assert ids[:4] == ["emotion", "emotion > joy", "team", "unused"] and "team > hierarchy" in ids
    assert {w.rule for w in both.warnings} == {"duplicate-row", "code-not-in-codebook"}


# ---------------------------------------------------------------- mapping files


def test_yaml_mapping_file_with_a_parent_column(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("document: Doc\ncode: Code\nparent: Theme\ntext: Quote\nspeaker_is: x\n",
                                     encoding="utf-8")
    with pytest.raises(ReaderError) as caught:
        load_mapping(tmp_path / "m.yaml")
    [problem] = caught.value.problems
    assert (problem.where.file, problem.where.field, problem.rule) == ("m.yaml", "speaker_is", "mapping")
    assert "unknown key" in problem.message
    (tmp_path / "m.yaml").write_text("document: Doc\ncode: Code\nparent: Theme\ntext: Quote\n", encoding="utf-8")
    table = tmp_path / "t.csv"
    table.write_text("Doc;Theme;Code;Quote\nd1;Support;Peers;SYNTHETIC: x\n", encoding="utf-8")
    records = read_tabular(table, study_id="g", mapping=tmp_path / "m.yaml")
    assert spans(records) == [("d1", 0, 12, ("Support > Peers",), None)]


@pytest.mark.parametrize(("content", "rule", "fragment"), [
    ("document: Doc\ntext: Quote\n", "mapping", "which column is the code"),
    ("document: [Doc\n", "mapping-syntax", "not valid YAML"),
    ("- document\n", "mapping-shape", "mapping of field names"),
    ("document: D\ncode: C\ntext: T\nstart: B\n", "mapping", "start and end go together"),
])
def test_wrong_mapping_files_are_located_errors(tmp_path: Path, content: str, rule: str, fragment: str) -> None:
    (tmp_path / "m.yml").write_text(content, encoding="utf-8")
    with pytest.raises(ReaderError) as caught:
        load_mapping(tmp_path / "m.yml")
    assert caught.value.problems[0].rule == rule and fragment in caught.value.problems[0].message


def test_mapping_from_the_cli_and_generic_without_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALKG_STORE_PATH", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    report = tmp_path / "r.json"
    bad = runner.invoke(app, ["validate", str(DATA / "generic_segments.csv"), "--preset", "generic",
                              "--report", str(report)])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert "needs a column mapping" in report.read_text()
    good = runner.invoke(app, ["validate", str(DATA / "generic_segments.csv"), "--mapping",
                               str(DATA / "generic_mapping.json"), "--report", str(report)])
    assert "Traceback" not in good.output
    assert json.loads(report.read_text())["studies"][0]["excerpts"] == 3


def test_read_options_carry_mapping_and_codebook() -> None:
    [records] = read(ATLAS, options=ReadOptions("edge", "atlasti", codebook=ATLAS_CODEBOOK))
    assert len(records.excerpts) == 394


# ---------------------------------------------------------------- delimiters and located failures


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(delimiter.join(["id", "document", "tag", "content"]) + "\n"
                    + delimiter.join(["1", "d", "pay", "SYNTHETIC: low, late pay"]) + "\n", encoding="utf-8")
    records = read_tabular(path, study_id="t")
    assert [e.text for e in records.excerpts] == ["SYNTHETIC: low, late pay"]


def test_a_too_wide_record_names_the_widths_and_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id;document;tag;content\n1;d;t;SYNTHETIC: a;b\n", encoding="utf-8")
    with pytest.raises(ReaderError) as caught:
        read_tabular(path, study_id="t")
    [problem] = caught.value.problems
    assert problem.rule == "csv-syntax" and problem.where.row == 2
    assert "record 2 has 5 fields but the header has 4 (read as `;`-separated)" in problem.message


@pytest.mark.parametrize(("content", "rule", "fragment"), [
    (b'id,document,tag,content\n1,d,t,"SYNTHETIC: never closed\n2,d,t,x\n', "csv-syntax", "never closed"),
    (b'id,document,tag,content\n1,d,t,"SYNTHETIC" said\n', "csv-syntax", "written twice"),
    (b'"id;document;tag;content"\n"1;d;t;SYNTHETIC: x"\n', "unknown-layout", "this file looks `;`-separated"),
    (b"id,document,tag,content\n1,d,t," + b"x" * 140_000 + b"\n", "field-size", "over 131072 characters"),
], ids=["unclosed-quote", "text-after-quote", "quoted-lines", "csv-field-limit"])
def test_unparseable_tables_say_what_was_found(tmp_path: Path, content: bytes, rule: str, fragment: str) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(ReaderError) as caught:
        read_tabular(path, study_id="t")
    problem = caught.value.problems[0]
    assert (problem.where.file, problem.rule) == ("t.csv", rule) and fragment in problem.message
    assert "Error" not in problem.message  # never the parser's own words


def _table_package(tmp_path: Path, coded_data: str, files: dict[str, Path]) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "study.yaml").write_text(f"id: tab\ntitle: Table package\ncoded_data: {coded_data}\n", encoding="utf-8")
    for name, source in files.items():
        shutil.copy(source, pkg / name)
    return pkg


def test_a_package_reads_its_table_with_a_mapping_file_or_an_inline_mapping(tmp_path: Path) -> None:
    """generic_segments.csv has 4 data rows; rows 3 and 4 are the same text and speaker, so 3 excerpts."""
    by_file = _table_package(tmp_path / "a", "{tabular: t.csv, preset: generic, mapping: m.json}",
                             {"t.csv": DATA / "generic_segments.csv", "m.json": DATA / "generic_mapping.json"})
    inline = _table_package(tmp_path / "b", "{tabular: t.csv, preset: generic, mapping: {document: Transcript, "
                            "participant: Speaker, code: Theme path, text: Quote, separators: [/]}}",
                            {"t.csv": DATA / "generic_segments.csv"})
    for pkg in (by_file, inline):
        [rec] = read(pkg)
        assert len(rec.excerpts) == 3 and {p.pseudonym for p in rec.participants} == {"007", "012"}


def test_a_zipped_package_reads_its_atlasti_table_with_the_codebook(tmp_path: Path) -> None:
    pkg = _table_package(tmp_path, "{tabular: q.csv, preset: atlasti, codebook: codes.csv}",
                         {"q.csv": ATLAS, "codes.csv": ATLAS_CODEBOOK})
    archive = shutil.make_archive(str(tmp_path / "pkg"), "zip", pkg)
    [rec] = read(Path(archive))
    assert len(rec.excerpts) == 394 and sum(len(x.codes) for x in rec.excerpts) == 1465  # as counted above


def test_a_missing_mapping_or_codebook_file_is_located_in_study_yaml(tmp_path: Path) -> None:
    pkg = _table_package(tmp_path, "{tabular: t.csv, preset: generic, mapping: none.yaml, codebook: none.csv}",
                         {"t.csv": DATA / "generic_segments.csv"})
    with pytest.raises(ReaderError) as caught:
        read(pkg)
    assert [(p.rule, p.where.file, p.where.element, p.value) for p in caught.value.problems] == [
        ("missing-file", "study.yaml", "coded_data.mapping", "none.yaml"),
        ("missing-file", "study.yaml", "coded_data.codebook", "none.csv")]


