"""Deleting an account: everything about the person goes; what others rely on stays, linked
to nobody (see ``privacy.deletion_participation`` and ``privacy.deletion_energy``).

Decisions:
- The person's row is locked first. Of two deletions at once, one deletes and the other finds
  nothing left (``NotFound``; the API answers it as a dead sign-in, 401).
- Every column pointing at ``users.id`` says what becomes of its rows when the account goes:
  ``CASCADE`` rows are only about the person and are deleted here, table by table, found in
  the metadata (so a table added later is swept without being listed here, and counted);
  ``SET NULL`` rows stay without the person (ideas, comments, the audit log's actors, what
  staff did: updates, answers, grants, invitations, research requests). Rows of those tables
  that are only the person's (drafts, meters' imports, resolved flags) are deleted first.
- Research use: when the person consented to it (as research exports count consent,
  ``research.population``), submitted survey responses and daily meter totals are kept in a
  form that names nobody; else they are deleted too.
- The audit log keeps every action: the person's own lose their actor (``SET NULL``), those
  about the person lose the subject's id, the reason and details naming them. One entry
  ``account.delete`` records the deletion, with counts only.
- Nothing here checks the password: the API does (``delete_own_account``), and an operator
  deleting on a written request uses the command line.
"""

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit
from app.audit import AuditEntry
from app.db import Base, utcnow
from app.errors import Invalid, NotFound
from app.models import IdempotencyRecord, User
from app.passwords import verify_password
from i18n import _
from ideas.models import Comment, Idea
from notifications.models import Delivery, Notification
from privacy import deletion_energy, deletion_participation
from privacy.models import DataExport
from research.population import research_consenters
from workshops.models import Registration

log = logging.getLogger("livinglab.privacy")

#: Columns pointing at a person whose rows stay when the account goes (set to NULL), and why.
#: Every other such column deletes its rows with the person (CASCADE); tests/privacy fails on
#: a column that is neither.
KEPT_WITHOUT_PERSON = {
    "ideas.author_id": "others read, supported and answered them: by a deleted participant",
    "idea_comments.author_id": "part of others' threads: by a deleted participant",
    "idea_flags.user_id": "open flags stay for the moderators, without the note (others go)",
    "survey_responses.user_id": "kept unlinkable with research consent (the others go)",
    "survey_responses.single_owner_id": "the same person as user_id, for a unique key",
    "meter_imports.user_id": "the person's meters' imports go; one into another's meter stays",
    "audit_log.actor_id": "the action stays, by nobody",
    "idea_status_changes.actor_id": "the city's answer to an idea, by a staff member",
    "updates.created_by_id": "news the city published, by a staff member",
    "role_grants.granted_by_id": "a role someone else holds, granted by the person",
    "idea_mutes.muted_by_id": "a moderator's decision about someone else",
    "workshop_registrations.invited_by_id": "someone else's registration, by a moderator",
    "workshop_registrations.checked_in_by_id": "someone else's attendance, by a moderator",
    "research_exports.requested_by_id": "the request stays in the audit trail; nobody may "
    "download it any more",
    "research_projects.created_by_id": "a city's project, other researchers' too",
}
#: Keys of audit details that name a person by id.
NAMING_DETAILS = ("user_id", "person_id")


def person_columns() -> list[tuple[sa.Table, sa.Column, str]]:
    """Every column pointing at ``users.id`` with its ON DELETE rule, dependents first."""
    found = []
    for table in reversed(Base.metadata.sorted_tables):
        for column in table.columns:
            for key in column.foreign_keys:
                if key.column.table.name == User.__tablename__:
                    found.append((table, column, (key.ondelete or "").upper()))
    return found


def consented_to_research(session: Session, user: User) -> bool:
    """Whether the person's data may be used for research, as research exports decide it."""
    consenters = research_consenters(user.city_id).where(User.id == user.id)
    return session.scalar(sa.select(consenters.exists())) or False


def _lock(session: Session, user: User) -> bool:
    """Lock the person's row; False when it is gone.

    The job building a copy of their data locks the copy, then writes them a notification,
    which waits for their row: the copies are locked first here too, in that order, so the
    two queue instead of deadlocking.
    """
    session.execute(sa.select(DataExport.id).where(DataExport.user_id == user.id).with_for_update())
    person = sa.select(User.id).where(User.id == user.id).with_for_update()
    return session.scalar(person) is not None


