"""GitHub access: the App's JWT, cached installation tokens, and API clients that behave.

- The private key is parsed once; JWTs (RS256, `iat` 60 s in the past, `exp` 9 minutes ahead)
  are reused for a few minutes.
- Installation tokens are cached per installation until five minutes before `expires_at`,
  with one refresh at a time per installation.
- Every request carries `X-GitHub-Api-Version: 2022-11-28`, goes through one shared aiohttp
  session, and (for GETs) through an ETag cache whose keys name the installation, because
  gidgethub's cache is keyed by URL alone. One cache for all installations, of answers whose
  JSON takes `ETAG_BYTES` in all (as Python objects they take a few times that), the least
  recently used dropped first: the memory it takes is bounded whatever the number of
  installations and the size of their answers, and a busy installation only takes the room
  others leave unused. (Kept parsed: parsing them again at each read left the worker 2 MB
  larger after bench/storm.py than keeping them.)
- 5xx answers and dropped connections are retried with back-off, but only for requests that
  may be sent twice (reads, PATCH/PUT/DELETE, and the POSTs that add to a set: labels,
  assignees, reactions, a branch, a token, a GraphQL query). Any other POST creates something
  (a comment, an issue, an advisory, a pull request): GitHub may have made it and still answered
  502 or dropped the connection, so it raises `MaybeApplied` and the caller looks for what it
  wrote before sending it again (bot/reports/writes.py). A connection that was never made is
  retried for every request: nothing was sent.
- At most `concurrency` requests per installation are in flight at once in a process (GitHub's
  secondary limits allow 100 concurrent requests): many jobs run at once, most of them without a
  GitHub call, and those that make one wait their turn here rather than crowd GitHub; the turns
  go to security work first (bot/github/turns.py).
- Secondary rate limits and 429s are waited out when the wait is short, otherwise
  `RateLimited` puts the job back in the queue until the reset; GitHub made nothing then.
- In dry-run mode nothing but GETs reaches GitHub: each write is logged and answered locally.
- Content-creating requests of an installation draw on its budget (`GitHubApp.budget`, see
  bot/github/budget.py); one that does not fit raises `RateLimited` before it is sent.
"""

from __future__ import annotations

import asyncio
import collections
import collections.abc
import contextlib
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import aiohttp
import cachetools
import gidgethub
import gidgethub.aiohttp
import orjson

from bot import logs
from bot.clock import Clock, parse_iso
from bot.github.signing import BAD_KEY, BAD_KEY_EXIT, load_private_key, sign
from bot.github.turns import Turns
from bot.errors import MaybeApplied, RateLimited
from bot.github.budget import Budget, is_content_creation
from bot.github.urls import graphql_url

API_VERSION = "2022-11-28"
USER_AGENT = "secbot (+https://github.com/apps/secbot)"
TOKEN_MARGIN = 300.0  # refresh installation tokens this long before they expire
JWT_REUSE = 300.0  # mint a new JWT after this long (each lives 10 minutes)
SHORT_WAIT = 20.0  # rate-limit waits up to this long happen in place; longer ones defer the job
MAX_TRIES = 4
ETAG_BYTES = 4 * 1024 * 1024  # GET answers kept for conditional reads (their JSON), all installations together
ETAG_ENTRY_OVERHEAD = 256  # bytes counted for each answer besides its JSON (key, ETag, tuple)
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
# POSTs that may be sent twice: they add to a set (GitHub answers the second as the first, or 422
# for a branch that exists, which the caller takes as made), or create nothing lasting.
REPEATABLE_POST = re.compile(r"(/access_tokens|/issues/\d+/labels|/issues/\d+/assignees|/reactions|/git/refs)$")
# Failures before a connection was made: nothing was sent. (ConnectionTimeoutError is aiohttp 3.10+;
# before, a connect time-out is a ServerTimeoutError and counts as a request that may have arrived.)
NOT_SENT = tuple(getattr(aiohttp, name) for name in ("ClientConnectorError", "ConnectionTimeoutError")
                 if hasattr(aiohttp, name))

log = logs.get("secbot.github")


