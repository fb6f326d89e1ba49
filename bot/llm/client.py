"""A client for an OpenAI-compatible chat-completions endpoint (OpenAI, Ollama's `/v1`, a
llama.cpp server, vLLM, …), for the optional second opinion.

One request per question, never retried here: the caller records a failure as a reason and
moves on, so a slow or broken endpoint costs one timeout and never holds a job longer. It goes
through Secbot's shared aiohttp session with a total timeout of its own, follows no redirect,
and reads at most MAX_RESPONSE bytes. The operator's key is sent as a bearer token when there is
one (a local server needs none).

Errors carry a kind and a status, never the request or the reply: both hold a stranger's text
or the model's paraphrase of it.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import aiohttp
import orjson

from bot.settings import Secret

USER_AGENT = "secbot (+https://github.com/apps/secbot)"
MAX_RESPONSE = 64 * 1024  # bytes of a reply; a one-word answer in its envelope is a few hundred
MAX_TOKENS = 16  # the answer is one word (a few tokens) or {"answer": "yes"}
DEFAULT_BACKOFF = 60.0  # seconds to wait after a 429 that says nothing of when to come back
MAX_BACKOFF = 3600.0


class LlmError(Exception):
    """The endpoint gave no usable reply: `kind` is timeout, connection, status or malformed."""

    def __init__(self, kind: str, status: int | None = None) -> None:
        super().__init__(f"language model endpoint: {kind}" + (f" ({status})" if status else ""))
        self.kind = kind
        self.status = status


class LlmBusy(LlmError):
    """The endpoint answered 429: ask again no sooner than `retry_after` seconds from now."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("rate-limited", 429)
        self.retry_after = retry_after


class ChatClient:
    def __init__(self, session: aiohttp.ClientSession, *, url: str, model: str, key: Secret | None,
                 timeout: float = 10.0) -> None:
        self.session = session
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self._key = key
        self.timeout = timeout
        # Second opinions due in this process, by outcome (answered, unclear, timeout, budget-spent,
        # ...), counted by bot/reports/second_opinion.py; GET /metrics shows them.
        self.outcomes: collections.Counter[str] = collections.Counter()

    def __repr__(self) -> str:
        return f"ChatClient(endpoint={self.endpoint!r}, model={self.model!r})"

    async def complete(self, system: str, user: str) -> str:
        """The model's reply to one system and one user message (its `content`, unread)."""
        body = orjson.dumps({
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
            "max_tokens": MAX_TOKENS,
            "stream": False,
        })
        headers = {"content-type": "application/json", "accept": "application/json", "user-agent": USER_AGENT}
        if self._key is not None:
            headers["authorization"] = f"Bearer {self._key.get()}"
        try:
            async with self.session.post(self.endpoint, data=body, headers=headers, allow_redirects=False,
                                         timeout=aiohttp.ClientTimeout(total=self.timeout)) as resp:
                status, retry_after = resp.status, resp.headers.get("retry-after")
                raw = await _read_bounded(resp)
        except asyncio.TimeoutError:
            raise LlmError("timeout") from None
        except aiohttp.ClientError:
            raise LlmError("connection") from None
        if status == 429:
            raise LlmBusy(backoff(retry_after))
        if status != 200:
            raise LlmError("status", status)
        if raw is None:
            raise LlmError("malformed", status)
        return _content(raw)


async def _read_bounded(resp: aiohttp.ClientResponse) -> bytes | None:
    """The reply's body, or None when it is longer than MAX_RESPONSE (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(16 * 1024):
        size += len(chunk)
        if size > MAX_RESPONSE:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _content(raw: bytes) -> str:
    """`choices[0].message.content` of a chat-completions reply."""
    try:
        data: Any = orjson.loads(raw)
        content = data["choices"][0]["message"]["content"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        raise LlmError("malformed", 200) from None
    if not isinstance(content, str):
        raise LlmError("malformed", 200)
    return content


def backoff(retry_after: str | None) -> float:
    """Seconds to wait after a 429: its Retry-After in seconds when it gives one, within bounds."""
    try:
        wait = float(retry_after) if retry_after is not None else DEFAULT_BACKOFF
    except ValueError:
        wait = DEFAULT_BACKOFF
    if wait != wait:  # NaN
        wait = DEFAULT_BACKOFF
    return min(MAX_BACKOFF, max(1.0, wait))
