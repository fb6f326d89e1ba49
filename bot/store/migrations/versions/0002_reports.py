"""Reports, their timeline, once-only actions, and cached facts.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from bot.store.tables import actions, facts, report_events, reports

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (reports, report_events, actions, facts)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
