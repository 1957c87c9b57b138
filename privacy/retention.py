"""Retention: how long each kind of data is kept, and the run that removes what has passed.

``POLICIES`` is the one place that says, for every kind of data, how long it is kept and what
happens then. Periods are in days, set per kind by ``RETENTION_<NAME>_DAYS`` and never below
a minimum (app/config.py, ``RETENTION_PERIODS``). The scheduler runs them (``privacy.retention``)
and ``flask privacy purge`` runs them at once; each run leaves a ``PurgeRun`` row, the report
the admins read in the console.

Decisions:
- A policy removes at most a batch of rows per transaction (``BATCH``; accounts fewer), and
  runs batch after batch until nothing is left (at most ``MAX_BATCHES``; the rest waits for
  the next run), so a run never holds a long lock on a busy table. The DELETE checks each
  row against the policy again, so a row that stopped matching between choosing the batch
  and deleting it (a draft submitted meanwhile) stays.
- A policy that fails is rolled back (batches it committed before stay done), recorded in
  the run's ``failures`` with the exception's class name (never its message, which may
  hold data), logged with its trace; the other policies still run.
- A run removes only what has passed its cut-off, so a second run right after removes 0.
- Unconfirmed accounts are deleted as a person's deletion deletes them (privacy/deletion.py,
  audited as ``account.delete``), a hundred to a transaction.
- Research export files and raw meter readings are removed by jobs of their own
  (``research.exports``, ``energy.retention``); they are listed here (``Policy.setting``,
  no ``purge``) so the admins see every period in one table, and are never run twice.
"""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString
from sqlalchemy.orm import Session

from app.audit import AuditEntry
from app.config import RETENTION_PERIODS
from app.db import Base, utcnow
from app.models import AccessToken, EmailCode, IdempotencyRecord, RoleGrant, User
from energy.models import FeedbackReport
from i18n import _l
from notifications.models import Delivery, DeliveryStatus, Notification
from privacy.deletion import delete_account
from privacy.models import DataExport, ExportStatus, PurgeRun
from surveys.models import ResponseAnswer, ResponseStatus, SurveyResponse

log = logging.getLogger("livinglab.privacy")

#: Rows deleted per transaction.
BATCH = 5000
#: Accounts deleted per transaction: each takes its rows in every domain with it.
ACCOUNTS_PER_BATCH = 100
#: Batches per policy and run at most; what is left waits for the next run.
MAX_BATCHES = 200
#: Audit entries of the last year stay, whatever the setting says.
AUDIT_FLOOR = timedelta(days=365)

#: (session, cut-off, now) → rows removed in one batch (0 when nothing is left).
Purge = Callable[[Session, datetime, datetime], int]


@dataclass(frozen=True)
class Policy:
    """How long one kind of data is kept, and what happens after."""

    name: str
    #: The kind of data, as the admins' report names it.
    label: LazyString
    #: What happens once the period has passed, in a sentence.
    what: LazyString
    #: Removes one batch; None for a period another job keeps (see ``setting``).
    purge: Purge | None = None
    #: For a period another job keeps: the setting (in days) that job reads, and the job.
    setting: str | None = None
    job: str | None = None

    @property
    def minimum(self) -> int | None:
        return RETENTION_PERIODS[self.name][1] if self.setting is None else None

    def days(self, config: Mapping) -> int:
        """The period in force: the setting, never below the policy's minimum."""
        if self.setting is not None:
            return int(config[self.setting])
        default, minimum = RETENTION_PERIODS[self.name]
        return max(int(config.get("RETENTION_DAYS", {}).get(self.name, default)), minimum)


def _ids(session: Session, model: type[Base], criteria: list, size: int | None = None) -> list[int]:
    query = sa.select(model.id).where(*criteria).order_by(model.id).limit(size or BATCH)
    return list(session.scalars(query))


def _delete_batch(session: Session, model: type[Base], criteria: list) -> int:
    """Delete up to ``BATCH`` rows matching ``criteria``; returns how many went."""
    ids = _ids(session, model, criteria)
    if not ids:
        return 0
    # The criteria again: a row that stopped matching since it was chosen stays.
    return session.execute(sa.delete(model).where(model.id.in_(ids), *criteria)).rowcount


