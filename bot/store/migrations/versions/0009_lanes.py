"""Issue 20 (lanes): each job waits in a lane, and claims take the sooner lanes first.

`lane`: 0 reports (private reports, new public issues, discussions and pull requests, `/sec`
commands), 1 public texts (comments, edits), 2 later (everything else, scheduled work); decided
at intake from the event's name and action (bot/rules/lanes.py). `pick_at`: `run_at` less the
lane's head start (30, 10 and 0 s); claims go in its order, so a waiting job of a later lane
ages past fresh jobs of sooner ones. Index (state, pick_at) for the claim. Jobs already stored
are put in the lane their event name gives (webhooks) or in lane 2 (scheduled work).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A copy of what bot/rules/lanes.py decided when this migration was written (a migration keeps
# its own copy): by the event name alone, the lanes of webhook jobs already stored.
_REPORTS = ("repository_advisory.%", "issues.opened", "discussion.created", "pull_request.opened")
_PUBLIC = ("issue_comment.created", "issue_comment.edited", "discussion_comment.created", "discussion_comment.edited",
           "issues.edited", "issues.reopened", "discussion.edited", "pull_request.edited", "pull_request.reopened",
           "pull_request_review_comment.created", "pull_request_review_comment.edited",
           "pull_request_review.submitted", "pull_request_review.edited")
_HEAD_START = {0: 30.0, 1: 10.0, 2: 0.0}


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch (copy and move) of `jobs` on SQLite would drop
    # the table the deliveries' bodies refer to, and with foreign keys on, the bodies with it.
    op.add_column("jobs", sa.Column("lane", sa.SmallInteger, nullable=False, server_default="2"))
    op.add_column("jobs", sa.Column("pick_at", sa.Float, nullable=False, server_default="0"))
    jobs = sa.table("jobs", sa.column("kind"), sa.column("event"), sa.column("lane"), sa.column("run_at", sa.Float),
                    sa.column("pick_at", sa.Float))
    webhook = jobs.c.kind == "webhook"
    op.execute(jobs.update().where(webhook, sa.or_(*(jobs.c.event.like(e) for e in _REPORTS))).values(lane=0))
    op.execute(jobs.update().where(webhook, jobs.c.event.in_(_PUBLIC)).values(lane=1))
    op.execute(jobs.update().values(pick_at=jobs.c.run_at - sa.case(_HEAD_START, value=jobs.c.lane, else_=0.0)))
    op.create_index("ix_jobs_state_pick_at", "jobs", ["state", "pick_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_state_pick_at", table_name="jobs")
    op.execute("ALTER TABLE jobs DROP COLUMN pick_at")  # (SQLite 3.35 and later, as PostgreSQL)
    op.execute("ALTER TABLE jobs DROP COLUMN lane")
