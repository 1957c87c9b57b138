"""notify() records rows in the caller's transaction; the outbox worker delivers each row once.

The channels here are recorders standing in for SMTP and push providers, whose own tests talk
to real servers (test_email.py, test_push.py); these tests are about claiming, retrying and
exactly-once delivery.
"""

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.numbers import format_decimal
from jinja2 import ChoiceLoader, FileSystemLoader

from app.db import utcnow, write_intent
from app.models import User
from notifications import delivery, kinds
from notifications.channels import Gone, Permanent, Temporary
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    EmailMode,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushDevice,
)
from notifications.service import notify
from tests.conftest import city_with_people, session_of

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PING = "test.ping"


def _register_ping():
    if PING not in kinds.KINDS:
        kinds.register(kinds.Kind(PING, "Ping", kinds.Priority.NORMAL))


@pytest.fixture(autouse=True)
def ping(app, monkeypatch):
    """A kind of our own, with templates under tests/notifications/templates."""
    _register_ping()
    loader = ChoiceLoader([FileSystemLoader(HERE / "templates"), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)


class Recorder:
    """A channel that remembers what it sent, or fails as told."""

    def __init__(self):
        self.sent: list[int] = []
        self.failures: dict[int, Exception] = {}
        self.lock = threading.Lock()

    def send(self, item: Delivery) -> None:
        if item.id in self.failures:
            raise self.failures[item.id]
        with self.lock:
            self.sent.append(item.id)


@pytest.fixture
def recorder(monkeypatch):
    channel = Recorder()

    @contextmanager
    def opener(_app):
        yield channel

    monkeypatch.setattr(delivery, "_openers", lambda: {Channel.EMAIL: opener, Channel.PUSH: opener})
    return channel


def _device(session, user, n=1):
    device = PushDevice(
        user_id=user.id,
        platform="fcm",
        address=f"token-{user.id}-{n}",
        address_hash=f"{user.id}{n}",
    )
    session.add(device)
    session.flush()
    return device


def _fresh(session, row):
    """The row as the database has it now (workers commit in sessions of their own)."""
    return session.get(type(row), sa.inspect(row).identity, populate_existing=True)


def _deliveries(session, **where):
    query = sa.select(Delivery).order_by(Delivery.id)
    for name, value in where.items():
        query = query.where(getattr(Delivery, name) == value)
    return session.scalars(query).all()


# --- recording --------------------------------------------------------------------------------


def test_notify_records_one_notification_per_person_in_their_language(
    app, db_session, lyon, vienna, make_user, translate
):
    marie = make_user(lyon)  # follows her city's French
    hans = make_user(vienna, locale="de")
    jo = make_user(lyon, locale="en")
    moment = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    with app.app_context():
        count = notify(db_session, [marie, hans, jo], PING, {"amount": 1234.5, "moment": moment})
        db_session.commit()
    assert count == 3
    told = {n.user_id: n for n in db_session.scalars(sa.select(Notification))}
    assert told[marie.id].locale == "fr"
    assert (
        told[marie.id].subject
        == f"{translate('fr', 'Sign in')}: {format_decimal(1234.5, locale='fr')}"
    )
    assert "18:30" in told[marie.id].body_text  # Paris time
    assert told[hans.id].subject == f"{translate('de', 'Sign in')}: 1.234,5"
    assert "18:30" in told[hans.id].body_text  # Vienna time
    assert told[jo.id].subject == "Sign in: 1,234.5"
    assert all(n.inbox_at is None for n in told.values())  # not delivered yet


def test_html_bodies_escape_what_they_are_given(app, db_session, lyon, make_user):
    user = make_user(lyon)
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1, "name": "<script>x</script>"})
        db_session.commit()
    html = db_session.scalar(sa.select(Notification.body_html))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_deliveries_follow_each_persons_choices(app, db_session, lyon, make_user):
    default = make_user(lyon)
    _device(db_session, default, 1)
    _device(db_session, default, 2)
    quiet = make_user(lyon)
    _device(db_session, quiet)
    db_session.add(
        NotificationPreference(
            user_id=quiet.id, kind=PING, inbox=True, push=False, email=EmailMode.OFF
        )
    )
    unverified = make_user(lyon, verified=False)
    disabled = make_user(lyon)
    disabled.disabled_at = utcnow()
    db_session.flush()
    with app.app_context():
        assert notify(db_session, [default, quiet, unverified, disabled], PING, {"amount": 1}) == 3
        db_session.commit()
    channels = Counter(
        (d.notification.user_id, d.channel) for d in db_session.scalars(sa.select(Delivery))
    )
    assert channels == {
        (default.id, "inbox"): 1,
        (default.id, "email"): 1,
        (default.id, "push"): 2,  # one per device
        (quiet.id, "inbox"): 1,
        (unverified.id, "inbox"): 1,  # no email to an address nobody confirmed
    }


