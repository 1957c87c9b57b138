"""My in-app inbox and my notification settings."""

from flask import g
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.extensions import db
from client_api.core import Blueprint, signed_in
from client_api.pagination import PageArgs, page_schema, paginate
from i18n import _l
from notifications import inbox, preferences
from notifications.models import EmailMode, Notification

# "notifications" is the name of the blueprint of pages reached from emails (notifications.web).
blp = Blueprint("inbox", __name__, description="My notifications and how I want to get them.")


# --- schemas --------------------------------------------------------------------------------


class StrictBoolean(fields.Boolean):
    """JSON true or false only: 0, 1 or "yes" in a body are refused, as the schema says."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class InboxArgs(PageArgs):
    unread = fields.Boolean(
        load_default=False, metadata={"description": "Only notifications not read yet."}
    )


class NotificationOut(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"example": "update.published"})
    subject = fields.String(required=True, metadata={"description": "The title, one line."})
    body_text = fields.String(required=True)
    body_html = fields.String(
        required=True, metadata={"description": "The same text as sanitised HTML."}
    )
    data = fields.Dict(
        required=True, metadata={"description": "What to open when tapped, e.g. {update_id: 3}."}
    )
    created_at = fields.AwareDateTime(required=True)
    read = fields.Function(
        lambda n: n.read_at is not None, required=True, metadata={"type": "boolean"}
    )
    read_at = fields.AwareDateTime(required=True, allow_none=True)


NotificationPage = page_schema(NotificationOut, "NotificationPage")


class UnreadOut(Schema):
    unread = fields.Integer(required=True)


class MarkedOut(Schema):
    marked = fields.Integer(required=True, metadata={"description": "How many were unread."})


class QuietHoursOut(Schema):
    start = fields.Time(format="%H:%M", required=True, metadata={"example": "22:00"})
    end = fields.Time(format="%H:%M", required=True, metadata={"example": "07:00"})


class KindSettingOut(Schema):
    kind = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "The kind, in my language."})
    inbox = fields.Boolean(required=True)
    push = fields.Boolean(required=True)
    email = fields.Enum(EmailMode, by_value=True, required=True)
    email_modes = fields.List(
        fields.Enum(EmailMode, by_value=True),
        required=True,
        metadata={"description": "The email choices this kind offers."},
    )


class SettingsOut(Schema):
    timezone = fields.String(
        required=True, allow_none=True, metadata={"description": "null: my city's time zone."}
    )
    city_timezone = fields.String(required=True)
    quiet_hours = fields.Nested(
        QuietHoursOut,
        required=True,
        allow_none=True,
        metadata={"description": "No push between these local times; null: none."},
    )
    email_paused = fields.Boolean(
        required=True, metadata={"description": "All optional email stopped."}
    )
    kinds = fields.List(fields.Nested(KindSettingOut), required=True)


class QuietHoursIn(Schema):
    start = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"example": "22:00"},
    )
    end = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=20),
        metadata={"example": "07:00"},
    )


class KindChoiceIn(Schema):
    inbox = StrictBoolean()
    push = StrictBoolean()
    email = fields.Enum(EmailMode, by_value=True)


class SettingsIn(Schema):
    timezone = fields.String(
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": "An IANA time zone, or null for my city's."},
    )
    quiet_hours = fields.Nested(QuietHoursIn, allow_none=True)
    email_paused = StrictBoolean()
    kinds = fields.Dict(
        keys=fields.String(validate=validate.Length(max=60)),
        values=fields.Nested(KindChoiceIn),
        metadata={"description": "Per kind (as listed in the settings), the channels to change."},
    )

    @validates_schema
    def _something_to_change(self, data, **_kwargs):
        if not data:
            raise ValidationError(str(_l("Send at least one field to change.")))


# --- routes ---------------------------------------------------------------------------------


@blp.route("/notifications", endpoint="list_notifications")
class Inbox(MethodView):
    @signed_in
    @blp.query(InboxArgs)
    @blp.response(200, NotificationPage)
    def get(self, args):
        """My inbox, newest first."""
        rows, next_cursor = paginate(
            db.session,
            inbox.inbox(g.user, unread_only=args["unread"]),
            Notification.inbox_at,
            Notification.id,
            args,
        )
        return {"items": rows, "next_cursor": next_cursor}


@blp.route("/notifications/unread-count", endpoint="unread_count")
class UnreadCount(MethodView):
    @signed_in
    @blp.response(200, UnreadOut)
    def get(self):
        """How many notifications in my inbox I have not read."""
        return {"unread": inbox.unread_count(db.session, g.user)}


@blp.route("/notifications/<int:notification_id>/read", endpoint="mark_read")
class MarkRead(MethodView):
    @signed_in
    @blp.response(200, NotificationOut)
    def post(self, notification_id):
        """Mark one notification read; marking it again keeps the first time."""
        notification = inbox.mark_read(db.session, g.user, notification_id)
        db.session.commit()
        return notification


@blp.route("/notifications/read-all", endpoint="mark_all_read")
class MarkAllRead(MethodView):
    @signed_in
    @blp.response(200, MarkedOut)
    def post(self):
        """Mark everything in my inbox read."""
        marked = inbox.mark_all_read(db.session, g.user)
        db.session.commit()
        return {"marked": marked}


@blp.route("/notifications/settings", endpoint="notification_settings")
class NotificationSettings(MethodView):
    @signed_in
    @blp.response(200, SettingsOut)
    def get(self):
        """Which channels I get each kind of notification by, my quiet hours, my time zone."""
        return preferences.read_settings(db.session, g.user)

    @signed_in
    @blp.arguments(SettingsIn)
    @blp.response(200, SettingsOut)
    def patch(self, data):
        """Change some of my notification settings; the answer is all of them."""
        changes = dict(data)
        if changes.get("quiet_hours") is not None:
            quiet = changes["quiet_hours"]
            changes["quiet_hours"] = (quiet["start"], quiet["end"])
        settings = preferences.update_settings(db.session, g.user, **changes)
        db.session.commit()
        return settings
