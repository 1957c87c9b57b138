"""A city's (or one campaign's) energy use as aggregate tables: per commodity, households by
district and month, with the month's total and the median household's use.

Households of the population are those whose owner's latest research consent stands (and,
for a campaign, whose household joined it); readings count in the month (city's time zone)
their interval starts in. Days that deleted accounts left for research (``KeptMeterDay``)
count as households of unknown district, in whole-city tables only: they are tied to no
campaign. A district the city no longer lists is as good as none (energy/district.py).

The window is the request's (days in the city's time zone), else the last twelve complete
months before the request. Sums are made in SQL per household and month, so the readings
themselves (15-minute ones included) never leave the database; medians are taken here over
the households' sums. Totals in Wh are given in kWh; gas by volume in m³, water in litres.
"""

from collections import defaultdict
from datetime import date, timedelta
from statistics import median
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import City
from energy.models import Commodity, Household, Meter, Reading, Unit
from i18n import _, _l
from i18n.content import pick
from research.models import KeptMeterDay, ResearchExport
from research.options import ExportOptions
from research.population import campaign_of, consent_notes, local_bounds, research_consenters
from research.table import TOTAL, Aggregate, Cell, Kind, Table, Variable

#: Same words as the console's energy pages.
COMMODITY_NAMES = {
    Commodity.ELECTRICITY: _l("Electricity"),
    Commodity.DISTRICT_HEAT: _l("District heat"),
    Commodity.GAS: _l("Gas"),
    Commodity.WATER: _l("Water"),
}
#: Unit shown, and the factor from the base unit to it.
SHOWN_UNITS = {
    Unit.WH.value: ("kWh", 0.001),
    Unit.M3.value: ("m³", 1.0),
    Unit.LITRE.value: ("L", 1.0),
}
#: Decimals of totals and medians.
DECIMALS = 3
MONTHS = 12


