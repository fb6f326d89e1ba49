"""Every verdict on every public path, end to end (issue 16): the heads-up for a possible report,
`/sec confirm`, `/sec not-security` and the memory they teach, phishing hidden as spam, the
neutral answer to a status question, pull request descriptions, discussions and their comments,
and `/security` comments. The leak checks run on every path: no report text in a public write,
a log line or a stored error.

The classifier is being retrained (branch `detector`), so which text lands in which tier is not
assumed here: `verdict` pins the classifier where the workflow imports it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.reports import public
from bot.rules.detect import Thresholds, Verdict
from bot.store.feedback import Feedback
from bot.store.reports import Reports
from tests.e2e import MAINTAINER, REPO, REPORTER, Harness
from tests.test_metrics import samples, scrape_text, value
from tests.test_public_reports import SECRET_MARK, VULN_BODY, VULN_TITLE

pytestmark = pytest.mark.harness(config="security_team:\n  users: [maint]\n")
TRACKER = "security_team:\n  users: [maint]\ntracker:\n  repo: security-inbox\n"
PHISH_BODY = ("SECURITY ALERT: your repository is compromised. Verify at https://github-scanner.example/fix "
              "within 24 hours. @alice @bob @carol")
PHISH_MARK = "github-scanner.example"


@pytest.fixture
def verdict(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Pin the classifier's answer: `verdict("possible", 0.45)`; texts containing `only_for` (when
    given) get it, others `none`."""

    def pin(kind: str, score: float = 0.45, only_for: str | None = None) -> None:
        def fake(title: str, body: str | None, thresholds: Any = None, context: Any = None) -> Verdict:
            if only_for is not None and only_for not in f"{title}\n{body or ''}":
                return Verdict("none", 0.01, ())
            return Verdict(kind, score, ("report:vulnerability",))

        monkeypatch.setattr(public, "classify", fake)

    return pin


async def open_issue(h: Harness, body: str = VULN_BODY, title: str = VULN_TITLE, user: str = REPORTER) -> int:
    issue = h.state.open_issue(REPO, title=title, body=body, user=user)
    await h.deliver("issues", h.payloads.issues("opened", REPO, issue["number"], user))
    await h.settle()
    return int(issue["number"])


async def comment(h: Harness, number: int, user: str, body: str) -> dict[str, Any]:
    c = h.state.add_comment(REPO, number, body=body, user=user)
    await h.deliver("issue_comment", h.payloads.issue_comment("created", REPO, number, c["id"], user))
    await h.settle()
    return c


def public_writes(h: Harness) -> str:
    """Everything written anywhere but the private tracker and the draft advisories."""
    return json.dumps([[r.path, r.json] for r in h.writes()
                       if "/security-advisories" not in r.path and "security-inbox" not in r.path])


async def stored_errors(h: Harness) -> str:
    return json.dumps([j.last_error for j in await h.services.queue.list()])


async def assert_no_leak(h: Harness, *marks: str) -> None:
    for mark in marks:
        assert mark not in public_writes(h), mark
        assert mark not in h.logs.text(), mark
        assert mark not in await stored_errors(h), mark


async def notes(h: Harness, report_id: int) -> list[str]:
    return [e["detail"]["note"] for e in await Reports(h.services.store).timeline(report_id) if e["kind"] == "note"]


# -- possible: a private heads-up, nothing public --------------------------------------------------


async def test_a_possible_report_gets_a_private_heads_up_kept_in_the_store_and_counted(h: Harness, verdict: Any,
                                                                                     tmp_path: Path) -> None:
    verdict("possible")
    number = await open_issue(h)
    assert h.writes() == []  # nothing public at all, by default
    [report] = await Reports(h.services.store).list(state="possible")
    assert (report.verdict, report.issue_number, report.original_body) == ("possible", number, VULN_BODY)
    [note] = await notes(h, report.id)
    assert f"issue #{number}" in note and "/sec confirm" in note and "/sec not-security" in note
    assert SECRET_MARK not in note and "report:vulnerability" in note  # signal names, never text
    m = samples(await scrape_text(h.app))
    assert value(m, "secbot_reports", state="possible") == 1
    await assert_no_leak(h, SECRET_MARK, "extract_all")
    # The operator lists it, without its text.
    db = h.settings.database_url.replace("sqlite+aiosqlite", "sqlite")
    run = subprocess.run([sys.executable, "-m", "bot", "reports", "--state", "possible", "--json"],
                         capture_output=True, text=True, env=_env(h, db))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["verdict"] == "possible" and SECRET_MARK not in run.stdout


