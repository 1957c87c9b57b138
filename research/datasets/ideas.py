"""A campaign's idea boards as microdata: its ideas, their comments and their supports.

Only contributions of the population (people whose latest research consent stands) are in,
and only what residents can see: ideas published (or merged into another), comments
published; what moderation hid or refused, what authors withdrew or deleted, and ideas
whose author deleted their account ("deleted participant") stay out. Comments and supports
count on the visible ideas of the campaign, whoever wrote those.

An idea's id is the city's public number of the idea, not a person's. Titles and bodies are
free text: in only when the request includes free text (the pipeline scrubs them).

Ideas and comments carry no pseudonym of their author: the site shows who wrote them, so an
idea's number (or a comment's text) would lead from the pseudonym to a name, and from there
to everything else the pseudonym did, such as the ideas the person supported. Supports, which
the site shows only as counts, carry the supporter's pseudonym.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import City
from i18n import _
from i18n.content import pick
from ideas.answers import STATUS_LABELS
from ideas.models import Board, Comment, CommentState, Idea, IdeaState, OfficialStatus, Support
from research.models import ResearchExport
from research.options import ExportOptions
from research.population import (
    campaign_of,
    consent_notes,
    local_bounds,
    research_consenters,
    within,
)
from research.table import Kind, Microdata, Role, Row, Table, Variable

BATCH = 5000
#: Ideas residents can see (a merged idea still shows, pointing to the one it joined).
VISIBLE = (IdeaState.PUBLISHED.value, IdeaState.MERGED.value)


@dataclass
class _Scope:
    """What the three tables share: the campaign's boards, the window, the population."""

    session: Session
    city: City
    zone: ZoneInfo
    lower: datetime | None
    upper: datetime | None
    people: sa.Select
    #: board id → its code (1..n in the order boards were made).
    boards: dict[int, int]
    text: bool
    notes: dict

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def visible_ideas(self) -> list:
        return [
            Idea.board_id.in_(list(self.boards)),
            Idea.city_id == self.city.id,
            Idea.state.in_(VISIBLE),
        ]

    def table(
        self,
        name: str,
        title: str,
        variables: list[Variable],
        query: sa.Select,
        shape: Callable[[tuple], Row],
        counted: tuple,
    ) -> Microdata:
        """A table whose rows ``shape`` makes of ``query``'s, with the counts of its notes:
        ``counted`` is (model, conditions, the person column)."""
        model, scope, person = counted
        considered, included, gone = self.session.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(sa.case((person.in_(self.people), 1), else_=0)), 0),
                sa.func.coalesce(sa.func.sum(sa.case((person.is_(None), 1), else_=0)), 0),
            )
            .select_from(model)
            .where(*scope)
        ).one()
        counts = consent_notes(int(considered), int(included), deleted_participant=int(gone))
        return Microdata(
            name=name,
            title=title,
            variables=variables,
            rows=lambda: _stream(self.session, query, shape),
            notes={**self.notes, **counts},
        )


def _stream(session: Session, query: sa.Select, shape: Callable[[tuple], Row]) -> Iterator[Row]:
    result = session.execute(query.execution_options(yield_per=BATCH))
    try:
        for values in result:
            yield shape(values)
    finally:
        result.close()


def _supporter() -> Variable:
    return Variable(
        "supporter", Kind.STRING, _("Supporter"), role=Role.PSEUDONYM, source="supporter"
    )


def _created(label: str) -> Variable:
    return Variable(
        "created", Kind.DATE, label, role=Role.QUASI, hierarchy="date", source="created_at"
    )


def _idea_number() -> Variable:
    return Variable("idea", Kind.INTEGER, _("Idea number"), source="ideas.id")


def _text(name: str, label: str) -> Variable:
    return Variable(name, Kind.STRING, label, role=Role.TEXT, source=name)


