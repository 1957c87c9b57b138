"""The files of a research export: CSV bytes as promised, a codebook, a Data Package that
``frictionless validate`` passes (and fails when a file is wrong), SPSS and Stata files that read
back with their values, variable labels and value labels in any language."""

import csv
import io
import json
import subprocess
import sys
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import frictionless
import pyreadstat
import pytest

from i18n import force_locale
from research.formats import (
    Resource,
    aggregate_variables,
    write_aggregate_csv,
    write_codebook,
    write_datapackage,
    write_microdata_csv,
)
from research.statfiles import write_spss, write_stata
from research.table import TOTAL, Aggregate, Cell, Kind, Role, Variable

pytestmark = pytest.mark.usefixtures("in_app")

FRICTIONLESS = Path(sys.executable).with_name("frictionless")

HEATING = {1: "Fernwärme", 2: "Газ", 3: "電気", 4: "Öl & Holz"}
VARIABLES = [
    Variable("participant", Kind.STRING, "Teilnehmer (Pseudonym)", Role.PSEUDONYM),
    Variable("age_band", Kind.STRING, "Alter (Gruppe)", Role.QUASI, hierarchy="band:10"),
    Variable("district", Kind.STRING, "Bezirk", Role.QUASI, hierarchy="category"),
    Variable("heating", Kind.INTEGER, "Wie heizen Sie?", Role.SENSITIVE, codes=HEATING),
    Variable("rooms", Kind.INTEGER, "Zimmer"),
    Variable("kwh", Kind.NUMBER, "Verbrauch (kWh)"),
    Variable("answered_on", Kind.DATE, "Beantwortet am"),
    Variable("has_garden", Kind.BOOLEAN, "Garten"),
    Variable("comment", Kind.STRING, "Kommentar", Role.TEXT),
]
ROWS = [
    ("p-1", "20-29", "Mitte", 1, 3, 1.5, date(2026, 3, 1), True, "=SUM(A1:A9)"),
    ("p-2", "20-29", "Mitte", 2, -5, -2.25, date(2026, 3, 2), False, "-5 Grad, zu kalt"),
    ("p-3", "30-39", "Süd", 3, 4.0, 1e-05, date(2026, 3, 3), None, 'Er sagte: "ja",\nund ging'),
    ("p-4", "30-39", "Süd", None, None, None, None, True, None),
    ("p-5", "*", "*", 4, 2, Decimal("12.50"), date(2026, 3, 5), True, "@home\tnein"),
]


def microdata(tmp_path: Path, rows=ROWS, variables=VARIABLES) -> Path:
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    path = tmp_path / "data" / "responses.csv"
    write_microdata_csv(path, variables, iter(rows))
    return path


def energy_table() -> Aggregate:
    """District by month, with two totals and a hidden cell (plus its secondary one)."""
    cells = {
        ("Süd", "2026-02"): Cell(12, (340.5, 28)),
        ("Mitte", "2026-02"): Cell(4, (99.0, 25)),
        ("Mitte", "2026-01"): Cell(11, (410.0, 37)),
        ("Süd", "2026-01"): Cell(15, (501.25, 33)),
        ("Mitte", TOTAL): Cell(15, (509.0, 34)),
        ("Süd", TOTAL): Cell(27, (841.75, 31)),
        (TOTAL, "2026-01"): Cell(26, (911.25, 35)),
        (TOTAL, "2026-02"): Cell(16, (439.5, 27)),
        (TOTAL, TOTAL): Cell(42, (1350.75, 32)),
    }
    return Aggregate(
        name="energy",
        title="Energieverbrauch nach Bezirk und Monat",
        row=Variable("district", Kind.STRING, "Bezirk"),
        column=Variable("month", Kind.STRING, "Monat"),
        count=Variable("households", Kind.INTEGER, "Haushalte"),
        measures=[
            Variable("kwh", Kind.NUMBER, "Summe kWh"),
            Variable("kwh_median", Kind.INTEGER, "Median kWh je Haushalt"),
        ],
        cells=cells,
    )


HIDDEN = {("Mitte", "2026-02"), ("Süd", "2026-02")}


# --- CSV ---------------------------------------------------------------------------------------


