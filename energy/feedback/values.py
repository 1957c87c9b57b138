"""A figure of feedback: its value, its unit, and how it was computed (or why it could not be).

``how`` traces the number to its readings and method; a figure that cannot be computed has
the value None and ``how["missing"]``, one of the stable reason codes below, which clients
explain to the resident in their language.
"""

from typing import Any

#: {"value": float | int | None, "unit": str, "how": dict}
Figure = dict

#: Why a figure has no value.
NO_READINGS = "no_readings"
LOW_COVERAGE = "low_coverage"
TOO_FEW_NIGHTS = "too_few_nights"
COARSE_READINGS = "coarse_readings"
NO_TARIFF = "no_tariff"
NO_TEMPERATURES = "no_temperatures"
NO_HEATING_DEGREE_DAYS = "no_heating_degree_days"
NOT_HEATING = "not_heating"
NO_CONSUMPTION = "no_consumption"

#: Decimals shown per unit: a tenth of a watt, a litre, a cent.
DECIMALS = {"Wh": 1, "W": 1, "m3": 4, "m3/h": 5, "L": 2, "L/h": 3, "%": 1, "HDD": 1}
#: The unit of a rate of each base unit: Wh per hour is a mean power in watts.
PER_HOUR = {"Wh": "W", "m3": "m3/h", "L": "L/h"}


def rounded(value: float, unit: str) -> float:
    return round(value, DECIMALS.get(unit, 2 if len(unit) == 3 and unit.isupper() else 4))


def figure(value: float | int, unit: str, **how: Any) -> Figure:
    """A computed figure; floats rounded to what its unit shows."""
    if isinstance(value, float):
        value = rounded(value, unit) + 0.0  # -0.0 is 0.0
    return {"value": value, "unit": unit, "how": how}


def missing(unit: str, reason: str, **how: Any) -> Figure:
    """A figure that could not be computed, and why."""
    return {"value": None, "unit": unit, "how": {"missing": reason, **how}}


def share_pct(part: float, whole: float) -> float:
    """``part`` in per cent of ``whole`` (> 0), within 0 to 100."""
    return min(max(part / whole * 100.0, 0.0), 100.0)
