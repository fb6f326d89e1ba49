"""Setup mode: the manifest flow against the emulator, the credentials file, and a real browser."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import yaml
from aiohttp.test_utils import TestClient

from bot.emulator import Emulator, GitHubState, run_emulator
from bot.settings import Settings, SettingsError, read_env_file, with_env_file
from bot.web import setup_page
from tests.conftest import free_port, make_settings, wait_port

ROOT = Path(__file__).parent.parent


class Forms(HTMLParser):
    """The forms of a page: action, method and their inputs' values."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "inputs": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["inputs"][a["name"]] = a.get("value") or ""


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    state = GitHubState()
    async with run_emulator(state) as emulator:
        yield emulator
    state.assert_no_violations()


def setup_settings(tmp_path: Path, emu: Emulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(webhook_secret=None, api_url=emu.base_url, github_url=emu.base_url,
                                  env_file=str(tmp_path / "secbot.env"), public_url="https://secbot.example.org")
    values.update(overrides)
    return make_settings(**values)


TOKEN = "operator-token-printed-by-serve"


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, emu: Emulator) -> TestClient:
    return await aiohttp_client(setup_page.create_setup_app(setup_settings(tmp_path, emu), token=TOKEN))


async def register(client: TestClient, emu: Emulator, query: str = "") -> aiohttp.ClientResponse:
    """Open /setup with the operator's token, post its form to the emulator as a browser would,
    follow GitHub's redirect back."""
    page = await client.get(f"/setup?token={TOKEN}" + query.replace("?", "&"))
    assert page.status == 200
    form = Forms(await page.text()).forms[-1]
    assert form["method"] == "post"
    async with aiohttp.ClientSession() as browser:
        async with browser.post(form["action"], data={"manifest": form["inputs"]["manifest"]},
                                allow_redirects=False) as resp:
            assert resp.status == 302
            back = urlsplit(resp.headers["Location"])
    assert back.netloc == "secbot.example.org" and back.path == "/setup/callback"
    return await client.get(f"/setup/callback?{back.query}")


# -- settings and the env file ----------------------------------------------------------------------


def test_setup_mode_only_when_no_credential_at_all() -> None:
    assert Settings.from_env({}).setup_mode
    assert not Settings.from_env({"GITHUB_APP_ID": "1"}).setup_mode
    assert not Settings.from_env({"GITHUB_WEBHOOK_SECRET": "s"}).setup_mode


def test_serve_with_some_credentials_refuses_naming_the_missing_one(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
           "GITHUB_WEBHOOK_SECRET": "s", "SECBOT_ENV_FILE": str(tmp_path / "none.env")}
    proc = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode != 0 and "GITHUB_APP_ID" in proc.stderr


def test_env_file_values_lose_to_the_real_environment(tmp_path: Path) -> None:
    path = tmp_path / "secbot.env"
    path.write_text("# comment\n\nGITHUB_APP_ID=12\nexport LOG_LEVEL='DEBUG'\nPORT=\"4000\"\n")
    env, used = with_env_file({"SECBOT_ENV_FILE": str(path), "PORT": "5000"})
    assert used == str(path)
    assert env["GITHUB_APP_ID"] == "12" and env["LOG_LEVEL"] == "DEBUG" and env["PORT"] == "5000"
    assert with_env_file({"SECBOT_ENV_FILE": str(tmp_path / "missing.env")}) == (
        {"SECBOT_ENV_FILE": str(tmp_path / "missing.env")}, None)


def test_a_bad_env_file_line_is_named_without_its_value(tmp_path: Path) -> None:
    path = tmp_path / "secbot.env"
    path.write_text("GITHUB_APP_ID=12\nthis is hunter2\n")
    with pytest.raises(SettingsError) as err:
        read_env_file(path)
    assert f"{path}:2" in str(err.value) and "hunter2" not in str(err.value)


