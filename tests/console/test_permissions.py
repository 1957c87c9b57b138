"""Every console route against every kind of person (SECURITY.md, test 3).

A route of the console blueprint without an entry in ROUTES fails the suite, so a new page
cannot ship without deciding who may use it.
"""

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.models import City, RoleGrant, User
from campaigns.models import Campaign
from notifications.models import Delivery
from surveys.models import Survey, SurveyVersion
from tests.console.energy_helpers import energy_state
from tests.console.helpers import LOGIN, csrf_token, html
from tests.console.idea_helpers import idea_state, permission_world
from tests.console.test_deliveries import dead_letter
from tests.console.test_research_views import research_state, research_world
from tests.console.test_surveys import survey_with_question
from tests.console.workshop_helpers import permission_world as workshop_world
from tests.console.workshop_helpers import workshop_state
from tests.surveys.helpers import make_survey, published_campaign
from updates import service as updates
from updates.models import Update

OK = "ok"  # 200, or a redirect after a successful POST
TO_LOGIN = "login"
ACTORS = (
    None,
    "moderator",
    "admin",
    "staff",
    "researcher",
    "other_moderator",
    "platform_admin",
    # A console session without any role: someone whose roles were all taken away.
    "resident",
)


def _expect(*outcomes) -> dict:
    """Outcomes in the order of ACTORS: anonymous, moderator, admin, staff, researcher,
    another city's moderator, platform admin, a person without a role."""
    return dict(zip(ACTORS, outcomes, strict=True))


EVERYONE = _expect(200, 200, 200, 200, 200, 200, 200, 200)
SIGNED_IN = _expect(TO_LOGIN, OK, OK, OK, OK, OK, OK, OK)
READ_CITY = _expect(TO_LOGIN, OK, OK, OK, OK, 404, OK, 404)
EDIT_CITY_CONTENT = _expect(TO_LOGIN, OK, OK, 403, 403, 404, OK, 404)
MANAGE_PEOPLE = _expect(TO_LOGIN, 403, OK, 403, 403, 404, OK, 404)
PLATFORM = _expect(TO_LOGIN, 403, 403, 403, 403, 403, OK, 403)
CITY_SETTINGS = _expect(TO_LOGIN, 403, 403, 403, 403, 404, OK, 404)
MANAGE_DELIVERIES = _expect(TO_LOGIN, 403, OK, OK, 403, 404, OK, 404)
MANAGE_UPDATES = _expect(TO_LOGIN, 403, OK, OK, 403, 404, OK, 404)
#: Survey results: raw responses, so not staff, and not researchers (anonymised exports later).
SURVEY_RESULTS = _expect(TO_LOGIN, OK, OK, 403, 403, 404, OK, 404)
RESULTS = "/console/lyon/surveys/{survey}/results"
#: Idea boards and ideas: moderators run them, staff read them to answer ideas.
READ_IDEAS = _expect(TO_LOGIN, OK, OK, OK, 403, 404, OK, 404)
AUDIT = _expect(TO_LOGIN, 403, OK, 403, 403, 404, OK, 404)
#: Retention periods and runs: the city's administrators (the runs are the deployment's).
RETENTION = _expect(TO_LOGIN, 403, OK, 403, 403, 404, OK, 404)
#: Energy settings, CSV formats and district totals: the city's staff and administrators.
ENERGY = _expect(TO_LOGIN, 403, OK, OK, 403, 404, OK, 404)
#: Research: researchers request and download their own exports; the city's administrators
#: read every request and report, and keep projects with them, but fetch nothing. A platform
#: admin's blanket roles do not make them a researcher.
READ_RESEARCH = _expect(TO_LOGIN, 403, OK, 403, OK, 404, OK, 404)
REQUEST_RESEARCH = _expect(TO_LOGIN, 403, 403, 403, OK, 404, 403, 404)
RESEARCH = "/console/lyon/research"
RESEARCH_REQUEST = {
    "purpose": "District energy use before and after the renovation.",
    "locale": "fr",
}
#: Consent texts: the city's administrators.
CONSENT_TEXTS = _expect(TO_LOGIN, 403, OK, 403, 403, 404, OK, 404)
BOARD = "/console/lyon/boards/{board}"
IDEA = "/console/lyon/ideas/{idea}"
BOARD_FORM = {
    "campaign": "ideas",
    "title-fr": "Nouveau tableau",
    "location": "off",
    "flag_threshold": "3",
    "edit_minutes": "60",
}

