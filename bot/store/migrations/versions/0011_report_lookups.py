"""Reports are looked up by repository, tracker issue, advisory and reporter without regard to
case (GitHub's names are case-insensitive; bot/store/reports.py compares lower(column)), and an
index on a column is no use to lower(column): each such lookup read every report. At 100,000
reports such a lookup took 11-24 ms (median; bench/scheduler.py). Indexes on the
lowered columns replace the plain ones, which nothing used.

The tracker and advisory columns are empty (NULL) on most reports. An index of them all, once
the statistics are read (ANALYZE, `PRAGMA optimize`), looks to SQLite's planner as if every
report had the same value, and it reads the table instead: so those indexes hold only the
reports that have one (partial), and the lookups say `IS NOT NULL` so that they may use them.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# name: columns (an expression as SQL text), and the column a partial index holds only when set;
# the same as bot/store/tables.py.
INDEXES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "ix_reports_repo_issue": (("lower(repo)", "issue_number"), None),
    "ix_reports_repo_created": (("lower(repo)", "created_at"), None),
    "ix_reports_tracker_lower": (("lower(tracker_repo)", "tracker_number"), "tracker_repo"),
    "ix_reports_ghsa_lower": (("lower(ghsa_id)",), "ghsa_id"),
    "ix_reports_draft_ghsa_lower": (("lower(draft_ghsa_id)",), "draft_ghsa_id"),
    "ix_reports_installation_reporter": (("installation_id", "lower(reporter)", "created_at"), None),
}
# The plain indexes they replace (0002, 0003), as they were.
PLAIN = {
    "ix_reports_repo_state": ("repo", "state"),
    "ix_reports_reporter": ("reporter",),
    "ix_reports_ghsa": ("ghsa_id",),
    "ix_reports_tracker": ("tracker_repo", "tracker_number"),
}


def _columns(columns: tuple[str, ...]) -> list[object]:
    return [sa.text(c) if "(" in c else c for c in columns]


def upgrade() -> None:
    for name in PLAIN:
        op.drop_index(name, table_name="reports")
    for name, (columns, set_only) in INDEXES.items():
        where = {} if set_only is None else {f"{dialect}_where": sa.text(f"{set_only} IS NOT NULL")
                                             for dialect in ("sqlite", "postgresql")}
        op.create_index(name, "reports", _columns(columns), **where)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="reports")
    for name, columns in PLAIN.items():
        op.create_index(name, "reports", list(columns))
