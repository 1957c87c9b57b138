"""Time stamps in meter-portal CSV files: the formats we recognise, and one given as a pattern.

Parsing is the hot loop of an import (35,040 rows a household-year), so every format is a
compiled regular expression turned into a ``datetime`` by hand, and a "date time" stamp is
read as its date and its time of day, each only once per file (a year has 365 dates and 96
quarter-hours); ``strptime``, ten times slower, is only the fallback for a pattern with
directives we do not translate.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

#: A parsed stamp: naive (a local time) or aware (the file gave its offset); None: unreadable.
Parse = Callable[[str], datetime | None]

_CLOCK_TEXT = (
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"(?:\s*(?P<p>[AaPp]\.?[Mm]\.?))?"
)
_TIME = r"(?:[ T,]+" + _CLOCK_TEXT + ")?"
_ISO = re.compile(
    r"(?P<Y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_DOTS = re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<Y>\d{4})" + _TIME)
_YMD_SLASH = re.compile(r"(?P<Y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})" + _TIME)
#: Day and month in either order: the data has to tell which.
_SLASH = re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<Y>\d{4})" + _TIME)
_DASH = re.compile(r"(?P<a>\d{1,2})-(?P<b>\d{1,2})-(?P<Y>\d{4})" + _TIME)
_CLOCK = re.compile(_CLOCK_TEXT)


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return timezone(sign * timedelta(minutes=minutes))


#: The groups a stamp's regular expression may have, in the order ``from_groups`` takes them.
_FIELDS = ("Y", "y", "m", "d", "H", "I", "M", "S", "f", "p", "z")
_DAY = timedelta(days=1)


def positions(regex: re.Pattern, day: str = "d", month: str = "m") -> tuple[int | None, ...]:
    """Where each of ``_FIELDS`` is among the regex's groups (None: absent)."""
    names = {"d": day, "m": month}
    index = regex.groupindex
    return tuple(
        index[names.get(field, field)] - 1 if names.get(field, field) in index else None
        for field in _FIELDS
    )


def from_groups(g: tuple, at: tuple) -> datetime | None:
    """A datetime from a match's groups (found by ``positions``); 24:00 is the next day's
    midnight, as some portals end the last quarter-hour of a day."""
    at_year, at_yy, at_month, at_day, at_hour, at_hour12, at_min, at_sec, at_frac, at_pm, at_z = at
    try:
        year = int(g[at_year]) if at_year is not None else 2000 + int(g[at_yy])
        hour_text = g[at_hour] if at_hour is not None else None
        if at_hour12 is not None:
            hour_text = g[at_hour12]
        hour = int(hour_text) if hour_text else 0
        minute = int(g[at_min]) if at_min is not None and g[at_min] else 0
        second = int(g[at_sec]) if at_sec is not None and g[at_sec] else 0
        micro = int(g[at_frac].ljust(6, "0")) if at_frac is not None and g[at_frac] else 0
        if at_pm is not None and g[at_pm]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if g[at_pm].replace(".", "").lower() == "pm" else 0)
        zone = _offset(g[at_z]) if at_z is not None and g[at_z] else None
        month, day = int(g[at_month]), int(g[at_day])
        if hour == 24 and minute == second == micro == 0:
            return datetime(year, month, day, 0, 0, 0, 0, zone) + _DAY
        return datetime(year, month, day, hour, minute, second, micro, zone)
    except (ValueError, OverflowError):
        return None


def delta_from_groups(g: tuple, at: tuple) -> timedelta | None:
    """A time of day as the time since midnight (24:00 is a whole day), from a match's
    groups; None when it is not one."""
    at_hour, at_hour12, at_min, at_sec, at_frac, at_pm, at_z = at[4:]
    if at_z is not None and g[at_z]:
        return None
    hour_text = g[at_hour12] if at_hour12 is not None else None
    if hour_text is None and at_hour is not None:
        hour_text = g[at_hour]
    if not hour_text:
        return None
    hour = int(hour_text)
    minute = int(g[at_min]) if at_min is not None and g[at_min] else 0
    second = int(g[at_sec]) if at_sec is not None and g[at_sec] else 0
    micro = int(g[at_frac].ljust(6, "0")) if at_frac is not None and g[at_frac] else 0
    if minute > 59 or second > 59:
        return None
    if at_pm is not None and g[at_pm]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if g[at_pm].replace(".", "").lower() == "pm" else 0)
    if hour > 24 or (hour == 24 and (minute or second or micro)):
        return None
    return timedelta(hours=hour, minutes=minute, seconds=second, microseconds=micro)


