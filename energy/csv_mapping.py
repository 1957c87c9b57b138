"""The column mapping of a meter portal's CSV export: which columns hold the time stamps and
the values, and how to read them. Residents send one with an upload; cities save them as
presets (energy/presets.py). Checked here, with a translated error per field.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from zoneinfo import available_timezones

from app.errors import Invalid
from energy import csv_sniff, csv_stamps
from i18n import _

VALUE_KINDS = ("energy", "power", "register")
STAMP_MARKS = ("start", "end")
#: Unit → factor to the base unit: Wh for energy and power (times hours), m³ for volume.
ENERGY_UNITS = {"Wh": 1.0, "kWh": 1e3, "MWh": 1e6}
POWER_UNITS = {"W": 1.0, "kW": 1e3}
VOLUME_UNITS = {"m3": 1.0, "L": 1e-3}
UNITS = (*ENERGY_UNITS, *POWER_UNITS, *VOLUME_UNITS)
#: How people write the units: any case ("kwh", "KWH"), and m³ with its superscript.
_UNIT_NAMES = {unit.casefold(): unit for unit in UNITS} | {"m³": "m3"}
MAX_NAME = 200
MAX_PATTERN = 64

Column = str | int


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_column(values: dict, field: str, errors: dict, required: str | None) -> Column | None:
    spec = values.get(field)
    if spec is None:
        if required:
            errors[field] = [required]
        return None
    if isinstance(spec, str) and spec.strip() and len(spec) <= MAX_NAME:
        return spec.strip()
    if isinstance(spec, int) and not isinstance(spec, bool) and 0 <= spec < csv_sniff.MAX_COLUMNS:
        return spec
    errors[field] = [_("Give the column's name, or its number counting from 0.")]
    return None


@dataclass(frozen=True)
class Mapping:
    """Which columns hold what in a CSV file, and how to read them."""

    #: The column of the time stamps (its header name, or its index counting from 0).
    timestamp: Column
    #: The column of the values.
    value: Column
    #: Whether a stamp marks the "start" or the "end" of its interval.
    stamp_marks: str
    #: "energy" per interval, average "power" over it, or cumulative "register" readings.
    value_kind: str
    value_unit: str
    #: The time of day, when the file splits it from the date.
    time: Column | None = None
    #: A strptime pattern (of the date, or of "date time" with ``time``); None: recognised.
    timestamp_format: str | None = None
    #: None: the most common step between rows.
    interval_minutes: int | None = None
    #: "," or "."; None: told by the numbers.
    decimal: str | None = None
    #: IANA zone of local stamps; None: the meter's. Stamps with an offset keep theirs.
    timezone: str | None = None
    #: None: told by the first row.
    has_header: bool | None = None

    @classmethod
    def from_dict(cls, values: dict) -> "Mapping":
        """A checked mapping; Invalid with a translated error per field otherwise."""
        if not isinstance(values, dict):
            raise Invalid(errors={"mapping": [_("Not a valid object.")]})
        errors: dict[str, list[str]] = {
            key: [_("Unknown field.")] for key in values if key not in cls.__dataclass_fields__
        }
        timestamp = _check_column(
            values, "timestamp", errors, _("Choose the column that holds the time stamps.")
        )
        value = _check_column(
            values, "value", errors, _("Choose the column that holds the values.")
        )
        time = _check_column(values, "time", errors, None)
        if value is not None and value in (timestamp, time):
            errors["value"] = [_("The values cannot come from a column of time stamps.")]
        checked = {"timestamp": timestamp, "value": value, "time": time}
        unit = values.get("value_unit")
        if isinstance(unit, str):
            values = values | {"value_unit": _UNIT_NAMES.get(unit.strip().casefold(), unit)}
        for field, check in _CHECKS.items():
            given = values.get(field)
            if given is None and field in _OPTIONAL:
                checked[field] = None
                continue
            problem = check(given)
            if problem:
                errors[field] = [problem]
            checked[field] = given
        kind, unit = checked.get("value_kind"), checked.get("value_unit")
        if "value_kind" not in errors and "value_unit" not in errors:
            if kind == "power" and unit not in POWER_UNITS:
                errors["value_unit"] = [_("Average power is given in W or kW.")]
            elif kind != "power" and unit in POWER_UNITS:
                errors["value_unit"] = [
                    _("W and kW measure power: choose the value kind “power”, or an energy unit.")
                ]
        if errors:
            raise Invalid(errors=errors)
        return cls(**checked)

    def to_dict(self) -> dict:
        return asdict(self)


def _one_of(choices: tuple, message: Callable[[], str]) -> Callable[[object], str | None]:
    return lambda given: None if given in choices else message()


def _check_format(given) -> str | None:
    if (
        isinstance(given, str)
        and 0 < len(given) <= MAX_PATTERN
        and not csv_stamps.pattern_problem(given)
    ):
        return None
    return _(
        "Not a date pattern that reads a full date (e.g. %(example)s).", example="%d.%m.%Y %H:%M"
    )


def _check_minutes(given) -> str | None:
    whole = isinstance(given, int) and not isinstance(given, bool)
    if whole and 0 < given <= 1440 and 1440 % given == 0:
        return None
    return _("Give a number of minutes that divides a day (1, 5, 15, 30, 60 … 1440).")


def _check_zone(given) -> str | None:
    if isinstance(given, str) and given in _zones():
        return None
    return _("Not a time zone (e.g. Europe/Vienna).")


_CHECKS = {
    "stamp_marks": _one_of(
        STAMP_MARKS,
        lambda: _("Say whether a time stamp marks the start or the end of its interval."),
    ),
    "value_kind": _one_of(
        VALUE_KINDS,
        # TRANSLATORS: "register": the running total a meter shows, not the use per interval.
        lambda: _("Choose energy per interval, average power, or meter readings (register)."),
    ),
    "value_unit": _one_of(
        UNITS, lambda: _("Must be one of: %(choices)s.", choices=", ".join(UNITS))
    ),
    "timestamp_format": _check_format,
    "interval_minutes": _check_minutes,
    # TRANSLATORS: keep the marks “,” and “.” as they are.
    "decimal": _one_of((",", "."), lambda: _("The decimal mark is “,” or “.”.")),
    "timezone": _check_zone,
    "has_header": lambda given: None if isinstance(given, bool) else _("Not a valid yes/no value."),
}
_OPTIONAL = frozenset({"timestamp_format", "interval_minutes", "decimal", "timezone", "has_header"})
