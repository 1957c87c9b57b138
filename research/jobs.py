"""The scheduler's part: build the oldest requested export, record how it ended, tell the
requester, and erase files past their days.

A build is long, so it runs outside any write transaction: the export is claimed (RUNNING,
committed), built while only reading (one snapshot on PostgreSQL, so the queries of a dataset
agree with each other), then its outcome is written in a short transaction of its own. The
progress the console shows is written on a separate connection as the build goes. Several
schedulers may run: a claim and an outcome are conditional updates, so an export is built and
recorded once; one whose run died is taken again after ``STALE``.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow, write_intent
from notifications.service import notify_one
from research import service
from research.build import Outcome, build_export
from research.models import ResearchExport, ResearchStatus

log = logging.getLogger("livinglab.research")

#: A RUNNING export whose build started this long ago is taken to have died with its process.
STALE = timedelta(hours=1)
#: Progress is written at most this often (seconds) within one stage.
PROGRESS_EVERY = 1.0


class ProgressWriter:
    """Writes a build's stage and percentage where the console reads them, at once.

    On an engine, each write is a short transaction of its own, so it is seen while the build's
    reading transaction is still open. A session bound to one connection (a caller holding an
    outer transaction) has no other: the write goes through that connection.
    """

    def __init__(self, session: Session, export_id: int):
        self.export_id = export_id
        bind = session.get_bind()
        self.engine = bind if isinstance(bind, sa.Engine) else None
        self.connection = None if self.engine is not None else bind
        self.last: tuple[str, int] | None = None
        self.written_at = 0.0

    def __call__(self, stage: str, percent: int) -> None:
        percent = max(0, min(int(percent), 100))
        moment = time.monotonic()
        if self.last == (stage, percent):
            return
        if self.last and self.last[0] == stage and moment - self.written_at < PROGRESS_EVERY:
            return
        statement = (
            sa.update(ResearchExport)
            .where(ResearchExport.id == self.export_id)
            .values(stage=stage, progress=percent)
        )
        try:
            if self.engine is not None:
                token = write_intent.set(True)
                try:
                    with self.engine.begin() as connection:
                        connection.execute(statement)
                finally:
                    write_intent.reset(token)
            else:
                self.connection.execute(statement)
        except sa.exc.OperationalError:
            # Progress is for the eye only: a busy database must not fail the build.
            log.warning("progress not written", extra={"research_export_id": self.export_id})
            return
        self.last, self.written_at = (stage, percent), moment


def claim(session: Session, now: datetime) -> tuple[int, datetime] | None:
    """Take the oldest pending export (or one whose run died) and commit it RUNNING; returns
    its id and the claim's time, which the outcome must match."""
    candidate = session.execute(
        sa.select(ResearchExport.id, ResearchExport.status, ResearchExport.started_at)
        .where(
            sa.or_(
                ResearchExport.status == ResearchStatus.PENDING,
                sa.and_(
                    ResearchExport.status == ResearchStatus.RUNNING,
                    ResearchExport.started_at < now - STALE,
                ),
            )
        )
        .order_by(ResearchExport.requested_at, ResearchExport.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if candidate is None:
        session.commit()
        return None
    export_id, status, started_at = candidate
    same_start = (
        ResearchExport.started_at.is_(None)
        if started_at is None
        else ResearchExport.started_at == started_at
    )
    # Conditional: on SQLite FOR UPDATE means nothing, and another run may have claimed it.
    changed = session.execute(
        sa.update(ResearchExport)
        .where(ResearchExport.id == export_id, ResearchExport.status == status, same_start)
        .values(
            status=ResearchStatus.RUNNING,
            started_at=now,
            stage="reading",
            progress=0,
            error=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not changed:
        return None
    if status == ResearchStatus.RUNNING:
        log.warning("research export taken over", extra={"research_export_id": export_id})
    return export_id, now


@contextmanager
def reading(session: Session) -> Iterator[None]:
    """A transaction that only reads: no write lock taken at BEGIN on SQLite (other writers go
    on), and on PostgreSQL one snapshot for the whole build."""
    token = write_intent.set(False)
    try:
        bind = session.get_bind()
        if isinstance(bind, sa.Engine) and bind.dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield
    finally:
        write_intent.reset(token)


def finish(
    session: Session, export_id: int, claimed_at: datetime, outcome: Outcome, now: datetime
) -> bool:
    """Record a build's outcome and tell the requester; False (and the file erased) when the
    export was taken over by another run meanwhile, whose outcome stands instead."""
    days = current_app.config["RESEARCH_EXPORT_DAYS"]
    status = ResearchStatus.READY if outcome.passed else ResearchStatus.BLOCKED
    changed = session.execute(
        sa.update(ResearchExport)
        .where(
            ResearchExport.id == export_id,
            ResearchExport.status == ResearchStatus.RUNNING,
            ResearchExport.started_at == claimed_at,
        )
        .values(
            status=status,
            stage="done",
            progress=100,
            finished_at=now,
            expires_at=now + timedelta(days=days),
            file_name=outcome.file_name if outcome.passed else None,
            size_bytes=outcome.size_bytes if outcome.passed else None,
            file_sha256=outcome.sha256 if outcome.passed else None,
            report=outcome.report,
            error=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        service.erase_file(outcome.file_name)
        return False
    export = session.get(ResearchExport, export_id)
    session.refresh(export)
    if not outcome.passed:
        audit.record(
            session,
            None,
            "research.export.blocked",
            "research_export",
            export_id,
            city_id=export.city_id,
            details={"problems": outcome.problems[:50]},
            now=now,
        )
    if export.requested_by_id is not None:
        # No link in it: the requester signs in to the console to download.
        notify_one(
            session,
            export.requested_by_id,
            service.READY_KIND,
            {
                "export_id": export.id,
                "blocked": not outcome.passed,
                "expires_at": export.expires_at,
            },
            data={"research_export_id": export.id},
            dedupe_key=f"research-export:{export.id}:done",
            now=now,
        )
    session.flush()
    return True


def fail(session: Session, export_id: int, claimed_at: datetime, code: str, now: datetime) -> None:
    """Mark a build failed with a short code (never a message that could hold personal data)."""
    session.execute(
        sa.update(ResearchExport)
        .where(
            ResearchExport.id == export_id,
            ResearchExport.status == ResearchStatus.RUNNING,
            ResearchExport.started_at == claimed_at,
        )
        .values(status=ResearchStatus.FAILED, error=code[:100], finished_at=now)
        .execution_options(synchronize_session=False)
    )


def research_exports(session: Session, now: datetime | None = None) -> dict[str, int]:
    """One run: erase what expired, then build one export (the next run takes the next)."""
    now = now or utcnow()
    expired = service.expire(session, now)
    session.commit()
    claimed = claim(session, now)
    if claimed is None:
        return {"built": 0, "blocked": 0, "failed": 0, "expired": expired}
    export_id, claimed_at = claimed
    outcome = None
    try:
        with reading(session):
            export = session.get(ResearchExport, export_id)
            outcome = build_export(session, export, ProgressWriter(session, export_id), now)
        session.rollback()  # the build only read: end its snapshot before writing
        recorded = finish(session, export_id, claimed_at, outcome, now)
        session.commit()
    except Exception:
        session.rollback()
        if outcome is not None:
            service.erase_file(outcome.file_name)
        # The trace goes to the log; the export keeps a code, never the message.
        log.exception("research export failed", extra={"research_export_id": export_id})
        fail(session, export_id, claimed_at, "build-failed", now)
        session.commit()
        return {"built": 0, "blocked": 0, "failed": 1, "expired": expired}
    passed = recorded and outcome.passed
    blocked = recorded and not outcome.passed
    log.info(
        "research export built",
        extra={"research_export_id": export_id, "passed": passed, "recorded": recorded},
    )
    return {"built": int(passed), "blocked": int(blocked), "failed": 0, "expired": expired}
