"""Console sign-in and sign-out, the dashboard, and one's own account."""

import logging
from datetime import timedelta

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app import accounts, cities
from app.console.blueprint import bp
from app.console.forms import ActionForm, LanguageForm, LoginForm, PasswordForm
from app.errors import Invalid, NotAllowed, Unauthorized
from app.extensions import db
from app.models import TokenKind
from app.policy import cities_for_console
from app.throttle import sign_in_limits
from i18n import _

log = logging.getLogger("livinglab.console")


def _safe_next(target: str | None) -> str:
    """Only local paths inside the console: never an open redirect."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.dashboard")


def field_errors(form, error: Invalid) -> None:
    """Show a service's field errors next to the form's fields (or on top when it has none)."""
    for name, messages in (error.errors or {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            for message in messages:
                flash(message, "error")
    if error.detail and not error.errors:
        flash(error.detail, "error")


def _throttled(view):
    for limit in sign_in_limits(methods=["POST"]):
        view = limit(view)
    return view


@bp.route("/login", methods=["GET", "POST"])
@_throttled
def login():
    form = LoginForm()
    if form.validate_on_submit():
        lifetime = timedelta(hours=current_app.config["CONSOLE_MAX_HOURS"])
        try:
            user, raw = accounts.sign_in(
                db.session,
                email=form.email.data,
                password=form.password.data,
                kind=TokenKind.CONSOLE,
                lifetime=lifetime,
                label=request.user_agent.string,
            )
        except (Unauthorized, NotAllowed) as error:
            db.session.rollback()
            flash(error.detail, "error")
            return render_template("console/login.html", form=form), 401
        if not user.is_platform_admin and not user.grants:
            db.session.rollback()
            log.warning("console sign-in without a role", extra={"user_id": user.id})
            flash(_("Your account has no access to the console."), "error")
            return render_template("console/login.html", form=form), 403
        db.session.commit()
        session.clear()  # a fresh session: nothing from before sign-in survives
        user.session_token = raw
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    status = 400 if form.errors else 200
    return render_template("console/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    if ActionForm().validate_on_submit():
        accounts.revoke_token(db.session, g.console_token)
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You are signed out."), "info")
    return redirect(url_for("console.login"))


@bp.get("/")
@login_required
def dashboard():
    mine = cities_for_console(current_user, cities.list_cities(db.session))
    return render_template("console/dashboard.html", cities=mine)


def _account_page(password_form=None, language_form=None, status=200):
    return render_template(
        "console/account.html",
        password_form=password_form or PasswordForm(),
        language_form=language_form or LanguageForm(locale=current_user.locale or ""),
        sessions=accounts.list_tokens(db.session, current_user),
        current_token_id=g.console_token.id,
    ), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordForm()
    if not form.validate_on_submit():
        return _account_page(password_form=form, status=400)
    try:
        accounts.change_password(
            db.session,
            current_user,
            current_password=form.current_password.data,
            new_password=form.new_password.data,
            keep_token=g.console_token,
        )
    except Invalid as error:
        db.session.rollback()
        field_errors(form, error)
        return _account_page(password_form=form, status=422)
    db.session.commit()
    flash(_("Your password is changed. Your other sessions are signed out."), "success")
    return redirect(url_for("console.account"))


@bp.post("/account/language")
@login_required
def change_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        return _account_page(language_form=form, status=400)
    accounts.update_profile(db.session, current_user, locale=form.locale.data or None)
    db.session.commit()
    return redirect(url_for("console.account"))


@bp.post("/account/sessions/<int:token_id>/revoke")
@login_required
def revoke_session(token_id: int):
    if ActionForm().validate_on_submit():
        accounts.revoke_own_token(db.session, current_user, token_id)
        db.session.commit()
        flash(_("The session is signed out."), "success")
    return redirect(url_for("console.account"))
