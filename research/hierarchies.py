"""How each kind of quasi-identifier is generalised, level by level, down to "*": dates by
week, month, quarter and year; small counts into wider groups; numbers into wider bands;
categories as given, then not at all."""

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from i18n import _
from research.table import Kind, Variable

#: The label of a fully generalised value.
ANY = "*"


class Hierarchy(Protocol):
    """How a quasi-identifier is generalised: level 0 is already coarser than the raw value,
    the last level (``levels - 1``) gives ``"*"``. A missing value (None) stays missing at
    every level, so records without the value form classes of their own."""

    levels: int

    def generalise(self, value: Any, level: int) -> str | None: ...

    def reduce(self, value: Any) -> Any:
        """The finest key of a raw value that still decides every level (a day for a
        timestamp, a band's start for a number): what ``plan`` counts, so that the
        number of keys stays small. ``generalise(reduce(v), n) == generalise(v, n)``."""
        ...

    def describe(self, level: int) -> str:
        """The generalisation at ``level``, in the current language, for the codebook."""
        ...


def _number(value: Any) -> float | int | Decimal | None:
    """A finite number from a raw value, or None for anything else (treated as missing)."""
    if type(value) is int:
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return None


class DateHierarchy:
    """ISO week "2026-W14" → month "2026-03" → quarter "2026-Q1" → year "2026" → "*".

    A datetime is taken in UTC (a naive one is UTC already). The ISO week belongs to its ISO
    year, so the week of 29 December 2025 is "2026-W01" while its month is "2025-12".
    """

    levels = 5

    def reduce(self, value: Any) -> date | None:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return None
        if isinstance(value, datetime):
            return (value.astimezone(UTC) if value.tzinfo else value).date()
        return value if isinstance(value, date) else None

    def generalise(self, value: Any, level: int) -> str | None:
        day = self.reduce(value)
        if day is None:
            return None
        if level == 0:
            year, week, _weekday = day.isocalendar()
            return f"{year:04d}-W{week:02d}"
        if level == 1:
            return f"{day.year:04d}-{day.month:02d}"
        if level == 2:
            return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
        return f"{day.year:04d}" if level == 3 else ANY

    def describe(self, level: int) -> str:
        # TRANSLATORS: how precisely a date is released in a research export ("generalised:
        # month" means the date is written as its month, e.g. 2026-03).
        names = [_("ISO week"), _("month"), _("quarter"), _("year"), _("not shown")]
        return names[min(level, 4)]


class CountHierarchy:
    """Small counts such as a household's size: "1".."4", "5+" → "1", "2", "3+" →
    "1-2", "3+" → "*". Zero stays "0" until "*"; a negative or fractional count is missing."""

    levels = 4

    def reduce(self, value: Any) -> int | None:
        number = _number(value)
        if number is None or number < 0 or number != int(number):
            return None
        return min(int(number), 5)

    def generalise(self, value: Any, level: int) -> str | None:
        count = self.reduce(value)
        if count is None:
            return None
        if level == 0:
            return "5+" if count >= 5 else str(count)
        if level == 1:
            return "3+" if count >= 3 else str(count)
        if level == 2:
            return "3+" if count >= 3 else ("1-2" if count >= 1 else "0")
        return ANY

    def describe(self, level: int) -> str:
        return ["1, 2, 3, 4, 5+", "1, 2, 3+", "1-2, 3+", _("not shown")][min(level, 3)]


class BandHierarchy:
    """Numbers (an age, a floor area) in bands of ``width``, then 2 and 4 times as wide,
    then "*".

    A band holds the numbers from its start, a multiple of its width, up to but excluding
    the next band's start, and is labelled with its first and last whole number: with width
    10, "20-29" holds 20 ≤ v < 30, so 29.5 is in "20-29". Negative numbers band the same
    way ("-10--1" holds -10 ≤ v < 0). Text that is not a number, NaN and infinities are
    missing.
    """

    levels = 4

    def __init__(self, width: int) -> None:
        if width < 1:
            raise ValueError(f"band width must be a positive integer, not {width}")
        self.width = width

    def reduce(self, value: Any) -> int | None:
        number = _number(value)
        if number is None:
            return None
        # floor(floor(v) / w) == floor(v / w) for a whole w, and both steps are exact for any
        # int, float or Decimal (dividing a large float first would round it).
        return math.floor(number) // self.width * self.width

    def generalise(self, value: Any, level: int) -> str | None:
        start = self.reduce(value)
        if start is None:
            return None
        if level >= 3:
            return ANY
        width = self.width * 2**level
        start = start // width * width
        return f"{start}-{start + width - 1}"

    def describe(self, level: int) -> str:
        if level >= 3:
            return _("not shown")
        # TRANSLATORS: numbers released in ranges of this width, e.g. ages as 20-29, 30-39.
        return _("bands of %(width)s", width=self.width * 2**level)


class CategoryHierarchy:
    """A district, a dwelling type, an answer code: the value as text, then "*". An empty
    text is missing."""

    levels = 2

    def reduce(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value)
        return text or None

    def generalise(self, value: Any, level: int) -> str | None:
        text = self.reduce(value)
        return None if text is None else (text if level == 0 else ANY)

    def describe(self, level: int) -> str:
        # TRANSLATORS: a value released as it was recorded, or replaced by "*".
        return _("as given") if level == 0 else _("not shown")


def hierarchy(name: str) -> Hierarchy:
    """The hierarchy of a QUASI variable: ``"date"``, ``"count"``, ``"category"`` or
    ``"band:<width>"`` (a positive integer; a bare ``"band"`` is width 10)."""
    if name == "date":
        return DateHierarchy()
    if name == "count":
        return CountHierarchy()
    if name == "category":
        return CategoryHierarchy()
    if name == "band":
        return BandHierarchy(10)
    if name.startswith("band:") and name[5:].isdigit():
        return BandHierarchy(int(name[5:]))
    raise ValueError(f"unknown hierarchy {name!r}")


def hierarchy_of(variable: Variable) -> Hierarchy:
    if variable.hierarchy:
        return hierarchy(variable.hierarchy)
    # A QUASI variable declared without one: dates by the calendar, anything else as given.
    return DateHierarchy() if variable.kind is Kind.DATE else CategoryHierarchy()
