"""``notify_one``: for one person, the same notification and deliveries as ``notify`` (their
language, clock, choices, devices, quiet hours, digests), in fewer statements; ``addressee``
reads the person once, and the insert itself is the dedupe check."""

import re
from datetime import UTC, datetime, time

import pytest
import sqlalchemy as sa
from jinja2 import ChoiceLoader, DictLoader

from app.db import utcnow
from notifications import kinds
from notifications.models import (
    Delivery,
    EmailMode,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushDevice,
)
from notifications.service import addressee, notify, notify_one

NORMAL, LOW, CODE = "test.one", "test.one.low", "test.one.code"
KINDS = (
    kinds.Kind(NORMAL, "One", kinds.Priority.NORMAL),
    kinds.Kind(LOW, "One, may wait", kinds.Priority.LOW),
    kinds.Kind(CODE, "A code", kinds.Priority.HIGH, inbox=False, push=False, mandatory=True),
)
TEMPLATES = {
    f"notifications/{kind.name}.{ending}": text
    for kind in KINDS
    for ending, text in (
        ("subject.txt", '{{ _("Sign in") }}: {{ title }}'),
        ("txt", "{{ title }}, {{ when(moment) }}\n"),
        ("html", "<p>{{ title }}, {{ day(moment) }}</p>"),
    )
}
#: 23:30 in Vienna, 17:30 in New York: inside and outside quiet hours of 22:00-07:00.
NOW = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
CONTEXT = {"title": "Atelier <b>7</b>", "moment": datetime(2026, 12, 1, 17, 30, tzinfo=UTC)}


def _files(locale: str) -> list[dict]:
    return [{"filename": f"{locale}.ics", "content_type": "text/calendar", "text": locale}]


@pytest.fixture(autouse=True)
def own_kinds(app, monkeypatch):
    for kind in KINDS:
        if kind.name not in kinds.KINDS:
            kinds.register(kind)
    loader = ChoiceLoader([DictLoader(TEMPLATES), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)
    with app.app_context():
        yield


def _device(session, user, n: int) -> None:
    session.add(
        PushDevice(
            user_id=user.id,
            platform="fcm",
            address=f"token-{user.id}-{n}",
            address_hash=f"one-{user.id}-{n}",
        )
    )


@pytest.fixture
def people(db_session, lyon, vienna, make_user) -> dict:
    """People whose settings change what they are sent."""
    plain = make_user(lyon)
    _device(db_session, plain, 1)
    _device(db_session, plain, 2)
    quiet = make_user(vienna, locale="en")
    _device(db_session, quiet, 1)
    db_session.add(NotificationSettings(user_id=quiet.id, quiet_start=time(22), quiet_end=time(7)))
    abroad = make_user(vienna)
    _device(db_session, abroad, 1)
    db_session.add(
        NotificationSettings(
            user_id=abroad.id,
            timezone="America/New_York",
            quiet_start=time(22),
            quiet_end=time(7),
        )
    )
    chosen = make_user(lyon)
    _device(db_session, chosen, 1)
    db_session.add_all(
        [
            NotificationPreference(
                user_id=chosen.id, kind=NORMAL, inbox=True, push=False, email=EmailMode.OFF
            ),
            NotificationPreference(
                user_id=chosen.id, kind=LOW, inbox=False, push=True, email=EmailMode.DAILY
            ),
            NotificationPreference(
                user_id=chosen.id, kind=CODE, inbox=False, push=False, email=EmailMode.OFF
            ),
        ]
    )
    paused = make_user(lyon)
    db_session.add(NotificationSettings(user_id=paused.id, email_paused_at=utcnow()))
    unverified = make_user(lyon, verified=False)
    db_session.flush()
    return {
        "plain": plain,
        "quiet": quiet,
        "abroad": abroad,
        "chosen": chosen,
        "paused": paused,
        "unverified": unverified,
    }


def _told(session, person, key: str):
    """What a person was told under ``key``: the notification and its deliveries."""
    notification = session.scalar(
        sa.select(Notification).where(
            Notification.user_id == person.id, Notification.dedupe_key == key
        )
    )
    if notification is None:
        return None
    deliveries = session.execute(
        sa.select(
            Delivery.channel,
            Delivery.device_id,
            Delivery.status,
            Delivery.due_at,
            Delivery.attempts,
        )
        .where(Delivery.notification_id == notification.id)
        .order_by(Delivery.channel, Delivery.device_id)
    ).all()
    kept = (
        "user_id",
        "city_id",
        "kind",
        "locale",
        "subject",
        "body_text",
        "body_html",
        "data",
        "attachments",
        "created_at",
        "inbox_at",
    )
    return {name: getattr(notification, name) for name in kept}, deliveries


def test_one_person_is_told_exactly_as_notify_tells_them(db_session, people):
    for name, person in people.items():
        for kind in (NORMAL, LOW, CODE):
            options = {"data": {"workshop_id": 7}, "now": NOW, "attachments": _files}
            a, b, c = (f"{kind}:{n}" for n in "abc")
            by_notify = notify(db_session, [person], kind, CONTEXT, dedupe_key=a, **options)
            by_one = notify_one(db_session, person.id, kind, CONTEXT, dedupe_key=b, **options)
            assert (by_notify, by_one) == (1, 1), (name, kind)
            told = _told(db_session, person, a)
            assert told is not None and _told(db_session, person, b) == told, (name, kind)
            read = addressee(db_session, person.id, kind)
            assert notify_one(db_session, read, kind, CONTEXT, dedupe_key=c, **options) == 1
            assert _told(db_session, person, c) == told, (name, kind)


def test_the_choices_and_devices_are_those_notify_reads(db_session, people):
    plain, chosen = people["plain"], people["chosen"]
    assert addressee(db_session, plain.id, NORMAL).devices == tuple(
        db_session.scalars(
            sa.select(PushDevice.id).where(PushDevice.user_id == plain.id).order_by(PushDevice.id)
        )
    )
    mine = addressee(db_session, chosen.id, LOW)
    assert (mine.choice.inbox, mine.choice.push, mine.choice.email) == (False, True, "daily")
    # A code goes by email whatever the settings, and never to a device.
    code = addressee(db_session, chosen.id, CODE)
    assert (code.choice.email, code.devices) == (EmailMode.IMMEDIATE, ())


def test_told_once_under_a_key_whichever_told_first(db_session, people):
    person = people["plain"]
    assert notify(db_session, [person], NORMAL, CONTEXT, dedupe_key="k") == 1
    assert notify_one(db_session, person.id, NORMAL, CONTEXT, dedupe_key="k") == 0
    assert notify_one(db_session, person.id, NORMAL, CONTEXT, dedupe_key="m") == 1
    assert notify_one(db_session, person.id, NORMAL, CONTEXT, dedupe_key="m") == 0
    assert notify(db_session, [person], NORMAL, CONTEXT, dedupe_key="m") == 0
    # Without a key, each call tells again.
    assert notify_one(db_session, person.id, NORMAL, CONTEXT) == 1
    assert notify_one(db_session, person.id, NORMAL, CONTEXT) == 1
    counted = db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.user_id == person.id)
    )
    deliveries = db_session.scalar(
        sa.select(sa.func.count(Delivery.id))
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.user_id == person.id)
    )
    assert (counted, deliveries) == (4, 4 * 4)  # inbox, email and two devices each


