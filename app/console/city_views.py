"""Cities of the deployment, managed by platform administrators."""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms import FloatField, TextAreaField
from wtforms.validators import Optional

from app import cities
from app.console.blueprint import bp
from app.console.forms import CityForm, NewCityForm
from app.console.scoping import actor
from app.console.session_views import field_errors
from app.errors import Invalid, Problem
from app.extensions import db
from app.policy import ensure
from energy import district
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
    #: The city's districts, one per line, which residents choose from and staff's energy
    #: totals are grouped by; ``energy.district.checked_districts`` judges them.
    districts = TextAreaField(
        _l("Districts"),
        render_kw={"rows": 8},
        description=_l(
            "One district per line, as residents know it (e.g. Croix-Rousse). Residents pick "
            "theirs for the energy totals per district. At most %(max)d districts of "
            "%(length)d characters each.",
            max=district.MAX_DISTRICTS,
            length=district.MAX_DISTRICT_NAME,
        ),
    )

    def district_names(self) -> list[str]:
        return (self.districts.data or "").splitlines()


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
        form = CityAreaForm(obj=city, **edges)
        form.districts.data = "\n".join(city.districts or [])
        return _form_page(form, city)
    form = CityAreaForm()
    if not form.validate():
        return _form_page(form, city, status=422)
    errors: dict[str, list[str]] = {}
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
    except Invalid as error:
        errors |= error.errors or {}
    except Problem as error:
        return _refused_form(form, error, city)
    try:
        # Checked even when the rest was refused, so every error shows at once.
        district.set_districts(db.session, actor(), city, form.district_names())
    except Invalid as error:
        errors |= error.errors or {}
    if errors:
        return _refused_form(form, Invalid(errors=errors), city)
    db.session.commit()
    log.info("city changed", extra={"city": city.slug, "user_id": actor().id})
    flash(_("The settings of %(name)s are saved.", name=city.name), "success")
    return redirect(url_for("console.list_cities"), 303)
