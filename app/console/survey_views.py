"""The survey builder of the console: a city's surveys and one survey's page.

Moderators and administrators of the city (policy ``survey.manage``) build surveys here; staff
and researchers are refused. Every change to the questions loads the draft version
(``surveys.service.draft_version``: on a published survey, a copy of the current version),
changes its definition and saves it through ``save_definition``, whose checker decides; its
errors are shown next to the inputs they concern. Pages only read: a GET never makes a draft.

This module also holds what the builder's views share: finding the city's survey, the version
the builder shows, and saving a change to the draft's definition. Creating a survey, its
settings, publishing and closing are in survey_lifecycle_views.py; pages and questions in
survey_question_views.py.
"""

import copy
import logging
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.console.blueprint import bp
from app.console.scoping import actor, console_city
from app.console.survey_input import (
    OP_NAMES,
    STATUS_NAMES,
    SURVEY_TEXT_LABELS,
    TYPE_NAMES,
    VERSION_NAMES,
)
from app.console.translations import Shown
from app.console.update_input import utc_offset
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.models import City
from app.policy import ensure
from campaigns import service as campaigns
from i18n import _, current_locale
from i18n.content import missing_locales
from surveys import service
from surveys.definition import TYPES, localized
from surveys.models import ResponseStatus, Survey, SurveyResponse, SurveyStatus, SurveyVersion

log = logging.getLogger("livinglab.console")

STATUSES = tuple(SurveyStatus)


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
