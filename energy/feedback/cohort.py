"""Comparing a household with similar ones of its city: the median and the most efficient 20 %.

Decisions:
- Households are compared, not meters: a household's value is the sum of its meters of the
  commodity (and unit: gas by energy and by volume are not comparable) for the period.
  A household counts only when every one of those meters' readings cover at least
  ``MIN_COVERAGE`` of the period, so that a week half away or half missing drags nobody.
- Similar means the same band of people (1, 2, 3, 4, 5+) and of floor area (<50, 50-<80,
  80-<120, 120+ m²). When the household's own size or area is unknown, only the known band
  is matched, and with neither, every household of the commodity is the group; ``how``
  says which (``group``). Households that do not tell a fact the group matches on are not in it.
- The group is shown only when it has at least ``ENERGY_MIN_GROUP`` households (the
  household's own included); otherwise no figure of it is given, not even its size.
- "The most efficient 20 %" is the 20th percentile, and the median the 50th, both by linear
  interpolation between the closest ranks (as ``statistics.quantiles(method="inclusive")``).
  The household is "efficient" at or below the 20th percentile, "above" over the median,
  "typical" between.
- The group's baseload median (the same households, those with a baseload) serves the
  standby tip.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from statistics import median

import sqlalchemy as sa
from sqlalchemy.orm import Session

from energy.feedback.values import LOW_COVERAGE, NO_READINGS, Figure, missing, rounded
from energy.models import FeedbackReport, Meter

#: Readings must cover this share of the period for a household to be compared.
MIN_COVERAGE = 0.9
GROUP_TOO_SMALL = "group_too_small"
#: Upper bounds of the bands (exclusive); the last band is open.
PEOPLE_BANDS = (2, 3, 4, 5)
AREA_BANDS = (50.0, 80.0, 120.0)
PEOPLE_NAMES = ("1", "2", "3", "4", "5+")
AREA_NAMES = ("<50", "50-<80", "80-<120", "120+")


@dataclass(frozen=True, slots=True)
class Entry:
    """One meter's period as the comparison reads it (from a report, stored or just made)."""

    meter_id: int
    user_id: int
    commodity: str
    unit: str
    consumption: float | None
    coverage: float
    #: In base unit per hour, when known.
    baseload: float | None


@dataclass(frozen=True, slots=True)
class Member:
    """A household in the comparison: its meters of one commodity and unit summed."""

    user_id: int
    people: str | None
    area: str | None
    value: float
    baseload: float | None


def _band(value: float | None, bounds: tuple, names: tuple) -> str | None:
    if value is None:
        return None
    for bound, name in zip(bounds, names, strict=False):
        if value < bound:
            return name
    return names[-1]


def people_band(people: int | None) -> str | None:
    return _band(people, PEOPLE_BANDS, PEOPLE_NAMES)


def area_band(area: float | None) -> str | None:
    return _band(area, AREA_BANDS, AREA_NAMES)


def members(
    entries: Iterable[Entry], facts: Mapping[int, tuple[int | None, float | None]]
) -> dict[tuple[str, str], "Pool"]:
    """The comparable households by (commodity, unit); ``facts`` are each household's
    (people, floor area) by user id."""
    grouped: dict[tuple[str, str, int], list[Entry]] = defaultdict(list)
    for entry in entries:
        grouped[(entry.commodity, entry.unit, entry.user_id)].append(entry)
    found: dict[tuple[str, str], dict[int, Member]] = defaultdict(dict)
    for (commodity, unit, user_id), meters in grouped.items():
        if any(m.consumption is None or m.coverage < MIN_COVERAGE for m in meters):
            continue
        baseloads = [m.baseload for m in meters]
        people, area = facts.get(user_id, (None, None))
        found[(commodity, unit)][user_id] = Member(
            user_id,
            people_band(people),
            area_band(area),
            sum(m.consumption for m in meters),
            None if None in baseloads else sum(baseloads),
        )
    return {key: Pool(each) for key, each in found.items()}


@dataclass(frozen=True, slots=True)
class Stats:
    """What a group of similar households shows."""

    households: int
    median: float
    efficient: float
    baseload_median: float | None


