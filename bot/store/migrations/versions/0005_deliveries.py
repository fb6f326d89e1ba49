"""Webhook bodies move from `jobs.payload` into a table of their own, `deliveries`.

A job's row is rewritten when it is claimed and again when it finishes; with the body inline,
each rewrite copied the whole delivery (often over 10 KB). Scheduled jobs keep their small
JSON arguments in `jobs.payload`; for webhook jobs that column is now empty.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("job_id", BigId, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True,
                  autoincrement=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    op.execute("INSERT INTO deliveries (job_id, body) SELECT id, payload FROM jobs WHERE kind = 'webhook'")
    op.execute(sa.text("UPDATE jobs SET payload = :empty WHERE kind = 'webhook'").bindparams(
        sa.bindparam("empty", b"", type_=sa.LargeBinary)))


def downgrade() -> None:
    op.execute("UPDATE jobs SET payload = (SELECT body FROM deliveries WHERE deliveries.job_id = jobs.id) "
               "WHERE kind = 'webhook' AND EXISTS (SELECT 1 FROM deliveries WHERE deliveries.job_id = jobs.id)")
    op.drop_table("deliveries")
