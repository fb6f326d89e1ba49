"""`secbot demo` plays every scenario end to end and tells a readable, private-safe story."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.emulator.demo import PRIVATE_DESCRIPTION, PRIVATE_MARKER

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [
    "Scenario 1 — an ordinary bug report",
    "Scenario 2 — a vulnerability filed as a public issue",
    "Scenario 3 — a report in a comment, then a maintainer hides it with /sec hide",
    "Scenario 4 — a false alarm, undone by a maintainer with /sec not-security",
    "Scenario 5 — someone without write access tries a command",
    "Scenario 6 — a private report through GitHub's private vulnerability reporting",
    "Scenario 7 — maintainer commands in the private tracker",
    "Scenario 8 — a week without a decision, compressed",
    "Scenario 9 — the maintainers decide",
    "Scenario 10 — weeks of fixing, compressed",
    "Scenario 11 — publication",
    "Scenario 12 — a slop report answered with /sec needs-info",
    "Scenario 13 — a flood from one reporter",
    "Scenario 14 — a report that is no vulnerability, reclassified into a public issue",
    "Scenario 15 — away mode",
]


@pytest.fixture(scope="module")
def transcript() -> str:
    run = subprocess.run([sys.executable, "-m", "bot", "demo"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    print(run.stdout[-400:])  # ends with "finished in N.N s" (speed belongs to benchmarks, not asserts)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def section(text: str, start: str, end: str | None = None) -> str:
    after = text[text.index(start):]
    return after[:after.index(end)] if end else after


def flat(text: str) -> str:
    """The transcript with its wrapping undone, for phrases that may straddle a line break."""
    return re.sub(r"\s+", " ", text)


def test_every_scenario_is_played_in_order(transcript: str) -> None:
    places = [transcript.index(heading) for heading in SCENARIOS]
    assert places == sorted(places)
    assert re.search(r"Emulator check against GitHub's OpenAPI description: \d+ requests, 0 problems\.\n\Z", transcript)
    assert re.search(r"finished in \d+\.\d s", transcript)
    assert all(len(line) <= 96 or "://" in line for line in transcript.splitlines())  # wrapped, links kept whole
    assert "<!-- secbot" not in transcript


def test_public_scenarios(transcript: str) -> None:
    redirect = section(transcript, SCENARIOS[1], SCENARIOS[2])
    assert "https://github.com/octo-org/hello-world/security/advisories/new" in redirect  # the private-reporting form
    assert "labels: security, needs-triage" in flat(redirect)
    hidden = flat(section(transcript, SCENARIOS[2], SCENARIOS[3]))
    assert re.search(r"private draft advisory GHSA-[\w-]+ .* state draft; credited: mallory-researcher", hidden)
    assert "the one with the details is gone" in hidden
    assert "After the undo: labels: none; bot comments: 0" in section(transcript, SCENARIOS[3], SCENARIOS[4])
    refused = flat(section(transcript, SCENARIOS[4], SCENARIOS[5]))
    assert "only the repository's maintainers" in refused
    assert "On @dave's comment: 👎, and not a word" in refused and "💬 secbot" not in refused


def test_a_private_report_is_acknowledged_tracked_and_linked(transcript: str) -> None:
    report = flat(section(transcript, SCENARIOS[5], SCENARIOS[6]))
    assert "Reporter saw" in report and "thank you for reporting this privately" in report
    # (#1 is the tracker issue of the comment hidden in scenario 3, opened for its triage card)
    assert re.search(r"octo-org/security-inbox#\d+ \(private repository\)", report) and "assignees: maint" in report
    assert "Secbot linked it to the public issue #2" in report
    commands = flat(section(transcript, SCENARIOS[6], SCENARIOS[9]))
    for command, maintainers, reporter in [
        ("/sec ack", "Acknowledged.", "**acknowledged**"),
        ("/sec accept high", "Accepted (high).", "**accepted** as a vulnerability with **high** severity"),
        ("/sec eta", "Target fix date:", "the target date for a fix is now"),
    ]:
        at = commands.index(f"): {command}")
        told = commands[at:]
        assert told.index("Maintainers saw") < told.index(maintainers) < told.index("Reporter saw") < told.index(reporter)


def test_weeks_of_scheduled_messages_with_their_dates(transcript: str) -> None:
    timed = re.findall(r"^  (\d{4}-\d\d-\d\d \d\d:\d\d) \(day (\d+)\) to the (reporter|maintainers)[^\n]*\n\s+(.*)$",
                       transcript, flags=re.M)
    updates = [when for when, _, who, first in timed if who == "reporter" and first.startswith("Status update")]
    assert len(set(updates)) >= 2 and updates == sorted(updates)
    to_maintainers = [first for _, _, who, first in timed if who == "maintainers"]
    assert any("Reminder" in m for m in to_maintainers) and any("passed on" in m for m in to_maintainers)
    assert any("Disclosure deadline in" in m for m in to_maintainers)
    assert max(int(day) for _, day, _, _ in timed) >= 30  # weeks, not minutes
    assert "fixed** in version **1.4.2**" in flat(section(transcript, SCENARIOS[9], SCENARIOS[10]))


def test_publication_credits_the_reporter_and_closes_the_public_issue(transcript: str) -> None:
    published = flat(section(transcript, SCENARIOS[10]))
    assert "has been **published** with the fix in 1.4.2" in published
    assert "credited on it as reporter-jane" in published
    assert re.search(r"Public issue #2 .* — closed;", published)
    assert re.search(r"advisory is now public: https://github\.com/octo-org/hello-world/security/advisories/GHSA-", published)
    assert "no more messages, every timer stopped" in published


def test_no_private_report_text_anywhere(transcript: str) -> None:
    assert PRIVATE_MARKER in PRIVATE_DESCRIPTION
    assert PRIVATE_MARKER not in transcript  # the private description is never printed, public parts or not
    assert "victim" not in transcript


def test_flood_tools_scenarios(transcript: str) -> None:
    slop = flat(section(transcript, SCENARIOS[11], SCENARIOS[12]))
    assert "A proof of concept or exact steps to reproduce" in slop and "The reporter answered" in slop
    # The maintainers' triage card: the function does not exist, the CVE is another project's.
    card = slop.replace("\\", "")
    assert "Triage card for GHSA-" in card and "symbol `hello_secure_eval`: **missing**" in card
    assert "CVE-2024-3094: **published** for another project" in card and "tukaani-project/xz" in card
    assert "PRIVATE-SLOP-1" not in transcript and "PRIVATE-RC-2" not in transcript  # descriptions never printed
    flood = flat(section(transcript, SCENARIOS[12], SCENARIOS[13]))
    assert flood.count("in the order it arrived") == 1 and "report 6" in flood
    assert "Missing or permissive HTTP response headers" in flood
    moved = flat(section(transcript, SCENARIOS[13], SCENARIOS[14]))
    assert "Crash when the size header is negative" in moved and "closed." in moved
    away = flat(section(transcript, SCENARIOS[14]))
    assert "The maintainers are away until" in away and "after the maintainers are back" in away


def test_publication_shows_the_release_draft_the_hall_of_fame_and_the_badge(transcript: str) -> None:
    published = flat(section(transcript, SCENARIOS[10], SCENARIOS[11]))
    assert "the release “Security update 1.4.2” for tag 1.4.2 that `/sec fixed 1.4.2` drafted — still a draft" in published
    assert 'pip install --upgrade "hello-world>=1.4.2"' in published
    assert re.search(r"Pull request #\d+ “Security acknowledgements: GHSA-", published)
    assert "## 2027" in published or "## 2026" in published
    assert '→ 200 {"repository":"octo-org/hello-world","enough_reports":false,"minimum_reports":3}' in published
    assert '"message":"not enough reports yet"' in published
    assert "Announcement text" in published
    fixing = flat(section(transcript, SCENARIOS[9], SCENARIOS[10]))
    assert "its advisory is not published yet" in fixing  # the publish-within reminder, 14 days after the fix
