"""Issue 19 (transparency): a report's CVE, its reward and its publication embargo.

`cve_id`: the CVE GitHub assigned to the report's advisory (after `/sec cve`, or set by hand), as
last seen. `reward`: what the maintainers decided to give the reporter (`/sec reward`), in their
words; it goes only to the reporter and the maintainers. `embargo_until`: `/sec embargo until
DATE`, the day before which no publish-when-fixed reminder is sent.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("cve_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("reward", sa.Text, nullable=True))
        batch.add_column(sa.Column("embargo_until", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("embargo_until")
        batch.drop_column("reward")
        batch.drop_column("cve_id")