def test_a_disabled_or_unknown_account_is_told_nothing(db_session, people):
    person = people["plain"]
    person.disabled_at = utcnow()
    db_session.flush()
    assert addressee(db_session, person.id, NORMAL) is None
    assert notify_one(db_session, person.id, NORMAL, CONTEXT) == 0
    assert notify_one(db_session, None, NORMAL, CONTEXT) == 0
    assert addressee(db_session, 2**31 - 1, NORMAL) is None
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_one_statement_to_read_the_person_and_two_to_tell_them(db_session, db_connection, people):
    person = people["plain"]
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        if re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE):
            seen.append(statement.split()[0].upper())

    sa.event.listen(db_connection, "before_cursor_execute", record)
    try:
        read = addressee(db_session, person.id, NORMAL)
        assert seen == ["SELECT"]
        notify_one(db_session, read, NORMAL, CONTEXT, dedupe_key="k")
        assert seen == ["SELECT", "INSERT", "INSERT"]
        notify_one(db_session, read, NORMAL, CONTEXT, dedupe_key="k")  # told already
        assert seen == ["SELECT", "INSERT", "INSERT", "INSERT"]
    finally:
        sa.event.remove(db_connection, "before_cursor_execute", record)


def test_a_person_read_for_another_kind_is_told_by_their_choice_for_this_one(db_session, people):
    chosen = people["chosen"]
    read = addressee(db_session, chosen.id, NORMAL)
    assert notify_one(db_session, read, LOW, CONTEXT, dedupe_key="x", now=NOW) == 1
    assert notify(db_session, [chosen], LOW, CONTEXT, dedupe_key="y", now=NOW) == 1
    assert _told(db_session, chosen, "x") == _told(db_session, chosen, "y")
