"""Stored reports: only of consenting residents' meters with readings, the same rows however
often computed, a subset compared with the stored others, and one meter's feedback computed
live when no stored report is up to date."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import consent
from app.consent_models import Purpose
from app.db import utcnow
from app.errors import Conflict, NotFound
from energy import meters
from energy.feedback.reports import compute_reports, feedback_for
from energy.models import FeedbackReport
from tests.energy import feedback_world
from tests.energy.feedback_world import WEEK, report_of, seed_days

household = feedback_world.household
pytestmark = pytest.mark.usefixtures("in_app")


def _rows(session) -> list[tuple]:
    return [
        tuple(row)
        for row in session.execute(
            sa.select(
                FeedbackReport.id,
                FeedbackReport.meter_id,
                FeedbackReport.consumption,
                FeedbackReport.saving,
            ).order_by(FeedbackReport.id)
        )
    ]


def test_computing_twice_gives_the_same_rows(db_session, lyon, household):
    made = [household() for _ in range(3)]
    for power, meter in zip((100.0, 200.0, 300.0), made, strict=True):
        seed_days(db_session, meter, WEEK, 7, power)
    assert compute_reports(db_session, lyon, "week", WEEK) == {"meters": 3, "stored": 3}
    first = _rows(db_session)
    figures = report_of(db_session, made[0]).figures
    assert compute_reports(db_session, lyon, "week", WEEK) == {"meters": 3, "stored": 3}
    assert _rows(db_session) == first
    db_session.expire_all()
    assert report_of(db_session, made[0]).figures == figures


def test_every_figure_says_how_it_was_computed(db_session, lyon, household):
    meter = household()
    seed_days(db_session, meter, WEEK, 7, 100.0)
    compute_reports(db_session, lyon, "week", WEEK)
    report = report_of(db_session, meter)
    assert (report.starts_on, report.ends_on, report.commodity) == (
        WEEK,
        WEEK + timedelta(days=6),
        "electricity",
    )
    consumption = report.figures["consumption"]
    assert consumption["how"]["readings"] == 168
    assert consumption["how"]["from"] == "2026-11-15T23:00:00+00:00"
    assert consumption["how"]["to"] == "2026-11-22T23:00:00+00:00"
    for key, found in report.figures.items():
        assert set(found) == {"value", "unit", "how"}, key
        assert found["how"], key


def test_only_consenting_residents_with_readings_are_reported(
    db_session, lyon, household, publish_energy_text
):
    kept, withdrawn, disabled, silent = (household() for _ in range(4))
    for meter in (kept, withdrawn, disabled):
        seed_days(db_session, meter, WEEK, 7, 100.0)
    meters.withdraw_energy_consent(db_session, withdrawn.user)
    disabled.user.disabled_at = utcnow()
    db_session.flush()
    assert compute_reports(db_session, lyon, "week", WEEK) == {"meters": 2, "stored": 1}
    assert report_of(db_session, kept) is not None
    assert report_of(db_session, silent) is None  # no readings: nothing to tell
    # A new version of the text: nobody has agreed to it yet.
    publish_energy_text(lyon)
    db_session.execute(sa.delete(FeedbackReport))
    assert compute_reports(db_session, lyon, "week", WEEK) == {"meters": 0, "stored": 0}


def test_a_subset_is_compared_with_the_stored_others(db_session, lyon, household):
    made = [household() for _ in range(10)]
    for i, meter in enumerate(made):
        seed_days(db_session, meter, WEEK, 7, 100.0 + 10 * i)
    compute_reports(db_session, lyon, "week", WEEK, meter_ids=[m.id for m in made[:9]])
    assert report_of(db_session, made[0]).figures["comparison"]["value"] is None
    assert compute_reports(db_session, lyon, "week", WEEK, meter_ids=[made[9].id]) == {
        "meters": 1,
        "stored": 1,
    }
    comparison = report_of(db_session, made[9]).figures["comparison"]
    assert comparison["how"]["households"] == 10
    assert comparison["value"]["median"] == 168 * 145.0


def test_feedback_for_reads_the_stored_report_or_computes_it(db_session, lyon, household):
    meter = household()
    seed_days(db_session, meter, WEEK, 7, 100.0)
    live = feedback_for(db_session, meter.user, meter, "week", WEEK)
    assert (live["stored"], live["computed_at"]) == (False, None)
    assert live["figures"]["consumption"]["value"] == 16800.0
    assert report_of(db_session, meter) is None
    compute_reports(db_session, lyon, "week", WEEK)
    stored = feedback_for(db_session, meter.user, meter, "week", WEEK)
    assert stored["stored"] is True
    assert stored["figures"] == live["figures"]
    assert stored["tips"] == live["tips"]


def test_feedback_for_is_only_for_the_owner_with_consent(db_session, lyon, household):
    meter, other = household(), household()
    with pytest.raises(NotFound):
        feedback_for(db_session, other.user, meter, "week", WEEK)
    consent.withdraw_consent(db_session, meter.user, Purpose.ENERGY_FEEDBACK)
    with pytest.raises(Conflict) as refused:
        feedback_for(db_session, meter.user, meter, "week", WEEK)
    assert refused.value.slug == "consent-required"


def test_withdrawing_the_consent_deletes_the_reports(db_session, lyon, household):
    meter, other = household(), household()
    for each in (meter, other):
        seed_days(db_session, each, WEEK, 7, 100.0)
    compute_reports(db_session, lyon, "week", WEEK)
    meters.withdraw_energy_consent(db_session, meter.user)
    assert db_session.scalars(sa.select(FeedbackReport.meter_id)).all() == [other.id]