WORKSHOP = "/console/lyon/workshops/{workshop}"
WORKSHOP_FORM = {
    "title-fr": "Atelier",
    "starts_at": "2031-01-01T10:00",
    "ends_at": "2031-01-01T12:00",
    "capacity": "10",
    "address": "Place des Terreaux",
}

CAMPAIGN = "/console/lyon/campaigns/block-7"
NEW_CAMPAIGN = {
    "slug": "new-one",
    "title-fr": "Nouvelle",
    "phase-0-title-fr": "Phase",
    "phase-0-starts_at": "2030-01-01T10:00",
    "phase-0-ends_at": "2030-02-01T10:00",
}
EDITED_CAMPAIGN = {"title-fr": "Changée", "title-en": "Changed"}
UPDATE = "/console/lyon/updates/{update}"
SURVEY = "/console/lyon/surveys/{survey}"
SURVEY_FORM = {"campaign": "block-7", "title-fr": "Enquête", "grace_minutes": "60"}
QUESTION_FORM = {"type": "yes_no", "key": "garden", "title-fr": "Un jardin ?"}
UPDATE_FORM = {"title-fr": "Travaux", "title-en": "Works", "audience": ""}
CITY_FORM = {
    "name": "Lyon",
    "timezone": "Europe/Paris",
    "default_locale": "fr",
    "enabled_locales": ["fr", "en"],
}

