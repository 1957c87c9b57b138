"""Campaigns of a city in the console: list, preview, create, edit, publish and archive.

Who may do what is decided by app.policy, through the campaign services and ``ensure``.
"""

import logging
from collections import Counter

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from app.console.blueprint import bp
from app.console.campaign_input import CampaignInput
from app.console.forms import CampaignForm, NewCampaignForm, sort_errors
from app.console.labels import CAMPAIGN_TEXT_LABELS
from app.console.scoping import actor, console_city, refused
from app.console.translations import Shown, languages_missing, missing_by_field
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import City
from app.policy import ensure
from campaigns import service
from campaigns.models import Campaign, CampaignStatus
from campaigns.service import MAX_LENGTH, TRANSLATED_FIELDS
from i18n import LANGUAGES, _, current_locale
from i18n.content import cleaned

log = logging.getLogger("livinglab.console")

STATUSES = tuple(CampaignStatus)


def missing_translations(campaign: Campaign) -> dict[str, list[str]]:
    """Per field, the city's languages that still lack a text the field has elsewhere.

    The title counts even when empty everywhere, since every campaign has one; a cover's
    alternative text counts whenever there is a cover.
    """
    enabled = campaign.city.enabled_locales
    required = {"title", "cover_alt"} if campaign.cover_image_url else {"title"}
    missing = missing_by_field(campaign, TRANSLATED_FIELDS, enabled, required)
    # Languages some phase title lacks, once that title is written in any language.
    phase_gaps = {
        loc
        for phase in campaign.phases
        for loc in missing_by_field(phase, ["title"], enabled).get("title", [])
    }
    if phase_gaps:
        missing["phases"] = languages_missing({"phases": list(phase_gaps)}, enabled)
    return missing


def _missing_anywhere(campaign: Campaign) -> list[str]:
    return languages_missing(missing_translations(campaign), campaign.city.enabled_locales)


def _languages_left_out(campaign: Campaign) -> list[str]:
    """Languages the campaign has texts in that its city no longer uses; saving drops them."""
    present = {loc for f in TRANSLATED_FIELDS for loc in cleaned(getattr(campaign, f))}
    present |= {loc for phase in campaign.phases for loc in cleaned(phase.title)}
    enabled = campaign.city.enabled_locales
    return [LANGUAGES.get(loc, loc) for loc in sorted(present) if loc not in enabled]


def _campaign_or_404(city: City, slug: str) -> Campaign:
    return service.get_campaign(db.session, actor(), city, slug)


def _to_campaign(campaign: Campaign, code: int = 303):
    return redirect(
        url_for("console.show_campaign", city_slug=campaign.city.slug, slug=campaign.slug), code
    )


# --- reading --------------------------------------------------------------------------------


@bp.get("/<city_slug>/campaigns")
@login_required
def list_campaigns(city_slug: str):
    city = console_city(city_slug)
    status = request.args.get("status", "")
    if status and status not in STATUSES:
        abort(400)
    everything = service.campaigns_for_console(db.session, actor(), city)
    locale = current_locale()
    rows = []
    for campaign in everything:
        if status and campaign.status != status:
            continue
        phase = campaign.current_phase
        rows.append(
            {
                "campaign": campaign,
                "title": Shown.of(campaign.title, locale, city),
                "phase": Shown.of(phase.title, locale, city) if phase else None,
                "missing": _missing_anywhere(campaign),
            }
        )
    return render_template(
        "console/campaigns.html",
        city=city,
        rows=rows,
        status=status,
        statuses=STATUSES,
        counts=Counter(campaign.status for campaign in everything),
        total=len(everything),
    )


@bp.get("/<city_slug>/campaigns/<slug>")
@login_required
def show_campaign(city_slug: str, slug: str):
    """The campaign's state and, below, how residents see it in the chosen language."""
    city = console_city(city_slug)
    campaign = _campaign_or_404(city, slug)
    requested = request.args.get("lang")
    if requested is not None and requested not in city.enabled_locales:
        abort(400)
    lang = requested or current_locale()
    if lang not in city.enabled_locales:
        lang = city.default_locale
    texts = {f: Shown.of(getattr(campaign, f), lang, city) for f in TRANSLATED_FIELDS}
    current = campaign.current_phase
    phases = [
        {
            "title": Shown.of(phase.title, lang, city),
            "starts_at": phase.starts_at,
            "ends_at": phase.ends_at,
            "current": phase is current,
        }
        for phase in campaign.phases
    ]
    return render_template(
        "console/campaign.html",
        city=city,
        campaign=campaign,
        heading=Shown.of(campaign.title, current_locale(), city),
        lang=lang,
        texts=texts,
        phases=phases,
        missing=missing_translations(campaign),
        labels={**CAMPAIGN_TEXT_LABELS, "phases": _("Phase titles")},
    )


