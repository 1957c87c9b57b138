"""What each research dataset holds: only the population (standing research consent, plus what
deleted accounts kept for research), the variables and codes the codebook promises, rows
read as a stream, and never an e-mail address, a name or a token."""

import inspect
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from app import consent
from app.consent_models import Purpose
from app.db import utcnow
from app.errors import NotFound
from energy.models import Household, Meter, Reading
from i18n import force_locale
from ideas.models import Board, BoardStatus, Comment, Idea, Phase, Support
from research.datasets import DATASETS, quasi_candidates, subjects, survey_layout
from research.datasets import energy as energy_dataset
from research.datasets import ideas as ideas_dataset
from research.datasets import survey as survey_dataset
from research.datasets import workshops as workshops_dataset
from research.models import DatasetKind, KeptMeterDay, ResearchExport, ResearchStatus
from research.options import ExportOptions
from research.population import research_consenters
from research.table import TOTAL, Aggregate, Cell, Kind, Microdata, Role
from surveys import responses_submit
from surveys.models import SurveyResponse
from tests.surveys.helpers import make_survey, published_campaign
from tests.workshops.helpers import published_workshop, registration
from workshops.models import RegistrationStatus, WorkshopStatus

pytestmark = pytest.mark.usefixtures("in_app")

PARIS = ZoneInfo("Europe/Paris")


def _q(key, kind, **settings):
    return {"key": key, "type": kind, "title": {"fr": f"Q {key}", "en": f"Question {key}"},
            "required": False, **settings}  # fmt: skip


def _choices(*codes):
    return [{"value": c, "label": {"fr": f"{c} fr", "en": f"{c} en"}} for c in codes]


#: Every question type there is.
EVERY_TYPE = {
    "title": {"fr": "Tout", "en": "Everything"},
    "pages": [
        {
            "key": "home",
            "questions": [
                _q("heating", "single_choice", choices=_choices("gas", "wood"), other=True),
                _q("floor", "dropdown", choices=_choices("ground", "upper")),
                _q("tools", "multiple_choice", choices=_choices("a", "b", "c"), other=True),
                _q("garden", "yes_no"),
                _q(
                    "comfort",
                    "scale",
                    scale={
                        "min": 1,
                        "max": 5,
                        "min_label": {"fr": "Froid", "en": "Cold"},
                        "max_label": {"fr": "Chaud", "en": "Warm"},
                    },
                ),
                _q("stars", "rating", scale={"min": 1, "max": 5}),
                {"key": "info", "type": "note", "title": {"fr": "Merci", "en": "Thanks"}},
                _q("age", "number", number={"integer": True, "min": 0, "max": 120}),
                _q("spend", "number", number={"min": 0}),
            ],
        },
        {
            "key": "more",
            "questions": [
                _q("nickname", "short_text"),
                _q("story", "long_text"),
                _q("moved", "date"),
                _q("rank", "ranking", choices=_choices("x", "y", "z")),
                _q(
                    "grid",
                    "matrix",
                    rows=[
                        {"key": "r1", "label": {"fr": "Ligne 1", "en": "Row 1"}},
                        {"key": "r2", "label": {"fr": "Ligne 2", "en": "Row 2"}},
                    ],
                    scale={"min": 1, "max": 3},
                ),
            ],
        },
    ],
}
FULL = {
    "heating": "other",
    "heating.other": "Poêle à granulés",
    "floor": "upper",
    "tools": ["a", "other"],
    "tools.other": "Scie sauteuse",
    "garden": True,
    "comfort": 4,
    "stars": 5,
    "age": 42,
    "spend": 12.5,
    "nickname": "Petit chat",
    "story": "Une longue histoire",
    "moved": "2020-05-01",
    "rank": ["z", "x", "y"],
    "grid": {"r1": 1, "r2": 3},
}
NAMES = [
    "respondent", "version", "language", "submitted", "district", "household_size",
    "dwelling_type", "q_heating", "q_heating_other_text", "q_floor", "q_tools_a", "q_tools_b",
    "q_tools_c", "q_tools_other", "q_tools_other_text", "q_garden", "q_comfort", "q_stars",
    "q_age", "q_spend", "q_nickname", "q_story", "q_moved", "q_rank_x", "q_rank_y", "q_rank_z",
    "q_grid_r1", "q_grid_r2",
]  # fmt: skip


