"""Scheduling, publishing and unpublishing updates, and telling people once.

State changes are conditional UPDATEs on the status (``app.db.move_status``): a console click
and the scheduler, or two schedulers, can race for the same update and only one of them wins.
Publishing tells people once: ``notified_at`` is claimed by a conditional UPDATE too, and
``notify`` gets a dedupe key, so publishing again after an unpublish tells nobody twice.

Times typed in the console are wall-clock times in the city's zone (``from_city_time``).
A time the clocks skip (spring forward) is refused; a time that happens twice (fall back)
is taken at its first occurrence, and the console shows the UTC offset it was read with.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.citytime import from_city_time as from_city_time
from app.citytime import is_ambiguous as is_ambiguous
from app.db import move_status, utcnow
from app.errors import Conflict, Invalid
from app.models import User
from app.policy import ensure
from app.richtext import excerpt
from campaigns.models import Campaign, CampaignFollow, CampaignStatus
from i18n import _
from notifications.service import notify
from updates.models import Update, UpdateStatus

NOTIFICATION_KIND = "update.published"
#: Length of the plain-text summary in notifications.
SUMMARY_LENGTH = 240


def _campaign_must_be_open(update: Update) -> None:
    campaign = update.campaign
    if campaign is not None and campaign.status == CampaignStatus.ARCHIVED:
        raise Conflict(
            _("This update's campaign is archived: the update can no longer be published."),
            slug="campaign-archived",
        )


def schedule_update(
    session: Session, actor: User, update: Update, publish_at: datetime, now: datetime | None = None
) -> Update:
    """Publish later, at ``publish_at`` (aware); a scheduled update may be rescheduled."""
    ensure(actor, "update.manage", update)
    now = now or utcnow()
    _campaign_must_be_open(update)
    if publish_at <= now:
        raise Invalid(errors={"publish_at": [_("Choose a time in the future.")]})
    scheduled = move_status(
        session,
        update,
        (UpdateStatus.DRAFT, UpdateStatus.SCHEDULED),
        status=UpdateStatus.SCHEDULED,
        publish_at=publish_at,
        updated_at=now,
    )
    if not scheduled:
        raise Conflict(
            _("This update is already published. Unpublish it first to schedule it."),
            slug="already-published",
        )
    return update


def publish_update(
    session: Session, actor: User, update: Update, now: datetime | None = None
) -> Update:
    """Publish now and tell its audience (once in the update's life)."""
    ensure(actor, "update.manage", update)
    now = now or utcnow()
    _campaign_must_be_open(update)
    if update.campaign is not None and update.campaign.status != CampaignStatus.PUBLISHED:
        raise Conflict(
            _("Publish the campaign first: its followers cannot see its updates before."),
            slug="campaign-not-published",
        )
    if not _publish(session, update, (UpdateStatus.DRAFT, UpdateStatus.SCHEDULED), now):
        raise Conflict(_("This update is already published."), slug="already-published")
    return update


def unpublish_update(
    session: Session, actor: User, update: Update, now: datetime | None = None
) -> Update:
    """Back to draft: residents no longer see it (a scheduled one is simply not published)."""
    ensure(actor, "update.manage", update)
    now = now or utcnow()
    done = move_status(
        session,
        update,
        (UpdateStatus.PUBLISHED, UpdateStatus.SCHEDULED),
        status=UpdateStatus.DRAFT,
        publish_at=None,
        updated_at=now,
    )
    if not done:
        raise Conflict(_("This update is not published."), slug="not-published")
    return update


def due_update_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Scheduled updates whose time has come, oldest first; a campaign's wait for it to go live."""
    return list(
        session.scalars(
            sa.select(Update.id)
            .outerjoin(Campaign, Campaign.id == Update.campaign_id)
            .where(
                Update.status == UpdateStatus.SCHEDULED,
                Update.publish_at <= now,
                sa.or_(Update.campaign_id.is_(None), Campaign.status == CampaignStatus.PUBLISHED),
            )
            .order_by(Update.publish_at, Update.id)
            .limit(limit)
        )
    )


def publish_if_due(session: Session, update_id: int, now: datetime) -> Update | None:
    """The scheduler's publication of one update; None when it is not (or no longer) due,
    e.g. because another scheduler published it a moment ago or staff changed it."""
    update = session.get(Update, update_id)
    if update is None:
        return None
    campaign = update.campaign
    if campaign is not None and campaign.status != CampaignStatus.PUBLISHED:
        return None
    if not _publish(session, update, (UpdateStatus.SCHEDULED,), now, Update.publish_at <= now):
        return None
    return update


def _publish(session: Session, update: Update, allowed: tuple, now: datetime, *conditions) -> bool:
    published = move_status(
        session,
        update,
        allowed,
        *conditions,
        status=UpdateStatus.PUBLISHED,
        # Republished after a correction, it keeps its first date and place in the feed.
        published_at=update.published_at or now,
        publish_at=None,
        updated_at=now,
    )
    if published:
        _announce(session, update, now)
    return published


# --- telling people -------------------------------------------------------------------------


def audience(update: Update) -> sa.Select:
    """User ids to tell: a campaign's followers living in the city, or everyone in the city.

    ``notify`` leaves out disabled accounts and applies each person's preferences.
    """
    if update.campaign_id is None:
        return sa.select(User.id).where(User.city_id == update.city_id)
    return (
        sa.select(CampaignFollow.user_id)
        .join(User, User.id == CampaignFollow.user_id)
        .where(CampaignFollow.campaign_id == update.campaign_id, User.city_id == update.city_id)
    )


def notification_context(update: Update) -> dict:
    """What the ``update.published`` templates are given; texts stay translated dicts."""
    campaign = update.campaign
    return {
        "update_id": update.id,
        "title": dict(update.title),
        "summary": {loc: excerpt(html, SUMMARY_LENGTH) for loc, html in update.body.items()},
        "campaign_title": dict(campaign.title) if campaign is not None else None,
    }


def _announce(session: Session, update: Update, now: datetime) -> int:
    """Tell the update's audience, unless it was told before; returns how many were told."""
    claimed = session.execute(
        sa.update(Update)
        .where(Update.id == update.id, Update.notified_at.is_(None))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return 0
    session.refresh(update, ["notified_at"])
    return notify(
        session,
        audience(update),
        NOTIFICATION_KIND,
        notification_context(update),
        data={"update_id": update.id},
        dedupe_key=f"update:{update.id}",
        now=now,
    )
