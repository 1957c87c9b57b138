"""Demo data for a newcomer: two cities, a published campaign in each, one account per role,
residents following their city's campaign, an update published to its followers, an idea
board collecting ideas, with the resident's first idea on it, and a workshop next month with
a few people registered (in Vienna one more than its seats, so one waits on the waitlist),
each city's text residents agree to before their meter readings are imported, and a street of
households with eight weeks of meter readings (app/demo_energy.py)."""

import secrets
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import cities, consent
from app.consent_models import Purpose
from app.db import utcnow
from app.demo_consents import ENERGY_CONSENT, RESEARCH_CONSENT
from app.demo_energy import energy_demo
from app.models import City, Role, User
from app.passwords import hash_password
from campaigns import service as campaigns
from ideas import boards
from ideas import service as ideas
from updates import publishing
from updates import service as updates
from workshops import registrations
from workshops import service as workshops

CITIES = [
    {
        "slug": "lyon",
        "name": "Lyon",
        "timezone": "Europe/Paris",
        "default_locale": "fr",
        "enabled_locales": ["fr", "en"],
    },
    {
        "slug": "vienna",
        "name": "Wien",
        "timezone": "Europe/Vienna",
        "default_locale": "de",
        "enabled_locales": ["de", "en"],
    },
]

CAMPAIGNS = {
    "lyon": {
        "slug": "renovation-ilot-7",
        "title": {"fr": "Rénovation de l'îlot 7", "en": "Renovating block 7"},
        "summary": {
            "fr": "Isolation, chauffage et cours partagées : donnez votre avis.",
            "en": "Insulation, heating and shared courtyards: have your say.",
        },
        "description": {
            "fr": "La Métropole rénove les immeubles de l'îlot 7 à la Duchère. "
            "Participez aux ateliers et aux enquêtes pour décider ensemble.",
            "en": "The Métropole is renovating the buildings of block 7 in La Duchère. "
            "Join the workshops and surveys to decide together.",
        },
        "phases": [
            ({"fr": "Information", "en": "Information"}, 0, 30),
            ({"fr": "Co-conception", "en": "Co-design"}, 30, 120),
        ],
    },
    "vienna": {
        "slug": "fernwaerme-favoriten",
        "title": {"de": "Fernwärme für Favoriten", "en": "District heating for Favoriten"},
        "summary": {
            "de": "Wie soll der Umstieg auf Fernwärme im Grätzl ablaufen?",
            "en": "How should the neighbourhood switch to district heating?",
        },
        "description": {
            "de": "Die Stadt plant den Anschluss von 40 Wohnhäusern an die Fernwärme. "
            "Sagen Sie uns, was Ihnen wichtig ist.",
            "en": "The city plans to connect 40 residential buildings to district heating. "
            "Tell us what matters to you.",
        },
        "phases": [({"de": "Umfrage", "en": "Survey"}, -10, 40)],
    },
}

UPDATES = {
    "lyon": {
        "title": {"fr": "Premier atelier le 12 janvier", "en": "First workshop on 12 January"},
        "body": {
            "fr": "<p>Venez découvrir les scénarios de rénovation à la <strong>Maison de "
            "quartier</strong>. Inscription dans l'application.</p>",
            "en": "<p>Come and see the renovation scenarios at the <strong>community "
            "centre</strong>. Register in the app.</p>",
        },
    },
    "vienna": {
        "title": {"de": "Infoabend zur Fernwärme", "en": "Information evening on district heating"},
        "body": {
            "de": "<p>Am Donnerstag beantworten die Wiener Netze Ihre Fragen im "
            "<strong>Amtshaus</strong>.</p>",
            "en": "<p>On Thursday, Wiener Netze answer your questions at the "
            "<strong>district office</strong>.</p>",
        },
    },
}

#: (email, home city, role in that city or None for a resident, platform admin?)
ACCOUNTS = [
    ("admin@example.org", "lyon", None, True),
    ("moderator.lyon@example.org", "lyon", Role.MODERATOR, False),
    ("staff.lyon@example.org", "lyon", Role.STAFF, False),
    ("researcher.lyon@example.org", "lyon", Role.RESEARCHER, False),
    ("cityadmin.lyon@example.org", "lyon", Role.ADMIN, False),
    ("moderator.vienna@example.org", "vienna", Role.MODERATOR, False),
    ("resident.lyon@example.org", "lyon", None, False),
    ("resident.vienna@example.org", "vienna", None, False),
]


