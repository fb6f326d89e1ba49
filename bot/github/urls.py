"""GitHub's addresses, written once: the web and GraphQL endpoints that go with an API address,
and the pages Secbot links to (advisories, the private-reporting form, a security policy)."""

from __future__ import annotations

from collections.abc import Mapping


def html_url(api_url: str) -> str:
    """The web address that goes with an API address (GitHub.com or GitHub Enterprise Server)."""
    if api_url.rstrip("/") == "https://api.github.com":
        return "https://github.com"
    return api_url.rstrip("/").removesuffix("/api/v3")


def graphql_url(base_url: str) -> str:
    """GitHub.com serves GraphQL at /graphql; GitHub Enterprise Server at /api/graphql."""
    if base_url.endswith("/api/v3"):
        return base_url[: -len("/v3")] + "/graphql"
    return base_url + "/graphql"


def advisory_url(repo_url: str, ghsa_id: str) -> str:
    """A repository security advisory's page (`repo_url` is the repository's web address)."""
    return f"{repo_url}/security/advisories/{ghsa_id}"


def report_form_url(repo_url: str) -> str:
    """The repository's private vulnerability reporting form."""
    return f"{repo_url}/security/advisories/new"


def issue_url(repo_url: str, number: int) -> str:
    return f"{repo_url}/issues/{number}"


def policy_url(repo_url: str, policy: Mapping[str, str] | None) -> str | None:
    """The web address of a SECURITY.md found by `bot.reports.channel.security_md` ({repo, path}):
    in the repository itself or in the owner's `.github` repository."""
    if not policy:
        return None
    owner_url = repo_url.rsplit("/", 1)[0]
    return f"{owner_url}/{policy['repo']}/blob/HEAD/{policy['path']}"
