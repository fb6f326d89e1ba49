"""Public security reports, end to end: the real server, the GitHub emulator, real payload shapes."""

from __future__ import annotations

import json

import pytest

from tests.e2e import MAINTAINER, REPO, REPORTER, Harness

VULN_TITLE = "Path traversal in archive extraction allows writing outside the target dir"
VULN_BODY = """\
Hi, I found a security issue in `extract_all()`.

### Steps to reproduce
1. Create a tar with a member named `../../home/user/.bashrc`
2. Call `hello.extract_all("evil.tar", "/tmp/out")`
3. The file is written outside `/tmp/out` (arbitrary file write, possible RCE).

```python
import tarfile
t = tarfile.open("evil.tar", "w"); t.add("payload", arcname="../../home/user/.bashrc"); t.close()
```
Affected: 2.3.0 and earlier. CWE-22.
"""
SECRET_MARK = "../../home/user/.bashrc"


pytestmark = pytest.mark.harness(config="security_team:\n  users: [maint, outsider-no-push]\n")


def public_writes_text(h: Harness) -> str:
    return json.dumps([r.json for r in h.writes() if not r.path.startswith(f"/repos/{REPO}/security-advisories")])


async def test_public_vulnerability_report_gets_one_redirect_comment_labels_and_assignees(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    assert await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER)) == 202
    await h.settle()
    comments = h.state.comments(REPO, issue["number"])
    assert len(comments) == 1
    text = comments[0]["body"]
    assert f"https://github.com/{REPO}/security/advisories/new" in text
    assert f"@{REPORTER}" in text and "<!-- secbot:redirect " in text and " report=" in text
    got = h.state.issue(REPO, issue["number"])
    assert {lb["name"] for lb in got["labels"]} == {"security", "needs-triage"}
    assert [a["login"] for a in got["assignees"]] == [MAINTAINER]  # no push access: dropped by GitHub, logged
    assert "outsider-no-push" in h.logs.text()
    assert SECRET_MARK not in public_writes_text(h)
    assert SECRET_MARK not in h.logs.text() and "extract_all" not in h.logs.text()
    assert {r.api_version for r in h.state.requests} == {"2022-11-28"}  # pinned on every request


async def test_redirect_costs_at_most_four_calls_once_config_and_channel_are_cached(h: Harness) -> None:
    first = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, first["number"], REPORTER))
    await h.settle()
    mark = len(h.state.requests)
    second = h.state.open_issue(REPO, title="SQL injection in search endpoint", user="bystander",
                                body="The `q` parameter of /api/search is concatenated into the SQL query.\n"
                                     "Payload: `' OR 1=1 --` dumps every user's password hash. Attacker needs no login.")
    await h.deliver("issues", h.payloads.issues("opened", REPO, second["number"], "bystander"))
    await h.settle()
    calls = h.calls_since(mark)
    assert len(calls) <= 4, [(c.method, c.path) for c in calls]
    assert len(h.state.comments(REPO, second["number"])) == 1


async def test_an_ordinary_issue_causes_no_write(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title="Crash when config file is empty",
                               body="Running `hello --config empty.yml` panics with IndexError. Stack trace attached.",
                               user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    assert h.writes() == []


async def test_redeliveries_and_edits_never_post_twice(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    payload = h.payloads.issues("opened", REPO, issue["number"], REPORTER)
    await h.deliver("issues", payload, delivery_id="same-delivery")
    await h.deliver("issues", payload, delivery_id="same-delivery")
    await h.deliver("issues", payload)  # GitHub redelivers with a new id when asked manually? still once
    await h.deliver("issues", h.payloads.issues("edited", REPO, issue["number"], REPORTER, changes={}))
    await h.settle()
    assert len(h.state.comments(REPO, issue["number"])) == 1


async def test_an_issue_edited_into_a_report_is_caught(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title="Question about extraction", body="How does extract_all handle paths?",
                               user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    assert h.writes() == []
    h.state.update_issue(REPO, issue["number"], {"title": VULN_TITLE, "body": VULN_BODY}, actor=REPORTER)
    await h.deliver("issues", h.payloads.issues("edited", REPO, issue["number"], REPORTER, changes={}))
    await h.settle()
    assert len(h.state.comments(REPO, issue["number"])) == 1


async def test_a_report_posted_as_a_comment_is_redirected_on_its_issue(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title="Support zip64 archives", body="Would be nice.", user="bystander")
    comment = h.state.add_comment(REPO, issue["number"], body=VULN_BODY, user=REPORTER)
    await h.deliver("issue_comment", h.payloads.issue_comment("created", REPO, issue["number"], comment["id"], REPORTER))
    await h.settle()
    [bot_comment] = [c for c in h.state.comments(REPO, issue["number"]) if c["id"] != comment["id"]]
    assert f"@{REPORTER}" in bot_comment["body"] and "edit this comment" in bot_comment["body"]


async def test_maintainers_and_bots_are_not_redirected(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=MAINTAINER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], MAINTAINER))
    h.state.add_user("dependabot[bot]", type="Bot")
    bump = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user="dependabot[bot]")
    await h.deliver("issues", h.payloads.issues("opened", REPO, bump["number"], "dependabot[bot]"))
    await h.settle()
    assert h.writes() == []


