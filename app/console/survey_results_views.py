"""A survey's results in the console, and its responses as CSV, for its moderators.

Moderators and administrators of the survey's city (and platform administrators) see them
(``survey.manage``, checked on the city first: staff and researchers are refused, another
city's people are told the page does not exist). Researchers get anonymised exports elsewhere,
never raw responses.

Filters are query parameters from an allow-list (anything else: 400): ``version`` (number),
``lang``, ``question`` + ``choice`` (respondents who chose it), and for written answers
``text`` (question key), ``q`` (search) and ``page``.
"""

import logging
import re

from babel.numbers import format_decimal, format_percent
from flask import (
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import login_required

from app.console.blueprint import bp
from app.console.scoping import actor, console_city
from app.db import MAX_ID, utcnow
from app.errors import Invalid
from app.extensions import db
from i18n import current_locale
from surveys import export, results, results_texts
from surveys.results_filters import Filters
from surveys.results_questions import (
    CHOICE_KINDS,
    choice_label,
    published_versions,
    questions_of,
    text_of,
)

log = logging.getLogger("livinglab.console")

PARAMETERS = frozenset({"version", "lang", "question", "choice", "text", "q", "page"})
CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,63}")
LANG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z]{2,4})?")


def _whole(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        abort(400)
    return int(value)


def _code(name: str, pattern: re.Pattern = CODE) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not pattern.fullmatch(value):
        abort(400)
    return value


def _filters() -> Filters:
    if set(request.args) - PARAMETERS:
        abort(400)
    return Filters(
        version=_whole("version"),
        locale=_code("lang", LANG),
        question=_code("question"),
        choice=_code("choice"),
    )


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return ""
    return format_decimal(round(value, digits), locale=current_locale())


def _percent(value: float | None) -> str:
    if value is None:
        return ""
    # One decimal at most, in the reader's own percent pattern ("40 %" in French).
    return format_percent(round(value, 3), locale=current_locale(), decimal_quantization=False)


@bp.get("/<city_slug>/surveys/<int:survey_id>/results")
@login_required
def show_survey_results(city_slug: str, survey_id: int):
    city = console_city(city_slug)
    survey = results.get_survey(db.session, actor(), city, survey_id)
    filters = _filters()
    minimum = current_app.config["RESULTS_MIN_GROUP"]
    locale = current_locale()
    try:
        figures = results.results(db.session, actor(), survey, filters, locale, minimum)
    except Invalid:
        abort(400)
    questions = questions_of(db.session, survey)
    texts = []
    if not figures.too_small:
        chosen = _code("text")
        search = request.args.get("q", "")[: results_texts.MAX_SEARCH]
        page = _whole("page") or 1
        for question in results_texts.text_questions(questions):
            mine = question.key == chosen
            texts.append(
                results_texts.text_answers(
                    db.session,
                    actor(),
                    survey,
                    question.key,
                    filters,
                    search=search if mine else "",
                    page=page if mine else 1,
                    minimum=minimum,
                )
            )
    version = survey.current_version
    title = text_of(version.definition.get("title") if version else None, locale, city)
    return render_template(
        "console/survey_results.html",
        city=city,
        survey=survey,
        title=title or f"#{survey.id}",
        figures=figures,
        filters=filters,
        texts=texts,
        search=request.args.get("q", ""),
        chosen_text=request.args.get("text"),
        versions=[v.number for v in published_versions(db.session, survey)],
        crosstab=[
            (q, [(code, choice_label(q, code, locale, city)) for code in q.choices])
            for q in questions
            if q.type in CHOICE_KINDS
        ],
        question_title=lambda q: text_of(q.title, locale, city, q.key),
        number=_number,
        percent=_percent,
        results_url=lambda **params: url_for(
            "console.show_survey_results",
            city_slug=city.slug,
            survey_id=survey.id,
            **{name: value for name, value in params.items() if value not in (None, "")},
        ),
        has_survey_page="console.show_survey" in current_app.view_functions,
    )


@bp.get("/<city_slug>/surveys/<int:survey_id>/results.csv")
@login_required
def download_survey_responses(city_slug: str, survey_id: int):
    city = console_city(city_slug)
    survey = results.get_survey(db.session, actor(), city, survey_id)
    if request.args:
        abort(400)
    chunks = export.export_csv(db.session, actor(), survey, current_locale())
    log.info(
        "survey responses exported",
        extra={"survey_id": survey.id, "user_id": actor().id, "city": city.slug},
    )
    name = f"survey-{survey.id}-responses-{utcnow():%Y%m%d}.csv"
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
