"""A meter's hourly consumption on its local clock: peak hour, evening and weekday shares.

Decisions:
- Local hours are the meter's: the night the clocks go back has six hours from 00:00 to
  05:00, the night they go forward four. A reading counts in the hour its start falls in.
- Nights (00:00 to 05:00) keep their fully covered hours for the baseload
  (energy/feedback/baseload.py).
- The peak hour is the local hour of day whose fully covered hours have the highest mean.
- Shares are of the consumption the qualifying readings hold: the evening share of readings
  of at most an hour, the weekday share of readings of at most a (25-hour) day.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from energy.feedback.sums import Hours, Totals
from energy.feedback.values import (
    COARSE_READINGS,
    NO_CONSUMPTION,
    NO_READINGS,
    PER_HOUR,
    Figure,
    figure,
    missing,
    rounded,
    share_pct,
)

NIGHT = (0, 5)  # local hours [from, to)
EVENING = (17, 21)
#: Seconds of slack for SQLite, whose julianday arithmetic makes 15 minutes 899.99999 s.
SLACK = 1.0
HOUR = 3600.0
LONGEST_DAY = 25 * 3600.0


@dataclass(frozen=True, slots=True)
class Clock:
    """The local hours of a period in one time zone, by hour key (energy/feedback/sums.py)."""

    #: Seconds added to UTC before keying: the zone's offset beyond whole hours.
    shift: int
    #: Hour key → (local day, local hour of day, whether the day is Monday to Friday).
    hours: dict[int, tuple[date, int, bool]]
    #: Local day → how many hours its night has (5; 4 or 6 when the clocks change).
    nights: dict[date, int]


def clock_of(zone: ZoneInfo, start: datetime, end: datetime) -> Clock:
    """The hours of ``[start, end)`` (local midnights) on the zone's clock."""
    shift = int(start.astimezone(zone).utcoffset().total_seconds()) % 3600
    first = (int(start.timestamp()) + shift) // 3600
    last = (int(end.timestamp()) + shift - 1) // 3600
    hours: dict[int, tuple[date, int, bool]] = {}
    nights: dict[date, int] = defaultdict(int)
    for key in range(first, last + 1):
        local = datetime.fromtimestamp(key * 3600 - shift, zone)
        hours[key] = (local.date(), local.hour, local.weekday() < 5)
        if NIGHT[0] <= local.hour < NIGHT[1]:
            nights[local.date()] += 1
    return Clock(shift, hours, dict(nights))


@dataclass(slots=True)
class Profile:
    """A meter's hours of a period, gathered in one pass (10,000 meters make 1.7 M hours)."""

    totals: Totals | None = None
    #: Local night → its fully covered hours as (sum, readings).
    nights: dict[date, list[tuple[float, int]]] = field(default_factory=dict)
    #: Per local hour of day, the sum and count of its fully covered hours.
    hour_sums: list[float] = field(default_factory=lambda: [0.0] * 24)
    hour_counts: list[int] = field(default_factory=lambda: [0] * 24)
    #: Consumption and readings in hours of readings of at most an hour, and its evening part.
    fine: float = 0.0
    fine_readings: int = 0
    evening: float = 0.0
    #: The same of readings of at most a day, and its part on Monday to Friday.
    daily: float = 0.0
    daily_readings: int = 0
    weekdays: float = 0.0
    #: Readings longer than an hour, and than a day, were seen.
    coarse: bool = False
    coarser: bool = False


def profile_of(hours: Hours | None, clock: Clock) -> Profile:
    """The profile of a meter's hours (``energy.feedback.sums.hourly_sums``)."""
    found = Profile()
    if hours is None:
        return found
    found.totals = hours.totals
    nights: dict[date, list[tuple[float, int]]] = defaultdict(list)
    local = clock.hours
    for key, value, readings, seconds, longest in zip(
        hours.keys, hours.values, hours.readings, hours.seconds, hours.longest, strict=True
    ):
        if longest > LONGEST_DAY + SLACK:
            found.coarser = found.coarse = True
            continue
        day, hour, weekday = local[key]
        found.daily += value
        found.daily_readings += readings
        if weekday:
            found.weekdays += value
        if longest > HOUR + SLACK:
            found.coarse = True
            continue
        found.fine += value
        found.fine_readings += readings
        if EVENING[0] <= hour < EVENING[1]:
            found.evening += value
        if seconds >= HOUR - SLACK:
            found.hour_sums[hour] += value
            found.hour_counts[hour] += 1
            if NIGHT[0] <= hour < NIGHT[1]:
                nights[day].append((value, readings))
    found.nights = dict(nights)
    return found


def _unusable(coarse: bool) -> str:
    return COARSE_READINGS if coarse else NO_READINGS


def peak_hour(profile: Profile, unit: str) -> Figure:
    """The local hour of day with the highest mean consumption of its fully covered hours."""
    means = {
        hour: profile.hour_sums[hour] / count
        for hour, count in enumerate(profile.hour_counts)
        if count
    }
    if not means:
        return missing("h", _unusable(profile.coarse))
    peak = max(means, key=means.__getitem__)  # the earliest of equal ones
    return figure(
        peak,
        "h",
        method="highest_mean_hourly",
        mean=rounded(means[peak], PER_HOUR[unit]),
        mean_unit=PER_HOUR[unit],
        hours_averaged=profile.hour_counts[peak],
    )


def evening_share(profile: Profile) -> Figure:
    """The share of consumption in local 17:00 to 21:00, of readings of at most an hour."""
    if not profile.fine_readings:
        return missing("%", _unusable(profile.coarse))
    how = {"method": "share_of_hourly", "hours": "17:00-21:00", "readings": profile.fine_readings}
    if profile.fine <= 0:
        return missing("%", NO_CONSUMPTION, **how)
    return figure(share_pct(profile.evening, profile.fine), "%", **how)


def weekday_share(profile: Profile) -> Figure:
    """The share of consumption on local Monday to Friday, of readings of at most a day."""
    if not profile.daily_readings:
        return missing("%", _unusable(profile.coarser))
    how = {"method": "share_of_daily", "days": "monday-friday", "readings": profile.daily_readings}
    if profile.daily <= 0:
        return missing("%", NO_CONSUMPTION, **how)
    return figure(share_pct(profile.weekdays, profile.daily), "%", **how)
