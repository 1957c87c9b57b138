"""Research exports in the console: a researcher of the city asks for an anonymised export of
a survey's responses or a campaign's ideas, workshops or energy use, follows it while the
scheduler builds it, reads its report and downloads it through a short-lived link. The city's
research projects, whose exports share pseudonyms, are listed and created here too.

Researchers see and fetch only their own requests (policy ``research.export``); the city's
administrators read everyone's requests and reports, with who asked, but fetch nothing
(``research.oversee``). research/service.py draws the same lines again.
"""

import logging
import math

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.console.blueprint import bp
from app.console.forms import MultiCheckboxField, sort_errors, strip
from app.console.paging import PER_PAGE, Page, page_number
from app.console.research_labels import (
    DATASET_HINTS,
    KEPT_NOTES,
    LEFT_OUT_NAMES,
    REPLACEMENT_NAMES,
    STATUS_BADGES,
    STATUS_NAMES,
    SUPPRESSED_NAMES,
    file_size,
    number,
)
from app.console.scoping import actor, console_city
from app.db import MAX_ID, utcnow
from app.errors import Invalid
from app.extensions import db
from app.models import City
from app.policy import can, ensure
from i18n import LANGUAGES, _, _l, current_locale
from research import projects, service
from research.datasets import quasi_candidates, subjects
from research.models import DatasetKind, ResearchExport, ResearchStatus
from research.options import parse_options

log = logging.getLogger("livinglab.console")

#: While an export is built, its page reloads itself to show the progress.
IN_PROGRESS = (ResearchStatus.PENDING, ResearchStatus.RUNNING)
#: Datasets of a record per row (research/datasets): k, free text and SPSS/Stata apply to
#: them; the others are tables of counts, protected by the minimum cell.
MICRODATA = (DatasetKind.SURVEY, DatasetKind.IDEAS)
#: The subject of an energy export of the whole city rather than one campaign.
WHOLE_CITY = "city"
#: The service's names for fields that the form calls otherwise.
FIELD_NAMES = {"subject_id": "subject", "project_id": "project"}


class ExportForm(FlaskForm):
    """What a request says beside its data; research.options and the service check it all."""

    purpose = TextAreaField(
        _l("Purpose"),
        filters=[strip],
        render_kw={"rows": 5, "maxlength": service.PURPOSE_MAX},
        description=_l(
            "What the data is for, in %(low)d to %(high)d characters. It is recorded with the "
            "request and shown in the city's audit log.",
            low=service.PURPOSE_MIN,
            high=service.PURPOSE_MAX,
        ),
    )
    project = SelectField(
        _l("Research project"),
        validate_choice=False,
        description=_l(
            "Exports of one project share pseudonyms, so they can be joined. Without a project "
            "the export's pseudonyms are its own."
        ),
    )
    locale = SelectField(_l("Language of labels, codebook and README"), validate_choice=False)
    k = StringField(
        _l("k: smallest group of records sharing their quasi-identifiers"),
        filters=[strip],
        render_kw={"inputmode": "numeric", "maxlength": 4},
    )
    l = StringField(  # noqa: E741 - the name the literature gives it
        _l("l: distinct sensitive values in each group"),
        filters=[strip],
        render_kw={"inputmode": "numeric", "maxlength": 4},
        description=_l("It matters only for questions marked sensitive."),
    )
    min_cell = StringField(
        _l("Minimum count in a table cell"),
        filters=[strip],
        render_kw={"inputmode": "numeric", "maxlength": 4},
        description=_l(
            "Cells counting fewer people are hidden, with others that would give them away."
        ),
    )
    starts_on = StringField(
        _l("From (optional)"),
        filters=[strip],
        render_kw={"type": "date"},
        description=_l("Only records of this day or later, in the city's time zone."),
    )
    ends_on = StringField(
        _l("Until (optional)"),
        filters=[strip],
        render_kw={"type": "date"},
        description=_l("Only records of this day or earlier."),
    )
    include_text = BooleanField(
        _l("Include free text"),
        description=_l(
            "E-mail addresses, phone numbers, web addresses, IBANs and names of the city's "
            "registered users are replaced first. Without it, free-text answers are left out."
        ),
    )
    formats = MultiCheckboxField(
        _l("Also as"),
        choices=[SelectChoice("sav", _l("SPSS (.sav)")), SelectChoice("dta", _l("Stata (.dta)"))],
        validate_choice=False,
        description=_l("A CSV file, its codebook and a Frictionless Data Package are always made."),
    )
    quasi = MultiCheckboxField(
        _l("Questions that could identify someone (quasi-identifiers)"),
        validate_choice=False,
        description=_l(
            "Such as age, household size or dwelling type: generalised until every respondent "
            "shares them with at least k-1 others."
        ),
    )
    sensitive = MultiCheckboxField(
        _l("Sensitive questions"),
        validate_choice=False,
        description=_l("Each group of respondents shows at least l different answers to these."),
    )


