"""Which respondents a survey's results describe, and the smallest group they may describe.

Filters name a version, a language, or those who chose an answer (a cross-tabulation); they
select among submitted responses only. Answer rows are written when a response is submitted and
deleted when it is withdrawn, so the survey's rows are its submitted responses' rows, and those
of the respondents who chose an answer are found in the results index alone.

Small groups are protected: a count below the minimum is shown as "fewer than the minimum",
never the figure, and a filter matching fewer respondents than that yields nothing but that
fact (see ``surveys.results`` and ``surveys.results_texts``).
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.errors import Invalid
from i18n import LOCALES, _
from surveys.models import ResponseAnswer, ResponseStatus, Survey, SurveyResponse, SurveyVersion
from surveys.results_questions import CHOICE_KINDS, Question, published_versions

#: Smallest group whose figures are shown (the RESULTS_MIN_GROUP setting's default).
DEFAULT_MIN_GROUP = 5


@dataclass(frozen=True)
class Filters:
    """Which respondents the figures describe: a version number, a language, and those who
    chose ``choice`` at question ``question`` (a cross-tabulation)."""

    version: int | None = None
    locale: str | None = None
    question: str | None = None
    choice: str | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.version, self.locale, self.question))


def check_filters(
    session: Session,
    survey: Survey,
    questions: list[Question],
    filters: Filters,
    versions: list[SurveyVersion] | None = None,
) -> None:
    """Raise Invalid unless every filter names something of this survey."""
    errors: dict[str, list[str]] = {}
    if filters.version is not None:
        if versions is None:
            versions = published_versions(session, survey)
        numbers = {v.number for v in versions}
        if filters.version not in numbers:
            errors["version"] = [_("Not a published version of this survey.")]
    if filters.locale is not None and filters.locale not in LOCALES:
        errors["lang"] = [_("Not a known language.")]
    if (filters.question is None) != (filters.choice is None):
        errors["question"] = [_("Choose a question and one of its answers.")]
    elif filters.question is not None:
        by_key = {q.key: q for q in questions}
        question = by_key.get(filters.question)
        if question is None or question.type not in CHOICE_KINDS:
            errors["question"] = [_("Not a multiple-choice question of this survey.")]
        elif filters.choice not in question.choices:
            errors["choice"] = [_("Not one of the options.")]
    if errors:
        raise Invalid(errors=errors)


def _crosstab(survey: Survey, filters: Filters) -> sa.Select:
    """Who chose the cross-tab's answer: read from the results index alone (answer rows exist
    only for submitted responses)."""
    return sa.select(ResponseAnswer.response_id).where(
        ResponseAnswer.survey_id == survey.id,
        ResponseAnswer.question == filters.question,
        ResponseAnswer.item.is_(None),
        ResponseAnswer.choice == filters.choice,
    )


def kept_responses(survey: Survey, filters: Filters) -> list[sa.ColumnElement[bool]]:
    """Conditions on SurveyResponse that keep the submitted responses the filters describe."""
    kept = [
        SurveyResponse.survey_id == survey.id,
        SurveyResponse.status == ResponseStatus.SUBMITTED,
    ]
    if filters.version is not None:
        version = sa.select(SurveyVersion.id).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.number == filters.version
        )
        kept.append(SurveyResponse.version_id == version.scalar_subquery())
    if filters.locale is not None:
        kept.append(SurveyResponse.locale == filters.locale)
    if filters.question is not None:
        kept.append(SurveyResponse.id.in_(_crosstab(survey, filters)))
    return kept


def respondents(survey: Survey, filters: Filters) -> sa.Select:
    """The ids of the submitted responses the filters keep."""
    if filters.question is not None and filters.version is None and filters.locale is None:
        return _crosstab(survey, filters)
    return sa.select(SurveyResponse.id).where(*kept_responses(survey, filters))


def filtered_answers(session: Session, survey: Survey, filters: Filters) -> sa.ColumnElement[bool]:
    """The answer rows of the filtered respondents (unfiltered: all the survey's rows)."""
    if not filters.active:
        return ResponseAnswer.survey_id == survey.id
    response_id = ResponseAnswer.response_id
    if session.get_bind().dialect.name == "sqlite":
        # "+ 0" keeps SQLite from fetching each respondent's rows through the response_id
        # index and then the table; reading the survey's rows from the covering results index
        # and testing membership costs at most what the unfiltered figures cost.
        response_id = response_id + 0
    return sa.and_(
        ResponseAnswer.survey_id == survey.id, response_id.in_(respondents(survey, filters))
    )
