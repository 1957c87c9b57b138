"""A survey's submitted responses as microdata: a row per response of the population.

Who is in: responses of people whose latest research consent stands, and responses kept for
research after their account was deleted (``kept_for_research_at``, no account left). A
response of an anonymous survey has no account, so no consent can be known: it stays out.

The columns: the respondent's raw key (``u:<user id>``, or ``r:<response id>`` for a kept
response; the pipeline makes pseudonyms of both), the version answered, its language, the day
it was submitted (a quasi-identifier), the respondent's household facts (district, size,
dwelling type; quasi-identifiers), then the questions' variables (survey_layout.py).

Rows stream in response order with the population filter in SQL, one response held at a time,
no ORM object made. On PostgreSQL, one ``COPY … TO STDOUT`` sends a row per response with its
answer rows gathered by the server as JSON: the server works while this process builds rows,
and a million answer rows become a hundred thousand Python rows (a cursor over the answer rows
took three times as long as the COPY of them). Elsewhere, the responses and their answer rows
are two queries read in batches and merged as they come.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import NotFound
from energy.models import DwellingType, Household
from i18n import _
from research.datasets.survey_layout import Layout, fill, fixed_variables
from research.models import ResearchExport
from research.options import ExportOptions
from research.population import consent_notes, local_bounds, research_consenters, within
from research.table import Microdata, Row, Table
from surveys.models import ResponseAnswer, ResponseStatus, Survey, SurveyResponse, SurveyVersion
from surveys.results_questions import published_versions, questions_of, text_of

#: Rows fetched per round trip of each stream (other databases than PostgreSQL).
BATCH = 5000
#: How ``_together`` casts a response's columns, and the type a binary COPY reads each as.
CASTS = (
    (sa.Integer, "int4"),  # response id
    (sa.Integer, "int4"),  # account
    (sa.Integer, "int4"),  # version number
    (sa.Text, "text"),  # language
    (sa.DateTime(timezone=True), "timestamptz"),  # submitted
    (sa.Text, "text"),  # district
    (sa.Integer, "int4"),  # household size
    (sa.Text, "text"),  # dwelling type
)
#: ``_together``'s columns for a binary COPY: the response's, then its answers' JSON as text.
COPY_TYPES = (*(name for _kind, name in CASTS), "text")
DWELLINGS = frozenset(DwellingType)


def build_survey(session: Session, export: ResearchExport, options: ExportOptions) -> list[Table]:
    """The ``responses`` microdata of the survey ``export.subject_id``."""
    survey = session.get(Survey, export.subject_id) if export.subject_id is not None else None
    if survey is None or survey.city_id != export.city_id:
        raise NotFound()
    city = survey.city
    zone = ZoneInfo(city.timezone)
    versions = published_versions(session, survey)
    questions = questions_of(session, survey, versions)
    asked: dict[str, list[int]] = {}
    for version in sorted(versions, key=lambda v: v.number):
        for page in version.definition.get("pages", []):
            for spec in page.get("questions", []):
                asked.setdefault(spec.get("key"), []).append(version.number)
    layout = Layout(city, export.locale, options, asked)
    fixed_variables(layout)
    for question in questions:
        layout.question(question)

    lower, upper = local_bounds(zone, options.starts_on, options.ends_on)
    # Both passes of the pipeline read the same responses: none submitted after this moment.
    cutoff = utcnow()
    upper = min(upper, cutoff) if upper is not None else cutoff
    scope = [
        SurveyResponse.survey_id == survey.id,
        SurveyResponse.status == ResponseStatus.SUBMITTED.value,
        *within(SurveyResponse.submitted_at, lower, upper),
    ]
    kept = sa.and_(
        SurveyResponse.kept_for_research_at.is_not(None), SurveyResponse.user_id.is_(None)
    )
    population = sa.or_(SurveyResponse.user_id.in_(research_consenters(city.id)), kept)
    considered, included, kept_count = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((population, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((kept, 1), else_=0)), 0),
        ).where(*scope)
    ).one()

    response_columns = (
        SurveyResponse.id,
        SurveyResponse.user_id,
        SurveyVersion.number,
        SurveyResponse.locale,
        SurveyResponse.submitted_at,
        Household.district,
        Household.people,
        Household.dwelling_type,
    )
    answer_columns = (
        ResponseAnswer.question,
        ResponseAnswer.item,
        ResponseAnswer.choice,
        ResponseAnswer.number,
        ResponseAnswer.text,
    )
    answered = [ResponseAnswer.survey_id == survey.id]
    left_out = [key for key in layout.text_left_out if "." not in key]
    if left_out:
        # Answers to text questions left out are not even read.
        answered.append(ResponseAnswer.question.not_in(left_out))
    responses = (
        sa.select(*response_columns)
        .join(SurveyVersion, SurveyVersion.id == SurveyResponse.version_id)
        .outerjoin(Household, Household.user_id == SurveyResponse.user_id)
        .where(*scope, population)
    )
    reader = Reader(
        width=len(layout.variables),
        slots=layout.slots,
        zone=zone,
        districts=frozenset(city.districts or []),
    )

    def rows() -> Iterator[Row]:
        connection = session.connection()
        if by_copy(connection):
            return reader.copied(connection, _together(responses, answer_columns, answered))
        answers = (
            sa.select(ResponseAnswer.response_id, *answer_columns)
            .join(SurveyResponse, SurveyResponse.id == ResponseAnswer.response_id)
            .where(*answered, *scope, population)
            .order_by(ResponseAnswer.response_id)
        )
        return reader.merged(connection, responses.order_by(SurveyResponse.id), answers)

    # The title residents see now, else the newest version's.
    shown = survey.current_version or (versions[0] if versions else None)
    title = text_of(shown.definition.get("title"), export.locale, city) if shown else ""
    notes = {
        "survey": title,
        "versions": sorted(v.number for v in versions),
        "questions": layout.described,
        "text_left_out": layout.text_left_out,
        "kept_after_account_deletion": int(kept_count),
        **consent_notes(int(considered), int(included)),
    }
    if survey.anonymous:
        # Its responses name no account, so no consent can be known for them.
        notes["anonymous_survey"] = True
    if options.starts_on or options.ends_on:
        notes["window"] = {
            "starts_on": options.starts_on.isoformat() if options.starts_on else None,
            "ends_on": options.ends_on.isoformat() if options.ends_on else None,
        }
    table = Microdata(
        name="responses",
        title=_("Responses to “%(survey)s”", survey=title) if title else _("Responses"),
        variables=layout.variables,
        rows=rows,
        notes=notes,
    )
    return [table]


def by_copy(connection: sa.Connection) -> bool:
    """Whether the rows stream by COPY: on PostgreSQL, through psycopg."""
    return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"


def _together(
    responses: sa.Select, answer_columns: tuple, answered: list[sa.ColumnElement]
) -> sa.Select:
    """One row per response, its answer rows gathered by the server as a JSON array of
    ``[question, item, choice, number, text]`` (NULL when it has none), in response order;
    the columns cast to the types ``Reader.copied`` reads them as."""
    columns = [
        sa.cast(column, kind)
        for column, (kind, _name) in zip(responses.selected_columns, CASTS, strict=True)
    ]
    gathered = sa.func.json_agg(sa.func.json_build_array(*answer_columns)).filter(
        ResponseAnswer.id.is_not(None)
    )
    return (
        responses.with_only_columns(*columns, sa.cast(gathered, sa.Text))
        .outerjoin(
            ResponseAnswer, sa.and_(ResponseAnswer.response_id == SurveyResponse.id, *answered)
        )
        # Keys of the joined rows: the version and household are one per response.
        .group_by(SurveyResponse.id, SurveyVersion.id, Household.id)
        .order_by(SurveyResponse.id)
    )


@contextmanager
def _copying(connection: sa.Connection, statement: sa.Select) -> Iterator[Iterator[tuple]]:
    """The records of ``statement`` by a binary ``COPY … TO STDOUT`` on ``connection``, typed as
    ``COPY_TYPES``.

    Until the last is read, the connection can run nothing else: a statement sent meanwhile
    fails at once (it would wait for the COPY, which waits for its reader). Records left
    unread are read and dropped, so that the transaction goes on as after a closed cursor
    (psycopg would cancel the COPY, which ends the transaction).
    """
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    raw = connection.connection.driver_connection
    sa.event.listen(connection, "before_cursor_execute", _busy)
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT BINARY)", compiled.params) as copy,
        ):
            copy.set_types(COPY_TYPES)
            try:
                yield copy.rows()
            except GeneratorExit:
                while copy.read():
                    pass
                raise
    finally:
        sa.event.remove(connection, "before_cursor_execute", _busy)


def _busy(*_args) -> None:
    raise RuntimeError("the connection is streaming a survey's rows (COPY) until they are read")


class Reader:
    """Turns a response and its answer rows into the table's row."""

    def __init__(
        self, width: int, slots: dict[str, tuple], zone: ZoneInfo, districts: frozenset[str]
    ) -> None:
        self.width = width
        self.slots = slots
        self.zone = zone
        self.districts = districts

    def start(self, response: Sequence) -> list:
        """A response's row with its own columns filled (from the response's id, account,
        version number, language, submission time, district, household size and dwelling
        type), the questions' still missing."""
        row: list = [None] * self.width
        rid, user_id = response[0], response[1]
        row[0] = f"u:{user_id}" if user_id is not None else f"r:{rid}"
        row[1] = response[2]
        row[2] = response[3]
        row[3] = response[4].astimezone(self.zone).date()
        # A district the city no longer lists is as good as none (energy/district.py).
        district, dwelling = response[5], response[7]
        row[4] = district if district in self.districts else None
        row[5] = response[6]
        row[6] = dwelling if dwelling in DWELLINGS else None
        return row

    def copied(self, connection: sa.Connection, statement: sa.Select) -> Iterator[Row]:
        """PostgreSQL: the rows of ``_together`` streamed by ``COPY … TO STDOUT``, on the
        session's own connection (the same transaction and snapshot), which it holds until
        the last row: nothing else may run on it meanwhile. Several times faster than a
        cursor: the server sends while this process works, and there is a Python row per
        response rather than per answer row."""
        slots, start, loads = self.slots, self.start, json.loads
        with _copying(connection, statement) as records:
            for response in records:
                row = start(response)
                answers = response[8]
                if answers is not None:
                    # A number comes as PostgreSQL writes a float as text, as a cursor reads
                    # it too; a non-finite one as a string ("NaN"), which ``fill`` reads.
                    for question, item, choice, number, text in loads(answers):
                        slot = slots.get(question)
                        if slot is not None:
                            fill(row, slot, item, choice, number, text)
                yield tuple(row)

    def merged(
        self, connection: sa.Connection, responses: sa.Select, answers: sa.Select
    ) -> Iterator[Row]:
        """Other databases: the two streams (both in response order) read through cursors
        in batches and merged, one response held at a time."""
        # Core, not the ORM's loading: plain tuples in batches, several times faster per row.
        response_result = connection.execute(responses.execution_options(yield_per=BATCH))
        answer_result = connection.execute(answers.execution_options(yield_per=BATCH))
        response_rows = chain.from_iterable(response_result.partitions())
        answer_rows = chain.from_iterable(answer_result.partitions())
        slots, start = self.slots, self.start
        try:
            pending = next(answer_rows, None)
            for response in response_rows:
                row = start(response)
                rid = response[0]
                # The answer stream may hold rows of a response the other did not see (one
                # submitted between the two queries): skipped.
                while pending is not None and pending[0] < rid:
                    pending = next(answer_rows, None)
                while pending is not None and pending[0] == rid:
                    slot = slots.get(pending[1])
                    if slot is not None:
                        fill(row, slot, pending[2], pending[3], pending[4], pending[5])
                    pending = next(answer_rows, None)
                yield tuple(row)
        finally:
            answer_result.close()
            response_result.close()
