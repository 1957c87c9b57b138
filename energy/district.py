"""The city's districts, and the staff's district view of households taking part in energy
feedback: totals per district and commodity, in aggregate only.

A district with fewer households than ``ENERGY_MIN_GROUP`` shows no figures at all. When that
leaves a small group hidden that the city total minus the shown districts would reveal, the
next smallest districts are hidden too (secondary suppression), until the hidden ones together
hold at least the minimum; the city total is shown only when the whole group reaches it.
Names, ids and addresses never leave this module: only counts and sums.
"""

import enum
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app import audit, consent
from app.consent_models import Consent, Purpose
from app.errors import Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from campaigns.models import Campaign
from energy.models import Commodity, FeedbackPeriod, FeedbackReport, Household, Meter
from i18n import _

MAX_DISTRICTS = 200
MAX_DISTRICT_NAME = 100
#: Problems listed for one list of districts (a pasted spreadsheet may hold thousands).
SHOWN_PROBLEMS = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# --- the city's districts -------------------------------------------------------------------


def checked_districts(names: Iterable[str]) -> list[str]:
    """District names trimmed, blank ones dropped, in the order given; Invalid when one is too
    long, holds a control character or comes twice (case aside), or when there are too many."""
    kept: list[str] = []
    seen: set[str] = set()
    problems: list[str] = []
    for raw in names:
        name = raw.strip() if isinstance(raw, str) else ""
        if not name:
            continue
        if len(name) > MAX_DISTRICT_NAME or _CONTROL.search(name):
            problems.append(
                _(
                    "“%(name)s” is longer than %(max)d characters.",
                    name=name[:40],
                    max=MAX_DISTRICT_NAME,
                )
                if len(name) > MAX_DISTRICT_NAME
                else _("“%(name)s” holds a character that cannot be shown.", name=name[:40])
            )
        elif name.casefold() in seen:
            problems.append(_("“%(name)s” is listed twice.", name=name))
        else:
            seen.add(name.casefold())
            kept.append(name)
    if len(kept) > MAX_DISTRICTS:
        problems.insert(0, _("A city has at most %(max)d districts.", max=MAX_DISTRICTS))
    if problems:
        raise Invalid(errors={"districts": problems[:SHOWN_PROBLEMS]})
    return kept


def set_districts(session: Session, actor: User, city: City, names: Iterable[str]) -> list[str]:
    """Set the districts residents choose from; households keep a district removed since."""
    ensure(actor, "city.manage", city)
    districts = checked_districts(names)
    if districts != list(city.districts or []):
        audit.record(
            session,
            actor,
            "city.districts",
            "city",
            city.id,
            city_id=city.id,
            details={"before": list(city.districts or []), "after": districts},
        )
        city.districts = districts
        session.flush()
    return districts


# --- totals ---------------------------------------------------------------------------------


class Hidden(enum.StrEnum):
    #: Fewer households than the minimum.
    SMALL = "small"
    #: Enough households, hidden so a smaller district's figures cannot be worked out.
    PROTECTING = "protecting"


@dataclass
class Figures:
    households: int = 0
    #: Sums over the households' weekly reports, in the meters' base unit.
    consumption: float = 0.0
    saving: float | None = None
    #: What they would have used without saving (consumption + saving, where a saving is known).
    expected: float | None = None

    @property
    def saving_pct(self) -> float | None:
        if self.saving is None or not self.expected:
            return None
        return 100.0 * self.saving / self.expected

    def add(self, consumption: float | None, saving: float | None, expected: float | None):
        self.consumption += consumption or 0.0
        if saving is not None:
            self.saving = (self.saving or 0.0) + saving
            self.expected = (self.expected or 0.0) + (expected or 0.0)


@dataclass
class DistrictRow:
    #: None: households that gave no district, or one the city no longer lists.
    district: str | None
    figures: Figures | None
    hidden: Hidden | None = None


@dataclass
class CommodityTotals:
    commodity: str
    #: The meters' base unit (Wh, m3, L): gas is counted as energy or as volume.
    unit: str
    rows: list[DistrictRow]
    #: The whole group's figures; None when it is smaller than the minimum.
    total: Figures | None


@dataclass
class DistrictTotals:
    campaign: Campaign | None
    #: The first day counted (the campaign's start); households count from when they joined.
    since: date | None
    min_group: int
    tables: list[CommodityTotals] = field(default_factory=list)


def campaign_start(campaign: Campaign) -> date:
    """The local day a campaign starts: its first phase's, else when it was published."""
    zone = ZoneInfo(campaign.city.timezone)
    starts = [phase.starts_at for phase in campaign.phases]
    moment = min(starts) if starts else campaign.published_at or campaign.created_at
    return moment.astimezone(zone).date()


