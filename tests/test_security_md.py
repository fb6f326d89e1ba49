"""SECURITY.md diagnosis (bot/rules/security_md.py): pure, no I/O."""

from __future__ import annotations

import time

import pytest

from bot.rules.security_md import (
    FORM_404,
    NO_CHANNEL,
    PLACEHOLDER,
    PLACEHOLDER_LEFT,
    PUBLIC_ISSUES,
    contact_from,
    diagnose,
    has_private_contact,
    human_duration,
    links_to_form,
    tells_to_open_issue,
)

REPO = "octo-org/hello-world"

GOOD_POLICY = """# Security Policy

## Reporting a Vulnerability

Please do not open a public issue for security vulnerabilities. E-mail security@hello.example instead.
"""
ISSUE_POLICY = """# Security Policy

## Supported Versions

Only the latest release.

## Reporting a Vulnerability

If you find a vulnerability, please open an issue and we will look at it.
"""
FORM_POLICY = """# Security

Report vulnerabilities privately [here](https://github.com/octo-org/hello-world/security/advisories/new).
"""


# -- the diagnosis (pure) ---------------------------------------------------------------------------


def policy(text: str) -> dict[str, str]:
    return {"repo": "hello-world", "path": "SECURITY.md", "text": text}


def test_diagnosis_of_each_combination() -> None:
    assert diagnose(REPO, pvr=True, policy=None) == []
    assert diagnose(REPO, pvr=False, policy=None) == [NO_CHANNEL]
    assert diagnose(REPO, pvr=False, policy=policy(GOOD_POLICY)) == []  # e-mail without PVR: fine
    assert diagnose(REPO, pvr=False, policy=policy(FORM_POLICY)) == [FORM_404]
    assert diagnose(REPO, pvr=True, policy=policy(FORM_POLICY)) == []
    assert diagnose(REPO, pvr=True, policy=policy(ISSUE_POLICY)) == [PUBLIC_ISSUES]
    assert diagnose(REPO, pvr=False, policy=policy(f"E-mail {PLACEHOLDER} with details.")) == [PLACEHOLDER_LEFT]


@pytest.mark.parametrize("text", [
    "To report a security vulnerability, open an issue on GitHub.",
    "## Reporting a Vulnerability\n\nPlease file an issue with the details.",
    "Security problems: create a GitHub issue labelled `security`.",
    "Report vulnerabilities in our issue tracker.",
    "Found a vulnerability? Submit a new issue and we will triage it.",
    "## Security\n\nUse the GitHub issue tracker.",
])
def test_instructions_to_use_public_issues_are_recognised(text: str) -> None:
    assert tells_to_open_issue(text)
    assert diagnose(REPO, pvr=False, policy=policy(text)) == [PUBLIC_ISSUES]


@pytest.mark.parametrize("text", [
    "Please do not open a public issue for security vulnerabilities.",
    "Don't report security vulnerabilities through public GitHub issues.",
    "**Do NOT file an issue** for a vulnerability; e-mail us.",
    "Never create a GitHub issue about a security problem.",
    "Instead of opening an issue, report the vulnerability privately.",
    "For bugs that are not security related, open an issue.",
    "We fix bugs. Open an issue for feature requests.",  # nothing about security nearby
])
def test_advice_against_public_issues_is_not_a_problem(text: str) -> None:
    assert not tells_to_open_issue(text)


def test_an_issue_instruction_with_a_private_contact_is_fine() -> None:
    text = ISSUE_POLICY + "\nFor anything sensitive, write to security@hello.example.\n"
    assert diagnose(REPO, pvr=False, policy=policy(text)) == []


def test_only_this_repositorys_form_counts_as_a_dead_link() -> None:
    assert links_to_form("see ../../security/advisories/new", REPO)
    assert links_to_form("https://github.com/Octo-Org/Hello-World/security/advisories/new", REPO)
    assert not links_to_form("https://github.com/octo-org/other/security/advisories/new", REPO)


def test_durations_read_as_people_write_them() -> None:
    assert human_duration("2 working days") == "2 working days"
    assert human_duration("1 working day") == "1 working day"
    assert human_duration("90d") == "90 days"
    assert human_duration("14d") == "2 weeks"
    assert human_duration("36h") == "36 hours"


def test_contacts_are_found_where_policies_give_them() -> None:
    assert contact_from("Mail security@example.org, please.") == "security@example.org"
    assert contact_from("<sec-team+vuln@lists.example.co.uk>") == "sec-team+vuln@lists.example.co.uk"
    assert contact_from("no address here, see @maint") is None


@pytest.mark.parametrize("text", ["a" * 200_000, "a@" + "b" * 200_000, "x@y" + ".z" * 100_000])
def test_a_hostile_policy_is_read_in_linear_time(text: str) -> None:
    """Issue 17, finding 18: the address pattern took 0.6 s on 20,000 characters and grew with the
    square of the length, on the event loop; 200,000 took minutes. Now it is a few milliseconds."""
    began = time.perf_counter()
    contact_from(text)
    has_private_contact(text)
    assert time.perf_counter() - began < 1.0