def _env(h: Harness, db: str) -> dict[str, str]:
    import os

    return {**os.environ, "DATABASE_URL": db, "GITHUB_APP_ID": str(h.state.app_id),
            "GITHUB_PRIVATE_KEY": h.state.private_key_pem, "GITHUB_WEBHOOK_SECRET": h.state.webhook_secret,
            "SECBOT_ENV_FILE": "/nonexistent/secbot.env"}


@pytest.mark.harness(config=TRACKER)
async def test_with_a_private_tracker_the_heads_up_goes_there_and_nowhere_public(h: Harness, verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h)
    assert h.state.comments(REPO, number) == [] and h.state.issue(REPO, number)["labels"] == []
    tracker = [i for i in h.state.repo("octo-org/security-inbox").issues.values()]
    assert len(tracker) == 1
    heads_up = [c["body"] for c in h.state.comments("octo-org/security-inbox", tracker[0]["number"])]
    assert len(heads_up) == 1 and "Possible security report" in heads_up[0]
    await assert_no_leak(h, SECRET_MARK)


@pytest.mark.harness(config="public_reports:\n  uncertain: comment\n")
async def test_uncertain_comment_adds_one_neutral_public_pointer_without_the_text(h: Harness, verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h)
    await h.deliver("issues", h.payloads.issues("edited", REPO, number, REPORTER, changes={}))
    await h.settle()
    [pointer] = h.state.comments(REPO, number)
    assert "report it privately" in pointer["body"].lower() and f"/{REPO}/security/advisories/new" in pointer["body"]
    assert h.state.issue(REPO, number)["labels"] == []  # not labelled as a security report in public
    await assert_no_leak(h, SECRET_MARK)


@pytest.mark.harness(config="public_reports:\n  uncertain: ignore\n")
async def test_uncertain_ignore_records_nothing(h: Harness, verdict: Any) -> None:
    verdict("possible")
    await open_issue(h)
    assert h.writes() == [] and await Reports(h.services.store).list() == []


# -- the maintainers answer: confirm, not-security, hide; the memory learns ------------------------


async def test_confirm_turns_a_possible_report_into_a_redirected_one_and_is_remembered(h: Harness, verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h)
    await comment(h, number, MAINTAINER, "/sec confirm")
    [report] = await Reports(h.services.store).list()
    assert (report.state, report.verdict) == ("new", "vulnerability")
    redirect = [c for c in h.state.comments(REPO, number) if "<!-- secbot:redirect " in c["body"]]
    assert len(redirect) == 1 and f"@{REPORTER}" in redirect[0]["body"]
    rows = [r async for r in Feedback(h.services.store).export()]
    assert [(r["label"], r["verdict"], r["report"]) for r in rows] == [("security", "possible", report.id)]
    assert rows[0]["body"] == VULN_BODY and "report:vulnerability" in rows[0]["features"]
    await comment(h, number, MAINTAINER, "/sec confirm")  # again: nothing more
    assert len([c for c in h.state.comments(REPO, number) if "<!-- secbot:redirect " in c["body"]]) == 1
    await assert_no_leak(h, SECRET_MARK, "extract_all")


@pytest.mark.harness(config="public_reports:\n  action: hide\n")
async def test_hide_on_a_possible_report_moves_it_into_a_draft_advisory(h: Harness, verdict: Any) -> None:
    verdict("possible")
    number = await open_issue(h)
    await comment(h, number, MAINTAINER, "/sec hide")
    [advisory] = h.state.repo(REPO).advisories.values()
    assert SECRET_MARK in advisory["description"]
    issue = h.state.issue(REPO, number)
    assert SECRET_MARK not in json.dumps([issue["title"], issue["body"]]) and issue["locked"]