def _months(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s."""
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def window(options: ExportOptions, requested: date) -> tuple[date, date]:
    """The local days counted: the request's window, by default the twelve complete months
    before the day it was made."""
    default_last = requested.replace(day=1) - timedelta(days=1)
    last = options.ends_on or default_last
    first = options.starts_on
    if first is None:
        first = last.replace(day=1)
        for _month in range(MONTHS - 1):
            first = (first - timedelta(days=1)).replace(day=1)
    return first, last


def build_energy(session: Session, export: ResearchExport, options: ExportOptions) -> list[Table]:
    """An ``energy_<commodity>`` aggregate per commodity with readings in the window."""
    city = session.get(City, export.city_id)
    campaign = campaign_of(session, export) if export.subject_id is not None else None
    zone = ZoneInfo(city.timezone)
    requested = (export.requested_at or utcnow()).astimezone(zone).date()
    first, last = window(options, requested)
    months = _months(first, last) if first <= last else []
    month_names = [month.strftime("%Y-%m") for month in months]
    lower, upper = local_bounds(zone, first, last)
    people = research_consenters(city.id)
    listed = frozenset(city.districts or [])
    unknown = _("no district")

    # household key → (commodity, unit) → month index → sum in the base unit
    use: dict[tuple, dict[tuple, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    district_of: dict[tuple, str] = {}
    meters = [Meter.city_id == city.id]
    if campaign is not None:
        meters.append(
            Meter.user_id.in_(
                sa.select(Household.user_id).where(
                    Household.campaign_id == campaign.id, Household.city_id == city.id
                )
            )
        )
    notes: dict[tuple, dict] = {}
    if months:
        _add_households(session, meters, people, zone, months, (lower, upper), use)
        for user_id, district in session.execute(
            sa.select(Household.user_id, Household.district).where(
                Household.city_id == city.id, Household.user_id.in_(people)
            )
        ):
            if district in listed:
                district_of[("u", user_id)] = district
        notes = _household_counts(session, meters, people, lower, upper)
        if campaign is None:
            _add_kept(session, city, months, first, last, use, notes)

    tables = _tables(use, district_of, unknown, month_names, notes)
    common = {
        "window": {"starts_on": first.isoformat(), "ends_on": last.isoformat()},
        "months": month_names,
    }
    if campaign is not None:
        common["campaign"] = pick(campaign.title, export.locale, city.default_locale)[0]
    for table in tables:
        table.notes = {**common, **table.notes}
    if not tables:
        # Nothing to show still makes a (documented, empty) table.
        tables = [_aggregate("energy", _("Energy use"), "", {}, {**common, **consent_notes(0, 0)})]
    return tables


def _add_households(
    session: Session,
    meters: list,
    people: sa.Select,
    zone: ZoneInfo,
    months: list[date],
    bounds: tuple,
    use: dict,
) -> None:
    """Add the population's households: their readings summed per month in SQL."""
    lower, upper = bounds
    starts = [local_bounds(zone, month, None)[0] for month in months[1:]]
    month = sa.case(
        *[(Reading.start_at < start, i) for i, start in enumerate(starts)],
        else_=len(months) - 1,
    )
    readings = (
        sa.select(
            Meter.user_id.label("user_id"),
            Meter.commodity.label("commodity"),
            Meter.unit.label("unit"),
            month.label("month"),
            Reading.value.label("value"),
        )
        .join(Meter, Meter.id == Reading.meter_id)
        .where(
            *meters,
            Meter.user_id.in_(people),
            Reading.start_at >= lower,
            Reading.start_at < upper,
        )
        .subquery()
    )
    # Grouped over a subquery: PostgreSQL then groups by a column, not by an expression
    # whose parameters it would take for different ones.
    for user_id, commodity, unit, index, total in session.execute(
        sa.select(
            readings.c.user_id,
            readings.c.commodity,
            readings.c.unit,
            readings.c.month,
            sa.func.sum(readings.c.value),
        ).group_by(readings.c.user_id, readings.c.commodity, readings.c.unit, readings.c.month)
    ):
        use[("u", user_id)][(commodity, unit)][int(index)] = float(total or 0.0)


def _household_counts(session: Session, meters: list, people, lower, upper) -> dict:
    """Per (commodity, unit): households with readings in the window, and of those the ones
    in the population."""
    read = (
        sa.select(Reading.meter_id)
        .where(Reading.meter_id == Meter.id, Reading.start_at >= lower, Reading.start_at < upper)
        .exists()
    )
    in_population = sa.case((Meter.user_id.in_(people), Meter.user_id))
    counts = {}
    for commodity, unit, considered, included in session.execute(
        sa.select(
            Meter.commodity,
            Meter.unit,
            sa.func.count(sa.distinct(Meter.user_id)),
            sa.func.count(sa.distinct(in_population)),
        )
        .where(*meters, read)
        .group_by(Meter.commodity, Meter.unit)
    ):
        counts[(commodity, unit)] = consent_notes(int(considered), int(included))
    return counts


def _add_kept(
    session: Session,
    city: City,
    months: list[date],
    first: date,
    last: date,
    use: dict,
    notes: dict,
) -> None:
    """Add the kept days of deleted accounts, a household per series."""
    month = sa.case(
        *[(KeptMeterDay.day < start, i) for i, start in enumerate(months[1:])],
        else_=len(months) - 1,
    )
    days = (
        sa.select(
            KeptMeterDay.series.label("series"),
            KeptMeterDay.commodity.label("commodity"),
            KeptMeterDay.unit.label("unit"),
            month.label("month"),
            KeptMeterDay.amount.label("amount"),
        )
        .where(KeptMeterDay.city_id == city.id, KeptMeterDay.day >= first, KeptMeterDay.day <= last)
        .subquery()
    )
    kept: dict[tuple, set] = defaultdict(set)
    for series, commodity, unit, index, total in session.execute(
        sa.select(
            days.c.series, days.c.commodity, days.c.unit, days.c.month, sa.func.sum(days.c.amount)
        ).group_by(days.c.series, days.c.commodity, days.c.unit, days.c.month)
    ):
        use[("k", series)][(commodity, unit)][int(index)] = float(total or 0.0)
        kept[(commodity, unit)].add(series)
    for group, series in kept.items():
        counts = notes.setdefault(group, consent_notes(0, 0))
        counts["kept_series"] = len(series)
        counts["records_considered"] += len(series)
        counts["records_included"] += len(series)


def _tables(
    use: dict, district_of: dict, unknown: str, month_names: list[str], notes: dict
) -> list[Aggregate]:
    """One aggregate per (commodity, unit) present, in the commodities' usual order."""
    values: dict[tuple, dict[tuple, list[float]]] = defaultdict(lambda: defaultdict(list))
    for household, groups in use.items():
        district = district_of.get(household, unknown)
        for group, by_month in groups.items():
            cells = values[group]
            for index, amount in by_month.items():
                cells[(district, month_names[index])].append(amount)
                cells[(TOTAL, month_names[index])].append(amount)
            total = sum(by_month.values())
            cells[(district, TOTAL)].append(total)
            cells[(TOTAL, TOTAL)].append(total)
    order = {commodity.value: i for i, commodity in enumerate(Commodity)}
    groups = sorted(values, key=lambda group: (order.get(group[0], 99), group))
    units_of: dict[str, int] = defaultdict(int)
    for commodity, _unit in groups:
        units_of[commodity] += 1
    tables = []
    for commodity, unit in groups:
        shown, factor = SHOWN_UNITS.get(unit, (unit, 1.0))
        name = f"energy_{commodity}"
        if units_of[commodity] > 1:
            # Gas measured as energy and gas measured by volume do not add up.
            name = f"{name}_{unit.lower()}"
        cells = {
            place: Cell(
                len(amounts),
                (
                    round(sum(amounts) * factor, DECIMALS),
                    round(median(amounts) * factor, DECIMALS),
                ),
            )
            for place, amounts in values[(commodity, unit)].items()
        }
        label = COMMODITY_NAMES.get(commodity)
        title = _(
            "Energy use: %(commodity)s (%(unit)s)",
            commodity=str(label) if label else commodity,
            unit=shown,
        )
        table_notes = {"commodity": commodity, "unit": shown, **notes.get((commodity, unit), {})}
        tables.append(_aggregate(name, title, shown, cells, table_notes))
    return tables


def _aggregate(name: str, title: str, unit: str, cells: dict, notes: dict) -> Aggregate:
    return Aggregate(
        name=name,
        title=title,
        row=Variable("district", Kind.STRING, _("District"), source="households.district"),
        column=Variable("month", Kind.STRING, _("Month"), source="YYYY-MM"),
        count=Variable(
            "households",
            Kind.INTEGER,
            _("Households with readings"),
            source=_("households of the population, and series kept after account deletion"),
        ),
        measures=[
            Variable(
                "total",
                Kind.NUMBER,
                _("Total use (%(unit)s)", unit=unit) if unit else _("Total use"),
            ),
            Variable(
                "median",
                Kind.NUMBER,
                _("Median use per household (%(unit)s)", unit=unit)
                if unit
                else _("Median use per household"),
            ),
        ],
        cells=cells,
        notes=notes,
    )
