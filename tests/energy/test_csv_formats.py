"""How a CSV file's stamps, numbers and columns are read: formats recognised or given, day and
month order, decimal marks, column names, interval lengths; and a round trip of random data."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import Invalid
from energy.csv_reader import Mapping, read_csv
from energy.intervals import Interval

QUARTER = timedelta(minutes=15)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def read(data: bytes, meter_zone="UTC", meter_unit="Wh", **values):
    mapping = {"timestamp": 0, "value": 1, "stamp_marks": "start", "value_kind": "energy"}
    mapping |= {"value_unit": "Wh"} | values
    return read_csv(data, Mapping.from_dict(mapping), meter_zone, meter_unit)


def refusal(data: bytes, **values) -> dict:
    with pytest.raises(Invalid) as refused:
        read(data, **values)
    return refused.value.errors


@pytest.mark.parametrize(
    "stamps",
    [
        ("2024-03-01T00:00:00", "2024-03-01T00:15:00"),
        ("2024-03-01 00:00", "2024-03-01 00:15"),
        ("2024-03-01T00:00:00.000Z", "2024-03-01T00:15:00.000Z"),
        ("01.03.2024 00:00", "01.03.2024 00:15"),
        ("1.3.2024 0:00", "1.3.2024 0:15"),
        ("01.03.2024 00:00:00", "01.03.2024 00:15:00"),
        ("2024/03/01 00:00", "2024/03/01 00:15"),
        ("13/03/2024 00:00", "13/03/2024 00:15"),
        ("03/13/2024 12:00 AM", "03/13/2024 12:15 AM"),
        ("13-03-2024 00:00", "13-03-2024 00:15"),
    ],
)
def test_known_formats_are_recognised(stamps):
    result = read(lines(*(f"{stamp};1" for stamp in stamps)))
    assert [interval.end - interval.start for interval in result.intervals] == [QUARTER] * 2
    assert result.intervals[0].start.time().isoformat() == "00:00:00"
    assert result.rejected == []


def test_day_and_month_order_must_be_told_by_the_data_or_the_mapping():
    ambiguous = lines("01/02/2024 00:00;1", "01/02/2024 00:15;1", "02/02/2024 00:00;1")
    assert refusal(ambiguous) == {
        "timestamp_format": [
            "No date in the file tells whether the day or the month comes first: give the "
            "pattern (e.g. %d/%m/%Y %H:%M or %m/%d/%Y %H:%M)."
        ]
    }
    day_first = read(ambiguous, timestamp_format="%d/%m/%Y %H:%M")
    assert day_first.intervals[0].start == at("2024-02-01T00:00")
    month_first = read(ambiguous, timestamp_format="%m/%d/%Y %H:%M")
    assert month_first.intervals[0].start == at("2024-01-02T00:00")
    told = read(lines("01/02/2024 00:00;1", "25/02/2024 00:00;1"), interval_minutes=15)
    assert told.intervals[0].start == at("2024-02-01T00:00")
    contradicting = lines("25/02/2024 00:00;1", "02/25/2024 00:00;1")
    assert "timestamp_format" in refusal(contradicting)


def test_stamps_in_no_known_format_ask_for_a_pattern():
    assert refusal(lines("Mar 1 2024 00:00;1")) == {
        "timestamp_format": [
            "The time stamps (e.g. “Mar 1 2024 00:00”) are not in a format we know: "
            "give their pattern."
        ]
    }


@pytest.mark.parametrize(
    ("pattern", "stamp", "expected"),
    [
        ("%d %b %Y %H:%M", "01 Mar 2024 13:15", "2024-03-01T13:15"),
        ("%m/%d/%Y %I:%M %p", "03/01/2024 01:15 PM", "2024-03-01T13:15"),
        ("%Y%m%d%H%M", "202403011315", "2024-03-01T13:15"),
        ("%d.%m.%y %H:%M", "01.03.24 13:15", "2024-03-01T13:15"),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-03-01T14:15:00+0100", "2024-03-01T13:15"),
        ("%d.%m.%Y %H:%M", "01.03.2024 24:00", "2024-03-02T00:00"),
    ],
)
def test_a_given_pattern_reads_its_stamps(pattern, stamp, expected):
    result = read(lines(f"{stamp};1"), timestamp_format=pattern, interval_minutes=15)
    assert result.intervals[0].start == at(expected)


def test_a_given_pattern_with_date_and_time_columns():
    data = lines("Tag;Zeit;Wert", "01.03.2024;00:00;1", "01.03.2024;00:15;1", "01.03.2024;00:30;1")
    result = read(
        data, timestamp="Tag", time="Zeit", value="Wert", timestamp_format="%d.%m.%Y %H:%M"
    )
    assert [i.start for i in result.intervals] == [
        at("2024-03-01T00:00") + n * QUARTER for n in range(3)
    ]


def test_out_of_range_times_are_rejected():
    data = lines(
        "01.03.2024 00:00;1", "01.03.2024 25:00;1", "31.02.2024 00:00;1", "01.03.2024 00:61;1"
    )
    result = read(data, interval_minutes=15)
    assert [r.line for r in result.rejected] == [2, 3, 4]
    assert all(r.reason.startswith("Not a date and time") for r in result.rejected)


@pytest.mark.parametrize(
    ("values", "decimal", "expected"),
    [
        (("0,25", "1,5"), None, [250, 1500]),
        (("0.25", "1.5"), None, [250, 1500]),
        (("1.234,5", "2,5"), None, [1_234_500, 2500]),
        (("1,234.5", "2.5"), None, [1_234_500, 2500]),
        (("1 234,5", "2,5"), None, [1_234_500, 2500]),
        (("1", "2"), None, [1000, 2000]),
        (("0.25", "1.5"), ".", [250, 1500]),
    ],
)
def test_decimal_marks(values, decimal, expected):
    data = lines(*(f"01.03.2024 00:{15 * n:02d};{v}" for n, v in enumerate(values)))
    result = read(data, value_unit="kWh", decimal=decimal)
    assert [i.value for i in result.intervals] == pytest.approx(expected)


def test_a_stray_number_with_the_other_mark_is_not_a_number():
    values = ["0,25"] * 10 + ["0.5"] + ["0,75"] * 9
    data = lines(*(f"01.03.2024 {n // 4:02d}:{15 * (n % 4):02d};{v}" for n, v in enumerate(values)))
    result = read(data, value_unit="kWh")
    assert [(r.line, r.reason) for r in result.rejected] == [(11, "Not a number: “0.5”.")]
    assert len(result.intervals) == 19


def test_contradicting_decimal_marks_ask_for_one():
    data = lines("01.03.2024 00:00;0,25", "01.03.2024 00:15;0.5")
    assert refusal(data) == {
        "decimal": ["The numbers use both “,” and “.” as decimal marks: choose one."]
    }


def test_numbers_that_do_not_show_their_mark_follow_the_delimiter_and_say_so():
    semicolon = read(lines("01.03.2024 00:00;1,250", "01.03.2024 00:15;2,500"), value_unit="kWh")
    assert [i.value for i in semicolon.intervals] == pytest.approx([1250, 2500])
    assert "The numbers do not show their decimal mark: “,” was taken." in semicolon.notes
    comma = read(lines("2024-03-01 00:00,1.250", "2024-03-01 00:15,2.500"), value_unit="kWh")
    assert [i.value for i in comma.intervals] == pytest.approx([1250, 2500])


def test_columns_by_name_any_case_or_by_number():
    data = lines("Zeit;Status;Wert", "01.03.2024 00:00;ok;1", "01.03.2024 00:15;ok;2")
    by_name = read(data, timestamp="ZEIT", value="wert")
    by_number = read(data, timestamp=0, value=2)
    assert by_name.intervals == by_number.intervals
    assert [i.value for i in by_name.intervals] == [1, 2]


def test_a_missing_column_lists_the_files_columns():
    data = lines("Zeit;Wert", "01.03.2024 00:00;1")
    assert refusal(data, timestamp="Datum", value=5) == {
        "timestamp": ["No column “Datum” in this file. Its columns: Zeit, Wert."],
        "value": ["No column “5” in this file. Its columns: Zeit, Wert."],
    }


def test_a_file_without_a_header_by_number_or_by_the_shown_name():
    data = lines("01.03.2024 00:00;1", "01.03.2024 00:15;2")
    assert read(data, value="column 2").intervals == read(data).intervals
    assert read(data, has_header=False).rows_read == 2
    # Told there is a header, the first row is one.
    assert read(data, has_header=True, interval_minutes=15).rows_read == 1


def test_the_interval_length_is_the_most_common_step_or_given():
    data = lines(
        "01.03.2024 00:00;1", "01.03.2024 00:15;1", "01.03.2024 00:30;1", "01.03.2024 01:30;1"
    )
    result = read(data)
    assert {i.end - i.start for i in result.intervals} == {QUARTER}
    assert result.gaps == [(at("2024-03-01T00:45"), at("2024-03-01T01:30"))]
    assert "Each row was taken as 15 minutes, the most common step between rows." in result.notes
    assert refusal(lines("01.03.2024 00:00;1")) == {
        "interval_minutes": ["The file has a single time: give the interval's length."]
    }
    assert read(lines("01.03.2024 00:00;1"), interval_minutes=60).intervals[0].end == at(
        "2024-03-01T01:00"
    )
    assert "interval_minutes" in refusal(lines("01.03.2024 00:00;1", "01.03.2024 00:07;1"))
    assert "interval_minutes" in refusal(lines("01.03.2024;1", "03.03.2024;1", "05.03.2024;1"))


def test_register_rows_in_any_order_become_intervals_in_time_order():
    rows = ["01.03.2024 00:00;10", "01.03.2024 00:15;11", "01.03.2024 00:30;13"]
    forward = read(lines(*rows), value_kind="register", value_unit="kWh")
    backward = read(lines(*reversed(rows)), value_kind="register", value_unit="kWh")
    assert forward.intervals == backward.intervals
    assert [i.value for i in forward.intervals] == [1000, 2000]


def test_a_register_read_the_same_twice_is_a_duplicate():
    data = lines(
        "01.03.2024 00:00;10", "01.03.2024 00:00;10", "01.03.2024 00:00;11", "01.03.2024 00:15;12"
    )
    result = read(data, value_kind="register")
    assert result.duplicates_dropped == 1
    assert [r.line for r in result.rejected] == [3]
    assert [i.value for i in result.intervals] == [2]


VIENNA = ZoneInfo("Europe/Vienna")


@given(
    day=st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2030, 12, 31).date()),
    values=st.lists(st.integers(min_value=0, max_value=5000), min_size=2, max_size=200),
    marks=st.sampled_from(["start", "end"]),
)
def test_local_wall_clock_stamps_round_trip(day, values, marks):
    """Any run of quarter-hours from a local midnight, written as a Vienna portal writes them
    (wall-clock stamps, kWh with a decimal comma), reads back as the same UTC intervals."""
    first = datetime(day.year, day.month, day.day, tzinfo=VIENNA).astimezone(UTC)
    expected = [
        Interval(first + n * QUARTER, first + (n + 1) * QUARTER, float(value))
        for n, value in enumerate(values)
    ]
    rows = ["Zeit;kWh"]
    for interval, value in zip(expected, values, strict=True):
        stamp = (interval.start if marks == "start" else interval.end).astimezone(VIENNA)
        rows.append(f"{stamp:%d.%m.%Y %H:%M};{value // 1000},{value % 1000:03d}")
    result = read(
        lines(*rows),
        meter_zone="Europe/Vienna",
        value_unit="kWh",
        stamp_marks=marks,
        interval_minutes=15,
    )
    if result.rejected:
        # Only a run that starts or ends inside the repeated hour without showing both runs.
        assert all("happens twice" in r.reason for r in result.rejected)
        return
    assert result.intervals == expected
    assert result.rows_read == len(values)


CELLS = st.one_of(
    st.sampled_from(
        [
            *("01.03.2024 00:00", "31.03.2024 02:30", "27.10.2024 02:00", "2024-03-01T00:00:00Z"),
            *("13/02/2024 24:00", "0,5", "1.5", "-1", "", "1e999", "1.234,5", "02:00", '"', "nan"),
        ]
    ),
    st.text(max_size=12),
)


@given(
    rows=st.lists(st.lists(CELLS, max_size=4), max_size=10),
    delimiter=st.sampled_from([";", ",", "\t", "|"]),
    kind=st.sampled_from(["energy", "power", "register"]),
    zone=st.sampled_from(["Europe/Vienna", "America/Santiago", "Australia/Lord_Howe"]),
)
def test_any_text_reads_or_is_refused_with_field_errors(rows, delimiter, kind, zone):
    """No input gives anything but a result or field errors; a result's intervals never
    overlap and never hold a negative value."""
    data = "\n".join(delimiter.join(row) for row in rows).encode()
    unit = "W" if kind == "power" else "Wh"
    try:
        result = read(data, meter_zone=zone, value_kind=kind, value_unit=unit)
    except Invalid as refused:
        assert refused.errors
        return
    for before, after in zip(result.intervals, result.intervals[1:], strict=False):
        assert before.end <= after.start
    assert all(i.end > i.start and i.value >= 0 for i in result.intervals)
