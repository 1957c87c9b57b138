"""Updates of a city in the console: list, compose, preview, schedule, publish, unpublish.

Only the city's staff and administrators (and platform administrators) reach these pages
(policy action ``update.manage``, checked on the city first, so a moderator is refused
rather than told the page does not exist).

Times are typed in the city's time zone. A time the clocks skip is refused; a time that
happens twice (when the clocks go back) is read as its first occurrence, and the page says
so and shows the UTC offset used.
"""

import logging
from collections import Counter
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from app.console.blueprint import bp
from app.console.campaign_input import to_local_text
from app.console.forms import sort_errors
from app.console.scoping import actor, console_city, refused
from app.console.translations import Shown
from app.console.update_input import (
    STATUS_NAMES,
    TEXT_LABELS,
    WHOLE_CITY,
    ScheduleForm,
    Texts,
    UpdateForm,
    campaign_id,
    missing_anywhere,
    missing_translations,
    parse_local,
    utc_offset,
)
from app.errors import Conflict, Invalid
from app.extensions import db
from app.models import City
from app.policy import ensure
from app.richtext import excerpt, sanitize
from campaigns.models import Campaign, CampaignStatus
from i18n import _, current_locale, format_datetime
from updates import publishing, service
from updates.models import Update, UpdateStatus
from updates.service import MAX_LENGTH, TRANSLATED_FIELDS

log = logging.getLogger("livinglab.console")

STATUSES = tuple(UpdateStatus)


def _manage_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "update.manage", city)
    return city


def _update_or_404(city: City, update_id: int) -> Update:
    return service.get_update(db.session, actor(), city, update_id)


def _to_update(update: Update, code: int = 303):
    return redirect(
        url_for("console.show_update", city_slug=update.city.slug, update_id=update.id), code
    )


def _audience_choices(city: City, current: Campaign | None) -> list[SelectChoice]:
    locale = current_locale()
    campaigns = service.campaign_choices(db.session, actor(), city)
    if current is not None and current not in campaigns:
        campaigns.append(current)  # an archived campaign stays shown as the current audience
    choices = [SelectChoice(WHOLE_CITY, _("Everyone in %(city)s", city=city.name))]
    for campaign in campaigns:
        title = Shown.of(campaign.title, locale, city).text or campaign.slug
        label = _("Followers of %(campaign)s", campaign=title)
        choices.append(SelectChoice(str(campaign.id), label))
    return choices


# --- reading --------------------------------------------------------------------------------


@bp.get("/<city_slug>/updates")
@login_required
def list_updates(city_slug: str):
    city = _manage_city(city_slug)
    status = request.args.get("status", "")
    if status and status not in STATUSES:
        abort(400)
    everything = service.updates_for_console(db.session, actor(), city)
    locale = current_locale()
    rows = []
    for update in everything:
        if status and update.status != status:
            continue
        rows.append(
            {
                "item": update,
                "title": Shown.of(update.title, locale, city),
                "campaign": Shown.of(update.campaign.title, locale, city)
                if update.campaign is not None
                else None,
                "missing": missing_anywhere(update),
            }
        )
    return render_template(
        "console/updates.html",
        city=city,
        rows=rows,
        status=status,
        statuses=STATUSES,
        status_labels=STATUS_NAMES,
        counts=Counter(update.status for update in everything),
        total=len(everything),
    )


@bp.get("/<city_slug>/updates/<int:update_id>")
@login_required
def show_update(city_slug: str, update_id: int):
    """The update's state, its actions and, below, how residents see it in each language."""
    city = _manage_city(city_slug)
    update = _update_or_404(city, update_id)
    requested = request.args.get("lang")
    if requested is not None and requested not in city.enabled_locales:
        abort(400)
    form = ScheduleForm(publish_at=_local_value(update))
    return _show_page(city, update, _preview_language(city, requested), form)


def _preview_language(city: City, requested: str | None = None) -> str:
    """The language of the preview: as asked, else the reader's, else the city's main one."""
    lang = requested or current_locale()
    return lang if lang in city.enabled_locales else city.default_locale


def _local_value(update: Update) -> str:
    if update.publish_at is None:
        return ""
    return to_local_text(update.publish_at, ZoneInfo(update.city.timezone))


def _show_page(city: City, update: Update, lang: str, schedule_form, status: int = 200):
    texts = {f: Shown.of(getattr(update, f), lang, city) for f in TRANSLATED_FIELDS}
    # Stored bodies are sanitised already; sanitising again costs little and keeps it so.
    body = Markup(sanitize(texts["body"].text))  # noqa: S704  (allow-listed HTML)
    zone = ZoneInfo(city.timezone)
    campaign = update.campaign
    schedule_form.publish_at.description = _(
        "In the city's time zone, %(timezone)s.", timezone=city.timezone
    )
    return render_template(
        "console/update.html",
        city=city,
        update=update,
        campaign=campaign,
        campaign_title=Shown.of(campaign.title, lang, city) if campaign is not None else None,
        heading=Shown.of(update.title, current_locale(), city),
        lang=lang,
        texts=texts,
        body=body,
        summary=excerpt(texts["body"].text),
        missing=missing_translations(update),
        labels=TEXT_LABELS,
        status_labels=STATUS_NAMES,
        schedule_form=schedule_form,
        publish_at_offset=utc_offset(update.publish_at, zone) if update.publish_at else None,
        waits_for_campaign=update.status == UpdateStatus.SCHEDULED
        and campaign is not None
        and campaign.status != CampaignStatus.PUBLISHED,
    ), status


# --- writing --------------------------------------------------------------------------------


def _sort_errors(form: UpdateForm, error: Invalid) -> dict[str, list[str]]:
    fields = {"campaign": form.audience, "image_url": form.image_url}
    return sort_errors(error, fields, TRANSLATED_FIELDS)


