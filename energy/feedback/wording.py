"""Feedback numbers as a reader of the current language writes them: "1 234,5 kWh", "12 %",
"74,46 €". Call inside a request or ``force_locale``."""

from flask_babel import format_currency, format_decimal, format_percent

#: How a base unit or rate is written; energy reads better in kWh than in Wh.
SYMBOLS = {"m3": "m³", "m3/h": "m³/h", "L": "L", "L/h": "L/h", "W": "W", "kWh": "kWh"}
#: Decimals shown of each unit as written.
DECIMALS = {"kWh": 1, "W": 0, "m3": 2, "m3/h": 3, "L": 0, "L/h": 1}


def number(value: float, decimals: int = 1) -> str:
    """``value`` rounded to at most ``decimals`` places, with the language's separators."""
    pattern = "#,##0" + ("." + "#" * decimals if decimals > 0 else "")
    return format_decimal(round(value, decimals), format=pattern)


def quantity(value: float, unit: str) -> str:
    """A value in a meter's base unit or rate, written with its unit (Wh shown as kWh)."""
    if unit == "Wh":
        value, unit = value / 1000.0, "kWh"
    decimals = DECIMALS.get(unit, 1)
    # Small amounts keep a significant digit: 0.4 W is not 0 W.
    if 0 < abs(value) < 10 ** (-decimals) * 10:
        decimals += 1
    # A non-breaking space keeps the number and its unit on one line.
    return f"{number(value, decimals)}\N{NO-BREAK SPACE}{SYMBOLS.get(unit, unit)}"


def percent(value: float, signed: bool = False) -> str:
    """A value given in per cent (12.5 for 12.5 %), to whole per cents."""
    text = format_percent(abs(value) / 100.0 if signed else value / 100.0)
    if signed:
        return ("+" if value >= 0 else "\N{MINUS SIGN}") + text
    return text


def money(value: float, currency: str) -> str:
    return format_currency(value, currency)
