"""A city's energy tariffs: the price of one unit of each commodity, which turns a household's
baseload into a yearly cost in its feedback.

Prices are per kWh for electricity, district heat and gas measured as energy, per m³ for gas
measured by volume and per litre for water (``energy.models.Tariff``).
"""

import re
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from babel.numbers import list_currencies
from sqlalchemy.orm import Session

from app import audit
from app.errors import Invalid
from app.models import City, User
from app.policy import ensure
from energy.models import Commodity, Tariff
from i18n import _

#: ``Tariff.price`` is Numeric(10, 5): five digits before the decimal mark, five after.
MAX_PRICE = Decimal("99999.99999")
PLACES = 5
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _checked_price(price: object) -> Decimal | None:
    """The price as a Decimal, or None when it is not a positive amount that fits."""
    if isinstance(price, bool) or not isinstance(price, str | int | float | Decimal):
        return None
    try:
        amount = Decimal(str(price).strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not amount.is_finite() or not 0 < amount <= MAX_PRICE:
        return None
    if -amount.as_tuple().exponent > PLACES:
        return None
    return amount


def _checked_currency(currency: object) -> str | None:
    code = currency.strip().upper() if isinstance(currency, str) else ""
    return code if _CURRENCY.match(code) and code in list_currencies() else None


def set_tariff(
    session: Session, actor: User, city: City, commodity: str, price: object, currency: object
) -> Tariff:
    """Set the city's price of a commodity; setting the same price again changes nothing."""
    ensure(actor, "energy.settings", city)
    errors: dict[str, list[str]] = {}
    if commodity not in set(Commodity):
        errors["commodity"] = [_("Choose electricity, district heat, gas or water.")]
    amount = _checked_price(price)
    if amount is None:
        errors["price"] = [
            _(
                "Give a price above 0 and at most %(max)s, with at most %(places)d decimals.",
                max="99999.99999",
                places=PLACES,
            )
        ]
    code = _checked_currency(currency)
    if code is None:
        errors["currency"] = [_("Give the currency's three-letter ISO code, e.g. EUR.")]
    if errors:
        raise Invalid(errors=errors)
    tariff = session.get(Tariff, (city.id, commodity))
    before = None if tariff is None else (Decimal(tariff.price), tariff.currency)
    if before == (amount, code):
        return tariff
    if tariff is None:
        tariff = Tariff(city_id=city.id, commodity=commodity, price=amount, currency=code)
        session.add(tariff)
    else:
        tariff.price, tariff.currency = amount, code
    audit.record(
        session,
        actor,
        "tariff.set",
        "city",
        city.id,
        city_id=city.id,
        details={
            "commodity": commodity,
            "price": str(amount),
            "currency": code,
            "before": None if before is None else [str(before[0]), before[1]],
        },
    )
    session.flush()
    return tariff


def remove_tariff(session: Session, actor: User, city: City, commodity: str) -> bool:
    """Remove the city's price of a commodity (feedback then shows no cost); True if one was."""
    ensure(actor, "energy.settings", city)
    tariff = session.get(Tariff, (city.id, commodity))
    if tariff is None:
        return False
    audit.record(
        session,
        actor,
        "tariff.remove",
        "city",
        city.id,
        city_id=city.id,
        details={"commodity": commodity, "before": [str(tariff.price), tariff.currency]},
    )
    session.delete(tariff)
    session.flush()
    return True


def tariffs_of(session: Session, city_id: int) -> dict[str, Tariff]:
    """The city's tariffs by commodity."""
    return {
        tariff.commodity: tariff
        for tariff in session.scalars(sa.select(Tariff).where(Tariff.city_id == city_id))
    }
