"""Every real webhook payload in tests/fixtures/webhooks goes through the real server, signed.

The payloads are GitHub's own examples (@octokit/webhooks-examples; see the fixtures' README) and
the two schema-built repository_advisory ones. Repository-webhook examples carry no
`installation`; an App's deliveries always do, so one is added where missing. The advisory
examples name an advisory the emulator does not hold, so it is created and the payload pointed at
it. Whatever a payload causes must finish without a dead job or a request GitHub's description
refuses.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, fixture
from tests.e2e import INSTALLATION, REPO, Harness

NAMES = sorted(p.stem for p in (FIXTURES / "webhooks").glob("*.json"))
CODERTOCAT = 4242


@pytest.mark.parametrize("name", NAMES)
async def test_a_real_payload_is_handled_without_errors(tmp_path: Path, name: str) -> None:
    payload = copy.deepcopy(fixture(name))
    event = name.split(".", 1)[0]
    async with Harness(tmp_path) as h:
        h.state.add_installation(CODERTOCAT, "Codertocat")
        for full_name in {"Codertocat/Hello-World", "Octocoders/Hello-World"}:
            h.state.add_repo(full_name, installation_id=CODERTOCAT)
        repo = (payload.get("repository") or {}).get("full_name")
        if event not in ("ping", "installation", "installation_repositories") and "installation" not in payload:
            payload["installation"] = {"id": INSTALLATION if repo == REPO else CODERTOCAT, "node_id": "x"}
        if event == "issues" or event == "issue_comment":
            number = payload["issue"]["number"]
            while number not in h.state.repo(repo).issues:  # the emulator numbers issues from 1
                h.state.open_issue(repo, title=payload["issue"]["title"], body=payload["issue"]["body"],
                                   user=payload["issue"]["user"]["login"])
        if event == "repository_advisory":
            made = h.state.report_vulnerability(REPO, summary=payload["repository_advisory"]["summary"],
                                                description=payload["repository_advisory"]["description"],
                                                user=payload["sender"]["login"])
            payload["repository_advisory"]["ghsa_id"] = made["ghsa_id"]
            if payload["action"] == "published":
                h.state.update_advisory(REPO, made["ghsa_id"], {"state": "draft"}, actor="maint")
                h.state.update_advisory(REPO, made["ghsa_id"], {"state": "published"}, actor="maint")
        status = await h.deliver(event, payload)
        assert status in (200, 202), status
        await h.settle()
        assert await h.services.queue.list(state="dead") == []
        assert not [j for j in await h.services.queue.list(state="queued") if j.last_error]  # nothing failing
        if event.startswith("installation"):
            import sqlalchemy as sa

            from bot.store.tables import installations

            async with h.services.store.engine.connect() as conn:
                ids = [r[0] for r in await conn.execute(sa.select(installations.c.id))]
            assert ids == [payload["installation"]["id"]]  # recorded
    h.state.assert_no_violations()