def test_microdata_csv_is_plain_utf8_crlf_with_typed_and_neutralised_cells(tmp_path):
    path = microdata(tmp_path)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    # Lines end with CRLF; a line break inside a quoted value is the value's own.
    assert text.count("\r\n") == len(ROWS) + 1
    assert text.startswith(
        "participant,age_band,district,heating,rooms,kwh,answered_on,has_garden,comment\r\n"
        "p-1,20-29,Mitte,1,3,1.5,2026-03-01,true,'=SUM(A1:A9)\r\n"
        'p-2,20-29,Mitte,2,-5,-2.25,2026-03-02,false,"\'-5 Grad, zu kalt"\r\n'
    )
    lines = list(csv.reader(io.StringIO(text, newline="")))
    # A whole float is an integer; the shortest float; missing is empty; quotes and newlines
    # are quoted, not lost.
    assert lines[3] == ["p-3", "30-39", "Süd", "3", "4", "1e-05", "2026-03-03", "", lines[3][8]]
    assert lines[3][8] == 'Er sagte: "ja",\nund ging'
    assert lines[4] == ["p-4", "30-39", "Süd", "", "", "", "", "true", ""]
    assert lines[5] == ["p-5", "*", "*", "4", "2", "12.50", "2026-03-05", "true", "'@home\tnein"]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised_in_strings_only(tmp_path, start):
    variables = [Variable("note", Kind.STRING, "Notiz"), Variable("n", Kind.INTEGER, "n")]
    path = tmp_path / "x.csv"
    write_microdata_csv(path, variables, [(start + "1", -1)])
    with path.open(encoding="utf-8", newline="") as file:
        assert list(csv.reader(file)) == [["note", "n"], ["'" + start + "1", "-1"]]


def test_numbers_frictionless_and_pandas_read_back(tmp_path):
    variables = [Variable("x", Kind.NUMBER, "x")]
    values = [0.1, 1e16, -0.0, float("nan"), float("inf"), float("-inf"), Decimal("1E+3"), 7]
    path = tmp_path / "n.csv"
    write_microdata_csv(path, variables, [(v,) for v in values])
    cells = path.read_bytes().decode("utf-8").split("\r\n")[1:-1]
    assert cells == ["0.1", "1e+16", "-0.0", "NaN", "INF", "-INF", "1000", "7"]


def test_a_datetime_in_a_date_column_or_a_short_row_is_refused(tmp_path):
    with pytest.raises(TypeError):
        write_microdata_csv(
            tmp_path / "d.csv",
            [Variable("d", Kind.DATE, "d")],
            [(datetime(2026, 3, 1, 23, 30, tzinfo=UTC),)],
        )
    with pytest.raises(ValueError):
        write_microdata_csv(tmp_path / "r.csv", VARIABLES, [("p-1", "20-29")])


def test_microdata_csv_streams_its_rows(tmp_path):
    variables = [Variable(f"v{i}", Kind.STRING, "v") for i in range(4)] + [
        Variable("n", Kind.INTEGER, "n")
    ]
    count = 100_000

    def rows():
        for i in range(count):
            yield (f"a{i}", f"b{i}", f"c{i}", f"d{i}", i)

    tracemalloc.start()
    try:
        written = write_microdata_csv(tmp_path / "big.csv", variables, rows())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == count
    # A list of the rows alone would take tens of megabytes.
    assert peak < 2_000_000


def test_aggregate_csv_is_long_ordered_with_totals_last_and_hidden_cells_blank(tmp_path):
    path = tmp_path / "energy.csv"
    written = write_aggregate_csv(path, energy_table(), HIDDEN)
    assert written == 9
    assert path.read_bytes().decode("utf-8").split("\r\n") == [
        "district,month,households,kwh,kwh_median,suppressed",
        "Mitte,2026-01,11,410.0,37,0",
        "Mitte,2026-02,,,,1",
        "Mitte,*,15,509.0,34,0",
        "Süd,2026-01,15,501.25,33,0",
        "Süd,2026-02,,,,1",
        "Süd,*,27,841.75,31,0",
        "*,2026-01,26,911.25,35,0",
        "*,2026-02,16,439.5,27,0",
        "*,*,42,1350.75,32,0",
        "",
    ]


def sizes_table() -> Aggregate:
    return Aggregate(
        name="sizes",
        title="Haushaltsgröße",
        row=Variable("size", Kind.INTEGER, "Personen", codes={1: "eine", 2: "zwei"}),
        column=Variable("year", Kind.INTEGER, "Jahr"),
        count=Variable("n", Kind.INTEGER, "Anzahl"),
        measures=[],
        cells={
            (2, 2026): Cell(10),
            (TOTAL, 2026): Cell(30),
            (1, 2026): Cell(20),
            (1, TOTAL): Cell(20),
            (10, 2026): Cell(0),
        },
    )


