"""Readings for the series and retention tests: regular steps from a local time, stored as an
import stores them."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from energy.intervals import Interval
from energy.models import ImportKind, Meter, MeterImport
from energy.store import store_intervals

VIENNA = ZoneInfo("Europe/Vienna")


def local(text: str, zone: ZoneInfo = VIENNA) -> datetime:
    """A wall-clock time of ``zone`` as an instant (UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)


def steps(start: datetime, count: int, minutes: int = 15, value=lambda i: 10.0) -> list[Interval]:
    """``count`` consecutive readings of ``minutes`` from ``start`` (UTC)."""
    step = timedelta(minutes=minutes)
    return [Interval(start + i * step, start + (i + 1) * step, value(i)) for i in range(count)]


def until(start: datetime, end: datetime, minutes: int = 15, value=lambda i: 10.0) -> list:
    """Consecutive readings of ``minutes`` covering ``[start, end)``."""
    return steps(start, int((end - start) / timedelta(minutes=minutes)), minutes, value)


def put(session, meter: Meter, intervals: list[Interval]) -> None:
    """Store ``intervals`` into the meter as an import would."""
    row = MeterImport(
        meter_id=meter.id,
        user_id=meter.user_id,
        city_id=meter.city_id,
        kind=ImportKind.CSV.value,
        content_sha256="0" * 64,
    )
    session.add(row)
    session.flush()
    store_intervals(session, meter, intervals, row)
    session.flush()
