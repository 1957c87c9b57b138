"""Idea boards of a city in the console: list, create, edit, publish, switch phase, and a
board's ideas by state.

The city's moderators and administrators run boards (policy ``board.manage``); its staff read
them too, to find the ideas they answer. Everyone is checked on the city first, so staff are
refused an edit rather than told the board does not exist. Phase times are typed in the city's
time zone. Once supporting has started, the support budget and whether supports can be taken
back are shown read-only, since changing them would change the meaning of supports given.
"""

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup

from app.console.actions import problem_message
from app.console.blueprint import bp
from app.console.campaign_input import campaign_choices, chosen_campaign
from app.console.forms import sort_errors
from app.console.idea_board_input import (
    BoardForm,
    BoardTexts,
    NewBoardForm,
    PhaseForm,
    board_form_values,
)
from app.console.idea_labels import (
    BOARD_STATUS_NAMES,
    BOARD_TEXT_LABELS,
    IDEA_SORT_NAMES,
    IDEA_STATE_NAMES,
    LOCATION_NAMES,
    PHASE_NAMES,
)
from app.console.paging import page_number, paginate
from app.console.scoping import actor, console_city, refused
from app.console.translations import Shown, missing_by_field
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import City
from app.policy import ensure
from i18n import _, current_locale
from ideas import boards, console_queries
from ideas.answers import STATUS_LABELS
from ideas.board_settings import MAX_LABEL_LENGTH, MAX_LENGTH
from ideas.console_queries import IDEA_SORTS, IDEA_STATES
from ideas.models import Board
from ideas.service import author_name
from ideas.text import render

log = logging.getLogger("livinglab.console")

#: Longest search typed into a board's idea list.
MAX_SEARCH = 200
#: What the form of a new board starts with.
NEW_BOARD = {"flag_threshold": 3, "edit_minutes": 60, "supports_withdrawable": True}


def reading_city(city_slug: str) -> City:
    city = console_city(city_slug)
    console_queries.ensure_reader(actor(), city)
    return city


def _managing_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "board.manage", city)
    return city


def board_or_404(city: City, board_id: int) -> Board:
    return console_queries.board_of_city(db.session, actor(), city, board_id)


def to_board(board: Board, code: int = 303):
    return redirect(
        url_for("console.show_idea_board", city_slug=board.city.slug, board_id=board.id), code
    )


def board_title(board: Board) -> Shown:
    return Shown.of(board.title, current_locale(), board.city)


def rendered(text: str | None) -> Markup:
    """A resident's or the city's text as the sanitised HTML of its markdown subset."""
    return Markup(render(text))  # noqa: S704  (render sanitises with the allow-list)


# --- reading --------------------------------------------------------------------------------


@bp.get("/<city_slug>/boards")
@login_required
def list_idea_boards(city_slug: str):
    city = reading_city(city_slug)
    locale = current_locale()
    rows = [
        {
            "row": row,
            "title": Shown.of(row.board.title, locale, city),
            "campaign": Shown.of(row.board.campaign.title, locale, city),
        }
        for row in console_queries.boards_of_city(db.session, actor(), city)
    ]
    return render_template(
        "console/idea_boards.html",
        city=city,
        rows=rows,
        status_names=BOARD_STATUS_NAMES,
        phase_names=PHASE_NAMES,
    )


