import pytest

from tests.surveys.helpers import make_survey


@pytest.fixture
def survey_of(db_session, moderator, campaign):
    """A published survey of the campaign with the given settings."""

    def make(**settings):
        return make_survey(db_session, moderator, campaign, **settings)

    return make
