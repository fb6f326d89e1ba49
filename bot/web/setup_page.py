"""Setup mode: register the GitHub App from app.yml through GitHub's App-manifest flow.

`secbot serve` with no GitHub credential at all serves only this:

    GET  /                 -> redirect to /setup
    GET  /setup?token=...  a form that POSTs app.yml (URLs filled in) to {GITHUB_URL}/settings/apps/new;
                           without the one-time token `serve` printed: 403, and no state is minted
    GET  /setup/callback   GitHub comes back with ?code=...&state=...; a state is good only if this
                           page minted it for a request that carried the token; the code is exchanged at
                           POST {GITHUB_API_URL}/app-manifests/{code}/conversions and the App's id,
                           private key and webhook secret are written to SECBOT_ENV_FILE (mode 0600,
                           never over an existing file)
    GET  /setup/installed  where GitHub sends people after they install the App
    GET  /healthz          {"ok": true, "mode": "setup"}
    *    /webhook          503: no credentials yet

Secrets go from GitHub's answer straight into the file: never into a page or a log line.

Whoever finishes the flow decides which App's credentials Secbot will run with, so the page is
bound to the operator: `secbot serve` prints a random token with the URL to open, the page
compares it in constant time, and only a request that carried it gets a `state` for GitHub to
send back. At most `MAX_STATES` are outstanding (the oldest goes first): only the operator can
mint them, so no one else can push the operator's out.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import re
import secrets
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import jinja2
import orjson
import yaml
from aiohttp import web

from bot import logs
from bot.github.client import API_VERSION, USER_AGENT
from bot.settings import Settings

SETTINGS = web.AppKey("setup_settings", Settings)
SESSION = web.AppKey("setup_session", aiohttp.ClientSession)
STATES = web.AppKey("setup_states", dict)
TOKEN = web.AppKey("setup_token", str)
MANIFEST_FILE = "app.yml"
STATE_LIFETIME = 3600.0  # GitHub's manifest codes live one hour too
MAX_STATES = 20  # each a page the operator opened; the oldest is dropped first
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")

log = logs.get("secbot.setup")


class SetupError(Exception):
    """Something the person at the setup page must fix; the message is safe to show."""


# -- the manifest ---------------------------------------------------------------------------------


def find_manifest() -> Path:
    """app.yml beside the package (a checkout or an editable install), else in the working directory."""
    for candidate in (Path(__file__).parent.parent / MANIFEST_FILE, Path.cwd() / MANIFEST_FILE):
        if candidate.is_file():
            return candidate
    raise SetupError(f"{MANIFEST_FILE} was not found next to Secbot or in {Path.cwd()}: run Secbot from its checkout")


def manifest_for(public_url: str, *, name: str | None = None, source: Path | None = None) -> dict[str, Any]:
    """app.yml with the scheme and host of every URL replaced by `public_url` (paths kept)."""
    manifest = yaml.safe_load((source or find_manifest()).read_text(encoding="utf-8"))
    base = public_url.rstrip("/")

    def moved(url: str) -> str:
        parts = urlsplit(url)
        return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    manifest["url"] = moved(manifest["url"])
    manifest["hook_attributes"]["url"] = moved(manifest["hook_attributes"]["url"])
    for key in ("redirect_url", "setup_url"):
        if key in manifest:
            manifest[key] = moved(manifest[key])
    manifest["callback_urls"] = [moved(u) for u in manifest.get("callback_urls", [])]
    if name:
        manifest["name"] = name
    return manifest


def public_url_of(request: web.Request, settings: Settings) -> str:
    """SECBOT_PUBLIC_URL, else the address this page was opened at (X-Forwarded-Proto honoured)."""
    if settings.public_url:
        return settings.public_url
    scheme = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    if scheme not in ("http", "https"):
        scheme = request.scheme
    return f"{scheme}://{request.host}"


def new_app_url(github_url: str, org: str | None, state: str) -> str:
    path = f"/organizations/{org}/settings/apps/new" if org else "/settings/apps/new"
    return f"{github_url.rstrip('/')}{path}?{urlencode({'state': state})}"


# -- the credentials file -------------------------------------------------------------------------


def env_file_text(app: dict[str, Any], now: dt.datetime) -> str:
    """The variables `secbot serve` needs, the private key on one line with \\n escapes."""
    slug = _one_line(app.get("slug"))
    html_url = _one_line(app.get("html_url"))
    lines = [
        f"# Secbot's GitHub App credentials, written by the setup page on {now:%Y-%m-%d %H:%M:%S} UTC.",
        "# Keep this file secret (mode 0600); `secbot serve` reads it at start.",
        f"# App: {slug} {html_url}",
        f"# Install it: {html_url}/installations/new",
        f"GITHUB_APP_ID={int(app['id'])}",
    ]
    secret = app.get("webhook_secret")
    if secret:
        lines.append(f"GITHUB_WEBHOOK_SECRET={_one_line(secret)}")
    else:
        lines.append("# GITHUB_WEBHOOK_SECRET= GitHub returned none: set one in the App's settings and here")
    pem = str(app["pem"]).strip().replace("\r\n", "\n").replace("\n", "\\n")
    lines.append(f"GITHUB_PRIVATE_KEY={pem}\\n")
    return "\n".join(lines) + "\n"


def _one_line(value: Any) -> str:
    return re.sub(r"[\r\n]+", " ", str(value or "")).strip()


def write_env_file(path: Path, text: str) -> None:
    """Create `path` with mode 0600 and write `text`; FileExistsError if it is already there."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask said
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fd = -1
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
        raise


