"""Interactive API docs (Swagger UI) served from the installed bundle: no CDN."""

from flask import Blueprint, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("api_docs", __name__, template_folder="templates")


@bp.get("/docs")
def show_docs():
    return render_template("api_docs.html")


@bp.get("/docs/static/<path:filename>")
def docs_static(filename: str):
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
