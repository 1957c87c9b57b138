"""A first look at a CSV file: encoding, delimiter, header, columns, sample rows and a guess
per column; and what is refused before anything is read."""

import codecs
from pathlib import Path

import pytest

from app.errors import Invalid
from energy.csv_reader import sniff_csv

CSV = Path(__file__).parents[1] / "fixtures" / "energy" / "csv"

DOTS = {"kind": "timestamp", "decimal": None, "format": "%d.%m.%Y %H:%M"}
ISO = {"kind": "timestamp", "decimal": None, "format": "ISO 8601"}
COMMA = {"kind": "number", "decimal": ",", "format": None}
TEXT = {"kind": "text", "decimal": None, "format": None}


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "columns", "guesses", "decimal"),
    [
        (
            "at_portal_15min_kwh_end.csv",
            "utf-8",
            ";",
            ["Messzeitpunkt", "Verbrauch [kWh]", "Status"],
            [DOTS, COMMA, TEXT],
            ",",
        ),
        (
            "en_portal_30min_watts.csv",
            "utf-8",
            ",",
            ["start_time", "end_time", "average_power_w"],
            [ISO, ISO, {"kind": "number", "decimal": ".", "format": None}],
            ".",
        ),
        (
            "register_kwh_reset.csv",
            "utf-8",
            ";",
            ["Ablesezeitpunkt", "Zählerstand (kWh)"],
            [ISO, COMMA],
            ",",
        ),
        (
            "excel_bom_date_time.csv",
            "utf-8-sig",
            ";",
            ["Datum", "Uhrzeit", "Wert (kWh)"],
            [
                {"kind": "date", "decimal": None, "format": "%d.%m.%Y"},
                {"kind": "time", "decimal": None, "format": None},
                COMMA,
            ],
            ",",
        ),
        (
            "latin1_tab_umlauts.csv",
            "cp1252",
            "\t",
            ["Zählpunkt", "Beginn", "Menge (kWh)", "Qualität"],
            [TEXT, DOTS, COMMA, TEXT],
            ",",
        ),
        (
            "paris_dst_autumn_2024.csv",
            "utf-8",
            ";",
            ["Horodatage", "Puissance moyenne (W)"],
            [
                {"kind": "timestamp", "decimal": None, "format": "%d/%m/%Y %H:%M"},
                {"kind": "number", "decimal": None, "format": None},
            ],
            None,
        ),
    ],
)
def test_each_fixture_is_sniffed(name, encoding, delimiter, columns, guesses, decimal):
    sniff = sniff_csv((CSV / name).read_bytes())
    assert sniff.encoding == encoding
    assert sniff.delimiter == delimiter
    assert sniff.has_header is True
    assert sniff.columns == columns
    assert sniff.guesses == guesses
    assert sniff.decimal == decimal
    assert len(sniff.rows) == 10
    assert all(len(row) == len(columns) for row in sniff.rows)
    assert sniff.to_dict()["columns"] == columns


def test_sample_rows_are_the_first_data_rows_as_text():
    sniff = sniff_csv((CSV / "latin1_tab_umlauts.csv").read_bytes())
    assert sniff.rows[0] == [
        "AT0010000000000000001000004711234",
        "03.06.2024 00:00:00",
        "0,20",
        "plausibel",
    ]
    quoted = sniff_csv((CSV / "paris_dst_spring_2024.csv").read_bytes())
    assert quoted.rows[0] == ["31/03/2024 00:00", "1000"]


def test_lines_before_the_table_are_skipped():
    sniff = sniff_csv((CSV / "fr_load_curve_preamble.csv").read_bytes())
    assert (sniff.skipped_lines, sniff.has_header) == (2, True)
    assert sniff.columns == ["Horodate", "Valeur"]
    assert sniff.rows[0] == ["2024-01-01T00:30:00+01:00", "400"]
    assert sniff_csv((CSV / "register_kwh_reset.csv").read_bytes()).skipped_lines == 0