def test_aggregate_rows_of_a_coded_integer_dimension_keep_their_order(tmp_path):
    path = tmp_path / "sizes.csv"
    write_aggregate_csv(path, sizes_table(), set())
    assert path.read_bytes().decode("utf-8").split("\r\n")[1:-1] == [
        "1,2026,20,0",
        "1,*,20,0",
        "2,2026,10,0",
        "10,2026,0,0",
        "*,2026,30,0",
    ]


# --- Codebook ----------------------------------------------------------------------------------


def test_codebook_lists_package_resources_variables_and_codes(tmp_path):
    microdata(tmp_path)
    resources = [
        Resource("responses", "Antworten", "data/responses.csv", VARIABLES, rows=len(ROWS)),
        Resource(
            "energy",
            "Energie",
            "data/energy.csv",
            [energy_table().row, energy_table().column, energy_table().count],
            aggregate={"count": "households", "row": "district", "column": "month"},
        ),
    ]
    meta = {
        "title": "=Umfrage Heizung",
        "language": "de",
        "versions": [3, 4],
        "created": datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
    }
    path = tmp_path / "codebook.csv"
    with force_locale("de"):
        write_codebook(path, resources, meta)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0] == [
        "resource", "variable", "type", "label", "role", "code", "code_label", "source"
    ]  # fmt: skip
    package = lines[1]
    assert package[:4] == ["", "", "package", "'=Umfrage Heizung"]
    assert "Deutsch (de)" in package[7] and "3, 4" in package[7] and "2026-05-01" in package[7]
    assert ["responses", "", "table", "Antworten", "", "", "", "data/responses.csv"] in lines
    assert ["responses", "heating", "integer", "Wie heizen Sie?", "sensitive", "", "", ""] in lines
    codes = [line[5:7] for line in lines if line[1] == "heating" and line[5]]
    assert codes == [["1", "Fernwärme"], ["2", "Газ"], ["3", "電気"], ["4", "Öl & Holz"]]
    assert ["responses", "age_band", "string", "Alter (Gruppe)", "quasi", "", "", ""] in lines
    # An aggregate's description says what its file holds: the `suppressed` column too.
    energy = [line[1] for line in lines if line[0] == "energy"]
    assert energy == ["", "district", "month", "households", *["suppressed"] * 3]


# --- Data Package ------------------------------------------------------------------------------


def package(tmp_path: Path, rows=ROWS) -> Path:
    microdata(tmp_path, rows)
    table = energy_table()
    write_aggregate_csv(tmp_path / "data" / "energy.csv", table, HIDDEN)
    resources = [
        Resource("responses", "Antworten", "data/responses.csv", VARIABLES, rows=len(rows)),
        Resource(
            "energy",
            table.title,
            "data/energy.csv",
            aggregate_variables(table),
            aggregate={"count": "households", "row": "district", "column": "month"},
            rows=len(table.cells),
        ),
    ]
    meta = {
        "name": "survey-7-export-12",
        "title": "Umfrage Heizung",
        "language": "de",
        "versions": [3],
        "created": datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
    }
    with force_locale("de"):
        return write_datapackage(tmp_path, resources, meta)


