"""The scheduler process: APScheduler with a database job store, led by one process at a time.

Every copy competes for a lease row; the holder runs the jobs and renews the lease, the others
wait. A leader that dies stops renewing, and another takes over when the lease runs out.
"""

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import jobs
from app.db import utcnow, write_intent
from app.extensions import db
from app.models import SchedulerLease
from energy.feedback.jobs import give_feedback
from energy.jobs import roll_up_readings
from energy.providers.jobs import refresh_connections
from ideas.jobs import switch_board_phases
from notifications.digest import send_digests
from privacy.jobs import privacy_exports
from privacy.retention import run_retention
from research.jobs import research_exports
from surveys.jobs import survey_schedule
from updates.jobs import publish_due
from workshops.jobs import workshop_schedule

log = logging.getLogger("livinglab.scheduler")

LEASE = "scheduler"
JOBSTORE_TABLE = "apscheduler_jobs"

#: name → (function taking the session, APScheduler trigger arguments)
JOBS: dict[str, tuple[Callable[[Session], object], dict]] = {
    "notifications.deliver": (jobs.deliver_outbox, {"trigger": "interval", "seconds": 5}),
    "updates.publish": (publish_due, {"trigger": "interval", "seconds": 30}),
    # How late after 08:00 local time a digest may leave.
    "notifications.digest": (send_digests, {"trigger": "interval", "minutes": 1}),
    # Retention (privacy/retention.py): hourly, as the purge it replaced, so one-time codes go
    # within the hour of expiring; a run that finds nothing costs a few indexed queries.
    "privacy.retention": (run_retention, {"trigger": "interval", "hours": 1}),
    "surveys.schedule": (survey_schedule, {"trigger": "interval", "minutes": 1}),
    "ideas.phases": (switch_board_phases, {"trigger": "interval", "minutes": 1}),
    "workshops.schedule": (workshop_schedule, {"trigger": "interval", "minutes": 1}),
    # Raw meter readings past ENERGY_RAW_DAYS become daily ones.
    "energy.retention": (roll_up_readings, {"trigger": "interval", "days": 1}),
    # Each week's feedback once the week has ended on the city's clock, and its notification.
    "energy.feedback": (give_feedback, {"trigger": "interval", "hours": 1}),
    # Meters fed by a provider: each refreshed once a day, a new one within the hour.
    "energy.providers": (refresh_connections, {"trigger": "interval", "hours": 1}),
    # Residents' copies of their data: built within a minute, erased when expired.
    "privacy.exports": (privacy_exports, {"trigger": "interval", "minutes": 1}),
    # Researchers' exports: the oldest request built each minute, expired files erased.
    "research.exports": (research_exports, {"trigger": "interval", "minutes": 1}),
}

#: The app of this scheduler process, for jobs the job store calls by reference.
_app: Flask | None = None


def run_job(name: str) -> None:
    """Entry point the job store keeps a reference to; runs one job in an app context."""
    function, _trigger = JOBS[name]
    write_intent.set(True)  # jobs read, then write
    with _app.app_context():
        try:
            function(db.session)
        except Exception:
            db.session.rollback()
            log.exception("job failed", extra={"job": name})
            raise
        finally:
            db.session.remove()


def acquire_lease(
    session: Session, holder: str, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Take or renew the lease; True when ``holder`` leads until ``now + ttl``."""
    now = now or utcnow()
    renewed = session.execute(
        sa.update(SchedulerLease)
        .where(
            SchedulerLease.name == LEASE,
            sa.or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
    ).rowcount
    if renewed:
        session.commit()
        return True
    try:
        session.add(SchedulerLease(name=LEASE, holder=holder, expires_at=now + ttl))
        session.commit()
    except IntegrityError:
        session.rollback()  # another process created the row first
        return False
    return True


def release_lease(session: Session, holder: str) -> None:
    session.execute(
        sa.update(SchedulerLease)
        .where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
    )
    session.commit()


def _install_jobs(scheduler: BackgroundScheduler) -> None:
    # A job renamed or retired stays in the database job store: removed, or it would fail.
    for stored in scheduler.get_jobs():
        if stored.id not in JOBS:
            scheduler.remove_job(stored.id)
    for name, (_function, trigger) in JOBS.items():
        scheduler.add_job(
            "app.scheduler:run_job",
            args=[name],
            id=name,
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
            next_run_time=utcnow(),  # a new leader catches up at once
            **trigger,
        )


def run(app: Flask, stop: threading.Event, lease_seconds: int = 30) -> None:
    """Compete for the lease until ``stop`` is set; run the jobs while leading."""
    global _app
    _app = app
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    ttl = timedelta(seconds=lease_seconds)
    with app.app_context():
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOBSTORE_TABLE)},
            timezone=UTC,
        )
    leading = False
    log.info("scheduler started", extra={"holder": holder})
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    got = acquire_lease(db.session, holder, ttl)
                except sa.exc.OperationalError:
                    db.session.rollback()
                    got = False  # database busy or gone: lead again once it answers
                finally:
                    db.session.remove()
            if got and not leading:
                # Said before the jobs are installed: their first runs start at once, and
                # on SQLite installing a dozen of them may wait for those runs' writes.
                leading = True
                log.info("leading", extra={"holder": holder})
                if scheduler.running:
                    scheduler.resume()
                else:
                    scheduler.start()
                _install_jobs(scheduler)
            elif not got and leading:
                scheduler.pause()
                leading = False
                log.info("lost the lease", extra={"holder": holder})
            stop.wait(lease_seconds / 3)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        if leading:
            with app.app_context():
                release_lease(db.session, holder)
                db.session.remove()
        log.info("scheduler stopped", extra={"holder": holder})
