"""The states a report can be in. A leaf: the verb table (bot/rules/commands.py) and the state
machine that reads it (bot/rules/lifecycle.py) both name states, so they live below both."""

from __future__ import annotations

NEW, ACKNOWLEDGED, ACCEPTED, FIXED, PUBLISHED, REJECTED = "new", "acknowledged", "accepted", "fixed", "published", "rejected"
OPEN = (NEW, ACKNOWLEDGED, ACCEPTED, FIXED)

# Not open (no timers run on them): a possible report waits for a maintainer's `/sec confirm`,
# `/sec hide` or `/sec not-security`; a phishing post was hidden and the maintainers told.
POSSIBLE, SPAM = "possible", "spam"
STATES = (NEW, ACKNOWLEDGED, ACCEPTED, FIXED, PUBLISHED, REJECTED, POSSIBLE, SPAM)
