"""Co-design workshops of my city: the upcoming ones, registering and cancelling, my workshops,
calendar files and my calendar feed, and the code I show at the door.

A workshop of another city, a draft, or one of an unpublished campaign is not found, whatever
the caller's roles: staff prepare workshops in the console. Registering is a PUT (201 when this
call registered, 200 when I already was) and cancelling a DELETE that answers 204 also when
there was nothing to cancel, so a phone may send either again. Only my own registration is
ever shown; of other people only counts.
"""

from flask import current_app, g, url_for
from flask.views import MethodView
from marshmallow import ValidationError, validates

from app.db import utcnow, write_intent
from app.errors import NotFound
from app.extensions import db
from app.throttle import participation_limits
from client_api import workshop_output as shown
from client_api.caching import cached_json
from client_api.core import Blueprint, begin_writing, checks_before_writing, page_size, signed_in
from client_api.pagination import PageArgs, page_schema, paginate
from i18n import _l, current_locale
from workshops import calendar, listing, registrations
from workshops.models import Registration, RegistrationStatus, Workshop
from workshops.schemas import (
    CalendarFeedOut,
    CalendarFeedUrlOut,
    CheckInCodeOut,
    MyWorkshopOut,
    RegistrationIn,
    RegistrationOut,
    WorkshopListArgs,
    WorkshopOut,
    WorkshopSummaryOut,
)

blp = Blueprint(
    "workshops",
    __name__,
    description="Co-design workshops of my city: registering, my seat, calendars, check-in.",
)

WorkshopPage = page_schema(WorkshopSummaryOut, "WorkshopPage")
MyWorkshopPage = page_schema(MyWorkshopOut, "MyWorkshopPage")
#: Holding a place: what the check-in code is for.
AT_THE_DOOR = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
CALENDAR_DOC = {"type": "string", "description": "An iCalendar (RFC 5545) file."}


class WorkshopsArgs(PageArgs, WorkshopListArgs):
    pass


class MyWorkshopsArgs(PageArgs):
    @validates("cursor")
    def _cursor_is_ours(self, value, **_kwargs):
        if value is None:
            return
        try:
            shown.decode_my_cursor(value)
        except ValueError:
            message = _l("Not a valid cursor; start again from the first page.")
            raise ValidationError(str(message)) from None


def _get_workshop(workshop_id: int) -> Workshop:
    """A workshop as residents see it; anything else (another city's, a draft) is not found."""
    workshop = listing.resident_workshop(db.session, g.user, workshop_id)
    if workshop is None:
        raise NotFound()
    return workshop


def _mine(workshop: Workshop) -> Registration | None:
    return listing.shown_registration(registrations.my_registration(db.session, g.user, workshop))


def _calendar_response(body: str, filename: str):
    response = current_app.response_class(body)
    response.headers["Content-Type"] = calendar.CONTENT_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- workshops ------------------------------------------------------------------------------


@blp.route("/workshops", endpoint="list_workshops")
class Workshops(MethodView):
    @signed_in
    @blp.etag
    @blp.query(WorkshopsArgs)
    @blp.response(200, WorkshopPage)
    def get(self, args):
        """Workshops of my city's campaigns not over yet, soonest first (cancelled ones too)."""
        now = utcnow()
        followed = listing.followed_campaign_ids(db.session, g.user) if args["following"] else None
        filters = {"campaign_id": args["campaign"], "followed": followed}
        version = listing.upcoming_version(db.session, g.user, now, **filters)

        def build():
            rows, next_cursor = paginate(
                db.session,
                listing.upcoming(g.user, now, **filters),
                Workshop.starts_at,
                Workshop.id,
                args,
                newest_first=False,
            )
            items = shown.summaries_out(rows, now)
            return WorkshopPage().dump({"items": items, "next_cursor": next_cursor})

        key = (
            "workshops",
            g.user.id,
            args["campaign"],
            tuple(followed) if followed is not None else None,
            *version,
            page_size(args["limit"]),
            args["cursor"],
        )
        return cached_json(blp, key, build)


@blp.route("/workshops/<int:workshop_id>", endpoint="get_workshop")
class WorkshopDetail(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, WorkshopOut)
    def get(self, workshop_id):
        """One workshop: agenda, questions, my registration, and its outcomes once published.

        The online link is shown to confirmed participants only.
        """
        workshop = _get_workshop(workshop_id)
        return shown.workshop_out(workshop, _mine(workshop), utcnow())


