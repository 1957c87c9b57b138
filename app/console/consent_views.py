"""Consent texts of a city in the console: per purpose, the versions published and how many
people's consent to each still stands; a new version written in every language of the city,
previewed as residents will read it, then published.

Only the city's administrators do this (policy ``consent.manage``): publishing a new version
asks everyone who agreed to an earlier one to agree again before anything more is stored.
"""

import logging

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app import consent
from app.consent_models import Consent, ConsentText, Purpose
from app.console.blueprint import bp
from app.console.idea_board_views import rendered
from app.console.scoping import actor, console_city
from app.console.survey_input import texts_from
from app.errors import Invalid
from app.extensions import db
from app.models import City
from app.policy import ensure
from i18n import _, _l

log = logging.getLogger("livinglab.console")

PURPOSE_NAMES = {
    Purpose.ACCOUNT: _l("Account"),
    Purpose.ENERGY_FEEDBACK: _l("Energy feedback"),
    Purpose.RESEARCH: _l("Research"),
    Purpose.CONTACT: _l("Being contacted for studies"),
}
PURPOSE_HINTS = {
    Purpose.ACCOUNT: _l("What residents agree to when they create an account."),
    Purpose.ENERGY_FEEDBACK: _l(
        "What residents agree to before their meter readings are stored and turned into feedback."
    ),
    Purpose.RESEARCH: _l("Whether contributions may be used, anonymised, in researchers' exports."),
    Purpose.CONTACT: _l("Whether residents may be contacted for future studies."),
}


def _managing_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "consent.manage", city)
    return city


def _purpose(name: str) -> Purpose:
    try:
        return Purpose(name)
    except ValueError:
        abort(404)


def _versions(city: City) -> dict[Purpose, list[dict]]:
    """Per purpose, its published versions (latest first) with the consents standing."""
    standing = sa.func.count(Consent.id).filter(Consent.withdrawn_at.is_(None))
    rows = db.session.execute(
        sa.select(ConsentText, standing)
        .outerjoin(Consent, Consent.text_id == ConsentText.id)
        .where(ConsentText.city_id == city.id, ConsentText.published_at.is_not(None))
        .group_by(ConsentText.id)
        .order_by(ConsentText.purpose, ConsentText.version.desc())
    )
    versions: dict[Purpose, list[dict]] = {purpose: [] for purpose in Purpose}
    for text, count in rows:
        if text.purpose in versions:
            versions[Purpose(text.purpose)].append({"text": text, "standing": count})
    return versions


@bp.get("/<city_slug>/consents")
@login_required
def list_consent_texts(city_slug: str):
    city = _managing_city(city_slug)
    return render_template(
        "console/consent_texts.html",
        city=city,
        versions=_versions(city),
        names=PURPOSE_NAMES,
        hints=PURPOSE_HINTS,
        rendered=rendered,
    )


def _form_page(city, purpose, texts, current, errors=None, preview=False, status=200):
    return render_template(
        "console/consent_form.html",
        city=city,
        purpose=purpose,
        name=PURPOSE_NAMES[purpose],
        hint=PURPOSE_HINTS[purpose],
        texts=texts,
        current=current,
        errors=errors or {},
        preview=preview,
        rendered=rendered,
        max_length=consent.MAX_TEXT_LENGTH,
    ), status


@bp.route("/<city_slug>/consents/<purpose_name>/new", methods=["GET", "POST"])
@login_required
def new_consent_text(city_slug: str, purpose_name: str):
    """Write the next version (starting from the current one), preview it, publish it."""
    city = _managing_city(city_slug)
    purpose = _purpose(purpose_name)
    current = consent.current_text(db.session, city.id, purpose)
    if request.method == "GET":
        return _form_page(city, purpose, dict(current.text) if current else {}, current)
    # The CSRF token is checked for every POST before the view (app.extensions.csrf).
    texts = texts_from(request.form, "text", list(city.enabled_locales))
    if request.form.get("action") == "preview":
        return _form_page(city, purpose, texts, current, preview=True)
    if current is not None and request.form.get("confirm") != "1":
        errors = {"confirm": [_("Confirm that everyone who agreed before will be asked again.")]}
        return _form_page(city, purpose, texts, current, errors, preview=True, status=422)
    try:
        published = consent.publish_text(db.session, actor(), city, purpose, texts)
    except Invalid as error:
        db.session.rollback()
        errors = {"text": [m for ms in (error.errors or {}).values() for m in ms]}
        return _form_page(city, purpose, texts, current, errors, status=422)
    db.session.commit()
    log.info(
        "consent text published",
        extra={
            "city": city.slug,
            "purpose": purpose.value,
            "version": published.version,
            "user_id": actor().id,
        },
    )
    flash(
        _(
            "Version %(version)d of “%(purpose)s” is published. Everyone is asked to agree to it "
            "before anything more is stored.",
            version=published.version,
            purpose=PURPOSE_NAMES[purpose],
        ),
        "success",
    )
    return redirect(url_for("console.list_consent_texts", city_slug=city.slug), 303)
