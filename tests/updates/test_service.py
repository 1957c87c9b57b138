"""Updates through their services and the scheduler's job: rich text, times, publishing once."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.models import Role, User
from app.richtext import excerpt, from_input, sanitize
from campaigns import service as campaigns
from campaigns.models import CampaignFollow
from notifications.models import Notification
from tests.conftest import session_of
from tests.crowd import at_once, live_campaign
from updates import publishing, service
from updates.jobs import publish_due
from updates.models import Update, UpdateStatus


@pytest.fixture(autouse=True)
def app_context(app, db_session):
    """Publishing renders notifications, which needs the app; every object of a test lives in
    this context's session (``db_session`` resolves to it while the context is pushed)."""
    with app.app_context():
        yield


@pytest.fixture
def staff(lyon, make_user):
    return make_user(lyon, email="staff@lyon.example", role=Role.STAFF)


@pytest.fixture
def campaign(db_session, lyon, moderator):
    made = campaigns.create_campaign(
        db_session, moderator, lyon, slug="block-7", title={"fr": "Îlot 7", "en": "Block 7"}
    )
    campaigns.publish_campaign(db_session, moderator, made)
    return made


@pytest.fixture
def make_update(db_session, lyon, staff):
    def make(city=None, actor=None, title=None, **values):
        city = city or lyon
        title = title or {city.default_locale: "Travaux", "en": "Works"}
        return service.create_update(db_session, actor or staff, city, title=title, **values)

    return make


def _told(db_session, update) -> list[int]:
    """Ids of the people told about ``update``, in order."""
    db_session.expire_all()
    return list(
        db_session.scalars(
            sa.select(Notification.user_id)
            .where(Notification.dedupe_key == f"update:{update.id}")
            .order_by(Notification.user_id)
        )
    )


# --- rich text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">link</a>',
        '<a href="JaVaScRiPt:alert(1)">link</a>',
        '<p onclick="alert(1)" style="color:red">text</p>',
        "<style>p { display: none }</style>",
        '<iframe src="https://evil.example"></iframe>',
        '<svg onload="alert(1)"></svg>',
    ],
)
def test_sanitising_removes_what_could_run(dangerous):
    clean = sanitize(f"<p>Before</p>{dangerous}<p>After</p>")
    for needle in ("script", "onerror", "onclick", "javascript", "style", "<img", "iframe", "svg"):
        assert needle not in clean.lower()
    assert clean.startswith("<p>Before</p>") and clean.endswith("<p>After</p>")


def test_sanitising_keeps_the_allowed_markup_and_protects_links():
    html = (
        '<h2>Title</h2><p><strong>bold</strong> <em>it</em> <a href="https://lyon.fr/x" '
        'target="_blank" rel="opener">site</a> <a href="mailto:a@lyon.fr">mail</a></p>'
        "<ul><li>one</li></ul><blockquote>q</blockquote><pre><code>c</code></pre>"
    )
    clean = sanitize(html)
    assert '<a href="https://lyon.fr/x" rel="noopener noreferrer">site</a>' in clean
    assert '<a href="mailto:a@lyon.fr" rel="noopener noreferrer">mail</a>' in clean
    assert "target" not in clean and "opener" not in clean.replace("noopener", "")
    for tag in ("<h2>", "<strong>", "<em>", "<ul><li>", "<blockquote>", "<pre><code>"):
        assert tag in clean
    # Relative links have nowhere to go in the app.
    assert "href" not in sanitize('<a href="/console/admin">x</a>')


def test_plain_text_becomes_paragraphs_and_excerpts_read_as_text():
    assert from_input("One\r\nline two\r\n\r\nFish & <chips") == (
        "<p>One<br>line two</p><p>Fish &amp; &lt;chips</p>"
    )
    assert (
        excerpt("<p>Hello&nbsp;world &amp; all</p><ul><li>one</li></ul><script>x()</script>")
        == "Hello world & all one"
    )
    long = excerpt("<p>" + "word " * 100 + "</p>", 30)
    assert len(long) <= 30 and long.endswith("word…")


# --- writing --------------------------------------------------------------------------------