@blp.route("/workshops/<int:workshop_id>/registration", endpoint="my_registration")
class MyRegistration(MethodView):
    decorators = participation_limits("workshop_registration", methods=["PUT"])

    @signed_in
    @blp.etag
    @blp.response(200, RegistrationOut)
    def get(self, workshop_id):
        """My registration: a seat, a place on the waitlist, an invitation; 404 without one."""
        mine = _mine(_get_workshop(workshop_id))
        if mine is None:
            raise NotFound()
        return shown.registration_out(mine)

    @checks_before_writing
    @signed_in
    @blp.arguments(RegistrationIn)
    @blp.response(201, RegistrationOut)
    @blp.alt_response(200, schema=RegistrationOut, description="I was registered already.")
    def put(self, data, workshop_id):
        """Register: a seat if one is free, else a place on the waitlist in arrival order.

        Sent again, it answers 200 with my registration (answers given replace mine). An
        invitation is accepted this way. 409 ``registration-not-open``,
        ``registration-closed``, ``workshop-cancelled``, ``workshop-over``, ``removed`` (the
        organisers took me off); 422 with field errors under ``answers`` for answers that do
        not fit the workshop's questions.
        """
        placed = registrations.register_and_place(
            db.session,
            g.user,
            _get_workshop(workshop_id),
            answers=data["answers"],
            now=utcnow(),
            before_writing=begin_writing,
        )
        answer = shown.registration_out(placed.registration, placed.position)
        db.session.commit()
        return answer, 201 if placed.created else 200

    @signed_in
    @blp.response(204)
    def delete(self, workshop_id):
        """Cancel my registration; my seat goes to the next person waiting. Twice is once.

        409 ``too-late`` once the workshop has started.
        """
        registrations.cancel_registration(
            db.session, g.user, _get_workshop(workshop_id), now=utcnow()
        )
        db.session.commit()


@blp.route("/workshops/<int:workshop_id>/calendar.ics", endpoint="workshop_calendar")
class WorkshopCalendar(MethodView):
    @signed_in
    @blp.response(200, CALENDAR_DOC, content_type="text/calendar")
    def get(self, workshop_id):
        """The workshop as a calendar file in my language (the online link if I have a seat).

        A cancelled workshop's file cancels the event in calendars that imported it.
        """
        workshop = _get_workshop(workshop_id)
        mine = _mine(workshop)
        seated = mine is not None and mine.status == RegistrationStatus.CONFIRMED
        body = calendar.workshop_calendar(workshop, current_locale(), with_link=seated)
        return _calendar_response(body, f"workshop-{workshop.id}.ics")


@blp.route("/workshops/<int:workshop_id>/check-in-code", endpoint="check_in_code")
class CheckInCode(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, CheckInCodeOut)
    def get(self, workshop_id):
        """The code I show at the door, typed or as a QR code; 404 without a seat or a place
        on the waitlist."""
        mine = _mine(_get_workshop(workshop_id))
        if mine is None or mine.status not in AT_THE_DOOR:
            raise NotFound()
        return shown.check_in_code_out(mine)


# --- my workshops ---------------------------------------------------------------------------


@blp.route("/me/workshops", endpoint="my_workshops")
class MyWorkshops(MethodView):
    @signed_in
    @blp.etag
    @blp.query(MyWorkshopsArgs)
    @blp.response(200, MyWorkshopPage)
    def get(self, args):
        """My registrations with their workshops: those to come soonest first, then those over.

        Includes invitations, and registrations the organisers removed (with their reason).
        """
        now = utcnow()
        after = shown.decode_my_cursor(args["cursor"]) if args["cursor"] else None
        page = listing.my_workshops(db.session, g.user, now, after, page_size(args["limit"]))
        waiting = listing.waitlist_lengths(db.session, [r.workshop_id for r in page.registrations])
        return {
            "items": [
                shown.my_workshop_out(r, waiting[r.workshop_id], now) for r in page.registrations
            ],
            "next_cursor": shown.encode_my_cursor(page.next_after) if page.next_after else None,
        }


@blp.route("/me/calendar-feed", endpoint="calendar_feed")
class CalendarFeed(MethodView):
    @signed_in
    @blp.etag
    @blp.response(200, CalendarFeedOut)
    def get(self):
        """Whether I have a calendar feed URL (the URL itself is only shown when made)."""
        feed = listing.calendar_feed_of(db.session, g.user)
        return {"active": feed is not None, "created_at": feed.created_at if feed else None}

    @signed_in
    @blp.response(201, CalendarFeedUrlOut)
    def post(self):
        """A new private URL of my workshops for my calendar app; the previous one stops
        working. Keep it secret: it needs no sign-in."""
        token = calendar.issue_feed(db.session, g.user)
        db.session.commit()
        path = url_for("workshops.calendar_feed_file", token=token)
        return {"url": current_app.config["PUBLIC_URL"].rstrip("/") + path}

    @signed_in
    @blp.response(204)
    def delete(self):
        """Turn my feed off: its URL stops working. Twice is once."""
        calendar.revoke_feed(db.session, g.user)
        db.session.commit()


@blp.route("/calendar/<token>.ics", endpoint="calendar_feed_file")
class CalendarFeedFile(MethodView):
    # Not rate-limited: its token (256 random bits) cannot be guessed, and calendar apps poll.
    # Logs name the route, never the path that holds the token (app/errors.py).
    @blp.response(200, CALENDAR_DOC, content_type="text/calendar")
    def get(self, token):
        """My workshops for calendar apps, in my language: the secret URL is the sign-in.

        404 for a URL replaced or turned off.
        """
        # Reading it records the read now and then: on SQLite, take the write lock at the start
        # rather than upgrading a read transaction (see app/db.py).
        write_intent.set(True)
        owner = calendar.feed_owner(db.session, token)
        if owner is None:
            raise NotFound()
        locale = owner.locale or owner.city.default_locale
        body = calendar.feed_calendar(db.session, owner, locale)
        db.session.commit()  # the read is recorded
        response = _calendar_response(body, "workshops.ics")
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Content-Language"] = locale
        return response
