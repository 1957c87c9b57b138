"""A city's saved CSV formats: staff and admins keep them, residents import with them."""

from pathlib import Path

import pytest

from app.errors import Invalid, NotAllowed, NotFound
from app.models import Role
from energy import imports, presets
from energy.csv_reader import Mapping
from energy.models import CsvPreset

CSV = Path(__file__).parents[1] / "fixtures" / "energy" / "csv"
PORTAL = {
    "timestamp": "Messzeitpunkt",
    "value": "Verbrauch [kWh]",
    "stamp_marks": "end",
    "value_kind": "energy",
    "value_unit": "kwh",
    "timezone": "Europe/Vienna",
}


@pytest.fixture
def staff(lyon, make_user):
    return make_user(lyon, role=Role.STAFF)


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admins_save_a_checked_mapping(db_session, lyon, make_user, role):
    keeper = make_user(lyon, role=role)
    preset = presets.create_preset(db_session, keeper, lyon, "  Wiener Netze  ", PORTAL)
    assert preset.id is not None and preset.city_id == lyon.id
    assert preset.name == "Wiener Netze"
    # Stored as the reader takes it: every field, the unit spelled as the reader spells it.
    assert preset.mapping == Mapping.from_dict(PORTAL).to_dict()
    assert preset.mapping["value_unit"] == "kWh"
    assert db_session.get(CsvPreset, preset.id).mapping["interval_minutes"] is None


@pytest.mark.parametrize(
    ("role", "refusal"),
    [(None, NotFound), (Role.MODERATOR, NotAllowed), (Role.RESEARCHER, NotAllowed)],
)
def test_others_may_not_save_or_delete_one(db_session, lyon, make_user, staff, role, refusal):
    # A resident does not even see the city's console: to them it is not found.
    person = make_user(lyon, role=role)
    with pytest.raises(refusal):
        presets.create_preset(db_session, person, lyon, "Portail", PORTAL)
    preset = presets.create_preset(db_session, staff, lyon, "Portail", PORTAL)
    with pytest.raises(refusal):
        presets.delete_preset(db_session, person, preset)
    assert presets.presets_of(db_session, lyon) == [preset]


def test_another_citys_staff_do_not_find_them(db_session, lyon, vienna, make_user, staff):
    elsewhere = make_user(vienna, role=Role.STAFF)
    with pytest.raises(NotFound):
        presets.create_preset(db_session, elsewhere, lyon, "Portail", PORTAL)
    preset = presets.create_preset(db_session, staff, lyon, "Portail", PORTAL)
    with pytest.raises(NotFound):
        presets.delete_preset(db_session, elsewhere, preset)
    assert presets.presets_of(db_session, lyon) == [preset]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the format a name (the portal's, say)."),
        ("   ", "Give the format a name (the portal's, say)."),
        (None, "Give the format a name (the portal's, say)."),
        ("x" * 101, "A name has at most 100 characters on one line."),
        ("Portail\nEnedis", "A name has at most 100 characters on one line."),
    ],
)
def test_a_name_is_needed(db_session, lyon, staff, name, message):
    with pytest.raises(Invalid) as refused:
        presets.create_preset(db_session, staff, lyon, name, PORTAL)
    assert refused.value.errors == {"name": [message]}


def test_name_and_mapping_problems_come_together(db_session, lyon, staff):
    with pytest.raises(Invalid) as refused:
        presets.create_preset(db_session, staff, lyon, "", PORTAL | {"decimal": ";", "x": 1})
    assert set(refused.value.errors) == {"name", "decimal", "x"}
    with pytest.raises(Invalid) as refused:
        presets.create_preset(db_session, staff, lyon, "Portail", "not a mapping")
    assert refused.value.errors == {"mapping": ["Not a valid object."]}
    assert presets.presets_of(db_session, lyon) == []


def test_a_name_is_unique_in_its_city_case_aside(db_session, lyon, vienna, make_user, staff):
    presets.create_preset(db_session, staff, lyon, "Portail Enedis", PORTAL)
    with pytest.raises(Invalid) as refused:
        presets.create_preset(db_session, staff, lyon, "portail enedis", PORTAL)
    assert refused.value.errors == {
        "name": ["Your city has a saved format with this name already."]
    }
    other = make_user(vienna, role=Role.ADMIN)
    assert presets.create_preset(db_session, other, vienna, "Portail Enedis", PORTAL)


def test_a_citys_presets_by_name_and_deleted(db_session, lyon, vienna, make_user, staff):
    second = presets.create_preset(db_session, staff, lyon, "Netz Burgenland", PORTAL)
    first = presets.create_preset(db_session, staff, lyon, "Enedis", PORTAL)
    presets.create_preset(db_session, make_user(vienna, role=Role.STAFF), vienna, "Wien", PORTAL)
    assert presets.presets_of(db_session, lyon) == [first, second]
    presets.delete_preset(db_session, staff, first)
    assert presets.presets_of(db_session, lyon) == [second]
    assert db_session.get(CsvPreset, first.id) is None


def test_a_resident_imports_with_a_preset(db_session, lyon, staff, meter, imports_of):
    preset = presets.create_preset(db_session, staff, lyon, "Wiener Netze", PORTAL)
    data = (CSV / "at_portal_15min_kwh_end.csv").read_bytes()
    row = imports.import_file(
        db_session, meter.user, meter, data, "export.csv", mapping=preset.mapping
    )
    # The preset's zone (Vienna), not the meter's (Paris): the same clock in Vienna and Lyon.
    assert row.summary["intervals"] == 288
    assert row.summary["period"] == ["2023-12-31T23:00:00+00:00", "2024-01-03T23:00:00+00:00"]
    # Deleting the preset leaves the import's record of the mapping it used.
    presets.delete_preset(db_session, staff, preset)
    assert imports_of(meter)[0].summary["mapping"] == preset.mapping