async def test_not_security_teaches_the_memory_to_stay_quiet_on_texts_like_it(h: Harness, verdict: Any) -> None:
    verdict("possible", score=Thresholds().notify + 0.04)  # just above notify
    first = await open_issue(h)
    await comment(h, first, MAINTAINER, "/sec not-security")
    [report] = await Reports(h.services.store).list()
    assert (report.state, report.reject_reason) == ("rejected", "not-security")
    assert h.state.comments(REPO, first)[-1]["user"]["login"] == MAINTAINER  # nothing of ours
    # The same wording again: the memory moves it below the heads-up threshold.
    await open_issue(h, user="bystander")
    assert len(await Reports(h.services.store).list()) == 1
    assert "memory:like-false-alarms" not in h.logs.text()  # nothing recorded, so nothing logged
    # Something else entirely still gets its heads-up.
    await open_issue(h, title="Cookie signing key is hard-coded", body="The key in settings.py is the same "
                     "for every install, so anyone can forge a session for any account.", user="bystander")
    assert len(await Reports(h.services.store).list(state="possible")) == 1
    await assert_no_leak(h, SECRET_MARK)


async def test_feedback_export_writes_json_lines_and_housekeeping_forgets_the_text(h: Harness, verdict: Any,
                                                                                   tmp_path: Path) -> None:
    verdict("possible")
    number = await open_issue(h)
    await comment(h, number, MAINTAINER, "/sec not-security")
    db = h.settings.database_url.replace("sqlite+aiosqlite", "sqlite")
    out = tmp_path / "feedback.jsonl"
    run = subprocess.run([sys.executable, "-m", "bot", "feedback", "export", "--out", str(out)],
                         capture_output=True, text=True, env=_env(h, db))
    assert run.returncode == 0, run.stderr
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["label"] == "not_security" and row["body"] == VULN_BODY and (out.stat().st_mode & 0o777) == 0o600
    assert SECRET_MARK not in run.stdout + run.stderr
    again = subprocess.run([sys.executable, "-m", "bot", "feedback", "export", "--out", str(out)],
                           capture_output=True, text=True, env=_env(h, db))
    assert again.returncode == 1 and "exists" in again.stderr
    store = Feedback(h.services.store)
    assert await store.forget_text(h.services.clock.now() + 1) == 1
    [row] = [r async for r in store.export()]
    assert row["body"] is None and row["title"] is None and row["features"]  # labels and features stay


# -- phishing: never answered, hidden as spam, the maintainers told --------------------------------


async def test_a_phishing_issue_is_closed_and_locked_as_spam_never_answered(h: Harness, verdict: Any) -> None:
    verdict("phishing", 0.9)
    number = await open_issue(h, title="Security Vulnerability Detected", body=PHISH_BODY, user="bystander")
    issue = h.state.issue(REPO, number)
    assert issue["state"] == "closed" and issue["locked"] and issue["active_lock_reason"] == "spam"
    assert h.state.comments(REPO, number) == []  # no redirect, no reply
    [report] = await Reports(h.services.store).list(state="spam")
    [note] = await notes(h, report.id)
    assert "phishing" in note.lower() and PHISH_MARK not in note
    await open_issue(h, title="x", body="y")  # other issues unaffected
    await assert_no_leak(h, PHISH_MARK, "@alice")


async def test_a_phishing_comment_is_minimized_as_spam(h: Harness, verdict: Any) -> None:
    issue = h.state.open_issue(REPO, title="Support zip64", body="Would be nice.", user="bystander")
    verdict("phishing", 0.9, only_for=PHISH_MARK)
    c = await comment(h, issue["number"], REPORTER, PHISH_BODY)
    assert h.state.minimized(REPO, c["id"]) == "spam"
    assert [x["id"] for x in h.state.comments(REPO, issue["number"])] == [c["id"]]
    await assert_no_leak(h, PHISH_MARK)


# -- status questions: one neutral reply per thread -------------------------------------------------


