"""Green Button (NAESB ESPI) Atom feeds: usage points, their readings, in the meter's base unit.

A feed is a flat list of Atom entries linked by their ``self``/``up``/``related`` addresses:
a UsagePoint, its MeterReadings, each pointing at a ReadingType (unit, power of ten,
interval length) and owning IntervalBlocks of IntervalReadings (start in UTC epoch seconds,
duration, value). Times are UTC already, so a clock change only shows as a local day of 23
or 25 hours, which is noted. greenbutton_atom.py reads the XML and follows the links.
"""

import math
import xml.etree.ElementTree as StdET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.errors import Invalid
from energy.greenbutton_atom import Entry, entries_of, integer_in, owner, same
from energy.intervals import Interval, ParseResult, Rejected, find_gaps
from energy.models import Commodity
from i18n import _

#: ESPI unit of measure → (base unit, factor to it). 72 Wh, 31 J, 169 therm, 42 m³, 119 ft³,
#: 128 US gallon.
UNITS = {
    72: ("Wh", 1.0),
    31: ("Wh", 1 / 3600),
    169: ("Wh", 29_307.107),
    42: ("m3", 1.0),
    119: ("m3", 0.028_316_846_592),
    128: ("L", 3.785_411_784),
}
#: UsagePoint ServiceCategory kind → our commodity.
SERVICES = {
    0: Commodity.ELECTRICITY.value,
    1: Commodity.GAS.value,
    2: Commodity.WATER.value,
    4: Commodity.DISTRICT_HEAT.value,
}
#: accumulationBehaviour values that mean consumption per interval (none given, deltaData).
PER_INTERVAL = (None, 0, 4)
#: flowDirection values of energy taken from the network (none given, forward).
DELIVERED = (None, 0, 1)
#: More readings than 15 minutes over ten years is not one household's file.
MAX_READINGS = 400_000
LONG_DAYS = {82_800: 23, 90_000: 25}
#: Adding seconds to it is several times faster than ``datetime.fromtimestamp(…, UTC)``.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class UsagePointData:
    """One usage point (a meter, in Green Button's words) of a feed, and its readings."""

    key: str
    title: str
    commodity: str | None
    result: ParseResult


def parse_green_button(data: bytes) -> list[UsagePointData]:
    """Every usage point of a Green Button feed with its intervals; Invalid on "file" when the
    content is not a Green Button usage feed."""
    entries = entries_of(data)
    by_kind: dict[str, list[Entry]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry)
    points = by_kind.get("UsagePoint", [])
    readings = by_kind.get("MeterReading", [])
    blocks = by_kind.get("IntervalBlock", [])
    if not points and not blocks:
        raise Invalid(
            errors={
                "file": [
                    _(
                        "This Green Button file holds no usage data (it looks like customer "
                        "or account information). Download your usage data and try again."
                    )
                ]
            }
        )
    if sum(len(b.readings) for b in blocks) > MAX_READINGS:
        raise Invalid(errors={"file": [_("This file holds too many readings for one import.")]})
    if not points:
        # A fragment with readings but no usage point: one unnamed usage point holds them.
        feed_title = readings[0].title if readings else ""
        points = [Entry(0, "UsagePoint", StdET.Element("UsagePoint"), feed_title, "", "", [])]
    local_time = (by_kind.get("LocalTimeParameters") or [None])[0]
    tz_offset = integer_in(local_time.element, "tzOffset") if local_time else None
    types = by_kind.get("ReadingType", [])
    # Readings are numbered through the whole file, so a number names one reading.
    numbering, count = {}, 0
    for block in blocks:
        numbering[id(block)] = count
        count += len(block.readings)
    owned_blocks: dict[int, list[Entry]] = {}
    for block in blocks:
        reading = owner(block, readings)
        if reading is not None:
            owned_blocks.setdefault(id(reading), []).append(block)
    owners = {id(r): owner(r, points) for r in readings}
    # Without meter readings, the blocks of a file with one usage point are that point's.
    loose = blocks if not readings and len(points) == 1 else []
    reached = len(loose) + sum(
        len(owned_blocks.get(id(r), [])) for r in readings if owners[id(r)] is not None
    )
    result = []
    keys: set[str] = set()
    for number, point in enumerate(points, 1):
        key = point.self_href.rsplit("/", 1)[-1] or str(number)
        if key in keys:
            key = f"{key}-{number}"
        keys.add(key)
        mine = [r for r in readings if owners[id(r)] is point]
        parsed = _usage_point(mine, owned_blocks, types, numbering, tz_offset, loose)
        if reached < len(blocks):
            parsed.notes.append(
                _(
                    "%(count)d interval blocks of the file belong to no usage point; skipped.",
                    count=len(blocks) - reached,
                )
            )
        service = integer_in(point.element.find("{*}ServiceCategory"), "kind")
        result.append(
            UsagePointData(
                key=key,
                title=point.title or key,
                commodity=SERVICES.get(service) if service is not None else None,
                result=parsed,
            )
        )
    return result


def _reading_type(reading: Entry, types: list[Entry]) -> StdET.Element | None:
    for kind in types:
        if any(same(href, kind.self_href) for href in reading.related):
            return kind.element
    return types[0].element if len(types) == 1 else None


