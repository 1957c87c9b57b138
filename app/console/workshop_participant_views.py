"""A workshop's participants in the console: seats, the waitlist in order, invitations, those
who cancelled or were removed; remove, confirm and invite; the list as CSV.

Answers to the registration questions are personal (accessibility or dietary needs): they are
shown here and exported for the workshop's moderators only (policy ``workshop.manage``).
"""

import logging
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, render_template, request
from flask_login import login_required

from app.console.actions import committing
from app.console.blueprint import bp
from app.console.scoping import actor
from app.console.translations import Shown
from app.console.workshop_labels import PARTICIPANT_SECTIONS, REGISTRATION_NAMES, STATUS_NAMES
from app.console.workshop_views import (
    managing_city,
    to_workshop,
    typed_reason,
    workshop_or_404,
    workshop_title,
)
from app.extensions import db
from i18n import _, current_locale
from workshops import console_queries, export, registrations
from workshops.console_queries import MAX_SEARCH
from workshops.models import RegistrationStatus, Workshop

log = logging.getLogger("livinglab.console")

#: Where an action on one registration may send the moderator back to.
BACK = {"participants": "console.workshop_participants", "checkin": "console.workshop_checkin"}


def _search(name: str = "q") -> str:
    search = " ".join(request.values.get(name, "").split())
    if len(search) > MAX_SEARCH:
        abort(400)
    return search


def _questions(workshop: Workshop) -> list[dict]:
    """The questions with their labels, and each choice's label, in the reader's language."""
    locale, city = current_locale(), workshop.city
    return [
        {
            "code": q["code"],
            "label": Shown.of(q.get("label"), locale, city),
            "choices": {
                c["code"]: Shown.of(c["label"], locale, city) for c in q.get("choices") or []
            },
        }
        for q in workshop.questions or []
    ]


@bp.get("/<city_slug>/workshops/<int:workshop_id>/participants")
@login_required
def workshop_participants(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    search = _search()
    found = console_queries.participants(db.session, workshop)
    return render_template(
        "console/workshop_participants.html",
        city=city,
        workshop=workshop,
        heading=workshop_title(workshop),
        found=found,
        sections=PARTICIPANT_SECTIONS,
        questions=_questions(workshop),
        search=search,
        candidates=console_queries.residents_to_invite(db.session, workshop, search),
        seat_free=workshop.confirmed_count < workshop.capacity,
        registration_names=REGISTRATION_NAMES,
        status_names=STATUS_NAMES,
    )


def _back(workshop: Workshop):
    """To the page the action was sent from (the participants or the check-in)."""
    endpoint = BACK.get(request.form.get("back", ""), BACK["participants"])
    search = _search()
    return to_workshop(workshop, endpoint, **({"q": search} if search else {}))


def _person(registration) -> str:
    return registration.user.display_name or registration.user.email


@bp.post("/<city_slug>/workshops/<int:workshop_id>/participants/<int:registration_id>/remove")
@login_required
def remove_workshop_participant(city_slug: str, workshop_id: int, registration_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    registration = console_queries.registration_of(db.session, workshop, registration_id)
    reason = typed_reason()
    with committing(
        "workshop participant removed", workshop_id=workshop.id, registration_id=registration.id
    ) as outcome:
        registrations.remove(db.session, actor(), workshop, registration, reason)
    if outcome.done:
        name = _person(registration)
        flash(_("%(name)s is removed from the workshop and told.", name=name), "success")
    return _back(workshop)


@bp.post("/<city_slug>/workshops/<int:workshop_id>/participants/<int:registration_id>/confirm")
@login_required
def confirm_workshop_participant(city_slug: str, workshop_id: int, registration_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    registration = console_queries.registration_of(db.session, workshop, registration_id)
    with committing(
        "workshop participant confirmed", workshop_id=workshop.id, registration_id=registration.id
    ) as outcome:
        registrations.confirm(db.session, actor(), workshop, registration)
    if outcome.done:
        flash(_("%(name)s has a seat now and is told.", name=_person(registration)), "success")
    return _back(workshop)


@bp.post("/<city_slug>/workshops/<int:workshop_id>/participants/invite")
@login_required
def invite_workshop_participant(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    text = request.form.get("user_id", "")
    if not text.isdigit() or len(text) > 10:
        abort(400)
    person = console_queries.resident_of_city(db.session, city, int(text))
    with committing(
        "workshop participant invited", workshop_id=workshop.id, person_id=person.id
    ) as outcome:
        registration = registrations.invite(db.session, actor(), workshop, person)
    if not outcome.done:
        return _back(workshop)
    name = person.display_name or person.email
    if registration.status == RegistrationStatus.INVITED:
        flash(_("%(name)s is invited and told.", name=name), "success")
    else:
        flash(_("%(name)s was registered already.", name=name), "info")
    return to_workshop(workshop, BACK["participants"])


@bp.get("/<city_slug>/workshops/<int:workshop_id>/participants.csv")
@login_required
def export_workshop_participants(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    if request.args:
        abort(400)
    text = export.participants_csv(db.session, actor(), workshop, current_locale())
    log.info(
        "workshop participants exported",
        extra={"workshop_id": workshop.id, "user_id": actor().id, "city": city.slug},
    )
    day = workshop.starts_at.astimezone(ZoneInfo(city.timezone)).strftime("%Y%m%d")
    name = f"workshop-{workshop.id}-{day}-participants.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