#: (endpoint, method) → (path with {people ids}, form data, expectation per actor)
ROUTES = {
    ("console.login", "GET"): (LOGIN, None, EVERYONE),
    ("console.login", "POST"): (
        LOGIN,
        {"email": "nobody@example.org", "password": "not the password"},
        _expect(*[401] * 8),
    ),
    ("console.logout", "POST"): ("/console/logout", {}, _expect(*[TO_LOGIN] * 8)),
    ("console.dashboard", "GET"): ("/console/", None, SIGNED_IN),
    ("console.account", "GET"): ("/console/account", None, SIGNED_IN),
    ("console.change_language", "POST"): ("/console/account/language", {"locale": ""}, SIGNED_IN),
    ("console.change_password", "POST"): (
        "/console/account/password",
        {"current_password": "wrong password", "new_password": "a new password 2026"},
        _expect(TO_LOGIN, *[422] * 7),
    ),
    ("console.revoke_session", "POST"): (
        "/console/account/sessions/999999/revoke",
        {},
        _expect(TO_LOGIN, *[404] * 7),
    ),
    ("console.static", "GET"): ("/console/static/console.css", None, EVERYONE),
    ("console.list_campaigns", "GET"): ("/console/lyon/campaigns", None, READ_CITY),
    ("console.show_campaign", "GET"): (CAMPAIGN, None, READ_CITY),
    ("console.new_campaign", "GET"): ("/console/lyon/campaigns/new", None, EDIT_CITY_CONTENT),
    ("console.new_campaign", "POST"): (
        "/console/lyon/campaigns/new",
        NEW_CAMPAIGN,
        EDIT_CITY_CONTENT,
    ),
    ("console.edit_campaign", "GET"): (f"{CAMPAIGN}/edit", None, EDIT_CITY_CONTENT),
    ("console.edit_campaign", "POST"): (f"{CAMPAIGN}/edit", EDITED_CAMPAIGN, EDIT_CITY_CONTENT),
    ("console.publish_campaign", "POST"): (f"{CAMPAIGN}/publish", {}, EDIT_CITY_CONTENT),
    ("console.archive_campaign", "POST"): (f"{CAMPAIGN}/archive", {}, EDIT_CITY_CONTENT),
    ("console.import_xlsform", "GET"): (f"{CAMPAIGN}/surveys/import", None, EDIT_CITY_CONTENT),
    ("console.import_xlsform", "POST"): (f"{CAMPAIGN}/surveys/import", {}, EDIT_CITY_CONTENT),
    ("console.list_cities", "GET"): ("/console/cities", None, PLATFORM),
    ("console.new_city", "GET"): ("/console/cities/new", None, PLATFORM),
    ("console.new_city", "POST"): (
        "/console/cities/new",
        {**CITY_FORM, "slug": "marseille", "name": "Marseille"},
        PLATFORM,
    ),
    ("console.edit_city", "GET"): ("/console/cities/lyon/edit", None, CITY_SETTINGS),
    ("console.edit_city", "POST"): ("/console/cities/lyon/edit", CITY_FORM, CITY_SETTINGS),
    ("console.list_people", "GET"): ("/console/lyon/people", None, MANAGE_PEOPLE),
    ("console.grant_role", "POST"): (
        "/console/lyon/people/grant",
        {"email": "resident@lyon.example", "role": "staff"},
        MANAGE_PEOPLE,
    ),
    ("console.revoke_role", "POST"): (
        "/console/lyon/people/{researcher}/roles/researcher/revoke",
        {},
        MANAGE_PEOPLE,
    ),
    ("console.find_account", "POST"): (
        "/console/lyon/people/find",
        {"email": "resident@lyon.example"},
        MANAGE_PEOPLE,
    ),
    ("console.disable_account", "POST"): (
        "/console/lyon/people/{resident}/disable",
        {},
        MANAGE_PEOPLE,
    ),
    ("console.enable_account", "POST"): (
        "/console/lyon/people/{resident}/enable",
        {},
        # The account is disabled first, so its own holder no longer has a session at all.
        {**MANAGE_PEOPLE, "resident": TO_LOGIN},
    ),
    ("console.list_updates", "GET"): ("/console/lyon/updates", None, MANAGE_UPDATES),
    ("console.new_update", "GET"): ("/console/lyon/updates/new", None, MANAGE_UPDATES),
    ("console.new_update", "POST"): ("/console/lyon/updates/new", UPDATE_FORM, MANAGE_UPDATES),
    ("console.show_update", "GET"): (UPDATE, None, MANAGE_UPDATES),
    ("console.edit_update", "GET"): (f"{UPDATE}/edit", None, MANAGE_UPDATES),
    ("console.edit_update", "POST"): (f"{UPDATE}/edit", UPDATE_FORM, MANAGE_UPDATES),
    ("console.publish_update", "POST"): (f"{UPDATE}/publish", {}, MANAGE_UPDATES),
    ("console.schedule_update", "POST"): (
        f"{UPDATE}/schedule",
        {"publish_at": "2031-01-01T10:00"},
        MANAGE_UPDATES,
    ),
    ("console.unpublish_update", "POST"): (f"{UPDATE}/unpublish", {}, MANAGE_UPDATES),
    ("console.list_deliveries", "GET"): ("/console/lyon/deliveries", None, MANAGE_DELIVERIES),
    ("console.retry_delivery", "POST"): (
        "/console/lyon/deliveries/{dead_letter}/retry",
        {},
        MANAGE_DELIVERIES,
    ),
    ("console.show_survey_results", "GET"): (RESULTS, None, SURVEY_RESULTS),
    ("console.download_survey_responses", "GET"): (f"{RESULTS}.csv", None, SURVEY_RESULTS),
    ("console.retry_dead_letters", "POST"): (
        "/console/lyon/deliveries/retry-all",
        {},
        MANAGE_DELIVERIES,
    ),
    # The survey builder: the city's moderators and administrators.
    ("console.list_surveys", "GET"): ("/console/lyon/surveys", None, EDIT_CITY_CONTENT),
    ("console.new_survey", "GET"): ("/console/lyon/surveys/new", None, EDIT_CITY_CONTENT),
    ("console.new_survey", "POST"): ("/console/lyon/surveys/new", SURVEY_FORM, EDIT_CITY_CONTENT),
    ("console.show_survey", "GET"): (SURVEY, None, EDIT_CITY_CONTENT),
    ("console.edit_survey", "GET"): (f"{SURVEY}/settings", None, EDIT_CITY_CONTENT),
    ("console.edit_survey", "POST"): (f"{SURVEY}/settings", SURVEY_FORM, EDIT_CITY_CONTENT),
    ("console.publish_survey", "POST"): (f"{SURVEY}/publish", {}, EDIT_CITY_CONTENT),
    ("console.close_survey", "POST"): (f"{SURVEY}/close", {}, EDIT_CITY_CONTENT),
    ("console.add_page", "POST"): (f"{SURVEY}/pages", {}, EDIT_CITY_CONTENT),
    ("console.edit_page", "GET"): (f"{SURVEY}/pages/1", None, EDIT_CITY_CONTENT),
    ("console.edit_page", "POST"): (f"{SURVEY}/pages/1", {"key": "home"}, EDIT_CITY_CONTENT),
    ("console.delete_page", "POST"): (f"{SURVEY}/pages/2/delete", {}, EDIT_CITY_CONTENT),
    ("console.new_question", "GET"): (f"{SURVEY}/pages/1/questions/new", None, EDIT_CITY_CONTENT),
    ("console.new_question", "POST"): (
        f"{SURVEY}/pages/1/questions/new",
        QUESTION_FORM,
        EDIT_CITY_CONTENT,
    ),
    ("console.edit_question", "GET"): (f"{SURVEY}/questions/heating", None, EDIT_CITY_CONTENT),
    ("console.edit_question", "POST"): (
        f"{SURVEY}/questions/heating",
        {**QUESTION_FORM, "key": "heating"},
        EDIT_CITY_CONTENT,
    ),
    ("console.move_question", "POST"): (
        f"{SURVEY}/questions/heating/move",
        {"direction": "down"},
        EDIT_CITY_CONTENT,
    ),
    ("console.delete_question", "GET"): (
        f"{SURVEY}/questions/heating/delete",
        None,
        EDIT_CITY_CONTENT,
    ),
    ("console.delete_question", "POST"): (
        f"{SURVEY}/questions/heating/delete",
        {},
        EDIT_CITY_CONTENT,
    ),
    # Idea boards, moderation and the audit log.
    ("console.list_idea_boards", "GET"): ("/console/lyon/boards", None, READ_IDEAS),
    ("console.new_idea_board", "GET"): ("/console/lyon/boards/new", None, EDIT_CITY_CONTENT),
    ("console.new_idea_board", "POST"): ("/console/lyon/boards/new", BOARD_FORM, EDIT_CITY_CONTENT),
    ("console.show_idea_board", "GET"): (BOARD, None, READ_IDEAS),
    ("console.edit_idea_board", "GET"): (f"{BOARD}/edit", None, EDIT_CITY_CONTENT),
    ("console.edit_idea_board", "POST"): (f"{BOARD}/edit", BOARD_FORM, EDIT_CITY_CONTENT),
    ("console.publish_idea_board", "POST"): (
        "/console/lyon/boards/{draft_board}/publish",
        {},
        EDIT_CITY_CONTENT,
    ),
    ("console.switch_idea_board_phase", "POST"): (
        f"{BOARD}/phase",
        {"phase": "supporting"},
        EDIT_CITY_CONTENT,
    ),
    ("console.show_idea", "GET"): (IDEA, None, READ_IDEAS),
    ("console.answer_idea", "POST"): (
        f"{IDEA}/answer",
        {"status": "accepted", "response-fr": "Nous le ferons."},
        READ_IDEAS,
    ),
    ("console.decide_idea", "POST"): (
        f"{IDEA}/decide",
        {"decision": "hide", "reason": "Hors sujet"},
        EDIT_CITY_CONTENT,
    ),
    ("console.decide_comment", "POST"): (
        "/console/lyon/comments/{comment}/decide",
        {"decision": "hide", "reason": "Insultant"},
        EDIT_CITY_CONTENT,
    ),
    ("console.merge_idea", "GET"): (
        "/console/lyon/ideas/{duplicate}/merge",
        None,
        EDIT_CITY_CONTENT,
    ),
    ("console.merge_idea", "POST"): (
        "/console/lyon/ideas/{duplicate}/merge",
        {"target": "{idea}", "reason": "Doublon"},
        EDIT_CITY_CONTENT,
    ),
    ("console.mute_author", "POST"): (
        "/console/lyon/authors/{resident}/mute",
        {"reason": "Messages répétés"},
        EDIT_CITY_CONTENT,
    ),
    ("console.unmute_author", "POST"): (
        "/console/lyon/authors/{muted}/unmute",
        {"reason": "Fin de la pause"},
        EDIT_CITY_CONTENT,
    ),
    ("console.moderation_queue", "GET"): ("/console/lyon/moderation", None, EDIT_CITY_CONTENT),
    ("console.audit_log", "GET"): ("/console/lyon/audit", None, AUDIT),
    ("console.retention", "GET"): ("/console/lyon/retention", None, RETENTION),
    # Workshops: the city's moderators and administrators run them; answers are personal.
    ("console.list_workshops", "GET"): ("/console/lyon/workshops", None, EDIT_CITY_CONTENT),
    ("console.new_workshop", "GET"): ("/console/lyon/workshops/new", None, EDIT_CITY_CONTENT),
    ("console.new_workshop", "POST"): (
        "/console/lyon/workshops/new",
        {**WORKSHOP_FORM, "campaign": "ideas"},
        EDIT_CITY_CONTENT,
    ),
    ("console.show_workshop", "GET"): (WORKSHOP, None, EDIT_CITY_CONTENT),
    ("console.edit_workshop", "GET"): (f"{WORKSHOP}/edit", None, EDIT_CITY_CONTENT),
    ("console.edit_workshop", "POST"): (f"{WORKSHOP}/edit", WORKSHOP_FORM, EDIT_CITY_CONTENT),
    ("console.publish_workshop", "POST"): (
        "/console/lyon/workshops/{draft_workshop}/publish",
        {},
        EDIT_CITY_CONTENT,
    ),
    ("console.cancel_workshop", "GET"): (f"{WORKSHOP}/cancel", None, EDIT_CITY_CONTENT),
    ("console.cancel_workshop", "POST"): (
        f"{WORKSHOP}/cancel",
        {"reason": "Salle fermée"},
        EDIT_CITY_CONTENT,
    ),
    ("console.complete_workshop", "POST"): (f"{WORKSHOP}/complete", {}, EDIT_CITY_CONTENT),
    ("console.workshop_participants", "GET"): (
        f"{WORKSHOP}/participants?q=lyon",
        None,
        EDIT_CITY_CONTENT,
    ),
    ("console.remove_workshop_participant", "POST"): (
        f"{WORKSHOP}/participants/{{seated}}/remove",
        {"reason": "Doublon"},
        EDIT_CITY_CONTENT,
    ),
    ("console.confirm_workshop_participant", "POST"): (
        f"{WORKSHOP}/participants/{{waiting}}/confirm",
        {},
        EDIT_CITY_CONTENT,
    ),
    ("console.invite_workshop_participant", "POST"): (
        f"{WORKSHOP}/participants/invite",
        {"user_id": "{researcher}"},
        EDIT_CITY_CONTENT,
    ),
    ("console.export_workshop_participants", "GET"): (
        f"{WORKSHOP}/participants.csv",
        None,
        EDIT_CITY_CONTENT,
    ),
    ("console.workshop_checkin", "GET"): (f"{WORKSHOP}/checkin", None, EDIT_CITY_CONTENT),
    ("console.check_in_participant", "POST"): (
        f"{WORKSHOP}/checkin",
        {"registration_id": "{seated}"},
        EDIT_CITY_CONTENT,
    ),
    ("console.undo_check_in", "POST"): (
        f"{WORKSHOP}/checkin/{{seated}}/undo",
        {},
        EDIT_CITY_CONTENT,
    ),
    ("console.workshop_outcomes", "GET"): (
        f"{WORKSHOP}/outcomes?idea_q=potager",
        None,
        EDIT_CITY_CONTENT,
    ),
    ("console.save_workshop_minutes", "POST"): (
        f"{WORKSHOP}/minutes",
        {"minutes": "<p>Notes</p>"},
        EDIT_CITY_CONTENT,
    ),
    ("console.save_workshop_summary", "POST"): (
        f"{WORKSHOP}/summary",
        {"summary-fr": "Résumé"},
        EDIT_CITY_CONTENT,
    ),
    ("console.add_workshop_outcome", "POST"): (
        f"{WORKSHOP}/outcomes",
        {"kind": "idea", "idea_id": "{duplicate}"},
        EDIT_CITY_CONTENT,
    ),
    ("console.remove_workshop_outcome", "POST"): (
        f"{WORKSHOP}/outcomes/{{outcome}}/remove",
        {},
        EDIT_CITY_CONTENT,
    ),
    ("console.publish_workshop_summary", "POST"): (
        f"{WORKSHOP}/summary/publish",
        {},
        EDIT_CITY_CONTENT,
    ),
    # Consent texts and energy: see tests/console/test_consent_views.py, test_energy_views.py.
    ("console.list_consent_texts", "GET"): ("/console/lyon/consents", None, CONSENT_TEXTS),
    ("console.new_consent_text", "GET"): (
        "/console/lyon/consents/research/new",
        None,
        CONSENT_TEXTS,
    ),
    ("console.new_consent_text", "POST"): (
        "/console/lyon/consents/research/new",
        {"action": "publish", "text-fr": "Recherche anonyme."},
        CONSENT_TEXTS,
    ),
    ("console.energy_settings", "GET"): ("/console/lyon/energy", None, ENERGY),
    ("console.save_energy_tariffs", "POST"): (
        "/console/lyon/energy/tariffs",
        {"price-electricity": "0.25", "currency-electricity": "EUR"},
        ENERGY,
    ),
    # Without a file: refused as such (422) to those who may upload.
    ("console.import_energy_temperatures", "POST"): (
        "/console/lyon/energy/temperatures",
        {},
        _expect(TO_LOGIN, 403, 422, 422, 403, 404, 422, 404),
    ),
    ("console.energy_presets", "GET"): ("/console/lyon/energy/presets", None, ENERGY),
    ("console.new_energy_preset", "GET"): ("/console/lyon/energy/presets/new", None, ENERGY),
    ("console.new_energy_preset", "POST"): (
        "/console/lyon/energy/presets/new",
        {
            "action": "save",
            "name": "Portail",
            "timestamp": "Horodate",
            "value": "Valeur",
            "stamp_marks": "start",
            "value_kind": "power",
            "value_unit": "W",
        },
        ENERGY,
    ),
    # No such format: those who may delete are told so.
    ("console.delete_energy_preset", "POST"): (
        "/console/lyon/energy/presets/999999/delete",
        {},
        _expect(TO_LOGIN, 403, 404, 404, 403, 404, 404, 404),
    ),
    ("console.energy_districts", "GET"): ("/console/lyon/energy/districts", None, ENERGY),
    # Research exports and projects: see tests/console/test_research_views.py.
    ("console.list_research_exports", "GET"): (RESEARCH, None, READ_RESEARCH),
    ("console.new_research_export", "GET"): (f"{RESEARCH}/new", None, REQUEST_RESEARCH),
    ("console.new_research_export", "POST"): (
        f"{RESEARCH}/new?dataset=energy&subject=city",
        RESEARCH_REQUEST,
        REQUEST_RESEARCH,
    ),
    ("console.show_research_export", "GET"): (
        f"{RESEARCH}/{{research_export}}",
        None,
        READ_RESEARCH,
    ),
    # Only with the requester's link; the admins who read the request fetch nothing.
    ("console.download_research_export", "GET"): (
        f"{RESEARCH}/{{research_export}}/download?token={{research_token}}",
        None,
        REQUEST_RESEARCH,
    ),
    ("console.research_projects", "GET"): (f"{RESEARCH}/projects", None, READ_RESEARCH),
    ("console.research_projects", "POST"): (
        f"{RESEARCH}/projects",
        {"name": "Rénovation 2026", "description": ""},
        READ_RESEARCH,
    ),
    ("console.download_energy_districts", "GET"): (
        "/console/lyon/energy/districts.csv",
        None,
        ENERGY,
    ),
}


