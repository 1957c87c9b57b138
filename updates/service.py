"""Update use cases: residents' feed, and writing updates in the console.

Scheduling, publishing and telling people live in ``updates.publishing``.
"""

from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, selectinload

from app.db import utcnow
from app.errors import Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from app.richtext import from_input
from campaigns.models import Campaign, CampaignFollow, CampaignStatus
from i18n import _
from i18n.content import cleaned, translation_problems
from updates.models import Update, UpdateStatus

TRANSLATED_FIELDS = ("title", "body", "image_alt")
#: Longest text of each translated field, per language (the body counts as stored HTML).
MAX_LENGTH = {"title": 200, "body": 20_000, "image_alt": 300}
MAX_URL_LENGTH = 500


# --- residents ------------------------------------------------------------------------------


def followed_campaign_ids(session: Session, user: User) -> list[int]:
    """The campaigns a person follows, in id order (few per person)."""
    return list(
        session.scalars(
            sa.select(CampaignFollow.campaign_id)
            .where(CampaignFollow.user_id == user.id)
            .order_by(CampaignFollow.campaign_id)
        )
    )


def _in_feed(user: User, followed: list[int]) -> tuple:
    return (
        Update.city_id == user.city_id,
        Update.status == UpdateStatus.PUBLISHED,
        sa.or_(
            Update.campaign_id.is_(None),
            sa.and_(Update.campaign_id.in_(followed), Campaign.status == CampaignStatus.PUBLISHED),
        ),
    )


def feed(user: User, followed: list[int]) -> sa.Select:
    """Query for a resident's updates: their city's, city-wide or of campaigns they follow."""
    return (
        sa.select(Update)
        .outerjoin(Update.campaign)
        .options(contains_eager(Update.campaign))
        .where(*_in_feed(user, followed))
    )


def feed_version(session: Session, user: User, followed: list[int]) -> tuple[str, ...]:
    """What a resident's feed depends on; it changes whenever the feed would.

    Publishing adds a row, unpublishing or archiving a campaign removes one, and an edit of an
    update or of a campaign (its title is shown) moves a latest-change time. The followed
    campaigns belong in the caller's key.
    """
    row = session.execute(
        sa.select(
            sa.func.count(Update.id),
            sa.func.max(Update.updated_at),
            sa.func.max(Campaign.updated_at),
        )
        .select_from(Update)
        .outerjoin(Campaign, Campaign.id == Update.campaign_id)
        .where(*_in_feed(user, followed))
    ).one()
    return tuple(str(value) for value in row)


def update_version(update: Update) -> tuple[str, ...]:
    """What one update as residents see it depends on."""
    campaign = update.campaign
    return (
        str(update.id),
        update.updated_at.isoformat(),
        campaign.updated_at.isoformat() if campaign is not None else "",
    )


def get_published_update(session: Session, user: User, update_id: int) -> Update:
    """A published update of the person's city, followed or not; anything else is not found."""
    update = session.get(Update, update_id)
    if update is None:
        raise NotFound()
    ensure(user, "update.read", update)
    return update


# --- console: reading -----------------------------------------------------------------------


def updates_for_console(
    session: Session, actor: User, city: City, status: str | None = None
) -> list[Update]:
    """Every update of the city, in any state, the latest changed first."""
    ensure(actor, "update.manage", city)
    query = (
        sa.select(Update).where(Update.city_id == city.id).options(selectinload(Update.campaign))
    )
    if status:
        query = query.where(Update.status == status)
    return list(session.scalars(query.order_by(Update.updated_at.desc(), Update.id.desc())))


def get_update(session: Session, actor: User, city: City, update_id: int) -> Update:
    """An update of ``city`` for those who manage its updates; another city's is not found."""
    ensure(actor, "update.manage", city)
    update = session.get(Update, update_id)
    if update is None or update.city_id != city.id:
        raise NotFound()
    return update


def campaign_choices(session: Session, actor: User, city: City) -> list[Campaign]:
    """Campaigns an update may be for: the city's drafts and published ones, newest first."""
    ensure(actor, "update.manage", city)
    return list(
        session.scalars(
            sa.select(Campaign)
            .where(Campaign.city_id == city.id, Campaign.status != CampaignStatus.ARCHIVED)
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        )
    )


