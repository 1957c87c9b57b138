"""Campaign use cases: list, create, edit, publish, archive."""

import re
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from campaigns.models import Campaign, CampaignPhase, CampaignStatus
from i18n import _
from i18n.content import cleaned

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TRANSLATED_FIELDS = ("title", "summary", "description", "cover_alt")
#: Longest text of each translated field, per language.
MAX_LENGTH = {"title": 200, "summary": 500, "description": 20_000, "cover_alt": 300}


def published_campaigns(city: City) -> sa.Select:
    """Query for the campaigns a resident of ``city`` may see."""
    return sa.select(Campaign).where(
        Campaign.city_id == city.id, Campaign.status == CampaignStatus.PUBLISHED
    )


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
        unknown = sorted(set(texts) - set(city.enabled_locales))
        if unknown:
            errors[field] = [
                _("Not a language of this city: %(locales)s", locales=", ".join(unknown))
            ]
        too_long = [loc for loc, text in texts.items() if len(text) > MAX_LENGTH[field]]
        if too_long:
            errors[field] = [_("Longer than the maximum length of %(max)d.", max=MAX_LENGTH[field])]
        result[field] = texts
    if "title" in result and not result["title"].get(city.default_locale):
        errors["title"] = [_("A title in the city's main language is required.")]
    return result


def _check_phases(city: City, phases: list[dict], errors: dict) -> list[CampaignPhase]:
    built = []
    for position, phase in enumerate(sorted(phases, key=lambda p: p["starts_at"])):
        title = cleaned(phase.get("title"))
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
    if url and not url.startswith("https://"):
        errors["cover_image_url"] = [_("Use an https:// address.")]
    return url or None


def create_campaign(session: Session, actor: User, city: City, *, slug: str, **values) -> Campaign:
    """A new draft campaign; only the city's moderators and admins may create one."""
    ensure(actor, "campaign.create", city)
    errors: dict = {}
    if not SLUG.match(slug or "") or len(slug) > 80:
        errors["slug"] = [_("Use lower-case letters, digits and single hyphens.")]
    elif session.scalar(
        sa.select(Campaign.id).where(Campaign.city_id == city.id, Campaign.slug == slug)
    ):
        errors["slug"] = [_("This address is already taken.")]
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
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(session: Session, actor: User, campaign: Campaign, **values) -> Campaign:
    """Change texts, cover or phases; the slug stays, since links to it are out there."""
    ensure(actor, "campaign.edit", campaign)
    if campaign.status == CampaignStatus.ARCHIVED:
        raise Conflict(_("An archived campaign cannot be changed."), slug="campaign-archived")
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
