"""Pages and questions of a survey in the console builder: add, edit, move, delete.

Each change is made on a copy of the draft version's definition and saved through
``surveys.service.save_definition`` (``survey_views.save_change``); the checker's errors, by
path, come back next to the inputs of the page or question being edited. Pages and questions
are found by position (pages) and by key (questions) in the version the builder shows.
"""

from flask import abort, flash, render_template, request
from flask_login import login_required

from app.console.blueprint import bp
from app.console.survey_input import (
    OP_NAMES,
    TYPE_NAMES,
    ConditionEditor,
    QuestionView,
    place_errors,
    read_condition,
    read_question,
    texts_from,
)
from app.console.survey_views import (
    all_questions,
    earlier_questions,
    find_question,
    flash_errors,
    manage_city,
    save_change,
    survey_or_404,
    to_survey,
    working_version,
)
from app.errors import NotFound
from i18n import _
from surveys.definition import KEY, LENGTHS, TYPES
from surveys.models import Survey

_MOVES = ("up", "down")


def _page_or_404(definition: dict, page: int) -> dict:
    if not 0 <= page < len(definition["pages"]):
        raise NotFound()
    return definition["pages"][page]


def _free_key(taken: set[str], stem: str) -> str:
    number = len(taken) + 1
    while f"{stem}_{number}" in taken:
        number += 1
    return f"{stem}_{number}"


# --- pages ----------------------------------------------------------------------------------


@bp.post("/<city_slug>/surveys/<int:survey_id>/pages")
@login_required
def add_page(city_slug: str, survey_id: int):
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)

    def change(definition: dict) -> None:
        key = _free_key({p["key"] for p in definition["pages"]}, "page")
        definition["pages"].append({"key": key, "questions": []})

    errors = save_change(survey, change)
    if errors:
        flash_errors(errors)
        return to_survey(survey)
    flash(_("A page is added at the end of the survey."), "success")
    return to_survey(survey, f"page-{len(working_version(survey).definition['pages'])}")


@bp.route("/<city_slug>/surveys/<int:survey_id>/pages/<int:number>", methods=["GET", "POST"])
@login_required
def edit_page(city_slug: str, survey_id: int, number: int):
    page = number - 1  # pages are numbered from 1 in addresses
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    definition = working_version(survey).definition
    current = _page_or_404(definition, page)
    if request.method == "GET":
        return _page_form(survey, page, current)
    typed = {"key": (request.form.get("key") or "").strip()}
    title = texts_from(request.form, "title", city.enabled_locales)
    condition, typed_condition = read_condition(request.form, all_questions(definition))

    def change(definition: dict) -> None:
        edited = definition["pages"][page]
        edited["key"] = typed["key"]
        for name, value in (("title", title), ("show_if", condition)):
            if value:
                edited[name] = value
            else:
                edited.pop(name, None)

    errors = save_change(survey, change)
    if errors is None:
        flash(_("Your changes are saved."), "success")
        return to_survey(survey, f"page-{page + 1}")
    shown = {**current, **typed, "title": title}
    placed = place_errors(errors, f"pages.{page}")
    return _page_form(survey, page, shown, placed, typed_condition, 422)


def _page_form(survey: Survey, page: int, values: dict, errors=None, typed=None, status=200):
    definition = working_version(survey).definition
    if typed is None:
        typed = ConditionEditor.of(values.get("show_if"))
    return render_template(
        "console/survey_page_form.html",
        city=survey.city,
        survey=survey,
        page=page,
        values=values,
        condition=typed,
        # A page's condition may test the questions of the pages before it.
        earlier=earlier_questions(definition, page, 0),
        op_names=OP_NAMES,
        errors=errors or {},
        locales=list(survey.city.enabled_locales),
        max_length=LENGTHS,
    ), status


@bp.post("/<city_slug>/surveys/<int:survey_id>/pages/<int:number>/delete")
@login_required
def delete_page(city_slug: str, survey_id: int, number: int):
    page = number - 1  # pages are numbered from 1 in addresses
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    if _page_or_404(working_version(survey).definition, page)["questions"]:
        flash(_("Move or delete the page's questions first."), "error")
        return to_survey(survey, f"page-{page + 1}")
    errors = save_change(survey, lambda definition: definition["pages"].pop(page))
    if errors:
        flash_errors(errors)
    else:
        flash(_("The page is deleted."), "success")
    return to_survey(survey)


# --- questions ------------------------------------------------------------------------------


def _question_form(survey, page, position, question, errors=None, typed=None, **kw):
    definition = working_version(survey).definition
    return render_template(
        "console/survey_question_form.html",
        city=survey.city,
        survey=survey,
        page=page,
        view=QuestionView.of(question, typed),
        earlier=earlier_questions(definition, page, position),
        errors=errors or {},
        locales=list(survey.city.enabled_locales),
        max_length=LENGTHS,
        types=TYPES,
        type_names=TYPE_NAMES,
        op_names=OP_NAMES,
        is_new=kw.get("is_new", False),
        original_key=kw.get("original_key"),
    ), kw.get("status", 200)


