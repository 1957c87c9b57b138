"""Meter-portal CSV exports read into interval consumption, by a column mapping a resident (or
a city's preset) chose.

Values become the meter's base unit: energy per interval as Wh, average power times the
interval's hours as Wh, cumulative register readings as the differences between consecutive
readings (a reading lower than the one before is a reset, noted and never a negative value);
volumes as m³ or litres. Local times are placed with the meter's zone (energy/csv_dst.py):
what cannot be placed is rejected, never guessed. Every row ends up stored, counted as a
duplicate or rejected with its line number.
"""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from app.errors import Invalid
from energy import csv_sniff, csv_stamps
from energy.csv_dst import Placed, place, utc_of
from energy.csv_mapping import ENERGY_UNITS, POWER_UNITS, VOLUME_UNITS, Mapping
from energy.csv_sniff import CsvSniff, sniff_csv
from energy.intervals import Interval, ParseResult, Rejected, find_gaps
from i18n import _

__all__ = ["CsvSniff", "Mapping", "read_csv", "sniff_csv"]

#: Values looked at to tell the decimal mark.
DECIMAL_SAMPLE = 5000
#: Shown in a rejection: enough of a cell to recognise it.
SHOWN = 40
_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def read_csv(data: bytes, mapping: Mapping, meter_timezone: str, meter_unit: str) -> ParseResult:
    """The file's intervals in the meter's base unit, with every row accounted for."""
    factor = _factor(mapping, meter_unit)
    zone = ZoneInfo(mapping.timezone or meter_timezone)
    text, _encoding = csv_sniff.decode(data)
    csv_sniff.check_lines(text)
    delimiter = csv_sniff.pick_delimiter(text)
    rows = csv_sniff.records(text, delimiter)
    if not rows:
        raise Invalid(errors={"file": [_("The file has no rows of data.")]})
    notes: list[str] = []
    start, header = _table(rows, mapping, notes)
    body = rows[start + 1 :] if header is not None else rows[start:]
    if not body:
        raise Invalid(errors={"file": [_("The file has no rows of data.")]})
    width = max(len(row) for _line, row in rows[start:])
    stamp_at, time_at, value_at = _columns(mapping, header, width)

    rejected: list[Rejected] = []
    lines, stamps, values = [], [], []
    needed = max(stamp_at, value_at, -1 if time_at is None else time_at) + 1
    for line, row in body:
        if len(row) < needed:
            rejected.append(
                Rejected(line, _("The row has too few columns (%(count)d).", count=len(row)))
            )
            continue
        stamp = row[stamp_at].strip()
        if time_at is not None:
            stamp = f"{stamp} {row[time_at].strip()}".strip()
        lines.append(line)
        stamps.append(stamp)
        values.append(row[value_at].strip())

    parse = _stamp_format(mapping, stamps).parse
    decimal = _decimal(mapping, values, delimiter, notes)
    register = mapping.value_kind == "register"
    parsed = _parse_rows(lines, stamps, values, parse, decimal, register, rejected)
    unique, duplicates = _without_duplicates(place(parsed, zone, rejected, notes), rejected)
    if register:
        intervals = _register_intervals(unique, factor, zone, notes)
    else:
        intervals = _interval_values(unique, mapping, factor, zone, rejected, notes)
    rejected.sort(key=lambda rejection: rejection.line)
    return ParseResult(
        intervals=intervals,
        rows_read=len(body),
        duplicates_dropped=duplicates,
        gaps=find_gaps(intervals),
        rejected=rejected,
        notes=notes,
        unit=meter_unit,
    )


def _factor(mapping: Mapping, meter_unit: str) -> float:
    """What a value times gives the meter's base unit (for power: per hour)."""
    unit = mapping.value_unit
    if meter_unit == "Wh":
        if unit in ENERGY_UNITS:
            return ENERGY_UNITS[unit]
        if unit in POWER_UNITS:
            return POWER_UNITS[unit]
        message = _("This meter counts energy (Wh): its values cannot be volumes.")
    elif meter_unit in VOLUME_UNITS:
        if unit in VOLUME_UNITS:
            return VOLUME_UNITS[unit] / VOLUME_UNITS[meter_unit]
        message = _(
            "This meter counts volume (%(unit)s): give the values in m3 or L.", unit=meter_unit
        )
    else:
        raise ValueError(f"not a meter unit: {meter_unit!r}")
    raise Invalid(errors={"value_unit": [message]})


