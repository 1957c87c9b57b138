"""Meters and household facts: only with consent, only the owner's, checked field by field;
withdrawing the consent deletes the readings."""

import pytest
import sqlalchemy as sa

from app import consent
from app.consent_models import Purpose
from app.db import MAX_ID
from app.errors import Conflict, Invalid, NotFound
from energy import meters
from energy.imports import import_file
from energy.models import Household, Meter, MeterImport, Reading


def count(db_session, model) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def test_nothing_is_stored_before_consent(db_session, resident, energy_text):
    with pytest.raises(Conflict) as refused:
        meters.create_meter(db_session, resident, commodity="electricity")
    assert refused.value.slug == "consent-required"
    with pytest.raises(Conflict):
        meters.set_household(db_session, resident, people=2)
    assert count(db_session, Meter) == count(db_session, Household) == 0


def test_a_meter_takes_its_commoditys_unit_and_the_citys_zone(db_session, energy_resident):
    meter = meters.create_meter(db_session, energy_resident, commodity="electricity")
    assert (meter.unit, meter.timezone, meter.label) == ("Wh", "Europe/Paris", "")
    assert (meter.user_id, meter.city_id) == (energy_resident.id, energy_resident.city_id)
    water = meters.create_meter(db_session, energy_resident, commodity="water", label=" Eau ")
    assert (water.unit, water.label) == ("L", "Eau")
    gas = meters.create_meter(
        db_session, energy_resident, commodity="gas", unit="m3", timezone="Europe/Vienna"
    )
    assert (gas.unit, gas.timezone) == ("m3", "Europe/Vienna")
    assert meters.meters_of(db_session, energy_resident) == [meter, water, gas]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"commodity": "nuclear"}, "commodity"),
        ({"commodity": "electricity", "unit": "m3"}, "unit"),
        ({"commodity": "water", "unit": "Wh"}, "unit"),
        ({"commodity": "gas", "unit": "kWh"}, "unit"),
        ({"commodity": "gas", "timezone": "Mars/Olympus"}, "timezone"),
        ({"commodity": "gas", "timezone": "../../etc/passwd"}, "timezone"),
        ({"commodity": "gas", "label": "x" * 101}, "label"),
    ],
)
def test_meter_fields_are_checked(db_session, energy_resident, values, field):
    with pytest.raises(Invalid) as refused:
        meters.create_meter(db_session, energy_resident, **values)
    assert list(refused.value.errors) == [field]
    assert count(db_session, Meter) == 0


def test_a_household_has_a_limit_of_meters(db_session, energy_resident, make_meter):
    for _ in range(meters.MAX_METERS):
        make_meter(energy_resident)
    with pytest.raises(Conflict):
        make_meter(energy_resident)


def test_another_residents_meter_is_not_found(db_session, lyon, make_user, agree, meter):
    neighbour = make_user(lyon)
    agree(neighbour)
    assert meters.get_meter(db_session, meter.user, meter.id) == meter
    for meter_id in (meter.id, meter.id + 1000, 0, -1, MAX_ID + 1):
        with pytest.raises(NotFound):
            meters.get_meter(db_session, neighbour, meter_id)
    with pytest.raises(NotFound):
        meters.update_meter(db_session, neighbour, meter, label="Mine now")
    with pytest.raises(NotFound):
        meters.delete_meter(db_session, neighbour, meter)
    assert meters.meters_of(db_session, neighbour) == []
    assert meter.label == "Appartement"


def test_updating_changes_only_the_given_fields(db_session, meter):
    meters.update_meter(db_session, meter.user, meter, label="Flat", timezone="Europe/Madrid")
    assert (meter.label, meter.timezone, meter.commodity) == (
        "Flat",
        "Europe/Madrid",
        "electricity",
    )
    with pytest.raises(Invalid) as refused:
        meters.update_meter(db_session, meter.user, meter, user_id=999, label="x")
    assert refused.value.errors == {"user_id": ["Unknown field."]}
    meters.update_meter(db_session, meter.user, meter, commodity="gas", unit="m3")
    assert (meter.commodity, meter.unit) == ("gas", "m3")
    meters.update_meter(db_session, meter.user, meter, commodity="water")
    assert (meter.commodity, meter.unit) == ("water", "L")
    meters.update_meter(db_session, meter.user, meter, commodity="gas", unit="m3")
    meters.update_meter(db_session, meter.user, meter, commodity="gas", label="Gaz")
    assert (meter.commodity, meter.unit) == ("gas", "m3")
    meters.update_meter(db_session, meter.user, meter, commodity="district_heat")
    assert (meter.commodity, meter.unit) == ("district_heat", "Wh")