def _form_page(city, form, texts, errors=None, update=None, status=200):
    errors = errors or {}
    form.audience.choices = _audience_choices(city, update.campaign if update else None)
    return render_template(
        "console/update_form.html",
        city=city,
        form=form,
        texts=texts,
        errors=errors,
        has_errors=bool(errors or form.errors),
        update=update,
        labels=TEXT_LABELS,
        max_length=MAX_LENGTH,
    ), status


def _values(form: UpdateForm, texts: Texts) -> dict:
    return {
        **texts.values,
        "image_url": form.image_url.data or None,
        "campaign_id": campaign_id(form.audience.data),
    }


@bp.route("/<city_slug>/updates/new", methods=["GET", "POST"])
@login_required
def new_update(city_slug: str):
    city = _manage_city(city_slug)
    form = UpdateForm()
    if request.method == "GET":
        return _form_page(city, form, Texts.blank(city))
    texts = Texts.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        values = _values(form, texts)
        try:
            update = service.create_update(db.session, actor(), city, **values)
        except Invalid as error:
            db.session.rollback()
            errors = _sort_errors(form, error)
        else:
            db.session.commit()
            log.info(
                "update created",
                extra={"update_id": update.id, "user_id": actor().id, "city": city.slug},
            )
            flash(_("The update is saved as a draft. Residents do not see it yet."), "success")
            return _to_update(update)
    return _form_page(city, form, texts, errors, status=422)


@bp.route("/<city_slug>/updates/<int:update_id>/edit", methods=["GET", "POST"])
@login_required
def edit_update(city_slug: str, update_id: int):
    city = _manage_city(city_slug)
    update = _update_or_404(city, update_id)
    if request.method == "GET":
        form = UpdateForm(
            image_url=update.image_url,
            audience=str(update.campaign_id) if update.campaign_id else WHOLE_CITY,
        )
        return _form_page(city, form, Texts.of(update), update=update)
    form = UpdateForm()
    texts = Texts.from_form(city, request.form)
    errors: dict[str, list[str]] = {}
    if form.validate():
        try:
            service.edit_update(db.session, actor(), update, **_values(form, texts))
        except Invalid as error:
            db.session.rollback()
            errors = _sort_errors(form, error)
        else:
            db.session.commit()
            log.info("update changed", extra={"update_id": update.id, "user_id": actor().id})
            if update.status == UpdateStatus.PUBLISHED:
                flash(
                    _("Your changes are saved and residents see them now. Nobody is told again."),
                    "success",
                )
            else:
                flash(_("Your changes are saved."), "success")
            return _to_update(update)
    return _form_page(city, form, texts, errors, update=update, status=422)


@bp.post("/<city_slug>/updates/<int:update_id>/publish")
@login_required
def publish_update(city_slug: str, update_id: int):
    city = _manage_city(city_slug)
    update = _update_or_404(city, update_id)
    try:
        publishing.publish_update(db.session, actor(), update)
    except Conflict as error:
        return refused(error, _to_update(update))
    db.session.commit()
    log.info(
        "update published", extra={"update_id": update.id, "user_id": actor().id, "by": "console"}
    )
    if update.campaign is not None:
        flash(_("The update is published. The campaign's followers are being told."), "success")
    else:
        flash(_("The update is published. The city's residents are being told."), "success")
    return _to_update(update)


@bp.post("/<city_slug>/updates/<int:update_id>/schedule")
@login_required
def schedule_update(city_slug: str, update_id: int):
    city = _manage_city(city_slug)
    update = _update_or_404(city, update_id)
    form = ScheduleForm()
    local = None
    if form.validate():
        local = parse_local(form.publish_at.data)
        if local is None:
            form.publish_at.errors = [_("Enter a valid date and time.")]
    if local is not None:
        try:
            publish_at = publishing.from_city_time(city, local)
            publishing.schedule_update(db.session, actor(), update, publish_at)
        except Invalid as error:
            db.session.rollback()
            form.publish_at.errors = list((error.errors or {}).get("publish_at", [error.detail]))
        except Conflict as error:
            return refused(error, _to_update(update))
        else:
            db.session.commit()
            log.info(
                "update scheduled",
                extra={
                    "update_id": update.id,
                    "user_id": actor().id,
                    "publish_at": publish_at.isoformat(),
                },
            )
            zone = ZoneInfo(city.timezone)
            when = format_datetime(publish_at, "medium")
            flash(
                _(
                    "The update will be published on %(when)s (%(offset)s).",
                    when=when,
                    offset=utc_offset(publish_at, zone),
                ),
                "success",
            )
            if publishing.is_ambiguous(city, local):
                flash(
                    _(
                        "This time happens twice that night, because the clocks are put back. "
                        "The first one, %(offset)s, is used.",
                        offset=utc_offset(publish_at, zone),
                    ),
                    "info",
                )
            return _to_update(update)
    return _show_page(city, update, _preview_language(city), form, status=422)


@bp.post("/<city_slug>/updates/<int:update_id>/unpublish")
@login_required
def unpublish_update(city_slug: str, update_id: int):
    city = _manage_city(city_slug)
    update = _update_or_404(city, update_id)
    was = update.status
    try:
        publishing.unpublish_update(db.session, actor(), update)
    except Conflict as error:
        return refused(error, _to_update(update))
    db.session.commit()
    log.info(
        "update unpublished", extra={"update_id": update.id, "user_id": actor().id, "was": was}
    )
    if was == UpdateStatus.SCHEDULED:
        flash(_("The update is no longer scheduled. It is a draft again."), "success")
    else:
        flash(_("The update is unpublished. Residents no longer see it."), "success")
    return _to_update(update)
