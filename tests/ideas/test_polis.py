"""Importing Pol.is open data: the conversations of tests/fixtures/polis, figures of its README."""

import csv
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.errors import Invalid, NotAllowed, NotFound
from app.models import Role, User
from app.passwords import verify_password
from ideas.models import Board, Idea, IdeaState, Phase, Support
from ideas.polis import NAMESPACE, import_polis

POLIS = Path(__file__).resolve().parents[1] / "fixtures" / "polis"
SEATTLE, BREXIT = POLIS / "15-per-hour-seattle", POLIS / "brexit-consensus"

#: The README's table: voters, comments (in / neutral / out), votes.csv rows, distinct
#: voter x comment, final agree / disagree / pass.
FIGURES = {
    SEATTLE: (339, 54, 30, 1, 23, 2995, 2872, 1358, 922, 592),
    BREXIT: (204, 50, 50, 0, 0, 5312, 5303, 2685, 1952, 666),
}
HEADER = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
VOTES_HEADER = "timestamp,datetime,comment-id,voter-id,vote\n"


def final_agrees(folder: Path) -> dict[int, set[int]]:
    """Participant → comments they agree with at the end, as Pol.is itself computed it."""
    with (folder / "participants-votes.csv").open(newline="") as file:
        return {
            int(row["participant"]): {int(k) for k, v in row.items() if k.isdigit() and v == "1"}
            for row in csv.DictReader(file)
        }


def comments(folder: Path) -> dict[int, dict]:
    with (folder / "comments.csv").open(newline="") as file:
        return {int(row["comment-id"]): row for row in csv.DictReader(file)}


def idea_of(db_session, board, folder: Path, comment_id: int) -> Idea:
    client_uuid = str(uuid.uuid5(NAMESPACE, f"{folder.name}/{comment_id}"))
    return db_session.scalar(
        sa.select(Idea).where(Idea.board_id == board.id, Idea.client_uuid == client_uuid)
    )


def count(db_session, query) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


@pytest.mark.parametrize("folder", [SEATTLE, BREXIT], ids=lambda f: f.name)
def test_a_conversation_imports_with_the_documented_figures(
    db_session, moderator, campaign, folder
):
    report = import_polis(db_session, moderator, campaign, folder)

    figures = (
        report.participants,
        report.ideas,
        report.moderated_in,
        len(report.unmoderated),
        report.moderated_out,
        report.vote_rows,
        report.distinct_votes,
        report.agree,
        report.disagree,
        report.passed,
    )
    assert figures == FIGURES[folder]
    assert report.supports == report.new_supports == report.agree
    assert report.new_ideas == report.ideas and report.new_accounts == report.participants

    board = db_session.get(Board, report.board_id)
    assert (board.campaign_id, board.status, board.phase) == (campaign.id, "draft", "supporting")
    assert board.support_budget is None and board.voting_started_at is not None
    assert "CC BY 4.0" in board.description["en"]

    # Moderated out on Pol.is: hidden, with a reason its author would see.
    source = comments(folder)
    ideas = {cid: idea_of(db_session, board, folder, cid) for cid in source}
    for cid, row in source.items():
        idea = ideas[cid]
        expected = IdeaState.HIDDEN if row["moderated"] == "-1" else IdeaState.PUBLISHED
        assert idea.state == expected
        assert idea.body == row["comment-body"].strip()
        assert (idea.moderation_reason is not None) == (expected == IdeaState.HIDDEN)
        assert (idea.published_at is None) == (expected == IdeaState.HIDDEN)
        assert idea.language == "en" and len(idea.title) <= 120
        assert idea.search_text == idea.search_text.lower()
    hidden = [i for i in ideas.values() if i.state == IdeaState.HIDDEN]
    assert all("Pol.is" in i.moderation_reason for i in hidden)
    assert len(hidden) == FIGURES[folder][4]

    # Every idea's supports are its final agrees, and so are every participant's.
    agrees = final_agrees(folder)
    per_comment = Counter(cid for supported in agrees.values() for cid in supported)
    for cid, idea in ideas.items():
        stored = count(db_session, sa.select(Support.id).where(Support.idea_id == idea.id))
        assert idea.supports_count == stored == per_comment[cid]
        weights = db_session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Support.weight), 0.0)).where(
                Support.idea_id == idea.id
            )
        )
        assert idea.trend == pytest.approx(weights)
        assert (idea.trend > 0) == (idea.supports_count > 0)
    supported = Counter()
    for user_id, idea_id in db_session.execute(
        sa.select(Support.user_id, Support.idea_id).where(Support.board_id == board.id)
    ):
        supported[user_id, idea_id] += 1
    assert set(supported.values()) == {1}
    by_comment = {idea.id: cid for cid, idea in ideas.items()}
    accounts = {
        user.display_name: user
        for user in db_session.scalars(
            sa.select(User).where(User.email.like(f"polis-{folder.name}-%@lyon.import.invalid"))
        )
    }
    assert len(accounts) == FIGURES[folder][0]
    for participant, wanted in agrees.items():
        person = accounts[f"Pol.is participant {participant}"]
        mine = {by_comment[idea_id] for user_id, idea_id in supported if user_id == person.id}
        assert mine == wanted, participant


