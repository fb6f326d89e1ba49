"""What every handler receives: the event, an installation client, the store, config, a logger."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from typing import TYPE_CHECKING, Any

import cachetools
import gidgethub
from gidgethub import sansio

from bot import logs
from bot.clock import Clock
from bot.github.trees import TreeCache
from bot.github.urls import html_url
from bot.store.facts import Facts
from bot.store.feedback import Feedback
from bot.store.installations import Installations
from bot.store.ledger import Ledger
from bot.store.reports import Reports
from bot.store.triage import TriageCards

if TYPE_CHECKING:
    from bot.github.client import GitHubApp, InstallationClient
    from bot.jobs.queue import Queue
    from bot.llm.client import ChatClient
    from bot.rules import config as repo_config
    from bot.settings import Settings
    from bot.store import Store

log = logs.get("secbot.config")

CONFIG_TTL = 300.0  # seconds a repository's parsed config is reused without asking GitHub


@dataclasses.dataclass
class Services:
    """The long-lived parts of a running Secbot, built once by create_app."""

    settings: "Settings"
    store: "Store"
    queue: "Queue"
    clock: Clock
    github: "GitHubApp | None"
    configs: "ConfigCache"
    bot_login: str | None = None  # "<app-slug>[bot]", learnt from GET /app at start
    llm: "ChatClient | None" = None  # the operator's second-opinion endpoint (SECBOT_LLM_URL), if any
    # The stores that own the SQL workflows need, over `store`:
    reports: Reports = dataclasses.field(init=False)  # report rows and their timelines
    ledger: Ledger = dataclasses.field(init=False)  # once-only writes
    facts: Facts = dataclasses.field(init=False)  # what was learnt from GitHub, for a while
    installations: Installations = dataclasses.field(init=False)
    feedback: Feedback = dataclasses.field(init=False)  # maintainers' answers to verdicts
    triage_cards: TriageCards = dataclasses.field(init=False)  # one triage card per report
    # Repository trees (path sets) read for triage cards, bounded; see bot/github/trees.py.
    trees: TreeCache = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.triage_cards = TriageCards(self.store)
        self.trees = TreeCache()
        self.reports = Reports(self.store)
        self.ledger = Ledger(self.store)
        self.facts = Facts(self.store)
        self.installations = Installations(self.store)
        self.feedback = Feedback(self.store)


Parsed = tuple["repo_config.RepoConfig", list["repo_config.Problem"]]


def _rules() -> Any:
    """bot.rules.config, imported on first use: with it come jsonschema, YAML and the detector
    (about 10 MB), which `secbot serve` does not need when its worker processes run the jobs."""
    from bot.rules import config

    return config


class ConfigCache:
    """Parsed repository configs, per repository, for CONFIG_TTL; then revalidated by ETag.

    One read per repository at a time: jobs of the same repository that need its config while
    it is being read wait for that read (one set of requests to GitHub, and its problems
    logged once) instead of each reading it again.
    """

    def __init__(self, clock: Clock, ttl: float = CONFIG_TTL) -> None:
        self._cache: cachetools.TTLCache[str, Parsed] = cachetools.TTLCache(maxsize=10_000, ttl=ttl, timer=clock.now)
        self._reading: dict[str, asyncio.Future[Parsed]] = {}

    def clear(self) -> None:
        self._cache.clear()

    async def get(self, gh: "InstallationClient", owner: str, repo: str) -> Parsed:
        key = f"{owner}/{repo}".lower()
        while (found := self._cache.get(key)) is None:
            reading = self._reading.get(key)
            if reading is None:
                return await self._read(key, gh, owner, repo)
            await asyncio.wait([reading])  # (cancelling this caller does not cancel that read)
            if not reading.cancelled():
                return reading.result()
            # That read failed or was cancelled: this caller reads for itself.
        return found

    async def _read(self, key: str, gh: "InstallationClient", owner: str, repo: str) -> Parsed:
        reading: asyncio.Future[Parsed] = asyncio.get_running_loop().create_future()
        self._reading[key] = reading
        try:
            text = await read_file(gh, owner, repo, _rules().CONFIG_PATH)
            if text is None and repo != ".github":
                text = await read_file(gh, owner, ".github", _rules().CONFIG_PATH)
            # A thread, so the event loop keeps answering webhooks while a large file is parsed
            # (bounded in size and shape by the parser, but a stranger's text all the same).
            found = await asyncio.to_thread(_rules().load, text) if text else _rules().load(text)
        except BaseException:
            reading.cancel()  # its waiters try for themselves; the error is this caller's alone
            raise
        finally:
            del self._reading[key]
        self._cache[key] = found
        for problem in found[1]:  # once per read, not once per event
            log.warning("repository config problem", extra={"repo": f"{owner}/{repo}", "config_problem": str(problem)})
        reading.set_result(found)
        return found


async def read_file(gh: "InstallationClient", owner: str, repo: str, path: str) -> str | None:
    """A text file from the default branch, or None when it (or the repository) is missing."""
    data = await get_or_none(gh, "/repos/{owner}/{repo}/contents/{+path}",
                             {"owner": owner, "repo": repo, "path": path}, missing=(403, 404, 451))
    if not isinstance(data, dict) or data.get("type", "file") != "file" or data.get("encoding") != "base64":
        return None
    return base64.b64decode(data.get("content") or "").decode("utf-8", errors="replace")


async def get_or_none(gh: "InstallationClient", url: str, url_vars: dict[str, Any], missing: tuple[int, ...]) -> Any:
    """GET `url`; None when GitHub answers one of the `missing` statuses (no access, not found)."""
    try:
        return await gh.getitem(url, url_vars)
    except gidgethub.BadRequest as exc:
        if exc.status_code in missing:
            return None
        raise


@dataclasses.dataclass
class Context:
    event: sansio.Event
    services: Services
    gh: "InstallationClient | None"
    log: logs.Bound
    job_id: int | None = None
    job_attempt: int = 1
    _config: repo_config.RepoConfig | None = None

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def store(self) -> "Store":
        return self.services.store

    @property
    def queue(self) -> "Queue":
        return self.services.queue

    @property
    def reports(self) -> Reports:
        return self.services.reports

    @property
    def ledger(self) -> Ledger:
        return self.services.ledger

    @property
    def facts(self) -> Facts:
        return self.services.facts

    @property
    def installations(self) -> Installations:
        return self.services.installations

    @property
    def feedback(self) -> Feedback:
        return self.services.feedback

    @property
    def triage_cards(self) -> TriageCards:
        return self.services.triage_cards

    @property
    def data(self) -> dict[str, Any]:
        return self.event.data

    @property
    def installation_id(self) -> int | None:
        inst = self.event.data.get("installation") or {}
        return inst.get("id")

    @property
    def full_name(self) -> str | None:
        repo = self.event.data.get("repository") or {}
        return repo.get("full_name")

    def repo(self, **extra: Any) -> dict[str, Any]:
        """URL variables for the event's repository, plus `extra`."""
        owner, _, name = (self.full_name or "/").partition("/")
        return {"owner": owner, "repo": name, **extra}

    @staticmethod
    def is_bot(user: dict[str, Any] | None) -> bool:
        """Whether a GitHub user object (an author, a sender) is a bot account."""
        user = user or {}
        return user.get("type") == "Bot" or str(user.get("login") or "").endswith("[bot]")

    def for_repo(self, full_name: str, installation_id: int | None) -> "Context":
        """A context for one repository, for work no webhook of that repository started (a
        scheduled job, a sweep): its config, permissions and URL variables are that repository's.
        Its data holds only the repository and the installation. It gets a client of its own, so
        the repository's dry run (see `config_for`) stays with it and does not spread to the next
        repository the job visits."""
        owner, _, name = full_name.partition("/")
        web = html_url(self.services.settings.api_url)
        data = {"repository": {"full_name": full_name, "name": name, "owner": {"login": owner},
                               "html_url": f"{web}/{full_name}"},
                "installation": {"id": installation_id}}
        event = sansio.Event(data, event=self.event.event, delivery_id=self.event.delivery_id)
        github = self.services.github
        gh = github.client(installation_id) if github is not None and installation_id is not None else self.gh
        return Context(event=event, services=self.services, gh=gh, log=self.log, job_id=self.job_id,
                       job_attempt=self.job_attempt)

    @property
    def dry_run(self) -> bool:
        return bool(self.gh.dry_run) if self.gh is not None else self.services.settings.dry_run

    async def config_for(self, full_name: str) -> repo_config.RepoConfig:
        """A repository's effective config; a repository that asks for a dry run gets a client that
        writes nothing (for its webhooks and its jobs alike)."""
        if self.gh is None:
            return _rules().RepoConfig.default()
        owner, name = full_name.split("/", 1)
        cfg, _ = await self.services.configs.get(self.gh, owner, name)
        if cfg.dry_run:
            self.gh.dry_run = True  # the repository asked for a dry run: its jobs write nothing either
        return cfg

    async def config(self) -> repo_config.RepoConfig:
        """The event repository's effective config (defaults where the file says nothing or is wrong)."""
        if self._config is None:
            self._config = await self.config_for(self.full_name) if self.full_name else _rules().RepoConfig.default()
        return self._config
