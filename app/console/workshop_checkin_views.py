"""Checking people in at a workshop's door, on a tablet: find a person by name and press
"Check in", or type or scan the code their phone shows.

The page works without script: the search is a GET form and every button a small POST form
that comes back to the page. ``workshop_checkin.js`` filters the list while typing and, where
the browser has a camera and ``BarcodeDetector``, reads QR codes; for that the page alone
allows the camera (every other page keeps ``camera=()``). A second scan of the same person
says when they were checked in and changes nothing.
"""

import logging

from flask import abort, flash, make_response, render_template, request
from flask_login import login_required

from app.console.actions import committing, problem_message
from app.console.blueprint import bp
from app.console.scoping import actor
from app.console.workshop_labels import REGISTRATION_NAMES, STATUS_NAMES
from app.console.workshop_views import (
    managing_city,
    to_workshop,
    workshop_or_404,
    workshop_title,
)
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from i18n import _
from workshops import checkin, console_queries
from workshops.console_queries import MAX_SEARCH
from workshops.models import Registration, Workshop

log = logging.getLogger("livinglab.console")

#: The check-in page may use the camera (its own origin only) to read QR codes.
CAMERA_POLICY = "camera=(self), microphone=(), geolocation=()"
#: Longer than any code or QR payload.
MAX_CODE = 60


def _search() -> str:
    search = " ".join(request.values.get("q", "").split())
    if len(search) > MAX_SEARCH:
        abort(400)
    return search


def _back(workshop: Workshop, search: str = "", anchor: str | None = None):
    args = {"q": search} if search else {}
    response = to_workshop(workshop, "console.workshop_checkin", **args)
    if anchor:
        response.location += f"#{anchor}"
    return response


def _name(registration: Registration) -> str:
    return registration.user.display_name or registration.user.email


@bp.get("/<city_slug>/workshops/<int:workshop_id>/checkin")
@login_required
def workshop_checkin(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    search = _search()
    present, confirmed = console_queries.door_counts(db.session, workshop)
    page = render_template(
        "console/workshop_checkin.html",
        city=city,
        workshop=workshop,
        heading=workshop_title(workshop),
        people=console_queries.at_the_door(db.session, workshop, search),
        search=search,
        present=present,
        confirmed=confirmed,
        registration_names=REGISTRATION_NAMES,
        status_names=STATUS_NAMES,
    )
    response = make_response(page)
    response.headers["Permissions-Policy"] = CAMERA_POLICY
    return response


def _recorded(workshop: Workshop, registration: Registration, new: bool) -> None:
    if new:
        log.info(
            "workshop check-in",
            extra={
                "workshop_id": workshop.id,
                "registration_id": registration.id,
                "user_id": actor().id,
            },
        )
        flash(_("%(name)s is checked in.", name=_name(registration)), "success")
    else:
        # TRANSLATORS: a person's name, then "Already checked in at 14:05."
        state = checkin.already_checked_in(registration)
        flash(_("%(name)s: %(state)s", name=_name(registration), state=state), "info")


@bp.post("/<city_slug>/workshops/<int:workshop_id>/checkin")
@login_required
def check_in_participant(city_slug: str, workshop_id: int):
    """Check someone in by the row's button (``registration_id``) or by a typed or scanned
    ``code``."""
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    search = _search()
    chosen = request.form.get("registration_id", "")
    text = request.form.get("code", "")
    if len(text) > MAX_CODE or (chosen and (not chosen.isdigit() or len(chosen) > 10)):
        abort(400)
    values: dict = {}
    if chosen:
        values["registration_id"] = console_queries.registration_of(
            db.session, workshop, int(chosen)
        ).id
    else:
        code = console_queries.typed_code(workshop, text)
        if not text.strip():
            flash(_("Type the code the person shows, or scan it."), "error")
            return _back(workshop, search)
        if code is None:
            flash(_("This code is for another workshop."), "error")
            return _back(workshop, search)
        values["code"] = code
    try:
        registration, new = checkin.check_in(db.session, actor(), workshop, **values)
    except (Invalid, Conflict, NotFound) as error:
        db.session.rollback()
        flash(problem_message(error), "error")
        return _back(workshop, search)
    db.session.commit()
    _recorded(workshop, registration, new)
    return _back(workshop, search, f"registration-{registration.id}")


@bp.post("/<city_slug>/workshops/<int:workshop_id>/checkin/<int:registration_id>/undo")
@login_required
def undo_check_in(city_slug: str, workshop_id: int, registration_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    search = _search()
    registration = console_queries.registration_of(db.session, workshop, registration_id)
    with committing(
        "workshop check-in undone", workshop_id=workshop.id, registration_id=registration.id
    ) as outcome:
        checkin.undo_check_in(db.session, actor(), workshop, registration.id)
    if not outcome.done:
        return _back(workshop, search)
    flash(_("The check-in of %(name)s is undone.", name=_name(registration)), "success")
    return _back(workshop, search, f"registration-{registration.id}")