def test_push_waits_for_the_end_of_quiet_hours(app, db_session, vienna, make_user):
    user = make_user(vienna)
    _device(db_session, user)
    db_session.add(
        NotificationSettings(
            user_id=user.id,
            quiet_start=datetime.strptime("22:00", "%H:%M").time(),
            quiet_end=datetime.strptime("07:00", "%H:%M").time(),
        )
    )
    db_session.flush()
    late_evening = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # 23:30 in Vienna
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1}, now=late_evening)
        db_session.commit()
    push = _deliveries(db_session, channel="push")[0]
    assert push.due_at == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 07:00 in Vienna
    assert _deliveries(db_session, channel="inbox")[0].due_at == late_evening


def test_the_same_key_tells_nobody_twice(app, db_session, lyon, make_user):
    users = [make_user(lyon) for _ in range(3)]
    with app.app_context():
        assert notify(db_session, users[:2], PING, {"amount": 1}, dedupe_key="k") == 2
        db_session.commit()
        assert notify(db_session, users, PING, {"amount": 1}, dedupe_key="k") == 1
        db_session.commit()
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == 3


def test_a_whole_city_by_query(app, db_session, lyon, vienna, make_user):
    for _ in range(3):
        make_user(lyon)
    make_user(vienna)
    with app.app_context():
        told = notify(
            db_session, sa.select(User.id).where(User.city_id == lyon.id), PING, {"amount": 1}
        )
    assert told == 3


# --- delivering -------------------------------------------------------------------------------


def test_every_delivery_goes_out_once(app, db_session, lyon, make_user, recorder):
    users = [make_user(lyon) for _ in range(3)]
    for user in users:
        _device(db_session, user)
    with app.app_context():
        notify(db_session, users, PING, {"amount": 1})
        db_session.commit()
        assert delivery.deliver_due(db_session, batch=2) == 9
        assert delivery.deliver_due(db_session) == 0
    assert len(recorder.sent) == len(set(recorder.sent)) == 6  # emails and pushes
    assert all(d.status == "sent" and d.attempts == 1 for d in _deliveries(db_session))
    assert all(n.inbox_at is not None for n in db_session.scalars(sa.select(Notification)))
    assert all(d.last_success_at is not None for d in db_session.scalars(sa.select(PushDevice)))


def test_nothing_is_due_before_its_time(app, db_session, lyon, make_user, recorder):
    user = make_user(lyon)
    now = utcnow()
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1}, now=now + timedelta(hours=1))
        db_session.commit()
        assert delivery.deliver_due(db_session, now=now) == 0
        assert delivery.deliver_due(db_session, now=now + timedelta(hours=2)) == 2


def test_failures_back_off_then_become_dead_letters(app, db_session, lyon, make_user, recorder):
    user = make_user(lyon)
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1})
        db_session.commit()
        email = _deliveries(db_session, channel="email")[0]
        recorder.failures[email.id] = Temporary("421 try later")
        moment = utcnow()
        delays = []
        for _ in range(delivery.MAX_ATTEMPTS):
            delivery.deliver_due(db_session, now=moment)
            email = _fresh(db_session, email)
            if email.status == "pending":
                delays.append(email.due_at - moment)
                moment = email.due_at
    assert email.status == DeliveryStatus.DEAD and email.attempts == delivery.MAX_ATTEMPTS
    assert email.last_error == "421 try later"
    # Exponential with jitter: each wait within [half, all] of base * 2^(n-1), capped.
    for n, delay in enumerate(delays, start=1):
        ceiling = min(delivery.BACKOFF_BASE * 2 ** (n - 1), delivery.BACKOFF_CAP)
        assert ceiling / 2 <= delay <= ceiling
    assert recorder.sent == []


def test_a_provider_asking_to_wait_is_obeyed(app, db_session, lyon, make_user, recorder):
    user = make_user(lyon)
    _device(db_session, user)
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1})
        db_session.commit()
        push = _deliveries(db_session, channel="push")[0]
        recorder.failures[push.id] = Temporary("429", retry_after=3600)
        before = utcnow()
        delivery.deliver_due(db_session)
    push = _fresh(db_session, push)
    assert push.status == "pending" and push.attempts == 1
    assert push.due_at >= before + timedelta(seconds=3600)


def test_refused_for_good_is_dead_at_once_and_can_be_retried(
    app, db_session, lyon, make_user, recorder
):
    user = make_user(lyon)
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1})
        db_session.commit()
        email = _deliveries(db_session, channel="email")[0]
        recorder.failures[email.id] = Permanent("550 no such mailbox")
        delivery.deliver_due(db_session)
        email = _fresh(db_session, email)
        assert email.status == "dead" and email.attempts == 1
        del recorder.failures[email.id]
        assert delivery.retry_dead(db_session, [email.id]) == 1
        db_session.commit()
        delivery.deliver_due(db_session)
    email = _fresh(db_session, email)
    assert email.status == "sent" and recorder.sent == [email.id]


