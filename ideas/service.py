"""Residents' ideas: posting (also retried from a phone), editing, withdrawing, reading one.

Decisions:
- A phone names each idea with a UUID it generates. The same UUID with the same content is the
  idea already posted (``created`` False), also after the board stopped collecting; with other
  content it is refused. The unique constraint (board, UUID) settles parallel retries.
- Authors edit within the board's edit window and only before anybody supported the idea:
  supporters supported the text as it was. The edit is a conditional UPDATE on
  ``supports_count = 0``, so a support arriving meanwhile wins and the edit is refused.
- Withdrawn ideas keep their supports (the budget spent on them stays spent, as in Decidim)
  but leave the lists; their page still says what happened to them. A merged idea cannot be
  withdrawn: its supports live on in the idea it was merged into.
- Pending, hidden and rejected ideas exist only for their author (with the moderator's
  reason); to anybody else they are not found.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.cities import inside_area
from app.db import MAX_ID, insert_once, utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.models import User
from app.policy import can
from campaigns.models import Campaign
from i18n import LOCALES, _
from ideas.boards import is_open
from ideas.models import Board, Idea, IdeaState, IdeaStatusChange, LocationMode, Phase
from ideas.mutes import ensure_not_muted
from ideas.text import fold

TITLE_LENGTH = (5, 200)
BODY_LENGTH = (10, 5000)
#: States anybody who reads the board sees an idea in.
PUBLIC_STATES = (IdeaState.PUBLISHED, IdeaState.WITHDRAWN, IdeaState.MERGED)
#: States in which only the author sees their idea (with the moderator's reason).
AUTHOR_STATES = (IdeaState.PENDING, IdeaState.HIDDEN, IdeaState.REJECTED)
#: States in which the author may still edit.
EDITABLE_STATES = (IdeaState.PENDING, IdeaState.PUBLISHED)
CONTENT = ("title", "body", "category", "latitude", "longitude")


def author_name(person: User | None) -> str:
    """How an author is shown to others: their display name, or that the account is gone."""
    if person is None:
        return _("deleted participant")
    return person.display_name or _("participant")


# --- checking what residents enter ----------------------------------------------------------


def _length_problem(text: str, bounds: tuple[int, int]) -> list[str]:
    low, high = bounds
    if not low <= len(text) <= high:
        return [_("Between %(min)d and %(max)d characters.", min=low, max=high)]
    return []


def _check_location(board: Board, latitude, longitude, errors: dict) -> None:
    mode = board.location
    if latitude is None and longitude is None:
        if mode == LocationMode.REQUIRED:
            errors["latitude"] = [_("This board asks for a location.")]
        return
    if mode == LocationMode.OFF:
        errors["latitude"] = [_("This board does not take locations.")]
    elif latitude is None or longitude is None:
        errors["latitude" if latitude is None else "longitude"] = [
            _("Give both latitude and longitude.")
        ]
    elif not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        errors["latitude"] = [_("Not a place on Earth.")]
    elif not inside_area(board.city.bounds, latitude, longitude):
        errors["latitude"] = [_("This place is outside the city.")]


def _check_content(board: Board, values: dict, errors: dict) -> dict:
    """The content among ``values``, normalised; problems go to ``errors``."""
    content = {}
    if "title" in values:
        # A title is one line: line breaks and runs of spaces become one space.
        content["title"] = " ".join((values["title"] or "").split())
        if problems := _length_problem(content["title"], TITLE_LENGTH):
            errors["title"] = problems
    if "body" in values:
        content["body"] = (values["body"] or "").replace("\r\n", "\n").strip()
        if problems := _length_problem(content["body"], BODY_LENGTH):
            errors["body"] = problems
    if "category" in values:
        content["category"] = values["category"] or None
        codes = {category["code"] for category in board.categories}
        if content["category"] is not None and content["category"] not in codes:
            errors["category"] = [_("Not a category of this board.")]
    for field in ("latitude", "longitude"):
        if field in values:
            value = values[field]
            content[field] = float(value) if value is not None else None
    return content


def _search_text(title: str, body: str) -> str:
    return fold(f"{title}\n{body}")


# --- posting --------------------------------------------------------------------------------


def ensure_collecting(board: Board) -> None:
    if not is_open(board) or board.phase != Phase.COLLECTING:
        raise Conflict(_("This board is not collecting ideas now."), slug="not-collecting")


def _find(session: Session, board: Board, client_uuid: str) -> Idea | None:
    return session.scalar(
        sa.select(Idea)
        .where(Idea.board_id == board.id, Idea.client_uuid == client_uuid)
        .execution_options(populate_existing=True)
    )


def _replay(existing: Idea, user: User, content: dict) -> Idea:
    """The idea a resend of a UUID names, if it is the same post; otherwise 409."""
    same = existing.author_id == user.id and all(
        getattr(existing, field) == value for field, value in content.items()
    )
    if not same:
        raise Conflict(
            _("An idea was already posted with this identifier and other content."),
            slug="idea-changed",
        )
    return existing


def post_idea(
    session: Session,
    user: User,
    board: Board,
    *,
    client_uuid: str,
    title: str,
    body: str,
    language: str,
    category: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    now: datetime | None = None,
) -> tuple[Idea, bool]:
    """Post an idea on a collecting board; returns it and whether this call created it."""
    if board.city_id != user.city_id or not can(user, "board.read", board):
        raise NotFound()
    now = now or utcnow()
    errors: dict = {}
    values = {"title": title, "body": body, "category": category}
    values |= {"latitude": latitude, "longitude": longitude}
    content = _check_content(board, values, errors)
    existing = _find(session, board, client_uuid)
    if existing is not None:
        # A resend is answered as the first time, even once the board stopped collecting.
        return _replay(existing, user, content), False
    ensure_collecting(board)
    ensure_not_muted(session, user, board.city_id, now)
    if language not in LOCALES:
        errors["language"] = [_("Not a language of this programme.")]
    _check_location(board, content["latitude"], content["longitude"], errors)
    if errors:
        raise Invalid(errors=errors)
    pending = board.requires_approval
    idea = Idea(
        board_id=board.id,
        city_id=board.city_id,
        author_id=user.id,
        client_uuid=client_uuid,
        language=language,
        state=IdeaState.PENDING if pending else IdeaState.PUBLISHED,
        search_text=_search_text(content["title"], content["body"]),
        created_at=now,
        updated_at=now,
        published_at=None if pending else now,
        **content,
    )
    stored, created = insert_once(session, idea, lambda: _find(session, board, client_uuid))
    # A parallel send stored first: answered as a resend of the same post (or refused).
    return (stored, True) if created else (_replay(stored, user, content), False)


# --- reading --------------------------------------------------------------------------------


#: Load an idea with its board and campaign in one statement; the policy needs the campaign's
#: status, not its phases.
WITH_BOARD = [joinedload(Idea.board).joinedload(Board.campaign).lazyload(Campaign.phases)]


def visible_to(idea: Idea, user: User) -> bool:
    """Whether the person may see the idea at all (its board aside)."""
    if idea.state in PUBLIC_STATES:
        return True
    return idea.state in AUTHOR_STATES and idea.author_id == user.id


def get_idea(session: Session, user: User, idea_id: int) -> Idea:
    """An idea of the person's city on a board they may read, as they may see it; else 404."""
    if idea_id > MAX_ID:
        raise NotFound()
    idea = session.get(Idea, idea_id, options=WITH_BOARD)
    if (
        idea is None
        or idea.city_id != user.city_id
        or not can(user, "board.read", idea.board)
        or not visible_to(idea, user)
    ):
        raise NotFound()
    return idea


