"""Reports, their timeline, once-only actions, and cached facts.

Revision ID: 0002
Revises: 0001

The tables are defined here as they were at this revision (later changes get migrations of
their own), and created with the connection Alembic hands in.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_metadata = sa.MetaData()
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# A security report Secbot follows: found in a public issue or comment, or reported privately.
reports = sa.Table(
    "reports",
    _metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    # "issue:owner/repo#12", "comment:owner/repo:123456", "advisory:owner/repo:GHSA-...": one report per source.
    sa.Column("source_key", sa.String(300), nullable=False, unique=True),
    sa.Column("source", sa.String(16), nullable=False),  # issue | comment | advisory
    sa.Column("installation_id", sa.BigInteger, nullable=True),
    sa.Column("repo", sa.String(200), nullable=False),  # owner/name
    sa.Column("issue_number", sa.Integer, nullable=True),
    sa.Column("comment_id", sa.BigInteger, nullable=True),
    sa.Column("ghsa_id", sa.String(40), nullable=True),
    sa.Column("reporter", sa.String(100), nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),  # vulnerability | beg_bounty
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),  # JSON list of signal names (never report text)
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("severity", sa.String(20), nullable=True),
    sa.Column("reject_reason", sa.String(30), nullable=True),
    # For `hide` and its undo. The store is private; this text never goes anywhere public.
    sa.Column("original_title", sa.Text, nullable=True),
    sa.Column("original_body", sa.Text, nullable=True),
    sa.Column("draft_ghsa_id", sa.String(40), nullable=True),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("linked_report_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_reports_repo_state", "repo", "state"),
    sa.Index("ix_reports_reporter", "reporter"),
)

# What happened to a report, in order: who, when, what, why.
report_events = sa.Table(
    "report_events",
    _metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("report_id", sa.BigInteger, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(100), nullable=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),  # JSON, never report text
    sa.Index("ix_report_events_report", "report_id", "at"),
)

# Writes to GitHub that must happen once: the key names the write, the result what it made.
actions = sa.Table(
    "actions",
    _metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("report_id", sa.BigInteger, nullable=True),
    sa.Column("result", sa.Text, nullable=True),  # JSON: ids of what was created
    sa.Column("at", sa.Float, nullable=False),
)

# Answers worth remembering between events: private-reporting status, collaborator permissions.
facts = sa.Table(
    "facts",
    _metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


TABLES = (reports, report_events, actions, facts)


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
