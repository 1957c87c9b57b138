"""Meter-portal CSV files read into intervals: each fixture's counts and totals worked out by
hand, clock changes, register readings, units, and every reason a row is rejected."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.errors import Invalid
from energy.csv_reader import Mapping, read_csv
from energy.intervals import find_gaps

CSV = Path(__file__).parents[1] / "fixtures" / "energy" / "csv"
VIENNA = ZoneInfo("Europe/Vienna")
QUARTER = timedelta(minutes=15)
HALF_HOUR = timedelta(minutes=30)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def mapping(**values) -> Mapping:
    """Columns 0 (stamps, start of interval) and 1 (kWh per interval) unless told otherwise."""
    return Mapping.from_dict(
        {"timestamp": 0, "value": 1, "stamp_marks": "start", "value_kind": "energy"}
        | {"value_unit": "kWh"}
        | values
    )


def lines(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def read(data: bytes, meter_zone="Europe/Vienna", meter_unit="Wh", **values):
    return read_csv(data, mapping(**values), meter_zone, meter_unit)


END_KWH = {"stamp_marks": "end", "value_kind": "energy", "value_unit": "kWh"}
START_KWH = {"stamp_marks": "start", "value_kind": "energy", "value_unit": "kWh"}
START_WATTS = {"stamp_marks": "start", "value_kind": "power", "value_unit": "W"}

# file, mapping, meter zone, rows read, intervals, total Wh, period, rejected lines. The totals:
FIXTURES = [
    # 3 days * 96; quarter q of a day: 0.100 + 0.005 * (q mod 8) kWh, so a day is
    # 96 * 0.100 + 0.005 * 12 * (0 + … + 7) = 11.28 kWh; end stamps from 01.01. 00:15 CET.
    (
        "at_portal_15min_kwh_end.csv",
        {"timestamp": "Messzeitpunkt", "value": "Verbrauch [kWh]"} | END_KWH,
        "Europe/Vienna",
        288,
        288,
        33_840,
        ("2023-12-31T23:00", "2024-01-03T23:00"),
        [],
    ),
    # 2 days * 48 half-hours of 300.5 + 50 * (n mod 4) W, i.e. half as many Wh:
    # (48 * 300.5 + 50 * 12 * 6) / 2 = 9,012 Wh a day. Stamps in UTC, whatever the meter's zone.
    (
        "en_portal_30min_watts.csv",
        {"timestamp": "start_time", "value": "average_power_w"} | START_WATTS,
        "Europe/Paris",
        96,
        96,
        18_024,
        ("2024-02-05T00:00", "2024-02-07T00:00"),
        [],
    ),
    # 48 hourly readings rising 0.45 kWh an hour; a new meter on line 32 (reading 30):
    # 47 steps, one unknown, 46 * 0.45 kWh.
    (
        "register_kwh_reset.csv",
        {"timestamp": 0, "value": 1, "stamp_marks": "end", "value_kind": "register"}
        | {"value_unit": "kWh"},
        "Europe/Vienna",
        48,
        46,
        20_700,
        ("2024-05-09T22:00", "2024-05-11T21:00"),
        [],
    ),
    # 24 hours of 0.5 + 0.25 * (h mod 4) kWh: 24 * 0.5 + 0.25 * 6 * 6 = 21 kWh.
    (
        "excel_bom_date_time.csv",
        {"timestamp": "Datum", "time": "Uhrzeit", "value": "Wert (kWh)"} | START_KWH,
        "Europe/Vienna",
        24,
        24,
        21_000,
        ("2024-01-14T23:00", "2024-01-15T23:00"),
        [],
    ),
    # 96 quarters of 0.20 + 0.01 * (q mod 10) kWh: 19.2 + 0.01 * (9 * 45 + 15) = 23.4 kWh.
    (
        "latin1_tab_umlauts.csv",
        {"timestamp": "Beginn", "value": "Menge (kWh)"} | START_KWH,
        "Europe/Vienna",
        96,
        96,
        23_400,
        ("2024-06-02T22:00", "2024-06-03T22:00"),
        [],
    ),
    # 23 hours * 4, row i holding 0.01 * (i + 1) kWh: 10 * 92 * 93 / 2 Wh.
    (
        "vienna_dst_spring_2024.csv",
        {"timestamp": 0, "value": 1} | END_KWH,
        "Europe/Vienna",
        92,
        92,
        42_780,
        ("2024-03-30T23:00", "2024-03-31T22:00"),
        [],
    ),
    # 25 hours * 4: 10 * 100 * 101 / 2 Wh.
    (
        "vienna_dst_autumn_2024.csv",
        {"timestamp": 0, "value": 1} | END_KWH,
        "Europe/Vienna",
        100,
        100,
        50_500,
        ("2024-10-26T22:00", "2024-10-27T23:00"),
        [],
    ),
    # 48 wall-clock half-hours of 1000 + 20 i W, of which 02:00 and 02:30 (i = 4, 5) do not
    # exist: (48 * 1000 + 20 * 1128 - 1080 - 1100) / 2 Wh.
    (
        "paris_dst_spring_2024.csv",
        {"timestamp": 0, "value": 1} | START_WATTS,
        "Europe/Paris",
        48,
        46,
        34_190,
        ("2024-03-30T23:00", "2024-03-31T22:00"),
        [6, 7],
    ),
    # 50 half-hours of 1000 + 20 i W: (50 * 1000 + 20 * 1225) / 2 Wh.
    (
        "paris_dst_autumn_2024.csv",
        {"timestamp": 0, "value": 1} | START_WATTS,
        "Europe/Paris",
        50,
        50,
        37_250,
        ("2024-10-26T22:00", "2024-10-27T23:00"),
        [],
    ),
]


FIXTURES.append(
    # Two lines about the meter before the table; 48 half-hours ending at the stamps, of
    # 400 + 10 * (i mod 12) W: (48 * 400 + 10 * 4 * 66) / 2 Wh.
    (
        "fr_load_curve_preamble.csv",
        {"timestamp": "Horodate", "value": "Valeur"} | START_WATTS | {"stamp_marks": "end"},
        "Europe/Paris",
        48,
        48,
        10_920,
        ("2023-12-31T23:00", "2024-01-01T23:00"),
        [],
    )
)


@pytest.mark.parametrize(
    ("name", "columns", "zone", "rows", "count", "total", "period", "rejected"),
    FIXTURES,
    ids=[fixture[0] for fixture in FIXTURES],
)
def test_each_fixture_reads_with_its_counts_and_total(
    name, columns, zone, rows, count, total, period, rejected
):
    result = read_csv((CSV / name).read_bytes(), Mapping.from_dict(columns), zone, "Wh")
    assert result.rows_read == rows
    assert len(result.intervals) == count
    assert result.total == pytest.approx(total)
    assert result.period == (at(period[0]), at(period[1]))
    assert [rejection.line for rejection in result.rejected] == rejected
    assert result.duplicates_dropped == 0
    assert result.unit == "Wh"
    starts = [interval.start for interval in result.intervals]
    assert starts == sorted(set(starts))
    assert all(i.start.tzinfo == UTC and i.end > i.start for i in result.intervals)
    # Nothing silently dropped: every row is an interval, a rejection or (for a register)
    # the first reading and the one after a reset.
    accounted = len(result.intervals) + len(result.rejected) + result.duplicates_dropped
    assert accounted == rows - (2 if name.startswith("register") else 0)


@pytest.mark.parametrize(
    ("name", "zone", "hours"),
    [
        ("vienna_dst_spring_2024.csv", "Europe/Vienna", 23),
        ("vienna_dst_autumn_2024.csv", "Europe/Vienna", 25),
    ],
)
def test_a_day_of_the_clock_change_has_92_or_100_quarter_hours_in_order(name, zone, hours):
    result = read(
        (CSV / name).read_bytes(), meter_zone=zone, timestamp=0, value=1, stamp_marks="end"
    )
    first = result.intervals[0].start
    assert len(result.intervals) == hours * 4
    # Row i holds 10 (i + 1) Wh and is the i-th quarter-hour after local midnight: the
    # repeated hour's two runs land in their own UTC quarters, summer time first.
    for i, interval in enumerate(result.intervals):
        assert (interval.start, interval.end) == (first + i * QUARTER, first + (i + 1) * QUARTER)
        assert interval.value == pytest.approx(10 * (i + 1))
    assert result.intervals[-1].end - first == timedelta(hours=hours)
    assert result.gaps == []


def test_the_repeated_hour_is_explained_and_the_skipped_one_rejected():
    autumn = read((CSV / "vienna_dst_autumn_2024.csv").read_bytes(), stamp_marks="end")
    assert any(
        "02:00 to 02:45 appear twice" in note and "UTC+02:00" in note and "UTC+01:00" in note
        for note in autumn.notes
    )
    spring = read_csv(
        (CSV / "paris_dst_spring_2024.csv").read_bytes(),
        mapping(value_kind="power", value_unit="W"),
        "Europe/Paris",
        "Wh",
    )
    skipped = "does not exist in Europe/Paris: the clocks moved forward then."
    assert [(r.line, r.reason) for r in spring.rejected] == [
        (6, f"2024-03-31 02:00 {skipped}"),
        (7, f"2024-03-31 02:30 {skipped}"),
    ]
    # The half-hours either side of the jump meet: 01:30 CET ends when 03:00 CEST starts.
    assert spring.gaps == []
    assert spring.intervals[3].end == spring.intervals[4].start == at("2024-03-31T01:00")


def test_paris_autumn_half_hours_land_in_time_order():
    result = read_csv(
        (CSV / "paris_dst_autumn_2024.csv").read_bytes(),
        mapping(value_kind="power", value_unit="W"),
        "Europe/Paris",
        "Wh",
    )
    for i, interval in enumerate(result.intervals):
        assert interval.start == at("2024-10-26T22:00") + i * HALF_HOUR
        assert interval.value == pytest.approx((1000 + 20 * i) / 2)


@pytest.mark.parametrize("columns", [{"timestamp": "Horodate", "value": "Valeur"}, {}])
def test_lines_before_the_table_are_skipped_and_said_so(columns):
    data = (CSV / "fr_load_curve_preamble.csv").read_bytes()
    result = read(data, value_kind="power", value_unit="W", stamp_marks="end", **columns)
    assert (result.rows_read, len(result.intervals), result.rejected) == (48, 48, [])
    assert "Lines 1 to 2 come before the table and were not read." in result.notes


def test_hourly_stamps_twice_in_a_row_are_the_two_hours():
    data = lines(
        "27.10.2024 01:00;1", "27.10.2024 02:00;2", "27.10.2024 02:00;3", "27.10.2024 03:00;4"
    )
    result = read(data)
    assert [(i.start, i.value) for i in result.intervals] == [
        (at("2024-10-26T23:00"), 1000),
        (at("2024-10-27T00:00"), 2000),
        (at("2024-10-27T01:00"), 3000),
        (at("2024-10-27T02:00"), 4000),
    ]
    assert result.rejected == [] and result.gaps == []


def test_a_file_newest_first_reads_the_repeated_hour_the_other_way_round():
    rows = ["27.10.2024 01:00;1", "27.10.2024 02:00;2", "27.10.2024 02:00;3", "27.10.2024 03:00;4"]
    forward = read(lines(*rows))
    backward = read(lines(*reversed(rows)))
    assert backward.intervals == forward.intervals


def test_a_repeated_hour_shown_once_is_rejected_not_guessed():
    data = lines("27.10.2024 01:00;1", "27.10.2024 02:00;2", "27.10.2024 03:00;4")
    result = read(data, interval_minutes=60)
    assert [(r.line, r.reason) for r in result.rejected] == [
        (
            2,
            "2024-10-27 02:00 happens twice in Europe/Vienna (the clocks went back), "
            "and the file does not show which of the two it is.",
        )
    ]
    assert [i.start for i in result.intervals] == [at("2024-10-26T23:00"), at("2024-10-27T02:00")]
    assert result.gaps == [(at("2024-10-27T00:00"), at("2024-10-27T02:00"))]


def test_daily_values_span_the_local_day_of_23_or_25_hours():
    data = lines("30.03.2024;10", "31.03.2024;11", "01.04.2024;12")
    result = read(data)
    assert [(i.start, i.end) for i in result.intervals] == [
        (at("2024-03-29T23:00"), at("2024-03-30T23:00")),
        (at("2024-03-30T23:00"), at("2024-03-31T22:00")),
        (at("2024-03-31T22:00"), at("2024-04-01T22:00")),
    ]
    power = read(
        lines("26.10.2024;100", "27.10.2024;100"),
        value_kind="power",
        value_unit="W",
        interval_minutes=1440,
    )
    assert [i.value for i in power.intervals] == [2400, 2500]


def test_end_of_day_written_as_24_00():
    result = read(lines("01.03.2024 23:45;1", "01.03.2024 24:00;2"), stamp_marks="end")
    assert [i.end for i in result.intervals] == [at("2024-03-01T22:45"), at("2024-03-01T23:00")]


def test_stamps_with_an_offset_keep_it_and_a_mapping_zone_overrides_the_meters():
    offset = read(lines("2024-03-01T00:00:00+05:00;1", "2024-03-01T00:15:00+05:00;1"))
    assert offset.intervals[0].start == at("2024-02-29T19:00")
    lisbon = read(lines("01.03.2024 00:00;1", "01.03.2024 00:15;1"), timezone="Europe/Lisbon")
    assert lisbon.intervals[0].start == at("2024-03-01T00:00")


def test_register_readings_become_consumption_and_a_reset_is_noted():
    result = read_csv(
        (CSV / "register_kwh_reset.csv").read_bytes(),
        mapping(value_kind="register", stamp_marks="end"),
        "Europe/Vienna",
        "Wh",
    )
    assert all(interval.value == pytest.approx(450) for interval in result.intervals)
    assert result.gaps == [(at("2024-05-11T03:00"), at("2024-05-11T04:00"))]
    assert result.notes == [
        "Line 32: the meter reading went down from 12358.65 to 0.30 (a reset or a new meter); "
        "the consumption from 2024-05-11 05:00 to 2024-05-11 06:00 is unknown and left out."
    ]


def test_a_missing_register_reading_makes_one_longer_interval():
    data = lines("01.03.2024 00:00;100", "01.03.2024 00:15;101", "01.03.2024 00:45;103")
    result = read(data, value_kind="register")
    assert [(i.start, i.end, i.value) for i in result.intervals] == [
        (at("2024-02-29T23:00"), at("2024-02-29T23:15"), 1000),
        (at("2024-02-29T23:15"), at("2024-02-29T23:45"), 2000),
    ]


@pytest.mark.parametrize(
    ("kind", "unit", "meter_unit", "value"),
    [
        ("energy", "Wh", "Wh", 250),
        ("energy", "kWh", "Wh", 250_000),
        ("energy", "MWh", "Wh", 250_000_000),
        ("power", "W", "Wh", 62.5),  # 250 W for a quarter of an hour
        ("power", "kW", "Wh", 62_500),
        ("energy", "m3", "m3", 250),
        ("energy", "L", "m3", 0.25),
        ("energy", "m3", "L", 250_000),
        ("register", "L", "L", 250),
    ],
)
def test_values_become_the_meters_base_unit(kind, unit, meter_unit, value):
    data = lines("01.03.2024 00:00;0", "01.03.2024 00:15;250", "01.03.2024 00:30;500")
    result = read(data, meter_unit=meter_unit, value_kind=kind, value_unit=unit)
    assert result.intervals[1].value == pytest.approx(value)
    assert result.unit == meter_unit


@pytest.mark.parametrize(("unit", "meter_unit"), [("kWh", "m3"), ("W", "L"), ("m3", "Wh")])
def test_energy_and_volume_do_not_mix(unit, meter_unit):
    kind = "power" if unit == "W" else "energy"
    with pytest.raises(Invalid) as refused:
        read(lines("01.03.2024 00:00;1"), meter_unit=meter_unit, value_kind=kind, value_unit=unit)
    assert set(refused.value.errors) == {"value_unit"}


def test_every_problem_row_is_rejected_with_its_line_and_reason():
    data = lines(
        "Zeit;Wert;Bemerkung",
        "01.03.2024 00:00;0,5;ok",  # line 2
        "01.03.2024 00:15;0,5;ok",
        ";0,5;no stamp",
        "gestern;0,5;not a date",
        "01.03.2024 00:30;;no value",
        "01.03.2024 00:45;n/a;not a number",
        "01.03.2024 01:00;-0,2;negative",
        "01.03.2024 00:15;0,5;line 3 again: dropped, counted",
        "01.03.2024 00:15;0,7;line 3 with another value",  # line 10
        "01.03.2024 01:15",
        "01.03.2024 01:20;0,5;off the quarter-hours, kept",
        "01.03.2024 01:30;0,5;inside line 12's quarter",
        "31.03.2024 02:15;0,5;skipped by the clocks",
        "01.03.2024 01:45;1e999;not a number here",  # line 15
    )
    result = read(data, timestamp="Zeit", value="Wert", interval_minutes=15)
    assert [(r.line, r.reason) for r in result.rejected] == [
        (4, "The row has no time stamp."),
        (5, "Not a date and time: “gestern”."),
        (6, "The row has no value."),
        (7, "Not a number: “n/a”."),
        (8, "A negative value (-0,2): consumption cannot be negative."),
        (10, "Same time as line 3 but another value (0.7, not 0.5): line 3 is kept."),
        (11, "The row has too few columns (1)."),
        (13, "Overlaps the interval of line 12."),
        (
            14,
            "2024-03-31 02:15 does not exist in Europe/Vienna: the clocks moved forward then.",
        ),
        (15, "Not a number: “1e999”."),
    ]
    assert result.rows_read == 14
    assert result.duplicates_dropped == 1
    assert [(i.start, i.value) for i in result.intervals] == [
        (at("2024-02-29T23:00"), 500),
        (at("2024-02-29T23:15"), 500),
        (at("2024-03-01T00:20"), 500),
    ]
    assert (
        result.gaps
        == find_gaps(result.intervals)
        == [(at("2024-02-29T23:30"), at("2024-03-01T00:20"))]
    )


def test_an_infinite_number_is_not_a_number():
    result = read(lines("2024-03-01 00:00,1", "2024-03-01 00:15,1e999", "2024-03-01 00:30,1"))
    assert [(r.line, r.reason) for r in result.rejected] == [(2, "Not a number: “1e999”.")]


def test_long_cells_are_cut_in_a_reason():
    result = read(lines("01.03.2024 00:00;1", "01.03.2024 00:15;" + "x" * 100), interval_minutes=15)
    assert result.rejected[0].reason == "Not a number: “" + "x" * 39 + "…”."


def test_a_year_of_quarter_hours_reads_fast():
    """35,040 rows, a household-year of 15 minutes with both clock changes (how fast is
    measured in bench/energy_import.py, not asserted here)."""
    stamp = datetime(2023, 1, 1, tzinfo=VIENNA).astimezone(UTC)
    rows = ["Messzeitpunkt;Verbrauch [kWh]"]
    for i in range(35_040):
        end = (stamp + (i + 1) * QUARTER).astimezone(VIENNA)
        rows.append(f"{end:%d.%m.%Y %H:%M};0,{100 + i % 7:03d}")
    data = lines(*rows)
    result = read(data, timestamp="Messzeitpunkt", value="Verbrauch [kWh]", stamp_marks="end")
    assert len(result.intervals) == 35_040
    assert result.rejected == [] and result.gaps == []
    assert result.period == (at("2022-12-31T23:00"), at("2023-12-31T23:00"))
    # 5,005 full weeks of 100 + … + 106 Wh, and 100 + … + 104 for the last five rows.
    assert result.total == pytest.approx(5005 * 721 + 510)


def test_one_line_before_the_table_is_said_so_too():
    data = lines("Zählpunkt AT0010000000000000001000004711234", "Zeit;Wert", "01.03.2024 00:00;1")
    result = read(data, timestamp="Zeit", value="Wert", interval_minutes=15)
    assert result.notes == ["Line 1 comes before the table and was not read."]
    assert result.rows_read == 1