def test_imported_participants_are_residents_nobody_can_sign_in_as(
    db_session, moderator, campaign, lyon
):
    import_polis(db_session, moderator, campaign, BREXIT)
    people = db_session.scalars(
        sa.select(User).where(User.email.like("%.import.invalid")).order_by(User.id)
    ).all()
    assert len(people) == 204
    for person in people[:5]:
        assert person.city_id == lyon.id and person.email_verified_at is None
        assert not person.is_platform_admin and not person.grants
        assert not verify_password(person.password_hash, person.password_hash)
        assert not verify_password(person.password_hash, "")
    assert people[0].email == "polis-brexit-consensus-0@lyon.import.invalid"


def test_trending_keeps_the_order_of_recency_of_old_votes(db_session, moderator, campaign):
    """Votes from 2014 weigh 2^(-1400) on a board begun today, which is 0.0: they are weighed as
    if the conversation had ended when the board began."""
    report = import_polis(db_session, moderator, campaign, SEATTLE)
    weights = db_session.scalars(
        sa.select(Support.weight)
        .where(Support.board_id == report.board_id)
        .order_by(Support.created_at)
    ).all()
    assert weights[0] > 0 and weights[-1] <= 1.0
    assert weights == sorted(weights)


def test_the_command_reports_the_figures_and_a_second_run_adds_nothing(
    app, db_session, moderator, campaign
):
    runner = app.test_cli_runner()
    command = ["ideas", "import-polis", str(SEATTLE), "--campaign", str(campaign.id)]
    first = runner.invoke(args=[*command, "--as", moderator.email])
    assert first.exit_code == 0, first.output
    for line in (
        "participants: 339 (339 new accounts)",
        "ideas: 54 (30 published / 1 unmoderated / 23 hidden), 54 new",
        "not moderated on Pol.is (published here): comment 53",
        "vote rows read: 2,995",
        "distinct voter x comment: 2,872",
        "final agree / disagree / pass: 1,358 / 922 / 592",
        "supports stored: 1,358 (1,358 new)",
        "disagree and pass are counted, not stored",
    ):
        assert line in first.output

    def state():
        return (
            count(db_session, sa.select(User.id)),
            count(db_session, sa.select(Board.id)),
            count(db_session, sa.select(Idea.id)),
            count(db_session, sa.select(Support.id)),
            db_session.scalar(sa.select(sa.func.sum(Idea.supports_count))),
            db_session.scalar(sa.select(sa.func.sum(Idea.trend))),
        )

    before = state()
    second = runner.invoke(args=[*command, "--as", moderator.email])
    assert second.exit_code == 0, second.output
    assert "(existing)" in second.output
    for line in ("(0 new accounts)", "23 hidden), 0 new", "supports stored: 1,358 (0 new)"):
        assert line in second.output
    db_session.expire_all()
    assert state() == before
    assert before[4] == 1358

    nobody = runner.invoke(args=[*command, "--as", "nobody@example.org"])
    assert nobody.exit_code == 1 and "There is no account" in nobody.output


def test_import_into_a_board_that_requires_approval(db_session, moderator, campaign, board_of):
    board = board_of(phase=Phase.SUPPORTING, requires_approval=True)
    moment = utcnow()
    report = import_polis(db_session, moderator, campaign, SEATTLE, board=board, now=moment)
    assert report.board_id == board.id and not report.board_created
    assert report.unmoderated == [53] and report.unmoderated_state == IdeaState.PENDING
    pending = idea_of(db_session, board, SEATTLE, 53)
    assert pending.state == IdeaState.PENDING and pending.published_at is None
    states = Counter(db_session.scalars(sa.select(Idea.state).where(Idea.board_id == board.id)))
    assert states == {IdeaState.PUBLISHED: 30, IdeaState.HIDDEN: 23, IdeaState.PENDING: 1}
    # Supports counted move the ideas' last change, which residents' cached lists follow.
    supported = db_session.scalars(
        sa.select(Idea).where(Idea.board_id == board.id, Idea.supports_count > 0)
    ).all()
    assert supported and {idea.updated_at for idea in supported} == {moment}
    # Both conversations on one board: each keeps its own ideas.
    import_polis(db_session, moderator, campaign, BREXIT, board=board)
    assert count(db_session, sa.select(Idea.id).where(Idea.board_id == board.id)) == 104