def _table(
    rows: list[tuple[int, list[str]]], mapping: Mapping, notes: list[str]
) -> tuple[int, list[str] | None]:
    """Where the table starts and its header's names (None when it has none): the row naming
    the mapping's columns, else as the file looks (past a preamble). Lines skipped are noted."""
    named = {
        spec.casefold()
        for spec in (mapping.timestamp, mapping.time, mapping.value)
        if isinstance(spec, str)
    }
    start = None
    if named and mapping.has_header is not False:
        for index, (_line, row) in enumerate(rows[: csv_sniff.SNIFF_LINES + 1]):
            if named <= {csv_sniff.clean_name(cell).casefold() for cell in row}:
                start, has_header = index, True
                break
    if start is None:
        start = csv_sniff.table_start([row for _line, row in rows[: csv_sniff.SNIFF_LINES + 1]])
        has_header = mapping.has_header
        if has_header is None:
            sample = [row for _line, row in rows[start : start + csv_sniff.SNIFF_LINES + 1]]
            has_header = csv_sniff.looks_like_header(sample)
    if start == 1:
        notes.append(_("Line %(line)d comes before the table and was not read.", line=rows[0][0]))
    elif start:
        notes.append(
            _(
                "Lines %(first)d to %(last)d come before the table and were not read.",
                first=rows[0][0],
                last=rows[start - 1][0],
            )
        )
    header = [csv_sniff.clean_name(cell) for cell in rows[start][1]] if has_header else None
    return start, header


def _resolve(spec: str | int, header: list[str] | None, width: int) -> int | None:
    if isinstance(spec, int):
        return spec if spec < width else None
    names = header or []
    if spec in names:
        return names.index(spec)
    folded = spec.casefold()
    for index, name in enumerate(names):
        if name.casefold() == folded:
            return index
    # The names shown for a file without a header (in any language, or in English).
    for index in range(width):
        if folded in (csv_sniff.generated_name(index).casefold(), f"column {index + 1}"):
            return index
    return None


def _columns(mapping: Mapping, header: list[str] | None, width: int) -> tuple[int, int | None, int]:
    errors, found = {}, {}
    names = header or [csv_sniff.generated_name(i) for i in range(width)]
    for field in ("timestamp", "time", "value"):
        spec = getattr(mapping, field)
        found[field] = None if spec is None else _resolve(spec, header, width)
        if spec is not None and found[field] is None:
            errors[field] = [
                _(
                    "No column “%(name)s” in this file. Its columns: %(columns)s.",
                    name=spec,
                    columns=", ".join(names),
                )
            ]
    if errors:
        raise Invalid(errors=errors)
    return found["timestamp"], found["time"], found["value"]


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _stamp_format(mapping: Mapping, stamps: list[str]) -> csv_stamps.StampFormat:
    """The mapping's pattern, else the known format most of the first stamps are written in
    (with day and month told apart by the data, or refused)."""
    if mapping.timestamp_format:
        return csv_stamps.given_format(mapping.timestamp_format)
    names: dict[str, int] = {}
    for stamp in stamps[:200]:
        if name := csv_stamps.family(stamp):
            names[name] = names.get(name, 0) + 1
    if not names:
        example = _shown(next((stamp for stamp in stamps if stamp), ""))
        message = _(
            "The time stamps (e.g. “%(example)s”) are not in a format we know: give their pattern.",
            example=example,
        )
        raise Invalid(errors={"timestamp_format": [message]})
    name = max(names, key=names.__getitem__)
    order = None
    if name in csv_stamps.EITHER_ORDER:
        try:
            order = csv_stamps.day_first(stamps, dict(csv_stamps.KNOWN)[name])
        except ValueError:
            order = None
        if order is None:
            message = _(
                "No date in the file tells whether the day or the month comes first: "
                "give the pattern (e.g. %(day_first)s or %(month_first)s).",
                day_first=csv_stamps.known_format(name, True).pattern,
                month_first=csv_stamps.known_format(name, False).pattern,
            )
            raise Invalid(errors={"timestamp_format": [message]})
    return csv_stamps.known_format(name, order)


def _decimal(mapping: Mapping, values: list[str], delimiter: str, notes: list[str]) -> str:
    if mapping.decimal:
        return mapping.decimal
    # The first rows tell; a later number with the other mark is rejected as not a number.
    mark, mixed = csv_sniff.detect_decimal(values[:DECIMAL_SAMPLE])
    if mixed:
        # TRANSLATORS: keep the marks “,” and “.” as they are.
        message = _("The numbers use both “,” and “.” as decimal marks: choose one.")
        raise Invalid(errors={"decimal": [message]})
    if mark:
        return mark
    # Only whole numbers, or only numbers like 1,234: the delimiter's custom decides.
    mark = "," if delimiter == ";" else "."
    if any("," in value or "." in value for value in values):
        notes.append(
            _("The numbers do not show their decimal mark: “%(mark)s” was taken.", mark=mark)
        )
    return mark


def _parse_rows(lines, stamps, values, parse, decimal, register, rejected) -> list[tuple]:
    """(line, stamp, value) of the rows whose stamp and value read; the others rejected."""
    parsed = []
    append = parsed.append
    number_text = csv_sniff.number_text
    isfinite = math.isfinite
    for line, stamp, text in zip(lines, stamps, values, strict=True):
        moment = parse(stamp) if stamp else None
        number = number_text(text, decimal) if text else None
        if moment is not None and number is not None:
            value = Decimal(number) if register else float(number)
            if value >= 0 and isfinite(value):
                append((line, moment, value))
                continue
        rejected.append(Rejected(line, _row_problem(stamp, moment, text, number)))
    return parsed


