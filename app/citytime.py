"""Wall-clock times in a city's zone, as moderators and staff type them, and the instants they name.

A time the clocks skip (spring forward) does not exist and is refused; a time that happens
twice (fall back) is read as its first occurrence, and ``is_ambiguous`` lets the console say so.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.errors import Invalid
from app.models import City
from i18n import _


def from_city_time(city: City, local: datetime, field: str = "publish_at") -> datetime:
    """The instant (aware, UTC) of a wall-clock time (naive) in the city's zone.

    An aware datetime already names an instant and is only converted to UTC. A time the
    clocks skip does not exist and is refused (as an error on ``field``); a time that happens
    twice is read as its first occurrence (``fold=0``).
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    zone = ZoneInfo(city.timezone)
    naive = local.replace(fold=0)
    try:
        instant = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        round_trip = instant.astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError):
        raise Invalid(errors={field: [_("Enter a valid date and time.")]}) from None
    if round_trip != naive:
        raise Invalid(
            errors={
                field: [
                    _(
                        "This time does not exist in the time zone %(timezone)s, "
                        "because the clocks are put forward then.",
                        timezone=zone.key,
                    )
                ]
            }
        )
    return instant


def is_ambiguous(city: City, local: datetime) -> bool:
    """Whether a wall-clock time happens twice in the city's zone (clocks put back)."""
    zone = ZoneInfo(city.timezone)
    naive = local.replace(tzinfo=None)
    first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset()


def instant(city: City, field: str, value: datetime, errors: dict) -> datetime | None:
    """The UTC instant of a time a moderator entered; a wall-clock time the clocks skip is
    refused (the problem goes to ``errors[field]``, and None is returned).

    A naive time, or one in the city's own zone, is read on the city's clock (as the console
    reads times); any other aware time already names an instant.
    """
    if value.tzinfo is not None and getattr(value.tzinfo, "key", None) != city.timezone:
        return value.astimezone(UTC)
    try:
        moment = from_city_time(city, value.replace(tzinfo=None), field)
    except Invalid as problem:
        errors[field] = problem.errors[field]
        return None
    # For a time that happens twice, an aware value says which of the two it means.
    return value.astimezone(UTC) if value.tzinfo is not None else moment
