"""Campaign use cases: list, create, edit, publish, archive."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.cities import slug_problem
from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from campaigns.models import Campaign, CampaignFollow, CampaignPhase, CampaignStatus
from i18n import _
from i18n.content import cleaned, translation_problems

#: Addresses the console's own pages use under a city's campaigns.
RESERVED_SLUGS = frozenset({"new"})
MAX_URL_LENGTH = 500
TRANSLATED_FIELDS = ("title", "summary", "description", "cover_alt")
#: Longest text of each translated field, per language.
MAX_LENGTH = {"title": 200, "summary": 500, "description": 20_000, "cover_alt": 300}


def published_campaigns(city: City) -> sa.Select:
    """Query for the campaigns a resident of ``city`` may see."""
    return sa.select(Campaign).where(
        Campaign.city_id == city.id, Campaign.status == CampaignStatus.PUBLISHED
    )


def _listing_version_statement() -> sa.Select:
    published = (
        Campaign.city_id == sa.bindparam("city_id"),
        Campaign.status == sa.bindparam("status"),
    )
    now = sa.bindparam("now", type_=CampaignPhase.starts_at.type)
    boundary = sa.case(
        (CampaignPhase.starts_at > now, CampaignPhase.starts_at), else_=CampaignPhase.ends_at
    )
    next_change = (
        sa.select(sa.func.min(boundary))
        .join(Campaign, Campaign.id == CampaignPhase.campaign_id)
        .where(*published, CampaignPhase.ends_at > now)
        .scalar_subquery()
    )
    return sa.select(
        sa.func.count(Campaign.id), sa.func.max(Campaign.updated_at), next_change
    ).where(*published)


#: Every list request runs this; built once, it costs only its execution.
_LISTING_VERSION = _listing_version_statement()


def listing_version(session: Session, city: City, now: datetime | None = None) -> tuple[str, ...]:
    """What residents' list of ``city`` depends on; it changes whenever that list would.

    A campaign published, edited or archived changes the count or the latest change, and a
    phase starting or ending changes which phase is current, so the next such moment counts.
    """
    row = session.execute(
        _LISTING_VERSION,
        {"city_id": city.id, "status": CampaignStatus.PUBLISHED.value, "now": now or utcnow()},
    ).one()
    return tuple(str(value) for value in row)


def campaign_version(campaign: Campaign, now: datetime | None = None) -> tuple[str, ...]:
    """What one campaign as residents see it depends on (see ``listing_version``)."""
    now = now or utcnow()
    moments = (t for phase in campaign.phases for t in (phase.starts_at, phase.ends_at) if t > now)
    return (str(campaign.id), campaign.updated_at.isoformat(), str(min(moments, default=None)))


def campaigns_for_console(
    session: Session, actor: User, city: City, status: str | None = None
) -> list[Campaign]:
    ensure(actor, "campaign.list_all", city)
    query = sa.select(Campaign).where(Campaign.city_id == city.id)
    if status:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query.order_by(Campaign.updated_at.desc(), Campaign.id.desc())))


def get_campaign(session: Session, actor: User | None, city: City, slug: str) -> Campaign:
    """A campaign the actor may read; anything else, including drafts, reads as not found."""
    campaign = session.scalar(
        sa.select(Campaign).where(Campaign.city_id == city.id, Campaign.slug == slug)
    )
    if campaign is None:
        raise NotFound()
    ensure(actor, "campaign.read", campaign)
    return campaign


def _check_translations(city: City, values: dict[str, dict], errors: dict) -> dict[str, dict]:
    result = {}
    for field in TRANSLATED_FIELDS:
        if field not in values:
            continue
        texts = cleaned(values[field])
        problems = translation_problems(texts, city.enabled_locales, MAX_LENGTH[field])
        if problems:
            errors[field] = problems
        result[field] = texts
    if "title" in result and not result["title"].get(city.default_locale):
        errors["title"] = [_("A title in the city's main language is required.")]
    return result


def _check_phases(city: City, phases: list[dict], errors: dict) -> list[CampaignPhase]:
    built = []
    for position, phase in enumerate(sorted(phases, key=lambda p: p["starts_at"])):
        title = cleaned(phase.get("title"))
        if set(title) - set(city.enabled_locales) or any(len(t) > 200 for t in title.values()):
            errors["phases"] = [_("Phase titles have at most 200 characters per language.")]
            break
        if not title.get(city.default_locale) or phase["ends_at"] <= phase["starts_at"]:
            errors["phases"] = [
                _(
                    "Each phase needs a title in the city's main language "
                    "and must end after it starts."
                )
            ]
            break
        if built and phase["starts_at"] < built[-1].ends_at:
            errors["phases"] = [_("Phases must not overlap.")]
            break
        built.append(
            CampaignPhase(
                position=position,
                title=title,
                starts_at=phase["starts_at"],
                ends_at=phase["ends_at"],
            )
        )
    return built


def _check_cover(url: str | None, errors: dict) -> str | None:
    if url and (not url.startswith("https://") or len(url) > MAX_URL_LENGTH):
        errors["cover_image_url"] = [
            _("Use an https:// address of at most %(max)d characters.", max=MAX_URL_LENGTH)
        ]
    return url or None


def create_campaign(session: Session, actor: User, city: City, *, slug: str, **values) -> Campaign:
    """A new draft campaign; only the city's moderators and admins may create one."""
    ensure(actor, "campaign.create", city)
    errors: dict = {}
    taken = _("This address is already taken.")
    problem = slug_problem(slug, 80)
    if problem:
        errors["slug"] = [problem]
    elif slug in RESERVED_SLUGS or session.scalar(
        sa.select(Campaign.id).where(Campaign.city_id == city.id, Campaign.slug == slug)
    ):
        errors["slug"] = [taken]
    values.setdefault("title", {})
    texts = _check_translations(city, values, errors)
    phases = _check_phases(city, values.get("phases") or [], errors)
    cover = _check_cover(values.get("cover_image_url"), errors)
    if errors:
        raise Invalid(errors=errors)
    campaign = Campaign(
        city_id=city.id, slug=slug, status=CampaignStatus.DRAFT, cover_image_url=cover, **texts
    )
    campaign.phases = phases
    try:
        with session.begin_nested():
            session.add(campaign)
    except IntegrityError:
        # Created a moment ago by a concurrent request with the same address.
        raise Conflict(errors={"slug": [taken]}) from None
    return campaign