_UNSET = object()


def _split(date_parse: Parse, clock_parse: Callable[[str], timedelta | None], full: Parse) -> Parse:
    """``full``, faster: "date time" stamps share few dates and fewer times of day, so each is
    read once and the stamp is their sum; anything else goes to ``full``."""
    dates: dict[str, datetime | None] = {}
    clocks: dict[str, timedelta | None] = {}

    def parse(text: str) -> datetime | None:
        head, space, tail = text.partition(" ")
        if space:
            base = dates.get(head, _UNSET)
            if base is _UNSET:
                base = dates[head] = date_parse(head)
            clock = clocks.get(tail, _UNSET)
            if clock is _UNSET:
                clock = clocks[tail] = clock_parse(tail)
            if base is not None and clock is not None:
                return base + clock
        return full(text)

    return parse


def _clock_by_regex(regex: re.Pattern) -> Callable[[str], timedelta | None]:
    fullmatch = regex.fullmatch
    at = positions(regex)

    def parse(text: str) -> timedelta | None:
        match = fullmatch(text)
        return delta_from_groups(match.groups(), at) if match else None

    return parse


def _by_regex(regex: re.Pattern, day: str = "d", month: str = "m") -> Parse:
    fullmatch = regex.fullmatch
    at = positions(regex, day, month)

    def parse(text: str) -> datetime | None:
        match = fullmatch(text)
        return from_groups(match.groups(), at) if match else None

    return parse


_ISO_AT = positions(_ISO)


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        # 24:00, a comma before the fraction: what fromisoformat does not take.
        match = _ISO.fullmatch(text)
        return from_groups(match.groups(), _ISO_AT) if match else None


@dataclass(frozen=True)
class StampFormat:
    """A way of writing time stamps: the pattern shown to people and its parser."""

    pattern: str
    parse: Parse


ISO = StampFormat("ISO 8601", _parse_iso)
#: The formats tried, in order, when the mapping gives none; "a/b/yyyy" and "a-b-yyyy" are
#: settled into day-first or month-first by the data.
KNOWN = (
    ("iso", _ISO),
    ("dots", _DOTS),
    ("ymd_slash", _YMD_SLASH),
    ("slash", _SLASH),
    ("dash", _DASH),
)
#: The known formats whose day and month may come in either order.
EITHER_ORDER = ("slash", "dash")
_PATTERNS = {
    "dots": "%d.%m.%Y %H:%M",
    "ymd_slash": "%Y/%m/%d %H:%M",
    "slash": ("%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"),
    "dash": ("%d-%m-%Y %H:%M", "%m-%d-%Y %H:%M"),
}


def family(text: str) -> str | None:
    """Which known format a stamp is written in, or None."""
    for name, regex in KNOWN:
        if regex.fullmatch(text):
            return name
    return None


def is_clock_time(text: str) -> bool:
    return _CLOCK.fullmatch(text) is not None


def has_clock(text: str) -> bool:
    """True when a recognised stamp carries a time of day (not only a date)."""
    return ":" in text


def day_first(cells: list[str], regex: re.Pattern) -> bool | None:
    """For "a/b/yyyy" stamps: True when a first number above 12 says day first, False when a
    second one does, None when no row tells; ValueError when rows say both."""
    firsts = seconds = False
    fullmatch = regex.fullmatch
    for cell in cells:
        match = fullmatch(cell)
        if match is None:
            continue
        firsts = firsts or int(match["a"]) > 12
        seconds = seconds or int(match["b"]) > 12
    if firsts and seconds:
        raise ValueError("both orders")
    if firsts:
        return True
    if seconds:
        return False
    return None


