"""The scheduler: one leader at a time, jobs that are safe to run twice, mail that is never lost."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import scheduler
from app.accounts import issue_token
from app.db import utcnow
from app.jobs import deliver_mail, purge_expired
from app.mail import CLAIM_FOR, MAX_ATTEMPTS, claim_due_mails
from app.models import AccessToken, OutgoingMail, SchedulerLease, TokenKind
from tests.conftest import drop_schema, make_test_app, new_database

ROOT = Path(__file__).resolve().parent.parent


def queue(session, n=3):
    for i in range(n):
        session.add(OutgoingMail(to_address=f"p{i}@example.org", subject="Hi", body="Body"))
    session.flush()


def test_only_one_holder_leads_until_the_lease_runs_out(db_session):
    ttl = timedelta(seconds=30)
    now = utcnow()
    assert scheduler.acquire_lease(db_session, "a", ttl, now)
    assert not scheduler.acquire_lease(db_session, "b", ttl, now + timedelta(seconds=5))
    assert scheduler.acquire_lease(db_session, "a", ttl, now + timedelta(seconds=10))  # renews
    assert not scheduler.acquire_lease(db_session, "b", ttl, now + timedelta(seconds=35))
    # a stops renewing: once its lease lapses, b takes over and a no longer leads.
    assert scheduler.acquire_lease(db_session, "b", ttl, now + timedelta(seconds=41))
    assert not scheduler.acquire_lease(db_session, "a", ttl, now + timedelta(seconds=42))
    assert db_session.get(SchedulerLease, scheduler.LEASE).holder == "b"


def test_released_lease_is_taken_at_once(db_session):
    ttl = timedelta(seconds=30)
    assert scheduler.acquire_lease(db_session, "a", ttl)
    scheduler.release_lease(db_session, "a")
    assert scheduler.acquire_lease(db_session, "b", ttl)


def test_delivery_sends_each_mail_once(app, db_session, caplog):
    queue(db_session)
    with app.app_context():
        assert deliver_mail(db_session) == 3
        assert deliver_mail(db_session) == 0
    sent = db_session.scalars(sa.select(OutgoingMail)).all()
    assert all(m.sent_at is not None and m.attempts == 1 for m in sent)
    # The log names the mail, never its body (codes live there).
    assert not any("Body" in str(r.__dict__) for r in caplog.records)


def test_a_crashed_worker_loses_no_mail(db_session):
    queue(db_session, 2)
    now = utcnow()
    claimed = claim_due_mails(db_session, now)
    assert len(claimed) == 2
    # Another worker sees nothing while the claim holds...
    assert claim_due_mails(db_session, now + timedelta(seconds=1)) == []
    # ...and everything once the crashed worker's claim lapses.
    assert len(claim_due_mails(db_session, now + CLAIM_FOR + timedelta(seconds=1))) == 2


def test_failing_sink_is_retried_then_given_up(app, db_session):
    queue(db_session, 1)
    app.config["MAIL_SINK"] = "nowhere"
    try:
        with app.app_context():
            for _ in range(MAX_ATTEMPTS + 2):
                deliver_mail(db_session, now=utcnow() + CLAIM_FOR * 2)
    finally:
        app.config["MAIL_SINK"] = "log"
    mail = db_session.scalar(sa.select(OutgoingMail))
    assert mail.sent_at is None and mail.attempts == MAX_ATTEMPTS
    assert "nowhere" in mail.last_error


def test_purge_removes_only_what_has_expired(db_session, lyon, make_user):
    user = make_user(lyon)
    now = utcnow()
    issue_token(db_session, user, TokenKind.API, timedelta(days=1), "live", now)
    issue_token(db_session, user, TokenKind.API, timedelta(days=1), "old", now - timedelta(days=90))
    counts = purge_expired(db_session, now)
    assert counts["access_tokens"] == 1
    assert db_session.scalars(sa.select(AccessToken.label)).all() == ["live"]


@pytest.fixture
def scheduler_database(tmp_path):
    """A database of its own, committed for real, shared with scheduler subprocesses."""
    url, options, schema = new_database(tmp_path, "sched")
    app = make_test_app(url, options)
    with app.app_context():
        flask_migrate.upgrade()
        app.extensions["sqlalchemy"].engine.dispose()
    # The suite's db.session is bound to the main test database: use an engine of our own.
    engine = sa.create_engine(url, **options)
    yield engine, url, schema
    engine.dispose()
    if schema:
        drop_schema(url, schema)


def _start(url, schema, log):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "x",
        "MAIL_SINK": "log",
        "FLASK_APP": "app.factory",
    }
    if schema:
        env["PGOPTIONS"] = f"-csearch_path={schema}"
    return subprocess.Popen(
        # Renewed every 5 s: only a real 15 s stall hands the lead over (a legitimate failover,
        # covered by the lease tests above); here one process must lead throughout.
        [sys.executable, "-m", "flask", "scheduler", "--lease-seconds", "15"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_two_scheduler_processes_deliver_every_mail_exactly_once(scheduler_database, tmp_path):
    engine, url, schema = scheduler_database
    with Session(engine) as session:
        queue(session, 5)
        session.commit()
    logs = [(tmp_path / f"s{i}.log").open("w") for i in range(2)]
    processes = [_start(url, schema, log) for log in logs]
    try:
        deadline = time.monotonic() + 60
        unsent = None
        while time.monotonic() < deadline:
            with Session(engine) as session:
                unsent = session.scalar(
                    sa.select(sa.func.count(OutgoingMail.id)).where(OutgoingMail.sent_at.is_(None))
                )
            if unsent == 0:
                break
            time.sleep(0.5)
        assert unsent == 0
        with Session(engine) as session:
            attempts = session.scalars(sa.select(OutgoingMail.attempts)).all()
            holders = session.scalars(sa.select(SchedulerLease.holder)).all()
        assert attempts == [1] * 5
        assert len(holders) == 1
        # Both must be up (signal handlers installed) before being asked to stop.
        while time.monotonic() < deadline and not all(
            "scheduler started" in (tmp_path / f"s{i}.log").read_text() for i in range(2)
        ):
            time.sleep(0.2)
        # While both run, one leads. (On shutdown the leader hands its lease over at once,
        # so the other may lead for its last moment: counted before stopping them.)
        leading = "".join((tmp_path / f"s{i}.log").read_text() for i in range(2))
        assert leading.count('"message": "leading"') == 1
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        exit_codes = [process.wait(timeout=30) for process in processes]
        for log in logs:
            log.close()
    assert exit_codes == [0, 0]
