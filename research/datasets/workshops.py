"""A campaign's workshops as one aggregate table: how many people of the population took part
in each workshop, and how.

Each registration of a person of the population counts once, in one outcome: attended
(checked in, from a seat or from the waitlist), no-show (a seat at a completed workshop and
no check-in), registered (a seat at a workshop not completed), waitlisted, invited, cancelled
(by the person) or removed (by a moderator). Totals per workshop, per outcome and overall are
cells too; the pipeline suppresses the small ones.
"""

from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from i18n import _, _lp
from i18n.content import pick
from research.models import ResearchExport
from research.options import ExportOptions
from research.population import campaign_of, consent_notes, research_consenters
from research.table import TOTAL, Aggregate, Cell, Kind, Table, Variable
from workshops.models import Registration, RegistrationStatus, Workshop, WorkshopStatus

#: The outcomes, in the order a reader expects them (in a context of their own: the same
#: words name other things elsewhere, such as a date column or a cancelled workshop).
OUTCOMES = {
    "registered": _lp("registration outcome", "Registered"),
    "attended": _lp("registration outcome", "Attended"),
    # TRANSLATORS: a person who had a seat at a workshop and did not come.
    "no_show": _lp("registration outcome", "Did not come"),
    "waitlisted": _lp("registration outcome", "On the waitlist"),
    "invited": _lp("registration outcome", "Invited"),
    # TRANSLATORS: a registration the person cancelled.
    "cancelled": _lp("registration outcome", "Cancelled"),
    # TRANSLATORS: a registration a moderator took off.
    "removed": _lp("registration outcome", "Removed"),
}


def _outcome() -> sa.Case:
    """The outcome of a registration, in SQL."""
    seat = Registration.status == RegistrationStatus.CONFIRMED.value
    return sa.case(
        (Registration.checked_in_at.is_not(None), "attended"),
        (sa.and_(seat, Workshop.status == WorkshopStatus.COMPLETED.value), "no_show"),
        (seat, "registered"),
        else_=Registration.status,
    )


def _in_window(day: date, options: ExportOptions) -> bool:
    return (options.starts_on is None or day >= options.starts_on) and (
        options.ends_on is None or day <= options.ends_on
    )


def build_workshops(
    session: Session, export: ResearchExport, options: ExportOptions
) -> list[Table]:
    """The ``participation`` aggregate of campaign ``export.subject_id``'s workshops."""
    campaign = campaign_of(session, export)
    city = campaign.city
    zone = ZoneInfo(city.timezone)
    workshops = session.execute(
        sa.select(Workshop.id, Workshop.title, Workshop.starts_at)
        .where(
            Workshop.campaign_id == campaign.id,
            Workshop.city_id == city.id,
            Workshop.status != WorkshopStatus.DRAFT.value,
        )
        .order_by(Workshop.starts_at, Workshop.id)
    ).all()
    # The window is on the day the workshop took place.
    workshops = [w for w in workshops if _in_window(w.starts_at.astimezone(zone).date(), options)]
    names = _row_names(workshops, export.locale, city.default_locale, zone)
    labels = {key: str(label) for key, label in OUTCOMES.items()}
    people = research_consenters(city.id)
    registrations = (
        sa.select(
            Registration.workshop_id.label("workshop_id"),
            _outcome().label("outcome"),
            sa.case((Registration.user_id.in_(people), 1), else_=0).label("counted"),
        )
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .where(Registration.workshop_id.in_(list(names)), Registration.city_id == city.id)
        .subquery()
    )
    # Grouped over a subquery: PostgreSQL then groups by a column, not by an expression
    # whose parameters it would take for different ones.
    counts = session.execute(
        sa.select(
            registrations.c.workshop_id,
            registrations.c.outcome,
            sa.func.count(),
            sa.func.sum(registrations.c.counted),
        ).group_by(registrations.c.workshop_id, registrations.c.outcome)
    ).all()
    cells: dict[tuple, Cell] = {}
    considered = included = 0
    for workshop_id, key, registrations, in_population in counts:
        considered += registrations
        included += in_population
        if not in_population or key not in labels:
            continue
        for place in (
            (names[workshop_id], labels[key]),
            (names[workshop_id], TOTAL),
            (TOTAL, labels[key]),
            (TOTAL, TOTAL),
        ):
            cell = cells.setdefault(place, Cell(0))
            cell.count += in_population
    table = Aggregate(
        name="participation",
        title=_("Participation in workshops"),
        row=Variable("workshop", Kind.STRING, _("Workshop"), source="workshops.title"),
        column=Variable(
            "outcome",
            Kind.STRING,
            _("Outcome of the registration"),
            source=", ".join(labels.values()),
        ),
        count=Variable("people", Kind.INTEGER, _("People"), source="workshop_registrations"),
        measures=[],
        cells=cells,
        notes={
            "campaign": pick(campaign.title, export.locale, city.default_locale)[0],
            "workshops": len(names),
            **consent_notes(considered, included),
        },
    )
    return [table]


def _row_names(workshops: list, locale: str, fallback: str, zone: ZoneInfo) -> dict[int, str]:
    """Each workshop's row: its title, with its day (then its number) when titles repeat."""
    titles = {w.id: pick(w.title, locale, fallback)[0] or _("Workshop") for w in workshops}
    repeated = Counter(titles.values())
    names: dict[int, str] = {}
    for w in workshops:
        name = titles[w.id]
        if repeated[name] > 1 or name == TOTAL:
            name = f"{name} ({w.starts_at.astimezone(zone).date().isoformat()})"
        if name in names.values():
            name = f"{name} #{w.id}"
        names[w.id] = name
    return names
