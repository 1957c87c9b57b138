"""Importing an XLSForm (ODK / KoBoToolbox) as a new draft survey of a campaign."""

from flask import render_template, request
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.console.blueprint import bp
from app.console.scoping import actor, console_city
from app.errors import Invalid
from app.extensions import db
from app.policy import ensure
from campaigns import service as campaigns
from i18n import _l
from surveys.xlsform import import_survey
from surveys.xlsform_workbook import MAX_UPLOAD_BYTES


class XLSFormUploadForm(FlaskForm):
    file = FileField(
        _l("XLSForm file"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l("An .xlsx or .xls workbook with survey, choices and settings sheets."),
    )


@bp.route("/<city_slug>/campaigns/<slug>/surveys/import", methods=["GET", "POST"])
@login_required
def import_xlsform(city_slug: str, slug: str):
    """Upload a form; the new draft survey is created and what was left out is listed."""
    city = console_city(city_slug)
    campaign = campaigns.get_campaign(db.session, actor(), city, slug)
    ensure(actor(), "survey.manage", campaign)
    # Workbooks may exceed the application's request limit, up to the importer's own cap.
    request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024
    form = XLSFormUploadForm()
    survey = imported = None
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
        try:
            survey, imported = import_survey(
                db.session, actor(), campaign, data, upload.filename or None
            )
        except Invalid as problem:
            db.session.rollback()
            form.file.errors = [m for ms in (problem.errors or {}).values() for m in ms] or [
                problem.detail
            ]
        else:
            db.session.commit()
    return render_template(
        "console/survey_import.html",
        city=city,
        campaign=campaign,
        form=form,
        survey=survey,
        imported=imported,
    )
