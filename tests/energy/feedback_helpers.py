"""Readings for the feedback tests, seeded quickly: regular steps whose value depends on the
moment, inserted in bulk (no import row, as readings rolled up by retention have none)."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from energy.models import Meter, Reading, TemperatureDay

VIENNA = ZoneInfo("Europe/Vienna")
QUARTER = timedelta(minutes=15)
#: Rows per INSERT … VALUES executemany batch.
BATCH = 5000


def local(text: str, zone: ZoneInfo = VIENNA) -> datetime:
    """A wall-clock time of ``zone`` as an instant (UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def midnight(day: date, zone: ZoneInfo = VIENNA) -> datetime:
    """The instant (UTC) a local day starts."""
    return datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)


def seed_readings(
    session: Session,
    meter: Meter,
    start: datetime,
    end: datetime,
    step: timedelta,
    value_of: Callable[[datetime], float],
) -> int:
    """Insert readings ``[t, t + step)`` from ``start`` while they end by ``end``, valued
    ``value_of(t)`` (t aware, UTC); returns how many."""
    rows = []
    moment = start.astimezone(UTC)
    while moment + step <= end:
        rows.append(
            {
                "meter_id": meter.id,
                "start_at": moment,
                "end_at": moment + step,
                "value": float(value_of(moment)),
                "import_id": None,
            }
        )
        moment += step
    for offset in range(0, len(rows), BATCH):
        session.execute(sa.insert(Reading), rows[offset : offset + BATCH])
    session.flush()
    return len(rows)


def seed_temperatures(session: Session, city_id: int, first: date, means: list[float]) -> None:
    """The city's daily mean temperatures from ``first``, one a day."""
    session.add_all(
        TemperatureDay(city_id=city_id, day=first + timedelta(days=i), mean_c=mean)
        for i, mean in enumerate(means)
    )
    session.flush()


def hour_of(moment: datetime, zone: ZoneInfo = VIENNA) -> int:
    """The local hour of an instant."""
    return moment.astimezone(zone).hour
