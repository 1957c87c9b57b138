"""The weekly job: reports computed once, each resident told once in their own language with
their numbers, their choice of channels respected, a second run changing nothing, late
readings reported within the hour, and months computed without a notification."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_interval

from energy.feedback.jobs import give_feedback
from energy.feedback.notice import week_key
from energy.models import FeedbackReport
from notifications.models import Delivery, Notification
from notifications.preferences import update_settings
from tests.energy import feedback_world
from tests.energy.feedback_world import NEXT_MONDAY, WEEK, report_of, seed_days

household = feedback_world.household
pytestmark = pytest.mark.usefixtures("in_app")

#: Monday 23 November 2026, 09:00 in Lyon: the week of the 16th has ended.
MONDAY = datetime(2026, 11, 23, 8, tzinfo=UTC)


def _notes(session, meter=None):
    query = sa.select(Notification).where(Notification.kind == "energy.feedback")
    if meter is not None:
        query = query.where(Notification.user_id == meter.user_id)
    return list(session.scalars(query.order_by(Notification.id)))


def _reports(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(FeedbackReport))


@pytest.fixture
def street(db_session, household):
    """Ten households of two people in 50-80 m², one of them German-speaking."""
    meters = [household(locale="de" if i == 0 else None) for i in range(10)]
    for i, meter in enumerate(meters):
        # 300 W always on for the German household; the others 100, 110, … W.
        power = 300.0 if i == 0 else 100.0 + 10 * i
        seed_days(db_session, meter, WEEK, 7, power)
    return meters


def test_the_week_is_computed_and_told_once_in_each_language(db_session, street, translate):
    counts = give_feedback(db_session, MONDAY)
    assert counts == {"reports": 10, "told": 10}
    hilde = street[0]
    report = report_of(db_session, hilde)
    assert report.consumption == 300.0 * 168
    assert report.figures["comparison"]["value"]["position"] == "above"
    assert [tip["code"] for tip in report.tips] == ["standby"]
    [note] = _notes(db_session, hilde)
    assert note.locale == "de"
    assert note.dedupe_key == week_key(WEEK) == "energy:feedback:week:2026-W47"
    assert note.data == {"period": "week", "starts_on": "2026-11-16"}
    week = format_interval(WEEK, WEEK + timedelta(days=6), "yMMMd", locale="de")
    assert note.subject == translate("de", "Your energy week: %(week)s", week=week)
    body = note.body_text.replace("\N{NO-BREAK SPACE}", " ")
    # Her week in German numbers: 50,4 kWh used, 300 W always on, the group's median.
    assert translate("de", "Used: %(amount)s", amount="50,4 kWh") in body
    assert translate("de", "Always on, day and night: %(power)s.", power="300 W") in body
    assert "26 kWh" in body  # the median of the ten: 168 * (150 + 160) / 2 Wh
    assert translate("de", "Your household uses more than half of them.") in body
    assert translate("de", "Switch off what stays on") in body
    assert "300 W" in note.body_html.replace("\N{NO-BREAK SPACE}", " ")
    others = _notes(db_session, street[1])
    assert [n.locale for n in others] == ["fr"]
    assert "18,5 kWh" in others[0].body_text.replace("\N{NO-BREAK SPACE}", " ")
    # Everyone has an inbox delivery, and an email (their address is confirmed).
    channels = db_session.scalars(
        sa.select(Delivery.channel).where(Delivery.notification_id == note.id)
    ).all()
    assert sorted(channels) == ["email", "inbox"]


def test_a_second_run_changes_nothing(db_session, street):
    give_feedback(db_session, MONDAY)
    computed = {r.meter_id: r.computed_at for r in db_session.scalars(sa.select(FeedbackReport))}
    notes = len(_notes(db_session))
    assert give_feedback(db_session, MONDAY + timedelta(hours=1)) == {"reports": 0, "told": 0}
    assert len(_notes(db_session)) == notes == 10
    again = {r.meter_id: r.computed_at for r in db_session.scalars(sa.select(FeedbackReport))}
    assert again == computed


def test_a_resident_who_switched_the_kind_off_gets_nothing(db_session, street):
    quiet = street[3].user
    update_settings(
        db_session,
        quiet,
        kinds={"energy.feedback": {"inbox": False, "push": False, "email": "off"}},
    )
    give_feedback(db_session, MONDAY)
    told = {n.user_id for n in _notes(db_session)}
    delivered = set(
        db_session.scalars(
            sa.select(Notification.user_id).join(
                Delivery, Delivery.notification_id == Notification.id
            )
        )
    )
    assert quiet.id not in delivered
    assert delivered == told - {quiet.id}
    assert report_of(db_session, street[3]) is not None  # the app still shows the week


def test_nothing_is_computed_before_the_week_has_ended(db_session, street):
    sunday_evening = datetime(2026, 11, 22, 20, tzinfo=UTC)  # 21:00 in Lyon
    assert give_feedback(db_session, sunday_evening) == {"reports": 0, "told": 0}
    assert _reports(db_session) == 0


def test_readings_arriving_later_are_reported_within_the_hour(db_session, street, household):
    give_feedback(db_session, MONDAY)
    late = household()
    seed_days(db_session, late, WEEK, 7, 150.0)
    assert give_feedback(db_session, MONDAY + timedelta(hours=30)) == {"reports": 1, "told": 1}
    comparison = report_of(db_session, late).figures["comparison"]
    assert comparison["how"]["households"] == 11  # with the stored reports of the others
    assert len(_notes(db_session, late)) == 1


def test_a_month_is_computed_once_ended_without_a_notification(db_session, household):
    meter = household()
    october = datetime(2026, 10, 1).date()
    seed_days(db_session, meter, october, 31, 100.0)
    counts = give_feedback(db_session, datetime(2026, 11, 2, 8, tzinfo=UTC))
    assert counts == {"reports": 2, "told": 1}  # October, and the week of 26 October
    month = report_of(db_session, meter, october, "month")
    assert month.ends_on == datetime(2026, 10, 31).date()
    # 31 days of 100 W, the day the clocks went back having 25 hours.
    assert month.consumption == 100.0 * (31 * 24 + 1)
    assert [n.data["period"] for n in _notes(db_session)] == ["week"]


def test_next_monday_the_next_week_is_told(db_session, street):
    give_feedback(db_session, MONDAY)
    for meter in street:
        seed_days(db_session, meter, NEXT_MONDAY, 7, 100.0)
    counts = give_feedback(db_session, MONDAY + timedelta(days=7))
    assert counts == {"reports": 10, "told": 10}
    assert len(_notes(db_session, street[0])) == 2