def test_a_new_update_is_a_draft_with_a_sanitised_body(make_update, staff, lyon):
    update = make_update(
        body={"fr": '<p>Rue fermée</p><script>alert(1)</script><a href="https://lyon.fr">plan</a>'},
        image_url="https://images.example.org/rue.jpg",
        image_alt={"fr": "La rue"},
    )
    assert update.status == UpdateStatus.DRAFT and update.city_id == lyon.id
    assert update.created_by_id == staff.id
    assert update.body == {
        "fr": '<p>Rue fermée</p><a href="https://lyon.fr" rel="noopener noreferrer">plan</a>'
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": {"en": "Only English"}}, "title"),
        ({"title": {"fr": "Titre", "de": "Nicht hier"}}, "title"),
        ({"title": {"fr": "x" * 201}}, "title"),
        ({"body": {"fr": "x" * 20_001}}, "body"),
        ({"body": {"ja": "こんにちは"}}, "body"),
        (
            {"image_url": "http://images.example.org/plain.jpg", "image_alt": {"fr": "x"}},
            "image_url",
        ),
        ({"image_url": "javascript:alert(1)", "image_alt": {"fr": "x"}}, "image_url"),
        ({"image_url": "https://[::1/a.jpg", "image_alt": {"fr": "x"}}, "image_url"),
        ({"image_url": "https://example.org/" + "a" * 500, "image_alt": {"fr": "x"}}, "image_url"),
        ({"image_url": "https://images.example.org/a.jpg"}, "image_alt"),
        ({"image_url": "https://images.example.org/a.jpg", "image_alt": {"en": "x"}}, "image_alt"),
        ({"image_alt": {"fr": "x" * 301}}, "image_alt"),
        ({"campaign_id": 2_000_000}, "campaign"),
    ],
)
def test_input_the_service_refuses(make_update, values, field):
    with pytest.raises(Invalid) as refused:
        make_update(**{"title": {"fr": "Titre"}, **values})
    assert field in refused.value.errors


def test_the_campaign_must_be_of_the_same_city_and_not_archived(
    db_session, make_update, vienna, make_user, campaign, moderator
):
    wien = make_user(vienna, role=Role.MODERATOR)
    other = campaigns.create_campaign(db_session, wien, vienna, slug="wien", title={"de": "W"})
    with pytest.raises(Invalid) as refused:
        make_update(campaign_id=other.id)
    assert "campaign" in refused.value.errors
    campaigns.archive_campaign(db_session, moderator, campaign)
    with pytest.raises(Invalid) as refused:
        make_update(campaign_id=campaign.id)
    assert "campaign" in refused.value.errors


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.RESEARCHER, None])
def test_only_staff_and_admins_write_updates(make_update, lyon, make_user, role):
    with pytest.raises(NotAllowed if role else NotFound):
        make_update(actor=make_user(lyon, role=role))


def test_staff_of_another_city_do_not_even_see_it(make_update, vienna, make_user, lyon):
    update = make_update()
    with pytest.raises(NotFound):
        service.get_update(db.session, make_user(vienna, role=Role.STAFF), lyon, update.id)


def test_admins_and_platform_admins_write_updates_too(make_update, lyon, vienna, make_user):
    assert make_update(actor=make_user(lyon, role=Role.ADMIN)).id
    assert make_update(actor=make_user(vienna, platform_admin=True)).id


# --- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # Summer time (UTC+2) and winter time (UTC+1) in Paris.
        (datetime(2030, 7, 1, 10, 0), datetime(2030, 7, 1, 8, 0, tzinfo=UTC)),
        (datetime(2030, 1, 15, 10, 0), datetime(2030, 1, 15, 9, 0, tzinfo=UTC)),
        # Just before and after the clocks go forward on 31 March 2030.
        (datetime(2030, 3, 31, 1, 59), datetime(2030, 3, 31, 0, 59, tzinfo=UTC)),
        (datetime(2030, 3, 31, 3, 0), datetime(2030, 3, 31, 1, 0, tzinfo=UTC)),
        # 02:30 happens twice on 27 October 2030: the first time, still in summer time.
        (datetime(2030, 10, 27, 2, 30), datetime(2030, 10, 27, 0, 30, tzinfo=UTC)),
    ],
)
def test_local_times_in_paris_become_the_right_instant(lyon, local, utc):
    assert publishing.from_city_time(lyon, local) == utc


def test_a_time_the_clocks_skip_is_refused(lyon):
    with pytest.raises(Invalid) as refused:
        publishing.from_city_time(lyon, datetime(2030, 3, 31, 2, 30))
    assert "Europe/Paris" in refused.value.errors["publish_at"][0]


def test_only_a_time_that_happens_twice_is_ambiguous(lyon):
    assert publishing.is_ambiguous(lyon, datetime(2030, 10, 27, 2, 30))
    assert not publishing.is_ambiguous(lyon, datetime(2030, 10, 27, 3, 30))
    assert not publishing.is_ambiguous(lyon, datetime(2030, 7, 1, 2, 30))