def build_ideas(session: Session, export: ResearchExport, options: ExportOptions) -> list[Table]:
    """The ``ideas``, ``comments`` and ``supports`` microdata of campaign
    ``export.subject_id``."""
    campaign = campaign_of(session, export)
    city: City = campaign.city
    zone = ZoneInfo(city.timezone)
    boards = session.execute(
        sa.select(Board.id, Board.title)
        .where(Board.campaign_id == campaign.id, Board.city_id == city.id)
        .order_by(Board.id)
    ).all()
    codes = {board_id: i for i, (board_id, _title) in enumerate(boards, start=1)}
    notes = {"campaign": pick(campaign.title, export.locale, city.default_locale)[0]}
    if options.starts_on or options.ends_on:
        notes["window"] = {
            "starts_on": options.starts_on.isoformat() if options.starts_on else None,
            "ends_on": options.ends_on.isoformat() if options.ends_on else None,
        }
    if not options.include_text:
        notes["text_left_out"] = True
    scope = _Scope(
        session,
        city,
        zone,
        *local_bounds(zone, options.starts_on, options.ends_on),
        research_consenters(city.id),
        codes,
        options.include_text,
        notes,
    )
    labels = {
        codes[board_id]: pick(title, export.locale, city.default_locale)[0]
        or _("Board %(number)d", number=codes[board_id])
        for board_id, title in boards
    }
    return [_ideas(scope, labels), _comments(scope), _supports(scope)]


def _ideas(scope: _Scope, board_labels: dict[int, str]) -> Microdata:
    statuses = {status.value: i for i, status in enumerate(OfficialStatus, start=1)}
    conditions = [*scope.visible_ideas(), *within(Idea.created_at, scope.lower, scope.upper)]
    variables = [
        _idea_number(),
        _created(_("Day the idea was posted")),
        Variable("board", Kind.INTEGER, _("Idea board"), codes=board_labels, source="board"),
        Variable(
            "status",
            Kind.INTEGER,
            _("The city's answer"),
            codes={statuses[s.value]: str(STATUS_LABELS[s]) for s in OfficialStatus},
            source="official_status",
        ),
        Variable("supports", Kind.INTEGER, _("Supports"), source="supports_count"),
        Variable("comments", Kind.INTEGER, _("Comments"), source="comments_count"),
    ]
    columns = [
        Idea.id,
        Idea.created_at,
        Idea.board_id,
        Idea.official_status,
        Idea.supports_count,
        Idea.comments_count,
    ]
    if scope.text:
        variables += [_text("title", _("Title")), _text("body", _("Text"))]
        columns += [Idea.title, Idea.body]
    query = (
        sa.select(*columns).where(*conditions, Idea.author_id.in_(scope.people)).order_by(Idea.id)
    )

    def shape(values: tuple) -> Row:
        idea_id, created_at, board_id, status, supports, comments, *texts = values
        return (
            idea_id,
            scope.day(created_at),
            scope.boards.get(board_id),
            statuses.get(status),
            supports,
            comments,
            *texts,
        )

    counted = (Idea, conditions, Idea.author_id)
    return scope.table("ideas", _("Ideas"), variables, query, shape, counted)


def _comments(scope: _Scope) -> Microdata:
    conditions = [
        Comment.idea_id.in_(sa.select(Idea.id).where(*scope.visible_ideas())),
        Comment.city_id == scope.city.id,
        Comment.state == CommentState.PUBLISHED.value,
        *within(Comment.created_at, scope.lower, scope.upper),
    ]
    variables = [_idea_number(), _created(_("Day the comment was written"))]
    columns = [Comment.idea_id, Comment.created_at]
    if scope.text:
        variables.append(_text("body", _("Text")))
        columns.append(Comment.body)
    query = (
        sa.select(*columns)
        .where(*conditions, Comment.author_id.in_(scope.people))
        .order_by(Comment.id)
    )

    def shape(values: tuple) -> Row:
        idea_id, created_at, *texts = values
        return (idea_id, scope.day(created_at), *texts)

    counted = (Comment, conditions, Comment.author_id)
    return scope.table("comments", _("Comments on ideas"), variables, query, shape, counted)


def _supports(scope: _Scope) -> Microdata:
    conditions = [
        Support.idea_id.in_(sa.select(Idea.id).where(*scope.visible_ideas())),
        *within(Support.created_at, scope.lower, scope.upper),
    ]
    variables = [
        _idea_number(),
        _supporter(),
        _created(_("Day the support was given")),
    ]
    query = (
        sa.select(Support.idea_id, Support.user_id, Support.created_at)
        .where(*conditions, Support.user_id.in_(scope.people))
        .order_by(Support.id)
    )

    def shape(values: tuple) -> Row:
        idea_id, user_id, created_at = values
        return (idea_id, f"u:{user_id}", scope.day(created_at))

    counted = (Support, conditions, Support.user_id)
    return scope.table("supports", _("Supports of ideas"), variables, query, shape, counted)
