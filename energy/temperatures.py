"""A city's daily mean outdoor temperatures, imported by staff from a CSV file, for heating
degree days in the feedback of heat and gas meters.

The file needs a column of dates (ISO 2024-01-31, 31.01.2024 or 31/01/2024: day first) and a
column of daily means in °C (decimal point or comma; the delimiter is sniffed as for meter
files). With more number columns, the mean is the one whose header says so ("mean", "Tm",
"moyenne", "Mittel"…). Each day is upserted: the same file twice changes nothing, a changed
value replaces the stored one and is counted. Rows that cannot be read are rejected with
their line number and reason, never guessed; a file that is not a table stores nothing.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import Conflict, Invalid
from app.models import City, User
from app.policy import ensure
from energy import csv_sniff, csv_stamps
from energy.models import TemperatureDay
from i18n import _

#: Larger files are refused: a century of days is well under this.
MAX_BYTES = 2 * 1024 * 1024
MIN_C, MAX_C = -60.0, 60.0
#: Rejected rows listed in a summary (the rest are counted).
SHOWN_REJECTED = 100
#: Gaps listed on the settings page (the rest are counted).
SHOWN_GAPS = 50
#: Date formats taken; "slash" is read day first (31/01/2024), as outside the United States.
_DATE_FAMILIES = ("iso", "dots", "slash", "ymd_slash")
#: What a header of the daily mean says, in the programme's languages.
_MEAN_WORDS = ("mean", "avg", "average", "moyen", "mittel", "media", "medio", "средн", "平均")
_MEAN_NAMES = frozenset({"tm", "tg", "tmoy", "tavg", "t_avg", "t_mean", "tmean"})
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-"})


def _refuse(message: str) -> Invalid:
    return Invalid(errors={"file": [message]})


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def parse_day(text: str) -> date | None:
    """A day written as ISO, dd.mm.yyyy, dd/mm/yyyy or yyyy/mm/dd (midnight allowed)."""
    name = csv_stamps.family(text)
    if name not in _DATE_FAMILIES:
        return None
    parse = csv_stamps.ISO.parse if name == "iso" else csv_stamps.known_format(name, True).parse
    moment = parse(text)
    if moment is None or (moment.hour, moment.minute, moment.second) != (0, 0, 0):
        return None
    return moment.date()


def _is_mean(name: str) -> bool:
    folded = name.casefold()
    words = set(re.split(r"[^\w]+", folded))
    return bool(words & _MEAN_NAMES) or any(word in folded for word in _MEAN_WORDS)


@dataclass
class _Table:
    rows: list[tuple[int, list[str]]]
    columns: list[str]
    day: int
    mean: int
    decimal: str


def _table(data: bytes) -> _Table:
    """The file's rows, its date and mean columns and decimal mark; Invalid when it has none."""
    if len(data) > MAX_BYTES:
        raise _refuse(_("The file is larger than %(max)d MB.", max=MAX_BYTES // (1024 * 1024)))
    text, _encoding = csv_sniff.decode(data)
    csv_sniff.check_lines(text)
    delimiter = csv_sniff.pick_delimiter(text)
    found = csv_sniff.records(text, delimiter)
    start = csv_sniff.table_start([row for _line, row in found])
    found = found[start:]
    has_header = csv_sniff.looks_like_header([row for _line, row in found])
    body = found[1:] if has_header else found
    if not body:
        raise _refuse(_("The file has no rows of data."))
    width = max(len(row) for _line, row in found)
    columns = [csv_sniff.clean_name(c) for c in found[0][1]] if has_header else []
    columns += [csv_sniff.generated_name(i) for i in range(len(columns), width)]
    sample = body[: 2 * csv_sniff.SNIFF_LINES]

    def cells(index: int) -> list[str]:
        return [row[index].strip() for _line, row in sample if index < len(row)]

    def share(index: int, test) -> float:
        values = [cell for cell in cells(index) if cell]
        return sum(map(test, values)) / len(values) if values else 0.0

    days = [i for i in range(width) if share(i, lambda c: parse_day(c) is not None) > 0.5]
    if not days:
        raise _refuse(_("No column of dates (e.g. 2024-01-31 or 31.01.2024) was found."))
    numbers = [
        i
        for i in range(width)
        if i != days[0]
        and share(i, lambda c: csv_sniff.classify(c.translate(_MINUS)) == "number") > 0.5
    ]
    named = [i for i in numbers if has_header and _is_mean(columns[i])]
    if len(named) == 1 or len(numbers) == 1:
        mean = named[0] if len(named) == 1 else numbers[0]
    elif not numbers:
        raise _refuse(_("No column of temperatures was found next to the dates."))
    else:
        raise _refuse(
            _(
                "Which column holds the daily mean? Head it “mean”, or keep only the dates "
                "and the means. Its columns: %(columns)s.",
                columns=", ".join(columns),
            )
        )
    means = [cell.translate(_MINUS) for cell in cells(mean)]
    decimal = csv_sniff.detect_decimal(means)[0]
    if decimal is None:
        decimal = "," if delimiter != "," and any("," in cell for cell in means) else "."
    return _Table(body, columns, days[0], mean, decimal)


@dataclass
class _Read:
    values: dict[date, float] = field(default_factory=dict)
    rejected: list[dict] = field(default_factory=list)


def _read(table: _Table) -> _Read:
    read = _Read()
    first_line: dict[date, int] = {}
    for line, row in table.rows:
        day_text = row[table.day].strip() if table.day < len(row) else ""
        mean_text = row[table.mean].strip().translate(_MINUS) if table.mean < len(row) else ""
        day = parse_day(day_text)
        number = csv_sniff.number_text(mean_text, table.decimal) if mean_text else None
        if day is None:
            reason = _("Not a date: “%(text)s”.", text=_shown(day_text))
        elif not mean_text:
            reason = _("No temperature for %(day)s.", day=day.isoformat())
        elif number is None:
            reason = _("Not a number: “%(text)s”.", text=_shown(mean_text))
        elif not MIN_C <= float(number) <= MAX_C:
            reason = _(
                "%(value)s °C is outside %(min)d to %(max)d °C.",
                value=mean_text,
                min=MIN_C,
                max=MAX_C,
            )
        elif day in read.values and read.values[day] != float(number):
            reason = _(
                "%(day)s is on line %(line)d already, with another temperature.",
                day=day.isoformat(),
                line=first_line[day],
            )
        else:
            # The same day twice with the same value is read once.
            read.values.setdefault(day, float(number))
            first_line.setdefault(day, line)
            continue
        read.rejected.append({"line": line, "reason": reason})
    return read


def _store(session: Session, city: City, values: dict[date, float]) -> dict[str, int]:
    """Upsert the days: new ones added, changed ones replaced, the same ones left alone."""
    days = sorted(values)
    stored = {
        row.day: row
        for row in session.scalars(
            sa.select(TemperatureDay).where(
                TemperatureDay.city_id == city.id, TemperatureDay.day.between(days[0], days[-1])
            )
        )
    }
    counts = {"new": 0, "replaced": 0, "unchanged": 0}
    now = utcnow()
    try:
        with session.begin_nested():
            for day in days:
                value, row = values[day], stored.get(day)
                if row is None:
                    session.add(
                        TemperatureDay(city_id=city.id, day=day, mean_c=value, imported_at=now)
                    )
                    counts["new"] += 1
                elif row.mean_c == value:
                    counts["unchanged"] += 1
                else:
                    row.mean_c, row.imported_at = value, now
                    counts["replaced"] += 1
            session.flush()
    except IntegrityError:
        # Another import stored one of these days a moment ago.
        raise Conflict(
            _("Temperatures of this city are being imported right now. Please try again.")
        ) from None
    return counts


def import_temperatures(session: Session, actor: User, city: City, data: bytes) -> dict:
    """Store the file's daily means for the city and say what it did: rows read, days (new,
    replaced, unchanged), rejected rows with line numbers and reasons, the days covered."""
    ensure(actor, "energy.settings", city)
    table = _table(data)
    read = _read(table)
    days = sorted(read.values)
    counts = _store(session, city, read.values) if days else {}
    summary = {
        "rows_read": len(table.rows),
        "days": len(days),
        "new": counts.get("new", 0),
        "replaced": counts.get("replaced", 0),
        "unchanged": counts.get("unchanged", 0),
        "rejected_total": len(read.rejected),
        "rejected": read.rejected[:SHOWN_REJECTED],
        "period": [days[0].isoformat(), days[-1].isoformat()] if days else None,
        "columns": [table.columns[table.day], table.columns[table.mean]],
        "decimal": table.decimal,
    }
    audit.record(
        session,
        actor,
        "temperatures.import",
        "city",
        city.id,
        city_id=city.id,
        details={key: value for key, value in summary.items() if key != "rejected"},
    )
    session.flush()
    return summary


@dataclass(frozen=True)
class Coverage:
    """The days a city has a temperature for: the first and last, how many, and the gaps."""

    first: date | None
    last: date | None
    days: int
    #: Runs of missing days between the first and the last, as (first, last) inclusive.
    gaps: list[tuple[date, date]]
    gaps_total: int
    missing_days: int


def coverage(session: Session, city_id: int) -> Coverage:
    """Which days the city's temperature series covers, and the missing ones in between."""
    days = list(
        session.scalars(
            sa.select(TemperatureDay.day)
            .where(TemperatureDay.city_id == city_id)
            .order_by(TemperatureDay.day)
        )
    )
    if not days:
        return Coverage(None, None, 0, [], 0, 0)
    gaps = [
        (before + timedelta(days=1), after - timedelta(days=1))
        for before, after in pairwise(days)
        if (after - before).days > 1
    ]
    missing = sum((last - first).days + 1 for first, last in gaps)
    return Coverage(days[0], days[-1], len(days), gaps[:SHOWN_GAPS], len(gaps), missing)
