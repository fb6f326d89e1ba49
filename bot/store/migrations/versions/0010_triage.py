"""Issue 18 (triage card): the card Secbot made for each new report, kept for `secbot reports`
and `secbot show`, whether or not it was also posted in a private tracker issue. One per report;
the first one kept wins (a retry or a second replica keeps the same card).

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_cards",
        sa.Column("report_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("card", sa.Text, nullable=False),  # JSON: the checked claims and their evidence
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("triage_cards")
