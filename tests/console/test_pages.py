"""What every console page must be: labelled inputs, a language, no inline script or style."""

from html.parser import HTMLParser

import pytest

from ideas import flags
from ideas.models import Idea
from tests.console.helpers import campaign_data, html, post_form
from tests.console.idea_helpers import permission_world

PAGES = [
    ("moderator", "/console/"),
    ("moderator", "/console/account"),
    ("moderator", "/console/lyon/campaigns"),
    ("moderator", "/console/lyon/campaigns/block-7"),
    ("moderator", "/console/lyon/campaigns/new"),
    ("moderator", "/console/lyon/campaigns/block-7/edit"),
    ("platform_admin", "/console/cities"),
    ("platform_admin", "/console/cities/new"),
    ("platform_admin", "/console/cities/lyon/edit"),
    ("admin", "/console/lyon/people"),
    (None, "/console/login"),
]

#: Pages of idea boards, moderation and the audit log, on the world of idea_helpers.
IDEA_PAGES = [
    ("moderator", "/console/lyon/boards"),
    ("moderator", "/console/lyon/boards/new"),
    ("moderator", "/console/lyon/boards/{board}"),
    ("moderator", "/console/lyon/boards/{board}/edit"),
    ("moderator", "/console/lyon/ideas/{idea}"),
    ("staff", "/console/lyon/ideas/{idea}"),
    ("moderator", "/console/lyon/ideas/{duplicate}/merge"),
    ("moderator", "/console/lyon/ideas/{duplicate}/merge?target={idea}"),
    ("moderator", "/console/lyon/moderation"),
    ("admin", "/console/lyon/audit"),
]


class PageAudit(HTMLParser):
    """Collects the form controls, labels and scripts of a page."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.labels: set[str] = set()
        self.inline_scripts = 0
        self.styled: list[str] = []
        self.html_lang = None
        self.h1 = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.styled.append(tag)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if attrs.get("type") not in ("hidden", "submit", "button"):
                self.controls.append(attrs)
        elif tag == "script":
            self._in_script = "src" not in attrs
            self.inline_scripts += self._in_script
        elif tag == "button" and not attrs.get("type"):
            self.controls.append({"untyped button": True})


def _audit(page: str) -> PageAudit:
    audit = PageAudit()
    audit.feed(page)
    return audit


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_every_input_has_a_label_and_nothing_runs_inline(as_person, make_campaign, who, path):
    make_campaign()
    response = as_person(who).get(path)
    assert response.status_code == 200
    audit = _audit(html(response))
    unlabelled = [c for c in audit.controls if c.get("id") not in audit.labels]
    assert unlabelled == []
    assert audit.inline_scripts == 0
    assert audit.styled == []
    assert audit.html_lang
    assert audit.h1 == 1


@pytest.mark.parametrize(("who", "path"), IDEA_PAGES)
def test_idea_pages_are_labelled_and_run_nothing_inline(as_person, people, db_session, who, path):
    ids = permission_world(db_session, people)
    idea = db_session.get(Idea, ids["idea"])
    flags.flag(db_session, people["staff"], idea, "spam", "Publicité", idea.created_at)
    db_session.commit()
    response = as_person(who).get(path.format(**ids))
    assert response.status_code == 200
    audit = _audit(html(response))
    assert [c for c in audit.controls if c.get("id") not in audit.labels] == []
    assert audit.inline_scripts == 0
    assert audit.styled == []
    assert audit.html_lang
    assert audit.h1 == 1


def test_a_form_with_errors_stays_labelled(as_person):
    response = post_form(
        as_person("moderator"), "/console/lyon/campaigns/new", campaign_data(**{"title-fr": ""})
    )
    assert response.status_code == 422
    audit = _audit(html(response))
    assert [c for c in audit.controls if c.get("id") not in audit.labels] == []
    assert any(c.get("aria-invalid") == "true" for c in audit.controls)


def test_the_script_is_served_from_our_own_origin(as_person):
    client = as_person("moderator")
    page = html(client.get("/console/lyon/campaigns/new"))
    assert '<script src="/console/static/console.js" defer></script>' in page
    response = client.get("/console/static/console.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    response.close()
    csp = client.get("/console/lyon/campaigns/new").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp


def test_the_campaign_form_works_without_script(as_person):
    """Spare phase rows are in the HTML; the script only hides and reveals them."""
    page = html(as_person("moderator").get("/console/lyon/campaigns/new"))
    for row in range(3):
        assert f'name="phase-{row}-starts_at"' in page
    assert '<button type="button" class="add-phase" hidden>' in page


def test_a_language_is_marked_missing_once_another_has_text(as_person, make_campaign):
    make_campaign(title={"fr": "Seulement en français"})
    client = as_person("moderator")
    edit = html(client.get("/console/lyon/campaigns/block-7/edit"))
    english = edit.split('for="title-en"', 1)[1].split("</label>", 1)[0]
    assert '<span class="badge badge-missing">' in english
    summary = edit.split('for="summary-en"', 1)[1].split("</label>", 1)[0]
    assert '<span class="badge badge-missing" hidden>' in summary  # no summary at all yet
    new = html(client.get("/console/lyon/campaigns/new"))
    assert '<span class="badge badge-missing">' not in new
