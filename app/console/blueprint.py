"""The console blueprint and how it knows who is signed in."""

from datetime import timedelta

from flask import Blueprint, current_app, g
from flask_login import current_user

from app import accounts
from app.extensions import db, login_manager
from app.models import TokenKind

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@login_manager.user_loader
def _load_console_user(raw_token: str):
    idle = timedelta(minutes=current_app.config["CONSOLE_IDLE_MINUTES"])
    token = accounts.authenticate(db.session, raw_token, TokenKind.CONSOLE, idle=idle)
    if token is None:
        return None
    accounts.record_token_use(db.session, token)
    user = token.user
    user.session_token = raw_token
    g.console_token = token
    return user


@bp.before_request
def _identify():
    # Sets g.user for the locale selector and headers; views still decide who may enter.
    if current_user.is_authenticated:
        g.user = current_user._get_current_object()
