"""A survey's submitted responses as CSV for its moderators, streamed in bounded memory.

One row per submitted response: its id, version number, language and submission time (in the
city's time zone, ISO 8601 with offset), then per question of any published version (current
order first, removed questions after):

- single choice, dropdown, yes/no: ``<key>`` (the code) and ``<key>.label``;
- multiple choice: ``<key>.<code>`` per option, 1 when chosen, 0 when not (empty when the
  question was not answered);
- "other, please specify": ``<key>.other`` with what was written;
- scale, rating, number, texts, dates: ``<key>``;
- matrix: ``<key>.<row>`` with the scale value; ranking: ``<key>.<code>`` with the position.

Written text (answers and labels) that a spreadsheet would read as a formula (starting with
= + - @ tab or CR) is prefixed with a single quote; numbers we format ourselves are left as they
are. UTF-8 with a byte order mark (for Excel), RFC 4180 (CRLF, quotes doubled).

Rows are read with Core and ``yield_per`` (a server-side cursor on PostgreSQL), in response
order, and one response at a time is held in memory.
"""

import csv
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import User
from app.policy import ensure
from app.spreadsheet import BOM, neutralised
from surveys.definition import OTHER
from surveys.models import (
    ResponseAnswer,
    ResponseStatus,
    Survey,
    SurveyResponse,
    SurveyVersion,
)
from surveys.results_questions import Question, choice_label, questions_of

#: Rows fetched from the database at a time, and CSV rows written per chunk sent.
BATCH = 1000
SINGLE_KINDS = frozenset({"single_choice", "dropdown", "yes_no"})
SIMPLE_KINDS = frozenset({"scale", "rating", "number", "short_text", "long_text", "date"})


def _number(value: float | None) -> object:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else value


def columns(questions: list[Question]) -> list[str]:
    """The header row."""
    header = ["response_id", "version", "language", "submitted_at"]
    for q in questions:
        if q.type in SINGLE_KINDS:
            header += [q.key, f"{q.key}.label"]
        elif q.type in ("multiple_choice", "ranking"):
            header += [f"{q.key}.{code}" for code in q.choices]
        elif q.type == "matrix":
            header += [f"{q.key}.{row}" for row in q.rows]
        elif q.type in SIMPLE_KINDS:
            header.append(q.key)
        if q.other:
            header.append(f"{q.key}.{OTHER}")
    return header


class _Row:
    """The cells of one response, filled from its answer rows."""

    def __init__(self, questions: list[Question], index: dict[str, int], labels: dict):
        self.questions = questions
        self.index = index
        self.labels = labels
        self.cells: list[object] = [""] * len(index)

    def set(self, name: str, value: object) -> None:
        position = self.index.get(name)
        if position is not None:  # a code no version lists any more: nowhere to put it
            self.cells[position] = value

    def add(self, question: Question, item, choice, number, text) -> None:
        key, kind = question.key, question.type
        if kind in SINGLE_KINDS:
            self.set(key, neutralised(choice))
            self.set(f"{key}.label", neutralised(self.labels.get((key, choice), choice)))
        elif kind == "multiple_choice":
            for code in question.choices:
                position = self.index[f"{key}.{code}"]
                if self.cells[position] == "":
                    self.cells[position] = 0
            self.set(f"{key}.{choice}", 1)
        elif kind == "ranking":
            self.set(f"{key}.{choice}", _number(number))
        elif kind == "matrix":
            self.set(f"{key}.{item}", _number(number))
        elif kind in ("scale", "rating", "number"):
            self.set(key, _number(number))
        else:
            self.set(key, neutralised(text))
        if choice == OTHER and question.other and text:
            self.set(f"{key}.{OTHER}", neutralised(text))


def export_csv(session: Session, actor: User, survey: Survey, locale: str) -> Iterator[str]:
    """The CSV text in chunks; labels in ``locale`` (falling back to the city's language)."""
    ensure(actor, "survey.manage", survey)
    questions = questions_of(session, survey)
    by_key = {q.key: q for q in questions}
    header = columns(questions)
    index = {name: i for i, name in enumerate(header)}
    labels = {
        (q.key, code): choice_label(q, code, locale, survey.city)
        for q in questions
        for code in q.choices
    }
    zone = ZoneInfo(survey.city.timezone)
    query = (
        sa.select(
            SurveyResponse.id,
            SurveyVersion.number,
            SurveyResponse.locale,
            SurveyResponse.submitted_at,
            ResponseAnswer.question,
            ResponseAnswer.item,
            ResponseAnswer.choice,
            ResponseAnswer.number,
            ResponseAnswer.text,
        )
        .join(SurveyVersion, SurveyVersion.id == SurveyResponse.version_id)
        .outerjoin(ResponseAnswer, ResponseAnswer.response_id == SurveyResponse.id)
        .where(
            SurveyResponse.survey_id == survey.id,
            SurveyResponse.status == ResponseStatus.SUBMITTED,
        )
        .order_by(SurveyResponse.id, ResponseAnswer.id)
        .execution_options(yield_per=BATCH)
    )
    return _stream(session, query, questions, by_key, header, index, labels, zone)


def _stream(session, query, questions, by_key, header, index, labels, zone) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    row: _Row | None = None
    current = None
    written = 0
    for (
        rid,
        version,
        language,
        submitted_at,
        question,
        item,
        choice,
        number,
        text,
    ) in session.execute(query):
        if rid != current:
            if row is not None:
                writer.writerow(row.cells)
                written += 1
                if written % BATCH == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            current = rid
            row = _Row(questions, index, labels)
            row.cells[:4] = [
                rid,
                version,
                neutralised(language),
                submitted_at.astimezone(zone).isoformat(timespec="seconds"),
            ]
        if question is not None and question in by_key:
            row.add(by_key[question], item, choice, number, text)
    if row is not None:
        writer.writerow(row.cells)
    yield buffer.getvalue()
