"""Cities of the deployment, managed by platform administrators."""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from app import cities
from app.console.blueprint import bp
from app.console.forms import CityForm, NewCityForm
from app.console.scoping import actor
from app.console.session_views import field_errors
from app.errors import Problem
from app.extensions import db
from app.policy import ensure
from i18n import _

log = logging.getLogger("livinglab.console")


def _form_page(form, city=None, status=200):
    return render_template("console/city_form.html", form=form, city=city), status


@bp.get("/cities")
@login_required
def list_cities():
    ensure(actor(), "city.manage")
    return render_template("console/cities.html", cities=cities.list_cities(db.session))


@bp.route("/cities/new", methods=["GET", "POST"])
@login_required
def new_city():
    ensure(actor(), "city.manage")
    form = NewCityForm()
    if request.method == "GET":
        form.timezone.data = "Europe/Paris"
        form.default_locale.data = "en"
        form.enabled_locales.data = ["en"]
        return _form_page(form)
    if not form.validate():
        return _form_page(form, status=422)
    try:
        city = cities.create_city(
            db.session,
            slug=form.slug.data,
            name=form.name.data,
            timezone=form.timezone.data or "",
            default_locale=form.default_locale.data or "",
            enabled_locales=form.enabled_locales.data or [],
        )
    except Problem as error:
        db.session.rollback()
        field_errors(form, error)
        return _form_page(form, status=error.status)
    db.session.commit()
    log.info("city created", extra={"city": city.slug, "user_id": actor().id})
    flash(_("The city %(name)s is created.", name=city.name), "success")
    return redirect(url_for("console.list_cities"), 303)


@bp.route("/cities/<city_slug>/edit", methods=["GET", "POST"])
@login_required
def edit_city(city_slug: str):
    city = cities.get_city(db.session, city_slug)
    ensure(actor(), "city.manage", city)
    if request.method == "GET":
        return _form_page(CityForm(obj=city), city)
    form = CityForm()
    if not form.validate():
        return _form_page(form, city, status=422)
    try:
        cities.update_city(
            db.session,
            city,
            name=form.name.data,
            timezone=form.timezone.data or "",
            default_locale=form.default_locale.data or "",
            enabled_locales=form.enabled_locales.data or [],
        )
    except Problem as error:
        db.session.rollback()
        field_errors(form, error)
        return _form_page(form, city, status=error.status)
    db.session.commit()
    log.info("city changed", extra={"city": city.slug, "user_id": actor().id})
    flash(_("The settings of %(name)s are saved.", name=city.name), "success")
    return redirect(url_for("console.list_cities"), 303)
