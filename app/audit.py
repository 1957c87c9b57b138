"""The audit log: who did what to what, when and why, for a city's admins to read.

Moderation actions (and, later, research exports and downloads) are recorded here in the
transaction that makes them, so a logged action happened and an action that happened is
logged.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.db import Base, utcnow
from app.models import User


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_city", "city_id", "created_at", "id"),
        sa.Index("ix_audit_log_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for platform-wide actions.
    city_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cities.id"), nullable=True)
    #: None once the actor's account is deleted, or for the scheduler.
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: A stable name such as ``idea.hide`` or ``author.mute``.
    action: Mapped[str] = mapped_column(sa.String(50), nullable=False)
    #: What it was done to: ``idea``, ``comment``, ``user``...
    subject_type: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(nullable=True)
    reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: Facts that explain the entry later (e.g. the idea merged into, supports moved).
    details: Mapped[dict] = mapped_column(nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action} {self.subject_type}:{self.subject_id}>"


def record(
    session: Session,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    *,
    city_id: int | None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Add an entry to the caller's transaction."""
    entry = AuditEntry(
        city_id=city_id,
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        reason=reason,
        details=details or {},
        created_at=now or utcnow(),
    )
    session.add(entry)
    return entry
