"""The server-rendered console for moderators, staff, researchers and admins."""

from flask import Flask, redirect, url_for

from app.console import (
    audit_views,
    campaign_views,
    city_views,
    consent_views,
    delivery_views,
    energy_district_views,
    energy_preset_views,
    energy_views,
    idea_board_views,
    idea_views,
    moderation_views,
    people_views,
    research_views,
    retention_views,
    session_views,
    survey_import_views,
    survey_lifecycle_views,
    survey_question_views,
    survey_results_views,
    survey_views,
    update_views,
    workshop_checkin_views,
    workshop_outcome_views,
    workshop_participant_views,
    workshop_views,
)
from app.console.blueprint import bp
from app.console.labels import ROLE_NAMES, STATUS_NAMES
from app.extensions import login_manager
from app.policy import can
from i18n import _l

#: Modules whose routes are registered on ``bp`` when imported.
VIEW_MODULES = (
    session_views,
    campaign_views,
    city_views,
    people_views,
    delivery_views,
    update_views,
    survey_views,
    survey_lifecycle_views,
    survey_question_views,
    survey_results_views,
    survey_import_views,
    idea_board_views,
    idea_views,
    moderation_views,
    audit_views,
    retention_views,
    workshop_views,
    workshop_participant_views,
    workshop_checkin_views,
    workshop_outcome_views,
    consent_views,
    energy_views,
    energy_preset_views,
    energy_district_views,
    research_views,
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "console.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # the message is lazy; the session stores text
    login_manager.session_protection = "strong"
    app.register_blueprint(bp)
    app.jinja_env.globals.update(can=can, role_names=ROLE_NAMES, status_names=STATUS_NAMES)

    @app.get("/")
    def index():
        return redirect(url_for("console.dashboard"))
