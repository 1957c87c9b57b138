"""A deleted account's energy data: readings and imports go with the meters; with research
consent, each meter's days are first summed into ``KeptMeterDay`` rows that name nobody.

The sums are one ``INSERT ... SELECT`` per meter (a meter may hold a year of quarter hours):
on PostgreSQL the local day comes from ``start_at AT TIME ZONE``; on SQLite, which has no time
zones, the meter's local days are computed here and sent as one JSON array that the readings
are joined to by range, as ``energy.buckets`` does. A reading counts on the local day its
start falls in.
"""

import json
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from energy.buckets import Resolution, buckets
from energy.models import Meter, MeterImport, Reading
from research.models import KeptMeterDay

#: The kept day's columns, in the order both statements select them.
KEPT_COLUMNS = ["series", "city_id", "commodity", "unit", "day", "amount"]

#: SQLite: the meter's readings summed per local day, the days given as [start, end, day].
_KEEP_DAYS_SQLITE = sa.text(
    "INSERT INTO research_kept_meter_days (series, city_id, commodity, unit, day, amount)"
    " SELECT :series, :city_id, :commodity, :unit, json_extract(d.value, '$[2]'), sum(r.value)"
    " FROM json_each(:days) AS d CROSS JOIN meter_readings AS r"
    " WHERE r.meter_id = :meter_id"
    " AND r.start_at >= json_extract(d.value, '$[0]')"
    " AND r.start_at < json_extract(d.value, '$[1]')"
    " GROUP BY d.key"
)


def _keep_days_postgresql(session: Session, meter: Meter, series: str) -> int:
    local_day = sa.cast(sa.func.timezone(meter.timezone, Reading.start_at), sa.Date)
    # Labelled in a subquery, so GROUP BY names the very expression selected.
    days = (
        sa.select(local_day.label("day"), Reading.value)
        .where(Reading.meter_id == meter.id)
        .subquery()
    )
    sums = sa.select(
        sa.literal(series, sa.String),
        sa.literal(meter.city_id, sa.Integer),
        sa.literal(meter.commodity, sa.String),
        sa.literal(meter.unit, sa.String),
        days.c.day,
        sa.func.sum(days.c.value),
    ).group_by(days.c.day)
    return session.execute(sa.insert(KeptMeterDay).from_select(KEPT_COLUMNS, sums)).rowcount


def _keep_days_sqlite(session: Session, meter: Meter, series: str) -> int:
    first, last = session.execute(
        sa.select(sa.func.min(Reading.start_at), sa.func.max(Reading.start_at)).where(
            Reading.meter_id == meter.id
        )
    ).one()
    if first is None:
        return 0
    zone = ZoneInfo(meter.timezone)
    dialect = session.connection().dialect
    # The stored text of a UTC instant: comparing texts compares instants.
    to_text = Reading.__table__.c.start_at.type.dialect_impl(dialect).bind_processor(dialect)
    days = [
        [to_text(day.start), to_text(day.end), day.start.astimezone(zone).date().isoformat()]
        for day in buckets(zone, Resolution.DAY, first, last + timedelta(seconds=1), None)
    ]
    return session.execute(
        _KEEP_DAYS_SQLITE,
        {
            "series": series,
            "city_id": meter.city_id,
            "commodity": meter.commodity,
            "unit": meter.unit,
            "days": json.dumps(days),
            "meter_id": meter.id,
        },
    ).rowcount


def keep_meter_days(session: Session, user_id: int) -> int:
    """Sum each of the person's meters per local day into a random series of its own;
    returns the days kept."""
    keep = (
        _keep_days_postgresql
        if session.get_bind().dialect.name == "postgresql"
        else _keep_days_sqlite
    )
    kept = 0
    for meter in session.scalars(sa.select(Meter).where(Meter.user_id == user_id)):
        # Random, derived from nothing: the days of one meter stay together, and that is all.
        kept += keep(session, meter, uuid.uuid4().hex)
    return kept


def erase_readings(session: Session, user_id: int) -> dict[str, int]:
    """Delete the readings and imports of the person's meters (the meters themselves, their
    reports, connections and the household go with every row that cascades from the person);
    returns rows deleted per table."""
    meters = sa.select(Meter.id).where(Meter.user_id == user_id).scalar_subquery()
    readings = session.execute(
        sa.delete(Reading)
        .where(Reading.meter_id.in_(meters))
        .execution_options(synchronize_session=False)
    ).rowcount
    imports = session.execute(
        sa.delete(MeterImport)
        .where(MeterImport.meter_id.in_(meters))
        .execution_options(synchronize_session=False)
    ).rowcount
    return {Reading.__tablename__: readings, MeterImport.__tablename__: imports}