def test_every_console_route_has_an_expectation(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("console.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - set(ROUTES) == set(), "add the new routes to ROUTES with their expectations"
    assert set(ROUTES) - routes == set()


def _state(db_session) -> tuple:
    """Everything the routes above could change."""
    db_session.expire_all()
    return (
        tuple(db_session.execute(sa.select(Campaign.slug, Campaign.status, Campaign.title))),
        tuple(
            db_session.execute(
                sa.select(RoleGrant.user_id, RoleGrant.role).order_by(
                    RoleGrant.user_id, RoleGrant.role
                )
            )
        ),
        tuple(db_session.execute(sa.select(User.email, User.disabled_at).order_by(User.email))),
        tuple(db_session.execute(sa.select(City.slug, City.name, City.timezone))),
        tuple(db_session.execute(sa.select(Delivery.id, Delivery.status).order_by(Delivery.id))),
        tuple(db_session.execute(sa.select(Update.id, Update.status, Update.title))),
        tuple(db_session.execute(sa.select(Survey.id, Survey.status, Survey.grace_minutes))),
        tuple(
            db_session.execute(
                sa.select(SurveyVersion.id, SurveyVersion.status, SurveyVersion.definition)
            )
        ),
        idea_state(db_session),
        workshop_state(db_session),
        energy_state(db_session),
        research_state(db_session),
    )


def _results_survey(db_session, people) -> int:
    """A published survey of its own campaign, for the results pages."""
    lyon = people["admin"].city
    campaign = published_campaign(db_session, people["platform_admin"], lyon, slug="results")
    return make_survey(db_session, people["platform_admin"], campaign).id


CASES = [(endpoint, method, actor) for endpoint, method in sorted(ROUTES) for actor in ACTORS]


@pytest.mark.parametrize(
    ("endpoint", "method", "actor"),
    CASES,
    ids=[f"{e}-{m}-{a or 'anonymous'}" for e, m, a in CASES],
)
def test_route_permissions(
    endpoint,
    method,
    actor,
    app,
    as_person,
    people,
    make_campaign,
    db_session,
    tmp_path,
    monkeypatch,
):
    path, data, expected = ROUTES[(endpoint, method)]
    ids = {name: person.id for name, person in people.items()}
    ids["dead_letter"] = dead_letter(db_session, people["resident"]).id
    lyon = people["admin"].city
    ids["survey"] = _results_survey(db_session, people)
    ids["update"] = updates.create_update(
        db_session, people["platform_admin"], lyon, title={"fr": "Brouillon"}
    ).id
    campaign = make_campaign()
    ids["survey"] = survey_with_question(db_session, people["platform_admin"], campaign).id
    ids |= permission_world(db_session, people)
    ids |= workshop_world(app, people, ids["board"])
    monkeypatch.setitem(app.config, "RESEARCH_EXPORT_DIR", str(tmp_path / "research"))
    ids |= research_world(app, db_session(), people)
    path = path.format(**ids)
    data = {k: v.format(**ids) if isinstance(v, str) else v for k, v in (data or {}).items()}
    if endpoint == "console.enable_account":
        people["resident"].disabled_at = utcnow()
        db_session.commit()
    client = as_person(actor)
    before = _state(db_session)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={**data, "csrf_token": csrf_token(client)})
    response.close()  # static files are streamed
    outcome = expected[actor]
    where = f"{method} {path} as {actor or 'anonymous'}"
    if outcome == TO_LOGIN:
        assert response.status_code == 302, where
        assert response.location.startswith(LOGIN), where
    elif outcome == OK:
        assert response.status_code in (200, 302, 303), (where, html(response)[-800:])
        assert not (response.location or "").startswith(LOGIN), where
    else:
        assert response.status_code == outcome, where
    if outcome in (403, 404) or (outcome == TO_LOGIN and method == "POST"):
        assert _state(db_session) == before, f"{where} changed something"