class Pool:
    """The comparable households of one commodity and unit, in their groups; each group's
    figures are computed once, however many households it is shown to."""

    def __init__(self, households: dict[int, Member]):
        self.households = households
        self._groups: dict[tuple, list[Member]] = defaultdict(list)
        for member in households.values():
            for key in self._keys(member):
                self._groups[key].append(member)
        self._stats: dict[tuple, Stats] = {}

    @staticmethod
    def _keys(member: Member) -> list[tuple]:
        keys: list[tuple] = [("commodity",)]
        if member.people is not None:
            keys.append(("people", member.people))
        if member.area is not None:
            keys.append(("floor_area", member.area))
        if member.people is not None and member.area is not None:
            keys.append(("people_and_floor_area", member.people, member.area))
        return keys

    def group_of(self, member: Member) -> tuple:
        """The group the household is compared with: its bands, as far as it told them."""
        return self._keys(member)[-1]

    def stats(self, key: tuple, minimum: int) -> Stats:
        """The group's figures; its baseload median only from ``minimum`` baseloads on."""
        if key not in self._stats:
            group = self._groups[key]
            values = [m.value for m in group]
            baseloads = [m.baseload for m in group if m.baseload is not None]
            self._stats[key] = Stats(
                len(group),
                median(values),
                percentile(values, 0.2),
                median(baseloads) if len(baseloads) >= minimum else None,
            )
        return self._stats[key]

    def size(self, key: tuple) -> int:
        return len(self._groups[key])


def percentile(values: list[float], share: float) -> float:
    """The ``share`` (0..1) percentile by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    place = share * (len(ordered) - 1)
    low = int(place)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (place - low)


def comparison(
    user_id: int, own: Entry, pool: Pool | None, minimum: int
) -> tuple[Figure, float | None]:
    """The ``comparison`` figure of the household ``user_id`` (``own`` is the meter whose
    report it is part of), and the group's baseload median when shown."""
    unit = own.unit
    if own.consumption is None:
        return missing(unit, NO_READINGS), None
    member = pool.households.get(user_id) if pool is not None else None
    if member is None:
        return missing(unit, LOW_COVERAGE, coverage=round(own.coverage, 4)), None
    key = pool.group_of(member)
    how = {
        "group": key[0],
        "people": member.people,
        "floor_area_m2": member.area,
        "commodity": own.commodity,
        "minimum": minimum,
    }
    if pool.size(key) < minimum:
        # Fewer than the minimum: not even the group's size is told.
        return missing(unit, GROUP_TOO_SMALL, **how), None
    stats = pool.stats(key, minimum)
    if member.value <= stats.efficient:
        position = "efficient"
    elif member.value > stats.median:
        position = "above"
    else:
        position = "typical"
    how |= {
        "households": stats.households,
        "method": "median_and_20th_percentile",
        "percentile": "linear_between_closest_ranks",
        "own": rounded(member.value, unit),
        "coverage_at_least": MIN_COVERAGE,
    }
    value = {
        "median": rounded(stats.median, unit),
        "efficient": rounded(stats.efficient, unit),
        "position": position,
    }
    return {"value": value, "unit": unit, "how": how}, stats.baseload_median


def stored_entries(
    session: Session,
    city_id: int,
    period: str,
    starts_on: date,
    users: sa.Select,
    leave_out: Collection[int],
) -> list[Entry]:
    """The stored reports of the city's period as entries: of the people ``users`` selects
    (those who consent), leaving out the meters ``leave_out`` (being computed afresh)."""
    figures = FeedbackReport.figures
    query = (
        sa.select(
            FeedbackReport.meter_id,
            FeedbackReport.user_id,
            FeedbackReport.commodity,
            Meter.unit,
            FeedbackReport.consumption,
            figures[("consumption", "how", "coverage")].as_float(),
            figures[("baseload", "value")].as_float(),
        )
        .join(Meter, Meter.id == FeedbackReport.meter_id)
        .where(
            FeedbackReport.city_id == city_id,
            FeedbackReport.period == str(period),
            FeedbackReport.starts_on == starts_on,
            FeedbackReport.consumption.is_not(None),
            FeedbackReport.user_id.in_(users),
        )
    )
    left_out = set(leave_out)
    return [
        Entry(meter_id, user_id, commodity, unit, consumption, coverage or 0.0, baseload)
        for meter_id, user_id, commodity, unit, consumption, coverage, baseload in session.execute(
            query
        )
        if meter_id not in left_out
    ]
