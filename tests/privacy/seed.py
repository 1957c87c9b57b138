"""A resident with something held in every domain, and another resident beside them whose
data must never show in the first one's copy. Rows are made as the tests of each domain make
them (models directly, or the domain's test helpers)."""

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

from app import cities, consent
from app.accounts import issue_token
from app.audit import record
from app.consent_models import Purpose
from app.db import utcnow
from app.models import CodePurpose, EmailCode, IdempotencyRecord, Role, TokenKind
from campaigns.models import CampaignFollow
from energy.models import (
    FeedbackReport,
    Household,
    Meter,
    MeterImport,
    ProviderConnection,
    Reading,
)
from ideas import comments as idea_comments
from ideas import supports
from ideas.models import (
    Board,
    BoardStatus,
    Comment,
    CommentState,
    Flag,
    Idea,
    IdeaStatusChange,
    Mute,
    Phase,
    Support,
)
from notifications import digest
from notifications.models import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushDevice,
)
from notifications.service import notify
from privacy.models import DataExport
from research.models import ResearchExport, ResearchProject
from surveys import responses_submit
from surveys.models import SurveyResponse
from tests.surveys.helpers import GAS, make_survey
from tests.workshops.helpers import QUESTIONS, published_workshop, registration
from updates.models import Update
from workshops.models import CalendarFeed, RegistrationStatus, WorkshopStatus

SECRETS = {
    "push_key": "BPushKeyp256dhSecretValue0123456789",
    "push_auth": "pushAuthSecret42",
    "endpoint": "https://push.example.org/wpush/v2/endpoint-secret-xyz",
    "sealed_access": "sealed-access-token-secret",
    "sealed_refresh": "sealed-refresh-token-secret",
    "feed_hash": "f" * 64,
}


def _idea(session, board, author, title, body):
    idea = Idea(
        board_id=board.id,
        city_id=board.city_id,
        author_id=author.id,
        client_uuid=str(uuid.uuid4()),
        title=title,
        body=body,
        language="fr",
        search_text=title.lower(),
        published_at=utcnow(),
    )
    session.add(idea)
    session.flush()
    return idea


def seed(session, person, other, moderator, campaign, operator) -> dict:
    """Everything for ``person`` (and a little for ``other``); returns what to look for."""
    city = person.city
    text = consent.publish_text(
        session, operator(city), city, Purpose.ENERGY_FEEDBACK, {"fr": "Relevés", "en": "Readings"}
    )
    consent.give_consent(session, person, Purpose.ENERGY_FEEDBACK, text.version)
    session.add(CampaignFollow(user_id=person.id, campaign_id=campaign.id))
    survey = make_survey(session, moderator, campaign)
    session.add(
        SurveyResponse(
            survey_id=survey.id,
            version_id=survey.current_version_id,
            user_id=person.id,
            client_uuid=str(uuid.uuid4()),
            status="submitted",
            locale="fr",
            answers={"heating": "gas", "boiler_age": 12, "comment": "Chaudière bruyante"},
            submitted_at=utcnow(),
        )
    )
    board = Board(
        city_id=city.id,
        campaign_id=campaign.id,
        title={"fr": "Cour"},
        status=BoardStatus.PUBLISHED,
        phase=Phase.COLLECTING,
        published_at=utcnow(),
    )
    session.add(board)
    session.flush()
    mine = _idea(session, board, person, "Un potager partagé", "Des bacs pour tous.")
    theirs = _idea(session, board, other, "Idée de Zoé Autre", "Texte de l'autre.")
    session.add_all(
        [
            Comment(
                idea_id=theirs.id,
                city_id=city.id,
                author_id=person.id,
                client_uuid=str(uuid.uuid4()),
                body="Mon commentaire sur l'autre idée",
                language="fr",
            ),
            Comment(
                idea_id=mine.id,
                city_id=city.id,
                author_id=other.id,
                client_uuid=str(uuid.uuid4()),
                body="Commentaire secret de Zoé",
                language="fr",
            ),
            Support(idea_id=theirs.id, board_id=board.id, user_id=person.id),
            Flag(city_id=city.id, idea_id=theirs.id, user_id=person.id, reason="duplicate"),
            Mute(city_id=city.id, user_id=person.id, muted_by_id=moderator.id, reason="Spam"),
        ]
    )
    workshop = published_workshop(session, campaign, questions=QUESTIONS)
    registration(session, workshop, person, answers={"diet": "vegan", "access": "Rampe"})
    session.add(CalendarFeed(user_id=person.id, token_hash=SECRETS["feed_hash"]))
    session.add_all(
        [
            Notification(
                user_id=person.id,
                city_id=city.id,
                kind="update.published",
                locale="fr",
                subject="Nouvelle de la ville",
                body_text="Le chantier commence.",
                body_html="<p>Le chantier commence.</p>",
                inbox_at=utcnow(),
            ),
            NotificationPreference(
                user_id=person.id, kind="idea.comment", inbox=True, push=False, email="off"
            ),
            NotificationSettings(user_id=person.id, quiet_start=time(22, 0), quiet_end=time(7, 0)),
            PushDevice(
                user_id=person.id,
                platform="webpush",
                address_hash="a" * 64,
                address=SECRETS["endpoint"],
                p256dh=SECRETS["push_key"],
                auth=SECRETS["push_auth"],
                label="Mon téléphone",
            ),
            Household(user_id=person.id, city_id=city.id, people=3, district="Croix-Rousse"),
        ]
    )
    meter = Meter(
        user_id=person.id,
        city_id=city.id,
        commodity="electricity",
        unit="Wh",
        timezone="Europe/Paris",
        label="Appartement",
    )
    session.add(meter)
    session.flush()
    imported = MeterImport(
        meter_id=meter.id,
        user_id=person.id,
        city_id=city.id,
        kind="csv",
        filename="conso.csv",
        content_sha256="c" * 64,
        summary={"stored": 3},
    )
    session.add(imported)
    session.flush()
    start = datetime(2026, 1, 5, 0, 0, tzinfo=utcnow().tzinfo)
    for i, value in enumerate((111.5, 222.5, 333.5)):
        session.add(
            Reading(
                meter_id=meter.id,
                start_at=start + timedelta(hours=i),
                end_at=start + timedelta(hours=i + 1),
                value=value,
                import_id=imported.id,
            )
        )
    session.add_all(
        [
            FeedbackReport(
                meter_id=meter.id,
                user_id=person.id,
                city_id=city.id,
                commodity="electricity",
                period="week",
                starts_on=date(2026, 1, 5),
                ends_on=date(2026, 1, 11),
                consumption=667.5,
            ),
            ProviderConnection(
                meter_id=meter.id,
                user_id=person.id,
                city_id=city.id,
                provider="enedis",
                status="active",
                usage_point="12345678901234",
                access_token=SECRETS["sealed_access"],
                refresh_token=SECRETS["sealed_refresh"],
            ),
        ]
    )
    record(session, person, "idea.withdraw", "idea", mine.id, city_id=city.id, reason="x")
    session.flush()
    return {"meter": meter, "survey": survey, "workshop": workshop, "mine": mine}


