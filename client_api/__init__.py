"""The mobile JSON API under /api/v1, documented at /api/v1/openapi.json and /api/v1/docs."""

from flask import Flask

from app.extensions import csrf
from client_api import (
    account_deletion,
    accounts,
    campaigns,
    consents,
    docs,
    energy,
    energy_feedback,
    energy_providers,
    idea_actions,
    ideas,
    notifications,
    personal_data,
    push,
    surveys,
    updates,
    workshops,
)
from client_api.core import Api, document_security

api = Api()

PREFIX = "/api/v1"
BLUEPRINTS = (
    accounts.blp,
    account_deletion.blp,
    campaigns.blp,
    consents.blp,
    energy.blp,
    energy_feedback.blp,
    energy_providers.blp,
    idea_actions.blp,
    ideas.blp,
    notifications.blp,
    personal_data.blp,
    push.blp,
    surveys.blp,
    updates.blp,
    workshops.blp,
)


def init_app(app: Flask) -> None:
    api.init_app(app, spec_kwargs={"info": {"description": "The Living Lab mobile API."}})
    document_security(api)
    for blueprint in BLUEPRINTS:
        # Bearer tokens, not cookies, authenticate the API: CSRF does not apply.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    app.register_blueprint(docs.bp, url_prefix=PREFIX)
