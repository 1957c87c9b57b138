"""The SQL statements behind a survey's figures: what they count for the filtered respondents.

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

from surveys.models import ResponseAnswer, Survey, SurveyResponse
from surveys.results_filters import Filters, kept_responses
from surveys.results_questions import Question

NUMBER_BINS = 10


#: Where year, month, day and hour are in the text of a stored time.
_HOUR_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13))


def per_day(session: Session, survey: Survey, filters: Filters) -> list[tuple[date, int]]:
    """Submitted responses per day in the city's time zone, oldest first."""
    submitted = SurveyResponse.submitted_at
    base = sa.select(SurveyResponse.id).where(*kept_responses(survey, filters))
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
class Tally:
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
    def count(cls, session: Session, where, questions: list[Question]) -> "Tally":
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
        # The one or two middle values, as median_of finds them.
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


def median_of(counts: dict[float, int]) -> float | None:
    """The mean of the one or two middle values, from the count of each value."""
    total, before, middle = sum(counts.values()), 0, []
    for value in sorted(counts):
        # This value's answers hold the places before+1 … before+n; the middle places,
        # (total+1)//2 and total//2+1, are among them exactly when:
        if 2 * before <= total <= 2 * (before + counts[value]):
            middle.append(value)
        before += counts[value]
    return sum(middle) / len(middle) if middle else None


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