# --- more for the account deletion tests -------------------------------------------------------

#: Written into the person's own fields by ``seed`` and ``seed_for_deletion``: none of these may
#: be left anywhere once the account is deleted (with the person's e-mail and display name).
PERSONAL_MARKERS = (
    "Croix-Rousse",
    "Appartement",
    "Mon téléphone",
    "conso.csv",
    "12345678901234",
    "Rampe",
    "Nouvelle de la ville",
    "Compteur du garage",
    "Téléphone de Kim",
    "Signalé par moi-même",
    "Texte effacé de Kim",
    *SECRETS.values(),
)
#: The person's survey answer: kept (unlinkable) only when they consented to research.
SURVEY_MARKER = "Chaudière bruyante"
#: Readings of the second meter around the change to summer time in Paris (29 March 2026):
#: (start UTC, value, the local day it counts on).
SPRING = [
    (datetime(2026, 3, 28, 22, 30, tzinfo=UTC), 10.0, date(2026, 3, 28)),
    (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 20.0, date(2026, 3, 29)),
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), 40.0, date(2026, 3, 29)),
    (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), 80.0, date(2026, 3, 30)),
]


def _board(session, campaign, phase, **values):
    board = Board(
        city_id=campaign.city_id,
        campaign_id=campaign.id,
        title={"fr": "Votes"},
        status=BoardStatus.PUBLISHED,
        phase=phase,
        published_at=utcnow(),
        **values,
    )
    session.add(board)
    session.flush()
    return board


