"""The CSV fixtures imported into meters through the import service: the readings stored are
the file's, and importing a file again changes nothing."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from energy import imports
from energy.models import Reading

CSV = Path(__file__).parents[1] / "fixtures" / "energy" / "csv"

CASES = [
    (
        "at_portal_15min_kwh_end.csv",
        {"timestamp": "Messzeitpunkt", "value": "Verbrauch [kWh]", "stamp_marks": "end"}
        | {"value_kind": "energy", "value_unit": "kWh"},
        288,
        33_840,
    ),
    (
        "vienna_dst_autumn_2024.csv",
        {"timestamp": 0, "value": 1, "stamp_marks": "end", "value_kind": "energy"}
        | {"value_unit": "kWh"},
        100,
        50_500,
    ),
    (
        "paris_dst_spring_2024.csv",
        {"timestamp": 0, "value": 1, "stamp_marks": "start", "value_kind": "power"}
        | {"value_unit": "W", "timezone": "Europe/Paris"},
        46,
        34_190,
    ),
    (
        "register_kwh_reset.csv",
        {"timestamp": 0, "value": 1, "stamp_marks": "end", "value_kind": "register"}
        | {"value_unit": "kWh"},
        46,
        20_700,
    ),
]


@pytest.fixture
def vienna_meter(energy_resident, make_meter):
    return make_meter(energy_resident, timezone="Europe/Vienna", label="Wohnung")


def stored(db_session, meter) -> tuple[int, float]:
    count, total = db_session.execute(
        sa.select(sa.func.count(), sa.func.sum(Reading.value)).where(Reading.meter_id == meter.id)
    ).one()
    return count, total or 0.0


@pytest.mark.parametrize(("name", "mapping", "count", "total"), CASES, ids=[c[0] for c in CASES])
def test_a_csv_imports_its_readings_and_again_changes_nothing(
    db_session, vienna_meter, readings_of, name, mapping, count, total
):
    data = (CSV / name).read_bytes()
    user = vienna_meter.user
    first = imports.import_file(db_session, user, vienna_meter, data, name, mapping=mapping)
    assert first.kind == "csv"
    assert (first.summary["intervals"], first.summary["new"]) == (count, count)
    assert stored(db_session, vienna_meter) == (count, pytest.approx(total))
    before = readings_of(vienna_meter)

    again = imports.import_file(db_session, user, vienna_meter, data, name, mapping=mapping)
    assert again.summary["same_file_as"] == first.id
    assert (again.summary["new"], again.summary["replaced"]) == (0, 0)
    assert again.summary["unchanged"] == count
    assert [row[:3] for row in readings_of(vienna_meter)] == [row[:3] for row in before]


def test_the_summary_reports_the_rejected_rows_gaps_and_notes(db_session, vienna_meter):
    data = (CSV / "paris_dst_spring_2024.csv").read_bytes()
    mapping = CASES[2][1]
    row = imports.import_file(
        db_session, vienna_meter.user, vienna_meter, data, "paris.csv", mapping=mapping
    )
    assert row.summary["rows_read"] == 48
    assert [r["line"] for r in row.summary["rejected"]] == [6, 7]
    assert row.summary["rejected_total"] == 2
    register = (CSV / "register_kwh_reset.csv").read_bytes()
    row = imports.import_file(
        db_session, vienna_meter.user, vienna_meter, register, "zaehler.csv", mapping=CASES[3][1]
    )
    assert row.summary["gaps"] == [["2024-05-11T03:00:00+00:00", "2024-05-11T04:00:00+00:00"]]
    assert any("a reset or a new meter" in note for note in row.summary["notes"])


def test_a_water_meter_takes_litres_from_a_register_in_cubic_metres(
    db_session, energy_resident, make_meter
):
    water = make_meter(energy_resident, commodity="water", timezone="Europe/Vienna")
    assert water.unit == "L"
    data = b"Zeit;Zaehlerstand m3\n01.03.2024 00:00;123,456\n01.03.2024 01:00;123,501\n"
    mapping = {"timestamp": 0, "value": 1, "stamp_marks": "end", "value_kind": "register"}
    row = imports.import_file(
        db_session,
        energy_resident,
        water,
        data,
        "wasser.csv",
        mapping=mapping | {"value_unit": "m3"},
    )
    assert row.summary["intervals"] == 1
    assert stored(db_session, water) == (1, pytest.approx(45))