# --- console: writing -----------------------------------------------------------------------


def _check_texts(city: City, values: dict, errors: dict) -> dict[str, dict]:
    result = {}
    for field in TRANSLATED_FIELDS:
        if field not in values:
            continue
        texts = cleaned(values[field])
        if field == "body":
            # Stored as safe HTML; a language whose text was nothing but unsafe markup is empty.
            texts = {loc: html for loc, text in texts.items() if (html := from_input(text))}
        problems = translation_problems(texts, city.enabled_locales, MAX_LENGTH[field])
        if problems:
            errors[field] = problems
            continue
        result[field] = texts
    return result


def _check_image_url(url: str | None, errors: dict) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    try:
        host = urlsplit(url).hostname if url.startswith("https://") else None
    except ValueError:  # e.g. a broken IPv6 address
        host = None
    if len(url) > MAX_URL_LENGTH or not host or any(c.isspace() for c in url):
        errors["image_url"] = [
            _("Use an https:// address of at most %(max)d characters.", max=MAX_URL_LENGTH)
        ]
    return url


def _check_campaign(session: Session, city: City, campaign_id: int | None, errors: dict):
    if campaign_id is None:
        return None
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.city_id != city.id:
        errors["campaign"] = [_("Choose the whole city or one of this city's campaigns.")]
        return None
    if campaign.status == CampaignStatus.ARCHIVED:
        errors["campaign"] = [_("This campaign is archived: it takes no more updates.")]
        return None
    return campaign


def _check_whole(city: City, title: dict, image_url: str | None, image_alt: dict, errors: dict):
    """Rules on the update as it will be saved, whichever fields this change touched."""
    if "title" not in errors and not title.get(city.default_locale):
        errors["title"] = [_("A title in the city's main language is required.")]
    if image_url and "image_alt" not in errors and not image_alt.get(city.default_locale):
        errors["image_alt"] = [
            _("Describe the image in the city's main language, for people who cannot see it.")
        ]


def create_update(
    session: Session,
    actor: User,
    city: City,
    *,
    title: dict,
    body: dict | None = None,
    image_url: str | None = None,
    image_alt: dict | None = None,
    campaign_id: int | None = None,
) -> Update:
    """A new draft update for the whole city, or for one campaign's followers."""
    ensure(actor, "update.manage", city)
    errors: dict = {}
    texts = _check_texts(
        city, {"title": title, "body": body or {}, "image_alt": image_alt or {}}, errors
    )
    url = _check_image_url(image_url, errors)
    campaign = _check_campaign(session, city, campaign_id, errors)
    _check_whole(city, texts.get("title", {}), url, texts.get("image_alt", {}), errors)
    if errors:
        raise Invalid(errors=errors)
    update = Update(
        city_id=city.id,
        campaign=campaign,
        status=UpdateStatus.DRAFT,
        image_url=url,
        created_by_id=actor.id,
        **texts,
    )
    session.add(update)
    session.flush()
    return update


def edit_update(session: Session, actor: User, update: Update, **values) -> Update:
    """Change texts, image or audience; a published update stays published, nobody is told again.

    Only the fields given change. The audience is fixed once people were told, since they
    were told as that audience.
    """
    ensure(actor, "update.manage", update)
    city = update.city
    errors: dict = {}
    texts = _check_texts(city, values, errors)
    url = _check_image_url(values["image_url"], errors) if "image_url" in values else None
    campaign = update.campaign
    if "campaign_id" in values and values["campaign_id"] != update.campaign_id:
        if update.notified_at is not None:
            errors["campaign"] = [
                _("People were already told about this update; its audience cannot change.")
            ]
        else:
            campaign = _check_campaign(session, city, values["campaign_id"], errors)
    _check_whole(
        city,
        texts.get("title", update.title),
        url if "image_url" in values else update.image_url,
        texts.get("image_alt", update.image_alt),
        errors,
    )
    if errors:
        raise Invalid(errors=errors)
    for field, value in texts.items():
        setattr(update, field, value)
    if "image_url" in values:
        update.image_url = url
    if "campaign_id" in values:
        update.campaign = campaign
    update.updated_at = utcnow()
    session.flush()
    return update