# --- writing --------------------------------------------------------------------------------


def _sort_errors(form, error: Invalid) -> dict[str, list[str]]:
    fields = {name: field for name, field in form._fields.items() if name != "csrf_token"}
    return sort_errors(error, fields, {*TRANSLATED_FIELDS, "phases"})


def _form_page(city, form, typed, errors=None, campaign=None, status=200):
    errors = errors or {}
    has_errors = bool(errors or form.errors or typed.has_errors)
    return render_template(
        "console/campaign_form.html",
        city=city,
        form=form,
        typed=typed,
        errors=errors,
        has_errors=has_errors,
        campaign=campaign,
        left_out=_languages_left_out(campaign) if campaign is not None else [],
        labels=CAMPAIGN_TEXT_LABELS,
        max_length=MAX_LENGTH,
    ), status


@bp.route("/<city_slug>/campaigns/new", methods=["GET", "POST"])
@login_required
def new_campaign(city_slug: str):
    city = console_city(city_slug)
    ensure(actor(), "campaign.create", city)
    form = NewCampaignForm()
    if request.method == "GET":
        return _form_page(city, form, CampaignInput.blank(city))
    typed = CampaignInput.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        try:
            campaign = service.create_campaign(
                db.session,
                actor(),
                city,
                slug=form.slug.data or "",
                cover_image_url=form.cover_image_url.data or None,
                **typed.service_values(),
            )
        except (Invalid, Conflict) as error:
            db.session.rollback()
            errors = _sort_errors(form, error)
        else:
            if not typed.has_errors:
                db.session.commit()
                log.info(
                    "campaign created",
                    extra={"campaign_id": campaign.id, "user_id": actor().id, "city": city.slug},
                )
                flash(
                    _("The campaign is saved as a draft. Residents do not see it yet."), "success"
                )
                return _to_campaign(campaign)
            db.session.rollback()  # a phase could not be read: save nothing yet
    return _form_page(city, form, typed, errors, status=422)


@bp.route("/<city_slug>/campaigns/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_campaign(city_slug: str, slug: str):
    city = console_city(city_slug)
    campaign = _campaign_or_404(city, slug)
    ensure(actor(), "campaign.edit", campaign)
    if campaign.status == CampaignStatus.ARCHIVED:
        flash(_("An archived campaign cannot be changed."), "error")
        return _to_campaign(campaign)
    if request.method == "GET":
        form = CampaignForm(cover_image_url=campaign.cover_image_url)
        return _form_page(city, form, CampaignInput.from_campaign(campaign), campaign=campaign)
    form = CampaignForm()
    typed = CampaignInput.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        try:
            service.update_campaign(
                db.session,
                actor(),
                campaign,
                cover_image_url=form.cover_image_url.data or None,
                **typed.service_values(),
            )
        except Invalid as error:
            db.session.rollback()
            errors = _sort_errors(form, error)
        except Conflict as error:
            return refused(error, _to_campaign(campaign))
        else:
            if not typed.has_errors:
                db.session.commit()
                log.info(
                    "campaign changed", extra={"campaign_id": campaign.id, "user_id": actor().id}
                )
                flash(_("Your changes are saved."), "success")
                return _to_campaign(campaign)
            db.session.rollback()
    return _form_page(city, form, typed, errors, campaign=campaign, status=422)


def _change_state(city_slug: str, slug: str, change, done_message: str, event: str):
    city = console_city(city_slug)
    campaign = _campaign_or_404(city, slug)
    try:
        change(db.session, actor(), campaign)
    except Conflict as error:
        return refused(error, _to_campaign(campaign))
    db.session.commit()
    log.info(event, extra={"campaign_id": campaign.id, "user_id": actor().id})
    flash(done_message, "success")
    return _to_campaign(campaign)


@bp.post("/<city_slug>/campaigns/<slug>/publish")
@login_required
def publish_campaign(city_slug: str, slug: str):
    return _change_state(
        city_slug,
        slug,
        service.publish_campaign,
        _("The campaign is published. The city's residents can see it now."),
        "campaign published",
    )


@bp.post("/<city_slug>/campaigns/<slug>/archive")
@login_required
def archive_campaign(city_slug: str, slug: str):
    return _change_state(
        city_slug,
        slug,
        service.archive_campaign,
        _("The campaign is archived. Residents no longer see it."),
        "campaign archived",
    )