def _row_problem(stamp: str, moment: datetime | None, text: str, number: str | None) -> str:
    if not stamp:
        return _("The row has no time stamp.")
    if moment is None:
        return _("Not a date and time: “%(text)s”.", text=_shown(stamp))
    if not text:
        return _("The row has no value.")
    if number is None or not math.isfinite(float(number)):
        return _("Not a number: “%(text)s”.", text=_shown(text))
    return _("A negative value (%(text)s): consumption cannot be negative.", text=_shown(text))


def _without_duplicates(placed: list[Placed], rejected: list[Rejected]) -> tuple[list[Placed], int]:
    """Sorted by time; a repeat of a time with the same value is dropped and counted, with
    another value rejected (the first row in the file is kept)."""
    placed.sort(key=lambda row: row[0])
    unique: list[Placed] = []
    duplicates = 0
    last = None
    for row in placed:
        if last is not None and last[0] == row[0]:
            if last[3] == row[3]:
                duplicates += 1
            else:
                reason = _(
                    "Same time as line %(first)d but another value (%(value)s, not "
                    "%(kept)s): line %(first)d is kept.",
                    first=last[1],
                    value=row[3],
                    kept=last[3],
                )
                rejected.append(Rejected(row[1], reason))
            continue
        unique.append(row)
        last = row
    return unique, duplicates


def _step(unique: list[Placed], mapping: Mapping, notes: list[str]) -> timedelta:
    """The interval length: the mapping's, else the most common step between rows (on the
    local clock when the file gives local times, so a daily file stays daily across a clock
    change)."""
    if mapping.interval_minutes:
        return timedelta(minutes=mapping.interval_minutes)
    local = all(row[2] is not None for row in unique)
    times = [row[2] if local else row[0] for row in unique]
    steps: dict[timedelta, int] = {}
    for before, after in pairwise(times):
        step = after - before
        steps[step] = steps.get(step, 0) + 1
    steps = {step: count for step, count in steps.items() if step > timedelta(0)}
    if not steps:
        message = _("The file has a single time: give the interval's length.")
        raise Invalid(errors={"interval_minutes": [message]})
    step = max(steps, key=lambda s: (steps[s], -s))
    minutes = step / timedelta(minutes=1)
    if not minutes.is_integer() or minutes > 1440 or 1440 % minutes:
        message = _(
            "The rows are mostly %(minutes)s minutes apart, which does not divide a day: "
            "give the interval's length.",
            minutes=f"{minutes:g}",
        )
        raise Invalid(errors={"interval_minutes": [message]})
    notes.append(
        _(
            "Each row was taken as %(minutes)d minutes, the most common step between rows.",
            minutes=int(minutes),
        )
    )
    return step


def _interval_values(unique, mapping, factor, zone, rejected, notes) -> list[Interval]:
    """One interval per row: from its stamp over the step (a local day when daily), its value
    in the base unit; a row whose interval overlaps the one before is rejected."""
    step = _step(unique, mapping, notes)
    marks_start = mapping.stamp_marks == "start"
    power = mapping.value_kind == "power"
    daily = step == _DAY
    scale = factor * (step / _HOUR if power else 1)
    intervals: list[Interval] = []
    append = intervals.append
    last_end, last_line = _LONG_AGO, 0
    for utc, line, local, value in unique:
        if daily and local is not None:
            # A local day lasts 23 or 25 hours when the clocks change.
            if marks_start:
                start, end = utc, utc_of(local + _DAY, zone)
            else:
                start, end = utc_of(local - _DAY, zone), utc
            length_scale = factor * ((end - start) / _HOUR if power else 1)
            amount = round(value * length_scale, 6)
        else:
            start = utc if marks_start else utc - step
            end = start + step
            amount = round(value * scale, 6)
        if start < last_end:
            reason = _("Overlaps the interval of line %(line)d.", line=last_line)
            rejected.append(Rejected(line, reason))
            continue
        append(Interval(start, end, amount))
        last_end, last_line = end, line
    return intervals


def _register_intervals(unique, factor, zone, notes) -> list[Interval]:
    """The consumption between consecutive readings; a reading lower than the one before is
    a reset (or a new meter): that interval is left out and said so."""
    intervals: list[Interval] = []
    for (start, _line, _clock, before), (end, line, _clock_after, after) in pairwise(unique):
        if after >= before:
            intervals.append(Interval(start, end, round(float(after - before) * factor, 6)))
            continue
        notes.append(
            _(
                "Line %(line)d: the meter reading went down from %(before)s to %(after)s (a "
                "reset or a new meter); the consumption from %(start)s to %(end)s is unknown "
                "and left out.",
                line=line,
                before=before,
                after=after,
                start=_shown_local(start, zone),
                end=_shown_local(end, zone),
            )
        )
    return intervals


def _shown_local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
