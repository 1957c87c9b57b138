"""A survey's results for its moderators, computed in SQL and protecting small groups.

Figures come from ``ResponseAnswer`` rows of submitted responses over every version: question
keys and choice codes are stable, so they add up. Rows are written when a response is submitted
and deleted when it is withdrawn, so the survey's rows are its submitted responses' rows, and
those of the respondents who chose an answer are found in the results index alone. Texts come
from the current version, else from the latest version that still had the question or choice
(a removed one is marked so).

Small groups are protected: a count below ``minimum`` respondents is reported as None ("fewer
than the minimum"), and so is every figure drawn from such a group (percentages, means,
medians). A filter matching fewer than ``minimum`` respondents yields nothing but that fact,
and free-text answers are listed only for groups that reach it.

A fixed handful of statements, whatever the number of responses, each reading the answer rows
once from the covering index ``ix_response_answers_results``: the responses per day, the
answer rows per (question, row, choice, value) of every question but numbers (their values are
few: counts, means, scale points and medians follow from these groups), and for numbers their
bins and medians (plus their range when the definition does not set it, and respondents for
questions with several rows per response). Medians are the mean of the one or two middle
values, found from the counts per value (a window over groups on numbers, not over rows).
Days: PostgreSQL converts to the city's time zone itself; SQLite counts per UTC quarter hour
(every time zone's offset is a whole number of quarter hours) and the buckets (at most 96 a
day, never one per response) are added up per local day here.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

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
#: Questions with a row per chosen code or matrix row: respondents are counted, not rows.
SEVERAL_ROWS = frozenset({"multiple_choice", "ranking", "matrix"})
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
    #: Some version asks it with a row per chosen code or matrix row.
    several_rows: bool = False


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


def questions_of(
    session: Session, survey: Survey, versions: list[SurveyVersion] | None = None
) -> list[Question]:
    """Every answerable question of every published version, in the current order first
    (``versions``: the published versions, when already loaded)."""
    merged: dict[str, Question] = {}
    if versions is None:
        versions = published_versions(session, survey)
    for index, version in enumerate(versions):
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
                question.several_rows = question.several_rows or spec["type"] in SEVERAL_ROWS
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


def _kept(survey: Survey, filters: Filters) -> list[sa.ColumnElement[bool]]:
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
    return sa.select(SurveyResponse.id).where(*_kept(survey, filters))


def _answers(session: Session, survey: Survey, filters: Filters) -> sa.ColumnElement[bool]:
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
    versions = published_versions(session, survey)
    questions = questions_of(session, survey, versions)
    check_filters(session, survey, questions, filters, versions)
    days = _per_day(session, survey, filters)
    total = sum(n for _day, n in days)

    def shown(count: int | None) -> int | None:
        return count if count is not None and count >= minimum else None

    if filters.active and total < minimum:
        return Results(total=None, too_small=True, minimum=minimum)
    result = Results(total=shown(total), too_small=False, minimum=minimum)
    result.days = [(day, shown(n)) for day, n in days]
    if total < minimum:
        return result
    tally = _Tally.count(session, _answers(session, survey, filters), questions)
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
            figures.mean, figures.median = tally.mean(key, None, None), _median(points)
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
                    row.mean, row.median = tally.mean(key, item, None), _median(points)
                    row.bars = _scale_bars(question, points, count, shown)
                figures.rows.append(row)
    return result


#: Where year, month, day and hour are in the text of a stored time.
_HOUR_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13))


def _per_day(session: Session, survey: Survey, filters: Filters) -> list[tuple[date, int]]:
    """Submitted responses per day in the city's time zone, oldest first."""
    submitted = SurveyResponse.submitted_at
    base = sa.select(SurveyResponse.id).where(*_kept(survey, filters))
    zone = survey.city.timezone
    if session.get_bind().dialect.name == "postgresql":
        day = sa.cast(sa.func.timezone(zone, submitted), sa.Date)
        rows = session.execute(
            base.with_only_columns(day, sa.func.count()).group_by(day).order_by(day)
        ).all()
        return [(d, n) for d, n in rows]
    # SQLite: UTC quarter hours, then local days. The stored text is "YYYY-MM-DD HH:MM:SS...":
    # cutting it is cheaper than parsing it with strftime().
    hour = sa.func.substr(submitted, 1, 13)
    quarter = sa.cast(sa.func.substr(submitted, 15, 2), sa.Integer) // 15
    counts: dict[date, int] = {}
    tz = ZoneInfo(zone)
    for hour_text, part, n in session.execute(
        base.with_only_columns(hour, quarter, sa.func.count()).group_by(hour, quarter)
    ):
        year, month, day, hour_of_day = (int(hour_text[a:b]) for a, b in _HOUR_FIELDS)
        moment = datetime(year, month, day, hour_of_day, 15 * part, tzinfo=UTC)
        local = moment.astimezone(tz).date()
        counts[local] = counts.get(local, 0) + n
    return sorted(counts.items())


