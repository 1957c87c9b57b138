"""Every route, for every kind of person, against an explicit table of what each may do.

A route missing from the table fails the suite: adding a route means deciding who may use it.
This table holds the API and every other route outside the console; the console's routes have
their own table in tests/console/test_permissions.py, which also checks that a refusal changes
nothing. Between the two, every route of the app is covered.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from app import consent
from app.accounts import find_token, issue_token
from app.consent_models import Purpose
from app.db import utcnow
from app.extensions import db, limiter
from app.models import Role, TokenKind
from campaigns import service
from energy import meters as energy_meters
from ideas import boards
from ideas import comments as idea_comments
from ideas import service as ideas
from notifications.models import PushDevice, PushPlatform
from notifications.unsubscribe import make_token
from surveys import responses_submit
from tests.conftest import PASSWORD
from tests.surveys.helpers import GAS, make_survey
from updates import publishing
from updates import service as updates
from workshops import calendar as workshop_calendar
from workshops import registrations as workshop_registrations
from workshops import service as workshops

PEOPLE = (
    "anonymous",
    "resident",
    "moderator",
    "staff",
    "researcher",
    "admin",
    "platform_admin",
    "other_moderator",
)


def everyone(outcome):
    return dict.fromkeys(PEOPLE, outcome)


def signed_in(outcome, **exceptions):
    """The API: anonymous callers get 401, the rest ``outcome`` unless listed."""
    return {**everyone(outcome), "anonymous": 401, **exceptions}


@dataclass
class Case:
    path: str
    expect: dict
    json: dict | None = None


LYON = "lyon"
#: Through the API, Vienna's people are told Lyon's objects do not exist, whatever their roles.
ELSEWHERE = {"other_moderator": 404, "platform_admin": 404}
#: (method, endpoint) → what each person gets. Paths are formatted with the world's ids.
TABLE: dict[tuple[str, str], Case] = {
    # --- public API ---------------------------------------------------------------------
    ("GET", "accounts.list_cities"): Case("/api/v1/cities", everyone(200)),
    ("POST", "accounts.sign_up"): Case(
        "/api/v1/auth/sign-up",
        everyone(202),
        json={"email": "someone.new@example.org", "password": PASSWORD, "city": LYON},
    ),
    ("POST", "accounts.resend_code"): Case(
        "/api/v1/auth/resend-code", everyone(202), json={"email": "x@example.org"}
    ),
    ("POST", "accounts.verify_email"): Case(
        "/api/v1/auth/verify-email",
        everyone(422),
        json={"email": "resident@example.org", "code": "000000"},
    ),
    ("POST", "accounts.sign_in"): Case(
        "/api/v1/auth/sign-in",
        everyone(401),
        json={"email": "resident@example.org", "password": "not the password"},
    ),
    ("POST", "accounts.request_password_reset"): Case(
        "/api/v1/auth/password-reset", everyone(202), json={"email": "x@example.org"}
    ),
    ("POST", "accounts.reset_password"): Case(
        "/api/v1/auth/password-reset/confirm",
        everyone(422),
        json={"email": "resident@example.org", "code": "000000", "new_password": PASSWORD},
    ),
    ("GET", "api-docs.openapi_json"): Case("/api/v1/openapi.json", everyone(200)),
    ("GET", "api_docs.show_docs"): Case("/api/v1/docs", everyone(200)),
    ("GET", "api_docs.docs_static"): Case("/api/v1/docs/static/swagger-ui.css", everyone(200)),
    ("GET", "index"): Case("/", everyone(302)),
    # --- email unsubscribe links: the signed token decides, never the caller ---------------
    ("GET", "notifications.show_unsubscribe"): Case(
        "/unsubscribe/{unsubscribe_token}", everyone(200)
    ),
    ("POST", "notifications.unsubscribe"): Case("/unsubscribe/{unsubscribe_token}", everyone(200)),
    ("POST", "notifications.resubscribe"): Case(
        "/unsubscribe/{unsubscribe_token}/undo", everyone(200)
    ),
    # --- the signed-in person's own things -----------------------------------------------
    ("POST", "accounts.sign_out"): Case("/api/v1/auth/sign-out", signed_in(204)),
    ("GET", "accounts.me"): Case("/api/v1/me", signed_in(200)),
    ("PATCH", "accounts.me"): Case("/api/v1/me", signed_in(200), json={"display_name": "Kim"}),
    ("POST", "accounts.change_password"): Case(
        "/api/v1/me/password",
        signed_in(422),
        json={"current_password": "not it", "new_password": "a new long passphrase"},
    ),
    ("GET", "accounts.list_tokens"): Case("/api/v1/me/tokens", signed_in(200)),
    # Only the resident owns this token; for everyone else it does not exist.
    ("DELETE", "accounts.revoke_token"): Case(
        "/api/v1/me/tokens/{resident_token_id}", signed_in(404, resident=204)
    ),
    # Anyone signed in may delete their own account (and only theirs: no id in the route).
    ("POST", "account_deletion.delete_account"): Case(
        "/api/v1/me/deletion", signed_in(204), json={"password": PASSWORD}
    ),
    # --- campaigns through the API: always the caller's home city, whatever their roles ----
    ("GET", "campaigns.list_campaigns"): Case("/api/v1/campaigns", signed_in(200)),
    ("GET", "campaigns.get_campaign"): Case(
        "/api/v1/campaigns/{published}", signed_in(200, other_moderator=404, platform_admin=404)
    ),
    # Following: only published campaigns of the caller's home city.
    ("GET", "campaigns.follow_campaign"): Case(
        "/api/v1/campaigns/{published}/follow",
        signed_in(200, other_moderator=404, platform_admin=404),
    ),
    ("PUT", "campaigns.follow_campaign"): Case(
        "/api/v1/campaigns/{published}/follow",
        signed_in(200, other_moderator=404, platform_admin=404),
    ),
    ("DELETE", "campaigns.follow_campaign"): Case(
        "/api/v1/campaigns/{published}/follow",
        signed_in(200, other_moderator=404, platform_admin=404),
    ),
    # --- news: published updates of the caller's home city, whatever their roles ----------
    ("GET", "updates.list_updates"): Case("/api/v1/updates", signed_in(200)),
    ("GET", "updates.get_update"): Case(
        "/api/v1/updates/{update}", signed_in(200, other_moderator=404, platform_admin=404)
    ),
    # --- my notifications: always the caller's own inbox and settings ----------------------
    ("GET", "inbox.list_notifications"): Case("/api/v1/notifications", signed_in(200)),
    ("GET", "inbox.unread_count"): Case("/api/v1/notifications/unread-count", signed_in(200)),
    # Nobody's notification: everyone is told it does not exist (own/others' in test_inbox).
    ("POST", "inbox.mark_read"): Case("/api/v1/notifications/999999/read", signed_in(404)),
    ("POST", "inbox.mark_all_read"): Case("/api/v1/notifications/read-all", signed_in(200)),
    ("GET", "inbox.notification_settings"): Case("/api/v1/notifications/settings", signed_in(200)),
    ("PATCH", "inbox.notification_settings"): Case(
        "/api/v1/notifications/settings", signed_in(200), json={"timezone": "Europe/Vienna"}
    ),
    # --- surveys through the API: published surveys of the caller's home city ---------------
    ("GET", "surveys.list_surveys"): Case("/api/v1/surveys", signed_in(200)),
    ("GET", "surveys.get_survey"): Case(
        "/api/v1/surveys/{survey}", signed_in(200, other_moderator=404, platform_admin=404)
    ),
    ("GET", "surveys.my_responses"): Case(
        "/api/v1/surveys/{survey}/responses",
        signed_in(200, other_moderator=404, platform_admin=404),
    ),
    ("PUT", "surveys.my_response"): Case(
        "/api/v1/surveys/{survey}/responses/3f0e8a52-8d2c-4b8e-9a51-6f1c2d3e4a5b",
        signed_in(200, other_moderator=404, platform_admin=404),
        json={"version_id": "{survey_version}", "answers": {"heating": "gas"}},
    ),
    ("POST", "surveys.submit_response"): Case(
        "/api/v1/surveys/{survey}/responses/3f0e8a52-8d2c-4b8e-9a51-6f1c2d3e4a5b/submit",
        signed_in(201, other_moderator=404, platform_admin=404),
        json={"version_id": "{survey_version}", "answers": GAS},
    ),
    # Only the resident owns this response; for everyone else it does not exist.
    ("DELETE", "surveys.my_response"): Case(
        "/api/v1/surveys/{survey}/responses/{resident_response}", signed_in(404, resident=204)
    ),
    # --- my push devices -------------------------------------------------------------------
    ("GET", "push.push_config"): Case("/api/v1/push/config", signed_in(200)),
    ("GET", "push.push_devices"): Case("/api/v1/push-devices", signed_in(200)),
    # No push service is set up in the test app, so a valid body is still refused (422).
    ("POST", "push.push_devices"): Case(
        "/api/v1/push-devices", signed_in(422), json={"platform": "fcm", "token": "t0ken"}
    ),
    # Only the resident owns this device; for everyone else it does not exist.
    ("DELETE", "push.remove_push_device"): Case(
        "/api/v1/push-devices/{resident_device_id}", signed_in(404, resident=204)
    ),
    # --- download my data: only ever my own copies ------------------------------------------
    ("GET", "personal_data.data_exports"): Case("/api/v1/me/data-exports", signed_in(200)),
    ("POST", "personal_data.data_exports"): Case("/api/v1/me/data-exports", signed_in(202)),
    ("GET", "personal_data.download_data_export"): Case(
        "/api/v1/me/data-exports/999999/download?token=x", signed_in(404)
    ),
    # --- idea boards: the caller's home city; only authors change their ideas and comments --
    ("GET", "ideas.list_boards"): Case("/api/v1/boards", signed_in(200)),
    ("GET", "ideas.get_board"): Case("/api/v1/boards/{board}", signed_in(200, **ELSEWHERE)),
    ("GET", "ideas.board_ideas"): Case("/api/v1/boards/{board}/ideas", signed_in(200, **ELSEWHERE)),
    ("POST", "ideas.board_ideas"): Case(
        "/api/v1/boards/{board}/ideas",
        signed_in(201, **ELSEWHERE),
        json={
            "client_uuid": "7b7c1d52-4a0e-4d8a-9a51-6f1c2d3e4a5b",
            "title": "Des bancs à l'ombre",
            "body": "Pour s'asseoir l'été.",
        },
    ),
    ("POST", "ideas.similar_ideas"): Case(
        "/api/v1/boards/{board}/similar", signed_in(200, **ELSEWHERE), json={"title": "Bancs"}
    ),
    ("GET", "ideas.idea"): Case("/api/v1/ideas/{idea}", signed_in(200, **ELSEWHERE)),
    ("PATCH", "ideas.idea"): Case(
        "/api/v1/ideas/{idea}",
        signed_in(403, resident=200, **ELSEWHERE),
        json={"title": "Un potager fleuri"},
    ),
    ("POST", "ideas.withdraw_idea"): Case(
        "/api/v1/ideas/{idea}/withdraw", signed_in(403, resident=200, **ELSEWHERE)
    ),
    ("GET", "ideas.idea_comments"): Case(
        "/api/v1/ideas/{idea}/comments", signed_in(200, **ELSEWHERE)
    ),
    ("POST", "ideas.idea_comments"): Case(
        "/api/v1/ideas/{idea}/comments",
        signed_in(201, **ELSEWHERE),
        json={"client_uuid": "0c9e6f1a-2b3d-4e5f-8a9b-1c2d3e4f5a6b", "body": "Bonne idée !"},
    ),
    ("PATCH", "ideas.comment"): Case(
        "/api/v1/comments/{comment}",
        signed_in(403, resident=200, **ELSEWHERE),
        json={"body": "Très bonne idée"},
    ),
    ("DELETE", "ideas.comment"): Case(
        "/api/v1/comments/{comment}", signed_in(403, resident=204, **ELSEWHERE)
    ),
    # Supporting and flagging: the board collects ideas (supports wait for their phase), and
    # nobody flags what they wrote (the resident wrote the idea and the comment).
    ("PUT", "idea_actions.idea_support"): Case(
        "/api/v1/ideas/{idea}/support", signed_in(409, **ELSEWHERE)
    ),
    ("DELETE", "idea_actions.idea_support"): Case(
        "/api/v1/ideas/{idea}/support", signed_in(409, **ELSEWHERE)
    ),
    ("POST", "idea_actions.flag_idea"): Case(
        "/api/v1/ideas/{idea}/flags",
        signed_in(201, resident=403, **ELSEWHERE),
        json={"reason": "spam"},
    ),
    ("POST", "idea_actions.flag_comment"): Case(
        "/api/v1/comments/{comment}/flags",
        signed_in(201, resident=403, **ELSEWHERE),
        json={"reason": "spam"},
    ),
    ("GET", "idea_actions.my_supports"): Case(
        "/api/v1/boards/{board}/my-supports", signed_in(200, **ELSEWHERE)
    ),
    # --- workshops: the caller's home city; only the resident is registered ----------------
    ("GET", "workshops.list_workshops"): Case("/api/v1/workshops", signed_in(200)),
    ("GET", "workshops.get_workshop"): Case(
        "/api/v1/workshops/{workshop}", signed_in(200, **ELSEWHERE)
    ),
    # Everyone registers as a resident of their home city; the resident is registered already.
    ("PUT", "workshops.my_registration"): Case(
        "/api/v1/workshops/{workshop}/registration",
        signed_in(201, resident=200, **ELSEWHERE),
        json={},
    ),
    # Only the resident has a registration; for everyone else it does not exist.
    ("GET", "workshops.my_registration"): Case(
        "/api/v1/workshops/{workshop}/registration", signed_in(404, resident=200)
    ),
    # Cancelling answers 204 also with nothing to cancel (a phone's retry).
    ("DELETE", "workshops.my_registration"): Case(
        "/api/v1/workshops/{workshop}/registration", signed_in(204, **ELSEWHERE)
    ),
    ("GET", "workshops.workshop_calendar"): Case(
        "/api/v1/workshops/{workshop}/calendar.ics", signed_in(200, **ELSEWHERE)
    ),
    ("GET", "workshops.check_in_code"): Case(
        "/api/v1/workshops/{workshop}/check-in-code", signed_in(404, resident=200)
    ),
    ("GET", "workshops.my_workshops"): Case("/api/v1/me/workshops", signed_in(200)),
    ("GET", "workshops.calendar_feed"): Case("/api/v1/me/calendar-feed", signed_in(200)),
    ("POST", "workshops.calendar_feed"): Case("/api/v1/me/calendar-feed", signed_in(201)),
    ("DELETE", "workshops.calendar_feed"): Case("/api/v1/me/calendar-feed", signed_in(204)),
    # The calendar feed: its secret token decides, never the caller (calendar apps send none).
    ("GET", "workshops.calendar_feed_file"): Case(
        "/api/v1/calendar/{feed_token}.ics", everyone(200)
    ),
    # --- consents: my home city's texts (Lyon has the energy one), only my own consent -------
    ("GET", "consents.consent"): Case(
        "/api/v1/consents/energy_feedback", signed_in(200, **ELSEWHERE)
    ),
    # The resident agreed already; Lyon's others agree now; Vienna has no text.
    ("PUT", "consents.consent"): Case(
        "/api/v1/consents/energy_feedback",
        signed_in(201, resident=200, **ELSEWHERE),
        json={"version": 1},
    ),
    # Withdrawing is allowed to all, also with nothing to withdraw.
    ("DELETE", "consents.consent"): Case(
        "/api/v1/consents/energy_feedback?confirm=delete-readings", signed_in(204)
    ),
    # --- energy: only the caller's own household and meters; nothing before consent ---------
    ("GET", "energy.household"): Case("/api/v1/me/household", signed_in(200)),
    ("PUT", "energy.household"): Case(
        "/api/v1/me/household", signed_in(409, resident=200), json={"people": 2}
    ),
    ("GET", "energy.meters"): Case("/api/v1/meters", signed_in(200)),
    ("POST", "energy.meters"): Case(
        "/api/v1/meters", signed_in(409, resident=201), json={"commodity": "electricity"}
    ),
    # Only the resident owns this meter; for everyone else it does not exist.
    ("GET", "energy.meter"): Case("/api/v1/meters/{meter}", signed_in(404, resident=200)),
    ("PATCH", "energy.meter"): Case(
        "/api/v1/meters/{meter}", signed_in(404, resident=200), json={"label": "Cave"}
    ),
    ("DELETE", "energy.meter"): Case("/api/v1/meters/{meter}", signed_in(404, resident=204)),
    ("GET", "energy.meter_imports"): Case(
        "/api/v1/meters/{meter}/imports", signed_in(404, resident=200)
    ),
    ("GET", "energy.meter_series"): Case(
        "/api/v1/meters/{meter}/series?from=2024-01-01&to=2024-02-01&resolution=day",
        signed_in(404, resident=200),
    ),
    # A JSON body is no upload: the resident is told a file is needed, others not found.
    ("POST", "energy.meter_imports"): Case(
        "/api/v1/meters/{meter}/imports", signed_in(404, resident=422), json={}
    ),
    ("POST", "energy.csv_preview"): Case("/api/v1/meters/csv-preview", signed_in(422), json={}),
    ("GET", "energy.csv_presets"): Case("/api/v1/csv-presets", signed_in(200)),
    # --- energy feedback: my own meters' reports, computed only with my consent ------------
    ("GET", "energy_feedback.meter_feedback"): Case(
        "/api/v1/meters/{meter}/feedback", signed_in(404, resident=200)
    ),
    ("GET", "energy_feedback.my_feedback"): Case(
        "/api/v1/me/energy-feedback", signed_in(409, resident=200)
    ),
    ("PUT", "energy_feedback.energy_goal"): Case(
        "/api/v1/me/energy-goal", signed_in(409, resident=200), json={"percent": 10}
    ),
    # Giving up a goal is open to all, also with none set.
    ("DELETE", "energy_feedback.energy_goal"): Case("/api/v1/me/energy-goal", signed_in(204)),
    # --- meter data providers: the resident's own meter; none is connected in this world ----
    ("GET", "energy_providers.provider_connection"): Case(
        "/api/v1/meters/{meter}/provider-connection", signed_in(404)
    ),
    # Enedis is not set up in the test app: the resident is told so, others not found.
    ("POST", "energy_providers.provider_connection"): Case(
        "/api/v1/meters/{meter}/provider-connection",
        signed_in(404, resident=422),
        json={"provider": "enedis"},
    ),
    ("DELETE", "energy_providers.provider_connection"): Case(
        "/api/v1/meters/{meter}/provider-connection", signed_in(404, resident=204)
    ),
    # The provider's callback: its single-use state decides, never the caller.
    ("GET", "energy_providers.provider_callback"): Case(
        "/api/v1/energy/providers/enedis/callback?state=guessed", everyone(400)
    ),
}

#: Extra requests for routes whose answer depends on the object: drafts, other cities.
EXTRA: list[tuple[str, str, Case]] = [
    # A draft update is shown to nobody through the API (staff preview it in the console).
    ("GET", "updates.get_update", Case("/api/v1/updates/{draft_update}", signed_in(404))),
    ("PUT", "campaigns.follow_campaign", Case("/api/v1/campaigns/{draft}/follow", signed_in(404))),
    # A survey not published yet is shown to nobody through the API.
    ("GET", "surveys.get_survey", Case("/api/v1/surveys/{draft_survey}", signed_in(404))),
    (
        "GET",
        "campaigns.get_campaign",
        Case(
            "/api/v1/campaigns/{draft}",
            signed_in(200, resident=404, other_moderator=404, platform_admin=404),
        ),
    ),
    # A draft workshop is shown to nobody through the API (moderators prepare it in the console).
    ("GET", "workshops.get_workshop", Case("/api/v1/workshops/{draft_workshop}", signed_in(404))),
    (
        "PUT",
        "workshops.my_registration",
        Case("/api/v1/workshops/{draft_workshop}/registration", signed_in(404), json={}),
    ),
    (
        "GET",
        "workshops.workshop_calendar",
        Case("/api/v1/workshops/{draft_workshop}/calendar.ics", signed_in(404)),
    ),
    # A meter nobody holds.
    ("GET", "energy.meter", Case("/api/v1/meters/999999", signed_in(404))),
    # A feed URL nobody holds.
    ("GET", "workshops.calendar_feed_file", Case("/api/v1/calendar/not-a-feed.ics", everyone(404))),
    # A draft board: its city's moderators and admins preview it, residents do not see it.
    (
        "GET",
        "ideas.get_board",
        Case(
            "/api/v1/boards/{draft_board}",
            signed_in(404, moderator=200, admin=200),
        ),
    ),
]


@pytest.fixture
def world(app, db_session, lyon, vienna, make_user):
    """Two cities, one person per role, a published and a draft campaign in Lyon."""
    people = {
        "resident": make_user(lyon, email="resident@example.org"),
        "moderator": make_user(lyon, email="moderator@example.org", role=Role.MODERATOR),
        "staff": make_user(lyon, email="staff@example.org", role=Role.STAFF),
        "researcher": make_user(lyon, email="researcher@example.org", role=Role.RESEARCHER),
        "admin": make_user(lyon, email="admin@example.org", role=Role.ADMIN),
        "platform_admin": make_user(vienna, email="root@example.org", platform_admin=True),
        "other_moderator": make_user(vienna, email="wien@example.org", role=Role.MODERATOR),
    }
    moderator = people["moderator"]
    now = utcnow()
    phases = [{"title": {"fr": "Phase"}, "starts_at": now, "ends_at": now + timedelta(days=9)}]
    published = service.create_campaign(
        db_session, moderator, lyon, slug="block-7", title={"fr": "Îlot 7"}, phases=phases
    )
    service.publish_campaign(db_session, moderator, published)
    draft = service.create_campaign(db_session, moderator, lyon, slug="draft-1", title={"fr": "B"})
    news = updates.create_update(db_session, people["staff"], lyon, title={"fr": "Travaux"})
    draft_news = updates.create_update(db_session, people["staff"], lyon, title={"fr": "Bientôt"})
    survey = make_survey(db_session, moderator, published, allow_multiple=True)
    draft_survey = make_survey(db_session, moderator, published, publish=False)
    withdrawable, _created = responses_submit.submit(
        db_session,
        people["resident"],
        survey,
        "5d1f9c7a-2b3e-4f60-8a91-0c2d3e4f5a6b",
        survey.current_version_id,
        GAS,
        "fr",
        now,
    )
    session = db_session()  # publishing renders notifications: in the app, on this session
    with app.app_context():
        publishing.publish_update(session, people["staff"], news)
        board = boards.create_board(session, moderator, published, title={"fr": "Idées"})
        boards.publish_board(session, moderator, board)
        boards.set_phase(session, moderator, board, "collecting")
        draft_board = boards.create_board(session, moderator, published, title={"fr": "Bientôt"})
        idea, _created = ideas.post_idea(
            session,
            people["resident"],
            board,
            client_uuid="1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
            title="Un potager partagé",
            body="Des bacs pour tous les voisins.",
            language="fr",
        )
        comment, _created = idea_comments.add_comment(
            session,
            people["resident"],
            idea,
            client_uuid="2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b",
            body="Avec des fleurs aussi.",
            language="fr",
        )
        starts = now.replace(microsecond=0) + timedelta(days=7)
        when = {"starts_at": starts, "ends_at": starts + timedelta(hours=2)}
        workshop = workshops.create_workshop(
            session,
            moderator,
            published,
            title={"fr": "Atelier de la cour"},
            capacity=10,
            address="12 rue de la République, Lyon",
            **when,
        )
        workshops.publish_workshop(session, moderator, workshop)
        draft_workshop = workshops.create_workshop(
            session, moderator, published, title={"fr": "Bientôt"}, capacity=5, **when
        )
        workshop_registrations.register(session, people["resident"], workshop)
        feed_token = workshop_calendar.issue_feed(session, people["resident"])
        energy_text = {"fr": "Vos relevés servent à vos conseils d'économie."}
        consent.publish_text(session, people["admin"], lyon, Purpose.ENERGY_FEEDBACK, energy_text)
        consent.give_consent(session, people["resident"], Purpose.ENERGY_FEEDBACK, 1)
        meter = energy_meters.create_meter(session, people["resident"], commodity="electricity")
    tokens = {
        name: issue_token(db_session, user, TokenKind.API, timedelta(days=1), "t", now)
        for name, user in people.items()
    }
    spare = issue_token(db_session, people["resident"], TokenKind.API, timedelta(days=1), "s", now)
    db_session.commit()
    spare_id = find_token(db_session, spare, TokenKind.API).id
    device = PushDevice(
        user_id=people["resident"].id,
        platform=PushPlatform.FCM,
        address="resident-phone-token",
        address_hash="a" * 64,
    )
    db_session.add(device)
    db_session.commit()
    with app.app_context():
        unsubscribe_token = make_token(people["resident"].id, "update.published")
    return {
        "people": people,
        "tokens": tokens,
        "ids": {
            "city": LYON,
            "other_city": "vienna",
            "published": published.slug,
            "draft": draft.slug,
            "resident_token_id": spare_id,
            "moderator_id": moderator.id,
            "resident_id": people["resident"].id,
            "update": news.id,
            "draft_update": draft_news.id,
            "unsubscribe_token": unsubscribe_token,
            "resident_device_id": device.id,
            "survey": survey.id,
            "survey_version": survey.current_version_id,
            "draft_survey": draft_survey.id,
            "resident_response": withdrawable.client_uuid,
            "board": board.id,
            "draft_board": draft_board.id,
            "idea": idea.id,
            "comment": comment.id,
            "workshop": workshop.id,
            "draft_workshop": draft_workshop.id,
            "feed_token": feed_token,
            "meter": meter.id,
        },
    }


def _with_ids(body: dict | None, ids: dict) -> dict | None:
    """A body whose values naming a world id ("{survey_version}") hold that id."""
    if body is None:
        return None
    named = {k: v[1:-1] for k, v in body.items() if isinstance(v, str) and v.startswith("{")}
    return {**body, **{k: ids[name] for k, name in named.items()}}


def test_every_route_outside_the_console_has_an_entry(app):
    routes = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith("console.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - set(TABLE)) == [], "add these routes to TABLE with who may use them"
    assert sorted(set(TABLE) - routes) == [], "these TABLE entries name routes that are gone"


def test_every_route_answers_each_person_as_the_table_says(app, world, db_connection):
    cases = [(m, e, c) for (m, e), c in TABLE.items()] + EXTRA
    wrong = []
    for method, _endpoint, case in cases:
        path = case.path.format(**world["ids"])
        for person in PEOPLE:
            db.session.remove()  # its open savepoint would otherwise outlive ours
            limiter.reset()  # throttling has its own tests
            savepoint = db_connection.begin_nested()
            try:
                headers = {}
                if person != "anonymous":
                    headers["Authorization"] = f"Bearer {world['tokens'][person]}"
                with app.test_client().open(
                    path, method=method, json=_with_ids(case.json, world["ids"]), headers=headers
                ) as response:
                    got = response.status_code
            finally:
                db.session.remove()
                savepoint.rollback()
            if got != case.expect[person]:
                wrong.append(
                    f"{method} {path} as {person}: got {got}, expected {case.expect[person]}"
                )
    assert wrong == []
