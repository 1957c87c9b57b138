"""Energy settings of a city in the console: the tariffs that price a household's baseload, and
the daily mean temperatures that heating degree days are counted from.

The city's staff and administrators keep them (policy ``energy.settings``). The saved CSV
formats and the district view are pages of their own (energy_preset_views.py,
energy_district_views.py); what the energy pages share is here.
"""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.console.blueprint import bp
from app.console.scoping import actor, console_city
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import City
from app.policy import ensure
from energy import tariffs, temperatures
from energy.models import Commodity
from i18n import _, _l

log = logging.getLogger("livinglab.console")

COMMODITY_NAMES = {
    Commodity.ELECTRICITY: _l("Electricity"),
    Commodity.DISTRICT_HEAT: _l("District heat"),
    Commodity.GAS: _l("Gas"),
    Commodity.WATER: _l("Water"),
}
#: What a tariff's price is for, per commodity (energy.models.Tariff).
PRICE_UNITS = {
    Commodity.ELECTRICITY: _l("per kWh"),
    Commodity.DISTRICT_HEAT: _l("per kWh"),
    Commodity.GAS: _l("per kWh (per m³ for gas meters that measure volume)"),
    Commodity.WATER: _l("per litre"),
}


def energy_city(city_slug: str, action: str) -> City:
    """The city of an energy page, for someone allowed ``action`` there."""
    city = console_city(city_slug)
    ensure(actor(), action, city)
    return city


class TemperatureForm(FlaskForm):
    file = FileField(
        _l("Daily temperatures (CSV)"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l(
            "One row per day: a date (2024-01-31, 31.01.2024 or 31/01/2024) and the day's mean "
            "temperature in °C (decimal point or comma). With more columns, head the mean “mean”."
        ),
    )


def _typed_tariffs() -> dict[str, dict[str, str]]:
    return {
        commodity: {
            "price": (request.form.get(f"price-{commodity}") or "").strip()[:40],
            "currency": (request.form.get(f"currency-{commodity}") or "").strip()[:10],
        }
        for commodity in Commodity
    }


def _saved_tariffs(city: City) -> dict[str, dict[str, str]]:
    saved = tariffs.tariffs_of(db.session, city.id)
    return {
        commodity: {
            "price": f"{saved[commodity].price.normalize():f}" if commodity in saved else "",
            "currency": saved[commodity].currency if commodity in saved else "",
        }
        for commodity in Commodity
    }


def _settings_page(city, typed=None, errors=None, form=None, summary=None, status=200):
    return render_template(
        "console/energy_settings.html",
        city=city,
        typed=typed or _saved_tariffs(city),
        errors=errors or {},
        form=form or TemperatureForm(),
        summary=summary,
        coverage=temperatures.coverage(db.session, city.id),
        names=COMMODITY_NAMES,
        units=PRICE_UNITS,
        shown_rejected=temperatures.SHOWN_REJECTED,
    ), status


@bp.get("/<city_slug>/energy")
@login_required
def energy_settings(city_slug: str):
    city = energy_city(city_slug, "energy.settings")
    return _settings_page(city)


@bp.post("/<city_slug>/energy/tariffs")
@login_required
def save_energy_tariffs(city_slug: str):
    """Save the price of each commodity; an empty price removes it. All or nothing."""
    city = energy_city(city_slug, "energy.settings")
    typed = _typed_tariffs()
    errors: dict[str, list[str]] = {}
    for commodity, values in typed.items():
        try:
            if values["price"] or values["currency"]:
                tariffs.set_tariff(
                    db.session, actor(), city, commodity, values["price"], values["currency"]
                )
            else:
                tariffs.remove_tariff(db.session, actor(), city, commodity)
        except Invalid as error:
            for name, messages in (error.errors or {}).items():
                errors[f"{name}-{commodity}"] = messages
    if errors:
        db.session.rollback()
        return _settings_page(city, typed, errors, status=422)
    db.session.commit()
    log.info("energy tariffs saved", extra={"city": city.slug, "user_id": actor().id})
    flash(_("The tariffs are saved."), "success")
    return redirect(url_for("console.energy_settings", city_slug=city.slug), 303)


@bp.post("/<city_slug>/energy/temperatures")
@login_required
def import_energy_temperatures(city_slug: str):
    """Upload a city's daily mean temperatures; the page shows what the import did."""
    city = energy_city(city_slug, "energy.settings")
    form = TemperatureForm()
    if not form.validate_on_submit():
        return _settings_page(city, form=form, status=422)
    data = form.file.data.stream.read(temperatures.MAX_BYTES + 1)
    try:
        summary = temperatures.import_temperatures(db.session, actor(), city, data)
    except (Invalid, Conflict) as error:
        db.session.rollback()
        messages = [m for ms in (error.errors or {}).values() for m in ms]
        form.file.errors = messages or [error.detail]
        return _settings_page(city, form=form, status=422)
    db.session.commit()
    log.info(
        "city temperatures imported",
        extra={"city": city.slug, "user_id": actor().id, "days": summary["days"]},
    )
    return _settings_page(city, summary=summary)
