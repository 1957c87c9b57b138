"""One idea in the console: its text, author, flags, comments and the city's answers; the
official status staff set; and merging a duplicate into another idea of its board.

Residents' texts are plain text with a small markdown subset: they are shown through
``ideas.text.render`` (markdown without HTML, then the allow-list sanitiser), and titles,
names and notes are escaped like any other text. Moderators act on an idea from here
(``app.console.moderation_views`` takes the decisions and shows this page again when one is
refused); staff, administrators and moderators answer it (policy ``idea.answer``).
"""

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.console.blueprint import bp
from app.console.idea_board_views import board_title, reading_city, rendered
from app.console.idea_labels import (
    COMMENT_STATE_NAMES,
    DECISION_NAMES,
    FLAG_REASON_NAMES,
    IDEA_STATE_NAMES,
    decisions_for,
)
from app.console.paging import page_number, paginate
from app.console.scoping import actor, console_city, refused
from app.console.survey_input import texts_from
from app.console.translations import Shown
from app.db import utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import City
from app.policy import can, ensure
from i18n import _, current_locale
from ideas import answers, comments, console_queries, merge, similar
from ideas.answers import STATUS_LABELS
from ideas.models import Comment, Idea, IdeaStatusChange, OfficialStatus
from ideas.service import author_name

log = logging.getLogger("livinglab.console")

#: Top-level comments per page of the thread (each with its replies).
THREAD_PAGE = 30


def _moderating_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "idea.moderate", city)
    return city


def idea_or_404(city: City, idea_id: int) -> Idea:
    return console_queries.idea_of_city(db.session, actor(), city, idea_id)


def to_idea(idea: Idea, anchor: str | None = None, code: int = 303):
    url = url_for("console.show_idea", city_slug=idea.board.city.slug, idea_id=idea.id)
    return redirect(f"{url}#{anchor}" if anchor else url, code)


def _responses(city: City, change: IdeaStatusChange) -> list[dict]:
    """The response of one answer in each language of the city, side by side."""
    return [
        {"locale": loc, "html": rendered(change.response.get(loc))} for loc in city.enabled_locales
    ]


def _history(city: City, idea: Idea) -> list[dict]:
    changes = answers.history(db.session, idea)
    people = console_queries.people_by_id(db.session, {c.actor_id for c in changes})
    return [
        {
            "change": change,
            "by": people.get(change.actor_id),
            "responses": _responses(city, change),
            "missing": answers.missing_translations(city, change),
        }
        for change in changes
    ]


def _thread(idea: Idea) -> tuple:
    """A page of the idea's top-level comments, their replies, and every comment shown."""
    query = comments.thread(actor(), idea).order_by(Comment.created_at, Comment.id)
    page = paginate(db.session, query, page_number(), THREAD_PAGE)
    replies = comments.replies_to(db.session, actor(), idea, [c.id for c in page.items])
    return page, replies, [*page.items, *(r for group in replies.values() for r in group)]


def render_idea(
    city: City,
    idea: Idea,
    *,
    errors: dict | None = None,
    typed: dict | None = None,
    status: int = 200,
):
    """The idea page; ``errors`` and ``typed`` (by form key) refill a refused form."""
    board = idea.board
    page, replies, shown = _thread(idea)
    authors = {idea.author_id, *(c.author_id for c in shown)}
    locale = current_locale()
    categories = {c["code"]: c["label"] for c in board.categories or []}
    return render_template(
        "console/idea.html",
        city=city,
        idea=idea,
        board=board,
        board_heading=board_title(board),
        body=rendered(idea.body),
        category=Shown.of(categories[idea.category], locale, city)
        if idea.category in categories
        else None,
        flags=console_queries.flags_of(db.session, idea),
        thread=page,
        replies=replies,
        comment_flags=console_queries.open_flag_reasons(db.session, shown),
        mutes=console_queries.active_mutes(db.session, city, authors, utcnow()),
        history=_history(city, idea),
        errors=errors or {},
        typed=typed or {},
        rendered=rendered,
        author_name=author_name,
        decisions_for=decisions_for,
        state_names=IDEA_STATE_NAMES,
        comment_state_names=COMMENT_STATE_NAMES,
        reason_names=FLAG_REASON_NAMES,
        decision_names=DECISION_NAMES,
        official_names=STATUS_LABELS,
        official_statuses=tuple(OfficialStatus),
        may_moderate=can(actor(), "idea.moderate", city),
        may_answer=can(actor(), "idea.answer", city),
    ), status


