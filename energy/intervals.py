"""Interval consumption values as every reader produces them, and what a reader reports."""

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import NamedTuple


class Interval(NamedTuple):
    """One consumption value over ``[start, end)``.

    A named tuple, not a frozen dataclass: a household-year is 35,040 of them, made three
    times faster.
    """

    start: datetime  # aware UTC
    end: datetime  # aware UTC, > start
    value: float  # in the meter's base unit


@dataclass
class Rejected:
    """A row or entry a reader could not use, and why."""

    line: int  # 1-based line (CSV) or entry number (XML)
    reason: str  # translated, short


@dataclass
class ParseResult:
    """What a reader made of one file (or one usage point of it)."""

    intervals: list[Interval]  # sorted by start, no duplicates, no overlaps
    rows_read: int
    duplicates_dropped: int = 0
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)  # missing spans
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # translated remarks (DST hours, resets)
    unit: str = "Wh"

    @property
    def total(self) -> float:
        """Sum of the interval values, in ``unit``."""
        return sum(interval.value for interval in self.intervals)

    @property
    def period(self) -> tuple[datetime, datetime] | None:
        """First start and last end, or None without intervals."""
        if not self.intervals:
            return None
        return self.intervals[0].start, self.intervals[-1].end


def find_gaps(intervals: list[Interval]) -> list[tuple[datetime, datetime]]:
    """Holes between one interval's end and the next one's start (intervals sorted by start)."""
    gaps = []
    for before, after in pairwise(intervals):
        if after.start > before.end:
            gaps.append((before.end, after.start))
    return gaps


def sort_unique(intervals: list[Interval]) -> tuple[list[Interval], int]:
    """Sorted by start, later repeats of a start dropped; returns them and the count dropped.

    Callers that need to report conflicting values for one start check before calling this.
    """
    kept: dict[datetime, Interval] = {}
    dropped = 0
    for interval in intervals:
        if interval.start in kept:
            dropped += 1
        else:
            kept[interval.start] = interval
    return sorted(kept.values(), key=lambda interval: interval.start), dropped