def test_boards_and_people_the_import_refuses(
    db_session, moderator, resident, campaign, board_of, make_city, make_user
):
    with pytest.raises(Invalid):
        import_polis(db_session, moderator, campaign, SEATTLE, board=board_of(support_budget=3))
    with pytest.raises(NotAllowed):
        import_polis(db_session, resident, campaign, SEATTLE)
    vienna = make_city("vienna", default_locale="de", locales=("de",))
    with pytest.raises(NotFound):
        import_polis(db_session, make_user(vienna, role=Role.MODERATOR), campaign, SEATTLE)
    with pytest.raises(Invalid) as refused:
        import_polis(db_session, moderator, campaign, SEATTLE, language="xx")
    assert "language" in refused.value.errors
    assert count(db_session, sa.select(Idea.id)) == 0


def export(folder: Path, comments_text: str, votes_text: str | bytes) -> Path:
    folder.mkdir()
    (folder / "comments.csv").write_text(comments_text)
    data = votes_text.encode() if isinstance(votes_text, str) else votes_text
    (folder / "votes.csv").write_bytes(data)
    return folder


def problems(db_session, moderator, campaign, folder: Path) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as refused:
        import_polis(db_session, moderator, campaign, folder)
    assert count(db_session, sa.select(User.id).where(User.email.like("%.invalid"))) == 0
    assert count(db_session, sa.select(Board.id)) == 0
    return refused.value.errors


def test_bad_rows_are_reported_with_their_line_numbers_and_nothing_is_imported(
    app, db_session, moderator, campaign, tmp_path
):
    bad_comments = export(
        tmp_path / "bad-comments",
        HEADER
        + '1403067224363,Wed,0,0,1,0,1,"A body\nover two lines, with ""quotes"""\n'
        + "1403067224363,Wed,1,1,1,0,2,Moderated two\n"
        + "1403067224363,Wed,2,1,1,0,1\n"
        + "1403067224363,Wed,0,2,1,0,1,Same id again\n"
        + "1403067224363,Wed,3,x,1,0,1,Author not a number\n"
        + "1403067224363,Wed,4,1,1,0,1,   \n",
        VOTES_HEADER + "1403067224363,Wed,0,5,1\n",
    )
    found = problems(db_session, moderator, campaign, bad_comments)
    assert found == {
        "comments.csv": [
            "line 4: moderated must be one of 1, 0, -1, not 2",
            "line 5: 7 fields where the header has 8",
            "line 6: comment 0 appears twice (first on line 2)",
            "line 7: author-id must be a whole number, not “x”",
            "line 8: comment-body is empty",
        ]
    }

    bad_votes = export(
        tmp_path / "bad-votes",
        HEADER + "1403067224363,Wed,0,0,1,0,1,Fine\n",
        VOTES_HEADER
        + "1403067224363,Wed,0,5,1\n"
        + "1403067224363,Wed,0,5,7\n"
        + "\n"
        + "1403067224363,Wed,9,5,1\n"
        + "soon,Wed,0,6,1\n"
        + '1403067224363,Wed,0,7,"1\n',
    )
    assert problems(db_session, moderator, campaign, bad_votes) == {
        "votes.csv": [
            "line 3: vote must be one of 1, -1, 0, not 7",
            "line 5: there is no comment 9",
            "line 6: timestamp must be a whole number, not “soon”",
            "line 7: not readable as CSV (unexpected end of data)",
        ]
    }

    not_utf8 = export(
        tmp_path / "latin1",
        HEADER.replace("comment-body", "body"),
        VOTES_HEADER.encode() + b"1403067224363,Wed,0,5,1\n" + "é,x\n".encode("latin-1"),
    )
    assert problems(db_session, moderator, campaign, not_utf8) == {
        "comments.csv": ["line 1: the header lacks comment-body"],
        "votes.csv": ["line 3: this is not UTF-8 text"],
    }

    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            *("ideas", "import-polis", str(bad_votes)),
            *("--campaign", str(campaign.id), "--as", moderator.email),
        ]
    )
    assert result.exit_code == 1
    assert "nothing was imported" in result.output
    assert "votes.csv, line 5: there is no comment 9" in result.output


def test_a_folder_without_the_export_is_refused(db_session, moderator, campaign, tmp_path):
    assert problems(db_session, moderator, campaign, tmp_path) == {
        "comments.csv": [f"the file is missing from {tmp_path}"],
        "votes.csv": [f"the file is missing from {tmp_path}"],
    }