async def test_a_status_question_gets_one_neutral_reply_per_thread(h: Harness, verdict: Any) -> None:
    issue = h.state.open_issue(REPO, title="Support zip64", body="Would be nice.", user="bystander")
    verdict("status_ping", 0.8, only_for="any news")
    await comment(h, issue["number"], REPORTER, "Hi, any news on the vulnerability I reported by mail in May?")
    await comment(h, issue["number"], "bystander", "any news? also waiting")
    replies = [c for c in h.state.comments(REPO, issue["number"]) if c["user"]["login"].endswith("[bot]")]
    assert len(replies) == 1
    text = replies[0]["body"]
    assert "does not discuss security reports in public" in text and f"/{REPO}/security/advisories/new" in text
    for telling in ("received", "we have your report", "is being", "accepted", "May"):
        assert telling not in text  # never confirms nor denies that a report exists
    assert await Reports(h.services.store).list() == []


# -- pull requests: a heads-up at most ------------------------------------------------------------


def pull_request_payload(h: Harness, number: int, user: str, body: str) -> dict[str, Any]:
    from tests.conftest import fixture

    payload = fixture("pull_request.opened")
    base = h.payloads.issues("opened", REPO, number, user)
    payload["repository"], payload["sender"], payload["installation"] = (
        base["repository"], base["sender"], base["installation"])
    payload.pop("organization", None)
    pull = payload["pull_request"]
    pull.update(number=number, title=VULN_TITLE, body=body, user=h.state.user(user),
                author_association=h.state.author_association(REPO, user), labels=[])
    return payload


async def test_a_pull_request_with_a_proof_of_concept_gets_a_private_heads_up_only(h: Harness, verdict: Any) -> None:
    verdict("vulnerability", 0.95)  # even a confident verdict: a public fix is never redirected in public
    h.state.add_user(REPORTER)
    number = h.state.open_issue(REPO, title="placeholder", body="", user=REPORTER)["number"]  # the PR's number
    assert await h.deliver("pull_request", pull_request_payload(h, number, REPORTER, VULN_BODY)) == 202
    await h.settle()
    assert h.writes() == []
    [report] = await Reports(h.services.store).list(state="possible")
    assert report.source == "pull_request" and report.issue_number == number
    [note] = await notes(h, report.id)
    assert f"pull request #{number}" in note and "never redirects one in public" in note
    await comment(h, number, MAINTAINER, "/sec confirm")  # confirmed: tracked, still nothing public
    assert (await Reports(h.services.store).get(report.id)).state == "new"
    assert [c["user"]["login"] for c in h.state.comments(REPO, number)] == [MAINTAINER]
    await assert_no_leak(h, SECRET_MARK, "extract_all")


async def test_a_pull_request_by_a_maintainer_is_not_looked_at(h: Harness, verdict: Any) -> None:
    verdict("vulnerability", 0.95)
    number = h.state.open_issue(REPO, title="placeholder", body="", user=MAINTAINER)["number"]
    await h.deliver("pull_request", pull_request_payload(h, number, MAINTAINER, VULN_BODY))
    await h.settle()
    assert await Reports(h.services.store).list() == []


# -- discussions --------------------------------------------------------------------------------


async def test_a_report_posted_as_a_discussion_is_redirected_in_the_discussion(h: Harness, verdict: Any) -> None:
    verdict("vulnerability", 0.95)
    d = h.state.open_discussion(REPO, title=VULN_TITLE, body=VULN_BODY, user=REPORTER)
    assert await h.deliver("discussion", h.payloads.discussion("created", REPO, d["number"])) == 202
    await h.deliver("discussion", h.payloads.discussion("edited", REPO, d["number"], changes={}))
    await h.settle()
    [reply] = h.state.discussion_comments(REPO, d["number"])
    assert f"@{REPORTER}" in reply["body"] and "<!-- secbot:redirect " in reply["body"]
    assert "edit this discussion" in reply["body"]
    [report] = await Reports(h.services.store).list()
    assert report.source == "discussion"
    [note] = await notes(h, report.id)  # Secbot cannot hide a discussion: the maintainers are told
    assert f"discussion #{d['number']}" in note
    await assert_no_leak(h, SECRET_MARK, "extract_all")
    h.state.assert_no_violations()