def options(**values) -> ExportOptions:
    return ExportOptions(k=10, l=2, min_cell=10, **values)


def export_of(session, city, kind, subject_id, locale="en", requested_at=None):
    export = ResearchExport(
        city_id=city.id,
        dataset=kind.value,
        subject_id=subject_id,
        purpose="Heating habits across the city's districts",
        locale=locale,
        options={},
        status=ResearchStatus.PENDING.value,
        requested_at=requested_at or utcnow(),
    )
    session.add(export)
    session.flush()
    return export


def build(session, export, opts=None):
    """The tables as the pipeline gets them: in the export's language."""
    with force_locale(export.locale):
        return DATASETS[DatasetKind(export.dataset)](session, export, opts or options())


def read(table: Microdata) -> list[tuple]:
    rows = table.rows()
    assert inspect.isgenerator(rows)
    return list(rows)


def column(table: Microdata, rows: list[tuple], name: str) -> list:
    index = [v.name for v in table.variables].index(name)
    return [row[index] for row in rows]


@pytest.fixture
def people(db_session, lyon, make_user, operator):
    """Lyon's research consent text and five residents: ``yes`` consented, ``no`` never did,
    ``withdrawn`` consented then withdrew, ``again`` withdrew and consented anew, ``gone``
    will delete their account having consented (their response is kept)."""
    text = consent.publish_text(
        db_session, operator(lyon), lyon, Purpose.RESEARCH, {"fr": "Recherche", "en": "Research"}
    )
    made = SimpleNamespace(
        **{
            name: make_user(lyon, email=f"{name}.person@example.org")
            for name in ("yes", "no", "withdrawn", "again", "gone")
        }
    )
    start = utcnow() - timedelta(days=30)
    for name in ("yes", "withdrawn", "again", "gone"):
        consent.give_consent(
            db_session, getattr(made, name), Purpose.RESEARCH, text.version, now=start
        )
    consent.withdraw_consent(
        db_session, made.withdrawn, Purpose.RESEARCH, now=start + timedelta(days=1)
    )
    consent.withdraw_consent(
        db_session, made.again, Purpose.RESEARCH, now=start + timedelta(days=1)
    )
    consent.give_consent(
        db_session, made.again, Purpose.RESEARCH, text.version, now=start + timedelta(days=2)
    )
    lyon.districts = ["Croix-Rousse", "Presqu'île"]
    db_session.flush()
    return made


def pii(people) -> list[str]:
    """What must never appear in a dataset's rows."""
    found = []
    for person in vars(people).values():
        found += [person.email, person.display_name, person.password_hash]
    return [value for value in found if value and value != "-"]


def keep_for_research(session, response: SurveyResponse) -> None:
    """What deleting the account of a research consenter leaves of their response."""
    response.user_id = None
    response.single_owner_id = None
    response.client_uuid = str(uuid.uuid4())
    response.kept_for_research_at = utcnow()
    session.flush()


# --- population ------------------------------------------------------------------------------


def test_the_population_is_whose_latest_research_consent_stands(
    db_session, lyon, vienna, make_user, people, operator
):
    elsewhere = make_user(vienna)
    text = consent.publish_text(
        db_session, operator(vienna), vienna, Purpose.RESEARCH, {"de": "Forschung"}
    )
    consent.give_consent(db_session, elsewhere, Purpose.RESEARCH, text.version)
    found = set(db_session.scalars(research_consenters(lyon.id)))
    assert found == {people.yes.id, people.again.id, people.gone.id}
    assert set(db_session.scalars(research_consenters(vienna.id))) == {elsewhere.id}
    # A newer text asks everyone again for what comes next; standing consents still count.
    consent.publish_text(db_session, operator(lyon), lyon, Purpose.RESEARCH, {"fr": "Recherche v2"})
    assert set(db_session.scalars(research_consenters(lyon.id))) == found


