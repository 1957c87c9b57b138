"""Cities of the deployment, managed by platform administrators."""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms import FloatField
from wtforms.validators import Optional

from app import cities
from app.console.blueprint import bp
from app.console.forms import CityForm, NewCityForm
from app.console.scoping import actor
from app.console.session_views import field_errors
from app.errors import Problem
from app.extensions import db
from app.policy import ensure
from i18n import _, _l

log = logging.getLogger("livinglab.console")


def _edge(label) -> FloatField:
    return FloatField(label, validators=[Optional()], render_kw={"inputmode": "decimal"})


class AreaFields:
    """The city's area, four edges in degrees (all or none), which idea locations must lie
    in; ``cities.checked_bounds`` judges them."""

    south = _edge(_l("South edge (latitude)"))
    west = _edge(_l("West edge (longitude)"))
    north = _edge(_l("North edge (latitude)"))
    east = _edge(_l("East edge (longitude)"))

    def area(self) -> list[float | None]:
        return [self.south.data, self.west.data, self.north.data, self.east.data]

    def area_fields(self) -> list:
        return [self.south, self.west, self.north, self.east]


class CityAreaForm(CityForm, AreaFields):
    pass


class NewCityAreaForm(NewCityForm, AreaFields):
    pass


def _form_page(form, city=None, status=200, area_errors=()):
    return render_template(
        "console/city_form.html", form=form, city=city, area_errors=list(area_errors)
    ), status


def _refused_form(form, error: Problem, city=None):
    """The form again with the service's errors; those of the area as a whole beside it."""
    db.session.rollback()
    errors = dict(error.errors or {})
    area_errors = errors.pop("bounds", [])
    error.errors = errors
    field_errors(form, error)
    return _form_page(form, city, status=error.status, area_errors=area_errors)


@bp.get("/cities")
@login_required
def list_cities():
    ensure(actor(), "city.manage")
    return render_template("console/cities.html", cities=cities.list_cities(db.session))


@bp.route("/cities/new", methods=["GET", "POST"])
@login_required
def new_city():
    ensure(actor(), "city.manage")
    form = NewCityAreaForm()
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
            bounds=form.area(),
        )
    except Problem as error:
        return _refused_form(form, error)
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
        edges = dict(zip(("south", "west", "north", "east"), city.bounds or (), strict=False))
        return _form_page(CityAreaForm(obj=city, **edges), city)
    form = CityAreaForm()
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
            bounds=form.area(),
        )
    except Problem as error:
        return _refused_form(form, error, city)
    db.session.commit()
    log.info("city changed", extra={"city": city.slug, "user_id": actor().id})
    flash(_("The settings of %(name)s are saved.", name=city.name), "success")
    return redirect(url_for("console.list_cities"), 303)
