"""The image and the compose stack, built and run for real (issue 21).

The Dockerfile is built as users build it, but from what a machine without an image registry or
a package index has: a Debian bookworm base made with debootstrap and a wheelhouse made on this
machine (`--build-arg BASE=… --build-arg WHEELS=…`). Both are kept as image tags and reused while
their recipe (tests/container/bootstrap.sh; pyproject.toml) is unchanged. Then:

- one container: non-root, /healthz, a signed delivery stored, its own HEALTHCHECK healthy,
  SQLite and secbot.env in the /data volume surviving a new container, setup mode without
  credentials, nothing in the image that should not be there;
- compose.yaml: PostgreSQL, two replicas and nginx (the official postgres and nginx images, which
  no registry here serves, replaced by stand-ins from Debian's packages: tests/container/
  compose.offline.yaml), a burst of deliveries through the proxy stored once each and run once
  each, and `down`/`up` keeping it all.

Each step prints one line. Skipped, saying why, where no Docker engine runs; under CI a missing
debootstrap or compose is a failure (.ci/run installs them).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import FIXTURES, WEBHOOK_SECRET, delivery_headers, free_port

ROOT = Path(__file__).parent.parent
HERE = Path(__file__).parent / "container"
IN_CI = bool(os.environ.get("CI"))
pytestmark = pytest.mark.slow

RUN = uuid.uuid4().hex[:8]  # names this run's containers, volumes and compose project
UID = 10001  # the Dockerfile's secbot user
BURST = 200  # distinct deliveries sent through the proxy
REPEATS = 50  # of them sent a second time within the same burst
PEM_KEY = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]{64,}-----END")  # a key, not the word
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# -- plumbing ------------------------------------------------------------------------------------


def say(config: Any, line: str) -> None:
    """Print one line of the test's account, past pytest's capture."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"container: {line}", flush=True)


def sh(*cmd: str, input: str | bytes | None = None, timeout: float = 120, check: bool = True,
       env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    text = not isinstance(input, bytes)
    proc = subprocess.run(cmd, input=input, capture_output=True, text=text, timeout=timeout, env=env, cwd=cwd)
    if check and proc.returncode != 0:
        out, err = (proc.stdout, proc.stderr) if text else (proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace"))
        raise AssertionError(f"{' '.join(cmd[:6])} … exited {proc.returncode}:\n{out[-2000:]}\n{err[-3000:]}")
    return proc


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 10) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with _opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(what: str, check: Callable[[], bool], timeout: float, logs: Callable[[], str] = lambda: "") -> float:
    """Poll `check` until it holds; the seconds it took. Fails with `logs()` after `timeout`."""
    start = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - start
        except (OSError, urllib.error.URLError, ConnectionError):
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs()[-4000:]}")
        time.sleep(0.3)


def healthz_ok(url: str) -> Callable[[], bool]:
    return lambda: http("GET", url + "/healthz", timeout=3)[0] == 200


def image_exists(tag: str) -> bool:
    return sh("docker", "image", "inspect", tag, check=False).returncode == 0


def image_mb(tag: str) -> float:
    return int(sh("docker", "image", "inspect", "-f", "{{.Size}}", tag).stdout) / 1e6


def digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:12]


def needs(tool: str, why: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} is not installed ({why}): apt-get install {tool}"
        if IN_CI:
            pytest.fail(message + "; .ci/run installs it")
        pytest.skip(message)


def pem_one_line() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
    return text.strip().replace("\n", "\\n")


def env_file_text() -> str:
    """What the setup page writes to SECBOT_ENV_FILE, for an App made up here. GitHub's API is a
    closed port: the deliveries sent carry no installation, so their handlers call nothing."""
    return (f"GITHUB_APP_ID=1\nGITHUB_PRIVATE_KEY={pem_one_line()}\nGITHUB_WEBHOOK_SECRET={WEBHOOK_SECRET}\n"
            "GITHUB_API_URL=http://127.0.0.1:9\n")


