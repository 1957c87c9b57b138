"""Helpers for console tests: CSRF tokens are read from real pages, as a browser would."""

import re

from tests.conftest import PASSWORD

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LOGIN = "/console/login"


def token_in(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def csrf_token(client, page: str = LOGIN) -> str:
    """The CSRF token of the client's session, taken from a form on ``page``."""
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    return token_in(response.get_data(as_text=True))


def post_form(client, path: str, data: dict | None = None, page: str = LOGIN):
    """POST a console form with the session's CSRF token, as the browser would send it."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page)})


def sign_in(client, user, password: str = PASSWORD):
    response = post_form(client, LOGIN, {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def html(response) -> str:
    return response.get_data(as_text=True)


def redirects_to_login(response) -> bool:
    return response.status_code == 302 and response.location.startswith(LOGIN)


def campaign_data(**changes) -> dict:
    """A complete campaign form for Lyon (fr, en); ``None`` leaves a field out."""
    data = {
        "slug": "block-7",
        "title-fr": "Rénovation de l'îlot 7",
        "title-en": "Renovating block 7",
        "summary-fr": "Isolation et cours partagées.",
        "summary-en": "Insulation and shared courtyards.",
        "description-fr": "Première ligne.\r\nDeuxième ligne.",
        "description-en": "First line.\r\nSecond line.",
        "cover_image_url": "https://images.example.org/block-7.jpg",
        "cover_alt-fr": "La cour de l'îlot 7",
        "cover_alt-en": "The courtyard of block 7",
        "phase-0-title-fr": "Information",
        "phase-0-title-en": "Information",
        "phase-0-starts_at": "2030-06-01T09:00",
        "phase-0-ends_at": "2030-06-30T18:00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