def _scrub_audit(session: Session, user: User, registration_ids: list[int]) -> int:
    """Entries about the person keep their action; the person's id, the reason and details
    naming them go. Returns the entries changed."""
    about = sa.or_(
        sa.and_(AuditEntry.subject_type == "user", AuditEntry.subject_id == user.id),
        sa.and_(
            AuditEntry.subject_type == "workshop_registration",
            AuditEntry.subject_id.in_(registration_ids),
        ),
    )
    entries = session.scalars(sa.select(AuditEntry).where(about)).all()
    for entry in entries:
        entry.details = {
            key: value
            for key, value in (entry.details or {}).items()
            if not (key in NAMING_DETAILS and value == user.id)
        }
        if entry.subject_type == "user":
            entry.subject_id = None
            entry.reason = None
    session.flush()
    return len(entries)


def _add(counts: dict[str, int], table: str, rows: int) -> None:
    if rows:
        counts[table] = counts.get(table, 0) + rows


def delete_account(session: Session, user: User, now: datetime | None = None) -> dict:
    """Delete the person's account and everything only about them, in the caller's
    transaction; returns ``{"deleted": {table: rows}, "kept": {table: rows}}``.

    ``NotFound`` when the account is gone already (deleted meanwhile).
    """
    now = now or utcnow()
    if not _lock(session, user):
        raise NotFound()
    user_id, city_id = user.id, user.city_id
    for_research = consented_to_research(session, user)
    deleted: dict[str, int] = {}
    kept: dict[str, int] = {}

    # What others rely on, through the domains' own services (counts, waitlists, budgets).
    _add(deleted, "idea_supports", deletion_participation.withdraw_supports(session, user, now))
    deletion_participation.end_registrations(session, user, now)
    deletion_participation.clear_deleted_comments(session, user)
    deletion_participation.unname_in_notices(session, user)
    flags_deleted, flags_kept = deletion_participation.settle_flags(session, user)
    _add(deleted, "idea_flags", flags_deleted)
    _add(kept, "idea_flags", flags_kept)
    for model in (Idea, Comment):
        authored = sa.select(sa.func.count()).select_from(model).where(model.author_id == user_id)
        _add(kept, model.__tablename__, session.scalar(authored))

    # Survey answers and meter readings: kept for research in a form naming nobody, or gone.
    responses, responses_kept = deletion_participation.erase_responses(
        session, user, for_research, now
    )
    for table, rows in responses.items():
        _add(deleted, table, rows)
    _add(kept, "survey_responses", responses_kept)
    if for_research:
        _add(kept, "research_kept_meter_days", deletion_energy.keep_meter_days(session, user_id))
    for table, rows in deletion_energy.erase_readings(session, user_id).items():
        _add(deleted, table, rows)

    # Deliveries may hold the address (a provider's error quotes it): counted, then gone.
    mine = sa.select(Notification.id).where(Notification.user_id == user_id)
    _add(
        deleted,
        "deliveries",
        session.execute(
            sa.delete(Delivery)
            .where(Delivery.notification_id.in_(mine))
            .execution_options(synchronize_session=False)
        ).rowcount,
    )
    _add(
        deleted,
        "idempotency_records",
        session.execute(
            sa.delete(IdempotencyRecord)
            .where(IdempotencyRecord.scope == f"user:{user_id}")
            .execution_options(synchronize_session=False)
        ).rowcount,
    )
    registration_ids = list(
        session.scalars(sa.select(Registration.id).where(Registration.user_id == user_id))
    )
    _add(kept, "audit_log", _scrub_audit(session, user, registration_ids))

    session.flush()
    for table, column, rule in person_columns():
        if rule == "CASCADE":
            rows = session.execute(sa.delete(table).where(column == user_id)).rowcount
            _add(deleted, table.name, rows)
    # The rest (SET NULL) lets go of the person as the row goes.
    _add(deleted, "users", session.execute(sa.delete(User).where(User.id == user_id)).rowcount)

    counts = {"deleted": deleted, "kept": kept}
    audit.record(
        session, None, "account.delete", "user", None, city_id=city_id, details=counts, now=now
    )
    session.flush()
    log.info("account deleted", extra={"city_id": city_id, **counts})
    return counts


def delete_own_account(
    session: Session, user: User, password: str, now: datetime | None = None
) -> dict:
    """The person deletes their own account, confirming with their current password; a wrong
    password changes nothing."""
    if not verify_password(user.password_hash, password):
        raise Invalid(errors={"password": [_("The current password is wrong.")]})
    return delete_account(session, user, now)
