"""A Lyon survey answered by many residents, fast: rows bulk-inserted as the survey services
store them (responses with their answer rows from surveys/answers.py), households with the
facts research exports generalise, and research consents given, never given or withdrawn.

Some free-text answers carry personal data that must never leave in an export: other people's
e-mail addresses, phone numbers, an IBAN, a web address and a registered resident's name.
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from app import consent
from app.consent_models import Consent, Purpose
from app.db import utcnow
from app.models import City, User
from energy.models import DwellingType, Household
from surveys.answers import answer_rows, fingerprint, normalized
from surveys.models import ResponseAnswer, ResponseStatus, Survey, SurveyResponse

DISTRICTS = ["Croix-Rousse", "Part-Dieu", "Confluence"]
FIRST = ["Ysaline", "Thibaud", "Maëlys", "Corentin", "Eulalie", "Gaspard", "Ombeline", "Anatole"]
LAST = ["Quenneville", "Brassac", "Delaunoy", "Vermorel", "Chabanel", "Ravanel", "Moutier"]
#: Personal data written in comments, which the export must scrub.
PII = [
    "ysaline.private@example.net",
    "+33 6 12 34 56 78",
    "FR76 3000 6000 0112 3456 7890 189",
    "https://exemple.fr/profil/jdupont",
    "04 72 10 30 30",
]


#: Written in the comment of every response whose author does not consent (now).
OUT_OF_CONSENT = "Trace hors consentement"


@dataclass
class World:
    city: City
    survey: Survey
    #: Every respondent's user id, and which of them consented to research (standing now).
    respondents: list[int]
    consenting: set[int]
    withdrawn: set[int]
    #: The name seeded in comments: a registered resident's display name.
    named: str = ""
    pii: list[str] = field(default_factory=lambda: list(PII))


def _name(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"


def seed_survey(
    session,
    city: City,
    survey: Survey,
    operator: User,
    *,
    count: int = 1000,
    without_consent: int = 100,
    withdrawn: int = 50,
    seed: int = 8,
) -> World:
    """``count`` residents who each submitted a response to ``survey`` (its DEFINITION of
    tests/surveys/helpers.py); the first ``without_consent`` never consented to research, the
    next ``withdrawn`` consented then withdrew, the rest consent."""
    rng = random.Random(seed)
    now = utcnow()
    city.districts = list(DISTRICTS)
    text = consent.publish_text(
        session, operator, city, Purpose.RESEARCH, {city.default_locale: "Recherche"}, now=now
    )
    session.flush()
    marker = uuid.uuid4().hex[:8]
    session.execute(
        sa.insert(User),
        [
            {
                "email": f"respondent-{marker}-{i}@example.org",
                "password_hash": "-",
                "display_name": _name(i),
                "city_id": city.id,
                "locale": "fr",
                "email_verified_at": now,
            }
            for i in range(count)
        ],
    )
    ids = list(
        session.scalars(
            sa.select(User.id).where(User.email.like(f"respondent-{marker}-%")).order_by(User.id)
        )
    )
    refused = set(ids[:without_consent])
    gone = set(ids[without_consent : without_consent + withdrawn])
    given_at = now - timedelta(days=40)
    session.execute(
        sa.insert(Consent),
        [
            {
                "user_id": user_id,
                "purpose": Purpose.RESEARCH.value,
                "text_id": text.id,
                "version": text.version,
                "given_at": given_at,
                "method": "app",
                "withdrawn_at": now - timedelta(days=1) if user_id in gone else None,
            }
            for user_id in ids
            if user_id not in refused
        ],
    )
    # Everyone in one of three districts, households of 1 to 4 people in two dwelling types:
    # classes big enough for k = 10 once the day of submission is coarsened.
    session.execute(
        sa.insert(Household),
        [
            {
                "user_id": user_id,
                "city_id": city.id,
                "district": DISTRICTS[rng.randrange(len(DISTRICTS))],
                "people": rng.choice([1, 2, 2, 3, 4]),
                "dwelling_type": rng.choice([DwellingType.APARTMENT, DwellingType.TERRACED]),
                "updated_at": now,
            }
            for user_id in ids
        ],
    )
    definition = survey.current_version.definition
    named = _name(count - 1)  # the last respondent's name, written by others
    responses, answers_of = [], []
    for n, user_id in enumerate(ids):
        answers = {"heating": "gas", "boiler_age": rng.randrange(1, 40), "comfort": 4}
        if n % 3 == 0:
            answers = {"heating": "heat_pump", "comfort": rng.randrange(1, 6)}
        if n % 7 == 0:
            answers["comment"] = (
                f"Contactez-moi : {PII[n % len(PII)]}. Mon voisin {named} est d'accord."
            )
        elif n % 5 == 0:
            answers["comment"] = "Le chauffage est trop faible en janvier."
        if n % 11 == 0:
            answers = {"heating": "other", "heating.other": "Poêle à bois", "comfort": 3}
        if user_id in refused or user_id in gone:
            # A trace of each response without consent: none may reach an export.
            answers["comment"] = f"{OUT_OF_CONSENT} {n}"
        answers = normalized(definition, answers)
        submitted = now - timedelta(days=rng.randrange(2, 30), minutes=rng.randrange(600))
        responses.append(
            {
                "survey_id": survey.id,
                "version_id": survey.current_version_id,
                "user_id": user_id,
                "single_owner_id": user_id,
                "client_uuid": str(uuid.uuid4()),
                "status": ResponseStatus.SUBMITTED.value,
                "locale": "fr",
                "answers": answers,
                "fingerprint": fingerprint(answers),
                "started_at": submitted - timedelta(minutes=5),
                "updated_at": submitted,
                "submitted_at": submitted,
            }
        )
        answers_of.append(answers)
    session.execute(sa.insert(SurveyResponse), responses)
    response_ids = dict(
        session.execute(
            sa.select(SurveyResponse.user_id, SurveyResponse.id).where(
                SurveyResponse.survey_id == survey.id
            )
        ).all()
    )
    session.execute(
        sa.insert(ResponseAnswer),
        [
            {"survey_id": survey.id, "response_id": response_ids[user_id], **row}
            for user_id, answers in zip(ids, answers_of, strict=True)
            for row in answer_rows(definition, answers)
        ],
    )
    session.flush()
    return World(
        city=city,
        survey=survey,
        respondents=ids,
        consenting=set(ids) - refused - gone,
        withdrawn=gone,
        named=named,
    )
