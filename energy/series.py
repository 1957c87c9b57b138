"""A meter's consumption over a period at a resolution of 15 minutes to a month, for charts.

Decisions:
- Days, ISO weeks (from Monday) and months follow the meter's time zone: the day the clocks
  go forward has 23 hours, the day they go back 25, and such a point says so (``hours`` and a
  note). Resolutions under a day are fixed steps aligned on UTC (energy/buckets.py).
- ``start`` and ``end`` may be dates (local midnight; ``end`` is exclusive) or times (without
  an offset: the meter's wall clock). The period is widened to whole buckets.
- A reading counts in the bucket its start falls in. Readings longer than the buckets asked
  for (daily readings asked per hour) are refused, never spread out: the error names the
  finest resolution the period allows.
- Every bucket of the period is a point: one without readings has the value null. Each point
  says how many readings it sums and how much of it they cover (``complete`` when all).
- At most ``MAX_POINTS`` points per request.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.errors import Invalid
from energy.buckets import STEPS, Bucket, Resolution, Sums, TooMany, buckets, sum_buckets
from energy.models import Meter
from energy.store import MAX_SPAN
from i18n import _

MAX_POINTS = 5000
#: Years a period may start or end in.
YEARS = (1970, 2199)
#: The longest reading a bucket of each resolution holds (seconds): a day has up to 25 hours,
#: a month up to 31 days and 1 hour; a monthly bill reading may span ``MAX_SPAN``.
LONGEST = {
    Resolution.MIN15: 15 * 60,
    Resolution.MIN30: 30 * 60,
    Resolution.HOUR: 3600,
    Resolution.DAY: 25 * 3600,
    Resolution.WEEK: 7 * 86400 + 3600,
    Resolution.MONTH: MAX_SPAN.total_seconds(),
}


@dataclass(frozen=True, slots=True)
class Point:
    start: datetime  # in the meter's zone
    end: datetime
    hours: float  # 23 or 25 on a day the clocks change
    value: float | None  # None: no readings
    readings: int
    coverage: float  # share of the bucket the readings cover, 0 to 1
    complete: bool
    note: str | None  # translated: a clock change inside the bucket


@dataclass(frozen=True, slots=True)
class Series:
    meter_id: int
    unit: str
    timezone: str
    resolution: str
    start: datetime  # the first point's start, in the meter's zone
    end: datetime  # the last point's end
    total: float
    readings: int
    points: list[Point]


def instant(moment: date | datetime, zone: ZoneInfo) -> datetime:
    """A date is its local midnight; a time without an offset is read on the meter's clock."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def meter_series(
    session: Session,
    meter: Meter,
    start: date | datetime,
    end: date | datetime,
    resolution: str,
) -> Series:
    """The meter's consumption per bucket of ``resolution`` over ``[start, end)``."""
    resolution = _resolution(resolution)
    zone = ZoneInfo(meter.timezone)
    first, last = _period(start, end, zone)
    try:
        bounds = buckets(zone, resolution, first, last, limit=MAX_POINTS)
    except TooMany:
        message = _(
            "That is more than %(limit)s points: ask for a shorter period or a coarser resolution.",
            limit=f"{MAX_POINTS:,}",
        )
        raise Invalid(errors={"to": [message]}) from None
    sums = sum_buckets(session, meter.id, zone, resolution, bounds)
    _refuse_coarser(sums, resolution)
    points = [
        _point(bucket, each, zone, resolution) for bucket, each in zip(bounds, sums, strict=True)
    ]
    return Series(
        meter_id=meter.id,
        unit=meter.unit,
        timezone=meter.timezone,
        resolution=str(resolution),
        start=points[0].start,
        end=points[-1].end,
        total=sum(each.value for each in sums),
        readings=sum(each.readings for each in sums),
        points=points,
    )


def _resolution(name: str) -> Resolution:
    try:
        return Resolution(name)
    except ValueError:
        names = ", ".join(str(each) for each in Resolution)
        message = _("Choose one of: %(names)s.", names=names)
        raise Invalid(errors={"resolution": [message]}) from None


def _period(start: date | datetime, end: date | datetime, zone: ZoneInfo) -> tuple:
    errors = {}
    for field, moment in (("from", start), ("to", end)):
        if not YEARS[0] <= moment.year <= YEARS[1]:
            errors[field] = [
                _("Give a year from %(first)s to %(last)s.", first=YEARS[0], last=YEARS[1])
            ]
    if errors:
        raise Invalid(errors=errors)
    first, last = instant(start, zone), instant(end, zone)
    if last <= first:
        raise Invalid(errors={"to": [_("The end of the period must come after its start.")]})
    return first, last


def _refuse_coarser(sums: list[Sums], resolution: Resolution) -> None:
    """Readings longer than the buckets cannot be split without inventing how."""
    longest = max((round(each.longest) for each in sums if each.readings), default=0)
    if longest <= LONGEST[resolution]:
        return
    finest = next((r for r in Resolution if LONGEST[r] >= longest), Resolution.MONTH)
    message = _(
        "The readings of this period are longer than that: ask for %(resolution)s or coarser.",
        resolution=str(finest),
    )
    raise Invalid(errors={"resolution": [message]})


def _point(bucket: Bucket, sums: Sums, zone: ZoneInfo, resolution: Resolution) -> Point:
    length = (bucket.end - bucket.start).total_seconds()
    covered = min(round(sums.seconds), length)
    start, end = bucket.start.astimezone(zone), bucket.end.astimezone(zone)
    return Point(
        start=start,
        end=end,
        hours=length / 3600,
        value=sums.value if sums.readings else None,
        readings=sums.readings,
        coverage=round(covered / length, 4),
        complete=covered >= length,
        note=None if resolution in STEPS else _clock_change(start, end, length),
    )


def _clock_change(start: datetime, end: datetime, seconds: float) -> str | None:
    """Said of a local day, week or month during which the clocks changed."""
    shift = end.utcoffset() - start.utcoffset()
    hours = f"{seconds / 3600:g}"
    if shift > timedelta(0):
        return _("The clocks went forward: this period has %(hours)s hours.", hours=hours)
    if shift < timedelta(0):
        return _("The clocks went back: this period has %(hours)s hours.", hours=hours)
    return None
