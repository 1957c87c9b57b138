"""Importing a Pol.is conversation (its open-data export) as an idea board.

The export is read and validated by ideas/polis_export.py. Each comment becomes an idea
(moderated in: published; not moderated: published, or pending where the board requires
approval; moderated out: hidden); each final agree becomes a support. Disagree and pass have
no counterpart here: they are counted and reported, not stored.

Pol.is participants are anonymous numbers. Each gets an account of the campaign's city for
the import (an address under the reserved ``.invalid`` domain, no usable password, not
verified), so supports keep the one-per-resident rule. Running the same import again finds
the board, ideas (client UUIDs derived from the conversation and comment ids), accounts and
supports again and adds nothing. Rows are written with Core executemany and the counters
added with one UPDATE per idea: 250,000 votes on 10,000 comments import in about ten seconds.
"""

import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.audit import record
from app.db import utcnow
from app.errors import Invalid, NotFound
from app.models import City, User
from app.policy import ensure
from campaigns.models import Campaign
from i18n import LANGUAGES, _, force_locale
from ideas import boards
from ideas.models import Board, Idea, IdeaState, Phase, Support
from ideas.polis_export import (
    AGREE,
    DISAGREE,
    MODERATED_IN,
    MODERATED_OUT,
    PASS,
    UNMODERATED,
    Conversation,
    read_conversation,
)
from ideas.supports import trend_weight
from ideas.text import fold

#: Import accounts live under the reserved top-level domain: no mail ever reaches them.
EMAIL_DOMAIN = "import.invalid"
#: Not an argon2 hash: no password verifies against it.
UNUSABLE_PASSWORD = "!"  # noqa: S105 (a marker, not a secret)
#: Client UUIDs of imported ideas: uuid5 of "<conversation>/<comment id>" in this namespace.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pol.is/")
TITLE_LENGTH = 120
CHUNK = 2000
ATTRIBUTION = (
    "Data was gathered using the Polis software (compdemocracy.org/polis) and is sub-licensed "
    "under CC BY 4.0 with Attribution to The Computational Democracy Project."
)


@dataclass
class PolisImport:
    """The import's report; ``new_*`` say what this run added."""

    board_id: int
    board_created: bool
    participants: int
    new_accounts: int
    ideas: int
    moderated_in: int
    #: Comment ids Pol.is never moderated: published, or pending where approval is required.
    unmoderated: list[int]
    unmoderated_state: str
    moderated_out: int
    new_ideas: int
    vote_rows: int
    distinct_votes: int
    agree: int
    disagree: int
    passed: int
    supports: int
    new_supports: int


# --- writing --------------------------------------------------------------------------------


def idea_title(body: str) -> str:
    """A comment has no title: its first words, cut at a word under TITLE_LENGTH."""
    text = " ".join(body.split())
    if len(text) <= TITLE_LENGTH:
        return text
    cut = text[: TITLE_LENGTH - 1]
    if cut.rfind(" ") > TITLE_LENGTH // 2:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert(session: Session, table: sa.Table, rows: list[dict]) -> None:
    for chunk in _chunks(rows):
        session.execute(table.insert(), chunk)


def _board_holding(session: Session, campaign: Campaign, uuids: list[str]) -> Board | None:
    """The campaign's board an earlier run of this import made, if any."""
    return session.scalar(
        sa.select(Board)
        .join(Idea, Idea.board_id == Board.id)
        .where(Board.campaign_id == campaign.id, Idea.client_uuid.in_(uuids[:CHUNK]))
        .limit(1)
    )


def _new_board(
    session: Session,
    actor: User,
    campaign: Campaign,
    conversation: Conversation,
    language: str,
    now: datetime,
) -> Board:
    """A draft board in the supporting phase with unlimited supports; moderators publish it."""
    city = campaign.city
    summary = conversation.summary
    about = summary.get("conversation-description", "").strip()
    source = summary.get("url", "").strip()
    about = about[: boards.MAX_LENGTH["description"] - len(ATTRIBUTION) - len(source) - 4]
    description = "\n\n".join(part for part in (about, ATTRIBUTION, source) if part)
    written_in = language if language in city.enabled_locales else city.default_locale
    board = boards.create_board(
        session,
        actor,
        campaign,
        # The folder's name reads the same in every language.
        title={city.default_locale: conversation.title},
        description={written_in: description},
        support_budget=None,
        requires_approval=False,
    )
    # The votes are in: the board starts in the supporting phase, its voting rules frozen.
    board.phase = Phase.SUPPORTING
    board.voting_started_at = now
    session.flush()
    return board


