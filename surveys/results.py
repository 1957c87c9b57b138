"""A survey's results for its moderators, computed in SQL and protecting small groups.

Figures come from ``ResponseAnswer`` rows of submitted responses (rows are written when a
response is submitted and deleted when it is withdrawn; filtered queries also check the
response's status), over every version: question keys and choice codes are stable, so they
add up. Texts come from the current version, else from the latest version that still had the
question or choice (a removed one is marked so).

Small groups are protected: a count below ``minimum`` respondents is reported as None ("fewer
than the minimum"), and so is every figure drawn from such a group (percentages, means,
medians). A filter matching fewer than ``minimum`` respondents yields nothing but that fact,
and free-text answers are listed only for groups that reach it.

Medians: PostgreSQL's ``percentile_cont(0.5)``; elsewhere (SQLite) the mean of the one or two
middle rows, found with ``row_number()`` and ``count()`` windows — the same figure.
Days: PostgreSQL converts to the city's time zone itself; SQLite counts per UTC quarter hour
(every time zone's offset is a whole number of quarter hours) and the buckets (at most 96 a
day, never one per response) are added up per local day here.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from app.errors import Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from i18n import LOCALES, _
from i18n.content import pick
from surveys.definition import DEFAULT_SCALE, OTHER
from surveys.models import (
    ResponseAnswer,
    ResponseStatus,
    Survey,
    SurveyResponse,
    SurveyVersion,
    VersionStatus,
)

#: Smallest group whose figures are shown (the RESULTS_MIN_GROUP setting's default).
DEFAULT_MIN_GROUP = 5
CHOICE_KINDS = frozenset({"single_choice", "dropdown", "multiple_choice", "yes_no"})
SCALE_KINDS = frozenset({"scale", "rating"})
TEXT_KINDS = frozenset({"short_text", "long_text", "date"})
#: Questions whose values are numbers without a choice (medians are computed for them).
NUMERIC_KINDS = SCALE_KINDS | {"number", "matrix"}
NUMBER_BINS = 10
TEXTS_PER_PAGE = 20
MAX_SEARCH = 200


# --- what the questions are ------------------------------------------------------------------


@dataclass
class Question:
    """A question as results show it, merged over the survey's versions."""

    key: str
    type: str
    title: dict
    #: code → translated label, the current version's order first, removed ones after.
    choices: dict[str, dict] = field(default_factory=dict)
    rows: dict[str, dict] = field(default_factory=dict)
    scale: dict = field(default_factory=lambda: dict(DEFAULT_SCALE))
    number: dict = field(default_factory=dict)
    other: bool = False
    #: Not in the current version any more.
    removed: bool = False


def published_versions(session: Session, survey: Survey) -> list[SurveyVersion]:
    """Versions residents could answer: the current one first, then newest first."""
    versions = session.scalars(
        sa.select(SurveyVersion)
        .where(
            SurveyVersion.survey_id == survey.id,
            SurveyVersion.status != VersionStatus.DRAFT,
        )
        .order_by(SurveyVersion.number.desc())
    ).all()
    return sorted(versions, key=lambda v: v.id != survey.current_version_id)


def questions_of(session: Session, survey: Survey) -> list[Question]:
    """Every answerable question of every published version, in the current order first."""
    merged: dict[str, Question] = {}
    for index, version in enumerate(published_versions(session, survey)):
        current = index == 0 and version.id == survey.current_version_id
        for page in version.definition.get("pages", []):
            for spec in page.get("questions", []):
                if spec.get("type") == "note":
                    continue
                question = merged.get(spec["key"])
                if question is None:
                    question = merged[spec["key"]] = Question(
                        key=spec["key"],
                        type=spec["type"],
                        title=spec.get("title") or {},
                        scale=spec.get("scale") or dict(DEFAULT_SCALE),
                        number=spec.get("number") or {},
                        removed=not current,
                    )
                if spec["type"] != question.type:
                    continue  # a key reused for another type: keep the newest meaning
                for choice in spec.get("choices", []):
                    question.choices.setdefault(choice["value"], choice.get("label") or {})
                for row in spec.get("rows", []):
                    question.rows.setdefault(row["key"], row.get("label") or {})
                question.other = question.other or bool(spec.get("other"))
    for question in merged.values():
        if question.type == "yes_no":
            question.choices = {"yes": {}, "no": {}}
        if question.other:
            question.choices.pop(OTHER, None)
            question.choices[OTHER] = {}
    return list(merged.values())