def known_format(name: str, first_is_day: bool | None = None) -> StampFormat:
    """The parser of a known format (for "slash"/"dash", with the day/month order settled)."""
    if name == "iso":
        return ISO
    regex = dict(KNOWN)[name]
    pattern = _PATTERNS[name]
    day, month = "d", "m"
    if name in EITHER_ORDER:
        day, month = ("a", "b") if first_is_day else ("b", "a")
        pattern = pattern[0 if first_is_day else 1]
    # The date alone matches too (the time is optional): it is the stamp's midnight.
    full = _by_regex(regex, day, month)
    return StampFormat(pattern, _split(full, _clock_by_regex(_CLOCK), full))


def pattern_hint(name: str, first_is_day: bool | None) -> str | None:
    """The strptime pattern to show for a known format (None when day/month order is open)."""
    if name == "iso":
        return "ISO 8601"
    pattern = _PATTERNS[name]
    if isinstance(pattern, tuple):
        return None if first_is_day is None else pattern[0 if first_is_day else 1]
    return pattern


# --- a strptime pattern given by the mapping ------------------------------------------------

_DIRECTIVES = {
    "d": r"(?P<d>\d{1,2})",
    "m": r"(?P<m>\d{1,2})",
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "H": r"(?P<H>\d{1,2})",
    "I": r"(?P<I>\d{1,2})",
    "M": r"(?P<M>\d{2})",
    "S": r"(?P<S>\d{2})",
    "f": r"(?P<f>\d{1,6})",
    "z": r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)",
    "p": r"(?P<p>[AaPp][Mm])",
}
_DIRECTIVE = re.compile(r"%(.)")
#: A date far from any default, to check that a pattern writes and reads back the day.
_PROBE = datetime(2031, 11, 27, 13, 45, 30, tzinfo=timezone(timedelta(hours=1)))


def pattern_problem(pattern: str) -> bool:
    """True when a strptime pattern cannot read back a full date (a typo, no day, no year)."""
    try:
        written = _PROBE.strftime(pattern)
        read = datetime.strptime(written, pattern)
    except (ValueError, TypeError):
        return True
    return read.date() != _PROBE.date()


def _regex_of(pattern: str) -> re.Pattern | None:
    """The pattern as a regular expression, or None when it uses a directive we do not map
    (then strptime reads it) or a directive twice."""
    parts, position = [], 0
    for match in _DIRECTIVE.finditer(pattern):
        parts.append(re.escape(pattern[position : match.start()]))
        code = match.group(1)
        if code == "%":
            parts.append("%")
        elif code in _DIRECTIVES:
            parts.append(_DIRECTIVES[code])
        else:
            return None
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    try:
        return re.compile("".join(parts).replace(r"\ ", r"\s+"))
    except re.error:
        return None


_DATE_CODES = frozenset("dmYy%")
_CLOCK_CODES = frozenset("HIMSfp%")


def given_format(pattern: str) -> StampFormat:
    """The parser of a pattern given in the mapping (checked with ``pattern_problem`` first)."""
    regex = _regex_of(pattern)
    if regex is not None:
        full = _by_regex(regex)
        date_pattern, space, clock_pattern = pattern.partition(" ")
        date_codes = set(_DIRECTIVE.findall(date_pattern))
        clock_codes = set(_DIRECTIVE.findall(clock_pattern))
        if (
            space
            and date_codes <= _DATE_CODES
            and clock_codes <= _CLOCK_CODES
            and "M" in clock_codes
        ):
            date_regex, clock_regex = _regex_of(date_pattern), _regex_of(clock_pattern)
            if date_regex is not None and clock_regex is not None:
                return StampFormat(
                    pattern, _split(_by_regex(date_regex), _clock_by_regex(clock_regex), full)
                )
        return StampFormat(pattern, full)

    def parse(text: str) -> datetime | None:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            return None

    return StampFormat(pattern, parse)