def _ids_by(session: Session, column, values: list, *where) -> dict:
    found = {}
    for chunk in _chunks(values):
        query = sa.select(column, column.table.c.id).where(column.in_(chunk), *where)
        found.update(session.execute(query).all())
    return found


def _stored(session: Session, column, keys: dict, found: dict, rows: list[dict], *where):
    """Insert ``rows`` (for the keys not ``found``); then key → id of its row, and how many
    rows were new."""
    if rows:
        _insert(session, column.table, rows)
        found = _ids_by(session, column, list(keys.values()), *where)
    return {key: found[value] for key, value in keys.items()}, len(rows)


def _accounts(
    session: Session, city: City, conversation: Conversation, language: str, now: datetime
) -> tuple[dict[int, int], int]:
    """Participant id → account id in ``city``, making the missing accounts; and how many."""
    host = re.sub(r"[^a-z0-9-]+", "-", city.slug.lower())
    emails = {
        pid: f"polis-{conversation.name}-{pid}@{host}.{EMAIL_DOMAIN}"
        for pid in sorted(conversation.participants)
    }
    found = _ids_by(session, User.email, list(emails.values()))
    with force_locale(language):
        # Translated once, filled in per person (gettext per row costs more than the insert).
        name = _("Pol.is participant %(id)s")
    rows = [
        {
            "email": email,
            "password_hash": UNUSABLE_PASSWORD,
            "display_name": name % {"id": pid},
            "city_id": city.id,
            "locale": None,
            "email_verified_at": None,
            "is_platform_admin": False,
            "disabled_at": None,
            "created_at": now,
            "password_changed_at": now,
        }
        for pid, email in emails.items()
        if email not in found
    ]
    return _stored(session, User.email, emails, found, rows)


def _ideas(
    session: Session,
    board: Board,
    conversation: Conversation,
    uuids: dict[int, str],
    accounts: dict[int, int],
    language: str,
) -> tuple[dict[int, int], int]:
    """Comment id → idea id, inserting the ideas not on the board yet; and how many."""
    found = _ids_by(session, Idea.client_uuid, list(uuids.values()), Idea.board_id == board.id)
    unmoderated = IdeaState.PENDING if board.requires_approval else IdeaState.PUBLISHED
    with force_locale(language):
        reason = _("Moderated out on Pol.is, where this was first posted.")
    rows = []
    for comment in conversation.comments.values():
        if uuids[comment.id] in found:
            continue
        state = {
            MODERATED_IN: IdeaState.PUBLISHED,
            UNMODERATED: unmoderated,
            MODERATED_OUT: IdeaState.HIDDEN,
        }[comment.moderated]
        title = idea_title(comment.body)
        rows.append(
            {
                "board_id": board.id,
                "city_id": board.city_id,
                "author_id": accounts[comment.author],
                "client_uuid": uuids[comment.id],
                "title": title,
                "body": comment.body,
                "language": language,
                "category": None,
                "state": state,
                "moderation_reason": reason if state == IdeaState.HIDDEN else None,
                "supports_count": 0,
                "comments_count": 0,
                "flags_count": 0,
                "trend": 0.0,
                "search_text": fold(f"{title}\n{comment.body}"),
                "created_at": comment.at,
                "updated_at": comment.at,
                "published_at": comment.at if state == IdeaState.PUBLISHED else None,
            }
        )
    return _stored(session, Idea.client_uuid, uuids, found, rows, Idea.board_id == board.id)