# --- survey ----------------------------------------------------------------------------------


@pytest.fixture
def answered(db_session, moderator, campaign, people, lyon):
    """The survey of every type answered by the five residents; ``gone``'s response kept."""
    survey = make_survey(db_session, moderator, campaign, definition=EVERY_TYPE)
    db_session.add(
        Household(
            user_id=people.yes.id,
            city_id=lyon.id,
            people=3,
            district="Croix-Rousse",
            dwelling_type="apartment",
        )
    )
    now = utcnow() - timedelta(hours=1)
    made = {}
    for name, answers, locale in (
        ("yes", FULL, "fr"),
        ("no", FULL, "fr"),
        ("withdrawn", FULL, "en"),
        ("again", {"heating": "gas", "tools": ["b"]}, "en"),
        ("gone", {"heating": "wood", "garden": False}, "fr"),
    ):
        made[name], _new = responses_submit.submit(
            db_session,
            getattr(people, name),
            survey,
            str(uuid.uuid4()),
            survey.current_version_id,
            answers,
            locale,
            now,
        )
    keep_for_research(db_session, made["gone"])
    return survey, made


def test_a_survey_holds_every_question_type_of_the_population(db_session, lyon, people, answered):
    survey, made = answered
    (table,) = build(db_session, export_of(db_session, lyon, DatasetKind.SURVEY, survey.id),
                     options(include_text=True))  # fmt: skip
    assert table.name == "responses"
    assert [v.name for v in table.variables] == NAMES
    rows = read(table)
    assert len(rows) == 3
    yes, again, kept = rows
    day = made["yes"].submitted_at.astimezone(PARIS)
    assert yes == (
        f"u:{people.yes.id}", 1, "fr", day.date(), "Croix-Rousse", 3, "apartment",
        3, "Poêle à granulés", 2, 1, 0, 0, 1, "Scie sauteuse", 1, 4, 5, 42, 12.5,
        "Petit chat", "Une longue histoire", date(2020, 5, 1), 2, 3, 1, 1, 3,
    )  # fmt: skip
    assert again[:8] == (f"u:{people.again.id}", 1, "en", day.date(), None, None, None, 1)
    # Multiple choice answered: 0 for what was not chosen; unanswered questions missing.
    assert column(table, [again], "q_tools_a") == [0]
    assert column(table, [again], "q_tools_b") == [1]
    assert column(table, [again], "q_floor") == [None]
    assert column(table, [again], "q_grid_r1") == [None]
    # A kept response: its own key, no household, still in.
    assert kept[0] == f"r:{made['gone'].id}"
    assert kept[4:7] == (None, None, None)
    assert column(table, [kept], "q_heating") == [2]
    assert column(table, [kept], "q_garden") == [2]
    # A second pass reads the same rows again.
    assert read(table) == rows
    assert table.notes["records_considered"] == 5
    assert table.notes["records_included"] == 3
    assert table.notes["records_without_consent"] == 2
    assert table.notes["kept_after_account_deletion"] == 1
    assert table.notes["versions"] == [1]
    assert table.notes["survey"] == "Everything"
    assert [q["key"] for q in table.notes["questions"]][:3] == ["heating", "floor", "tools"]
    text = repr(rows) + repr(table.notes)
    for secret in pii(people):
        assert secret not in text


