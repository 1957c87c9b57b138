"""Email digests: low-priority items wait for 08:00 local time and go out together, once."""

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from jinja2 import ChoiceLoader, DictLoader

from app.db import utcnow, write_intent
from notifications import unsubscribe
from notifications.digest import send_digests, summary
from notifications.models import (
    Delivery,
    EmailMode,
    Notification,
    NotificationPreference,
    NotificationSettings,
)
from notifications.service import notify
from tests.conftest import city_with_people, session_of
from tests.notifications.conftest import NEWS, TEMPLATES
from tests.notifications.test_email import deliver

pytestmark = pytest.mark.usefixtures("mail_kinds")

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
#: 08:00 in Paris and Vienna (UTC+1 in winter) on the next day, and on the next Monday.
WEDNESDAY_8 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
MONDAY_8 = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def choose(session, user, mode: EmailMode, kind=NEWS):
    session.add(
        NotificationPreference(user_id=user.id, kind=kind, inbox=True, push=True, email=mode)
    )
    session.commit()


def tell_at(app, session, users, at: datetime, title: str):
    with app.app_context():
        notify(session, users, NEWS, {"title": title, "moment": at}, now=at)
        session.commit()


def digests(app, session, now: datetime) -> int:
    with app.app_context():
        return send_digests(session, now=now)


def waiting_items(session, user) -> list[Delivery]:
    session.expire_all()
    return session.scalars(
        sa.select(Delivery)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.user_id == user.id, Notification.kind == NEWS)
        .where(Delivery.channel == "email")
        .order_by(Delivery.id)
    ).all()


def digests_of(session, user) -> list[Notification]:
    return session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == user.id, Notification.kind == "digest")
        .order_by(Notification.id)
    ).all()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_daily_digest_gathers_the_days_news_into_one_email_at_eight(
    app, db_session, lyon, make_user, smtp_server, translate
):
    marie = make_user(lyon, email="marie@example.org")
    choose(db_session, marie, EmailMode.DAILY)
    for hours, title in ((0, "Un"), (2, "Deux"), (5, "Trois")):
        tell_at(app, db_session, [marie], TUESDAY + timedelta(hours=hours), title)
    items = waiting_items(db_session, marie)
    assert [(i.status, i.due_at) for i in items] == [("digest", WEDNESDAY_8)] * 3
    # The inbox has them at once; email waits.
    assert deliver(app, db_session, now=TUESDAY + timedelta(hours=6)) == 3
    assert smtp_server.messages == []

    assert digests(app, db_session, WEDNESDAY_8 - timedelta(minutes=1)) == 0
    assert digests(app, db_session, WEDNESDAY_8) == 1
    assert deliver(app, db_session, now=WEDNESDAY_8) == 1

    [digest] = digests_of(db_session, marie)
    [message] = smtp_server.messages
    assert message["Subject"] == digest.subject and "3" in digest.subject
    assert message["Content-Language"] == "fr"
    text = text_of(message)
    for title in ("Un", "Deux", "Trois"):
        assert f"{translate('fr', 'Sign in')}: {title}" in text  # each item's subject...
        assert f"{translate('fr', 'Sign out')}: {title}" in text  # ...and the start of its text
    assert format_date(date(2026, 12, 1), "medium", locale="fr") in text  # "1 déc. 2026"
    items = waiting_items(db_session, marie)
    assert {(i.status, i.digest_id, i.sent_at) for i in items} == {
        ("digested", digest.id, WEDNESDAY_8)
    }
    # The digest's link stops all optional email: it belongs to no single kind.
    token = urlsplit(message["List-Unsubscribe"][1:-1]).path.rsplit("/", 1)[1]
    with app.app_context():
        assert unsubscribe.resolve(db_session, token).kind == unsubscribe.ALL


def test_a_weekly_digest_waits_for_monday_morning_in_the_persons_zone(
    app, db_session, vienna, make_user, smtp_server
):
    hans = make_user(vienna, locale="de")
    choose(db_session, hans, EmailMode.WEEKLY)
    tell_at(app, db_session, [hans], TUESDAY, "Montag")
    tell_at(app, db_session, [hans], TUESDAY + timedelta(days=2), "Donnerstag")
    saturday_night = datetime(2026, 12, 5, 23, 30, tzinfo=UTC)  # already Sunday in Vienna
    tell_at(app, db_session, [hans], saturday_night, "Sonntag")
    assert {i.due_at for i in waiting_items(db_session, hans)} == {MONDAY_8}

    assert digests(app, db_session, datetime(2026, 12, 6, 12, 0, tzinfo=UTC)) == 0
    assert digests(app, db_session, MONDAY_8) == 1
    deliver(app, db_session, now=MONDAY_8)
    [message] = smtp_server.messages
    assert message["Content-Language"] == "de"
    text = text_of(message)
    assert all(title in text for title in ("Montag", "Donnerstag", "Sonntag"))
    assert format_date(date(2026, 12, 6), "medium", locale="de") in text  # Vienna's Sunday


