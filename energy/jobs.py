"""The scheduler's job for energy data: raw interval readings past retention become daily ones.

Runs daily. ``ENERGY_RAW_DAYS`` after it ends, a reading shorter than a day (15 minutes, an
hour…) is rolled up: the readings of each local day of the meter's time zone are summed into
one reading from local midnight to the next (23 or 25 hours across a clock change, with no
import), and deleted.

Decisions:
- "Shorter than a day" means under 23 hours, the shortest local day: a daily reading of the
  day the clocks go forward is not raw, and a rolled-up day is never rolled up again.
- Only whole local days are rolled up, and only when every reading starting in them ended by
  the cutoff; a reading belongs to the day its start falls in (as in the series).
- A day overlapped by a reading of a day or more (a daily or monthly reading imported as
  such) is left as it is, and so is a day that a raw reading of the day before runs into
  while that day stays: a rolled-up reading never overlaps another.
- Gaps inside a rolled-up day are no longer visible in its readings; the imports' summaries
  still list them.
- One transaction per meter, with the meter's row locked as an import locks it: a second
  scheduler, or an import, waits and then sees the rolled-up days (running twice changes
  nothing the second time).
- The log says how many meters, days and readings; never a value.
"""

import logging
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.db import utcnow
from app.jobs import each_alone
from energy.buckets import (
    Bucket,
    Resolution,
    Sums,
    buckets,
    local_midnight,
    seconds_of,
    sum_buckets,
)
from energy.models import Meter, Reading
from energy.store import MAX_SPAN

log = logging.getLogger("livinglab.energy")

#: Readings shorter than this (seconds) are raw interval readings: 23 hours, less a minute
#: for SQLite's floating-point day arithmetic (julianday), which may make 23 hours a hair less.
RAW_SECONDS = 23 * 3600 - 60


def _raw(session: Session):
    dialect = session.connection().dialect.name
    return seconds_of(dialect, Reading.start_at, Reading.end_at) < RAW_SECONDS


def roll_up_readings(
    session: Session, now: datetime | None = None, raw_days: int | None = None
) -> dict[str, int]:
    """Roll up every meter's raw readings older than ``raw_days`` into daily readings."""
    now = now or utcnow()
    if raw_days is None:
        raw_days = current_app.config["ENERGY_RAW_DAYS"]
    cutoff = now - timedelta(days=raw_days)
    # Per meter, the primary key (meter_id, start_at) finds its old readings: after the first
    # run these are few (daily ones), so the daily search stays cheap.
    old_raw = sa.exists().where(
        Reading.meter_id == Meter.id, Reading.start_at < cutoff, _raw(session)
    )
    meter_ids = session.scalars(sa.select(Meter.id).where(old_raw).order_by(Meter.id)).all()
    session.commit()
    counts = {"meters": 0, "days": 0, "readings": 0}

    def step(session: Session, meter_id: int, now: datetime) -> bool:
        days, readings = roll_up_meter(session, meter_id, cutoff)
        counts["days"] += days
        counts["readings"] += readings
        return days > 0

    each = partial(each_alone, session, now=now, subject="meter", logger=log)
    counts["meters"] = each(meter_ids, step, what="rolled up")
    log.info("energy readings rolled up", extra=counts)
    return counts


def roll_up_meter(session: Session, meter_id: int, cutoff: datetime) -> tuple[int, int]:
    """Roll up one meter's raw readings that ended by ``cutoff``; (days made, readings gone)."""
    meter = session.scalar(sa.select(Meter).where(Meter.id == meter_id).with_for_update())
    if meter is None:  # deleted meanwhile
        return 0, 0
    zone = ZoneInfo(meter.timezone)
    last_end = local_midnight(cutoff.astimezone(zone).date(), zone)
    raw = _raw(session)
    first = session.scalar(
        sa.select(sa.func.min(Reading.start_at)).where(
            Reading.meter_id == meter.id, Reading.start_at < last_end, raw
        )
    )
    if first is None:
        return 0, 0
    days = buckets(zone, Resolution.DAY, first, last_end, limit=None)
    sums = sum_buckets(session, meter.id, zone, Resolution.DAY, days)
    long_ones = session.execute(
        sa.select(Reading.start_at, Reading.end_at).where(
            Reading.meter_id == meter.id,
            Reading.start_at >= days[0].start - MAX_SPAN,
            Reading.start_at < last_end,
            Reading.end_at > days[0].start,
            ~raw,
        )
    ).all()
    rolled = _days_to_roll(days, sums, long_ones, cutoff)
    removed = 0
    for run_start, run_end in _runs(rolled):
        removed += session.execute(
            sa.delete(Reading).where(
                Reading.meter_id == meter.id,
                Reading.start_at >= run_start,
                Reading.start_at < run_end,
            )
        ).rowcount
    if rolled:
        session.execute(
            sa.insert(Reading),
            [
                {
                    "meter_id": meter.id,
                    "start_at": day.start,
                    "end_at": day.end,
                    "value": each.value,
                    "import_id": None,
                }
                for day, each in rolled
            ],
        )
    return len(rolled), removed


def _days_to_roll(
    days: list[Bucket], sums: list[Sums], long_ones: list, cutoff: datetime
) -> list[tuple[Bucket, Sums]]:
    rolled: list[tuple[Bucket, Sums]] = []
    before: Sums | None = None
    before_rolled = False
    for day, each in zip(days, sums, strict=True):
        ok = (
            each.readings > 0
            and each.longest < RAW_SECONDS
            and each.last_end <= cutoff
            and not any(start < day.end and end > day.start for start, end in long_ones)
            # A raw reading of the day before that stays must not run into this one.
            and (
                before_rolled
                or before is None
                or before.last_end is None
                or before.last_end <= day.start
            )
        )
        if ok:
            rolled.append((day, each))
        before, before_rolled = each, ok
    return rolled


def _runs(rolled: list[tuple[Bucket, Sums]]) -> list[tuple[datetime, datetime]]:
    """Consecutive rolled-up days as spans, one DELETE each."""
    runs: list[list[datetime]] = []
    for day, _sums in rolled:
        if runs and runs[-1][1] == day.start:
            runs[-1][1] = day.end
        else:
            runs.append([day.start, day.end])
    return [(start, end) for start, end in runs]