def test_survey_variables_carry_kinds_codes_and_roles(db_session, lyon, people, answered):
    survey, _made = answered
    (table,) = build(
        db_session,
        export_of(db_session, lyon, DatasetKind.SURVEY, survey.id),
        options(include_text=True, quasi=["age", "heating"], sensitive=["garden"]),
    )
    by_name = {v.name: v for v in table.variables}
    assert by_name["respondent"].role == Role.PSEUDONYM
    assert (by_name["submitted"].role, by_name["submitted"].hierarchy) == (Role.QUASI, "date")
    assert by_name["submitted"].kind == Kind.DATE
    assert (by_name["district"].role, by_name["district"].hierarchy) == (Role.QUASI, "category")
    assert by_name["household_size"].hierarchy == "count"
    assert by_name["dwelling_type"].role == Role.QUASI
    heating = by_name["q_heating"]
    assert heating.kind == Kind.INTEGER
    assert heating.codes == {1: "gas en", 2: "wood en", 3: "Other"}
    assert (heating.role, heating.hierarchy) == (Role.QUASI, "category")
    assert "1=gas" in heating.source and "3=other" in heating.source
    assert heating.label == "Question heating"
    assert (by_name["q_age"].role, by_name["q_age"].hierarchy) == (Role.QUASI, "band:10")
    assert by_name["q_age"].kind == Kind.INTEGER
    assert by_name["q_spend"].kind == Kind.NUMBER
    assert by_name["q_garden"].role == Role.SENSITIVE
    assert by_name["q_garden"].codes == {1: "Yes", 2: "No"}
    assert by_name["q_tools_a"].codes == {0: "No", 1: "Yes"}
    assert by_name["q_tools_a"].label == "Question tools: a en"
    assert by_name["q_comfort"].codes == {1: "Cold", 5: "Warm"}
    assert by_name["q_stars"].codes is None
    assert by_name["q_moved"].kind == Kind.DATE
    assert by_name["q_rank_x"].kind == Kind.INTEGER
    assert by_name["q_grid_r2"].label == "Question grid: Row 2"
    for name in ("q_nickname", "q_story", "q_heating_other_text", "q_tools_other_text"):
        assert (by_name[name].kind, by_name[name].role) == (Kind.STRING, Role.TEXT)
    assert all(v.role == Role.VALUE for v in table.variables if v.name in ("version", "q_floor"))


def test_labels_follow_the_export_language(db_session, lyon, people, answered):
    survey, _made = answered
    (table,) = build(db_session, export_of(db_session, lyon, DatasetKind.SURVEY, survey.id, "fr"))
    by_name = {v.name: v for v in table.variables}
    assert by_name["q_heating"].codes[1] == "gas fr"
    assert by_name["q_heating"].label == "Q heating"
    assert table.notes["survey"] == "Tout"


def test_free_text_is_left_out_unless_asked_for(db_session, lyon, people, answered):
    survey, _made = answered
    (table,) = build(db_session, export_of(db_session, lyon, DatasetKind.SURVEY, survey.id))
    names = [v.name for v in table.variables]
    assert not {"q_nickname", "q_story", "q_heating_other_text", "q_tools_other_text"} & set(names)
    assert all(v.role != Role.TEXT for v in table.variables)
    assert table.notes["text_left_out"] == ["heating.other", "tools.other", "nickname", "story"]
    rows = read(table)
    assert len(rows[0]) == len(names)
    assert "Petit chat" not in repr(rows) and "Scie sauteuse" not in repr(rows)


def test_the_window_filters_submission_days(db_session, lyon, people, moderator, campaign):
    survey = make_survey(db_session, moderator, campaign, definition=EVERY_TYPE,
                         allow_multiple=True)  # fmt: skip
    base = utcnow().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=10)
    for days in (0, 1, 2, 3):
        responses_submit.submit(
            db_session,
            people.yes,
            survey,
            str(uuid.uuid4()),
            survey.current_version_id,
            {"age": days},
            "fr",
            base + timedelta(days=days),
        )
    # A draft is never exported.
    responses_submit.save_draft(
        db_session, people.yes, survey, str(uuid.uuid4()), survey.current_version_id,
        {"age": 99}, "fr", base,
    )  # fmt: skip
    first = base.date() + timedelta(days=1)
    (table,) = build(
        db_session,
        export_of(db_session, lyon, DatasetKind.SURVEY, survey.id),
        options(starts_on=first, ends_on=first + timedelta(days=1)),
    )
    rows = read(table)
    assert column(table, rows, "q_age") == [1, 2]
    assert column(table, rows, "submitted") == [first, first + timedelta(days=1)]
    assert table.notes["window"] == {
        "starts_on": first.isoformat(),
        "ends_on": (first + timedelta(days=1)).isoformat(),
    }


