"""The moderation queue of a city, and moderators' decisions on ideas, comments and authors.

The queue lists flagged ideas and comments and ideas awaiting approval, the longest waiting
first, with what a moderator needs to decide: the board, the author, the text, the flags'
reasons and notes. The same decisions are taken inline there and on an idea's page; each needs
a reason the author reads, and ``ideas.moderation`` records it in the audit log. A refused
decision shows the page it came from again, with the message beside the form and what was
typed kept. The city's moderators and administrators decide (policy ``idea.moderate``).
"""

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.console.actions import problem_message
from app.console.blueprint import bp
from app.console.campaign_input import LocalTimeError, to_utc
from app.console.idea_labels import DECISION_NAMES, FLAG_REASON_NAMES, WHY_NAMES, decisions_for
from app.console.idea_views import idea_or_404, render_idea, to_idea
from app.console.paging import page_number, paginate
from app.console.scoping import actor, console_city
from app.console.translations import Shown
from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.models import City, User
from app.policy import can, ensure
from app.richtext import excerpt
from i18n import _, current_locale, format_datetime
from ideas import console_queries, moderation
from ideas.models import Comment, Idea
from ideas.queue import WHY, queue, queue_items
from ideas.service import author_name
from ideas.text import render

log = logging.getLogger("livinglab.console")

#: Characters of an item's text shown in the queue.
EXCERPT_LENGTH = 300
#: Names of the mute forms a page may show again with their errors (see ``_mute_key``).
_MUTE_KEY = re.compile(r"^mute-(idea|comment)-\d{1,10}$")


def _moderating_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "idea.moderate", city)
    return city


@bp.context_processor
def _waiting_for_moderators():
    """How many items wait in a city's queue, for the badge in its navigation; counted only
    when the navigation asks, for someone who moderates there."""

    def waiting(city: City) -> int:
        if not can(actor(), "idea.moderate", city):
            return 0
        return sum(console_queries.queue_counts(db.session, actor(), city).values())

    return {"waiting_for_moderators": waiting}


# --- the queue ------------------------------------------------------------------------------


def _why() -> str | None:
    why = request.values.get("why") or None
    if why is not None and why not in WHY:
        abort(400)
    return why


def render_queue(city: City, *, errors=None, typed=None, status: int = 200):
    why = _why()
    page = paginate(db.session, queue(actor(), city, why), page_number(), rows=True)
    items = queue_items(db.session, page.items)
    locale = current_locale()
    now = utcnow()
    authors = {item.author.id for item in items if item.author is not None}
    boards = {item.board.id: Shown.of(item.board.title, locale, city) for item in items}
    return render_template(
        "console/moderation_queue.html",
        city=city,
        page=page,
        items=items,
        why=why,
        counts=console_queries.queue_counts(db.session, actor(), city),
        board_titles=boards,
        mutes=console_queries.active_mutes(db.session, city, authors, now),
        excerpt=lambda text: excerpt(render(text), EXCERPT_LENGTH),
        errors=errors or {},
        typed=typed or {},
        author_name=author_name,
        decisions_for=decisions_for,
        why_names=WHY_NAMES,
        reason_names=FLAG_REASON_NAMES,
        decision_names=DECISION_NAMES,
    ), status


@bp.get("/<city_slug>/moderation")
@login_required
def moderation_queue(city_slug: str):
    return render_queue(_moderating_city(city_slug))


# --- where a decision came from -------------------------------------------------------------


def _from_queue() -> bool:
    return request.form.get("back") == "queue"


def _back_idea(city: City, default: Idea | None) -> Idea | None:
    """The idea page a form was sent from (an idea of this city), else ``default``."""
    value = request.form.get("idea", "")
    if value.isdigit() and len(value) <= 10:
        return idea_or_404(city, int(value))
    return default


def _done(city: City, idea: Idea | None, anchor: str | None = None):
    if _from_queue() or idea is None:
        page = request.form.get("page", "")
        number = int(page) if page.isdigit() and len(page) <= 6 else None
        url = url_for("console.moderation_queue", city_slug=city.slug, why=_why(), page=number)
        return redirect(url, 303)
    return to_idea(idea, anchor)


def _mute_key() -> str:
    """Which mute form of the page was sent (a page may hold one per item)."""
    key = request.form.get("key", "")
    return key if _MUTE_KEY.match(key) else "mute"