def _kind(value: str | None) -> str:
    if value not in TYPES:
        abort(400)
    return value


@bp.route(
    "/<city_slug>/surveys/<int:survey_id>/pages/<int:number>/questions/new", methods=["GET", "POST"]
)
@login_required
def new_question(city_slug: str, survey_id: int, number: int):
    page = number - 1  # pages are numbered from 1 in addresses
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    definition = working_version(survey).definition
    position = len(_page_or_404(definition, page)["questions"])
    if request.method == "GET":
        kind = _kind(request.args.get("type", "single_choice"))
        key = _free_key(set(all_questions(definition)), "q")
        return _question_form(survey, page, position, {"key": key, "type": kind}, is_new=True)
    kind = _kind(request.form.get("type"))
    question = read_question(request.form, kind, city.enabled_locales, all_questions(definition))
    errors = save_change(survey, lambda d: d["pages"][page]["questions"].append(question))
    if errors is None:
        flash(_("The question is added."), "success")
        return to_survey(survey, f"question-{question['key']}")
    typed = read_condition(request.form, all_questions(definition))[1]
    placed = place_errors(errors, f"pages.{page}.questions.{position}")
    return _question_form(survey, page, position, question, placed, typed, is_new=True, status=422)


def _renamed(condition: object, old: str, new: str) -> None:
    """Make a condition that tests question ``old`` test ``new`` (a question's key changed)."""
    if not isinstance(condition, dict):
        return
    for group in ("all", "any"):
        for item in condition.get(group) or []:
            _renamed(item, old, new)
    if condition.get("question") == old:
        condition["question"] = new


def _question_or_404(survey: Survey, key: str) -> tuple[int, int, dict]:
    if not KEY.fullmatch(key):
        raise NotFound()
    definition = working_version(survey).definition
    page, position = find_question(definition, key)
    return page, position, definition["pages"][page]["questions"][position]


@bp.route("/<city_slug>/surveys/<int:survey_id>/questions/<key>", methods=["GET", "POST"])
@login_required
def edit_question(city_slug: str, survey_id: int, key: str):
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    page, position, current = _question_or_404(survey, key)
    if request.method == "GET":
        return _question_form(survey, page, position, current, original_key=key)
    kind = _kind(request.form.get("type"))
    everything = all_questions(working_version(survey).definition)
    question = read_question(request.form, kind, city.enabled_locales, everything)

    def change(definition: dict) -> None:
        definition["pages"][page]["questions"][position] = question
        if question["key"] and question["key"] != key:
            # Conditions follow the question when its key changes.
            for each in definition["pages"]:
                _renamed(each.get("show_if"), key, question["key"])
                for other in each["questions"]:
                    _renamed(other.get("show_if"), key, question["key"])

    errors = save_change(survey, change)
    if errors is None:
        flash(_("Your changes are saved."), "success")
        return to_survey(survey, f"question-{question['key']}")
    typed = read_condition(request.form, everything)[1]
    placed = place_errors(errors, f"pages.{page}.questions.{position}")
    return _question_form(
        survey, page, position, question, placed, typed, original_key=key, status=422
    )


@bp.post("/<city_slug>/surveys/<int:survey_id>/questions/<key>/move")
@login_required
def move_question(city_slug: str, survey_id: int, key: str):
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    page, position, _question = _question_or_404(survey, key)
    direction = request.form.get("direction")
    if direction not in _MOVES:
        abort(400)

    def change(definition: dict) -> None:
        pages = definition["pages"]
        questions = pages[page]["questions"]
        moved = questions.pop(position)
        if direction == "up" and position > 0:
            questions.insert(position - 1, moved)
        elif direction == "up" and page > 0:
            pages[page - 1]["questions"].append(moved)  # to the end of the page before
        elif direction == "down" and position < len(questions):
            questions.insert(position + 1, moved)
        elif direction == "down" and page + 1 < len(pages):
            pages[page + 1]["questions"].insert(0, moved)  # to the start of the next page
        else:
            questions.insert(position, moved)  # already first or last: stays

    errors = save_change(survey, change)
    if errors:
        flash(_("The question cannot move there:"), "error")
        flash_errors(errors)
    return to_survey(survey, f"question-{key}")


@bp.route("/<city_slug>/surveys/<int:survey_id>/questions/<key>/delete", methods=["GET", "POST"])
@login_required
def delete_question(city_slug: str, survey_id: int, key: str):
    """Asks first (GET), then deletes the question from the draft (POST)."""
    city = manage_city(city_slug)
    survey = survey_or_404(city, survey_id)
    page, position, question = _question_or_404(survey, key)
    if request.method == "GET":
        return render_template(
            "console/survey_question_delete.html",
            city=city,
            survey=survey,
            question=question,
            type_names=TYPE_NAMES,
        )
    errors = save_change(survey, lambda d: d["pages"][page]["questions"].pop(position))
    if errors:
        flash(_("The question cannot be deleted:"), "error")
        flash_errors(errors)
        return to_survey(survey, f"question-{key}")
    flash(_("The question is deleted."), "success")
    return to_survey(survey, f"page-{page + 1}")
