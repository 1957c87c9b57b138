"""A household's part in its city's energy campaign: its district, the campaign it joined and
the local day it joined, and the saving it aims for.

Savings are counted against the household's own baseline from the day it joined
(energy/feedback/savings.py): joining another campaign starts counting afresh, leaving one
stops it. The goal is the resident's own, kept whether or not they take part in a campaign.
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.consent import require_consent
from app.consent_models import Purpose
from app.db import utcnow
from app.errors import Invalid
from app.models import City, User
from app.policy import ensure
from campaigns.models import Campaign, CampaignStatus
from energy.models import Household
from i18n import _

#: The saving a resident may aim for, in per cent of their baseline.
GOAL_RANGE = (1, 50)
MAX_DISTRICT_LENGTH = 100
MAX_SLUG_LENGTH = 80


def today_in(city: City, now: datetime) -> date:
    return now.astimezone(ZoneInfo(city.timezone)).date()


def check_district(city: City, value: Any, errors: dict) -> str | None:
    """One of the city's districts, as the city spells it; None clears it."""
    if value is None:
        return None
    districts = [d for d in city.districts or [] if isinstance(d, str)]
    if not districts:
        errors["district"] = [_("Your city has no districts to choose from.")]
        return None
    chosen = value.strip() if isinstance(value, str) else None
    if chosen not in districts:
        errors["district"] = [_("Choose one of: %(choices)s.", choices=", ".join(districts))]
        return None
    return chosen


def check_campaign(
    session: Session, user: User, household: Household | None, value: Any, errors: dict
) -> Campaign | None:
    """The campaign named by ``value`` (its slug): an open one of the person's city, or the one
    the household joined already (which may have closed since); None leaves the campaign."""
    if value is None:
        return None
    if isinstance(value, str) and 0 < len(value) <= MAX_SLUG_LENGTH:
        campaign = session.scalar(
            sa.select(Campaign).where(Campaign.city_id == user.city_id, Campaign.slug == value)
        )
        joined = household is not None and campaign is not None
        if campaign is not None and (
            campaign.status == CampaignStatus.PUBLISHED
            or (joined and household.campaign_id == campaign.id)
        ):
            return campaign
    errors["campaign"] = [_("Your city has no open campaign of this name.")]
    return None


def apply_campaign(household: Household, campaign: Campaign | None, city: City, now: datetime):
    """Join ``campaign`` today (the city's local day), stay in it, or leave it (None)."""
    if campaign is None:
        household.campaign_id = None
        household.joined_on = None
    elif household.campaign_id != campaign.id or household.joined_on is None:
        household.campaign_id = campaign.id
        household.joined_on = today_in(city, now)


def campaign_slug(session: Session, household: Household | None) -> str | None:
    """The slug of the campaign the household joined, as the API names campaigns."""
    if household is None or household.campaign_id is None:
        return None
    return session.scalar(sa.select(Campaign.slug).where(Campaign.id == household.campaign_id))


def _household(session: Session, user: User) -> Household | None:
    return session.scalar(sa.select(Household).where(Household.user_id == user.id))


def set_goal(session: Session, user: User, percent: Any, now: datetime | None = None) -> Household:
    """Aim to save ``percent`` of the baseline; the same goal again changes nothing."""
    ensure(user, "energy.use", user.city)
    require_consent(session, user, Purpose.ENERGY_FEEDBACK)
    low, high = GOAL_RANGE
    if (
        isinstance(percent, bool)
        or not isinstance(percent, int | float)
        or percent != percent  # NaN
        or not low <= percent <= high
    ):
        raise Invalid(
            errors={"percent": [_("Enter a number from %(min)d to %(max)d.", min=low, max=high)]}
        )
    household = _household(session, user)
    if household is None:
        household = Household(user_id=user.id, city_id=user.city_id)
        session.add(household)
    if household.goal_percent != float(percent):
        household.goal_percent = float(percent)
        household.goal_set_at = now or utcnow()
    session.flush()
    return household


def clear_goal(session: Session, user: User) -> None:
    """Give up the goal (nothing happens without one)."""
    ensure(user, "energy.use", user.city)
    household = _household(session, user)
    if household is not None and household.goal_percent is not None:
        household.goal_percent = None
        household.goal_set_at = None
        session.flush()