async def convert(session: aiohttp.ClientSession, api_url: str, code: str) -> dict[str, Any]:
    """Exchange a manifest code for the new App's credentials (no authentication needed)."""
    url = f"{api_url.rstrip('/')}/app-manifests/{code}/conversions"
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION, "User-Agent": USER_AGENT}
    try:
        async with session.post(url, headers=headers) as resp:
            status, body = resp.status, await resp.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise SetupError(f"could not reach GitHub at {api_url} ({type(exc).__name__})") from None
    if status == 404:
        raise SetupError("GitHub did not know this code: codes work once and for one hour. Start again.")
    if status != 201:
        raise SetupError(f"GitHub answered {status} to the code exchange. Start again.")
    try:
        data = orjson.loads(body)
        int(data["id"])
        if "PRIVATE KEY-----" not in str(data["pem"]):
            raise ValueError
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise SetupError("GitHub's answer to the code exchange had no App id or private key") from None
    return data


# -- the views ------------------------------------------------------------------------------------


def _render(page: str, status: int = 200, **values: Any) -> web.Response:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(resources.files("templates"))), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    html = env.get_template("setup.html").render(page=page, **values)
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Referrer-Policy": "no-referrer",
                                 "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                            "form-action *; base-uri 'none'"})


def _issue_state(app: web.Application) -> str:
    states: dict[str, float] = app[STATES]
    now = time.monotonic()
    for key in [k for k, t in states.items() if now - t > STATE_LIFETIME]:
        del states[key]
    while len(states) >= MAX_STATES:
        del states[next(iter(states))]
    state = secrets.token_urlsafe(24)
    states[state] = now
    return state


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of two strings from a request (any characters)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def _without_token() -> web.Response:
    return _render("error", 403, message="Open the setup link that `secbot serve` printed when it started: "
                                         "it carries a one-time token, and this page needs it.")


def _known_state(app: web.Application, state: str) -> str | None:
    """The outstanding state equal to `state` and not expired, compared in constant time."""
    now = time.monotonic()
    found = None
    for known, issued in app[STATES].items():
        if _same(state, known) and now - issued <= STATE_LIFETIME:
            found = known
    return found


async def index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/setup")


