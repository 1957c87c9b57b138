"""The scheduler: one leader at a time, jobs that are safe to run twice, an outbox that loses
nothing (the outbox worker itself: tests/notifications/test_delivery.py)."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from app import scheduler
from app.accounts import issue_token
from app.db import utcnow
from app.models import AccessToken, SchedulerLease, TokenKind
from notifications.models import Delivery
from notifications.service import notify
from privacy.retention import run_retention
from tests.conftest import city_with_people, session_of

ROOT = Path(__file__).resolve().parent.parent


def queue(session, n=3):
    """Mails to ``n`` people, recorded as the product records them."""
    _city, people = city_with_people(session, n)
    notify(session, people, "account.exists", {})


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


def test_retention_removes_only_what_has_expired(app, db_session, lyon, make_user):
    user = make_user(lyon)
    now = utcnow()
    issue_token(db_session, user, TokenKind.API, timedelta(days=1), "live", now)
    issue_token(db_session, user, TokenKind.API, timedelta(days=1), "old", now - timedelta(days=90))
    with app.app_context():
        run = run_retention(db_session, now)
    assert run.counts["access_tokens"] == 1
    assert "privacy.retention" in scheduler.JOBS
    assert db_session.scalars(sa.select(AccessToken.label)).all() == ["live"]


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


def test_two_scheduler_processes_deliver_every_mail_exactly_once(committed_app, tmp_path):
    app = committed_app
    url, schema = app.config["SQLALCHEMY_DATABASE_URI"], app.config["TEST_SCHEMA"]
    with session_of(app) as session:
        queue(session, 5)
        session.commit()
    logs = [(tmp_path / f"s{i}.log").open("w") for i in range(2)]
    processes = [_start(url, schema, log) for log in logs]
    try:
        deadline = time.monotonic() + 60
        unsent = None
        while time.monotonic() < deadline:
            with session_of(app) as session:
                unsent = session.scalar(
                    sa.select(sa.func.count(Delivery.id)).where(Delivery.sent_at.is_(None))
                )
            if unsent == 0:
                break
            time.sleep(0.5)
        assert unsent == 0
        with session_of(app) as session:
            attempts = session.scalars(sa.select(Delivery.attempts)).all()
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