def test_long_keys_make_short_unique_stable_names(db_session, lyon, people, moderator, campaign):
    long_key = "a" * 40
    definition = {
        "title": {"fr": "Longue", "en": "Long"},
        "pages": [
            {
                "key": "home",
                "questions": [
                    _q(long_key, "multiple_choice", choices=_choices("b" * 30, "b" * 31)),
                    _q("a" * 39, "yes_no"),
                ],
            }
        ],
    }
    survey = make_survey(db_session, moderator, campaign, definition=definition)
    export = export_of(db_session, lyon, DatasetKind.SURVEY, survey.id)
    (table,) = build(db_session, export)
    names = [v.name for v in table.variables]
    assert len(set(names)) == len(names)
    assert all(len(name) <= 32 for name in names)
    assert all(name[0].isalpha() and name.replace("_", "").isalnum() for name in names)
    (again,) = build(db_session, export)
    assert [v.name for v in again.variables] == names


def test_another_citys_survey_is_not_found(db_session, vienna, people, answered):
    survey, _made = answered
    with pytest.raises(NotFound):
        build(db_session, export_of(db_session, vienna, DatasetKind.SURVEY, survey.id))


def test_subjects_and_quasi_candidates(db_session, lyon, people, answered, moderator, campaign):
    survey, _made = answered
    unanswered = make_survey(db_session, moderator, campaign, definition=EVERY_TYPE)
    with force_locale("en"):
        assert subjects(db_session, lyon.id, DatasetKind.SURVEY) == [(survey.id, "Everything")]
        assert unanswered.id not in dict(subjects(db_session, lyon.id, DatasetKind.SURVEY))
        assert subjects(db_session, lyon.id, DatasetKind.IDEAS) == [(campaign.id, "Îlot 7")]
        assert subjects(db_session, lyon.id, DatasetKind.ENERGY) == [(campaign.id, "Îlot 7")]
        keys = [key for key, _label in quasi_candidates(db_session, survey.id)]
        labels = dict(quasi_candidates(db_session, survey.id))
    assert keys == ["heating", "floor", "tools", "garden", "comfort", "stars", "age", "spend",
                    "moved", "rank", "grid"]  # fmt: skip
    assert labels["heating"] == "Question heating"
    assert quasi_candidates(db_session, 10**9) == []


# --- ideas -----------------------------------------------------------------------------------


def _board(session, campaign, title):
    board = Board(
        city_id=campaign.city_id,
        campaign_id=campaign.id,
        title=title,
        status=BoardStatus.PUBLISHED,
        phase=Phase.COLLECTING,
        published_at=utcnow(),
    )
    session.add(board)
    session.flush()
    return board


def _idea(session, board, author, title, **values):
    idea = Idea(
        board_id=board.id,
        city_id=board.city_id,
        author_id=author.id if author else None,
        client_uuid=str(uuid.uuid4()),
        title=title,
        body=f"Body of {title}",
        language="fr",
        search_text=title.lower(),
        published_at=utcnow(),
        **values,
    )
    session.add(idea)
    session.flush()
    return idea


def _comment(session, idea, author, body, **values):
    comment = Comment(
        idea_id=idea.id,
        city_id=idea.city_id,
        author_id=author.id,
        client_uuid=str(uuid.uuid4()),
        body=body,
        language="fr",
        **values,
    )
    session.add(comment)
    session.flush()
    return comment


