"""Who may do what: collaborator permission levels and security-team membership, from GitHub's
API, cached in the store for a minute (a revoked permission stops steering reports that soon)."""

from __future__ import annotations

from bot.jobs.context import Context, get_or_none
from bot.rules.config import RepoConfig

PERMISSION_TTL = 60.0
# Authors GitHub says are tied to the repository; only these can have write access, so only for
# them is GitHub asked. The association itself is never trusted: a read- or triage-only
# collaborator is a COLLABORATOR too.
TIED_ASSOCIATIONS = {"OWNER", "COLLABORATOR", "MEMBER"}


async def permission(ctx: Context, login: str) -> str:
    """GitHub's permission for `login` on the event's repository: admin, write, read or none."""
    assert ctx.gh is not None
    gh = ctx.gh

    async def ask() -> str:
        data = await get_or_none(gh, "/repos/{owner}/{repo}/collaborators/{username}/permission",
                                 ctx.repo(username=login), missing=(403, 404))
        return str((data or {}).get("permission") or "none")

    key = f"perm:{ctx.full_name}:{login}".lower()
    return str(await ctx.facts.remembered(key, ctx.clock.now(), PERMISSION_TTL, ask))


def has_write(level: str | None) -> bool:
    return level in ("admin", "maintain", "write")


async def is_maintainer(ctx: Context, login: str, association: str | None) -> bool:
    """Whether the author of an issue or comment can push to the repository: GitHub's
    collaborator permission, asked for authors tied to the repository (anyone else cannot push)."""
    if association in TIED_ASSOCIATIONS:
        return has_write(await permission(ctx, login))
    return False


async def in_security_team(ctx: Context, login: str, cfg: RepoConfig) -> bool:
    """Whether `login` is an active member of one of the configured security teams (cached)."""
    teams = cfg.security_team.teams
    org = (ctx.full_name or "/").split("/", 1)[0]
    if not teams or ctx.gh is None:
        return False
    gh = ctx.gh
    for slug in teams:

        async def ask(slug: str = slug) -> bool:
            data = await get_or_none(gh, "/orgs/{org}/teams/{team_slug}/memberships/{username}",
                                     {"org": org, "team_slug": slug, "username": login}, missing=(403, 404))
            return bool(data and data.get("state") == "active")

        if await ctx.facts.remembered(f"team:{org}/{slug}:{login}".lower(), ctx.clock.now(), PERMISSION_TTL, ask):
            return True
    return False
