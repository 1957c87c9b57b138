"""Idea boards: moderators set them up and move their phases; residents find and read them.

A board collects ideas, then residents support them, then it closes. Each phase may start at
a time (UTC here; given in the city's time zone) that the scheduler acts on
(``switch_phases``), or be set by hand. The scheduler only ever moves a board forward, and
moves it with a conditional UPDATE on the phase it saw, so two schedulers, or a scheduler and
a moderator, never both switch one board.

Decisions:
- The voting rules (``support_budget``, ``supports_withdrawable``) are frozen from the moment
  supporting first began (``voting_started_at``): changing them then would change the meaning
  of supports already given (CONSUL #5321). The change is a conditional UPDATE on
  ``voting_started_at IS NULL``, so it cannot slip in while voting starts.
- A category keeps its code while its labels are reworded; a code that ideas use cannot be
  removed, since those ideas would point at nothing.
- Setting a phase by hand earlier than the board's times say is refused: the scheduler would
  move it on again at once. The times are changed first.
"""

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, contains_eager, joinedload

from app.db import MAX_ID, utcnow
from app.errors import Conflict, Invalid, NotFound
from app.models import User
from app.policy import can, ensure
from campaigns.models import Campaign, CampaignStatus
from campaigns.service import ensure_not_archived
from i18n import _
from ideas.board_settings import MAX_LENGTH, TIMES, check_settings, check_texts, used_codes
from ideas.models import Board, BoardStatus, Phase, SupportBudget

VOTING_RULES = ("support_budget", "supports_withdrawable")
PHASES = (Phase.UPCOMING, Phase.COLLECTING, Phase.SUPPORTING, Phase.CLOSED)
#: The time at which each phase begins.
STARTS = dict(zip(PHASES[1:], TIMES, strict=True))


# --- moderators -----------------------------------------------------------------------------


def create_board(
    session: Session,
    actor: User,
    campaign: Campaign,
    *,
    title: dict,
    description: dict | None = None,
    **settings,
) -> Board:
    """A new draft board of a campaign; residents see it once it is published."""
    ensure(actor, "board.manage", campaign)
    ensure_not_archived(campaign)
    city = campaign.city
    errors: dict = {}
    texts = check_texts(city, {"title": title, "description": description or {}}, errors)
    settings = check_settings(None, city, settings, errors)
    if errors:
        raise Invalid(errors=errors)
    board = Board(
        city_id=campaign.city_id,
        campaign_id=campaign.id,
        status=BoardStatus.DRAFT,
        phase=Phase.UPCOMING,
        # Salt of residents' random orders; 31 bits keep the order's arithmetic in 64 bits.
        shuffle_seed=secrets.randbelow(2**31),
        **texts,
        **settings,
    )
    session.add(board)
    session.flush()
    return board


def update_board(session: Session, actor: User, board: Board, **values) -> Board:
    """Change texts and settings; only the fields given change."""
    ensure(actor, "board.manage", board)
    ensure_not_archived(board.campaign)
    city = board.city
    errors: dict = {}
    texts = check_texts(city, {k: v for k, v in values.items() if k in MAX_LENGTH}, errors)
    settings = check_settings(
        board, city, {k: v for k, v in values.items() if k not in MAX_LENGTH}, errors
    )
    if "categories" in settings and "categories" not in errors:
        removed = {c["code"] for c in board.categories} - {
            c["code"] for c in settings["categories"]
        }
        in_use = used_codes(session, board, removed)
        if in_use:
            errors["categories"] = [
                _(
                    "Ideas use the categories %(codes)s: they cannot be removed.",
                    codes=", ".join(in_use),
                )
            ]
    if errors:
        raise Invalid(errors=errors)
    rules = {f: settings.pop(f) for f in VOTING_RULES if f in settings}
    if any(value != getattr(board, field) for field, value in rules.items()):
        _change_voting_rules(session, board, rules)
    for field, value in {**texts, **settings}.items():
        setattr(board, field, value)
    board.updated_at = utcnow()
    session.flush()
    return board


