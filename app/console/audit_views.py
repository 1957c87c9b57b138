"""The audit log of a city: who did what to what, when (in the city's time zone) and why.

Only the city's administrators (and platform administrators) read it (policy
``audit.read``). It can be narrowed to one action or one person and is read in pages, the
latest first. Subjects link to their page where the console has one.
"""

import re

from flask import abort, render_template, request
from flask_login import login_required

from app.audit import AuditEntry
from app.console.blueprint import bp
from app.console.idea_labels import AUDIT_ACTION_NAMES
from app.console.paging import page_number, paginate
from app.console.scoping import actor, console_city
from app.extensions import db
from i18n import _, ngettext
from ideas import console_queries
from ideas.answers import STATUS_LABELS
from ideas.service import author_name

#: What an action's name looks like (``idea.hide``, ``research.export.download``); anything
#: else is not a filter.
ACTION = re.compile(r"^[a-z_]{1,24}(\.[a-z_]{1,24}){1,2}$")


def _filters() -> tuple[str | None, int | None]:
    action = request.args.get("action") or None
    if action is not None and not ACTION.match(action):
        abort(400)
    person = request.args.get("person") or None
    if person is not None and not (person.isdigit() and len(person) <= 10):
        abort(400)
    return action, int(person) if person is not None else None


def describe(entry: AuditEntry) -> str:
    """The facts of an entry that explain it, in a sentence (or nothing)."""
    details = entry.details or {}
    if entry.action == "idea.merge" and "into" in details:
        return _(
            "Into idea %(number)d; supports moved: %(moved)d, given back: %(freed)d.",
            number=details["into"],
            moved=details.get("moved", 0),
            freed=details.get("freed", 0),
        )
    if entry.action == "idea.answer" and details.get("status") in STATUS_LABELS:
        return str(STATUS_LABELS[details["status"]])
    if entry.action.endswith(".auto_hide") and "flags" in details:
        count = details["flags"]
        return ngettext("After %(num)d flag.", "After %(num)d flags.", count)
    if details.get("flags"):
        count = details["flags"]
        return ngettext("%(num)d flag resolved.", "%(num)d flags resolved.", count)
    return ""


@bp.get("/<city_slug>/audit")
@login_required
def audit_log(city_slug: str):
    city = console_city(city_slug)
    action, person = _filters()
    query = console_queries.audit_entries(actor(), city, action, person)
    page = paginate(db.session, query, page_number())
    actions, people = console_queries.audit_filters(db.session, actor(), city)
    return render_template(
        "console/audit_log.html",
        city=city,
        page=page,
        action=action,
        person=person,
        actions=actions,
        people=people,
        subjects=console_queries.audit_subjects(db.session, city, page.items),
        action_names=AUDIT_ACTION_NAMES,
        describe=describe,
        author_name=author_name,
    )
