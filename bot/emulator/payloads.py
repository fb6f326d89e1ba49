"""Webhook payloads built from the emulator's state, shaped like GitHub's.

Use through ``emu.payloads`` (or ``Payloads(state)``), then ``await emu.deliver(event, payload)``.
"""

from __future__ import annotations

from typing import Any

from .state import API, GitHubState, public


class Payloads:
    def __init__(self, state: GitHubState) -> None:
        self.state = state

    def _common(self, full_name: str, sender: str | None) -> dict[str, Any]:
        state = self.state
        repo = state.repo(full_name)
        data = public(repo.data)
        data.pop("permissions", None)
        out: dict[str, Any] = {"repository": data}
        owner = repo.data["owner"]
        if owner["type"] == "Organization":
            out["organization"] = self._organization(owner)
        out["sender"] = state.user(sender) if sender else dict(owner)
        if repo.installation_id is not None:
            inst = state.installations[repo.installation_id]
            out["installation"] = {"id": inst["id"], "node_id": _installation_node(inst["id"])}
        return out

    @staticmethod
    def _organization(owner: dict[str, Any]) -> dict[str, Any]:
        api = f"{API}/orgs/{owner['login']}"
        return {"login": owner["login"], "id": owner["id"], "node_id": owner["node_id"], "url": api,
                "repos_url": f"{api}/repos", "events_url": f"{api}/events", "hooks_url": f"{api}/hooks",
                "issues_url": f"{api}/issues", "members_url": f"{api}/members{{/member}}",
                "public_members_url": f"{api}/public_members{{/member}}",
                "avatar_url": owner["avatar_url"], "description": None}

    def issues(self, action: str, full_name: str, number: int, sender: str | None = None,
               **extra: Any) -> dict[str, Any]:
        """``issues`` event; ``extra`` adds keys such as ``changes``, ``label`` or ``assignee``."""
        issue = public(self.state.issue(full_name, number))
        common = self._common(full_name, sender or issue["user"]["login"])
        return {"action": action, "issue": issue, **extra, **common}

    def issue_comment(self, action: str, full_name: str, number: int, comment_id: int,
                      sender: str | None = None, **extra: Any) -> dict[str, Any]:
        """``issue_comment`` event; pass ``changes={"body": {"from": old}}`` for ``edited``."""
        _, comment = self.state.find_comment(full_name, comment_id)
        issue = public(self.state.issue(full_name, number))
        common = self._common(full_name, sender or comment["user"]["login"])
        return {"action": action, "issue": issue, "comment": public(comment), **extra, **common}

    def discussion(self, action: str, full_name: str, number: int, sender: str | None = None,
                   **extra: Any) -> dict[str, Any]:
        """``discussion`` event (``created``, ``edited``: pass ``changes``)."""
        discussion = public(self.state.discussion(full_name, number))
        common = self._common(full_name, sender or discussion["user"]["login"])
        return {"action": action, "discussion": discussion, **extra, **common}

    def discussion_comment(self, action: str, full_name: str, number: int, comment_id: int,
                           sender: str | None = None, **extra: Any) -> dict[str, Any]:
        """``discussion_comment`` event (``created``, ``edited``)."""
        discussion = public(self.state.discussion(full_name, number))
        comment = next(c for c in self.state.discussion_comments(full_name, number) if c["id"] == comment_id)
        common = self._common(full_name, sender or comment["user"]["login"])
        return {"action": action, "comment": public(comment), "discussion": discussion, **extra, **common}

    def repository_advisory(self, action: str, full_name: str, ghsa_id: str,
                            sender: str | None = None) -> dict[str, Any]:
        """``repository_advisory`` (``reported``: sender is the reporter; ``published``: the publisher)."""
        adv = public(self.state.advisory(full_name, ghsa_id))
        if sender is None:
            who = adv["publisher"] if action == "published" and adv["publisher"] else adv["author"]
            sender = who["login"] if who else None
        return {"action": action, "repository_advisory": adv, **self._common(full_name, sender)}

    def repository(self, action: str, full_name: str, sender: str | None = None) -> dict[str, Any]:
        """``repository`` event (``publicized``, ``privatized``, ...) as it is now in the state."""
        return {"action": action, **self._common(full_name, sender)}

    def installation(self, action: str, installation_id: int, sender: str | None = None) -> dict[str, Any]:
        state = self.state
        inst = public(state.installations[installation_id])
        repos = [self._mini_repo(r.data) for r in state.installation_repos(installation_id)]
        out: dict[str, Any] = {"action": action, "installation": inst, "requester": None,
                               "sender": state.user(sender) if sender else dict(inst["account"])}
        if action in ("created", "deleted", "new_permissions_accepted"):
            out["repositories"] = repos
        return out

    def installation_repositories(self, action: str, installation_id: int, *,
                                  added: list[str] = (), removed: list[str] = (),
                                  sender: str | None = None) -> dict[str, Any]:
        """``installation_repositories`` (``added``/``removed``) naming repositories by full name."""
        state = self.state
        inst = public(state.installations[installation_id])
        return {
            "action": action, "installation": inst, "repository_selection": inst["repository_selection"],
            "repositories_added": [self._mini_repo(state.repo(n).data) for n in added],
            "repositories_removed": [self._mini_repo(state.repo(n).data) for n in removed],
            "requester": None, "sender": state.user(sender) if sender else dict(inst["account"]),
        }

    @staticmethod
    def _mini_repo(data: dict[str, Any]) -> dict[str, Any]:
        return {k: data[k] for k in ("id", "node_id", "name", "full_name", "private")}


def _installation_node(installation_id: int) -> str:
    from .state import node_id
    return node_id("Integration::Installation", installation_id)