def cli_validate(descriptor: Path) -> dict:
    result = subprocess.run(
        [str(FRICTIONLESS), "validate", "--json", descriptor.name],
        cwd=descriptor.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    assert (result.returncode == 0) == report["valid"]
    return report


def errors(report: dict) -> list[tuple[str, str]]:
    return [
        (e["type"], e["note"], e.get("cell")) for task in report["tasks"] for e in task["errors"]
    ]


def error_types(report: dict) -> set[str]:
    return {kind for kind, *_ in errors(report)}


def test_datapackage_describes_the_files_and_frictionless_validates_it(tmp_path):
    descriptor = package(tmp_path)
    data = json.loads(descriptor.read_text(encoding="utf-8"))
    assert data["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert data["created"] == "2026-05-01T09:30:00Z"
    assert data["language"] == "de"
    responses, energy = data["resources"]
    assert responses["path"] == "data/responses.csv"
    assert responses["format"] == "csv" and responses["encoding"] == "utf-8"
    assert responses["hash"].startswith("sha256:")
    assert responses["schema"]["missingValues"] == [""]
    fields = {f["name"]: f for f in responses["schema"]["fields"]}
    assert {n: f["role"] for n, f in fields.items() if f["role"] != "value"} == {
        "participant": "pseudonym",
        "age_band": "quasi",
        "district": "quasi",
        "heating": "sensitive",
        "comment": "text",
    }
    assert fields["age_band"]["type"] == "string"
    assert fields["heating"]["title"] == "Wie heizen Sie?"
    assert fields["heating"]["constraints"] == {"enum": [1, 2, 3, 4]}
    assert fields["heating"]["categories"][2] == {"value": 3, "label": "電気"}
    assert "2 = Газ" in fields["heating"]["description"]
    assert energy["aggregate"] == {"count": "households", "row": "district", "column": "month"}
    assert [f["name"] for f in energy["schema"]["fields"]][-1] == "suppressed"

    report = cli_validate(descriptor)
    assert report["valid"], errors(report)
    assert [task["stats"]["rows"] for task in report["tasks"]] == [len(ROWS), 9]
    assert frictionless.validate(str(descriptor)).valid


def test_frictionless_finds_a_string_in_an_integer_column(tmp_path):
    broken = [*ROWS[:2], ("p-9", "20-29", "Mitte", 1, "drei", 1.0, None, True, "")]
    report = cli_validate(package(tmp_path, broken))
    assert not report["valid"]
    assert error_types(report) == {"type-error"}
    assert not frictionless.validate(str(tmp_path / "datapackage.json")).valid


def test_frictionless_finds_an_unknown_answer_code_and_a_changed_file(tmp_path):
    broken = [*ROWS[:2], ("p-9", "20-29", "Mitte", 9, 1, 1.0, None, True, "")]
    report = cli_validate(package(tmp_path, broken))
    assert error_types(report) == {"constraint-error"}, errors(report)

    descriptor = package(tmp_path / "other")
    with (tmp_path / "other" / "data" / "energy.csv").open("a", encoding="utf-8") as file:
        file.write("Nord,2026-01,3,1.0,1,0\r\n")
    assert "hash-count" in error_types(cli_validate(descriptor))


def test_a_coded_integer_dimension_is_described_as_strings_with_its_labels(tmp_path):
    (tmp_path / "data").mkdir()
    table = sizes_table()
    write_aggregate_csv(tmp_path / "data" / "sizes.csv", table, {(2, 2026)})
    # The variables as the dataset gave them: the writer completes them as the file holds them.
    resource = Resource(
        "sizes",
        table.title,
        "data/sizes.csv",
        [table.row, table.column, table.count],
        aggregate={"count": "n", "row": "size", "column": "year"},
    )
    descriptor = write_datapackage(tmp_path, [resource], {"title": "Größen"})
    fields = json.loads(descriptor.read_text(encoding="utf-8"))["resources"][0]["schema"]["fields"]
    assert [(f["name"], f["type"]) for f in fields] == [
        ("size", "string"),
        ("year", "string"),
        ("n", "integer"),
        ("suppressed", "integer"),
    ]
    assert fields[0]["categories"] == [
        {"value": "1", "label": "eine"},
        {"value": "2", "label": "zwei"},
    ]
    assert "constraints" not in fields[0]
    report = frictionless.validate(str(descriptor))
    assert report.valid, report.flatten(["type", "note"])


# --- SPSS and Stata ----------------------------------------------------------------------------

LABELS = {
    "city": ("Stadt — Größe und Lage", {1: "Köln", 2: "Київ", 3: "東京"}),
    "in": ("Eingezogen (Jahr)", None),
    "with": ("Mit wem? Кто? 誰と?", {1: "allein", 2: "Familie"}),
}


def labelled(tmp_path: Path) -> tuple[Path, list[Variable]]:
    variables = [
        Variable("city", Kind.INTEGER, LABELS["city"][0], codes=LABELS["city"][1]),
        Variable("in", Kind.INTEGER, LABELS["in"][0]),
        Variable("with", Kind.INTEGER, LABELS["with"][0], codes=LABELS["with"][1]),
        Variable("kwh", Kind.NUMBER, "Verbrauch " + "ä" * 300),
        Variable("answered_on", Kind.DATE, "Datum"),
        Variable("garden", Kind.BOOLEAN, "Garten"),
        Variable("band", Kind.STRING, "Altersgruppe", Role.QUASI),
        Variable("comment", Kind.STRING, "Kommentar", Role.TEXT),
    ]
    long_text = "長いコメント" * 800  # over Stata's 2045 bytes: a strL
    rows = [
        (1, 2019, 1, 12.5, date(2026, 3, 1), True, "20-29", "Grüße aus Köln"),
        (2, None, 2, None, None, None, None, None),
        (3, 2024, None, 0.25, date(2026, 3, 3), False, "30-39", long_text),
    ]
    path = tmp_path / "people.csv"
    write_microdata_csv(path, variables, rows)
    return path, variables


def test_spss_file_reads_back_with_values_and_labels(tmp_path):
    path, variables = labelled(tmp_path)
    write_spss(path, variables, tmp_path / "people.sav")
    frame, meta = pyreadstat.read_sav(str(tmp_path / "people.sav"))
    assert meta.column_names == [
        "city", "in", "with_", "kwh", "answered_on", "garden", "band", "comment"
    ]  # fmt: skip
    assert list(frame["city"]) == [1, 2, 3]
    assert frame["in"].isna().tolist() == [False, True, False] and frame["in"][2] == 2024
    assert frame["kwh"][0] == 12.5 and frame["kwh"].isna()[1]
    assert frame["answered_on"][0] == date(2026, 3, 1)
    assert frame["garden"][0] == 1 and frame["garden"][2] == 0
    assert frame["comment"][0] == "Grüße aus Köln" and frame["comment"][2].startswith("長い")
    labels = meta.column_names_to_labels
    assert labels["city"] == LABELS["city"][0] and labels["with_"] == LABELS["with"][0]
    assert labels["kwh"].startswith("Verbrauch ää") and labels["kwh"].endswith("…")
    assert len(labels["kwh"].encode("utf-8")) <= 255
    assert meta.variable_value_labels["city"] == {1: "Köln", 2: "Київ", 3: "東京"}
    assert meta.variable_value_labels["with_"] == {1: "allein", 2: "Familie"}
    assert meta.original_variable_types["answered_on"] == "DATE11"
    assert meta.variable_measure["city"] == "nominal" and meta.variable_measure["kwh"] == "scale"


def test_stata_file_reads_back_with_values_and_labels(tmp_path):
    path, variables = labelled(tmp_path)
    write_stata(path, variables, tmp_path / "people.dta")
    frame, meta = pyreadstat.read_dta(str(tmp_path / "people.dta"))
    assert meta.column_names == [
        "city", "in_", "with_", "kwh", "answered_on", "garden", "band", "comment"
    ]  # fmt: skip
    assert list(frame["city"]) == [1, 2, 3]
    assert frame["in_"].isna().tolist() == [False, True, False] and frame["in_"][0] == 2019
    assert frame["answered_on"][2] == date(2026, 3, 3)
    assert frame["band"].tolist() == ["20-29", "", "30-39"]
    assert frame["comment"][2] == "長いコメント" * 800
    labels = meta.column_names_to_labels
    assert labels["city"] == LABELS["city"][0] and labels["with_"] == LABELS["with"][0]
    assert len(labels["kwh"]) == 80 and labels["kwh"].endswith("…")
    assert meta.variable_value_labels["city"] == {1: "Köln", 2: "Київ", 3: "東京"}
    assert meta.variable_value_labels["with_"] == {1: "allein", 2: "Familie"}


def test_aggregates_go_to_spss_and_stata_with_their_totals(tmp_path):
    table = energy_table()
    path = tmp_path / "energy.csv"
    write_aggregate_csv(path, table, HIDDEN)
    with force_locale("de"):
        variables = aggregate_variables(table)
    write_spss(path, variables, tmp_path / "energy.sav")
    write_stata(path, variables, tmp_path / "energy.dta")
    for frame, meta in (
        pyreadstat.read_sav(str(tmp_path / "energy.sav")),
        pyreadstat.read_dta(str(tmp_path / "energy.dta")),
    ):
        assert frame["district"].tolist()[-3:] == ["*", "*", "*"]
        assert frame["households"].isna().sum() == 2
        assert frame["suppressed"].tolist() == [0, 1, 0, 0, 1, 0, 0, 0, 0]
        assert set(meta.variable_value_labels["suppressed"]) == {0, 1}


def test_spss_and_stata_refuse_variables_that_are_not_the_files(tmp_path):
    path, variables = labelled(tmp_path)
    with pytest.raises(ValueError):
        write_spss(path, variables[:-1], tmp_path / "x.sav")
    with pytest.raises(ValueError):
        write_stata(path, list(reversed(variables)), tmp_path / "x.dta")


def test_an_empty_table_still_makes_files(tmp_path):
    path = tmp_path / "empty.csv"
    assert write_microdata_csv(path, VARIABLES, iter(())) == 0
    write_spss(path, VARIABLES, tmp_path / "empty.sav")
    write_stata(path, VARIABLES, tmp_path / "empty.dta")
    assert pyreadstat.read_sav(str(tmp_path / "empty.sav"))[1].number_rows == 0
    assert pyreadstat.read_dta(str(tmp_path / "empty.dta"))[1].number_rows == 0
