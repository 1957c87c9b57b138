"""A survey's life in the console builder: create it, edit its settings and texts, publish, close.

Opening and closing times are typed in the city's time zone and read like the updates' times
(``updates.publishing.from_city_time``). The survey's own texts (title, introduction, closing)
are saved into its draft version, so changing them on a published survey opens a new version.
"""

import copy
import logging
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import flash, render_template, request
from flask_login import login_required

from app.console.blueprint import bp
from app.console.campaign_input import campaign_choices, to_local_text
from app.console.forms import sort_errors
from app.console.scoping import actor, refused
from app.console.survey_input import (
    SURVEY_TEXT_LABELS,
    SurveySettingsForm,
    texts_from,
)
from app.console.survey_views import (
    flash_errors,
    manage_city,
    survey_or_404,
    to_survey,
    working_version,
)
from app.console.update_input import parse_local, utc_offset
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import City
from campaigns import service as campaigns
from campaigns.models import Campaign
from i18n import _
from surveys import service
from surveys.definition import LENGTHS
from surveys.models import Survey
from updates import publishing

log = logging.getLogger("livinglab.console")

#: The survey's own texts in a definition.
SURVEY_TEXTS = ("title", "introduction", "closing")


def _read_times(city: City, form: SurveySettingsForm) -> dict:
    """The opening and closing times typed in the city's zone, as UTC; errors on the fields."""
    values = {}
    for name in ("opens_at", "closes_at"):
        field = getattr(form, name)
        if not field.data:
            values[name] = None
            continue
        local = parse_local(field.data)
        if local is None:
            field.errors = [*field.errors, _("Enter a valid date and time.")]
            continue
        try:
            values[name] = publishing.from_city_time(city, local)
        except Invalid as error:
            field.errors = [*field.errors, *(error.errors or {}).get("publish_at", [])]
            continue
        if publishing.is_ambiguous(city, local):
            flash(
                _(
                    "This time happens twice that night, because the clocks are put back. "
                    "The first one, %(offset)s, is used.",
                    offset=utc_offset(values[name], ZoneInfo(city.timezone)),
                ),
                "info",
            )
    return values


def _settings(city: City, form: SurveySettingsForm) -> dict | None:
    times = _read_times(city, form)
    if not form.validate() or any(f.errors for f in form):
        return None
    return {
        **times,
        "grace_minutes": form.grace_minutes.data if form.grace_minutes.data is not None else 60,
        "allow_multiple": form.allow_multiple.data,
        "anonymous": form.anonymous.data,
    }


def _settings_page(city, form, texts, errors=None, survey=None, status=200):
    errors = errors or {}
    form.campaign.choices = campaign_choices(city)
    return render_template(
        "console/survey_form.html",
        city=city,
        form=form,
        texts=texts,
        locales=list(city.enabled_locales),
        errors=errors,
        has_errors=bool(errors or any(f.errors for f in form)),
        survey=survey,
        labels=SURVEY_TEXT_LABELS,
        max_length=LENGTHS,
    ), status


def _typed_texts(city: City) -> dict[str, dict[str, str]]:
    return {name: texts_from(request.form, name, city.enabled_locales) for name in SURVEY_TEXTS}


def _save_texts(survey: Survey, texts: dict) -> None:
    """Write the survey's own texts into its draft version (made when it is published)."""
    draft = service.draft_version(db.session, actor(), survey)
    definition = copy.deepcopy(draft.definition)
    for name, value in texts.items():
        if value or name == "title":
            definition[name] = value
        else:
            definition.pop(name, None)
    service.save_definition(db.session, actor(), survey, definition)


def _settings_errors(form, texts: dict, error: Invalid | Conflict) -> dict:
    """The settings page's errors, nothing of the attempt kept."""
    db.session.rollback()
    if isinstance(error, Conflict):
        return {"general": [error.detail]}
    return sort_errors(error, {n: getattr(form, n) for n in service.SETTINGS}, texts)


