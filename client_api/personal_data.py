"""Download my data: asking for a copy of everything held about me, and fetching it once.

The copy is built by the scheduler (``privacy.exports``); while it is ready my list carries a
``download_url`` with a one-time token. Fetching it takes both my sign-in and the token;
another account with the token gets 404, a spent or expired copy 410.
"""

from flask import current_app, g, url_for
from flask.views import MethodView
from marshmallow import Schema, fields

from app.db import utcnow
from app.extensions import db, limiter
from app.throttle import bearer_key
from client_api.core import Blueprint, signed_in
from i18n import current_locale
from privacy import service
from privacy.models import ExportStatus

blp = Blueprint(
    "personal_data", __name__, description="A copy of everything held about me, to download."
)

ZIP_DOC = {"type": "string", "format": "binary", "description": "A ZIP file."}


class DataExportOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        metadata={"enum": [s.value for s in ExportStatus]},
    )
    requested_at = fields.AwareDateTime(required=True)
    ready_at = fields.AwareDateTime(required=True, allow_none=True)
    expires_at = fields.AwareDateTime(required=True, allow_none=True)
    downloaded_at = fields.AwareDateTime(required=True, allow_none=True)
    size_bytes = fields.Integer(required=True, allow_none=True)
    download_url = fields.Method(
        "_download_url",
        required=True,
        allow_none=True,
        metadata={
            "type": "string",
            "description": "While ready: where to fetch it, once, signed in as me.",
        },
    )

    def _download_url(self, export) -> str | None:
        if export.status != ExportStatus.READY or (
            export.expires_at is not None and export.expires_at <= utcnow()
        ):
            return None
        path = url_for(
            "personal_data.download_data_export",
            export_id=export.id,
            token=service.download_token(export),
        )
        return current_app.config["PUBLIC_URL"].rstrip("/") + path


class DownloadArgs(Schema):
    token = fields.String(required=True, metadata={"description": "From the download_url."})


def _deduct_created(response) -> bool:
    # Only a new copy counts: asking again for the one being made is free.
    return response.status_code == 202


@blp.route("/me/data-exports", endpoint="data_exports")
class DataExports(MethodView):
    decorators = [
        limiter.limit("3/day", key_func=bearer_key, methods=["POST"], deduct_when=_deduct_created)
    ]

    @signed_in
    @blp.response(200, DataExportOut(many=True))
    def get(self):
        """My copies, newest first, with their state and, when ready, the download link."""
        return service.list_exports(db.session, g.user)

    @signed_in
    @blp.response(202, DataExportOut)
    @blp.alt_response(200, schema=DataExportOut, description="A copy is already on its way.")
    def post(self):
        """Ask for a copy of everything held about me (ZIP: README in my language, JSON, CSV).

        It is built within minutes and I am told when it is ready. A copy still being made
        or ready to fetch is returned instead (200): asking twice makes one.
        """
        export, created = service.request_export(db.session, g.user, current_locale())
        db.session.commit()
        return export, 202 if created else 200


@blp.route("/me/data-exports/<int:export_id>/download", endpoint="download_data_export")
class DownloadDataExport(MethodView):
    @signed_in
    @blp.query(DownloadArgs)
    @blp.response(200, ZIP_DOC, content_type="application/zip")
    def get(self, args, export_id):
        """The ZIP, once. 404: not mine or a wrong token; 410: already fetched or expired."""
        export, content = service.download(db.session, g.user, export_id, args["token"])
        db.session.commit()
        response = current_app.response_class(content, mimetype="application/zip")
        day = export.ready_at.date().isoformat()
        response.headers["Content-Disposition"] = (
            f'attachment; filename="livinglab-my-data-{day}.zip"'
        )
        response.headers["Cache-Control"] = "no-store"
        return response
