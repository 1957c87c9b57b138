"""A survey's results for its moderators: the figures of each question, small groups hidden.

Figures come from ``ResponseAnswer`` rows of submitted responses over every version (the
questions merged in ``surveys.results_questions``, the respondents chosen in
``surveys.results_filters``, the rows counted in SQL by ``surveys.results_tally``); written
answers are listed by ``surveys.results_texts``.

Small groups are protected: a count below ``minimum`` respondents is reported as None ("fewer
than the minimum"), and so is every figure drawn from such a group (percentages, means,
medians). A filter matching fewer than ``minimum`` respondents yields nothing but that fact.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import City, User
from app.policy import ensure
from i18n import _
from surveys.models import Survey
from surveys.results_filters import DEFAULT_MIN_GROUP, Filters, check_filters, filtered_answers
from surveys.results_questions import (
    CHOICE_KINDS,
    SCALE_KINDS,
    Question,
    choice_label,
    published_versions,
    questions_of,
    text_of,
)
from surveys.results_tally import Tally, median_of, per_day


@dataclass
class Bar:
    """One bar of a chart: ``count`` None when it describes too few respondents."""

    code: str
    label: str
    count: int | None
    percent: float | None = None
    mean: float | None = None


@dataclass
class Figures:
    """One question's results."""

    question: Question
    title: str
    #: Respondents who answered it (None: too few).
    answered: int | None
    bars: list[Bar] = field(default_factory=list)
    mean: float | None = None
    median: float | None = None
    #: Matrix: one entry per row, with its own bars per scale point.
    rows: list["Figures"] = field(default_factory=list)


@dataclass
class Results:
    total: int | None
    #: The filters match fewer respondents than the minimum: nothing else is shown.
    too_small: bool
    minimum: int
    days: list[tuple[date, int | None]] = field(default_factory=list)
    questions: list[Figures] = field(default_factory=list)


def get_survey(session: Session, actor: User, city: City, survey_id: int) -> Survey:
    """A survey of ``city`` whose results ``actor`` may see; another city's reads as missing."""
    ensure(actor, "survey.manage", city)
    survey = session.get(Survey, survey_id)
    if survey is None or survey.city_id != city.id:
        raise NotFound()
    ensure(actor, "survey.manage", survey)
    return survey


def results(
    session: Session,
    actor: User,
    survey: Survey,
    filters: Filters,
    locale: str,
    minimum: int = DEFAULT_MIN_GROUP,
) -> Results:
    """The survey's figures for the filtered respondents (raises Invalid for a bad filter)."""
    ensure(actor, "survey.manage", survey)
    versions = published_versions(session, survey)
    questions = questions_of(session, survey, versions)
    check_filters(session, survey, questions, filters, versions)
    days = per_day(session, survey, filters)
    total = sum(n for _day, n in days)

    def shown(count: int | None) -> int | None:
        return count if count is not None and count >= minimum else None

    if filters.active and total < minimum:
        return Results(total=None, too_small=True, minimum=minimum)
    result = Results(total=shown(total), too_small=False, minimum=minimum)
    result.days = [(day, shown(n)) for day, n in days]
    if total < minimum:
        return result
    tally = Tally.count(session, filtered_answers(session, survey, filters), questions)
    city = survey.city
    for question in questions:
        base = shown(tally.answered(question))
        figures = Figures(
            question=question,
            title=text_of(question.title, locale, city, question.key),
            answered=base,
        )
        result.questions.append(figures)
        if base is None:
            continue
        key = question.key
        if question.type in CHOICE_KINDS:
            for code in question.choices:
                count = shown(tally.rows(key, None, code))
                figures.bars.append(
                    Bar(
                        code,
                        choice_label(question, code, locale, city),
                        count,
                        percent=count / base if count is not None else None,
                    )
                )
        elif question.type == "ranking":
            for code in question.choices:
                count = shown(tally.rows(key, None, code))
                mean = tally.mean(key, None, code) if count else None
                label = choice_label(question, code, locale, city)
                figures.bars.append(Bar(code, label, count, mean=mean))
            # First the best placed (lowest mean position); unshown ones last.
            figures.bars.sort(key=lambda bar: (bar.mean is None, bar.mean or 0))
        elif question.type in SCALE_KINDS:
            points = tally.values.get((key, None), {})
            figures.mean, figures.median = tally.mean(key, None, None), median_of(points)
            figures.bars = _scale_bars(question, points, base, shown)
        elif question.type == "number":
            figures.mean, figures.median = tally.number_mean(key), tally.medians.get(key)
            figures.bars = _number_bars(question, tally, base, shown)
        elif question.type == "matrix":
            for item, label in question.rows.items():
                count = shown(tally.rows(key, item, None))
                row = Figures(
                    question=question,
                    title=text_of(label, locale, city, item),
                    answered=count,
                )
                if count is not None:
                    points = tally.values.get((key, item), {})
                    row.mean, row.median = tally.mean(key, item, None), median_of(points)
                    row.bars = _scale_bars(question, points, count, shown)
                figures.rows.append(row)
    return result


def _scale_bars(question: Question, counts: dict[float, int], base: int, shown) -> list[Bar]:
    low, high = question.scale.get("min", 1), question.scale.get("max", 5)
    values = sorted(set(range(low, high + 1)) | {int(v) for v in counts if v is not None})
    bars = []
    for value in values:
        count = shown(counts.get(float(value), 0))
        percent = count / base if count is not None else None
        bars.append(Bar(str(value), str(value), count, percent=percent))
    return bars


def _number_bars(question: Question, tally: Tally, base: int, shown) -> list[Bar]:
    """The bins of a number question's answers."""
    if question.key not in tally.ranges or not tally.sums.get(question.key, (0, 0))[1]:
        return []
    edges, step = tally.ranges[question.key]
    counts = tally.bins.get(question.key, {})
    bars = []
    for i, edge in enumerate(edges):
        count = shown(counts.get(i, 0))
        label = _("%(low)s to under %(high)s", low=_plain(edge), high=_plain(edge + step))
        bars.append(Bar(str(i), label, count, percent=count / base if count else None))
    return bars


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"
