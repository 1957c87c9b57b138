"""A survey of a published Lyon campaign, made through the services, for survey tests."""

from datetime import timedelta

from app.db import utcnow
from campaigns import service as campaigns
from surveys import service

#: Heating in Lyon (fr, en): a choice with "other", a number shown only to gas users,
#: a scale and a free text.
DEFINITION = {
    "title": {"fr": "Votre chauffage", "en": "Your heating"},
    "pages": [
        {
            "key": "home",
            "questions": [
                {
                    "key": "heating",
                    "type": "single_choice",
                    "title": {"fr": "Comment chauffez-vous ?", "en": "How do you heat?"},
                    "required": True,
                    "choices": [
                        {"value": "gas", "label": {"fr": "Gaz", "en": "Gas"}},
                        {"value": "heat_pump", "label": {"fr": "Pompe à chaleur"}},
                    ],
                    "other": True,
                },
                {
                    "key": "boiler_age",
                    "type": "number",
                    "title": {"fr": "Âge de la chaudière ?", "en": "Age of the boiler?"},
                    "required": True,
                    "show_if": {"question": "heating", "op": "equals", "value": "gas"},
                    "number": {"integer": True, "min": 0, "max": 80},
                },
                {
                    "key": "comfort",
                    "type": "scale",
                    "title": {"fr": "Confort en hiver", "en": "Comfort in winter"},
                    "required": False,
                    "scale": {"min": 1, "max": 5},
                },
                {
                    "key": "comment",
                    "type": "long_text",
                    "title": {"fr": "Un commentaire ?", "en": "A comment?"},
                    "required": False,
                },
            ],
        }
    ],
}

GAS = {"heating": "gas", "boiler_age": 12, "comfort": 4}
HEAT_PUMP = {"heating": "heat_pump", "comfort": 2}


def published_campaign(session, moderator, city, slug="block-7"):
    now = utcnow()
    campaign = campaigns.create_campaign(
        session,
        moderator,
        city,
        slug=slug,
        title={city.default_locale: "Îlot 7"},
        phases=[
            {
                "title": {city.default_locale: "Phase"},
                "starts_at": now - timedelta(days=1),
                "ends_at": now + timedelta(days=30),
            }
        ],
    )
    campaigns.publish_campaign(session, moderator, campaign)
    return campaign


def make_survey(session, moderator, campaign, publish=True, definition=DEFINITION, **settings):
    """A survey with DEFINITION as its first version, published unless told otherwise."""
    survey = service.create_survey(
        session, moderator, campaign, title=definition["title"], **settings
    )
    service.save_definition(session, moderator, survey, definition)
    if publish:
        service.publish(session, moderator, survey)
    return survey


def in_french(value):
    """A copy of a definition with only its French texts (for a city speaking only French)."""
    if isinstance(value, dict):
        if "fr" in value and all(isinstance(v, str) for v in value.values()):
            return {"fr": value["fr"]}
        return {key: in_french(item) for key, item in value.items()}
    if isinstance(value, list):
        return [in_french(item) for item in value]
    return value
