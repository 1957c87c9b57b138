"""A household's own meters and their interval readings, imported from files or a provider.

Readings are consumption over ``[start_at, end_at)`` in UTC, kept at the resolution
received (15 min, 30 min, an hour, a day), in the meter's base unit: Wh for electricity,
district heat and gas measured as energy, m³ for gas measured by volume, litres for water.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import User


class Commodity(enum.StrEnum):
    ELECTRICITY = "electricity"
    DISTRICT_HEAT = "district_heat"
    GAS = "gas"
    WATER = "water"


class Unit(enum.StrEnum):
    WH = "Wh"
    M3 = "m3"
    LITRE = "L"


class DwellingType(enum.StrEnum):
    APARTMENT = "apartment"
    TERRACED = "terraced"
    SEMI_DETACHED = "semi_detached"
    DETACHED = "detached"
    OTHER = "other"


class HeatingType(enum.StrEnum):
    DISTRICT_HEAT = "district_heat"
    GAS = "gas"
    HEAT_PUMP = "heat_pump"
    ELECTRIC = "electric"
    OIL = "oil"
    WOOD = "wood"
    OTHER = "other"


class Household(Base):
    """Facts about a resident's household, used only to compare it fairly with similar ones."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    people: Mapped[int | None] = mapped_column(nullable=True)
    floor_area_m2: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    dwelling_type: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    heating_type: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Household {self.id} user={self.user_id}>"


class Meter(Base):
    """One of a resident's meters."""

    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    commodity: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    #: IANA zone of the meter's local times (file timestamps, day boundaries); the city's by
    #: default.
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: The resident's own name for it ("Flat", "Heat pump").
    label: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Meter {self.id} {self.commodity} user={self.user_id}>"


class Reading(Base):
    """Consumption of a meter over ``[start_at, end_at)``, in the meter's base unit."""

    __tablename__ = "meter_readings"

    meter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meters.id", ondelete="CASCADE"), primary_key=True
    )
    start_at: Mapped[datetime] = mapped_column(primary_key=True)
    end_at: Mapped[datetime] = mapped_column(nullable=False)
    value: Mapped[float] = mapped_column(sa.Float, nullable=False)
    #: Where it came from: the import that stored it last (None once rolled up to days).
    import_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("meter_imports.id", ondelete="SET NULL"), nullable=True, index=True
    )

    def __repr__(self) -> str:
        return f"<Reading meter={self.meter_id} {self.start_at:%Y-%m-%d %H:%M} {self.value}>"


class ImportKind(enum.StrEnum):
    GREEN_BUTTON = "greenbutton"
    CSV = "csv"
    PROVIDER = "provider"


class MeterImport(Base):
    """One file (or one provider fetch) read into a meter, with what it did."""

    __tablename__ = "meter_imports"
    __table_args__ = (sa.Index("ix_meter_imports_meter", "meter_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meters.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: The file's name as given, cleaned (shown to the resident only).
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    #: SHA-256 of the content: the same file again is recognised and said so.
    content_sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: What the import did: rows read, intervals stored, replaced, unchanged, duplicates
    #: dropped, gaps, rejected rows with line numbers, the period covered.
    summary: Mapped[dict] = mapped_column(nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<MeterImport {self.id} {self.kind} meter={self.meter_id}>"


class CsvPreset(Base):
    """A city's saved column mapping for a meter portal's CSV export."""

    __tablename__ = "meter_csv_presets"
    __table_args__ = (sa.UniqueConstraint("city_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    #: How residents pick it: the portal's name ("Wiener Netze Smart Meter-Webportal").
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: The mapping the CSV reader takes (energy/csv_reader.py ``Mapping``).
    mapping: Mapped[dict] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<CsvPreset {self.name!r} city={self.city_id}>"
