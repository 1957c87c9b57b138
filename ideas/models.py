"""Idea boards of a campaign: ideas, comments, supports, flags, mutes and the city's answers.

A board moves through phases (collecting ideas, supporting, closed), switched by the
scheduler at the board's times or by a moderator. Counters on ideas (supports, comments,
flags, trend) are kept in the same transaction as the rows they count, so lists sort by a
column instead of counting 200,000 supports per request.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow
from app.models import City, User
from campaigns.models import Campaign


class BoardStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Phase(enum.StrEnum):
    #: Published, but collecting has not started yet.
    UPCOMING = "upcoming"
    COLLECTING = "collecting"
    SUPPORTING = "supporting"
    CLOSED = "closed"


class LocationMode(enum.StrEnum):
    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


class Board(Base):
    """An idea board such as "What should the courtyard of block 7 become?"."""

    __tablename__ = "idea_boards"
    __table_args__ = (sa.Index("ix_idea_boards_schedule", "status", "phase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: Translated values: locale → text.
    title: Mapped[dict] = mapped_column(nullable=False)
    description: Mapped[dict] = mapped_column(nullable=False, default=dict)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    phase: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="upcoming")
    #: When each phase begins (UTC); None: switched by hand.
    collecting_from: Mapped[datetime | None] = mapped_column(nullable=True)
    supporting_from: Mapped[datetime | None] = mapped_column(nullable=True)
    closes_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: New ideas wait for a moderator's approval before residents see them.
    requires_approval: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: Categories residents choose from: [{"code": "green", "label": {locale: text}}].
    categories: Mapped[list] = mapped_column(nullable=False, default=list)
    location: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="off")
    #: Supports each resident may give on this board; None: unlimited.
    support_budget: Mapped[int | None] = mapped_column(nullable=True)
    supports_withdrawable: Mapped[bool] = mapped_column(nullable=False, default=True)
    #: Flags from this many residents hide an idea or comment until a moderator reviews it.
    flag_threshold: Mapped[int] = mapped_column(nullable=False, default=3)
    #: Authors may edit ideas and comments for this long (ideas only before any support).
    edit_minutes: Mapped[int] = mapped_column(nullable=False, default=60)
    #: Salt of each resident's stable random order (fairness), fixed at creation.
    shuffle_seed: Mapped[int] = mapped_column(nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: When supporting first began: the voting rules are frozen from then on.
    voting_started_at: Mapped[datetime | None] = mapped_column(nullable=True)

    city: Mapped[City] = relationship()
    campaign: Mapped[Campaign] = relationship()

    def __repr__(self) -> str:
        return f"<Board {self.id} {self.status}/{self.phase}>"


class IdeaState(enum.StrEnum):
    #: Waiting for a moderator's approval (boards that require it).
    PENDING = "pending"
    PUBLISHED = "published"
    #: Hidden by flags (pending review) or by a moderator.
    HIDDEN = "hidden"
    #: Refused at approval; the author sees the reason.
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    #: Merged into another idea (``merged_into_id``).
    MERGED = "merged"


class OfficialStatus(enum.StrEnum):
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"


class Idea(Base):
    """A resident's idea on a board."""

    __tablename__ = "ideas"
    __table_args__ = (
        # A phone's retries of one post are one idea.
        sa.UniqueConstraint("board_id", "client_uuid"),
        sa.Index("ix_ideas_newest", "board_id", "state", "published_at", "id"),
        sa.Index("ix_ideas_supported", "board_id", "state", "supports_count", "id"),
        sa.Index("ix_ideas_trending", "board_id", "state", "trend", "id"),
        # The lists' version: the latest change on a board, read from the index's end.
        sa.Index("ix_ideas_changes", "board_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(
        sa.ForeignKey("idea_boards.id", ondelete="CASCADE"), nullable=False
    )
    #: Copied from the board: every query of a city's ideas is scoped without a join.
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    #: None once the author's account is deleted ("deleted participant").
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    client_uuid: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: Plain text with a small markdown subset, rendered and sanitised on output.
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: The language it is written in (the author's client's declared language).
    language: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    category: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    latitude: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="published")
    #: Why a moderator hid, rejected or restored it; shown to the author.
    moderation_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    #: The city's latest answer (history in ``IdeaStatusChange``).
    official_status: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="SET NULL"), nullable=True
    )
    supports_count: Mapped[int] = mapped_column(nullable=False, default=0)
    comments_count: Mapped[int] = mapped_column(nullable=False, default=0)
    #: Residents who flagged it and whose flags are not resolved yet.
    flags_count: Mapped[int] = mapped_column(nullable=False, default=0)
    #: Supports weighted by recency: each adds 2^((t - board created) / half-life), so the
    #: order equals that of exponentially decayed counts without ever recomputing.
    trend: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    #: Lower-cased, accent-folded title and body: what similarity compares.
    search_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    #: When residents could first see it (at posting, or at approval).
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    edited_at: Mapped[datetime | None] = mapped_column(nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)

    board: Mapped[Board] = relationship()
    author: Mapped[User | None] = relationship()
    merged_into: Mapped["Idea | None"] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Idea {self.id} {self.state}>"