def choice_label(question: Question, code: str, locale: str, city: City) -> str:
    """A choice's label for a reader; built-in choices (yes, no, other) in the UI language."""
    if question.type == "yes_no":
        return _("Yes") if code == "yes" else _("No")
    if code == OTHER and question.other:
        return _("Other")
    return pick(question.choices.get(code), locale, city.default_locale)[0] or code


def text_of(value: dict | None, locale: str, city: City, default: str = "") -> str:
    return pick(value, locale, city.default_locale)[0] or default


# --- who is counted ---------------------------------------------------------------------------


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


def get_survey(session: Session, actor: User, city: City, survey_id: int) -> Survey:
    """A survey of ``city`` whose results ``actor`` may see; another city's reads as missing."""
    ensure(actor, "survey.manage", city)
    survey = session.get(Survey, survey_id)
    if survey is None or survey.city_id != city.id:
        raise NotFound()
    ensure(actor, "survey.manage", survey)
    return survey


def check_filters(session: Session, survey: Survey, questions: list[Question], filters: Filters):
    """Raise Invalid unless every filter names something of this survey."""
    errors: dict[str, list[str]] = {}
    if filters.version is not None:
        numbers = {v.number for v in published_versions(session, survey)}
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


def respondents(survey: Survey, filters: Filters) -> sa.Select:
    """The ids of the submitted responses the filters keep."""
    query = sa.select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id,
        SurveyResponse.status == ResponseStatus.SUBMITTED,
    )
    if filters.version is not None:
        query = query.join(SurveyVersion, SurveyVersion.id == SurveyResponse.version_id).where(
            SurveyVersion.number == filters.version
        )
    if filters.locale is not None:
        query = query.where(SurveyResponse.locale == filters.locale)
    if filters.question is not None:
        chose = aliased(ResponseAnswer)
        query = query.where(
            sa.exists().where(
                chose.response_id == SurveyResponse.id,
                chose.survey_id == survey.id,
                chose.question == filters.question,
                chose.choice == filters.choice,
            )
        )
    return query


def _answers(survey: Survey, filters: Filters) -> sa.ColumnElement[bool]:
    """The answer rows of the filtered respondents.

    Unfiltered, the survey's rows are those of its submitted responses already (rows are
    written on submission and deleted on withdrawal): no per-row check of the response.
    """
    if not filters.active:
        return ResponseAnswer.survey_id == survey.id
    return sa.and_(
        ResponseAnswer.survey_id == survey.id,
        ResponseAnswer.response_id.in_(respondents(survey, filters).scalar_subquery()),
    )


# --- the figures ------------------------------------------------------------------------------


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
    questions = questions_of(session, survey)
    check_filters(session, survey, questions, filters)
    total = session.scalar(
        sa.select(sa.func.count()).select_from(respondents(survey, filters).subquery())
    )

    def shown(count: int | None) -> int | None:
        return count if count is not None and count >= minimum else None

    if filters.active and total < minimum:
        return Results(total=None, too_small=True, minimum=minimum)
    result = Results(total=shown(total), too_small=False, minimum=minimum)
    result.days = [(day, shown(n)) for day, n in _per_day(session, survey, filters)]
    if total < minimum:
        return result
    where = _answers(survey, filters)
    answered = dict(
        session.execute(
            sa.select(ResponseAnswer.question, sa.func.count(ResponseAnswer.response_id.distinct()))
            .where(where)
            .group_by(ResponseAnswer.question)
        ).all()
    )
    groups: dict[tuple, tuple[int, float | None]] = {
        (q, item, choice): (n, mean)
        for q, item, choice, n, mean in session.execute(
            sa.select(
                ResponseAnswer.question,
                ResponseAnswer.item,
                ResponseAnswer.choice,
                sa.func.count(),
                sa.func.avg(ResponseAnswer.number),
            )
            .where(where)
            .group_by(ResponseAnswer.question, ResponseAnswer.item, ResponseAnswer.choice)
        )
    }
    numeric = [q.key for q in questions if q.type in NUMERIC_KINDS]
    points = _points(
        session, where, [q.key for q in questions if q.type in SCALE_KINDS | {"matrix"}]
    )
    medians = _medians(session, where, numeric) if numeric else {}
    city = survey.city
    for question in questions:
        base = shown(answered.get(question.key, 0))
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
                count = shown(groups.get((key, None, code), (0, None))[0])
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
                count, mean = groups.get((key, None, code), (0, None))
                count = shown(count)
                label = choice_label(question, code, locale, city)
                figures.bars.append(Bar(code, label, count, mean=mean if count else None))
            # First the best placed (lowest mean position); unshown ones last.
            figures.bars.sort(key=lambda bar: (bar.mean is None, bar.mean or 0))
        elif question.type in SCALE_KINDS or question.type == "number":
            figures.mean = groups.get((key, None, None), (0, None))[1]
            figures.median = medians.get((key, None))
            if question.type == "number":
                figures.bars = _number_bins(session, where, question, base, shown)
            else:
                figures.bars = _scale_bars(question, points.get((key, None), {}), base, shown)
        elif question.type == "matrix":
            for item, label in question.rows.items():
                count, mean = groups.get((key, item, None), (0, None))
                count = shown(count)
                row = Figures(
                    question=question,
                    title=text_of(label, locale, city, item),
                    answered=count,
                )
                if count is not None:
                    row.mean = mean
                    row.median = medians.get((key, item))
                    row.bars = _scale_bars(question, points.get((key, item), {}), count, shown)
                figures.rows.append(row)
    return result