def issue_delivery(number: int, delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
    """A real `issues.opened` payload (no installation), signed with the test secret."""
    data = json.loads((FIXTURES / "webhooks" / "issues.opened.json").read_text())
    assert "installation" not in data
    data["issue"]["number"] = number
    body = json.dumps(data).encode()
    return body, delivery_headers("issues", body, delivery=delivery or str(uuid.uuid4()))


# -- the images ----------------------------------------------------------------------------------


@dataclass
class Images:
    base: str
    services: str
    wheels: str
    secbot: str


@pytest.fixture(scope="module")
def engine(request: Any) -> None:
    if shutil.which("docker") is None:
        pytest.skip("Docker is not installed here (apt-get install docker.io; .ci/run does it)")
    info = sh("docker", "info", "--format", "{{.ServerVersion}} {{.Driver}}", check=False, timeout=30)
    if info.returncode != 0:
        pytest.skip(f"no Docker engine runs here (start dockerd; .ci/run does it): {info.stderr.strip()[:300]}")
    say(request.config, f"Docker engine {info.stdout.strip()}")


def dangling() -> set[str]:
    """Untagged images and unused volumes: a build's stages and containers' anonymous volumes."""
    return {*sh("docker", "image", "ls", "--quiet", "--no-trunc", "--filter", "dangling=true").stdout.split(),
            *(f"volume:{v}" for v in sh("docker", "volume", "ls", "--quiet", "--filter", "dangling=true").stdout.split())}


def forget_other_tags(*tags: str) -> None:
    """Remove the images of an older recipe (another tag of the same name), which nothing uses now."""
    for tag in tags:
        name = tag.split(":")[0]
        for other in sh("docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name).stdout.split():
            if other != tag:
                sh("docker", "image", "rm", other, check=False)


@pytest.fixture(scope="module")
def images(engine: None, request: Any) -> Iterator[Images]:
    before = dangling()
    recipe = digest((HERE / "bootstrap.sh").read_bytes())
    base, services = f"secbot-test/base:{recipe}", f"secbot-test/services:{recipe}"
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    wheels = f"secbot-test/wheels:{digest((ROOT / 'pyproject.toml').read_bytes(), py.encode())}"
    # One machine, one bootstrap: a second run waits for the first rather than doing it again.
    with open(Path(tempfile.gettempdir()) / "secbot-test-images.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(base) and image_exists(services):
            say(request.config, f"bases reused: {base} ({image_mb(base):.0f} MB), {services} ({image_mb(services):.0f} MB)")
        else:
            needs("debootstrap", "it makes the Debian base the image is built on without an image registry")
            if os.geteuid() != 0:
                pytest.skip("debootstrap needs root to make the base image")
            started = time.monotonic()
            sh("bash", str(HERE / "bootstrap.sh"), base, services, timeout=900)
            say(request.config, f"bases bootstrapped from Debian's packages in {time.monotonic() - started:.0f} s: "
                                f"{base} ({image_mb(base):.0f} MB), {services} ({image_mb(services):.0f} MB)")
            forget_other_tags(base, services)
        if image_exists(wheels):
            say(request.config, f"wheelhouse reused: {wheels}")
        else:
            # Debian bookworm's python3 is 3.11: the wheels must be built for the same Python.
            if py != "cp311":
                pytest.skip(f"the wheelhouse is built with this Python ({py}); the Debian base has 3.11")
            started = time.monotonic()
            # Secbot's dependencies and its build backend; Secbot itself is built in the image.
            project = tomllib.loads((ROOT / "pyproject.toml").read_text())
            requirements = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
            with tempfile.TemporaryDirectory() as work:
                sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
                   "--wheel-dir", f"{work}/wheels", *requirements, timeout=600)
                buf = io.BytesIO()
                with tarfile.open(fileobj=buf, mode="w") as tar:
                    tar.add(f"{work}/wheels", arcname="wheels")
            sh("docker", "import", "-", wheels, input=buf.getvalue())
            say(request.config, f"wheelhouse built in {time.monotonic() - started:.0f} s: {wheels}")
            forget_other_tags(wheels)

    secbot = f"secbot-test/secbot:{RUN}"
    try:
        started = time.monotonic()
        sh("docker", "build", "--no-cache", "--force-rm", "--build-arg", f"BASE={base}",
           "--build-arg", f"WHEELS={wheels}", "--tag", secbot, str(ROOT), timeout=900)
        say(request.config, f"build: {time.monotonic() - started:.0f} s (Dockerfile as it is, BASE={base}, "
                            f"WHEELS={wheels}, --no-cache)")
        say(request.config, f"image size: {image_mb(secbot):.0f} MB ({image_mb(base):.0f} MB of it the base)")
        yield Images(base, services, wheels, secbot)
    finally:
        # What this run left: its image, the build's stage images, the anonymous /data volumes
        # of the compose replicas taken down (without --volumes, to keep PostgreSQL's) before the end.
        sh("docker", "image", "rm", "--force", secbot, check=False)
        for left in dangling() - before:
            if left.startswith("volume:"):
                sh("docker", "volume", "rm", left.removeprefix("volume:"), check=False)
            else:
                sh("docker", "image", "rm", left, check=False)


# -- one container -------------------------------------------------------------------------------


class Container:
    """One `docker run -d` of the image on a published loopback port."""

    def __init__(self, image: str, volume: str, name: str) -> None:
        self.port = free_port()
        self.name = name
        sh("docker", "run", "--detach", "--name", name, "--volume", f"{volume}:/data",
           "--publish", f"127.0.0.1:{self.port}:3000", image)
        self.url = f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        out = sh("docker", "logs", self.name, check=False)
        return out.stdout + out.stderr

    def inspect(self, fmt: str) -> str:
        return sh("docker", "inspect", "--format", fmt, self.name).stdout.strip()

    def exec(self, *cmd: str) -> str:
        return sh("docker", "exec", self.name, *cmd).stdout

    def jobs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.exec("secbot", "jobs", "--json").splitlines() if line.strip()]

    def stop(self) -> float:
        started = time.monotonic()
        sh("docker", "stop", "--time", "20", self.name, timeout=60)
        took = time.monotonic() - started
        sh("docker", "rm", self.name)
        return took


@pytest.fixture
def cleanup() -> Iterator[list[list[str]]]:
    """Commands run at the end, whatever happened (newest first)."""
    undo: list[list[str]] = []
    yield undo
    for cmd in reversed(undo):
        sh(*cmd, check=False, timeout=120)


def setup_page(c: Container) -> tuple[int, str, str]:
    """GET the setup page as its log says to: with the one-time token if `serve` printed one."""
    log = c.logs()
    tried: list[str] = []
    for url in re.findall(r"https?://\S+/setup\S*", log):
        path = "/setup" + url.split("/setup", 1)[1].rstrip(".,;)'\"")
        if "?" in path:
            tried.append(path)
    tried += [f"/setup?token={t}" for t in re.findall(r"token\W{1,3}([A-Za-z0-9_-]{8,})", log)]
    tried.append("/setup")
    for path in dict.fromkeys(tried):
        status, body = http("GET", c.url + path)
        if status == 200 or path == "/setup":
            return status, body.decode(errors="replace"), path
    raise AssertionError("unreachable")


def test_the_image_runs_as_documented(images: Images, cleanup: list[list[str]], request: Any) -> None:
    say_ = lambda line: say(request.config, line)  # noqa: E731
    image = images.secbot

    # What went into the image: Secbot's package and app.yml, nothing of the checkout beside them.
    cid = sh("docker", "create", image).stdout.strip()
    cleanup.append(["docker", "rm", "--volumes", cid])
    exported = subprocess.run(["docker", "export", cid], capture_output=True, check=True, timeout=300).stdout
    keys: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
        members = tar.getmembers()
        for m in members:
            if m.isfile() and m.size < 1_000_000:
                data = tar.extractfile(m).read()  # type: ignore[union-attr]
                if PEM_KEY.search(data) or WEBHOOK_SECRET.encode() in data:
                    keys.append(m.name)
    paths = {m.name.removeprefix("./") for m in members}
    # A copy of the checkout's tests, scripts, benchmarks or CI would show several of their files
    # below one folder (a dependency's own tests folder may share a name or two with ours).
    ours = sh("git", "ls-files", "tests", "scripts", "bench", ".ci", cwd=ROOT).stdout.split()
    copies: dict[str, list[str]] = {}
    for p in paths:
        for o in ours:
            if p == o or p.endswith("/" + o):
                copies.setdefault(p[: len(p) - len(o)], []).append(p)
    leaked = {
        "the checkout's tests, scripts, bench or .ci": [f for fs in copies.values() if len(fs) > 1 for f in fs],
        ".git": [p for p in paths if ".git" in p.split("/")],
        "private keys, the test's secret": keys,
        "credentials files or databases": [p for p in paths if p.endswith(("secbot.env", ".env", ".db", ".key"))],
        "build leftovers": [p for p in paths if p.split("/")[0] in ("src", "wheels")],
    }
    assert not any(leaked.values()), leaked
    assert any(p.endswith("site-packages/bot/__main__.py") for p in paths) and "app/app.yml" in paths
    env = json.loads(sh("docker", "image", "inspect", "--format", "{{json .Config.Env}}", image).stdout)
    assert not [e for e in env if e.startswith("GITHUB_")], env
    say_(f"contents: {len(members)} entries; no tests or other files of the checkout, no .git, no private key "
         "or credentials file, no database, no build leftovers")
    assert sh("docker", "image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip() == "secbot"

    volume = f"secbot-test-data-{RUN}"
    cleanup.append(["docker", "volume", "rm", "--force", volume])
    sh("docker", "volume", "create", volume)

    # Setup mode: no credentials anywhere, so the setup page, and no webhooks.
    c = Container(image, volume, f"secbot-test-setup-{RUN}")
    cleanup.append(["docker", "rm", "--force", "--volumes", c.name])
    wait_for("the setup-mode container's /healthz", healthz_ok(c.url), 60, c.logs)
    status, page, path = setup_page(c)
    if status == 200:
        assert "hook_attributes" in page and "/webhook" in page, page[:2000]
        say_(f"setup mode without credentials: GET {path.split('?')[0]}{' (with the token from its log)' if '?' in path else ''}"
             " 200, the App manifest form")
    else:
        assert status in (401, 403), (status, page[:2000])
        say_(f"setup mode without credentials: GET /setup {status}, refused without the one-time token: "
             f"{' '.join(page.split())[:120]}")
    assert http("POST", c.url + "/webhook", b"{}")[0] == 503
    c.stop()

    # The credentials arrive in the volume, where the setup page writes them (mode 0600).
    sh("docker", "run", "--rm", "--interactive", "--volume", f"{volume}:/data", "--entrypoint", "sh", image,
       "-c", "umask 077 && cat > /data/secbot.env", input=env_file_text())

    c = Container(image, volume, f"secbot-test-serve-{RUN}")
    cleanup.append(["docker", "rm", "--force", "--volumes", c.name])
    started = time.monotonic()
    wait_for("/healthz", healthz_ok(c.url), 60, c.logs)
    status, body = http("GET", c.url + "/healthz")
    say_(f"/healthz {status} {body.decode().strip()} ({time.monotonic() - started:.1f} s after docker run)")

    top = sh("docker", "top", c.name, "-eo", "pid,uid,args").stdout.splitlines()[1:]
    uids = {int(line.split()[1]) for line in top}
    assert uids == {UID} and any("secbot serve" in line for line in top), top
    say_(f"processes: {len(top)} ({'; '.join(' '.join(line.split()[2:]) for line in top)}), all uid {UID} (secbot), none root")

    body, headers = issue_delivery(1)
    delivery = headers["X-GitHub-Delivery"]
    status, answer = http("POST", c.url + "/webhook", body, headers)
    assert status == 202, (status, answer)
    wait_for("the delivery's job to be done",
             lambda: any(j["delivery_id"] == delivery and j["state"] == "done" for j in c.jobs()), 30, c.logs)
    [job] = [j for j in c.jobs() if j["delivery_id"] == delivery]
    assert job["attempts"] == 1 and job["event"] == "issues.opened", job
    say_(f"signed issues.opened: 202, stored and run (secbot jobs: job {job['id']} {job['state']}, attempts 1)")

    listing = c.exec("ls", "-ln", "/data")
    mounts = json.loads(c.inspect("{{json .Mounts}}"))
    assert [(m["Type"], m["Name"], m["Destination"]) for m in mounts] == [("volume", volume, "/data")], mounts
    files = {line.split()[-1]: line.split() for line in listing.splitlines() if line.startswith("-")}
    assert "secbot.db" in files and "secbot.env" in files, listing
    assert files["secbot.env"][0] == "-rw-------" and files["secbot.env"][2] == str(UID), listing
    say_(f"/data is the volume {volume}: secbot.db, secbot.env (-rw------- uid {UID})")

    wait_for("the container's HEALTHCHECK to report healthy",
             lambda: c.inspect("{{.State.Health.Status}}") == "healthy", 100, c.logs)
    health = json.loads(c.inspect("{{json .State.Health}}"))
    say_(f"HEALTHCHECK (the image's own: interval 30 s): healthy {time.monotonic() - started:.0f} s after start, "
         f"last probe exit {health['Log'][-1]['ExitCode']}")

    stop = c.stop()
    assert stop < 15, f"docker stop took {stop:.1f} s: `secbot serve` did not stop on SIGTERM"
    c = Container(image, volume, f"secbot-test-again-{RUN}")
    cleanup.append(["docker", "rm", "--force", "--volumes", c.name])
    wait_for("/healthz after the restart", healthz_ok(c.url), 60, c.logs)
    kept = [j for j in c.jobs() if j["delivery_id"] == delivery]
    assert kept and kept[0]["state"] == "done", kept
    status, answer = http("POST", c.url + "/webhook", body, headers)
    assert status == 200 and json.loads(answer)["duplicate"] is True, (status, answer)
    assert "secbot.env" in c.exec("ls", "/data")
    say_(f"stopped in {stop:.1f} s (SIGTERM), removed, a new container on the same volume: the delivery is still "
         "there, its redelivery answered 200 duplicate, the credentials still read")
    c.stop()


# -- compose.yaml ----------------------------------------------------------------------------------


def compose_command() -> list[str]:
    if sh("docker", "compose", "version", check=False).returncode == 0:
        return ["docker", "compose"]
    needs("docker-compose", "it brings compose.yaml up")
    return ["docker-compose"]


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 if absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if m and m.group(1) == name and ",".join(sorted((m.group(2) or "").split(","))) == want:
            return float(m.group(3))
    return 0.0


def test_compose_runs_two_replicas_behind_nginx_on_one_postgresql(images: Images, request: Any, tmp_path: Path) -> None:
    say_ = lambda line: say(request.config, line)  # noqa: E731
    compose = compose_command()
    version = sh(*compose, "version", "--short", check=False).stdout.strip() or sh(*compose, "version").stdout.split("\n")[0]
    stand_ins = {}
    for target in ("postgres", "nginx"):
        stand_ins[target] = f"secbot-test/{target}:{images.services.split(':')[1]}"
        sh("docker", "build", "--quiet", "--force-rm", "--file", str(HERE / "stand-ins.Dockerfile"), "--target", target,
           "--build-arg", f"SERVICES={images.services}", "--tag", stand_ins[target], str(HERE), timeout=300)
        forget_other_tags(stand_ins[target])

    # The project: compose.yaml as it is, the offline override, and the App's credentials.
    project = tmp_path / "deploy"
    project.mkdir()
    shutil.copy(ROOT / "compose.yaml", project / "compose.yaml")
    shutil.copy(HERE / "compose.offline.yaml", project / "compose.offline.yaml")
    (project / "secbot.env").write_text(env_file_text())
    (project / "secbot.env").chmod(0o600)
    port = free_port()
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": f"secbot-test-{RUN}",
        "POSTGRES_PASSWORD": secrets.token_hex(12),
        "PROXY_PORT": f"127.0.0.1:{port}",
        "SECBOT_TEST_IMAGE": images.secbot,
        "SECBOT_TEST_POSTGRES_IMAGE": stand_ins["postgres"],
        "SECBOT_TEST_NGINX_IMAGE": stand_ins["nginx"],
    }
    dc = [*compose, "--file", "compose.yaml", "--file", "compose.offline.yaml"]

    def run(*args: str, timeout: float = 180, check: bool = True) -> str:
        return sh(*dc, *args, env=env, cwd=project, timeout=timeout, check=check).stdout

    def logs() -> str:
        return run("logs", "--no-color", "--tail", "60", check=False)

    def psql(sql: str) -> list[list[str]]:
        out = run("exec", "-T", "db", "psql", "-U", "secbot", "-d", "secbot", "-AtF", "|", "-c", sql)
        return [line.split("|") for line in out.splitlines() if line]

    def metrics_of(replica: str) -> str:
        # Metrics have a listener of their own (SECBOT_METRICS_PORT, 3001), never the webhook port.
        return run("exec", "-T", replica, "python", "-c",
                   "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:3001/metrics').read().decode())")

    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        run("up", "--detach", "--no-build", timeout=300)
        wait_for("/healthz through nginx", healthz_ok(url), 120, logs)
        ps = run("ps")
        say_(f"compose ({' '.join(compose)} {version}) up: db, secbot-1, secbot-2, proxy; /healthz 200 through "
             f"nginx {time.monotonic() - started:.0f} s after `up`")
        assert all(name in ps for name in ("db", "secbot-1", "secbot-2", "proxy")), ps

        # The burst: every delivery once, some of them twice, all at once through the one port.
        sends = [issue_delivery(1000 + i) for i in range(BURST)]
        sends += sends[:REPEATS]
        order = sorted(range(len(sends)), key=lambda i: hashlib.sha256(f"{RUN}{i}".encode()).digest())
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(lambda i: http("POST", url + "/webhook", *sends[i], timeout=30)[0], order))
        sent_in = time.monotonic() - started
        answered = {s: statuses.count(s) for s in set(statuses)}
        assert answered == {202: BURST, 200: REPEATS}, f"{answered}\n{logs()[-6000:]}"
        wait_for("every job of the burst to be done",
                 lambda: psql("SELECT count(*) FROM jobs WHERE event = 'issues.opened' AND state = 'done'") == [[str(BURST)]],
                 90, logs)
        [[stored, distinct, done, once]] = psql(
            "SELECT count(*), count(DISTINCT delivery_id), count(*) FILTER (WHERE state = 'done'), "
            "count(*) FILTER (WHERE attempts = 1) FROM jobs WHERE event = 'issues.opened'")
        assert int(stored) == int(distinct) == int(done) == int(once) == BURST, (stored, distinct, done, once)
        taken: dict[str, tuple[float, float]] = {}

        def counted() -> bool:
            for replica in ("secbot-1", "secbot-2"):
                text = metrics_of(replica)
                taken[replica] = (metric(text, "secbot_webhook_deliveries_total", event="issues", outcome="stored"),
                                  metric(text, "secbot_job_duration_seconds_count", kind="webhook", outcome="done"))
            return sum(t[1] for t in taken.values()) >= BURST

        # The jobs run in each replica's worker process (serve's default, --workers-processes), which
        # sends its tally to serve's /metrics every few seconds.
        wait_for("the worker processes' job counts on the replicas' /metrics", counted, 30, logs)
        assert sum(t[0] for t in taken.values()) == BURST and sum(t[1] for t in taken.values()) == BURST, taken
        assert all(t[0] > 0 and t[1] > 0 for t in taken.values()), taken
        say_(f"burst through nginx: {len(sends)} requests ({BURST} deliveries, {REPEATS} of them twice) in "
             f"{sent_in:.1f} s at 16 connections: {answered[202]} answered 202, {answered[200]} 200 duplicate")
        say_(f"PostgreSQL: {stored} jobs stored (one per delivery), {done} done, {once} run in one attempt")
        say_("replicas that took work: " + ", ".join(
            f"{r} stored {int(s)} and ran {int(j)} jobs" for r, (s, j) in taken.items())
            + f"; runs add up to {int(sum(t[1] for t in taken.values()))}, each job once")

        run("down", timeout=180)
        run("up", "--detach", "--no-build", timeout=300)
        wait_for("/healthz through nginx after down and up", healthz_ok(url), 120, logs)
        [[kept]] = psql("SELECT count(*) FROM jobs WHERE event = 'issues.opened'")
        assert int(kept) == BURST, kept
        again = http("POST", url + "/webhook", *sends[0])
        assert again[0] == 200, again
        fresh = http("POST", url + "/webhook", *issue_delivery(5000))
        assert fresh[0] == 202, fresh
        wait_for("the new delivery's job", lambda: psql(
            "SELECT count(*) FROM jobs WHERE event = 'issues.opened' AND state = 'done'") == [[str(BURST + 1)]], 60, logs)
        say_(f"down and up: the {kept} jobs kept in the pgdata volume, a redelivery answered 200 duplicate, "
             "a new delivery 202 and run")
    finally:
        run("down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=180, check=False)