def test_manifest_urls_point_at_the_public_url_and_keep_their_paths() -> None:
    m = setup_page.manifest_for("https://bot.example.net/", name="Acme Secbot")
    assert m["hook_attributes"]["url"] == "https://bot.example.net/webhook"
    assert m["redirect_url"] == "https://bot.example.net/setup/callback"
    assert m["setup_url"] == "https://bot.example.net/setup/installed"
    assert m["callback_urls"] == ["https://bot.example.net/setup/installed"]
    assert m["name"] == "Acme Secbot"
    original = yaml.safe_load((ROOT / "app.yml").read_text())
    assert m["default_permissions"] == original["default_permissions"]
    assert m["default_events"] == original["default_events"]


# -- the setup app --------------------------------------------------------------------------------


async def test_setup_mode_serves_only_the_setup_routes(client: TestClient) -> None:
    resp = await client.get("/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/setup"
    assert (await client.get("/healthz")).status == 200
    assert (await (await client.get("/healthz")).json())["mode"] == "setup"
    resp = await client.post("/webhook", data=b"{}")
    assert resp.status == 503 and "setup mode" in (await resp.json())["error"]
    assert (await client.get("/metrics")).status == 404
    assert (await client.get("/setup/installed")).status == 200


async def test_setup_form_posts_the_manifest_to_github(client: TestClient, emu: Emulator) -> None:
    resp = await client.get(f"/setup?token={TOKEN}")
    assert resp.headers["Cache-Control"] == "no-store"
    [update, register_form] = Forms(await resp.text()).forms
    assert update["action"] == "/setup" and update["inputs"]["token"] == TOKEN  # updating keeps the token
    action = urlsplit(register_form["action"])
    assert f"{action.scheme}://{action.netloc}" == emu.base_url and action.path == "/settings/apps/new"
    assert parse_qs(action.query)["state"][0]
    manifest = json.loads(register_form["inputs"]["manifest"])
    assert manifest["hook_attributes"]["url"] == "https://secbot.example.org/webhook"
    assert manifest["default_permissions"]["contents"] == "read"


async def test_setup_form_for_an_organisation(client: TestClient) -> None:
    form = Forms(await (await client.get(f"/setup?token={TOKEN}&org=octo-org&name=Octo+Secbot")).text()).forms[-1]
    assert urlsplit(form["action"]).path == "/organizations/octo-org/settings/apps/new"
    assert json.loads(form["inputs"]["manifest"])["name"] == "Octo Secbot"
    assert (await client.get(f"/setup?token={TOKEN}&org=../../evil")).status == 400


async def test_callback_writes_the_credentials_0600_and_shows_no_secret(
        client: TestClient, emu: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    resp = await register(client, emu, "?org=octo-org")
    page = await resp.text()
    assert resp.status == 200, page
    state = emu.state
    env_file = tmp_path / "secbot.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = read_env_file(env_file)
    assert values["GITHUB_APP_ID"] == str(state.app_id)
    assert values["GITHUB_WEBHOOK_SECRET"] == state.webhook_secret
    settings = Settings.from_env(values)
    assert settings.private_key is not None and settings.private_key.get().strip() == state.private_key_pem.strip()
    assert f"{state.app['html_url']}/installations/new" in page
    key_line = state.private_key_pem.splitlines()[1]
    for secret in (state.webhook_secret, key_line):
        assert secret not in page and secret not in caplog.text
    [posted] = state.manifests
    assert posted["org"] == "octo-org" and posted["manifest"]["redirect_url"].endswith("/setup/callback")
    # The page now says the credentials are written instead of offering to register again.
    again = await client.get(f"/setup?token={TOKEN}")
    assert "already in" in await again.text() and not Forms(await again.text()).forms


async def test_callback_never_overwrites_an_existing_env_file(client: TestClient, emu: Emulator, tmp_path: Path) -> None:
    page = await client.get(f"/setup?token={TOKEN}")
    form = Forms(await page.text()).forms[-1]
    env_file = tmp_path / "secbot.env"
    env_file.write_text("GITHUB_APP_ID=1\n")
    code = emu.state.new_manifest_code()
    state = parse_qs(urlsplit(form["action"]).query)["state"][0]
    resp = await client.get(f"/setup/callback?code={code}&state={state}")
    assert resp.status == 409 and "will not overwrite" in await resp.text()
    assert env_file.read_text() == "GITHUB_APP_ID=1\n"
    assert code in emu.state.manifest_codes  # not spent: the registration can still be finished


async def test_callback_refuses_an_unknown_state_or_a_spent_code(client: TestClient, emu: Emulator, tmp_path: Path) -> None:
    code = emu.state.new_manifest_code()
    resp = await client.get(f"/setup/callback?code={code}&state=forged")
    assert resp.status == 400 and code in emu.state.manifest_codes
    page = await client.get(f"/setup?token={TOKEN}")
    state = parse_qs(urlsplit(Forms(await page.text()).forms[-1]["action"]).query)["state"][0]
    resp = await client.get(f"/setup/callback?code=not-a-code&state={state}")
    assert resp.status == 502 and "Start again" in await resp.text()
    assert not (tmp_path / "secbot.env").exists()


def state_of(page_html: str) -> str:
    return parse_qs(urlsplit(Forms(page_html).forms[-1]["action"]).query)["state"][0]


@pytest.mark.parametrize("query", ["", "?token=", "?token=guess", f"?token={TOKEN[:-1]}", f"?token={TOKEN}x",
                                   "?token=%C3%A9%ED%A0%80", f"?TOKEN={TOKEN}", "?org=octo-org"])
async def test_setup_without_the_token_is_refused_and_mints_no_state(client: TestClient, query: str) -> None:
    resp = await client.get("/setup" + query)
    text = await resp.text()
    assert resp.status == 403 and "printed" in text
    assert not Forms(text).forms and "state=" not in text
    assert client.app[setup_page.STATES] == {}


async def test_an_attacker_without_the_token_cannot_complete_the_callback_nor_push_out_the_operators_state(
        client: TestClient, emu: Emulator, tmp_path: Path) -> None:
    operators = state_of(await (await client.get(f"/setup?token={TOKEN}")).text())
    for _ in range(200):  # the attacker hammers the page: no state for them, none pushed out
        assert (await client.get("/setup")).status == 403
    attackers_code = emu.state.new_manifest_code()  # from registering an App of their own
    for forged in ("", "forged", operators[:-1], operators + "x", "é" * 10):
        resp = await client.get(f"/setup/callback?code={attackers_code}&state={forged}")
        assert resp.status == 400
    assert attackers_code in emu.state.manifest_codes and not (tmp_path / "secbot.env").exists()
    assert list(client.app[setup_page.STATES]) == [operators]
    code = emu.state.new_manifest_code()  # the operator's own registration still goes through
    resp = await client.get(f"/setup/callback?code={code}&state={operators}")
    assert resp.status == 200 and (tmp_path / "secbot.env").exists()
    assert client.app[setup_page.STATES] == {}  # a state works once


async def test_the_operator_has_at_most_a_bounded_number_of_outstanding_states(client: TestClient) -> None:
    states = [state_of(await (await client.get(f"/setup?token={TOKEN}")).text())
              for _ in range(setup_page.MAX_STATES + 5)]
    assert list(client.app[setup_page.STATES]) == states[5:]  # the oldest went first


def test_serve_in_setup_mode_prints_a_one_time_token_and_the_page_asks_for_it(tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
           "SECBOT_ENV_FILE": str(tmp_path / "secbot.env")}
    log = tmp_path / "setup.log"
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_port(port, proc, log)
        token = printed_token(log)
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/setup", timeout=10)
        assert refused.value.code == 403
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/setup?token={token}", timeout=10) as page:
            assert page.status == 200 and "state=" in page.read().decode()
    finally:
        proc.terminate()
        proc.wait(20)
    assert len(token) >= 32 and printed_token(log) == token


def printed_token(log: Path) -> str:
    found = re.search(r"/setup\?token=([A-Za-z0-9_-]+)", log.read_text())
    assert found, log.read_text()
    return found.group(1)


def test_write_env_file_ignores_the_umask_and_refuses_existing_files(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "c.env"
        setup_page.write_env_file(path, "A=1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        setup_page.write_env_file(path, "A=2\n")
    assert path.read_text() == "A=1\n"


# -- the whole flow in a real browser ---------------------------------------------------------------

BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]


def chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", browser), ("chromium-driver", driver)) if not path]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        reason = f"the browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert browser and driver
    return browser, driver


class Serve:
    """`python -m bot serve` in a subprocess, with exactly the environment given."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env={**env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=log.open("wb"))

    async def healthz(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as s:
            while True:
                assert self.proc.poll() is None, f"secbot serve exited: {self.log.read_text()}"
                try:
                    async with s.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return dict(await resp.json())
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, f"secbot serve did not come up: {self.log.read_text()}"
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def servers() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for server in started:
        server.stop()


def drive_browser(browser: str, driver: str, setup_url: str) -> tuple[str, str, str]:
    """Open /setup, press Register, let the emulator send the browser back; the last page's text,
    its URL and where its install link goes."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    web = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        web.set_page_load_timeout(30)
        web.get(setup_url)
        assert "Secbot setup" in web.title
        web.find_element(By.ID, "register").click()
        WebDriverWait(web, 30).until(ec.presence_of_element_located((By.ID, "done")))
        install = web.find_element(By.ID, "install").get_attribute("href") or ""
        return web.find_element(By.TAG_NAME, "body").text, web.current_url, install
    finally:
        web.quit()


@pytest.mark.slow
async def test_setup_page_in_a_real_browser_registers_the_app_and_serve_then_runs_normally(
        tmp_path: Path, emu: Emulator, servers: list[Serve]) -> None:
    browser, driver = chromium()
    env_file = tmp_path / "secbot.env"
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'secbot.db'}", "SECBOT_ENV_FILE": str(env_file),
           "GITHUB_URL": emu.base_url, "GITHUB_API_URL": emu.base_url, "LOG_FORMAT": "json",
           "SECBOT_METRICS_PORT": "0"}
    setup = Serve(env, tmp_path / "setup.log")
    servers.append(setup)
    assert (await setup.healthz())["mode"] == "setup"

    token = printed_token(tmp_path / "setup.log")  # the link `serve` printed for the operator
    text, url, install = await asyncio.to_thread(drive_browser, browser, driver, f"{setup.url}/setup?token={token}")
    assert urlsplit(url).path == "/setup/callback"
    assert "registered" in text and "Restart Secbot" in text
    assert install == f"{emu.state.app['html_url']}/installations/new"
    assert emu.state.webhook_secret not in text
    [posted] = emu.state.manifests
    assert posted["manifest"]["hook_attributes"]["url"] == f"{setup.url}/webhook"  # filled from the request
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = read_env_file(env_file)
    assert values["GITHUB_APP_ID"] == str(emu.state.app_id)
    assert values["GITHUB_WEBHOOK_SECRET"] == emu.state.webhook_secret
    assert values["GITHUB_PRIVATE_KEY"].replace("\\n", "\n").strip() == emu.state.private_key_pem.strip()
    setup.stop()
    log = (tmp_path / "setup.log").read_text()
    assert emu.state.webhook_secret not in log and emu.state.private_key_pem.splitlines()[1] not in log

    normal = Serve(env, tmp_path / "serve.log")  # the same environment: the credentials come from the file
    servers.append(normal)
    health = await normal.healthz()
    assert health["ok"] and "mode" not in health
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{normal.url}/webhook", data=b"{}") as resp:
            assert resp.status == 401  # signature checked with the written secret: normal mode
    # Authenticated as the new App: by serve, or by its worker process (serve's default), which
    # asks once it has started (a second or two after serve answers).
    for _ in range(150):
        if any(r.path == "/app" and r.status == 200 for r in emu.state.requests):
            break
        await asyncio.sleep(0.1)
    assert any(r.path == "/app" and r.status == 200 for r in emu.state.requests)
