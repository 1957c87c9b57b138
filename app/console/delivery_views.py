"""The outbox page of one city: how deliveries stand, and the dead letters to send again.

City staff, its administrators and platform administrators reach it (policy action
``notifications.manage``). A delivery belongs to the city its recipient lived in when it
was recorded (``Notification.city_id``). Recipients are shown by a masked address: staff
see that a message failed, not to whom exactly.
"""

import logging

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from app.console.blueprint import bp
from app.console.scoping import actor, console_city
from app.db import utcnow
from app.extensions import db
from app.models import City
from app.policy import ensure
from i18n import _, _l, ngettext
from notifications import outbox
from notifications.models import Channel

log = logging.getLogger("livinglab.console")

CHANNEL_NAMES = {
    Channel.INBOX: _l("In-app inbox"),
    Channel.EMAIL: _l("Email"),
    Channel.PUSH: _l("Push"),
}


def _outbox_city(city_slug: str) -> City:
    city = console_city(city_slug)
    ensure(actor(), "notifications.manage", city)
    return city


def _to_outbox(city: City):
    return redirect(url_for("console.list_deliveries", city_slug=city.slug), 303)


def _retried(city: City, count: int, what: str):
    db.session.commit()
    log.info(
        "dead letters retried",
        extra={"user_id": actor().id, "city": city.slug, "which": what, "count": count},
    )
    if count:
        flash(
            ngettext(
                "%(num)d dead letter is queued to be sent again.",
                "%(num)d dead letters are queued to be sent again.",
                count,
            ),
            "success",
        )
    else:
        flash(_("There was no dead letter to send again."), "info")
    return _to_outbox(city)


@bp.get("/<city_slug>/deliveries")
@login_required
def list_deliveries(city_slug: str):
    city = _outbox_city(city_slug)
    return render_template(
        "console/deliveries.html",
        city=city,
        counts=outbox.delivery_counts(db.session, actor(), city, utcnow()),
        letters=outbox.dead_letters(db.session, actor(), city),
        channel_names=CHANNEL_NAMES,
        list_limit=outbox.LIST_LIMIT,
    )


@bp.post("/<city_slug>/deliveries/<int:delivery_id>/retry")
@login_required
def retry_delivery(city_slug: str, delivery_id: int):
    city = _outbox_city(city_slug)
    return _retried(city, outbox.retry(db.session, actor(), city, delivery_id), str(delivery_id))


@bp.post("/<city_slug>/deliveries/retry-all")
@login_required
def retry_dead_letters(city_slug: str):
    city = _outbox_city(city_slug)
    return _retried(city, outbox.retry(db.session, actor(), city), "all")