def test_ideas_comments_and_supports_of_the_population(
    db_session, lyon, people, campaign, moderator
):
    court = _board(db_session, campaign, {"fr": "Cour", "en": "Courtyard"})
    park = _board(db_session, campaign, {"fr": "Parc", "en": "Park"})
    other = _board(
        db_session, published_campaign(db_session, moderator, lyon, "other"), {"fr": "Autre"}
    )
    mine = _idea(db_session, court, people.yes, "Potager", official_status="accepted",
                 supports_count=2, comments_count=1)  # fmt: skip
    again = _idea(db_session, park, people.again, "Bancs")
    theirs = _idea(db_session, court, people.no, "Idée de non")
    hidden = _idea(db_session, court, people.yes, "Cachée", state="hidden")
    _idea(db_session, court, None, "Orpheline")
    _idea(db_session, court, people.withdrawn, "Retirée")
    _idea(db_session, other, people.yes, "Ailleurs")
    c1 = _comment(db_session, theirs, people.yes, "Bonne idée")
    _comment(db_session, mine, people.again, "Oui !")
    _comment(db_session, mine, people.yes, "Masqué", state="hidden")
    _comment(db_session, mine, people.no, "Commentaire de non")
    _comment(db_session, hidden, people.yes, "Sur une cachée")
    db_session.add_all(
        [
            Support(idea_id=theirs.id, board_id=court.id, user_id=people.yes.id),
            Support(idea_id=mine.id, board_id=court.id, user_id=people.again.id),
            Support(idea_id=mine.id, board_id=court.id, user_id=people.no.id),
            Support(idea_id=hidden.id, board_id=court.id, user_id=people.yes.id),
        ]
    )
    db_session.flush()
    export = export_of(db_session, lyon, DatasetKind.IDEAS, campaign.id)
    ideas, comments, supports = build(db_session, export, options(include_text=True))
    assert [t.name for t in (ideas, comments, supports)] == ["ideas", "comments", "supports"]
    assert [v.name for v in ideas.variables] == [
        "idea", "created", "board", "status", "supports", "comments", "title", "body",
    ]  # fmt: skip
    by_name = {v.name: v for v in ideas.variables}
    assert by_name["board"].codes == {1: "Courtyard", 2: "Park"}
    assert by_name["status"].codes[2] == "Accepted"
    # No author pseudonym: the site names authors, so it would lead to their supports.
    assert not any(v.role == Role.PSEUDONYM for v in ideas.variables + comments.variables)
    assert (by_name["created"].role, by_name["created"].hierarchy) == (Role.QUASI, "date")
    assert (by_name["title"].role, by_name["body"].role) == (Role.TEXT, Role.TEXT)
    rows = read(ideas)
    today = utcnow().astimezone(PARIS).date()
    assert rows == [
        (mine.id, today, 1, 2, 2, 1, "Potager", "Body of Potager"),
        (again.id, today, 2, None, 0, 0, "Bancs", "Body of Bancs"),
    ]
    assert ideas.notes["records_considered"] == 5
    assert ideas.notes["records_included"] == 2
    assert ideas.notes["records_left_out_deleted_participant"] == 1
    assert ideas.notes["records_without_consent"] == 2
    assert [v.name for v in comments.variables] == ["idea", "created", "body"]
    assert read(comments) == [
        (theirs.id, today, "Bonne idée"),
        (mine.id, today, "Oui !"),
    ]
    assert c1.id  # the comment on another's idea is the commenter's contribution
    assert [v.name for v in supports.variables] == ["idea", "supporter", "created"]
    assert read(supports) == [
        (theirs.id, f"u:{people.yes.id}", today),
        (mine.id, f"u:{people.again.id}", today),
    ]
    text = repr([read(ideas), read(comments), read(supports)])
    for secret in pii(people):
        assert secret not in text
    # Without free text: no title or body at all.
    ideas, comments, _supports = build(db_session, export, options())
    assert [v.name for v in ideas.variables][-1] == "comments"
    assert [v.name for v in comments.variables] == ["idea", "created"]
    assert "Potager" not in repr(read(ideas))