@dataclass
class _Tally:
    """What the statements counted for the filtered respondents."""

    #: Answer rows per question, and per (question, item, choice): rows, numbered rows, sum.
    per_question: dict[str, int] = field(default_factory=dict)
    per_choice: dict[tuple, list] = field(default_factory=dict)
    #: (question, item) → scale value → rows, of scales and matrix rows.
    values: dict[tuple, dict[float, int]] = field(default_factory=dict)
    #: Respondents of the questions with several rows per response.
    respondents: dict[str, int] = field(default_factory=dict)
    #: Number question → the edges and width of its bins; rows per bin (None: no number).
    ranges: dict[str, tuple[list[float], float]] = field(default_factory=dict)
    bins: dict[str, dict[int | None, int]] = field(default_factory=dict)
    #: Number question → (sum, count) of its numbers, and their median.
    sums: dict[str, tuple[float, int]] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)

    @classmethod
    def count(cls, session: Session, where, questions: list[Question]) -> "_Tally":
        tally, answer = cls(), ResponseAnswer
        others = [q.key for q in questions if q.type != "number"]
        if others:
            # Every question but numbers has few values (codes, scale points, positions): one
            # group each, read in the index's order, without sorting the rows.
            fields = (answer.question, answer.item, answer.choice, answer.number)
            query = sa.select(*fields, sa.func.count()).where(where, answer.question.in_(others))
            for key, item, choice, number, n in session.execute(query.group_by(*fields)):
                tally.per_question[key] = tally.per_question.get(key, 0) + n
                rows = tally.per_choice.setdefault((key, item, choice), [0, 0, 0.0])
                rows[0] += n
                if number is not None:
                    rows[1] += n
                    rows[2] += number * n
                    if choice is None:
                        tally.values.setdefault((key, item), {})[number] = n
        several = [q.key for q in questions if q.several_rows]
        if several:
            distinct = sa.func.count(answer.response_id.distinct())
            query = sa.select(answer.question, distinct).where(where, answer.question.in_(several))
            tally.respondents = dict(session.execute(query.group_by(answer.question)).all())
        numbers = [q for q in questions if q.type == "number"]
        tally.ranges = _number_ranges(session, where, numbers) if numbers else {}
        if tally.ranges:
            tally._count_numbers(session, where)
        return tally

    def _count_numbers(self, session: Session, where) -> None:
        """Bins, sums and medians of the number questions, from one reading of their rows."""
        answer = ResponseAnswer
        # Rows per value: the medians' window and the bins work on these groups, not on rows.
        values = (
            sa.select(answer.question, answer.number, sa.func.count().label("n"))
            .where(where, answer.question.in_(list(self.ranges)))
            .group_by(answer.question, answer.item, answer.choice, answer.number)
            .cte("answer_values")
        )
        question, number, n = values.c.question, values.c.number, values.c.n
        per_question = [
            (
                question == key,
                sa.case(
                    *((number < edge + step, i) for i, edge in enumerate(edges)),
                    else_=len(edges) - 1,
                ),
            )
            for key, (edges, step) in self.ranges.items()
        ]
        bucket = sa.case((number.is_(None), sa.null()), *per_question).label("bucket")
        bins = sa.select(
            question, bucket, sa.func.sum(n), sa.func.sum(number * n), sa.null()
        ).group_by(question, bucket)
        # The one or two middle values, as _median finds them.
        upto = sa.func.sum(n).over(partition_by=question, order_by=number, rows=(None, 0))
        ranked = (
            sa.select(
                question,
                number,
                n,
                upto.label("upto"),
                sa.func.sum(n).over(partition_by=question).label("total"),
            )
            .where(number.is_not(None))
            .subquery()
        )
        middle = sa.and_(
            2 * (ranked.c.upto - ranked.c.n) <= ranked.c.total, 2 * ranked.c.upto >= ranked.c.total
        )
        medians = (
            sa.select(
                ranked.c.question, sa.null(), sa.null(), sa.null(), sa.func.avg(ranked.c.number)
            )
            .where(middle)
            .group_by(ranked.c.question)
        )
        for key, i, count, total, median in session.execute(sa.union_all(bins, medians)):
            if median is not None:
                self.medians[key] = float(median)
                continue
            # PostgreSQL sums counts as numeric: back to int and float.
            self.bins.setdefault(key, {})[i] = int(count)
            if i is not None:
                before = self.sums.get(key, (0.0, 0))
                self.sums[key] = (before[0] + float(total), before[1] + int(count))

    def answered(self, question: Question) -> int:
        """Respondents who answered ``question``."""
        if question.several_rows:
            return self.respondents.get(question.key, 0)
        if question.type == "number":
            return sum(self.bins.get(question.key, {}).values())
        return self.per_question.get(question.key, 0)

    def rows(self, key: str, item: str | None, choice: str | None) -> int:
        return self.per_choice.get((key, item, choice), [0])[0]

    def mean(self, key: str, item: str | None, choice: str | None) -> float | None:
        _rows, numbered, total = self.per_choice.get((key, item, choice), [0, 0, 0.0])
        return total / numbered if numbered else None

    def number_mean(self, key: str) -> float | None:
        total, numbered = self.sums.get(key, (0.0, 0))
        return total / numbered if numbered else None