BOARDS = {
    "lyon": {
        "title": {
            "fr": "Que faire de la cour de l'îlot 7 ?",
            "en": "What should block 7's courtyard become?",
        },
        "categories": [
            {"code": "nature", "label": {"fr": "Nature", "en": "Nature"}},
            {"code": "play", "label": {"fr": "Jeux", "en": "Play"}},
        ],
        "idea": (
            "Un potager partagé",
            "Des bacs de plantation pour chaque cage d'escalier.",
            "nature",
        ),
    },
    "vienna": {
        "title": {"de": "Ideen für das Grätzl", "en": "Ideas for the neighbourhood"},
        "categories": [
            {"code": "energie", "label": {"de": "Energie", "en": "Energy"}},
            {"code": "gruen", "label": {"de": "Grünraum", "en": "Green space"}},
        ],
        "idea": (
            "Wärmepumpen-Infoabend",
            "Ein Abend im Gemeindezentrum mit Fragen und Antworten.",
            "energie",
        ),
    },
}


WORKSHOPS = {
    "lyon": {
        "title": {
            "fr": "Atelier : dessinons la cour de l'îlot 7",
            "en": "Workshop: designing the courtyard of block 7",
        },
        "description": {
            "fr": "Plans en main, imaginons ensemble la future cour : **jeux**, potager, "
            "bancs et arbres.",
            "en": "With the plans in hand, let us imagine the future courtyard together: "
            "**play**, vegetable garden, benches and trees.",
        },
        "agenda": {
            "fr": "1. Accueil et café\n2. Visite de la cour\n3. Ateliers en petits groupes",
            "en": "1. Welcome and coffee\n2. Tour of the courtyard\n3. Small-group workshops",
        },
        "accessibility": {
            "fr": "Salle de plain-pied, boucle magnétique.",
            "en": "Step-free room, hearing loop.",
        },
        "address": "Maison du projet, 2 place Abbé Pierre, 69009 Lyon",
        "latitude": 45.7868,
        "longitude": 4.7976,
        "capacity": 12,
        "questions": [
            {
                "code": "needs",
                "label": {
                    "fr": "Avez-vous des besoins particuliers ?",
                    "en": "Do you have any particular needs?",
                },
                "required": False,
            }
        ],
        "hour": 18,
    },
    "vienna": {
        "title": {
            "de": "Werkstatt: Fernwärme im Grätzl",
            "en": "Workshop: district heating in the neighbourhood",
        },
        "description": {
            "de": "Wie soll der Anschluss ablaufen? Wir sammeln Fragen und Wünsche.",
            "en": "How should the connection work? We gather questions and wishes.",
        },
        "agenda": {},
        "accessibility": {"de": "Barrierefreier Zugang.", "en": "Step-free access."},
        "address": "Amtshaus Favoriten, Keplerplatz 5, 1100 Wien",
        "latitude": 48.1757,
        "longitude": 16.3768,
        "capacity": 3,
        "questions": [],
        "hour": 17,
    },
}
#: Residents who registered for their city's workshop (besides the demo resident); they
#: cannot sign in (nobody knows their passwords).
PARTICIPANTS = {
    "lyon": [
        ("Camille Roux", "camille.roux@example.org"),
        ("Karim Benali", "karim.benali@example.org"),
        ("Léa Martin", "lea.martin@example.org"),
    ],
    "vienna": [
        ("Anna Huber", "anna.huber@example.org"),
        ("Mehmet Yilmaz", "mehmet.yilmaz@example.org"),
        ("Eva Novak", "eva.novak@example.org"),
    ],
}


def already_loaded(session: Session) -> bool:
    return session.scalar(sa.select(sa.func.count(City.id))) > 0


