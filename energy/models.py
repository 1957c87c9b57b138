"""A household's own meters and their interval readings, imported from files or a provider.

Readings are consumption over ``[start_at, end_at)`` in UTC, kept at the resolution
received (15 min, 30 min, an hour, a day), in the meter's base unit: Wh for electricity,
district heat and gas measured as energy, m³ for gas measured by volume, litres for water.
"""

import enum
from datetime import date, datetime

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
    #: One of the city's districts (``City.districts``), for the staff's district totals.
    district: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    #: The energy campaign the household takes part in, and the local day it joined: its
    #: savings are counted against its own baseline from that day on.
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True, index=True
    )
    joined_on: Mapped[date | None] = mapped_column(nullable=True)
    #: The saving the resident aims for, in per cent of the baseline (e.g. 10.0).
    goal_percent: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    goal_set_at: Mapped[datetime | None] = mapped_column(nullable=True)
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


class Tariff(Base):
    """A city's price per unit of a commodity, for the yearly cost of a household's baseload."""

    __tablename__ = "energy_tariffs"

    city_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cities.id", ondelete="CASCADE"), primary_key=True
    )
    commodity: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    #: Price of one kWh (electricity, heat, gas by energy), m³ (gas by volume) or litre
    #: (water), in ``currency``.
    price: Mapped[float] = mapped_column(sa.Numeric(10, 5), nullable=False)
    #: ISO 4217 code: EUR, BGN, UAH, JPY…
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)


class TemperatureDay(Base):
    """A city's daily mean outdoor temperature, imported by staff, for heating degree days."""

    __tablename__ = "city_temperatures"

    city_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cities.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    mean_c: Mapped[float] = mapped_column(sa.Float, nullable=False)
    imported_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)


class FeedbackPeriod(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"


class FeedbackReport(Base):
    """A meter's feedback for one ISO week or calendar month of its clock, as computed.

    ``figures`` holds every number shown, each with how it was computed (the readings'
    span and count, the method); ``tips`` the tips chosen with their reasons. Recomputing a
    period replaces its report; one notification per person and period tells of it.
    """

    __tablename__ = "energy_feedback_reports"
    __table_args__ = (
        sa.UniqueConstraint("meter_id", "period", "starts_on"),
        sa.Index("ix_energy_feedback_reports_city_period", "city_id", "period", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meters.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    commodity: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    period: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    #: First and last local day of the period (inclusive).
    starts_on: Mapped[date] = mapped_column(nullable=False)
    ends_on: Mapped[date] = mapped_column(nullable=False)
    #: The period's consumption in the meter's base unit (also in ``figures``): the cohort
    #: comparison and the district totals read it without opening the JSON.
    consumption: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    #: The household's saving against its baseline over the period, in the base unit.
    saving: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    figures: Mapped[dict] = mapped_column(nullable=False, default=dict)
    tips: Mapped[list] = mapped_column(nullable=False, default=list)
    computed_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<FeedbackReport {self.period} {self.starts_on} meter={self.meter_id}>"


class ConnectionStatus(enum.StrEnum):
    #: Sent to the provider's consent page; waiting for the resident to come back.
    PENDING = "pending"
    ACTIVE = "active"
    #: The provider refused our tokens (consent ended there): the resident must connect again.
    EXPIRED = "expired"
    REVOKED = "revoked"


class ProviderConnection(Base):
    """A meter fed by a meter data provider's API with the resident's authorisation.

    Tokens are sealed (``app.sealed``) before they are stored; the OAuth ``state`` is kept
    only as a SHA-256 while the authorisation is pending.
    """

    __tablename__ = "meter_provider_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("meters.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    #: The connector's name (``enedis``).
    provider: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    state_sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, unique=True)
    #: The provider's id of the meter (Enedis: the 14-digit usage point, PRM).
    usage_point: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    access_token: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    refresh_token: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Until when the provider's authorisation runs (Enedis asks for a duration).
    authorised_until: Mapped[date | None] = mapped_column(nullable=True)
    #: Readings are fetched up to this local day (exclusive); the next refresh starts there.
    fetched_until: Mapped[date | None] = mapped_column(nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: Consecutive failed refreshes, and the last one's reason (never a token or a body).
    failures: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<ProviderConnection {self.provider} meter={self.meter_id} {self.status}>"