def _again(city: City, idea: Idea | None, key: str, errors: dict, typed: object):
    """The page the form came from, again, with its errors and what was typed (422)."""
    if _from_queue() or idea is None:
        return render_queue(city, errors={key: errors}, typed={key: typed}, status=422)
    return render_idea(city, idea, errors={key: errors}, typed={key: typed}, status=422)


def _refused(city: City, idea: Idea | None, error: Conflict | NotAllowed):
    db.session.rollback()
    flash(problem_message(error), "error")
    return _done(city, idea)


# --- decisions ------------------------------------------------------------------------------


def _decide(city: City, item: Idea | Comment, idea: Idea, key: str):
    reason = request.form.get("reason", "")
    decision = request.form.get("decision", "")
    try:
        moderation.decide(db.session, actor(), item, decision, reason)
    except Invalid as error:
        db.session.rollback()
        return _again(city, idea, key, error.errors or {}, reason)
    except Conflict as error:
        return _refused(city, idea, error)
    db.session.commit()
    kind = "idea" if isinstance(item, Idea) else "comment"
    log.info(
        "moderation decision",
        extra={"kind": kind, "item_id": item.id, "decision": decision, "user_id": actor().id},
    )
    flash(_("Your decision is saved. The author is told when it changes what they see."), "success")
    return _done(city, idea, None if kind == "idea" else f"comment-{item.id}")


@bp.post("/<city_slug>/ideas/<int:idea_id>/decide")
@login_required
def decide_idea(city_slug: str, idea_id: int):
    city = _moderating_city(city_slug)
    idea = idea_or_404(city, idea_id)
    return _decide(city, idea, idea, f"idea-{idea.id}" if _from_queue() else "idea")


@bp.post("/<city_slug>/comments/<int:comment_id>/decide")
@login_required
def decide_comment(city_slug: str, comment_id: int):
    city = _moderating_city(city_slug)
    comment = console_queries.comment_of_city(db.session, city, comment_id)
    idea = _back_idea(city, comment.idea)
    return _decide(city, comment, idea, f"comment-{comment.id}")


# --- muting authors -------------------------------------------------------------------------


def _until(city: City, text: str) -> datetime | None:
    """The end of a mute typed on the city's clock; raises Invalid when it is no time."""
    if not text:
        return None
    try:
        return to_utc(text, ZoneInfo(city.timezone))
    except LocalTimeError as error:
        raise Invalid(errors={"until": [str(error)]}) from None


def _change_posting(city_slug: str, user_id: int, change, event: str):
    """Pause or resume an author's posting: ``change(city, person, typed)`` calls the service
    and returns what to tell the moderator; a refusal shows the page it came from again."""
    city = _moderating_city(city_slug)
    person = console_queries.person_of_city(db.session, city, user_id)
    idea = _back_idea(city, None)
    typed = {key: request.form.get(key, "").strip() for key in ("reason", "until")}
    try:
        message = change(city, person, typed)
    except Invalid as error:
        db.session.rollback()
        return _again(city, idea, _mute_key(), error.errors or {}, typed)
    except (Conflict, NotAllowed) as error:
        return _refused(city, idea, error)
    db.session.commit()
    log.info(event, extra={"person_id": person.id, "user_id": actor().id})
    flash(message, "success")
    return _done(city, idea)


@bp.post("/<city_slug>/authors/<int:user_id>/mute")
@login_required
def mute_author(city_slug: str, user_id: int):
    def mute(city: City, person: User, typed: dict) -> str:
        until = _until(city, typed["until"])
        made = moderation.mute_author(db.session, actor(), city, person, typed["reason"], until)
        name = author_name(person)
        if made.until is None:
            return _("%(name)s can no longer post here until a moderator lifts it.", name=name)
        when = format_datetime(made.until, "short")
        return _("%(name)s can no longer post here until %(when)s.", name=name, when=when)

    return _change_posting(city_slug, user_id, mute, "author muted")


@bp.post("/<city_slug>/authors/<int:user_id>/unmute")
@login_required
def unmute_author(city_slug: str, user_id: int):
    def unmute(city: City, person: User, typed: dict) -> str:
        moderation.unmute_author(db.session, actor(), city, person, typed["reason"])
        return _("%(name)s can post here again.", name=author_name(person))

    return _change_posting(city_slug, user_id, unmute, "author unmuted")
