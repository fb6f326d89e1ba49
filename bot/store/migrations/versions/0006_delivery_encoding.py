"""`deliveries.encoding`: how a webhook body is stored. NULL: as received; "zlib": compressed.

SQLite's writer process compresses each body (GitHub's JSON shrinks to about a fifth): every
byte stored is written twice, to the WAL before the webhook is answered and to the database
file when the WAL is copied back, and under a burst those writes, not the processor, were what
the webhook waited for. PostgreSQL compresses large values itself and stores bodies as received.

Revision ID: 0006
Revises: 0005
"""

import zlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("encoding", sa.String(16), nullable=True))


def downgrade() -> None:
    conn = op.get_bind()
    deliveries = sa.table("deliveries", sa.column("job_id"), sa.column("body", sa.LargeBinary),
                          sa.column("encoding"))
    for job_id, body in conn.execute(sa.select(deliveries.c.job_id, deliveries.c.body)
                                     .where(deliveries.c.encoding == "zlib")).all():
        conn.execute(deliveries.update().where(deliveries.c.job_id == job_id)
                     .values(body=zlib.decompress(body), encoding=None))
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("encoding")
