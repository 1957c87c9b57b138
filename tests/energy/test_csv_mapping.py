"""The column mapping is checked field by field, with a message per field."""

import pytest

from app.errors import Invalid
from energy.csv_reader import Mapping

GOOD = {
    "timestamp": "Messzeitpunkt",
    "value": "Verbrauch [kWh]",
    "stamp_marks": "end",
    "value_kind": "energy",
    "value_unit": "kWh",
}


def errors_of(values) -> dict:
    with pytest.raises(Invalid) as refused:
        Mapping.from_dict(values)
    return refused.value.errors


def test_a_mapping_has_defaults_and_survives_a_round_trip():
    mapping = Mapping.from_dict(GOOD)
    assert mapping.time is None and mapping.timestamp_format is None
    assert mapping.interval_minutes is None and mapping.decimal is None
    assert mapping.timezone is None and mapping.has_header is None
    full = GOOD | {
        "time": 1,
        "timestamp_format": "%d.%m.%Y %H:%M",
        "interval_minutes": 15,
        "decimal": ",",
        "timezone": "Europe/Vienna",
        "has_header": True,
    }
    assert Mapping.from_dict(full).to_dict() == full
    assert Mapping.from_dict(Mapping.from_dict(full).to_dict()) == Mapping.from_dict(full)


def test_units_are_read_in_any_case():
    assert Mapping.from_dict(GOOD | {"value_unit": "KWH"}).value_unit == "kWh"
    assert Mapping.from_dict(GOOD | {"value_unit": "m³"}).value_unit == "m3"
    assert Mapping.from_dict(GOOD | {"value_unit": "l"}).value_unit == "L"


def test_what_is_needed_is_asked_for():
    assert errors_of({}) == {
        "timestamp": ["Choose the column that holds the time stamps."],
        "value": ["Choose the column that holds the values."],
        "stamp_marks": ["Say whether a time stamp marks the start or the end of its interval."],
        "value_kind": ["Choose energy per interval, average power, or meter readings (register)."],
        "value_unit": ["Must be one of: Wh, kWh, MWh, W, kW, m3, L."],
    }


def test_not_a_mapping_and_unknown_fields():
    assert errors_of(["timestamp"]) == {"mapping": ["Not a valid object."]}
    assert errors_of(GOOD | {"role": "admin", "city_id": 2}) == {
        "role": ["Unknown field."],
        "city_id": ["Unknown field."],
    }


@pytest.mark.parametrize("column", [True, 3.5, -1, 200, "", "   ", "x" * 201, ["a"], {"a": 1}])
def test_a_column_is_a_name_or_a_number(column):
    message = ["Give the column's name, or its number counting from 0."]
    assert errors_of(GOOD | {"timestamp": column, "time": column}) == {
        "timestamp": message,
        "time": message,
    }


def test_the_values_are_not_a_column_of_time_stamps():
    expected = {"value": ["The values cannot come from a column of time stamps."]}
    assert errors_of(GOOD | {"value": "Messzeitpunkt"}) == expected
    assert errors_of(GOOD | {"timestamp": 0, "time": 1, "value": 1}) == expected


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "stamp_marks",
            "middle",
            "Say whether a time stamp marks the start or the end of its interval.",
        ),
        (
            "value_kind",
            "volume",
            "Choose energy per interval, average power, or meter readings (register).",
        ),
        ("value_unit", "kJ", "Must be one of: Wh, kWh, MWh, W, kW, m3, L."),
        ("value_unit", 5, "Must be one of: Wh, kWh, MWh, W, kW, m3, L."),
        (
            "interval_minutes",
            7,
            "Give a number of minutes that divides a day (1, 5, 15, 30, 60 … 1440).",
        ),
        (
            "interval_minutes",
            0,
            "Give a number of minutes that divides a day (1, 5, 15, 30, 60 … 1440).",
        ),
        (
            "interval_minutes",
            2880,
            "Give a number of minutes that divides a day (1, 5, 15, 30, 60 … 1440).",
        ),
        (
            "interval_minutes",
            "15",
            "Give a number of minutes that divides a day (1, 5, 15, 30, 60 … 1440).",
        ),
        (
            "interval_minutes",
            True,
            "Give a number of minutes that divides a day (1, 5, 15, 30, 60 … 1440).",
        ),
        ("decimal", ";", "The decimal mark is “,” or “.”."),
        ("timezone", "Mars/Olympus_Mons", "Not a time zone (e.g. Europe/Vienna)."),
        ("timezone", "../../etc/passwd", "Not a time zone (e.g. Europe/Vienna)."),
        ("timezone", 1, "Not a time zone (e.g. Europe/Vienna)."),
        ("has_header", "yes", "Not a valid yes/no value."),
        ("has_header", 1, "Not a valid yes/no value."),
    ],
)
def test_each_setting_is_checked(field, value, message):
    assert errors_of(GOOD | {field: value}) == {field: [message]}


@pytest.mark.parametrize(
    "pattern", ["%Y", "%H:%M", "%d.%m", "%Q.%m.%Y", "%d.%m.%Y %", "x" * 65, 15, ""]
)
def test_a_pattern_must_read_a_full_date(pattern):
    assert errors_of(GOOD | {"timestamp_format": pattern}) == {
        "timestamp_format": ["Not a date pattern that reads a full date (e.g. %d.%m.%Y %H:%M)."]
    }


@pytest.mark.parametrize(
    "pattern", ["%d.%m.%Y %H:%M", "%Y-%m-%dT%H:%M:%S%z", "%d %b %Y %H:%M", "%m/%d/%y"]
)
def test_patterns_that_read_a_date(pattern):
    assert Mapping.from_dict(GOOD | {"timestamp_format": pattern}).timestamp_format == pattern


def test_power_and_energy_units_fit_their_kind():
    assert errors_of(GOOD | {"value_kind": "power"}) == {
        "value_unit": ["Average power is given in W or kW."]
    }
    assert errors_of(GOOD | {"value_unit": "kW"}) == {
        "value_unit": ["W and kW measure power: choose the value kind “power”, or an energy unit."]
    }
    assert errors_of(GOOD | {"value_kind": "register", "value_unit": "W"})["value_unit"]
    assert Mapping.from_dict(GOOD | {"value_kind": "register", "value_unit": "m3"})


def test_every_problem_at_once():
    errors = errors_of({"timestamp": 0, "value": 0, "stamp_marks": "x", "decimal": "x"})
    assert set(errors) == {"value", "stamp_marks", "value_kind", "value_unit", "decimal"}
