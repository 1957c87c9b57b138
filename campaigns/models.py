"""Co-creation campaigns in a city, with their phases."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import City


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Campaign(Base):
    """A campaign such as "Renovating block 7": surveys, boards and workshops hang off it."""

    __tablename__ = "campaigns"
    __table_args__ = (
        sa.UniqueConstraint("city_id", "slug"),
        # Residents' list: one city's published campaigns, newest first.
        sa.Index("ix_campaigns_listing", "city_id", "status", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    slug: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    #: Translated values: locale → text.
    title: Mapped[dict] = mapped_column(nullable=False)
    summary: Mapped[dict] = mapped_column(nullable=False, default=dict)
    description: Mapped[dict] = mapped_column(nullable=False, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    #: Cover picture for the mobile list, with its translated alternative text.
    cover_image_url: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    cover_alt: Mapped[dict] = mapped_column(nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(nullable=True)

    # Lists are of one city, already loaded: the identity map answers without a query.
    city: Mapped[City] = relationship()
    phases: Mapped[list["CampaignPhase"]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="CampaignPhase.position",
        lazy="selectin",
    )

    @property
    def current_phase(self) -> "CampaignPhase | None":
        now = utcnow()
        return next((p for p in self.phases if p.starts_at <= now < p.ends_at), None)

    def __repr__(self) -> str:
        return f"<Campaign {self.city_id}/{self.slug} {self.status}>"


class CampaignPhase(Base):
    """A stretch of a campaign (information, co-design, voting, implementation)."""

    __tablename__ = "campaign_phases"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(nullable=False)
    title: Mapped[dict] = mapped_column(nullable=False)
    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    ends_at: Mapped[datetime] = mapped_column(nullable=False)

    campaign: Mapped[Campaign] = relationship(back_populates="phases")

    def __repr__(self) -> str:
        return f"<CampaignPhase {self.campaign_id}#{self.position}>"


class CampaignFollow(Base):
    """A resident following a campaign: its updates reach them."""

    __tablename__ = "campaign_follows"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<CampaignFollow {self.user_id} {self.campaign_id}>"