def _research_city(city_slug: str, action: str) -> City:
    """The city of a research page, for someone allowed ``action`` there."""
    city = console_city(city_slug)
    ensure(actor(), action, city)
    return city


def _subjects(city: City, kind: DatasetKind) -> list[tuple[str, str]]:
    """(value, title) of what may be exported of ``kind``; the whole city first for energy."""
    found = [(str(id_), title) for id_, title in subjects(db.session, city.id, kind)]
    if kind == DatasetKind.ENERGY:
        found.insert(0, (WHOLE_CITY, str(_("The whole city"))))
    return found


def _subject_title(city: City, export: ResearchExport, titles: dict) -> str:
    kind = DatasetKind(export.dataset)
    if kind not in titles:
        titles[kind] = dict(_subjects(city, kind))
    value = WHOLE_CITY if export.subject_id is None else str(export.subject_id)
    # A subject no longer offered (a survey deleted since) is still named by its number.
    return titles[kind].get(value) or _("Number %(number)d", number=export.subject_id or 0)


def _choice() -> tuple[DatasetKind | None, str | None]:
    """The dataset and subject in the address (``?dataset=survey&subject=12``); 400 for
    anything a page of the console does not send."""
    if set(request.args) - {"dataset", "subject"}:
        abort(400)
    dataset = request.args.get("dataset") or None
    subject = request.args.get("subject") or None
    if dataset is None:
        return None, None
    try:
        kind = DatasetKind(dataset)
    except ValueError:
        abort(400)
    if subject is not None and not (
        (subject.isdigit() and len(subject) <= 10)
        or (subject == WHOLE_CITY and kind == DatasetKind.ENERGY)
    ):
        abort(400)
    return kind, subject


def _prepare(form: ExportForm, city: City, kind: DatasetKind, subject: str) -> None:
    """The choices the city offers: its open projects, its languages, the survey's questions."""
    form.project.choices = [
        SelectChoice("", _l("None")),
        *(SelectChoice(str(p.id), p.name) for p in projects.projects_for(db.session, city)),
    ]
    form.locale.choices = [
        SelectChoice(code, LANGUAGES.get(code, code), {"lang": code})
        for code in city.enabled_locales
    ]
    questions = []
    if kind == DatasetKind.SURVEY:
        questions = [
            SelectChoice(key, f"{label} ({key})")
            for key, label in quasi_candidates(db.session, int(subject))
        ]
    form.quasi.choices = questions
    form.sensitive.choices = list(questions)


def _defaults(city: City) -> dict:
    config = current_app.config
    locale = current_locale()
    return {
        "k": str(config["RESEARCH_MIN_K"]),
        "l": str(config["RESEARCH_MIN_L"]),
        "min_cell": str(config["RESEARCH_MIN_CELL"]),
        "locale": locale if locale in city.enabled_locales else city.default_locale,
        "project": "",
    }


