"""Working days, cadences and timer steps."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from bot.rules import config
from bot.rules.policy import Policy, countdown_steps, due_and_next, target_steps

UTC = dt.timezone.utc


def ts(*args: int) -> float:
    return dt.datetime(*args, tzinfo=UTC).timestamp()


def policy(**overrides: object) -> Policy:
    p = config.defaults()["policy"]
    p.update(overrides)
    return Policy.from_config(config.PolicyConfig.from_dict(p))


def test_working_days_skip_the_weekend_and_keep_the_time() -> None:
    friday = ts(2026, 11, 27, 16, 0)
    assert policy().after(friday, config.Duration(working_days=2)) == ts(2026, 12, 1, 16, 0)  # Tuesday
    assert policy().after(friday, config.Duration(seconds=3600)) == friday + 3600


def test_working_days_follow_the_configured_week_and_time_zone() -> None:
    p = policy(working_days=["sun", "mon", "tue", "wed", "thu"], timezone="Asia/Jerusalem")
    thursday = ts(2026, 11, 26, 10, 0)
    assert p.after(thursday, config.Duration(working_days=1)) == ts(2026, 11, 29, 10, 0)  # Sunday


def test_update_cadence_by_stage() -> None:
    p = policy()
    assert p.update_interval("new", None).working_days == 3
    assert p.update_interval("accepted", "critical").seconds == 2 * 86400
    assert p.update_interval("accepted", None).seconds == 14 * 86400  # medium when unknown


def test_targets_remind_before_and_escalate_after_each_once() -> None:
    created = ts(2026, 11, 23, 9, 0)  # Monday
    report = SimpleNamespace(created_at=created, acknowledged_at=None, accepted_at=None)
    steps = target_steps(policy(), report)
    ack = [s for s in steps if s.detail["target"] == "acknowledge"]
    assert [s.kind for s in ack] == ["remind", "escalate-assignees", "escalate-team"]
    assert ack[1].at == ts(2026, 11, 25, 9, 0)
    step, nxt = due_and_next(steps, ack[2].at + 1, done=set())
    assert step is not None and step.kind == "escalate-team"  # after downtime: the latest step only
    acknowledged = SimpleNamespace(created_at=created, acknowledged_at=created + 10, accepted_at=None)
    assert all(s.detail["target"] == "triage" for s in target_steps(policy(), acknowledged))


def test_disclosure_countdown() -> None:
    created = ts(2026, 1, 1)
    steps = countdown_steps(policy(), SimpleNamespace(created_at=created))
    assert [s.detail["days"] for s in steps] == [30, 14, 7, 1]
    assert steps[-1].at == created + 89 * 86400
