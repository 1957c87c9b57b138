"""A resident with something held in every domain, and another resident beside them whose
data must never show in the first one's copy. Rows are made as the tests of each domain make
them (models directly, or the domain's test helpers)."""

import uuid
from datetime import date, datetime, time, timedelta

from app import consent
from app.audit import record
from app.consent_models import Purpose
from app.db import utcnow
from campaigns.models import CampaignFollow
from energy.models import (
    FeedbackReport,
    Household,
    Meter,
    MeterImport,
    ProviderConnection,
    Reading,
)
from ideas.models import Board, BoardStatus, Comment, Flag, Idea, Mute, Phase, Support
from notifications.models import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushDevice,
)
from surveys.models import SurveyResponse
from tests.surveys.helpers import make_survey
from tests.workshops.helpers import QUESTIONS, published_workshop, registration
from workshops.models import CalendarFeed

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
