"""The daily channel check of each public repository (bot/reports/onboarding.py does the work)."""

from __future__ import annotations

from typing import Any

from gidgethub import routing, sansio

from bot.jobs.context import Context
from bot.reports import onboarding

router = routing.Router()


@router.register("installation", action="created")
async def on_installed(event: sansio.Event, ctx: Context) -> None:
    """Check each public repository of a new installation."""
    await onboarding.check_soon(ctx, event.data["installation"]["id"], event.data.get("repositories") or [])


@router.register("installation", action="unsuspend")
async def on_unsuspended(event: sansio.Event, ctx: Context) -> None:
    """Resume the daily checks of an installation's public repositories."""
    await onboarding.check_all_soon(ctx, event.data["installation"]["id"])


@router.register("installation", action="deleted")
@router.register("installation", action="suspend")
async def on_uninstalled(event: sansio.Event, ctx: Context) -> None:
    """Stop the checks of a removed or suspended installation."""
    await onboarding.stop_checks(ctx, event.data["installation"]["id"], event.data.get("repositories") or [])


@router.register("installation_repositories", action="added")
@router.register("installation_repositories", action="removed")
async def on_repositories_changed(event: sansio.Event, ctx: Context) -> None:
    """Check added public repositories; stop checking removed ones."""
    await onboarding.check_soon(ctx, event.data["installation"]["id"], event.data.get("repositories_added") or [])
    await onboarding.stop_checks(ctx, None, event.data.get("repositories_removed") or [])


@router.register("repository", action="publicized")
async def on_publicized(event: sansio.Event, ctx: Context) -> None:
    """Check a repository made public: reporters need a private channel there now."""
    if ctx.installation_id is not None:
        await onboarding.check_soon(ctx, ctx.installation_id, [event.data["repository"]])


@router.register("repository", action="privatized")
async def on_privatized(event: sansio.Event, ctx: Context) -> None:
    """Stop checking a repository made private (private reporting is for public repositories)."""
    await onboarding.stop_checks(ctx, None, [event.data["repository"]])


async def run_check(payload: Any, ctx: Context) -> None:
    """The `channel_check` job: its payload's event data names the repository."""
    await onboarding.check(ctx)
