"""Researchers' exports, their projects' shared keys, and what deleted accounts leave."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import City, User


class DatasetKind(enum.StrEnum):
    #: One survey's submitted responses, a row per respondent.
    SURVEY = "survey"
    #: One campaign's ideas, comments and supports.
    IDEAS = "ideas"
    #: One campaign's workshops: who took part how, in counts.
    WORKSHOPS = "workshops"
    #: A city's (or campaign's) energy use per district and month, in counts and sums.
    ENERGY = "energy"


class ResearchStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    #: Built and passed the anonymity check: the requester may download it until it expires.
    READY = "ready"
    #: Built, but the independent anonymity check found it short: never released, file erased.
    BLOCKED = "blocked"
    FAILED = "failed"
    #: Past ``RESEARCH_EXPORT_DAYS``: the file is erased; the request and report stay.
    EXPIRED = "expired"


class ResearchProject(Base):
    """A research project of a city whose exports share one pseudonym key, so its researchers
    can join them deliberately; exports outside a project get a key of their own that is
    never stored."""

    __tablename__ = "research_projects"
    __table_args__ = (sa.UniqueConstraint("city_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: The HMAC key of the project's pseudonyms, sealed (app/sealed.py).
    key_sealed: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    city: Mapped[City] = relationship()

    def __repr__(self) -> str:
        return f"<ResearchProject {self.id} {self.name!r}>"


class ResearchExport(Base):
    """A researcher's request for an anonymised export, and the file the scheduler made of it.

    The file lives under ``RESEARCH_EXPORT_DIR`` (written as a stream, so memory stays
    bounded) with a server-chosen name; only the requester may download it, through a
    short-lived signed link, until ``expires_at``. Every request and download is audited.
    """

    __tablename__ = "research_exports"
    __table_args__ = (
        sa.Index("ix_research_exports_city", "city_id", "requested_at"),
        sa.Index("ix_research_exports_status", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    #: The requester, the only one who may download it; None once their account is deleted.
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("research_projects.id"), nullable=True
    )
    dataset: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: The survey (``survey``) or campaign (``ideas``, ``workshops``, ``energy`` optional).
    subject_id: Mapped[int | None] = mapped_column(nullable=True)
    #: Why the researcher needs it, as they wrote it (recorded, shown in the audit log).
    purpose: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: The language of labels, codebook and README.
    locale: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    #: The request's options (research/options.py): k, minimum cell, formats, variables' roles.
    options: Mapped[dict] = mapped_column(nullable=False, default=dict)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    #: 0 to 100, and the stage the job is in, for the progress shown in the console.
    progress: Mapped[int] = mapped_column(nullable=False, default=0)
    stage: Mapped[str] = mapped_column(sa.String(30), nullable=False, default="")
    requested_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: The file's name under RESEARCH_EXPORT_DIR while it exists.
    file_name: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(nullable=True)
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    #: What the export did: records in and out, k and l achieved, suppressions and why,
    #: generalisation levels, text scrubbed, the anonymity check's own measure.
    report: Mapped[dict] = mapped_column(nullable=False, default=dict)
    #: Why it failed (a short code, never personal data).
    error: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    downloads: Mapped[int] = mapped_column(nullable=False, default=0)

    requested_by: Mapped[User | None] = relationship()
    project: Mapped[ResearchProject | None] = relationship()

    def __repr__(self) -> str:
        return f"<ResearchExport {self.id} {self.dataset} {self.status}>"


class KeptMeterDay(Base):
    """A day of a deleted account's meter, kept for research because its owner consented:
    no person, household or meter behind it, only a random series key (so days of one meter
    stay together), the city, the commodity and the day's total in the base unit."""

    __tablename__ = "research_kept_meter_days"
    __table_args__ = (
        sa.UniqueConstraint("series", "day"),
        sa.Index("ix_research_kept_meter_days_city", "city_id", "commodity", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random (uuid4 hex), made when the account was deleted; not derived from anything.
    series: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    commodity: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    unit: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    day: Mapped[date] = mapped_column(nullable=False)
    amount: Mapped[float] = mapped_column(sa.Float, nullable=False)

    def __repr__(self) -> str:
        return f"<KeptMeterDay {self.series} {self.day}>"
