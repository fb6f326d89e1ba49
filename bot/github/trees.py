"""A repository's file paths at a ref, read from GitHub's git trees API and kept, bounded.

`GET /repos/{owner}/{repo}/git/trees/{ref}?recursive=1` answers every path of a commit in one
call. A ref's answer is revalidated with its ETag (a 304 costs nothing against the rate limit)
at most once per `FRESH` seconds, so a burst of reports costs one read; the paths are kept per
tree SHA, so two refs at one commit share them and a tree is parsed once per commit. What is
kept is bounded in paths, not entries (`MAX_KEPT_PATHS` for the whole process), and a tree
beyond `MAX_TREE_PATHS` is cut there (GitHub itself truncates very large trees: `truncated`).

The triage card checks the paths a report names against this (bot/reports/triage.py); the
public-text classifier's `TextContext.repo_paths` can be filled from it too.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import cachetools
import gidgethub

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.github.client import InstallationClient

FRESH = 60.0  # seconds a ref's tree is used without asking GitHub again
MAX_TREE_PATHS = 100_000
MAX_KEPT_PATHS = 400_000  # all trees a process keeps, in paths
MAX_REFS = 5_000


@dataclasses.dataclass(frozen=True)
class Tree:
    sha: str
    paths: frozenset[str]
    truncated: bool  # GitHub's answer was truncated, or we cut it: a missing path may exist


@dataclasses.dataclass
class _Ref:
    etag: str | None
    sha: str
    checked_at: float


class TreeCache:
    """Trees by (installation, repository, tree SHA), and what each ref pointed to when last read."""

    def __init__(self) -> None:
        self._trees: cachetools.LRUCache[tuple[int | None, str, str], Tree] = cachetools.LRUCache(
            maxsize=MAX_KEPT_PATHS, getsizeof=lambda tree: max(1, len(tree.paths)))
        self._refs: cachetools.LRUCache[tuple[int | None, str, str], _Ref] = cachetools.LRUCache(maxsize=MAX_REFS)

    async def read(self, gh: "InstallationClient", clock: "Clock", full_name: str, ref: str) -> Tree | None:
        """The tree of `full_name` at `ref` (a branch, a tag or a SHA); None when GitHub has no
        such tree (an unknown ref, an empty repository) or refuses to show it."""
        repo = full_name.lower()
        inst = gh.installation_id
        key = (inst, repo, ref)
        known = self._refs.get(key)
        kept = self._trees.get((inst, repo, known.sha)) if known else None
        now = clock.now()
        if known and kept and now - known.checked_at < FRESH:
            return kept
        owner, _, name = full_name.partition("/")
        try:
            data, etag = await gh.getitem_if_changed(
                "/repos/{owner}/{repo}/git/trees/{tree_sha}?recursive=1",
                {"owner": owner, "repo": name, "tree_sha": ref}, etag=known.etag if kept and known else None)
        except gidgethub.BadRequest as exc:
            if exc.status_code in (403, 404, 409, 422):
                return None
            raise
        if data is None and known and kept:  # 304: unchanged
            known.checked_at = now
            return kept
        if not isinstance(data, dict):
            return None
        blobs = [e["path"] for e in data.get("tree") or [] if e.get("type") == "blob" and isinstance(e.get("path"), str)]
        tree = Tree(sha=str(data.get("sha") or ""), paths=frozenset(blobs[:MAX_TREE_PATHS]),
                    truncated=bool(data.get("truncated")) or len(blobs) > MAX_TREE_PATHS)
        self._trees[(inst, repo, tree.sha)] = tree
        self._refs[key] = _Ref(etag=etag, sha=tree.sha, checked_at=now)
        return tree