def _form_page(city, kind=None, subject=None, form=None, errors=None, status=200):
    choices = _subjects(city, kind) if kind is not None and subject is None else []
    return render_template(
        "console/research_form.html",
        city=city,
        kinds=list(DatasetKind),
        dataset_names=service.DATASET_LABELS,
        dataset_hints=DATASET_HINTS,
        kind=kind,
        subject=subject,
        subject_title=dict(_subjects(city, kind)).get(subject) if subject else None,
        choices=choices,
        form=form,
        errors=errors or {},
        has_errors=bool(errors or (form and form.errors)),
        whole_city=WHOLE_CITY,
        microdata=kind in MICRODATA,
        min_k=current_app.config["RESEARCH_MIN_K"],
        min_cell=current_app.config["RESEARCH_MIN_CELL"],
    ), status


@bp.route("/<city_slug>/research/new", methods=["GET", "POST"])
@login_required
def new_research_export(city_slug: str):
    """Choose the data (``?dataset=``), then what of it (``&subject=``), then the options."""
    city = _research_city(city_slug, "research.export")
    kind, subject = _choice()
    if kind is None or subject is None:
        if request.method == "POST":
            abort(400)
        return _form_page(city, kind)
    if subject not in dict(_subjects(city, kind)):
        abort(404)
    if request.method == "GET":
        form = ExportForm(data=_defaults(city))
        _prepare(form, city, kind, subject)
        return _form_page(city, kind, subject, form)
    form = ExportForm()
    _prepare(form, city, kind, subject)
    form.validate()  # only the CSRF token: every other rule is the service's
    fields = {name: f for name, f in form._fields.items() if name != "csrf_token"}
    errors: dict[str, list[str]] = {}
    try:
        options = parse_options(request.form, current_app.config)
    except Invalid as error:
        options = None
        errors = sort_errors(error, fields, ())
    project = form.project.data or ""
    if project and not (project.isdigit() and int(project) <= MAX_ID):
        form.project.errors = [*form.project.errors, _("Choose an open project of this city.")]
    if options is None or form.project.errors:
        return _form_page(city, kind, subject, form, errors, 422)
    try:
        export = service.request_export(
            db.session,
            actor(),
            city,
            dataset=kind,
            subject_id=None if subject == WHOLE_CITY else int(subject),
            purpose=form.purpose.data or "",
            options=options,
            locale=form.locale.data or "",
            project_id=int(project) if project else None,
        )
    except Invalid as error:
        db.session.rollback()
        renamed = {FIELD_NAMES.get(k, k): v for k, v in (error.errors or {}).items()}
        errors = sort_errors(Invalid(error.detail, renamed), fields, ())
        return _form_page(city, kind, subject, form, errors, 422)
    db.session.commit()
    log.info(
        "research export requested",
        extra={"city": city.slug, "user_id": actor().id, "research_export_id": export.id},
    )
    flash(_("Your request is recorded. The export is built in the background."), "success")
    return redirect(
        url_for("console.show_research_export", city_slug=city.slug, export_id=export.id), 303
    )


@bp.get("/<city_slug>/research")
@login_required
def list_research_exports(city_slug: str):
    city = _research_city(city_slug, "research.read")
    exports = service.exports_for(db.session, actor(), city)
    number = page_number()
    shown = exports[(number - 1) * PER_PAGE : number * PER_PAGE]
    page = Page(shown, number, max(1, math.ceil(len(exports) / PER_PAGE)), len(exports))
    titles: dict = {}
    return render_template(
        "console/research_exports.html",
        city=city,
        page=page,
        subject_titles={e.id: _subject_title(city, e, titles) for e in shown},
        dataset_names=service.DATASET_LABELS,
        status_names=STATUS_NAMES,
        status_badges=STATUS_BADGES,
        may_request=can(actor(), "research.export", city),
        oversees=can(actor(), "research.oversee", city),
        size=file_size,
    )