@bp.route("/<city_slug>/surveys/new", methods=["GET", "POST"])
@login_required
def new_survey(city_slug: str):
    city = manage_city(city_slug)
    if request.method == "GET":
        form = SurveySettingsForm()
        chosen = request.args.get("campaign")
        if chosen:
            campaign = campaigns.get_campaign(db.session, actor(), city, chosen)
            form.campaign.data = campaign.slug
        return _settings_page(city, form, {})
    form = SurveySettingsForm()
    texts = _typed_texts(city)
    settings = _settings(city, form)
    campaign = db.session.scalar(
        sa.select(Campaign).where(
            Campaign.city_id == city.id, Campaign.slug == (form.campaign.data or "")
        )
    )
    if campaign is None:
        form.campaign.errors = [*form.campaign.errors, _("Choose a campaign.")]
        settings = None
    errors: dict = {}
    if settings is not None:
        try:
            survey = service.create_survey(
                db.session, actor(), campaign, title=texts["title"], **settings
            )
            _save_texts(survey, texts)
        except (Invalid, Conflict) as error:
            errors = _settings_errors(form, texts, error)
        else:
            db.session.commit()
            log.info("survey created", extra={"survey_id": survey.id, "user_id": actor().id})
            flash(_("The survey is saved as a draft. Now add its questions."), "success")
            return to_survey(survey)
    return _settings_page(city, form, texts, errors, status=422)


@bp.route("/<city_slug>/surveys/<int:survey_id>/settings", methods=["GET", "POST"])
@login_required
def edit_survey(city_slug: str, survey_id: int):
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    zone = ZoneInfo(city.timezone)
    if request.method == "GET":
        form = SurveySettingsForm(
            campaign=survey.campaign.slug,
            grace_minutes=survey.grace_minutes,
            allow_multiple=survey.allow_multiple,
            anonymous=survey.anonymous,
            opens_at=to_local_text(survey.opens_at, zone) if survey.opens_at else "",
            closes_at=to_local_text(survey.closes_at, zone) if survey.closes_at else "",
        )
        definition = working_version(survey).definition
        texts = {name: dict(definition.get(name) or {}) for name in SURVEY_TEXTS}
        return _settings_page(city, form, texts, survey=survey)
    form = SurveySettingsForm()
    texts = _typed_texts(city)
    settings = _settings(city, form)
    errors: dict = {}
    if settings is not None:
        try:
            service.update_settings(db.session, actor(), survey, **settings)
            working = working_version(survey).definition
            # Only changed texts open a new draft version of a published survey.
            if any((working.get(n) or {}) != texts[n] for n in SURVEY_TEXTS):
                _save_texts(survey, texts)
        except (Invalid, Conflict) as error:
            errors = _settings_errors(form, texts, error)
        else:
            db.session.commit()
            log.info("survey settings", extra={"survey_id": survey.id, "user_id": actor().id})
            flash(_("Your changes are saved."), "success")
            return to_survey(survey)
    return _settings_page(city, form, texts, errors, survey=survey, status=422)


@bp.post("/<city_slug>/surveys/<int:survey_id>/publish")
@login_required
def publish_survey(city_slug: str, survey_id: int):
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    try:
        service.publish(db.session, actor(), survey)
    except Conflict as error:
        return refused(error, to_survey(survey))
    except Invalid as error:
        db.session.rollback()
        flash_errors(error.errors or {"general": [error.detail]})
        return to_survey(survey)
    db.session.commit()
    number = survey.current_version.number
    log.info("survey published", extra={"survey_id": survey.id, "version": number})
    flash(_("Version %(number)d is published. Residents see it now.", number=number), "success")
    return to_survey(survey)


@bp.post("/<city_slug>/surveys/<int:survey_id>/close")
@login_required
def close_survey(city_slug: str, survey_id: int):
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    try:
        service.close(db.session, actor(), survey)
    except Conflict as error:
        return refused(error, to_survey(survey))
    db.session.commit()
    log.info("survey closed", extra={"survey_id": survey.id, "user_id": actor().id})
    flash(_("The survey is closed. Nobody can start answering it any more."), "success")
    return to_survey(survey)