def load(session: Session) -> list[tuple[str, str]]:
    """Create the demo data; returns (email, password) pairs to show once."""
    now = utcnow()
    by_slug = {spec["slug"]: cities.create_city(session, **spec) for spec in CITIES}
    credentials = []
    platform_admin = None
    for email, city_slug, role, is_admin in ACCOUNTS:
        password = secrets.token_urlsafe(12)
        user = User(
            email=email,
            password_hash=hash_password(password),
            city_id=by_slug[city_slug].id,
            display_name=email.split("@")[0].replace(".", " ").title(),
            email_verified_at=now,
            is_platform_admin=is_admin,
        )
        session.add(user)
        session.flush()
        platform_admin = platform_admin or (user if is_admin else None)
        if role:
            cities.grant_role(session, platform_admin, user, by_slug[city_slug], role)
        credentials.append((email, password))
    for purpose, texts in (
        (Purpose.ENERGY_FEEDBACK, ENERGY_CONSENT),
        (Purpose.RESEARCH, RESEARCH_CONSENT),
    ):
        for city_slug, text in texts.items():
            consent.publish_text(session, platform_admin, by_slug[city_slug], purpose, text, now)
    for city_slug, spec in CAMPAIGNS.items():
        phases = [
            {
                "title": title,
                "starts_at": now + timedelta(days=start),
                "ends_at": now + timedelta(days=end),
            }
            for title, start, end in spec["phases"]
        ]
        values = {k: v for k, v in spec.items() if k != "phases"}
        campaign = campaigns.create_campaign(
            session, platform_admin, by_slug[city_slug], phases=phases, **values
        )
        campaigns.publish_campaign(session, platform_admin, campaign)
        residents = session.scalars(
            sa.select(User).where(User.city_id == campaign.city_id, User.email.like("resident.%"))
        )
        for resident in residents:
            campaigns.follow_campaign(session, resident, campaign.slug)
        update = updates.create_update(
            session,
            platform_admin,
            by_slug[city_slug],
            campaign_id=campaign.id,
            **UPDATES[city_slug],
        )
        publishing.publish_update(session, platform_admin, update)
        _board(session, platform_admin, campaign, BOARDS[city_slug], now)
        _workshop(session, platform_admin, campaign, WORKSHOPS[city_slug], now)
        energy_demo(session, platform_admin, by_slug[city_slug], campaign, now)
    return credentials


def _board(session: Session, admin: User, campaign, spec: dict, now) -> None:
    """A board collecting ideas for two weeks, then supporting (five supports each)."""
    board = boards.create_board(
        session,
        admin,
        campaign,
        title=spec["title"],
        categories=spec["categories"],
        support_budget=5,
        supporting_from=now + timedelta(days=14),
        closes_at=now + timedelta(days=28),
    )
    boards.publish_board(session, admin, board, now)
    boards.set_phase(session, admin, board, "collecting", now)
    resident = session.scalar(
        sa.select(User).where(User.city_id == campaign.city_id, User.email.like("resident.%"))
    )
    title, body, category = spec["idea"]
    ideas.post_idea(
        session,
        resident,
        board,
        client_uuid=str(uuid.uuid4()),
        title=title,
        body=body,
        language=campaign.city.default_locale,
        category=category,
        now=now,
    )


def _workshop(session: Session, admin: User, campaign, spec: dict, now) -> None:
    """A workshop in about a month, at the evening hour of the city, with people registered."""
    city = campaign.city
    day = (now + timedelta(days=30)).astimezone(ZoneInfo(city.timezone)).date()
    starts = datetime.combine(day, time(spec["hour"]), tzinfo=ZoneInfo(city.timezone))
    values = {k: v for k, v in spec.items() if k != "hour"}
    workshop = workshops.create_workshop(
        session,
        admin,
        campaign,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        now=now,
        **values,
    )
    workshops.publish_workshop(session, admin, workshop, now)
    resident = session.scalar(
        sa.select(User).where(User.city_id == city.id, User.email.like("resident.%"))
    )
    people = [resident]
    for name, email in PARTICIPANTS[city.slug]:
        person = User(
            email=email,
            password_hash=hash_password(secrets.token_urlsafe(16)),
            city_id=city.id,
            display_name=name,
            email_verified_at=now,
        )
        session.add(person)
        people.append(person)
    session.flush()
    for person in people:
        registrations.register(session, person, workshop, now=now)
