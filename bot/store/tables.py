"""The schema, as SQLAlchemy Core tables. Alembic migrations under `migrations/` create it.

Timestamps are float epoch seconds (UTC): one representation that sorts and compares the
same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),
    # Webhook jobs: X-GitHub-Delivery. Unique for ever, so a redelivery is never run twice.
    sa.Column("delivery_id", sa.String(80), nullable=True, unique=True),
    # Scheduled jobs: at most one pending job per key; cleared when the job finishes.
    sa.Column("singleton_key", sa.String(200), nullable=True, unique=True),
    sa.Column("event", sa.String(80), nullable=True),
    sa.Column("installation_id", sa.BigInteger, nullable=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("run_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(80), nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Index("ix_jobs_state_run_at", "state", "run_at"),
)

installations = sa.Table(
    "installations",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_login", sa.String(100), nullable=False),
    sa.Column("account_type", sa.String(20), nullable=False),
    sa.Column("repository_selection", sa.String(20), nullable=True),
    sa.Column("suspended_at", sa.Float, nullable=True),
    sa.Column("deleted_at", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

installation_repos = sa.Table(
    "installation_repos",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("repo_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("private", sa.Boolean, nullable=False),
    sa.Column("removed_at", sa.Float, nullable=True),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_installation_repos_full_name", "full_name"),
)