def _choice(name: str, allowed, default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        abort(400)
    return value


@bp.get("/<city_slug>/boards/<int:board_id>")
@login_required
def show_idea_board(city_slug: str, board_id: int):
    """The board's settings and its ideas, by state, sorted, searched by title, in pages."""
    city = reading_city(city_slug)
    board = board_or_404(city, board_id)
    state = _choice("state", IDEA_STATES, IDEA_STATES[0])
    sort = _choice("sort", IDEA_SORTS, "newest")
    search = " ".join(request.args.get("q", "").split())
    if len(search) > MAX_SEARCH:
        abort(400)
    page = paginate(
        db.session, console_queries.board_ideas(board, state, sort, search), page_number()
    )
    locale = current_locale()
    return render_template(
        "console/idea_board.html",
        city=city,
        board=board,
        heading=board_title(board),
        description=Shown.of(board.description, locale, city),
        rendered=rendered,
        campaign_title=Shown.of(board.campaign.title, locale, city),
        categories={c["code"]: Shown.of(c["label"], locale, city) for c in board.categories or []},
        missing=missing_by_field(board, MAX_LENGTH, city.enabled_locales, {"title"}),
        labels=BOARD_TEXT_LABELS,
        page=page,
        state=state,
        sort=sort,
        search=search,
        counts=console_queries.state_counts(db.session, board, search),
        states=IDEA_STATES,
        state_names=IDEA_STATE_NAMES,
        sort_names=IDEA_SORT_NAMES,
        status_names=BOARD_STATUS_NAMES,
        phase_names=PHASE_NAMES,
        location_names=LOCATION_NAMES,
        official_names=STATUS_LABELS,
        phase_form=PhaseForm(phase=board.phase),
        author_name=author_name,
    )


# --- writing --------------------------------------------------------------------------------


def _form_page(city, form, typed, errors=None, board=None, status=200):
    errors = errors or {}
    if isinstance(form, NewBoardForm):
        form.campaign.choices = campaign_choices(city)
    return render_template(
        "console/idea_board_form.html",
        city=city,
        form=form,
        typed=typed,
        errors=errors,
        has_errors=bool(errors or form.errors),
        board=board,
        heading=board_title(board) if board is not None else None,
        labels=BOARD_TEXT_LABELS,
        max_length=MAX_LENGTH,
        label_length=MAX_LABEL_LENGTH,
    ), status


def _sort_errors(form: BoardForm, error: Invalid) -> dict[str, list[str]]:
    fields = {name: field for name, field in form._fields.items() if name != "csrf_token"}
    return sort_errors(error, fields, {*MAX_LENGTH, "categories"})


@bp.route("/<city_slug>/boards/new", methods=["GET", "POST"])
@login_required
def new_idea_board(city_slug: str):
    city = _managing_city(city_slug)
    if request.method == "GET":
        form = NewBoardForm(data={**NEW_BOARD, "campaign": request.args.get("campaign", "")})
        return _form_page(city, form, BoardTexts.blank(city))
    form = NewBoardForm()
    typed = BoardTexts.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        campaign = chosen_campaign(city, form.campaign)
        settings = form.settings(voting_frozen=False)
        if campaign is not None and not form.errors:
            try:
                board = boards.create_board(
                    db.session, actor(), campaign, **typed.service_values(), **settings
                )
            except Invalid as error:
                db.session.rollback()
                errors = _sort_errors(form, error)
            except Conflict as error:
                db.session.rollback()
                form.campaign.errors = [problem_message(error)]
            else:
                db.session.commit()
                log.info(
                    "idea board created",
                    extra={"board_id": board.id, "user_id": actor().id, "city": city.slug},
                )
                flash(_("The board is saved as a draft. Residents do not see it yet."), "success")
                return to_board(board)
    return _form_page(city, form, typed, errors, status=422)


@bp.route("/<city_slug>/boards/<int:board_id>/edit", methods=["GET", "POST"])
@login_required
def edit_idea_board(city_slug: str, board_id: int):
    city = _managing_city(city_slug)
    board = board_or_404(city, board_id)
    if request.method == "GET":
        form = BoardForm(data=board_form_values(board))
        return _form_page(city, form, BoardTexts.of(board), board=board)
    form = BoardForm()
    typed = BoardTexts.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        settings = form.settings(voting_frozen=board.voting_started_at is not None)
        if not form.errors:
            try:
                boards.update_board(
                    db.session, actor(), board, **typed.service_values(), **settings
                )
            except Invalid as error:
                db.session.rollback()
                errors = _sort_errors(form, error)
            except Conflict as error:
                return refused(error, to_board(board))
            else:
                db.session.commit()
                log.info("idea board changed", extra={"board_id": board.id, "user_id": actor().id})
                flash(_("Your changes are saved."), "success")
                return to_board(board)
    return _form_page(city, form, typed, errors, board=board, status=422)


@bp.post("/<city_slug>/boards/<int:board_id>/publish")
@login_required
def publish_idea_board(city_slug: str, board_id: int):
    city = _managing_city(city_slug)
    board = board_or_404(city, board_id)
    try:
        boards.publish_board(db.session, actor(), board)
    except Conflict as error:
        return refused(error, to_board(board))
    db.session.commit()
    log.info("idea board published", extra={"board_id": board.id, "user_id": actor().id})
    flash(
        _("The board is published: %(phase)s.", phase=PHASE_NAMES[board.phase]),
        "success",
    )
    return to_board(board)


@bp.post("/<city_slug>/boards/<int:board_id>/phase")
@login_required
def switch_idea_board_phase(city_slug: str, board_id: int):
    city = _managing_city(city_slug)
    board = board_or_404(city, board_id)
    try:
        boards.set_phase(db.session, actor(), board, PhaseForm().phase.data or "")
    except (Invalid, Conflict) as error:
        db.session.rollback()
        flash(problem_message(error), "error")
        return to_board(board)
    db.session.commit()
    log.info(
        "idea board phase set",
        extra={"board_id": board.id, "user_id": actor().id, "phase": board.phase},
    )
    flash(_("The board is now in the phase: %(phase)s.", phase=PHASE_NAMES[board.phase]), "success")
    return to_board(board)
