"""The survey builder of the console: a city's surveys, their settings, pages and questions.

Moderators and administrators of the city (policy ``survey.manage``) build surveys here; staff
and researchers are refused. Every change to the questions loads the draft version
(``surveys.service.draft_version``: on a published survey, a copy of the current version),
changes its definition and saves it through ``save_definition``, whose checker decides; its
errors are shown next to the inputs they concern. Pages only read: a GET never makes a draft.

Opening and closing times are typed in the city's time zone and read like the updates' times
(``updates.publishing.from_city_time``).
"""

import copy
import logging
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from app.console.blueprint import bp
from app.console.campaign_input import to_local_text
from app.console.forms import sort_errors
from app.console.scoping import actor, console_city, refused
from app.console.survey_input import (
    OP_NAMES,
    STATUS_NAMES,
    SURVEY_TEXT_LABELS,
    TYPE_NAMES,
    VERSION_NAMES,
    SurveySettingsForm,
    texts_from,
)
from app.console.translations import Shown
from app.console.update_input import parse_local, utc_offset
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import City
from app.policy import ensure
from campaigns import service as campaigns
from campaigns.models import Campaign, CampaignStatus
from i18n import _, current_locale
from i18n.content import missing_locales
from surveys import service
from surveys.definition import LENGTHS, TYPES, localized
from surveys.models import ResponseStatus, Survey, SurveyResponse, SurveyStatus, SurveyVersion
from updates import publishing

log = logging.getLogger("livinglab.console")

STATUSES = tuple(SurveyStatus)
#: The survey's own texts in a definition.
SURVEY_TEXTS = ("title", "introduction", "closing")


def manage_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "survey.manage", city)
    return city