def test_nothing_goes_out_twice_and_the_next_digest_has_only_new_items(
    app, db_session, lyon, make_user, smtp_server
):
    marie = make_user(lyon)
    choose(db_session, marie, EmailMode.DAILY)
    tell_at(app, db_session, [marie], TUESDAY, "Ancien")
    assert digests(app, db_session, WEDNESDAY_8) == 1
    assert digests(app, db_session, WEDNESDAY_8) == 0
    assert digests(app, db_session, WEDNESDAY_8 + timedelta(hours=1)) == 0
    deliver(app, db_session, now=WEDNESDAY_8 + timedelta(hours=1))
    assert len(smtp_server.messages) == 1

    tell_at(app, db_session, [marie], WEDNESDAY_8 + timedelta(hours=2), "Nouveau")
    thursday_8 = WEDNESDAY_8 + timedelta(days=1)
    assert digests(app, db_session, thursday_8) == 1
    deliver(app, db_session, now=thursday_8)
    assert len(smtp_server.messages) == 2
    latest = text_of(smtp_server.messages[1])
    assert "Nouveau" in latest and "Ancien" not in latest
    assert len(digests_of(db_session, marie)) == 2


def test_a_person_who_paused_email_gets_no_digest(app, db_session, lyon, make_user, smtp_server):
    marie = make_user(lyon)
    choose(db_session, marie, EmailMode.DAILY)
    tell_at(app, db_session, [marie], TUESDAY, "Un")
    db_session.add(NotificationSettings(user_id=marie.id, email_paused_at=utcnow()))
    db_session.commit()
    assert digests(app, db_session, WEDNESDAY_8) == 0
    assert [i.status for i in waiting_items(db_session, marie)] == ["cancelled"]
    assert digests_of(db_session, marie) == []


def test_items_of_a_kind_switched_off_meanwhile_are_left_out(
    app, db_session, lyon, make_user, smtp_server
):
    marie = make_user(lyon)
    choose(db_session, marie, EmailMode.DAILY)
    tell_at(app, db_session, [marie], TUESDAY, "Un")
    db_session.get(NotificationPreference, (marie.id, NEWS)).email = EmailMode.OFF
    db_session.commit()
    assert digests(app, db_session, WEDNESDAY_8) == 0
    assert [i.status for i in waiting_items(db_session, marie)] == ["cancelled"]


def test_a_summary_is_one_line_cut_between_words():
    assert summary("Short\ntext") == "Short text"
    long = "word " * 100
    cut = summary(long, limit=22)
    assert cut == "word word word word…"


# --- two scheduler runs at once, on a committed database of its own --------------------------

PEOPLE = 12


@pytest.fixture
def own_app(committed_app):
    loader = ChoiceLoader([DictLoader(TEMPLATES), committed_app.jinja_env.loader])
    committed_app.jinja_env.loader = loader
    return committed_app


def test_two_digest_runs_at_once_send_one_digest_per_person(own_app):
    with session_of(own_app) as session:
        _city, people = city_with_people(session, PEOPLE)
        for person in people:
            session.add(
                NotificationPreference(
                    user_id=person.id, kind=NEWS, inbox=True, push=True, email=EmailMode.DAILY
                )
            )
        for hours in range(3):
            at = TUESDAY + timedelta(hours=hours)
            notify(session, people, NEWS, {"title": f"n{hours}", "moment": at}, now=at)
        session.commit()

    made: list[int] = []
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def run():
        write_intent.set(True)  # as the scheduler runs its jobs
        try:
            start.wait(timeout=30)
            with session_of(own_app) as session:
                made.append(send_digests(session, now=WEDNESDAY_8))
        except Exception as error:  # surfaced below
            errors.append(error)

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=120)
    assert errors == []
    assert sum(made) == PEOPLE

    with session_of(own_app) as session:
        per_person = Counter(
            session.scalars(sa.select(Notification.user_id).where(Notification.kind == "digest"))
        )
        items = session.execute(
            sa.select(Delivery.status, Delivery.digest_id).where(
                Delivery.channel == "email", Delivery.digest_id.is_not(None)
            )
        ).all()
        statuses = Counter(
            session.scalars(
                sa.select(Delivery.status)
                .join(Notification, Notification.id == Delivery.notification_id)
                .where(Notification.kind == NEWS, Delivery.channel == "email")
            )
        )
    assert sorted(per_person.values()) == [1] * PEOPLE
    assert statuses == {"digested": 3 * PEOPLE}
    assert Counter(digest_id for _status, digest_id in items).most_common(1)[0][1] == 3
