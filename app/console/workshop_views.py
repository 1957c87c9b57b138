"""Workshops of a city in the console: list with how full each is, one workshop's page,
create, edit, publish, cancel and complete.

The city's moderators and administrators run workshops (policy ``workshop.manage``); staff,
researchers and others are refused. Everyone is checked on the city first, so a person without
the right is refused rather than told the workshop does not exist. Times are typed and shown in
the city's time zone. The participants, the check-in and the outcomes are pages of their own
(workshop_participant_views.py, workshop_checkin_views.py, workshop_outcome_views.py); what
they share with these pages is here.
"""

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.console.actions import committing, problem_message
from app.console.blueprint import bp
from app.console.campaign_input import campaign_choices, chosen_campaign
from app.console.forms import sort_errors
from app.console.idea_board_views import rendered
from app.console.paging import page_number, paginate
from app.console.scoping import actor, console_city, refused
from app.console.translations import Shown, missing_by_field
from app.console.workshop_input import (
    NEW_WORKSHOP,
    NewWorkshopForm,
    WorkshopForm,
    WorkshopTexts,
    form_values,
)
from app.console.workshop_labels import STATUS_NAMES, TEXT_LABELS, WHEN_NAMES
from app.db import utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import City
from app.policy import ensure
from i18n import _, current_locale
from workshops import console_queries, service
from workshops.console_queries import WHEN
from workshops.models import Workshop, WorkshopStatus
from workshops.settings import MAX_LENGTH

log = logging.getLogger("livinglab.console")

#: Longest reason typed when cancelling a workshop or removing a participant.
MAX_REASON = 2000


# --- shared by the workshop pages -----------------------------------------------------------


def managing_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "workshop.manage", city)
    return city


def workshop_or_404(city: City, workshop_id: int) -> Workshop:
    return console_queries.workshop_of_city(db.session, actor(), city, workshop_id)


def workshop_url(workshop: Workshop, endpoint: str = "console.show_workshop", **args) -> str:
    return url_for(endpoint, city_slug=workshop.city.slug, workshop_id=workshop.id, **args)


def to_workshop(workshop: Workshop, endpoint: str = "console.show_workshop", **args):
    return redirect(workshop_url(workshop, endpoint, **args), 303)


def workshop_title(workshop: Workshop) -> Shown:
    return Shown.of(workshop.title, current_locale(), workshop.city)


def typed_reason() -> str | None:
    """A reason typed in a form, None when empty; 400 when longer than anyone writes."""
    reason = (request.form.get("reason") or "").strip()
    if len(reason) > MAX_REASON:
        abort(400)
    return reason or None


# --- reading --------------------------------------------------------------------------------


@bp.get("/<city_slug>/workshops")
@login_required
def list_workshops(city_slug: str):
    city = managing_city(city_slug)
    when = request.args.get("when", WHEN[0])
    if when not in WHEN:
        abort(400)
    now = utcnow()
    page = paginate(
        db.session, console_queries.city_workshops(actor(), city, when, now), page_number()
    )
    locale = current_locale()
    rows = [
        {
            "row": row,
            "title": Shown.of(row.workshop.title, locale, city),
            "campaign": Shown.of(row.workshop.campaign.title, locale, city),
        }
        for row in console_queries.with_counts(db.session, page.items)
    ]
    return render_template(
        "console/workshops.html",
        city=city,
        rows=rows,
        page=page,
        when=when,
        when_names=WHEN_NAMES,
        counts=console_queries.when_counts(db.session, city, now),
        status_names=STATUS_NAMES,
    )