def test_scheduling_stores_utc_and_refuses_the_past(db_session, make_update, staff, lyon):
    update = make_update()
    now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(Invalid):
        publishing.schedule_update(db_session, staff, update, now - timedelta(minutes=1), now)
    when = publishing.from_city_time(lyon, datetime(2030, 7, 1, 10, 0))
    publishing.schedule_update(db_session, staff, update, when, now)
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Update, update.id)
    assert stored.status == UpdateStatus.SCHEDULED
    assert stored.publish_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)
    # Rescheduling is fine; a published update must be unpublished first.
    publishing.schedule_update(db_session, staff, stored, when + timedelta(days=1), now)
    publishing.publish_update(db_session, staff, stored)
    with pytest.raises(Conflict):
        publishing.schedule_update(db_session, staff, stored, when, now)


# --- publishing and telling people ----------------------------------------------------------


@pytest.fixture
def followers(db_session, lyon, vienna, make_user, campaign):
    """Two followers, a disabled follower, a follower living elsewhere, and a non-follower."""
    people = {
        "marie": make_user(lyon, locale="fr"),
        "john": make_user(lyon, locale="en"),
        "disabled": make_user(lyon),
        "moved": make_user(vienna),
        "other": make_user(lyon),
    }
    people["disabled"].disabled_at = utcnow()
    for name in ("marie", "john"):
        campaigns.follow_campaign(db_session, people[name], campaign.slug)
    for name in ("disabled", "moved"):
        db_session.add(CampaignFollow(user_id=people[name].id, campaign_id=campaign.id))
    db_session.flush()
    return people


def test_the_job_publishes_only_what_is_due(db_session, make_update, staff, campaign, moderator):
    now = utcnow()
    due = make_update()
    later = make_update()
    draft = make_update()
    waiting = make_update(campaign_id=campaign.id)
    for update, at in ((due, now + timedelta(minutes=5)), (later, now + timedelta(hours=2))):
        publishing.schedule_update(db_session, staff, update, at, now)
    publishing.schedule_update(db_session, staff, waiting, now + timedelta(minutes=1), now)
    campaigns.archive_campaign(db_session, moderator, campaign)
    db_session.commit()

    assert publish_due(db_session, now) == 0
    assert publish_due(db_session, now + timedelta(minutes=10)) == 1
    db_session.expire_all()
    assert db_session.get(Update, due.id).status == UpdateStatus.PUBLISHED
    assert db_session.get(Update, due.id).published_at == now + timedelta(minutes=10)
    assert db_session.get(Update, later.id).status == UpdateStatus.SCHEDULED
    assert db_session.get(Update, draft.id).status == UpdateStatus.DRAFT
    # The campaign is archived: its update waits rather than tell people about nothing.
    assert db_session.get(Update, waiting.id).status == UpdateStatus.SCHEDULED


def test_a_campaign_update_tells_its_followers_once(
    db_session, make_update, staff, campaign, followers
):
    update = make_update(
        campaign_id=campaign.id,
        title={"fr": "Échafaudages lundi", "en": "Scaffolding on Monday"},
        body={"fr": "<p>Le chantier commence.</p>", "en": "<p>Work starts.</p>"},
    )
    now = utcnow()
    publishing.schedule_update(db_session, staff, update, now + timedelta(minutes=1), now)
    db_session.commit()
    later = now + timedelta(minutes=2)
    assert publish_due(db_session, later) == 1
    assert publish_due(db_session, later) == 0  # run twice: nothing more
    told = _told(db_session, update)
    assert told == sorted([followers["marie"].id, followers["john"].id])

    by_user = {
        n.user_id: n
        for n in db_session.scalars(
            sa.select(Notification).where(Notification.kind == "update.published")
        )
    }
    marie, john = by_user[followers["marie"].id], by_user[followers["john"].id]
    assert marie.subject == "Îlot 7\u00a0: Échafaudages lundi"  # French puts a space before ":"
    assert john.subject == "Block 7: Scaffolding on Monday"
    assert "Work starts." in john.body_text and "Le chantier commence." in marie.body_html
    assert marie.data == {"update_id": update.id}

    # Unpublished for a correction and published again: it keeps its date, nobody is told twice.
    first = db_session.get(Update, update.id).published_at
    publishing.unpublish_update(db_session, staff, update)
    publishing.publish_update(db_session, staff, update, now + timedelta(hours=1))
    db_session.commit()
    assert _told(db_session, update) == told
    assert db_session.get(Update, update.id).published_at == first


