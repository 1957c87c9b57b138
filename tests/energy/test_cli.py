"""``flask energy import``: an operator imports a resident's meter file, with the resident's
consent, and reads what the import did; refusals are clear messages with exit code 1."""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import consent
from app.consent_models import Purpose
from app.models import Role
from energy import presets
from energy.models import Meter, MeterImport, Reading
from tests.energy.fixtures import GREENBUTTON
from tests.energy.helpers import START, Point, quarter_hours, usage_feed

PORTAL_CSV = (
    "Messzeitpunkt;Verbrauch [kWh]\n"
    "01.03.2024 00:15;0,250\n"
    "01.03.2024 00:30;0,300\n"
    "01.03.2024 00:45;0,350\n"
    "01.03.2024 01:00;0,400\n"
)
PORTAL_MAPPING = {
    "timestamp": "Messzeitpunkt",
    "value": "Verbrauch [kWh]",
    "stamp_marks": "end",
    "value_kind": "energy",
    "value_unit": "kWh",
}


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["energy", "import", *map(str, args)])

    return invoke


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def stored(session, meter) -> float:
    return session.scalar(sa.select(sa.func.sum(Reading.value)).where(Reading.meter_id == meter.id))


def test_a_green_button_file_with_the_readmes_figures_then_again(run, db_session, meter):
    path = GREENBUTTON / "test_usage_data.xml"
    first = run(path, "--meter", meter.id)
    assert first.exit_code == 0, first.output
    assert "Importing" in first.output  # the progress bar
    assert "rows read: 1,340" in first.output
    assert "intervals: 1,340 (1,340 new, 0 replaced, 0 unchanged)" in first.output
    assert "period: 2012-03-01T05:00:00+00:00 -> 2012-03-15T04:00:00+00:00" in first.output
    assert "stored over the period: 1,391,666 Wh" in first.output
    assert "rejected rows: 0" in first.output
    assert count(db_session, Reading) == 1340
    assert stored(db_session, meter) == 1_391_666

    second = run(path, "--meter", meter.id)
    assert second.exit_code == 0, second.output
    earlier = db_session.scalars(sa.select(MeterImport.id).order_by(MeterImport.id)).first()
    assert f"the same file as import {earlier}: nothing changed" in second.output
    assert "intervals: 1,340 (0 new, 0 replaced, 1,340 unchanged)" in second.output
    assert stored(db_session, meter) == 1_391_666


def test_a_csv_with_a_mapping_or_a_preset(run, db_session, tmp_path, lyon, make_user, meter):
    path = tmp_path / "portal.csv"
    path.write_text(PORTAL_CSV)
    done = run(path, "--meter", meter.id, "--mapping", json.dumps(PORTAL_MAPPING))
    assert done.exit_code == 0, done.output
    assert "intervals: 4 (4 new" in done.output
    assert stored(db_session, meter) == pytest.approx(1300)
    staff = make_user(lyon, role=Role.STAFF)
    presets.create_preset(db_session, staff, lyon, "Portail", PORTAL_MAPPING)
    db_session.commit()
    again = run(path, "--meter", meter.id, "--preset", "Portail")
    assert again.exit_code == 0, again.output
    assert "4 unchanged" in again.output
    unknown = run(path, "--meter", meter.id, "--preset", "Elsewhere")
    assert unknown.exit_code == 1
    assert "no preset 'Elsewhere' (it has: 'Portail')" in unknown.output


def test_each_usage_point_as_a_meter_of_its_own(
    run, db_session, tmp_path, energy_resident, make_user, lyon
):
    path = tmp_path / "two.xml"
    path.write_bytes(
        usage_feed(
            Point("A1", "Flat", readings=quarter_hours(START, 4)),
            Point("B2", "Garage", readings=quarter_hours(START, 8, lambda i: 10)),
        )
    )
    done = run(path, "--each-usage-point", "--as", energy_resident.email)
    assert done.exit_code == 0, done.output
    assert "usage point A1" in done.output and "usage point B2" in done.output
    made = db_session.scalars(sa.select(Meter).order_by(Meter.id)).all()
    assert [m.label for m in made] == ["Flat", "Garage"]
    assert {m.user_id for m in made} == {energy_resident.id}
    assert stored(db_session, made[1]) == 80


def test_several_usage_points_need_a_choice(run, db_session, tmp_path, meter):
    path = tmp_path / "two.xml"
    path.write_bytes(
        usage_feed(
            Point("A1", "Flat", readings=quarter_hours(START, 4)),
            Point("B2", "Garage", readings=quarter_hours(START, 4)),
        )
    )
    refused = run(path, "--meter", meter.id)
    assert refused.exit_code == 1
    assert "usage_point: " in refused.output and "A1: Flat" in refused.output
    chosen = run(path, "--meter", meter.id, "--usage-point", "A1")
    assert chosen.exit_code == 0, chosen.output
    assert count(db_session, Reading) == 4


def test_the_residents_consent_is_needed(run, db_session, meter, energy_resident):
    consent.withdraw_consent(db_session, energy_resident, Purpose.ENERGY_FEEDBACK)
    db_session.commit()
    refused = run(GREENBUTTON / "test_usage_data_01.xml", "--meter", meter.id)
    assert refused.exit_code == 1
    assert "agree to the consent text" in refused.output
    assert count(db_session, Reading) == 0
    assert count(db_session, MeterImport) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Give either --meter ID or --each-usage-point"),
        (["--meter", "{meter}", "--each-usage-point", "--as", "x@example.org"], "either"),
        (["--meter", "999999"], "There is no meter 999999."),
        (["--meter", "{meter}", "--as", "nobody@example.org"], "no account nobody@example.org"),
        (["--meter", "{meter}", "--mapping", "{not json"], "--mapping is not valid JSON"),
        (["--meter", "{meter}", "--mapping", "[]"], "--mapping must be a JSON object."),
        (["--meter", "{meter}", "--mapping", "{}", "--preset", "P"], "not both"),
        (["--each-usage-point"], "needs --as EMAIL"),
    ],
)
def test_wrong_options_are_clear_errors(run, db_session, meter, args, message):
    path = GREENBUTTON / "test_usage_data_01.xml"
    result = run(path, *(a.replace("{meter}", str(meter.id)) for a in args))
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert count(db_session, MeterImport) == 0


def test_another_persons_meter_is_refused(run, db_session, lyon, make_user, meter):
    someone = make_user(lyon)
    result = run(GREENBUTTON / "test_usage_data_01.xml", "--meter", meter.id, "--as", someone.email)
    assert result.exit_code == 1
    assert f"Meter {meter.id} is not {someone.email}'s." in result.output


def test_a_file_that_is_not_meter_data(run, db_session, tmp_path, meter):
    path = tmp_path / "photo.xml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = run(path, "--meter", meter.id)
    assert result.exit_code == 1
    assert "file: This is not a meter data file." in result.output
    assert count(db_session, MeterImport) == 0


def test_a_missing_file(run, meter):
    result = run(Path("/nonexistent/usage.xml"), "--meter", meter.id)
    assert result.exit_code == 2
    assert "does not exist" in result.output
