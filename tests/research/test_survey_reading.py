"""How the survey dataset reads its rows: on PostgreSQL a COPY of one row per response with its
answer rows gathered as JSON, elsewhere two cursors merged. Whatever the answers hold (quotes,
backslashes, line breaks, characters outside the BMP, decimals), both give the very same rows."""

import os
import uuid
from datetime import date, timedelta

import pytest

from app import consent
from app.consent_models import Purpose
from app.db import utcnow
from i18n import force_locale
from research.datasets import survey as survey_dataset
from research.models import DatasetKind, ResearchExport, ResearchStatus
from research.options import ExportOptions
from research.table import Microdata
from surveys import responses_submit
from tests.surveys.helpers import make_survey

pytestmark = pytest.mark.usefixtures("in_app")

#: What a text answer may hold that COPY, JSON or CSV would treat specially.
AWKWARD = 'Back\\slash \\N, "quotes", tab\there,\r\nnew line, {"json": [1]}, été 🌡️ \u2028 end'


def _q(key, kind, **settings):
    return {"key": key, "type": kind, "title": {"fr": key, "en": key}, "required": False,
            **settings}  # fmt: skip


def _choices(*codes):
    return [{"value": c, "label": {"fr": c, "en": c}} for c in codes]


DEFINITION = {
    "title": {"fr": "Lecture", "en": "Reading"},
    "pages": [
        {
            "key": "home",
            "questions": [
                _q("heating", "single_choice", choices=_choices("gas", "wood"), other=True),
                _q("tools", "multiple_choice", choices=_choices("a", "b"), other=True),
                _q("spend", "number", number={"min": 0}),
                _q("age", "number", number={"integer": True, "min": 0, "max": 120}),
                _q("comfort", "scale", scale={"min": 1, "max": 5}),
                _q("story", "long_text"),
                _q("moved", "date"),
                _q("rank", "ranking", choices=_choices("x", "y")),
                _q(
                    "grid",
                    "matrix",
                    rows=[{"key": "r1", "label": {"fr": "1", "en": "1"}}],
                    scale={"min": 1, "max": 3},
                ),
            ],
        }
    ],
}
ANSWERS = [
    {
        "heating": "other",
        "heating.other": AWKWARD,
        "tools": ["b", "other"],
        "tools.other": "Scie \\ sauteuse",
        "spend": 0.1,
        "age": 42,
        "comfort": 4,
        "story": AWKWARD,
        "moved": "2020-05-01",
        "rank": ["y", "x"],
        "grid": {"r1": 3},
    },
    {"spend": 1234567.891, "heating": "gas", "story": "\\"},
    {"spend": 12.0},
    # Nothing answered: a response without any answer row.
    {},
]


@pytest.fixture
def survey(db_session, lyon, make_user, operator, moderator, campaign):
    """The survey answered by four residents who consented to research use."""
    text = consent.publish_text(
        db_session, operator(lyon), lyon, Purpose.RESEARCH, {"fr": "Recherche", "en": "Research"}
    )
    survey = make_survey(db_session, moderator, campaign, definition=DEFINITION)
    submitted_at = utcnow() - timedelta(hours=1)
    for n, answers in enumerate(ANSWERS):
        person = make_user(lyon, email=f"reader-{n}@example.org")
        consent.give_consent(db_session, person, Purpose.RESEARCH, text.version)
        responses_submit.submit(
            db_session,
            person,
            survey,
            str(uuid.uuid4()),
            survey.current_version_id,
            answers,
            "fr",
            submitted_at,
        )
    return survey


def _table(session, survey) -> Microdata:
    export = ResearchExport(
        city_id=survey.city_id,
        dataset=DatasetKind.SURVEY.value,
        subject_id=survey.id,
        purpose="Reading survey answers of every kind",
        locale="en",
        options={},
        status=ResearchStatus.PENDING.value,
        requested_at=utcnow(),
    )
    session.add(export)
    session.flush()
    options = ExportOptions(k=10, l=2, min_cell=10, include_text=True)
    with force_locale("en"):
        (table,) = survey_dataset.build_survey(session, export, options)
    return table


def rows_of(session, survey) -> tuple[list[str], list[tuple]]:
    table = _table(session, survey)
    return [v.name for v in table.variables], list(table.rows())


def test_every_value_arrives_as_it_was_answered(db_session, survey):
    names, rows = rows_of(db_session, survey)
    values = [dict(zip(names, row, strict=True)) for row in rows]
    full, some, whole, empty = values
    assert full["q_heating"] == 3  # "other", coded last
    assert full["q_heating_other_text"] == AWKWARD
    assert (full["q_tools_a"], full["q_tools_b"], full["q_tools_other"]) == (0, 1, 1)
    assert full["q_tools_other_text"] == "Scie \\ sauteuse"
    assert full["q_spend"] == 0.1
    assert (full["q_age"], full["q_comfort"], full["q_grid_r1"]) == (42, 4, 3)
    assert full["q_story"] == AWKWARD
    assert full["q_moved"] == date(2020, 5, 1)
    assert (full["q_rank_x"], full["q_rank_y"]) == (2, 1)
    assert (some["q_spend"], some["q_heating"], some["q_story"]) == (1234567.891, 1, "\\")
    assert some["q_heating_other_text"] is None
    # A whole number given to a decimal question is written as an integer.
    assert whole["q_spend"] == 12
    assert type(whole["q_spend"]) is int
    assert type(full["q_spend"]) is float
    questions = [name for name in names if name.startswith("q_")]
    assert all(empty[name] is None for name in questions)
    assert empty["respondent"].startswith("u:")


# COPY is read on PostgreSQL only: these exist where they can run (the suite runs on both).
if (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"):

    def test_copy_and_cursors_read_the_same_rows(db_session, survey, monkeypatch):
        names, copied = rows_of(db_session, survey)
        monkeypatch.setattr(survey_dataset, "by_copy", lambda connection: False)
        again, merged = rows_of(db_session, survey)
        assert again == names
        assert len(copied) == len(ANSWERS)
        assert copied == merged
        assert [[type(value) for value in row] for row in copied] == [
            [type(value) for value in row] for row in merged
        ]
        # The connection is free again for what the build does next.
        assert db_session.connection().exec_driver_sql("SELECT 1").scalar() == 1

    def test_the_connection_streaming_refuses_other_statements(db_session, survey):
        _names, rows = rows_of(db_session, survey)
        export_rows = _table(db_session, survey).rows()
        assert next(export_rows) == rows[0]
        # Another statement would wait for the COPY forever: it fails at once instead.
        with pytest.raises(RuntimeError, match="streaming"):
            db_session.connection().exec_driver_sql("SELECT 1")
        # Left part way, the rest is read and dropped: the transaction goes on.
        export_rows.close()
        assert db_session.connection().exec_driver_sql("SELECT 1").scalar() == 1
        assert rows_of(db_session, survey)[1] == rows