def _campaign(session: Session, city: City, campaign_id: int | None) -> Campaign | None:
    if campaign_id is None:
        return None
    campaign = session.get(Campaign, campaign_id) if 0 < campaign_id < 2**31 else None
    if campaign is None or campaign.city_id != city.id:
        raise NotFound()
    return campaign


def _taking_part(session: Session, city: City, campaign: Campaign | None) -> sa.Select | None:
    """Who takes part: residents with an active energy consent (to the city's current text),
    and when a campaign is chosen, whose household joined it."""
    text = consent.current_text(session, city.id, Purpose.ENERGY_FEEDBACK)
    if text is None:
        return None
    people = sa.select(Consent.user_id).where(
        Consent.text_id == text.id, Consent.withdrawn_at.is_(None)
    )
    if campaign is not None:
        people = people.where(
            Consent.user_id.in_(
                sa.select(Household.user_id).where(Household.campaign_id == campaign.id)
            )
        )
    return people


def _suppress(rows: list[DistrictRow], counts: list[int], min_group: int) -> None:
    """Hide the small districts, then as many of the next smallest as it takes for the hidden
    ones together to hold at least ``min_group`` households (or none at all)."""
    hidden = {i for i, count in enumerate(counts) if count < min_group}
    shown = sorted((i for i in range(len(rows)) if i not in hidden), key=lambda i: counts[i])
    for i in hidden:
        rows[i].figures, rows[i].hidden = None, Hidden.SMALL
    while shown and 0 < sum(counts[i] for i in hidden) < min_group:
        i = shown.pop(0)
        hidden.add(i)
        rows[i].figures, rows[i].hidden = None, Hidden.PROTECTING


def district_totals(
    session: Session,
    actor: User,
    city: City,
    campaign_id: int | None = None,
) -> DistrictTotals:
    """Per commodity and district: households taking part, their consumption and savings
    since the campaign's start (each household from the day it joined), suppressed where a
    group is smaller than ``ENERGY_MIN_GROUP``."""
    ensure(actor, "energy.district", city)
    campaign = _campaign(session, city, campaign_id)
    min_group = current_app.config["ENERGY_MIN_GROUP"]
    since = campaign_start(campaign) if campaign is not None else None
    result = DistrictTotals(campaign, since, min_group)
    people = _taking_part(session, city, campaign)
    if people is None:
        return result
    listed = list(city.districts or [])
    district_of: dict[int, str | None] = {}
    groups: dict[tuple[str, str], dict[str | None, Figures]] = defaultdict(dict)
    for user_id, commodity, unit, district in session.execute(
        sa.select(Meter.user_id, Meter.commodity, Meter.unit, Household.district)
        .outerjoin(Household, Household.user_id == Meter.user_id)
        .where(Meter.city_id == city.id, Meter.user_id.in_(people))
        .distinct()
    ):
        district_of[user_id] = district if district in listed else None
        group = groups[(commodity, unit)]
        group.setdefault(district_of[user_id], Figures()).households += 1
    counted = [
        FeedbackReport.city_id == city.id,
        FeedbackReport.period == FeedbackPeriod.WEEK.value,
        FeedbackReport.user_id.in_(people),
        sa.or_(Household.joined_on.is_(None), FeedbackReport.starts_on >= Household.joined_on),
    ]
    if since is not None:
        counted.append(FeedbackReport.starts_on >= since)
    with_saving = sa.case(
        (FeedbackReport.saving.is_not(None), FeedbackReport.consumption + FeedbackReport.saving)
    )
    for user_id, commodity, unit, used, saved, expected in session.execute(
        sa.select(
            FeedbackReport.user_id,
            Meter.commodity,
            Meter.unit,
            sa.func.sum(FeedbackReport.consumption),
            sa.func.sum(FeedbackReport.saving),
            sa.func.sum(with_saving),
        )
        .join(Meter, Meter.id == FeedbackReport.meter_id)
        .outerjoin(Household, Household.user_id == FeedbackReport.user_id)
        .where(*counted)
        .group_by(FeedbackReport.user_id, Meter.commodity, Meter.unit)
    ):
        if user_id not in district_of:
            continue
        figures = groups.get((commodity, unit), {}).get(district_of[user_id])
        if figures is not None:
            figures.add(used, saved, expected)
    order = {commodity: i for i, commodity in enumerate(Commodity)}
    for (commodity, unit), group in sorted(
        groups.items(), key=lambda item: (order.get(item[0][0], 99), item[0])
    ):
        names = [*listed, *([None] if None in group else [])]
        figures = [group.get(name) or Figures() for name in names]
        rows = [DistrictRow(name, f) for name, f in zip(names, figures, strict=True)]
        _suppress(rows, [f.households for f in figures], min_group)
        total = Figures()
        for f in figures:
            total.households += f.households
            total.add(f.consumption, f.saving, f.expected)
        shown_total = total if total.households >= min_group else None
        result.tables.append(CommodityTotals(commodity, unit, rows, shown_total))
    return result