def status_history(session: Session, idea: Idea) -> list[IdeaStatusChange]:
    """The city's answers to the idea, oldest first."""
    return list(
        session.scalars(
            sa.select(IdeaStatusChange)
            .where(IdeaStatusChange.idea_id == idea.id)
            .order_by(IdeaStatusChange.created_at, IdeaStatusChange.id)
        )
    )


def edit_window_end(idea: Idea) -> datetime:
    return idea.created_at + timedelta(minutes=idea.board.edit_minutes)


def may_edit(idea: Idea, user: User, now: datetime) -> bool:
    """Whether the author may still edit (shown to the phone; ``edit_idea`` decides)."""
    return (
        idea.author_id == user.id
        and idea.state in EDITABLE_STATES
        and idea.supports_count == 0
        and idea.board.phase != Phase.CLOSED
        and now < edit_window_end(idea)
    )


# --- the author's changes -------------------------------------------------------------------


def _ensure_author(idea: Idea, user: User) -> None:
    if idea.author_id is None or idea.author_id != user.id:
        raise NotAllowed(_("Only the author of this idea can do this."), slug="not-the-author")


def edit_idea(
    session: Session, user: User, idea: Idea, now: datetime | None = None, **values
) -> Idea:
    """Change the author's own idea within the edit window and before any support."""
    unknown = set(values) - set(CONTENT)
    if unknown:
        raise TypeError(f"not idea content: {sorted(unknown)}")
    _ensure_author(idea, user)
    now = now or utcnow()
    board = idea.board
    if idea.state not in EDITABLE_STATES or board.phase == Phase.CLOSED:
        raise Conflict(_("This idea can no longer be edited."), slug="not-editable")
    if now >= edit_window_end(idea):
        minutes = board.edit_minutes
        raise Conflict(
            _("Ideas can be edited for %(minutes)d minutes after posting.", minutes=minutes),
            slug="edit-window-over",
        )
    ensure_not_muted(session, user, idea.city_id, now)
    errors: dict = {}
    content = _check_content(board, values, errors)
    if "latitude" in values or "longitude" in values:
        _check_location(
            board,
            content.get("latitude", idea.latitude),
            content.get("longitude", idea.longitude),
            errors,
        )
    if errors:
        raise Invalid(errors=errors)
    title, body = content.get("title", idea.title), content.get("body", idea.body)
    session.flush()
    changed = session.execute(
        sa.update(Idea)
        .where(
            Idea.id == idea.id,
            Idea.supports_count == 0,
            Idea.state.in_([s.value for s in EDITABLE_STATES]),
        )
        .values(
            **content,
            search_text=_search_text(title, body),
            edited_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise Conflict(
            _("Someone supported this idea already: it can no longer be edited."),
            slug="already-supported",
        )
    session.refresh(idea)
    return idea


def withdraw_idea(session: Session, user: User, idea: Idea, now: datetime | None = None) -> Idea:
    """Take the author's own idea out of the lists; withdrawing twice changes nothing."""
    _ensure_author(idea, user)
    if idea.state == IdeaState.WITHDRAWN:
        return idea
    if idea.state == IdeaState.MERGED:
        raise Conflict(
            _("This idea was merged into another one and can no longer be withdrawn."),
            slug="merged",
        )
    now = now or utcnow()
    session.flush()
    changed = session.execute(
        sa.update(Idea)
        .where(Idea.id == idea.id, Idea.state.not_in([IdeaState.MERGED, IdeaState.WITHDRAWN]))
        .values(state=IdeaState.WITHDRAWN, withdrawn_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(idea)
    if not changed and idea.state == IdeaState.MERGED:
        raise Conflict(
            _("This idea was merged into another one and can no longer be withdrawn."),
            slug="merged",
        )
    return idea