def _supports(
    session: Session,
    board: Board,
    conversation: Conversation,
    ideas: dict[int, int],
    accounts: dict[int, int],
    now: datetime,
) -> int:
    """Store the final agrees not stored yet and add them to the ideas' counters."""
    mine = sa.select(Support.idea_id, Support.user_id).where(Support.board_id == board.id)
    have = {(idea_id, user_id) for idea_id, user_id in session.execute(mine)}
    # 2^(-12 years / 3 days) is 0.0: votes older than the board are weighed as if the
    # conversation had ended when the board began, keeping their order of recency and
    # leaving every later support of a resident heavier than any of them.
    shift = max(timedelta(0), board.created_at - (conversation.last_vote_at or board.created_at))
    rows, added, weights = [], Counter(), defaultdict(float)
    for (voter, comment_id), (at, vote) in conversation.final.items():
        idea_id, user_id = ideas[comment_id], accounts[voter]
        if vote != AGREE or (idea_id, user_id) in have:
            continue
        weight = trend_weight(board, at + shift)
        rows.append(
            {
                "idea_id": idea_id,
                "board_id": board.id,
                "user_id": user_id,
                "weight": weight,
                "created_at": at,
            }
        )
        added[idea_id] += 1
        weights[idea_id] += weight
    _insert(session, Support.__table__, rows)
    ideas_table = Idea.__table__
    counters = (
        sa.update(ideas_table)
        .where(ideas_table.c.id == sa.bindparam("idea"))
        .values(
            supports_count=ideas_table.c.supports_count + sa.bindparam("added"),
            trend=ideas_table.c.trend + sa.bindparam("weight"),
            # Lists of the board are cached by their ideas' latest change.
            updated_at=now,
        )
    )
    changes = [{"idea": i, "added": n, "weight": weights[i]} for i, n in added.items()]
    for chunk in _chunks(changes):
        session.execute(counters, chunk)
    return len(rows)


def import_polis(
    session: Session,
    actor: User,
    campaign: Campaign,
    folder: Path,
    *,
    board: Board | None = None,
    language: str = "en",
    now: datetime | None = None,
) -> PolisImport:
    """Import an export folder into ``board``, or into a new board of ``campaign``."""
    ensure(actor, "board.manage", board if board is not None else campaign)
    if board is not None and board.campaign_id != campaign.id:
        raise NotFound(_("There is no such board in this campaign."))
    if board is not None and board.support_budget is not None:
        raise Invalid(_("Pol.is votes have no budget: choose a board with unlimited supports."))
    if language not in LANGUAGES:
        raise Invalid(errors={"language": [_("This language is not offered.")]})
    conversation = read_conversation(folder)
    now = now or utcnow()
    uuids = {
        cid: str(uuid.uuid5(NAMESPACE, f"{conversation.name}/{cid}"))
        for cid in conversation.comments
    }
    board = board or _board_holding(session, campaign, list(uuids.values()))
    created = board is None
    if board is None:
        board = _new_board(session, actor, campaign, conversation, language, now)
    accounts, new_accounts = _accounts(session, campaign.city, conversation, language, now)
    ideas, new_ideas = _ideas(session, board, conversation, uuids, accounts, language)
    new_supports = _supports(session, board, conversation, ideas, accounts, now)
    moderation = Counter(c.moderated for c in conversation.comments.values())
    votes = Counter(vote for _at, vote in conversation.final.values())
    report = PolisImport(
        board_id=board.id,
        board_created=created,
        participants=len(accounts),
        new_accounts=new_accounts,
        ideas=len(ideas),
        moderated_in=moderation[MODERATED_IN],
        unmoderated=sorted(c.id for c in conversation.comments.values() if not c.moderated),
        unmoderated_state=IdeaState.PENDING if board.requires_approval else IdeaState.PUBLISHED,
        moderated_out=moderation[MODERATED_OUT],
        new_ideas=new_ideas,
        vote_rows=conversation.vote_rows,
        distinct_votes=len(conversation.final),
        agree=votes[AGREE],
        disagree=votes[DISAGREE],
        passed=votes[PASS],
        supports=votes[AGREE],
        new_supports=new_supports,
    )
    details = {k: v for k, v in vars(report).items() if k != "unmoderated"}
    record(
        session,
        actor,
        "board.import_polis",
        "board",
        board.id,
        city_id=board.city_id,
        details={"conversation": conversation.name, **details},
        now=now,
    )
    session.flush()
    return report
