"""Lists of a board's ideas: sorts, the stable random order, filters, pages and versions."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.models import User
from ideas import listing
from ideas.models import Idea, IdeaState, Support

MINUTE = timedelta(minutes=1)


@pytest.fixture
def board(board_of):
    return board_of(categories=[{"code": "green", "label": {"fr": "Nature"}}])


@pytest.fixture
def ideas(db_session, board, idea_on, author):
    """Six published ideas: supports 0..5 (the most supported posted first), varied trends."""
    made = []
    start = utcnow() - timedelta(hours=1)
    for n in range(6):
        idea = idea_on(board, author, title=f"Idée numéro {n}")
        idea.published_at = start + n * MINUTE
        idea.supports_count = 5 - n
        idea.trend = [3.0, 9.0, 1.0, 7.0, 5.0, 2.0][n]
        made.append(idea)
    db_session.flush()
    return made


def support(db_session, person, *chosen):
    for idea in chosen:
        db_session.add(Support(idea_id=idea.id, board_id=idea.board_id, user_id=person.id))
    db_session.flush()


def titles(page) -> list[str]:
    return [idea.title[-1] for idea in page.ideas]


def every_page(db_session, person, board, limit=2, **filters) -> list[Idea]:
    seen, after = [], None
    while True:
        page = listing.list_ideas(db_session, person, board, after=after, limit=limit, **filters)
        seen.extend(page.ideas)
        if page.next_after is None:
            return seen
        after = page.next_after


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("newest", "543210"), ("most_supported", "012345"), ("trending", "134052")],
)
def test_the_sorts(db_session, board, ideas, resident, sort, expected):
    page = listing.list_ideas(db_session, resident, board, sort=sort)
    assert "".join(titles(page)) == expected
    paged = every_page(db_session, resident, board, sort=sort)
    assert "".join(i.title[-1] for i in paged) == expected


def test_ties_are_broken_by_id_across_pages(db_session, board, idea_on, author, resident):
    same = [idea_on(board, author, title=f"Pareil {n}") for n in range(5)]
    paged = every_page(db_session, resident, board, limit=2, sort="most_supported")
    assert [i.id for i in paged] == sorted((i.id for i in same), reverse=True)


def test_the_random_order_is_stable_for_a_resident_and_their_own(
    db_session, board, board_of, idea_on, author, resident, make_user, lyon
):
    for n in range(30):
        idea_on(board, author, title=f"Idée {n:02d}")
    first = [i.id for i in listing.list_ideas(db_session, resident, board, sort="random").ideas]
    again = [i.id for i in listing.list_ideas(db_session, resident, board, sort="random").ideas]
    paged = [i.id for i in every_page(db_session, resident, board, limit=7, sort="random")]
    assert first == again == paged[:20]
    assert sorted(paged) == sorted(i.id for i in every_page(db_session, resident, board))
    orders = {
        tuple(i.id for i in every_page(db_session, make_user(lyon), board, limit=30, sort="random"))
        for _ in range(5)
    }
    assert len(orders) == 5  # each resident has an order of their own
    shuffled_first = {order[0] for order in orders}
    assert len(shuffled_first) > 1  # and no idea is always first


def test_the_random_key_stays_in_64_bits_for_the_largest_ids(
    db_session, board, idea_on, author, resident
):
    largest = idea_on(board, author, id=2**31 - 1)
    multiplier, offset = listing.shuffle(board, resident)
    assert 0 < multiplier < 2**31 and 0 <= offset < listing.PRIME
    key = db_session.scalar(
        sa.select(listing.random_key(board, resident)).where(Idea.id == largest.id)
    )
    assert key == (largest.id * multiplier + offset) % listing.PRIME
    assert listing.list_ideas(db_session, resident, board, sort="random").ideas == [largest]


def test_filters(db_session, board, ideas, resident, author):
    ideas[0].category = "green"
    ideas[1].official_status = "accepted"
    mine = Idea(
        board_id=board.id,
        city_id=board.city_id,
        author_id=resident.id,
        client_uuid="mine",
        title="Mon idée à moi",
        body="Rien de plus.",
        language="fr",
        state=IdeaState.PUBLISHED,
        published_at=utcnow(),
    )
    db_session.add(mine)
    db_session.flush()
    support(db_session, resident, ideas[2], ideas[4])
    support(db_session, author, ideas[3])

    def listed(**filters):
        return {i.id for i in listing.list_ideas(db_session, resident, board, **filters).ideas}

    assert listed(category="green") == {ideas[0].id}
    assert listed(status="accepted") == {ideas[1].id}
    assert listed(mine=True) == {mine.id}
    assert listed(supported=True) == {ideas[2].id, ideas[4].id}
    assert listed(supported=True, category="green") == set()
    page = listing.list_ideas(db_session, resident, board)
    assert page.supported == {ideas[2].id, ideas[4].id}


def test_own_ideas_out_of_sight_are_listed_to_their_author_only(
    db_session, board, idea_on, ideas, resident, author
):
    pending = idea_on(board, resident, title="En attente", state=IdeaState.PENDING)
    pending.published_at = None
    hidden = idea_on(board, resident, title="Cachée", state=IdeaState.HIDDEN)
    idea_on(board, resident, title="Retirée", state=IdeaState.WITHDRAWN)
    idea_on(board, author, title="Fusionnée", state=IdeaState.MERGED)
    rejected = idea_on(board, resident, title="Rejetée", state=IdeaState.REJECTED)
    db_session.flush()
    for sort in listing.SORTS:
        mine = {i.id for i in every_page(db_session, resident, board, limit=3, sort=sort)}
        assert mine == {i.id for i in ideas} | {pending.id, hidden.id, rejected.id}
        theirs = {i.id for i in every_page(db_session, author, board, limit=3, sort=sort)}
        assert theirs == {i.id for i in ideas}
    newest = listing.list_ideas(db_session, resident, board, sort="newest").ideas
    assert newest[0] in (pending, hidden, rejected)  # posted last


def test_another_boards_ideas_are_not_listed(db_session, board, board_of, idea_on, author):
    idea_on(board_of(), author)
    assert listing.list_ideas(db_session, author, board).ideas == []


def test_the_version_moves_with_what_the_list_shows(
    db_session, board, ideas, idea_on, resident, author
):
    before = listing.listing_version(db_session, resident, board)
    assert listing.listing_version(db_session, resident, board) == before
    support(db_session, resident, ideas[0])
    after_support = listing.listing_version(db_session, resident, board)
    assert after_support != before
    # Another resident's support changes my version only through the counts it moves.
    assert listing.listing_version(db_session, author, board) == listing.listing_version(
        db_session, author, board
    )
    db_session.execute(
        sa.update(Idea)
        .where(Idea.id == ideas[1].id)
        .values(comments_count=Idea.comments_count + 1, updated_at=utcnow() + MINUTE)
    )
    assert listing.listing_version(db_session, resident, board) != after_support
    counted = listing.listing_version(db_session, resident, board)
    idea_on(board, author)
    assert listing.listing_version(db_session, resident, board) != counted


def test_pages_of_ten_thousand_ideas_and_200000_supports_come_from_the_index(
    db_session, board, lyon, author, resident
):
    now = utcnow()
    db_session.execute(
        sa.insert(Idea),
        [
            {
                "board_id": board.id,
                "city_id": board.city_id,
                "author_id": author.id,
                "client_uuid": f"bulk-{n}",
                "title": f"Idée {n}",
                "body": "Un texte assez long pour une idée.",
                "language": "fr",
                "state": "published",
                "supports_count": (n * 7919) % 500,
                "trend": float((n * 104729) % 1000),
                "published_at": now - timedelta(seconds=n),
                "created_at": now,
                "updated_at": now,
                "search_text": f"idee {n}",
            }
            for n in range(10_000)
        ],
    )
    idea_ids = list(db_session.scalars(sa.select(Idea.id).where(Idea.board_id == board.id)))
    user_ids = list(
        db_session.scalars(
            sa.insert(User).returning(User.id),
            [
                {"email": f"bulk{n}@example.org", "password_hash": "-", "city_id": lyon.id}
                for n in range(200)
            ],
        )
    )
    rows = [
        {"idea_id": idea_ids[(u * 37 + k) % len(idea_ids)], "board_id": board.id, "user_id": uid}
        for u, uid in enumerate(user_ids)
        for k in range(1000)
    ]
    db_session.execute(sa.insert(Support), rows)
    assert db_session.scalar(sa.select(sa.func.count(Support.id))) == 200_000
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(sa.text("ANALYZE ideas"))
        db_session.execute(sa.text("ANALYZE idea_supports"))

    for sort in listing.SORTS:
        page = listing.list_ideas(db_session, resident, board, sort=sort, limit=50)
        second = listing.list_ideas(
            db_session, resident, board, sort=sort, limit=50, after=page.next_after
        )
        listing.listing_version(db_session, resident, board)
        assert len(page.ideas) == len(second.ideas) == 50
        assert not {i.id for i in page.ideas} & {i.id for i in second.ideas}
    top = listing.list_ideas(db_session, resident, board, sort="most_supported", limit=3).ideas
    assert [i.supports_count for i in top] == [499, 499, 499]
    if db_session.get_bind().dialect.name == "postgresql":
        # The page is an index range, not a sort of the board's ideas.
        query = (
            sa.select(Idea.id)
            .where(Idea.board_id == board.id, Idea.state == "published")
            .where(sa.tuple_(Idea.supports_count, Idea.id) < sa.tuple_(300, 10**6))
            .order_by(Idea.supports_count.desc(), Idea.id.desc())
            .limit(51)
        )
        sql = query.compile(
            dialect=db_session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        plan = db_session.execute(sa.text(f"EXPLAIN {sql}")).scalars()
        assert "ix_ideas_supported" in "\n".join(plan)
