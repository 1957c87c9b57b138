"""Many meters' readings summed in SQL at once: per meter over a window, and per meter and hour.

Feedback runs for thousands of meters a week, so a chunk of meters is one query per window,
never one per meter; the primary key (meter_id, start_at) finds each meter's readings.
A reading belongs to the window (and the hour) its start falls in, as in the series.

Hours are keyed in SQL on UTC (hours since the epoch, the way energy/buckets.py keys its
steps), shifted by the zone's offset beyond whole hours (30 minutes in Adelaide, 45 in
Kathmandu) so that each key is one local hour; Python turns keys into local hours
(energy/feedback/hourly.py).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from energy.buckets import seconds_of
from energy.models import Reading


@dataclass(frozen=True, slots=True)
class Totals:
    """What a meter's readings starting in a window add up to."""

    value: float
    readings: int
    #: Seconds the readings cover together, and the longest reading's.
    seconds: float
    longest: float
    #: The first reading's start and the last one's end, in seconds since the epoch.
    first: float
    last: float

    @staticmethod
    def moment(epoch: float) -> str:
        """An instant of ``first``/``last`` in ISO 8601 (UTC), whole seconds."""
        return datetime.fromtimestamp(round(epoch), UTC).isoformat()


def _epoch(dialect: str, moment):
    """Seconds since the epoch of an instant (whole seconds on SQLite)."""
    if dialect == "postgresql":
        # date_part is double precision; EXTRACT's numeric is several times slower.
        return sa.func.date_part("epoch", moment)
    return sa.cast(sa.func.strftime("%s", moment), sa.Integer)


def _aggregates(dialect: str, rows) -> list:
    """value, readings, seconds, longest, first, last of the readings ``rows`` (a subquery)."""
    if dialect == "postgresql":
        # Aggregated as timestamps and intervals, converted once per group.
        length = rows.c.end_at - rows.c.start_at
        seconds = _epoch(dialect, sa.func.sum(length))
        longest = _epoch(dialect, sa.func.max(length))
    else:
        length = seconds_of(dialect, rows.c.start_at, rows.c.end_at)
        seconds, longest = sa.func.sum(length), sa.func.max(length)
    return [
        sa.func.sum(rows.c.value).label("value"),
        sa.func.count().label("readings"),
        seconds.label("seconds"),
        longest.label("longest"),
        _epoch(dialect, sa.func.min(rows.c.start_at)).label("first"),
        _epoch(dialect, sa.func.max(rows.c.end_at)).label("last"),
    ]


def _hour_key(dialect: str, shift: int):
    epoch = _epoch(dialect, Reading.start_at)
    if dialect == "postgresql":
        return sa.cast(sa.func.floor((epoch + shift) / 3600), sa.Integer)
    # Integer division: the epoch seconds of the readings are positive.
    return (epoch + shift) // 3600


def _grouped(dialect: str, meter_ids: list[int], start: datetime, end: datetime, key=None):
    """Per meter (and per ``key`` if given): value, readings, seconds, longest, first, last."""
    columns = [Reading.meter_id, Reading.value, Reading.start_at, Reading.end_at]
    if key is not None:
        columns.append(key.label("key"))
    # Labelled in a subquery, so that GROUP BY names the very expression selected.
    rows = (
        sa.select(*columns)
        .where(
            Reading.meter_id.in_(meter_ids),
            Reading.start_at >= start,
            Reading.start_at < end,
        )
        .subquery()
    )
    groups = [rows.c.meter_id] + ([rows.c.key] if key is not None else [])
    return sa.select(*groups, *_aggregates(dialect, rows)).group_by(*groups)


def _totals(row) -> Totals:
    return Totals(
        float(row.value),
        int(row.readings),
        float(row.seconds),
        float(row.longest),
        float(row.first),
        float(row.last),
    )


def window_totals(
    session: Session, meter_ids: list[int], start: datetime, end: datetime
) -> dict[int, Totals]:
    """Per meter with readings starting in ``[start, end)``, their totals."""
    if not meter_ids:
        return {}
    connection = session.connection()
    statement = _grouped(connection.dialect.name, meter_ids, start, end)
    return {row.meter_id: _totals(row) for row in connection.execute(statement)}


@dataclass(frozen=True, slots=True)
class Hours:
    """A meter's readings per hour key: parallel lists, one item per hour with readings (in
    no particular order), and the totals of them all."""

    totals: Totals
    keys: list[int]
    values: list[float]
    readings: list[int]
    seconds: list[float]
    longest: list[float]


HOUR_LISTS = ("key", "value", "readings", "seconds", "longest")


def hourly_sums(
    session: Session, meter_ids: list[int], start: datetime, end: datetime, shift: int
) -> dict[int, Hours]:
    """Per meter with readings starting in ``[start, end)``, their sums per hour key
    (``shift`` seconds added to UTC before keying)."""
    if not meter_ids:
        return {}
    connection = session.connection()
    dialect = connection.dialect.name
    hours = _grouped(dialect, meter_ids, start, end, _hour_key(dialect, shift)).subquery()
    # One row per meter, its hours as arrays: a chunk's hours are some 30,000, and rows of
    # their own would cost more to fetch than everything else done with them.
    if dialect == "postgresql":
        lists = [sa.func.array_agg(hours.c[name], type_=NullType()) for name in HOUR_LISTS]
    else:
        lists = [sa.func.json_group_array(hours.c[name]) for name in HOUR_LISTS]
    statement = sa.select(
        hours.c.meter_id,
        *(each.label(name + "s") for each, name in zip(lists, HOUR_LISTS, strict=True)),
        sa.func.sum(hours.c.value).label("value"),
        sa.func.sum(hours.c.readings).label("readings"),
        sa.func.sum(hours.c.seconds).label("seconds"),
        sa.func.max(hours.c.longest).label("longest"),
        sa.func.min(hours.c.first).label("first"),
        sa.func.max(hours.c.last).label("last"),
    ).group_by(hours.c.meter_id)
    found = {}
    for row in connection.execute(statement):
        parsed = [row[1 + i] for i in range(len(HOUR_LISTS))]
        if dialect != "postgresql":
            parsed = [json.loads(each) for each in parsed]
        found[row.meter_id] = Hours(_totals(row), *parsed)
    return found