@bp.get("/<city_slug>/research/<int:export_id>")
@login_required
def show_research_export(city_slug: str, export_id: int):
    city = _research_city(city_slug, "research.read")
    export = service.get_export(db.session, actor(), city, export_id)
    now = utcnow()
    # Past its days but not yet erased by the scheduler: shown as expired already.
    expired = export.status == ResearchStatus.EXPIRED or (
        export.status == ResearchStatus.READY
        and export.expires_at is not None
        and export.expires_at <= now
    )
    link = None
    if (
        export.status == ResearchStatus.READY
        and not expired
        and export.requested_by_id == actor().id
        and can(actor(), "research.export", city)
    ):
        token = service.download_link_token(export, actor(), now)
        link = url_for(
            "console.download_research_export",
            city_slug=city.slug,
            export_id=export.id,
            token=token,
        )
    return render_template(
        "console/research_export.html",
        city=city,
        export=export,
        subject_title=_subject_title(city, export, {}),
        dataset_names=service.DATASET_LABELS,
        status_names=STATUS_NAMES,
        status_badges=STATUS_BADGES,
        stage_names=service.STAGES,
        in_progress=export.status in IN_PROGRESS,
        expired=expired,
        link=link,
        link_minutes=current_app.config["RESEARCH_LINK_MINUTES"],
        oversees=can(actor(), "research.oversee", city),
        report=export.report or {},
        size=file_size,
        number=number,
        left_out_names=LEFT_OUT_NAMES,
        kept_notes=KEPT_NOTES,
        suppressed_names=SUPPRESSED_NAMES,
        replacement_names=REPLACEMENT_NAMES,
    )


@bp.get("/<city_slug>/research/<int:export_id>/download")
@login_required
def download_research_export(city_slug: str, export_id: int):
    """The ZIP, for its requester holding a link of the last minutes; 404 or 410 otherwise."""
    city = _research_city(city_slug, "research.export")
    token = request.args.get("token", "")
    if set(request.args) - {"token"} or len(token) > 200:
        abort(404)
    export, path = service.open_download(db.session, actor(), city, export_id, token)
    db.session.commit()  # the download is counted and audited before a byte is sent
    log.info(
        "research export downloaded",
        extra={"city": city.slug, "user_id": actor().id, "research_export_id": export.id},
    )
    response = send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"research-export-{export.id}.zip",
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


class ProjectForm(FlaskForm):
    name = StringField(_l("Name"), filters=[strip], render_kw={"maxlength": projects.NAME_MAX})
    description = TextAreaField(
        _l("Description (optional)"),
        filters=[strip],
        render_kw={"rows": 3, "maxlength": projects.DESCRIPTION_MAX},
        description=_l("What the project studies, for the researchers who join its exports."),
    )


def _projects_page(city: City, form: ProjectForm, errors=None, status=200):
    return render_template(
        "console/research_projects.html",
        city=city,
        projects=projects.projects_for(db.session, city),
        form=form,
        errors=errors or {},
        has_errors=bool(errors or form.errors),
    ), status


@bp.route("/<city_slug>/research/projects", methods=["GET", "POST"])
@login_required
def research_projects(city_slug: str):
    city = _research_city(city_slug, "research.projects")
    if request.method == "GET":
        return _projects_page(city, ProjectForm(formdata=None))
    form = ProjectForm()
    form.validate()  # only the CSRF token: the service checks the rest
    try:
        project = projects.create_project(
            db.session, actor(), city, form.name.data or "", form.description.data or ""
        )
    except Invalid as error:
        db.session.rollback()
        fields = {"name": form.name, "description": form.description}
        return _projects_page(city, form, sort_errors(error, fields, ()), 422)
    db.session.commit()
    log.info(
        "research project created",
        extra={"city": city.slug, "user_id": actor().id, "research_project_id": project.id},
    )
    flash(_("The project “%(name)s” is created.", name=project.name), "success")
    return redirect(url_for("console.research_projects", city_slug=city.slug), 303)
