"""A resident's requests for a copy of everything held about them."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.db import Base, utcnow


class ExportStatus(enum.StrEnum):
    #: Asked for; the scheduler builds it.
    PENDING = "pending"
    READY = "ready"
    #: Fetched once: the link is spent and the file gone.
    DOWNLOADED = "downloaded"
    #: Not fetched in time: the file is gone.
    EXPIRED = "expired"
    FAILED = "failed"


class DataExport(Base):
    """A ZIP of everything held about a person (JSON, CSV and a README in their language),
    built by the scheduler, downloadable once by that person within ``PERSONAL_EXPORT_HOURS``.

    The file lives in the database (``content``, loaded only when downloaded), so the API
    and the scheduler need no shared disk; it is erased once downloaded or expired. The
    download token is kept only as a SHA-256.
    """

    __tablename__ = "personal_data_exports"
    __table_args__ = (sa.Index("ix_personal_data_exports_user", "user_id", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    #: The language of its README and labels: the person's at the time of asking.
    locale: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    downloaded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    token_sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, unique=True)
    size_bytes: Mapped[int | None] = mapped_column(nullable=True)
    content: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary, nullable=True))
    #: Why building it failed (a short code, never personal data).
    error: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)

    def __repr__(self) -> str:
        return f"<DataExport {self.id} user={self.user_id} {self.status}>"


class PurgeRun(Base):
    """One run of the retention policies: what each policy removed, for the admins' report."""

    __tablename__ = "purge_runs"
    __table_args__ = (sa.Index("ix_purge_runs_started", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: ``scheduler`` or ``command``.
    trigger: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    #: Policy name → rows removed (or rolled up); policies that removed nothing are listed as 0.
    counts: Mapped[dict] = mapped_column(nullable=False, default=dict)
    #: Policy name → the cut-off it applied (ISO 8601), so the report says "older than".
    cutoffs: Mapped[dict] = mapped_column(nullable=False, default=dict)
    #: Policies that failed this run (name → short code); the others still ran.
    failures: Mapped[dict] = mapped_column(nullable=False, default=dict)

    def __repr__(self) -> str:
        return f"<PurgeRun {self.id} {self.started_at:%Y-%m-%d %H:%M}>"