@bp.get("/<city_slug>/ideas/<int:idea_id>")
@login_required
def show_idea(city_slug: str, idea_id: int):
    city = reading_city(city_slug)
    return render_idea(city, idea_or_404(city, idea_id))


# --- the city's answer ----------------------------------------------------------------------


@bp.post("/<city_slug>/ideas/<int:idea_id>/answer")
@login_required
def answer_idea(city_slug: str, idea_id: int):
    city = console_city(city_slug)
    ensure(actor(), "idea.answer", city)
    idea = idea_or_404(city, idea_id)
    status = request.form.get("status", "")
    response = texts_from(request.form, "response", city.enabled_locales)
    try:
        change = answers.set_official_status(db.session, actor(), idea, status, response)
    except Invalid as error:
        db.session.rollback()
        typed = {"answer": {"status": status, "response": response}}
        return render_idea(
            city, idea, errors={"answer": error.errors or {}}, typed=typed, status=422
        )
    except Conflict as error:
        return refused(error, to_idea(idea))
    db.session.commit()
    log.info(
        "idea answered",
        extra={"idea_id": idea.id, "user_id": actor().id, "status": change.status},
    )
    flash(
        _(
            "The idea is now “%(status)s”. Its author and supporters are being told.",
            status=STATUS_LABELS[OfficialStatus(change.status)],
        ),
        "success",
    )
    missing = answers.missing_translations(city, change)
    if missing:
        flash(_("The response is not written in every language of the city yet."), "info")
    return to_idea(idea, "history")


# --- merging a duplicate --------------------------------------------------------------------


def _merge_page(city: City, idea: Idea, target: Idea | None, status: int = 200, **extra):
    search = " ".join(request.args.get("q", "").split())[:200]
    candidates, suggested = [], []
    if target is None:
        candidates = console_queries.merge_candidates(db.session, idea, search)
        if not search:
            suggested = [
                (other, score)
                for other, score in similar.similar_ideas(
                    db.session, actor(), idea.board, idea.title, idea.body
                )
                if other.id != idea.id
            ]
    return render_template(
        "console/idea_merge.html",
        city=city,
        idea=idea,
        target=target,
        search=search,
        candidates=candidates,
        suggested=suggested,
        board_heading=board_title(idea.board),
        rendered=rendered,
        author_name=author_name,
        errors=extra.get("errors", {}),
        typed=extra.get("typed", ""),
    ), status


def _target_number(text: str | None) -> int | None:
    text = (text or "").strip().removeprefix("#")
    if not text:
        return None
    if not text.isdigit() or len(text) > 10:
        abort(400)
    return int(text)


@bp.route("/<city_slug>/ideas/<int:idea_id>/merge", methods=["GET", "POST"])
@login_required
def merge_idea(city_slug: str, idea_id: int):
    """Choose the idea a duplicate goes into (by title or number), confirm, merge."""
    city = _moderating_city(city_slug)
    idea = idea_or_404(city, idea_id)
    source = request.form if request.method == "POST" else request.args
    number = _target_number(source.get("target"))
    target = None
    if number is not None:
        target = console_queries.idea_on_board(db.session, idea.board, number)
    if request.method == "GET":
        return _merge_page(city, idea, target)
    if target is None:
        return _merge_page(city, idea, None, 422)
    reason = request.form.get("reason", "")
    try:
        merged = merge.merge_ideas(db.session, actor(), idea, target, reason)
    except Invalid as error:
        db.session.rollback()
        return _merge_page(city, idea, target, 422, errors=error.errors or {}, typed=reason)
    except Conflict as error:
        return refused(error, to_idea(idea))
    db.session.commit()
    log.info(
        "idea merged",
        extra={"idea_id": idea.id, "into": target.id, "user_id": actor().id},
    )
    flash(
        _(
            "The idea is merged. Supports moved: %(moved)d; supports given back to residents "
            "who supported both: %(freed)d.",
            moved=merged.moved,
            freed=merged.freed,
        ),
        "success",
    )
    return to_idea(target)
