"""What a workshop led to, in the console: the minutes (sanitised rich text), a summary for the
participants in every language with an optional follow-up survey, links to ideas of the
campaign's boards and to its surveys, each with a note; then "Publish summary", which tells
the people who were checked in.
"""

import logging

from flask import abort, flash, render_template, request
from flask_login import login_required
from markupsafe import Markup

from app.console.actions import committing
from app.console.blueprint import bp
from app.console.scoping import actor
from app.console.survey_input import STATUS_NAMES as SURVEY_STATUS_NAMES
from app.console.survey_input import texts_from
from app.console.translations import Shown
from app.console.workshop_labels import NOTE_LABELS, OUTCOME_KINDS, STATUS_NAMES, SUMMARY_LABELS
from app.console.workshop_views import (
    managing_city,
    rendered,
    to_workshop,
    workshop_or_404,
    workshop_title,
)
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.richtext import sanitize
from i18n import _, current_locale
from workshops import console_queries, outcomes
from workshops.console_queries import MAX_SEARCH
from workshops.models import Workshop

log = logging.getLogger("livinglab.console")

#: What a browser may send as the minutes (the service has its own, smaller limit).
MAX_MINUTES_FORM = 200_000
#: Longest text of a summary and of an outcome's note, per language (shown on the inputs;
#: the service has the last word).
SUMMARY_LENGTH = 5000
NOTE_LENGTH = 1000


def _id(name: str) -> int | None:
    """An id chosen on a form (None when empty); 400 for anything but digits."""
    text = (request.form.get(name) or "").strip().removeprefix("#")
    if not text:
        return None
    if not text.isdigit() or len(text) > 10:
        abort(400)
    return int(text)


def _page(city, workshop: Workshop, status: int = 200, **typed):
    """The outcomes page; ``typed`` brings back what a refused form sent, with its errors."""
    locale = current_locale()
    idea_search = " ".join(request.args.get("idea_q", "").split())
    if len(idea_search) > MAX_SEARCH:
        abort(400)
    surveys = console_queries.campaign_surveys(db.session, workshop)
    titles = console_queries.survey_titles(db.session, surveys)
    rows = console_queries.outcomes_of(db.session, workshop)
    titles |= console_queries.survey_titles(db.session, [r.survey for r in rows if r.survey])
    return render_template(
        "console/workshop_outcomes.html",
        city=city,
        workshop=workshop,
        heading=workshop_title(workshop),
        minutes=Markup(sanitize(workshop.minutes or "")),  # noqa: S704  (allow-listed HTML)
        minutes_text=typed.get("minutes", workshop.minutes or ""),
        summary=typed.get("summary", dict(workshop.summary or {})),
        summary_shown=Shown.of(workshop.summary, locale, city),
        follow_up=typed.get("follow_up", workshop.follow_up_survey_id),
        rendered=rendered,
        surveys=[(s, Shown.of(titles.get(s.id), locale, city)) for s in surveys],
        survey_titles={sid: Shown.of(title, locale, city) for sid, title in titles.items()},
        rows=rows,
        note=typed.get("note", {}),
        errors=typed.get("errors", {}),
        idea_search=idea_search,
        candidates=console_queries.campaign_ideas(db.session, workshop, idea_search),
        locales=list(city.enabled_locales),
        summary_labels=SUMMARY_LABELS,
        note_labels=NOTE_LABELS,
        outcome_kinds=OUTCOME_KINDS,
        status_names=STATUS_NAMES,
        survey_status_names=SURVEY_STATUS_NAMES,
        summary_length=SUMMARY_LENGTH,
        note_length=NOTE_LENGTH,
    ), status


