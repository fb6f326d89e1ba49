"""Who may do what: collaborator permission levels, cached in the store for a few minutes."""

from __future__ import annotations

from bot.jobs.context import Context, get_or_none
from bot.rules.config import RepoConfig

PERMISSION_TTL = 600.0
MAINTAINER_ASSOCIATIONS = {"OWNER", "COLLABORATOR"}


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
    """Whether the author of an issue or comment can push to the repository.

    OWNER and COLLABORATOR associations imply it; an organisation MEMBER may or may not have
    write access, so only then is GitHub asked.
    """
    if association in MAINTAINER_ASSOCIATIONS:
        return True
    if association == "MEMBER":
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