# --- workshops -------------------------------------------------------------------------------


def test_workshop_participation_counts_the_population(db_session, lyon, people, campaign):
    past = utcnow().replace(microsecond=0) - timedelta(days=3)
    done = published_workshop(
        db_session,
        campaign,
        title={"fr": "Atelier A", "en": "Workshop A"},
        starts_at=past,
        status=WorkshopStatus.COMPLETED,
    )
    coming = published_workshop(db_session, campaign, title={"fr": "B", "en": "Workshop B"})
    draft = published_workshop(db_session, campaign, title={"en": "Draft"}, status="draft")
    registration(db_session, done, people.yes, checked_in_at=past)
    registration(db_session, done, people.again)
    registration(db_session, done, people.no, checked_in_at=past)
    registration(db_session, done, people.withdrawn)
    registration(db_session, coming, people.yes)
    registration(db_session, coming, people.again, RegistrationStatus.WAITLISTED)
    registration(db_session, coming, people.gone, RegistrationStatus.CANCELLED)
    registration(db_session, draft, people.yes)
    (table,) = build(db_session, export_of(db_session, lyon, DatasetKind.WORKSHOPS, campaign.id))
    assert isinstance(table, Aggregate)
    assert table.name == "participation"
    assert (table.row.name, table.column.name, table.count.name) == (
        "workshop",
        "outcome",
        "people",
    )
    assert table.cells == {
        ("Workshop A", "Attended"): Cell(1),
        ("Workshop A", "Did not come"): Cell(1),
        ("Workshop A", TOTAL): Cell(2),
        ("Workshop B", "Registered"): Cell(1),
        ("Workshop B", "On the waitlist"): Cell(1),
        ("Workshop B", "Cancelled"): Cell(1),
        ("Workshop B", TOTAL): Cell(3),
        (TOTAL, "Attended"): Cell(1),
        (TOTAL, "Did not come"): Cell(1),
        (TOTAL, "Registered"): Cell(1),
        (TOTAL, "On the waitlist"): Cell(1),
        (TOTAL, "Cancelled"): Cell(1),
        (TOTAL, TOTAL): Cell(5),
    }
    assert table.notes["records_considered"] == 7
    assert table.notes["records_included"] == 5
    assert table.notes["workshops"] == 2


# --- energy ----------------------------------------------------------------------------------


def _meter(session, person, commodity="electricity", unit="Wh"):
    meter = Meter(
        user_id=person.id,
        city_id=person.city_id,
        commodity=commodity,
        unit=unit,
        timezone="Europe/Paris",
    )
    session.add(meter)
    session.flush()
    return meter


def _read(session, meter, start: datetime, value: float, hours=1):
    session.add(
        Reading(
            meter_id=meter.id, start_at=start, end_at=start + timedelta(hours=hours), value=value
        )
    )


@pytest.fixture
def metered(db_session, lyon, people, campaign):
    """Readings of early 2025: ``yes`` (Croix-Rousse, in the campaign) in January and February
    (the last one on 1 February in Lyon, still 31 January in UTC) and gas in March; ``again``
    (no household) in January; ``no`` (no consent) in January; a kept series in January."""
    db_session.add(
        Household(
            user_id=people.yes.id, city_id=lyon.id, district="Croix-Rousse", campaign_id=campaign.id
        )
    )
    yes = _meter(db_session, people.yes)
    _read(db_session, yes, datetime(2025, 1, 10, 8, tzinfo=UTC), 1000)
    _read(db_session, yes, datetime(2025, 1, 10, 9, tzinfo=UTC), 2000)
    _read(db_session, yes, datetime(2025, 1, 31, 23, 30, tzinfo=UTC), 4000)
    gas = _meter(db_session, people.yes, "gas", "m3")
    _read(db_session, gas, datetime(2025, 3, 10, tzinfo=UTC), 12.5, hours=24)
    _read(db_session, _meter(db_session, people.again), datetime(2025, 1, 5, tzinfo=UTC), 5000)
    _read(db_session, _meter(db_session, people.no), datetime(2025, 1, 5, tzinfo=UTC), 99000)
    for day, amount in ((date(2025, 1, 3), 2500), (date(2025, 1, 4), 3500)):
        db_session.add(
            KeptMeterDay(
                series="a" * 32, city_id=lyon.id, commodity="electricity", unit="Wh",
                day=day, amount=amount,
            )
        )  # fmt: skip
    db_session.flush()