def _median(counts: dict[float, int]) -> float | None:
    """The mean of the one or two middle values, from the count of each value."""
    total, before, middle = sum(counts.values()), 0, []
    for value in sorted(counts):
        # This value's answers hold the places before+1 … before+n; the middle places,
        # (total+1)//2 and total//2+1, are among them exactly when:
        if 2 * before <= total <= 2 * (before + counts[value]):
            middle.append(value)
        before += counts[value]
    return sum(middle) / len(middle) if middle else None


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


def _number_ranges(
    session: Session, where, questions: list[Question]
) -> dict[str, tuple[list[float], float]]:
    """Number question → the edges and width of about ten equal bins with round edges over
    the declared range, or the answers' range where none is declared."""
    declared = {q.key: (q.number.get("min"), q.number.get("max")) for q in questions}
    unknown = [key for key, (low, high) in declared.items() if low is None or high is None]
    seen = {}
    if unknown:
        number = ResponseAnswer.number
        seen = {
            key: (low, high)
            for key, low, high in session.execute(
                sa.select(ResponseAnswer.question, sa.func.min(number), sa.func.max(number))
                .where(where, ResponseAnswer.question.in_(unknown))
                .group_by(ResponseAnswer.question)
            )
        }
    ranges = {}
    for key, (low, high) in declared.items():
        low = low if low is not None else seen.get(key, (None, None))[0]
        high = high if high is not None else seen.get(key, (None, None))[1]
        if low is None or high is None:
            continue  # no numbers answered: no bins
        step = _nice_step(high - low)
        start = math.floor(low / step) * step
        edges = [start + i * step for i in range(NUMBER_BINS + 2) if start + i * step <= high]
        ranges[key] = (edges or [start], step)
    return ranges


def _number_bars(question: Question, tally: _Tally, base: int, shown) -> list[Bar]:
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
    versions = published_versions(session, survey)
    questions = questions_of(session, survey, versions)
    check_filters(session, survey, questions, filters, versions)
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
        _answers(session, survey, filters),
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
