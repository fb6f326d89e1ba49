"""The schema, as SQLAlchemy Core tables. Alembic migrations under `migrations/` create it.

Timestamps are float epoch seconds (UTC): one representation that sorts and compares the
same on SQLite and PostgreSQL.

Changing a table means a new migration under migrations/versions; each migration keeps its
own copy of what it creates, so these definitions describe only the newest schema.
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
    # Scheduled jobs: their (small) JSON arguments. Webhook jobs: empty; the body is in `deliveries`.
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
    # Lanes (0009, bot/rules/lanes.py): 0 reports, 1 public texts, 2 later. Claims go by `pick_at`,
    # `run_at` less the lane's head start, so sooner lanes go first and waiting jobs age.
    sa.Column("lane", sa.SmallInteger, nullable=False, server_default="2"),
    sa.Column("pick_at", sa.Float, nullable=False, server_default="0"),
    sa.Index("ix_jobs_state_run_at", "state", "run_at"),
    sa.Index("ix_jobs_state_pick_at", "state", "pick_at"),
)

# The body of each webhook delivery, exactly as GitHub sent it (0005). Apart from its job row so
# that claiming and finishing the job, which rewrite that row, do not rewrite kilobytes of JSON
# each time. Deleted with its job (housekeeping).
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("job_id", BigId, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    # NULL: the body as received; "zlib": compressed (SQLite's writer process, see migration 0006).
    sa.Column("encoding", sa.String(16), nullable=True),
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

# A security report Secbot follows: found in a public issue or comment, or reported privately.
reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    # "issue:owner/repo#12", "comment:owner/repo:123456", "advisory:owner/repo:GHSA-...": one report per source.
    sa.Column("source_key", sa.String(300), nullable=False, unique=True),
    sa.Column("source", sa.String(32), nullable=False),  # issue | comment | discussion | discussion_comment | pull_request | advisory
    sa.Column("installation_id", sa.BigInteger, nullable=True),
    sa.Column("repo", sa.String(200), nullable=False),  # owner/name
    sa.Column("issue_number", sa.Integer, nullable=True),
    sa.Column("comment_id", sa.BigInteger, nullable=True),
    sa.Column("ghsa_id", sa.String(40), nullable=True),
    sa.Column("reporter", sa.String(100), nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),  # vulnerability | possible | beg_bounty | phishing | unclassified
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
    # Lifecycle (0003).
    sa.Column("cvss", sa.String(200), nullable=True),
    sa.Column("eta", sa.String(10), nullable=True),  # target fix date, YYYY-MM-DD
    sa.Column("fixed_version", sa.String(100), nullable=True),
    sa.Column("paused_until", sa.Float, nullable=True),  # > now: timers paused; inf-like 1e12: until resumed
    sa.Column("tracker_repo", sa.String(200), nullable=True),
    sa.Column("tracker_number", sa.Integer, nullable=True),
    sa.Column("acknowledged_at", sa.Float, nullable=True),
    sa.Column("accepted_at", sa.Float, nullable=True),
    sa.Column("fixed_at", sa.Float, nullable=True),
    sa.Column("closed_at", sa.Float, nullable=True),  # published or rejected
    # Transparency (0008).
    sa.Column("cve_id", sa.String(40), nullable=True),  # as GitHub assigned it to the advisory
    sa.Column("reward", sa.Text, nullable=True),  # `/sec reward`: the maintainers' words, private
    sa.Column("embargo_until", sa.Float, nullable=True),  # `/sec embargo until`: no publish reminder before
)
# Reports are looked up by lower(column) (bot/store/reports.py): indexes on the lowered columns (0011).
sa.Index("ix_reports_repo_issue", sa.func.lower(reports.c.repo), reports.c.issue_number)
sa.Index("ix_reports_repo_created", sa.func.lower(reports.c.repo), reports.c.created_at)
# Those of columns most reports leave empty hold only the reports that have one (see 0011).
sa.Index("ix_reports_tracker_lower", sa.func.lower(reports.c.tracker_repo), reports.c.tracker_number,
         sqlite_where=reports.c.tracker_repo.is_not(None), postgresql_where=reports.c.tracker_repo.is_not(None))
sa.Index("ix_reports_ghsa_lower", sa.func.lower(reports.c.ghsa_id),
         sqlite_where=reports.c.ghsa_id.is_not(None), postgresql_where=reports.c.ghsa_id.is_not(None))
sa.Index("ix_reports_draft_ghsa_lower", sa.func.lower(reports.c.draft_ghsa_id),
         sqlite_where=reports.c.draft_ghsa_id.is_not(None), postgresql_where=reports.c.draft_ghsa_id.is_not(None))
sa.Index("ix_reports_installation_reporter", reports.c.installation_id, sa.func.lower(reports.c.reporter),
         reports.c.created_at)

# What happened to a report, in order: who, when, what, why.
report_events = sa.Table(
    "report_events",
    metadata,
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
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("report_id", sa.BigInteger, nullable=True),
    sa.Column("result", sa.Text, nullable=True),  # JSON: ids of what was created
    sa.Column("at", sa.Float, nullable=False),
)

# Answers worth remembering between events: private-reporting status, collaborator permissions.
facts = sa.Table(
    "facts",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# Content-creation budget (bot/github/budget.py): writes counted per installation in fixed windows.
# One row per installation, window length (60 or 3600 s) and window start; ended windows are pruned.
write_budget = sa.Table(
    "write_budget",
    metadata,
    sa.Column("installation_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("span", sa.Integer, primary_key=True, autoincrement=False),  # window length in seconds
    sa.Column("window_start", sa.BigInteger, primary_key=True, autoincrement=False),  # epoch s, a multiple of span
    sa.Column("count", sa.Integer, nullable=False),
)

# Maintainers' answers to verdicts (0007): `/sec confirm` and `/sec hide` (a report), `/sec
# not-security` (a false alarm). The per-repository memory (bot/rules/memory.py) reads the feature
# names; `secbot feedback export` writes rows out for retraining. The text is kept only for that
# export and deleted by housekeeping after SECBOT_KEEP_DONE_DAYS.
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, unique=True),  # one answer per report and label
    sa.Column("repo", sa.String(200), nullable=False),
    sa.Column("report_id", sa.BigInteger, nullable=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("label", sa.String(20), nullable=False),  # security | not_security
    sa.Column("verdict", sa.String(20), nullable=False),  # the classifier's verdict that was answered
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),  # JSON list of signal names
    sa.Column("features", sa.Text, nullable=False),  # JSON list of feature names (signals, hashed word pairs)
    sa.Column("title", sa.Text, nullable=True),  # private; NULL once past retention
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("actor", sa.String(100), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_feedback_repo_id", "repo", "id"),
)

# The triage card of a report (0010): claims checked against the repository, identifiers,
# duplicates, substance, the reporter's history, a suggested next step. Private: the card names
# what the report names (paths, symbols, versions); it is shown only to maintainers.
triage_cards = sa.Table(
    "triage_cards",
    metadata,
    sa.Column("report_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("card", sa.Text, nullable=False),  # JSON
    sa.Column("created_at", sa.Float, nullable=False),
)