async def setup(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    token = request.query.get("token", "")
    if not _same(token, request.app[TOKEN]):
        return _without_token()
    env_file = Path(settings.env_file)
    if env_file.exists():
        return _render("written", env_file=str(env_file), app_url=None, install_url=None, no_secret=False)
    org = request.query.get("org", "").strip() or None
    if org is not None and not _LOGIN.fullmatch(org):
        return _render("error", 400, message="That is not an organisation name GitHub would accept.")
    name = request.query.get("name", "").strip()[:34] or None
    public_url = public_url_of(request, settings)
    try:
        manifest = manifest_for(public_url, name=name)
    except (SetupError, OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        message = str(exc) if isinstance(exc, SetupError) else f"{MANIFEST_FILE} could not be read ({type(exc).__name__})"
        return _render("error", 500, message=message)
    local = urlsplit(public_url).hostname in ("localhost", "127.0.0.1", "::1")
    return _render(
        "form", action=new_app_url(settings.github_url, org, _issue_state(request.app)),
        manifest=orjson.dumps(manifest).decode(), manifest_shown=orjson.dumps(manifest, option=orjson.OPT_INDENT_2).decode(),
        org=org or "", name=manifest["name"], webhook_url=manifest["hook_attributes"]["url"],
        env_file=str(env_file), local=local, github_url=settings.github_url, token=token,
    )


async def callback(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    code = request.query.get("code", "")
    state = request.query.get("state", "")
    if not _CODE.fullmatch(code):
        return _render("error", 400, message="GitHub's answer carried no usable code. Start again at /setup.")
    state = _known_state(request.app, state) or ""
    if not state:
        return _render("error", 400, message="This setup link is unknown or expired (was Secbot restarted?). "
                                             "Start again at /setup.")
    env_file = Path(settings.env_file)
    if env_file.exists():
        # Checked before the code is spent, so the App can still be registered by fixing this.
        return _render("error", 409, message=f"{env_file} already exists: Secbot will not overwrite it. "
                                             "Move it away, or restart Secbot to use it.")
    try:
        data = await convert(request.app[SESSION], settings.api_url, code)
    except SetupError as exc:
        log.warning("setup: the manifest code exchange failed", extra={"reason": str(exc)})
        return _render("error", 502, message=str(exc))
    del request.app[STATES][state]
    app_url = _one_line(data.get("html_url"))
    try:
        write_env_file(env_file, env_file_text(data, dt.datetime.now(dt.timezone.utc)))
    except OSError as exc:
        log.error("setup: could not write the credentials file",
                  extra={"app_id": data["id"], "env_file": str(env_file), "error": type(exc).__name__})
        return _render("error", 500, message=(
            f"GitHub registered the App ({app_url}) but Secbot could not write {env_file} "
            f"({exc.strerror or type(exc).__name__}). In the App's settings generate a private key and set "
            "GITHUB_APP_ID, GITHUB_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET by hand."))
    log.info("setup: registered the GitHub App and wrote its credentials",
             extra={"app_id": data["id"], "slug": _one_line(data.get("slug")), "env_file": str(env_file)})
    return _render("written", env_file=str(env_file), app_url=app_url, install_url=f"{app_url}/installations/new",
                   no_secret=not data.get("webhook_secret"))


async def installed(request: web.Request) -> web.Response:
    return _render("installed")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "mode": "setup"})


async def no_webhooks(request: web.Request) -> web.Response:
    return web.json_response(
        {"error": "Secbot is in setup mode: it has no GitHub App credentials yet. Open /setup to register "
                  "the App, then restart Secbot."}, status=503)


async def _session(app: web.Application) -> AsyncIterator[None]:
    app[SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10))
    yield
    await app[SESSION].close()


def create_setup_app(settings: Settings, *, token: str | None = None) -> web.Application:
    """The app `secbot serve` runs when no GitHub credential is set; `token` is the one it
    printed for the operator (a random one when none is given)."""
    logs.quiet_libraries()
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[STATES] = {}
    app[TOKEN] = token or secrets.token_urlsafe(24)
    app.router.add_get("/", index)
    app.router.add_get("/setup", setup)
    app.router.add_get("/setup/callback", callback)
    app.router.add_get("/setup/installed", installed)
    app.router.add_get("/healthz", healthz)
    app.router.add_route("*", "/webhook", no_webhooks)
    app.cleanup_ctx.append(_session)
    return app
