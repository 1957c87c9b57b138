"""Retention in the console: how long each kind of data is kept and what happens after, and
the reports of the runs that removed it (when, started by what, how many per policy,
failures), the latest first, in pages.

The periods and runs are the deployment's, the same in every city: the counts name no city
and no person. The city's administrators (and platform administrators) read them (policy
``retention.read``); changing a period is the operator's (``RETENTION_<NAME>_DAYS``).
"""

from datetime import datetime

import sqlalchemy as sa
from flask import current_app, render_template
from flask_login import login_required

from app.console.blueprint import bp
from app.console.paging import page_number, paginate
from app.console.scoping import actor, console_city
from app.extensions import db
from app.policy import ensure
from i18n import _l
from privacy.models import PurgeRun
from privacy.retention import POLICIES

TRIGGER_NAMES = {
    "scheduler": _l("Scheduler"),
    "command": _l("Command line"),
}


def _cutoffs(run: PurgeRun) -> dict[str, datetime]:
    """The run's cut-offs as times; one that does not read as a time is left out."""
    read = {}
    for name, text in (run.cutoffs or {}).items():
        try:
            read[name] = datetime.fromisoformat(text)
        except (TypeError, ValueError):
            continue
    return read


@bp.get("/<city_slug>/retention")
@login_required
def retention(city_slug: str):
    city = console_city(city_slug)
    ensure(actor(), "retention.read", city)
    query = sa.select(PurgeRun).order_by(PurgeRun.started_at.desc(), PurgeRun.id.desc())
    page = paginate(db.session, query, page_number())
    config = current_app.config
    return render_template(
        "console/retention.html",
        city=city,
        policies=[(policy, policy.days(config)) for policy in POLICIES],
        labels={policy.name: policy.label for policy in POLICIES},
        page=page,
        cutoffs={run.id: _cutoffs(run) for run in page.items},
        trigger_names=TRIGGER_NAMES,
    )
