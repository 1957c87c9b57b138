"""A city's saved CSV formats: the column mapping of a meter portal's export, under the
portal's name, so residents import without mapping columns themselves."""

import re

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.errors import Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from energy.csv_mapping import Mapping
from energy.models import CsvPreset
from i18n import _

MAX_NAME = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _taken() -> Invalid:
    return Invalid(errors={"name": [_("Your city has a saved format with this name already.")]})


def create_preset(session: Session, actor: User, city: City, name: str, mapping: dict) -> CsvPreset:
    """Save a checked mapping under a name unique in the city (case aside)."""
    ensure(actor, "energy.presets", city)
    errors: dict[str, list[str]] = {}
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("Give the format a name (the portal's, say).")]
    elif len(name) > MAX_NAME or _CONTROL.search(name):
        errors["name"] = [_("A name has at most %(max)d characters on one line.", max=MAX_NAME)]
    try:
        checked = Mapping.from_dict(mapping).to_dict()
    except Invalid as invalid:
        errors.update(invalid.errors or {})
    if errors:
        raise Invalid(errors=errors)
    if any(other.name.casefold() == name.casefold() for other in presets_of(session, city)):
        raise _taken()
    preset = CsvPreset(city_id=city.id, name=name, mapping=checked)
    try:
        with session.begin_nested():
            session.add(preset)
            session.flush()
    except IntegrityError:
        # The same name saved by a parallel request.
        raise _taken() from None
    audit.record(
        session,
        actor,
        "csv_preset.create",
        "csv_preset",
        preset.id,
        city_id=city.id,
        details={"name": name},
    )
    return preset


def presets_of(session: Session, city: City) -> list[CsvPreset]:
    """The city's saved formats, by name."""
    return list(
        session.scalars(
            sa.select(CsvPreset).where(CsvPreset.city_id == city.id).order_by(CsvPreset.name)
        )
    )


def delete_preset(session: Session, actor: User, preset: CsvPreset) -> None:
    """Remove a saved format; imports made with it keep the mapping they used."""
    # Checked on the city, as saving is: who cannot see its console does not see its presets.
    ensure(actor, "energy.presets", session.get(City, preset.city_id))
    audit.record(
        session,
        actor,
        "csv_preset.delete",
        "csv_preset",
        preset.id,
        city_id=preset.city_id,
        details={"name": preset.name},
    )
    session.delete(preset)
    session.flush()


def preset_of_city(session: Session, actor: User, city: City, preset_id: int) -> CsvPreset:
    """One of the city's saved formats; NotFound for another city's or none."""
    ensure(actor, "energy.presets", city)
    preset = session.get(CsvPreset, preset_id) if 0 < preset_id < 2**31 else None
    if preset is None or preset.city_id != city.id:
        raise NotFound()
    return preset