def test_a_gone_device_is_removed(app, db_session, lyon, make_user, recorder):
    user = make_user(lyon)
    _device(db_session, user)
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1})
        db_session.commit()
        push = _deliveries(db_session, channel="push")[0]
        recorder.failures[push.id] = Gone("410")
        delivery.deliver_due(db_session)
    push = _fresh(db_session, push)
    assert push.status == "cancelled" and push.device_id is None
    assert db_session.scalars(sa.select(PushDevice.id)).all() == []


def test_a_late_worker_cannot_overwrite_the_outcome_of_its_successor(
    app, db_session, lyon, make_user
):
    user = make_user(lyon)
    with app.app_context():
        notify(db_session, [user], PING, {"amount": 1})
        db_session.commit()
    now = utcnow()
    first = delivery.claim(db_session, now, 10, "slow")
    assert delivery.claim(db_session, now + timedelta(seconds=1), 10, "other") == []
    later = now + delivery.CLAIM_FOR + timedelta(seconds=1)
    assert delivery.claim(db_session, later, 10, "other") == first
    row = db_session.get(Delivery, first[0][0])
    assert not delivery._record(db_session, row, "slow", status=DeliveryStatus.SENT)
    assert delivery._record(db_session, row, "other", status=DeliveryStatus.SENT)


# --- real concurrency, on a committed database of its own -------------------------------------


@pytest.fixture
def own_app(committed_app):
    committed_app.jinja_env.loader = ChoiceLoader(
        [FileSystemLoader(HERE / "templates"), committed_app.jinja_env.loader]
    )
    return committed_app


def _people(app, count):
    """``count`` people with a phone each, told one ping (an inbox, email and push delivery)."""
    with session_of(app) as session:
        _city, users = city_with_people(session, count)
        for user in users:
            _device(session, user)
        notify(session, users, PING, {"amount": 1})
        session.commit()


def _run_worker(app, recorder, errors):
    write_intent.set(True)
    try:
        with session_of(app) as session:
            delivery.deliver_due(session, batch=7)
    except Exception as error:  # surfaced by the test
        errors.append(error)


def test_two_workers_at_once_send_each_delivery_exactly_once(own_app, recorder):
    app = own_app
    _people(app, 40)
    errors: list[Exception] = []
    workers = [threading.Thread(target=_run_worker, args=(app, recorder, errors)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert len(recorder.sent) == 80  # 40 emails + 40 pushes
    assert Counter(recorder.sent).most_common(1)[0][1] == 1
    with session_of(app) as session:
        statuses = Counter(session.scalars(sa.select(Delivery.status)))
    assert statuses == {"sent": 120}


STALLING_WORKER = """
import sys, time
from contextlib import contextmanager
from app.db import write_intent
from notifications import delivery, kinds
from tests.notifications.test_delivery import _register_ping
from tests.conftest import make_test_app

_register_ping()

class Stall:
    def send(self, item):
        print("sending", item.id, flush=True)
        time.sleep(600)

@contextmanager
def opener(_app):
    yield Stall()

delivery._openers = lambda: {"email": opener, "push": opener}
options = {"connect_args": {"options": sys.argv[2]}} if sys.argv[2] else {}
app = make_test_app(sys.argv[1], options)
write_intent.set(True)
with app.app_context():
    delivery.deliver_due(app.extensions["sqlalchemy"].session)
"""


def test_a_worker_killed_mid_batch_loses_nothing(own_app, recorder):
    app = own_app
    url, schema = app.config["SQLALCHEMY_DATABASE_URI"], app.config["TEST_SCHEMA"]
    _people(app, 5)
    worker = subprocess.Popen(
        [sys.executable, "-c", STALLING_WORKER, url, f"-csearch_path={schema}" if schema else ""],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = worker.stdout.readline()  # it has claimed its batch and is sending
        assert line.startswith("sending"), line
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        worker.stdout.close()
    write_intent.set(True)
    with session_of(app) as session:
        held = session.scalar(
            sa.select(sa.func.count(Delivery.id)).where(Delivery.claim_token.is_not(None))
        )
        assert held == 10  # 5 emails and 5 pushes, claimed by the dead worker
        # Before the claim lapses nobody takes them; afterwards, they all go out once.
        assert delivery.deliver_due(session) == 0
        later = utcnow() + delivery.CLAIM_FOR + timedelta(seconds=1)
        assert delivery.deliver_due(session, now=later) == 10
        statuses = Counter(session.scalars(sa.select(Delivery.status)))
    assert sorted(Counter(recorder.sent).values()) == [1] * 10
    assert statuses == {"sent": 15}