class CommentState(enum.StrEnum):
    PUBLISHED = "published"
    HIDDEN = "hidden"
    #: Deleted by its author: the thread shows "deleted".
    DELETED = "deleted"


class Comment(Base):
    """A comment on an idea, or a reply to one (one level only)."""

    __tablename__ = "idea_comments"
    __table_args__ = (
        sa.UniqueConstraint("idea_id", "client_uuid"),
        sa.Index("ix_idea_comments_thread", "idea_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False
    )
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    #: The comment this replies to; always a top-level comment.
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("idea_comments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    client_uuid: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    language: Mapped[str] = mapped_column(sa.String(8), nullable=False)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="published")
    moderation_reason: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    flags_count: Mapped[int] = mapped_column(nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)

    idea: Mapped[Idea] = relationship()
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} {self.state}>"


class Support(Base):
    """A resident's support of an idea: at most one each, by the unique constraint."""

    __tablename__ = "idea_supports"
    __table_args__ = (
        sa.UniqueConstraint("idea_id", "user_id"),
        sa.Index("ix_idea_supports_mine", "board_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False
    )
    #: Copied from the idea: a resident's supports on a board are counted without a join.
    board_id: Mapped[int] = mapped_column(
        sa.ForeignKey("idea_boards.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    #: What the support added to the idea's ``trend`` (taken back on withdrawal).
    weight: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Support {self.user_id}→{self.idea_id}>"


class SupportBudget(Base):
    """Supports a resident has used on a board with a budget.

    Taking one is a conditional ``UPDATE ... SET used = used + 1 WHERE used < budget``: the
    row lock makes concurrent supports from one resident queue, so the budget holds.
    """

    __tablename__ = "idea_support_budgets"

    board_id: Mapped[int] = mapped_column(
        sa.ForeignKey("idea_boards.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    used: Mapped[int] = mapped_column(nullable=False, default=0)

    def __repr__(self) -> str:
        return f"<SupportBudget {self.board_id}/{self.user_id} {self.used}>"


class FlagReason(enum.StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    OFF_TOPIC = "off_topic"
    PERSONAL_DATA = "personal_data"
    DUPLICATE = "duplicate"
    OTHER = "other"


class Flag(Base):
    """A resident's report of an idea or a comment (exactly one of them)."""

    __tablename__ = "idea_flags"
    __table_args__ = (
        sa.UniqueConstraint("idea_id", "user_id"),
        sa.UniqueConstraint("comment_id", "user_id"),
        sa.CheckConstraint("(idea_id IS NULL) != (comment_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False, index=True)
    idea_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("idea_comments.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    note: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    #: Set when a moderator decided on the item; resolved flags no longer count.
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<Flag {self.id} {self.reason}>"


class Mute(Base):
    """An author muted in one city: they may read, but not post, comment or flag there."""

    __tablename__ = "idea_mutes"
    __table_args__ = (sa.UniqueConstraint("city_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("cities.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    muted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    #: None: until lifted by a moderator.
    until: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<Mute {self.city_id}/{self.user_id}>"


class IdeaStatusChange(Base):
    """One step of the city's answer to an idea, with its translated public response."""

    __tablename__ = "idea_status_changes"
    __table_args__ = (sa.Index("ix_idea_status_changes_history", "idea_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ideas.id", ondelete="CASCADE"), nullable=False
    )
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    #: Translated values: locale → text (plain text with the markdown subset).
    response: Mapped[dict] = mapped_column(nullable=False, default=dict)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<IdeaStatusChange {self.idea_id} {self.status}>"
