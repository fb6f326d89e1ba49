"""Report lifecycle: severity vector, target date, fixed version, pause, tracker issue, milestones.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("cvss", sa.String(200)),
    ("eta", sa.String(10)),
    ("fixed_version", sa.String(100)),
    ("paused_until", sa.Float),
    ("tracker_repo", sa.String(200)),
    ("tracker_number", sa.Integer),
    ("acknowledged_at", sa.Float),
    ("accepted_at", sa.Float),
    ("fixed_at", sa.Float),
    ("closed_at", sa.Float),
)


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.create_index("ix_reports_ghsa", "reports", ["ghsa_id"])
    op.create_index("ix_reports_tracker", "reports", ["tracker_repo", "tracker_number"])


def downgrade() -> None:
    op.drop_index("ix_reports_tracker", table_name="reports")
    op.drop_index("ix_reports_ghsa", table_name="reports")
    with op.batch_alter_table("reports") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