def test_notifications_show_texts_as_text(db_session, make_update, staff, lyon, make_user):
    reader = make_user(lyon, locale="fr")
    update = make_update(
        title={"fr": "<b>Travaux</b> & <script>alert(1)</script>"},
        body={"fr": "<p>Rue <em>fermée</em></p>"},
    )
    publishing.publish_update(db_session, staff, update)
    told = db_session.scalar(sa.select(Notification).where(Notification.user_id == reader.id))
    assert "<script>" not in told.body_html and "<b>" not in told.body_html
    assert "&lt;b&gt;Travaux&lt;/b&gt; &amp; &lt;script&gt;" in told.body_html
    assert told.subject == "<b>Travaux</b> & <script>alert(1)</script>"  # plain text, as typed
    assert told.body_text.strip() == "Rue fermée"


def test_a_city_wide_update_tells_the_whole_city_and_nobody_elsewhere(
    db_session, make_update, staff, lyon, vienna, make_user
):
    lyon_people = [make_user(lyon) for _ in range(3)]
    for _ in range(2):
        make_user(vienna)
    update = make_update()
    publishing.publish_update(db_session, staff, update)
    db_session.commit()
    lyon_ids = set(db_session.scalars(sa.select(User.id).where(User.city_id == lyon.id)))
    assert set(_told(db_session, update)) == lyon_ids
    assert {p.id for p in lyon_people} <= lyon_ids


def test_a_campaign_update_waits_for_its_campaign(db_session, lyon, moderator, make_update, staff):
    draft = campaigns.create_campaign(db_session, moderator, lyon, slug="soon", title={"fr": "B"})
    update = make_update(campaign_id=draft.id)
    with pytest.raises(Conflict):
        publishing.publish_update(db_session, staff, update)
    now = utcnow()
    publishing.schedule_update(db_session, staff, update, now + timedelta(minutes=1), now)
    db_session.commit()
    assert publish_due(db_session, now + timedelta(minutes=5)) == 0
    campaigns.publish_campaign(db_session, moderator, draft)
    db_session.commit()
    assert publish_due(db_session, now + timedelta(minutes=6)) == 1


def test_the_audience_is_fixed_once_people_were_told(db_session, make_update, staff, campaign):
    update = make_update()
    service.edit_update(db_session, staff, update, campaign_id=campaign.id)
    service.edit_update(db_session, staff, update, campaign_id=None)
    publishing.publish_update(db_session, staff, update)
    with pytest.raises(Invalid) as refused:
        service.edit_update(db_session, staff, update, campaign_id=campaign.id)
    assert "campaign" in refused.value.errors
    # Texts may still be corrected.
    service.edit_update(db_session, staff, update, title={"fr": "Corrigé"})
    assert update.title == {"fr": "Corrigé"}


def test_unpublishing_needs_something_published(db_session, make_update, staff):
    update = make_update()
    with pytest.raises(Conflict):
        publishing.unpublish_update(db_session, staff, update)
    publishing.publish_update(db_session, staff, update)
    with pytest.raises(Conflict):
        publishing.publish_update(db_session, staff, update)
    publishing.unpublish_update(db_session, staff, update)
    assert update.status == UpdateStatus.DRAFT


# --- two schedulers at once, on a database committed for real -------------------------------


def test_two_schedulers_at_once_tell_each_follower_once(committed_app):
    live = committed_app
    now = utcnow()
    with session_of(live) as session:
        city, root, people, campaign = live_campaign(session, 20)
        for person in people:
            campaigns.follow_campaign(session, person, "c")
        for i in range(5):
            update = service.create_update(
                session,
                root,
                city,
                title={"fr": f"U{i}"},
                campaign_id=campaign.id if i % 2 else None,
            )
            publishing.schedule_update(session, root, update, now + timedelta(seconds=1), now)
        session.commit()

    def scheduler():
        with session_of(live) as session:
            return publish_due(session, now + timedelta(minutes=1))

    results, errors = at_once(4, scheduler)
    assert errors == []
    assert sum(results) == 5
    with session_of(live) as session:
        statuses = session.scalars(sa.select(Update.status)).all()
        per_person = session.execute(
            sa.select(Notification.user_id, Notification.dedupe_key, sa.func.count())
            .group_by(Notification.user_id, Notification.dedupe_key)
            .having(sa.func.count() > 1)
        ).all()
        total = session.scalar(sa.select(sa.func.count()).select_from(Notification))
    assert statuses == [UpdateStatus.PUBLISHED] * 5
    assert per_person == []
    # Three city-wide updates to 21 people, two campaign updates to its 20 followers.
    assert total == 3 * 21 + 2 * 20
