"""Storing a meter's intervals: new ones added, overlapped ones replaced, identical ones kept.

Importing the same data twice changes nothing (every interval is "unchanged"); a file that
overlaps stored readings replaces exactly the readings it overlaps. Rows go in through the
bulk paths (COPY on PostgreSQL, executemany elsewhere), never as ORM objects: a
household-year of quarter hours is 35,040 rows.
"""

from dataclasses import dataclass
from datetime import UTC, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import Invalid
from energy.intervals import Interval
from energy.models import Meter, MeterImport, Reading
from i18n import _

#: The longest reading stored (a monthly bill); bounds the look-back for overlapping readings.
MAX_SPAN = timedelta(days=32)
#: Keys per DELETE … IN (…): well under every driver's limit on bound parameters.
DELETE_CHUNK = 500
COLUMNS = ("meter_id", "start_at", "end_at", "value", "import_id")
SQLITE_INSERT = (
    "INSERT INTO meter_readings (meter_id, start_at, end_at, value, import_id)"
    " VALUES (?, ?, ?, ?, ?)"
)
#: PostgreSQL types of ``COLUMNS`` for a binary COPY.
COPY_TYPES = ("int4", "timestamptz", "timestamptz", "float8", "int4")


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """What storing did: intervals added, intervals that replaced stored readings, intervals
    already stored as they are, and stored readings deleted to make room."""

    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    removed: int = 0


def _check(intervals: list[Interval]) -> bool:
    """The contract of every reader: sorted, no overlaps, aware, positive length, sane span;
    True when every time is in ``datetime.UTC`` itself (as the readers give them)."""
    previous = None
    in_utc = True
    for interval in intervals:
        in_utc = in_utc and interval.start.tzinfo is UTC and interval.end.tzinfo is UTC
        if (
            interval.start.tzinfo is None
            or not interval.start < interval.end
            or interval.end - interval.start > MAX_SPAN
            or (previous is not None and interval.start < previous.end)
        ):
            raise Invalid(
                errors={"file": [_("The intervals of this file overlap or are invalid.")]}
            )
        previous = interval
    return in_utc


def _overlapped(
    existing: list[tuple], intervals: list[Interval], unchanged_starts: set
) -> tuple[list, set[int]]:
    """Stored readings that overlap a new interval (and are not identical to it), and the
    positions of the new intervals that overlap them; both lists sorted by start."""
    doomed: list = []
    replacing: set[int] = set()
    first = 0
    for start, end, _value in existing:
        if start in unchanged_starts:
            continue
        while first < len(intervals) and intervals[first].end <= start:
            first += 1
        position = first
        while position < len(intervals) and intervals[position].start < end:
            replacing.add(position)
            position += 1
        if position > first:
            doomed.append(start)
    return doomed, replacing


def store_intervals(
    session: Session, meter: Meter, intervals: list[Interval], import_row: MeterImport
) -> StoreCounts:
    """Store sorted, non-overlapping ``intervals`` into the meter as ``import_row``'s."""
    if not intervals:
        return StoreCounts()
    in_utc = _check(intervals)
    session.flush()
    # One import into a meter at a time: two at once would both insert the same starts.
    session.execute(sa.select(Meter.id).where(Meter.id == meter.id).with_for_update())
    first, last = intervals[0].start, intervals[-1].end
    existing = session.execute(
        sa.select(Reading.start_at, Reading.end_at, Reading.value)
        .where(
            Reading.meter_id == meter.id,
            Reading.start_at >= first - MAX_SPAN,
            Reading.start_at < last,
            Reading.end_at > first,
        )
        .order_by(Reading.start_at)
    ).all()
    if existing:
        stored = {start: (end, value) for start, end, value in existing}
        same = [stored.get(i.start) == (i.end, i.value) for i in intervals]
        unchanged_starts = {i.start for i, kept in zip(intervals, same, strict=True) if kept}
        fresh = [i for i, kept in zip(intervals, same, strict=True) if not kept]
    else:
        # A period never imported before, the common case: nothing to compare.
        unchanged_starts, fresh = set(), intervals
    doomed, replacing = _overlapped(existing, intervals, unchanged_starts)
    _delete(session, meter.id, doomed)
    meter_id, import_id = meter.id, import_row.id  # not 35,040 ORM attribute reads
    _insert(session, [(meter_id, i.start, i.end, i.value, import_id) for i in fresh], in_utc)
    return StoreCounts(
        new=len(fresh) - len(replacing),
        replaced=len(replacing),
        unchanged=len(unchanged_starts),
        removed=len(doomed),
    )


def _delete(session: Session, meter_id: int, starts: list) -> None:
    table = Reading.__table__
    connection = session.connection()
    for offset in range(0, len(starts), DELETE_CHUNK):
        chunk = starts[offset : offset + DELETE_CHUNK]
        connection.execute(
            table.delete().where(table.c.meter_id == meter_id, table.c.start_at.in_(chunk))
        )


def _insert(session: Session, rows: list[tuple], in_utc: bool = False) -> None:
    """Bulk insert: COPY on PostgreSQL (psycopg), the driver's executemany on SQLite, Core
    executemany on anything else. ``in_utc``: every time is in ``datetime.UTC``."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        raw = connection.connection.driver_connection
        statement = (
            f"COPY {Reading.__tablename__} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        )
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        return
    table, dialect = Reading.__table__, connection.dialect
    if dialect.name == "sqlite":
        # The DB-API's own executemany, with the text Core would store for the UTC columns
        # (so comparisons hold): Core's per-row parameter handling would take most of the
        # time. Times already in UTC are that text as they are; others go through the column
        # type's own conversion.
        if in_utc:
            rows = [
                (
                    m,
                    s.isoformat(" ", "microseconds")[:26],
                    e.isoformat(" ", "microseconds")[:26],
                    v,
                    i,
                )
                for m, s, e, v, i in rows
            ]
        else:
            to_utc = table.c.start_at.type.dialect_impl(dialect).bind_processor(dialect)
            rows = [(m, to_utc(s), to_utc(e), v, i) for m, s, e, v, i in rows]
        connection.exec_driver_sql(SQLITE_INSERT, rows)
        return
    connection.execute(table.insert(), [dict(zip(COLUMNS, row, strict=True)) for row in rows])
