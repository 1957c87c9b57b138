import pytest

from app.models import Role
from tests.surveys.helpers import make_survey, published_campaign


@pytest.fixture
def moderator(lyon, make_user):
    return make_user(lyon, role=Role.MODERATOR)


@pytest.fixture
def resident(lyon, make_user):
    return make_user(lyon)


@pytest.fixture
def campaign(db_session, moderator, lyon):
    return published_campaign(db_session, moderator, lyon)


@pytest.fixture
def survey_of(db_session, moderator, campaign):
    """A published survey of the campaign with the given settings."""

    def make(**settings):
        return make_survey(db_session, moderator, campaign, **settings)

    return make
