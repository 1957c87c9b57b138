"""A city's energy tariffs: staff and admins set a price per commodity in a currency, checked;
the same price again changes nothing; feedback reads them by commodity."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.audit import AuditEntry
from app.errors import Invalid, NotAllowed, NotFound
from app.models import Role
from energy import tariffs
from energy.models import Tariff


@pytest.fixture
def staff(lyon, make_user):
    return make_user(lyon, role=Role.STAFF)


def _audit(db_session, action="tariff.set") -> list[AuditEntry]:
    return list(db_session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admins_set_a_price_per_commodity(db_session, lyon, make_user, role):
    keeper = make_user(lyon, role=role)
    tariffs.set_tariff(db_session, keeper, lyon, "electricity", "0,2516", "eur")
    tariffs.set_tariff(db_session, keeper, lyon, "water", Decimal("0.0042"), "EUR")
    db_session.expire_all()
    saved = tariffs.tariffs_of(db_session, lyon.id)
    assert sorted(saved) == ["electricity", "water"]
    assert (saved["electricity"].price, saved["electricity"].currency) == (Decimal("0.2516"), "EUR")
    assert saved["water"].price == Decimal("0.0042")
    (entry, _water) = _audit(db_session)
    assert entry.actor_id == keeper.id
    assert entry.details == {
        "commodity": "electricity",
        "price": "0.2516",
        "currency": "EUR",
        "before": None,
    }


def test_a_new_price_replaces_the_old_and_the_same_changes_nothing(db_session, lyon, staff):
    tariffs.set_tariff(db_session, staff, lyon, "gas", "0.11", "EUR")
    tariffs.set_tariff(db_session, staff, lyon, "gas", "0.110", "EUR")
    assert len(_audit(db_session)) == 1
    tariffs.set_tariff(db_session, staff, lyon, "gas", 0.12, "CHF")
    db_session.expire_all()
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Tariff)) == 1
    gas = tariffs.tariffs_of(db_session, lyon.id)["gas"]
    assert (gas.price, gas.currency) == (Decimal("0.12"), "CHF")
    assert _audit(db_session)[-1].details["before"] == ["0.11000", "EUR"]


def test_a_price_is_removed(db_session, lyon, staff):
    tariffs.set_tariff(db_session, staff, lyon, "gas", "0.11", "EUR")
    assert tariffs.remove_tariff(db_session, staff, lyon, "gas") is True
    assert tariffs.remove_tariff(db_session, staff, lyon, "gas") is False
    assert tariffs.tariffs_of(db_session, lyon.id) == {}
    assert len(_audit(db_session, "tariff.remove")) == 1


PRICE = "Give a price above 0 and at most 99999.99999, with at most 5 decimals."


@pytest.mark.parametrize(
    ("commodity", "price", "currency", "errors"),
    [
        ("electricity", "0", "EUR", {"price": [PRICE]}),
        ("electricity", "-0.2", "EUR", {"price": [PRICE]}),
        ("electricity", "0.123456", "EUR", {"price": [PRICE]}),
        ("electricity", "100000", "EUR", {"price": [PRICE]}),
        ("electricity", "NaN", "EUR", {"price": [PRICE]}),
        ("electricity", "Infinity", "EUR", {"price": [PRICE]}),
        ("electricity", "twenty", "EUR", {"price": [PRICE]}),
        ("electricity", True, "EUR", {"price": [PRICE]}),
        ("electricity", None, "EUR", {"price": [PRICE]}),
        (
            "electricity",
            "0.25",
            "EURO",
            {"currency": ["Give the currency's three-letter ISO code, e.g. EUR."]},
        ),
        (
            "electricity",
            "0.25",
            "ZZZ",
            {"currency": ["Give the currency's three-letter ISO code, e.g. EUR."]},
        ),
        (
            "electricity",
            "0.25",
            None,
            {"currency": ["Give the currency's three-letter ISO code, e.g. EUR."]},
        ),
        ("oil", "0.25", "EUR", {"commodity": ["Choose electricity, district heat, gas or water."]}),
    ],
)
def test_what_is_not_a_tariff_is_refused(
    db_session, lyon, staff, commodity, price, currency, errors
):
    with pytest.raises(Invalid) as refused:
        tariffs.set_tariff(db_session, staff, lyon, commodity, price, currency)
    assert refused.value.errors == errors
    assert tariffs.tariffs_of(db_session, lyon.id) == {}


@pytest.mark.parametrize(
    ("role", "home", "refusal"),
    [
        (None, "lyon", NotFound),
        (Role.MODERATOR, "lyon", NotAllowed),
        (Role.RESEARCHER, "lyon", NotAllowed),
        (Role.STAFF, "vienna", NotFound),
    ],
)
def test_others_may_not_set_or_remove_one(
    db_session, lyon, vienna, make_user, staff, role, home, refusal
):
    person = make_user(lyon if home == "lyon" else vienna, role=role)
    with pytest.raises(refusal):
        tariffs.set_tariff(db_session, person, lyon, "electricity", "0.25", "EUR")
    tariffs.set_tariff(db_session, staff, lyon, "electricity", "0.25", "EUR")
    with pytest.raises(refusal):
        tariffs.remove_tariff(db_session, person, lyon, "electricity")
    assert list(tariffs.tariffs_of(db_session, lyon.id)) == ["electricity"]
    assert tariffs.tariffs_of(db_session, vienna.id) == {}