def _per_day(session: Session, survey: Survey, filters: Filters) -> list[tuple[date, int]]:
    """Submitted responses per day in the city's time zone, oldest first."""
    submitted = SurveyResponse.submitted_at
    base = sa.select(SurveyResponse.id).where(
        SurveyResponse.id.in_(respondents(survey, filters).scalar_subquery())
    )
    zone = survey.city.timezone
    if session.get_bind().dialect.name == "postgresql":
        day = sa.cast(sa.func.timezone(zone, submitted), sa.Date)
        rows = session.execute(
            base.with_only_columns(day, sa.func.count()).group_by(day).order_by(day)
        ).all()
        return [(d, n) for d, n in rows]
    # SQLite: UTC quarter hours, then local days.
    quarter = sa.func.strftime("%Y-%m-%d %H:", submitted) + sa.cast(
        sa.cast(sa.func.strftime("%M", submitted), sa.Integer) // 15 * 15, sa.String
    )
    counts: dict[date, int] = {}
    tz = ZoneInfo(zone)
    for bucket, n in session.execute(
        base.with_only_columns(quarter, sa.func.count()).group_by(quarter)
    ):
        moment = datetime.strptime(bucket, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        local = moment.astimezone(tz).date()
        counts[local] = counts.get(local, 0) + n
    return sorted(counts.items())


def _points(session: Session, where, keys: list[str]) -> dict[tuple, dict[float, int]]:
    """(question, item) → scale point → count."""
    if not keys:
        return {}
    points: dict[tuple, dict[float, int]] = {}
    for key, item, number, n in session.execute(
        sa.select(
            ResponseAnswer.question, ResponseAnswer.item, ResponseAnswer.number, sa.func.count()
        )
        .where(where, ResponseAnswer.question.in_(keys), ResponseAnswer.choice.is_(None))
        .group_by(ResponseAnswer.question, ResponseAnswer.item, ResponseAnswer.number)
    ):
        points.setdefault((key, item), {})[number] = n
    return points


def _medians(session: Session, where, keys: list[str]) -> dict[tuple, float]:
    """(question, item) → median of the numbers answered."""
    rows = sa.and_(
        where,
        ResponseAnswer.question.in_(keys),
        ResponseAnswer.choice.is_(None),
        ResponseAnswer.number.is_not(None),
    )
    if session.get_bind().dialect.name == "postgresql":
        median = sa.func.percentile_cont(0.5).within_group(ResponseAnswer.number)
        query = (
            sa.select(ResponseAnswer.question, ResponseAnswer.item, median)
            .where(rows)
            .group_by(ResponseAnswer.question, ResponseAnswer.item)
        )
    else:
        part = (ResponseAnswer.question, ResponseAnswer.item)
        ranked = (
            sa.select(
                ResponseAnswer.question,
                ResponseAnswer.item,
                ResponseAnswer.number,
                sa.func.row_number()
                .over(partition_by=part, order_by=ResponseAnswer.number)
                .label("rank"),
                sa.func.count().over(partition_by=part).label("n"),
            )
            .where(rows)
            .subquery()
        )
        # The middle row, or the two middle rows of an even count: 2·rank ∈ [n, n + 2].
        query = (
            sa.select(ranked.c.question, ranked.c.item, sa.func.avg(ranked.c.number))
            .where(ranked.c.rank * 2 >= ranked.c.n, ranked.c.rank * 2 <= ranked.c.n + 2)
            .group_by(ranked.c.question, ranked.c.item)
        )
    return {(q, item): float(m) for q, item, m in session.execute(query)}


def _scale_bars(question: Question, counts: dict[float, int], base: int, shown) -> list[Bar]:
    low, high = question.scale.get("min", 1), question.scale.get("max", 5)
    values = sorted(set(range(low, high + 1)) | {int(v) for v in counts if v is not None})
    bars = []
    for value in values:
        count = shown(counts.get(float(value), 0))
        percent = count / base if count is not None else None
        bars.append(Bar(str(value), str(value), count, percent=percent))
    return bars


def _nice_step(span: float) -> float:
    raw = span / NUMBER_BINS if span > 0 else 1
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _number_bins(session: Session, where, question: Question, base: int, shown) -> list[Bar]:
    """Answers in about ten equal ranges with round edges (the declared range if any)."""
    key = question.key
    low, high = session.execute(
        sa.select(sa.func.min(ResponseAnswer.number), sa.func.max(ResponseAnswer.number)).where(
            where, ResponseAnswer.question == key
        )
    ).one()
    if low is None:
        return []
    low = question.number.get("min", low)
    high = question.number.get("max", high)
    step = _nice_step(high - low)
    start = math.floor(low / step) * step
    edges = [start + i * step for i in range(NUMBER_BINS + 2) if start + i * step <= high] or [
        start
    ]
    number = ResponseAnswer.number
    bucket = sa.case(
        *((number < edge + step, i) for i, edge in enumerate(edges)), else_=len(edges) - 1
    )
    counts = dict(
        session.execute(
            sa.select(bucket, sa.func.count())
            .where(where, ResponseAnswer.question == key, number.is_not(None))
            .group_by(bucket)
        ).all()
    )
    bars = []
    for i, edge in enumerate(edges):
        count = shown(counts.get(i, 0))
        label = _("%(low)s to under %(high)s", low=_plain(edge), high=_plain(edge + step))
        bars.append(Bar(str(i), label, count, percent=count / base if count else None))
    return bars


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


# --- free texts -------------------------------------------------------------------------------


@dataclass
class TextPage:
    question: Question
    texts: list[str]
    #: Matching answers (None: the group is too small to list them).
    total: int | None
    page: int
    pages: int


def escape_like(text: str) -> str:
    """``text`` matched literally by LIKE … ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_questions(questions: list[Question]) -> list[Question]:
    """Questions with written answers: texts, dates, and choices with "other, please specify"."""
    return [q for q in questions if q.type in TEXT_KINDS or (q.type in CHOICE_KINDS and q.other)]


def text_answers(
    session: Session,
    actor: User,
    survey: Survey,
    key: str,
    filters: Filters,
    search: str = "",
    page: int = 1,
    minimum: int = DEFAULT_MIN_GROUP,
    per_page: int = TEXTS_PER_PAGE,
) -> TextPage:
    """One page of the written answers to question ``key``, newest first, containing
    ``search`` (case-insensitive, literally); nothing for a group under the minimum."""
    ensure(actor, "survey.manage", survey)
    questions = questions_of(session, survey)
    check_filters(session, survey, questions, filters)
    question = next((q for q in text_questions(questions) if q.key == key), None)
    if question is None:
        raise Invalid(errors={"text": [_("Not a question with written answers.")]})
    search = (search or "").strip()[:MAX_SEARCH]
    group = session.scalar(
        sa.select(sa.func.count()).select_from(respondents(survey, filters).subquery())
    )
    if group < minimum:
        return TextPage(question, [], None, 1, 0)
    condition = sa.and_(
        _answers(survey, filters),
        ResponseAnswer.question == key,
        ResponseAnswer.text.is_not(None),
        ResponseAnswer.text != "",
    )
    if search:
        condition = sa.and_(
            condition, ResponseAnswer.text.ilike(f"%{escape_like(search)}%", escape="\\")
        )
    total = session.scalar(sa.select(sa.func.count()).where(condition))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    texts = session.scalars(
        sa.select(ResponseAnswer.text)
        .where(condition)
        .order_by(ResponseAnswer.response_id.desc(), ResponseAnswer.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return TextPage(question, list(texts), total, page, pages)