def ensure_not_archived(campaign: Campaign) -> None:
    """An archived campaign, and what belongs to it, stays as it was."""
    if campaign.status == CampaignStatus.ARCHIVED:
        raise Conflict(_("An archived campaign cannot be changed."), slug="campaign-archived")


def update_campaign(session: Session, actor: User, campaign: Campaign, **values) -> Campaign:
    """Change texts, cover or phases; the slug stays, since links to it are out there."""
    ensure(actor, "campaign.edit", campaign)
    ensure_not_archived(campaign)
    errors: dict = {}
    texts = _check_translations(campaign.city, values, errors)
    phases = _check_phases(campaign.city, values["phases"], errors) if "phases" in values else None
    cover = _check_cover(values.get("cover_image_url"), errors)
    if errors:
        raise Invalid(errors=errors)
    for field, value in texts.items():
        setattr(campaign, field, value)
    if "cover_image_url" in values:
        campaign.cover_image_url = cover
    if phases is not None:
        campaign.phases = phases
    campaign.updated_at = utcnow()
    session.flush()
    return campaign


def publish_campaign(
    session: Session, actor: User, campaign: Campaign, now: datetime | None = None
) -> Campaign:
    """Make a draft visible to the city's residents."""
    ensure(actor, "campaign.edit", campaign)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(_("Only a draft can be published."), slug="not-a-draft")
    now = now or utcnow()
    campaign.status = CampaignStatus.PUBLISHED
    campaign.published_at = now
    campaign.updated_at = now
    session.flush()
    return campaign


def archive_campaign(
    session: Session, actor: User, campaign: Campaign, now: datetime | None = None
) -> Campaign:
    """Take a campaign out of residents' lists; it stays readable for staff."""
    ensure(actor, "campaign.edit", campaign)
    if campaign.status == CampaignStatus.ARCHIVED:
        raise Conflict(_("This campaign is already archived."), slug="already-archived")
    now = now or utcnow()
    campaign.status = CampaignStatus.ARCHIVED
    campaign.archived_at = now
    campaign.updated_at = now
    session.flush()
    return campaign


# --- following ------------------------------------------------------------------------------


def _followable(session: Session, user: User, slug: str) -> Campaign:
    """A published campaign of the person's own city; drafts and archives read as not found."""
    campaign = get_campaign(session, user, user.city, slug)
    if campaign.status != CampaignStatus.PUBLISHED:
        raise NotFound()
    return campaign


def _follows(session: Session, user: User, campaign: Campaign) -> bool:
    return session.get(CampaignFollow, {"user_id": user.id, "campaign_id": campaign.id}) is not None


def is_following(session: Session, user: User, slug: str) -> bool:
    """Whether the person follows a published campaign of their city."""
    return _follows(session, user, _followable(session, user, slug))


def follow_campaign(session: Session, user: User, slug: str) -> Campaign:
    """Follow a campaign: its updates reach the person. Following twice changes nothing."""
    campaign = _followable(session, user, slug)
    if _follows(session, user, campaign):
        return campaign
    try:
        with session.begin_nested():
            session.add(CampaignFollow(user_id=user.id, campaign_id=campaign.id))
    except IntegrityError:
        pass  # followed a moment ago by a concurrent request: the outcome is the same
    return campaign


def unfollow_campaign(session: Session, user: User, slug: str) -> Campaign:
    """Stop following; unfollowing a campaign one does not follow changes nothing."""
    campaign = _followable(session, user, slug)
    session.execute(
        sa.delete(CampaignFollow).where(
            CampaignFollow.user_id == user.id, CampaignFollow.campaign_id == campaign.id
        )
    )
    session.flush()
    return campaign