@bp.get("/<city_slug>/workshops/<int:workshop_id>")
@login_required
def show_workshop(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    locale = current_locale()
    texts = {name: Shown.of(getattr(workshop, name), locale, city) for name in TEXT_LABELS}
    (row,) = console_queries.with_counts(db.session, [workshop])
    return render_template(
        "console/workshop.html",
        city=city,
        workshop=workshop,
        row=row,
        heading=texts["title"],
        texts=texts,
        rendered=rendered,
        campaign_title=Shown.of(workshop.campaign.title, locale, city),
        questions=[
            {
                "code": q["code"],
                "label": Shown.of(q.get("label"), locale, city),
                "required": q.get("required"),
                "choices": [Shown.of(c["label"], locale, city) for c in q.get("choices") or []],
            }
            for q in workshop.questions or []
        ],
        missing=missing_by_field(workshop, TEXT_LABELS, city.enabled_locales, {"title"}),
        labels=TEXT_LABELS,
        status_names=STATUS_NAMES,
        started=workshop.starts_at <= utcnow(),
    )


# --- writing --------------------------------------------------------------------------------


def _form_page(city, form, typed, errors=None, workshop=None, status=200):
    errors = errors or {}
    if isinstance(form, NewWorkshopForm):
        form.campaign.choices = campaign_choices(city)
    return render_template(
        "console/workshop_form.html",
        city=city,
        form=form,
        typed=typed,
        errors=errors,
        has_errors=bool(errors or form.errors or typed.has_errors),
        workshop=workshop,
        heading=workshop_title(workshop) if workshop is not None else None,
        labels=TEXT_LABELS,
        max_length=MAX_LENGTH,
    ), status


def _sort_errors(form: WorkshopForm, error: Invalid) -> dict[str, list[str]]:
    fields = {name: f for name, f in form._fields.items() if name != "csrf_token"}
    return sort_errors(error, fields, {*TEXT_LABELS, "questions"})


def _read(form: WorkshopForm, typed: WorkshopTexts, texts_only: bool = False) -> dict | None:
    """Everything the form sent, for the service (only the texts for a workshop that is
    over); None when something could not be read."""
    if texts_only:
        return dict(typed.texts)
    values = {**form.settings(), **typed.service_values()}
    return None if form.errors or typed.has_errors else values


@bp.route("/<city_slug>/workshops/new", methods=["GET", "POST"])
@login_required
def new_workshop(city_slug: str):
    city = managing_city(city_slug)
    if request.method == "GET":
        form = NewWorkshopForm(data={**NEW_WORKSHOP, "campaign": request.args.get("campaign", "")})
        return _form_page(city, form, WorkshopTexts.blank(city))
    form = NewWorkshopForm()
    typed = WorkshopTexts.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        campaign = chosen_campaign(city, form.campaign)
        values = _read(form, typed)
        if campaign is not None and values is not None:
            try:
                workshop = service.create_workshop(db.session, actor(), campaign, **values)
            except Invalid as error:
                db.session.rollback()
                errors = _sort_errors(form, error)
            except Conflict as error:
                db.session.rollback()
                form.campaign.errors = [problem_message(error)]
            else:
                db.session.commit()
                log.info(
                    "workshop created",
                    extra={"workshop_id": workshop.id, "user_id": actor().id, "city": city.slug},
                )
                flash(
                    _("The workshop is saved as a draft. Residents do not see it yet."), "success"
                )
                return to_workshop(workshop)
    return _form_page(city, form, typed, errors, status=422)


@bp.route("/<city_slug>/workshops/<int:workshop_id>/edit", methods=["GET", "POST"])
@login_required
def edit_workshop(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    if workshop.status == WorkshopStatus.CANCELLED:
        flash(_("A cancelled workshop cannot be changed."), "error")
        return to_workshop(workshop)
    texts_only = workshop.status == WorkshopStatus.COMPLETED
    if request.method == "GET":
        form = WorkshopForm(data=form_values(workshop))
        return _form_page(city, form, WorkshopTexts.of(workshop), workshop=workshop)
    form = WorkshopForm()
    typed = WorkshopTexts.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        values = _read(form, typed, texts_only)
        if values is not None:
            sequence = workshop.ical_sequence
            try:
                service.update_workshop(db.session, actor(), workshop, **values)
            except Invalid as error:
                db.session.rollback()
                errors = _sort_errors(form, error)
            except Conflict as error:
                return refused(error, to_workshop(workshop))
            else:
                told = workshop.ical_sequence != sequence
                db.session.commit()
                log.info(
                    "workshop changed", extra={"workshop_id": workshop.id, "user_id": actor().id}
                )
                flash(_("Your changes are saved."), "success")
                if told:
                    flash(_("Everyone registered is told of the new time or place."), "info")
                return to_workshop(workshop)
    return _form_page(city, form, typed, errors, workshop=workshop, status=422)


@bp.post("/<city_slug>/workshops/<int:workshop_id>/publish")
@login_required
def publish_workshop(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    with committing("workshop published", workshop_id=workshop.id) as outcome:
        service.publish_workshop(db.session, actor(), workshop)
    if outcome.done:
        flash(_("The workshop is published: residents can register."), "success")
    return to_workshop(workshop)


@bp.route("/<city_slug>/workshops/<int:workshop_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_workshop(city_slug: str, workshop_id: int):
    """Asks first (with the reason people will read), then cancels and tells everyone."""
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    if request.method == "GET":
        return _cancel_page(city, workshop)
    reason = typed_reason()
    try:
        service.cancel_workshop(db.session, actor(), workshop, reason)
    except (Invalid, Conflict) as error:
        db.session.rollback()
        return _cancel_page(city, workshop, reason, problem_message(error), 422)
    db.session.commit()
    log.info("workshop cancelled", extra={"workshop_id": workshop.id, "user_id": actor().id})
    flash(_("The workshop is cancelled. Everyone registered is told."), "success")
    return to_workshop(workshop)


def _cancel_page(city, workshop, reason=None, error=None, status=200):
    (row,) = console_queries.with_counts(db.session, [workshop])
    return render_template(
        "console/workshop_cancel.html",
        city=city,
        workshop=workshop,
        row=row,
        heading=workshop_title(workshop),
        reason=reason or "",
        error=error,
        max_reason=MAX_REASON,
        can_cancel=workshop.status in (WorkshopStatus.DRAFT, WorkshopStatus.PUBLISHED),
    ), status


@bp.post("/<city_slug>/workshops/<int:workshop_id>/complete")
@login_required
def complete_workshop(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    with committing("workshop completed", workshop_id=workshop.id) as outcome:
        changed = service.complete_workshop(db.session, actor(), workshop)
    if not outcome.done:
        return to_workshop(workshop)
    if changed:
        flash(_("The workshop is completed. Record its outcomes now."), "success")
    else:
        flash(_("The workshop was completed already."), "info")
    return to_workshop(workshop, "console.workshop_outcomes")
