"""Installations of the App and the repositories each covers, as GitHub last told Secbot."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.store import Store
from bot.store.tables import installation_repos, installations


class Installations:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def save(self, inst: dict[str, Any], now: float, **changes: Any) -> None:
        """Record an installation from a webhook's `installation` object (with `changes` such as
        `deleted_at` or `suspended_at`)."""
        account = inst.get("account") or {}
        row = {
            "id": inst["id"],
            "account_login": account.get("login", ""),
            "account_type": account.get("type", ""),
            "repository_selection": inst.get("repository_selection"),
            "suspended_at": None,
            "deleted_at": None,
            "created_at": now,
            "updated_at": now,
            **changes,
        }
        update = ["account_login", "account_type", "repository_selection", "updated_at", *changes]
        async with self.store.write() as conn:
            await conn.execute(self.store.upsert(installations, ["id"], sorted(set(update))).values(**row))

    async def save_repos(self, installation_id: int, repos: list[dict[str, Any]], now: float, *, removed: bool) -> None:
        """Record repositories added to (or, with `removed`, taken from) an installation."""
        if not repos:
            return
        rows = [
            {
                "installation_id": installation_id,
                "repo_id": r["id"],
                "full_name": r["full_name"],
                "private": bool(r.get("private")),
                "removed_at": now if removed else None,
                "updated_at": now,
            }
            for r in repos
        ]
        stmt = self.store.upsert(installation_repos, ["installation_id", "repo_id"],
                                 ["full_name", "private", "removed_at", "updated_at"])
        async with self.store.write() as conn:
            await conn.execute(stmt, rows)

    async def active_repos(self, installation_id: int, *, public_only: bool = False) -> list[str]:
        """The repositories an installation still covers (only the public ones, with `public_only`)."""
        stmt = sa.select(installation_repos.c.full_name).where(
            installation_repos.c.installation_id == installation_id, installation_repos.c.removed_at.is_(None)
        )
        if public_only:
            stmt = stmt.where(installation_repos.c.private.is_(False))
        return sorted(r[0] for r in await self.store.all(stmt))

    async def repo_names(self, installation_id: int) -> list[str]:
        """Every repository ever recorded for the installation, removed ones too."""
        stmt = sa.select(installation_repos.c.full_name).where(installation_repos.c.installation_id == installation_id)
        return [r[0] for r in await self.store.all(stmt)]

    async def still_covered(self, installation_id: int | None, full_name: str | None = None) -> bool:
        """False once Secbot knows the installation was deleted or suspended, or (given a repository)
        that the repository was removed from it. Unknown installations count as covered."""
        if installation_id is None:
            return False

        def covered(conn: sa.Connection) -> tuple[Any, Any]:
            inst = conn.execute(sa.select(installations.c.deleted_at, installations.c.suspended_at)
                                .where(installations.c.id == installation_id)).first()
            repo = None
            if full_name is not None:
                repo = conn.execute(sa.select(installation_repos.c.removed_at).where(
                    installation_repos.c.installation_id == installation_id,
                    sa.func.lower(installation_repos.c.full_name) == full_name.lower())).first()
            return inst, repo

        inst, repo = await self.store.read(covered)
        if inst is not None and (inst.deleted_at is not None or inst.suspended_at is not None):
            return False
        return repo is None or repo.removed_at is None