async def test_discussion_comments_possible_phishing_and_status_questions(h: Harness, verdict: Any) -> None:
    d = h.state.open_discussion(REPO, title="Roadmap", body="What is planned?", user="bystander")
    verdict("possible", only_for=SECRET_MARK)
    c1 = h.state.add_discussion_comment(REPO, d["number"], body=VULN_BODY, user=REPORTER)
    await h.deliver("discussion_comment", h.payloads.discussion_comment("created", REPO, d["number"], c1["id"]))
    await h.settle()
    assert len(h.state.discussion_comments(REPO, d["number"])) == 1  # a heads-up only
    [report] = await Reports(h.services.store).list(state="possible")
    assert report.source == "discussion_comment" and report.comment_id == c1["id"]
    verdict("phishing", 0.9, only_for=PHISH_MARK)
    c2 = h.state.add_discussion_comment(REPO, d["number"], body=PHISH_BODY, user="bystander")
    await h.deliver("discussion_comment", h.payloads.discussion_comment("created", REPO, d["number"], c2["id"]))
    await h.settle()
    assert h.state.minimized(REPO, c2["id"]) == "spam"
    verdict("status_ping", 0.8, only_for="any news")
    for n in range(2):
        c = h.state.add_discussion_comment(REPO, d["number"], body=f"any news on my report? ({n})", user=REPORTER)
        await h.deliver("discussion_comment", h.payloads.discussion_comment("created", REPO, d["number"], c["id"]))
        await h.settle()
    ours = [c for c in h.state.discussion_comments(REPO, d["number"]) if c["user"]["login"].endswith("[bot]")]
    assert len(ours) == 1 and "does not discuss security reports in public" in ours[0]["body"]
    await assert_no_leak(h, SECRET_MARK, PHISH_MARK)
    h.state.assert_no_violations()


# -- comments that look like commands ---------------------------------------------------------------


async def test_a_comment_starting_with_slash_security_is_read_as_a_report(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title="Support zip64", body="Would be nice.", user="bystander")
    c = await comment(h, issue["number"], REPORTER, "/security " + VULN_BODY)
    ours = [x for x in h.state.comments(REPO, issue["number"]) if x["id"] != c["id"]]
    assert len(ours) == 1 and "<!-- secbot:redirect " in ours[0]["body"]
    await assert_no_leak(h, SECRET_MARK)


async def test_a_command_comment_is_not_read_as_a_report(h: Harness) -> None:
    issue = h.state.open_issue(REPO, title="Support zip64", body="Would be nice.", user="bystander")
    await comment(h, issue["number"], REPORTER, "/sec help\n" + VULN_BODY)
    assert await Reports(h.services.store).list() == []


async def test_paths_in_the_repositorys_tree_count_and_the_tree_is_read_only_near_a_tier(h: Harness, verdict: Any) -> None:
    """Issue 16, point 4: a text near a tier that names this repository's own files is read against
    the repository's tree (once per commit, ETag-cached); a clear-cut text costs no tree read."""
    h.state.put_file(REPO, "src/auth/session.py", "def resume(token): ...\n")
    verdict("possible", Thresholds().public - 0.04)  # just under the public tier: the own file (+0.06) lifts it over
    mark = len(h.state.requests)
    number = await open_issue(h, body="Session tokens survive logout: see src/auth/session.py, resume().")
    trees = [r for r in h.calls_since(mark) if "/git/trees/" in r.path]
    assert trees, "the tree was read for a text near a tier that names a path"
    redirect = [c for c in h.state.comments(REPO, number) if "<!-- secbot:redirect " in c["body"]]
    assert len(redirect) == 1
    found = await Reports(h.services.store).by_key(public.source_key(REPO, public.Post(
        source="issue", number=number, comment_id=None, author={}, title="", body=None,
        context=public.TextContext())))
    assert found is not None and "context:names-own-files" in found.reasons

    verdict("possible", Thresholds().public - 0.04)
    mark = len(h.state.requests)
    await open_issue(h, body="Nothing here names a file.")
    assert not [r for r in h.calls_since(mark) if "/git/trees/" in r.path]  # no path named: no tree read
