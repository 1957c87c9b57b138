"""What the energy and consent pages of the console could change, for the permission table."""

import sqlalchemy as sa

from app.consent_models import ConsentText
from app.models import City
from energy.models import CsvPreset, Tariff, TemperatureDay


def energy_state(session) -> tuple:
    """Consent texts, tariffs, CSV formats, daily temperatures and the cities' districts."""
    return (
        tuple(session.execute(sa.select(ConsentText.id, ConsentText.version, ConsentText.text))),
        tuple(session.execute(sa.select(Tariff.city_id, Tariff.commodity, Tariff.price))),
        tuple(session.execute(sa.select(CsvPreset.id, CsvPreset.name, CsvPreset.mapping))),
        tuple(session.execute(sa.select(TemperatureDay.city_id, TemperatureDay.day))),
        tuple(session.execute(sa.select(City.slug, City.districts))),
    )