def test_energy_by_district_and_month(db_session, lyon, people, metered):
    export = export_of(db_session, lyon, DatasetKind.ENERGY, None)
    window = options(starts_on=date(2025, 1, 1), ends_on=date(2025, 3, 31))
    electricity, gas = build(db_session, export, window)
    assert (electricity.name, gas.name) == ("energy_electricity", "energy_gas")
    assert (electricity.row.name, electricity.column.name) == ("district", "month")
    assert electricity.count.name == "households"
    assert [m.name for m in electricity.measures] == ["total", "median"]
    assert electricity.measures[0].label == "Total use (kWh)"
    assert electricity.cells == {
        ("Croix-Rousse", "2025-01"): Cell(1, (3.0, 3.0)),
        ("Croix-Rousse", "2025-02"): Cell(1, (4.0, 4.0)),
        ("Croix-Rousse", TOTAL): Cell(1, (7.0, 7.0)),
        ("no district", "2025-01"): Cell(2, (11.0, 5.5)),
        ("no district", TOTAL): Cell(2, (11.0, 5.5)),
        (TOTAL, "2025-01"): Cell(3, (14.0, 5.0)),
        (TOTAL, "2025-02"): Cell(1, (4.0, 4.0)),
        (TOTAL, TOTAL): Cell(3, (18.0, 6.0)),
    }
    assert gas.cells[("Croix-Rousse", "2025-03")] == Cell(1, (12.5, 12.5))
    assert electricity.notes["months"] == ["2025-01", "2025-02", "2025-03"]
    assert electricity.notes["records_considered"] == 4
    assert electricity.notes["records_included"] == 3
    assert electricity.notes["records_without_consent"] == 1
    assert electricity.notes["kept_series"] == 1


def test_energy_of_a_campaign_and_the_default_window(db_session, lyon, people, metered, campaign):
    requested = datetime(2025, 4, 15, 10, tzinfo=UTC)
    export = export_of(db_session, lyon, DatasetKind.ENERGY, campaign.id, requested_at=requested)
    electricity, _gas = build(db_session, export)
    # Only the campaign's household; kept series belong to no campaign.
    assert electricity.cells[(TOTAL, TOTAL)] == Cell(1, (7.0, 7.0))
    assert electricity.notes["window"] == {"starts_on": "2024-04-01", "ends_on": "2025-03-31"}
    assert len(electricity.notes["months"]) == 12
    assert "kept_series" not in electricity.notes


def test_energy_without_readings_is_one_empty_table(db_session, lyon, people):
    (table,) = build(db_session, export_of(db_session, lyon, DatasetKind.ENERGY, None))
    assert table.name == "energy" and table.cells == {}


def test_every_dataset_kind_has_a_builder():
    assert set(DATASETS) == set(DatasetKind)


def test_no_dataset_reads_personal_columns():
    """Datasets select plain columns; none of them names a person's contact or secret."""
    for module in (energy_dataset, ideas_dataset, survey_dataset, survey_layout, workshops_dataset):
        source = inspect.getsource(module)
        for name in ("email", "display_name", "token", "address", "checkin_code", "latitude"):
            assert name not in source, (module.__name__, name)