def test_a_header_without_a_name_for_the_last_column_is_the_header():
    sniff = sniff_csv(b"Zeit;Wert\n01.03.2024 00:15;0,25;gemessen\n01.03.2024 00:30;0,5;gemessen\n")
    assert (sniff.skipped_lines, sniff.has_header) == (0, True)
    assert sniff.columns == ["Zeit", "Wert", "column 3"]


def test_a_file_without_a_header_gets_numbered_columns():
    sniff = sniff_csv(b"01.03.2024 00:15;0,25\n01.03.2024 00:30;0,5\n01.03.2024 00:45;0,125\n")
    assert (sniff.has_header, sniff.delimiter, sniff.decimal) == (False, ";", ",")
    assert sniff.columns == ["column 1", "column 2"]
    assert len(sniff.rows) == 3


@pytest.mark.parametrize(
    ("content", "delimiter"),
    [
        (b"Zeit|Wert\n2024-03-01 00:00|1.5\n2024-03-01 00:15|2.5\n", "|"),
        (b"Zeit\tWert\n2024-03-01 00:00\t1,5\n2024-03-01 00:15\t2,5\n", "\t"),
        # Decimal commas do not make "," the delimiter, header or not.
        (b"01.03.2024 00:15;0,25\n01.03.2024 00:30;0,50\n", ";"),
        (b'"Zeit","Wert"\n"2024-03-01 00:00","1,5"\n"2024-03-01 00:15","2,5"\n', ","),
    ],
)
def test_the_delimiter_is_found(content, delimiter):
    assert sniff_csv(content).delimiter == delimiter


def test_a_utf16_export_with_its_mark_is_read():
    text = "Zeit\tWert (kWh)\n01.03.2024 00:15\t0,25\n01.03.2024 00:30\t0,5\n"
    sniff = sniff_csv(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert (sniff.encoding, sniff.delimiter, sniff.columns) == (
        "utf-16",
        "\t",
        ["Zeit", "Wert (kWh)"],
    )


def test_day_and_month_order_is_left_open_when_no_date_tells():
    sniff = sniff_csv(b"Zeit;Wert\n01/02/2024 00:00;1\n01/02/2024 00:15;2\n")
    assert sniff.guesses[0] == {"kind": "timestamp", "decimal": None, "format": None}
    month_first = sniff_csv(b"Zeit;Wert\n02/13/2024 00:00;1\n02/13/2024 00:15;2\n")
    assert month_first.guesses[0]["format"] == "%m/%d/%Y %H:%M"


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, "The file contains NUL bytes: it is not a text (CSV) file."),
        (ZIP, "The file contains NUL bytes: it is not a text (CSV) file."),
        (b"\x1f\x8b\x08\x08gzip;data\n1;2\n", "The file is not a text (CSV) file."),
        (
            b"Zeit;Wert\n2024-03-01 00:00;1\x00\n",
            "The file contains NUL bytes: it is not a text (CSV) file.",
        ),
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "The file is not a text (CSV) file."),
        (b"", "The file is empty."),
        (b" \r\n\r\n", "The file is empty."),
        (b"Zeit;Wert\n", "The file has no rows of data."),
        (
            b"Zeit;Wert\n2024-03-01 00:00;" + b"1" * 10_001 + b"\n",
            "Line 2 is longer than 10000 characters: not a meter data file.",
        ),
        (
            b";".join(b"c%d" % i for i in range(201)) + b"\n" + b";".join([b"1"] * 201) + b"\n",
            "Line 1 has more than 200 columns: not a meter data file.",
        ),
        (
            b"just some words\nwithout any columns\n",
            "No columns separated by ; , tab or | were found in the file.",
        ),
    ],
)
def test_what_is_not_a_meter_csv_is_refused(content, message):
    with pytest.raises(Invalid) as refused:
        sniff_csv(content)
    assert refused.value.errors == {"file": [message]}