def _participation(session, person, other, moderator, campaign) -> dict:
    """Supports on open, final and closed boards; a comment that told its idea's author; a
    seat with someone waiting; a workshop attended; survey answers and a draft."""
    now = utcnow()
    voting = _board(session, campaign, Phase.SUPPORTING, support_budget=2)
    final = _board(session, campaign, Phase.SUPPORTING, supports_withdrawable=False)
    closing = _board(session, campaign, Phase.SUPPORTING)
    ideas = {
        name: _idea(session, board, other, f"Idée à soutenir {name}", "Un texte assez long.")
        for name, board in (("voting", voting), ("final", final), ("closed", closing))
    }
    for name, idea in ideas.items():
        supports.support_idea(session, person, idea, now)
        if name == "voting":
            supports.support_idea(session, other, idea, now)
    closing.phase = Phase.CLOSED
    # The idea's author reads comments by e-mail, once a day: the digest names the commenter.
    session.add(
        NotificationPreference(
            user_id=other.id, kind="idea.comment", inbox=True, push=False, email="daily"
        )
    )
    session.flush()
    comment, _created = idea_comments.add_comment(
        session,
        person,
        ideas["voting"],
        client_uuid=str(uuid.uuid4()),
        body="Je soutiens, et je commente aussi.",
        language="fr",
        now=now,
    )
    digest.gather(session, other.id, now + timedelta(days=3))
    session.add_all(
        [
            Comment(
                idea_id=ideas["voting"].id,
                city_id=campaign.city_id,
                author_id=person.id,
                client_uuid=str(uuid.uuid4()),
                body="Texte effacé de Kim",
                language="fr",
                state=CommentState.DELETED,
                deleted_at=now,
            ),
            Flag(
                city_id=campaign.city_id,
                idea_id=ideas["final"].id,
                user_id=person.id,
                reason="personal_data",
                note="Signalé par moi-même",
            ),
            Flag(
                city_id=campaign.city_id,
                idea_id=ideas["closed"].id,
                user_id=person.id,
                reason="spam",
                resolved_at=now,
            ),
            IdeaStatusChange(
                idea_id=ideas["closed"].id,
                status="under_review",
                response={"fr": "Nous regardons."},
                actor_id=person.id,
            ),
        ]
    )
    small = published_workshop(session, campaign, capacity=1)
    seat = registration(session, small, person)
    waiting = registration(session, small, other, RegistrationStatus.WAITLISTED)
    past = published_workshop(
        session,
        campaign,
        starts_at=now.replace(microsecond=0) - timedelta(days=3),
        status=WorkshopStatus.COMPLETED,
        completed_at=now - timedelta(days=2),
    )
    registration(session, past, person, checked_in_at=now - timedelta(days=3))
    record(
        session,
        moderator,
        "workshop.invite",
        "workshop_registration",
        seat.id,
        city_id=campaign.city_id,
        details={"workshop_id": small.id, "user_id": person.id},
    )
    survey = make_survey(session, moderator, campaign, allow_multiple=True)
    # Free text naming its writer: kept for research, it must no longer say who wrote it.
    signed = {**GAS, "comment": f"Écrivez-moi, {person.display_name} : {person.email}"}
    responses_submit.submit(
        session, person, survey, str(uuid.uuid4()), survey.current_version_id, signed, "fr", now
    )
    responses_submit.save_draft(
        session, person, survey, str(uuid.uuid4()), survey.current_version_id, GAS, "fr", now
    )
    return {
        "ideas": ideas,
        "comment": comment,
        "small": small,
        "waiting": waiting,
        "past": past,
        "survey_many": survey,
    }


def _account(session, person, moderator, operator) -> None:
    """Sign-ins, codes, a retried request's answer, roles and what the person did as staff."""
    city = person.city
    now = utcnow()
    issue_token(session, person, TokenKind.API, timedelta(days=1), "Téléphone de Kim", now)
    notify(session, [person], "account.exists", {})  # an e-mail on its way to them
    session.add_all(
        [
            EmailCode(
                user_id=person.id,
                purpose=CodePurpose.RESET_PASSWORD,
                code_hash="e" * 64,
                expires_at=now + timedelta(minutes=30),
            ),
            IdempotencyRecord(
                scope=f"user:{person.id}",
                key="retry-1",
                endpoint="ideas.post_idea",
                fingerprint="0" * 64,
                status_code=201,
                response_body=json.dumps({"author": person.display_name, "mail": person.email}),
            ),
            DataExport(user_id=person.id, status="pending", locale="fr"),
            Update(city_id=city.id, title={"fr": "Travaux"}, created_by_id=person.id),
            ResearchProject(
                city_id=city.id, name="Chaleur", key_sealed="k", created_by_id=person.id
            ),
            ResearchExport(
                city_id=city.id,
                requested_by_id=person.id,
                dataset="survey",
                purpose="Étudier le chauffage des ménages de Lyon.",
                locale="fr",
                status="pending",
            ),
        ]
    )
    cities.grant_role(session, operator(city), person, city, Role.RESEARCHER)
    record(
        session,
        moderator,
        "author.mute",
        "user",
        person.id,
        city_id=city.id,
        reason=f"{person.display_name} publie du spam",
    )


def _garage_meter(session, person) -> Meter:
    meter = Meter(
        user_id=person.id,
        city_id=person.city_id,
        commodity="gas",
        unit="m3",
        timezone="Europe/Paris",
        label="Compteur du garage",
    )
    session.add(meter)
    session.flush()
    session.add_all(
        Reading(
            meter_id=meter.id,
            start_at=start,
            end_at=start + timedelta(hours=1),
            value=value,
        )
        for start, value, _day in SPRING
    )
    return meter


def seed_for_deletion(
    session, person, other, moderator, campaign, operator, *, research: bool = False
) -> dict:
    """``seed``, and more of the person in every domain for deleting their account; with
    ``research``, the person consented to research use."""
    city = person.city
    if research:
        text = consent.publish_text(
            session, operator(city), city, Purpose.RESEARCH, {"fr": "Recherche", "en": "Research"}
        )
        consent.give_consent(session, person, Purpose.RESEARCH, text.version)
    # Before ``seed``: it mutes the person, who could comment no more.
    made = _participation(session, person, other, moderator, campaign)
    _account(session, person, moderator, operator)
    made["garage"] = _garage_meter(session, person)
    made.update(seed(session, person, other, moderator, campaign, operator))
    session.flush()
    return made