@bp.get("/<city_slug>/workshops/<int:workshop_id>/outcomes")
@login_required
def workshop_outcomes(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    return _page(city, workshop_or_404(city, workshop_id))


def _errors(error: Invalid | Conflict, section: str) -> dict[str, list[str]]:
    """A service's messages, all shown in one section of the page."""
    messages = [m for found in (error.errors or {}).values() for m in found]
    return {section: [error.detail, *messages] if error.detail else messages}


@bp.post("/<city_slug>/workshops/<int:workshop_id>/minutes")
@login_required
def save_workshop_minutes(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    text = (request.form.get("minutes") or "").replace("\r\n", "\n")
    if len(text) > MAX_MINUTES_FORM:
        abort(413)
    try:
        outcomes.record_minutes(db.session, actor(), workshop, text)
    except (Invalid, Conflict) as error:
        db.session.rollback()
        return _page(city, workshop, 422, minutes=text, errors=_errors(error, "minutes"))
    db.session.commit()
    log.info("workshop minutes saved", extra={"workshop_id": workshop.id, "user_id": actor().id})
    flash(_("The minutes are saved."), "success")
    return to_workshop(workshop, "console.workshop_outcomes", _anchor="minutes")


@bp.post("/<city_slug>/workshops/<int:workshop_id>/summary")
@login_required
def save_workshop_summary(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    summary = texts_from(request.form, "summary", city.enabled_locales)
    follow_up = _id("follow_up_survey_id")
    try:
        outcomes.set_summary(db.session, actor(), workshop, summary, follow_up)
    except (Invalid, Conflict) as error:
        db.session.rollback()
        return _page(
            city,
            workshop,
            422,
            summary=summary,
            follow_up=follow_up,
            errors=_errors(error, "summary"),
        )
    db.session.commit()
    log.info("workshop summary saved", extra={"workshop_id": workshop.id, "user_id": actor().id})
    flash(_("The summary is saved."), "success")
    return to_workshop(workshop, "console.workshop_outcomes", _anchor="summary")


@bp.post("/<city_slug>/workshops/<int:workshop_id>/outcomes")
@login_required
def add_workshop_outcome(city_slug: str, workshop_id: int):
    """Link an idea (by its number) or a survey of the campaign, with a note."""
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    kind = request.form.get("kind", "")
    if kind not in OUTCOME_KINDS:
        abort(400)
    target = _id(f"{kind}_id")
    note = texts_from(request.form, f"note-{kind}", city.enabled_locales)
    errors: dict[str, list[str]] = {}
    if target is None:
        errors = {"outcome": [_("Choose the idea or the survey the workshop led to.")]}
    else:
        try:
            outcomes.add_outcome(db.session, actor(), workshop, **{f"{kind}_id": target}, note=note)
        except (Invalid, Conflict, NotFound) as error:
            db.session.rollback()
            errors = (
                {"outcome": [_("There is no such idea or survey in this campaign.")]}
                if isinstance(error, NotFound)
                else _errors(error, "outcome")
            )
    if errors:
        return _page(city, workshop, 422, note={kind: note}, errors=errors)
    db.session.commit()
    log.info("workshop outcome added", extra={"workshop_id": workshop.id, "user_id": actor().id})
    flash(_("The outcome is linked."), "success")
    return to_workshop(workshop, "console.workshop_outcomes", _anchor="outcomes")


@bp.post("/<city_slug>/workshops/<int:workshop_id>/outcomes/<int:outcome_id>/remove")
@login_required
def remove_workshop_outcome(city_slug: str, workshop_id: int, outcome_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    with committing("workshop outcome removed", workshop_id=workshop.id) as outcome:
        outcomes.remove_outcome(db.session, actor(), workshop, outcome_id)
    if outcome.done:
        flash(_("The link is removed."), "success")
    return to_workshop(workshop, "console.workshop_outcomes", _anchor="outcomes")


@bp.post("/<city_slug>/workshops/<int:workshop_id>/summary/publish")
@login_required
def publish_workshop_summary(city_slug: str, workshop_id: int):
    city = managing_city(city_slug)
    workshop = workshop_or_404(city, workshop_id)
    with committing("workshop summary published", workshop_id=workshop.id) as outcome:
        outcomes.publish_summary(db.session, actor(), workshop)
    if outcome.done:
        flash(_("The summary is published. The participants who came are told."), "success")
    return to_workshop(workshop, "console.workshop_outcomes")