def _usage_point(
    readings: list[Entry],
    owned_blocks: dict[int, list[Entry]],
    types: list[Entry],
    numbering: dict[int, int],
    tz_offset: int | None,
    loose_blocks: list[Entry],
) -> ParseResult:
    """The intervals of one usage point, from its meter reading with the most values."""
    notes: list[str] = []
    candidates = []
    for reading in readings:
        kind = _reading_type(reading, types)
        flow = integer_in(kind, "flowDirection")
        accumulation = integer_in(kind, "accumulationBehaviour")
        mine = owned_blocks.get(id(reading), [])
        if not mine:
            continue
        if flow not in DELIVERED:
            notes.append(_("Skipped “%(title)s”: energy fed into the grid.", title=reading.title))
        elif accumulation not in PER_INTERVAL:
            notes.append(
                _(
                    "Skipped “%(title)s”: cumulative meter readings, not consumption per interval.",
                    title=reading.title,
                )
            )
        else:
            candidates.append((reading, kind, mine))
    if not candidates and loose_blocks:
        candidates.append((None, types[0].element if len(types) == 1 else None, loose_blocks))
    if not candidates:
        notes.append(_("No readings for this usage point."))
        return ParseResult(intervals=[], rows_read=0, notes=notes)

    def size(candidate) -> int:
        return sum(len(b.readings) for b in candidate[2])

    candidates.sort(key=size, reverse=True)
    for skipped, _kind, _blocks in candidates[1:]:
        notes.append(
            _(
                "Kept the readings with the most values; skipped “%(title)s”.",
                title=skipped.title if skipped else "",
            )
        )
    _reading, kind, mine = candidates[0]
    return _intervals(kind, mine, numbering, tz_offset, notes)


def _intervals(
    kind: StdET.Element | None,
    blocks: list[Entry],
    numbering: dict[int, int],
    tz_offset: int | None,
    notes: list[str],
) -> ParseResult:
    uom = integer_in(kind, "uom") if kind is not None else None
    if kind is None:
        notes.append(_("The file does not say its unit; values are taken as Wh."))
        uom = 72
    if uom not in UNITS:
        notes.append(_("Unknown unit of measure (%(code)s); nothing imported.", code=uom))
        return ParseResult(intervals=[], rows_read=0, notes=notes)
    unit, factor = UNITS[uom]
    power = integer_in(kind, "powerOfTenMultiplier") or 0
    default_length = integer_in(kind, "intervalLength")
    rows_read = sum(len(block.readings) for block in blocks)
    rejected: list[Rejected] = []
    raw: list[tuple[int, int, int, float]] = []
    scale = (10**power if power >= 0 else 1 / 10**-power) * factor
    # Divided, not multiplied by 0.001: 1234 / 1000 is exactly 1.234.
    divisor = 10**-power if power < 0 and factor == 1 else None
    longest = 32 * 86_400
    for block in blocks:
        _day_note(block.element, tz_offset, notes)
        for number, (start, duration, text) in enumerate(block.readings, numbering[id(block)] + 1):
            duration = duration or default_length
            try:
                value = float(text)
            except (TypeError, ValueError):
                value = None
            if start is None or value is None or not math.isfinite(value):
                rejected.append(Rejected(number, _("No time or no number in this reading.")))
            elif not duration or duration <= 0 or duration > longest:
                rejected.append(Rejected(number, _("The reading's duration is not valid.")))
            elif value < 0:
                rejected.append(Rejected(number, _("Negative consumption.")))
            elif divisor:
                raw.append((start, duration, number, value / divisor))
            else:
                raw.append((start, duration, number, value * scale))
    raw.sort()
    intervals: list[Interval] = []
    numbers: list[int] = []
    duplicates = 0
    lengths: dict[int, timedelta] = {}  # a file has one or two interval lengths
    last_end = None
    for start, duration, number, value in raw:
        begin = EPOCH + timedelta(seconds=start)
        length = lengths.get(duration)
        if length is None:
            length = lengths[duration] = timedelta(seconds=duration)
        interval = Interval(begin, begin + length, value)
        if last_end is not None and begin < last_end:
            previous = intervals[-1]
            if begin == previous.start and interval == previous:
                duplicates += 1
            elif begin == previous.start:
                rejected.append(
                    Rejected(
                        number,
                        _(
                            "A second, different value for the interval of reading %(line)d.",
                            line=numbers[-1],
                        ),
                    )
                )
            else:
                rejected.append(
                    Rejected(
                        number,
                        _("Overlaps the interval of reading %(line)d.", line=numbers[-1]),
                    )
                )
            continue
        intervals.append(interval)
        numbers.append(number)
        last_end = interval.end
    rejected.sort(key=lambda r: r.line)
    return ParseResult(
        intervals=intervals,
        rows_read=rows_read,
        duplicates_dropped=duplicates,
        gaps=find_gaps(intervals),
        rejected=rejected,
        notes=notes,
        unit=unit,
    )


def _day_note(block: StdET.Element, tz_offset: int | None, notes: list[str]) -> None:
    """A local day of 23 or 25 hours (clocks changed): said, since its readings look odd."""
    interval = block.find("{*}interval")
    duration, start = integer_in(interval, "duration"), integer_in(interval, "start")
    if duration not in LONG_DAYS or start is None:
        return
    # Midday of that local day, in the zone's standard time, names the date whatever the rule.
    midday = EPOCH + timedelta(seconds=start + duration // 2 + (tz_offset or 0))
    notes.append(
        _(
            "%(date)s had %(hours)d hours (the clocks changed); its readings are kept as "
            "they came.",
            date=midday.date().isoformat(),
            hours=LONG_DAYS[duration],
        )
    )