def purge_access_tokens(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(
        session,
        AccessToken,
        [sa.or_(AccessToken.expires_at < cutoff, AccessToken.revoked_at < cutoff)],
    )


def purge_email_codes(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(session, EmailCode, [EmailCode.expires_at < cutoff])


def purge_idempotency_records(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(session, IdempotencyRecord, [IdempotencyRecord.created_at < cutoff])


#: Deliveries that will not be tried again.
FINISHED = (DeliveryStatus.SENT, DeliveryStatus.DIGESTED, DeliveryStatus.CANCELLED)


def purge_deliveries(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(
        session, Delivery, [Delivery.status.in_(FINISHED), Delivery.created_at < cutoff]
    )


def purge_unlisted_notifications(session: Session, cutoff: datetime, now: datetime) -> int:
    # Codes and digests hold one-time codes: gone once every delivery of theirs is finished.
    undelivered = sa.select(Delivery.id).where(
        Delivery.notification_id == Notification.id, Delivery.status.not_in(FINISHED)
    )
    return _delete_batch(
        session,
        Notification,
        [
            Notification.inbox_at.is_(None),
            Notification.created_at < cutoff,
            ~sa.exists(undelivered),
        ],
    )


def purge_inbox(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(session, Notification, [Notification.created_at < cutoff])


def purge_survey_drafts(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(
        session,
        SurveyResponse,
        [SurveyResponse.status == ResponseStatus.DRAFT, SurveyResponse.updated_at < cutoff],
    )


def purge_withdrawn_responses(session: Session, cutoff: datetime, now: datetime) -> int:
    criteria = [
        SurveyResponse.status == ResponseStatus.WITHDRAWN,
        SurveyResponse.withdrawn_at < cutoff,
    ]
    ids = _ids(session, SurveyResponse, criteria)
    if not ids:
        return 0
    # Withdrawing took the answers already; any left go with their response all the same.
    session.execute(sa.delete(ResponseAnswer).where(ResponseAnswer.response_id.in_(ids)))
    return session.execute(
        sa.delete(SurveyResponse).where(SurveyResponse.id.in_(ids), *criteria)
    ).rowcount


def purge_personal_exports(session: Session, cutoff: datetime, now: datetime) -> int:
    # Kept a while after the last thing that happened to it, so the person still sees it.
    ended = sa.func.coalesce(
        DataExport.downloaded_at, DataExport.expires_at, DataExport.requested_at
    )
    return _delete_batch(
        session,
        DataExport,
        [
            DataExport.status.in_(
                (ExportStatus.DOWNLOADED, ExportStatus.EXPIRED, ExportStatus.FAILED)
            ),
            DataExport.content.is_(None),
            ended < cutoff,
        ],
    )


def purge_audit_log(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(
        session, AuditEntry, [AuditEntry.created_at < min(cutoff, now - AUDIT_FLOOR)]
    )


def purge_purge_runs(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(session, PurgeRun, [PurgeRun.started_at < cutoff])


def purge_unverified_accounts(session: Session, cutoff: datetime, now: datetime) -> int:
    # Never a platform admin's or a role holder's: someone gave them a job, a person decides.
    criteria = [
        User.email_verified_at.is_(None),
        User.created_at < cutoff,
        User.is_platform_admin.is_(False),
        ~sa.exists(sa.select(RoleGrant.id).where(RoleGrant.user_id == User.id)),
    ]
    deleted = 0
    for user_id in _ids(session, User, criteria, size=ACCOUNTS_PER_BATCH):
        # Locked and checked again: an address confirmed a moment ago keeps its account.
        locked = sa.select(User.id).where(User.id == user_id, *criteria).with_for_update()
        if session.scalar(locked) is None:
            continue
        # As the person deleting it would: everything of theirs goes, audited.
        delete_account(session, session.get(User, user_id), now)
        deleted += 1
    return deleted


def purge_energy_feedback(session: Session, cutoff: datetime, now: datetime) -> int:
    return _delete_batch(session, FeedbackReport, [FeedbackReport.ends_on < cutoff.date()])


#: Every kind of data with a period, in the order a run goes through them.
POLICIES: list[Policy] = [
    Policy(
        "access_tokens",
        _l("Sign-in tokens (app and console)"),
        _l("Deleted this long after they expired or were revoked."),
        purge_access_tokens,
    ),
    Policy(
        "email_codes",
        _l("Codes sent by e-mail (address confirmation, password reset)"),
        _l("Deleted this long after they expired."),
        purge_email_codes,
    ),
    Policy(
        "idempotency_records",
        _l("Answers kept for phones that send a request again"),
        _l("Deleted; a repeated request after that is treated as new."),
        purge_idempotency_records,
    ),
    Policy(
        "deliveries",
        _l("Deliveries of notifications (sent, digested or cancelled)"),
        _l("Deleted."),
        purge_deliveries,
    ),
    Policy(
        "unlisted_notifications",
        _l("Notifications outside the inbox (codes, digests)"),
        _l("Deleted once every delivery of theirs is finished."),
        purge_unlisted_notifications,
    ),
    Policy(
        "inbox",
        _l("Notifications in residents' inboxes"),
        _l("Deleted, with their deliveries."),
        purge_inbox,
    ),
    Policy(
        "survey_drafts",
        _l("Survey responses started but never submitted"),
        _l("Deleted this long after they were last changed."),
        purge_survey_drafts,
    ),
    Policy(
        "withdrawn_responses",
        _l("Survey responses withdrawn by their respondent"),
        _l("Deleted with their answers this long after the withdrawal."),
        purge_withdrawn_responses,
    ),
    Policy(
        "personal_exports",
        _l("Records of residents' copies of their data (the files are erased earlier)"),
        _l("Deleted this long after the copy was downloaded, expired or failed."),
        purge_personal_exports,
    ),
    Policy(
        "audit_log",
        _l("Audit log"),
        _l("Entries are deleted; those of the last 365 days always stay."),
        purge_audit_log,
    ),
    Policy(
        "purge_runs",
        _l("Reports of these retention runs"),
        _l("Deleted."),
        purge_purge_runs,
    ),
    Policy(
        "unverified_accounts",
        _l("Accounts whose e-mail address was never confirmed"),
        _l(
            "Deleted with everything that belongs to them, this long after sign-up; never "
            "an account holding a role."
        ),
        purge_unverified_accounts,
    ),
    Policy(
        "energy_feedback",
        _l("Energy feedback reports"),
        _l("Deleted this long after the end of the week or month they describe."),
        purge_energy_feedback,
    ),
    Policy(
        "research_exports",
        _l("Research export files"),
        _l("The file is erased; the request and its report stay."),
        setting="RESEARCH_EXPORT_DAYS",
        job="research.exports",
    ),
    Policy(
        "meter_readings",
        _l("Meter readings shorter than a day"),
        _l("Each day's readings are summed into one daily reading, and deleted."),
        setting="ENERGY_RAW_DAYS",
        job="energy.retention",
    ),
]


def run_retention(
    session: Session,
    now: datetime | None = None,
    trigger: str = "scheduler",
    policies: list[Policy] | None = None,
) -> PurgeRun:
    """Run every policy that purges, each in transactions of its own; returns the run's report
    (committed). ``trigger`` is ``scheduler`` or ``command``."""
    now = now or utcnow()
    began = time.monotonic()
    config = current_app.config
    counts: dict[str, int] = {}
    cutoffs: dict[str, str] = {}
    failures: dict[str, str] = {}
    for policy in policies if policies is not None else POLICIES:
        if policy.purge is None:
            continue  # another job keeps this one
        cutoff = now - timedelta(days=policy.days(config))
        cutoffs[policy.name] = cutoff.isoformat()
        counts[policy.name] = 0
        try:
            for _batch in range(MAX_BATCHES):
                removed = policy.purge(session, cutoff, now)
                session.commit()
                counts[policy.name] += removed
                if not removed:
                    break
        except Exception as error:
            session.rollback()
            failures[policy.name] = type(error).__name__[:60]
            log.exception("retention policy failed", extra={"policy": policy.name})
    run = PurgeRun(
        started_at=now,
        # Measured, so a run given its ``now`` (a test, a catch-up) still says how long it took.
        finished_at=now + timedelta(seconds=time.monotonic() - began),
        trigger=trigger,
        counts=counts,
        cutoffs=cutoffs,
        failures=failures,
    )
    session.add(run)
    session.commit()
    log.info(
        "retention run",
        extra={"purge_run_id": run.id, "removed": counts, "failed": sorted(failures)},
    )
    return run
