"""Maintainers' feedback on verdicts (`/sec confirm`, `/sec hide`, `/sec not-security`), and room
for the new report sources (`discussion_comment` is longer than 16 characters).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("report_id", sa.BigInteger, nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("label", sa.String(20), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Index("ix_feedback_repo_id", "repo", "id"),
    )
    with op.batch_alter_table("reports") as batch:
        batch.alter_column("source", type_=sa.String(32), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.alter_column("source", type_=sa.String(16), existing_nullable=False)
    op.drop_table("feedback")