async def test_a_collaborator_without_push_access_is_redirected_like_anyone(h: Harness) -> None:
    """Issue 17, finding 14: a triage-only collaborator is a COLLABORATOR by association, and was
    taken for a maintainer; GitHub's permission says who can push."""
    h.state.set_permission(REPO, "triager", "triage")
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user="triager")
    payload = h.payloads.issues("opened", REPO, issue["number"], "triager")
    assert payload["issue"]["author_association"] == "COLLABORATOR"
    await h.deliver("issues", payload)
    await h.settle()
    [comment] = h.state.comments(REPO, issue["number"])
    assert "<!-- secbot:redirect " in comment["body"] and "@triager" in comment["body"]


async def test_without_private_reporting_the_security_policy_contact_is_given(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    h.state.put_file(REPO, "SECURITY.md", "# Security\nPlease e-mail security@hello.example with details.\n")
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    [comment] = h.state.comments(REPO, issue["number"])
    assert "security/advisories/new" not in comment["body"]
    assert "SECURITY.md" in comment["body"] and "security@\u200dhello.example" in comment["body"].replace("\\", "")


async def test_without_any_private_channel_maintainers_are_told(h: Harness) -> None:
    h.state.repo(REPO).pvr_enabled = False
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    [comment] = h.state.comments(REPO, issue["number"])
    assert "no private reporting channel" in comment["body"]


async def test_beg_bounty_reports_get_their_own_reply(h: Harness) -> None:
    issue = h.state.open_issue(
        REPO, user=REPORTER, title="Critical vulnerability: missing security headers",
        body="Hello team, I found that your website is missing X-Frame-Options and Content-Security-Policy headers "
             "and has no DMARC record. This is a critical vulnerability. Do you offer a bug bounty? "
             "Please tell me the reward before I share details.")
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    [comment] = h.state.comments(REPO, issue["number"])
    assert "scanner" in comment["body"] and "does not pay bug bounties" in comment["body"]


async def test_a_repository_can_word_the_redirect_itself(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml",
                     "templates:\n  redirect: |\n    Merci {{ reporter | mention }} ! Please use {{ channel.url }}.\n")
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    [comment] = h.state.comments(REPO, issue["number"])
    assert comment["body"].startswith(f"Merci @{REPORTER} ! Please use https://github.com/{REPO}/security/advisories/new.")


async def test_a_broken_override_falls_back_to_the_built_in_text(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", "templates:\n  redirect: '{{ report.secret_text }} {% if %}'\n")
    issue = h.state.open_issue(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    [comment] = h.state.comments(REPO, issue["number"])
    assert "thank you for taking the time" in comment["body"] and "override failed" in h.logs.text()


async def test_a_config_problem_is_logged_once_not_on_every_event(h: Harness) -> None:
    h.state.put_file(REPO, ".github/secbot.yml", "lables: [security]\n")
    for n in range(3):
        issue = h.state.open_issue(REPO, title=f"Typo in docs {n}", body="recieve", user=REPORTER)
        await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], REPORTER))
    await h.settle()
    problems = [line for line in h.logs.lines if "repository config problem" in line]
    assert len(problems) == 1 and "lables" in problems[0]