def test_the_unit_stays_while_readings_are_stored(db_session, meter, greenbutton):
    import_file(db_session, meter.user, meter, greenbutton("test_usage_data_01.xml"), "a.xml")
    with pytest.raises(Invalid) as refused:
        meters.update_meter(db_session, meter.user, meter, commodity="gas", unit="m3")
    assert set(refused.value.errors) == {"commodity", "unit"}
    meters.update_meter(db_session, meter.user, meter, label="Still fine")
    assert (meter.commodity, meter.unit, meter.label) == ("electricity", "Wh", "Still fine")


def test_deleting_a_meter_deletes_its_readings_and_imports(db_session, meter, greenbutton):
    import_file(db_session, meter.user, meter, greenbutton("test_usage_data_01.xml"), "a.xml")
    assert count(db_session, Reading) == 96
    meters.delete_meter(db_session, meter.user, meter)
    assert (
        count(db_session, Reading)
        == count(db_session, MeterImport)
        == count(db_session, Meter)
        == 0
    )


def test_household_facts_are_set_checked_and_cleared(db_session, energy_resident):
    assert meters.household_of(db_session, energy_resident) is None
    household = meters.set_household(
        db_session, energy_resident, people=3, floor_area_m2=72, dwelling_type="apartment"
    )
    assert (household.people, household.floor_area_m2, household.dwelling_type) == (
        3,
        72.0,
        "apartment",
    )
    meters.set_household(db_session, energy_resident, heating_type="heat_pump", people=None)
    household = meters.household_of(db_session, energy_resident)
    assert (household.people, household.heating_type, household.floor_area_m2) == (
        None,
        "heat_pump",
        72.0,
    )


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"people": 0}, "people"),
        ({"people": 21}, "people"),
        ({"people": 2.5}, "people"),
        ({"people": True}, "people"),
        ({"floor_area_m2": 4}, "floor_area_m2"),
        ({"floor_area_m2": 2001}, "floor_area_m2"),
        ({"floor_area_m2": "big"}, "floor_area_m2"),
        ({"dwelling_type": "castle"}, "dwelling_type"),
        ({"heating_type": "fireplace"}, "heating_type"),
        ({"city_id": 2}, "city_id"),
    ],
)
def test_household_facts_are_checked(db_session, energy_resident, facts, field):
    with pytest.raises(Invalid) as refused:
        meters.set_household(db_session, energy_resident, **facts)
    assert list(refused.value.errors) == [field]
    assert meters.household_of(db_session, energy_resident) is None


def test_withdrawing_the_consent_deletes_the_readings(
    db_session, lyon, make_user, agree, make_meter, meter, greenbutton
):
    neighbour = make_user(lyon)
    agree(neighbour)
    theirs = make_meter(neighbour)
    data = greenbutton("test_usage_data_01.xml")
    import_file(db_session, meter.user, meter, data, "mine.xml")
    import_file(db_session, neighbour, theirs, data, "theirs.xml")
    assert meters.readings_count(db_session, meter.user) == 96
    deleted = meters.withdraw_energy_consent(db_session, meter.user)
    assert deleted == 96
    assert meters.readings_count(db_session, meter.user) == 0
    assert consent.active_consent(db_session, meter.user, Purpose.ENERGY_FEEDBACK) is None
    assert (
        db_session.scalar(
            sa.select(sa.func.count())
            .select_from(MeterImport)
            .where(MeterImport.meter_id == meter.id)
        )
        == 0
    )
    # The neighbour's readings stay; and nothing more is stored without agreeing again.
    assert meters.readings_count(db_session, neighbour) == 96
    with pytest.raises(Conflict):
        import_file(db_session, meter.user, meter, data, "again.xml")
    with pytest.raises(Conflict):
        meters.create_meter(db_session, meter.user, commodity="gas")