def survey_or_404(city: City, survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.city_id != city.id:
        raise NotFound()
    ensure(actor(), "survey.manage", survey)
    return survey


def _versions(survey: Survey) -> list[SurveyVersion]:
    query = sa.select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
    return list(db.session.scalars(query.order_by(SurveyVersion.number)))


def working_version(survey: Survey) -> SurveyVersion:
    """The version the builder shows: the draft if there is one, else the current one."""
    versions = _versions(survey)
    draft = next((v for v in versions if v.status == "draft"), None)
    return draft or survey.current_version or versions[-1]


def to_survey(survey: Survey, anchor: str | None = None):
    url = url_for("console.show_survey", city_slug=survey.city.slug, survey_id=survey.id)
    return redirect(f"{url}#{anchor}" if anchor else url, 303)


def find_question(definition: dict, key: str) -> tuple[int, int]:
    """Page and position of the question ``key``; 404 when there is none."""
    for p, page in enumerate(definition["pages"]):
        for q, question in enumerate(page["questions"]):
            if question.get("key") == key:
                return p, q
    raise NotFound()


def all_questions(definition: dict) -> dict[str, dict]:
    return {q["key"]: q for page in definition["pages"] for q in page["questions"] if q.get("key")}


def earlier_questions(definition: dict, page: int, position: int) -> list[dict]:
    """Questions a condition at (page, position) may test: those before it, notes aside."""
    earlier = []
    for p, each in enumerate(definition["pages"][: page + 1]):
        questions = each["questions"] if p < page else each["questions"][:position]
        earlier.extend(q for q in questions if q.get("type") != "note")
    return earlier


def save_change(survey: Survey, change) -> dict | None:
    """Apply ``change`` to a copy of the draft's definition and save it; the errors by path
    (nothing saved) or None; a closed survey's refusal comes under "general"."""
    try:
        draft = service.draft_version(db.session, actor(), survey)
        definition = copy.deepcopy(draft.definition)
        change(definition)
        service.save_definition(db.session, actor(), survey, definition)
    except (Invalid, Conflict) as error:
        db.session.rollback()
        return dict(error.errors or {"general": [error.detail]})
    db.session.commit()
    log.info("survey changed", extra={"survey_id": survey.id, "user_id": actor().id})
    return None


def flash_errors(errors: dict) -> None:
    for messages in errors.values():
        for message in messages:
            flash(message, "error")


# --- reading --------------------------------------------------------------------------------


def _response_counts(city: City) -> Counter:
    query = (
        sa.select(SurveyResponse.survey_id, sa.func.count())
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(Survey.city_id == city.id, SurveyResponse.status == ResponseStatus.SUBMITTED)
        .group_by(SurveyResponse.survey_id)
    )
    return Counter(dict(db.session.execute(query).all()))


@bp.get("/<city_slug>/surveys")
@login_required
def list_surveys(city_slug: str):
    city = manage_city(city_slug)
    status = request.args.get("status", "")
    if status and status not in STATUSES:
        abort(400)
    campaign = None
    if request.args.get("campaign"):
        campaign = campaigns.get_campaign(db.session, actor(), city, request.args["campaign"])
    query = sa.select(Survey).where(Survey.city_id == city.id)
    if campaign is not None:
        query = query.where(Survey.campaign_id == campaign.id)
    everything = list(db.session.scalars(query.order_by(Survey.updated_at.desc(), Survey.id)))
    counts = _response_counts(city)
    locale = current_locale()
    rows = [
        {
            "item": survey,
            "title": Shown.of(working_version(survey).definition.get("title"), locale, city),
            "campaign": Shown.of(survey.campaign.title, locale, city),
            "version": survey.current_version.number if survey.current_version else None,
            "responses": counts[survey.id],
        }
        for survey in everything
        if not status or survey.status == status
    ]
    return render_template(
        "console/surveys.html",
        city=city,
        rows=rows,
        status=status,
        statuses=STATUSES,
        status_labels=STATUS_NAMES,
        counts=Counter(survey.status for survey in everything),
        total=len(everything),
        campaign=campaign,
        campaign_title=Shown.of(campaign.title, locale, city) if campaign else None,
    )


def missing_translations(definition: dict, locales: list[str]) -> dict[str, list[str]]:
    """Per text of the definition (by a label saying where it is), the languages lacking it:
    titles and labels always, other texts once written in some language."""
    missing: dict[str, list[str]] = {}

    def check(label: str, value: dict | None, required: bool = False) -> None:
        gaps = missing_locales(value, locales) if required or value else []
        if gaps:
            missing[label] = gaps

    check(str(SURVEY_TEXT_LABELS["title"]), definition.get("title"), True)
    check(str(SURVEY_TEXT_LABELS["introduction"]), definition.get("introduction"))
    check(str(SURVEY_TEXT_LABELS["closing"]), definition.get("closing"))
    for number, page in enumerate(definition.get("pages", []), 1):
        check(_("Page %(number)d: title", number=number), page.get("title"))
        for question in page.get("questions", []):
            key = question.get("key")
            check(_("“%(key)s”: question", key=key), question.get("title"), True)
            check(_("“%(key)s”: help text", key=key), question.get("help"))
            for item in question.get("choices", []) + question.get("rows", []):
                code = item.get("value", item.get("key"))
                check(_("“%(key)s”: “%(code)s”", key=key, code=code), item.get("label"), True)
            for end in ("min_label", "max_label"):
                check(_("“%(key)s”: scale ends", key=key), (question.get("scale") or {}).get(end))
    return missing


@bp.get("/<city_slug>/surveys/<int:survey_id>")
@login_required
def show_survey(city_slug: str, survey_id: int):
    """Settings, versions and actions; the questions to edit; a preview in one language."""
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    requested = request.args.get("lang")
    if requested is not None and requested not in city.enabled_locales:
        abort(400)
    lang = requested or current_locale()
    lang = lang if lang in city.enabled_locales else city.default_locale
    versions = _versions(survey)
    working = working_version(survey)
    definition = working.definition
    locales = service.city_locales(city)
    zone = ZoneInfo(city.timezone)
    return render_template(
        "console/survey.html",
        city=city,
        survey=survey,
        heading=Shown.of(definition.get("title"), current_locale(), city),
        campaign_title=Shown.of(survey.campaign.title, current_locale(), city),
        versions=versions,
        working=working,
        has_draft=working.status == "draft",
        definition=definition,
        preview=localized(definition, lang, city.default_locale),
        lang=lang,
        missing=missing_translations(definition, locales),
        responses=_response_counts(city)[survey.id],
        offsets={
            name: utc_offset(getattr(survey, name), zone)
            for name in ("opens_at", "closes_at")
            if getattr(survey, name)
        },
        status_labels=STATUS_NAMES,
        version_labels=VERSION_NAMES,
        type_names=TYPE_NAMES,
        op_names=OP_NAMES,
        types=TYPES,
    )


# --- the survey: create, settings and texts, publish, close ---------------------------------


def _campaign_choices(city: City) -> list[SelectChoice]:
    locale = current_locale()
    return [
        SelectChoice(c.slug, Shown.of(c.title, locale, city).text or c.slug)
        for c in campaigns.campaigns_for_console(db.session, actor(), city)
        if c.status != CampaignStatus.ARCHIVED
    ]


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
    form.campaign.choices = _campaign_choices(city)
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
