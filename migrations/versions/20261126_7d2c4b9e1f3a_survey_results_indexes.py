"""Survey results read from covering indexes: answer rows with their row, choice, value and
response; submitted responses with their language and version.

Revision ID: 7d2c4b9e1f3a
Revises: 9fd6cf33a741
Create Date: 2026-11-26 06:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d2c4b9e1f3a'
down_revision = '9fd6cf33a741'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_response_answers_results')
        batch_op.create_index(
            'ix_response_answers_results',
            ['survey_id', 'question', 'item', 'choice', 'number', 'response_id'],
            unique=False,
        )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_results')
        batch_op.create_index(
            'ix_survey_responses_results',
            ['survey_id', 'status', 'submitted_at', 'locale', 'version_id'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_results')
        batch_op.create_index(
            'ix_survey_responses_results', ['survey_id', 'status', 'submitted_at'], unique=False
        )
    with op.batch_alter_table('response_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_response_answers_results')
        batch_op.create_index(
            'ix_response_answers_results', ['survey_id', 'question', 'choice'], unique=False
        )
