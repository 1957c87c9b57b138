"""Local clock times of a CSV file placed on UTC, across the clock changes of its zone.

A time the clocks skipped (spring forward) does not exist: its row is rejected. A time the
clocks repeat (fall back) is read by the order of the rows: its first run is daylight-saving
time, and once the file goes back to a time it has shown already, the rest of that hour is
standard time (the other way round in a file sorted newest first). When a repeated hour's
times each appear once, nothing tells which hour they belong to: those rows are rejected.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from energy.intervals import Rejected
from i18n import _

#: A row placed in time: (UTC, line, the local clock time the file gave or None when it gave
#: an offset, value). A plain tuple: an import makes one per row.
Placed = tuple[datetime, int, datetime | None, float | Decimal]


#: Aware UTC from naive by arithmetic: ``replace(tzinfo=...)`` costs ten times more, and an
#: import does it for every row.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_DAY = timedelta(days=1)
_UNKNOWN = object()


def utc_of(local: datetime, zone: ZoneInfo) -> datetime:
    """A local clock time in UTC (the earlier one when the clocks repeat it)."""
    return _EPOCH + (local - zone.utcoffset(local) - _NAIVE_EPOCH)


def _day_offset(day: date, zone: ZoneInfo) -> timedelta | None:
    """The zone's offset all through a local day; None when its clocks change that day."""
    start = datetime.combine(day, time())
    end = start + _DAY
    offsets = {
        zone.utcoffset(start),
        zone.utcoffset(start.replace(fold=1)),
        zone.utcoffset(end),
        zone.utcoffset(end.replace(fold=1)),
    }
    return offsets.pop() if len(offsets) == 1 else None


def _offset(delta: timedelta) -> str:
    minutes = int(delta / timedelta(minutes=1))
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class _Repeat:
    """The rows of one repeated hour."""

    def __init__(self, summer: timedelta, standard: timedelta):
        self.summer, self.standard = summer, standard
        self.seen: set[datetime] = set()
        self.back = False
        self.indexes: list[int] = []


def place(
    parsed: list[tuple], zone: ZoneInfo, rejected: list[Rejected], notes: list[str]
) -> list[Placed]:
    """``(line, stamp, value)`` rows in UTC, in file order; rows that cannot be placed
    rejected with the reason, each repeated hour read explained in ``notes``."""
    local_times = [stamp for _line, stamp, _value in parsed if stamp.tzinfo is None]
    rising = sum(after > before for before, after in pairwise(local_times))
    falling = sum(after < before for before, after in pairwise(local_times))
    newest_first = falling > rising
    placed: list[Placed | None] = []
    repeats: dict[date, _Repeat] = {}
    days: dict[date, timedelta | None] = {}
    previous = None
    utcoffset = zone.utcoffset
    for line, stamp, value in parsed:
        if stamp.tzinfo is not None:
            placed.append((stamp.astimezone(UTC), line, None, value))
            previous = None
            continue
        day = stamp.date()
        offset = days.get(day, _UNKNOWN)
        if offset is _UNKNOWN:
            offset = days[day] = _day_offset(day, zone)
        if offset is not None:
            placed.append((_EPOCH + (stamp - offset - _NAIVE_EPOCH), line, stamp, value))
            previous = stamp
            continue
        earlier, later = utcoffset(stamp), utcoffset(stamp.replace(fold=1))
        if earlier == later:
            placed.append((_EPOCH + (stamp - earlier - _NAIVE_EPOCH), line, stamp, value))
        elif earlier < later:
            rejected.append(
                Rejected(
                    line,
                    _(
                        "%(time)s does not exist in %(zone)s: the clocks moved forward then.",
                        time=f"{stamp:%Y-%m-%d %H:%M}",
                        zone=zone.key,
                    ),
                )
            )
        else:
            repeat = repeats.setdefault(stamp.date(), _Repeat(earlier, later))
            if not repeat.back and previous is not None and stamp in repeat.seen:
                repeat.back = stamp >= previous if newest_first else stamp <= previous
            repeat.seen.add(stamp)
            standard = repeat.back != newest_first
            offset = later if standard else earlier
            repeat.indexes.append(len(placed))
            placed.append((_EPOCH + (stamp - offset - _NAIVE_EPOCH), line, stamp, value))
        previous = stamp
    for repeat in repeats.values():
        _settle(repeat, placed, zone, rejected, notes)
    return [row for row in placed if row is not None]


def _settle(repeat: _Repeat, placed: list, zone: ZoneInfo, rejected: list, notes: list) -> None:
    """Explain a repeated hour read by the rows' order, or reject its rows when the order
    told nothing."""
    first, last = min(repeat.seen), max(repeat.seen)
    if repeat.back:
        notes.append(
            _(
                "On %(day)s the local times %(first)s to %(last)s appear twice: the first "
                "ones were read as daylight-saving time (UTC%(summer)s), the second ones as "
                "standard time (UTC%(standard)s).",
                day=f"{first:%Y-%m-%d}",
                first=f"{first:%H:%M}",
                last=f"{last:%H:%M}",
                summer=_offset(repeat.summer),
                standard=_offset(repeat.standard),
            )
        )
        return
    for index in repeat.indexes:
        _utc, line, local, _value = placed[index]
        placed[index] = None
        rejected.append(
            Rejected(
                line,
                _(
                    "%(time)s happens twice in %(zone)s (the clocks went back), and "
                    "the file does not show which of the two it is.",
                    time=f"{local:%Y-%m-%d %H:%M}",
                    zone=zone.key,
                ),
            )
        )