async def sign_apart(pem: str, claims: Mapping[str, Any]) -> str:
    """`sign` in a short-lived process (`bot.github.signing`, the key on its standard input):
    cryptography and PyJWT, about 10 MB, stay out of this long-running process's memory, for a
    fraction of a second of CPU each time (a JWT is minted at most every JWT_REUSE seconds). A key
    that cannot be parsed raises ValueError, never showing the key."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.github.signing", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate(orjson.dumps([pem, claims]))
    if proc.returncode == BAD_KEY_EXIT:
        raise ValueError(BAD_KEY)
    if proc.returncode != 0 or not out:
        raise RuntimeError(f"could not sign the GitHub App's JWT (signer exit code {proc.returncode})")
    return out.decode()


class GitHubApp:
    """Everything that authenticates as the App; hands out per-installation clients."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        app_id: str,
        private_key_pem: str,
        base_url: str,
        clock: Clock,
        dry_run: bool = False,
        sign_apart: bool = False,
        concurrency: int = 8,
    ) -> None:
        """The private key is parsed now (a key that cannot be parsed raises ValueError), and JWTs
        signed here; or, with `sign_apart` (`secbot serve` with worker processes, and the worker
        processes), each JWT is signed by a short-lived process (`sign_apart`) and the key is
        never parsed here: check it first with `check_key`."""
        self.session = session
        self.app_id = app_id
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.dry_run = dry_run
        self._pem = private_key_pem
        self._key: Any = None if sign_apart else load_private_key(private_key_pem)
        self._jwt: tuple[str, float] | None = None
        self._minting = asyncio.Lock()
        self._tokens: dict[int, tuple[str, float]] = {}
        self._token_locks: collections.defaultdict[int, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self._etags: cachetools.LRUCache[tuple[int, str], Any] = cachetools.LRUCache(
            maxsize=ETAG_BYTES, getsizeof=_entry_size)
        self.concurrency = concurrency
        self._slots: dict[int | None, Turns] = {}  # by installation (None: the App itself)
        self.rate_limits: dict[int | None, gidgethub.sansio.RateLimit] = {}
        self.calls: collections.Counter[tuple[str, int]] = collections.Counter()
        self.token_requests: collections.Counter[int] = collections.Counter()
        # The last writes dry-run mode held back (bounded: a dry run may last for months).
        self.dry_run_writes: collections.deque[tuple[str, str]] = collections.deque(maxlen=1000)
        # Content-creation budget per installation (bot/github/budget.py); set where the app is built.
        self.budget: Budget | None = None

    # -- credentials -------------------------------------------------------------------------

    async def jwt(self) -> str:
        async with self._minting:  # (one signer at a time when signed apart)
            now = self.clock.now()
            if self._jwt is None or now - self._jwt[1] >= JWT_REUSE:
                issued = int(now) - 60
                claims = {"iat": issued, "exp": issued + 600, "iss": self.app_id}
                token = sign(self._key, claims) if self._key is not None else await sign_apart(self._pem, claims)
                self._jwt = (token, now)
            return self._jwt[0]

    async def check_key(self) -> None:
        """ValueError if the private key cannot be parsed (a JWT is minted, and kept for use)."""
        await self.jwt()

    async def installation_token(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached and cached[1] - TOKEN_MARGIN > self.clock.now():
            return cached[0]
        async with self._token_locks[installation_id]:
            cached = self._tokens.get(installation_id)
            if cached and cached[1] - TOKEN_MARGIN > self.clock.now():
                return cached[0]
            data = await self.app_client().post(
                "/app/installations/{installation_id}/access_tokens",
                {"installation_id": installation_id},
                data=b"",
            )
            self.token_requests[installation_id] += 1
            self._tokens[installation_id] = (data["token"], parse_iso(data["expires_at"]))
            return data["token"]

    def slot(self, installation_id: int | None) -> Turns:
        """A turn to send one request for `installation_id` (at most `concurrency` at once)."""
        found = self._slots.get(installation_id)
        if found is None:
            found = self._slots[installation_id] = Turns(self.concurrency)
        return found

    def forget_token(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)

    # -- clients -----------------------------------------------------------------------------

    def app_client(self) -> "AppClient":
        return AppClient(self)

    def client(self, installation_id: int) -> "InstallationClient":
        return InstallationClient(self, installation_id, _InstallationCache(self._etags, installation_id))


def _entry_size(entry: tuple[Any, ...]) -> int:
    return ETAG_ENTRY_OVERHEAD + entry[4]


class _InstallationCache(collections.abc.MutableMapping[str, Any]):
    """One installation's view of the shared ETag cache (what gidgethub reads and writes by URL:
    `(etag, last_modified, data, more)`, kept with the size of `data` as JSON)."""

    def __init__(self, shared: cachetools.LRUCache[tuple[int, str], Any], installation_id: int) -> None:
        self.shared = shared
        self.installation_id = installation_id

    def __getitem__(self, url: str) -> Any:
        return self.shared[(self.installation_id, url)][:4]

    def __setitem__(self, url: str, value: Any) -> None:
        etag, last_modified, data, more = value
        try:
            size = len(orjson.dumps(data))
        except TypeError:  # not JSON (gidgethub gives text as str, which is): counted large
            size = ETAG_BYTES // 64
        with contextlib.suppress(ValueError):  # larger than the whole cache: not kept
            self.shared[(self.installation_id, url)] = (etag, last_modified, data, more, size)

    def __delitem__(self, url: str) -> None:
        del self.shared[(self.installation_id, url)]

    def __iter__(self) -> Iterator[str]:
        return (url for inst, url in list(self.shared) if inst == self.installation_id)

    def __len__(self) -> int:
        return sum(1 for inst, _ in list(self.shared) if inst == self.installation_id)


class _Client(gidgethub.aiohttp.GitHubAPI):
    """The request path shared by App and installation clients."""

    installation_id: int | None = None

    def __init__(self, app: GitHubApp, cache: Any = None) -> None:
        super().__init__(app.session, USER_AGENT, cache=cache, base_url=app.base_url)
        self.app = app
        self.dry_run = app.dry_run  # a repository's config can switch it on for its own client

    async def _authorization(self) -> str:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        await self.app.clock.sleep(seconds)

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        headers = dict(headers)
        headers["x-github-api-version"] = API_VERSION
        if self.dry_run and method in WRITE_METHODS and not url.endswith("/access_tokens"):
            path = url[len(self.app.base_url):] if url.startswith(self.app.base_url) else url
            self.app.dry_run_writes.append((method, path))
            log.info("dry run: would call GitHub", extra={"method": method, "path": path,
                                                          "installation": self.installation_id})
            return 200, {"content-type": "application/json; charset=utf-8"}, b"{}"
        await self._take_budget(method, url, body)
        path = url[len(self.app.base_url):] if url.startswith(self.app.base_url) else url
        repeatable = may_repeat(method, path, body)
        tried_new_token = False
        for attempt in range(1, MAX_TRIES + 1):
            headers["authorization"] = await self._authorization()
            try:
                async with self.app.slot(self.installation_id), \
                        self.app.session.request(method, url, headers=headers, data=body) as resp:
                    status, rheaders, rbody = resp.status, resp.headers, await resp.read()
            except NOT_SENT:
                if attempt == MAX_TRIES:
                    raise
                await self.sleep(_backoff(attempt))
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                self.app.calls[(method, 0)] += 1
                if not repeatable:
                    raise MaybeApplied(method, path.split("?", 1)[0], 0) from exc
                if attempt == MAX_TRIES:
                    raise
                log.warning("GitHub dropped the connection; trying again", extra={
                    "method": method, "error": type(exc).__name__, "installation": self.installation_id})
                await self.sleep(_backoff(attempt))
                continue
            self.app.calls[(method, status)] += 1
            rl = gidgethub.sansio.RateLimit.from_http(rheaders)
            if rl is not None:
                self.app.rate_limits[self.installation_id] = rl
            if status == 401 and self.installation_id is not None and not tried_new_token:
                # The token was revoked or expired early: fetch a new one once.
                self.app.forget_token(self.installation_id)
                tried_new_token = True
                continue
            if status >= 500 and not repeatable:
                raise MaybeApplied(method, path.split("?", 1)[0], status)
            wait = _rate_limit_wait(status, rheaders, self.app.clock.now())
            if wait is None and status >= 500 and attempt < MAX_TRIES:
                wait = _backoff(attempt)
            if wait is None or attempt == MAX_TRIES:
                if wait is not None and _is_rate_limit(status, rheaders):
                    raise RateLimited(self.app.clock.now() + max(wait, 60.0), f"GitHub rate limit ({status})")
                return status, rheaders, rbody
            if wait > SHORT_WAIT:
                raise RateLimited(self.app.clock.now() + wait, f"GitHub rate limit ({status}), waiting {wait:.0f}s")
            log.warning("GitHub asked us to wait", extra={"status": status, "wait": round(wait, 1),
                                                           "installation": self.installation_id})
            await self.sleep(wait)
        raise AssertionError("unreachable")

    async def getitem_if_changed(self, url: str, url_vars: dict[str, Any], *,
                                 etag: str | None) -> tuple[Any, str | None]:
        """GET with `If-None-Match: etag`, outside the shared ETag cache (for answers too large
        to keep whole, whose caller keeps what it needs): (None, etag) when unchanged (a 304,
        free against the rate limit), else (data, the new ETag)."""
        headers = gidgethub.sansio.create_headers(self.requester, accept=gidgethub.sansio.accept_format())
        if etag:
            headers["if-none-match"] = etag
        full = gidgethub.sansio.format_url(url, url_vars, base_url=self.base_url)
        status, rheaders, body = await self._request("GET", full, headers)
        if status == 304 and etag:
            return None, etag
        data, rate_limit, _ = gidgethub.sansio.decipher_response(status, rheaders, body)
        if rate_limit is not None:
            self.rate_limit = rate_limit
        return data, rheaders.get("etag")

    async def _take_budget(self, method: str, url: str, body: bytes) -> None:
        """Count a content-creating request in the installation's budget, or defer the job."""
        budget = self.app.budget
        if budget is None or self.installation_id is None:
            return
        path = url[len(self.app.base_url):] if url.startswith(self.app.base_url) else url
        if not is_content_creation(method, path, body):
            return
        until = await budget.take(self.installation_id)
        if until is not None:
            raise RateLimited(until, "content-creation budget")


def may_repeat(method: str, path: str, body: bytes = b"") -> bool:
    """Whether sending this request twice does no more than sending it once."""
    if method != "POST":
        return True  # reads; PATCH and PUT set what they set; a DELETE again answers 404, taken as done
    path = path.split("?", 1)[0]
    if path.endswith("/graphql"):
        try:
            query = orjson.loads(body or b"{}").get("query") or ""
        except (orjson.JSONDecodeError, AttributeError):
            return False
        return not query.lstrip().startswith("mutation")
    return REPEATABLE_POST.search(path) is not None


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2 ** attempt)


def _is_rate_limit(status: int, headers: Mapping[str, str]) -> bool:
    if status == 429:
        return True
    if status != 403:
        return False
    return "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"


def _rate_limit_wait(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait before retrying, per GitHub's rules; None when this is no rate limit."""
    if not _is_rate_limit(status, headers):
        return None
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(1.0, float(retry_after))
        except ValueError:
            pass
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        try:
            return max(1.0, float(headers["x-ratelimit-reset"]) - now + 1.0)
        except ValueError:
            pass
    return 60.0


class AppClient(_Client):
    """Authenticates as the App itself (JWT): installation tokens, app metadata."""

    async def _authorization(self) -> str:
        return f"Bearer {await self.app.jwt()}"


class InstallationClient(_Client):
    """Authenticates as one installation with its cached token."""

    def __init__(self, app: GitHubApp, installation_id: int, cache: Any) -> None:
        super().__init__(app, cache=cache)
        self.installation_id = installation_id

    async def _authorization(self) -> str:
        return f"token {await self.app.installation_token(self.installation_id)}"

    async def graphql(self, query: str, *, endpoint: str | None = None, **variables: Any) -> Any:
        return await super().graphql(query, endpoint=endpoint or graphql_url(self.app.base_url), **variables)
