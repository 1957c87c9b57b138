"""The energy tests' world: Lyon's energy feedback consent text, a resident who agreed to it,
their electricity meter, and the Green Button files (tests/fixtures/energy/greenbutton)."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from app import consent
from app.consent_models import Purpose
from app.models import Role
from energy import meters
from energy.models import MeterImport, Reading

GREENBUTTON = Path(__file__).parents[1] / "fixtures" / "energy" / "greenbutton"

ENERGY_TEXT = {
    "fr": "Vos relevés de compteur servent uniquement à vous donner des conseils d'économie.",
    "en": "Your meter readings are used only to give you energy-saving feedback.",
}


@pytest.fixture
def city_admin(lyon, make_user):
    """An admin of Lyon (publishes consent texts)."""
    return make_user(lyon, role=Role.ADMIN)


@pytest.fixture
def publish_energy_text(db_session, operator):
    """Publish a new version of a city's energy feedback text (version 1, 2, …)."""

    def publish(city, text=None):
        return consent.publish_text(
            db_session, operator(city), city, Purpose.ENERGY_FEEDBACK, text or ENERGY_TEXT
        )

    return publish


@pytest.fixture
def energy_text(lyon, publish_energy_text):
    """Version 1 of Lyon's energy feedback text, published."""
    return publish_energy_text(lyon)


@pytest.fixture
def agree(db_session):
    """Give a person's consent to the current energy feedback text of their city."""

    def give(user):
        text = consent.current_text(db_session, user.city_id, Purpose.ENERGY_FEEDBACK)
        return consent.give_consent(db_session, user, Purpose.ENERGY_FEEDBACK, text.version)[0]

    return give


@pytest.fixture
def energy_resident(resident, energy_text, agree):
    """A resident of Lyon who agreed to the energy feedback text."""
    agree(resident)
    return resident


@pytest.fixture
def make_meter(db_session):
    """A meter of a person who has consented (electricity in Wh unless told otherwise)."""

    def make(user, commodity="electricity", **values):
        return meters.create_meter(db_session, user, commodity=commodity, **values)

    return make


@pytest.fixture
def meter(energy_resident, make_meter):
    """The energy resident's electricity meter (Wh, Europe/Paris)."""
    return make_meter(energy_resident, label="Appartement")


@pytest.fixture
def greenbutton():
    """The bytes of a Green Button fixture file."""

    def read(name: str) -> bytes:
        return (GREENBUTTON / name).read_bytes()

    return read


@pytest.fixture
def readings_of(db_session):
    """A meter's stored readings as (start, end, value, import id), in time order."""

    def rows(meter) -> list[tuple]:
        return [
            tuple(row)
            for row in db_session.execute(
                sa.select(Reading.start_at, Reading.end_at, Reading.value, Reading.import_id)
                .where(Reading.meter_id == meter.id)
                .order_by(Reading.start_at)
            )
        ]

    return rows


@pytest.fixture
def imports_of(db_session):
    """A meter's import rows, oldest first."""

    def rows(meter) -> list[MeterImport]:
        return list(
            db_session.scalars(
                sa.select(MeterImport)
                .where(MeterImport.meter_id == meter.id)
                .order_by(MeterImport.id)
            )
        )

    return rows


@pytest.fixture
def energy_headers(bearer, energy_resident):
    """The energy resident's API headers, answers in English."""
    return bearer(energy_resident, **{"Accept-Language": "en"})
