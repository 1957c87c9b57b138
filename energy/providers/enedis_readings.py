"""Reading Enedis's answers: ``meter_reading.interval_reading`` values of the load curve
(average W over ``interval_length``, stamped with the interval's END in local time) and of
daily consumption (Wh per local day), into one reader's result.

A value that is not a number, is negative, has no usable time or length, lies outside the
period asked for, or overlaps the one before is rejected with its position in the answers
(1 for the first value of the first answer): the import's summary lists it, as a file
import's lists its rejected rows. A repeated start is a duplicate dropped.
"""

import math
import re
from collections.abc import Collection
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from energy.buckets import local_midnight
from energy.csv_dst import place
from energy.intervals import Interval, ParseResult, Rejected, find_gaps
from energy.models import Unit
from energy.providers.base import ProviderError
from i18n import _

LENGTH = re.compile(r"PT(\d{1,3})([MH])")
#: An interval length when a value does not give one: the Linky load curve's.
DEFAULT_LENGTH = "PT30M"


def _number(text) -> float | None:
    """A value as Enedis sends it (a string of digits); None when it is not a usable one."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


class Reader:
    """The values of one fetch's answers, as one reader's result."""

    def __init__(self, usage_point: str, zone: ZoneInfo):
        self.usage_point = usage_point
        self.zone = zone
        self.read: list[tuple[Interval, int]] = []
        self.rejected: list[Rejected] = []
        self.notes: list[str] = []
        self.rows = 0

    def _values(self, body, unit: str) -> list:
        reading = body.get("meter_reading") if isinstance(body, dict) else None
        kind = reading.get("reading_type") if isinstance(reading, dict) else None
        values = reading.get("interval_reading", []) if isinstance(reading, dict) else None
        if (
            not isinstance(values, list)
            or str(reading.get("usage_point_id")) != self.usage_point
            or (isinstance(kind, dict) and kind.get("unit") not in (None, unit))
        ):
            raise ProviderError("malformed_answer")
        return values

    def _reject(self, line: int, reason: str) -> None:
        self.rejected.append(Rejected(line, reason))

    def curve(self, body) -> None:
        parsed = []
        for entry in self._values(body, "W"):
            self.rows += 1
            entry = entry if isinstance(entry, dict) else {}
            watts = _number(entry.get("value"))
            length = LENGTH.fullmatch(str(entry.get("interval_length") or DEFAULT_LENGTH))
            try:
                end = datetime.fromisoformat(str(entry.get("date")))
            except ValueError:
                end = None
            if watts is None or end is None or length is None or int(length[1]) == 0:
                self._reject(self.rows, _("Not a usable value: %(value)s.", value=str(entry)[:80]))
                continue
            minutes = int(length[1]) * (60 if length[2] == "H" else 1)
            parsed.append((self.rows, end, (watts, minutes)))
        for utc_end, line, _local, (watts, minutes) in place(
            parsed, self.zone, self.rejected, self.notes
        ):
            start = utc_end - timedelta(minutes=minutes)
            self.read.append((Interval(start, utc_end, watts * minutes / 60), line))

    def daily(self, body, days: Collection[date]) -> None:
        for entry in self._values(body, "Wh"):
            self.rows += 1
            entry = entry if isinstance(entry, dict) else {}
            value = _number(entry.get("value"))
            try:
                day = date.fromisoformat(str(entry.get("date"))[:10])
            except ValueError:
                day = None
            if value is None or day is None:
                self._reject(self.rows, _("Not a usable value: %(value)s.", value=str(entry)[:80]))
                continue
            if day in days:
                start = local_midnight(day, self.zone)
                end = local_midnight(day + timedelta(days=1), self.zone)
                self.read.append((Interval(start, end, value), self.rows))

    def result(self, first: datetime, last: datetime) -> ParseResult:
        """Sorted; a repeated start dropped; a value outside ``[first, last)`` (not asked for)
        or overlapping the one before rejected."""
        kept: list[Interval] = []
        duplicates = 0
        for interval, line in sorted(self.read, key=lambda each: each[0].start):
            if interval.start < first or interval.end > last:
                self._reject(line, _("This value is outside the period asked for."))
            elif kept and interval.start == kept[-1].start:
                duplicates += 1
            elif kept and interval.start < kept[-1].end:
                self._reject(line, _("This value overlaps the one before it."))
            else:
                kept.append(interval)
        self.rejected.sort(key=lambda each: each.line)
        return ParseResult(
            intervals=kept,
            rows_read=self.rows,
            duplicates_dropped=duplicates,
            gaps=find_gaps(kept),
            rejected=self.rejected,
            notes=self.notes,
            unit=Unit.WH.value,
        )
