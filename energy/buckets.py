"""A meter's readings summed per bucket of time, in SQL: the boundaries come from Python.

Buckets of a day or longer follow the meter's local calendar (a day of 23 or 25 hours across
a daylight-saving change, ISO weeks from Monday, months); shorter ones are fixed steps aligned
on UTC (every 15 minutes, half hour, hour since the epoch). A reading belongs to the bucket
its start falls in.

On PostgreSQL the local calendar comes from ``date_trunc`` on ``start_at AT TIME ZONE``; on
SQLite, which has no time zones, the boundaries computed here are sent as one JSON array and
readings are joined to them by range (the primary key (meter_id, start_at) finds each
bucket's readings).
"""

import enum
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from energy.models import Reading


class Resolution(enum.StrEnum):
    MIN15 = "15min"
    MIN30 = "30min"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


#: Fixed steps of the resolutions shorter than a day.
STEPS = {
    Resolution.MIN15: timedelta(minutes=15),
    Resolution.MIN30: timedelta(minutes=30),
    Resolution.HOUR: timedelta(hours=1),
}
#: Local calendar units, as ``date_trunc`` names them.
CALENDAR = (Resolution.DAY, Resolution.WEEK, Resolution.MONTH)


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime  # aware UTC
    end: datetime  # aware UTC


@dataclass(frozen=True, slots=True)
class Sums:
    """What the readings starting in one bucket add up to."""

    value: float = 0.0
    readings: int = 0
    #: Seconds of the readings together, and the longest one's.
    seconds: float = 0.0
    longest: float = 0.0
    last_end: datetime | None = None


class TooMany(Exception):
    """More buckets than the caller allows."""


# --- boundaries -----------------------------------------------------------------------------


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a local day starts; where midnight does not exist, when the day does."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _first_day(day: date, resolution: Resolution) -> date:
    if resolution is Resolution.WEEK:
        return day - timedelta(days=day.weekday())
    if resolution is Resolution.MONTH:
        return day.replace(day=1)
    return day


