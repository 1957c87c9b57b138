"""The district view of energy feedback in the console: per commodity and district, how many
households take part, their consumption and their savings since the campaign started, in
aggregate only, on the page and as CSV.

The city's staff and administrators read it (policy ``energy.district``). Groups under the
minimum size show no figures, and ``energy.district`` hides more where the others would
reveal them; nothing here names a household.
"""

import csv
import io
import logging

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import Response, abort, render_template, request
from flask_login import login_required

from app.console.blueprint import bp
from app.console.energy_views import COMMODITY_NAMES, energy_city
from app.console.scoping import actor
from app.console.translations import Shown
from app.db import utcnow
from app.extensions import db
from app.models import City
from app.spreadsheet import BOM, neutralised
from campaigns.models import Campaign
from energy import district
from energy.district import DistrictTotals, Figures, Hidden
from i18n import _l, current_locale

log = logging.getLogger("livinglab.console")

#: The meters' base unit → the unit shown, its factor and the decimals shown.
DISPLAY_UNITS = {
    "Wh": ("kWh", 1e-3, 0),
    "m3": ("m³", 1.0, 1),
    "L": ("L", 1.0, 0),
    "%": ("%", 1.0, 1),
}
HIDDEN_NOTES = {
    Hidden.SMALL: _l("Fewer than %(min)d households: no figures are shown."),
    Hidden.PROTECTING: _l("Hidden so that a smaller district's figures cannot be worked out."),
}
NO_DISTRICT = _l("No district given")
WHOLE_CITY = _l("Whole city")
CSV_COLUMNS = (
    "commodity",
    "unit",
    "district",
    "households",
    "consumption",
    "saving",
    "saving_percent",
    "note",
)


def _campaign_id() -> int | None:
    """The campaign filter (``?campaign=ID``, empty for none); 400 for anything else."""
    if set(request.args) - {"campaign"}:
        abort(400)
    text = request.args.get("campaign", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 10:
        abort(400)
    return int(text)


def _campaigns(city: City) -> list[dict]:
    locale = current_locale()
    campaigns = db.session.scalars(
        sa.select(Campaign).where(Campaign.city_id == city.id).order_by(Campaign.created_at.desc())
    )
    return [
        {"id": c.id, "title": Shown.of(c.title, locale, city), "slug": c.slug} for c in campaigns
    ]


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    _shown, factor, digits = DISPLAY_UNITS.get(unit, (unit, 1.0, 0))
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value * factor, pattern, locale=current_locale())


def _percent(figures: Figures | None) -> str:
    if figures is None or figures.saving_pct is None:
        return ""
    return format_decimal(figures.saving_pct, "#,##0.0", locale=current_locale()) + " %"


def _note(hidden: Hidden | None, min_group: int) -> str:
    return str(HIDDEN_NOTES[hidden]) % {"min": min_group} if hidden else ""


@bp.get("/<city_slug>/energy/districts")
@login_required
def energy_districts(city_slug: str):
    city = energy_city(city_slug, "energy.district")
    campaign_id = _campaign_id()
    totals = district.district_totals(db.session, actor(), city, campaign_id)
    return render_template(
        "console/energy_districts.html",
        city=city,
        totals=totals,
        campaign_id=campaign_id,
        campaigns=_campaigns(city),
        commodity_names=COMMODITY_NAMES,
        display_units=DISPLAY_UNITS,
        number=_number,
        percent=_percent,
        note=lambda hidden: _note(hidden, totals.min_group),
        no_district=NO_DISTRICT,
        whole_city=WHOLE_CITY,
    )


def _plain(value: float | None, unit: str) -> object:
    """A figure in the shown unit as a spreadsheet reads it: no grouping, a decimal point."""
    if value is None:
        return ""
    _shown, factor, digits = DISPLAY_UNITS.get(unit, (unit, 1.0, 0))
    return round(value * factor, digits) if digits else round(value * factor)


def _csv(totals: DistrictTotals) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for table in totals.tables:
        unit = DISPLAY_UNITS.get(table.unit, (table.unit,))[0].replace("³", "3")
        rows = [(row.district or str(NO_DISTRICT), row.figures, row.hidden) for row in table.rows]
        rows.append((str(WHOLE_CITY), table.total, Hidden.SMALL if table.total is None else None))
        for name, figures, hidden in rows:
            writer.writerow(
                [
                    table.commodity,
                    unit,
                    neutralised(name),
                    figures.households if figures else "",
                    _plain(figures.consumption, table.unit) if figures else "",
                    _plain(figures.saving, table.unit) if figures else "",
                    "" if figures is None else _plain(figures.saving_pct, "%"),
                    _note(hidden, totals.min_group),
                ]
            )
    return buffer.getvalue()


@bp.get("/<city_slug>/energy/districts.csv")
@login_required
def download_energy_districts(city_slug: str):
    city = energy_city(city_slug, "energy.district")
    campaign_id = _campaign_id()
    totals = district.district_totals(db.session, actor(), city, campaign_id)
    log.info(
        "energy district totals exported",
        extra={"city": city.slug, "user_id": actor().id, "campaign_id": campaign_id},
    )
    name = f"energy-districts-{city.slug}-{utcnow():%Y%m%d}.csv"
    return Response(
        _csv(totals),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