def _change_voting_rules(session: Session, board: Board, rules: dict) -> None:
    session.flush()
    changed = session.execute(
        sa.update(Board)
        .where(Board.id == board.id, Board.voting_started_at.is_(None))
        .values(**rules, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise Conflict(
            _(
                "Supporting has started on this board: the support budget and whether "
                "supports can be withdrawn can no longer change."
            ),
            slug="voting-started",
        )
    session.refresh(board)


def due_phase(board: Board, now: datetime) -> Phase:
    """The latest phase whose time has come by ``now`` (upcoming when none has)."""
    due = Phase.UPCOMING
    for phase in PHASES[1:]:
        moment = getattr(board, STARTS[phase])
        if moment is not None and moment <= now:
            due = phase
    return due


def _enter(board: Board, phase: Phase, now: datetime) -> None:
    board.phase = phase
    if phase == Phase.SUPPORTING and board.voting_started_at is None:
        board.voting_started_at = now
    board.updated_at = now


def publish_board(
    session: Session, actor: User, board: Board, now: datetime | None = None
) -> Board:
    """Show a draft board to the campaign's residents, in the phase its times say."""
    ensure(actor, "board.manage", board)
    if board.status != BoardStatus.DRAFT:
        raise Conflict(_("Only a draft can be published."), slug="not-a-draft")
    if board.campaign.status != CampaignStatus.PUBLISHED:
        raise Conflict(
            _("Publish the campaign first: its residents cannot see this board yet."),
            slug="campaign-not-published",
        )
    now = now or utcnow()
    board.status = BoardStatus.PUBLISHED
    board.published_at = now
    due = due_phase(board, now)
    _enter(board, max(due, Phase(board.phase), key=PHASES.index), now)
    session.flush()
    return board


def set_phase(
    session: Session, actor: User, board: Board, phase: str, now: datetime | None = None
) -> Board:
    """Move a published board to a phase by hand (to open early, extend or reopen)."""
    ensure(actor, "board.manage", board)
    if phase not in set(Phase):
        raise Invalid(errors={"phase": [_("Not a phase of a board.")]})
    if board.status != BoardStatus.PUBLISHED:
        raise Conflict(_("Publish the board first."), slug="not-published")
    now = now or utcnow()
    due = due_phase(board, now)
    if PHASES.index(Phase(phase)) < PHASES.index(due):
        raise Conflict(
            _(
                "The board's times put it in a later phase already; change its times first, "
                "or the scheduler would move it on again."
            ),
            slug="phase-times",
        )
    _enter(board, Phase(phase), now)
    session.flush()
    return board


def switch_phases(session: Session, now: datetime | None = None) -> int:
    """Move published boards on to the phase their times say; returns how many moved.

    Safe to run twice or in two processes: each move is conditional on the phase seen.
    """
    now = now or utcnow()
    due_rows = session.execute(
        sa.select(Board.id, Board.phase, *(getattr(Board, field) for field in TIMES)).where(
            Board.status == BoardStatus.PUBLISHED,
            Board.phase != Phase.CLOSED,
            sa.or_(
                sa.and_(Board.phase == Phase.UPCOMING, Board.collecting_from <= now),
                sa.and_(
                    Board.phase.in_([Phase.UPCOMING, Phase.COLLECTING]),
                    Board.supporting_from <= now,
                ),
                Board.closes_at <= now,
            ),
        )
    ).all()
    moved = 0
    for board_id, seen, *moments in due_rows:
        due = Phase.UPCOMING
        for phase, moment in zip(PHASES[1:], moments, strict=True):
            if moment is not None and moment <= now:
                due = phase
        if PHASES.index(due) <= PHASES.index(Phase(seen)):
            continue
        values: dict = {"phase": due, "updated_at": now}
        if due == Phase.SUPPORTING:
            values["voting_started_at"] = sa.func.coalesce(Board.voting_started_at, now)
        moved += session.execute(
            sa.update(Board)
            .where(Board.id == board_id, Board.phase == seen)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    return moved


# --- residents ------------------------------------------------------------------------------


def _open_to_residents(user: User) -> tuple:
    return (
        Board.city_id == user.city_id,
        Board.status == BoardStatus.PUBLISHED,
        Campaign.status == CampaignStatus.PUBLISHED,
    )


def boards_for_resident(session: Session, user: User, campaign_id: int | None) -> list[Board]:
    """Published boards of live campaigns of the person's city, newest first."""
    query = (
        sa.select(Board)
        .join(Board.campaign)
        .options(contains_eager(Board.campaign))
        .where(*_open_to_residents(user))
    )
    if campaign_id is not None:
        query = query.where(Board.campaign_id == campaign_id)
    return list(session.scalars(query.order_by(Board.published_at.desc(), Board.id.desc())))


def boards_version(session: Session, user: User, campaign_id: int | None) -> tuple[str, ...]:
    """What the list of boards depends on: it changes whenever the list would."""
    query = (
        sa.select(
            sa.func.count(Board.id), sa.func.max(Board.updated_at), sa.func.max(Campaign.updated_at)
        )
        .select_from(Board)
        .join(Campaign, Campaign.id == Board.campaign_id)
        .where(*_open_to_residents(user))
    )
    if campaign_id is not None:
        query = query.where(Board.campaign_id == campaign_id)
    return tuple(str(value) for value in session.execute(query).one())


#: A board with its campaign in one statement: the policy reads the campaign's status, not its
#: phases.
WITH_CAMPAIGN = [joinedload(Board.campaign).lazyload(Campaign.phases)]


def get_board(session: Session, user: User, board_id: int) -> Board:
    """A board of the person's own city they may read; anything else is not found."""
    board = session.get(Board, board_id, options=WITH_CAMPAIGN) if board_id <= MAX_ID else None
    if board is None or board.city_id != user.city_id or not can(user, "board.read", board):
        raise NotFound()
    return board


def is_open(board: Board) -> bool:
    """Whether residents take part on it: published, in a published campaign."""
    return (
        board.status == BoardStatus.PUBLISHED and board.campaign.status == CampaignStatus.PUBLISHED
    )


def supports_used(session: Session, user: User, board: Board) -> int:
    used = session.scalar(
        sa.select(SupportBudget.used).where(
            SupportBudget.board_id == board.id, SupportBudget.user_id == user.id
        )
    )
    return used or 0


def supports_left(board: Board, used: int) -> int | None:
    """Supports the person may still give on the board; None when unlimited."""
    if board.support_budget is None:
        return None
    return max(board.support_budget - used, 0)