def _next_day(day: date, resolution: Resolution) -> date:
    if resolution is Resolution.DAY:
        return day + timedelta(days=1)
    if resolution is Resolution.WEEK:
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def buckets(
    zone: ZoneInfo, resolution: Resolution, start: datetime, end: datetime, limit: int | None
) -> list[Bucket]:
    """The buckets that ``[start, end)`` touches, whole; ``TooMany`` beyond ``limit``."""
    if resolution in STEPS:
        step = int(STEPS[resolution].total_seconds())
        first = int(start.timestamp()) // step * step
        count = -(-(int(end.timestamp()) - first) // step)  # ceiling
        if limit is not None and count > limit:
            raise TooMany()
        origin = datetime.fromtimestamp(first, UTC)
        return [
            Bucket(origin + timedelta(seconds=i * step), origin + timedelta(seconds=(i + 1) * step))
            for i in range(count)
        ]
    day = _first_day(start.astimezone(zone).date(), resolution)
    found: list[Bucket] = []
    begins = local_midnight(day, zone)
    while begins < end:
        if limit is not None and len(found) == limit:
            raise TooMany()
        day = _next_day(day, resolution)
        ends = local_midnight(day, zone)
        found.append(Bucket(begins, ends))
        begins = ends
    return found


# --- sums -----------------------------------------------------------------------------------


def sum_buckets(
    session: Session, meter_id: int, zone: ZoneInfo, resolution: Resolution, bounds: list[Bucket]
) -> list[Sums]:
    """Per bucket (contiguous, in order), the sum of the meter's readings starting in it."""
    if not bounds:
        return []
    dialect = session.connection().dialect.name
    if resolution in STEPS:
        rows = _by_step(session, meter_id, resolution, bounds, dialect)
        step = int(STEPS[resolution].total_seconds())
        first = int(bounds[0].start.timestamp()) // step
        position = {first + i: i for i in range(len(bounds))}
    elif dialect == "postgresql":
        rows = _by_calendar_postgresql(session, meter_id, zone, resolution, bounds)
        position = {b.start.astimezone(zone).date(): i for i, b in enumerate(bounds)}
        rows = [(key.date(), *rest) for key, *rest in rows]
    else:
        rows = _by_range(session, meter_id, bounds)
        position = {i: i for i in range(len(bounds))}
    sums = [Sums()] * len(bounds)
    for key, value, count, seconds, longest, last_end in rows:
        index = position.get(int(key) if resolution in STEPS else key)
        if index is not None:  # always, unless a zone's rules differ between Python and SQL
            sums[index] = Sums(
                float(value), int(count), float(seconds), float(longest), _aware(last_end)
            )
    return sums


def _aware(moment) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite through a raw aggregate
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def seconds_of(dialect: str, start, end):
    """A SQL expression: the seconds from ``start`` to ``end``."""
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", end - start), sa.Float)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def _in_range(meter_id: int, bounds: list[Bucket]):
    return (
        Reading.meter_id == meter_id,
        Reading.start_at >= bounds[0].start,
        Reading.start_at < bounds[-1].end,
    )


def _grouped(session: Session, key, meter_id: int, bounds: list[Bucket]) -> list:
    """Sums grouped by ``key``, a per-reading expression (labelled in a subquery, so that
    GROUP BY names the very expression selected, bound parameters and all)."""
    dialect = session.connection().dialect.name
    inner = (
        sa.select(
            key.label("key"),
            Reading.value,
            seconds_of(dialect, Reading.start_at, Reading.end_at).label("seconds"),
            Reading.end_at,
        )
        .where(*_in_range(meter_id, bounds))
        .subquery()
    )
    return session.execute(
        sa.select(
            inner.c.key,
            sa.func.sum(inner.c.value),
            sa.func.count(),
            sa.func.sum(inner.c.seconds),
            sa.func.max(inner.c.seconds),
            sa.func.max(inner.c.end_at),
        ).group_by(inner.c.key)
    ).all()


def _by_step(
    session: Session, meter_id: int, resolution: Resolution, bounds: list[Bucket], dialect: str
) -> list:
    step = int(STEPS[resolution].total_seconds())
    if dialect == "postgresql":
        key = sa.func.floor(sa.extract("epoch", Reading.start_at) / step)
    else:
        key = sa.cast(sa.func.strftime("%s", Reading.start_at), sa.Integer) // step
    return _grouped(session, key, meter_id, bounds)


def _by_calendar_postgresql(
    session: Session, meter_id: int, zone: ZoneInfo, resolution: Resolution, bounds: list[Bucket]
) -> list:
    local = sa.func.timezone(zone.key, Reading.start_at)
    return _grouped(session, sa.func.date_trunc(str(resolution), local), meter_id, bounds)


#: SQLite: readings joined to the buckets by range. CROSS JOIN keeps the buckets the outer
#: loop, so each bucket is one range search of the primary key.
RANGE_SUMS = sa.text(
    "SELECT b.key AS key, sum(r.value), count(*),"
    " sum((julianday(r.end_at) - julianday(r.start_at)) * 86400.0),"
    " max((julianday(r.end_at) - julianday(r.start_at)) * 86400.0), max(r.end_at)"
    " FROM json_each(:bounds) AS b CROSS JOIN meter_readings AS r"
    " WHERE r.meter_id = :meter_id"
    " AND r.start_at >= json_extract(b.value, '$[0]')"
    " AND r.start_at < json_extract(b.value, '$[1]')"
    " GROUP BY b.key"
)


def _by_range(session: Session, meter_id: int, bounds: list[Bucket]) -> list:
    dialect = session.connection().dialect
    # The stored text of a UTC instant (as store.py writes it): comparing texts compares
    # instants.
    to_text = Reading.__table__.c.start_at.type.dialect_impl(dialect).bind_processor(dialect)
    pairs = [[to_text(b.start), to_text(b.end)] for b in bounds]
    return session.execute(RANGE_SUMS, {"bounds": json.dumps(pairs), "meter_id": meter_id}).all()
